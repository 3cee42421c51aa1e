"""The ONNX importer against independent figures: ONNX's own reference evaluator (the output shape of
every tensor), PyTorch's modules and exporter (shapes, parameter and buffer counts), the graph's
initializer sizes and hand arithmetic; every bundled spec round-tripped through torch.onnx.export;
and hostile files refused in one line."""

from __future__ import annotations

import math
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.errors import ImportFailure
from archcalc.importers import import_mapping, import_spec

onnx = pytest.importorskip("onnx")
np = pytest.importorskip("numpy")
from onnx import TensorProto, helper, numpy_helper  # noqa: E402
from onnx.reference import ReferenceEvaluator  # noqa: E402

# torch's TorchScript-based exporter (dynamo=False) says it is deprecated; it is the one that runs offline
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")


# --- building models ----------------------------------------------------------------------------


def _weights(name: str, *dims: int) -> Any:
    return numpy_helper.from_array(np.zeros(dims, np.float32), name)


def _ints(name: str, *values: int) -> Any:
    return numpy_helper.from_array(np.array(values, np.int64), name)


def _save(tmp_path: Path, nodes: list[Any], initializers: list[Any] = (), *, dims: tuple = ("N", 3, 16, 16),
          opset: int = 20, name: str = "net") -> Path:  # fmt: skip
    """A one-input model from onnx.helper nodes; the last node's first output is the graph's output."""
    graph = helper.make_graph(
        nodes, name, [helper.make_tensor_value_info("x", TensorProto.FLOAT, list(dims))],
        [helper.make_tensor_value_info(nodes[-1].output[0], TensorProto.FLOAT, None)], list(initializers),
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    path = tmp_path / f"{name}.onnx"
    onnx.save(model, str(path))
    return path


def _node(op: str, inputs: list[str], name: str, **attributes: Any) -> Any:
    """A node named like its output tensor, so a layer's name finds its tensor in the reference run."""
    return helper.make_node(op, inputs, [name], name=name, **attributes)


def _reference_shapes(path: Path, input_shape: tuple[int, ...]) -> dict[str, tuple[int, ...]]:
    """Every tensor's shape (batch left out) as ONNX's own reference evaluator computes it on a batch of 2."""
    model = onnx.load(str(path), load_external_data=False)
    feeds = {model.graph.input[0].name: np.random.default_rng(0).random((2, *input_shape), np.float32)}
    results = ReferenceEvaluator(model).run(None, feeds, intermediate=True)
    return {name: tuple(value.shape[1:]) for name, value in results.items() if name and value is not None}


def _layer_tensors(path: Path) -> dict[str, str]:
    """Layer name (the node's, without PyTorch's leading slash) → the node's first output."""
    model = onnx.load(str(path), load_external_data=False)
    return {node.name.lstrip("/"): node.output[0] for node in model.graph.node if node.name}


def _assert_reference_shapes(path: Path, analysis: Any) -> None:
    shapes, tensors = _reference_shapes(path, analysis.input_shape), _layer_tensors(path)
    for layer in analysis.layers:
        assert layer.output_shape == shapes[tensors[layer.name]], layer.name


def _initializer_elements(path: Path) -> int:
    model = onnx.load(str(path), load_external_data=False)
    return sum(math.prod(tensor.dims) for tensor in model.graph.initializer)


def _layers(analysis: Any) -> list[tuple[str, str]]:
    return [(layer.name, layer.kind) for layer in analysis.layers]


def _fields(path: Path, name: str) -> dict[str, Any]:
    """The fields the importer wrote for one layer (as they appear in the YAML)."""
    layers = import_mapping(str(path))["layers"]
    return next({k: v for k, v in layer.items() if k not in ("kind", "name", "inputs")} for layer in layers
                if layer["name"] == name)  # fmt: skip


def _run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def _refused(path: Path, *words: str) -> str:
    """`archcalc import PATH` fails in one line, exit 2, no traceback; returns the message."""
    result = _run("import", str(path))
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("archcalc: error: "), result.stderr
    assert "Traceback" not in result.output
    for word in words:
        assert word in lines[0], lines[0]
    return lines[0]


# --- torch ---------------------------------------------------------------------------------------


def _torch() -> Any:
    return pytest.importorskip("torch")


def _export(module: Any, input_shape: tuple[int, ...], path: Path, **options: Any) -> Path:
    torch = _torch()
    torch.onnx.export(module.eval(), (torch.randn(1, *input_shape),), str(path), dynamo=False, **options)
    return path


def _torch_counts(module: Any) -> tuple[int, int]:
    """PyTorch's own figures: parameters, and buffers (batch-norm statistics; not its step counter)."""
    params = sum(p.numel() for p in module.parameters())
    buffers = sum(b.numel() for name, b in module.named_buffers() if not name.endswith("num_batches_tracked"))
    return params, buffers


# --- shapes: archcalc's engine, not ONNX's shape inference -----------------------------------------


def test_ceil_mode_pooling_gives_pytorchs_9x6_where_onnx_shape_inference_says_10x7(tmp_path: Path):
    torch = _torch()
    pool = _node("MaxPool", ["x"], "pool", kernel_shape=[2, 2], strides=[2, 2], pads=[1, 1, 1, 1], ceil_mode=1)
    path = _save(tmp_path, [pool], dims=(1, 1, 17, 11))
    analysis = archcalc.analyse(import_spec(str(path)))
    assert analysis["pool"].output_shape == (1, 9, 6)
    pooled = torch.nn.functional.max_pool2d(torch.zeros(1, 1, 17, 11), 2, 2, padding=1, ceil_mode=True)
    assert tuple(pooled.shape[1:]) == (1, 9, 6)
    assert _reference_shapes(path, (1, 17, 11))["pool"] == (1, 9, 6)
    inferred = onnx.shape_inference.infer_shapes(onnx.load(str(path))).graph.output[0].type.tensor_type.shape
    assert [d.dim_value for d in inferred.dim] == [1, 1, 10, 7]  # what the importer must not use


# --- convolutions ---------------------------------------------------------------------------------


def test_conv_pads_strides_dilations_groups_and_bias(tmp_path: Path):
    nodes = [
        # ONNX pads are [top, left, bottom, right]; archcalc's four are [top, bottom, left, right]
        _node("Conv", ["x", "w1", "b1"], "c1", pads=[1, 2, 3, 4], strides=[2, 1], dilations=[1, 2]),
        _node("Conv", ["c1", "w2"], "c2", group=4, kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
        _node("Conv", ["c2", "w3", "b3"], "c3", pads=[0, 1, 0, 1]),
    ]
    weights = [_weights("w1", 8, 3, 3, 3), _weights("b1", 8), _weights("w2", 8, 2, 3, 3),
               _weights("w3", 5, 8, 1, 3), _weights("b3", 5)]  # fmt: skip
    path = _save(tmp_path, nodes, weights, dims=("N", 3, 15, 13))
    assert _fields(path, "c1") == {"out_channels": 8, "kernel": 3, "stride": [2, 1], "padding": [1, 3, 2, 4],
                                   "dilation": [1, 2], "in_channels": 3}  # fmt: skip
    assert _fields(path, "c2") == {"out_channels": 8, "kernel": 3, "padding": 1, "groups": 4, "bias": False,
                                   "in_channels": 8}  # fmt: skip
    assert _fields(path, "c3")["padding"] == [0, 1]
    analysis = archcalc.analyse(import_spec(str(path)))
    _assert_reference_shapes(path, analysis)
    assert analysis.totals.params == _initializer_elements(path) == 224 + 144 + 125
    # by hand: (15 + 1 + 3 − 3)/2 + 1 = 9 rows; (13 + 2 + 4 − 5)/1 + 1 = 15 columns
    assert analysis["c1"].output_shape == (8, 9, 15)


def test_same_upper_is_archcalcs_same_and_same_lower_puts_the_odd_pixel_before(tmp_path: Path):
    nodes = [
        _node("Conv", ["x", "w"], "upper", auto_pad="SAME_UPPER", strides=[2, 2]),
        _node("Conv", ["x", "w"], "lower", auto_pad="SAME_LOWER", strides=[2, 2]),
        _node("Conv", ["x", "w"], "valid", auto_pad="VALID", strides=[2, 2]),
        _node("Concat", ["upper", "lower"], "both", axis=1),
    ]
    path = _save(tmp_path, nodes, [_weights("w", 4, 3, 4, 4)], dims=("N", 3, 7, 8))
    # 7 rows, kernel 4, stride 2: output ⌈7/2⌉ = 4 needs (4 − 1)·2 + 4 − 7 = 3 rows of padding, 1 + 2
    # (upper: the odd one after) or 2 + 1 (lower); 8 columns need 2, 1 + 1 either way
    assert _fields(path, "upper")["padding"] == "same"
    assert _fields(path, "lower")["padding"] == [2, 1, 1, 1]
    assert "padding" not in _fields(path, "valid")
    analysis = archcalc.analyse(import_spec(str(path)))
    _assert_reference_shapes(path, analysis)
    assert analysis["valid"].output_shape == (4, 2, 3)


def test_conv_transpose_against_pytorch(tmp_path: Path):
    torch = _torch()
    up = torch.nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1, groups=2, dilation=2)
    path = _export(torch.nn.Sequential(up), (6, 5, 7), tmp_path / "up.onnx")
    analysis = archcalc.analyse(import_spec(str(path)))
    (layer,) = analysis.layers
    assert layer.kind == "conv_transpose"
    assert layer.output_shape == tuple(up(torch.zeros(1, 6, 5, 7)).shape[1:]) == (4, 12, 16)
    assert layer.params == _torch_counts(up)[0] == 3 * 3 * 6 * 2 + 4


def test_a_conv_with_batch_norm_folded_in_is_a_conv_with_bias(tmp_path: Path):
    """PyTorch's exporter, in eval mode with constant folding, folds a batch norm into the conv before it."""
    torch = _torch()
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 16, 3, bias=False), torch.nn.BatchNorm2d(16), torch.nn.ReLU())
    path = _export(net, (3, 12, 12), tmp_path / "folded.onnx")
    ops = [node.op_type for node in onnx.load(str(path)).graph.node]
    assert ops == ["Conv", "Relu"]
    analysis = archcalc.analyse(import_spec(str(path)))
    assert [layer.kind for layer in analysis.layers] == ["conv", "relu"]
    assert analysis.totals.params == _initializer_elements(path) == 3 * 3 * 3 * 16 + 16


