"""Resampling and plumbing: upsampling, constant padding, centre cropping, channel shuffle, identity."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import LayerError
from ..fields import Boolean, Choice, Field, Integer, Interpolation, IntPair, Number, Sides
from ..format import bracketed, fmt_padding, fmt_pair
from ..i18n import Phrase, word
from ..palette import Role
from ..pycode import Call
from .base import (
    Appearance,
    Kind,
    OpClass,
    Outcome,
    Params,
    Q,
    Shape,
    TorchLayer,
    Window,
    exact,
    spatial_input,
    symmetric,
)
from .stage_notes import Rows, padding_text

if TYPE_CHECKING:
    from ..engine import LayerResult

# The figure's captions and notes: "up ×2", "pad 1", "shuffle 2".
UP = {"en": "up {by}", "zh": "上采样 {by}"}
PAD = {"en": "pad {sides}", "zh": "填充 {sides}"}
SHUFFLE = {"en": "shuffle {groups}", "zh": "通道混洗 {groups}"}
SHUFFLED = {
    "en": "{c} channels: {groups} groups of {size}, interleaved",
    "zh": "{c} 个通道：{groups} 组，每组 {size} 个，交错排列",
}


def _per_axis(h_text: str, w_text: str) -> str:
    """One formula when both axes do the same arithmetic, else ``H: ...; W: ...``."""
    return h_text if h_text == w_text else f"H: {h_text}; W: {w_text}"


def _bilinear_axis(n: int, out: int, align_corners: bool) -> tuple[int, Q, Q]:
    """(span, stride, offset) of one axis of bilinear resampling, in input positions.

    Output o samples input position (o + ½)·n/out − ½ (align_corners: o·(n − 1)/(out − 1)) and blends
    the two inputs around it; a sample that lands on an input's centre reads that input alone, which
    happens for every output when the step is a whole number (odd, without align_corners).
    """
    if align_corners:
        jump = exact(n - 1, out - 1) if out > 1 else exact(n, out)
        on_centres = out == 1 or (n - 1) % (out - 1) == 0
        offset: Q = 0
    else:
        jump = exact(n, out)
        on_centres = n % out == 0 and (n // out) % 2 == 1
        offset = exact(n - out, 2 * out)  # the first sample point, before torch clamps it to the border
    return (1 if on_centres or n == 1 else 2), jump, offset


class Upsample(Kind):
    name = "upsample"
    counted_as = OpClass.UPSAMPLE
    title = {"en": "upsampling", "zh": "上采样"}
    summary = "upsampling by an integer scale or to a size, nearest or bilinear (PyTorch's nn.Upsample)"
    fields = (
        Field("scale", IntPair(), None, "integer factor: s or [sh, sw]; give scale or size"),
        Field("size", IntPair(), None, "output size: n or [h, w]; give scale or size"),
        Field("mode", Choice(Interpolation), Interpolation.NEAREST, "nearest or bilinear"),
        Field("align_corners", Boolean(), False, "bilinear only: PyTorch's align_corners"),
    )
    example = {"scale": 2}
    appearance = Appearance.BLOCK
    role = Role.RESAMPLING
    charted = True

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        c, h, w = spatial_input(inputs[0], self.name)
        scale, size, bilinear = p["scale"], p["size"], p["mode"] is Interpolation.BILINEAR
        if scale is not None and size is not None:
            raise LayerError("give scale or size, not both", field="size")
        if scale is None and size is None:
            raise LayerError("needs scale (an integer factor) or size (the output size)", field="scale")
        if p["align_corners"] and not bilinear:
            raise LayerError(
                "align_corners applies to bilinear only; PyTorch refuses it with nearest", field="align_corners"
            )
        if scale is not None:
            out_h, out_w = h * scale[0], w * scale[1]
            formula = _per_axis(f"{h}×{scale[0]} = {out_h}", f"{w}×{scale[1]} = {out_w}")
        else:
            out_h, out_w = size
            formula = f"{h}×{w} → {out_h}×{out_w}"
        if bilinear:
            span_h, jump_h, offset_h = _bilinear_axis(h, out_h, p["align_corners"])
            span_w, jump_w, offset_w = _bilinear_axis(w, out_w, p["align_corners"])
            window = Window((span_h, span_w), (jump_h, jump_w), (offset_h, offset_w))
        else:  # torch's nearest reads input ⌊o·n/out⌋: output 0 is input 0
            window = Window((1, 1), (exact(h, out_h), exact(w, out_w)), (0, 0))
        return Outcome(
            shape=(c, out_h, out_w),
            extra_flops=4 * c * out_h * out_w if bilinear else 0,  # bilinear: a weighted sum of 2×2 inputs
            formula=formula,
            window=window,
        )

    def caption(self, layer: LayerResult) -> str:
        scale = layer.params_spec["scale"]
        if scale is None:
            return Phrase(UP, by="×".join(map(str, layer.output_shape[1:])))
        return Phrase(UP, by=f"×{scale[0]}" if scale[0] == scale[1] else f"×{scale[0]}, ×{scale[1]}")

    def graph_details(self, layer: LayerResult) -> str:
        p = layer.params_spec
        how = f"scale {fmt_pair(p['scale'])}" if p["scale"] is not None else "size " + "×".join(map(str, p["size"]))
        return f"{p['mode']}, {how}" + (", align_corners" if p["align_corners"] else "")

    def derivation(self, layer: LayerResult) -> list[tuple[str, str]]:
        p = layer.params_spec
        rows = [(word("scale", "倍数"), fmt_pair(p["scale"]))] if p["scale"] is not None else []
        rows += [] if rows else [(word("size", "大小"), fmt_pair(p["size"]))]
        return rows + [(word("mode", "插值方式"), str(p["mode"]) + (", align_corners" if p["align_corners"] else ""))]

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        scale, size = p["scale"], p["size"]
        kwargs: dict[str, Any] = {}
        if scale is not None:
            kwargs["scale_factor"] = scale[0] if scale[0] == scale[1] else scale
        else:
            kwargs["size"] = size
        if p["mode"] is Interpolation.BILINEAR:  # torch refuses align_corners with nearest, even False
            kwargs.update(mode=p["mode"].value, align_corners=p["align_corners"])
        return TorchLayer(Call("nn.Upsample", **kwargs))


class ZeroPad(Kind):
    name = "zeropad"
    counted_as = OpClass.NONE
    title = {"en": "padding", "zh": "填充"}
    summary = "pad the border with a constant, zero by default (PyTorch's nn.ZeroPad2d / nn.ConstantPad2d)"
    fields = (
        Field("padding", Sides(), doc="int, [h, w] or [top, bottom, left, right]"),
        Field("value", Number(), 0.0, "the constant the border is filled with"),
    )
    example = {"padding": 1}
    appearance = Appearance.BLOCK
    role = Role.RESAMPLING
    charted = True

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        c, h, w = spatial_input(inputs[0], self.name)
        top, bottom, left, right = p["padding"]
        out_h, out_w = h + top + bottom, w + left + right
        return Outcome(
            shape=(c, out_h, out_w),
            formula=_per_axis(f"{h} + {top} + {bottom} = {out_h}", f"{w} + {left} + {right} = {out_w}"),
            window=Window((1, 1), (1, 1), (-top, -left)),  # output 0 is the padding before input 0
        )

    def caption(self, layer: LayerResult) -> str:
        padding = layer.params_spec["padding"]
        return Phrase(PAD, sides=fmt_padding(padding) if symmetric(padding) else ",".join(map(str, padding)))

    def graph_details(self, layer: LayerResult) -> str:
        value = layer.params_spec["value"]
        return "pad " + fmt_padding(layer.params_spec["padding"]) + (f", value {value:g}" if value else "")

    def derivation(self, layer: LayerResult) -> list[tuple[str, str]]:
        padding = padding_text(layer.params_spec["padding"])
        return [(Rows.padding, padding), (word("fill", "填充值"), f"{layer.params_spec['value']:g}")]

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        top, bottom, left, right = p["padding"]
        sides: int | tuple[int, ...] = top if top == bottom == left == right else (left, right, top, bottom)
        if p["value"] == 0:
            return TorchLayer(Call("nn.ZeroPad2d", sides))
        return TorchLayer(Call("nn.ConstantPad2d", sides, p["value"]))


def _centre_cut(n: int, keep: int, sides: tuple[str, str]) -> tuple[int, str]:
    """Rows (or columns) cut before the kept ones, as torchvision's center_crop: round(cut/2), which
    rounds halves to even, so an odd cut of 1 or 5 leaves its odd pixel after, one of 3 or 7 before."""
    cut = n - keep
    before = int(round(cut / 2))
    return before, f"{n} − {keep} = {cut}: {before} {sides[0]}, {cut - before} {sides[1]}"


class Crop(Kind):
    name = "crop"
    counted_as = OpClass.NONE
    title = {"en": "crop", "zh": "裁剪"}
    caption_text = word("crop", "裁剪")
    summary = "centre-crop the first input to the height and width of the second (U-Net's skip connections)"
    arity = (2, 2)
    inputs_doc = "the map to crop and the layer whose size it takes"
    positional_inputs = 1
    appearance = Appearance.BLOCK
    role = Role.RESAMPLING
    charted = True

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        c, h, w = spatial_input(inputs[0], self.name)
        _, ref_h, ref_w = spatial_input(inputs[1], self.name)
        if ref_h > h or ref_w > w:
            raise LayerError(
                f"cannot crop {bracketed(inputs[0])} to the {ref_h}×{ref_w} of {bracketed(inputs[1])}: "
                "the second input must be no larger than the first",
                field="inputs",
            )
        top, f_h = _centre_cut(h, ref_h, ("top", "bottom"))
        left, f_w = _centre_cut(w, ref_w, ("left", "right"))
        formula = f"H: {f_h}; W: {f_w}"
        if (h - ref_h) % 2 or (w - ref_w) % 2:
            formula += " (before = round(cut/2), halves to even, as torchvision's center_crop)"
        padding = (top, h - ref_h - top, left, w - ref_w - left)
        return Outcome(
            shape=(c, ref_h, ref_w),
            formula=formula,
            window=Window((1, 1), (1, 1), (top, left)),
            details={"cut": padding},
        )

    def graph_details(self, layer: LayerResult) -> str:
        return "centre crop to " + "×".join(map(str, layer.output_shape[1:]))

    def derivation(self, layer: LayerResult) -> list[tuple[str, str]]:
        return [(word("cut", "裁去"), padding_text(layer.details["cut"]))]

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call("CenterCrop2d"), ("CenterCrop2d",))

    torch_helpers = {
        "CenterCrop2d": '''
class CenterCrop2d(nn.Module):
    """Centre-crops x to the height and width of ref, as torchvision's center_crop."""

    def forward(self, x, ref):
        height, width = ref.shape[-2:]
        top = int(round((x.shape[-2] - height) / 2.0))
        left = int(round((x.shape[-1] - width) / 2.0))
        return x[..., top : top + height, left : left + width]
