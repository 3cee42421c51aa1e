"""matplotlib charts of an analysis: per-layer parameters, MACs and activation memory.

Every panel is a linear scale from zero with each bar's value written on it: a bar's length is its
share, so the one conv layer that does half the work looks like half (a log axis would make a
10× difference look like a small step, and its bars would start at an arbitrary floor).

matplotlib is imported here only, with the non-interactive Agg backend. SVG text stays text
(``svg.fonttype: none``, with a font list), and no output carries a date; SVG ids use a fixed
hash salt, so the same spec gives the same bytes.
"""

from __future__ import annotations

import enum
import io
from typing import Any

from .engine import Analysis, LayerResult
from .errors import OptionError
from .format import human
from .i18n import Lang, Message, display_width, resolve_lang, say
from .palette import PALETTE, Role


class ChartFormat(enum.StrEnum):
    PNG = "png"
    SVG = "svg"
    PDF = "pdf"


FORMATS = tuple(f.value for f in ChartFormat)
DEFAULT_DPI = 150
FONTS = ["DejaVu Sans", "Helvetica", "Arial"]  # the SVG names them all, in order; a reader uses the first it has
# Named after the Latin fonts wherever a chart has Chinese (its words in zh, or a layer's name): the
# Latin text keeps its font, each CJK character falls back to the first of these that is installed.
CJK_FONTS = ["Noto Sans CJK SC", "Source Han Sans SC", "PingFang SC", "Microsoft YaHei", "WenQuanYi Micro Hei"]
WORDS: dict[str, Message] = {
    "params": {"en": "Parameters", "zh": "参数"},
    "macs": {"en": "MACs", "zh": "乘加次数 (MACs)"},
    "memory": {"en": "Activation memory ({dtype}, MB)", "zh": "激活值内存（{dtype}，MB）"},
    "title": {"en": "{name} — input {shape}", "zh": "{name} — 输入 {shape}"},
}
_METADATA = {
    ChartFormat.SVG: {"Date": None},
    ChartFormat.PDF: {"CreationDate": None},
    ChartFormat.PNG: {"Software": None},
}


def check_chart_options(fmt: ChartFormat | str, dpi: int | None) -> ChartFormat:
    """The format; `dpi` only for a PNG (36–2400), else an OptionError."""
    try:
        chosen = ChartFormat(fmt)
    except ValueError:
        raise OptionError(f"{fmt!r}: the chart is written as {', '.join(FORMATS)}", option="--format") from None
    if dpi is not None:
        from .figure3d.raster import check_dpi

        if chosen is not ChartFormat.PNG:
            raise OptionError(f"only a png has a resolution, not {chosen}", option="--dpi")
        check_dpi(dpi)
    return chosen


def _short(value: float) -> str:
    """An axis tick or bar value: ``37.75 M``, ``10 M``, ``5``."""
    return human(round(value)).replace(".00 ", " ")


def fonts_for(texts: list[str]) -> list[str]:
    """The font list: the Latin fonts, and after them the CJK ones where some text is Chinese."""
    wide = any(display_width(text) != len(text) for text in texts)
    return FONTS + CJK_FONTS if wide else FONTS


def _series(analysis: Analysis, layers: list[LayerResult], lang: Lang) -> list[tuple[str, list[float], str, Any]]:
    """(title, values, colour, value label) per panel."""
    memory = say(WORDS["memory"], lang, dtype=analysis.dtype.value)
    return [
        (say(WORDS["params"], lang), [layer.params for layer in layers], PALETTE[Role.DENSE], _short),
        (say(WORDS["macs"], lang), [layer.macs for layer in layers], PALETTE[Role.CONVOLUTION], _short),
        (memory, [layer.activation_bytes / 1e6 for layer in layers], PALETTE[Role.POOLING], lambda v: f"{v:.3g}"),
    ]


def render_chart(
    analysis: Analysis, fmt: ChartFormat | str = ChartFormat.PNG, dpi: int | None = None, lang: Lang | str | None = None
) -> bytes:
    """The three panels as PNG (at `dpi`, default 150), SVG or PDF bytes; the words in `lang`
    (None: ``ARCHCALC_LANG``, else English)."""
    fmt = check_chart_options(fmt, dpi)
    chosen = resolve_lang(lang)
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    from .figure3d.raster import quiet_font_search

    layers = [layer for layer in analysis.layers if layer.params or layer.macs or layer.definition.charted]
    names = [layer.name for layer in layers]
    positions = list(range(len(layers)))
    series = _series(analysis, layers, chosen)
    title = say(WORDS["title"], chosen, name=analysis.name, shape="×".join(map(str, analysis.input_shape)))
    fonts = fonts_for([title, *names, *(panel[0] for panel in series)])
    # one family, sans-serif, for Latin text; a list where CJK characters must fall back (matplotlib
    # falls back along font.family only)
    family: str | list[str] = "sans-serif" if fonts == FONTS else [*fonts, "sans-serif"]
    settings = {"svg.hashsalt": "archcalc", "svg.fonttype": "none", "pdf.fonttype": 42, "font.family": family, "font.sans-serif": fonts,
                "font.size": 9}  # fmt: skip
    with plt.rc_context(settings), quiet_font_search():
        figure, axes = plt.subplots(3, 1, figsize=(max(7.0, 0.34 * len(layers) + 2), 7.5), sharex=True)
        for axis, (heading, values, color, label) in zip(axes, series, strict=True):
            bars = axis.bar(positions, values, color=color, edgecolor="#333333", linewidth=0.5)
            axis.set_title(heading, loc="left", fontsize=10)
            axis.set_ylim(
                0, max(values, default=0) * (1.35 if len(layers) > 12 else 1.15) or 1
            )  # room for the value labels
            axis.yaxis.set_major_formatter(FuncFormatter(lambda v, _: _short(v) if v >= 10 else f"{v:g}"))
            axis.bar_label(bars, labels=[label(v) if v else "" for v in values], fontsize=6.5, padding=1.5,
                           rotation=90 if len(layers) > 12 else 0)  # fmt: skip
            axis.grid(axis="y", color="#dddddd", linewidth=0.6)
            axis.set_axisbelow(True)
            for side in ("top", "right"):
                axis.spines[side].set_visible(False)
        axes[-1].set_xticks(positions, names, rotation=60, ha="right")
        figure.suptitle(title, x=0.01, ha="left")
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format=fmt.value, dpi=dpi or DEFAULT_DPI, metadata=_METADATA[fmt])
        plt.close(figure)
    return buffer.getvalue()
