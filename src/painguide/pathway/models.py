"""The care pathway's records: patient, case and each step from diagnostics to follow-up (pure, frozen).

Every record is a frozen pydantic model that validates its own fields, so pages, the API and the command
line get the same ``field: what is wrong`` message (:func:`build` turns pydantic's errors into
:class:`~painguide.errors.ValidationError`). Who recorded a step and when is kept by the store beside the
record (the case timeline); a record holds what the clinician entered.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from typing import Any, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator
from pydantic import ValidationError as PydanticValidationError

from painguide.catalogue.models import Modality
from painguide.errors import ValidationError
from painguide.i18n.input_errors import input_error_text, untemplate
from painguide.i18n.marks import N_

__all__ = [
    "CHECKLIST_ITEMS",
    "IONIZING",
    "PGIC_RESPONDER",
    "Anticoagulation",
    "CaseInfo",
    "Checklist",
    "ClinicalExam",
    "Consent",
    "ConsentRevocation",
    "ConservativeTherapy",
    "Diagnostic",
    "DrugDecision",
    "DrugGiven",
    "DrugSchedule",
    "FollowUp",
    "FollowUpResult",
    "Imaging",
    "Indication",
    "LabResult",
    "Override",
    "Patient",
    "Plan",
    "ProcedureRecord",
    "Qualification",
    "RadiationJustification",
    "Schedule",
    "build",
    "normalise_level",
]

Sex = Literal["female", "male", "diverse", "unknown"]
Side = Literal["left", "right", "bilateral", "midline", "none"]
PregnancyStatus = Literal["unknown", "pregnant", "not_pregnant", "not_applicable"]
DisabilityScale = Literal["ODI", "NDI"]
TherapyType = Literal[
    "physiotherapy", "exercise", "medication", "manual_therapy", "psychological", "multimodal", "other"
]
TherapyOutcome = Literal["failed", "partial", "not_tolerated", "improved", "ongoing"]
ImagingModality = Literal["xray", "ct", "mri", "ultrasound", "scintigraphy", "other"]
LabTest = Literal["egfr", "inr"]
PGIC = Literal[
    "very_much_improved",
    "much_improved",
    "minimally_improved",
    "no_change",
    "minimally_worse",
    "much_worse",
    "very_much_worse",
]
#: PGIC answers that make a responder (Farrar 2001).
PGIC_RESPONDER: frozenset[str] = frozenset({"very_much_improved", "much_improved"})
#: Modalities that expose the patient to X-rays and need a radiation justification.
IONIZING: frozenset[str] = frozenset({"fluoroscopy", "ct"})
#: Therapy outcomes that count as conservative care having failed (not "improved", not "ongoing").
FAILED_OUTCOMES: frozenset[str] = frozenset({"failed", "partial", "not_tolerated"})

#: Pre-procedure checklist items: key → (English label, applies to).
CHECKLIST_ITEMS: dict[str, tuple[str, str]] = {
    "identity": ("Patient identity confirmed", "all"),
    "side_level": ("Side and level confirmed and marked", "all"),
    "allergies": ("Allergies checked", "all"),
    "anticoagulation_done": ("Anticoagulation plan carried out", "all"),
    "consent": ("Signed consent present", "all"),
    "resuscitation_ready": ("Resuscitation equipment ready", "all"),
    "contrast_ready": ("Contrast agent ready", "contrast"),
    "sterile_probe_cover": ("Sterile probe cover for the ultrasound probe", "ultrasound"),
    "staff_radiation_protection": ("Staff radiation protection (apron, thyroid shield, dosimeter)", "xray"),
}

#: The templates of the records' own checks that carry values (a page shows them in its reader's language).
_NOT_TOP = N_("%(modality)s is not the top-ranked modality (%(top)s); say why")
_X_RAYS = N_("%(modality)s uses X-rays; explain the radiation")
_CHECKS = (_NOT_TOP, _X_RAYS)

_NAMED = re.compile(r"^(?P<field>[a-z_][a-z0-9_]*): (?P<message>.+)$", re.DOTALL)
_LEVEL = re.compile(r"^([CTLS])(\d{1,2})(?:[-/]([CTLS])?(\d{1,2}))?$")

M = TypeVar("M", bound=BaseModel)


def build(model: type[M], **data: object) -> M:
    """Validate ``data`` into ``model``; pydantic errors become one :class:`ValidationError` per field.

    Examples
    --------
    >>> build(ConservativeTherapy, type="yoga", started_on=date(2026, 1, 1), duration_weeks=6,
    ...       outcome="failed")
    Traceback (most recent call last):
    ...
    painguide.errors.ValidationError: type: Input should be 'physiotherapy', 'exercise', 'medication', \
