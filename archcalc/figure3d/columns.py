"""The network as the figure sees it: one column per drawn block, with what labels it.

Each layer's kind says whether it is a block of its own, a note on the previous block or not
drawn at all (``Kind.appearance``), its colour role and its caption; nothing here names a kind.
"""

from __future__ import annotations

import enum
import os
from collections import Counter
from dataclasses import dataclass, field, replace

from ..engine import Analysis, LayerResult
from ..format import Notation, fmt_shape
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
    depthwise: bool = False  # one kernel per input channel: drawn in slices
    fused: int = 1  # how many drawn blocks it stands for (a collapsed repeat block, run or branch region)
    details: list[str] = field(default_factory=list)  # lines under a collapsed block: its paths, its layers


class Collapse(enum.IntEnum):
    """How much of the network is drawn as one block, tried in this order until the figure fits."""

    NONE = 0  # every block
    REPEATS = 1  # a repeat block, or a run of identical blocks, drawn once: "×3"
    BRANCHES = 2  # also each branch region (a fork to its merge, up to MAX_REGION blocks) drawn once
    STAGES = 3  # instead of branch regions, each run of blocks named as one stage (down1.conv1, down1.conv2)


MAX_REGION = 12  # a longer region (U-Net's skips span the whole network) stays drawn out


def dims_text(shape: tuple[int, ...], notation: Notation | None = None) -> str:
    """A map's shape as the table writes it (C×H×W by default); a flat size with thousands separators."""
    return fmt_shape(shape, notation) if len(shape) == 3 else f"{shape[0]:,}"


def _stream_count(analysis: Analysis) -> int:
    """AlexNet's two GPUs: a chain network whose grouped channel-mixing layers all use the same group count."""
    groups = {layer.definition.groups(layer) for layer in analysis.layers if layer.definition.mixes_channels}
    groups.discard(1)
    chain = all(len(layer.inputs) == 1 for layer in analysis.layers)
    return groups.pop() if chain and len(groups) == 1 else 1


def _draws_block(layer: LayerResult) -> bool:
    return layer.definition.appearance is Appearance.BLOCK or len(layer.inputs) > 1


def columns_of(analysis: Analysis, collapse: Collapse = Collapse.NONE) -> list[Column]:
    """The drawn blocks in order (each after its sources), collapsed as asked."""
    columns = _expanded(analysis)
    if collapse >= Collapse.REPEATS:
        repeats = _repeat_groups(analysis, columns)
        inside = {i for members, _, _ in repeats for i in members}
        runs = [run for run in _runs(columns) if not inside.intersection(run[0])]
        columns = _fuse(columns, repeats + runs, _repeat_column)
    if collapse is Collapse.BRANCHES:
        columns = _fuse(columns, _branch_regions(columns), _region_column)
    if collapse is Collapse.STAGES:  # (U-Net: its long skips join whole stages)
        columns = _fuse(columns, _stages(columns), _stage_column)
    return columns


def _stage_of(name: str) -> str:
    """``down1`` for ``down1.conv1``; none for ``features.3`` (an index in a sequence, not a stage)."""
    stage, _, last = name.rpartition(".")
    return stage if stage and not last.isdigit() else ""


def _stages(columns: list[Column]) -> list[tuple[list[int], str, str]]:
    """Runs of consecutive blocks whose names share everything before the last dot (a stage)."""
    stages: list[tuple[list[int], str, str]] = []
    start = 1
    for i in range(1, len(columns) + 1):
        stage = _stage_of(columns[start].name) if start < len(columns) and columns[start].fused == 1 else ""
        if i < len(columns) and stage and _stage_of(columns[i].name) == stage and columns[i].fused == 1:
            continue
        if i - start > 1 and stage:
            stages.append((list(range(start, i)), stage, f"{i - start} layers"))
        start = i
    return stages


def _stage_column(columns: list[Column], members: list[int], name: str, op: str) -> Column:
    """One block for a stage, its layers' operations listed under it (``2× 3×3``)."""
    ops: list[list[object]] = []
    for i in members:
        text = columns[i].op or columns[i].role.value
        if ops and ops[-1][0] == text:
            ops[-1][1] = int(ops[-1][1]) + 1  # type: ignore[call-overload]
        else:
            ops.append([text, 1])
    details = [f"{count}× {text}" if count > 1 else str(text) for text, count in ops]
    roles = Counter(columns[i].role for i in members)
    role = max(roles, key=lambda r: (roles[r], -list(Role).index(r)))
    last = columns[members[-1]]
    return replace(
        last, role=role, name=name, op="", notes=[], details=details, depthwise=False,
        fused=sum(columns[i].fused for i in members), cross=columns[members[0]].cross,
    )  # fmt: skip


def _expanded(analysis: Analysis) -> list[Column]:
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
        groups = kind.groups(layer)
        column.depthwise = kind.mixes_channels and groups > 1 and groups == layer.input_shapes[0][0]
        if streams > 1 and role is not Role.OUTPUT:
            column.streams = streams
            source_streams = columns[sources[0]].streams
            column.cross = source_streams > 1 and kind.groups(layer) == 1 and kind.mixes_channels
        columns.append(column)
        column_of[layer.name] = len(columns) - 1
    return columns


