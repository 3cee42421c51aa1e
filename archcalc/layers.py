"""Layer kinds: every rule of a kind lives in its class.

A kind declares its hyper-parameter fields (which give both validation and the JSON Schema)
and implements ``infer``: from the validated hyper-parameters and the input shapes it returns
the output shape, the arithmetic that produced it, parameters, MACs, the extra FLOPs counted
under ``--flops all``, and how it moves the receptive field. PyTorch emission lives here too
(``torch``), so adding a kind touches this file only.

Shapes are tuples in PyTorch order without the batch: ``(C, H, W)``, or ``(N,)`` when flat.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, NamedTuple

from .errors import LayerError
from .fields import Boolean, ConnectionTable, Field, Integer, IntPair, Number, Padding, PaddingMode
from .pycode import Call

Shape = tuple[int, ...]
Params = Mapping[str, Any]


def fmt_int(value: int) -> str:
    return f"{value:,}"


def fmt_pair(pair: Sequence[int]) -> str:
    """(3, 3) → '3'; (3, 2) → '3×2': a size or stride per axis, written once when both agree."""
    return str(pair[0]) if pair[0] == pair[1] else f"{pair[0]}×{pair[1]}"


def fmt_padding(padding: Sequence[int]) -> str:
    """(top, bottom, left, right) → '2', '1×2' (per axis) or 'top 3, bottom 4, left 3, right 4'."""
    top, bottom, left, right = padding
    if top == bottom and left == right:
        return fmt_pair((top, left))
    return f"top {top}, bottom {bottom}, left {left}, right {right}"


def fmt_shape(shape: Sequence[int]) -> str:
    return "×".join(str(v) for v in shape)


def prod(values: Sequence[int]) -> int:
    out = 1
    for v in values:
        out *= v
    return out


class Window(NamedTuple):
    """How a sliding-window layer maps positions, for the receptive field: per axis (h, w)."""

    kernel: tuple[int, int]  # effective (dilated) kernel
    stride: tuple[int, int]
    pad_before: tuple[int, int]


GLOBAL = "global"  # the output sees the whole input (flatten, linear, ...)


class Outcome:
    """What a kind computes for one layer (a plain class: built once per layer, kept cheap)."""

    __slots__ = (
        "shape", "trainable", "non_trainable", "macs", "extra_flops", "formula", "params_formula", "warnings",
        "window", "details",
    )  # fmt: skip

    def __init__(
        self,
        shape: Shape,
        trainable: int = 0,
        non_trainable: int = 0,
        macs: int = 0,
        extra_flops: int = 0,  # counted only with FlopMode.ALL (bias adds, activations, pooling, ...)
        formula: str = "",
        params_formula: str = "",
        warnings: list[str] | None = None,
        window: Window | str | None = None,  # None: position-preserving (elementwise)
        details: dict[str, Any] | None = None,
    ) -> None:
        self.shape, self.trainable, self.non_trainable = shape, trainable, non_trainable
        self.macs, self.extra_flops = macs, extra_flops
        self.formula, self.params_formula = formula, params_formula
        self.warnings = warnings if warnings is not None else []
        self.window = window
        self.details = details if details is not None else {}


# --------------------------------------------------------------------------------------------
# Sliding-window arithmetic shared by conv and pooling
# --------------------------------------------------------------------------------------------

_AXIS_WORDS = (("height", "row", "rows"), ("width", "column", "columns"))


def same_padding(n: int, k_eff: int, s: int) -> tuple[int, int]:
    """TensorFlow's SAME rule: output ceil(n/s); the odd pixel of padding goes after."""
    out = -(-n // s)
    total = max((out - 1) * s + k_eff - n, 0)
    return total // 2, total - total // 2


def _axis(
    axis: int, n: int, k: int, s: int, pb: int, pa: int, d: int, ceil_mode: bool, native: bool, warnings: list[str]
) -> tuple[int, str]:
    """Output size of one spatial axis and its textbook arithmetic, e.g. ``(227 − 11 + 2×0)/4 + 1 = 55``."""
    k_eff = d * (k - 1) + 1
    padded = n + pb + pa
    word, one, many = _AXIS_WORDS[axis]
    span = padded - k_eff
    q, r = divmod(span, s)
    out = q + 1
    dropped_last = False
    if ceil_mode and r:
        out = q + 2
        # PyTorch drops a last window that would start inside the right/bottom padding. Asymmetric
        # padding is applied as a separate pad layer, so PyTorch then sees it all as input.
        if (out - 1) * s >= (n + pb if native else n + pb + pa):
            out -= 1
            dropped_last = True
    if out < 1:
        what = f"kernel {k}" + (f" (dilated to {k_eff})" if d > 1 else "")
        pad_text = f" ({n} + {pb + pa} padding)" if pb + pa else ""
        raise LayerError(f"{what} is larger than the padded input {word} {padded}{pad_text}", field="kernel")
    pad_text = f"2×{pb}" if pb == pa else f"{pb} + {pa}"
    body = f"({n} − {k_eff} + {pad_text})/{s}"
    if r:
        body = f"⌈{body}⌉" if ceil_mode else f"⌊{body}⌋"
    formula = (
        f"{body} + 1 − 1 = {out} (a last window would start in the padding)" if dropped_last else f"{body} + 1 = {out}"
    )
    if d > 1:
        formula += f" (dilated kernel {d}×({k}−1)+1 = {k_eff})"
    if r and not ceil_mode:
        noun, verb = (one, "is") if r == 1 else (many, "are")
        warnings.append(
            f"{word}: ({n} − {k_eff} + {pb + pa})/{s} = {span / s:g} is not exact; "
            f"the last {r} {noun} of the padded input {verb} never covered by the kernel"
        )
    elif r and ceil_mode:
        warnings.append(f"{word}: ({n} − {k_eff} + {pb + pa})/{s} = {span / s:g}; ceil_mode adds a partial last window")
    return out, formula


def spatial_input(shape: Shape, kind: str) -> tuple[int, int, int]:
    if len(shape) != 3:
        raise LayerError(f"{kind} needs a [C, H, W] input, got a flat input of {shape[0]:,} features")
    return shape[0], shape[1], shape[2]


class Sliding(NamedTuple):
    """Resolved window geometry of a conv or pool layer on a given input."""

    out_h: int
    out_w: int
    padding: tuple[int, int, int, int]  # top, bottom, left, right
    formula: str
    warnings: list[str]
    window: Window
    kernel: tuple[int, int]
    stride: tuple[int, int]

    def details(self) -> dict[str, Any]:
        """What renderers and code generation read back: the resolved kernel, stride and padding."""
        return {"kernel": self.kernel, "stride": self.stride, "padding": self.padding}


def slide(
    h: int,
    w: int,
    kernel: tuple[int, int],
    stride: tuple[int, int],
    padding: PaddingMode | tuple[int, int, int, int],
    dilation: tuple[int, int] = (1, 1),
    ceil_mode: bool = False,
) -> Sliding:
    k_eff = (dilation[0] * (kernel[0] - 1) + 1, dilation[1] * (kernel[1] - 1) + 1)
    if padding is PaddingMode.SAME:
        top, bottom = same_padding(h, k_eff[0], stride[0])
        left, right = same_padding(w, k_eff[1], stride[1])
    elif padding is PaddingMode.VALID:
        top = bottom = left = right = 0
    else:
        top, bottom, left, right = padding
    warnings: list[str] = []
    native = top == bottom and left == right  # PyTorch's own padding argument can express it
    out_h, f_h = _axis(0, h, kernel[0], stride[0], top, bottom, dilation[0], ceil_mode, native, warnings)
    out_w, f_w = _axis(1, w, kernel[1], stride[1], left, right, dilation[1], ceil_mode, native, warnings)
    if f_h == f_w:
        formula = f_h
        if len(warnings) == 2:  # the same remark for both axes: say it once
            merged = "height and width" + warnings[0][len("height") :]
            warnings = [merged.replace(" rows ", " rows/columns ").replace(" row ", " row/column ")]
    else:
        formula = f"H: {f_h}; W: {f_w}"
    if padding is PaddingMode.SAME:
        formula += " (SAME)"
    window = Window(kernel=k_eff, stride=stride, pad_before=(top, left))
    return Sliding(out_h, out_w, (top, bottom, left, right), formula, warnings, window, kernel, stride)


# --------------------------------------------------------------------------------------------
# Kinds
# --------------------------------------------------------------------------------------------


class Kind:
    """Base class of layer kinds; subclasses register themselves in KINDS."""

    name: ClassVar[str]
    summary: ClassVar[str]
    fields: ClassVar[tuple[Field, ...]] = ()
    merges: ClassVar[bool] = False  # takes two or more inputs
    KINDS: ClassVar[dict[str, Kind]] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "name" in cls.__dict__:
            Kind.KINDS[cls.name] = cls()

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        raise NotImplementedError

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        """The PyTorch module for this layer: a ``torch.nn`` call, or a helper class from TORCH_HELPERS."""
        raise NotImplementedError


class TorchLayer(NamedTuple):
    call: Call
    helpers: tuple[str, ...] = ()


def _symmetric(padding: tuple[int, int, int, int]) -> tuple[int, int] | None:
    top, bottom, left, right = padding
    return (top, left) if top == bottom and left == right else None


def _with_padding(
    make: Callable[[tuple[int, int]], Call], padding: tuple[int, int, int, int], fill: float | None = None
) -> Call:
    """`make(padding)` when PyTorch's symmetric padding can express it, else an explicit pad layer first."""
    symmetric = _symmetric(padding)
    if symmetric is not None:
        return make(symmetric)
    top, bottom, left, right = padding
    sides = (left, right, top, bottom)
    pad = Call("nn.ZeroPad2d", sides) if fill is None else Call("nn.ConstantPad2d", sides, fill)
    return Call("nn.Sequential", pad, make((0, 0)))


def _options(**values: tuple[Any, Any]) -> dict[str, Any]:
    """Keyword arguments whose value differs from PyTorch's default (value, default)."""
    return {key: value for key, (value, default) in values.items() if value != default}


KINDS = Kind.KINDS

_bias = Field("bias", Boolean(), True, "learnable additive bias")


class Conv(Kind):
    name = "conv"
    summary = "2-D convolution (groups, dilation, SAME/VALID padding, optional connection table)"
    fields = (
        Field("out_channels", Integer(), doc="number of kernels (output feature maps)"),
        Field("kernel", IntPair(), doc="kernel size: k or [kh, kw]"),
        Field("stride", IntPair(), 1),
        Field("padding", Padding(), 0, "int, [h, w], [top, bottom, left, right], 'same' (TensorFlow rule) or 'valid'"),
        Field("dilation", IntPair(), 1),
        Field("groups", Integer(), 1, "split input and output channels into this many groups (AlexNet's two GPUs: 2)"),
        _bias,
        Field(
            "connections",
            ConnectionTable(),
            None,
            "for each output map, the input maps it sees (LeNet-5's C3); replaces groups",
        ),
    )

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        c, h, w = spatial_input(inputs[0], "conv")
        out_c, (kh, kw), groups = p["out_channels"], p["kernel"], p["groups"]
        table = p["connections"]
        if table is not None:
            if groups != 1:
                raise LayerError("a connection table replaces groups; leave groups at 1", field="connections")
            if len(table) != out_c:
                raise LayerError(
                    f"has {len(table)} rows but the layer has {out_c} output channels (one row per output channel)",
                    field="connections",
                )
            for index, row in enumerate(table):
                if max(row) >= c:
                    raise LayerError(
                        f"row {index} names input channel {max(row)}, but the input has only {c} channels (0..{c - 1})",
                        field="connections",
                    )
        elif c % groups:
            raise LayerError(f"{c} input channels are not divisible by {groups} groups", field="groups")
        elif out_c % groups:
            raise LayerError(f"{out_c} output channels are not divisible by {groups} groups", field="groups")
        geo = slide(h, w, p["kernel"], p["stride"], p["padding"], p["dilation"])
        bias = out_c if p["bias"] else 0
        kernel_area = kh * kw
        if table is not None:
            links = sum(len(row) for row in table)
            weights = links * kernel_area
            params_formula = f"{kh}×{kw}×{links} connections"
        else:
            weights = out_c * (c // groups) * kernel_area
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
            details=geo.details(),
        )

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        table = p["connections"]

        def make(padding: tuple[int, int]) -> Call:
            options = _options(
                stride=(p["stride"], (1, 1)), padding=(padding, (0, 0)), dilation=(p["dilation"], (1, 1))
            )
            if table is not None:
                options.update(_options(bias=(p["bias"], True)))
                return Call("ConnectionConv2d", [list(row) for row in table], p["kernel"], **options)
            options.update(_options(groups=(p["groups"], 1), bias=(p["bias"], True)))
            return Call("nn.Conv2d", inputs[0][0], p["out_channels"], p["kernel"], **options)

        helpers = ("ConnectionConv2d",) if table is not None else ()
        return TorchLayer(_with_padding(make, details["padding"]), helpers)


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


class _Pool(Kind):
    torch_module: ClassVar[str]
    pad_fill: ClassVar[float | None]  # value of explicit (asymmetric) padding; None: zeros

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        c, h, w = spatial_input(inputs[0], self.name)
        kernel = p["kernel"]
        stride = p["stride"] or kernel
        dilation = p.get("dilation", (1, 1))
        padding = p["padding"]
        if isinstance(padding, tuple) and _symmetric(padding) is not None:
            limit = (kernel[0] // 2, kernel[1] // 2)  # PyTorch's rule, on the undilated kernel
            if max(padding[:2]) > limit[0] or max(padding[2:]) > limit[1]:
                raise LayerError(
                    f"padding {max(padding)} is more than half the kernel ({limit[0]}×{limit[1]} at most), "
                    "which PyTorch rejects",
                    field="padding",
                )
        geo = slide(h, w, kernel, stride, padding, dilation, p["ceil_mode"])
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
            options = _options(
                stride=(stride, kernel),
                padding=(padding, (0, 0)),
                dilation=(p.get("dilation", (1, 1)), (1, 1)),
                ceil_mode=(p["ceil_mode"], False),
            )
            return Call(self.torch_module, kernel, **options)

        return TorchLayer(_with_padding(make, details["padding"], self.pad_fill))


class MaxPool(_Pool):
    name = "maxpool"
    summary = "max pooling"
    fields = _pool_fields(dilation=True)
    torch_module = "nn.MaxPool2d"
    pad_fill = float("-inf")


class AvgPool(_Pool):
    name = "avgpool"
    summary = "average pooling (explicit padding counts in the average as in PyTorch; SAME padding does not, as in TensorFlow)"
    fields = _pool_fields(dilation=False)
    torch_module = "nn.AvgPool2d"
    pad_fill = None

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        if p["padding"] is PaddingMode.SAME:
            top, bottom, left, right = details["padding"]
            call = Call("AvgPool2dSame", p["kernel"], details["stride"], (left, right, top, bottom))
            return TorchLayer(call, ("AvgPool2dSame",))
        return super().torch(p, inputs, details)


class AdaptiveAvgPool(Kind):
    name = "adaptive_avgpool"
    summary = "adaptive average pooling to a fixed output size"
    fields = (Field("output_size", IntPair(), doc="output size: n or [h, w]"),)

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        c, h, w = spatial_input(inputs[0], self.name)
        oh, ow = p["output_size"]
        window: Window | str | None
        if (h, w) == (oh, ow):
            window, formula = None, f"{h}×{w} → {oh}×{ow} (identity)"
        elif h % oh == 0 and w % ow == 0:
            window = Window(kernel=(h // oh, w // ow), stride=(h // oh, w // ow), pad_before=(0, 0))
            formula = f"{h}×{w} → {oh}×{ow} (window {h // oh}×{w // ow})"
        else:
            window, formula = GLOBAL, f"{h}×{w} → {oh}×{ow} (overlapping windows)"
        return Outcome(shape=(c, oh, ow), extra_flops=c * h * w, formula=formula, window=window)

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call("nn.AdaptiveAvgPool2d", p["output_size"]))


class Subsample(Kind):
    name = "subsample"
    summary = "LeNet-5's trainable subsampling: window sum × a coefficient + a bias, per map"
    fields = (
        Field("kernel", IntPair(), 2, "window size"),
        Field("stride", IntPair(), None, "defaults to the kernel size"),
    )

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
            params_formula=f"{c}×(1 coefficient + 1 bias) = {fmt_int(2 * c)}",
            warnings=geo.warnings,
            window=geo.window,
            details=geo.details(),
        )

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        call = Call("Subsample", inputs[0][0], p["kernel"], details["stride"])
        return TorchLayer(call, ("Subsample",))


class LRN(Kind):
    name = "lrn"
    summary = "local response normalisation across channels (PyTorch/Caffe constants: alpha is divided by size)"
    fields = (
        Field("size", Integer(), 5, "number of neighbouring channels (TensorFlow: 2 × depth_radius + 1)"),
        Field("alpha", Number(minimum=0), 1e-4, "PyTorch/Caffe alpha (TensorFlow's alpha × size)"),
        Field("beta", Number(), 0.75),
        Field("k", Number(), 1.0, "additive constant (the paper's k; TensorFlow's bias)"),
    )

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
            extra_flops=2 * prod(inputs[0]),
            params_formula=formula,
        )

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        module = "nn.BatchNorm2d" if len(inputs[0]) == 3 else "nn.BatchNorm1d"
        options = _options(eps=(p["eps"], 1e-5), momentum=(p["momentum"], 0.1), affine=(p["affine"], True))
        return TorchLayer(Call(module, inputs[0][0], **options))


class Dropout(Kind):
    name = "dropout"
    summary = "dropout (identity at inference)"
    fields = (Field("p", Number(minimum=0, maximum=1, exclusive_maximum=True), 0.5, "drop probability"),)

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        return Outcome(shape=inputs[0])

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call("nn.Dropout", **_options(p=(p["p"], 0.5))))


