"""Transposed convolution, resampling, cropping, channel shuffle, identity and multiply, against PyTorch.

Shapes, parameters and FLOPs are compared with torch's own modules on generated sizes (on the CPU:
the meta device skips some of torch's checks, output_padding's among them); receptive fields with
gradients; formulas and error messages on hand-checked examples.
"""

from __future__ import annotations

import math
import subprocess
from fractions import Fraction
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import assume, event, given
from hypothesis import strategies as st

import archcalc
from archcalc.cli import main
from archcalc.codegen import generate
from archcalc.kinds import TORCH_HELPERS

from .test_codegen import RUFF

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from torch.utils.flop_counter import FlopCounterMode  # noqa: E402

from archcalc.crosscheck import check, format_report  # noqa: E402

small = st.integers(1, 12)


def engine_layer(layer: str, c: int, h: int, w: int, flops: str = "matmul") -> archcalc.LayerResult | None:
    spec = archcalc.parse(f"name: p\ninput: {{channels: {c}, height: {h}, width: {w}}}\nlayers:\n  - {layer}\n")
    try:
        return archcalc.analyse(spec, flops=flops).layers[0]
    except archcalc.SpecError:
        return None


def torch_run(module: torch.nn.Module, *inputs: torch.Tensor) -> tuple[tuple[int, ...], int] | None:
    """(output shape without the batch, FLOPs torch.utils.flop_counter counts), or None if torch refuses."""
    try:
        with torch.no_grad(), FlopCounterMode(display=False) as counter:
            out = module(*inputs)
    except (RuntimeError, ValueError):
        return None
    return tuple(out.shape[1:]), counter.get_total_flops()


def yaml_bool(value: bool) -> str:
    return str(value).lower()


# --- conv_transpose ---------------------------------------------------------------------------


@given(
    c=st.integers(1, 3), groups=st.integers(1, 3), out_per_group=st.integers(1, 3), h=small, w=small,
    kh=st.integers(1, 5), kw=st.integers(1, 5), sh=st.integers(1, 4), sw=st.integers(1, 4),
    ph=st.integers(0, 4), pw=st.integers(0, 4), oph=st.integers(0, 3), opw=st.integers(0, 3),
    dh=st.integers(1, 3), dw=st.integers(1, 3), bias=st.booleans(),
)  # fmt: skip
def test_conv_transpose_matches_torch(c, groups, out_per_group, h, w, kh, kw, sh, sw, ph, pw, oph, opw, dh, dw, bias):
    c_in, c_out = c * groups, out_per_group * groups
    layer = engine_layer(
        f"{{kind: conv_transpose, out_channels: {c_out}, kernel: [{kh}, {kw}], stride: [{sh}, {sw}], "
        f"padding: [{ph}, {pw}], output_padding: [{oph}, {opw}], dilation: [{dh}, {dw}], groups: {groups}, "
        f"bias: {yaml_bool(bias)}}}",
        c_in, h, w, flops="all",
    )  # fmt: skip
    try:
        module = torch.nn.ConvTranspose2d(
            c_in, c_out, (kh, kw), (sh, sw), (ph, pw), (oph, opw), groups, bias, (dh, dw)
        )  # fmt: skip
    except ValueError:
        module = None
    measured = torch_run(module, torch.randn(2, c_in, h, w)) if module is not None else None
    if measured is not None and 0 in measured[0]:
        measured = None  # torch returns an empty map when the padding cuts exactly all; archcalc refuses it
    assert (layer is None) == (measured is None)
    event("refused by both" if layer is None else "built by both")
    if layer is not None and measured is not None:
        shape, flops = measured
        assert layer.output_shape == shape
        assert layer.params == sum(p.numel() for p in module.parameters())
        assert 2 * 2 * layer.macs == flops  # batch 2; FLOPs are 2 × MACs
        bias_adds = c_out * shape[1] * shape[2] if bias else 0
        assert layer.flops == 2 * layer.macs + bias_adds


