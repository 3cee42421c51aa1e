"""What every tabular view of an analysis says: its columns and rows, title, totals and warnings.

The text, Markdown, CSV and HTML views all read these, so they cannot disagree.
"""

from __future__ import annotations

from .engine import Analysis, FlopMode, LayerResult
from .format import fmt_pair, fmt_shape, human, megabytes

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
