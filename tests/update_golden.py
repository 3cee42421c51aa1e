"""Regenerate the golden figures (compared byte for byte by the tests) and the README's figures
under docs/figures/ (each what `archcalc render NAME -o docs/figures/NAME.svg` writes).

    python tests/update_golden.py

Review the change (open the SVGs) before committing it.
"""

from __future__ import annotations

from pathlib import Path

import archcalc
from archcalc.figure3d import build_figure, render_svg

GOLDEN = Path(__file__).resolve().parent / "golden"
DOCS = Path(__file__).resolve().parent.parent / "docs" / "figures"
FIGURES = ("alexnet", "lenet5")
README_FIGURES = ("alexnet", "lenet5", "googlenet", "resnet18", "unet")


def figure_svg(name: str) -> str:
    return render_svg(build_figure(archcalc.analyse(archcalc.load(name))))


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")


if __name__ == "__main__":
    for name in FIGURES:
        _write(GOLDEN / f"{name}.svg", figure_svg(name))
    for name in README_FIGURES:
        _write(DOCS / f"{name}.svg", figure_svg(name))
