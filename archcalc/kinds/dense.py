"""Flat layers: flatten, fully connected, and LeNet-5's RBF output."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..errors import LayerError
from ..fields import Boolean, Field, Integer
from ..format import fmt_int
from ..palette import Role
from ..pycode import Call
from .base import GLOBAL, Appearance, Kind, OpClass, Outcome, Params, Shape, TorchLayer, flat_input, options
from .conv import BIAS

if TYPE_CHECKING:
    from ..engine import LayerResult

IN_FEATURES = Field(
    "in_features", Integer(), None, "optional: the input features you expect; a different input is an error"
)


def check_in_features(p: Params, n_in: int) -> None:
    declared = p.get("in_features")
    if declared is not None and declared != n_in:
        raise LayerError(
            f"in_features {declared:,} declared, but the input has {n_in:,} features",
            field="in_features",
            about_input=True,
        )


class Flatten(Kind):
    name = "flatten"
    counted_as = OpClass.NONE
    title = {"en": "flatten", "zh": "展平"}
    summary = "flatten [C, H, W] to [C·H·W]"
    appearance = Appearance.HIDDEN  # the next dense bar shows the flat size

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        shape = inputs[0]
        n = math.prod(shape)
        formula = f"{' × '.join(str(v) for v in shape)} = {fmt_int(n)}" if len(shape) > 1 else fmt_int(n)
        return Outcome(shape=(n,), formula=formula, window=GLOBAL)

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call("nn.Flatten"))


class _Dense(Kind):
    example_input = (16,)
    appearance = Appearance.BLOCK
    role = Role.DENSE
    charted = True
    mixes_channels = True

    def graph_details(self, layer: LayerResult) -> str:
        return f"{layer.params_spec['out_features']:,} units"


class Linear(_Dense):
    name = "linear"
    counted_as = OpClass.WEIGHTED
    title = {"en": "fully connected", "zh": "全连接"}
    summary = "fully connected layer"
    fields = (Field("out_features", Integer(), doc="number of output units"), BIAS, IN_FEATURES)

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        n_in = flat_input(inputs[0], self.name)
        check_in_features(p, n_in)
        n_out = p["out_features"]
        bias = n_out if p["bias"] else 0
        params_formula = f"{n_in}×{n_out}" + (f" + {n_out}" if bias else "") + f" = {fmt_int(n_in * n_out + bias)}"
        return Outcome(
            shape=(n_out,),
            trainable=n_in * n_out + bias,
            macs=n_in * n_out,
            extra_flops=bias,
            params_formula=params_formula,
            window=GLOBAL,
        )

    def bias_count(self, layer: LayerResult) -> int | None:
        return layer.output_shape[0] if layer.params_spec["bias"] else 0

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call("nn.Linear", inputs[0][0], p["out_features"], **options(bias=(p["bias"], True))))


class RBF(_Dense):
    name = "rbf"
    counted_as = OpClass.MATMUL
    title = {"en": "RBF output", "zh": "RBF 输出"}
    summary = "LeNet-5's Euclidean RBF output: y_j = Σ_i (x_i − w_ij)²"
    caption_text = "RBF"
    fields = (
        Field("out_features", Integer(), doc="number of output units"),
        Field("trainable", Boolean(), True, "count the prototype vectors as trainable"),
        IN_FEATURES,
    )

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        n_in = flat_input(inputs[0], self.name)
        check_in_features(p, n_in)
        n_out = p["out_features"]
        weights = n_in * n_out
        return Outcome(
            shape=(n_out,),
            trainable=weights if p["trainable"] else 0,
            non_trainable=0 if p["trainable"] else weights,
            # computed as |x|² − 2·x·w + |w|²: the x·w product is the multiply-accumulate part
            macs=weights,
            extra_flops=n_in + 2 * n_out,
            params_formula=f"{n_in}×{n_out} = {fmt_int(weights)}",
            window=GLOBAL,
        )

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        kwargs = options(trainable=(p["trainable"], True))
        return TorchLayer(Call("RBF", inputs[0][0], p["out_features"], **kwargs), ("RBF",))

    torch_helpers = {
        "RBF": '''
class RBF(nn.Module):
    """LeNet-5's Euclidean RBF output: y_j = sum_i (x_i - w_ji)^2."""

    def __init__(self, in_features, out_features, trainable=True):
        super().__init__()
        weight = torch.randn(out_features, in_features)
        self.weight = nn.Parameter(weight, requires_grad=trainable)

    def forward(self, x):
        # |x - w|^2 = |x|^2 - 2 x.w + |w|^2: the x.w product is one matrix multiply
        cross = x @ self.weight.t()
        x_squared = (x * x).sum(dim=1, keepdim=True)
        w_squared = (self.weight * self.weight).sum(dim=1)
        return x_squared - 2 * cross + w_squared
'''
    }
