"""painguide: image-guided interventional pain therapy.

painguide supports decisions; the physician decides.
"""

from __future__ import annotations

__all__ = ["__version__"]
__version__ = "0.1.0"
