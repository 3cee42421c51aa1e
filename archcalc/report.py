"""Plain-text renderings of an Analysis: aligned text, Markdown, CSV and JSON (no heavy imports)."""

from __future__ import annotations

import enum
from typing import Any

from .counters import Convention, counted_of, parse_convention
from .engine import Analysis, LayerResult
from .errors import OptionError
from .format import Notation, fmt_shape, parse_notation, shape_notation
from .i18n import Lang, display_width, pad, resolve_lang, say, translated
from .summary import (
    INPUT,
    RIGHT_ALIGNED,
    column_title,
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


WARNINGS_HEADING = {"en": "Warnings ({count}):", "zh": "警告（{count} 条）："}
WARNINGS_TITLE = {"en": "Warnings", "zh": "警告"}
COLON = {"en": ":", "zh": "："}


def to_text(
    analysis: Analysis, collapse: bool = False, columns: tuple[str, ...] | None = None, lang: Lang = Lang.EN
) -> str:
    header, layer_rows = select_columns(*table_rows(analysis, collapse, lang), columns)
    input_cells = {"Layer": INPUT.said(lang), "Output shape": fmt_shape(analysis.input_shape), "RF": "1"}
    input_row = tuple(input_cells.get(name, "") for name in header)
    rows = [tuple(column_title(name, lang, analysis) for name in header), input_row, *layer_rows]
    # display columns, not characters: a CJK character takes two
    widths = [max(display_width(row[i]) for row in rows) for i in range(len(header))]

    def line(row: tuple[str, ...]) -> str:
        cells = [
            pad(cell, width, right=header[i] in RIGHT_ALIGNED)
            for i, (cell, width) in enumerate(zip(row, widths, strict=True))
        ]
        return "  ".join(cells).rstrip()

    rule_width = sum(widths) + 2 * (len(widths) - 1)
    out = [title(analysis, lang), "=" * rule_width, line(rows[0]), "-" * rule_width]
    out += [line(row) for row in rows[1:]]
    out.append("=" * rule_width)
    summary = summary_lines(analysis, lang)
    label_width = max(display_width(label) for label, _ in summary) + display_width(say(COLON, lang))
    colon = say(COLON, lang)
    out += [f"{pad(label + colon, label_width)} {value}" for label, value in summary]
    warnings = warning_lines(analysis, lang)
    if warnings:
        out.append("")
        out.append(say(WARNINGS_HEADING, lang, count=len(warnings)))
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


def to_markdown(
    analysis: Analysis, collapse: bool = False, columns: tuple[str, ...] | None = None, lang: Lang = Lang.EN
) -> str:
    header, rows = select_columns(*table_rows(analysis, collapse, lang), columns)
    out = [f"### {_md_cell(title(analysis, lang))}", ""]
    out.append("| " + " | ".join(column_title(name, lang, analysis) for name in header) + " |")
    out.append("| " + " | ".join("---:" if c in RIGHT_ALIGNED else "---" for c in header) + " |")
    for row in rows:
        out.append("| " + " | ".join(_md_cell(cell) for cell in row) + " |")
    out.append("")
    out += [f"- **{label}:** {value}" for label, value in summary_lines(analysis, lang)]
    warnings = warning_lines(analysis, lang)
    if warnings:
        out += ["", f"**{say(WARNINGS_TITLE, lang)}**", ""] + [f"- {_md_cell(w)}" for w in warnings]
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


def _rule(count: Any, lang: Lang) -> str:
    """A counted layer's rule in `lang` (the rules load only when a counter's numbers are shown)."""
    from .conventions import rule_text

    return rule_text(count.rule, lang)


def to_csv(analysis: Analysis, lang: Lang = Lang.EN) -> str:
    """One row per layer; the field names and kind names stay as the JSON contract writes them, the
    words of the cells (a receptive field of ``all``, warnings) are in `lang`."""
    import csv
    import io

    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    counted = counted_of(analysis)
    counts = counted.counts() if counted is not None else {}
    writer.writerow(CSV_FIELDS + (("counted", "counted_rule") if counted is not None else ()))
    for layer in analysis.layers:
        count = counts.get(layer.name)
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
                receptive_field_text(layer, lang),
                translated(layer.formula, lang),
                translated(layer.params_formula, lang),
                "; ".join(translated(w, lang) for w in layer.warnings),
            )
            + ((count.value, _rule(count, lang)) if count is not None else ())
        )
    return buffer.getvalue()


def to_json(analysis: Analysis, lang: Lang = Lang.EN) -> str:
    """The JSON contract (``Analysis.to_dict``), written one layer at a time: the same text as one
    ``json.dumps(..., indent=2)``, with memory in proportion to the output. Keys and kind names are
    the contract's in every language; `lang` says the warnings and parameter arithmetic."""
    import json

    head = analysis.to_dict(layers=False)
    head["layers"] = []
    counted = counted_of(analysis)
    counts = counted.counts() if counted is not None else {}
    text = json.dumps(head, indent=2, ensure_ascii=False)

    def record(layer: LayerResult) -> dict[str, Any]:
        fields = layer.to_dict()
        if lang is not Lang.EN:
            fields["warnings"] = [translated(w, lang) for w in layer.warnings]
            fields["params_formula"] = translated(layer.params_formula, lang)
            fields["formula"] = translated(layer.formula, lang)
        if layer.name in counts:  # --convention: the counter's number and its rule
            count = counts[layer.name]
            fields["counted"], fields["counted_rule"] = count.value, _rule(count, lang)
        return fields

    layers = ",\n".join(
        "    " + json.dumps(record(layer), indent=2, ensure_ascii=False).replace("\n", "\n    ")
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
    lang: Lang | str = Lang.EN,
    convention: Convention | str = Convention.ARCHCALC,
    notation: Notation | str = Notation.CHW,
) -> str:
    """The table in `fmt`, its words in `lang`. For text and Markdown: `collapse` shows each top-level
    repeat block as one row, `columns` chooses the columns (see ``summary.parse_columns``).
    `convention`: whose MACs/FLOPs the table shows (``archcalc.conventions``); `notation`: how
    shapes are written, in the table and in the figure on the HTML page."""
    with shape_notation(parse_notation(notation)):
        return _table_text(analysis, fmt, collapse, columns, lang, convention)


def _table_text(
    analysis: Analysis,
    fmt: TableFormat | str,
    collapse: bool,
    columns: tuple[str, ...] | None,
    lang: Lang | str,
    convention: Convention | str,
) -> str:
    fmt = TableFormat(fmt)
    lang = resolve_lang(lang)
    if parse_convention(convention) is not Convention.ARCHCALC:  # the rules load only for another counter
        from .conventions import recounted

        analysis = recounted(analysis, convention)
    for option, given in (("--collapse", collapse), ("--columns", columns is not None)):
        if given and fmt not in COLLAPSIBLE:
            raise OptionError(f"shapes text and markdown tables; {fmt} keeps every field of every layer", option=option)
    if fmt is TableFormat.HTML:
        from .html import to_html  # jinja2 is imported only for HTML

        return to_html(analysis, lang)
    if fmt in COLLAPSIBLE:
        return RENDERERS[fmt](analysis, collapse=collapse, columns=columns, lang=lang)  # type: ignore[call-arg]
    return RENDERERS[fmt](analysis, lang=lang)  # type: ignore[call-arg]