'''
    }


class ChannelShuffle(Kind):
    name = "channel_shuffle"
    counted_as = OpClass.NONE
    title = {"en": "channel shuffle", "zh": "通道混洗"}
    summary = "interleave the channels of groups (ShuffleNet's channel shuffle, PyTorch's nn.ChannelShuffle)"
    fields = (Field("groups", Integer(), doc="the number of groups whose channels are interleaved"),)
    keeps_positions = True
    appearance = Appearance.ANNOTATION

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        c, _, _ = spatial_input(inputs[0], self.name)
        groups = p["groups"]
        if c % groups:
            raise LayerError(f"{c} channels are not divisible by {groups} groups", field="groups")
        return Outcome(shape=inputs[0], formula=Phrase(SHUFFLED, c=c, groups=groups, size=c // groups))

    def annotation(self, layer: LayerResult) -> str:
        return Phrase(SHUFFLE, groups=layer.params_spec["groups"])

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call("nn.ChannelShuffle", p["groups"]))


class Identity(Kind):
    name = "identity"
    counted_as = OpClass.NONE
    title = {"en": "identity", "zh": "恒等"}
    summary = "pass the input through unchanged (a placeholder; PyTorch's nn.Identity)"
    keeps_positions = True
    appearance = Appearance.HIDDEN

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        return Outcome(shape=inputs[0])

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call("nn.Identity"))