@given(k=st.integers(1, 6), s=st.integers(1, 4), d=st.integers(1, 3), p=st.integers(0, 3), along_width=st.booleans())
def test_conv_transpose_receptive_field_is_what_gradients_reach(k, s, d, p, along_width):
    # Backprop from every interior output position of one axis (the other axis is 1 wide): the input
    # extent with a non-zero gradient, widest over the output phases, is the receptive field size.
    n = 24
    kernel, stride, padding, dilation = ((k, 1), (s, 1), (p, 0), (d, 1))
    if along_width:
        kernel, stride, padding, dilation = kernel[::-1], stride[::-1], padding[::-1], dilation[::-1]
    layer = engine_layer(
        f"{{kind: conv_transpose, out_channels: 1, kernel: {list(kernel)}, stride: {list(stride)}, "
        f"padding: {list(padding)}, dilation: {list(dilation)}, bias: false}}",
        1, *((1, n) if along_width else (n, 1)),
    )  # fmt: skip
    assume(layer is not None)
    module = torch.nn.ConvTranspose2d(1, 1, kernel, stride, padding, dilation=dilation, bias=False)
    torch.nn.init.ones_(module.weight)  # positive weights: no gradient cancels out
    x = torch.randn(1, 1, *((1, n) if along_width else (n, 1)), dtype=torch.float64, requires_grad=True)
    y = module.double()(x).flatten()
    interior = range(max(0, (k - 1) * d - p), min(y.numel(), (n - 1) * s - p + 1))  # every tap lands on input
    assert len(interior) >= s
    extents = []
    for o in interior:
        (grad,) = torch.autograd.grad(y[o], x, retain_graph=True)
        reached = grad.flatten().nonzero().flatten().tolist()
        extents.append(reached[-1] - reached[0] + 1 if reached else 0)
    axis = 1 if along_width else 0
    assert max(extents) == layer.receptive_field.size[axis]
    assert layer.receptive_field.jump[axis] == Fraction(1, s)


def test_conv_transpose_worked_example():
    # U-Net's 2×2 up-convolution: 64 maps of 14×14 to 32 maps of 28×28.
    layer = engine_layer("{kind: conv_transpose, out_channels: 32, kernel: 2, stride: 2}", 64, 14, 14)
    assert layer.output_shape == (32, 28, 28)
    assert layer.formula == "(14 − 1)×2 − 2×0 + (2 − 1) + 1 = 28"
    assert layer.params_formula == "2×2×64×32 + 32 = 8,224"
    assert layer.macs == 2 * 2 * 64 * 32 * 14 * 14 == 1_605_632  # every input position stamps its kernel
    assert layer.receptive_field.to_dict() == {"size": [1, 1], "jump": [0.5, 0.5], "start": [0.25, 0.25]}
    # (7 − 1)×2 − 2 + 2 + 1 + 1 = 14; dilation 2 on the width: 12 − 2 + 4 + 1 = 15, no output_padding there
    layer = engine_layer(
        "{kind: conv_transpose, out_channels: 4, kernel: 3, stride: 2, padding: 1, output_padding: [1, 0], "
        "dilation: [1, 2], groups: 2, bias: false}",
        6, 7, 7,
    )  # fmt: skip
    assert layer.output_shape == (4, 14, 15)
    assert layer.formula == (
        "H: (7 − 1)×2 − 2×1 + (3 − 1) + 1 + 1 = 14 (output_padding 1); W: (7 − 1)×2 − 2×1 + 2×(3 − 1) + 1 = 15"
    )
    assert layer.params_formula == "3×3×6×2 = 108"
    assert layer.definition.caption(layer) == "T 3×3 s2"
    assert layer.definition.graph_details(layer) == "3×3, stride 2, pad 1, groups 2, output_padding 1×0"


# --- upsample ---------------------------------------------------------------------------------


