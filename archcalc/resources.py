"""Where the bundled data folders are: beside the package in a source checkout, inside it when installed."""

from __future__ import annotations

from pathlib import Path

_PACKAGE_DIR = Path(__file__).resolve().parent


def resource_dir(name: str) -> Path:
    """``specs`` or ``templates``: ``<checkout>/<name>`` or ``archcalc/<name>`` in an installed wheel."""
    for candidate in (_PACKAGE_DIR.parent / name, _PACKAGE_DIR / name):
        if candidate.is_dir():
            return candidate
    return _PACKAGE_DIR.parent / name