class _Elementwise(Kind):
    flops_per_element: ClassVar[int] = 1

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        return Outcome(shape=inputs[0], extra_flops=prod(inputs[0]) * self.flops_per_element)

    torch_module: ClassVar[str] = ""

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call(self.torch_module))


class ReLU(_Elementwise):
    name = "relu"
    summary = "max(0, x)"
    torch_module = "nn.ReLU"


class Tanh(_Elementwise):
    name = "tanh"
    summary = "tanh(x)"
    torch_module = "nn.Tanh"


class Sigmoid(_Elementwise):
    name = "sigmoid"
    summary = "1 / (1 + e^−x)"
    torch_module = "nn.Sigmoid"


class ScaledTanh(_Elementwise):
    name = "scaled_tanh"
    summary = "LeNet-5's squashing function A·tanh(S·x), A = 1.7159, S = 2/3"
    fields = (
        Field("amplitude", Number(), 1.7159, "A"),
        Field("slope", Number(), 2 / 3, "S"),
    )
    flops_per_element = 3

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        options = _options(amplitude=(p["amplitude"], 1.7159), slope=(p["slope"], 2 / 3))
        return TorchLayer(Call("ScaledTanh", **options), ("ScaledTanh",))


class Softmax(_Elementwise):
    name = "softmax"
    summary = "softmax over channels (or features)"
    flops_per_element = 3

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call("nn.Softmax", dim=1))


