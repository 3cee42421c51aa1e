"""Regenerate the golden figures (shown in the README and compared byte for byte by the tests).

    python tests/update_golden.py

Review the change (open the SVGs) before committing it.
"""

from __future__ import annotations

from pathlib import Path

import archcalc
from archcalc.figure3d import build_figure, render_svg

GOLDEN = Path(__file__).resolve().parent / "golden"
FIGURES = ("alexnet", "lenet5")


def figure_svg(name: str) -> str:
    return render_svg(build_figure(archcalc.analyse(archcalc.load(name))))


if __name__ == "__main__":
    for name in FIGURES:
        path = GOLDEN / f"{name}.svg"
        path.write_text(figure_svg(name), encoding="utf-8")
        print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
