"""The network as the figure sees it: one column per drawn block, with what labels it.

Each layer's kind says whether it is a block of its own, a note on the previous block or not
drawn at all (``Kind.appearance``), its colour role and its caption; nothing here names a kind.
"""

from __future__ import annotations

import enum
import os
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ..engine import Analysis, LayerResult
from ..format import Notation, fmt_shape
from ..i18n import Lang, Message, Phrase, say, translated
from ..kinds import Appearance
from ..palette import ROLE_LABELS, Role
from ..spec import INPUT_NAME

# The words of collapsed blocks: Phrases (English as str), said in the figure's language at the end.
REPEATED: Message = {"en": "×{count}", "zh": "重复 ×{count}"}
PATHS: Message = {"en": "{paths} paths, {op}", "zh": "{paths} 条路径，{op}"}
LAYERS: Message = {"en": "{count} layers", "zh": "{count} 层"}
TIMES: Message = {"en": "{count}× {op}"}
BLOCKS: Message = {"en": "{count} blocks", "zh": "{count} 个模块"}
MARKS = "⊕‖⊗"  # the merge signs kinds declare (``merge_mark``)
SHORTCUT: Message = {"en": "shortcut", "zh": "捷径"}
PROJECTION: Message = {"en": "shortcut {op}", "zh": "捷径 {op}"}
PATH: Message = {"en": "‖ {path}"}
NOTES_JOINED = "、"  # Chinese lists its notes with the enumeration comma: + ReLU、LRN
INPUT_WORD: Message = {"en": INPUT_NAME, "zh": "输入"}  # the input block's name, as the table's input row


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
    mark: str = ""  # a merge's sign on its block (its kind's): ⊕ a sum, ‖ a concatenation, ⊗ a product
    prefix: str = ""  # what its name had before it, shared by every block's name (``features.``)


class Collapse(enum.IntEnum):
    """How much of the network is drawn as one block, tried in this order until the figure fits."""

    NONE = 0  # every block
    REPEATS = 1  # a repeat block, or a run of identical blocks, drawn once: "×3"
    BRANCHES = 2  # also each branch region (a fork to its merge, up to MAX_REGION blocks) drawn once
    MODULES = 3  # also each repeat block with the blocks before it named in it (MobileNetV2's stage2.0 and stage2)
    STAGES = 4  # instead of branch regions, each run of blocks named as one stage (down1.conv1, down1.conv2)


# A grouped layer's caption where the figure does not draw its groups as streams (a branching net).
GROUPED_CAPTION: Message = {"en": "{window} g{groups}", "zh": "{window} 分{groups}组"}
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


def columns_of(analysis: Analysis, collapse: Collapse = Collapse.NONE, lang: Lang = Lang.EN) -> list[Column]:
    """The drawn blocks in order (each after its sources), collapsed as asked, their words in `lang`."""
    said = _said_in(lang)
    return [said(column) for column in _columns(analysis, collapse)]


def _said_in(lang: Lang) -> Callable[[Column], Column]:
    def said(column: Column) -> Column:
        if lang is Lang.EN:
            return column
        notes = [translated(note, lang) for note in column.notes]
        return replace(
            column, op=translated(column.op, lang), details=[translated(d, lang) for d in column.details],
            notes=[NOTES_JOINED.join(notes)] if notes else [],
            name=say(INPUT_WORD, lang) if column.layer is None else column.name,
        )  # fmt: skip

    return said


def _role_word(role: Role) -> str:
    """A block's role as an operation's name (``convolution``), in any language."""
    return Phrase({"en": role.value, "zh": say(ROLE_LABELS[role], Lang.ZH)})


def _joined(parts: list[str], separator: str) -> str:
    """`parts` joined by `separator`, each part said in the figure's language."""
    template = separator.join(f"{{p{i}}}" for i in range(len(parts)))
    return Phrase({"en": template}, **{f"p{i}": part for i, part in enumerate(parts)})


def _path_of(line: str) -> str:
    """A path line (``‖ 3×3 → 3×3``) without its mark, still said in the figure's language."""
    if isinstance(line, Phrase) and line.message is PATH:
        return line.fields["path"]
    return line.removeprefix("‖ ")


