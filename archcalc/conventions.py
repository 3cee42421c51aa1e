"""What each established FLOP counter reports for a network, layer by layer, and the rule behind it.

Two counters given the same network disagree because each has its own rules: whether a bias counts,
whether ReLU, pooling and normalisation cost anything, and whether the number is MACs or FLOPs
(fvcore calls MACs "flops"). Every kind declares how the counters see it (``Kind.counted_as``, an
``OpClass``); each convention here has one handler per OpClass, as fvcore keeps one handler per
operator. A handler returns the layer's number in the counter's own unit and the rule, in one line.
The rules were measured on the counters themselves (torchinfo 1.8.0, fvcore 0.1.5, ptflops 0.7.5,
thop 0.1.1, torch 2.13's FlopCounterMode); ``tests/test_conventions.py`` compares them exactly.

Pure arithmetic on the engine's results: nothing here imports torch or a counter.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from fractions import Fraction
from typing import Any

from .counters import ComparisonFormat, Convention, parse_convention
from .engine import Analysis, LayerResult
from .i18n import Lang, Message, Phrase, display_width, pad, resolve_lang, say
from .kinds.base import OpClass

# The rules and sources in Chinese, keyed by their English text (the handlers write English, which
# CSV and JSON keep as the contract's words; ``rule_text`` says them in another language).
RULES_ZH: dict[str, str] = {
    "(3C − 1) per position: exp, add, divide": "每个位置 (3C − 1)：指数、加法、除法",
    "(H/h_out · W/w_out + 1) per output element, truncated": "每个输出元素 (H/h_out · W/w_out + 1)，截断取整",
    "0 (a zero rule)": "0（规则为零）",
    "0: no parameters": "0：没有参数",
    "1 per element": "每个元素 1",
    "1 per element (its module hook)": "每个元素 1（模块钩子）",
    "1 per element (nn.LayerNorm has no 'affine')": "每个元素 1（nn.LayerNorm 没有 'affine'）",
    "1 per element (the patched F.silu)": "每个元素 1（被替换的 F.silu）",
    "1 per element (the patched F.softmax)": "每个元素 1（被替换的 F.softmax）",
    "1 per element of the padded map and of the padded ones (F.avg_pool2d)":
        "填充后的特征图与填充后的全 1 图每个元素各 1（F.avg_pool2d）",
    "1 per input element (F.avg_pool2d)": "每个输入元素 1（F.avg_pool2d）",
    "1 per input element, even as the identity": "每个输入元素 1，恒等变换也算",
    "1 per output element": "每个输出元素 1",
    "1 per output element (nearest)": "每个输出元素 1（最近邻）",
    "11 per output element (bilinear)": "每个输出元素 11（双线性）",
    "2 FLOPs per MAC, bias not counted": "每次乘加 2 FLOPs，不计偏置",
    "2 per element (1 without affine)": "每个元素 2（无 affine 时 1）",
    "2 per element: its module hook and F.prelu both count (its per-layer table: 1)":
        "每个元素 2：模块钩子与 F.prelu 各计一次（其逐层表：1）",
    "2 per element: its module hook and the patched functional both count (its per-layer table: 1)":
        "每个元素 2：模块钩子与被替换的函数各计一次（其逐层表：1）",
    "2 per input element: its module hook and F.avg_pool2d both count (its per-layer table: 1)":
        "每个输入元素 2：模块钩子与 F.avg_pool2d 各计一次（其逐层表：1）",
    "2 per input element: its module hook and F.max_pool2d both count (its per-layer table: 1)":
        "每个输入元素 2：模块钩子与 F.max_pool2d 各计一次（其逐层表：1）",
    "2 per input element: its module hook and the functional both count (its per-layer table: 1)":
        "每个输入元素 2：模块钩子与函数各计一次（其逐层表：1）",
    "2 per output element: its module hook and F.interpolate both count (its per-layer table: 1)":
        "每个输出元素 2：模块钩子与 F.interpolate 各计一次（其逐层表：1）",
    "3 per element + (C + size − 1)·H·W of its patched ops": "每个元素 3 + 被替换运算的 (C + size − 1)·H·W",
    "4 per element (2 without affine)": "每个元素 4（无 affine 时 2）",
    "4 per output element (bilinear)": "每个输出元素 4（双线性）",
    "5 per element (4 without affine)": "每个元素 5（无 affine 时 4）",
    "MACs + 1 per output element for the bias": "MACs + 偏置每个输出元素 1",
    "MACs of its matrix product": "其矩阵乘法的 MACs",
    "MACs, bias not counted": "MACs，不计偏置",
    "MACs, bias not counted (a transposed conv: output elements × C_in/groups × k_h·k_w)":
        "MACs，不计偏置（转置卷积：输出元素数 × C_in/groups × k_h·k_w）",
    "its parameter count": "其参数个数",
    "its parameter count, not per element": "其参数个数，不按元素计",
    "no arithmetic": "没有运算",
    "not counted": "不计",
    "not counted (convolutions and matrix products only)": "不计（只计卷积与矩阵乘法）",
    "not counted (matrix products and convolutions only)": "不计（只计矩阵乘法与卷积）",
    "not counted: Python operators": "不计：Python 运算符",
    "not counted: a module it does not know": "不计：它不认识的模块",
    "not counted: archcalc's AvgPool2dSame is not a module it knows": "不计：它不认识 archcalc 的 AvgPool2dSame 模块",
    "not counted: archcalc's LayerNorm2d is not a module it knows": "不计：它不认识 archcalc 的 LayerNorm2d 模块",
    "not counted: its matrix product is a Python operator": "不计：其矩阵乘法是 Python 运算符",
    "not counted: nn.GroupNorm has no rule": "不计：nn.GroupNorm 没有规则",
    "not counted: nn.LocalResponseNorm has no rule": "不计：nn.LocalResponseNorm 没有规则",
    "parameters × output positions: MACs + 1 per output element for the bias": "参数 × 输出位置数：MACs + 偏置每个输出元素 1",
    "skipped: avg_pool2d is an unsupported op": "跳过：avg_pool2d 是不支持的运算",
    "skipped: avg_pool2d, mul and add are unsupported ops": "跳过：avg_pool2d、mul 与 add 是不支持的运算",
    "skipped: elementwise ops are not counted": "跳过：逐元素运算不计",
    "skipped: its pow, mul and avg_pool3d ops are unsupported": "跳过：其 pow、mul 与 avg_pool3d 运算不受支持",
    "skipped: max pooling is an unsupported op": "跳过：最大池化是不支持的运算",
    "skipped: softmax is an unsupported op": "跳过：softmax 是不支持的运算",
    # the counters' sources
    "archcalc counts: multiply-accumulates of conv, linear and RBF layers": "archcalc 计数：卷积、全连接与 RBF 层的乘加次数",
    "torch.utils.flop_counter.FlopCounterMode counts: 2 FLOPs per MAC of conv/linear":
        "torch.utils.flop_counter.FlopCounterMode 计数：卷积/全连接每次乘加 2 FLOPs",
    "fvcore's FlopCountAnalysis.total() counts: MACs, which it calls flops":
        "fvcore 的 FlopCountAnalysis.total() 计数：MACs，它称之为 flops",
    "ptflops' get_model_complexity_info() returns it (default backend)": "ptflops 的 get_model_complexity_info() 的返回值（默认后端）",
    "ptflops' get_model_complexity_info(backend='aten') returns it": "ptflops 的 get_model_complexity_info(backend='aten') 的返回值",
    "thop's profile() returns it": "thop 的 profile() 的返回值",
    "torchinfo's summary() reports it (Total mult-adds)": "torchinfo 的 summary() 报告的值（Total mult-adds）",
}  # fmt: skip
NO_RULE: Message = {
    "en": "not counted by {convention}: no rule for kind '{kind}'",
    "zh": "{convention} 不计：没有 '{kind}' 类型的规则",
}


def rule_text(rule: str, lang: Lang = Lang.EN) -> str:
    """A rule (or a counter's source) in `lang`; English is the handlers' own text."""
    if lang is Lang.EN:
        return str(rule)
    if isinstance(rule, Phrase):
        return rule.said(lang)
    return RULES_ZH.get(rule, rule)


@dataclass(frozen=True, slots=True)
class Count:
    """One layer as one counter sees it: its number (in the counter's unit) and why."""

    value: int
    rule: str
    known: bool = True  # False: the convention has no rule for this kind (counted as 0, and said so)


@dataclass(frozen=True, slots=True)
class LayerCount:
    layer: LayerResult
    count: Count


@dataclass(frozen=True, slots=True)
class Counted:
    """A network counted under one convention: per layer, in order, and the total."""

    convention: Convention
    layers: list[LayerCount]

    @property
    def total(self) -> int:
        return sum(item.count.value for item in self.layers)

    def by_name(self) -> dict[str, int]:
        return {item.layer.name: item.count.value for item in self.layers}

    def counts(self) -> dict[str, Count]:
        return {item.layer.name: item.count for item in self.layers}


@dataclass(slots=True, repr=False)
class CountedAnalysis(Analysis):
    """An analysis whose views show one counter's numbers (``archcalc table --convention``): the
    layers keep archcalc's own counts; ``counted`` holds the counter's, which the views show."""

    counted: Counted | None = None

    def to_dict(self, layers: bool = True) -> dict[str, Any]:
        data = Analysis.to_dict(self, layers)
        if self.counted is not None:
            data["count_convention"] = self.counted.convention.value
            data["count_unit"] = self.counted.convention.unit
            data["totals"]["counted"] = self.counted.total
        return data


# --- what the handlers measure -------------------------------------------------------------------


def _elements(shape: tuple[int, ...]) -> int:
    return math.prod(shape)


def _input_elements(layer: LayerResult) -> int:
    return _elements(layer.input_shapes[0])


def _output_elements(layer: LayerResult) -> int:
    return _elements(layer.output_shape)


def _positions(layer: LayerResult) -> int:
    """Output positions: H·W of a map, 1 once flat."""
    return _elements(layer.output_shape[1:])


def _bias_terms(layer: LayerResult) -> int:
    """One add per output element when the layer has a bias."""
    return _output_elements(layer) if layer.params_spec.get("bias", False) else 0


def _bias_params(layer: LayerResult) -> int:
    return layer.output_shape[0] if layer.params_spec.get("bias", False) else 0


def _affine(layer: LayerResult) -> bool:
    return bool(layer.params_spec.get("affine", False))


def _flat(layer: LayerResult) -> bool:
    return len(layer.output_shape) == 1


def _emitted(layer: LayerResult) -> str:
    """What the layer is in PyTorch, as the kind emits it: ``nn.AvgPool2d``, ``nn.Sequential``, a helper."""
    return layer.definition.torch(layer.params_spec, list(layer.input_shapes), layer.details).call.func


def _pytorch_pool(layer: LayerResult) -> bool:
    """Pooling emitted as a torch module (SAME average pooling becomes a helper the counters do not know)."""
    return _emitted(layer).startswith("nn.")


def _pool_input_elements(layer: LayerResult) -> int:
    """What the pooling module reads: the input, or the padded input when an explicit pad layer goes first."""
    if _emitted(layer) != "nn.Sequential":
        return _input_elements(layer)
    c, h, w = layer.input_shapes[0]
    top, bottom, left, right = layer.details["padding"]
    return c * (h + top + bottom) * (w + left + right)


def _adaptive_thop(layer: LayerResult) -> int:
    """thop's adaptive pooling: ((H/oh)·(W/ow) + 1) per output element, in real numbers, then truncated."""
    _, h, w = layer.input_shapes[0]
    _, oh, ow = layer.output_shape
    return math.floor((Fraction(h, oh) * Fraction(w, ow) + 1) * _output_elements(layer))


def _lrn_ptflops(layer: LayerResult) -> int:
    """F.local_response_norm's patched ops: x·x, the padded avg_pool3d input, then ·α and +k."""
    c, h, w = layer.input_shapes[0]
    return 3 * c * h * w + (c + layer.params_spec["size"] - 1) * h * w


def _softmax_thop(layer: LayerResult) -> int:
    """thop: exp, add and divide along the channels, (3C − 1) per position."""
    channels = layer.input_shapes[0][0]
    return (3 * channels - 1) * (_input_elements(layer) // channels)


Handler = Callable[[LayerResult], Count]


def _zero(rule: str) -> Handler:
    return lambda layer: Count(0, rule)


def _per_element(factor: int, rule: str, of: Callable[[LayerResult], int] = _input_elements) -> Handler:
    return lambda layer: Count(factor * of(layer), rule)


def _macs(rule: str) -> Handler:
    return lambda layer: Count(layer.macs, rule)


NOTHING = "no arithmetic"

# --- the rules, per convention and op class ------------------------------------------------------

_ARCHCALC: dict[OpClass, Handler] = {
    op: (_macs("MACs, bias not counted") if op in (OpClass.WEIGHTED, OpClass.MATMUL) else _zero("not counted"))
    for op in OpClass
}

_TORCH: dict[OpClass, Handler] = {
    op: (
        (lambda layer: Count(2 * layer.macs, "2 FLOPs per MAC, bias not counted"))
        if op in (OpClass.WEIGHTED, OpClass.MATMUL)
        else _zero("not counted (matrix products and convolutions only)")
    )
    for op in OpClass
}

_FVCORE: dict[OpClass, Handler] = {
    OpClass.WEIGHTED: _macs("MACs, bias not counted"),
    OpClass.MATMUL: _macs("MACs of its matrix product"),
    OpClass.MAX_POOL: _zero("skipped: max pooling is an unsupported op"),
    OpClass.AVG_POOL: _zero("skipped: avg_pool2d is an unsupported op"),
    OpClass.ADAPTIVE_AVG_POOL: _per_element(1, "1 per input element, even as the identity"),
    OpClass.TRAINABLE_POOL: _zero("skipped: avg_pool2d, mul and add are unsupported ops"),
    OpClass.UPSAMPLE: lambda layer: (
        Count(4 * _output_elements(layer), "4 per output element (bilinear)")
        if layer.params_spec.get("mode") == "bilinear"
        else Count(_output_elements(layer), "1 per output element (nearest)")
    ),
    OpClass.BATCH_NORM: lambda layer: Count(
        (2 if _affine(layer) else 1) * _input_elements(layer),
        "2 per element (1 without affine)",
    ),
    **{
        op: (
            lambda layer: Count(
                (5 if _affine(layer) else 4) * _input_elements(layer), "5 per element (4 without affine)"
            )
        )
        for op in (OpClass.LAYER_NORM, OpClass.GROUP_NORM, OpClass.INSTANCE_NORM)
    },
    OpClass.LRN: _zero("skipped: its pow, mul and avg_pool3d ops are unsupported"),
    **{
        op: _zero("skipped: elementwise ops are not counted")
        for op in (OpClass.RELU, OpClass.CLAMP, OpClass.SILU, OpClass.PRELU, OpClass.ACTIVATION)
    },
    OpClass.SOFTMAX: _zero("skipped: softmax is an unsupported op"),
    OpClass.MERGE: _zero("skipped: elementwise ops are not counted"),
    OpClass.NONE: _zero(NOTHING),
}

_PTFLOPS: dict[OpClass, Handler] = {
    OpClass.WEIGHTED: lambda layer: Count(layer.macs + _bias_terms(layer), "MACs + 1 per output element for the bias"),
    OpClass.MATMUL: _zero("not counted: its matrix product is a Python operator"),
    OpClass.MAX_POOL: _per_element(
        2,
        "2 per input element: its module hook and F.max_pool2d both count (its per-layer table: 1)",
        _pool_input_elements,
    ),
    OpClass.AVG_POOL: lambda layer: (
        Count(
            2 * _pool_input_elements(layer),
            "2 per input element: its module hook and F.avg_pool2d both count (its per-layer table: 1)",
        )
        if _pytorch_pool(layer)
        else Count(
            _same_avg_pool_inputs(layer), "1 per element of the padded map and of the padded ones (F.avg_pool2d)"
        )
    ),
    OpClass.ADAPTIVE_AVG_POOL: _per_element(
        2, "2 per input element: its module hook and the functional both count (its per-layer table: 1)"
    ),
    OpClass.TRAINABLE_POOL: _per_element(1, "1 per input element (F.avg_pool2d)"),
    OpClass.UPSAMPLE: _per_element(
        2,
        "2 per output element: its module hook and F.interpolate both count (its per-layer table: 1)",
        _output_elements,
    ),
    OpClass.BATCH_NORM: lambda layer: Count(
        (2 if _affine(layer) else 1) * _input_elements(layer), "2 per element (1 without affine)"
    ),
    OpClass.LAYER_NORM: lambda layer: (
        Count(_input_elements(layer), "1 per element (nn.LayerNorm has no 'affine')")
        if _flat(layer)
        else Count(0, "not counted: archcalc's LayerNorm2d is not a module it knows")
    ),
    OpClass.GROUP_NORM: lambda layer: Count(
        (2 if _affine(layer) else 1) * _input_elements(layer), "2 per element (1 without affine)"
    ),
    OpClass.INSTANCE_NORM: lambda layer: Count(
        (2 if _affine(layer) else 1) * _input_elements(layer), "2 per element (1 without affine)"
    ),
    OpClass.LRN: lambda layer: Count(_lrn_ptflops(layer), "3 per element + (C + size − 1)·H·W of its patched ops"),
    OpClass.RELU: _per_element(
        2, "2 per element: its module hook and the patched functional both count (its per-layer table: 1)"
    ),
    OpClass.CLAMP: _per_element(1, "1 per element (its module hook)"),
    OpClass.SILU: _per_element(1, "1 per element (the patched F.silu)"),
    OpClass.PRELU: _per_element(2, "2 per element: its module hook and F.prelu both count (its per-layer table: 1)"),
    OpClass.ACTIVATION: _zero("not counted"),
    OpClass.SOFTMAX: _per_element(1, "1 per element (the patched F.softmax)"),
    OpClass.MERGE: _zero("not counted: Python operators"),
    OpClass.NONE: _zero(NOTHING),
}


def _same_avg_pool_inputs(layer: LayerResult) -> int:
    c, h, w = layer.input_shapes[0]
    top, bottom, left, right = layer.details["padding"]
    return (c + 1) * (h + top + bottom) * (w + left + right)


_PTFLOPS_ATEN: dict[OpClass, Handler] = {
    op: _zero("not counted (convolutions and matrix products only)") for op in OpClass
} | {
    OpClass.WEIGHTED: lambda layer: Count(layer.macs + _bias_terms(layer), "MACs + 1 per output element for the bias"),
    OpClass.MATMUL: _macs("MACs of its matrix product"),
}

_THOP: dict[OpClass, Handler] = {
    OpClass.WEIGHTED: lambda layer: Count(
        _output_elements(layer) * (layer.trainable_params - _bias_params(layer)) // layer.output_shape[0],
        "MACs, bias not counted (a transposed conv: output elements × C_in/groups × k_h·k_w)",
    ),
    OpClass.MATMUL: _zero("not counted: a module it does not know"),
    OpClass.MAX_POOL: _zero("0 (a zero rule)"),
    OpClass.AVG_POOL: lambda layer: (
        Count(_output_elements(layer), "1 per output element")
        if _pytorch_pool(layer)
        else Count(0, "not counted: archcalc's AvgPool2dSame is not a module it knows")
    ),
    OpClass.ADAPTIVE_AVG_POOL: lambda layer: Count(
        _adaptive_thop(layer), "(H/h_out · W/w_out + 1) per output element, truncated"
    ),
    OpClass.TRAINABLE_POOL: _zero("not counted: a module it does not know"),
    OpClass.UPSAMPLE: lambda layer: (
        Count(11 * _output_elements(layer), "11 per output element (bilinear)")
        if layer.params_spec.get("mode") == "bilinear"
        else Count(_output_elements(layer), "1 per output element (nearest)")
    ),
    OpClass.BATCH_NORM: lambda layer: Count(
        (4 if _affine(layer) else 2) * _input_elements(layer), "4 per element (2 without affine)"
    ),
    OpClass.LAYER_NORM: lambda layer: (
        Count((4 if _affine(layer) else 2) * _input_elements(layer), "4 per element (2 without affine)")
        if _flat(layer)
        else Count(0, "not counted: archcalc's LayerNorm2d is not a module it knows")
    ),
    OpClass.GROUP_NORM: _zero("not counted: nn.GroupNorm has no rule"),
    OpClass.INSTANCE_NORM: lambda layer: Count(
        (4 if _affine(layer) else 2) * _input_elements(layer), "4 per element (2 without affine)"
    ),
    OpClass.LRN: _zero("not counted: nn.LocalResponseNorm has no rule"),
    **{op: _zero("0 (a zero rule)") for op in (OpClass.RELU, OpClass.CLAMP)},
    OpClass.SILU: _zero("not counted"),
    OpClass.PRELU: _per_element(1, "1 per element"),
    OpClass.ACTIVATION: _zero("not counted"),
    OpClass.SOFTMAX: lambda layer: Count(_softmax_thop(layer), "(3C − 1) per position: exp, add, divide"),
    OpClass.MERGE: _zero("not counted: Python operators"),
    OpClass.NONE: _zero(NOTHING),
}

_TORCHINFO: dict[OpClass, Handler] = {op: _zero("0: no parameters") for op in OpClass} | {
    OpClass.WEIGHTED: lambda layer: Count(
        layer.params * _positions(layer), "parameters × output positions: MACs + 1 per output element for the bias"
    ),
    OpClass.MATMUL: lambda layer: Count(layer.params, "its parameter count"),
    **{
        op: lambda layer: Count(layer.trainable_params, "its parameter count, not per element")
        for op in (
            OpClass.BATCH_NORM,
            OpClass.LAYER_NORM,
            OpClass.GROUP_NORM,
            OpClass.INSTANCE_NORM,
            OpClass.PRELU,
            OpClass.TRAINABLE_POOL,
        )
    },
}

RULES: dict[Convention, dict[OpClass, Handler]] = {
    Convention.ARCHCALC: _ARCHCALC,
    Convention.TORCH: _TORCH,
    Convention.FVCORE: _FVCORE,
    Convention.PTFLOPS: _PTFLOPS,
    Convention.PTFLOPS_ATEN: _PTFLOPS_ATEN,
    Convention.THOP: _THOP,
    Convention.TORCHINFO: _TORCHINFO,
}


def count_layer(layer: LayerResult, convention: Convention | str) -> Count:
    """One layer under `convention`; a kind the convention has no rule for is 0 and says so."""
    convention = Convention(convention)
    op = layer.definition.counted_as
    handler = RULES[convention].get(op) if op is not None else None
    if handler is None:
        return Count(0, Phrase(NO_RULE, convention=convention.value, kind=layer.kind), known=False)
    return handler(layer)


def count(analysis: Analysis, convention: Convention | str) -> Counted:
    """Every layer of `analysis` as `convention` counts it (``.total``, ``.by_name()``)."""
    convention = Convention(convention)
    return Counted(convention, [LayerCount(layer, count_layer(layer, convention)) for layer in analysis.layers])


def recounted(analysis: Analysis, convention: Convention | str) -> Analysis:
    """`analysis` for the views under `convention`: itself for archcalc's own, else a CountedAnalysis."""
    convention = convention if isinstance(convention, Convention) else parse_convention(convention)
    if convention is Convention.ARCHCALC:
        return analysis
    values = {f.name: getattr(analysis, f.name) for f in fields(Analysis)}
    return CountedAnalysis(**values, counted=count(analysis, convention))


# --- the comparison: one network under every convention (``archcalc conventions``) ---------------


def count_all(analysis: Analysis) -> list[Counted]:
    """`analysis` under every convention, in Convention's order."""
    return [count(analysis, convention) for convention in Convention]


def rules_of(counted: Counted) -> list[tuple[list[str], str]]:
    """The distinct rules one convention applies to this network, each with the kinds it covers, in order."""
    kinds: dict[str, list[str]] = {}
    for item in counted.layers:
        covered = kinds.setdefault(item.count.rule, [])
        if item.layer.kind not in covered:
            covered.append(item.layer.kind)
    return [(names, rule) for rule, names in kinds.items()]


COMPARISON_WORDS: dict[str, Message] = {
    "title": {
        "en": "{name} — input {shape}: MACs/FLOPs as each counter reports them",
        "zh": "{name} — 输入 {shape}：各计数器报告的 MACs/FLOPs",
    },
    "layer": {"en": "Layer", "zh": "层"},
    "kind": {"en": "Kind", "zh": "类型"},
    "total": {"en": "Total", "zh": "合计"},
    "rules": {
        "en": "The rules behind the numbers (the kinds of this network):",
        "zh": "数字背后的规则（本网络的层类型）：",
    },
    "rules_title": {"en": "The rules behind the numbers", "zh": "数字背后的规则"},
    "colon": {"en": ": ", "zh": "："},
}


def _title(analysis: Analysis, lang: Lang = Lang.EN) -> str:
    shape = "×".join(map(str, analysis.input_shape))
    return say(COMPARISON_WORDS["title"], lang, name=analysis.name, shape=shape)


def _grid(analysis: Analysis, counted: list[Counted], lang: Lang = Lang.EN) -> list[tuple[str, ...]]:
    """Header, units, one row per layer, the totals; numbers with thousands separators."""
    words = {key: say(message, lang) for key, message in COMPARISON_WORDS.items()}
    rows = [
        (words["layer"], words["kind"], *(c.convention.value for c in counted)),
        ("", "", *(c.convention.unit for c in counted)),
    ]
    for index, layer in enumerate(analysis.layers):
        rows.append((layer.name, layer.kind, *(f"{c.layers[index].count.value:,}" for c in counted)))
    rows.append((words["total"], "", *(f"{c.total:,}" for c in counted)))
    return rows


def comparison_text(analysis: Analysis, lang: Lang = Lang.EN) -> str:
    counted = count_all(analysis)
    rows = _grid(analysis, counted, lang)
    widths = [max(display_width(row[i]) for row in rows) for i in range(len(rows[0]))]

    def line(row: tuple[str, ...]) -> str:
        cells = [pad(cell, w, right=i >= 2) for i, (cell, w) in enumerate(zip(row, widths, strict=True))]
        return "  ".join(cells).rstrip()

    rule = "=" * (sum(widths) + 2 * (len(widths) - 1))
    out = [_title(analysis, lang), rule, line(rows[0]), line(rows[1]), "-" * len(rule)]
    out += [line(row) for row in rows[2:-1]]
    out += ["-" * len(rule), line(rows[-1]), rule, "", say(COMPARISON_WORDS["rules"], lang)]
    label = max(len(c.convention.value) for c in counted)
    colon = say(COMPARISON_WORDS["colon"], lang)
    for c in counted:
        out.append(f"  {c.convention.value:<{label}}  {rule_text(c.convention.source, lang)}")
        for kinds, text in rules_of(c):
            out.append(f"  {'':<{label}}    {', '.join(kinds)}{colon}{rule_text(text, lang)}")
    return "\n".join(out) + "\n"


def _md(text: str) -> str:
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return escaped.replace("\\", "\\\\").replace("|", "\\|")


def comparison_markdown(analysis: Analysis, lang: Lang = Lang.EN) -> str:
    counted = count_all(analysis)
    rows = _grid(analysis, counted, lang)
    header = [*rows[0][:2], *(f"{name} ({unit})" for name, unit in zip(rows[0][2:], rows[1][2:], strict=True))]
    out = [f"### {_md(_title(analysis, lang))}", "", "| " + " | ".join(header) + " |"]
    out.append("| --- | --- | " + " | ".join("---:" for _ in counted) + " |")
    out += ["| " + " | ".join(_md(cell) for cell in row) + " |" for row in rows[2:-1]]
    out.append(f"| **{rows[-1][0]}** | | " + " | ".join(f"**{cell}**" for cell in rows[-1][2:]) + " |")
    out += ["", f"**{say(COMPARISON_WORDS['rules_title'], lang)}**", ""]
    colon = say(COMPARISON_WORDS["colon"], lang)
    for c in counted:
        out.append(f"- **{c.convention.value}** ({_md(rule_text(c.convention.source, lang))}){colon.rstrip()}")
        out += [f"  - {_md(', '.join(kinds))}{colon}{_md(rule_text(text, lang))}" for kinds, text in rules_of(c)]
    return "\n".join(out) + "\n"


def comparison_csv(analysis: Analysis, lang: Lang = Lang.EN) -> str:
    """Field names and kind names as the contract writes them; the rules in `lang`."""
    import csv
    import io

    from .report import csv_text

    counted = count_all(analysis)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["name", "kind", *(f for c in counted for f in (c.convention.value, f"{c.convention.value}_rule"))])
    for index, layer in enumerate(analysis.layers):
        cells = [f for c in counted for f in (c.layers[index].count.value, rule_text(c.layers[index].count.rule, lang))]
        writer.writerow([csv_text(layer.name), layer.kind, *cells])
    writer.writerow(["total", "", *(f for c in counted for f in (c.total, ""))])
    return buffer.getvalue()


def comparison_dict(analysis: Analysis, lang: Lang = Lang.EN) -> dict[str, Any]:
    """The JSON document: keys and names as the contract writes them, sources and rules in `lang`."""
    counted = count_all(analysis)
    return {
        "name": analysis.name,
        "input": list(analysis.input_shape),
        "conventions": [
            {
                "name": c.convention.value,
                "unit": c.convention.unit,
                "source": rule_text(c.convention.source, lang),
                "total": c.total,
            }
            for c in counted
        ],
        "layers": [
            {
                "name": layer.name,
                "kind": layer.kind,
                "counted_as": layer.definition.counted_as.value if layer.definition.counted_as else None,
                "counts": {c.convention.value: c.layers[index].count.value for c in counted},
                "rules": {c.convention.value: rule_text(c.layers[index].count.rule, lang) for c in counted},
            }
            for index, layer in enumerate(analysis.layers)
        ],
    }


def render_comparison(
    analysis: Analysis, fmt: ComparisonFormat | str = ComparisonFormat.TEXT, lang: Lang | str | None = Lang.EN
) -> str:
    """`archcalc conventions`: every layer under every convention, the totals, and the rules, the
    words in `lang` (None: ``ARCHCALC_LANG``, else English); numbers and counters' names as they are."""
    fmt = ComparisonFormat(fmt)
    chosen = resolve_lang(lang)
    if fmt is ComparisonFormat.JSON:
        import json

        return json.dumps(comparison_dict(analysis, chosen), indent=2, ensure_ascii=False) + "\n"
    renderers = {
        ComparisonFormat.TEXT: comparison_text,
        ComparisonFormat.MARKDOWN: comparison_markdown,
        ComparisonFormat.CSV: comparison_csv,
    }
    return renderers[fmt](analysis, chosen)
