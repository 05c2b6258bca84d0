"""The anticoagulant and antiplatelet table (N18) as typed, validated records.

The table lives in ``catalogue/data/anticoagulants.yaml`` (top-level keys ``escalation``, ``warnings`` and
``drugs``; the catalogue loader files it under the namespace ``anticoagulants``): nested mappings keyed by
id, so that a site policy can change one value by its dotted path (for example
``anticoagulants.drugs.warfarin.rules.intermediate.hold_before_hours_min``). Every clinical number or
category is a :class:`~painguide.catalogue.models.Fact` with its source and status; error keys are dotted
paths in the same namespace.

Drugs are found by generic name, id or alias, case-insensitively; spaces and underscores count as hyphens.
A name shared by several entries (``heparin``: IV or SC; ``enoxaparin``: prophylactic or therapeutic dose;
``aspirin``: primary or secondary prophylaxis) is ambiguous and raises :class:`AmbiguousDrugError`, which
names the candidates.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator
from pydantic import ValidationError as PydanticValidationError

from painguide.catalogue.models import BleedingRisk, EvidenceNote, Fact
from painguide.datafiles import read_yaml
from painguide.errors import DataFileError, UnknownDrugError

__all__ = [
    "BLEEDING_RISKS",
    "DATA_FILE",
    "DATA_KEY",
    "AmbiguousDrugError",
    "Drug",
    "DrugAction",
    "DrugClass",
    "DrugRule",
    "DrugTable",
    "Escalation",
    "Indication",
    "RenalAdjustment",
    "find_drug",
    "load_drug_table",
    "normalise_drug_name",
    "parse_drug_table",
]

DrugAction = Literal["continue", "hold", "shared_decision"]
DrugClass = Literal[
    "aspirin",
    "nsaid",
    "phosphodiesterase_inhibitor",
    "vitamin_k_antagonist",
    "unfractionated_heparin",
    "lmwh",
    "p2y12_inhibitor",
    "doac",
    "fondaparinux",
]
Indication = Literal["primary", "secondary"]

BLEEDING_RISKS: tuple[BleedingRisk, ...] = ("low", "intermediate", "high")
DATA_KEY = "anticoagulants"
DATA_FILE = Path(__file__).resolve().parent / "data" / "anticoagulants.yaml"

_SEPARATORS = re.compile(r"[\s_]+")
_ORDER: dict[str, int] = {risk: i for i, risk in enumerate(BLEEDING_RISKS)}


class AmbiguousDrugError(UnknownDrugError):
    """A drug name matches several table entries; ``suggestions`` holds every candidate id."""

    def __init__(self, value: str, candidates: tuple[str, ...]) -> None:
        super().__init__(value, candidates)
        self.message = f"drug {value!r} is ambiguous: give one of {', '.join(candidates)}."
        self.args = (self.message,)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def normalise_drug_name(name: str) -> str:
    """Return the lookup key of a drug name.

    Parameters
    ----------
    name : str
        A generic name, id or alias as typed.

    Returns
    -------
    str
        Lower case, stripped, with runs of spaces and underscores replaced by one hyphen.

    Examples
    --------
    >>> normalise_drug_name("  Heparin SC ")
    'heparin-sc'
    """
    return _SEPARATORS.sub("-", name.strip().lower())


def _check_hours(fact: Fact[float] | None) -> Fact[float] | None:
    if fact is not None and fact.value is not None and fact.value < 0:
        raise ValueError(f"hours must be zero or more (got {fact.value:g})")
    return fact


def _check_not_below(fact: Fact[float] | None, info: ValidationInfo, lower: str) -> Fact[float] | None:
    _check_hours(fact)
    low = info.data.get(lower)
    if fact is None or fact.value is None or low is None or low.value is None:
        return fact
    if fact.value < low.value:
        raise ValueError(
            f"must not be less than {lower} ({low.value:g} h); got {fact.value:g} h"
            " (change both ends of an interval together)"
        )
    return fact


class RenalAdjustment(_Frozen):
    """The hold interval that replaces a rule's interval when the patient has renal impairment."""

    hold_before_hours_min: Fact[float]
    hold_before_hours_max: Fact[float] | None = None

    @field_validator("hold_before_hours_min")
    @classmethod
    def _min_hours(cls, fact: Fact[float]) -> Fact[float]:
        if fact.value is None:
            raise ValueError("a renal-impairment hold needs a value in hours")
        _check_hours(fact)
        return fact

    @field_validator("hold_before_hours_max")
    @classmethod
    def _max_hours(cls, fact: Fact[float] | None, info: ValidationInfo) -> Fact[float] | None:
        return _check_not_below(fact, info, "hold_before_hours_min")