def _columns(analysis: Analysis, collapse: Collapse) -> list[Column]:
    labels = {spec.name: spec.label for spec in analysis.spec.layers if spec.label is not None}
    columns = _expanded(analysis)
    if collapse >= Collapse.REPEATS:
        repeats = _repeat_groups(analysis, columns)
        inside = {i for members, _, _ in repeats for i in members}
        runs = [run for run in _runs(columns, labels) if not inside.intersection(run[0])]
        columns = _fuse(columns, repeats + runs, _repeat_column)
    if collapse in (Collapse.BRANCHES, Collapse.MODULES):
        columns = _fuse(columns, _branch_regions(columns), _region_column)
    if collapse is Collapse.MODULES:
        columns = _fuse(columns, _modules(analysis, columns), _module_column)
    if collapse is Collapse.STAGES:  # (U-Net: its long skips join whole stages)
        columns = _fuse(columns, _stages(columns), _stage_column)
    return _without_shared_prefix(_labelled(columns, labels))


def _labelled(columns: list[Column], labels: dict[str, str]) -> list[Column]:
    """Each block named after a layer (its own, or a module's named after its merge: a fire module's
    concatenation) shown by that layer's label. Done last: collapsing reads the names' structure."""
    if not labels:
        return columns
    return [replace(c, name=labels[c.name]) if c.layer is not None and c.name in labels else c for c in columns]


def shared_prefix(names: list[str]) -> str:
    """``features.`` where every dotted name starts with it (DenseNet's ``features.conv0`` …, beside
    ``avgpool`` and ``classifier``) and dropping it leaves names that are still names, all distinct."""
    dotted = [name for name in names if "." in name]
    if len(dotted) < 2:
        return ""
    prefix = dotted[0].split(".")[0] + "."
    rest = [name.removeprefix(prefix) if name in dotted else name for name in names]
    if not all(name.startswith(prefix) for name in dotted) or len(set(rest)) < len(rest):
        return ""
    return prefix if not any(name[:1].isdigit() for name in rest) else ""


def _without_shared_prefix(columns: list[Column]) -> list[Column]:
    """The blocks named without the prefix all their dotted names share: shorter labels, nothing lost."""
    prefix = shared_prefix([column.name for column in columns[1:]])
    if not prefix:
        return columns
    return columns[:1] + [
        replace(column, name=column.name.removeprefix(prefix), prefix=prefix if column.name.startswith(prefix) else "")
        for column in columns[1:]
    ]


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
            stages.append((list(range(start, i)), stage, Phrase(LAYERS, count=i - start)))
        start = i
    return stages


