"""The PyTorch importer: archcalc's own generated modules import back to the same network, networks
written as users write them import to torch's own figures, and what archcalc cannot represent is a
one-line error naming the operation and where it is.

The independent side is torch itself: ``sum(p.numel() for p in model.parameters())`` for the
trainable parameters, the buffers (batch-norm running statistics) for the non-trainable ones, and
the shape of a real forward pass.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings

import archcalc
from archcalc.cli import main
from archcalc.codegen import generate
from archcalc.importers import import_spec
from archcalc.spec import bundled_names

from .conftest import EVERY_KIND, ROOT

DATA = ROOT / "tests" / "import_data" / "torch"
README = (ROOT / "README.md").read_text()


@pytest.fixture(scope="module")
def torch() -> Any:
    return pytest.importorskip("torch")


def run(*args: str) -> Any:
    return CliRunner().invoke(main, list(args))


def figures(analysis: archcalc.Analysis) -> list[tuple[Any, ...]]:
    """Per layer: name, output shape, trainable and non-trainable parameters, MACs."""
    return [
        (layer.name, layer.output_shape, layer.trainable_params, layer.non_trainable_params, layer.macs)
        for layer in analysis.layers
    ]


def round_trip(analysis: archcalc.Analysis, folder: Path) -> archcalc.Analysis:
    """codegen → a file → `archcalc import FILE.py:Class -o net.yaml` → the spec it wrote, analysed."""
    generated = generate(analysis)
    path = folder / f"model_{uuid.uuid4().hex[:8]}.py"
    path.write_text(generated.source)
    out = folder / "net.yaml"
    result = run("import", f"{path}:{generated.class_name}", "-o", str(out))
    assert result.exit_code == 0, result.output
    return archcalc.analyse(archcalc.load(out))


def load_torch_model(path: Path, name: str, **kwargs: Any) -> Any:
    """The user's model as torch builds it (real weights, on the CPU), for torch's own figures."""
    spec = importlib.util.spec_from_file_location(f"user_{uuid.uuid4().hex}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)(**kwargs).eval()


def torch_counts(model: Any) -> tuple[int, int]:
    """(parameters, buffers) as torch reports them; num_batches_tracked is a counter, not a value."""
    parameters = sum(p.numel() for p in model.parameters())
    buffers = sum(b.numel() for name, b in model.named_buffers() if not name.endswith("num_batches_tracked"))
    return parameters, buffers


# --- the round trip: archcalc's generated code imports back to the same network ---------------


@pytest.mark.parametrize("name", bundled_names())
def test_every_bundled_spec_round_trips(name: str, tmp_path: Path, torch: Any):
    original = archcalc.analyse(archcalc.load(name))
    imported = round_trip(original, tmp_path)
    assert figures(imported) == figures(original)  # names too: the file's LAYER_NAMES table restores them
    assert imported.input_shape == original.input_shape  # from the generated class's input_shape
    assert imported.totals.params == original.totals.params


def test_every_kind_round_trips(tmp_path: Path, torch: Any):
    """One spec with every kind and the awkward cases: SAME average pooling (AvgPool2dSame), an
    asymmetric max pool (a -inf pad layer folded back), a connection table, a frozen RBF."""
    original = archcalc.analyse(archcalc.parse(EVERY_KIND))
    assert figures(round_trip(original, tmp_path)) == figures(original)


def test_asymmetric_padding_folds_back_into_the_layer(tmp_path: Path, torch: Any):
    """archcalc writes SAME conv padding that torch cannot express as Sequential(ZeroPad2d, Conv2d);
    the importer reads that pair back as one conv with [top, bottom, left, right] padding."""
    original = archcalc.analyse(archcalc.load("alexnet-tf-bench"))
    assert "nn.Sequential(\n            nn.ZeroPad2d((3, 4, 3, 4))" in generate(original).source
    imported = round_trip(original, tmp_path)
    conv1 = imported["conv1"]
    assert conv1.kind == "conv" and conv1.details["padding"] == (3, 4, 3, 4)
    assert conv1.output_shape == (64, 56, 56)  # ⌈224/4⌉, as TensorFlow's SAME gives


def _random_specs() -> Any:
    from .test_crosscheck import random_specs

    return random_specs()


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck), database=None)
@given(doc=_random_specs())
def test_random_specs_round_trip(doc: dict, tmp_path_factory: pytest.TempPathFactory):
    pytest.importorskip("torch")
    original = archcalc.analyse(archcalc.from_mapping(doc))
    generated = generate(original)
    path = tmp_path_factory.mktemp("random") / "model.py"
    path.write_text(generated.source)
    assert figures(archcalc.analyse(import_spec(f"{path}:{generated.class_name}"))) == figures(original)


# --- networks written as users write them: torch's own figures ----------------------------------

USER_NETWORKS = [
    ("resnet_basic.py", "SmallResNet", {}, (3, 64, 64)),
    ("mobilenet_block.py", "tiny_mobilenet", {}, (3, 96, 96)),
    ("unet_piece.py", "UNetPiece", {}, (3, 64, 64)),
    ("lenet.py", "LeNet", {}, (1, 32, 32)),
]


@pytest.mark.parametrize(("file", "name", "kwargs", "shape"), USER_NETWORKS)
def test_user_networks_import_to_torch_figures(file: str, name: str, kwargs: dict, shape: tuple, torch: Any):
    model = load_torch_model(DATA / file, name, **kwargs)
    parameters, buffers = torch_counts(model)
    with torch.no_grad():
        output = tuple(model(torch.randn(2, *shape)).shape[1:])
    analysis = archcalc.analyse(import_spec(f"{DATA / file}:{name}", shape))
    assert analysis.totals.trainable_params == parameters
    assert analysis.totals.non_trainable_params == buffers
    assert analysis.layers[-1].output_shape == output


def test_lenet_is_the_tutorial_network(torch: Any):
    """The PyTorch tutorial's LeNet: 156 + 2,416 + 48,120 + 10,164 + 850 = 61,706 parameters; its
    x.view(x.size(0), -1) is a flatten of 16×5×5 = 400."""
    analysis = archcalc.analyse(import_spec(f"{DATA / 'lenet.py'}:LeNet", (1, 32, 32)))
    assert [layer.params for layer in analysis.layers if layer.params] == [156, 2416, 48120, 10164, 850]
    assert analysis["view"].kind == "flatten" and analysis["view"].output_shape == (400,)
    assert analysis["max_pool2d"].output_shape == (6, 14, 14)


def test_resnet_block_names_and_branches(torch: Any):
    analysis = archcalc.analyse(import_spec(f"{DATA / 'resnet_basic.py'}:SmallResNet", (3, 64, 64)))
    # `out += identity`: an add of the block's last batch norm and the block's input
    assert analysis["layer1.0.add"].inputs == ("layer1.0.bn2", "maxpool")
    # the projection shortcut reads the previous block's output; F.relu inside a block is named under it
    assert analysis["layer2.0.downsample.0"].inputs == ("layer1.1.relu_2",)
    assert analysis["layer2.0.add"].inputs == ("layer2.0.bn2", "layer2.0.downsample.1")
    assert analysis["avgpool"].kind == "global_avgpool"  # nn.AdaptiveAvgPool2d((1, 1))
    assert analysis["fc"].output_shape == (10,)


def test_mobilenet_depthwise_and_head(torch: Any):
    analysis = archcalc.analyse(import_spec(f"{DATA / 'mobilenet_block.py'}:tiny_mobilenet", (3, 96, 96)))
    depthwise = analysis["features.1.0"]
    assert depthwise.details["groups"] == 16 == depthwise.input_shapes[0][0]
    assert depthwise.params == 3 * 3 * 16  # one 3×3 kernel per channel, no bias
    assert analysis["features.1.2"].kind == "relu6"
    # x.mean((2, 3)) without keepdim: global average pooling, then the flat features
    assert [analysis["mean"].kind, analysis["mean_flatten"].kind] == ["global_avgpool", "flatten"]
    assert analysis["features.3.add"].inputs == ("features.2.2", "features.3.conv.2.1")


def test_unet_skips_and_upsampling(torch: Any):
    analysis = archcalc.analyse(import_spec(f"{DATA / 'unet_piece.py'}:UNetPiece"))  # its own input_shape
    assert analysis.input_shape == (3, 64, 64)
    up = analysis["interpolate"]
    assert up.kind == "upsample" and up.output_shape == (64, 32, 32)  # 64 → 32 → 16, then ×2
    # size=skip1.shape[2:]: the skip's size, read from archcalc's own shapes
    assert analysis["interpolate_1"].params_spec["size"] == (64, 64)
    assert analysis["cat"].inputs == ("interpolate", "enc2.block.5")
    assert analysis["cat"].output_shape == (96, 32, 32)  # 64 + 32 channels


def test_a_factory_takes_keyword_arguments(torch: Any):
    model = load_torch_model(DATA / "mobilenet_block.py", "tiny_mobilenet", width=8, num_classes=7)
    spec = import_spec(f"{DATA / 'mobilenet_block.py'}:tiny_mobilenet", (3, 32, 32), {"width": 8, "num_classes": 7})
    totals = archcalc.analyse(spec).totals
    assert (totals.trainable_params, totals.non_trainable_params) == torch_counts(model)


# --- the command ----------------------------------------------------------------------------------


def test_import_writes_a_readable_spec_and_prints_totals(tmp_path: Path, torch: Any):
    source = f"{DATA / 'lenet.py'}:LeNet"
    out = tmp_path / "lenet.yaml"
    result = run("import", source, "--input", "1x32x32", "-o", str(out))
    assert result.exit_code == 0, result.output
    assert "LeNet: 12 layers from" in result.stdout and "Total params: 61,706" in result.stdout
    doc = yaml.safe_load(out.read_text())
    assert doc["source"] == source and doc["input"] == [1, 32, 32]
    assert doc["layers"][0] == {"kind": "conv", "name": "conv1", "out_channels": 6, "kernel": 5, "in_channels": 1}
    assert archcalc.analyse(archcalc.load(out)).totals.params == 61_706


def test_other_commands_take_the_source(torch: Any):
    result = run("table", f"{DATA / 'lenet.py'}:LeNet", "--input", "1x32x32")
    assert result.exit_code == 0, result.output
    assert "fc1" in result.stdout and "Total params:          61,706" in result.stdout


def test_arg_values_are_python_literals(torch: Any):
    result = run("import", f"{DATA / 'mobilenet_block.py'}:TinyMobileNet", "--input", "3x32x32", "--arg", "width=8")
    assert result.exit_code == 0, result.output
    model = load_torch_model(DATA / "mobilenet_block.py", "TinyMobileNet", width=8)
    assert f"Total params: {sum(torch_counts(model)):,}" in result.stderr  # the spec itself is on stdout


def test_a_package_module_is_imported_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, torch: Any):
    package = tmp_path / "mynets"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "small.py").write_text(
        "from torch import nn\n\ndef net():\n    return nn.Sequential(nn.Conv2d(3, 4, 3))\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    analysis = archcalc.analyse(import_spec("mynets.small:net", (3, 8, 8)))
    assert [(layer.name, layer.output_shape, layer.params) for layer in analysis.layers] == [("0", (4, 6, 6), 112)]


def test_the_readme_example_is_real_output(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, torch: Any):
    lines = README.split("### PyTorch")[1].split("```\n")[1].splitlines()
    cat = lines.index("$ cat lenet.yaml")
    out = tmp_path / "lenet.yaml"
    args = [str(out) if arg == "lenet.yaml" else arg for arg in lines[0].removeprefix("$ archcalc ").split()]
    monkeypatch.chdir(ROOT)  # the source path as the README writes it
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert result.output.replace(str(out), "lenet.yaml").splitlines() == lines[1:cat]
    assert out.read_text().splitlines() == lines[cat + 1 :]


# --- what the translation keeps and refuses ---------------------------------------------------------


def write_model(folder: Path, body: str) -> Path:
    path = folder / "net.py"
    header = "import torch\nimport torch.nn.functional as F\nfrom torch import nn\n\n\n"
    path.write_text(header + textwrap.dedent(body))
    return path


def test_in_place_operations_are_read_as_eager_torch_runs_them(tmp_path: Path, torch: Any):
    """``x.relu_()`` whose result is dropped, and an in-place ReLU on a tensor read again later: the
    later reads see the result, as they do in eager PyTorch."""
    path = write_model(
        tmp_path,
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 3, 3, padding=1)
                self.act = nn.ReLU(inplace=True)

            def forward(self, x):
                x.relu_()
                y = self.conv(x)
                z = self.act(y)
                return torch.cat([y, z], 1)
        """,
    )
    analysis = archcalc.analyse(import_spec(f"{path}:Net", (3, 8, 8)))
    assert analysis["conv"].inputs == ("relu_",)
    assert analysis["cat"].inputs == ("act", "act")


