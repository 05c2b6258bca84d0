"""Peak skin dose and a skin dose map from a fluoroscopy dose report, with pyskindose (adapter).

pyskindose (MIT) places a patient phantom on the table, follows every irradiation event's beam (positioner
angles, table position, distances, collimated field) and adds each event's reference-point air kerma to the
phantom cells it hits, corrected for the inverse-square law, backscatter, the tissue medium and the table and
pad attenuation. It knows the geometry conventions of two device models as shipped (Siemens "AXIOM-Artis",
Philips "Allura Clarity"); for any other model, for CT and for reports without the geometry, the answer is
"not estimable, because …", never a guess.

What can be decided from the parsed report (kind, device model) is decided here without loading pyskindose,
which takes about a second to import; only reports of a known model pay that, once per process.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from contextlib import redirect_stderr
from functools import lru_cache
from importlib.util import find_spec
from io import BytesIO, StringIO
from pathlib import Path
from typing import Any

from painguide.dose.models import DoseReport, ReportKind, SkinDose, SkinDoseMap, SkinReason
from painguide.i18n.marks import N_

__all__ = [
    "METHOD",
    "NOT_ESTIMABLE",
    "PENDING_NOTE",
    "decided_without_model",
    "estimate_skin_dose",
    "known_models",
    "not_estimable",
    "skin_dose_or_reason",
    "unmet_reasons",
    "unmet_skin_reasons",
]

_PACKAGE = "pyskindose"
_VERSION = "25.1.1"
METHOD = (
    f"pyskindose {_VERSION}: elliptic cylinder phantom (40 × 20 × 150 cm), head first supine on a 5 cm "
    "table and 4 cm pad; table and pad transmission by pyskindose; inherent filtration 3.1 mm Al"
)  # at most 200 characters: the stored column's size
_SETTINGS: dict[str, object] = {
    "mode": "calculate_dose",
    "rdsr_filename": "",
    "plot_event_index": 0,
    "estimate_k_tab": True,
    "k_tab_val": 0.8,
    "inherent_filtration": 3.1,
    "remove_invalid_rows": False,
    "silence_pydicom_warnings": True,
    "plot": {
        "interactivity": False,
        "dark_mode": False,
        "notebook_mode": False,
        "plot_dosemap": False,
        "colorscale": "jet",
        "max_events_for_patient_inclusion": 0,
        "plot_event_index": 0,
    },
    "phantom": {
        "model": "cylinder",
        "human_mesh": "hudfrid",
        "patient_offset": {"d_lon": 0, "d_ver": 0, "d_lat": 0},
        "patient_orientation": "head_first_supine",
        "dimension": {
            "plane_length": 120,
            "plane_width": 40,
            "plane_resolution": "sparse",
            "cylinder_length": 150,
            "cylinder_radii_a": 20,
            "cylinder_radii_b": 10,
            "cylinder_resolution": "sparse",
            "table_length": 281.5,
            "table_width": 45,
            "table_thickness": 5,
            "pad_length": 281.5,
            "pad_width": 45,
            "pad_thickness": 4,
        },
    },
}


@lru_cache(maxsize=1)
def known_models() -> frozenset[tuple[str, str]] | None:
    """(manufacturer, model) pairs pyskindose has geometry settings for; ``None`` when it is not installed.

    Read from the package's ``normalization_settings.json`` without importing the package.
    """
    spec = find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / "normalization_settings.json"
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))["normalization_settings"]
        return frozenset(
            (str(entry["manufacturer"]).casefold(), str(model).casefold())
            for entry in entries
            for model in entry["models"]
        )
    except (OSError, ValueError, KeyError, TypeError):
        return frozenset()


def unmet_reasons(report: DoseReport) -> list[str]:
    """Every reason the report's skin dose cannot be estimated, in English (empty when pyskindose can try).

    Examples
    --------
    >>> from painguide.dose.models import DoseReport, ReportKind
    >>> unmet_reasons(DoseReport("1.2", "1.2", ReportKind.CT))[0]
    'it is a CT report (skin dose is modelled for projection X-ray only)'
    """
    return [reason.english for reason in unmet_skin_reasons(report)]


def unmet_skin_reasons(report: DoseReport) -> list[SkinReason]:
    """:func:`unmet_reasons` as templates with their values, which a page shows in its reader's language."""
    reasons: list[SkinReason] = []
    if report.kind is ReportKind.CT:
        reasons.append(SkinReason(N_("it is a CT report (skin dose is modelled for projection X-ray only)")))
    if not report.events:
        reasons.append(
            SkinReason(N_("the report lists no irradiation events (per-event geometry is needed)"))
        )
    elif all(event.rp_dose_mgy is None for event in report.events):
        reasons.append(SkinReason(N_("no event states its reference-point dose (DCM 113738)")))
    models = known_models()
    words = (report.device.manufacturer or "").split()
    manufacturer = words[0].casefold() if words else ""
    model = (report.device.model or "").casefold()
    if models is None:
        reasons.append(SkinReason(N_("pyskindose is not installed")))
    elif (manufacturer, model) not in models:
        shown = " ".join(x for x in (report.device.manufacturer, report.device.model) if x) or "unnamed"
        known = ", ".join(sorted(f"{m} {n}" for m, n in models)) or "none"
        template = N_(
            "the device model %(model)r has no geometry settings in pyskindose (known: %(known)s); "
            "a site can add its own settings"
        )
        reasons.append(SkinReason(template, {"model": shown, "known": known}))
    return reasons


