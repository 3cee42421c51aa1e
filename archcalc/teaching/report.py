"""A graded table as text (the learner's table with ✓/✗ and one line per wrong cell), JSON for
autograders (stable keys) or a self-contained HTML page; words in English or Chinese."""

from __future__ import annotations

import json
from typing import Any

from ..errors import OptionError
from ..format import fmt_shape
from ..i18n import Lang, Message, display_width, pad, resolve_lang, say
from .formats import GradeFormat
from .grade import Cause, CellGrade, GradeResult, MatchedBy, Note, Status
from .mistakes import EVERY_LAYER
from .tables import Column

MARKS = {Status.RIGHT: "✓", Status.WRONG: "✗", Status.UNGRADED: "?"}

MESSAGES: dict[str, Message] = {
    "title": {"en": "Grading {table} against {spec} — input {input}", "zh": "批改 {table}，对照 {spec}（输入 {input}）"},
    "graded": {"en": "Graded columns: {columns}", "zh": "批改的列：{columns}"},
    "ignored": {"en": "; not graded: {columns}", "zh": "；不批改：{columns}"},
    "by_order": {
        "en": "No row names a layer: rows are matched in order to the layers with parameters or a change of shape.",
        "zh": "没有一行写出层名：按顺序对应到有参数或改变形状的层。",
    },
    "in_sequence": {
        "en": "Rows named by module class (a torchsummary or torchinfo summary) are matched in order to the layers of that kind; containers are left out.",
        "zh": "以模块类名命名的行（torchsummary 或 torchinfo 的输出）依次对应到该类的层；容器模块不计。",
    },
    "line": {"en": "Line", "zh": "行号"},
    "row": {"en": "Row", "zh": "行"},
    "layer": {"en": "Layer", "zh": "对应层"},
    "wrong": {"en": "Wrong ({count}):", "zh": "错误（{count} 处）："},
    "wrong_cell": {"en": "line {line}, {name}, {column}: {given} → {expected}", "zh": "第 {line} 行，{name}，{column}：{given} → 应为 {expected}"},
    "ungraded": {"en": "Not graded ({count}):", "zh": "未批改（{count} 处）："},
    "ungraded_cell": {"en": "line {line}, {name}, {column}: {given}", "zh": "第 {line} 行，{name}，{column}：{given}"},
    "named": {"en": "{row} ({layer})", "zh": "{row}（{layer}）"},
    "because": {"en": ": ", "zh": "："},
    "and": {"en": "; ", "zh": "；"},
    "no_cause": {"en": "no known mistake gives {given}", "zh": "没有哪种已知错误能得出 {given}"},
    "at": {"en": "{text} at {where}", "zh": "{text}（在 {where}）"},
    "detail": {"en": "{text} ({detail})", "zh": "{text}（{detail}）"},
    "every_layer": {"en": EVERY_LAYER, "zh": "在所有适用的层"},
    "summary": {"en": "Cells graded: {graded}; right: {right}, wrong: {wrong}", "zh": "共批改 {graded} 格：{right} 格正确，{wrong} 格错误"},
    "summary_ungraded": {"en": ", not graded: {count}", "zh": "，{count} 格未批改"},
    "derivation": {"en": "Derivation", "zh": "推导"},
    "failed": {"en": "{wrong} of {graded} graded cells are wrong", "zh": "批改的 {graded} 格中有 {wrong} 格错误"},
    "expected": {"en": "right:", "zh": "应为："},
}  # fmt: skip

NOTES: dict[str, Message] = {
    "unreadable": {"en": "not graded: {why}", "zh": "未批改：{why}"},
    "nothing_to_grade": {"en": "not graded: this layer has no such value", "zh": "未批改：这一层没有这一项"},
    "rounded": {
        "en": "a rounded number: only exact numbers are graded; it agrees with the exact {exact}",
        "zh": "这是取整后的数：只批改精确值；它与精确值 {exact} 相符",
    },
    "rounded_wrong": {
        "en": "a rounded number, and even rounded it is not the exact {exact}",
        "zh": "这是取整后的数，即使取整也与精确值 {exact} 不符",
    },
    "working_right": {
        "en": "the working {expression} gives {value}, which is right: the result was copied wrong",
        "zh": "算式 {expression} 得 {value}，这是对的：结果抄错了",
    },
    "working_differs": {"en": "the working {expression} gives {value}, not the result written", "zh": "算式 {expression} 得 {value}，与写下的结果不同"},
    "sum_of_rows": {
        "en": "it is the sum of the table's own numbers ({sum}): the mistakes are in the rows",
        "zh": "这是表中各行数字之和（{sum}）：错误在各行里",
    },
    "formula_input": {"en": "the formula starts from {given}, but the layer's input is {right}", "zh": "算式从 {given} 算起，但这一层的输入是 {right}"},
    "formula_value": {"en": "{expression} = {value}, not {given}", "zh": "{expression} = {value}，不是 {given}"},
    "formula_fraction": {
        "en": "{given} is not a whole size: a layer's output has a whole number of rows (here {right})",
        "zh": "{given} 不是整数：输出的行数必须是整数（这里是 {right}）",
    },
    "formula_result": {"en": "the result {given} is not the output size {right}", "zh": "结果 {given} 不是输出尺寸 {right}"},
}  # fmt: skip