@given(
    h=small, w=small, by_size=st.booleans(), sh=st.integers(1, 4), sw=st.integers(1, 4),
    bilinear=st.booleans(), align_corners=st.booleans(),
)  # fmt: skip
def test_upsample_matches_torch(h, w, by_size, sh, sw, bilinear, align_corners):
    mode = "bilinear" if bilinear else "nearest"
    how = f"size: [{sh * 3}, {sw * 2}]" if by_size else f"scale: [{sh}, {sw}]"
    layer = engine_layer(
        f"{{kind: upsample, {how}, mode: {mode}, align_corners: {yaml_bool(align_corners)}}}", 2, h, w, "all"
    )
    kwargs: dict[str, Any] = {"size": (sh * 3, sw * 2)} if by_size else {"scale_factor": (float(sh), float(sw))}
    if bilinear:
        kwargs["align_corners"] = align_corners
    elif align_corners:
        kwargs["align_corners"] = True  # torch refuses it with nearest, and so does the engine
    measured = torch_run(torch.nn.Upsample(mode=mode, **kwargs), torch.randn(1, 2, h, w))
    assert (layer is None) == (measured is None)
    if layer is not None:
        assert (layer.output_shape, 0) == measured and layer.params == 0 and layer.macs == 0
        assert layer.flops == (4 * math.prod(layer.output_shape) if bilinear else 0)


@given(n=small, out=small, bilinear=st.booleans(), align_corners=st.booleans(), along_width=st.booleans())
def test_upsample_receptive_field_is_what_gradients_reach(n, out, bilinear, align_corners, along_width):
    assume(bilinear or not align_corners)
    mode = "bilinear" if bilinear else "nearest"
    size = (1, out) if along_width else (out, 1)
    shape = (1, n) if along_width else (n, 1)
    layer = engine_layer(
        f"{{kind: upsample, size: {list(size)}, mode: {mode}, align_corners: {yaml_bool(align_corners)}}}", 1, *shape
    )
    extra = {"align_corners": align_corners} if bilinear else {}
    module = torch.nn.Upsample(size=size, mode=mode, **extra)
    x = torch.randn(1, 1, *shape, dtype=torch.float64, requires_grad=True)
    y = module(x).flatten()
    extents = []
    for o in range(y.numel()):
        (grad,) = torch.autograd.grad(y[o], x, retain_graph=True)
        reached = grad.flatten().nonzero().flatten().tolist()
        extents.append(reached[-1] - reached[0] + 1)
    axis = 1 if along_width else 0
    assert max(extents) == layer.receptive_field.size[axis]


def test_upsample_worked_examples():
    layer = engine_layer("{kind: upsample, scale: 2}", 3, 7, 5)
    assert layer.output_shape == (3, 14, 10) and layer.formula == "H: 7×2 = 14; W: 5×2 = 10"
    assert layer.receptive_field.to_dict() == {"size": [1, 1], "jump": [0.5, 0.5], "start": [0.5, 0.5]}
    assert layer.definition.caption(layer) == "up ×2"
    layer = engine_layer("{kind: upsample, size: [9, 9], mode: bilinear}", 3, 7, 5, flops="all")
    assert layer.output_shape == (3, 9, 9) and layer.formula == "7×5 → 9×9"
    assert layer.flops == 4 * 3 * 9 * 9 == 972
    # jump 7/9 and 5/9; the first sample point (0 + ½)·7/9 − ½ = −1/9 input positions from input 0
    assert layer.receptive_field.size == (2, 2)
    assert layer.definition.graph_details(layer) == "bilinear, size 9×9"


# --- zeropad ----------------------------------------------------------------------------------


@given(
    h=small, w=small, padding=st.one_of(
        st.integers(0, 4), st.lists(st.integers(0, 4), min_size=2, max_size=2),
        st.lists(st.integers(0, 4), min_size=4, max_size=4),
    ), value=st.sampled_from([0.0, 0.5, -1.0]),
)  # fmt: skip
def test_zeropad_matches_torch(h, w, padding, value):
    layer = engine_layer(f"{{kind: zeropad, padding: {padding}, value: {value}}}", 2, h, w)
    top, bottom, left, right = _sides(padding)
    module = torch.nn.ConstantPad2d((left, right, top, bottom), value)
    assert (layer.output_shape, 0) == torch_run(module, torch.randn(1, 2, h, w))
    assert layer.receptive_field.start == (0.5 - top, 0.5 - left)  # output 0 is padding before input 0
    emitted = layer.definition.torch(layer.params_spec, list(layer.input_shapes), layer.details).call.flat()
    assert emitted.startswith("nn.ZeroPad2d(" if value == 0 else "nn.ConstantPad2d(")


