"""Normalisation: local response normalisation and batch normalisation."""

from __future__ import annotations

import math
from typing import Any

from ..fields import Boolean, Field, Integer, Number
from ..format import fmt_int
from ..pycode import Call
from .base import Kind, Outcome, Params, Shape, TorchLayer, options, spatial_input


class LRN(Kind):
    name = "lrn"
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
        formula = f"{c}×(γ, β) trainable + {c}×(mean, var) = {fmt_int(trainable + 2 * c)}"
        if not p["affine"]:
            formula = f"{c}×(mean, var) = {fmt_int(2 * c)}"
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
