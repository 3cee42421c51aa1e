"""What every tabular view of an analysis says: its columns and rows, title, totals and warnings.

The text, Markdown, CSV and HTML views all read these, so they cannot disagree.
"""

from __future__ import annotations

from .counters import counted_of
from .engine import Analysis, FlopMode, LayerResult
from .format import fmt_pair, fmt_shape, fmt_shapes, human, megabytes
from .i18n import Lang, Message, Phrase, say, translated, word
from .spec import BlockSpec

COLUMNS = ("Layer", "Kind", "Output shape", "Params", "MACs", "RF", "Shape arithmetic", "Param arithmetic")
RIGHT_ALIGNED = {"Params", "MACs", "RF"}
# The columns' headers in words, per language (COLUMNS and --columns name them in English).
COLUMN_TITLES: dict[str, Message] = {
    "Layer": {"en": "Layer", "zh": "层"},
    "Kind": {"en": "Kind", "zh": "类型"},
    "Inputs": {"en": "Inputs", "zh": "输入"},
    "Output shape": {"en": "Output shape", "zh": "输出形状"},
    "Params": {"en": "Params", "zh": "参数"},
    "MACs": {"en": "MACs", "zh": "乘加次数"},
    "RF": {"en": "RF", "zh": "感受野"},
    "Shape arithmetic": {"en": "Shape arithmetic", "zh": "形状计算"},
    "Param arithmetic": {"en": "Param arithmetic", "zh": "参数计算"},
}
ALL = word("all", "全部")  # a receptive field that is the whole input
INPUT = word("input", "输入")  # the input's row
REPEAT = {"en": "repeat ×{count}", "zh": "重复 ×{count}"}
BLOCK_SHAPES = {"en": "{first} → {last} ({count} layers)", "zh": "{first} → {last}（{count} 层）"}


def column_title(name: str, lang: Lang = Lang.EN, analysis: Analysis | None = None) -> str:
    """A column's header in `lang` (`name` is its English name, as in COLUMNS); under a counter's
    convention (``--convention``) the MACs column takes the counter's word: ``flops (fvcore)``."""
    counted = counted_of(analysis) if analysis is not None else None
    if counted is not None and name == "MACs":
        return counted.convention.column
    return say(COLUMN_TITLES[name], lang) if name in COLUMN_TITLES else name


def kind_text(layer: LayerResult, lang: Lang = Lang.EN) -> str:
    """The Kind column: the kind's spec name in English, its name in words in other languages."""
    title = layer.definition.title
    return layer.kind if lang is Lang.EN or not title else say(title, lang)


def receptive_field_text(layer: LayerResult, lang: Lang = Lang.EN) -> str:
    rf = layer.receptive_field
    return ALL.said(lang) if rf is None else fmt_pair(rf.size)


def layer_row(layer: LayerResult, lang: Lang = Lang.EN) -> tuple[str, ...]:
    return (
        layer.name,
        kind_text(layer, lang),
        fmt_shape(layer.output_shape),
        f"{layer.params:,}",
        f"{layer.macs:,}",
        receptive_field_text(layer, lang),
        translated(layer.formula, lang),
        translated(layer.params_formula, lang),
    )


def branched(analysis: Analysis) -> bool:
    """Does any layer read something other than the layer before it?"""
    previous = "input"
    for layer in analysis.layers:
        if layer.inputs != (previous,):
            return True
        previous = layer.name
    return False