'manual_therapy', 'psychological', 'multimodal' or 'other'
    """
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(part) for part in err["loc"])
        message = str(err["msg"]).removeprefix("Value error, ")
        text, params = input_error_text(err)  # what a page shows, in its reader's language
        named = _NAMED.match(message)
        if named and not field:  # a record's own check names its field: "egfr_on: give the date"
            field, message = named["field"], named["message"]
            text, params = untemplate(message, _CHECKS)
        raise ValidationError.worded(field or model.__name__, message, text, **params) from None


def normalise_level(level: str) -> str:
    """A spinal level in one spelling: ``l4/5``, ``L4-5`` and ``L4-L5`` all become ``L4-L5``.

    Other levels (``C2``, ``knee``) come back stripped and upper-cased where spinal.

    Examples
    --------
    >>> normalise_level("l4/5"), normalise_level("L5-S1"), normalise_level("C2")
    ('L4-L5', 'L5-S1', 'C2')
    """
    text = level.strip().replace(" ", "")
    match = _LEVEL.match(text.upper())
    if not match:
        return text
    first, n1, second, n2 = match.groups()
    if n2 is None:
        return f"{first}{int(n1)}"
    return f"{first}{int(n1)}-{second or first}{int(n2)}"


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


def _levels(values: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(normalise_level(v) for v in values if v.strip()))


class Patient(_Record):
    """A patient under a pseudonym, with the facts the gates and the advisor read.

    ``pregnancy_asked_on`` is when the pregnancy status was last asked (``None``: never asked).
    ``fused_levels`` are spinal levels fused earlier (facet procedures there are contraindicated, L38773).
    """

    pseudonym: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
    name: str | None = Field(default=None, max_length=200)
    birth_year: int = Field(ge=1900, le=2200)
    sex: Sex
    height_cm: float | None = Field(default=None, ge=40, le=250)
    weight_kg: float | None = Field(default=None, ge=2, le=400)
    pregnancy: PregnancyStatus = "unknown"
    pregnancy_asked_on: date | None = None
    breastfeeding: bool | None = None
    contrast_allergy: bool = False
    egfr: float | None = Field(default=None, ge=0, le=200)
    egfr_on: date | None = None
    drugs: tuple[str, ...] = ()
    aspirin_indication: Literal["primary", "secondary"] | None = None
    high_bleeding_risk: bool = False
    renal_impairment: bool = False
    fused_levels: tuple[str, ...] = ()

    @field_validator("fused_levels")
    @classmethod
    def _norm_levels(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return _levels(values)

    @field_validator("drugs")
    @classmethod
    def _norm_drugs(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(dict.fromkeys(v.strip().lower() for v in values if v.strip()))

    @model_validator(mode="after")
    def _dates(self) -> Patient:
        if self.egfr is not None and self.egfr_on is None:
            raise ValueError("egfr_on: " + N_("give the date of the eGFR value"))
        if self.pregnancy != "unknown" and self.pregnancy_asked_on is None:
            raise ValueError("pregnancy_asked_on: " + N_("give the date the pregnancy status was asked"))
        return self

    @property
    def bmi(self) -> float | None:
        """Body-mass index (kg/m²) when height and weight are known."""
        if self.height_cm is None or self.weight_kg is None:
            return None
        return round(self.weight_kg / (self.height_cm / 100) ** 2, 1)

    def age_on(self, day: date) -> int:
        """Age in whole years on ``day`` (from the birth year alone, so within a year)."""
        return day.year - self.birth_year

    def can_be_pregnant(self, day: date, *, age_range: tuple[int | None, int | None] = (None, None)) -> bool:
        """Whether the pregnancy question applies: any sex but male, within the site's age range if set.

        ``not_applicable`` answered earlier also counts as the question asked (see :meth:`pregnancy_known`).
        """
        if self.sex == "male":
            return False
        low, high = age_range
        age = self.age_on(day)
        return (low is None or age >= low) and (high is None or age <= high)

    def pregnancy_known(self, day: date, *, valid_days: int | None = None) -> bool:
        """The status was asked on or before ``day`` (and no more than ``valid_days`` before it if set)."""
        if self.pregnancy == "unknown" or self.pregnancy_asked_on is None:
            return False
        if self.pregnancy_asked_on > day:
            return False
        return valid_days is None or (day - self.pregnancy_asked_on).days <= valid_days


class CaseInfo(_Record):
    """What a case is about: the complaint and its baseline scores."""

    complaint: str = Field(min_length=1, max_length=500)
    region: str = Field(min_length=1, max_length=40)
    side: Side
    pain_duration_weeks: float = Field(ge=0, le=5200)
    nrs: int | None = Field(default=None, ge=0, le=10)
    disability_scale: DisabilityScale | None = None
    disability_score: float | None = Field(default=None, ge=0, le=100)
    opened_on: date

    @model_validator(mode="after")
    def _scale(self) -> CaseInfo:
        if self.disability_score is not None and self.disability_scale is None:
            raise ValueError("disability_scale: " + N_("name the scale (ODI or NDI) of the disability score"))
        return self

    def pain_weeks_on(self, day: date) -> float:
        """Pain duration on ``day``: the duration given at opening plus the weeks since."""
        return self.pain_duration_weeks + max(0, (day - self.opened_on).days) / 7


class ClinicalExam(_Record):
    """A clinical examination and its findings."""

    kind: Literal["exam"] = "exam"
    on: date
    examiner: str = Field(min_length=1, max_length=100)
    findings: str = Field(min_length=1, max_length=4000)


class Imaging(_Record):
    """An imaging study: modality, date, finding, and whether it matches the complaint."""

    kind: Literal["imaging"] = "imaging"
    on: date
    modality: ImagingModality
    finding: str = Field(min_length=1, max_length=4000)
    concordant: bool = True


class LabResult(_Record):
    """A laboratory value the plan needs (eGFR in mL/min/1.73 m² before contrast; INR)."""

    kind: Literal["lab"] = "lab"
    on: date
    test: LabTest
    value: float = Field(ge=0, le=200)


Diagnostic = ClinicalExam | Imaging | LabResult


class ConservativeTherapy(_Record):
    """A conservative therapy tried before the procedure."""

    type: TherapyType
    started_on: date
    duration_weeks: float = Field(gt=0, le=520)
    outcome: TherapyOutcome
    note: str | None = Field(default=None, max_length=1000)

    @property
    def ends_on_ordinal(self) -> float:
        """The day the therapy ended, as a proleptic ordinal (fractional weeks kept)."""
        return self.started_on.toordinal() + self.duration_weeks * 7


class Indication(_Record):
    """Why which procedure: catalogue id, levels, side, rationale and the indicating physician."""

    procedure: str = Field(min_length=1, max_length=100)
    levels: tuple[str, ...] = ()
    side: Side
    rationale: str = Field(min_length=1, max_length=4000)
    physician: str = Field(min_length=1, max_length=100)
    on: date

    @field_validator("levels")
    @classmethod
    def _norm(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return _levels(values)


class Plan(_Record):
    """The advisor's ranking as shown, the modality chosen, and why when it is not the top-ranked one."""

    procedure: str
    ranking: dict[str, Any]
    top_modality: Modality
    modality: Modality
    reason: str | None = Field(default=None, max_length=2000)
    on: date

    @model_validator(mode="after")
    def _reason_when_not_top(self) -> Plan:
        if self.modality != self.top_modality and not self.reason:
            raise ValueError("reason: " + _NOT_TOP % {"modality": self.modality, "top": self.top_modality})
        return self

    @property
    def contrast(self) -> str:
        """The chosen modality's contrast need (none, optional, standard) as ranked."""
        for item in self.ranking.get("modalities", []):
            if item.get("modality") == self.modality:
                return str(item.get("contrast", "none"))
        return "none"


