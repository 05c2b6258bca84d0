"""Procedure catalogue: procedures × modalities, sourced rules and site policy (data, loader, models)."""

from __future__ import annotations

__all__ = ["load_catalogue", "load_knowledge"]


def __getattr__(name: str) -> object:
    # Lazy so that `import painguide.catalogue.models` stays light.
    if name in __all__:
        from painguide.catalogue import loader

        return getattr(loader, name)
    raise AttributeError(name)