def block_row(block: BlockSpec, layers: list[LayerResult], lang: Lang = Lang.EN) -> tuple[str, ...]:
    """One row for a whole repeat block: its output, summed counts, and its parameters per repetition."""
    first, last = layers[0], layers[-1]
    params, macs = sum(layer.params for layer in layers), sum(layer.macs for layer in layers)
    per = [
        sum(layer.params for layer in layers[i : i + block.per_repetition])
        for i in range(0, len(layers), block.per_repetition)
    ]
    params_text = f"{block.repeat} × {per[0]:,} = {params:,}" if len(set(per)) == 1 else f"{params:,}"
    shapes = Phrase(BLOCK_SHAPES, first=fmt_shapes(first.input_shapes), last=fmt_shape(last.output_shape),
                    count=len(layers))  # fmt: skip
    return (
        block.name,
        say(REPEAT, lang, count=block.repeat),
        fmt_shape(last.output_shape),
        f"{params:,}",
        f"{macs:,}",
        receptive_field_text(last, lang),
        shapes.said(lang),
        params_text,
    )


def table_rows(
    analysis: Analysis, collapse: bool = False, lang: Lang = Lang.EN
) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """Header (English column names: see ``column_title``) and rows (in `lang`): a row per layer, or
    per top-level repeat block with `collapse`; an Inputs column only when the network branches."""
    starts = {block.first: block for block in analysis.spec.blocks if block.parent is None} if collapse else {}
    rows: list[tuple[str, ...]] = []
    inputs: list[tuple[str, ...]] = []
    spans: list[range] = []  # the layers of each row
    index = 0
    while index < len(analysis.layers):
        layer = analysis.layers[index]
        block = starts.get(index)
        if block is None:
            rows.append(layer_row(layer, lang))
            index += 1
        else:
            rows.append(block_row(block, analysis.layers[block.first : block.last + 1], lang))
            index = block.last + 1
        inputs.append(layer.inputs)
        spans.append(range(len(spans) and spans[-1].stop, index))
    rows = _counted_cells(analysis, rows, spans)
    if not branched(analysis):
        return COLUMNS, rows
    header = COLUMNS[:2] + ("Inputs",) + COLUMNS[2:]
    return header, [row[:2] + (", ".join(names),) + row[2:] for row, names in zip(rows, inputs, strict=True)]


def _counted_cells(analysis: Analysis, rows: list[tuple[str, ...]], spans: list[range]) -> list[tuple[str, ...]]:
    """Under a counter's convention the MACs cells hold the counter's numbers (summed over a block)."""
    counted = counted_of(analysis)
    if counted is None:
        return rows
    values = [item.count.value for item in counted.layers]
    at = COLUMNS.index("MACs")
    return [
        row[:at] + (f"{sum(values[i] for i in span):,}",) + row[at + 1 :] for row, span in zip(rows, spans, strict=True)
    ]


def parse_columns(text: str) -> tuple[str, ...]:
    """``layer,params,macs`` → the table's column names, in that order (any case); an unknown one is
    an OptionError listing those that exist."""
    from .errors import OptionError

    known = {name.lower(): name for name in (*COLUMNS, "Inputs")}
    wanted = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [part for part in wanted if part not in known]
    if unknown or not wanted:
        allowed = ", ".join(name.lower() for name in (*COLUMNS, "Inputs"))
        raise OptionError(f"unknown column {unknown[0] if unknown else text!r}; allowed: {allowed}", option="--columns")
    return tuple(known[part] for part in wanted)


def select_columns(
    header: tuple[str, ...], rows: list[tuple[str, ...]], columns: tuple[str, ...] | None
) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """Only `columns` (those the table has), in their order; all of them without a choice."""
    if columns is None:
        return header, rows
    keep = [header.index(name) for name in columns if name in header]
    return tuple(header[i] for i in keep), [tuple(row[i] for i in keep) for row in rows]


