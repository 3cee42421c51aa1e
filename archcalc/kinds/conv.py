"""Convolutions: plain, grouped, depthwise, dilated, with a connection table (LeNet-5's C3)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import LayerError
from ..fields import Boolean, ConnectionTable, Field, GroupMode, Groups, Integer, IntPair, Padding
from ..format import fmt_int
from ..palette import Role
from ..pycode import Call
from .base import Appearance, Outcome, Params, Shape, TorchLayer, options, spatial_input, with_padding
from .sliding import SlidingKind, slide

if TYPE_CHECKING:
    from ..engine import LayerResult

BIAS = Field("bias", Boolean(), True, "learnable additive bias")
IN_CHANNELS = Field(
    "in_channels", Integer(), None, "optional: the input channels you expect; a different input is an error"
)


def resolve_groups(p: Params, c_in: int) -> int:
    groups = p["groups"]
    return c_in if groups is GroupMode.DEPTHWISE else groups


def check_in_channels(p: Params, c_in: int) -> None:
    declared = p.get("in_channels")
    if declared is not None and declared != c_in:
        raise LayerError(f"in_channels {declared} declared, but the input has {c_in} channels", field="in_channels")


def check_groups(c_in: int, c_out: int, groups: int) -> None:
    if c_in % groups:
        raise LayerError(f"{c_in} input channels are not divisible by {groups} groups", field="groups")
    if c_out % groups:
        raise LayerError(f"{c_out} output channels are not divisible by {groups} groups", field="groups")


def check_table(table: tuple[tuple[int, ...], ...], groups: Any, c_in: int, c_out: int) -> None:
    if groups != 1:
        raise LayerError("a connection table replaces groups; leave groups at 1", field="connections")
    if len(table) != c_out:
        raise LayerError(
            f"has {len(table)} rows but the layer has {c_out} output channels (one row per output channel)",
            field="connections",
        )
    for index, row in enumerate(table):
        if max(row) >= c_in:
            raise LayerError(
                f"row {index} names input channel {max(row)}, but the input has only {c_in} channels (0..{c_in - 1})",
                field="connections",
            )


class Conv(SlidingKind):
    name = "conv"
    summary = "2-D convolution (groups or depthwise, dilation, SAME/VALID padding, optional connection table)"
    fields = (
        Field("out_channels", Integer(), doc="number of kernels (output feature maps)"),
        Field("kernel", IntPair(), doc="kernel size: k or [kh, kw]"),
        Field("stride", IntPair(), 1),
        Field("padding", Padding(), 0, "int, [h, w], [top, bottom, left, right], 'same' (TensorFlow rule) or 'valid'"),
        Field("dilation", IntPair(), 1),
        Field(
            "groups",
            Groups(),
            1,
            "split input and output channels into this many groups (AlexNet's two GPUs: 2); 'depthwise': one per input channel",
        ),
        BIAS,
        Field(
            "connections",
            ConnectionTable(),
            None,
            "for each output map, the input maps it sees (LeNet-5's C3); replaces groups",
        ),
        IN_CHANNELS,
    )
    appearance = Appearance.BLOCK
    role = Role.CONVOLUTION
    charted = True
    mixes_channels = True

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        c, h, w = spatial_input(inputs[0], self.name)
        check_in_channels(p, c)
        out_c, (kh, kw), table = p["out_channels"], p["kernel"], p["connections"]
        groups = resolve_groups(p, c)
        if table is not None:
            check_table(table, p["groups"], c, out_c)
        else:
            check_groups(c, out_c, groups)
        geo = slide(h, w, p["kernel"], p["stride"], p["padding"], p["dilation"])
        bias = out_c if p["bias"] else 0
        if table is not None:
            links = sum(len(row) for row in table)
            weights = links * kh * kw
            params_formula = f"{kh}×{kw}×{links} connections"
        else:
            weights = out_c * (c // groups) * kh * kw
            params_formula = f"{kh}×{kw}×{c // groups}×{out_c}"
        if bias:
            params_formula += f" + {out_c}"
        params_formula += f" = {fmt_int(weights + bias)}"
        pixels = geo.out_h * geo.out_w
        return Outcome(
            shape=(out_c, geo.out_h, geo.out_w),
            trainable=weights + bias,
            macs=weights * pixels,
            extra_flops=out_c * pixels if bias else 0,
            formula=geo.formula,
            params_formula=params_formula,
            warnings=geo.warnings,
            window=geo.window,
            details={**geo.details(), "groups": groups},
        )

    def groups(self, layer: LayerResult) -> int:
        return layer.details["groups"]

    def caption(self, layer: LayerResult) -> str:
        text = super().caption(layer)
        groups, c_in = self.groups(layer), layer.input_shapes[0][0]
        return "dw " + text if groups > 1 and groups == c_in else text

    def graph_details(self, layer: LayerResult) -> str:
        text = super().graph_details(layer)
        if self.groups(layer) > 1 and self.groups(layer) == layer.input_shapes[0][0]:
            text = text.replace(f"groups {self.groups(layer)}", "depthwise")
        return text + (", connection table" if layer.params_spec["connections"] is not None else "")

    def kernel_text(self, layer: LayerResult) -> str:
        p, (kh, kw) = layer.params_spec, layer.details["kernel"]
        if p["connections"] is not None:
            return f"{kh}×{kw}, {p['out_channels']} kernels through a connection table"
        groups, c_in = self.groups(layer), layer.input_shapes[0][0]
        text = f"{kh}×{kw}×{c_in // groups}, {p['out_channels']} kernels"
        if groups > 1:
            text += " (depthwise)" if groups == c_in else f" in {groups} groups"
        return text

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        table = p["connections"]

        def make(padding: tuple[int, int]) -> Call:
            kwargs = options(stride=(p["stride"], (1, 1)), padding=(padding, (0, 0)), dilation=(p["dilation"], (1, 1)))
            if table is not None:
                kwargs.update(options(bias=(p["bias"], True)))
                return Call("ConnectionConv2d", [list(row) for row in table], p["kernel"], **kwargs)
            kwargs.update(options(groups=(details["groups"], 1), bias=(p["bias"], True)))
            return Call("nn.Conv2d", inputs[0][0], p["out_channels"], p["kernel"], **kwargs)

        helpers = ("ConnectionConv2d",) if table is not None else ()
        return TorchLayer(with_padding(make, details["padding"]), helpers)

    torch_helpers = {
        "ConnectionConv2d": '''
class ConnectionConv2d(nn.Module):
    """A convolution whose output maps see only some input maps (LeNet-5's C3)."""

    def __init__(self, table, kernel_size, stride=1, padding=0, dilation=1, bias=True):
        super().__init__()
        self.table = [list(row) for row in table]
        self.maps = nn.ModuleList(
            nn.Conv2d(len(row), 1, kernel_size, stride, padding, dilation, bias=bias)
            for row in self.table
        )

    def forward(self, x):
        pairs = zip(self.maps, self.table, strict=True)
        return torch.cat([conv(x[:, row]) for conv, row in pairs], dim=1)
'''
    }
