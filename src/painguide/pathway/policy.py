"""Care-pathway policy sets as data: sequence, repetition and indication rules; radiation frames.

``pathway/data/policy_sets.yaml`` holds selectable rule sets (a CMS-LCD set, a practice set after C20) and
frames (EU directive, German StrlSchG §83, Swiss StSV Art. 27-31). The site policy
(:mod:`painguide.catalogue.policy`) picks one set and one frame under ``pathway:`` and may change any value
with a signed override (``pathway.sets.<set>.rules.<rule>.params.<name>``); the value then carries status
``site`` and keeps the previous one. A value with status ``open`` has none: its rule is shown, not enforced.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic import ValidationError as PydanticValidationError

from painguide.catalogue.loader import DATA_DIR as CATALOGUE_DATA
from painguide.catalogue.loader import iter_sources, load_catalogue
from painguide.catalogue.models import Fact, Override, Status
from painguide.catalogue.policy import pydantic_to_data_error, read_policy, set_path
from painguide.datafiles import read_packaged_yaml, read_yaml
from painguide.errors import DataFileError

__all__ = [
    "ALL",
    "RULE_KINDS",
    "PathwayPolicy",
    "PolicyRule",
    "PolicySets",
    "RadiationFrame",
    "RuleSet",
    "load_pathway_policy",
    "load_policy_sets",
]

LABEL = "painguide/pathway/data/policy_sets.yaml"
#: The class every procedure belongs to.
ALL = "all"
RuleKind = Literal[
    "diagnostics",
    "baseline_scores",
    "concordant_imaging",
    "pain_duration",
    "conservative_care",
    "max_levels",
    "diagnostic_blocks",
    "repetition",
    "repeat_relief",
    "prior_fusion",
    "egfr_before_contrast",
]
#: Every rule kind the gates implement, with the parameters it reads.
RULE_KINDS: dict[str, tuple[str, ...]] = {
    "diagnostics": ("exam", "imaging"),
    "baseline_scores": ("nrs", "disability"),
    "concordant_imaging": (),
    "pain_duration": ("weeks",),
    "conservative_care": ("weeks",),
    "max_levels": ("levels",),
    "diagnostic_blocks": ("count", "min_relief_percent", "min_days_between"),
    "repetition": ("sessions", "months"),
    "repeat_relief": ("min_relief_percent", "min_days"),
    "prior_fusion": (),
    "egfr_before_contrast": ("max_age_days",),
}
_STATUS_RANK = {"verified": 0, "convention": 1, "site": 2, "secondary": 3, "open": 4}


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class PolicyRule(_Frozen):
    """One rule of a set: its kind, the procedure classes it applies to, its text (English, and German in
    ``text_de`` where written) and sourced parameters."""

    id: str
    kind: RuleKind
    applies_to: tuple[str, ...] = Field(min_length=1)
    blocks_from: tuple[str, ...] = Field(default=(), alias="from")
    counts: tuple[str, ...] = ()
    text: str = Field(min_length=1)
    text_de: str | None = Field(None, min_length=1)
    params: dict[str, Fact[Any]] = Field(default_factory=dict)
    source: str | None = None

    @model_validator(mode="after")
    def _params(self) -> PolicyRule:
        missing = [p for p in RULE_KINDS[self.kind] if p not in self.params]
        if missing:
            raise ValueError(f"rule {self.id!r} ({self.kind}) needs params {missing}")
        if self.kind == "diagnostic_blocks" and not self.blocks_from:
            raise ValueError(f"rule {self.id!r}: name the block classes under 'from'")
        if self.kind in ("repetition", "repeat_relief") and not self.counts:
            raise ValueError(f"rule {self.id!r}: name the classes it counts under 'counts'")
        return self

    def value(self, name: str) -> Any:
        """A parameter's value (``None`` where it is open)."""
        return self.params[name].value

    def cite(self, *names: str) -> str:
        """Source ids and the weakest status of the named parameters (all when none named).

        Examples
        --------
        >>> rule = PolicyRule(id="x", kind="pain_duration", applies_to=("all",), text="t",
        ...                   params={"weeks": Fact[Any](value=4, source="L33906", status="verified")})
        >>> rule.cite()
        'L33906, verified'
        """
        facts = [self.params[n] for n in (names or tuple(self.params))]
        sources = list(dict.fromkeys(f.source for f in facts if f.source))
        if not sources and self.source:
            sources = [self.source]
        statuses = [f.status for f in facts] or ["verified" if self.source else "convention"]
        status = max(statuses, key=lambda s: _STATUS_RANK.get(s, 9))
        note = "".join(
            f"; site policy ({f.override.author}, {f.override.date.isoformat()}): {f.override.reason}"
            for f in facts
            if f.override is not None
        )
        return f"{', '.join(sources) or 'painguide convention'}, {status}{note}"


