"""Elementwise layers: activations, softmax and dropout (identity at inference)."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from ..fields import Field, Number
from ..pycode import Call
from .base import Appearance, Kind, Outcome, Params, Shape, TorchLayer, options


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
    summary = "max(0, x)"
    torch_module = "nn.ReLU"
    annotation_text = "ReLU"


class Tanh(Elementwise):
    name = "tanh"
    summary = "tanh(x)"
    torch_module = "nn.Tanh"
    annotation_text = "tanh"


class Sigmoid(Elementwise):
    name = "sigmoid"
    summary = "1 / (1 + e^−x)"
    torch_module = "nn.Sigmoid"
    annotation_text = "sigmoid"


class ScaledTanh(Elementwise):
    name = "scaled_tanh"
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
    summary = "softmax over channels (or features)"
    flops_per_element = 3
    annotation_text = "softmax"

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call("nn.Softmax", dim=1))


class Dropout(Elementwise):
    name = "dropout"
    summary = "dropout (identity at inference)"
    fields = (Field("p", Number(minimum=0, maximum=1, exclusive_maximum=True), 0.5, "drop probability"),)
    flops_per_element = 0
    appearance = Appearance.HIDDEN

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call("nn.Dropout", **options(p=(p["p"], 0.5))))
