"""Caffe deploy.prototxt files: the published BVLC AlexNet to the digit, GoogLeNet's and ResNet's
openings against the papers' figures and hand arithmetic, Caffe's pooling rule, every layer type,
and hostile files (one line, exit 2, nothing written)."""

from __future__ import annotations

import math
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.errors import ImportFailure, SpecError
from archcalc.importers import import_mapping, import_spec
from archcalc.spec import from_mapping

from .conftest import ROOT

DATA = Path(__file__).parent / "import_data" / "caffe"
HEAD = 'name: "t"\ninput: "data"\ninput_shape { dim: 1 dim: 3 dim: 8 dim: 8 }\n'


def analysed(source: Path | str, input_shape=None):
    return archcalc.analyse(import_spec(str(source), input_shape))


def prototxt(tmp_path: Path, body: str, head: str = HEAD, name: str = "deploy.prototxt") -> Path:
    path = tmp_path / name
    path.write_text(head + body, encoding="utf-8")
    return path


def layer(name: str, kind: str, bottom: str | None, top: str | None = None, params: str = "") -> str:
    bottoms = f'bottom: "{bottom}" ' if bottom else ""
    return f'layer {{ name: "{name}" type: "{kind}" {bottoms}top: "{top or name}" {params} }}\n'


def refused(path: Path, *expected: str) -> str:
    with pytest.raises(ImportFailure) as caught:
        import_mapping(str(path))
    message = str(caught.value)
    for part in expected:
        assert part in message, message
    return message


# --- the acceptance test: BVLC's AlexNet is archcalc's AlexNet -------------------------------------


def test_bvlc_alexnet_deploy_is_the_bundled_alexnet_layer_by_layer():
    imported = analysed(DATA / "bvlc_alexnet.prototxt")
    bundled = archcalc.analyse(archcalc.load("alexnet"))
    assert imported.totals.params == 60_965_224  # Caffe's reference AlexNet (bvlc_alexnet), as published
    assert imported.input_shape == (3, 227, 227)  # the file's 10 × 3 × 227 × 227, batch left out

    def numbers(analysis):
        return [(r.kind, r.output_shape, r.params, r.trainable_params, r.macs) for r in analysis.layers]

    assert numbers(imported) == numbers(bundled)
    maps = [r.output_shape[1] for r in imported.layers if r.kind in ("conv", "maxpool")]
    assert maps == [55, 27, 27, 13, 13, 13, 13, 6]


def test_the_alexnet_spec_keeps_caffes_names_groups_and_constants():
    layers = {entry["name"]: entry for entry in import_mapping(str(DATA / "bvlc_alexnet.prototxt"))["layers"]}
    order = "conv1 relu1 norm1 pool1 conv2 relu2 norm2 pool2 conv3 relu3 conv4 relu4 conv5 relu5 pool5".split()
    assert list(layers)[:15] == order
    assert list(layers)[15:] == "fc6_flatten fc6 relu6 drop6 fc7 relu7 drop7 fc8 prob".split()
    assert [layers[name].get("groups", 1) for name in ("conv1", "conv2", "conv3", "conv4", "conv5")] == [1, 2, 1, 2, 2]
    assert layers["norm1"] == {"kind": "lrn", "name": "norm1", "size": 5, "alpha": 0.0001, "beta": 0.75, "k": 1.0}
    assert layers["pool1"]["ceil_mode"] is True and layers["pool1"]["stride"] == 2
    assert layers["drop6"]["p"] == 0.5


def test_the_old_v1_format_reads_the_same():
    modern = import_mapping(str(DATA / "bvlc_alexnet.prototxt"))
    old = import_mapping(str(DATA / "bvlc_alexnet_v1.prototxt"))
    assert [dict(entry) for entry in old["layers"]] == [dict(entry) for entry in modern["layers"]]
    assert old["input"] == [3, 227, 227]  # from input_dim: 10, 3, 227, 227


