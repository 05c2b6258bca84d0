"""The permission matrix as data: parsing, refusals naming the action and roles, no implicit admin."""

from __future__ import annotations

import pytest

from painguide.auth import PUBLIC, ROLES, User, authorize, permission_matrix
from painguide.auth.permissions import _parse
from painguide.errors import DataFileError, PermissionDeniedError


def test_every_action_names_known_roles_and_a_description() -> None:
    matrix = permission_matrix()
    assert len(matrix.actions) >= 20
    for action in matrix.actions.values():
        assert action.roles <= {*ROLES, PUBLIC}, action.name
        assert action.roles, action.name
        assert action.description, action.name


def test_viewer_gets_no_action_with_patient_data() -> None:
    matrix = permission_matrix()
    leaks = [a.name for a in matrix.actions.values() if a.patient_data and "viewer" in a.roles]
    assert leaks == []


def test_refusal_names_action_roles_and_user() -> None:
    with pytest.raises(
        PermissionDeniedError,
        match=r"dose.export needs one of the roles admin, physician, rpo; "
        r"tina has trainee",
    ):
        authorize(User("tina", "", frozenset({"trainee"})), "dose.export")


def test_anonymous_only_for_public_actions() -> None:
    authorize(None, "public")
    with pytest.raises(PermissionDeniedError, match=r"catalogue\.read: sign in first"):
        authorize(None, "catalogue.read")


def test_unknown_action_is_a_configuration_error() -> None:
    with pytest.raises(DataFileError, match=r"actions.no.such: an entry for this action"):
        authorize(User("a", "", frozenset({"admin"})), "no.such")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({}, "actions: a mapping"),
        ({"actions": {"x": {"roles": ["nurse"]}}}, r"actions.x.roles: roles from .* \(got \['nurse'\]\)"),
        ({"actions": {"x": {"roles": ["anonymous", "admin"]}}}, "anonymous alone"),
        ({"actions": {"x": "admin"}}, "actions.x: a mapping with a list of roles"),
    ],
)
def test_malformed_matrix_names_the_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(DataFileError, match=message):
        _parse(data, "permissions.yaml")
