"""The engine: a validated spec → every layer annotated with shapes, counts, memory and receptive field.

Pure arithmetic on Python integers (exact at any size); it never imports torch, networkx or
matplotlib, so it is cheap to start and cheap to call in a loop.
"""

from __future__ import annotations

import enum
import gc
import math
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from .errors import InvariantError, LayerError, WarningsAsErrors
from .format import fmt_shape
from .kinds import GLOBAL, KINDS, Kind, Outcome, Shape, Window
from .kinds.base import Q
from .spec import INPUT_NAME, NetworkSpec


class DType(enum.StrEnum):
    """Element types for memory estimates (bytes per element in ``itemsize``)."""

    FLOAT32 = "float32"
    FLOAT16 = "float16"
    BFLOAT16 = "bfloat16"
    FLOAT64 = "float64"
    INT8 = "int8"

    @property
    def itemsize(self) -> int:
        return _ITEMSIZE[self]


_ITEMSIZE = {DType.FLOAT32: 4, DType.FLOAT16: 2, DType.BFLOAT16: 2, DType.FLOAT64: 8, DType.INT8: 1}


class FlopMode(enum.StrEnum):
    """What counts as a FLOP.

    ``matmul``: 2 × MACs of conv/linear/RBF, nothing else — exactly what
    ``torch.utils.flop_counter.FlopCounterMode`` reports. ``all``: also bias adds, activations,
    pooling, normalisation and merges, at the per-element costs listed in the README.
    """

    MATMUL = "matmul"
    ALL = "all"


def json_number(value: Q) -> int | float:
    """An exact number as JSON carries it: an int, or the nearest float for a fraction."""
    return value if isinstance(value, int) else (value.numerator if value.denominator == 1 else float(value))


class WarningMode(enum.StrEnum):
    """What the commands do with the analysis' warnings: show them, or fail (exit 1) for CI."""

    SHOW = "show"
    ERROR = "error"


def _integral(value: Q) -> Q:
    """Fractions that are whole numbers back to int, so the common case stays in fast int arithmetic."""
    if type(value) is int or value.denominator != 1:  # type: ignore[union-attr]
        return value
    return value.numerator  # type: ignore[union-attr]


@dataclass(frozen=True, slots=True)
class ReceptiveField:
    """Receptive field of one output position, per axis (h, w), in input pixels; exact numbers.

    ``jump`` is the distance between neighbouring outputs in input pixels (a fraction after
    upsampling). ``start`` is the centre of the first output position's field in input
    coordinates, with input pixel i centred at i + 0.5 (negative: the field reaches into padding);
    it is kept doubled (``twice_start``) so that it stays an integer without upsampling.
    """

    size: tuple[Q, Q]
    jump: tuple[Q, Q]
    twice_start: tuple[Q, Q]

    @property
    def start(self) -> tuple[Q, Q]:
        return (_integral(Fraction(self.twice_start[0]) / 2), _integral(Fraction(self.twice_start[1]) / 2))

    def advance(self, window: Window) -> ReceptiveField:
        size, jump, twice = self.size, self.jump, self.twice_start
        span, stride, offset = window
        return ReceptiveField(
            (_integral(size[0] + (span[0] - 1) * jump[0]), _integral(size[1] + (span[1] - 1) * jump[1])),
            (_integral(jump[0] * stride[0]), _integral(jump[1] * stride[1])),
            (_integral(twice[0] + 2 * offset[0] * jump[0]), _integral(twice[1] + 2 * offset[1] * jump[1])),
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "size": [json_number(v) for v in self.size],
            "jump": [json_number(v) for v in self.jump],
            "start": [json_number(v) for v in self.start],
        }


_INPUT_RF = ReceptiveField((1, 1), (1, 1), (1, 1))