class Flatten(Kind):
    name = "flatten"
    summary = "flatten [C, H, W] to [C·H·W]"

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        shape = inputs[0]
        n = prod(shape)
        formula = f"{' × '.join(str(v) for v in shape)} = {fmt_int(n)}" if len(shape) > 1 else fmt_int(n)
        return Outcome(shape=(n,), formula=formula, window=GLOBAL)

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call("nn.Flatten"))


def _flat_input(shape: Shape, kind: str) -> int:
    if len(shape) != 1:
        raise LayerError(
            f"{kind} needs a flat input, got [{', '.join(map(str, shape))}]; add a 'flatten' layer before it"
        )
    return shape[0]


class Linear(Kind):
    name = "linear"
    summary = "fully connected layer"
    fields = (Field("out_features", Integer(), doc="number of output units"), _bias)

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        n_in = _flat_input(inputs[0], self.name)
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

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        options = _options(bias=(p["bias"], True))
        return TorchLayer(Call("nn.Linear", inputs[0][0], p["out_features"], **options))


class RBF(Kind):
    name = "rbf"
    summary = "LeNet-5's Euclidean RBF output: y_j = Σ_i (x_i − w_ij)²"
    fields = (
        Field("out_features", Integer(), doc="number of output units"),
        Field("trainable", Boolean(), True, "count the prototype vectors as trainable"),
    )

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        n_in = _flat_input(inputs[0], self.name)
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
        options = _options(trainable=(p["trainable"], True))
        return TorchLayer(Call("RBF", inputs[0][0], p["out_features"], **options), ("RBF",))


