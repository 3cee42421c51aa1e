"""The known mistakes of hand-made layer tables, one declared object each.

A mistake recomputes a cell as someone making it would: it changes the network (a layer's
hyper-parameters, the input size) and lets the engine work out the consequences, or it transforms
the right value (a dropped digit, MACs for FLOPs). The grader names the mistakes whose recomputed
value is exactly what the learner wrote. Adding a mistake is one decorated function here.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from typing import Any

from ..engine import Analysis, LayerResult, analyse
from ..errors import ArchcalcError
from ..fields import PaddingMode
from ..i18n import Lang
from ..spec import INPUT_NAME, NetworkSpec
from .tables import Column

Value = Any  # int, or a tuple of ints (a shape [C, H, W], a kernel, a stride, a padding)

TOTAL = "total"  # a table's totals row, graded against the network's totals
SHAPES = frozenset({Column.INPUT, Column.OUTPUT, Column.ARITHMETIC})
COUNTS = frozenset({Column.PARAMS, Column.MACS, Column.FLOPS})
NUMBERS = frozenset(Column) - {Column.LAYER}


def expected(analysis: Analysis, layer: str, column: Column) -> Value | None:
    """The right content of `column` for `layer`, as the engine computed it (None: nothing to grade)."""
    if layer == INPUT_NAME:
        return tuple(analysis.input_shape) if column in (Column.INPUT, Column.OUTPUT) else None
    if layer == TOTAL:
        totals = {
            Column.PARAMS: analysis.totals.params,
            Column.MACS: analysis.totals.macs,
            Column.FLOPS: analysis.totals.flops,
        }
        return totals.get(column)
    result = analysis[layer]
    details = result.details
    values: dict[Column, Callable[[], Value | None]] = {
        Column.INPUT: lambda: tuple(result.input_shapes[0]),
        Column.OUTPUT: lambda: tuple(result.output_shape),
        Column.PARAMS: lambda: result.params,
        Column.MACS: lambda: result.macs,
        Column.FLOPS: lambda: result.flops,
        Column.KERNEL: lambda: _kernel(result),
        Column.STRIDE: lambda: details.get("stride"),
        Column.PADDING: lambda: details.get("padding"),
        Column.ARITHMETIC: lambda: result.output_shape[1] if len(result.output_shape) == 3 else None,
    }
    return values[column]()


def _kernel(result: LayerResult) -> Value | None:
    kernel = result.details.get("kernel")
    if kernel is None:
        return None
    if result.definition.mixes_channels and len(result.input_shapes[0]) == 3:
        return (*kernel, result.input_shapes[0][0] // result.details.get("groups", 1))
    return tuple(kernel)


@dataclass(frozen=True, slots=True)
class Candidate:
    """A value the cell would hold under a mistake; `where`: the layer the mistake is made at
    (None: the whole network, or the cell itself); `detail`: what exactly was done."""

    value: Value
    where: str | None = None
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Carried:
    """A wrong value the learner worked on from: layers `start`.. then see `shape` ([C, H, W] or [N])."""

    start: int
    shape: tuple[int, ...]
    row: str  # where the learner wrote it
    text: str  # as they wrote it


@dataclass
class Probe:
    """One wrong cell, and the means to recompute it: variant networks are analysed once each."""

    spec: NetworkSpec
    analysis: Analysis
    layer: str
    column: Column
    cache: dict[str, Analysis | None] = field(default_factory=dict)
    carried: Carried | None = None

    @property
    def right(self) -> Value | None:
        return expected(self.analysis, self.layer, self.column)

    @property
    def index(self) -> int:
        names = [layer.name for layer in self.spec.layers]
        return names.index(self.layer) if self.layer in names else -1

    def variant(self, key: str, build: Callable[[], NetworkSpec]) -> Analysis | None:
        """The analysis of a changed network (None where the change makes it invalid)."""
        if key not in self.cache:
            try:
                self.cache[key] = analyse(build(), dtype=self.analysis.dtype, flops=self.analysis.flop_mode)
            except ArchcalcError:
                self.cache[key] = None
        return self.cache[key]

    def value_in(self, analysis: Analysis | None, layer: str | None = None) -> Value | None:
        if analysis is None:
            return None
        try:
            return expected(analysis, layer or self.layer, self.column)
        except KeyError:
            return None


@dataclass(frozen=True, slots=True)
class Mistake:
    id: str
    en: str
    zh: str
    columns: frozenset[Column]
    recompute: Callable[[Probe], Iterable[Candidate]]

    def describe(self, lang: Lang) -> str:
        return self.zh if lang is Lang.ZH else self.en


MISTAKES: list[Mistake] = []


def mistake(id: str, columns: Iterable[Column], en: str, zh: str) -> Callable[[Any], Any]:
    """Register a mistake; the decorated function yields the values the cell would then hold."""

    def register(recompute: Callable[[Probe], Iterable[Candidate]]) -> Callable[[Probe], Iterable[Candidate]]:
        MISTAKES.append(Mistake(id, en, zh, frozenset(columns), recompute))
        return recompute

    return register


def by_id(id: str) -> Mistake:
    return next(m for m in MISTAKES if m.id == id)


# --- mistakes made at a layer: change its hyper-parameters, let the engine propagate ----------------


def _field_names(result: LayerResult) -> set[str]:
    return {f.name for f in result.definition.fields}


def changed(network: NetworkSpec, layer: str, changes: dict[str, Any]) -> NetworkSpec:
    """`network` with `layer`'s hyper-parameters changed, validated as in a file; None puts a field
    back to its default of none (a connection table taken away)."""
    network = network.with_params(layer, **{k: v for k, v in changes.items() if v is not None})
    cleared = [k for k, v in changes.items() if v is None]
    if not cleared:
        return network
    index = next(i for i, spec in enumerate(network.layers) if spec.name == layer)
    spec = network.layers[index]
    layers = list(network.layers)
    layers[index] = replace(spec, params={**spec.params, **dict.fromkeys(cleared)})
    return replace(network, layers=tuple(layers))


def _at_layers(probe: Probe, id: str, change: Callable[[LayerResult], dict[str, Any] | None]) -> Iterator[Candidate]:
    """The cell with the change made at its own layer, then at each earlier layer (nearest first);
    for a totals row, at every layer at once."""
    if probe.layer == TOTAL:
        yield from _everywhere(probe, id, change)
    last = len(probe.spec.layers) - 1 if probe.layer == TOTAL else probe.index  # a total: at any one layer too
    for index in range(last, -1, -1):
        name = probe.spec.layers[index].name
        changes = change(probe.analysis[name])
        if changes:
            variant = probe.variant(f"{id}@{name}", lambda n=name, c=changes: changed(probe.spec, n, c))
            value = probe.value_in(variant)
            if value is not None:
                yield Candidate(value, name)


def _everywhere(probe: Probe, id: str, change: Callable[[LayerResult], dict[str, Any] | None]) -> Iterator[Candidate]:
    def build() -> NetworkSpec:
        network = probe.spec
        for result in probe.analysis.layers:
            changes = change(result)
            if changes:
                network = changed(network, result.name, changes)
        return network

    if any(change(result) for result in probe.analysis.layers):
        value = probe.value_in(probe.variant(f"{id}@all", build))
        if value is not None:
            yield Candidate(value, detail=EVERY_LAYER)


EVERY_LAYER = "at every layer it applies to"  # the report says it in its language


def _padding(result: LayerResult) -> tuple[int, int, int, int] | None:
    padding = result.details.get("padding")
    return padding if "padding" in _field_names(result) and padding is not None else None


@mistake("floor_ceil", SHAPES | COUNTS, "rounded the other way (floor vs ceil)", "取整方向错误（向下取整与向上取整）")
def _floor_ceil(probe: Probe) -> Iterator[Candidate]:
    def change(result: LayerResult) -> dict[str, Any] | None:
        if "ceil_mode" in _field_names(result):
            return {"ceil_mode": not result.params_spec["ceil_mode"]}
        stride, padding = result.details.get("stride"), _padding(result)
        if padding is None or stride is None or stride == (1, 1) or result.params_spec["padding"] is PaddingMode.SAME:
            return None
        top, bottom, left, right = padding  # ceil(x/s) = floor((x + s − 1)/s): s − 1 more rows
        return {"padding": [top, bottom + stride[0] - 1, left, right + stride[1] - 1]}

    return _at_layers(probe, "floor_ceil", change)


@mistake("padding_forgotten", SHAPES | COUNTS, "padding forgotten", "漏算了填充（padding）")
def _padding_forgotten(probe: Probe) -> Iterator[Candidate]:
    return _at_layers(probe, "padding_forgotten", lambda r: {"padding": 0} if any(_padding(r) or ()) else None)


@mistake(
    "padding_one_side", SHAPES | COUNTS, "padding counted on one side only (p, not 2p)", "填充只算了一侧（p 而不是 2p）"
)
def _padding_one_side(probe: Probe) -> Iterator[Candidate]:
    def change(result: LayerResult) -> dict[str, Any] | None:
        padding = _padding(result)
        if not padding or not (padding[1] or padding[3]):
            return None
        return {"padding": [padding[0], 0, padding[2], 0]}

    return _at_layers(probe, "padding_one_side", change)


@mistake("padding_doubled", SHAPES | COUNTS, "padding doubled (4p, not 2p)", "填充算了两倍（4p 而不是 2p）")
def _padding_doubled(probe: Probe) -> Iterator[Candidate]:
    def change(result: LayerResult) -> dict[str, Any] | None:
        padding = _padding(result)
        return {"padding": [2 * p for p in padding]} if padding and any(padding) else None

    return _at_layers(probe, "padding_doubled", change)


@mistake("stride_ignored", SHAPES | COUNTS, "stride ignored (taken as 1)", "忽略了步长（当作 1）")
def _stride_ignored(probe: Probe) -> Iterator[Candidate]:
    def change(result: LayerResult) -> dict[str, Any] | None:
        stride = result.details.get("stride")
        return {"stride": 1} if "stride" in _field_names(result) and stride not in (None, (1, 1)) else None

    return _at_layers(probe, "stride_ignored", change)


@mistake(
    "groups_ignored", SHAPES | COUNTS | {Column.KERNEL},
    "groups ignored (each kernel seeing every input map, not its group's)",
    "忽略了分组（每个卷积核看到全部输入通道，而不只是本组的）",
)  # fmt: skip
def _groups_ignored(probe: Probe) -> Iterator[Candidate]:
    return _at_layers(probe, "groups_ignored", lambda r: {"groups": 1} if r.details.get("groups", 1) > 1 else None)


@mistake(
    "connections_ignored", SHAPES | COUNTS, "the connection table ignored (every map seeing every input map)",
    "忽略了连接表（每个特征图都连到全部输入图）",
)  # fmt: skip
def _connections_ignored(probe: Probe) -> Iterator[Candidate]:
    return _at_layers(
        probe, "connections_ignored", lambda r: {"connections": None} if r.params_spec.get("connections") else None
    )


@mistake("bias_forgotten", COUNTS, "biases forgotten", "漏算了偏置")
def _bias_forgotten(probe: Probe) -> Iterator[Candidate]:
    if probe.layer == TOTAL:
        yield from _at_layers(probe, "bias", lambda r: {"bias": False} if r.params_spec.get("bias") else None)
    if probe.index < 0:
        return
    result = probe.analysis[probe.layer]
    if "bias" in _field_names(result) and result.params_spec["bias"]:
        variant = probe.variant(f"bias@{probe.layer}", lambda: probe.spec.with_params(probe.layer, bias=False))
        value = probe.value_in(variant)
        if value is not None:
            yield Candidate(value)


# --- mistakes about the whole network ------------------------------------------------------------

_INPUT_CONFUSION = {224: 227, 227: 224}


@mistake("input_224_227", SHAPES | COUNTS, "the wrong input size (224 vs 227)", "输入尺寸用错（224 与 227）")
def _input_size(probe: Probe) -> Iterator[Candidate]:
    c, h, w = probe.spec.input_shape
    if h in _INPUT_CONFUSION and w in _INPUT_CONFUSION:
        shape = (c, _INPUT_CONFUSION[h], _INPUT_CONFUSION[w])
        value = probe.value_in(probe.variant("input", lambda: probe.spec.with_input(shape)))
        if value is not None:
            yield Candidate(value, detail=f"{shape[1]}×{shape[2]}")


def _alone(probe: Probe, input_shape: tuple[int, ...], start: int, **changes: Any) -> NetworkSpec:
    """Layers `start`..the probe's layer as a network of their own on `input_shape`."""
    first = replace(probe.spec.layers[start], inputs=(INPUT_NAME,))
    layers = (first, *probe.spec.layers[start + 1 : probe.index + 1])
    network = replace(probe.spec, input_shape=input_shape, layers=layers, blocks=())
    return network.with_params(first.name, **changes) if changes else network


