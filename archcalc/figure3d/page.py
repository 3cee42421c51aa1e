"""The figure for a page (the HTML report, a notebook cell): never a reason for the page to fail.

A figure that cannot keep its print sizes at the asked width is drawn at the width it needs (the
page scales it to the screen) with a one-line note saying so; where no width up to the largest
allowed fits, the page goes without it, and the note says why and what ``archcalc render`` takes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

from ..engine import Analysis
from ..errors import FigureFitError
from ..i18n import Message, say
from .options import Options, PrintWidth, parse_width

WIDEST_CM = 100.0  # the widest --width accepted

WIDER: Message = {
    "en": "The figure needs {width} to keep its text ≥ 7 pt and is drawn at that width (more than "
    "{asked}); archcalc render --width {width} writes it at that size.",
    "zh": "该图需要 {width} 宽才能保持文字 ≥ 7 pt，因此按此宽度绘制（超过 {asked}）；"
    "archcalc render --width {width} 可按此尺寸输出。",
}
NONE: Message = {
    "en": "No figure: {reason}",
    "zh": "未绘制图：{reason}",
}


@dataclass(frozen=True)
class PageFigure:
    """The figure's SVG (None where none could be drawn) and a note for the reader ('' when none)."""

    svg: str | None
    note: str


def page_figure(analysis: Analysis, options: Options | None = None, id_prefix: str = "archcalc-figure") -> PageFigure:
    """The figure at ``options.width`` if it fits, else at the width it needs, else none; and the note."""
    from .export import render_svg
    from .layout import build_figure

    options = options or Options()
    try:
        return PageFigure(render_svg(build_figure(analysis, options), id_prefix=id_prefix), "")
    except FigureFitError as error:
        failure = error
    for wide in _wider(options.width.points / 72 * 2.54, failure.one_row_cm):
        try:
            svg = render_svg(build_figure(analysis, replace(options, width=wide)), id_prefix=id_prefix)
            return PageFigure(svg, say(WIDER, options.lang, width=wide.text, asked=options.width.text))
        except FigureFitError as error:
            failure = error
    return PageFigure(None, say(NONE, options.lang, reason=str(failure)))


def _wider(asked_cm: float, one_row_cm: float | None) -> list[PrintWidth]:
    """Widths to try, narrowest first: steps up from the asked width, the one-row width, the widest;
    in half centimetres, so that the note's width is one a reader can type."""
    steps = [asked_cm * factor for factor in (1.5, 2, 3, 4, 6)] + [one_row_cm or WIDEST_CM, WIDEST_CM]
    widths = sorted({min(WIDEST_CM, math.ceil(cm * 2) / 2) for cm in steps if cm > asked_cm})
    return [parse_width(f"{cm:g}cm") for cm in widths]


__all__ = ["PageFigure", "page_figure"]
