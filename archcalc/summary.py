"""What every tabular view of an analysis says: its columns and rows, title, totals and warnings.

The text, Markdown, CSV and HTML views all read these, so they cannot disagree.
"""

from __future__ import annotations

from .engine import Analysis, FlopMode, LayerResult
from .format import fmt_pair, fmt_shape, fmt_shapes, human, megabytes
from .spec import BlockSpec

COLUMNS = ("Layer", "Kind", "Output shape", "Params", "MACs", "RF", "Shape arithmetic", "Param arithmetic")
RIGHT_ALIGNED = {"Params", "MACs", "RF"}


def receptive_field_text(layer: LayerResult) -> str:
    rf = layer.receptive_field
    return "all" if rf is None else fmt_pair(rf.size)


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


def block_row(block: BlockSpec, layers: list[LayerResult]) -> tuple[str, ...]:
    """One row for a whole repeat block: its output, summed counts, and its parameters per repetition."""
    first, last = layers[0], layers[-1]
    params, macs = sum(layer.params for layer in layers), sum(layer.macs for layer in layers)
    per = [
        sum(layer.params for layer in layers[i : i + block.per_repetition])
        for i in range(0, len(layers), block.per_repetition)
    ]
    params_text = f"{block.repeat} × {per[0]:,} = {params:,}" if len(set(per)) == 1 else f"{params:,}"
    return (
        block.name,
        f"repeat ×{block.repeat}",
        fmt_shape(last.output_shape),
        f"{params:,}",
        f"{macs:,}",
        receptive_field_text(last),
        f"{fmt_shapes(first.input_shapes)} → {fmt_shape(last.output_shape)} ({len(layers)} layers)",
        params_text,
    )


def table_rows(analysis: Analysis, collapse: bool = False) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """Header and rows: a row per layer, or per top-level repeat block with `collapse`; an Inputs
    column only when the network branches."""
    starts = {block.first: block for block in analysis.spec.blocks if block.parent is None} if collapse else {}
    rows: list[tuple[str, ...]] = []
    inputs: list[tuple[str, ...]] = []
    index = 0
    while index < len(analysis.layers):
        layer = analysis.layers[index]
        block = starts.get(index)
        if block is None:
            rows.append(layer_row(layer))
            index += 1
        else:
            rows.append(block_row(block, analysis.layers[block.first : block.last + 1]))
            index = block.last + 1
        inputs.append(layer.inputs)
    if not branched(analysis):
        return COLUMNS, rows
    header = COLUMNS[:2] + ("Inputs",) + COLUMNS[2:]
    return header, [row[:2] + (", ".join(names),) + row[2:] for row, names in zip(rows, inputs, strict=True)]


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
