"""The activation, normalisation and global/adaptive pooling kinds, against PyTorch's own modules.

Shapes and parameter counts run on the ``meta`` device (no computation); LayerNorm2d, the one
helper these kinds emit, is checked numerically on random data; one spec with all of them passes
``crosscheck.check``.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

import archcalc
from archcalc.codegen import generate
from archcalc.figure3d.columns import columns_of
from archcalc.torchrun import build_model, torch_param_counts

from .test_codegen import RUFF
from .test_errors import HEADER
from .test_errors import check as check_error
from .test_schema import validator

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch
nn = torch.nn

from archcalc.crosscheck import check, format_report  # noqa: E402

Shape = tuple[int, ...]
channels, sizes = st.integers(1, 12), st.integers(1, 16)
maps = st.tuples(channels, sizes, sizes)
shapes = st.one_of(maps, st.tuples(st.integers(1, 64)))  # [C, H, W] or flat [N]


def engine(layer: str, shape: Shape, flops: str = "matmul") -> archcalc.LayerResult | None:
    """The analysed layer on an input of `shape` (a flat one through a flatten first); None if refused."""
    c, h, w = shape if len(shape) == 3 else (shape[0], 1, 1)
    flatten = "  - {kind: flatten}\n" if len(shape) == 1 else ""
    text = f"name: k\ninput: {{channels: {c}, height: {h}, width: {w}}}\nlayers:\n{flatten}  - {layer}\n"
    try:
        return archcalc.analyse(archcalc.parse(text), flops=flops).layers[-1]
    except archcalc.SpecError:
        return None


def run_meta(module: nn.Module, shape: Shape, train: bool = False) -> Shape | None:
    """torch's output shape for a batch of 2 (None where torch refuses the input)."""
    try:
        with torch.device("meta"):
            return tuple(module.to("meta").train(train)(torch.empty(2, *shape)).shape[1:])
    except (RuntimeError, ValueError):
        return None


def assert_matches(layer: archcalc.LayerResult | None, module: nn.Module, shape: Shape, train: bool = False) -> None:
    expected = run_meta(module, shape, train)
    assert (layer.output_shape if layer else None) == expected
    if layer:
        assert (layer.trainable_params, layer.non_trainable_params) == torch_param_counts(module)


# --- activations ------------------------------------------------------------------------------

ACTIVATIONS: list[tuple[str, Callable[[Shape], nn.Module]]] = [
    ("{kind: relu6}", lambda s: nn.ReLU6()),
    ("{kind: leaky_relu}", lambda s: nn.LeakyReLU()),
    ("{kind: leaky_relu, negative_slope: 0.2}", lambda s: nn.LeakyReLU(0.2)),
    ("{kind: elu, alpha: 0.5}", lambda s: nn.ELU(0.5)),
    ("{kind: gelu}", lambda s: nn.GELU()),
    ("{kind: gelu, approximate: tanh}", lambda s: nn.GELU(approximate="tanh")),
    ("{kind: silu}", lambda s: nn.SiLU()),
    ("{kind: hardswish}", lambda s: nn.Hardswish()),
    ("{kind: hardsigmoid}", lambda s: nn.Hardsigmoid()),
    ("{kind: prelu}", lambda s: nn.PReLU()),
    ("{kind: prelu, per_channel: true}", lambda s: nn.PReLU(num_parameters=s[0])),
]


@pytest.mark.parametrize(("layer", "make"), ACTIVATIONS, ids=[layer for layer, _ in ACTIVATIONS])
@given(shape=shapes)
def test_activations_match_torch(layer: str, make: Callable[[Shape], nn.Module], shape: Shape):
    assert_matches(engine(layer, shape), make(shape), shape)


@given(shape=maps, p=st.floats(0, 0.99))
def test_dropout2d_matches_torch_on_maps(shape: Shape, p: float):
    assert_matches(engine(f"{{kind: dropout2d, p: {p}}}", shape), nn.Dropout2d(p), shape)


FLOPS_PER_ELEMENT = {
    "{kind: relu6}": 1,
    "{kind: leaky_relu}": 1,
    "{kind: prelu, per_channel: true}": 1,
    "{kind: elu}": 3,
    "{kind: gelu}": 8,
    "{kind: gelu, approximate: tanh}": 8,
    "{kind: silu}": 4,
    "{kind: hardswish}": 4,
    "{kind: hardsigmoid}": 3,
    "{kind: dropout2d}": 0,
    "{kind: layernorm}": 7,
    "{kind: layernorm, affine: false}": 5,
    "{kind: groupnorm, groups: 2}": 7,
    "{kind: instancenorm}": 5,
    "{kind: instancenorm, affine: true, track_running_stats: true}": 2,
    "{kind: global_avgpool}": 1,
    "{kind: global_maxpool}": 1,
    "{kind: adaptive_maxpool, output_size: 2}": 1,  # per input element, as the pools above
}