def _stage_column(columns: list[Column], members: list[int], name: str, op: str) -> Column:
    """One block for a stage, its layers' operations listed under it (``2× 3×3``)."""
    ops: list[list[object]] = []
    for i in members:
        text = columns[i].op or _role_word(columns[i].role)
        if ops and ops[-1][0] == text:
            ops[-1][1] = int(ops[-1][1]) + 1  # type: ignore[call-overload]
        else:
            ops.append([text, 1])
    details = [Phrase(TIMES, count=count, op=text) if count > 1 else text for text, count in ops]
    roles = Counter(columns[i].role for i in members)
    role = max(roles, key=lambda r: (roles[r], -list(Role).index(r)))
    last = columns[members[-1]]
    return replace(
        last, role=role, name=name, op="", notes=[], details=details, depthwise=False, mark="",
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
        column.mark = kind.merge_mark
        groups = kind.groups(layer)
        column.depthwise = kind.mixes_channels and groups > 1 and groups == layer.input_shapes[0][0]
        if streams > 1 and role is not Role.OUTPUT:
            column.streams = streams
            source_streams = columns[sources[0]].streams
            column.cross = source_streams > 1 and kind.groups(layer) == 1 and kind.mixes_channels
        if groups > 1 and not column.depthwise and column.streams == 1:  # not drawn as streams: say it
            column.op = Phrase(GROUPED_CAPTION, window=column.op, groups=groups)
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
            groups.append((inside, block.name, Phrase(REPEATED, count=block.repeat)))
    return groups


def _runs(columns: list[Column], labels: dict[str, str]) -> list[tuple[list[int], str, str]]:
    """Runs of identical consecutive blocks in a chain (VGG's 3×3 stacks): ``2× 3×3``, named
    ``first–last`` (by their labels, where they have them)."""
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
            op = Phrase(TIMES, count=len(current), op=first.op) if first.op else f"{len(current)}×"
            ends = (labels.get(first.name, first.name), labels.get(last.name, last.name))
            runs.append((current, "–".join(ends), op))
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
            fork = columns[dominator[i]]
            if fork.fused == 1 and fork.name.startswith(column.name + "."):
                start -= 1  # the fork is named in the merge (a fire module's squeeze): one module with it
            if spans and start <= spans[-1][1]:
                spans[-1][1] = max(spans[-1][1], i)
            else:
                spans.append([start, i])
    regions = []
    for start, end in spans:
        merge = columns[end]
        paths = len(merge.sources)
        regions.append((list(range(start, end + 1)), merge.name, Phrase(PATHS, paths=paths, op=merge.op)))
    return regions


def _repeat_column(columns: list[Column], members: list[int], name: str, op: str) -> Column:
    """One block for a repeat block (``×6``, one repetition's layers under it: ``1×1 → 3×3 → concat``)
    or a run of identical blocks (``2× 3×3``)."""
    first = next(columns[i] for i in members if columns[i].layer is not None)
    last = columns[members[-1]]
    details = []
    if op.startswith("×") and len(members) % int(op[1:]) == 0:
        one = members[: len(members) // int(op[1:])]
        details = [_joined([columns[i].mark or columns[i].op or _role_word(columns[i].role) for i in one], " → ")]
    return replace(
        last, role=first.role, name=name, op=op, notes=[], details=details, fused=len(members), depthwise=False,
        cross=first.cross, mark="",
    )  # fmt: skip


def _region_column(columns: list[Column], members: list[int], name: str, op: str) -> Column:
    """One block for a branch region: named by what its layers' names share, coloured by the role
    most of its blocks have, each path written out (``3×3 s2 → 3×3``, ``shortcut``) under it."""
    merge = columns[members[-1]]
    inside = set(members)
    stem = [] if any(s not in inside for m in members[1:] for s in columns[m].sources) else [members[0]]
    paths = [_joined([columns[m].op or _role_word(columns[m].role), ""], " →") for m in stem]  # the fork first
    for source in merge.sources:
        ops = []
        while source in inside and source not in stem:
            ops.append(columns[source].op or _role_word(columns[source].role))
            source = columns[source].sources[0]
        paths.append(Phrase(PATH, path=_joined(ops[::-1], " → ") if ops else Phrase(SHORTCUT)))
    roles = Counter(columns[i].role for i in members[:-1])
    role = max(roles, key=lambda r: (roles[r], -list(Role).index(r))) if roles else merge.role
    parts = [columns[i].name.split(".") for i in members]
    shared = ".".join(os.path.commonprefix(parts)) if all(len(p) > 1 for p in parts) else ""
    return replace(
        merge, role=role, name=shared or name, op=op, notes=[], details=paths, depthwise=False,
        fused=sum(columns[i].fused for i in members),
    )  # fmt: skip


def _modules(analysis: Analysis, columns: list[Column]) -> list[tuple[list[int], str, str]]:
    """Each stage as one module: a top-level repeat block with the blocks before it named in it
    (MobileNetV2's ``stage2.0.conv.0.0`` … and its repeat ``stage2``), or the blocks of a stage's
    numbered block (``stage1.0.conv.0.0``, ``stage1.0.conv.1``)."""
    names = {block.name for block in analysis.spec.blocks if block.parent is None}
    modules: list[tuple[list[int], str, str]] = []
    current: list[int] = []
    owner = ""
    for i, column in enumerate(columns + [Column(None, Role.INPUT, (), "", "")]):
        name = next((n for n in sorted(names) if column.name == n or column.name.startswith(n + ".")), "")
        name = name or (_owner(column) or _substage(column.name) if column.fused == 1 else "")
        if name and name == owner:
            current.append(i)
            continue
        if len(current) > 1:
            lead = any(not columns[m].details for m in current)
            blocks = lead + sum(_repeats(columns[m]) for m in current if columns[m].details)
            modules.append((current, owner, Phrase(BLOCKS, count=blocks) if blocks > 1 else ""))
        current, owner = ([i], name) if name else ([], "")
    return modules


def _owner(column: Column) -> str:
    """``stage1`` for ``stage1.0.conv.0.0``, a layer of a stage's numbered block (a name of two
    parts, ``features.3``, is a module of its own, not a stage's)."""
    parts = column.name.split(".")
    return parts[0] if len(parts) >= 3 and parts[1].isdigit() else ""


def _substage(name: str) -> str:
    """``features.transition1`` for ``features.transition1.conv``: a named part of a stage (DenseNet's
    transitions); none for a name of two parts (``features.conv0``, ``down1.conv1``)."""
    return _stage_of(name) if name.count(".") >= 2 else ""


def _repeats(column: Column) -> int:
    """How many blocks a collapsed column stands for: its repeat count, else one."""
    return int(column.op[1:]) if column.op.startswith("×") and column.op[1:].isdigit() else 1


def _module_column(columns: list[Column], members: list[int], name: str, op: str) -> Column:
    """One block for a stage. Where its repeats are its first block without the stride (MobileNetV2):
    the count and stride, the block's layers once and its sum's sign on the block (``3 blocks, s2``,
    ``1×1 → dw 3×3 → 1×1``, ⊕); otherwise the first block's layers, then each repeat's."""
    residual = _residual_stage(columns, members, name)
    if residual is not None:
        return residual
    lead = [m for m in members if not columns[m].details]
    ops = [columns[m].op or _role_word(columns[m].role) for m in lead]
    repeats: list[tuple[int, str, str]] = []  # (count, path, mark) of each collapsed member
    for m in members:
        if m not in lead:
            column = columns[m]
            paths = [line for line in column.details if line != Phrase(PATH, path=Phrase(SHORTCUT))]
            path = _path_of(paths[0]) if len(paths) == 1 else _joined(paths, " ")
            sign = column.mark
            if not sign and path[-2:-1] == " " and path[-1] in MARKS:  # a repeat's layers, ending in its merge
                path, sign = path[:-4], path[-1]
            repeats.append((_repeats(column), path, sign))
    strides = [match.group(1) for text in ops if (match := _STRIDE.search(text))]
    pattern = " → ".join(_STRIDE.sub("", text) for text in ops)
    mark = ""
    if lead and repeats and all(path == pattern and not any(p in path for p in "‖") for _, path, _ in repeats):
        details = [_joined([_STRIDE.sub("", text) for text in ops], " → ")]
        op = _joined([op, *strides[:1]], ", ") if strides else op
        mark = next((sign for _, _, sign in repeats if sign), "")
    else:
        details = [_joined(ops, " → ")] if lead else []
        for count, path, sign in repeats:
            details.append(Phrase(TIMES, count=count, op=_joined([path, sign], " → ") if sign else path))
    roles = Counter(columns[i].role for i in members)
    role = max(roles, key=lambda r: (roles[r], -list(Role).index(r)))
    return replace(
        columns[members[-1]], role=role, name=name, op=op, notes=[], details=details, depthwise=False,
        fused=sum(columns[i].fused for i in members), mark=mark,
    )  # fmt: skip


_STRIDE = re.compile(r" (s\d+(?:,\d+)?)\b")  # a caption's stride: ``dw 3×3 s2``


def _residual_paths(column: Column) -> tuple[str, str, str] | None:
    """(main path, shortcut path or "", sign) of a residual block drawn as one column: a branch
    region with a main path and a shortcut (a 1×1 projection, or none), or a collapsed repeat of
    identity blocks (``1×1 → 3×3 → 1×1 → ⊕``); None for anything else."""
    if all(isinstance(line, Phrase) and line.message is PATH for line in column.details):
        paths = [str(_path_of(line)) for line in column.details]
        if len(paths) != 2 or not column.mark:
            return None
        main, shortcut = sorted(paths, key=lambda path: path.count(" → "), reverse=True)
        if main.count(" → ") == 0:
            return None
        return main, "" if shortcut == Phrase(SHORTCUT) else shortcut, column.mark
    if len(column.details) == 1 and column.op.startswith("×"):
        path = str(column.details[0])
        if path[-2:-1] == " " and path[-1] in MARKS and path[:-4]:
            return path[:-4], "", path[-1]
    return None


def _residual_stage(columns: list[Column], members: list[int], name: str) -> Column | None:
    """One block for a stage of residual blocks (ResNet's ``layer2``: a block with a strided main
    path and a projection shortcut, then identity blocks): the count and stride, the main path once
    and the projection under it, the sum's sign on the block (``4 blocks, s2``, ``1×1 → 3×3 → 1×1``,
    ``1×1 s2 projection shortcut``, ⊕); None where the stage's blocks are not all alike."""
    blocks = [_residual_paths(columns[m]) for m in members]
    if any(block is None for block in blocks):
        return None
    mains = {_STRIDE.sub("", main) for main, _, _ in blocks}  # type: ignore[misc]
    signs = {sign for _, _, sign in blocks}  # type: ignore[misc]
    if len(mains) != 1 or len(signs) != 1:
        return None
    strides = [match.group(1) for main, _, _ in blocks if (match := _STRIDE.search(main))]  # type: ignore[misc]
    projections = [shortcut for _, shortcut, _ in blocks if shortcut]  # type: ignore[misc]
    count = sum(_repeats(columns[m]) for m in members)
    op: str = Phrase(BLOCKS, count=count) if count > 1 else ""
    details = [mains.pop()] + [Phrase(PROJECTION, op=projection) for projection in projections[:1]]
    roles = Counter(columns[i].role for i in members)
    role = max(roles, key=lambda r: (roles[r], -list(Role).index(r)))
    return replace(
        columns[members[-1]], role=role, name=name, op=_joined([op, strides[0]], ", ") if strides and op else op,
        notes=[], details=details, depthwise=False, fused=sum(columns[i].fused for i in members), mark=signs.pop(),
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
