"""Engine arithmetic on hand-checked cases: padding rules, ceil_mode, warnings, receptive field, memory, FLOPs."""

from __future__ import annotations

import pytest

import archcalc
from archcalc.fields import PaddingMode
from archcalc.kinds import same_padding, slide


def one_layer(layer: str, input_shape: str = "{channels: 3, height: 17, width: 11}") -> archcalc.LayerResult:
    spec = archcalc.parse(f"name: t\ninput: {input_shape}\nlayers:\n  - {layer}\n")
    return archcalc.analyse(spec).layers[0]


@pytest.mark.parametrize(
    ("n", "k", "s", "expected"),
    [
        (224, 11, 4, (3, 4)),  # TensorFlow pads the odd pixel after
        (227, 11, 4, (4, 4)),
        (13, 3, 1, (1, 1)),
        (28, 5, 1, (2, 2)),
        (10, 1, 2, (0, 0)),
        (4, 8, 1, (3, 4)),
    ],
)
def test_tensorflow_same_padding(n: int, k: int, s: int, expected: tuple[int, int]):
    assert same_padding(n, k, s) == expected


def test_ceil_mode_drops_a_window_that_starts_in_the_padding():
    # PyTorch: MaxPool2d(2, 2, padding=1, ceil_mode=True) on 17×11 gives 9×6, not the naive 10×7.
    layer = one_layer("{kind: maxpool, kernel: 2, stride: 2, padding: 1, ceil_mode: true}")
    assert layer.output_shape == (3, 9, 6)
    assert layer.formula == (
        "H: ⌈(17 − 2 + 2×1)/2⌉ + 1 − 1 = 9 (a last window would start in the padding); "
        "W: ⌈(11 − 2 + 2×1)/2⌉ + 1 − 1 = 6 (a last window would start in the padding)"
    )


def test_inexact_division_warns_with_the_dropped_rows():
    layer = one_layer("{kind: conv, out_channels: 96, kernel: 11, stride: 4}", "{channels: 3, height: 224, width: 224}")
    assert layer.output_shape == (96, 54, 54)
    assert layer.formula == "⌊(224 − 11 + 2×0)/4⌋ + 1 = 54"
    assert layer.warnings == [
        "height and width: (224 − 11 + 0)/4 = 53.25 is not exact; "
        "the last 1 row/column of the input is never covered by the kernel"
    ]


def test_a_stride_that_leaves_only_padding_uncovered_is_not_a_warning():
    # ResNet's 3×3 stride-2 convolution with padding 1 on 224: (224 − 3 + 2)/2 = 111.5, but the row
    # left over is the bottom padding, so no input pixel is lost.
    layer = one_layer(
        "{kind: conv, out_channels: 64, kernel: 3, stride: 2, padding: 1}", "{channels: 3, height: 224, width: 224}"
    )
    assert layer.output_shape == (64, 112, 112) and layer.warnings == []
    # padding 1 on top and 2 at the bottom of 17 rows, 4×4 stride 3: (17 − 4 + 3)/3 = 5.33, one padding
    # row and one input row are left over; on the width (no padding, 11 − 4 = 7) 1 input column
    layer = one_layer("{kind: conv, out_channels: 1, kernel: 4, stride: 3, padding: [1, 1, 0, 0]}")
    assert layer.output_shape == (1, 6, 3)
    assert layer.warnings == [
        "width: (11 − 4 + 0)/3 = 2.33 is not exact; the last 1 column of the input is never covered by the kernel"
    ]


def test_rectangular_kernel_stride_and_padding():
    layer = one_layer("{kind: conv, out_channels: 4, kernel: [3, 5], stride: [2, 1], padding: [1, 2, 0, 3]}")
    # H: (17 + 1 + 2 − 3)/2 + 1 = 9 (8.5 floored); W: (11 + 0 + 3 − 5)/1 + 1 = 10
    assert layer.output_shape == (4, 9, 10)
    assert layer.params == 4 * 3 * 3 * 5 + 4
    assert layer.formula == "H: ⌊(17 − 3 + 1 + 2)/2⌋ + 1 = 9; W: (11 − 5 + 0 + 3)/1 + 1 = 10"
    assert layer.warnings == []  # the row the last window misses is the second row of bottom padding


