"""The permission matrix: which roles may perform which action, as data (``permissions.yaml``).

Every web route declares its action with :func:`painguide.web.deps.allow`, every command with
:func:`painguide.commands.guard.requires`, and services check the action they perform with
:func:`authorize`. Tests generated from the route table and the command tree fail when one has no entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from painguide.auth.models import ROLES, User
from painguide.datafiles import read_packaged_yaml
from painguide.errors import DataFileError, PermissionDeniedError
from painguide.i18n.marks import N_

__all__ = ["PUBLIC", "Action", "PermissionMatrix", "authorize", "markdown_table", "permission_matrix"]

PUBLIC = "anonymous"
"""The pseudo-role of an action anyone may perform without signing in (health check, sign-in form)."""


@dataclass(frozen=True, slots=True)
class Action:
    """One action of the matrix: its name, the roles allowed, and what it covers."""

    name: str
    roles: frozenset[str]
    description: str
    patient_data: bool

    @property
    def public(self) -> bool:
        """True when no sign-in is needed."""
        return PUBLIC in self.roles


@dataclass(frozen=True, slots=True)
class PermissionMatrix:
    """Role × action, read from ``permissions.yaml``."""

    actions: dict[str, Action]

    def action(self, name: str) -> Action:
        """The action called ``name``; an unknown name is a programming error, reported as configuration."""
        try:
            return self.actions[name]
        except KeyError:
            raise DataFileError(
                "painguide/auth/permissions.yaml", f"actions.{name}", "an entry for this action"
            ) from None

    def allows(self, roles: frozenset[str], name: str) -> bool:
        """True when one of ``roles`` may perform action ``name``."""
        action = self.action(name)
        return action.public or bool(action.roles & roles)

    def roles_for(self, name: str) -> frozenset[str]:
        """The roles allowed to perform ``name``."""
        return self.action(name).roles


def _parse(data: dict[str, object], label: str) -> PermissionMatrix:
    raw = data.get("actions")
    if not isinstance(raw, dict) or not raw:
        raise DataFileError(label, "actions", "a mapping of action names to {roles, description}")
    known = {*ROLES, PUBLIC}
    actions: dict[str, Action] = {}
    for name, entry in raw.items():
        if not isinstance(entry, dict) or not isinstance(entry.get("roles"), list):
            raise DataFileError(label, f"actions.{name}", "a mapping with a list of roles")
        roles = frozenset(str(r) for r in entry["roles"])
        if unknown := sorted(roles - known):
            raise DataFileError(
                label, f"actions.{name}.roles", f"roles from {', '.join(sorted(known))} (got {unknown})"
            )
        if PUBLIC in roles and len(roles) > 1:
            raise DataFileError(label, f"actions.{name}.roles", f"{PUBLIC} alone (it admits everyone)")
        actions[str(name)] = Action(
            name=str(name),
            roles=roles,
            description=str(entry.get("description", "")),
            patient_data=bool(entry.get("patient_data", False)),
        )
    return PermissionMatrix(actions)


@lru_cache(maxsize=1)
def permission_matrix() -> PermissionMatrix:
    """The packaged permission matrix (read once)."""
    data, label = read_packaged_yaml("painguide.auth", "permissions.yaml")
    return _parse(data, label)


def authorize(user: User | None, action: str) -> None:
    """Return if ``user`` may perform ``action``; else raise :class:`PermissionDeniedError` naming both.

    Examples
    --------
    >>> authorize(User("ada", "", frozenset({"physician"})), "catalogue.read")
    >>> authorize(User("vic", "", frozenset({"viewer"})), "audit.read")
    Traceback (most recent call last):
    ...
    painguide.errors.PermissionDeniedError: audit.read needs one of the roles admin, rpo; vic has viewer
    """
    matrix = permission_matrix()
    entry = matrix.action(action)
    if entry.public:
        return
    if user is None:
        raise PermissionDeniedError.templated(N_("%(action)s: sign in first"), action=action)
    if not entry.roles & user.roles:
        raise PermissionDeniedError.templated(
            N_("%(action)s needs one of the roles %(roles)s; %(user)s has %(has)s"),
            action=action,
            roles=", ".join(sorted(entry.roles)),
            user=user.username,
            has=", ".join(sorted(user.roles)) or "no role",
        )


def markdown_table(matrix: PermissionMatrix) -> str:
    """The matrix as a Markdown table (docs/security.md embeds it; a test fails when the copy is stale)."""
    columns = [*ROLES, PUBLIC]
    lines = [
        "| action | " + " | ".join(columns) + " | patient data | what |",
        "|---|" + "---|" * len(columns) + "---|---|",
    ]
    for name in sorted(matrix.actions):
        action = matrix.actions[name]
        marks = ["✓" if role in action.roles else "" for role in columns]
        patient = "yes" if action.patient_data else ""
        lines.append(f"| `{name}` | " + " | ".join(marks) + f" | {patient} | {action.description} |")
    return "\n".join(lines)