def note_text(note: Note, lang: Lang) -> str:
    return say(NOTES[note.key], lang, **note.fields)


def cause_text(cause: Cause, lang: Lang) -> str:
    text = cause.mistake.describe(lang)
    if cause.where is not None:
        text = say(MESSAGES["at"], lang, text=text, where=cause.where)
    if cause.detail is not None:
        detail = say(MESSAGES["every_layer"], lang) if cause.detail == EVERY_LAYER else cause.detail
        text = say(MESSAGES["detail"], lang, text=text, detail=detail)
    return text


def _result_part(cell: CellGrade) -> str:
    """What the learner wrote as the result (after their working's '=')."""
    return cell.given.rpartition("=")[2].strip().rstrip("。.,，;；") or cell.given


def explanation(cell: CellGrade, lang: Lang) -> str:
    """Why the cell is wrong (or not graded): its causes, then what else was noticed."""
    parts = [cause_text(c, lang) for c in cell.causes]
    if cell.status is Status.WRONG and not cell.causes and not cell.notes:
        parts.append(say(MESSAGES["no_cause"], lang, given=_result_part(cell)))
    parts += [note_text(n, lang) for n in cell.notes]
    return say(MESSAGES["and"], lang).join(parts)


def _header(result: GradeResult, column: Any) -> str:
    return next(h for h, c in zip(result.table.header, result.table.columns, strict=True) if c is column)


def to_text(result: GradeResult, lang: Lang = Lang.EN) -> str:
    table, analysis = result.table, result.analysis
    words = lambda key, **f: say(MESSAGES[key], lang, **f)  # noqa: E731
    graded = [h for h, c in zip(table.header, table.columns, strict=True) if c is not None and c is not Column.LAYER]
    lines = [words("title", table=table.path, spec=analysis.name, input=fmt_shape(analysis.input_shape))]
    head = words("graded", columns=", ".join(graded))
    if table.ignored:
        head += words("ignored", columns=", ".join(table.ignored))
    lines.append(head)
    if any(m.by is MatchedBy.ORDER for m in result.matches):
        lines.append(words("by_order"))
    if any(m.by is MatchedBy.SEQUENCE for m in result.matches):
        lines.append(words("in_sequence"))
    lines += ["", *_marked_table(result, lang), ""]
    lines += _cell_lines(result, Status.WRONG, "wrong", "wrong_cell", lang)
    lines += _cell_lines(result, Status.UNGRADED, "ungraded", "ungraded_cell", lang)
    summary = words(
        "summary", graded=len(result.cells), right=result.count(Status.RIGHT), wrong=result.count(Status.WRONG)
    )
    if result.count(Status.UNGRADED):
        summary += words("summary_ungraded", count=result.count(Status.UNGRADED))
    lines.append(summary)
    return "\n".join(lines) + "\n"


def _marked_table(result: GradeResult, lang: Lang) -> list[str]:
    table = result.table
    shown = [i for i, c in enumerate(table.columns) if c is not None and c is not Column.LAYER]
    header = [say(MESSAGES["line"], lang), say(MESSAGES["row"], lang), say(MESSAGES["layer"], lang)]
    header += [table.header[i] for i in shown]
    body = []
    for match in result.matches:
        cells = [str(match.row.line), match.name, match.layer]
        for i in shown:
            grade = result.cell(match.row.line, table.columns[i])
            text = match.row.cells[i]
            cells.append(f"{text} {MARKS[grade.status]}" if grade is not None else text)
        body.append(cells)
    widths = [max(display_width(r[i]) for r in [header, *body]) for i in range(len(header))]
    return [
        "  ".join(pad(cell, widths[i], right=i == 0) for i, cell in enumerate(row)).rstrip() for row in [header, *body]
    ]