def test_dilation_and_groups():
    layer = one_layer(
        "{kind: conv, out_channels: 6, kernel: 3, dilation: 2, groups: 3, bias: false}",
        "{channels: 6, height: 13, width: 13}",
    )
    assert layer.output_shape == (6, 9, 9)  # effective kernel 5
    assert layer.params == 6 * 2 * 3 * 3
    assert layer.macs == 6 * 9 * 9 * 2 * 9
    assert "dilated kernel 2×(3−1)+1 = 5" in layer.formula


def test_same_padding_with_stride_two_is_asymmetric():
    geometry = slide(224, 224, (3, 3), (2, 2), PaddingMode.SAME)
    assert (geometry.out_h, geometry.padding) == (112, (0, 1, 0, 1))


def test_batchnorm_counts_running_statistics_as_non_trainable():
    layer = one_layer("{kind: batchnorm}", "{channels: 96, height: 28, width: 28}")
    assert (layer.trainable_params, layer.non_trainable_params) == (192, 192)
    layer = one_layer("{kind: batchnorm, affine: false}", "{channels: 96, height: 28, width: 28}")
    assert (layer.trainable_params, layer.non_trainable_params) == (0, 192)


def test_receptive_field_of_alexnet():
    result = archcalc.analyse(archcalc.load("alexnet"))
    # Hand-checked: r_out = r_in + (k − 1)·j_in, j_out = j_in·s
    sizes = {
        n: result[n].receptive_field.size[0] for n in ("conv1", "pool1", "conv2", "pool2", "conv3", "conv5", "pool5")
    }
    assert sizes == {"conv1": 11, "pool1": 19, "conv2": 51, "pool2": 67, "conv3": 99, "conv5": 163, "pool5": 195}
    assert result["pool5"].receptive_field.jump == (32, 32)
    assert result["conv2"].receptive_field.start == (9.5, 9.5)  # padding 2 × jump 8 shifts the centre by 16
    assert result["fc6"].receptive_field is None


def test_memory_follows_the_dtype():
    spec = archcalc.load("lenet5-mnist")
    fp32 = archcalc.analyse(spec).totals
    bf16 = archcalc.analyse(spec, dtype=archcalc.DType.BFLOAT16).totals
    assert fp32.param_bytes == 44_426 * 4 and bf16.param_bytes == 44_426 * 2
    assert fp32.input_bytes == 28 * 28 * 4
    # every layer output: 3 × 6×24×24 (conv, relu... pool halves) summed by hand
    outputs = [6 * 24 * 24, 6 * 24 * 24, 6 * 12 * 12, 16 * 8 * 8, 16 * 8 * 8, 16 * 4 * 4, 256, 120, 120, 84, 84, 10]
    assert fp32.activation_bytes == 4 * sum(outputs)


def test_flop_conventions():
    spec = archcalc.load("lenet5-mnist")
    matmul = archcalc.analyse(spec)
    full = archcalc.analyse(spec, flops="all")
    assert matmul.totals.flops == 2 * matmul.totals.macs
    conv1 = full["conv1"]
    assert conv1.flops == 2 * conv1.macs + 6 * 24 * 24  # + one bias add per output element
    assert full["relu1"].flops == 6 * 24 * 24
    assert full["pool1"].flops == 6 * 12 * 12 * 4
    assert full["fc1"].flops == 2 * 256 * 120 + 120


def test_branches_concat_and_add():
    spec = archcalc.parse(
        """
name: branchy
input: {channels: 3, height: 32, width: 32}
layers:
  - {kind: conv, name: stem, out_channels: 8, kernel: 3, padding: 1}
  - {kind: conv, name: a, out_channels: 4, kernel: 1, inputs: stem}
  - {kind: conv, name: b, out_channels: 6, kernel: 5, padding: 2, inputs: [stem]}
  - {kind: concat, name: cat, inputs: [a, b]}
  - {kind: conv, name: proj, out_channels: 8, kernel: 1}
  - {kind: add, name: sum, inputs: [proj, stem]}
"""
    )
    result = archcalc.analyse(spec)
    assert result["cat"].output_shape == (10, 32, 32)
    assert result["cat"].formula == "4 + 6 = 10 channels"
    assert result["sum"].output_shape == (8, 32, 32)
    assert result["sum"].receptive_field.size == (7, 7)  # the larger of the branches: 3 then 5
    graph = result.to_networkx()
    assert sorted(graph.predecessors("sum")) == ["proj", "stem"]
    assert graph.number_of_nodes() == 7