@mistake("channels_swapped", SHAPES | COUNTS, "input and output channels swapped", "输入通道数与输出通道数弄反了")
def _channels_swapped(probe: Probe) -> Iterator[Candidate]:
    if probe.index < 0:
        return
    result = probe.analysis[probe.layer]
    names = _field_names(result)
    size = next((n for n in ("out_channels", "out_features") if n in names), None)
    if size is None or result.params_spec.get("connections") is not None:
        return
    inputs, outputs = result.input_shapes[0][0], result.params_spec[size]
    changes: dict[str, Any] = {size: inputs}
    for declared in ("in_channels", "in_features"):
        if result.params_spec.get(declared) is not None:
            changes[declared] = outputs
    shape = (outputs, *result.input_shapes[0][1:])
    variant = probe.variant(f"swap@{probe.layer}", lambda: _alone(probe, shape, probe.index, **changes))
    value = probe.value_in(variant)
    if value is not None:
        yield Candidate(value)


@mistake(
    "flatten_wrong_map", SHAPES | COUNTS, "the flattened size taken from the wrong map",
    "展平（flatten）的长度取自错误的特征图",
)  # fmt: skip
def _flatten_wrong_map(probe: Probe) -> Iterator[Candidate]:
    layers = probe.analysis.layers
    start = next(
        (i for i in range(probe.index + 1) if len(layers[i].output_shape) == 1 and len(layers[i].input_shapes[0]) == 3),
        None,
    )
    if start is None:
        return
    flattened = tuple(layers[start].input_shapes[0])
    first_with: dict[tuple[int, ...], LayerResult] = {}
    for other in layers[:start]:  # each map once, named by the layer that first produced it
        first_with.setdefault(tuple(other.output_shape), other)
    for shape, other in reversed(first_with.items()):
        if len(shape) != 3 or shape == flattened:
            continue
        variant = probe.variant(f"flatten@{other.name}:{probe.layer}", lambda s=shape: _alone(probe, s, start))
        value = probe.value_in(variant)
        if value is not None:
            yield Candidate(value, other.name, "×".join(map(str, shape)))