@pytest.mark.parametrize(("layer", "per_element"), FLOPS_PER_ELEMENT.items())
def test_flops_all_per_element_as_the_readme_states(layer: str, per_element: int):
    assert engine(layer, (4, 6, 5), flops="all").flops == per_element * 4 * 6 * 5
    assert engine(layer, (4, 6, 5)).flops == 0  # nothing torch's flop counter counts


# --- normalisation ----------------------------------------------------------------------------


class ChannelsLast(nn.Module):
    """The oracle for layernorm over channels: torch's own nn.LayerNorm on a channels-last view."""

    def __init__(self, norm: nn.LayerNorm) -> None:
        super().__init__()
        self.norm = norm

    def forward(self, x):
        return self.norm(x.movedim(1, -1)).movedim(-1, 1)


@given(shape=shapes, affine=st.booleans())
@example(shape=(1, 3, 2), affine=True)
def test_layernorm_matches_torch(shape: Shape, affine: bool):
    norm = nn.LayerNorm(shape[0], elementwise_affine=affine)
    result = engine(f"{{kind: layernorm, affine: {str(affine).lower()}}}", shape)
    assert_matches(result, ChannelsLast(norm) if len(shape) == 3 else norm, shape)
    assert bool(result.warnings) == (shape[0] == 1)  # one channel: x − μ is 0


@given(shape=shapes, groups=st.integers(1, 8), affine=st.booleans())
@example(shape=(4, 1, 1), groups=4, affine=True)
@example(shape=(6,), groups=6, affine=False)
def test_groupnorm_matches_torch(shape: Shape, groups: int, affine: bool):
    result = engine(f"{{kind: groupnorm, groups: {groups}, affine: {str(affine).lower()}}}", shape)
    try:
        module = nn.GroupNorm(groups, shape[0], affine=affine)
    except ValueError:  # "num_channels must be divisible by num_groups"
        assert result is None
        return
    assert_matches(result, module, shape)
    per_group = shape[0] // groups * (shape[1] * shape[2] if len(shape) == 3 else 1)
    assert bool(result.warnings) == (per_group == 1)


@given(shape=maps, affine=st.booleans(), track=st.booleans())
@example(shape=(3, 1, 1), affine=False, track=False)
@example(shape=(3, 1, 1), affine=True, track=True)
def test_instancenorm_matches_torch(shape: Shape, affine: bool, track: bool):
    flags = f"affine: {str(affine).lower()}, track_running_stats: {str(track).lower()}"
    module = nn.InstanceNorm2d(shape[0], affine=affine, track_running_stats=track)
    # torch refuses 1×1 maps when it computes instance statistics (always in training): archcalc too
    assert_matches(engine(f"{{kind: instancenorm, {flags}}}", shape), module, shape, train=True)


@pytest.mark.parametrize("shape", [(8, 5, 7), (1, 3, 3), (24, 1, 1), (6, 2, 9)])
def test_layernorm2d_normalises_over_channels_exactly(shape: Shape):
    spec = archcalc.parse(
        f"name: ln\ninput: {{channels: {shape[0]}, height: {shape[1]}, width: {shape[2]}}}\n"
        "layers:\n  - {kind: layernorm, name: ln}\n"
    )
    model, attributes = build_model(generate(archcalc.analyse(spec)))
    norm = getattr(model, attributes["ln"])
    assert norm.eps == 1e-6 and norm.normalized_shape == (shape[0],)
    generator = torch.Generator().manual_seed(sum(shape))
    with torch.no_grad():
        norm.weight.copy_(torch.randn(shape[0], generator=generator))
        norm.bias.copy_(torch.randn(shape[0], generator=generator))
        x = torch.randn(3, *shape, generator=generator, dtype=torch.float32)
        got = model(x)
    mean = x.mean(dim=1, keepdim=True)
    variance = x.var(dim=1, unbiased=False, keepdim=True)
    by_hand = (x - mean) / torch.sqrt(variance + 1e-6) * norm.weight.view(1, -1, 1, 1) + norm.bias.view(1, -1, 1, 1)
    functional = torch.nn.functional.layer_norm(x.permute(0, 2, 3, 1), (shape[0],), norm.weight, norm.bias, 1e-6)
    torch.testing.assert_close(got, by_hand, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(got, functional.permute(0, 3, 1, 2), rtol=0, atol=0)


def test_layernorm_on_a_flat_input_is_torchs_own():
    spec = archcalc.parse(
        "name: ln\ninput: {channels: 3, height: 2, width: 2}\n"
        "layers:\n  - {kind: flatten}\n  - {kind: layernorm, name: ln, eps: 1e-5, affine: false}\n"
    )
    model, attributes = build_model(generate(archcalc.analyse(spec)))
    norm = getattr(model, attributes["ln"])
    assert type(norm) is nn.LayerNorm and norm.normalized_shape == (12,)
    assert norm.eps == 1e-5 and not norm.elementwise_affine


# --- pooling ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "module"), [("global_avgpool", nn.AdaptiveAvgPool2d), ("global_maxpool", nn.AdaptiveMaxPool2d)]
)
@given(shape=maps)
def test_global_pools_match_torch(kind: str, module: type[nn.Module], shape: Shape):
    result = engine(f"{{kind: {kind}}}", shape)
    assert_matches(result, module(1), shape)
    assert result.output_shape == (shape[0], 1, 1) and result.receptive_field is None  # GLOBAL