def test_api_sweeps_without_reloading():
    spec = archcalc.load("alexnet")
    wide = spec.with_params("conv1", out_channels=128)
    assert archcalc.analyse(wide)["conv1"].params == 11 * 11 * 3 * 128 + 128
    assert archcalc.analyse(spec)["conv1"].params == 34_944  # the original is unchanged
    assert archcalc.analyse(spec, input_shape=(3, 259, 259))["pool5"].output_shape == (256, 7, 7)
    with pytest.raises(archcalc.SpecError, match="unknown field 'kernal'.*did you mean 'kernel'"):
        spec.with_params("conv1", kernal=3)


def test_declared_sizes_that_disagree_name_where_the_size_came_from():
    lenet = """name: lenet-mnist
input: {channels: 1, height: 28, width: 28}
layers:
  - {kind: conv, name: c1, out_channels: 6, kernel: 5, in_channels: 1}
  - {kind: maxpool, kernel: 2}
  - {kind: conv, name: c2, out_channels: 16, kernel: 5, in_channels: 6}
  - {kind: maxpool, kernel: 2}
  - {kind: flatten}
  - {kind: linear, name: fc1, out_features: 120, in_features: 400}
"""
    with pytest.raises(archcalc.SpecError) as caught:
        archcalc.analyse(archcalc.parse(lenet, "lenet.yaml"))
    # the learner's classic mistake: 16×5×5 from the 32×32 paper, where MNIST's 28×28 gives 16×4×4
    assert str(caught.value) == (
        "lenet.yaml:9: layer 'fc1' (linear), field 'in_features': in_features 400 declared, "
        "but the input has 256 features (flatten1: 16 × 4 × 4 = 256)"
    )
    fixed = archcalc.analyse(archcalc.parse(lenet.replace("in_features: 400", "in_features: 256")))
    assert fixed["fc1"].params == 256 * 120 + 120
    with pytest.raises(archcalc.SpecError, match="field 'in_channels': in_channels 3 declared, but the input has 6"):
        archcalc.analyse(archcalc.parse(lenet.replace("in_channels: 6", "in_channels: 3")))


def test_depthwise_groups_are_the_input_channels():
    layer = one_layer("{kind: conv, out_channels: 32, kernel: 3, padding: 1, groups: depthwise, bias: false}",
                      "{channels: 32, height: 112, width: 112}")  # fmt: skip
    assert layer.params == 32 * 3 * 3  # MobileNetV2's first depthwise layer
    assert layer.macs == 32 * 9 * 112 * 112
    assert layer.definition.caption(layer) == "dw 3×3"


def test_receptive_field_is_exact_and_json_carries_numbers():
    layer = one_layer("{kind: conv, out_channels: 1, kernel: 4, stride: 2, padding: 1}")
    rf = layer.receptive_field
    assert rf.size == (4, 4) and rf.jump == (2, 2)
    assert rf.start == (1, 1)  # centre of the first field: 0.5 + (4 − 1)/2 − 1 = 1, an exact number
    assert layer.to_dict()["receptive_field"] == {"size": [4, 4], "jump": [2, 2], "start": [1, 1]}
    first = one_layer("{kind: conv, out_channels: 1, kernel: 3}").to_dict()["receptive_field"]
    assert first == {"size": [3, 3], "jump": [1, 1], "start": [1.5, 1.5]}


def test_the_analysis_has_every_view_as_a_method_and_shows_itself_in_a_notebook():
    analysis = archcalc.analyse(archcalc.load("lenet5"))
    assert repr(analysis) == "<Analysis 'LeNet-5': 14 layers, 60,840 params, 326,520 MACs>"
    assert analysis.table().startswith("LeNet-5 — input 1×32×32")
    assert analysis.table("json").lstrip().startswith("{")
    assert analysis.svg().startswith("<svg") and analysis._repr_svg_() == analysis.svg()
    assert analysis.dot().startswith("digraph archcalc {")
    assert "class LeNet5(nn.Module):" in analysis.code()
    cell = analysis._repr_html_()
    assert cell.startswith('<div class="archcalc-cell">') and "<html" not in cell
    assert cell.count("<tr>") == len(analysis.layers) + 1 and "60,840" in cell
    hostile = archcalc.analyse(
        archcalc.parse("name: '<b>x</b>'\ninput: [1, 4, 4]\nlayers:\n  - {kind: relu, name: '<script>'}\n")
    )
    assert "<script>" not in hostile._repr_html_() and "&lt;script&gt;" in hostile._repr_html_()