# --- pooling --------------------------------------------------------------------------------------


def test_pools_and_their_padding_rules(tmp_path: Path):
    nodes = [
        _node("MaxPool", ["x"], "max", kernel_shape=[3, 3], strides=[2, 2], pads=[1, 1, 1, 1], dilations=[1, 1]),
        _node("AveragePool", ["max"], "counted", kernel_shape=[3, 3], pads=[1, 1, 1, 1], count_include_pad=1),
        _node("AveragePool", ["counted"], "same", kernel_shape=[2, 2], strides=[2, 2], auto_pad="SAME_UPPER"),
        _node("AveragePool", ["same"], "plain", kernel_shape=[2, 2], strides=[1, 1]),
        _node("GlobalMaxPool", ["plain"], "gmax"),
        _node("GlobalAveragePool", ["plain"], "gavg"),
        _node("Add", ["gmax", "gavg"], "sum"),
    ]
    path = _save(tmp_path, nodes, dims=("N", 2, 17, 13))
    assert _fields(path, "max") == {"kernel": 3, "stride": 2, "padding": 1}
    assert _fields(path, "counted") == {"kernel": 3, "stride": 1, "padding": 1}  # ONNX's stride defaults to 1
    assert _fields(path, "same") == {"kernel": 2, "padding": "same"}  # SAME leaves padding out, as TensorFlow
    analysis = archcalc.analyse(import_spec(str(path)))
    _assert_reference_shapes(path, analysis)
    assert [layer.kind for layer in analysis.layers][-3:] == ["global_maxpool", "global_avgpool", "add"]


