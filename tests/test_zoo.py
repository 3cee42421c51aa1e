"""The bundled zoo against its published sources (papers, printed Keras/torchvision summaries)."""

from __future__ import annotations

import pytest

import archcalc

# Output shape of every layer, in spec order, as printed in the sources (batch left out).
ALEXNET_SHAPES = {
    "conv1": (96, 55, 55), "relu1": (96, 55, 55), "norm1": (96, 55, 55), "pool1": (96, 27, 27),
    "conv2": (256, 27, 27), "relu2": (256, 27, 27), "norm2": (256, 27, 27), "pool2": (256, 13, 13),
    "conv3": (384, 13, 13), "relu3": (384, 13, 13), "conv4": (384, 13, 13), "relu4": (384, 13, 13),
    "conv5": (256, 13, 13), "relu5": (256, 13, 13), "pool5": (256, 6, 6), "flatten": (9216,),
    "fc6": (4096,), "relu6": (4096,), "drop6": (4096,), "fc7": (4096,), "relu7": (4096,), "drop7": (4096,),
    "fc8": (1000,), "prob": (1000,),
}  # fmt: skip

# The paper/Caffe model: conv2, conv4, conv5 split over two GPUs (groups=2).
ALEXNET_PARAMS = {
    "conv1": 11 * 11 * 3 * 96 + 96,  # 34,944
    "conv2": 5 * 5 * 48 * 256 + 256,  # 307,456
    "conv3": 3 * 3 * 256 * 384 + 384,  # 885,120
    "conv4": 3 * 3 * 192 * 384 + 384,  # 663,936
    "conv5": 3 * 3 * 192 * 256 + 256,  # 442,624
    "fc6": 9216 * 4096 + 4096,
    "fc7": 4096 * 4096 + 4096,
    "fc8": 4096 * 1000 + 1000,
}
# MACs by hand: output elements × (C_in / groups) × k × k; linear in × out.
ALEXNET_MACS = {
    "conv1": 96 * 55 * 55 * 3 * 11 * 11,  # 105,415,200
    "conv2": 256 * 27 * 27 * 48 * 5 * 5,  # 223,948,800
    "conv3": 384 * 13 * 13 * 256 * 3 * 3,  # 149,520,384
    "conv4": 384 * 13 * 13 * 192 * 3 * 3,  # 112,140,288
    "conv5": 256 * 13 * 13 * 192 * 3 * 3,  # 74,760,192
    "fc6": 9216 * 4096,
    "fc7": 4096 * 4096,
    "fc8": 4096 * 1000,
}

LENET5_SHAPES = {
    "C1": (6, 28, 28), "C1.act": (6, 28, 28), "S2": (6, 14, 14), "S2.act": (6, 14, 14), "C3": (16, 10, 10),
    "C3.act": (16, 10, 10), "S4": (16, 5, 5), "S4.act": (16, 5, 5), "C5": (120, 1, 1), "C5.act": (120, 1, 1),
    "flatten": (120,), "F6": (84,), "F6.act": (84,), "output": (10,),
}  # fmt: skip
LENET5_PARAMS = {"C1": 156, "S2": 12, "C3": 1516, "S4": 32, "C5": 48120, "F6": 10164, "output": 840}
LENET5_MACS = {
    "C1": 6 * 28 * 28 * 25,  # 117,600
    "C3": 10 * 10 * 60 * 25,  # 60 connections in Table I: 150,000
    "C5": 120 * 16 * 25,  # 48,000
    "F6": 120 * 84,
    "output": 84 * 10,
}


def analyse(name: str, **kwargs) -> archcalc.Analysis:
    return archcalc.analyse(archcalc.load(name), **kwargs)


def shapes(result: archcalc.Analysis) -> dict[str, tuple[int, ...]]:
    return {layer.name: layer.output_shape for layer in result.layers}


