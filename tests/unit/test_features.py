"""Optional feature modules."""

from __future__ import annotations

from pathlib import Path

import pytest

from painguide.features import import_optional


def test_present_module_is_returned() -> None:
    module = import_optional("painguide.errors")
    assert module is not None and module.__name__ == "painguide.errors"


@pytest.mark.parametrize("name", ["painguide.no_such_feature", "painguide.no_such_pkg.demo"])
def test_absent_module_or_parent_gives_none(name: str) -> None:
    assert import_optional(name) is None


def test_broken_import_inside_a_present_module_propagates(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pkg = tmp_path / "featpkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "mod.py").write_text("import module_that_does_not_exist\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    with pytest.raises(ModuleNotFoundError, match="module_that_does_not_exist"):
        import_optional("featpkg.mod")
