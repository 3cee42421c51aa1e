"""The self-contained HTML page: the full table, totals, warnings, the 3D figure and each layer's
derivation, with inline CSS and JS (works offline; no CDN)."""

from __future__ import annotations

from .engine import Analysis, LayerResult
from .format import fmt_number, fmt_pair, fmt_shape, fmt_shapes, human, megabytes
from .summary import flop_note, receptive_field_text, summary_lines


def derivation(layer: LayerResult) -> list[tuple[str, str]]:
    """The stage-by-stage working of one layer, as textbooks lay it out (its kind adds its own rows)."""
    rows = [("input", fmt_shapes(layer.input_shapes))]
    rows += layer.definition.derivation(layer)
    output = fmt_shape(layer.output_shape)
    rows.append(("output", f"{layer.formula} → {output}" if layer.formula else output))
    if layer.params_formula:
        rows.append(("parameters", layer.params_formula))
    if layer.macs:
        rows.append(("MACs", f"{layer.macs:,}"))
    rf = layer.receptive_field
    if rf is not None:
        text = f"{receptive_field_text(layer)} px, jump {fmt_pair(rf.jump)}, centre of the first at {fmt_number(rf.start[0])}"
        rows.append(("receptive field", text))
    for warning in layer.warnings:
        rows.append(("warning", warning))
    return rows


def notebook_html(analysis: Analysis) -> str:
    """A fragment for a notebook cell: the figure, the table and the totals, its CSS scoped to itself."""
    from markupsafe import Markup

    from .figure3d import build_figure, render_svg
    from .summary import RIGHT_ALIGNED, table_rows, title
    from .templating import render

    header, rows = table_rows(analysis)
    figure = Markup(render_svg(build_figure(analysis), id_prefix="archcalc-cell"))  # built from escaped templates
    return render(
        "notebook.html.j2", title=title(analysis), figure=figure, header=header, rows=rows,
        right=RIGHT_ALIGNED, summary=summary_lines(analysis),
    )  # fmt: skip


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