def _sides(padding: int | list[int]) -> tuple[int, int, int, int]:
    if isinstance(padding, int):
        return (padding,) * 4
    return (padding[0], padding[0], padding[1], padding[1]) if len(padding) == 2 else tuple(padding)


def test_zeropad_worked_example():
    layer = engine_layer("{kind: zeropad, padding: [1, 2, 0, 3]}", 3, 7, 5)
    assert layer.output_shape == (3, 10, 8) and layer.formula == "H: 7 + 1 + 2 = 10; W: 5 + 0 + 3 = 8"
    assert layer.definition.caption(layer) == "pad 1,2,0,3"
    call = layer.definition.torch(layer.params_spec, list(layer.input_shapes), layer.details).call
    assert call.flat() == "nn.ZeroPad2d((0, 3, 1, 2))"


# --- crop -------------------------------------------------------------------------------------


def two_inputs(layer: str, x: tuple[int, int, int], ref: tuple[int, int, int]) -> archcalc.LayerResult | None:
    """A layer after `ref`, a convolution of the input `x` whose kernel leaves the shape `ref`."""
    c, h, w = x
    spec = (
        f"name: p\ninput: {{channels: {c}, height: {h}, width: {w}}}\nlayers:\n"
        f"  - {{kind: conv, name: ref, out_channels: {ref[0]}, kernel: [{h - ref[1] + 1}, {w - ref[2] + 1}]}}\n"
        f"  - {layer}\n"
    )
    try:
        return archcalc.analyse(archcalc.parse(spec)).layers[1]
    except archcalc.SpecError:
        return None


def centre_crop_module() -> torch.nn.Module:
    namespace: dict[str, Any] = {"torch": torch, "nn": torch.nn}
    exec(TORCH_HELPERS["CenterCrop2d"], namespace)
    return namespace["CenterCrop2d"]()


@given(c=st.integers(1, 3), h=small, w=small, cut_h=st.integers(0, 9), cut_w=st.integers(0, 9))
def test_crop_matches_torchvisions_rule(c, h, w, cut_h, cut_w):
    layer = two_inputs("{kind: crop, inputs: [input, ref]}", (c, h + cut_h, w + cut_w), (2, h, w))
    assert layer is not None and layer.output_shape == (c, h, w)
    x = torch.arange(float(c * (h + cut_h) * (w + cut_w))).reshape(1, c, h + cut_h, w + cut_w)
    cropped = centre_crop_module()(x, torch.empty(1, 2, h, w))
    # torchvision's center_crop: top = int(round((H − h) / 2.0)), Python's round halving to even
    top, left = int(round(cut_h / 2.0)), int(round(cut_w / 2.0))
    assert torch.equal(cropped, x[..., top : top + h, left : left + w])
    assert layer.details["cut"] == (top, cut_h - top, left, cut_w - left)
    assert layer.receptive_field.start == (0.5 + top, 0.5 + left)  # only the cropped map's positions count


@pytest.mark.parametrize(("cut", "before"), [(0, 0), (1, 0), (2, 1), (3, 2), (5, 2), (7, 4), (8, 4)])
def test_crop_odd_pixel_follows_round_half_to_even(cut: int, before: int):
    layer = two_inputs("{kind: crop, inputs: [input, ref]}", (1, 10 + cut, 10), (1, 10, 10))
    assert layer.details["cut"][:2] == (before, cut - before)


def test_crop_worked_example():
    layer = two_inputs("{kind: crop, inputs: [input, ref]}", (8, 64, 63), (4, 56, 60))
    assert layer.output_shape == (8, 56, 60)
    assert layer.formula == (
        "H: 64 − 56 = 8: 4 top, 4 bottom; W: 63 − 60 = 3: 2 left, 1 right "
        "(before = round(cut/2), halves to even, as torchvision's center_crop)"
    )
    assert layer.definition.graph_details(layer) == "centre crop to 56×60"


# --- channel_shuffle, identity, multiply ------------------------------------------------------


