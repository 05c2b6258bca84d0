"""Reading YAML data files: one loader for catalogue, drug, dose and policy files.

Every problem becomes a :class:`~painguide.errors.DataFileError` naming the file, where in it, and what is
expected, so a malformed data or site file stops start-up with a message an administrator can act on.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from painguide.errors import DataFileError

__all__ = ["load_yaml_text", "read_packaged_yaml", "read_yaml"]

#: libyaml's safe loader where PyYAML was built with it (about 10x faster), else the pure-Python one.
_SafeLoader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml_text(text: str, label: str) -> dict[str, object]:
    """Parse YAML text that must hold a mapping; ``label`` names its file in errors."""
    try:
        data = yaml.load(text, Loader=_SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "(syntax)"
        raise DataFileError(label, where, f"valid YAML expected ({getattr(exc, 'problem', exc)})") from exc
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise DataFileError(label, "(top level)", "a mapping of keys to values expected")
    return data


def read_yaml(path: Path) -> dict[str, Any]:
    """Read a YAML file that must hold a mapping."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataFileError(str(path), "(file)", f"a readable file expected ({exc.strerror})") from exc
    return load_yaml_text(text, str(path))


def read_packaged_yaml(
    package: str, relative: str, path: str | Path | None = None
) -> tuple[dict[str, Any], str]:
    """Read ``path``, or the file ``relative`` shipped in ``package``; return the mapping and its label.

    Examples
    --------
    >>> data, label = read_packaged_yaml("painguide.catalogue", "data/conventions.yaml")
    >>> label, sorted(data)
    ('painguide/catalogue/data/conventions.yaml', ['role_ratings'])
    """
    if path is not None:
        return read_yaml(Path(path)), str(path)
    label = f"{package.replace('.', '/')}/{relative}"
    return load_yaml_text(resources.files(package).joinpath(relative).read_text("utf-8"), label), label