def test_average_pooling_that_leaves_explicit_padding_out_is_refused(tmp_path: Path):
    pool = _node("AveragePool", ["x"], "avg", kernel_shape=[3, 3], pads=[1, 1, 1, 1])  # count_include_pad=0
    _refused(_save(tmp_path, [pool]), "node 0 'avg'", "count_include_pad=0", "archcalc's kinds:")
    unpadded = _node("AveragePool", ["x"], "avg", kernel_shape=[3, 3], strides=[3, 3])
    assert _fields(_save(tmp_path, [unpadded]), "avg") == {"kernel": 3}


def test_a_minus_infinity_pad_before_a_max_pool_is_its_padding(tmp_path: Path):
    """archcalc's generated code pads SAME max pooling with −∞ before nn.MaxPool2d; the exporter writes
    that as Pad + MaxPool, which reads back as one maxpool with the padding."""
    nodes = [
        _node("Pad", ["x", "pads", "fill"], "pad"),
        _node("MaxPool", ["pad"], "pool", kernel_shape=[2, 2], strides=[2, 2]),
    ]
    constants = [_ints("pads", 0, 0, 0, 0, 0, 0, 1, 1), numpy_helper.from_array(np.array(-np.inf, np.float32), "fill")]
    path = _save(tmp_path, nodes, constants, dims=("N", 2, 7, 9))
    assert [layer["name"] for layer in import_mapping(str(path))["layers"]] == ["pool"]
    assert _fields(path, "pool") == {"kernel": 2, "padding": [0, 1, 0, 1]}
    analysis = archcalc.analyse(import_spec(str(path)))
    assert analysis["pool"].output_shape == _reference_shapes(path, (2, 7, 9))["pool"] == (2, 4, 5)


def test_reduce_mean_over_height_and_width_is_global_average_pooling(tmp_path: Path):
    torch = _torch()

    class Pooled(torch.nn.Module):
        def forward(self, x):
            return x.mean((2, 3), keepdim=True), x.amax((2, 3))

    path = _export(Pooled(), (5, 6, 7), tmp_path / "mean.onnx")
    analysis = archcalc.analyse(import_spec(str(path)))
    kinds = [layer.kind for layer in analysis.layers]
    assert kinds == ["global_avgpool", "global_maxpool", "flatten"]  # keepdims=0: pooled, then flat
    assert [layer.output_shape for layer in analysis.layers] == [(5, 1, 1), (5, 1, 1), (5,)]


# --- fully connected ------------------------------------------------------------------------------


def test_gemm_and_matmul_plus_add_are_linear_layers(tmp_path: Path):
    nodes = [
        _node("Reshape", ["x", "target"], "flat"),  # [0, -1]: dimension 0 copied (the batch), the rest flat
        _node("Gemm", ["flat", "w1", "b1"], "fc1", transB=1),
        _node("Gemm", ["fc1", "w2"], "fc2"),
        _node("MatMul", ["fc2", "w3"], "fc3"),
        _node("Add", ["fc3", "b3"], "fc3_bias"),
        _node("MatMul", ["fc3_bias", "w4"], "fc4"),
    ]
    weights = [_weights("w1", 10, 48), _weights("b1", 10), _weights("w2", 10, 7), _weights("w3", 7, 6),
               _weights("b3", 6), _weights("w4", 6, 2)]  # fmt: skip
    path = _save(tmp_path, nodes, [_ints("target", 0, -1), *weights], dims=("N", 3, 4, 4))
    analysis = archcalc.analyse(import_spec(str(path)))
    assert _layers(analysis) == [("flat", "flatten"), ("fc1", "linear"), ("fc2", "linear"), ("fc3", "linear"),
                                 ("fc4", "linear")]  # fmt: skip
    assert [layer.params for layer in analysis.layers[1:]] == [48 * 10 + 10, 10 * 7, 7 * 6 + 6, 6 * 2]
    assert analysis.totals.params == _initializer_elements(path) - 2  # all but the reshape's target
    assert analysis["fc4"].output_shape == _reference_shapes(path, (3, 4, 4))["fc4"] == (2,)


# --- normalisation and activations, as PyTorch exports them ------------------------------------------