@mistake(
    "carried", SHAPES | COUNTS, "worked on correctly from a wrong value written before it",
    "由前面写下的错误值正确地推算出来",
)  # fmt: skip
def _carried(probe: Probe) -> Iterator[Candidate]:
    carried = probe.carried
    if carried is None or not 0 <= carried.start <= probe.index:
        return
    key = f"carried@{carried.start}:{carried.shape}:{probe.layer}"
    value = probe.value_in(probe.variant(key, lambda: _alone(probe, carried.shape, carried.start)))
    if value is not None:
        yield Candidate(value, detail=f"{carried.row}: {carried.text}")


# --- mistakes of counting conventions and notation ----------------------------------------------


@mistake(
    "macs_flops", {Column.MACS, Column.FLOPS}, "MACs and FLOPs confused (FLOPs = 2 × MACs)",
    "混淆了 MACs 与 FLOPs（FLOPs = 2 × MACs）",
)  # fmt: skip
def _macs_flops(probe: Probe) -> Iterator[Candidate]:
    if probe.index >= 0:
        result = probe.analysis[probe.layer]
        yield Candidate(result.flops if probe.column is Column.MACS else result.macs)


@mistake(
    "bias_adds", {Column.MACS, Column.FLOPS}, "bias additions counted (+1 per output element, as torchinfo counts)",
    "把偏置加法也算进去了（每个输出元素 +1，torchinfo 的算法）",
)  # fmt: skip
def _bias_adds(probe: Probe) -> Iterator[Candidate]:
    if probe.index < 0:
        return
    result = probe.analysis[probe.layer]
    if "bias" in _field_names(result) and result.params_spec["bias"]:
        elements = math.prod(result.output_shape)
        yield Candidate(probe.right + elements, detail=f"+ {elements:,}")


