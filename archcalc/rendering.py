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


FIGURE_FORMATS = (RenderFormat.SVG, RenderFormat.PDF, RenderFormat.PNG, RenderFormat.TIKZ)
SUFFIX_FORMATS = {"gv": RenderFormat.DOT, "tex": RenderFormat.TIKZ, **{f.value: f for f in RenderFormat}}


def render_format(fmt: str | None, output: str | None) -> RenderFormat:
    """``--format``, else the ``-o`` extension, else SVG."""
    return RenderFormat(fmt.lower()) if fmt is not None else format_for(output, SUFFIX_FORMATS, RenderFormat.SVG)


def check_style_options(style: Style, fmt: RenderFormat, dpi: int | None = None, fold: bool = False) -> None:
    """Refuse `--dpi` where nothing is rasterised and `--fold` outside the graph, in one line each."""
    if dpi is not None:
        from .figure3d.raster import check_dpi

        if fmt is not RenderFormat.PNG:
            raise OptionError(f"only a png has a resolution, not {fmt}", option="--dpi")
        check_dpi(dpi)
    if fold and style is not Style.GRAPH:
        raise OptionError("folding layers into their nodes is for --style graph", option="--fold")


def render(
    analysis: Analysis,
    style: Style | str = Style.FIGURE,
    fmt: RenderFormat | str = RenderFormat.SVG,
    direction: str | None = None,
    figure: Any = None,
    dpi: int | None = None,
    fold: bool = False,
) -> str | bytes:
    """The drawing as text (SVG, TikZ, DOT) or bytes (PNG, PDF). `figure`: ``figure3d.Options``;
    `dpi`: a PNG's resolution (the 3d figure: 300 by default, the graph: graphviz's 96); `fold`: the
    graph draws each activation or other annotation inside its layer's node."""
    style, fmt = Style(style), RenderFormat(fmt)
    check_style_options(style, fmt, dpi, fold)
    if style is Style.FIGURE:
        from .figure3d import FlowDirection, Options, build_figure, render_svg, render_tikz

        if fmt not in FIGURE_FORMATS:
            allowed = ", ".join(f.value for f in FIGURE_FORMATS[:-1]) + f" or {FIGURE_FORMATS[-1]}"
            raise OptionError(f"the 3d figure is written as {allowed}, not {fmt}", option="--format")
        if direction is not None and direction not in list(FlowDirection):
            raise OptionError("the 3d figure runs lr or rl; tb and bt are for --style graph", option="--direction")
        figure = figure or Options(right_to_left=direction == FlowDirection.RL)
        drawn = build_figure(analysis, figure)
        if fmt in (RenderFormat.PDF, RenderFormat.PNG):
            from .figure3d.raster import DEFAULT_DPI, render_raster

            return render_raster(drawn, fmt.value, DEFAULT_DPI if dpi is None else dpi)
        if fmt is RenderFormat.SVG:
            return render_svg(drawn)
        return render_tikz(drawn)
    from .graph import Direction, render_graph, to_dot

    if fmt is RenderFormat.TIKZ:
        raise OptionError("tikz is for the 3d figure; the graph writes svg, png, pdf or dot", option="--format")
    if fmt is RenderFormat.DOT:
        return to_dot(analysis, direction or Direction.TB, fold=fold)
    return render_graph(analysis, fmt.value, direction or Direction.TB, dpi=dpi, fold=fold)