def test_no_weights_are_allocated(tmp_path: Path, torch: Any):
    """A linear layer of 2^34 weights (64 GiB in float32) imports at once: it is built on the meta device."""
    path = write_model(
        tmp_path,
        """
        class Huge(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(1 << 17, 1 << 17)

            def forward(self, x):
                return self.fc(torch.flatten(x, 1))
        """,
    )
    analysis = archcalc.analyse(import_spec(f"{path}:Huge", (2, 256, 256)))
    assert analysis.totals.params == (1 << 34) + (1 << 17)


def test_code_that_needs_real_tensors_is_built_on_the_cpu(tmp_path: Path, torch: Any):
    path = write_model(
        tmp_path,
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                width = int(torch.tensor([4]).item())  # .item() has no value on the meta device
                self.conv = nn.Conv2d(3, width, 1)

            def forward(self, x):
                return self.conv(x)
        """,
    )
    assert archcalc.analyse(import_spec(f"{path}:Net", (3, 8, 8)))["conv"].output_shape == (4, 8, 8)


def test_a_forward_of_too_many_nodes_stops_while_tracing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, torch: Any):
    from archcalc.importers import torch_import

    monkeypatch.setattr(torch_import, "MAX_NODES", 50)
    path = write_model(
        tmp_path,
        """
        class Net(nn.Module):
            def forward(self, x):
                for _ in range(1000):
                    x = F.relu(x)
                return x
        """,
    )
    with pytest.raises(archcalc.ImportFailure, match="forward makes more than 50 graph nodes"):
        import_spec(f"{path}:Net", (3, 8, 8))


def test_a_subclass_that_changes_only_construction_is_its_base(tmp_path: Path, torch: Any):
    path = write_model(
        tmp_path,
        """
        class Conv3x3(nn.Conv2d):
            def __init__(self, cin, cout):
                super().__init__(cin, cout, 3, padding=1, bias=False)

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = Conv3x3(3, 8)

            def forward(self, x):
                return self.conv(x)
        """,
    )
    conv = archcalc.analyse(import_spec(f"{path}:Net", (3, 8, 8)))["conv"]
    assert (conv.kind, conv.output_shape, conv.params) == ("conv", (8, 8, 8), 3 * 3 * 3 * 8)


def test_a_user_class_named_like_an_archcalc_helper_is_not_taken_for_it(tmp_path: Path, torch: Any):
    """archcalc's helpers are recognised by their code, not their name: this `Add` adds a bias too."""
    path = write_model(
        tmp_path,
        """
        class Add(nn.Module):
            def __init__(self):
                super().__init__()
                self.bias = nn.Parameter(torch.zeros(1))

            def forward(self, a, b):
                return a + b + self.bias

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 3, 1)
                self.add = Add()

            def forward(self, x):
                return self.add(x, self.conv(x))
        """,
    )
    with pytest.raises(archcalc.ImportFailure, match=r"reading the module's tensor 'add.bias' directly"):
        import_spec(f"{path}:Net", (3, 8, 8))


def test_modules_forward_never_calls_are_named_in_the_description(tmp_path: Path, torch: Any):
    path = write_model(
        tmp_path,
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 3, 1)
                self.aux = nn.Linear(10, 10)

            def forward(self, x):
                return self.conv(x)
        """,
    )
    spec = import_spec(f"{path}:Net", (3, 8, 8))
    assert "forward never calls them: aux (110 parameters and buffers)" in spec.description


REFUSED = [
    (
        "Tensor.permute",
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3)

            def forward(self, x):
                return self.conv(x).permute(0, 2, 3, 1)
        """,
        ["net.py:13: node 'permute' (Tensor.permute): Tensor.permute cannot be represented exactly", "kinds: conv,"],
    ),
    (
        "a module with no kind, inside a Sequential",
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.body = nn.Sequential(nn.Conv2d(3, 4, 1), nn.LSTM(4, 4))

            def forward(self, x):
                return self.body(x)
        """,
        ["module 'body.1' (nn.LSTM): nn.LSTM cannot be represented exactly"],
    ),
    (
        "data-dependent control flow",
        """
        class Net(nn.Module):
            def forward(self, x):
                if x.sum() > 0:
                    return F.relu(x)
                return x
        """,
        [
            "torch.fx could not trace Net.forward: TraceError: symbolically traced variables cannot be used as "
            "inputs to control flow",
            "forward must be traceable",
        ],
    ),
    (
        "reflect padding",
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 8, 3, padding=1, padding_mode="reflect")

            def forward(self, x):
                return self.conv(x)
        """,
        ["module 'conv' (nn.Conv2d): nn.Conv2d with padding_mode='reflect' cannot be represented exactly"],
    ),
    (
        "an average that leaves the padding out",
        """
        class Net(nn.Module):
            def forward(self, x):
                return F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)
        """,
        ["node 'avg_pool2d'", "average pooling with count_include_pad=False and padding"],
    ),
    (
        "divisor_override",
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.pool = nn.AvgPool2d(2, divisor_override=3)

            def forward(self, x):
                return self.pool(x)
        """,
        ["average pooling with divisor_override=3"],
    ),
    (
        "a layer norm over the width",
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.norm = nn.LayerNorm(8)

            def forward(self, x):
                return self.norm(x)
        """,
        ["module 'norm' (nn.LayerNorm): nn.LayerNorm(8) on a [3, 8, 8] map (torch applies it along the width alone)"],
    ),
    (
        "a linear layer on a map",
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(8, 10)

            def forward(self, x):
                return self.fc(x)
        """,
        ["module 'fc' (nn.Linear): nn.Linear on a [3, 8, 8] map"],
    ),
    (
        "a view that changes the batch size",
        """
        class Net(nn.Module):
            def forward(self, x):
                return x.view(-1, 96)
        """,
        ["node 'view' (Tensor.view): a reshape (-1, 96) of [3, 8, 8] (192 values a sample) into rows of 96"],
    ),
    (
        "shared weights",
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(3, 3, 3, padding=1)

            def forward(self, x):
                return self.conv(self.conv(x))
        """,
        ["module 'conv' called a second time (its 84 parameters shared)"],
    ),
    (
        "scaling by a constant",
        """
        class Net(nn.Module):
            def forward(self, x):
                return F.relu(x) * 0.5
        """,
        ["node 'mul' (operator.mul): * with the constant 0.5 cannot be represented exactly"],
    ),
    (
        "a parameter read directly",
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.pos = nn.Parameter(torch.zeros(1, 3, 8, 8))

            def forward(self, x):
                return x + self.pos
        """,
        ["node 'add' (operator.add): reading the module's tensor 'pos' directly"],
    ),
    (
        "a subclass with its own forward",
        """
        class SameConv(nn.Conv2d):
            def forward(self, x):
                return F.conv2d(F.pad(x, (1, 1, 1, 1)), self.weight, self.bias)

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = SameConv(3, 3, 3)

            def forward(self, x):
                return self.conv(x)
        """,
        ["node 'conv2d' (torch.conv2d) in module 'conv' (SameConv): torch.conv2d cannot be represented exactly"],
    ),
    (
        "two inputs",
        """
        class Net(nn.Module):
            def forward(self, x, y):
                return x + y
        """,
        ["Net.forward takes 2 inputs (x, y); an archcalc network has one input"],
    ),
    (
        "two outputs",
        """
        class Net(nn.Module):
            def forward(self, x):
                return F.relu(x), x
        """,
        ["forward returns tuple of 2 values; an archcalc network has one output"],
    ),
    (
        "the batch norm of another width",
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.bn = nn.BatchNorm2d(4)

            def forward(self, x):
                return self.bn(x)
        """,
        ["module 'bn' (nn.BatchNorm2d): nn.BatchNorm2d for 4 channels on an input of 3"],
    ),
    (
        "a convolution of another width",
        """
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(4, 8, 3)

            def forward(self, x):
                return self.conv(x)
        """,
        ["module 'conv' (nn.Conv2d): archcalc's conv refuses it: in_channels 4 declared, but the input has 3"],
    ),
]