def test_alexnet_matches_the_paper():
    result = analyse("alexnet")
    assert shapes(result) == ALEXNET_SHAPES
    assert {n: result[n].params for n in ALEXNET_PARAMS} == ALEXNET_PARAMS
    assert {n: result[n].macs for n in ALEXNET_MACS} == ALEXNET_MACS
    assert result.totals.params == 60_965_224
    assert result.totals.non_trainable_params == 0
    assert result.totals.macs == sum(ALEXNET_MACS.values()) == 724_406_816
    assert result["conv1"].formula == "(227 − 11 + 2×0)/4 + 1 = 55"
    assert result["conv2"].params_formula == "5×5×48×256 + 256 = 307,456"
    assert result.totals.warnings == 0


def test_alexnet_ungrouped_matches_the_tutorial_table_with_its_typo_corrected():
    result = analyse("alexnet-ungrouped")
    assert shapes(result) == ALEXNET_SHAPES
    # the tutorial table prints conv3 as 88512: a digit dropped from 885,120.
    expected = {"conv1": 34_944, "conv2": 614_656, "conv3": 885_120, "conv4": 1_327_488, "conv5": 884_992}
    assert {n: result[n].params for n in expected} == expected
    assert result.totals.params == 62_378_344


def test_alexnet_torchvision_at_224():
    result = analyse("alexnet-torchvision")
    assert result["features.0"].output_shape == (64, 55, 55)
    assert [layer.output_shape for layer in result.layers if layer.kind == "maxpool"] == [
        (64, 27, 27),
        (192, 13, 13),
        (256, 6, 6),
    ]
    assert result["avgpool"].output_shape == (256, 6, 6)
    assert result.totals.params == 61_100_840


def test_alexnet_torchvision_at_227_as_its_printed_summary():
    result = analyse("alexnet-torchvision", input_shape=(3, 227, 227))
    assert result["features.0"].output_shape == (64, 56, 56)
    assert result["features.2"].output_shape == (64, 27, 27)
    assert result.totals.params == 61_100_840


def test_alexnet_keras_bn_matches_the_printed_keras_summary():
    result = analyse("alexnet-keras-bn")
    keras = [  # (layer, output shape in NCHW, params) from the printed Keras model.summary()
        ("conv2d", (96, 57, 57), 34_944),
        ("max_pooling2d", (96, 28, 28), 0),
        ("batch_normalization", (96, 28, 28), 384),
        ("conv2d_1", (256, 28, 28), 614_656),
        ("max_pooling2d_1", (256, 13, 13), 0),
        ("batch_normalization_1", (256, 13, 13), 1024),
        ("conv2d_2", (384, 13, 13), 885_120),
        ("conv2d_3", (384, 13, 13), 1_327_488),
        ("conv2d_4", (256, 13, 13), 884_992),
        ("max_pooling2d_2", (256, 6, 6), 0),
        ("dense", (4096,), 37_752_832),
        ("dense_1", (4096,), 16_781_312),
        ("dense_2", (10,), 40_970),
    ]
    assert [(n, result[n].output_shape, result[n].params) for n, _, _ in keras] == keras
    assert result.totals.params == 58_323_722
    assert result.totals.trainable_params == 58_323_018
    assert result.totals.non_trainable_params == 704
    # TensorFlow SAME on 227 with kernel 11, stride 4 pads 4 and 4.
    assert result["conv2d"].details["padding"] == (4, 4, 4, 4)


def test_alexnet_tf2_matches_the_printed_summary():
    result = analyse("alexnet-tf2")
    printed = {
        "conv2d": ((64, 55, 55), 23_296),
        "max_pooling2d": ((64, 27, 27), 0),
        "conv2d_1": ((192, 27, 27), 307_392),
        "max_pooling2d_1": ((192, 13, 13), 0),
        "conv2d_2": ((384, 13, 13), 663_936),
        "conv2d_3": ((256, 13, 13), 884_992),
        "conv2d_4": ((256, 13, 13), 590_080),
        "max_pooling2d_2": ((256, 6, 6), 0),
        "dense": ((4096,), 37_752_832),
        "dense_1": ((4096,), 16_781_312),
        "dense_2": ((1000,), 4_097_000),
    }
    assert {n: (result[n].output_shape, result[n].params) for n in printed} == printed
    assert result.totals.params == 61_100_840


