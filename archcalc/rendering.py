"""`render` as a library call: which drawing (the 3D figure or the layer graph), in which format.

The formats, the extensions that name them and the rules that tie formats to styles live here, so
the command line only parses words into these enums and the Python API checks the same things.
"""

from __future__ import annotations

import enum
from typing import Any

from .engine import Analysis
from .errors import OptionError
from .fileio import format_for


class Style(enum.StrEnum):
    """What `render` draws."""

    FIGURE = "3d"
    GRAPH = "graph"


class RenderFormat(enum.StrEnum):
    SVG = "svg"
    TIKZ = "tikz"
    DOT = "dot"
    PNG = "png"
    PDF = "pdf"

    @property
    def binary(self) -> bool:
        return self in (RenderFormat.PNG, RenderFormat.PDF)


FIGURE_FORMATS = (RenderFormat.SVG, RenderFormat.TIKZ)
SUFFIX_FORMATS = {"gv": RenderFormat.DOT, "tex": RenderFormat.TIKZ, **{f.value: f for f in RenderFormat}}


def render_format(fmt: str | None, output: str | None) -> RenderFormat:
    """``--format``, else the ``-o`` extension, else SVG."""
    return RenderFormat(fmt.lower()) if fmt is not None else format_for(output, SUFFIX_FORMATS, RenderFormat.SVG)


def render(
    analysis: Analysis,
    style: Style | str = Style.FIGURE,
    fmt: RenderFormat | str = RenderFormat.SVG,
    direction: str | None = None,
    figure: Any = None,
) -> str | bytes:
    """The drawing as text (SVG, TikZ, DOT) or bytes (PNG, PDF). `figure`: ``figure3d.Options``."""
    style, fmt = Style(style), RenderFormat(fmt)
    if style is Style.FIGURE:
        from .figure3d import FlowDirection, Options, build_figure, render_svg, render_tikz

        if fmt not in FIGURE_FORMATS:
            raise OptionError(f"the 3d figure is written as svg or tikz, not {fmt}", option="--format")
        if direction is not None and direction not in list(FlowDirection):
            raise OptionError("the 3d figure runs lr or rl; tb and bt are for --style graph", option="--direction")
        drawn = build_figure(analysis, figure or Options(right_to_left=direction == FlowDirection.RL))
        return render_svg(drawn) if fmt is RenderFormat.SVG else render_tikz(drawn)
    from .graph import Direction, render_graph, to_dot

    if fmt is RenderFormat.TIKZ:
        raise OptionError("tikz is for the 3d figure; the graph writes svg, png, pdf or dot", option="--format")
    if fmt is RenderFormat.DOT:
        return to_dot(analysis, direction or Direction.TB)
    return render_graph(analysis, fmt.value, direction or Direction.TB)