@dataclass(slots=True)
class LayerResult:
    """One analysed layer."""

    name: str
    kind: str
    inputs: tuple[str, ...]
    input_shapes: tuple[Shape, ...]
    output_shape: Shape
    trainable_params: int
    non_trainable_params: int
    macs: int
    flops: int
    activation_bytes: int
    param_bytes: int
    formula: str
    params_formula: str
    warnings: list[str]
    receptive_field: ReceptiveField | None  # None: each output sees the whole input
    details: dict[str, Any]
    params_spec: Mapping[str, Any]  # the validated hyper-parameters (shared with the spec: do not modify)
    line: int | None
    definition: Kind  # the kind's class instance: what views ask how to show this layer

    @property
    def params(self) -> int:
        return self.trainable_params + self.non_trainable_params

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "inputs": list(self.inputs),
            "input_shapes": [list(s) for s in self.input_shapes],
            "output_shape": list(self.output_shape),
            "params": self.params,
            "trainable_params": self.trainable_params,
            "non_trainable_params": self.non_trainable_params,
            "macs": self.macs,
            "flops": self.flops,
            "activation_bytes": self.activation_bytes,
            "param_bytes": self.param_bytes,
            "formula": self.formula,
            "params_formula": self.params_formula,
            "warnings": list(self.warnings),
            "receptive_field": self.receptive_field.to_dict() if self.receptive_field else None,
        }


@dataclass(frozen=True, slots=True)
class Totals:
    params: int
    trainable_params: int
    non_trainable_params: int
    macs: int
    flops: int
    activation_bytes: int
    param_bytes: int
    input_bytes: int
    warnings: int

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