class Concat(Kind):
    name = "concat"
    summary = "concatenate inputs along channels (or features)"
    merges = True

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        first = inputs[0]
        for index, shape in enumerate(inputs[1:], start=1):
            if len(shape) != len(first) or shape[1:] != first[1:]:
                raise LayerError(
                    f"cannot concatenate [{', '.join(map(str, first))}] and [{', '.join(map(str, shape))}] "
                    f"(input {index + 1}): all inputs need the same spatial size",
                    field="inputs",
                )
        channels = sum(shape[0] for shape in inputs)
        formula = " + ".join(str(shape[0]) for shape in inputs) + f" = {channels} channels"
        return Outcome(shape=(channels, *first[1:]), formula=formula)

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call("Concat"), ("Concat",))


class Add(Kind):
    name = "add"
    summary = "elementwise sum of inputs of the same shape"
    merges = True

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        first = inputs[0]
        for index, shape in enumerate(inputs[1:], start=1):
            if shape != first:
                raise LayerError(
                    f"cannot add [{', '.join(map(str, first))}] and [{', '.join(map(str, shape))}] "
                    f"(input {index + 1}): all inputs need the same shape",
                    field="inputs",
                )
        return Outcome(shape=first, extra_flops=(len(inputs) - 1) * prod(first))

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call("Add"), ("Add",))


# Helper modules for kinds that torch.nn does not have; the code generator copies the ones a
# network uses into the generated file, which therefore imports nothing but torch.
TORCH_HELPERS: dict[str, str] = {
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
''',
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
''',
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
''',
    "ScaledTanh": '''
class ScaledTanh(nn.Module):
    """LeNet-5's squashing function A * tanh(S * x)."""

    def __init__(self, amplitude=1.7159, slope=2 / 3):
        super().__init__()
        self.amplitude, self.slope = amplitude, slope

    def forward(self, x):
        return self.amplitude * torch.tanh(self.slope * x)
''',
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
''',
    "Concat": '''
class Concat(nn.Module):
    """Concatenation along channels (or features)."""

    def forward(self, *inputs):
        return torch.cat(inputs, dim=1)
''',
    "Add": '''
class Add(nn.Module):
    """Elementwise sum."""

    def forward(self, first, *others):
        for other in others:
            first = first + other
        return first
''',
}


__all__ = [
    "GLOBAL",
    "KINDS",
    "TORCH_HELPERS",
    "Kind",
    "Outcome",
    "Shape",
    "TorchLayer",
    "Window",
    "fmt_int",
    "fmt_shape",
    "prod",
]