FLOP_NOTES: dict[FlopMode, Message] = {
    FlopMode.MATMUL: {
        "en": "2 × MACs of conv/linear, as torch.utils.flop_counter counts",
        "zh": "卷积与全连接层 MACs 的 2 倍，与 torch.utils.flop_counter 的计法相同",
    },
    FlopMode.ALL: {
        "en": "2 × MACs plus bias, activation, pooling, normalisation and merge operations",
        "zh": "MACs 的 2 倍，另加偏置、激活、池化、归一化与合并运算",
    },
}
SUMMARY_LABELS: dict[str, Message] = {
    "params": {"en": "Total params", "zh": "参数总数"},
    "trainable": {"en": "Trainable params", "zh": "可训练参数"},
    "non_trainable": {"en": "Non-trainable params", "zh": "不可训练参数"},
    "macs": {"en": "Total MACs", "zh": "乘加总数 (MACs)"},
    "flops": {"en": "Total FLOPs", "zh": "浮点运算总数 (FLOPs)"},
    "input": {"en": "Input size ({dtype})", "zh": "输入大小 ({dtype})"},
    "activations": {"en": "Activations ({dtype})", "zh": "激活值 ({dtype})"},
    "param_bytes": {"en": "Params size ({dtype})", "zh": "参数大小 ({dtype})"},
}
PER_SAMPLE = {"en": "{size} per sample (all layer outputs)", "zh": "每个样本 {size}（所有层的输出）"}
TITLE = {"en": "{name} — input {shape}", "zh": "{name} — 输入 {shape}"}


def flop_note(analysis: Analysis, lang: Lang = Lang.EN) -> str:
    return say(FLOP_NOTES[analysis.flop_mode], lang)


def summary_lines(analysis: Analysis, lang: Lang = Lang.EN) -> list[tuple[str, str]]:
    t = analysis.totals
    dtype = analysis.dtype.value

    def label(key: str) -> str:
        return say(SUMMARY_LABELS[key], lang, dtype=dtype)

    counts = [
        (label("macs"), f"{t.macs:,} ({human(t.macs)})"),
        (label("flops"), f"{t.flops:,} ({human(t.flops)}; {flop_note(analysis, lang)})"),
    ]
    return [
        (label("params"), f"{t.params:,}"),
        (label("trainable"), f"{t.trainable_params:,}"),
        (label("non_trainable"), f"{t.non_trainable_params:,}"),
        *_counted_lines(analysis, counts, lang),
        (label("input"), megabytes(t.input_bytes)),
        (label("activations"), say(PER_SAMPLE, lang, size=megabytes(t.activation_bytes))),
        (label("param_bytes"), megabytes(t.param_bytes)),
    ]


COUNTED_LABELS: dict[str, Message] = {
    "total": {"en": "Total {column}", "zh": "{column} 总数"},
    "as": {"en": "as {source}", "zh": "按 {source}"},
    "own": {"en": "archcalc MACs", "zh": "archcalc 的 MACs"},
    "why": {
        "en": "archcalc conventions SPEC shows the rules behind the difference",
        "zh": "差别背后的规则见 archcalc conventions SPEC",
    },
}


def _counted_lines(analysis: Analysis, own: list[tuple[str, str]], lang: Lang = Lang.EN) -> list[tuple[str, str]]:
    """The totals' count lines: archcalc's own, or the counter's total and archcalc's MACs beside it."""
    counted = counted_of(analysis)
    if counted is None:
        return own
    from .conventions import rule_text  # the rules load only when a counter's numbers are shown

    total, convention = counted.total, counted.convention
    source = say(COUNTED_LABELS["as"], lang, source=rule_text(convention.source, lang))
    return [
        (say(COUNTED_LABELS["total"], lang, column=convention.column), f"{total:,} ({human(total)}; {source})"),
        (say(COUNTED_LABELS["own"], lang), f"{analysis.totals.macs:,} ({say(COUNTED_LABELS['why'], lang)})"),
    ]


def warning_lines(analysis: Analysis, lang: Lang = Lang.EN) -> list[str]:
    return [f"{layer.name}: {translated(w, lang)}" for layer in analysis.layers for w in layer.warnings]


def title(analysis: Analysis, lang: Lang = Lang.EN) -> str:
    return say(TITLE, lang, name=analysis.name, shape=fmt_shape(analysis.input_shape))
