"""Elementwise layers: activations, softmax and dropout (identity at inference).

Each states its ``--flops all`` cost per element (``flops_per_element``), listed in the README.
"""

from __future__ import annotations

import enum
import math
from typing import Any, ClassVar

from ..fields import Boolean, Choice, Field, Number
from ..format import fmt_int
from ..i18n import Phrase, word
from ..pycode import Call
from .base import Appearance, Kind, OpClass, Outcome, Params, Shape, TorchLayer, options, spatial_input


class Elementwise(Kind):
    """Same shape out as in; ``flops_per_element`` operations per element under ``--flops all``."""

    flops_per_element: ClassVar[int] = 1
    torch_module: ClassVar[str] = ""
    keeps_positions = True

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        return Outcome(shape=inputs[0], extra_flops=math.prod(inputs[0]) * self.flops_per_element)

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call(self.torch_module))


class ReLU(Elementwise):
    name = "relu"
    counted_as = OpClass.RELU
    title = {"en": "ReLU", "zh": "ReLU 激活"}
    summary = "max(0, x)"
    torch_module = "nn.ReLU"
    annotation_text = "ReLU"


class Tanh(Elementwise):
    name = "tanh"
    counted_as = OpClass.ACTIVATION
    title = {"en": "tanh", "zh": "tanh 激活"}
    summary = "tanh(x)"
    torch_module = "nn.Tanh"
    annotation_text = "tanh"


class Sigmoid(Elementwise):
    name = "sigmoid"
    counted_as = OpClass.ACTIVATION
    title = {"en": "sigmoid", "zh": "sigmoid 激活"}
    summary = "1 / (1 + e^−x)"
    torch_module = "nn.Sigmoid"
    annotation_text = "sigmoid"


class ReLU6(Elementwise):
    name = "relu6"
    counted_as = OpClass.CLAMP
    title = {"en": "ReLU6", "zh": "ReLU6 激活"}
    summary = "min(max(0, x), 6) (MobileNet)"
    torch_module = "nn.ReLU6"
    flops_per_element = 1  # one clamp
    annotation_text = "ReLU6"


class LeakyReLU(Elementwise):
    name = "leaky_relu"
    counted_as = OpClass.CLAMP
    title = {"en": "leaky ReLU", "zh": "Leaky ReLU 激活"}
    summary = "x for x ≥ 0, negative_slope·x below"
    fields = (Field("negative_slope", Number(), 0.01, "slope below zero (PyTorch's default 0.01)"),)
    flops_per_element = 1  # counted as ReLU is: one select (the multiply only below zero)
    annotation_text = "Leaky ReLU"

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call("nn.LeakyReLU", **options(negative_slope=(p["negative_slope"], 0.01))))


# PReLU's parameter arithmetic: a slope per channel, or one for all.
PER_CHANNEL_SLOPES = {"en": "{c}×1 slope (one per channel) = {total}", "zh": "{c}×1 个斜率（每通道一个） = {total}"}
SHARED_SLOPE = word("1 shared slope", "1 个共享斜率")


class PReLU(Elementwise):
    name = "prelu"
    counted_as = OpClass.PRELU
    title = {"en": "PReLU", "zh": "PReLU 激活"}
    summary = "leaky ReLU with a learned slope: one shared, or one per channel (He et al. 2015)"
    fields = (
        Field("per_channel", Boolean(), False, "one slope per channel (num_parameters = C) instead of one shared"),
    )
    flops_per_element = 1  # as leaky ReLU
    annotation_text = "PReLU"

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        channels = inputs[0][0]
        slopes = channels if p["per_channel"] else 1
        formula = Phrase(PER_CHANNEL_SLOPES, c=channels, total=fmt_int(channels)) if p["per_channel"] else SHARED_SLOPE
        flops = math.prod(inputs[0]) * self.flops_per_element
        return Outcome(shape=inputs[0], trainable=slopes, extra_flops=flops, params_formula=formula)

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        # torch's PReLU reads its slopes along dim 1: channels of a map, features of a flat input
        return TorchLayer(Call("nn.PReLU", num_parameters=inputs[0][0] if p["per_channel"] else 1))


class ELU(Elementwise):
    name = "elu"
    counted_as = OpClass.RELU
    title = {"en": "ELU", "zh": "ELU 激活"}
    summary = "x for x > 0, α·(e^x − 1) below (Clevert et al. 2016)"
    fields = (Field("alpha", Number(), 1.0, "α: the value it saturates to is −α"),)
    flops_per_element = 3  # exp, subtract, multiply
    annotation_text = "ELU"

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call("nn.ELU", **options(alpha=(p["alpha"], 1.0))))


