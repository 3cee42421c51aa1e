"""The self-contained HTML page: the full table, totals, warnings, the 3D figure and each layer's
derivation, with inline CSS and JS (works offline; no CDN)."""

from __future__ import annotations

from .engine import Analysis, LayerResult
from .layers import fmt_padding, fmt_pair, fmt_shape
from .report import flop_note, human, megabytes, receptive_field_text, summary_lines


def derivation(layer: LayerResult) -> list[tuple[str, str]]:
    """The stage-by-stage working of one layer, as textbooks lay it out."""
    p = layer.params_spec
    rows = [("input", " + ".join(fmt_shape(s) for s in layer.input_shapes))]
    if "kernel" in layer.details:  # a sliding-window layer
        kernel, stride, padding = layer.details["kernel"], layer.details["stride"], layer.details["padding"]
        text = f"{kernel[0]}×{kernel[1]}"
        if layer.kind == "conv":
            c_in = layer.input_shapes[0][0]
            groups = p["groups"]
            text += f"×{c_in // groups}, {p['out_channels']} kernels"
            if groups > 1:
                text += f" in {groups} groups"
            if p["connections"] is not None:
                text = f"{kernel[0]}×{kernel[1]}, {p['out_channels']} kernels through a connection table"
        rows.append(("kernel", text))
        rows.append(("stride", fmt_pair(stride)))
        rows.append(("padding", fmt_padding(padding) + (" (SAME)" if p.get("padding") == "same" else "")))
        if p.get("dilation", (1, 1)) != (1, 1):
            rows.append(("dilation", "×".join(map(str, p["dilation"]))))
    if layer.formula:
        rows.append(("output", f"{layer.formula} → {fmt_shape(layer.output_shape)}"))
    else:
        rows.append(("output", fmt_shape(layer.output_shape)))
    if layer.params_formula:
        rows.append(("parameters", layer.params_formula))
    if layer.macs:
        rows.append(("MACs", f"{layer.macs:,}"))
    rf = layer.receptive_field
    if rf is not None:
        rows.append(
            (
                "receptive field",
                f"{receptive_field_text(layer)} px, jump {rf.jump[0]}, centre of the first at {rf.start[0]:g}",
            )
        )
    for warning in layer.warnings:
        rows.append(("warning", warning))
    return rows


def to_html(analysis: Analysis) -> str:
    from markupsafe import Markup

    from .figure3d import build_figure, render_svg
    from .templating import render

    # The figure is built by archcalc from escaped templates, so it may be inserted as markup.
    figure = Markup(render_svg(build_figure(analysis), id_prefix="archcalc-figure"))
    rows = [
        {
            "layer": layer,
            "shape": fmt_shape(layer.output_shape),
            "rf": receptive_field_text(layer),
            "memory": megabytes(layer.activation_bytes),
            "derivation": derivation(layer),
        }
        for layer in analysis.layers
    ]
    return render(
        "table.html.j2",
        analysis=analysis,
        spec=analysis.spec,
        input_shape=fmt_shape(analysis.input_shape),
        rows=rows,
        summary=summary_lines(analysis),
        flop_note=flop_note(analysis),
        warnings=[(layer.name, w) for layer in analysis.layers for w in layer.warnings],
        figure=figure,
        human=human,
    )