@pytest.mark.parametrize(("case", "body", "expected"), REFUSED, ids=[case for case, _, _ in REFUSED])
def test_what_cannot_be_represented_is_one_line_naming_it(
    case: str, body: str, expected: list[str], tmp_path: Path, torch: Any
):
    path = write_model(tmp_path, body)
    out = tmp_path / "net.yaml"
    result = run("import", f"{path}:Net", "--input", "3x8x8", "-o", str(out))
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1 and message.startswith("archcalc: error: ")
    for part in expected:
        assert part in message
    assert not out.exists()


LOADING = [
    ("raises on import", "raise ValueError('no weights here')\n", "Net", [
        "net.py: importing it raised ValueError: no weights here (line 6)"]),
    ("a syntax error", "def broken(:\n", "Net", ["importing it raised SyntaxError: invalid syntax (line 6)"]),
    ("a name it lacks", "class Net(nn.Module):\n    pass\n", "Model", ["has no 'Model'; it defines: Net"]),
    ("a factory that needs arguments", "def make(classes, width=2):\n    return nn.Linear(2, classes)\n", "make", [
        "make needs classes: pass --arg classes=VALUE"]),
    ("a factory that returns something else", "def make():\n    return 3\n", "make", [
        "make(...) returned a value of type int, not a torch.nn.Module"]),
    ("a constructor that raises", "class Net(nn.Module):\n    def __init__(self):\n        raise RuntimeError('no')\n",
     "Net", ["Net(...) raised RuntimeError: no"]),
]  # fmt: skip


