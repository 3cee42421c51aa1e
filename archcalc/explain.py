"""``archcalc explain``: every stage laid out as a teacher lays it out on the board.

Input size, kernel (size × depth per group), stride, padding, number of kernels, output size with its
arithmetic, biases, parameters with theirs, MACs, receptive field, then the teacher's notes: what a
division that is not exact drops, ceil_mode, SAME's uneven padding, the two-GPU split. Every row
comes from the kind (``stage``, ``bias_count``, ``notes``) and the engine; this module only lays
them out, as text, Markdown or an HTML page, in English or Chinese.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from .engine import Analysis, LayerResult
from .errors import OptionError
from .format import fmt_number, fmt_pair, fmt_shape, fmt_shapes
from .i18n import WORKED_OUT, Lang, Phrase, display_width, pad, resolve_lang, say, translated, word, wrap
from .kinds.stage_notes import Rows
from .summary import title


class ExplainFormat(enum.StrEnum):
    TEXT = "text"
    MARKDOWN = "markdown"
    HTML = "html"


RECEPTIVE_FIELD = {
    "en": "{size}×{size_w} px, jump {jump}, centre of the first at {start}",
    "zh": "{size}×{size_w} 像素，相邻输出间隔 {jump}，第一个的中心在 {start}",
}
WHOLE_INPUT = word("the whole input", "整个输入")
WARNING = {"en": "warning: {text}", "zh": "警告：{text}"}
NOTES = word("Notes", "说明")
NOTES_HEADING = word("Notes:", "说明：")
TEXT_WIDTH = 100  # the text view's notes are wrapped to this many display columns
NO_LAYER = {
    "en": "no layer named {name!r} in {network}; layers: {names}",
    "zh": "{network} 中没有名为 {name!r} 的层；可选的层：{names}",
}


@dataclass(frozen=True, slots=True)
class Stage:
    """One layer laid out: its heading, its rows (label, value) and its notes, all in one language."""

    name: str
    kind: str  # the kind's name as written in a spec
    title: str  # the kind's name in words, in the language
    rows: list[tuple[str, str]]
    notes: list[str]


def kind_title(layer: LayerResult, lang: Lang) -> str:
    """The kind in words (``convolution``, ``卷积``); its spec name where it declares none."""
    title = layer.definition.title
    return say(title, lang) if title else layer.kind


def _receptive_field(layer: LayerResult) -> str:
    rf = layer.receptive_field
    if rf is None:
        return WHOLE_INPUT
    size_h, size_w = rf.size
    return Phrase(
        RECEPTIVE_FIELD,
        size=fmt_number(size_h),
        size_w=fmt_number(size_w),
        jump=fmt_pair(rf.jump),
        start=", ".join(dict.fromkeys(fmt_number(v) for v in rf.start)),
    )


def stage_rows(layer: LayerResult) -> list[tuple[str, str]]:
    """The rows of one stage, in English (each a Phrase where it has words to translate)."""
    kind = layer.definition
    rows: list[tuple[str, str]] = [(Rows.input, fmt_shapes(layer.input_shapes))]
    rows += kind.stage(layer)
    output = fmt_shape(layer.output_shape)
    rows.append((Rows.output, Phrase(WORKED_OUT, formula=layer.formula, output=output) if layer.formula else output))
    biases = kind.bias_count(layer)
    if biases is not None:
        rows.append((Rows.biases, f"{biases:,}"))
    rows.append((Rows.parameters, layer.params_formula or f"{layer.params:,}"))
    if layer.macs:
        rows.append((Rows.macs, f"{layer.macs:,}"))
    rows.append((Rows.receptive_field, _receptive_field(layer)))
    return rows


def stage(layer: LayerResult, lang: Lang = Lang.EN) -> Stage:
    rows = [(translated(label, lang), translated(value, lang)) for label, value in stage_rows(layer)]
    # A kind's notes say what its warnings say, and more; a kind without notes shows its warnings.
    notes = layer.definition.notes(layer) or [Phrase(WARNING, text=warning) for warning in layer.warnings]
    notes = [translated(note, lang) for note in notes]
    return Stage(layer.name, layer.kind, kind_title(layer, lang), rows, notes)


def chosen_layers(analysis: Analysis, names: Sequence[str] | None, lang: Lang = Lang.EN) -> list[LayerResult]:
    """The layers named (in the order given), or all of them; an unknown name is an OptionError listing them."""
    if not names:
        return list(analysis.layers)
    for name in names:
        if name not in analysis.by_name:
            known = ", ".join(layer.name for layer in analysis.layers)
            message = say(NO_LAYER, lang, name=name, network=analysis.name, names=known)
            raise OptionError(message, option="LAYER")
    return [analysis[name] for name in names]


def to_text(analysis: Analysis, stages: list[Stage], lang: Lang) -> str:
    out = [title(analysis, lang)]
    for one in stages:
        out += ["", f"{one.name} — {one.title} ({one.kind})"]
        width = max(display_width(label) for label, _ in one.rows) + 2
        out += [f"  {pad(label, width)}{value}".rstrip() for label, value in one.rows]
        if one.notes:
            out.append(f"  {NOTES_HEADING.said(lang)}")
            for note in one.notes:
                first, *rest = wrap(note, TEXT_WIDTH - 4)
                out += [f"  - {first}", *(f"    {line}" for line in rest)]
    return "\n".join(out) + "\n"


def to_markdown(analysis: Analysis, stages: list[Stage], lang: Lang) -> str:
    from .report import _md_cell

    out = [f"## {_md_cell(title(analysis, lang))}"]
    for one in stages:
        out += ["", f"### {_md_cell(one.name)} — {_md_cell(one.title)} (`{one.kind}`)", ""]
        out += [f"- **{_md_cell(label)}:** {_md_cell(value)}" for label, value in one.rows]
        if one.notes:
            out += ["", f"**{NOTES.said(lang)}**", ""]
            out += [f"- {_md_cell(note)}" for note in one.notes]
    return "\n".join(out) + "\n"


def to_html(analysis: Analysis, stages: list[Stage], lang: Lang) -> str:
    from .templating import render

    return render(
        "explain.html.j2",
        title=title(analysis, lang),
        spec=analysis.spec,
        stages=stages,
        notes_label=NOTES.said(lang),
        lang="zh-CN" if lang is Lang.ZH else "en",
    )


RENDERERS = {ExplainFormat.TEXT: to_text, ExplainFormat.MARKDOWN: to_markdown, ExplainFormat.HTML: to_html}


def explain(
    analysis: Analysis,
    layers: Sequence[str] | None = None,
    fmt: ExplainFormat | str = ExplainFormat.TEXT,
    lang: Lang | str | None = None,
) -> str:
    """Each stage of `analysis` (only `layers`, in their order, when given) as text, Markdown or
    HTML, in `lang` (default: ``ARCHCALC_LANG``, else English)."""
    chosen_lang = resolve_lang(lang)
    try:
        chosen_fmt = ExplainFormat(fmt)
    except ValueError:
        allowed = ", ".join(f.value for f in ExplainFormat)
        raise OptionError(f"unknown format {fmt!r}; allowed: {allowed}", option="--format") from None
    stages = [stage(layer, chosen_lang) for layer in chosen_layers(analysis, layers, chosen_lang)]
    return RENDERERS[chosen_fmt](analysis, stages, chosen_lang)