@dataclass(slots=True)
class Analysis:
    """The analysed network: per-layer results in order, and totals."""

    spec: NetworkSpec
    input_shape: Shape
    dtype: DType
    flop_mode: FlopMode
    layers: list[LayerResult]
    totals: Totals
    by_name: dict[str, LayerResult] = field(repr=False, default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name

    def __getitem__(self, name: str) -> LayerResult:
        return self.by_name[name]

    def to_dict(self, layers: bool = True) -> dict[str, Any]:
        """The JSON contract (see the README): stable keys, plain values (`layers=False`: all but them)."""
        return {
            "name": self.spec.name,
            "description": self.spec.description,
            "source": self.spec.source,
            "input": list(self.input_shape),
            "dtype": self.dtype.value,
            "flops_convention": self.flop_mode.value,
            "layers": [layer.to_dict() for layer in self.layers] if layers else [],
            "totals": self.totals.to_dict(),
        }

    # --- what the commands write, as methods (each view is imported when first used) ------------

    def table(
        self,
        fmt: str = "text",
        collapse: bool = False,
        columns: str | tuple[str, ...] | list[str] | None = None,
        lang: str | None = None,
        convention: str = "archcalc",
        notation: str = "chw",
    ) -> str:
        """`archcalc table`: text, markdown, csv, json or html, with the command's options:
        `columns` as ``--columns`` (``"layer,params,macs"`` or a sequence of names), `lang` (default:
        ``ARCHCALC_LANG``, else English), `convention` (whose MACs/FLOPs), `notation` (chw, hwc, lenet)."""
        from .i18n import resolve_lang
        from .report import render_table
        from .summary import parse_columns

        if columns is not None and not isinstance(columns, str):
            columns = ",".join(columns)
        chosen = parse_columns(columns) if columns is not None else None
        return render_table(self, fmt, collapse, chosen, resolve_lang(lang), convention, notation)

    def svg(self, **options: Any) -> str:
        """`archcalc render`: the 3D figure as SVG (options as ``figure3d.Options``; `lang`, as the
        command's ``--lang``, defaults to ``ARCHCALC_LANG``, else English)."""
        from .figure3d import Options, build_figure, render_svg
        from .i18n import resolve_lang

        lang = resolve_lang(options.pop("lang", None))
        return render_svg(build_figure(self, Options(**options, lang=lang)))

    def dot(self, direction: str = "tb", fold: bool = False) -> str:
        """`archcalc render --style graph --format dot`: the layer graph as DOT text (`fold`: as ``--fold``)."""
        from .graph import to_dot

        return to_dot(self, direction, fold)

    def chart(self, fmt: str = "png", dpi: int | None = None, lang: str | None = None) -> bytes:
        """`archcalc chart`: parameters, MACs and activation memory per layer, as PNG, SVG or PDF bytes."""
        from .charts import render_chart

        return render_chart(self, fmt, dpi, lang)

    def explain(self, layers: str | list[str] | tuple[str, ...] | None = None, fmt: str = "text",
                lang: str | None = None) -> str:  # fmt: skip
        """`archcalc explain`: each stage (only `layers`, a name or names, when given) as text,
        markdown or html, in `lang` (default: ``ARCHCALC_LANG``, else English)."""
        from .explain import explain

        return explain(self, [layers] if isinstance(layers, str) else layers, fmt, lang)

    def conventions(self, fmt: str = "text", lang: str | None = None) -> str:
        """`archcalc conventions`: every layer as each FLOP counter reports it, the totals and the rules."""
        from .conventions import render_comparison

        return render_comparison(self, fmt, lang)

    def grade(self, table: Any) -> Any:
        """`archcalc grade`: a hand-made layer table (its text, a path or a ``LearnerTable``) graded
        against this analysis, as a ``teaching.GradeResult`` (``.ok``; ``render_grade`` for the report)."""
        from .teaching.grade import grade

        return grade(self, table)

    def code(self) -> str:
        """`archcalc codegen`: a self-contained PyTorch module."""
        from .codegen import generate

        return generate(self).source

    def check(self, device: str = "auto", batch: int = 2, dtype: str = "float32") -> Any:
        """`archcalc check`: a CheckReport comparing every layer with PyTorch (``.ok``)."""
        from .crosscheck import check

        return check(self.spec.with_input(self.input_shape), device, batch, dtype)

    def _repr_html_(self) -> str:
        from .html import notebook_html

        return notebook_html(self)

    def _repr_svg_(self) -> str:
        return self.svg()

    def __repr__(self) -> str:  # not the 7,000-character dataclass dump
        t = self.totals
        return f"<Analysis {self.name!r}: {len(self.layers)} layers, {t.params:,} params, {t.macs:,} MACs>"

    def raise_for_warnings(self) -> None:
        """WarningsAsErrors listing every warning, if there is one (``--warnings error``)."""
        found = [f"{layer.name}: {warning}" for layer in self.layers for warning in layer.warnings]
        if found:
            raise WarningsAsErrors(f"{len(found)} warning(s) in {self.spec.name}: " + "; ".join(found))

    def to_networkx(self) -> Any:
        """The layer graph as a ``networkx.DiGraph`` (nodes carry their LayerResult as ``result``)."""
        import networkx as nx

        graph = nx.DiGraph(name=self.spec.name)
        graph.add_node(INPUT_NAME, result=None, shape=self.input_shape)
        for layer in self.layers:
            graph.add_node(layer.name, result=layer, shape=layer.output_shape)
            for source in layer.inputs:
                graph.add_edge(source, layer.name)
        return graph


def analyse(
    spec: NetworkSpec,
    input_shape: Shape | None = None,
    dtype: DType | str = DType.FLOAT32,
    flops: FlopMode | str = FlopMode.MATMUL,
) -> Analysis:
    """Annotate every layer of `spec` (optionally on another input shape)."""
    dtype = DType(dtype)
    flop_mode = FlopMode(flops)
    if input_shape is not None:
        spec = spec.with_input(tuple(input_shape))
    with paused_gc():
        return _annotate(spec, dtype, flop_mode)


@contextmanager
def paused_gc() -> Iterator[None]:
    """The analysis builds many small objects and no cycles: Python's cyclic collector would only
    rescan them again and again (superlinear time on large specs), so it pauses meanwhile."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _annotate(spec: NetworkSpec, dtype: DType, flop_mode: FlopMode) -> Analysis:
    itemsize = dtype.itemsize
    count_all = flop_mode is FlopMode.ALL
    shapes: dict[str, Shape] = {INPUT_NAME: spec.input_shape}
    fields: dict[str, ReceptiveField | None] = {INPUT_NAME: _INPUT_RF}
    results: list[LayerResult] = []
    by_name: dict[str, LayerResult] = {}
    sums = [0] * 6  # trainable, non-trainable, macs, flops, activation bytes, warnings
    for layer in spec.layers:
        kind = KINDS[layer.kind]
        in_shapes = [shapes[name] for name in layer.inputs]
        try:
            outcome = kind.infer(layer.params, in_shapes)
        except LayerError as exc:
            if exc.about_input:
                exc.message += _produced_by(layer.inputs[0], by_name)
            raise exc.located(path=spec.path, line=layer.line, layer=layer.name, kind=layer.kind) from None
        _check_contract(kind, layer.name, in_shapes, outcome)
        flop_count = 2 * outcome.macs + (outcome.extra_flops if count_all else 0)
        activation_bytes = math.prod(outcome.shape) * itemsize
        window = None if kind.keeps_positions else outcome.window
        rf = _receptive_field([fields[name] for name in layer.inputs[: kind.positional_inputs]], window)
        result = LayerResult(
            name=layer.name,
            kind=layer.kind,
            inputs=layer.inputs,
            input_shapes=tuple(in_shapes),
            output_shape=outcome.shape,
            trainable_params=outcome.trainable,
            non_trainable_params=outcome.non_trainable,
            macs=outcome.macs,
            flops=flop_count,
            activation_bytes=activation_bytes,
            param_bytes=(outcome.trainable + outcome.non_trainable) * itemsize,
            formula=outcome.formula,
            params_formula=outcome.params_formula,
            warnings=outcome.warnings,
            receptive_field=rf,
            details=outcome.details,
            params_spec=layer.params,
            line=layer.line,
            definition=kind,
        )
        shapes[layer.name] = outcome.shape
        fields[layer.name] = rf
        results.append(result)
        by_name[layer.name] = result
        sums[0] += outcome.trainable
        sums[1] += outcome.non_trainable
        sums[2] += outcome.macs
        sums[3] += flop_count
        sums[4] += activation_bytes
        sums[5] += len(outcome.warnings)
    trainable, non_trainable, macs, flop_total, activation_total, warnings = sums
    totals = Totals(
        params=trainable + non_trainable,
        trainable_params=trainable,
        non_trainable_params=non_trainable,
        macs=macs,
        flops=flop_total,
        activation_bytes=activation_total,
        param_bytes=(trainable + non_trainable) * itemsize,
        input_bytes=math.prod(spec.input_shape) * itemsize,
        warnings=warnings,
    )
    return Analysis(spec, spec.input_shape, dtype, flop_mode, results, totals, by_name)


def _produced_by(source: str, by_name: dict[str, LayerResult]) -> str:
    """' (flatten1: 16 × 4 × 4 = 256)': where a layer's input size came from."""
    producer = by_name.get(source)
    if producer is None:
        return " (the network input)"
    how = producer.formula or fmt_shape(producer.output_shape)
    return f" ({producer.name}: {how})"


def _check_contract(kind: Kind, name: str, inputs: list[Shape], outcome: Outcome) -> None:
    """The engine holds every kind to what it declares; a breach is a bug in archcalc, said loudly."""
    if kind.keeps_positions and len(inputs[0]) == 3 and outcome.shape[1:] != inputs[0][1:]:
        raise InvariantError(
            f"kind '{kind.name}' declares that it keeps positions, but layer '{name}' maps "
            f"{fmt_shape(inputs[0])} to {fmt_shape(outcome.shape)}"
        )
    if not kind.keeps_positions and outcome.window is None:
        raise InvariantError(f"kind '{kind.name}' neither keeps positions nor says how it moves them (layer '{name}')")


def _receptive_field(inputs: list[ReceptiveField | None], window: Window | str | None) -> ReceptiveField | None:
    if window is None and len(inputs) == 1:  # position-preserving: the common case, kept cheap
        return inputs[0]
    if window == GLOBAL or None in inputs:
        return None
    rf = inputs[0] if len(inputs) == 1 else max(inputs, key=lambda r: r.size)  # type: ignore[arg-type,return-value]
    if isinstance(window, Window):
        return rf.advance(window)  # type: ignore[union-attr]
    return rf
