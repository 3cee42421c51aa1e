"""Plain-text renderings of an Analysis: aligned text, Markdown, CSV and JSON (no heavy imports)."""

from __future__ import annotations

import enum

from .engine import Analysis
from .errors import OptionError
from .format import fmt_shape
from .summary import (
    RIGHT_ALIGNED,
    receptive_field_text,
    select_columns,
    summary_lines,
    table_rows,
    title,
    warning_lines,
)


class TableFormat(enum.StrEnum):
    TEXT = "text"
    MARKDOWN = "markdown"
    CSV = "csv"
    JSON = "json"
    HTML = "html"


TABLE_SUFFIXES = {
    "txt": TableFormat.TEXT, "text": TableFormat.TEXT, "md": TableFormat.MARKDOWN, "markdown": TableFormat.MARKDOWN,
    "csv": TableFormat.CSV, "json": TableFormat.JSON, "html": TableFormat.HTML, "htm": TableFormat.HTML,
}  # fmt: skip


def to_text(analysis: Analysis, collapse: bool = False, columns: tuple[str, ...] | None = None) -> str:
    header, layer_rows = select_columns(*table_rows(analysis, collapse), columns)
    input_cells = {"Layer": "input", "Output shape": fmt_shape(analysis.input_shape), "RF": "1"}
    input_row = tuple(input_cells.get(name, "") for name in header)
    rows = [header, input_row, *layer_rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        cells = [
            cell.rjust(width) if header[i] in RIGHT_ALIGNED else cell.ljust(width)
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
    """Table-cell text: pipes and backslashes escaped, raw HTML shown as text (entities)."""
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet would evaluate


def csv_text(text: str) -> str:
    """A text cell a spreadsheet shows as text: a leading formula character gets a ' (OWASP's rule)."""
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def to_markdown(analysis: Analysis, collapse: bool = False, columns: tuple[str, ...] | None = None) -> str:
    header, rows = select_columns(*table_rows(analysis, collapse), columns)
    out = [f"### {_md_cell(title(analysis))}", ""]
    out.append("| " + " | ".join(header) + " |")
    out.append("| " + " | ".join("---:" if c in RIGHT_ALIGNED else "---" for c in header) + " |")
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
                csv_text(layer.name),
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
    """The JSON contract (``Analysis.to_dict``), written one layer at a time: the same text as one
    ``json.dumps(..., indent=2)``, with memory in proportion to the output."""
    import json

    head = analysis.to_dict(layers=False)
    head["layers"] = []
    text = json.dumps(head, indent=2, ensure_ascii=False)
    layers = ",\n".join(
        "    " + json.dumps(layer.to_dict(), indent=2, ensure_ascii=False).replace("\n", "\n    ")
        for layer in analysis.layers
    )
    return text.replace('"layers": []', '"layers": [\n' + layers + "\n  ]", 1) + "\n"


RENDERERS = {
    TableFormat.TEXT: to_text,
    TableFormat.MARKDOWN: to_markdown,
    TableFormat.CSV: to_csv,
    TableFormat.JSON: to_json,
}


COLLAPSIBLE = (TableFormat.TEXT, TableFormat.MARKDOWN)


def render_table(
    analysis: Analysis,
    fmt: TableFormat | str = TableFormat.TEXT,
    collapse: bool = False,
    columns: tuple[str, ...] | None = None,
) -> str:
    """The table in `fmt`. For text and Markdown: `collapse` shows each top-level repeat block as
    one row, `columns` chooses the columns (see ``summary.parse_columns``)."""
    fmt = TableFormat(fmt)
    for option, given in (("--collapse", collapse), ("--columns", columns is not None)):
        if given and fmt not in COLLAPSIBLE:
            raise OptionError(f"shapes text and markdown tables; {fmt} keeps every field of every layer", option=option)
    if fmt is TableFormat.HTML:
        from .html import to_html  # jinja2 is imported only for HTML

        return to_html(analysis)
    if fmt in COLLAPSIBLE:
        return RENDERERS[fmt](analysis, collapse=collapse, columns=columns)  # type: ignore[call-arg]
    return RENDERERS[fmt](analysis)
