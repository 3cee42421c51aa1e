"""Property tests: the engine's shape and parameter rules agree with PyTorch's own layers.

PyTorch runs on the ``meta`` device here: shapes without computation, so hundreds of examples
take well under a second.
"""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

import archcalc
from archcalc.kinds import same_padding

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

sizes = st.integers(1, 64)
small = st.integers(1, 7)


def engine_layer(layer: str, c: int, h: int, w: int) -> archcalc.LayerResult | None:
    spec = archcalc.parse(f"name: p\ninput: {{channels: {c}, height: {h}, width: {w}}}\nlayers:\n  - {layer}\n")
    try:
        return archcalc.analyse(spec).layers[0]
    except archcalc.SpecError:
        return None


def torch_shape(module: torch.nn.Module, c: int, h: int, w: int) -> tuple[int, ...] | None:
    try:
        with torch.device("meta"):
            return tuple(module.to("meta")(torch.empty(1, c, h, w)).shape[1:])
    except RuntimeError:
        return None


@given(
    c=st.integers(1, 4), groups=st.integers(1, 3), out_per_group=st.integers(1, 3),
    h=sizes, w=sizes, kh=small, kw=small, sh=st.integers(1, 5), sw=st.integers(1, 5),
    ph=st.integers(0, 4), pw=st.integers(0, 4), dh=st.integers(1, 3), dw=st.integers(1, 3), bias=st.booleans(),
)  # fmt: skip
def test_conv_matches_torch(c, groups, out_per_group, h, w, kh, kw, sh, sw, ph, pw, dh, dw, bias):
    c_in, c_out = c * groups, out_per_group * groups
    layer = engine_layer(
        f"{{kind: conv, out_channels: {c_out}, kernel: [{kh}, {kw}], stride: [{sh}, {sw}], padding: [{ph}, {pw}], "
        f"dilation: [{dh}, {dw}], groups: {groups}, bias: {str(bias).lower()}}}",
        c_in, h, w,
    )  # fmt: skip
    module = torch.nn.Conv2d(c_in, c_out, (kh, kw), (sh, sw), (ph, pw), (dh, dw), groups, bias)
    expected = torch_shape(module, c_in, h, w)
    assert (layer.output_shape if layer else None) == expected
    if layer:
        assert layer.params == sum(p.numel() for p in module.parameters())


@given(n=sizes, k=small, d=st.integers(1, 3))
def test_same_padding_matches_torch_at_stride_one(n, k, d):
    layer = engine_layer(f"{{kind: conv, out_channels: 2, kernel: {k}, dilation: {d}, padding: same}}", 1, n, n)
    module = torch.nn.Conv2d(1, 2, k, padding="same", dilation=d)
    assert layer is not None and layer.output_shape == torch_shape(module, 1, n, n) == (2, n, n)


@given(n=sizes, k=small, s=st.integers(1, 6))
def test_same_padding_with_stride_gives_tensorflow_sizes(n, k, s):
    # TensorFlow's documented rule: output ⌈n / s⌉; padding it implies, applied explicitly in torch.
    before, after = same_padding(n, k, s)
    layer = engine_layer(f"{{kind: conv, out_channels: 1, kernel: {k}, stride: {s}, padding: same}}", 1, n, n)
    module = torch.nn.Sequential(torch.nn.ZeroPad2d((before, after, before, after)), torch.nn.Conv2d(1, 1, k, s))
    assert layer.output_shape == torch_shape(module, 1, n, n) == (1, -(-n // s), -(-n // s))


@given(
    h=sizes, w=sizes, kh=small, kw=small, sh=st.integers(1, 5), sw=st.integers(1, 5),
    ph=st.integers(0, 3), pw=st.integers(0, 3), dh=st.integers(1, 3), dw=st.integers(1, 3), ceil_mode=st.booleans(),
)  # fmt: skip
def test_maxpool_matches_torch(h, w, kh, kw, sh, sw, ph, pw, dh, dw, ceil_mode):
    layer = engine_layer(
        f"{{kind: maxpool, kernel: [{kh}, {kw}], stride: [{sh}, {sw}], padding: [{ph}, {pw}], "
        f"dilation: [{dh}, {dw}], ceil_mode: {str(ceil_mode).lower()}}}",
        2, h, w,
    )  # fmt: skip
    module = torch.nn.MaxPool2d((kh, kw), (sh, sw), (ph, pw), (dh, dw), ceil_mode=ceil_mode)
    assert (layer.output_shape if layer else None) == torch_shape(module, 2, h, w)


@given(
    h=sizes, w=sizes, kh=small, kw=small, sh=st.integers(1, 5), sw=st.integers(1, 5),
    ph=st.integers(0, 3), pw=st.integers(0, 3), ceil_mode=st.booleans(),
)  # fmt: skip
def test_avgpool_matches_torch(h, w, kh, kw, sh, sw, ph, pw, ceil_mode):
    layer = engine_layer(
        f"{{kind: avgpool, kernel: [{kh}, {kw}], stride: [{sh}, {sw}], padding: [{ph}, {pw}], "
        f"ceil_mode: {str(ceil_mode).lower()}}}",
        2, h, w,
    )  # fmt: skip
    module = torch.nn.AvgPool2d((kh, kw), (sh, sw), (ph, pw), ceil_mode=ceil_mode)
    assert (layer.output_shape if layer else None) == torch_shape(module, 2, h, w)


@given(h=sizes, w=sizes, oh=st.integers(1, 8), ow=st.integers(1, 8))
def test_adaptive_avgpool_matches_torch(h, w, oh, ow):
    layer = engine_layer(f"{{kind: adaptive_avgpool, output_size: [{oh}, {ow}]}}", 3, h, w)
    assert layer.output_shape == torch_shape(torch.nn.AdaptiveAvgPool2d((oh, ow)), 3, h, w)