def _repeat_groups(analysis: Analysis, columns: list[Column]) -> list[tuple[list[int], str, str]]:
    """(column indices, name, caption) of each top-level repeat block of more than one block."""
    where = {layer.name: index for index, layer in enumerate(analysis.layers)}
    groups = []
    for block in analysis.spec.blocks:
        if block.parent is not None or block.repeat < 2:
            continue
        inside = [
            i for i, c in enumerate(columns) if c.layer is not None and block.first <= where[c.layer.name] <= block.last
        ]
        if len(inside) > 1:
            groups.append((inside, block.name, f"×{block.repeat}"))
    return groups


def _runs(columns: list[Column]) -> list[tuple[list[int], str, str]]:
    """Runs of identical consecutive blocks in a chain (VGG's 3×3 stacks): ``2× 3×3``."""
    runs: list[tuple[list[int], str, str]] = []
    current: list[int] = []

    def same(a: Column, b: Column) -> bool:
        same_block = (a.role, a.op, a.shape, a.notes, a.streams) == (b.role, b.op, b.shape, b.notes, b.streams)
        return same_block and not b.cross  # a cross-stream layer keeps its own block (AlexNet's conv3)

    for i, column in enumerate(columns + [Column(None, Role.INPUT, (), "", "")]):
        if current and column.sources == [current[-1]] and same(columns[current[-1]], column):
            current.append(i)
            continue
        if len(current) > 1:
            first, last = columns[current[0]], columns[current[-1]]
            runs.append((current, f"{first.name}–{last.name}", f"{len(current)}× {first.op}".strip()))
        current = [i] if i < len(columns) and columns[i].layer is not None else []
    return runs


def _branch_regions(columns: list[Column]) -> list[tuple[list[int], str, str]]:
    """Each merge with the blocks after its fork (its immediate dominator), joined where they overlap."""
    dominator = [0] * len(columns)
    for i, column in enumerate(columns):
        if not column.sources:
            continue
        d = column.sources[0]
        for s in column.sources[1:]:
            a, b = d, s
            while a != b:
                a, b = (dominator[a], b) if a > b else (a, dominator[b])
            d = a
        dominator[i] = d
    spans: list[list[int]] = []
    for i, column in enumerate(columns):
        if len(column.sources) > 1 and 1 < i - dominator[i] <= MAX_REGION:
            start = dominator[i] + 1
            if spans and start <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], i)
            else:
                spans.append([start, i])
    regions = []
    for start, end in spans:
        merge = columns[end]
        paths = len(merge.sources)
        regions.append((list(range(start, end + 1)), merge.name, f"{paths} paths, {merge.op}"))
    return regions


def _repeat_column(columns: list[Column], members: list[int], name: str, op: str) -> Column:
    """One block for a repeat block (``×6``, one repetition's layers under it: ``1×1 → 3×3 → concat``)
    or a run of identical blocks (``2× 3×3``)."""
    first = next(columns[i] for i in members if columns[i].layer is not None)
    last = columns[members[-1]]
    details = []
    if op.startswith("×") and len(members) % int(op[1:]) == 0:
        one = members[: len(members) // int(op[1:])]
        details = [" → ".join(columns[i].op or columns[i].role.value for i in one)]
    return replace(
        last, role=first.role, name=name, op=op, notes=[], details=details, fused=len(members), depthwise=False,
        cross=first.cross,
    )  # fmt: skip


def _region_column(columns: list[Column], members: list[int], name: str, op: str) -> Column:
    """One block for a branch region: named by what its layers' names share, coloured by the role
    most of its blocks have, each path written out (``3×3 s2 → 3×3``, ``shortcut``) under it."""
    merge = columns[members[-1]]
    inside = set(members)
    paths = []
    for source in merge.sources:
        ops = []
        while source in inside:
            ops.append(columns[source].op or columns[source].role.value)
            source = columns[source].sources[0]
        paths.append("‖ " + (" → ".join(reversed(ops)) if ops else "shortcut"))
    roles = Counter(columns[i].role for i in members[:-1])
    role = max(roles, key=lambda r: (roles[r], -list(Role).index(r))) if roles else merge.role
    parts = [columns[i].name.split(".") for i in members]
    shared = ".".join(os.path.commonprefix(parts)) if all(len(p) > 1 for p in parts) else ""
    return replace(
        merge, role=role, name=shared or name, op=op, notes=[], details=paths, depthwise=False,
        fused=sum(columns[i].fused for i in members),
    )  # fmt: skip


def _fuse(columns: list[Column], groups: list[tuple[list[int], str, str]], make) -> list[Column]:  # type: ignore[no-untyped-def]
    """Each group of columns (consecutive, in order) replaced by one column; sources renumbered."""
    group_of = {i: g for g, (members, _, _) in enumerate(groups) for i in members}
    new_index: dict[int, int] = {}
    result: list[Column] = []
    done: set[int] = set()
    for i, column in enumerate(columns):
        g = group_of.get(i)
        if g is None:
            new_index[i] = len(result)
            result.append(replace(column, sources=sorted({new_index[s] for s in column.sources})))
            continue
        members, name, op = groups[g]
        if g in done:
            new_index[i] = new_index[members[0]]
            continue
        done.add(g)
        for m in members:
            new_index[m] = len(result)
        outside = sorted({new_index[s] for m in members for s in columns[m].sources if s not in members})
        result.append(replace(make(columns, members, name, op), sources=outside))
    return result
