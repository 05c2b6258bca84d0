"""Site policy: a YAML file that adds, disables or changes catalogue values, each change signed and dated.

Format::

    name: "Schmerzpraxis Musterstadt 2026"
    overrides:
      - path: procedures.lumbar-facet-mbb.modalities.ultrasound.rating
        value: 6
        author: Dr. A. Beispiel
        date: 2026-01-05
        reason: "our ultrasound MBB audit 2025"
    disable:
      - {procedure: vertebroplasty, author: ..., date: ..., reason: ...}
    add:
      - {procedure: {id: ..., ...}, author: ..., date: ..., reason: ...}
    pathway:
      set: cms-lcd              # the care-pathway rule set (painguide/pathway/data/policy_sets.yaml)
      frame: de-strlschg        # the radiation-justification frame
      competence_required: false
      author: Dr. A. Beispiel
      date: 2026-01-05
      reason: "our payers follow the CMS LCDs"

A path names one value: ``procedures.<id>...``, ``conventions.role_ratings.<role>``,
``rules.<code>.params.<name>``, ``anticoagulants...``, or a care-pathway value
``pathway.sets.<set>.rules.<rule>.params.<name>`` / ``pathway.frames.<frame>.<value>`` (applied by
:mod:`painguide.pathway.policy`). A value that is a Fact in the data is replaced by a
Fact with status ``site`` that keeps the previous value; a plain value is replaced as it is.
"""

from __future__ import annotations

from collections.abc import MutableMapping
from datetime import date
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticValidationError

from painguide.catalogue.models import Override
from painguide.datafiles import read_yaml
from painguide.errors import DataFileError

__all__ = ["PathwayChoice", "SitePolicy", "apply_policy", "read_policy", "read_yaml", "set_path"]


class _Signed(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    author: str = Field(min_length=1)
    date: date
    reason: str = Field(min_length=1)

    def as_override(self, previous: object = None) -> Override:
        return Override(author=self.author, date=self.date, reason=self.reason, previous=previous)


class ValueOverride(_Signed):
    path: str = Field(pattern=r"^(procedures|conventions|rules|anticoagulants|pathway)\.[^.]+(\.[^.]+)*$")
    value: object


class Disable(_Signed):
    procedure: str


class Addition(_Signed):
    procedure: dict[str, object]


class PathwayChoice(_Signed):
    """The care-pathway rule set and radiation-justification frame a site uses (``None``: the default)."""

    set: str | None = None
    frame: str | None = None
    competence_required: bool = False


class SitePolicy(BaseModel):
    """A parsed site policy file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    overrides: tuple[ValueOverride, ...] = ()
    disable: tuple[Disable, ...] = ()
    add: tuple[Addition, ...] = ()
    pathway: PathwayChoice | None = None


def pydantic_to_data_error(path: str, exc: PydanticValidationError, prefix: str = "") -> DataFileError:
    """Turn the first pydantic error into a :class:`DataFileError` with a dotted key."""
    err = exc.errors()[0]
    key = ".".join(str(part) for part in err["loc"])
    key = f"{prefix}.{key}" if prefix and key else (prefix or key or "(top level)")
    return DataFileError(path, key, err["msg"])


def read_policy(path: Path) -> SitePolicy:
    """Parse and validate a site policy file."""
    raw = read_yaml(path)
    try:
        return SitePolicy.model_validate(raw)
    except PydanticValidationError as exc:
        raise pydantic_to_data_error(str(path), exc) from exc


def set_path(raw: MutableMapping[str, object], item: ValueOverride, policy_path: str) -> None:
    """Set the value ``item.path`` names in ``raw``; a Fact becomes a ``site`` Fact keeping the old value."""
    parts = item.path.split(".")
    node: object = raw
    for depth, part in enumerate(parts[:-1]):
        if not isinstance(node, MutableMapping) or part not in node:
            known = ", ".join(sorted(node)) if isinstance(node, MutableMapping) else "nothing"
            raise DataFileError(
                policy_path,
                f"overrides.{item.path}",
                f"'{part}' not found at {'.'.join(parts[:depth]) or 'top'} (known: {known})",
            )
        node = node[part]
    leaf = parts[-1]
    if not isinstance(node, MutableMapping):
        raise DataFileError(policy_path, f"overrides.{item.path}", "path must end at a value in a mapping")
    previous = node.get(leaf)
    if isinstance(previous, dict) and "status" in previous:
        old_value = previous.get("value")
        node[leaf] = {
            "value": item.value,
            "source": "site-policy",
            "status": "site",
            "note": previous.get("note"),
            "override": item.as_override(old_value).model_dump(),
        }
    elif leaf == "rating" and previous is None:
        node[leaf] = {
            "value": item.value,
            "source": "site-policy",
            "status": "site",
            "override": item.as_override(None).model_dump(),
        }
    else:
        node[leaf] = item.value


def apply_policy(raw: dict[str, Any], policy: SitePolicy, policy_path: str) -> list[tuple[str, Override]]:
    """Apply a policy to the raw catalogue data in place; return every change with its signature."""
    applied: list[tuple[str, Override]] = []
    procedures = raw["procedures"]
    for i, add in enumerate(policy.add):
        pid = add.procedure.get("id")
        if not isinstance(pid, str):
            raise DataFileError(policy_path, f"add.{i}.procedure.id", "a procedure id (text) expected")
        if pid in procedures:
            raise DataFileError(policy_path, f"add.{i}.procedure.id", f"{pid!r} exists; use overrides")
        procedures[pid] = {**add.procedure, "site_added": add.as_override().model_dump()}
        applied.append((f"procedures.{pid}", add.as_override()))
    for i, dis in enumerate(policy.disable):
        if dis.procedure not in procedures:
            raise DataFileError(policy_path, f"disable.{i}.procedure", f"unknown procedure {dis.procedure!r}")
        procedures[dis.procedure]["enabled"] = False
        applied.append((f"procedures.{dis.procedure}.enabled", dis.as_override(True)))
    for item in policy.overrides:
        if item.path.startswith("pathway."):
            continue  # applied to the pathway policy sets by painguide.pathway.policy
        set_path(raw, item, policy_path)
        applied.append((item.path, item.as_override()))
    return applied