def test_caffe_lenet_has_its_431080_parameters():
    result = analysed(DATA / "lenet.prototxt")
    assert result.totals.params == 431_080  # Caffe's examples/mnist LeNet
    assert [(r.name, r.params) for r in result.layers if r.params] == [
        ("conv1", 5 * 5 * 1 * 20 + 20), ("conv2", 5 * 5 * 20 * 50 + 50),
        ("ip1", 800 * 500 + 500), ("ip2", 500 * 10 + 10),
    ]  # fmt: skip
    assert result["ip1_flatten"].output_shape == (800,)  # 50 × 4 × 4


# --- GoogLeNet: an inception block ------------------------------------------------------------------


def test_googlenet_inception_3a_matches_the_paper():
    result = analysed(DATA / "googlenet_3a.prototxt")
    shapes = {r.name: r.output_shape for r in result.layers}
    assert shapes["conv1/7x7_s2"] == (64, 112, 112)  # ⌊(224 + 6 − 7)/2⌋ + 1
    assert shapes["pool1/3x3_s2"] == (64, 56, 56)  # Caffe rounds (112 − 3)/2 = 54.5 up
    assert shapes["pool2/3x3_s2"] == (192, 28, 28)  # (56 − 3)/2 = 26.5, up
    assert shapes["inception_3a/output"] == (256, 28, 28)  # 64 + 128 + 32 + 32
    assert result["inception_3a/output"].inputs == (
        "inception_3a/relu_1x1", "inception_3a/relu_3x3", "inception_3a/relu_5x5", "inception_3a/relu_pool_proj",
    )  # fmt: skip
    inception = [r for r in result.layers if r.name.startswith("inception_3a/") and r.kind == "conv"]
    weights = 192 * 64 + 192 * 96 + 9 * 96 * 128 + 192 * 16 + 25 * 16 * 32 + 192 * 32
    assert weights == 163_328 and round(weights / 1024) == 160  # the paper's table: 159K (K = 1024)
    assert sum(r.params for r in inception) == weights + 64 + 96 + 128 + 16 + 32 + 32
    assert sum(r.macs for r in inception) == 28 * 28 * weights == 128_049_152  # the paper: 128M
    conv2 = result["conv2/3x3_reduce"].macs + result["conv2/3x3"].macs
    assert conv2 == 56 * 56 * (64 * 64 + 9 * 64 * 192) == 359_661_568  # the paper: 360M
    assert result["conv1/7x7_s2"].macs == 112 * 112 * 7 * 7 * 3 * 64  # 118M
    assert result["pool_global"].kind == "global_avgpool" and shapes["pool_global"] == (256, 1, 1)
    assert result.totals.params == 288_112 + 256 * 1000 + 1000


# --- ResNet: BatchNorm + Scale, Eltwise SUM, in-place layers -----------------------------------------


def test_resnet_batchnorm_scale_pairs_and_residual_sums():
    result = analysed(DATA / "resnet50_res2.prototxt")
    kinds = [r.kind for r in result.layers]
    assert kinds.count("batchnorm") == 8 and "scale" not in {r.name[:5] for r in result.layers}
    assert result["bn_conv1"].trainable_params == 128 and result["bn_conv1"].non_trainable_params == 128
    assert result["res2a"].kind == "add" and result["res2a"].inputs == ("bn2a_branch1", "bn2a_branch2c")
    # res2b reads blob "res2a", which the in-place res2a_relu has overwritten
    assert result["res2b"].inputs == ("res2a_relu", "bn2b_branch2c")
    assert result["pool1"].output_shape == (64, 56, 56)  # (112 − 3)/2 = 54.5, rounded up
    assert result["res2b_relu"].output_shape == (256, 56, 56)
    convs = 7 * 7 * 3 * 64 + 64 * 256 + 64 * 64 + 9 * 64 * 64 + 64 * 256 + 256 * 64 + 9 * 64 * 64 + 64 * 256
    norms = 2 * (64 + 256 + 64 + 64 + 256 + 64 + 64 + 256)  # γ, β (and mean, var) per channel
    assert result.totals.trainable_params == convs + norms + 256 * 1000 + 1000 == 411_944
    assert result.totals.non_trainable_params == norms == 2_176
    assert result.totals.macs == 567_846_912  # 112² × 9,408 + 56² × (4 × 16,384 + 4,096 + 2 × 36,864) + 256,000