@mistake(
    "axes_order",
    SHAPES - {Column.ARITHMETIC},
    "the axes in another order (H×W×C read as C×H×W)",
    "维度顺序弄错（把 H×W×C 当成 C×H×W）",
)
def _axes_order(probe: Probe) -> Iterator[Candidate]:
    right = probe.right
    if isinstance(right, tuple) and len(right) == 3:
        for order in itertools.permutations(right):
            yield Candidate(tuple(order))


DIGIT_MUTATIONS: dict[str, Callable[[str], Iterable[str]]] = {}


def _digit_mistake(id: str, en: str, zh: str, mutate: Callable[[str], Iterable[str]]) -> None:
    DIGIT_MUTATIONS[id] = mutate

    def recompute(probe: Probe) -> Iterator[Candidate]:
        yield from digit_candidates(probe.right, mutate)

    MISTAKES.append(Mistake(id, en, zh, NUMBERS, recompute))


def digit_candidates(right: Value, mutate: Callable[[str], Iterable[str]]) -> Iterator[Candidate]:
    """`right` with one digit error in it (in one axis of a shape)."""
    if isinstance(right, int):
        for text in mutate(str(right)):
            if text and text != str(right):
                yield Candidate(int(text), detail=f"{right} → {text}")
    elif isinstance(right, tuple):
        if len(right) == 3 and right[1] == right[2]:  # a square map: the same slip in height and width
            for text in mutate(str(right[1])):
                if text and text != str(right[1]) and int(text) > 0:
                    yield Candidate((right[0], int(text), int(text)), detail=f"{right[1]} → {text}")
        for axis, size in enumerate(right):
            for text in mutate(str(size)):
                if text and text != str(size) and int(text) > 0:
                    yield Candidate((*right[:axis], int(text), *right[axis + 1 :]), detail=f"{size} → {text}")


def _dropped(text: str) -> Iterator[str]:
    return (text[:i] + text[i + 1 :] for i in range(len(text)))


def _repeated(text: str) -> Iterator[str]:
    return (text[: i + 1] + text[i:] for i in range(len(text)))


def _swapped(text: str) -> Iterator[str]:
    return (text[:i] + text[i + 1] + text[i] + text[i + 2 :] for i in range(len(text) - 1))


def _mistyped(text: str) -> Iterator[str]:
    return (text[:i] + d + text[i + 1 :] for i in range(len(text)) for d in "0123456789" if (i or d != "0"))


_digit_mistake("digit_dropped", "a digit dropped", "漏写了一位数字", _dropped)
_digit_mistake("digit_repeated", "a digit written twice", "多写了一位重复的数字", _repeated)
_digit_mistake("digits_swapped", "two adjacent digits swapped", "相邻两位数字写反了", _swapped)
_digit_mistake("digit_mistyped", "one digit mistyped", "写错了一位数字", _mistyped)
DIGIT_MISTAKES = tuple(DIGIT_MUTATIONS)