def test_batch_norm_keeps_eps_and_momentum_in_pytorchs_terms(tmp_path: Path):
    torch = _torch()
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.BatchNorm2d(8, eps=1e-3, momentum=0.01))
    path = _export(net, (3, 10, 10), tmp_path / "bn.onnx", do_constant_folding=False)
    bn = next(node for node in onnx.load(str(path)).graph.node if node.op_type == "BatchNormalization")
    assert helper.get_attribute_value(bn.attribute[1]) == pytest.approx(0.99)  # ONNX's momentum: 1 − PyTorch's
    layers = import_mapping(str(path))["layers"]
    assert layers[1] == {"kind": "batchnorm", "name": "1/BatchNormalization", "eps": 0.001, "momentum": 0.01}
    analysis = archcalc.analyse(import_spec(str(path)))
    params, buffers = _torch_counts(net)
    assert (analysis.totals.trainable_params, analysis.totals.non_trainable_params) == (params, buffers)


def test_activations_and_their_constants_as_pytorch_exports_them(tmp_path: Path):
    torch = _torch()
    nn = torch.nn
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.ReLU(), nn.ReLU6(), nn.LeakyReLU(0.2), nn.Sigmoid(), nn.Tanh(), nn.Hardswish(),
        nn.Hardsigmoid(), nn.ELU(0.5), nn.GELU(), nn.GELU(approximate="tanh"), nn.PReLU(4), nn.PReLU(),
        nn.Softmax(dim=1),
    )  # fmt: skip
    path = _export(net, (3, 6, 6), tmp_path / "act.onnx")
    layers = import_mapping(str(path))["layers"]
    assert [(layer["kind"], {k: v for k, v in layer.items() if k not in ("kind", "name", "inputs")})
            for layer in layers[1:]] == [  # fmt: skip
        ("relu", {}), ("relu6", {}), ("leaky_relu", {"negative_slope": 0.2}), ("sigmoid", {}), ("tanh", {}),
        ("hardswish", {}), ("hardsigmoid", {}), ("elu", {"alpha": 0.5}), ("gelu", {}),
        ("gelu", {"approximate": "tanh"}), ("prelu", {"per_channel": True}), ("prelu", {}), ("softmax", {}),
    ]  # fmt: skip
    analysis = archcalc.analyse(import_spec(str(path)))
    assert analysis.totals.params == _torch_counts(net)[0] == 3 * 3 * 3 * 4 + 4 + 4 + 1
    _assert_reference_shapes(path, analysis)


def test_lrn_dropout_identity_and_clip_from_graph_constants(tmp_path: Path):
    nodes = [
        _node("LRN", ["x"], "norm", size=5, alpha=2e-4, beta=0.75, bias=2.0),
        _node("Dropout", ["norm", "ratio"], "drop"),
        _node("Identity", ["drop"], "same"),
        _node("Clip", ["same", "zero", "six"], "clip6"),
        _node("Clip", ["clip6", "zero"], "clip0"),
    ]
    constants = [numpy_helper.from_array(np.array(v, np.float32), n) for n, v in
                 (("ratio", 0.25), ("zero", 0.0), ("six", 6.0))]  # fmt: skip
    path = _save(tmp_path, nodes, constants)
    layers = import_mapping(str(path))["layers"]
    assert layers == [
        {"kind": "lrn", "name": "norm", "size": 5, "alpha": 0.0002, "beta": 0.75, "k": 2.0},
        {"kind": "dropout", "name": "drop", "p": 0.25},
        {"kind": "identity", "name": "same"},
        {"kind": "relu6", "name": "clip6"},
        {"kind": "relu", "name": "clip0"},  # Clip(0, +∞) is exactly ReLU
    ]
    old_clip = _node("Clip", ["x"], "clip", min=0.0, max=6.0)  # opset 6: the bounds are attributes
    assert import_mapping(str(_save(tmp_path, [old_clip], opset=6)))["layers"][0]["kind"] == "relu6"


@pytest.mark.parametrize(
    ("op", "attributes", "words"),
    [
        ("Clip", {"min": -1.0, "max": 1.0}, ["Clip to [-1.0, 1.0]", "relu6 (0, 6)"]),  # opset 10: attributes
        ("HardSigmoid", {}, ["alpha 0.2", "alpha 1/6"]),
        ("LogSoftmax", {"axis": 1}, ["node 1 'second'", "ONNX operator LogSoftmax"]),
        ("Softmax", {"axis": 3}, ["softmax over axis 3"]),
        ("Erf", {}, ["node 1 'second'", "ONNX operator Erf", "archcalc's kinds: conv,"]),
    ],
)
def test_what_archcalc_cannot_represent_exactly_is_refused_by_name(tmp_path: Path, op: str, attributes: dict,
                                                                    words: list[str]):  # fmt: skip
    nodes = [_node("Relu", ["x"], "first"), _node(op, ["first"], "second", **attributes)]
    message = _refused(_save(tmp_path, nodes, opset=10 if op == "Clip" else 20), *words)
    assert "node 1 'second'" in message and "cannot be represented exactly" in message


# --- merges, reshapes, padding and resampling ------------------------------------------------------


def test_branches_concat_add_and_squeeze_excitation_multiply(tmp_path: Path):
    torch = _torch()
    nn = torch.nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = nn.Conv2d(4, 6, 1), nn.Conv2d(4, 2, 3, padding=1)
            self.squeeze, self.excite = nn.Conv2d(8, 2, 1), nn.Conv2d(2, 8, 1)
            self.project = nn.Conv2d(4, 8, 1)

        def forward(self, x):
            merged = torch.cat([self.a(x), self.b(x)], 1)
            scale = torch.sigmoid(self.excite(torch.relu(self.squeeze(merged.mean((2, 3), keepdim=True)))))
            return merged * scale + self.project(x)

    block = Block()
    path = _export(block, (4, 9, 9), tmp_path / "se.onnx")
    analysis = archcalc.analyse(import_spec(str(path)))
    kinds = [layer.kind for layer in analysis.layers]
    assert kinds.count("concat") == kinds.count("multiply") == kinds.count("add") == 1
    multiply = next(layer for layer in analysis.layers if layer.kind == "multiply")
    assert multiply.input_shapes == ((8, 9, 9), (8, 1, 1))
    assert analysis.totals.params == _torch_counts(block)[0]
    assert analysis.layers[-1].output_shape == tuple(block(torch.zeros(1, 4, 9, 9)).shape[1:])