def test_resnet_units_count_what_torch_counts():
    torch = pytest.importorskip("torch")
    nn = torch.nn

    def unit(c_in: int, projection: bool) -> nn.Module:
        layers = [nn.Conv2d(c_in, 64, 1, bias=False), nn.BatchNorm2d(64), nn.Conv2d(64, 64, 3, padding=1, bias=False),
                  nn.BatchNorm2d(64), nn.Conv2d(64, 256, 1, bias=False), nn.BatchNorm2d(256)]  # fmt: skip
        if projection:
            layers += [nn.Conv2d(c_in, 256, 1, bias=False), nn.BatchNorm2d(256)]
        return nn.Sequential(*layers)

    result = analysed(DATA / "resnet50_res2.prototxt")
    for prefix, module in (("2a", unit(64, True)), ("2b", unit(256, False))):
        ours = [r for r in result.layers if r.name.startswith((f"res{prefix}_", f"bn{prefix}_"))]
        assert sum(r.trainable_params for r in ours) == sum(p.numel() for p in module.parameters())
        buffers = sum(b.numel() for name, b in module.named_buffers() if "running" in name)
        assert sum(r.non_trainable_params for r in ours) == buffers
    assert sum(p.numel() for p in unit(64, True).parameters()) == 75_008  # torchvision resnet50.layer1[0]


def test_a_batchnorm_without_scale_is_not_affine_and_a_scale_needs_its_bias(tmp_path):
    conv = layer("c", "Convolution", "data", params="convolution_param { num_output: 4 kernel_size: 1 }")
    bn = layer("bn", "BatchNorm", "c", "c", "batch_norm_param { eps: 0.001 }")
    spec = import_mapping(str(prototxt(tmp_path, conv + bn)))
    assert spec["layers"][1] == {"kind": "batchnorm", "name": "bn", "affine": False, "eps": 0.001}
    scale = layer("sc", "Scale", "c", "c", "scale_param { bias_term: false }")
    refused(prototxt(tmp_path, conv + bn + scale), ":6:", "layer 'sc' (type \"Scale\")", "without bias_term: true")
    lonely = layer("sc", "Scale", "c", "c", "scale_param { bias_term: true }")
    refused(prototxt(tmp_path, conv + lonely), "does not directly follow a BatchNorm")


def test_the_unscaled_output_of_a_joined_batchnorm_cannot_be_read(tmp_path):
    conv = layer("c", "Convolution", "data", params="convolution_param { num_output: 4 kernel_size: 1 }")
    pair = layer("bn", "BatchNorm", "c", "normed") + layer(
        "sc", "Scale", "normed", "scaled", "scale_param { bias_term: true }"
    )
    ok = import_mapping(str(prototxt(tmp_path, conv + pair + layer("r", "ReLU", "scaled"))))
    assert [entry["kind"] for entry in ok["layers"]] == ["conv", "batchnorm", "relu"]
    refused(
        prototxt(tmp_path, conv + pair + layer("r", "ReLU", "normed")),
        "bottom 'normed' is the output of BatchNorm 'bn' before its Scale 'sc'",
    )


# --- pooling: Caffe rounds up -----------------------------------------------------------------------


def caffe_pooled(n: int, k: int, s: int, p: int, any_padding: bool) -> int:
    """Caffe's pooling_layer.cpp: ceil, then (only when pad_h or pad_w is set) the last window must
    start inside the image plus its leading padding."""
    pooled = math.ceil((n + 2 * p - k) / s) + 1
    if any_padding and (pooled - 1) * s >= n + p:
        pooled -= 1
    return pooled


def test_ceil_rounding_where_it_matters():
    result = analysed(DATA / "pooling_ceil.prototxt")
    assert [r.output_shape for r in result.layers] == [(3, 56, 56), (3, 29, 29), (3, 15, 15), (3, 7, 7)]
    assert caffe_pooled(112, 3, 2, 0, False) == 56 and (112 - 3) // 2 + 1 == 55  # floor would say 55
    assert caffe_pooled(56, 3, 2, 1, True) == 29
    assert caffe_pooled(29, 2, 2, 1, True) == 15 and math.ceil((29 + 2 - 2) / 2) + 1 == 16  # the last window is dropped
    assert (15 - 2) // 2 + 1 == 7  # round_mode: FLOOR
    assert [r.params_spec.get("ceil_mode") for r in result.layers] == [True, True, True, False]
    assert result["pool_clipped"].kind == "avgpool"