@given(c=st.integers(1, 12), groups=st.integers(1, 6), h=small, w=small)
def test_channel_shuffle_matches_torch(c, groups, h, w):
    layer = engine_layer(f"{{kind: channel_shuffle, groups: {groups}}}", c, h, w, "all")
    measured = torch_run(torch.nn.ChannelShuffle(groups), torch.randn(1, c, h, w))
    assert (layer.output_shape if layer else None, 0) == (measured or (None, 0))
    if layer is not None:
        assert layer.flops == 0 and layer.receptive_field.size == (1, 1)


def test_channel_shuffle_and_identity_worked_examples():
    layer = engine_layer("{kind: channel_shuffle, groups: 3}", 12, 5, 5)
    assert layer.formula == "12 channels: 3 groups of 4, interleaved"
    assert layer.definition.annotation(layer) == "shuffle 3"
    layer = engine_layer("{kind: identity}", 12, 5, 5)
    assert layer.output_shape == (12, 5, 5) and layer.params == 0 and layer.flops == 0


@given(
    c=st.integers(1, 6), h=small, w=small, count=st.integers(2, 4), gate=st.integers(0, 3),
    other=st.sampled_from(["same", "gate", "row", "column", "channel"]),
)  # fmt: skip
def test_multiply_broadcasts_only_c11_over_chw(c, h, w, count, gate, other):
    # Input `gate` (when there is one at that place) is [C, 1, 1]; the last input is shaped as `other`.
    shapes = [(c, h, w)] * count
    if gate < count:
        shapes[gate] = (c, 1, 1)
    odd = {"same": (c, h, w), "gate": (c, 1, 1), "row": (c, 1, w), "column": (c, h, 1), "channel": (1, h, w)}
    shapes[-1] = odd[other]
    layers = [  # adaptive pooling gives each shape from the [C, H, W] input, a 1×1 convolution one channel
        f"  - {{kind: adaptive_avgpool, name: in{i}, output_size: [{s[1]}, {s[2]}], inputs: input}}"
        for i, s in enumerate(shapes)
    ]
    if shapes[-1][0] != c:
        layers.append(f"  - {{kind: conv, name: in{count - 1}c, out_channels: 1, kernel: 1, inputs: in{count - 1}}}")
    names = [f"in{i}" for i in range(count - 1)] + [f"in{count - 1}" + ("c" if shapes[-1][0] != c else "")]
    spec = (
        f"name: m\ninput: {{channels: {c}, height: {h}, width: {w}}}\nlayers:\n"
        + "\n".join(layers)
        + f"\n  - {{kind: multiply, name: product, inputs: [{', '.join(names)}]}}\n"
    )
    try:
        layer = archcalc.analyse(archcalc.parse(spec), flops="all")["product"]
    except archcalc.SpecError:
        layer = None
    # The rule: one input's shape F, every other input F or [F's channels, 1, 1].
    allowed = any(all(s in (full, (full[0], 1, 1)) for s in shapes) for full in shapes)
    assert (layer is not None) == allowed
    if layer is not None:
        namespace: dict[str, Any] = {"torch": torch, "nn": torch.nn}
        exec(TORCH_HELPERS["Multiply"], namespace)
        product = namespace["Multiply"]()(*[torch.randn(2, *s) for s in shapes])
        assert layer.output_shape == tuple(product.shape[1:])
        assert layer.flops == (count - 1) * math.prod(layer.output_shape)


# --- the whole set, through PyTorch ---------------------------------------------------------------

RESAMPLE_KINDS = """
name: resample kinds
input: {channels: 4, height: 13, width: 11}
layers:
  - {kind: conv, name: enc, out_channels: 8, kernel: 3}
  - {kind: maxpool, kernel: 2}
  - {kind: conv_transpose, name: up, out_channels: 6, kernel: 3, stride: 2, padding: 1, output_padding: 1, groups: 2}
  - {kind: crop, name: skip, inputs: [enc, up]}
  - {kind: concat, inputs: [skip, up]}
  - {kind: channel_shuffle, groups: 2}
  - {kind: identity}
  - {kind: upsample, scale: [2, 3], mode: bilinear}
  - {kind: upsample, size: [17, 20]}
  - {kind: zeropad, padding: [1, 2, 0, 3], value: 0.5}
  - {kind: zeropad, name: zp, padding: 1}
  - {kind: adaptive_avgpool, output_size: 1}
  - {kind: conv, out_channels: 14, kernel: 1}
  - {kind: sigmoid}
  - {kind: multiply, inputs: [sigmoid1, zp]}
  - {kind: conv_transpose, out_channels: 7, kernel: [2, 3], stride: [1, 2], dilation: [2, 1], output_padding: [1, 0]}
  - {kind: conv_transpose, out_channels: 7, kernel: 3, groups: depthwise, bias: false, in_channels: 7}
"""