@given(h=sizes, w=sizes, oh=st.integers(1, 8), ow=st.integers(1, 8))
def test_adaptive_maxpool_matches_torch(h: int, w: int, oh: int, ow: int):
    result = engine(f"{{kind: adaptive_maxpool, output_size: [{oh}, {ow}]}}", (3, h, w))
    assert_matches(result, nn.AdaptiveMaxPool2d((oh, ow)), (3, h, w))
    if h % oh == 0 and w % ow == 0:  # the exact window it reports is torch's: a plain max pool
        kernel = (h // oh, w // ow)
        assert result.receptive_field.size == kernel and result.receptive_field.jump == kernel
        x = torch.randn(2, 3, h, w)
        assert torch.equal(nn.AdaptiveMaxPool2d((oh, ow))(x), nn.MaxPool2d(kernel)(x))
    else:
        assert result.receptive_field is None


# --- bad values -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        (
            "  - {kind: groupnorm, name: g, groups: 2}\n",
            [":4:", "layer 'g' (groupnorm)", "field 'groups'", "3 input channels are not divisible by 2 groups"],
        ),
        ("  - {kind: groupnorm, name: g}\n", [":4:", "layer 'g' (groupnorm)", "field 'groups'", "missing required"]),
        (
            "  - {kind: relu}\n  - {kind: gelu, name: act, approximate: fast}\n",
            [
                ":5:",
                "layer 'act' (gelu)",
                "field 'approximate'",
                "must be one of 'none', 'tanh', got the string 'fast'",
            ],
        ),
        ("  - {kind: gelu, name: act, approximate: TANH}\n", ["field 'approximate'", "'none', 'tanh'"]),
        ("  - {kind: dropout2d, name: d, p: 1.0}\n", [":4:", "layer 'd' (dropout2d)", "field 'p'", "must be < 1"]),
        (
            "  - {kind: flatten}\n  - {kind: dropout2d, name: d}\n",
            [":5:", "layer 'd' (dropout2d)", "needs a [C, H, W] input"],
        ),
        (
            "  - {kind: global_avgpool}\n  - {kind: instancenorm, name: i}\n",
            [":5:", "layer 'i' (instancenorm)", "a 1×1 map", "PyTorch refuses"],
        ),
        ("  - {kind: flatten}\n  - {kind: instancenorm, name: i}\n", ["layer 'i' (instancenorm)", "[C, H, W]"]),
        ("  - {kind: flatten}\n  - {kind: global_maxpool, name: g}\n", ["layer 'g' (global_maxpool)", "[C, H, W]"]),
        (
            "  - {kind: adaptive_maxpool, name: a, output_size: 0}\n",
            ["layer 'a' (adaptive_maxpool)", "field 'output_size'", "must be a positive integer"],
        ),
        ("  - {kind: adaptive_maxpool, name: a}\n", ["field 'output_size'", "missing required"]),
        ("  - {kind: layernorm, name: n, eps: 0}\n", ["layer 'n' (layernorm)", "field 'eps'", "must be > 0"]),
        ("  - {kind: instancenorm, name: n, affine: yes}\n", ["field 'affine'", "must be true or false"]),
        ("  - {kind: prelu, name: a, per_channel: 1}\n", ["layer 'a' (prelu)", "field 'per_channel'", "true or false"]),
        ("  - {kind: leaky_relu, name: a, negative_slope: steep}\n", ["field 'negative_slope'", "must be a number"]),
        ("  - {kind: elu, name: a, alpah: 2}\n", ["layer 'a' (elu)", "field 'alpah'", "did you mean 'alpha'"]),
        ("  - {kind: global_avgpool, name: g, output_size: 1}\n", ["field 'output_size'", "unknown field"]),
    ],
)
def test_bad_values_name_file_line_layer_and_field(write_spec, layers: str, expected: list[str]):
    check_error(write_spec, HEADER + layers, *expected)