@pytest.mark.parametrize("kernel", [1, 2, 3, 4])
@pytest.mark.parametrize("stride", [1, 2, 3, 4])
def test_every_pool_is_caffes_size_or_refused(tmp_path, kernel: int, stride: int):
    """Against Caffe's rule for every input size: what is imported has Caffe's size, and only where
    PyTorch's ceil_mode would give another size is the layer refused."""
    for pad in range(kernel // 2 + 1):
        for n in range(max(1, kernel - 2 * pad), 30):
            params = f"pooling_param {{ pool: MAX kernel_size: {kernel} stride: {stride} pad: {pad} }}"
            head = f'input: "data"\ninput_shape {{ dim: 1 dim: 1 dim: {n} dim: {n} }}\n'
            path = prototxt(tmp_path, layer("pool", "Pooling", "data", params=params), head)
            expected = caffe_pooled(n, kernel, stride, pad, pad > 0)
            try:
                result = analysed(path)
            except ImportFailure as failure:
                assert "Caffe keeps a last window that starts past the input" in str(failure)
                assert pad == 0 and stride > kernel
                torch_size = math.ceil((n - kernel) / stride) + 1
                torch_size -= (torch_size - 1) * stride >= n  # PyTorch's pooling_output_shape, always
                assert torch_size != expected
                continue
            assert result.layers[0].output_shape == (1, expected, expected), (n, kernel, stride, pad)


def test_unpadded_stride_over_kernel_is_refused_only_where_caffe_differs(tmp_path):
    params = "pooling_param { pool: MAX kernel_size: 1 stride: 2 }"
    body = layer("subsample", "Pooling", "data", params=params)
    path = prototxt(tmp_path, body, 'input: "data"\ninput_shape { dim: 1 dim: 8 dim: 56 dim: 56 }\n')
    message = refused(path, ":3: layer 'subsample' (type \"Pooling\")", "pooling 56×56 to 29×29", "gives 28×28")
    assert "cannot be represented exactly" in message
    assert analysed(path, (8, 55, 55)).layers[0].output_shape == (8, 28, 28)  # (55 − 1)/2 + 1: both agree


def test_global_pooling_and_its_rules(tmp_path):
    body = layer("g", "Pooling", "data", params="pooling_param { pool: MAX global_pooling: true }")
    assert analysed(prototxt(tmp_path, body)).layers[0].kind == "global_maxpool"
    body = layer("g", "Pooling", "data", params="pooling_param { pool: AVE global_pooling: true kernel_size: 3 }")
    refused(prototxt(tmp_path, body), "pooling_param.kernel_size: global_pooling takes no kernel size")
    body = layer("s", "Pooling", "data", params="pooling_param { pool: STOCHASTIC kernel_size: 2 stride: 2 }")
    refused(prototxt(tmp_path, body), "STOCHASTIC pooling cannot be represented exactly")


# --- the other layer types --------------------------------------------------------------------------


def test_activations_dropout_and_softmax(tmp_path):
    body = (
        layer("leaky", "ReLU", "data", "data", "relu_param { negative_slope: 0.1 }")
        + layer("s", "Sigmoid", "data") + layer("t", "TanH", "s") + layer("pr", "PReLU", "t")
        + layer("shared", "PReLU", "pr", params="prelu_param { channel_shared: true }")
        + layer("e", "ELU", "shared", params="elu_param { alpha: 0.5 }")
        + layer("d", "Dropout", "e", "e", "dropout_param { dropout_ratio: 0.25 }") + layer("prob", "Softmax", "e")
    )  # fmt: skip
    result = analysed(prototxt(tmp_path, body))
    assert [r.kind for r in result.layers] == [
        "leaky_relu", "sigmoid", "tanh", "prelu", "prelu", "elu", "dropout", "softmax",
    ]  # fmt: skip
    assert result["leaky"].params_spec["negative_slope"] == 0.1
    assert result["pr"].params == 3 and result["shared"].params == 1  # Caffe: C slopes, or one shared
    assert result["d"].params_spec["p"] == 0.25 and result["e"].params_spec["alpha"] == 0.5
    assert result["prob"].inputs == ("d",)  # dropout wrote blob "e" in place


def test_lrn_within_channel_and_eltwise_max_are_refused(tmp_path):
    body = layer("n", "LRN", "data", params="lrn_param { local_size: 3 norm_region: WITHIN_CHANNEL }")
    refused(prototxt(tmp_path, body), ":4: layer 'n' (type \"LRN\")", "WITHIN_CHANNEL cannot be represented exactly")
    body = layer("n", "LRN", "data", params="lrn_param { local_size: 4 }")
    refused(prototxt(tmp_path, body), "lrn_param.local_size: must be odd")
    two = layer("a", "ReLU", "data") + layer("b", "Sigmoid", "data")
    maxed = 'layer { name: "m" type: "Eltwise" bottom: "a" bottom: "b" top: "m" eltwise_param { operation: MAX } }'
    refused(prototxt(tmp_path, two + maxed), ":6:", "Eltwise MAX", "cannot be represented exactly", "archcalc's kinds:")
    weighted = (
        'layer { name: "w" type: "Eltwise" bottom: "a" bottom: "b" top: "w" eltwise_param { coeff: 1 coeff: -1 } }'
    )
    refused(prototxt(tmp_path, two + weighted), "coefficients 1, -1")


def test_eltwise_prod_concat_split_flatten(tmp_path):
    def merge(name: str, kind: str, bottoms: tuple[str, str], params: str) -> str:
        return f'layer {{ name: "{name}" type: "{kind}" bottom: "{bottoms[0]}" bottom: "{bottoms[1]}" top: "{name}" {params} }}\n'

    body = (
        'layer { name: "split" type: "Split" bottom: "data" top: "x1" top: "x2" }\n'
        + layer("a", "ReLU", "x1") + layer("b", "Sigmoid", "x2")
        + merge("prod", "Eltwise", ("a", "b"), "eltwise_param { operation: PROD }")
        + merge("sum", "Eltwise", ("prod", "data"), "eltwise_param { coeff: 1 coeff: 1 }")
        + merge("cat", "Concat", ("sum", "a"), "concat_param { axis: 1 }")
        + layer("flat", "Flatten", "cat")
        + layer("fc", "InnerProduct", "flat", params="inner_product_param { num_output: 5 bias_term: false }")
    )  # fmt: skip
    result = analysed(prototxt(tmp_path, body))
    assert [(r.name, r.kind) for r in result.layers] == [
        ("a", "relu"), ("b", "sigmoid"), ("prod", "multiply"), ("sum", "add"), ("cat", "concat"),
        ("flat", "flatten"), ("fc", "linear"),
    ]  # fmt: skip
    assert result["a"].inputs == ("input",) and result["sum"].inputs == ("prod", "input")  # the Split is an alias
    assert result["cat"].output_shape == (6, 8, 8) and result["flat"].output_shape == (384,)
    assert result["fc"].params == 384 * 5  # bias_term: false, and no second flatten before it


def test_deconvolution_follows_caffes_output_size(tmp_path):
    params = "convolution_param { num_output: 6 kernel_size: 4 stride: 2 pad: 1 group: 3 bias_term: false }"
    result = analysed(prototxt(tmp_path, layer("up", "Deconvolution", "data", params=params)))
    up = result.layers[0]
    assert up.kind == "conv_transpose"
    assert up.output_shape == (6, 2 * (8 - 1) + 4 - 2 * 1, 2 * (8 - 1) + 4 - 2 * 1)  # Caffe: s(n − 1) + k − 2p
    assert up.params == 4 * 4 * 3 * (6 // 3)  # Caffe's weight blob: C_in × C_out/group × k × k


def test_convolution_fields_as_caffe_spells_them(tmp_path):
    params = (
        "convolution_param { num_output: 8 kernel_h: 3 kernel_w: 5 stride_h: 2 stride_w: 1 pad_h: 1 pad_w: 2 "
        "dilation: 2 group: 1 }"
    )
    spec = import_mapping(str(prototxt(tmp_path, layer("c", "Convolution", "data", params=params))))
    assert spec["layers"][0] == {
        "kind": "conv", "name": "c", "out_channels": 8,
        "kernel": [3, 5], "stride": [2, 1], "padding": [1, 2], "dilation": 2,
    }  # fmt: skip
    params = "convolution_param { num_output: 8 kernel_size: 3 kernel_size: 1 pad: 1 pad: 0 }"
    spec = import_mapping(str(prototxt(tmp_path, layer("c", "Convolution", "data", params=params))))
    assert spec["layers"][0]["kernel"] == [3, 1] and spec["layers"][0]["padding"] == [1, 0]
    params = "convolution_param { num_output: 8 kernel_size: 3 kernel_h: 3 kernel_w: 3 }"
    refused(prototxt(tmp_path, layer("c", "Convolution", "data", params=params)), "give kernel_size or kernel_h")
    params = "convolution_param { num_output: 8 kernel_size: 3 stirde: 2 }"  # misspelt: never the default stride
    refused(
        prototxt(tmp_path, layer("c", "Convolution", "data", params=params)),
        "convolution_param.stirde: Caffe has no field",
    )


# --- the text format and the net ----------------------------------------------------------------------


def test_text_format_details(tmp_path):
    head = (
        "# comments, adjacent strings, escapes, <> blocks, lists, hex and octal, ; and , separators\n"
        "name: 'corner' \"s\"\n"
        'input: "da\\x74a"\n'
        "input_shape < dim: [1, 3, 0x10, 020] >\n"
    )
    body = (
        'layer { name: "c\\101\\n"; type: "Convolution"; bottom: "data"; top: "c"; '
        "convolution_param: { num_output: 4, kernel_size: 3 } }\n"
        'layer { name: "p" type: "Pooling" bottom: "c" top: "p" pooling_param { pool: 1 kernel_size: 2 stride: 2 } }\n'
        'layer { name: "r" type: "ReLU" bottom: "p" top: "p" relu_param { negative_slope: 1e-1 } }\n'
    )
    spec = import_mapping(str(prototxt(tmp_path, body, head)))
    assert spec["name"] == "corners" and spec["input"] == [3, 16, 16]
    assert [entry["name"] for entry in spec["layers"]] == ["cA", "p", "r"]  # "\n" is a control character, dropped
    assert spec["layers"][1]["kind"] == "avgpool"  # pool: 1 is AVE
    assert spec["layers"][2]["negative_slope"] == 0.1


def test_only_the_test_phase_net_is_read(tmp_path):
    body = (
        'layer { name: "train_data" type: "Data" top: "data" include { phase: TRAIN } }\n'
        + layer("r", "ReLU", "data")
        + 'layer { name: "loss" type: "SoftmaxWithLoss" bottom: "r" top: "loss" exclude { phase: TEST } }\n'
        + 'layer { name: "staged" type: "Python" bottom: "r" top: "q" include { stage: "train" } }\n'
        + 'layer { name: "test_only" type: "Sigmoid" bottom: "r" top: "s" include { phase: TEST } }\n'
    )  # fmt: skip
    assert [entry["name"] for entry in import_mapping(str(prototxt(tmp_path, body)))["layers"]] == ["r", "test_only"]
    staged = 'state { stage: "train" }\n' + body
    refused(prototxt(tmp_path, staged), "layer 'staged' (type \"Python\") cannot be represented exactly")


def test_inputs_the_file_declares_and_the_option_overrides(tmp_path):
    body = layer("r", "ReLU", "data")
    assert import_mapping(str(prototxt(tmp_path, body)), (3, 32, 32))["input"] == [3, 32, 32]
    no_shape = prototxt(tmp_path, body, 'input: "data"\n')
    refused(no_shape, ":1: input 'data' has no shape; give one with --input")
    assert import_mapping(str(no_shape), (1, 4, 4))["input"] == [1, 4, 4]
    refused(prototxt(tmp_path, body, ""), "the net declares no input")
    two = (
        HEAD
        + 'layer { name: "in2" type: "Input" top: "extra" input_param { shape { dim: 1 dim: 1 dim: 2 dim: 2 } } }\n'
    )
    refused(
        prototxt(tmp_path, body, two), "the net has 2 inputs, 'data' (line 2), 'extra' (line 4); archcalc reads one"
    )
    flat = 'input: "data"\ninput_shape { dim: 1 dim: 100 }\n'
    refused(prototxt(tmp_path, body, flat), "input 'data' is 1 × 100; archcalc reads N × C × H × W")


def test_validation_errors_name_the_prototxt_line(tmp_path):
    body = layer("c", "Convolution", "data", params="convolution_param { num_output: 4 kernel_size: 3 group: 2 }")
    path = prototxt(tmp_path, body)
    with pytest.raises(SpecError) as caught:
        archcalc.analyse(from_mapping(import_mapping(str(path)), str(path)))
    assert str(caught.value) == (
        f"{path}:4: layer 'c' (conv), field 'groups': 3 input channels are not divisible by 2 groups"
    )


def test_commands_take_a_prototxt_directly():
    lenet = str(DATA / "lenet.prototxt")
    result = CliRunner().invoke(main, ["table", lenet, "--input", "1x32x32"])
    assert result.exit_code == 0, result.output
    assert re.search(r"^conv1\s+conv\s+20×28×28", result.stdout, re.M)  # LeNet's original 32 × 32
    assert "Total params:          431,080" not in result.stdout  # 50 × 5 × 5 = 1,250 into ip1 now
    result = CliRunner().invoke(main, ["codegen", lenet])
    assert result.exit_code == 0 and "nn.Conv2d(1, 20, (5, 5))" in result.stdout


def test_a_yaml_table_never_loads_the_caffe_importer():
    code = (
        "import sys; from click.testing import CliRunner; from archcalc.cli import main; "
        "CliRunner().invoke(main, ['table', 'alexnet']); "
        "print('archcalc.importers.caffe_import' in sys.modules)"
    )
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout == "False\n"


# --- hostile files: one line, exit 2, nothing written -----------------------------------------------------


def run_import(path: Path, tmp_path: Path) -> str:
    output = tmp_path / "out.yaml"
    result = CliRunner().invoke(main, ["import", str(path), "-o", str(output)])
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output and not output.exists()
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1, message
    assert message.startswith(f"archcalc: error: {path}"), message
    return message


def test_unterminated_braces(tmp_path):
    path = prototxt(tmp_path, 'layer {\n  name: "r"\n  type: "ReLU"\n  bottom: "data"\n')
    assert run_import(path, tmp_path).endswith(":4: '{' opened here is never closed (the file ends first)")


def test_a_50_mb_file_is_refused_unread(tmp_path):
    path = tmp_path / "huge.prototxt"
    with path.open("wb") as handle:
        handle.truncate(50_000_000)  # sparse: nothing to write, and nothing should be read
    assert run_import(path, tmp_path).endswith("file is too large (50,000,000 bytes; the limit is 4,194,304)")


def test_nesting_10000_deep(tmp_path):
    path = prototxt(tmp_path, "a { " * 10_000 + "} " * 10_000, "")
    assert run_import(path, tmp_path).endswith(":1: nested more than 64 levels deep")


@pytest.mark.parametrize(
    ("junk", "expected"),
    [
        (bytes(range(256)) * 64, "it contains binary data; a .caffemodel holds weights"),
        (bytes(range(128, 256)) * 8, "this is not a UTF-8 text file (byte 0 cannot be decoded)"),
        ("layer { name: \u00ab }".encode(), ":1: unexpected character '«'"),
        (b"layer { name: }", ":1: 'name': expected a value, got '}'"),
        (b'name: "unterminated\n', ":1: an unterminated string"),
    ],
)
def test_binary_and_garbled_text(tmp_path, junk: bytes, expected: str):
    path = tmp_path / "junk.prototxt"
    path.write_bytes(junk)
    assert expected in run_import(path, tmp_path)


def test_an_unknown_layer_type(tmp_path):
    body = (
        layer("relu5", "ReLU", "data")
        + 'layer {\n  name: "fc6"\n  type: "Python"\n  bottom: "relu5"\n  top: "fc6"\n}\n'
    )
    message = run_import(prototxt(tmp_path, body), tmp_path)
    assert ":5: layer 'fc6' (type \"Python\") cannot be represented exactly" in message
    assert "the Caffe types archcalc reads: BatchNorm, Concat," in message and "archcalc's kinds: conv," in message


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ("num_output: 8 kernel_size: 0", "convolution_param.kernel_size: must be a positive integer, got 0"),
        ("num_output: -8 kernel_size: 3", "convolution_param.num_output: must be a positive integer, got -8"),
        ("num_output: 8 kernel_size: 3 stride: 0", "convolution_param.stride: must be a positive integer, got 0"),
        ("num_output: 8 kernel_size: 3 pad: -1", "convolution_param.pad: must be an integer from 0 to 4294967295"),
        ("num_output: 8 kernel_size: 3 group: 0", "convolution_param.group: must be a positive integer, got 0"),
        ("num_output: 0 kernel_size: 3", "convolution_param.num_output: must be a positive integer, got 0"),
        ("num_output: 8 kernel_size: 1.5", "convolution_param.kernel_size: expected an integer, got '1.5'"),
    ],
)
def test_negative_and_zero_sizes(tmp_path, params: str, expected: str):
    body = "\n".join(
        ["layer {", '  name: "conv1"', '  type: "Convolution"', '  bottom: "data"', '  top: "conv1"',
         f"  convolution_param {{ {params} }}", "}", ""]
    )  # fmt: skip
    message = run_import(prototxt(tmp_path, body), tmp_path)
    assert f":9: layer 'conv1' (type \"Convolution\"), {expected}" in message


