"""Files a user asks painguide to write: refused before any work is done for them, naming the option."""

from __future__ import annotations

import os
from pathlib import Path

from painguide.errors import ValidationError

__all__ = ["check_output_file"]


def check_output_file(path: str | Path, name: str, *, example: str) -> Path:
    """``path`` as a :class:`Path`, if a file can be written there: not a folder, in a folder that exists and
    can be written.

    Parameters
    ----------
    path : str or Path
        The file to write.
    name : str
        The option or argument that gave it (``--out``, ``OUT``), for the error.
    example : str
        A file name of the right kind, suggested when ``path`` is a folder.

    Raises
    ------
    ValidationError
        Named ``name``, saying what to change.
    """
    out = Path(path)
    if out.is_dir():
        raise ValidationError(name, f"{out} is a folder; give a file name such as {example}")
    folder = out.parent
    if not folder.is_dir():
        raise ValidationError(name, f"{out}: the folder {folder} does not exist; create it or choose another")
    if not os.access(folder, os.W_OK):
        raise ValidationError(name, f"{out}: the folder {folder} cannot be written; choose another")
    return out