NOT_ESTIMABLE = N_("not estimable, because %(reasons)s")
"""The note of a skin dose with no estimate; ``reasons`` joined with ``"; "``."""


def not_estimable(reasons: Sequence[SkinReason]) -> SkinDose:
    """The answer without an estimate: the English note and the reasons a page translates."""
    english = "; ".join(reason.english for reason in reasons)
    return SkinDose(None, NOT_ESTIMABLE % {"reasons": english}, METHOD, reasons=tuple(reasons))


PENDING_NOTE = N_(
    "not estimated yet: pyskindose runs after the import (on the first view of the report or with "
    "`painguide dose skin`)"
)


def decided_without_model(report: DoseReport) -> SkinDose | None:
    """The "not estimable" answer when the report alone settles it; ``None`` when pyskindose must run.

    Cheap (pyskindose is not loaded): the import stores this answer at once and leaves the model's run,
    about a second per report, out of the import.
    """
    reasons = unmet_skin_reasons(report)
    return not_estimable(reasons) if reasons else None


def estimate_skin_dose(data: bytes, report: DoseReport, *, work_dir: Path) -> SkinDose:
    """Estimate the peak skin dose of a projection X-ray report, or say why it cannot be estimated.

    Parameters
    ----------
    data : bytes
        The report file (pyskindose reads the geometry items itself).
    report : DoseReport
        The same report as parsed by :func:`painguide.dose.rdsr.read_dose_report`.
    work_dir : Path
        Where pyskindose keeps its correction-factor database (created on first use).

    Returns
    -------
    SkinDose
        With ``peak_skin_dose_mgy`` and a map, or ``None`` and ``"not estimable, because …"``.
    """
    reasons = unmet_skin_reasons(report)
    if reasons:
        return not_estimable(reasons)
    try:
        cells, dose = _run(data, work_dir)
    except Exception as exc:  # pyskindose raises many types on geometry it cannot use
        detail = f"{type(exc).__name__}: {exc}".strip()[:200]
        template = N_("pyskindose could not use the report's geometry (%(detail)s)")
        return not_estimable([SkinReason(template, {"detail": detail})])
    peak = float(max(dose, default=0.0))
    if not math.isfinite(peak) or peak <= 0.0:
        template = N_(
            "no irradiation field reached the patient phantom with the report's table and beam geometry"
        )
        return not_estimable([SkinReason(template)])
    note = N_(
        "estimate on a standard phantom, not the patient: position, size and table height are assumed; "
        "see docs/dose.md (Limits)"
    )
    return SkinDose(round(peak, 3), note, METHOD, _unrolled(cells, dose))


def skin_dose_or_reason(data: bytes, report: DoseReport, *, work_dir: Path) -> SkinDose:
    """:func:`estimate_skin_dose` that never raises: an unexpected failure becomes the reason."""
    try:
        return estimate_skin_dose(data, report, work_dir=work_dir)
    except Exception as exc:  # the estimate is an extra: a failure never costs a report its import
        detail = f"{type(exc).__name__}: {exc}"
        return not_estimable([SkinReason(N_("the estimate failed (%(detail)s)"), {"detail": detail})])


def _run(data: bytes, work_dir: Path) -> tuple[Any, Any]:
    """pyskindose's dose calculation without its plots or export: phantom cell positions and dose (mGy)."""
    import pydicom
    from pyskindose import constants, rdsr_normalizer, rdsr_parser
    from pyskindose.calculate_dose.calculate_dose import calculate_dose
    from pyskindose.helpers.calculate_rotation_matrices import calculate_rotation_matrices
    from pyskindose.phantom_class import Phantom
    from pyskindose.settings import PyskindoseSettings

    work_dir.mkdir(parents=True, exist_ok=True)
    raw = dict(_SETTINGS, corrections_db_path=str(work_dir / "pyskindose-corrections.sqlite3"))
    settings = PyskindoseSettings(settings=raw, output_format="dict")
    dataset = pydicom.dcmread(BytesIO(data), force=True)
    normalized = rdsr_normalizer(rdsr_parser(dataset, silence_pydicom_warnings=True), settings=settings)
    dimension = settings.phantom.dimension
    table = Phantom(phantom_model=constants.PHANTOM_MODEL_TABLE, phantom_dim=dimension)
    pad = Phantom(phantom_model=constants.PHANTOM_MODEL_PAD, phantom_dim=dimension)
    normalized = calculate_rotation_matrices(normalized)
    with redirect_stderr(StringIO()):  # pyskindose draws a tqdm progress bar for every report
        patient, output = calculate_dose(normalized_data=normalized, settings=settings, table=table, pad=pad)
    return patient.r_ref, output[constants.OUTPUT_KEY_DOSE_MAP]


def _unrolled(cells: Any, dose: Any) -> SkinDoseMap:
    """Irradiated cells of the cylinder phantom as (angle around the body, position along it, dose)."""
    xs, ys, zs = cells[:, 0], cells[:, 1], cells[:, 2]
    centre_y = (float(ys.min()) + float(ys.max())) / 2.0
    head_end = float(zs.max())
    around: list[float] = []
    along: list[float] = []
    values: list[float] = []
    for x, y, z, value in zip(xs, ys, zs, dose, strict=True):
        if value <= 0.0:
            continue
        around.append(round(math.degrees(math.atan2(float(x), float(y) - centre_y)), 1))  # y points down
        along.append(round(head_end - float(z), 1))
        values.append(round(float(value), 4))
    return SkinDoseMap(tuple(around), tuple(along), tuple(values))