def test_a_zero_input_size(tmp_path):
    head = 'input: "data"\ninput_dim: 1\ninput_dim: 3\ninput_dim: 0\ninput_dim: 8\n'
    message = run_import(prototxt(tmp_path, layer("r", "ReLU", "data"), head), tmp_path)
    assert message.endswith(":1: input 'data' is 1 × 3 × 0 × 8; archcalc reads N × C × H × W, each at least 1")


def test_a_bottom_no_layer_produced(tmp_path):
    body = layer("r", "ReLU", "data") + layer(
        "fc", "InnerProduct", "pool5", params="inner_product_param { num_output: 2 }"
    )
    message = run_import(prototxt(tmp_path, body), tmp_path)
    assert message.endswith(
        ":5: layer 'fc' (type \"InnerProduct\"): bottom 'pool5' is not produced by any earlier layer, nor is it the net's input"
    )


def test_many_layers_with_one_name_stay_quick(tmp_path):
    many = layer("r", "ReLU", "data", "data") * 20_000
    path = prototxt(tmp_path, many)
    started = time.perf_counter()
    spec = import_mapping(str(path))
    assert len(spec["layers"]) == 20_000 and spec["layers"][-1]["name"] == "r_20000"
    assert time.perf_counter() - started < 30  # linear: about a second (renaming was once quadratic: minutes)


# --- the README shows real output ---------------------------------------------------------------------


def test_readme_caffe_example_is_the_real_output(tmp_path, monkeypatch):
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Caffe", 1)[1]
    command = "$ archcalc import tests/import_data/caffe/lenet.prototxt -o lenet.yaml\n"
    printed = section.split(command, 1)[1].split("$ cat lenet.yaml\n", 1)
    written = printed[1].split("```", 1)[0]
    (tmp_path / "tests/import_data/caffe").mkdir(parents=True)
    (tmp_path / "tests/import_data/caffe/lenet.prototxt").write_bytes((DATA / "lenet.prototxt").read_bytes())
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["import", "tests/import_data/caffe/lenet.prototxt", "-o", "lenet.yaml"])
    assert result.exit_code == 0
    assert result.stderr + result.stdout == printed[0]
    assert (tmp_path / "lenet.yaml").read_text() == written


def test_more_than_100000_layers(tmp_path):
    path = prototxt(tmp_path, "layer{}\n" * 100_001)
    assert run_import(path, tmp_path).endswith(":100004: the net, layer: more than 100,000 layers")