def test_every_new_kind_passes_check():
    report = check(archcalc.parse(RESAMPLE_KINDS), device="cpu")
    assert report.ok, format_report(report)
    assert {layer.kind for layer in report.layers} >= {
        "conv_transpose", "crop", "channel_shuffle", "identity", "upsample", "zeropad", "multiply",
    }  # fmt: skip


@pytest.mark.skipif(RUFF is None, reason="ruff is not installed")
def test_generated_code_with_every_new_kind_passes_ruff(tmp_path: Path):
    path = tmp_path / "model.py"
    path.write_text(generate(archcalc.analyse(archcalc.parse(RESAMPLE_KINDS))).source)
    lint = subprocess.run([RUFF, "check", "--isolated", "--select", "E,F,W,B,UP", str(path)], capture_output=True)
    assert lint.returncode == 0, lint.stdout
    fmt = subprocess.run([RUFF, "format", "--isolated", "--check", "--diff", str(path)], capture_output=True)
    assert fmt.returncode == 0, fmt.stdout


def test_views_of_every_new_kind():
    analysis = archcalc.analyse(archcalc.parse(RESAMPLE_KINDS), flops="all")
    captions = {layer.name: layer.definition.caption(layer) for layer in analysis.layers}
    assert captions["up"] == "T 3×3 s2" and captions["skip"] == "crop" and captions["upsample1"] == "up ×2, ×3"
    assert captions["upsample2"] == "up 17×20" and captions["zp"] == "pad 1"
    rows = dict(analysis["up"].definition.derivation(analysis["up"]))
    assert rows["kernel"] == "3×3×3, 8 kernels (one per input channel, stamped on the output) in 2 groups"
    assert rows["output_padding"] == "1"
    assert dict(analysis["skip"].definition.derivation(analysis["skip"])) == {"cut": "top 0, bottom 1, left 0, right 1"}
    assert analysis["conv_transpose2"].definition.graph_details(analysis["conv_transpose2"]) == (
        "2×3, stride 1×2, output_padding 1×0"
    )
    assert analysis["multiply1"].flops == 14 * 22 * 25


# --- bad input ------------------------------------------------------------------------------------

