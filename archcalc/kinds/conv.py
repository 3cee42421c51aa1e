"""Convolutions: plain, grouped, depthwise, dilated, with a connection table (LeNet-5's C3), and transposed."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..errors import LayerError
from ..fields import Boolean, ConnectionTable, Field, GroupMode, Groups, Integer, IntPair, Padding
from ..format import fmt_int, fmt_pair
from ..i18n import Phrase, word
from ..palette import Role
from ..pycode import Call
from .base import (
    Appearance,
    OpClass,
    Outcome,
    Params,
    Q,
    Shape,
    TorchLayer,
    Window,
    exact,
    options,
    spatial_input,
    with_padding,
)
from .sliding import SlidingKind, slide
from .stage_notes import Rows, conv_kernel_text, conv_notes, kernel_count

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


_TOTAL = {"en": "{formula}{bias} = {total}", "zh": "{formula}{bias} = {total}"}  # words only in {formula}
DEPTHWISE_CAPTION = {"en": "dw {window}", "zh": "逐通道 {window}"}  # the figure's caption: "dw 3×3"


class Conv(SlidingKind):
    name = "conv"
    window_word = Rows.kernel
    counted_as = OpClass.WEIGHTED
    title = {"en": "convolution", "zh": "卷积"}
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
            params_formula = Phrase({"en": "{kh}×{kw}×{links} connections", "zh": "{kh}×{kw}×{links} 个连接"},
                                    kh=kh, kw=kw, links=links)  # fmt: skip
        else:
            weights = out_c * (c // groups) * kh * kw
            params_formula = f"{kh}×{kw}×{c // groups}×{out_c}"
        bias_text = f" + {out_c}" if bias else ""
        params_formula = Phrase(_TOTAL, formula=params_formula, bias=bias_text, total=fmt_int(weights + bias))
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
        return Phrase(DEPTHWISE_CAPTION, window=text) if groups > 1 and groups == c_in else text

    def graph_details(self, layer: LayerResult) -> str:
        text = super().graph_details(layer)
        if self.groups(layer) > 1 and self.groups(layer) == layer.input_shapes[0][0]:
            text = text.replace(f"groups {self.groups(layer)}", "depthwise")
        return text + (", connection table" if layer.params_spec["connections"] is not None else "")

    def kernel_text(self, layer: LayerResult) -> str:
        return conv_kernel_text(layer, self.groups(layer))

    def kernel_depth(self, layer: LayerResult) -> int | None:
        if layer.params_spec["connections"] is not None:
            return None  # each output map reads its own number of input maps: the note says which
        return layer.input_shapes[0][0] // self.groups(layer)

    def stage(self, layer: LayerResult) -> list[tuple[str, str]]:
        return super().stage(layer) + [(Rows.kernels, kernel_count(layer.output_shape[0], self.groups(layer)))]

    def bias_count(self, layer: LayerResult) -> int | None:
        return layer.output_shape[0] if layer.params_spec["bias"] else 0

    def notes(self, layer: LayerResult) -> list[str]:
        return super().notes(layer) + conv_notes(layer, self.groups(layer))

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


def _transposed_axis(axis: int, n: int, k: int, s: int, p: int, op: int, d: int) -> tuple[int, str]:
    """Output size of one axis of a transposed convolution and its arithmetic, as PyTorch computes it:
    ``(14 − 1)×2 − 2×0 + (2 − 1) + 1 = 28``."""
    word = ("height", "width")[axis]
    if op >= s and op >= d:
        raise LayerError(
            f"output_padding {op} on the {word} must be smaller than the stride ({s}) or the dilation ({d}), "
            "as PyTorch requires",
            field="output_padding",
        )
    out = (n - 1) * s - 2 * p + d * (k - 1) + op + 1
    kernel = f"{d}×({k} − 1)" if d > 1 else f"({k} − 1)"
    body = f"({n} − 1)×{s} − 2×{p} + {kernel}" + (f" + {op}" if op else "") + " + 1"
    if out < 1:
        raise LayerError(f"padding {p} leaves no output {word}: {body} = {out}", field="padding")
    return out, f"{body} = {out}" + (f" (output_padding {op})" if op else "")


def _transposed_window(k: int, s: int, p: int, d: int) -> tuple[int, Q, Q]:
    """(span, stride, offset) of one axis, in input positions.

    Output o gathers input i through tap j where i·s − p + j·d = o: only the taps j ≡ j0 (mod s/g),
    g = gcd(d, s), land on one output, ⌈k/(s/g)⌉ of them at most, d/g inputs apart. With d = 1 that
    is ⌈k/s⌉. The first output's centre, o = 0, sits at (p − d(k − 1)/2)/s.
    """
    g = math.gcd(d, s)
    taps = -(-k // (s // g))
    return (taps - 1) * (d // g) + 1, exact(1, s), exact(2 * p - d * (k - 1), 2 * s)


class ConvTranspose(SlidingKind):
    name = "conv_transpose"
    window_word = Rows.kernel
    counted_as = OpClass.WEIGHTED
    title = {"en": "transposed convolution", "zh": "转置卷积"}
    summary = "2-D transposed convolution (PyTorch's ConvTranspose2d): learned upsampling"
    fields = (
        Field("out_channels", Integer(), doc="number of output feature maps"),
        Field("kernel", IntPair(), doc="kernel size: k or [kh, kw]"),
        Field("stride", IntPair(), 1, "the upsampling factor"),
        Field("padding", IntPair(minimum=0), 0, "rows/columns cut from each side of the output: int or [h, w]"),
        Field(
            "output_padding",
            IntPair(minimum=0),
            0,
            "rows/columns added at the bottom/right of the output; smaller than stride or dilation",
        ),
        Field("dilation", IntPair(), 1),
        Field("groups", Groups(), 1, "split input and output channels into groups; 'depthwise': one per input channel"),
        BIAS,
        IN_CHANNELS,
    )
    appearance = Appearance.BLOCK
    role = Role.CONVOLUTION
    charted = True
    mixes_channels = True
    caption_prefix = word("T ", "转置 ")

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        c, h, w = spatial_input(inputs[0], self.name)
        check_in_channels(p, c)
        out_c, (kh, kw), groups = p["out_channels"], p["kernel"], resolve_groups(p, c)
        check_groups(c, out_c, groups)
        (sh, sw), (ph, pw), (oph, opw), (dh, dw) = p["stride"], p["padding"], p["output_padding"], p["dilation"]
        out_h, f_h = _transposed_axis(0, h, kh, sh, ph, oph, dh)
        out_w, f_w = _transposed_axis(1, w, kw, sw, pw, opw, dw)
        span_h, jump_h, offset_h = _transposed_window(kh, sh, ph, dh)
        span_w, jump_w, offset_w = _transposed_window(kw, sw, pw, dw)
        weights = kh * kw * c * (out_c // groups)
        bias = out_c if p["bias"] else 0
        params_formula = f"{kh}×{kw}×{c}×{out_c // groups}" + (f" + {out_c}" if bias else "")
        return Outcome(
            shape=(out_c, out_h, out_w),
            trainable=weights + bias,
            macs=weights * h * w,  # each input position stamps its kernel once (torch's flop counter)
            extra_flops=out_c * out_h * out_w if bias else 0,
            formula=f_h if f_h == f_w else f"H: {f_h}; W: {f_w}",
            params_formula=f"{params_formula} = {fmt_int(weights + bias)}",
            window=Window((span_h, span_w), (jump_h, jump_w), (offset_h, offset_w)),
            details={
                "kernel": (kh, kw),
                "stride": (sh, sw),
                "padding": (ph, ph, pw, pw),
                "groups": groups,
                "output_padding": (oph, opw),
            },
        )

    def groups(self, layer: LayerResult) -> int:
        return layer.details["groups"]

    def graph_details(self, layer: LayerResult) -> str:
        text = super().graph_details(layer)
        if self.groups(layer) > 1 and self.groups(layer) == layer.input_shapes[0][0]:
            text = text.replace(f"groups {self.groups(layer)}", "depthwise")
        extra = layer.details["output_padding"]
        return text + (f", output_padding {fmt_pair(extra)}" if any(extra) else "")

    def kernel_text(self, layer: LayerResult) -> str:
        (kh, kw), groups = layer.details["kernel"], self.groups(layer)
        c_in, c_out = layer.input_shapes[0][0], layer.output_shape[0]
        stamped = {
            "en": "{kh}×{kw}×{depth}, {count} kernels (one per input channel, stamped on the output){grouped}",
            "zh": "{kh}×{kw}×{depth}，{count} 个卷积核（每个输入通道一个，印在输出上）{grouped}",
        }
        grouped = Phrase({"en": " in {groups} groups", "zh": "，分 {groups} 组"}, groups=groups) if groups > 1 else ""
        return Phrase(stamped, kh=kh, kw=kw, depth=c_out // groups, count=c_in, grouped=grouped)

    def stage(self, layer: LayerResult) -> list[tuple[str, str]]:
        return self.derivation(layer)

    def bias_count(self, layer: LayerResult) -> int | None:
        return layer.output_shape[0] if layer.params_spec["bias"] else 0

    def notes(self, layer: LayerResult) -> list[str]:
        return []  # its size is a product, not a division: nothing is dropped

    def derivation(self, layer: LayerResult) -> list[tuple[str, str]]:
        extra = layer.details["output_padding"]
        return super().derivation(layer) + ([("output_padding", fmt_pair(extra))] if any(extra) else [])

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        kwargs = options(
            stride=(p["stride"], (1, 1)),
            padding=(p["padding"], (0, 0)),
            output_padding=(p["output_padding"], (0, 0)),
            groups=(details["groups"], 1),
            bias=(p["bias"], True),
            dilation=(p["dilation"], (1, 1)),
        )
        return TorchLayer(Call("nn.ConvTranspose2d", inputs[0][0], p["out_channels"], p["kernel"], **kwargs))