class RuleSet(_Frozen):
    """A selectable set of pathway rules and the catalogue procedures each class names."""

    id: str
    title: dict[Literal["en", "de"], str]
    classes: dict[str, tuple[str, ...]]
    rules: tuple[PolicyRule, ...]

    @model_validator(mode="after")
    def _known_classes(self) -> RuleSet:
        known = {*self.classes, ALL}
        for rule in self.rules:
            unknown = sorted({*rule.applies_to, *rule.blocks_from, *rule.counts} - known)
            if unknown:
                raise ValueError(f"rule {rule.id!r} names unknown classes {unknown}")
        return self

    def classes_of(self, procedure: str) -> frozenset[str]:
        """The classes a catalogue procedure belongs to (always including ``all``)."""
        return frozenset({ALL, *(name for name, ids in self.classes.items() if procedure in ids)})

    def rules_for(self, procedure: str, kind: str | None = None) -> tuple[PolicyRule, ...]:
        """The rules that apply to ``procedure`` (of one kind, if given), in file order."""
        classes = self.classes_of(procedure)
        return tuple(r for r in self.rules if classes.intersection(r.applies_to) and kind in (None, r.kind))

    def in_classes(self, procedure: str, names: tuple[str, ...]) -> bool:
        """Whether ``procedure`` belongs to one of the classes ``names``."""
        return bool(self.classes_of(procedure).intersection(names))


class RadiationFrame(_Frozen):
    """A legal frame for justifying X-ray exposures: what it requires, with sources and statuses."""

    id: str
    title: dict[Literal["en", "de"], str]
    qualification_required: Fact[bool]
    alternative_required: Fact[bool]
    pregnancy_question: Fact[bool]
    breastfeeding_question: Fact[bool]
    pregnancy_age_min: Fact[int]
    pregnancy_age_max: Fact[int]
    pregnancy_valid_days: Fact[int]
    not_overridable: tuple[str, ...] = ()

    def cite(self, name: str) -> str:
        """``source, status`` of one value."""
        fact: Fact[Any] = getattr(self, name)
        return fact.label


class PolicySets(_Frozen):
    """Every rule set and frame, with the defaults and the codes no override may lift."""

    default_set: str
    default_frame: str
    sets: dict[str, RuleSet]
    frames: dict[str, RadiationFrame]
    not_overridable: tuple[str, ...] = ()

    @model_validator(mode="after")
    def _defaults(self) -> PolicySets:
        if self.default_set not in self.sets:
            raise ValueError(f"default_set {self.default_set!r} is not a set ({', '.join(self.sets)})")
        if self.default_frame not in self.frames:
            raise ValueError(
                f"default_frame {self.default_frame!r} is not a frame ({', '.join(self.frames)})"
            )
        return self


@dataclass(frozen=True, slots=True)
class PathwayPolicy:
    """The rule set and frame in force, whether operator competence is required, and the site's changes."""

    rules: RuleSet
    frame: RadiationFrame
    competence_required: bool = False
    not_overridable: frozenset[str] = frozenset()
    changes: tuple[tuple[str, Override], ...] = ()
    chosen_by: Override | None = None

    def overridable(self, code: str) -> bool:
        """Whether a physician may override gate ``code`` under this policy."""
        return code not in self.not_overridable


