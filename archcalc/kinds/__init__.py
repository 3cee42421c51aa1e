"""The layer kinds, one class each; importing this package registers them all in KINDS.

To add a kind, write its class (in the module of its family, or a new module imported below):
nothing else in archcalc names kinds.
"""

from __future__ import annotations

from . import activation, conv, dense, merge, norm, pool, resample  # registers the kinds
from .base import (
    GLOBAL,
    IDENTITY_WINDOW,
    KINDS,
    TORCH_HELPERS,
    Appearance,
    Kind,
    Outcome,
    Params,
    Shape,
    TorchLayer,
    Window,
)
from .sliding import SlidingKind, same_padding, slide

# The order `archcalc schema`, the README and error messages list the kinds in: by family.
_FAMILIES = [module.__name__ for module in (conv, pool, resample, norm, activation, dense, merge)]
_ordered = sorted(KINDS.items(), key=lambda item: _FAMILIES.index(type(item[1]).__module__))
KINDS.clear()
KINDS.update(_ordered)

__all__ = [
    "GLOBAL",
    "IDENTITY_WINDOW",
    "KINDS",
    "TORCH_HELPERS",
    "Appearance",
    "Kind",
    "Outcome",
    "Params",
    "Shape",
    "SlidingKind",
    "TorchLayer",
    "Window",
    "same_padding",
    "slide",
]
