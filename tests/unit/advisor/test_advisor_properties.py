"""Properties that hold for every procedure and every patient: determinism, ordering, ranges."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from painguide.advisor import PatientFactors, recommend
from painguide.advisor.models import band_for
from painguide.catalogue.loader import load_knowledge

KB = load_knowledge()
IDS = sorted(p.id for p in KB.catalogue.enabled())
DRUGS = [
    "apixaban",
    "warfarin",
    "clopidogrel",
    "naproxen",
    "ibuprofen",
    "dabigatran",
    "ticagrelor",
    "cilostazol",
]

factors = st.builds(
    PatientFactors,
    pregnant=st.booleans(),
    breastfeeding=st.booleans(),
    contrast_allergy=st.booleans(),
    egfr=st.none() | st.floats(0, 200),
    bmi=st.none() | st.floats(10, 100),
    age=st.none() | st.floats(0, 120),
    drugs=st.lists(st.sampled_from(DRUGS), max_size=3, unique=True).map(tuple),
    high_bleeding_risk=st.booleans(),
    renal_impairment=st.booleans(),
    prior_fusion=st.booleans(),
    spinal_hardware=st.booleans(),
)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(procedure=st.sampled_from(IDS), patient=factors)
def test_every_recommendation_is_well_formed_and_deterministic(
    procedure: str, patient: PatientFactors
) -> None:
    rec = recommend(KB, procedure, patient)
    assert rec == recommend(KB, procedure, patient)
    assert [m.modality for m in rec.modalities] != [] and len(rec.modalities) == 4
    ratings = [m.rating for m in rec.modalities]
    assert ratings == sorted(ratings, reverse=True)
    for m in rec.modalities:
        assert 1 <= m.rating <= 9 and m.band == band_for(m.rating)
        assert m.rating == max(1, min(9, m.base_rating + sum(r.delta for r in m.reasons)))
        assert all(
            r.source is None or r.source in KB.catalogue.sources or r.source == "site-policy"
            for r in m.reasons
        )
    order = ["low", "intermediate", "high"]
    assert order.index(rec.bleeding_risk) >= order.index(rec.base_bleeding_risk)
    if patient.pregnant:
        ionising = [m.rating for m in rec.modalities if m.used and m.radiation_level > 0]
        plain = {m.modality: m for m in recommend(KB, procedure, PatientFactors()).modalities}
        assert all(
            r <= plain_r.rating
            for r, plain_r in zip(
                ionising,
                [plain[m.modality] for m in rec.modalities if m.used and m.radiation_level > 0],
                strict=True,
            )
        )