class GeluApproximation(enum.StrEnum):
    """torch's ``approximate`` values (auto(): the lower-case member names)."""

    NONE = enum.auto()  # x·Φ(x) with the error function
    TANH = enum.auto()  # 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))


class GELU(Elementwise):
    name = "gelu"
    counted_as = OpClass.RELU
    title = {"en": "GELU", "zh": "GELU 激活"}
    summary = "x·Φ(x), Φ the standard normal CDF (Hendrycks & Gimpel 2016)"
    fields = (
        Field(
            "approximate",
            Choice(GeluApproximation),
            GeluApproximation.NONE,
            "'none': exact, with erf; 'tanh': the tanh approximation (BERT, GPT-2)",
        ),
    )
    flops_per_element = 8  # the tanh form's cube, scalings, adds and tanh, about 8; the erf form alike
    annotation_text = "GELU"

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        approximate = p["approximate"].value
        return TorchLayer(Call("nn.GELU", **options(approximate=(approximate, GeluApproximation.NONE.value))))


class SiLU(Elementwise):
    name = "silu"
    counted_as = OpClass.SILU
    title = {"en": "SiLU", "zh": "SiLU 激活"}
    summary = "x·sigmoid(x), also called swish"
    torch_module = "nn.SiLU"
    flops_per_element = 4  # x / (1 + e^−x): negate, exp, add, divide
    annotation_text = "SiLU"


class Hardswish(Elementwise):
    name = "hardswish"
    counted_as = OpClass.ACTIVATION
    title = {"en": "hard swish", "zh": "Hardswish 激活"}
    summary = "x·ReLU6(x + 3)/6 (MobileNetV3)"
    torch_module = "nn.Hardswish"
    flops_per_element = 4  # add, clamp, multiply, divide
    annotation_text = "h-swish"


class Hardsigmoid(Elementwise):
    name = "hardsigmoid"
    counted_as = OpClass.ACTIVATION
    title = {"en": "hard sigmoid", "zh": "Hardsigmoid 激活"}
    summary = "ReLU6(x + 3)/6 (MobileNetV3)"
    torch_module = "nn.Hardsigmoid"
    flops_per_element = 3  # add, clamp, divide
    annotation_text = "h-sigmoid"


class ScaledTanh(Elementwise):
    name = "scaled_tanh"
    counted_as = OpClass.ACTIVATION
    title = {"en": "scaled tanh", "zh": "缩放 tanh 激活"}
    summary = "LeNet-5's squashing function A·tanh(S·x), A = 1.7159, S = 2/3"
    fields = (
        Field("amplitude", Number(), 1.7159, "A"),
        Field("slope", Number(), 2 / 3, "S"),
    )
    flops_per_element = 3
    annotation_text = "A·tanh"

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        kwargs = options(amplitude=(p["amplitude"], 1.7159), slope=(p["slope"], 2 / 3))
        return TorchLayer(Call("ScaledTanh", **kwargs), ("ScaledTanh",))

    torch_helpers = {
        "ScaledTanh": '''
class ScaledTanh(nn.Module):
    """LeNet-5's squashing function A * tanh(S * x)."""

    def __init__(self, amplitude=1.7159, slope=2 / 3):
        super().__init__()
        self.amplitude, self.slope = amplitude, slope

    def forward(self, x):
        return self.amplitude * torch.tanh(self.slope * x)
'''
    }


class Softmax(Elementwise):
    name = "softmax"
    counted_as = OpClass.SOFTMAX
    title = {"en": "softmax", "zh": "softmax"}
    summary = "softmax over channels (or features)"
    flops_per_element = 3
    annotation_text = "softmax"

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call("nn.Softmax", dim=1))


class Dropout(Elementwise):
    name = "dropout"
    counted_as = OpClass.NONE
    title = {"en": "dropout", "zh": "丢弃 (dropout)"}
    summary = "dropout (identity at inference)"
    fields = (Field("p", Number(minimum=0, maximum=1, exclusive_maximum=True), 0.5, "drop probability"),)
    flops_per_element = 0
    appearance = Appearance.HIDDEN

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call("nn.Dropout", **options(p=(p["p"], 0.5))))


class Dropout2d(Elementwise):
    name = "dropout2d"
    counted_as = OpClass.NONE
    title = {"en": "channel dropout", "zh": "通道丢弃 (dropout2d)"}
    summary = "channel dropout: whole maps zeroed in training (identity at inference)"
    fields = (Field("p", Number(minimum=0, maximum=1, exclusive_maximum=True), 0.5, "probability of dropping a map"),)
    flops_per_element = 0
    appearance = Appearance.HIDDEN

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        # it drops whole maps; torch deprecates it on flat inputs (plain dropout does that)
        spatial_input(inputs[0], self.name)
        return super().infer(p, inputs)

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call("nn.Dropout2d", **options(p=(p["p"], 0.5))))