def _raw_sets(path: Path | None) -> tuple[dict[str, object], str]:
    data, label = read_packaged_yaml("painguide.pathway", "data/policy_sets.yaml", path)
    for set_id, item in (data.get("sets") or {}).items():
        if not isinstance(item, dict) or not isinstance(item.get("rules"), list):
            raise DataFileError(label, f"sets.{set_id}.rules", "a list of rules")
        rules: dict[str, object] = {}
        for i, rule in enumerate(item["rules"]):
            if not isinstance(rule, dict) or not isinstance(rule.get("id"), str) or rule["id"] in rules:
                raise DataFileError(label, f"sets.{set_id}.rules.{i}.id", "a unique text id")
            rules[rule["id"]] = rule
        item["rules"] = rules  # keyed by id so site overrides can name a rule
        item["id"] = set_id
    for frame_id, item in (data.get("frames") or {}).items():
        if isinstance(item, dict):
            item["id"] = frame_id
    return data, label


def _validate(data: dict[str, Any], label: str) -> PolicySets:
    known = set(read_yaml(CATALOGUE_DATA / "sources.yaml").get("sources", {}))
    for where, src in iter_sources(data):
        if src not in known and src != "site-policy":
            raise DataFileError(label, where, f"unknown source id {src!r}; add it to sources.yaml")
    plain = {
        **data,
        "sets": {k: {**v, "rules": list(v["rules"].values())} for k, v in data.get("sets", {}).items()},
    }
    try:
        return PolicySets.model_validate(plain)
    except PydanticValidationError as exc:
        raise pydantic_to_data_error(label, exc) from exc


def _check_catalogue(sets: PolicySets, label: str, procedures: Mapping[str, object]) -> None:
    for set_id, rule_set in sets.sets.items():
        for name, ids in rule_set.classes.items():
            unknown = sorted(set(ids) - set(procedures))
            if unknown:
                raise DataFileError(
                    label, f"sets.{set_id}.classes.{name}", f"catalogue ids (unknown: {unknown})"
                )


@lru_cache(maxsize=4)
def load_policy_sets(
    policy_path: Path | None = None, sets_path: Path | None = None
) -> tuple[PolicySets, tuple[tuple[str, Override], ...]]:
    """Every set and frame with the site's value changes applied, and those changes (path, signature).

    Raises
    ------
    DataFileError
        The file or the site policy is malformed, names an unknown source, class member or value.
    """

    data, label = _raw_sets(sets_path)
    changes: list[tuple[str, Override]] = []
    if policy_path is not None:
        policy = read_policy(policy_path)
        for item in policy.overrides:
            if item.path.startswith("pathway."):
                set_path({"pathway": data}, item, str(policy_path))
                changes.append((item.path, item.as_override()))
    sets = _validate(data, label)
    _check_catalogue(sets, label, load_catalogue(policy_path).procedures)
    return sets, tuple(changes)


def load_pathway_policy(policy_path: Path | None = None, sets_path: Path | None = None) -> PathwayPolicy:
    """The policy in force: the site's chosen set and frame (or the defaults), with its value changes."""
    sets, changes = load_policy_sets(policy_path, sets_path)
    choice = read_policy(policy_path).pathway if policy_path is not None else None
    set_id = (choice.set if choice else None) or sets.default_set
    frame_id = (choice.frame if choice else None) or sets.default_frame
    where = str(policy_path)
    if set_id not in sets.sets:
        raise DataFileError(where, "pathway.set", f"one of {', '.join(sets.sets)} (got {set_id!r})")
    if frame_id not in sets.frames:
        raise DataFileError(where, "pathway.frame", f"one of {', '.join(sets.frames)} (got {frame_id!r})")
    frame = sets.frames[frame_id]
    return PathwayPolicy(
        rules=sets.sets[set_id],
        frame=frame,
        competence_required=bool(choice and choice.competence_required),
        not_overridable=frozenset({*sets.not_overridable, *frame.not_overridable}),
        changes=changes,
        chosen_by=choice.as_override() if choice else None,
    )


def weakest(statuses: list[Status]) -> Status:
    """The weakest of several statuses (open is weakest)."""
    return max(statuses, key=lambda s: _STATUS_RANK.get(s, 9))