def _cell_lines(result: GradeResult, status: Status, heading: str, template: str, lang: Lang) -> list[str]:
    cells = [c for c in result.cells if c.status is status]
    if not cells:
        return []
    lines = [say(MESSAGES[heading], lang, count=len(cells))]
    for cell in cells:
        given = cell.given if cell.column is Column.ARITHMETIC else _result_part(cell)
        name = cell.row if cell.row == cell.layer else say(MESSAGES["named"], lang, row=cell.row, layer=cell.layer)
        where = say(
            MESSAGES[template], lang, line=cell.line, name=name, column=_header(result, cell.column), given=given,
            expected=cell.expected,
        )  # fmt: skip
        lines.append(f"  {where}{say(MESSAGES['because'], lang)}{explanation(cell, lang)}")
    return [*lines, ""]


def to_dict(result: GradeResult, lang: Lang | str | None = None) -> dict[str, Any]:
    """The stable JSON form: ids and values for programs, the words in `lang` for people."""
    lang = resolve_lang(lang)
    table = result.table
    return {
        "table": table.path,
        "spec": result.analysis.name,
        "input": list(result.analysis.input_shape),
        "layout": table.layout.value,
        "columns": [{"header": h, "column": c.value if c else None} for h, c in zip(table.header, table.columns, strict=True)],
        "rows": [{"line": m.row.line, "row": m.name, "layer": m.layer, "matched_by": m.by.value} for m in result.matches],
        "cells": [
            {
                "line": c.line, "row": c.row, "layer": c.layer, "column": c.column.value, "given": c.given,
                "status": c.status.value, "expected": c.expected,
                "causes": [
                    {"id": k.mistake.id, "where": k.where, "detail": k.detail, "text": cause_text(k, lang)}
                    for k in c.causes
                ],
                "notes": [{"id": n.key, "text": note_text(n, lang)} for n in c.notes],
            }
            for c in result.cells
        ],
        "summary": {
            "graded": len(result.cells), "right": result.count(Status.RIGHT), "wrong": result.count(Status.WRONG),
            "not_graded": result.count(Status.UNGRADED),
        },
        "ok": result.ok,
    }  # fmt: skip


def to_json(result: GradeResult, lang: Lang = Lang.EN) -> str:
    return json.dumps(to_dict(result, lang), ensure_ascii=False, indent=2) + "\n"


def to_html(result: GradeResult, lang: Lang = Lang.EN) -> str:
    from ..html import derivation
    from ..templating import render

    table = result.table
    shown = [i for i, c in enumerate(table.columns) if c is not None and c is not Column.LAYER]
    rows = []
    for match in result.matches:
        cells = []
        for i in shown:
            grade = result.cell(match.row.line, table.columns[i])
            cells.append(
                {
                    "text": match.row.cells[i],
                    "status": grade.status.name.lower() if grade else "blank",
                    "mark": MARKS[grade.status] if grade else "",
                    "expected": grade.expected if grade and grade.status is not Status.RIGHT else "",
                    "why": explanation(grade, lang) if grade and grade.status is not Status.RIGHT else "",
                }
            )
        layer = result.analysis.by_name.get(match.layer)
        rows.append({"match": match, "cells": cells, "derivation": derivation(layer, lang) if layer else []})
    words = {key: say(message, lang) for key, message in MESSAGES.items() if "{" not in message["en"]}
    summary = to_text(result, lang).rstrip("\n").splitlines()[-1]
    return render(
        "grade.html.j2", lang=lang.value, title=to_text(result, lang).splitlines()[0], headers=[table.header[i] for i in shown],
        rows=rows, words=words, summary=summary,
    )  # fmt: skip


def failure(result: GradeResult, lang: Lang = Lang.EN) -> str:
    """The one line a failed grading ends with (the CLI's exit 1)."""
    return say(MESSAGES["failed"], lang, wrong=len(result.wrong), graded=len(result.cells))


def render_grade(result: GradeResult, fmt: GradeFormat | str = GradeFormat.TEXT, lang: Lang | str | None = None) -> str:
    """The report in `fmt` (text, json, html), its words in `lang` (default: ARCHCALC_LANG, else English)."""
    renderers = {GradeFormat.TEXT: to_text, GradeFormat.JSON: to_json, GradeFormat.HTML: to_html}
    try:
        chosen = GradeFormat(str(fmt).lower())
    except ValueError:
        allowed = ", ".join(f.value for f in GradeFormat)
        raise OptionError(f"unknown format {fmt!r}; allowed: {allowed}", option="--format") from None
    return renderers[chosen](result, resolve_lang(lang))