def test_alexnet_tf_bench_matches_the_printed_activations():
    result = analyse("alexnet-tf-bench")
    printed = {  # the benchmark prints NHWC with batch 32
        "conv1": (64, 56, 56),
        "pool1": (64, 27, 27),
        "conv2": (128, 27, 27),
        "pool2": (128, 13, 13),
        "conv3": (256, 13, 13),
        "conv4": (128, 13, 13),
        "conv5": (128, 13, 13),
        "pool5": (128, 6, 6),
    }
    assert {n: result[n].output_shape for n in printed} == printed
    assert result.totals.params == 966_016
    # SAME on 224 with kernel 11, stride 4: 3 before, 4 after.
    assert result["conv1"].details["padding"] == (3, 4, 3, 4)
    assert result["conv1"].formula == "(224 − 11 + 3 + 4)/4 + 1 = 56 (SAME)"


def test_lenet5_as_published():
    result = analyse("lenet5")
    assert shapes(result) == LENET5_SHAPES
    assert {n: result[n].params for n in LENET5_PARAMS} == LENET5_PARAMS
    assert {n: result[n].macs for n in LENET5_MACS} == LENET5_MACS
    assert result.totals.params == result.totals.trainable_params == 60_840


def test_lenet5_mnist_from_the_tutorial():
    result = analyse("lenet5-mnist")
    assert [layer.output_shape for layer in result.layers if layer.kind in ("conv", "avgpool", "flatten")] == [
        (6, 24, 24),
        (6, 12, 12),
        (16, 8, 8),
        (16, 4, 4),
        (256,),
    ]
    assert {n: result[n].params for n in ("conv1", "conv2", "fc1", "fc2", "fc3")} == {
        "conv1": 156,
        "conv2": 2416,
        "fc1": 30_840,
        "fc2": 10_164,
        "fc3": 850,
    }
    assert result.totals.params == 44_426


def test_zfnet_map_sizes_of_the_paper():
    result = analyse("zfnet")
    sizes = [layer.output_shape[1] for layer in result.layers if layer.kind in ("conv", "maxpool")]
    assert sizes == [110, 55, 26, 13, 13, 13, 13, 6]
    assert result["conv1"].params == 96 * 7 * 7 * 3 + 96


def test_vgg16_at_224():
    result = analyse("vgg16")
    assert result.totals.params == 138_357_544
    assert result["pool5"].output_shape == (512, 7, 7)
    # The commonly quoted 15.5 G multiply-adds.
    assert result.totals.macs == 15_470_264_320


@pytest.mark.parametrize("name", archcalc.bundled_names())
def test_rows_add_up_to_totals(name: str):
    result = analyse(name, dtype="float16")
    layers, totals = result.layers, result.totals
    assert sum(layer.params for layer in layers) == totals.params
    assert sum(layer.trainable_params for layer in layers) == totals.trainable_params
    assert sum(layer.non_trainable_params for layer in layers) == totals.non_trainable_params
    assert sum(layer.macs for layer in layers) == totals.macs
    assert sum(layer.flops for layer in layers) == totals.flops == 2 * totals.macs
    assert sum(layer.activation_bytes for layer in layers) == totals.activation_bytes
    assert totals.param_bytes == 2 * totals.params


def test_bundled_zoo_is_complete():
    assert set(archcalc.bundled_names()) >= {
        "lenet5", "lenet5-mnist", "alexnet", "alexnet-ungrouped", "alexnet-torchvision",
        "alexnet-keras-bn", "alexnet-tf2", "alexnet-tf-bench", "zfnet", "vgg16",
    }  # fmt: skip
