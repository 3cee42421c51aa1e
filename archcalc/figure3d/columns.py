"""The network as the figure sees it: one column per drawn block, with what labels it.

Each layer's kind says whether it is a block of its own, a note on the previous block or not
drawn at all (``Kind.appearance``), its colour role and its caption; nothing here names a kind.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..engine import Analysis, LayerResult
from ..kinds import Appearance
from ..palette import Role
from ..spec import INPUT_NAME


@dataclass
class Column:
    """One drawn block (split into streams when the network is) and what labels it."""

    layer: LayerResult | None  # None: the network input
    role: Role
    shape: tuple[int, ...]
    name: str
    op: str
    notes: list[str] = field(default_factory=list)
    streams: int = 1
    cross: bool = False  # reads every stream of its input (an ungrouped layer between split maps)
    sources: list[int] = field(default_factory=list)


def dims_text(shape: tuple[int, ...]) -> str:
    return f"{shape[1]}×{shape[2]}×{shape[0]}" if len(shape) == 3 else f"{shape[0]:,}"


def _stream_count(analysis: Analysis) -> int:
    """AlexNet's two GPUs: a chain network whose grouped channel-mixing layers all use the same group count."""
    groups = {layer.definition.groups(layer) for layer in analysis.layers if layer.definition.mixes_channels}
    groups.discard(1)
    chain = all(len(layer.inputs) == 1 for layer in analysis.layers)
    return groups.pop() if chain and len(groups) == 1 else 1


def _draws_block(layer: LayerResult) -> bool:
    return layer.definition.appearance is Appearance.BLOCK or len(layer.inputs) > 1


def columns_of(analysis: Analysis) -> list[Column]:
    streams = _stream_count(analysis)
    columns = [Column(None, Role.INPUT, analysis.input_shape, INPUT_NAME, "")]
    column_of: dict[str, int] = {INPUT_NAME: 0}
    blocks = [layer for layer in analysis.layers if _draws_block(layer)]
    last_dense = blocks[-1].name if blocks and blocks[-1].definition.role is Role.DENSE else None
    for layer in analysis.layers:
        kind = layer.definition
        if not _draws_block(layer):  # a note on the block it reads, or nothing at all
            index = column_of[layer.inputs[0]]
            column_of[layer.name] = index
            note = kind.annotation(layer) if kind.appearance is Appearance.ANNOTATION else ""
            if note and note not in columns[index].notes:
                columns[index].notes.append(note)
            continue
        sources = sorted({column_of[name] for name in layer.inputs})
        role = Role.OUTPUT if layer.name == last_dense else (kind.role or Role.MERGE)
        column = Column(layer, role, layer.output_shape, layer.name, kind.caption(layer), sources=sources)
        if streams > 1 and role is not Role.OUTPUT:
            column.streams = streams
            source_streams = columns[sources[0]].streams
            column.cross = source_streams > 1 and kind.groups(layer) == 1 and kind.mixes_channels
        columns.append(column)
        column_of[layer.name] = len(columns) - 1
    return columns