HEADER = "name: bad\ninput: {channels: 3, height: 32, width: 32}\nlayers:\n"


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        (
            "  - {kind: conv_transpose, name: t, out_channels: 4, kernel: 3, stride: 2, output_padding: 2}\n",
            [
                ":4:", "layer 't' (conv_transpose)", "field 'output_padding'",
                "output_padding 2 on the height must be smaller than the stride (2) or the dilation (1)",
            ],
        ),
        (
            "  - {kind: conv_transpose, name: t, out_channels: 4, kernel: 3, padding: 20}\n",
            [
                ":4:", "layer 't' (conv_transpose)", "field 'padding'",
                "padding 20 leaves no output height: (32 − 1)×1 − 2×20 + (3 − 1) + 1 = -6",
            ],
        ),
        (
            "  - {kind: conv_transpose, name: t, out_channels: 4, kernel: 3, padding: [1, 1, 2, 2]}\n",
            ["layer 't' (conv_transpose)", "field 'padding'", "must be an integer ≥ 0 or a pair [height, width]"],
        ),
        (
            "  - {kind: conv_transpose, name: t, out_channels: 5, kernel: 2, groups: 3}\n",
            ["field 'groups'", "5 output channels are not divisible by 3 groups"],
        ),
        (
            "  - {kind: conv_transpose, name: t, out_channels: 4, kernel: 2, in_channels: 4}\n",
            ["field 'in_channels'", "in_channels 4 declared, but the input has 3 channels"],
        ),
        (
            "  - {kind: upsample, name: u, scale: 2, size: 64}\n",
            [":4:", "layer 'u' (upsample)", "field 'size'", "give scale or size, not both"],
        ),
        ("  - {kind: upsample, name: u}\n", ["layer 'u' (upsample)", "field 'scale'", "needs scale"]),
        (
            "  - {kind: upsample, name: u, scale: 2, mode: bicubic}\n",
            ["field 'mode'", "must be one of 'nearest', 'bilinear', got the string 'bicubic'"],
        ),
        (
            "  - {kind: upsample, name: u, scale: 2, align_corners: true}\n",
            ["field 'align_corners'", "applies to bilinear only"],
        ),
        ("  - {kind: upsample, name: u, scale: 0}\n", ["field 'scale'", "must be a positive integer"]),
        (
            "  - {kind: zeropad, name: z, padding: same}\n",
            [
                "layer 'z' (zeropad)", "field 'padding'",
                "must be a non-negative integer, [h, w] or [top, bottom, left, right], got the string 'same'",
            ],
        ),
        ("  - {kind: zeropad, name: z}\n", ["field 'padding'", "missing required"]),
        (
            "  - {kind: crop, name: c, inputs: input}\n",
            [
                ":4:", "layer 'c' (crop)", "field 'inputs'",
                "'crop' takes two inputs: the map to crop and the layer whose size it takes, got 1",
            ],
        ),
        (
            "  - {kind: crop, name: c}\n",
            ["field 'inputs'", "'crop' needs 'inputs': a list of two layer names: the map to crop and the layer"],
        ),
        (
            "  - {kind: relu, name: a}\n  - {kind: crop, name: c, inputs: [input, a, a]}\n",
            [":5:", "'crop' takes two inputs", "got 3"],
        ),
        (
            "  - {kind: zeropad, name: big, padding: 1}\n  - {kind: crop, name: c, inputs: [input, big]}\n",
            [
                ":5:", "layer 'c' (crop)", "field 'inputs'",
                "cannot crop [3, 32, 32] to the 34×34 of [3, 34, 34]: the second input must be no larger",
            ],
        ),
        (
            "  - {kind: flatten, name: f}\n  - {kind: crop, name: c, inputs: [input, f]}\n",
            ["layer 'c' (crop)", "crop needs a [C, H, W] input"],
        ),
        (
            "  - {kind: channel_shuffle, name: s, groups: 2}\n",
            [":4:", "layer 's' (channel_shuffle)", "field 'groups'", "3 channels are not divisible by 2 groups"],
        ),
        (
            "  - {kind: maxpool, name: p, kernel: 2}\n  - {kind: multiply, name: m, inputs: [input, p]}\n",
            [
                ":5:", "layer 'm' (multiply)", "field 'inputs'",
                "cannot multiply [3, 32, 32] by [3, 16, 16] (input 2): inputs need the same shape, or [3, 1, 1]",
            ],
        ),
        (
            "  - {kind: adaptive_avgpool, name: g, output_size: 1}\n  - {kind: conv, name: e, out_channels: 4, kernel: 1}\n"
            "  - {kind: multiply, name: m, inputs: [e, input]}\n",
            [":6:", "layer 'm' (multiply)", "cannot multiply [3, 32, 32] by [4, 1, 1] (input 1)"],
        ),
        ("  - {kind: multiply, name: m, inputs: input}\n", ["'multiply' needs two or more inputs, got 1"]),
        (
            "  - {kind: relu, name: a}\n  - {kind: relu, name: r, inputs: [input, a]}\n",
            ["'relu' takes one input, got 2; merge them with 'concat', 'add' or 'multiply' first"],
        ),
    ],
)  # fmt: skip
def test_bad_layers(write_spec, layers: str, expected: list[str]):
    path = write_spec(HEADER + layers)
    result = CliRunner().invoke(main, ["table", str(path)])
    message = result.stderr.strip()
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert message.startswith(f"archcalc: error: {path}:") and len(message.splitlines()) == 1, message
    for part in expected:
        assert part in message, message
