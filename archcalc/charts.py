"""matplotlib charts of an analysis: per-layer parameters, MACs (log scale) and activation memory.

matplotlib is imported here only, with the non-interactive Agg backend; SVG output carries no date
and a fixed hash salt, so the same spec gives the same bytes.
"""

from __future__ import annotations

import io

from .engine import Analysis
from .palette import PALETTE, Role

FORMATS = ("png", "svg", "pdf")


def render_chart(analysis: Analysis, fmt: str = "png") -> bytes:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.ticker import FuncFormatter

    layers = [layer for layer in analysis.layers if layer.params or layer.macs or layer.definition.charted]
    names = [layer.name for layer in layers]
    positions = range(len(layers))
    series = [
        ("Parameters", [layer.params for layer in layers], PALETTE[Role.DENSE], False),
        ("MACs (log scale)", [layer.macs for layer in layers], PALETTE[Role.CONVOLUTION], True),
        (
            f"Activation memory ({analysis.dtype.value}, MB)",
            [layer.activation_bytes / 1e6 for layer in layers],
            PALETTE[Role.POOLING],
            False,
        ),
    ]
    with plt.rc_context({"svg.hashsalt": "archcalc", "font.family": "DejaVu Sans", "font.size": 9}):
        figure, axes = plt.subplots(len(series), 1, figsize=(max(7.0, 0.34 * len(layers) + 2), 7.5), sharex=True)
        for axis, (title, values, color, log) in zip(axes, series, strict=True):
            axis.bar(positions, values, color=color, edgecolor="#333333", linewidth=0.5)
            axis.set_title(title, loc="left", fontsize=10)
            if log and any(values):  # a log axis needs a positive value
                axis.set_yscale("log")
            else:
                axis.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}" if v >= 10 else f"{v:g}"))
            axis.grid(axis="y", color="#dddddd", linewidth=0.6)
            axis.set_axisbelow(True)
            for side in ("top", "right"):
                axis.spines[side].set_visible(False)
        axes[-1].set_xticks(list(positions), names, rotation=60, ha="right")
        figure.suptitle(f"{analysis.name} — input {'×'.join(map(str, analysis.input_shape))}", x=0.01, ha="left")
        figure.tight_layout()
        buffer = io.BytesIO()
        metadata = {"Date": None} if fmt == "svg" else ({"CreationDate": None} if fmt == "pdf" else {})
        figure.savefig(buffer, format=fmt, dpi=150, metadata=metadata)
        plt.close(figure)
    return buffer.getvalue()
