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


# The ten networks below are checked against their published figures: torchvision's documented
# parameter counts, which leave out the batch-norm running mean and variance (torch buffers), so
# they are archcalc's trainable count, the running statistics (2 per batch-norm channel, counted
# here from the architecture) being the non-trainable rest; the output shapes the papers and
# torchvision print. MAC totals are the exact multiply-accumulates of the convolutions and linear
# layers (also those of a plain torch.nn build of each network, counted by torch's
# FlopCounterMode); comments give the rounded figure the sources quote.


def bn_running_stats(channels: int) -> int:
    """Batch norm's running mean and variance: archcalc's (Keras') non-trainable parameters."""
    return 2 * channels


def conv_macs(out_channels: int, out_size: int, in_channels: int, kernel: int, groups: int = 1) -> int:
    return out_channels * out_size * out_size * (in_channels // groups) * kernel * kernel


VGG_POOLS = [(64, 112, 112), (128, 56, 56), (256, 28, 28), (512, 14, 14), (512, 7, 7)]
VGG_FC = 25088 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 1000 + 1000  # fc6, fc7, fc8 with biases


def vgg_by_hand(config: list[int | str]) -> tuple[int, int]:
    """Parameters and MACs of a VGG configuration at 224: 3×3 convolutions with biases, 'M' a 2×2 pool."""
    params, macs, channels, size = VGG_FC, 25088 * 4096 + 4096 * 4096 + 4096 * 1000, 3, 224
    for v in config:
        if v == "M":
            size //= 2
        else:
            params += 3 * 3 * channels * v + v
            macs += conv_macs(v, size, channels, 3)
            channels = v
    return params, macs


def test_vgg11_configuration_a():
    result = analyse("vgg11")
    convs = [layer.output_shape for layer in result.layers if layer.kind == "conv"]
    assert convs == [(64, 224, 224), (128, 112, 112), *[(256, 56, 56)] * 2, *[(512, 28, 28)] * 2, *[(512, 14, 14)] * 2]
    assert [layer.output_shape for layer in result.layers if layer.kind == "maxpool"] == VGG_POOLS
    params, macs = vgg_by_hand([64, "M", 128, "M", 256, 256, "M", 512, 512, "M", 512, 512, "M"])
    # torchvision's vgg11 (the paper's Table 2: 133 M)
    assert result.totals.params == result.totals.trainable_params == params == 132_863_336
    assert result.totals.macs == macs == 7_609_090_048  # torchvision: 7.61 GFLOPS
    assert result.totals.warnings == 0


def test_vgg19_configuration_e():
    result = analyse("vgg19")
    assert [layer.name for layer in result.layers if layer.kind == "conv"][-4:] == [
        "conv5_1",
        "conv5_2",
        "conv5_3",
        "conv5_4",
    ]
    assert [layer.output_shape for layer in result.layers if layer.kind == "maxpool"] == VGG_POOLS
    config = [64, 64, "M", 128, 128, "M", *[256] * 4, "M", *[512] * 4, "M", *[512] * 4, "M"]
    params, macs = vgg_by_hand(config)
    # torchvision's vgg19 (the paper's Table 2: 144 M)
    assert result.totals.params == result.totals.trainable_params == params == 143_667_240
    assert result.totals.macs == macs == 19_632_062_464  # the commonly quoted 19.6 G; torchvision: 19.63


# Caffe's nin_imagenet: (layer, output shape, parameters, MACs); convolutions with biases.
NIN = [
    ("conv1", (96, 54, 54), 11 * 11 * 3 * 96 + 96, conv_macs(96, 54, 3, 11)),
    ("cccp1", (96, 54, 54), 96 * 96 + 96, conv_macs(96, 54, 96, 1)),
    ("cccp2", (96, 54, 54), 96 * 96 + 96, conv_macs(96, 54, 96, 1)),
    ("pool0", (96, 27, 27), 0, 0),
    ("conv2", (256, 27, 27), 5 * 5 * 96 * 256 + 256, conv_macs(256, 27, 96, 5)),
    ("cccp3", (256, 27, 27), 256 * 256 + 256, conv_macs(256, 27, 256, 1)),
    ("cccp4", (256, 27, 27), 256 * 256 + 256, conv_macs(256, 27, 256, 1)),
    ("pool2", (256, 13, 13), 0, 0),
    ("conv3", (384, 13, 13), 3 * 3 * 256 * 384 + 384, conv_macs(384, 13, 256, 3)),
    ("cccp5", (384, 13, 13), 384 * 384 + 384, conv_macs(384, 13, 384, 1)),
    ("cccp6", (384, 13, 13), 384 * 384 + 384, conv_macs(384, 13, 384, 1)),
    ("pool3", (384, 6, 6), 0, 0),
    ("conv4-1024", (1024, 6, 6), 3 * 3 * 384 * 1024 + 1024, conv_macs(1024, 6, 384, 3)),
    ("cccp7-1024", (1024, 6, 6), 1024 * 1024 + 1024, conv_macs(1024, 6, 1024, 1)),
    ("cccp8-1024", (1000, 6, 6), 1024 * 1000 + 1000, conv_macs(1000, 6, 1024, 1)),
    ("pool4", (1000, 1, 1), 0, 0),
    ("prob", (1000,), 0, 0),
]


def test_nin_as_the_caffe_model():
    result = analyse("nin")
    assert [(n, result[n].output_shape, result[n].params, result[n].macs) for n, *_ in NIN] == NIN
    assert result.totals.params == sum(p for _, _, p, _ in NIN) == 7_595_176
    assert result.totals.macs == sum(m for *_, m in NIN) == 1_100_188_800
    # Caffe floors conv1's (224 − 11)/4 = 53.25 and rounds pool0's (54 − 3)/2 = 25.5 up.
    assert [(layer.name, len(layer.warnings)) for layer in result.layers if layer.warnings] == [
        ("conv1", 1),
        ("pool0", 1),
    ]


# torchvision's Inception(in_channels, ch1x1, ch3x3red, ch3x3, ch5x5red, ch5x5, pool_proj).
GOOGLENET_INCEPTIONS = {
    "inception3a": (192, 64, 96, 128, 16, 32, 32),
    "inception3b": (256, 128, 128, 192, 32, 96, 64),
    "inception4a": (480, 192, 96, 208, 16, 48, 64),
    "inception4b": (512, 160, 112, 224, 24, 64, 64),
    "inception4c": (512, 128, 128, 256, 24, 64, 64),
    "inception4d": (512, 112, 144, 288, 32, 64, 64),
    "inception4e": (528, 256, 160, 320, 32, 128, 128),
    "inception5a": (832, 256, 160, 320, 32, 128, 128),
    "inception5b": (832, 384, 192, 384, 48, 128, 128),
}


def test_googlenet_as_torchvision_builds_it():
    result = analyse("googlenet")
    printed = {  # the shapes in the comments of torchvision's GoogLeNet._forward (and the paper's Table 1)
        "conv1.relu": (64, 112, 112), "maxpool1": (64, 56, 56), "conv2.relu": (64, 56, 56),
        "conv3.relu": (192, 56, 56), "maxpool2": (192, 28, 28), "inception3a": (256, 28, 28),
        "inception3b": (480, 28, 28), "maxpool3": (480, 14, 14), "inception4a": (512, 14, 14),
        "inception4b": (512, 14, 14), "inception4c": (512, 14, 14), "inception4d": (528, 14, 14),
        "inception4e": (832, 14, 14), "maxpool4": (832, 7, 7), "inception5a": (832, 7, 7),
        "inception5b": (1024, 7, 7), "avgpool": (1024, 1, 1), "flatten": (1024,), "fc": (1000,),
    }  # fmt: skip
    assert {n: result[n].output_shape for n in printed} == printed
    inceptions = [layer.output_shape[0] for layer in result.layers if layer.kind == "concat"]
    assert inceptions == [256, 480, 512, 512, 512, 528, 832, 832, 1024]
    assert inceptions == [c1 + c3 + c5 + pp for _, c1, _, c3, _, c5, pp in GOOGLENET_INCEPTIONS.values()]
    # torchvision's "5×5" branch is a 3×3 convolution (without bias, as every BasicConv2d)
    assert result["inception3a.branch3.1.conv"].params == 3 * 3 * 16 * 32
    bn_channels = 64 + 64 + 192 + sum(sum(cfg[1:]) for cfg in GOOGLENET_INCEPTIONS.values())
    assert result.totals.trainable_params == 6_624_904  # torchvision's documented count
    assert result.totals.non_trainable_params == bn_running_stats(bn_channels) == 14_560
    assert result.totals.params == 6_624_904 + 14_560
    assert result.totals.macs == 1_498_376_192  # the paper: about 1.5 billion multiply-adds; torchvision: 1.5


def test_squeezenet1_0_as_torchvision_builds_it():
    result = analyse("squeezenet1_0")
    printed = {
        "features.0": (96, 109, 109), "features.2": (96, 54, 54), "features.3": (128, 54, 54),
        "features.4": (128, 54, 54), "features.5": (256, 54, 54), "features.6": (256, 27, 27),
        "features.7": (256, 27, 27), "features.8": (384, 27, 27), "features.9": (384, 27, 27),
        "features.10": (512, 27, 27), "features.11": (512, 13, 13), "features.12": (512, 13, 13),
        "classifier.1": (1000, 13, 13), "classifier.3": (1000, 1, 1), "flatten": (1000,),
    }  # fmt: skip
    assert {n: result[n].output_shape for n in printed} == printed
    # fire2: squeeze 1×1 96 → 16, expand 1×1 16 → 64 and 3×3 16 → 64, all with biases
    fire2 = {"squeeze": 96 * 16 + 16, "expand1x1": 16 * 64 + 64, "expand3x3": 3 * 3 * 16 * 64 + 64}
    assert {n: result[f"features.3.{n}"].params for n in fire2} == fire2
    assert result.totals.params == result.totals.trainable_params == 1_248_424  # torchvision's documented count
    assert result.totals.macs == 818_924_576  # torchvision: 0.82 GFLOPS


def test_resnet18_as_torchvision_builds_it():
    result = analyse("resnet18")
    assert result["conv1"].output_shape == (64, 112, 112)
    assert result["maxpool"].output_shape == (64, 56, 56)
    stages = [result[f"layer{s}.1.relu2"].output_shape for s in (1, 2, 3, 4)]
    assert stages == [(64, 56, 56), (128, 28, 28), (256, 14, 14), (512, 7, 7)]
    assert result["avgpool"].output_shape == (512, 1, 1)
    assert result["fc"].output_shape == (1000,)
    assert result["layer2.0.downsample.0"].params == 64 * 128  # 1×1 projection, no bias
    # stem, two blocks of two batch norms per stage, and the projections of stages 2–4
    bn_channels = 64 + sum(2 * 2 * c for c in (64, 128, 256, 512)) + 128 + 256 + 512
    assert result.totals.trainable_params == 11_689_512  # torchvision's documented count
    assert result.totals.non_trainable_params == bn_running_stats(bn_channels) == 9_600
    assert result.totals.params == 11_689_512 + 9_600
    assert result.totals.macs == 1_814_073_344  # the paper: 1.8 × 10⁹; torchvision: 1.81


def test_resnet50_as_torchvision_builds_it():
    result = analyse("resnet50")
    assert result["maxpool"].output_shape == (64, 56, 56)
    blocks = {1: 3, 2: 4, 3: 6, 4: 3}
    stages = [result[f"layer{s}.{n - 1}.relu3"].output_shape for s, n in blocks.items()]
    assert stages == [(256, 56, 56), (512, 28, 28), (1024, 14, 14), (2048, 7, 7)]
    # v1.5: the stride of a stage's first block is on its 3×3 convolution
    assert result["layer2.0.conv1"].output_shape == (128, 56, 56)
    assert result["layer2.0.conv2"].output_shape == (128, 28, 28)
    assert result["avgpool"].output_shape == (2048, 1, 1)
    # per bottleneck of width w: batch norms of w, w and 4w; each stage's projection 4w
    widths = {1: 64, 2: 128, 3: 256, 4: 512}
    bn_channels = 64 + sum(blocks[s] * 6 * w + 4 * w for s, w in widths.items())
    assert result.totals.trainable_params == 25_557_032  # torchvision's documented count
    assert result.totals.non_trainable_params == bn_running_stats(bn_channels) == 53_120
    assert result.totals.params == 25_557_032 + 53_120
    assert result.totals.macs == 4_089_184_256  # about 4.1 G; torchvision: 4.09


# The rows of MobileNetV2's Table 2: expansion t, output channels c, repeats n, stride s.
MOBILENET_V2_ROWS = [
    (1, 16, 1, 1),
    (6, 24, 2, 2),
    (6, 32, 3, 2),
    (6, 64, 4, 2),
    (6, 96, 3, 1),
    (6, 160, 3, 2),
    (6, 320, 1, 1),
]


def test_mobilenet_v2_as_torchvision_builds_it():
    result = analyse("mobilenet_v2")
    assert result["features.0.2"].output_shape == (32, 112, 112)
    # each row's output: its last block's residual add, or the projection's batch norm of a single block
    ends = [
        f"stage{row}.{n - 1}.add" if n > 1 else f"stage{row}.0.conv.{2 if t == 1 else 3}"
        for row, (t, _, n, _) in enumerate(MOBILENET_V2_ROWS, 1)
    ]
    stages = [result[name].output_shape for name in ends]
    # the paper's Table 2: 112², 56², 28², 14², 14², 7², 7²
    assert stages == [(16, 112, 112), (24, 56, 56), (32, 28, 28), (64, 14, 14), (96, 14, 14), (160, 7, 7), (320, 7, 7)]
    assert result["features.18.2"].output_shape == (1280, 7, 7)
    assert result["classifier.1"].output_shape == (1000,)
    # depthwise 3×3 (groups = channels) and the residual add of a repeated block
    assert result["stage2.0.conv.1.0"].params == 3 * 3 * 96
    assert result["stage2.0.conv.1.0"].macs == conv_macs(96, 56, 96, 3, groups=96)
    assert result["stage2.1.add"].output_shape == (24, 56, 56)
    bn_channels, c = 32 + 1280, 32
    for t, out, n, _ in MOBILENET_V2_ROWS:
        for _ in range(n):
            hidden = c * t
            bn_channels += (hidden if t == 1 else 2 * hidden) + out
            c = out
    assert result.totals.trainable_params == 3_504_872  # torchvision's documented count
    assert result.totals.non_trainable_params == bn_running_stats(bn_channels) == 34_112
    assert result.totals.params == 3_504_872 + 34_112
    assert result.totals.macs == 300_774_272  # the paper: 300 M multiply-adds; torchvision: 0.30


def test_densenet121_as_torchvision_builds_it():
    result = analyse("densenet121")
    assert result["features.pool0"].output_shape == (64, 56, 56)
    blocks = [6, 12, 24, 16]
    ends = [result[f"features.denseblock{b}.denselayer{n}.cat"].output_shape for b, n in enumerate(blocks, 1)]
    assert ends == [(256, 56, 56), (512, 28, 28), (1024, 14, 14), (1024, 7, 7)]
    transitions = [result[f"features.transition{t}.pool"].output_shape for t in (1, 2, 3)]
    assert transitions == [(128, 28, 28), (256, 14, 14), (512, 7, 7)]
    assert result["features.norm5"].output_shape == (1024, 7, 7)
    assert result["avgpool"].output_shape == (1024, 1, 1)
    assert result["classifier"].output_shape == (1000,)
    # a dense layer: 1×1 to 4 × 32 = 128 maps, then 3×3 to 32 (no biases)
    assert result["features.denseblock1.denselayer1.conv1"].params == 64 * 128
    assert result["features.denseblock1.denselayer1.conv2"].params == 3 * 3 * 128 * 32
    bn_channels, c = 64, 64  # norm0
    for b, n in enumerate(blocks, 1):
        for _ in range(n):
            bn_channels += c + 128  # norm1 on the layer's input, norm2 on the bottleneck
            c += 32
        bn_channels += c  # the transition's norm, or norm5 after the last block
        if b < 4:
            c //= 2
    assert result.totals.trainable_params == 7_978_856  # torchvision's documented count
    assert result.totals.non_trainable_params == bn_running_stats(bn_channels) == 83_648
    assert result.totals.params == 7_978_856 + 83_648
    assert result.totals.macs == 2_834_161_664  # torchvision: 2.83 GFLOPS


# U-Net, Figure 1 of the paper: (layer, output shape, parameters, MACs); convolutions with biases.
# A 2×2 stride-2 up-convolution gives each output pixel one product per input channel.
UNET = [
    ("down1.conv1", (64, 570, 570), 3 * 3 * 1 * 64 + 64, conv_macs(64, 570, 1, 3)),
    ("down1.conv2", (64, 568, 568), 3 * 3 * 64 * 64 + 64, conv_macs(64, 568, 64, 3)),
    ("pool1", (64, 284, 284), 0, 0),
    ("down2.conv1", (128, 282, 282), 3 * 3 * 64 * 128 + 128, conv_macs(128, 282, 64, 3)),
    ("down2.conv2", (128, 280, 280), 3 * 3 * 128 * 128 + 128, conv_macs(128, 280, 128, 3)),
    ("pool2", (128, 140, 140), 0, 0),
    ("down3.conv1", (256, 138, 138), 3 * 3 * 128 * 256 + 256, conv_macs(256, 138, 128, 3)),
    ("down3.conv2", (256, 136, 136), 3 * 3 * 256 * 256 + 256, conv_macs(256, 136, 256, 3)),
    ("pool3", (256, 68, 68), 0, 0),
    ("down4.conv1", (512, 66, 66), 3 * 3 * 256 * 512 + 512, conv_macs(512, 66, 256, 3)),
    ("down4.conv2", (512, 64, 64), 3 * 3 * 512 * 512 + 512, conv_macs(512, 64, 512, 3)),
    ("pool4", (512, 32, 32), 0, 0),
    ("bottom.conv1", (1024, 30, 30), 3 * 3 * 512 * 1024 + 1024, conv_macs(1024, 30, 512, 3)),
    ("bottom.conv2", (1024, 28, 28), 3 * 3 * 1024 * 1024 + 1024, conv_macs(1024, 28, 1024, 3)),
    ("up4.upconv", (512, 56, 56), 2 * 2 * 1024 * 512 + 512, conv_macs(512, 56, 1024, 1)),
    ("up4.crop", (512, 56, 56), 0, 0),
    ("up4.concat", (1024, 56, 56), 0, 0),
    ("up4.conv1", (512, 54, 54), 3 * 3 * 1024 * 512 + 512, conv_macs(512, 54, 1024, 3)),
    ("up4.conv2", (512, 52, 52), 3 * 3 * 512 * 512 + 512, conv_macs(512, 52, 512, 3)),
    ("up3.upconv", (256, 104, 104), 2 * 2 * 512 * 256 + 256, conv_macs(256, 104, 512, 1)),
    ("up3.crop", (256, 104, 104), 0, 0),
    ("up3.concat", (512, 104, 104), 0, 0),
    ("up3.conv1", (256, 102, 102), 3 * 3 * 512 * 256 + 256, conv_macs(256, 102, 512, 3)),
    ("up3.conv2", (256, 100, 100), 3 * 3 * 256 * 256 + 256, conv_macs(256, 100, 256, 3)),
    ("up2.upconv", (128, 200, 200), 2 * 2 * 256 * 128 + 128, conv_macs(128, 200, 256, 1)),
    ("up2.crop", (128, 200, 200), 0, 0),
    ("up2.concat", (256, 200, 200), 0, 0),
    ("up2.conv1", (128, 198, 198), 3 * 3 * 256 * 128 + 128, conv_macs(128, 198, 256, 3)),
    ("up2.conv2", (128, 196, 196), 3 * 3 * 128 * 128 + 128, conv_macs(128, 196, 128, 3)),
    ("up1.upconv", (64, 392, 392), 2 * 2 * 128 * 64 + 64, conv_macs(64, 392, 128, 1)),
    ("up1.crop", (64, 392, 392), 0, 0),
    ("up1.concat", (128, 392, 392), 0, 0),
    ("up1.conv1", (64, 390, 390), 3 * 3 * 128 * 64 + 64, conv_macs(64, 390, 128, 3)),
    ("up1.conv2", (64, 388, 388), 3 * 3 * 64 * 64 + 64, conv_macs(64, 388, 64, 3)),
    ("output", (2, 388, 388), 64 * 2 + 2, conv_macs(2, 388, 64, 1)),
]


def test_unet_as_figure_1():
    result = analyse("unet")
    assert [(n, result[n].output_shape, result[n].params, result[n].macs) for n, *_ in UNET] == UNET
    assert result["bottom.relu2"].output_shape == (1024, 28, 28)
    assert result.layers[-1].output_shape == (2, 388, 388)
    convolutions = [layer for layer in result.layers if layer.kind in ("conv", "conv_transpose")]
    assert len(convolutions) == 23  # "In total the network has 23 convolutional layers."
    assert result.totals.params == result.totals.trainable_params == sum(p for _, _, p, _ in UNET) == 31_030_658
    assert result.totals.macs == sum(m for *_, m in UNET) == 150_428_424_448


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
        "alexnet-keras-bn", "alexnet-tf2", "alexnet-tf-bench", "zfnet", "vgg16", "vgg11", "vgg19", "nin",
        "googlenet", "resnet18", "resnet50", "mobilenet_v2", "squeezenet1_0", "densenet121", "unet",
    }  # fmt: skip