class DrugRule(_Frozen):
    """What to do with one drug for one procedure bleeding-risk category.

    A maximum that is absent (or has no value) equals its minimum. ``normal_inr_required`` absent means
    false. Hours are ignored when the action is ``continue``.
    """

    action: Fact[DrugAction]
    hold_before_hours_min: Fact[float] | None = Field(default=None, validate_default=True)
    hold_before_hours_max: Fact[float] | None = None
    restart_after_hours_min: Fact[float] | None = None
    restart_after_hours_max: Fact[float] | None = None
    normal_inr_required: Fact[bool] | None = None
    renal_impairment: RenalAdjustment | None = Field(default=None, validate_default=True)

    @field_validator("action")
    @classmethod
    def _action_given(cls, fact: Fact[DrugAction]) -> Fact[DrugAction]:
        if fact.value is None:
            raise ValueError("an action is required: continue, hold or shared_decision")
        return fact

    @field_validator("hold_before_hours_min")
    @classmethod
    def _hold_min(cls, fact: Fact[float] | None, info: ValidationInfo) -> Fact[float] | None:
        _check_hours(fact)
        action = info.data.get("action")
        if action is not None and action.value == "hold" and (fact is None or fact.value is None):
            raise ValueError("required (in hours) when the action is hold")
        return fact

    @field_validator("hold_before_hours_max")
    @classmethod
    def _hold_max(cls, fact: Fact[float] | None, info: ValidationInfo) -> Fact[float] | None:
        return _check_not_below(fact, info, "hold_before_hours_min")

    @field_validator("restart_after_hours_min")
    @classmethod
    def _restart_min(cls, fact: Fact[float] | None) -> Fact[float] | None:
        return _check_hours(fact)

    @field_validator("restart_after_hours_max")
    @classmethod
    def _restart_max(cls, fact: Fact[float] | None, info: ValidationInfo) -> Fact[float] | None:
        return _check_not_below(fact, info, "restart_after_hours_min")

    @field_validator("renal_impairment")
    @classmethod
    def _renal_only_for_hold(
        cls, adjustment: RenalAdjustment | None, info: ValidationInfo
    ) -> RenalAdjustment | None:
        action = info.data.get("action")
        if adjustment is not None and action is not None and action.value != "hold":
            raise ValueError("a renal-impairment hold is only allowed when the action is hold")
        return adjustment


class Drug(_Frozen):
    """One table entry: a drug (or a drug at one dose or indication) and its three rules."""

    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    name: str = Field(min_length=1)
    generic: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    indication: Indication | None = None
    drug_class: Fact[DrugClass]
    rules: dict[BleedingRisk, DrugRule]

    @field_validator("rules")
    @classmethod
    def _all_risks(cls, rules: dict[BleedingRisk, DrugRule]) -> dict[BleedingRisk, DrugRule]:
        missing = [risk for risk in BLEEDING_RISKS if risk not in rules]
        if missing:
            raise ValueError(f"a rule is needed for every bleeding risk (missing {missing})")
        return rules


class Escalation(_Frozen):
    """The category a procedure moves to for a patient at high bleeding risk."""

    markers: tuple[str, ...] = Field(min_length=1)
    steps: dict[BleedingRisk, Fact[BleedingRisk]]

    @field_validator("steps")
    @classmethod
    def _steps(cls, steps: dict[BleedingRisk, Fact[BleedingRisk]]) -> dict[BleedingRisk, Fact[BleedingRisk]]:
        missing = [risk for risk in BLEEDING_RISKS if risk not in steps]
        if missing:
            raise ValueError(f"a step is needed for every bleeding risk (missing {missing})")
        for risk, fact in steps.items():
            if fact.value is None or _ORDER[fact.value] < _ORDER[risk]:
                raise ValueError(f"{risk} must move to {risk} or a higher category (got {fact.value})")
        return steps


class DrugTable(_Frozen):
    """The validated table with a precomputed name index (ids, generic names and aliases)."""

    escalation: Escalation
    warnings: dict[str, EvidenceNote]
    drugs: dict[str, Drug]

    _index: dict[str, tuple[str, ...]] = PrivateAttr(default_factory=dict)

    @field_validator("drugs", mode="before")
    @classmethod
    def _ids_from_keys(cls, drugs: object) -> object:
        if not isinstance(drugs, Mapping):
            return drugs
        return {
            key: {"id": key, **entry} if isinstance(entry, Mapping) and "id" not in entry else entry
            for key, entry in drugs.items()
        }

    @field_validator("warnings")
    @classmethod
    def _thrombotic_warning(cls, warnings: dict[str, EvidenceNote]) -> dict[str, EvidenceNote]:
        if "thrombotic_risk" not in warnings:
            raise ValueError("the thrombotic_risk warning (text, source, status) is required")
        return warnings

    def model_post_init(self, context: object, /) -> None:
        """Build the name index once; lookups are then a dictionary access."""
        index: dict[str, list[str]] = {}
        for drug in self.drugs.values():
            for name in (drug.id, drug.generic, *drug.aliases):
                ids = index.setdefault(normalise_drug_name(name), [])
                if drug.id not in ids:
                    ids.append(drug.id)
        self._index = {name: tuple(ids) for name, ids in index.items()}

    @property
    def names(self) -> tuple[str, ...]:
        """Every name a drug can be looked up by (normalised)."""
        return tuple(self._index)

    def lookup(self, name: str) -> tuple[str, ...]:
        """Ids of the entries a name matches: one, several (ambiguous) or none (unknown).

        Parameters
        ----------
        name : str
            Generic name, id or alias, in any case.

        Returns
        -------
        tuple of str
            Drug ids in table order.
        """
        return self._index.get(normalise_drug_name(name), ())