@pytest.mark.parametrize(("case", "body", "name", "expected"), LOADING, ids=[case for case, *_ in LOADING])
def test_loading_problems_are_one_line(
    case: str, body: str, name: str, expected: list[str], tmp_path: Path, torch: Any
):
    path = write_model(tmp_path, body)
    result = run("import", f"{path}:{name}", "--input", "3x8x8")
    assert result.exit_code == 2, result.output
    message = result.stderr.strip()
    assert len(message.splitlines()) == 1
    for part in expected:
        assert part in message


def test_an_unknown_argument_and_a_missing_input_size(torch: Any):
    source = f"{DATA / 'mobilenet_block.py'}:tiny_mobilenet"
    result = run("import", source, "--input", "3x32x32", "--arg", "depth=3")
    assert result.exit_code == 2
    assert "tiny_mobilenet takes no argument 'depth'; it takes: width, num_classes" in result.stderr
    result = run("import", source)
    assert result.exit_code == 2
    assert "a PyTorch module does not record its input size; give --input CxHxW" in result.stderr


def test_a_missing_file_is_one_line(tmp_path: Path):
    result = run("import", f"{tmp_path / 'none.py'}:Net", "--input", "3x8x8")
    assert result.exit_code == 2 and result.stderr.strip() == f"archcalc: error: {tmp_path / 'none.py'}: no such file"


def test_without_torch_the_error_names_the_extra(tmp_path: Path):
    path = tmp_path / "net.py"
    path.write_text("class Net:\n    pass\n")
    code = "import sys; sys.modules['torch'] = None; from archcalc.cli import main; main()"
    result = subprocess.run(
        [sys.executable, "-c", code, "import", f"{path}:Net", "--input", "3x8x8"], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "archcalc: error: this command needs PyTorch: pip install 'archcalc[torch]'"
    ]


def test_the_importer_leaves_no_module_behind(tmp_path: Path, torch: Any):
    path = write_model(tmp_path, "class Net(nn.Module):\n    def forward(self, x):\n        return F.relu(x)\n")
    before = set(sys.modules)
    import_spec(f"{path}:Net", (3, 8, 8))
    assert not {name for name in set(sys.modules) - before if name.startswith("_archcalc_import_")}
    assert str(tmp_path) not in sys.path
