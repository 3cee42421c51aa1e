"""Normalisation: local response, batch, layer, group and instance normalisation."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..errors import LayerError
from ..fields import Boolean, Field, Integer, Number
from ..format import fmt_int
from ..i18n import Phrase, word
from ..pycode import Call
from .base import Kind, OpClass, Outcome, Params, Shape, TorchLayer, options, spatial_input

if TYPE_CHECKING:
    from ..engine import LayerResult

OVER = word("normalised over", "归一化范围")  # the derivation row of what shares a mean and variance
# The parameter arithmetic of running statistics, with the learned scale and shift or without.
AFFINE_AND_STATS = {
    "en": "{c}×(γ, β) trainable + {c}×(mean, var) = {total}",
    "zh": "{c}×(γ, β) 可训练 + {c}×(均值, 方差) = {total}",
}
STATS = {"en": "{c}×(mean, var) = {total}", "zh": "{c}×(均值, 方差) = {total}"}


class LRN(Kind):
    name = "lrn"
    counted_as = OpClass.LRN
    title = {"en": "local response normalisation", "zh": "局部响应归一化"}
    summary = "local response normalisation across channels (PyTorch/Caffe constants: alpha is divided by size)"
    fields = (
        Field("size", Integer(), 5, "number of neighbouring channels (TensorFlow: 2 × depth_radius + 1)"),
        Field("alpha", Number(minimum=0), 1e-4, "PyTorch/Caffe alpha (TensorFlow's alpha × size)"),
        Field("beta", Number(), 0.75),
        Field("k", Number(), 1.0, "additive constant (the paper's k; TensorFlow's bias)"),
    )
    keeps_positions = True
    annotation_text = "LRN"

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        c, h, w = spatial_input(inputs[0], self.name)
        return Outcome(shape=inputs[0], extra_flops=c * h * w * (2 * p["size"] + 3))

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call("nn.LocalResponseNorm", p["size"], alpha=p["alpha"], beta=p["beta"], k=p["k"]))


class BatchNorm(Kind):
    name = "batchnorm"
    counted_as = OpClass.BATCH_NORM
    title = {"en": "batch normalisation", "zh": "批归一化"}
    summary = "batch normalisation; running mean and variance counted as non-trainable (as Keras does)"
    fields = (
        Field("eps", Number(minimum=0, exclusive_minimum=True), 1e-5),
        Field("momentum", Number(minimum=0, maximum=1), 0.1, "PyTorch convention (Keras 0.99 = PyTorch 0.01)"),
        Field("affine", Boolean(), True, "learnable scale and shift"),
    )
    keeps_positions = True
    annotation_text = "BN"

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        c = inputs[0][0]
        trainable = 2 * c if p["affine"] else 0
        formula = Phrase(AFFINE_AND_STATS, c=c, total=fmt_int(trainable + 2 * c))
        if not p["affine"]:
            formula = Phrase(STATS, c=c, total=fmt_int(2 * c))
        return Outcome(
            shape=inputs[0],
            trainable=trainable,
            non_trainable=2 * c,
            extra_flops=2 * math.prod(inputs[0]),
            params_formula=formula,
        )

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        module = "nn.BatchNorm2d" if len(inputs[0]) == 3 else "nn.BatchNorm1d"
        kwargs = options(eps=(p["eps"], 1e-5), momentum=(p["momentum"], 0.1), affine=(p["affine"], True))
        return TorchLayer(Call(module, inputs[0][0], **kwargs))


# --flops all, per element, for norms that compute their statistics from each sample (at inference too)
STATISTICS_FLOPS = 5  # the mean's add, x − μ, its square and its add for the variance, the multiply by 1/σ
AFFINE_FLOPS = 2  # the learned scale and shift
EPS = Field("eps", Number(minimum=0, exclusive_minimum=True), 1e-5)
AFFINE = Field("affine", Boolean(), True, "learnable per-channel scale and shift (γ, β)")


class _SampleNorm(Kind):
    """Normalises each sample with its own statistics over some group of values; 2C affine parameters."""

    keeps_positions = True

    # the warning of a normalisation whose statistics are each of one value
    SINGLE_VALUE = {
        "en": "each mean and variance is of a single value, so the output is {output}",
        "zh": "每个均值和方差都只来自一个值，所以输出恒为 {output}",
    }

    def normalise(self, p: Params, shape: Shape, per_group: int) -> Outcome:
        """`per_group`: how many values share one mean and variance."""
        c, affine = shape[0], p["affine"]
        warnings: list[str] = []
        if per_group == 1:  # x − μ is 0 everywhere
            warnings.append(Phrase(self.SINGLE_VALUE, output="β" if affine else "0"))
        return Outcome(
            shape=shape,
            trainable=2 * c if affine else 0,
            extra_flops=math.prod(shape) * (STATISTICS_FLOPS + (AFFINE_FLOPS if affine else 0)),
            params_formula=f"{c}×(γ, β) = {fmt_int(2 * c)}" if affine else "",
            warnings=warnings,
        )


class LayerNorm(_SampleNorm):
    name = "layernorm"
    counted_as = OpClass.LAYER_NORM
    title = {"en": "layer normalisation", "zh": "层归一化"}
    summary = (
        "layer normalisation over the channels at each position, as ConvNeXt uses it "
        "(over the features of a flat input)"
    )
    fields = (
        Field(
            "eps",
            Number(minimum=0, exclusive_minimum=True),
            1e-6,
            "1e-6 as ConvNeXt uses; PyTorch's nn.LayerNorm defaults to 1e-5",
        ),
        Field("affine", Boolean(), True, "learnable per-channel scale and shift (PyTorch's elementwise_affine)"),
    )
    annotation_text = "LN"

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        return self.normalise(p, inputs[0], inputs[0][0])

    def graph_details(self, layer: LayerResult) -> str:
        return f"over {layer.input_shapes[0][0]:,} channels" if len(layer.input_shapes[0]) == 3 else ""

    def derivation(self, layer: LayerResult) -> list[tuple[str, str]]:
        shape = layer.input_shapes[0]
        if len(shape) == 1:
            return [(OVER, Phrase({"en": "the {n:,} features", "zh": "{n:,} 个特征"}, n=shape[0]))]
        at_each = {"en": "the {c:,} channels at each of {h}×{w} positions", "zh": "{h}×{w} 个位置上各自的 {c:,} 个通道"}
        return [(OVER, Phrase(at_each, c=shape[0], h=shape[1], w=shape[2]))]

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        kwargs = options(eps=(p["eps"], 1e-5), elementwise_affine=(p["affine"], True))
        if len(inputs[0]) == 1:
            return TorchLayer(Call("nn.LayerNorm", inputs[0][0], **kwargs))
        return TorchLayer(Call("LayerNorm2d", inputs[0][0], **kwargs), ("LayerNorm2d",))

    torch_helpers = {
        "LayerNorm2d": '''
class LayerNorm2d(nn.LayerNorm):
    """ConvNeXt's layer norm: over the channels at each position of (N, C, H, W)."""

    def forward(self, x):
        # nn.LayerNorm normalises the last dimensions: move channels last, and back
        return super().forward(x.permute(0, 2, 3, 1)).permute(0, 3, 1, 2)