class Schedule(_Record):
    """When and where the procedure is done; the accession number is assigned by the store."""

    at: datetime
    accession_number: str = Field(pattern=r"^[A-Za-z0-9._-]{1,16}$")
    location: str | None = Field(default=None, max_length=100)

    @field_validator("at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError(N_("give a time with its time zone"))
        return value


DrugDecision = Literal["continue", "hold"]


class DrugSchedule(_Record):
    """One drug's plan with times computed from the procedure time.

    ``last_dose_before`` is the procedure time minus the longest hold interval; ``restart_from`` the
    procedure time plus the shortest restart interval. ``decision`` resolves a shared decision.
    """

    drug: str
    action: Literal["continue", "hold", "shared_decision"]
    text: str
    source: str
    status: str
    normal_inr_required: bool = False
    hold_before_hours: tuple[float | None, float | None] = (None, None)
    restart_after_hours: tuple[float | None, float | None] = (None, None)
    last_dose_before: datetime | None = None
    restart_from: datetime | None = None
    decision: DrugDecision | None = None
    decided_by: str | None = None

    @property
    def resolved(self) -> bool:
        """A shared decision counts only once the physician has decided."""
        return self.action != "shared_decision" or self.decision is not None

    @property
    def held(self) -> bool:
        """Whether the drug is held (by the table, or by the decision)."""
        return self.action == "hold" or self.decision == "hold"


class Anticoagulation(_Record):
    """The planner's result for the patient's drugs, dated from the procedure time it was planned for."""

    procedure_at: datetime
    bleeding_risk: str
    drugs: tuple[DrugSchedule, ...]
    warnings: tuple[dict[str, object], ...] = ()
    on: date


class Qualification(_Record):
    """A radiation-protection qualification (German Fachkunde, Swiss Sachkunde) of one user."""

    username: str = Field(min_length=1, max_length=64)
    certificate: str = Field(min_length=1, max_length=200)
    valid_until: date
    valid_from: date | None = None

    def valid_on(self, day: date) -> bool:
        """Whether the qualification holds on ``day``."""
        return (self.valid_from is None or self.valid_from <= day) and day <= self.valid_until


class RadiationJustification(_Record):
    """The justifying indication for an X-ray-guided procedure (fluoroscopy or CT).

    ``alternative`` names the method without (or with less) radiation considered, and
    ``alternative_not_chosen_because`` why it was not chosen. The signer's qualification is copied in
    when the justification is signed.
    """

    modality: Modality
    physician: str = Field(min_length=1, max_length=64)
    on: date
    alternative: str = Field(min_length=1, max_length=200)
    alternative_not_chosen_because: str = Field(min_length=1, max_length=2000)
    note: str | None = Field(default=None, max_length=2000)
    qualification: Qualification | None = None
    frame: str


class Consent(_Record):
    """Informed consent: who consented, who informed them, when, and what they were told."""

    given_by: str = Field(min_length=1, max_length=200)
    relation: Literal["patient", "legal_representative"] = "patient"
    informed_by: str = Field(min_length=1, max_length=100)
    on: date
    modality: Modality
    alternatives: str = Field(min_length=1, max_length=2000)
    risks: str = Field(min_length=1, max_length=4000)
    radiation_explained: bool = False

    @model_validator(mode="after")
    def _radiation(self) -> Consent:
        if self.modality in IONIZING and not self.radiation_explained:
            raise ValueError("radiation_explained: " + _X_RAYS % {"modality": self.modality})
        return self


class ConsentRevocation(_Record):
    """The patient withdrew consent."""

    on: date
    reason: str | None = Field(default=None, max_length=2000)


class Checklist(_Record):
    """The pre-procedure checklist: which items were confirmed, by whom."""

    items: dict[str, bool]
    by: str = Field(min_length=1, max_length=100)
    on: date

    @field_validator("items")
    @classmethod
    def _known(cls, items: dict[str, bool]) -> dict[str, bool]:
        unknown = sorted(set(items) - set(CHECKLIST_ITEMS))
        if unknown:
            raise ValueError(f"unknown items {unknown}; known: {', '.join(CHECKLIST_ITEMS)}")
        return items

    @staticmethod
    def required_items(modality: str, contrast: str) -> tuple[str, ...]:
        """The items that apply to a modality and its contrast need."""
        applies = {"all"}
        if modality == "ultrasound":
            applies.add("ultrasound")
        if modality in IONIZING:
            applies.add("xray")
        if contrast == "standard":
            applies.add("contrast")
        return tuple(k for k, (_, scope) in CHECKLIST_ITEMS.items() if scope in applies)


class DrugGiven(_Record):
    """A drug injected: name, dose as written, and volume."""

    name: str = Field(min_length=1, max_length=100)
    dose: str | None = Field(default=None, max_length=100)
    volume_ml: float | None = Field(default=None, ge=0, le=500)


class ProcedureRecord(_Record):
    """What was done: operator, supervisor, modality, needle, contrast, drugs, complications.

    Links to dose reports and ultrasound analyses are added later by the linking step.
    """

    performed_at: datetime
    operator: str = Field(min_length=1, max_length=100)
    supervisor: str | None = Field(default=None, max_length=100)
    modality: Modality
    levels: tuple[str, ...] = ()
    side: Side
    needle: str | None = Field(default=None, max_length=200)
    contrast: str | None = Field(default=None, max_length=200)
    contrast_volume_ml: float | None = Field(default=None, ge=0, le=500)
    drugs: tuple[DrugGiven, ...] = ()
    complications: str | None = Field(default=None, max_length=4000)
    dose_report_ids: tuple[int, ...] = ()
    sono_analysis_ids: tuple[int, ...] = ()

    @field_validator("levels")
    @classmethod
    def _norm(cls, values: tuple[str, ...]) -> tuple[str, ...]:
        return _levels(values)

    @field_validator("performed_at")
    @classmethod
    def _aware(cls, value: datetime) -> datetime:
        if value.tzinfo is None:
            raise ValueError(N_("give a time with its time zone"))
        return value


class FollowUp(_Record):
    """A scheduled follow-up: when, and its result once recorded."""

    id: int | None = None
    due_on: date
    days_after: int = Field(ge=0, le=3650)
    result: FollowUpResult | None = None


class FollowUpResult(_Record):
    """A follow-up's answers: NRS 0-10, PGIC, and relief of the index pain in percent."""

    on: date
    nrs: int | None = Field(default=None, ge=0, le=10)
    pgic: PGIC | None = None
    relief_percent: float | None = Field(default=None, ge=0, le=100)
    note: str | None = Field(default=None, max_length=2000)

    @model_validator(mode="after")
    def _something(self) -> FollowUpResult:
        if self.nrs is None and self.pgic is None and self.relief_percent is None:
            raise ValueError("nrs: " + N_("give the NRS, the PGIC or the relief in percent"))
        return self

    def relief(self, baseline_nrs: int | None) -> float | None:
        """Relief in percent: as recorded, else from the NRS against the baseline (same scale)."""
        if self.relief_percent is not None:
            return self.relief_percent
        if self.nrs is None or not baseline_nrs:
            return None
        return round(max(0.0, (baseline_nrs - self.nrs) / baseline_nrs * 100), 1)


class Override(_Record):
    """A physician's written override of one gate code on one case."""

    code: str
    reason: str = Field(min_length=10, max_length=2000)
    by: str
    at: datetime
    unmet: tuple[dict[str, str], ...] = ()


FollowUp.model_rebuild()