@pytest.mark.parametrize(
    ("layer", "valid"),
    [
        ({"kind": "gelu", "approximate": "tanh"}, True),
        ({"kind": "gelu", "approximate": "TANH"}, False),
        ({"kind": "gelu", "approximate": None}, False),
        ({"kind": "groupnorm", "groups": 3, "affine": False}, True),
        ({"kind": "groupnorm"}, False),
        ({"kind": "instancenorm", "track_running_stats": True}, True),
        ({"kind": "dropout2d", "p": 1}, False),
        ({"kind": "prelu", "per_channel": 1}, False),
        ({"kind": "adaptive_maxpool", "output_size": [1, 1]}, True),
    ],
)
def test_schema_and_validator_agree(layer: dict, valid: bool):
    doc = {"name": "x", "input": {"channels": 3, "height": 8, "width": 8}, "layers": [layer]}
    assert not list(validator().iter_errors(doc)) == valid
    if valid:
        archcalc.from_mapping(doc)
    else:
        with pytest.raises(archcalc.SpecError):
            archcalc.from_mapping(doc)


# --- every new kind, end to end ---------------------------------------------------------------

NEW_KINDS = {
    "adaptive_maxpool", "global_avgpool", "global_maxpool", "layernorm", "groupnorm", "instancenorm",
    "relu6", "leaky_relu", "prelu", "elu", "gelu", "silu", "hardswish", "hardsigmoid", "dropout2d",
}  # fmt: skip

ALL_NEW = """
name: activation and norm kinds
input: {channels: 3, height: 17, width: 14}
layers:
  - {kind: conv, out_channels: 8, kernel: 3, padding: 1}
  - {kind: layernorm, name: ln}
  - {kind: gelu}
  - {kind: groupnorm, groups: 4}
  - {kind: gelu, approximate: tanh}
  - {kind: instancenorm, affine: true, track_running_stats: true}
  - {kind: instancenorm}
  - {kind: leaky_relu, negative_slope: 0.2}
  - {kind: prelu, per_channel: true}
  - {kind: relu6, name: clamp}
  - {kind: elu, alpha: 0.5}
  - {kind: silu}
  - {kind: hardswish}
  - {kind: dropout2d, name: drop, p: 0.2}
  - {kind: adaptive_maxpool, name: amax, output_size: [5, 7]}
  - {kind: hardsigmoid}
  - {kind: global_maxpool, name: gmax}
  - {kind: global_avgpool, name: gavg, inputs: amax}
  - {kind: add, inputs: [gmax, gavg]}
  - {kind: flatten}
  - {kind: layernorm, eps: 1e-5, affine: false}
  - {kind: groupnorm, groups: 2}
  - {kind: prelu}
  - {kind: linear, out_features: 4}
"""


def test_every_new_kind_passes_the_crosscheck():
    spec = archcalc.parse(ALL_NEW)
    assert NEW_KINDS <= {layer.kind for layer in spec.layers}
    report = check(spec, device="cpu")
    assert report.ok, format_report(report)
    assert report.checks == 4 * len(report.layers)


def test_the_figure_notes_them_as_papers_write_them():
    columns = columns_of(archcalc.analyse(archcalc.parse(ALL_NEW)))
    conv, amax, gmax, gavg, add = columns[1:6]
    assert conv.notes == ["LN", "GELU", "GN", "IN", "Leaky ReLU", "PReLU", "ReLU6", "ELU", "SiLU", "h-swish"]
    assert (amax.op, gmax.op, gavg.op) == ("adaptive max", "global max", "global avg")
    assert amax.notes == ["h-sigmoid"] and add.notes == ["LN", "GN", "PReLU"]  # dropout2d is not drawn


@pytest.mark.skipif(RUFF is None, reason="ruff is not installed")
def test_their_generated_code_passes_ruff(tmp_path: Path):
    path = tmp_path / "model.py"
    path.write_text(generate(archcalc.analyse(archcalc.parse(ALL_NEW))).source)
    lint = subprocess.run([RUFF, "check", "--isolated", "--select", "E,F,W,B,UP", str(path)], capture_output=True)
    fmt = subprocess.run([RUFF, "format", "--isolated", "--check", "--diff", str(path)], capture_output=True)
    assert lint.returncode == 0 and fmt.returncode == 0, lint.stdout + fmt.stdout
