"""Pooling: max and average windows, adaptive and global pooling, LeNet-5's trainable subsampling."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from ..errors import LayerError
from ..fields import Boolean, Field, IntPair, Padding, PaddingMode
from ..format import fmt_int
from ..i18n import Phrase, word
from ..palette import Role
from ..pycode import Call
from .base import (
    GLOBAL,
    IDENTITY_WINDOW,
    Appearance,
    Kind,
    OpClass,
    Outcome,
    Params,
    Shape,
    TorchLayer,
    Window,
    options,
    spatial_input,
    symmetric,
    with_padding,
)
from .sliding import SlidingKind, slide

if TYPE_CHECKING:
    from ..engine import LayerResult


def _pool_fields(dilation: bool) -> tuple[Field, ...]:
    fields = (
        Field("kernel", IntPair(), doc="window size: k or [kh, kw]"),
        Field("stride", IntPair(), None, "defaults to the kernel size"),
        Field("padding", Padding(), 0, "int, [h, w], [top, bottom, left, right], 'same' or 'valid'"),
        Field("ceil_mode", Boolean(), False, "round the output size up (PyTorch's ceil_mode)"),
    )
    if dilation:
        fields += (Field("dilation", IntPair(), 1),)
    return fields


def pad_limit(kernel: tuple[int, int]) -> tuple[int, int]:
    """PyTorch's pools take at most half the (undilated) kernel as padding; SAME with dilation can need
    more, which then goes in a pad layer before the pool."""
    return (kernel[0] // 2, kernel[1] // 2)


class _Pool(SlidingKind):
    torch_module: ClassVar[str]
    pad_fill: ClassVar[float | None]  # value of explicit (asymmetric) padding; None: zeros
    appearance = Appearance.BLOCK
    role = Role.POOLING
    charted = True

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        c, h, w = spatial_input(inputs[0], self.name)
        kernel = p["kernel"]
        stride = p["stride"] or kernel
        dilation = p.get("dilation", (1, 1))
        padding = p["padding"]
        limit = pad_limit(kernel)
        if isinstance(padding, tuple) and symmetric(padding) is not None:
            if max(padding[:2]) > limit[0] or max(padding[2:]) > limit[1]:
                raise LayerError(
                    f"padding {max(padding)} is more than half the kernel ({limit[0]}×{limit[1]} at most), "
                    "which PyTorch rejects",
                    field="padding",
                )
        geo = slide(h, w, kernel, stride, padding, dilation, p["ceil_mode"], native_limit=limit)
        elements = c * geo.out_h * geo.out_w
        return Outcome(
            shape=(c, geo.out_h, geo.out_w),
            extra_flops=elements * kernel[0] * kernel[1],  # comparisons, or adds and a divide
            formula=geo.formula,
            warnings=geo.warnings,
            window=geo.window,
            details=geo.details(),
        )

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        kernel, stride = p["kernel"], details["stride"]

        def make(padding: tuple[int, int]) -> Call:
            kwargs = options(
                stride=(stride, kernel),
                padding=(padding, (0, 0)),
                dilation=(p.get("dilation", (1, 1)), (1, 1)),
                ceil_mode=(p["ceil_mode"], False),
            )
            return Call(self.torch_module, kernel, **kwargs)

        return TorchLayer(with_padding(make, details["padding"], self.pad_fill, pad_limit(kernel)))


class MaxPool(_Pool):
    name = "maxpool"
    counted_as = OpClass.MAX_POOL
    title = {"en": "max pooling", "zh": "最大池化"}
    summary = "max pooling"
    fields = _pool_fields(dilation=True)
    torch_module = "nn.MaxPool2d"
    pad_fill = float("-inf")
    caption_prefix = word("max ", "最大 ")


class AvgPool(_Pool):
    name = "avgpool"
    counted_as = OpClass.AVG_POOL
    title = {"en": "average pooling", "zh": "平均池化"}
    summary = "average pooling (explicit padding counts in the average as in PyTorch; SAME padding does not, as in TensorFlow)"
    fields = _pool_fields(dilation=False)
    torch_module = "nn.AvgPool2d"
    pad_fill = None
    caption_prefix = word("avg ", "平均 ")

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        if p["padding"] is PaddingMode.SAME:
            top, bottom, left, right = details["padding"]
            call = Call("AvgPool2dSame", p["kernel"], details["stride"], (left, right, top, bottom))
            return TorchLayer(call, ("AvgPool2dSame",))
        return super().torch(p, inputs, details)

    torch_helpers = {
        "AvgPool2dSame": '''
class AvgPool2dSame(nn.Module):
    """Average pooling with TensorFlow's SAME padding (left out of the averages)."""

    def __init__(self, kernel_size, stride, padding):
        super().__init__()
        self.kernel_size, self.stride, self.padding = kernel_size, stride, padding

    def forward(self, x):
        pad, pool = torch.nn.functional.pad, torch.nn.functional.avg_pool2d
        total = pool(pad(x, self.padding), self.kernel_size, self.stride)
        ones = pad(torch.ones_like(x[:, :1]), self.padding)
        return total / pool(ones, self.kernel_size, self.stride)
