"""The evaluation can run a later block of each family's seeds (a confirmation set never run before)."""

from __future__ import annotations

from typing import Any

import pytest

from painguide.sono import familyeval
from painguide.sono.scenes import development_seed, held_out_seed


@pytest.mark.parametrize(("test_set", "seed_of"), [(True, held_out_seed), (False, development_seed)])
def test_first_picks_the_block_of_seeds(
    monkeypatch: pytest.MonkeyPatch, test_set: bool, seed_of: Any
) -> None:
    asked: list[tuple[str, int]] = []

    def params(family: str, seed: int, **_: Any) -> Any:
        asked.append((family, seed))
        raise _Stop

    monkeypatch.setattr(familyeval, "scene_params", params)
    for first in (0, 500):
        with pytest.raises(_Stop):
            familyeval.evaluate_families(
                per_family=2, families=("needle_free",), test_set=test_set, first=first
            )
    assert asked == [("needle_free", seed_of("needle_free", 0)), ("needle_free", seed_of("needle_free", 500))]


class _Stop(Exception):
    """Stops the evaluation once the first scene is asked for."""
