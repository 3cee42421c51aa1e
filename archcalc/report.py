"""Plain-text renderings of an Analysis: aligned text, Markdown, CSV and JSON (no heavy imports)."""

from __future__ import annotations

import enum

from .engine import Analysis, FlopMode, LayerResult
from .layers import fmt_shape


class TableFormat(enum.StrEnum):
    TEXT = "text"
    MARKDOWN = "markdown"
    CSV = "csv"
    JSON = "json"
    HTML = "html"


COLUMNS = ("Layer", "Kind", "Output shape", "Params", "MACs", "RF", "Shape arithmetic", "Param arithmetic")
_RIGHT = {"Params", "MACs", "RF"}


def human(value: float, unit: str = "") -> str:
    """1_448_813_632 → '1.45 G' (decimal prefixes, as MACs/FLOPs are usually quoted)."""
    for factor, prefix in ((1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= factor:
            return f"{value / factor:.2f} {prefix}{unit}"
    return f"{value:g} {unit}".rstrip()


def megabytes(n_bytes: int) -> str:
    """Decimal megabytes as torchinfo prints them; kilobytes below 0.1 MB so small nets do not read 0.00."""
    if n_bytes < 100_000:
        return f"{n_bytes / 1e3:,.2f} kB"
    return f"{n_bytes / 1e6:,.2f} MB"


def receptive_field_text(layer: LayerResult) -> str:
    rf = layer.receptive_field
    if rf is None:
        return "all"
    return str(rf.size[0]) if rf.size[0] == rf.size[1] else f"{rf.size[0]}×{rf.size[1]}"


def layer_row(layer: LayerResult) -> tuple[str, ...]:
    return (
        layer.name,
        layer.kind,
        fmt_shape(layer.output_shape),
        f"{layer.params:,}",
        f"{layer.macs:,}",
        receptive_field_text(layer),
        layer.formula,
        layer.params_formula,
    )


def branched(analysis: Analysis) -> bool:
    """Does any layer read something other than the layer before it?"""
    previous = "input"
    for layer in analysis.layers:
        if layer.inputs != (previous,):
            return True
        previous = layer.name
    return False


def table_rows(analysis: Analysis) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """Header and layer rows; an Inputs column only when the network branches."""
    rows = [layer_row(layer) for layer in analysis.layers]
    if not branched(analysis):
        return COLUMNS, rows
    header = COLUMNS[:2] + ("Inputs",) + COLUMNS[2:]
    rows = [row[:2] + (", ".join(layer.inputs),) + row[2:] for row, layer in zip(rows, analysis.layers, strict=True)]
    return header, rows


def flop_note(analysis: Analysis) -> str:
    if analysis.flop_mode is FlopMode.MATMUL:
        return "2 × MACs of conv/linear, as torch.utils.flop_counter counts"
    return "2 × MACs plus bias, activation, pooling, normalisation and merge operations"


def summary_lines(analysis: Analysis) -> list[tuple[str, str]]:
    t = analysis.totals
    dtype = analysis.dtype.value
    return [
        ("Total params", f"{t.params:,}"),
        ("Trainable params", f"{t.trainable_params:,}"),
        ("Non-trainable params", f"{t.non_trainable_params:,}"),
        ("Total MACs", f"{t.macs:,} ({human(t.macs)})"),
        ("Total FLOPs", f"{t.flops:,} ({human(t.flops)}; {flop_note(analysis)})"),
        (f"Input size ({dtype})", megabytes(t.input_bytes)),
        (f"Activations ({dtype})", f"{megabytes(t.activation_bytes)} per sample (all layer outputs)"),
        (f"Params size ({dtype})", megabytes(t.param_bytes)),
    ]


def warning_lines(analysis: Analysis) -> list[str]:
    return [f"{layer.name}: {w}" for layer in analysis.layers for w in layer.warnings]


def title(analysis: Analysis) -> str:
    return f"{analysis.name} — input {fmt_shape(analysis.input_shape)}"


def to_text(analysis: Analysis) -> str:
    header, layer_rows = table_rows(analysis)
    input_row = ["input", "", fmt_shape(analysis.input_shape), "", "", "1", "", ""]
    if len(header) > len(COLUMNS):
        input_row.insert(2, "")
    rows = [header, tuple(input_row), *layer_rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(width) if header[i] in _RIGHT else cell.ljust(width)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule_width = sum(widths) + 2 * (len(widths) - 1)
    out = [title(analysis), "=" * rule_width, line(rows[0]), "-" * rule_width]
    out += [line(row) for row in rows[1:]]
    out.append("=" * rule_width)
    label_width = max(len(label) for label, _ in summary_lines(analysis)) + 1
    out += [f"{label + ':':<{label_width}} {value}" for label, value in summary_lines(analysis)]
    warnings = warning_lines(analysis)
    if warnings:
        out.append("")
        out.append(f"Warnings ({len(warnings)}):")
        out += [f"  {w}" for w in warnings]
    return "\n".join(out) + "\n"


def _md_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def to_markdown(analysis: Analysis) -> str:
    header, rows = table_rows(analysis)
    out = [f"### {_md_cell(title(analysis))}", ""]
    out.append("| " + " | ".join(header) + " |")
    out.append("| " + " | ".join("---:" if c in _RIGHT else "---" for c in header) + " |")
    for row in rows:
        out.append("| " + " | ".join(_md_cell(cell) for cell in row) + " |")
    out.append("")
    out += [f"- **{label}:** {value}" for label, value in summary_lines(analysis)]
    warnings = warning_lines(analysis)
    if warnings:
        out += ["", "**Warnings**", ""] + [f"- {_md_cell(w)}" for w in warnings]
    return "\n".join(out) + "\n"


CSV_FIELDS = (
    "name",
    "kind",
    "output_shape",
    "params",
    "trainable_params",
    "non_trainable_params",
    "macs",
    "flops",
    "activation_bytes",
    "param_bytes",
    "receptive_field",
    "formula",
    "params_formula",
    "warnings",
)


def to_csv(analysis: Analysis) -> str:
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_FIELDS)
    for layer in analysis.layers:
        writer.writerow(
            (
                layer.name,
                layer.kind,
                "x".join(map(str, layer.output_shape)),
                layer.params,
                layer.trainable_params,
                layer.non_trainable_params,
                layer.macs,
                layer.flops,
                layer.activation_bytes,
                layer.param_bytes,
                receptive_field_text(layer),
                layer.formula,
                layer.params_formula,
                "; ".join(layer.warnings),
            )
        )
    return buffer.getvalue()


def to_json(analysis: Analysis) -> str:
    import json

    return json.dumps(analysis.to_dict(), indent=2, ensure_ascii=False) + "\n"


RENDERERS = {
    TableFormat.TEXT: to_text,
    TableFormat.MARKDOWN: to_markdown,
    TableFormat.CSV: to_csv,
    TableFormat.JSON: to_json,
}


def render_table(analysis: Analysis, fmt: TableFormat | str = TableFormat.TEXT) -> str:
    fmt = TableFormat(fmt)
    if fmt is TableFormat.HTML:
        from .html import to_html  # jinja2 is imported only for HTML

        return to_html(analysis)
    return RENDERERS[fmt](analysis)