def find_drug(table: DrugTable, name: str) -> Drug:
    """Find one drug by generic name, id or alias.

    Parameters
    ----------
    table : DrugTable
        The loaded table.
    name : str
        The name as typed; case, spaces and underscores do not matter.

    Returns
    -------
    Drug
        The single matching entry.

    Raises
    ------
    AmbiguousDrugError
        The name matches several entries (``heparin``, ``enoxaparin``, ``aspirin``); the suggestions are
        the candidate ids.
    UnknownDrugError
        No entry matches; the suggestions are the closest known names.
    """
    ids = table.lookup(name)
    if len(ids) == 1:
        return table.drugs[ids[0]]
    if ids:
        raise AmbiguousDrugError(name, ids)
    close = difflib.get_close_matches(normalise_drug_name(name), table.names, n=3, cutoff=0.6)
    raise UnknownDrugError(name, close)


def _first_error(exc: PydanticValidationError) -> tuple[str, str]:
    error = exc.errors(include_url=False)[0]
    key = ".".join([DATA_KEY, *(str(part) for part in error["loc"])])
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] not in {"missing", "value_error"}:
        shown = repr(error.get("input"))
        message = f"{message} (got {shown[:60]})"
    return key, message


def _check_names(table: DrugTable) -> tuple[str, str] | None:
    for key, drug in table.drugs.items():
        if drug.id != key:
            return f"{DATA_KEY}.drugs.{key}.id", f"the id must equal its key {key!r} (got {drug.id!r})"
    for name in table.names:
        ids = table.lookup(name)
        drugs = [table.drugs[i] for i in ids]
        if name in table.drugs and ids != (name,):
            other = next(i for i in ids if i != name)
            return f"{DATA_KEY}.drugs.{other}.aliases", f"{name!r} is the id of another drug"
        generics = {normalise_drug_name(d.generic) for d in drugs}
        if len(generics) > 1:
            return f"{DATA_KEY}.drugs.{ids[-1]}.aliases", f"{name!r} names different drugs ({', '.join(ids)})"
    return None


def parse_drug_table(raw: Mapping[str, object], *, path: str) -> DrugTable:
    """Validate the raw table (the file's mapping, optionally after site overrides).

    Parameters
    ----------
    raw : Mapping
        The data file's mapping (``escalation``, ``warnings``, ``drugs``), possibly after site overrides;
        a mapping that wraps it under the key ``anticoagulants`` is accepted too.
    path : str
        File name used in error messages.

    Returns
    -------
    DrugTable
        The validated, indexed table.

    Raises
    ------
    DataFileError
        Anything is malformed; the key is the dotted path of the first problem, e.g.
        ``anticoagulants.drugs.warfarin.rules.high.action.value``.
    """
    body = raw.get(DATA_KEY, raw) if isinstance(raw, Mapping) else None
    if not isinstance(body, Mapping):
        raise DataFileError(path, DATA_KEY, "a mapping with escalation, warnings and drugs")
    try:
        table = DrugTable.model_validate(dict(body))
    except PydanticValidationError as exc:
        raise DataFileError(path, *_first_error(exc)) from None
    problem = _check_names(table)
    if problem is not None:
        raise DataFileError(path, *problem)
    return table


def _read_table(path: Path) -> DrugTable:
    return parse_drug_table(read_yaml(path), path=str(path))


@lru_cache(maxsize=1)
def _packaged_table() -> DrugTable:
    return _read_table(DATA_FILE)


def load_drug_table(path: Path | None = None) -> DrugTable:
    """Read and validate a drug table file.

    Parameters
    ----------
    path : Path, optional
        A YAML file; the packaged ``anticoagulants.yaml`` when omitted (read once, then cached).

    Returns
    -------
    DrugTable
        The validated table.

    Raises
    ------
    DataFileError
        The file cannot be read, is not YAML or does not validate.
    """
    return _packaged_table() if path is None else _read_table(path)