@pytest.mark.parametrize(
    ("reshape", "batch", "ops"),
    [
        (lambda x: x.view(x.size(0), -1), "batch", {"Shape", "Gather", "Unsqueeze", "Concat", "Reshape"}),
        (lambda x: x.reshape(-1, 5 * 3 * 4), "batch", {"Reshape"}),  # a constant target [-1, 60]
        (lambda x: x.reshape(1, -1), 1, {"Reshape"}),  # a constant [1, -1], with the graph's batch of 1
        (lambda x: x.flatten(1), "batch", {"Flatten"}),
    ],
)
def test_reshapes_to_batch_by_features_are_flatten(tmp_path: Path, reshape: Any, batch: Any, ops: set[str]):
    torch = _torch()

    class Net(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.conv, self.fc = torch.nn.Conv2d(3, 5, 3), torch.nn.Linear(60, 7)

        def forward(self, x):
            return self.fc(reshape(self.conv(x)))

    dynamic = {"input_names": ["x"], "dynamic_axes": {"x": {0: batch}}} if batch == "batch" else {}
    path = _export(Net(), (3, 5, 6), tmp_path / "flat.onnx", **dynamic)
    assert ops <= {node.op_type for node in onnx.load(str(path)).graph.node}
    analysis = archcalc.analyse(import_spec(str(path)))
    assert [layer.kind for layer in analysis.layers] == ["conv", "flatten", "linear"]
    assert analysis["fc/Gemm"].input_shapes == ((60,),)


def test_other_reshapes_are_refused(tmp_path: Path):
    torch = _torch()

    class Net(torch.nn.Module):
        def forward(self, x):
            return x.reshape(x.size(0), 3, -1)

    message = _refused(
        _export(Net(), (3, 5, 6), tmp_path / "r.onnx"), "Reshape to [1, 3, -1] of 90", "(batch, features)"
    )
    assert "node" in message


def test_pad_from_attributes_and_from_computed_constants(tmp_path: Path):
    old = _node("Pad", ["x"], "pad", pads=[0, 0, 1, 2, 0, 0, 3, 4], value=0.5)  # opset 2: attributes
    path = _save(tmp_path, [old], opset=10)
    assert import_mapping(str(path))["layers"] == [
        {"kind": "zeropad", "name": "pad", "padding": [1, 3, 2, 4], "value": 0.5}
    ]
    torch = _torch()
    net = torch.nn.Sequential(torch.nn.ZeroPad2d((1, 2, 3, 4)), torch.nn.AvgPool2d(2))  # left, right, top, bottom
    exported = _export(net, (2, 6, 5), tmp_path / "zp.onnx")
    assert "ConstantOfShape" in {node.op_type for node in onnx.load(str(exported)).graph.node}
    analysis = archcalc.analyse(import_spec(str(exported)))
    assert analysis.layers[0].params_spec["padding"] == (3, 4, 1, 2)
    assert analysis.layers[-1].output_shape == tuple(net(torch.zeros(1, 2, 6, 5)).shape[1:]) == (2, 6, 4)
    pads = _ints("pads", 0, 0, 2, 0, 0, 0, 2, 1)  # an initializer: the begins of N, C, H, W, then the ends
    assert _fields(_save(tmp_path, [_node("Pad", ["x", "pads"], "pad")], [pads]), "pad") == {"padding": [2, 2, 0, 1]}
    reflect = _node("Pad", ["x", "pads"], "pad", mode="reflect")
    _refused(_save(tmp_path, [reflect], [_ints("pads", 0, 0, 1, 1, 0, 0, 1, 1)]), "reflect mode")


def test_resize_and_upsample(tmp_path: Path):
    torch = _torch()
    nn = torch.nn
    net = nn.Sequential(
        nn.Upsample(scale_factor=2), nn.Upsample(size=(20, 30), mode="bilinear"),
        nn.Upsample(scale_factor=(2, 3), mode="bilinear", align_corners=True),
    )  # fmt: skip
    path = _export(net, (3, 5, 6), tmp_path / "up.onnx")
    layers = import_mapping(str(path))["layers"]
    assert [{k: v for k, v in layer.items() if k not in ("name", "inputs")} for layer in layers] == [
        {"kind": "upsample", "scale": 2},
        {"kind": "upsample", "size": [20, 30], "mode": "bilinear"},
        {"kind": "upsample", "scale": [2, 3], "mode": "bilinear", "align_corners": True},
    ]
    analysis = archcalc.analyse(import_spec(str(path)))
    assert analysis.layers[-1].output_shape == tuple(net(torch.zeros(1, 3, 5, 6)).shape[1:]) == (3, 40, 90)
    upsample9 = _node("Upsample", ["x", "scales"], "up", mode="nearest")
    scales = numpy_helper.from_array(np.array([1, 1, 2, 2], np.float32), "scales")
    assert import_mapping(str(_save(tmp_path, [upsample9], [scales], opset=9)))["layers"][0]["scale"] == 2
    rounded = _node("Resize", ["x", "", "scales"], "up", mode="nearest", coordinate_transformation_mode="asymmetric")
    _refused(_save(tmp_path, [rounded], [scales]), "asymmetric coordinates and round_prefer_floor rounding")


# --- an independently written model ---------------------------------------------------------------


def test_a_hand_written_branching_model_with_a_depthwise_conv_and_same_upper(tmp_path: Path):
    """Stem, then two branches (a depthwise 3×3 with SAME_UPPER and stride 2, a 1×1 with stride 2) merged
    by Add, then a pointwise conv, batch norm, global pool and a Gemm. Total parameters: the sum of
    the graph's own initializer sizes."""
    nodes = [
        _node("Conv", ["x", "stem_w", "stem_b"], "stem", pads=[1, 1, 1, 1]),
        _node("Relu", ["stem"], "stem_relu"),
        _node("Conv", ["stem_relu", "dw_w", "dw_b"], "depthwise", group=16, auto_pad="SAME_UPPER", strides=[2, 2]),
        _node("Conv", ["stem_relu", "short_w"], "shortcut", strides=[2, 2]),
        _node("Add", ["depthwise", "shortcut"], "merge"),
        _node("Conv", ["merge", "pw_w"], "pointwise"),
        _node("BatchNormalization", ["pointwise", "g", "b", "m", "v"], "bn", epsilon=1e-3),
        _node("Relu", ["bn"], "relu"),
        _node("GlobalAveragePool", ["relu"], "pool"),
        _node("Flatten", ["pool"], "flat"),
        _node("Gemm", ["flat", "fc_w", "fc_b"], "fc", transB=1),
        _node("Softmax", ["fc"], "prob", axis=1),
    ]
    weights = [
        _weights("stem_w", 16, 3, 3, 3), _weights("stem_b", 16), _weights("dw_w", 16, 1, 3, 3), _weights("dw_b", 16),
        _weights("short_w", 16, 16, 1, 1), _weights("pw_w", 32, 16, 1, 1), *(_weights(n, 32) for n in "gbmv"),
        _weights("fc_w", 10, 32), _weights("fc_b", 10),
    ]  # fmt: skip
    path = _save(tmp_path, nodes, weights, dims=("N", 3, 31, 31), name="branchy")
    analysis = archcalc.analyse(import_spec(str(path)))
    _assert_reference_shapes(path, analysis)
    # 448 + 160 + 256 + 512 + 4·32 + 330 = 1,834: the initializers' element count, running statistics included
    assert analysis.totals.params == _initializer_elements(path) == 1834
    assert analysis.totals.non_trainable_params == 64
    assert analysis["depthwise"].output_shape == (16, 16, 16)  # ⌈31/2⌉, SAME
    assert analysis["merge"].inputs == ("depthwise", "shortcut")
    assert analysis["depthwise"].params == 16 * 9 + 16
    # MACs by hand: stem 31²·16·27, depthwise 16²·16·9, shortcut 16²·16·16, pointwise 16²·32·16, fc 320
    assert analysis.totals.macs == 961 * 16 * 27 + 256 * 16 * 9 + 256 * 16 * 16 + 256 * 32 * 16 + 320


# --- the input shape and the files ----------------------------------------------------------------


def test_input_from_the_graph_or_from_input(tmp_path: Path):
    path = _save(tmp_path, [_node("Relu", ["x"], "r")], dims=("batch", 3, "height", "width"))
    message = _refused(path, "height are 'height'", "--input CxHxW")
    assert "input 'x'" in message
    assert archcalc.analyse(import_spec(str(path), (3, 20, 10)))["r"].output_shape == (3, 20, 10)
    result = _run("table", str(path), "--input", "3x8x9")
    assert result.exit_code == 0, result.output
    assert "3×8×9" in result.stdout


def test_weights_inside_the_file_or_in_external_data_that_is_never_read(tmp_path: Path):
    torch = _torch()
    net = torch.nn.Sequential(torch.nn.Conv2d(3, 32, 3), torch.nn.Flatten(), torch.nn.Linear(32 * 14 * 14, 10))
    inside = _export(net, (3, 16, 16), tmp_path / "inside.onnx")
    model = onnx.load(str(inside))
    onnx.save(model, str(tmp_path / "outside.onnx"), save_as_external_data=True, location="weights.bin")
    weights = tmp_path / "weights.bin"
    assert weights.stat().st_size > 250_000 and (tmp_path / "outside.onnx").stat().st_size < 10_000
    expected = _torch_counts(net)[0]
    assert archcalc.analyse(import_spec(str(inside))).totals.params == expected
    weights.unlink()  # the importer never opens it
    assert archcalc.analyse(import_spec(str(tmp_path / "outside.onnx"))).totals.params == expected == 63_626
    assert import_mapping(str(tmp_path / "outside.onnx"))["layers"] == import_mapping(str(inside))["layers"]


def test_import_writes_the_spec_and_prints_its_totals(tmp_path: Path):
    torch = _torch()
    path = _export(torch.nn.Sequential(torch.nn.Conv2d(3, 8, 3), torch.nn.ReLU()), (3, 8, 8), tmp_path / "m.onnx")
    out = tmp_path / "m.yaml"
    result = _run("import", str(path), "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "Total params:" in result.stdout and "224" in result.stdout
    spec = archcalc.load(out)
    assert spec.source == str(path) and [layer.kind for layer in spec.layers] == ["conv", "relu"]
    failing = _save(tmp_path, [_node("Erf", ["x"], "erf")], name="bad")
    assert _run("import", str(failing), "-o", str(tmp_path / "bad.yaml")).exit_code == 2
    assert not (tmp_path / "bad.yaml").exists()  # nothing written on failure


def test_onnx_is_imported_only_to_read_an_onnx_file():
    code = "import sys; from archcalc.cli import main; main(['table', 'alexnet'], standalone_mode=False); " \
           "print('onnx' in sys.modules, 'numpy' in sys.modules)"  # fmt: skip
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip().splitlines()[-1] == "False False"


def test_without_the_onnx_package_the_error_names_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    path = _save(tmp_path, [_node("Relu", ["x"], "r")])
    monkeypatch.setitem(sys.modules, "onnx", None)
    with pytest.raises(ImportFailure, match=r"needs the onnx package: pip install 'archcalc\[onnx\]'"):
        import_spec(str(path))


# --- hostile files ------------------------------------------------------------------------------------


def test_garbage_and_truncated_files_are_refused_in_one_line(tmp_path: Path):
    garbage = tmp_path / "garbage.onnx"
    garbage.write_bytes(bytes(range(256)) * 64)
    _refused(garbage, "garbage.onnx: not an ONNX model")
    whole = _save(tmp_path, [_node("Conv", ["x", "w"], "c")], [_weights("w", 64, 3, 3, 3)])
    truncated = tmp_path / "truncated.onnx"
    truncated.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    _refused(truncated, "truncated.onnx: not an ONNX model")
    empty = tmp_path / "empty.onnx"
    empty.write_bytes(b"")
    _refused(empty, "the file is empty")
    _refused(tmp_path / "missing.onnx", "cannot read it")


def test_a_claimed_2_gb_tensor_is_never_allocated(tmp_path: Path):
    claimed = TensorProto(name="w", data_type=TensorProto.FLOAT, dims=[131072, 4096], raw_data=bytes(16))  # 2 GiB?
    nodes = [_node("Flatten", ["x"], "flat"), _node("Gemm", ["flat", "w"], "fc", transB=1)]
    path = _save(tmp_path, nodes, [claimed], dims=(1, 1, 64, 64))
    started = time.perf_counter()
    _refused(path, "initializer 'w' (131072×4096) claims more values than the whole file")
    assert time.perf_counter() - started < 5
    # the same claim with its values in an external file: never read, so the dimensions are all it takes
    claimed.ClearField("raw_data")
    claimed.data_location = TensorProto.EXTERNAL
    claimed.external_data.add(key="location", value="absent.bin")
    external = _save(tmp_path, nodes, [claimed], dims=(1, 1, 64, 64), name="external")
    assert archcalc.analyse(import_spec(str(external)))["fc"].params == 4096 * 131072


def test_a_graph_of_100000_nodes_is_refused_quickly(tmp_path: Path):
    nodes = [helper.make_node("Relu", [f"t{i}" if i else "x"], [f"t{i + 1}"]) for i in range(100_000)]
    path = _save(tmp_path, nodes, name="huge")
    started = time.perf_counter()
    _refused(path, "100,000 nodes; archcalc reads at most 50,000")
    assert time.perf_counter() - started < 20


def test_a_cycle_and_a_missing_input_are_named(tmp_path: Path):
    cycle = [_node("Relu", ["x"], "a"), _node("Add", ["a", "c"], "b"), _node("Relu", ["b"], "c")]
    _refused(_save(tmp_path, cycle, name="cycle"), "node 1 'b'", "reads 'c', which only node 2 (later) makes", "cycle")
    missing = [_node("Relu", ["x"], "a"), _node("Add", ["a", "nowhere"], "b")]
    _refused(_save(tmp_path, missing, name="missing"), "reads 'nowhere', which no node, initializer or graph input")


def test_attributes_of_the_wrong_type_are_refused_in_one_line(tmp_path: Path):
    conv = helper.make_node("Conv", ["x", "w"], ["c"], name="c")
    conv.attribute.append(helper.make_attribute("group", "two"))
    _refused(_save(tmp_path, [conv], [_weights("w", 4, 3, 3, 3)]), "node 0 'c' (Conv)", "cannot read")
    stride = _node("Conv", ["x", "w"], "c", strides=[2])
    _refused(_save(tmp_path, [stride], [_weights("w", 4, 3, 3, 3)]), "'strides' has 1 entries")


def test_two_inputs_and_a_non_image_input_are_refused(tmp_path: Path):
    graph = helper.make_graph(
        [helper.make_node("Add", ["x", "y"], ["z"])], "two",
        [helper.make_tensor_value_info(n, TensorProto.FLOAT, [1, 3, 4, 4]) for n in "xy"],
        [helper.make_tensor_value_info("z", TensorProto.FLOAT, None)],
    )  # fmt: skip
    two = tmp_path / "two.onnx"
    onnx.save(helper.make_model(graph), str(two))
    _refused(two, "2 data inputs ('x', 'y'); archcalc reads one")
    _refused(_save(tmp_path, [_node("Relu", ["x"], "r")], dims=(1, 16), name="flat"), "2 dimensions")


# --- every bundled spec, through PyTorch's exporter and back ---------------------------------------------

# Kinds that ONNX (or PyTorch's exporter) cannot write as operators archcalc reads back
_NOT_IN_ONNX = {
    "subsample": "LeNet-5's trainable subsampling has no ONNX operator (it exports as pooling, Mul and Add)",
    "scaled_tanh": "A·tanh(S·x) exports as Mul by constants, which has no kind of its own",
    "rbf": "LeNet-5's RBF output exports as arithmetic on the weights",
    "crop": "centre crops to another layer's size: PyTorch's exporter cannot trace the generated crop, and ONNX "
    "has no operator for it (a Slice's fixed bounds are not a crop's reference layer)",
}


def _not_in_onnx(spec: Any) -> str | None:
    """Why ONNX cannot express the spec (each kind once, with its first layer), or None."""
    reasons: dict[str, str] = {}
    for layer in spec.layers:
        if layer.params.get("connections"):
            reasons.setdefault("connections", f"{layer.name}: a connection table exports as one convolution per map")
        if layer.kind in _NOT_IN_ONNX:
            reasons.setdefault(layer.kind, f"{layer.name} ({layer.kind}): {_NOT_IN_ONNX[layer.kind]}")
    return "; ".join(reasons.values()) or None


def _onnx_lrn(torch: Any) -> Any:
    """nn.LocalResponseNorm as ONNX's LRN operator: PyTorch's exporter writes it as its decomposition
    (pooling of squares, Pow, Div). The operator's definition is PyTorch's: alpha is divided by size."""

    class LRN(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x, size, alpha, beta, k):
            return torch.nn.functional.local_response_norm(x, size, alpha, beta, k)

        @staticmethod
        def symbolic(g, x, size, alpha, beta, k):
            return g.op("LRN", x, size_i=size, alpha_f=alpha, beta_f=beta, bias_f=k)

    class Module(torch.nn.Module):
        def __init__(self, original):
            super().__init__()
            self.original = original

        def forward(self, x):
            m = self.original
            return LRN.apply(x, m.size, m.alpha, m.beta, m.k)

    return Module


def _exported_bundled(name: str, path: Path) -> Any:
    """The bundled spec's generated PyTorch module, exported by torch.onnx.export; its analysis."""
    torch = _torch()
    from archcalc.codegen import generate
    from archcalc.torchrun import build_model

    analysis = archcalc.analyse(archcalc.load(name))
    with torch.device("meta"):  # the weights' values play no part: leave them uninitialised
        model, _ = build_model(generate(analysis))
    model = model.to_empty(device="cpu").eval()
    lrn = _onnx_lrn(torch)
    for parent in list(model.modules()):
        for child_name, child in parent.named_children():
            if isinstance(child, torch.nn.LocalResponseNorm):
                setattr(parent, child_name, lrn(child))
    # eval mode without constant folding: batch norm stays BatchNormalization, as training exports keep it
    _export(model, analysis.input_shape, path, do_constant_folding=False)
    return analysis


def _figures(analysis: Any, dropped: set[str] = frozenset()) -> list[tuple[Any, ...]]:
    return [
        (layer.output_shape, layer.trainable_params, layer.non_trainable_params, layer.macs)
        for layer in analysis.layers
        if layer.kind not in dropped
    ]


@pytest.mark.torch
@pytest.mark.parametrize("name", archcalc.bundled_names())
def test_every_bundled_spec_round_trips_through_torch_onnx_export(tmp_path: Path, name: str):
    reason = _not_in_onnx(archcalc.load(name))
    if reason is not None:
        pytest.skip(reason)
    original = _exported_bundled(name, tmp_path / f"{name}.onnx")
    imported = archcalc.analyse(import_spec(str(tmp_path / f"{name}.onnx")))
    # dropout is the identity at inference: the exporter writes no node for it
    assert _figures(imported) == _figures(original, dropped={"dropout", "dropout2d"})
    assert imported.totals.params == original.totals.params
    assert imported.totals.macs == original.totals.macs


# --- what the README quotes ---------------------------------------------------------------------------


@pytest.mark.torch
def test_the_readme_example_is_real_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    torch = _torch()
    import re

    section = (Path(__file__).parent.parent / "README.md").read_text().split("### ONNX\n", 1)[1]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    quoted = re.search(r"\$ archcalc import tiny.onnx -o tiny.yaml\n(.*?)\$ cat tiny.yaml\n(.*?)```", section, re.S)
    monkeypatch.chdir(tmp_path)
    exec(code, {"torch": torch, "nn": torch.nn})  # the README's own model and export line
    result = _run("import", "tiny.onnx", "-o", "tiny.yaml")
    assert result.exit_code == 0, result.output
    assert result.stderr + result.stdout == quoted.group(1)
    assert (tmp_path / "tiny.yaml").read_text() == quoted.group(2)


def _fifty_layers(tmp_path: Path) -> Path:
    nodes, weights, previous = [], [], "x"
    for i in range(25):
        channels_in = 3 if i == 0 else 32
        nodes += [_node("Conv", [previous, f"w{i}", f"b{i}"], f"conv{i}", pads=[1, 1, 1, 1]),
                  _node("Relu", [f"conv{i}"], f"relu{i}")]  # fmt: skip
        weights += [_weights(f"w{i}", 32, channels_in, 3, 3), _weights(f"b{i}", 32)]
        previous = f"relu{i}"
    return _save(tmp_path, nodes, weights, dims=(1, 3, 32, 32), name="fifty")


def test_fifty_layers_import_as_a_command(tmp_path: Path):
    """Not a timed assertion: the median of 5 runs is printed for the README (pytest -s)."""
    path = _fifty_layers(tmp_path)
    times = []
    for _ in range(5):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "archcalc", "import", str(path), "-o", str(tmp_path / "f.yaml")],
                       check=True, capture_output=True)  # fmt: skip
        times.append(time.perf_counter() - started)
    print(f"archcalc import of 50 ONNX layers: median {statistics.median(times) * 1000:.0f} ms")
    assert len(archcalc.load(tmp_path / "f.yaml").layers) == 50