'''
    }


class _Adaptive(Kind):
    """Adaptive pooling to a fixed output size; costs 1 per input element under ``--flops all``."""

    torch_module: ClassVar[str]
    fields = (Field("output_size", IntPair(), doc="output size: n or [h, w]"),)
    appearance = Appearance.BLOCK
    role = Role.POOLING
    charted = True

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        c, h, w = spatial_input(inputs[0], self.name)
        oh, ow = p["output_size"]
        window: Window | str
        if (h, w) == (oh, ow):
            window, formula = IDENTITY_WINDOW, f"{h}×{w} → {oh}×{ow} (identity)"
        elif h % oh == 0 and w % ow == 0:
            window = Window.sliding((h // oh, w // ow), (h // oh, w // ow), (0, 0))
            formula = f"{h}×{w} → {oh}×{ow} (window {h // oh}×{w // ow})"
        else:  # torch's windows then differ in size and overlap: no one window describes them
            window, formula = GLOBAL, f"{h}×{w} → {oh}×{ow} (overlapping windows)"
        return Outcome(shape=(c, oh, ow), extra_flops=c * h * w, formula=formula, window=window)

    def graph_details(self, layer: LayerResult) -> str:
        return "output " + "×".join(map(str, layer.params_spec["output_size"]))

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call(self.torch_module, p["output_size"]))


class AdaptiveAvgPool(_Adaptive):
    name = "adaptive_avgpool"
    counted_as = OpClass.ADAPTIVE_AVG_POOL
    title = {"en": "adaptive average pooling", "zh": "自适应平均池化"}
    summary = "adaptive average pooling to a fixed output size"
    torch_module = "nn.AdaptiveAvgPool2d"
    caption_text = word("adaptive avg", "自适应平均")


class AdaptiveMaxPool(_Adaptive):
    name = "adaptive_maxpool"
    counted_as = OpClass.MAX_POOL
    title = {"en": "adaptive max pooling", "zh": "自适应最大池化"}
    summary = "adaptive max pooling to a fixed output size"
    torch_module = "nn.AdaptiveMaxPool2d"
    caption_text = word("adaptive max", "自适应最大")


class _GlobalPool(Kind):
    """One value per channel from the whole map: [C, H, W] → [C, 1, 1]; 1 per input element under ``--flops all``."""

    torch_module: ClassVar[str]
    appearance = Appearance.BLOCK
    role = Role.POOLING
    charted = True

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        c, h, w = spatial_input(inputs[0], self.name)
        return Outcome(shape=(c, 1, 1), extra_flops=c * h * w, formula=f"{h}×{w} → 1×1 (global)", window=GLOBAL)

    def graph_details(self, layer: LayerResult) -> str:
        _, h, w = layer.input_shapes[0]
        return f"over {h}×{w}"

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call(self.torch_module, 1))


class GlobalAvgPool(_GlobalPool):
    name = "global_avgpool"
    counted_as = OpClass.ADAPTIVE_AVG_POOL
    title = {"en": "global average pooling", "zh": "全局平均池化"}
    summary = "global average pooling: the mean of each map (Network in Network)"
    torch_module = "nn.AdaptiveAvgPool2d"
    caption_text = word("global avg", "全局平均")


class GlobalMaxPool(_GlobalPool):
    name = "global_maxpool"
    counted_as = OpClass.MAX_POOL
    title = {"en": "global max pooling", "zh": "全局最大池化"}
    summary = "global max pooling: the maximum of each map"
    torch_module = "nn.AdaptiveMaxPool2d"
    caption_text = word("global max", "全局最大")


class Subsample(SlidingKind):
    name = "subsample"
    counted_as = OpClass.TRAINABLE_POOL
    title = {"en": "subsampling", "zh": "下采样"}
    summary = "LeNet-5's trainable subsampling: window sum × a coefficient + a bias, per map"
    fields = (
        Field("kernel", IntPair(), 2, "window size"),
        Field("stride", IntPair(), None, "defaults to the kernel size"),
    )
    appearance = Appearance.BLOCK
    role = Role.POOLING
    charted = True
    caption_prefix = word("sub ", "下采样 ")
    PARAMS = {"en": "{c}×(1 coefficient + 1 bias) = {total}", "zh": "{c}×(1 个系数 + 1 个偏置) = {total}"}

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        c, h, w = spatial_input(inputs[0], self.name)
        kernel = p["kernel"]
        stride = p["stride"] or kernel
        geo = slide(h, w, kernel, stride, (0, 0, 0, 0))
        elements = c * geo.out_h * geo.out_w
        return Outcome(
            shape=(c, geo.out_h, geo.out_w),
            trainable=2 * c,
            extra_flops=elements * (kernel[0] * kernel[1] + 1),
            formula=geo.formula,
            params_formula=Phrase(self.PARAMS, c=c, total=fmt_int(2 * c)),
            warnings=geo.warnings,
            window=geo.window,
            details=geo.details(),
        )

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        call = Call("Subsample", inputs[0][0], p["kernel"], details["stride"])
        return TorchLayer(call, ("Subsample",))

    torch_helpers = {
        "Subsample": '''
class Subsample(nn.Module):
    """LeNet-5's subsampling: window sum x trainable coefficient + trainable bias."""

    def __init__(self, channels, kernel_size, stride):
        super().__init__()
        self.kernel_size, self.stride = kernel_size, stride
        self.weight = nn.Parameter(torch.ones(channels))
        self.bias = nn.Parameter(torch.zeros(channels))

    def forward(self, x):
        area = self.kernel_size[0] * self.kernel_size[1]
        sums = torch.nn.functional.avg_pool2d(x, self.kernel_size, self.stride) * area
        return sums * self.weight.view(1, -1, 1, 1) + self.bias.view(1, -1, 1, 1)
'''
    }