'''
    }


class GroupNorm(_SampleNorm):
    name = "groupnorm"
    counted_as = OpClass.GROUP_NORM
    title = {"en": "group normalisation", "zh": "组归一化"}
    summary = "group normalisation: channels split into groups, each normalised over its channels and positions"
    fields = (Field("groups", Integer(), doc="number of channel groups (the paper's default is 32)"), EPS, AFFINE)
    annotation_text = "GN"

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        c, groups = inputs[0][0], p["groups"]
        if c % groups:
            raise LayerError(f"{c} input channels are not divisible by {groups} groups", field="groups")
        return self.normalise(p, inputs[0], math.prod(inputs[0]) // groups)

    def graph_details(self, layer: LayerResult) -> str:
        return f"{layer.params_spec['groups']} groups"

    def derivation(self, layer: LayerResult) -> list[tuple[str, str]]:
        c, groups = layer.input_shapes[0][0], layer.params_spec["groups"]
        groups_of = {"en": "{groups} of {each} channels", "zh": "{groups} 组，每组 {each} 个通道"}
        return [(word("groups", "分组"), Phrase(groups_of, groups=groups, each=c // groups))]

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        kwargs = options(eps=(p["eps"], 1e-5), affine=(p["affine"], True))
        return TorchLayer(Call("nn.GroupNorm", p["groups"], inputs[0][0], **kwargs))


class InstanceNorm(_SampleNorm):
    name = "instancenorm"
    counted_as = OpClass.INSTANCE_NORM
    title = {"en": "instance normalisation", "zh": "实例归一化"}
    summary = "instance normalisation: each channel of each sample over its positions"
    fields = (
        EPS,
        Field("affine", Boolean(), False, "learnable per-channel scale and shift (PyTorch's default: none)"),
        Field(
            "track_running_stats",
            Boolean(),
            False,
            "keep running mean and variance (non-trainable, as batchnorm's) and normalise with them at inference",
        ),
    )
    annotation_text = "IN"

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        c, h, w = spatial_input(inputs[0], self.name)
        if h * w == 1:
            raise LayerError(
                "a 1×1 map: each channel is a single value, which PyTorch refuses to normalise "
                "('Expected more than 1 spatial element')"
            )
        outcome = self.normalise(p, inputs[0], h * w)
        if p["track_running_stats"]:  # counted as batchnorm's are, and used as batchnorm uses them at inference
            outcome.non_trainable = 2 * c
            outcome.extra_flops = 2 * math.prod(inputs[0])
            outcome.params_formula = Phrase(STATS, c=c, total=fmt_int(2 * c))
            if p["affine"]:
                outcome.params_formula = Phrase(AFFINE_AND_STATS, c=c, total=fmt_int(4 * c))
        return outcome

    def graph_details(self, layer: LayerResult) -> str:
        return "running stats" if layer.params_spec["track_running_stats"] else ""

    def derivation(self, layer: LayerResult) -> list[tuple[str, str]]:
        _, h, w = layer.input_shapes[0]
        positions = {"en": "the {h}×{w} positions of each channel", "zh": "每个通道的 {h}×{w} 个位置"}
        return [(OVER, Phrase(positions, h=h, w=w))]

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        kwargs = options(
            eps=(p["eps"], 1e-5),
            affine=(p["affine"], False),
            track_running_stats=(p["track_running_stats"], False),
        )
        return TorchLayer(Call("nn.InstanceNorm2d", inputs[0][0], **kwargs))
