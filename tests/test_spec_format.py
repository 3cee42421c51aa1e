"""The spec format beyond plain layer lists: repeat blocks, input shorthands, other frameworks' field
names, YAML merge keys, YAML 1.2 numbers and the tags archcalc refuses."""

from __future__ import annotations

import math
import re
import time

import pytest

import archcalc
from archcalc.spec import FIELD_HINTS, FIELD_SYNONYMS, MAX_LAYERS, BlockSpec
from archcalc.yamlload import UnsupportedValue, load_yaml

HEADER = "name: t\ninput: {channels: 3, height: 32, width: 32}\nlayers:\n"

RESNET_BLOCK = """\
name: two basic blocks
input: {channels: 64, height: 56, width: 56}
layers:
  - repeat: 2
    name: layer1
    layers:
      - {kind: conv, name: conv1, out_channels: 64, kernel: 3, padding: 1}
      - {kind: batchnorm, name: bn1}
      - {kind: relu, name: relu1}
      - {kind: conv, name: conv2, out_channels: 64, kernel: 3, padding: 1}
      - {kind: batchnorm, name: bn2}
      - {kind: add, name: add, inputs: [bn2, block_input]}
      - {kind: relu, name: relu2}
  - {kind: adaptive_avgpool, output_size: 1}
  - {kind: flatten, inputs: layer1}
"""


def error(text: str, path: str = "net.yaml") -> str:
    with pytest.raises(archcalc.SpecError) as caught:
        archcalc.analyse(archcalc.parse(text, path))
    return str(caught.value)


def names(spec: archcalc.NetworkSpec) -> list[str]:
    return [layer.name for layer in spec.layers]


def wiring(spec: archcalc.NetworkSpec) -> dict[str, tuple[str, ...]]:
    return {layer.name: layer.inputs for layer in spec.layers}


# --- repeat blocks ------------------------------------------------------------------------------


def test_repeat_block_expands_with_prefixed_names_and_block_input():
    spec = archcalc.parse(RESNET_BLOCK)
    assert names(spec) == [
        *(f"layer1.1.{n}" for n in ("conv1", "bn1", "relu1", "conv2", "bn2", "add", "relu2")),
        *(f"layer1.2.{n}" for n in ("conv1", "bn1", "relu1", "conv2", "bn2", "add", "relu2")),
        "adaptive_avgpool1",
        "flatten1",
    ]
    inputs = wiring(spec)
    assert inputs["layer1.1.conv1"] == ("input",)  # the first layer reads block_input
    assert inputs["layer1.1.add"] == ("layer1.1.bn2", "input")
    assert inputs["layer1.2.conv1"] == ("layer1.1.relu2",)
    assert inputs["layer1.2.add"] == ("layer1.2.bn2", "layer1.1.relu2")
    assert inputs["adaptive_avgpool1"] == ("layer1.2.relu2",)  # after the block: its last layer
    assert inputs["flatten1"] == ("layer1.2.relu2",)  # the block by name: its output
    assert spec.blocks == (BlockSpec(name="layer1", repeat=2, first=0, last=13, per_repetition=7, line=4, parent=None),)
    first, last = spec.layers[0], spec.layers[13]
    assert (first.block, first.repetition, first.line) == ("layer1", 1, 7)
    assert (last.block, last.repetition, last.line) == ("layer1", 2, 13)
    assert (spec.layers[14].block, spec.layers[14].repetition) == (None, None)


def test_repeated_block_analyses_like_the_same_layers_written_out():
    repeated = archcalc.analyse(archcalc.parse(RESNET_BLOCK))
    written = ["name: two basic blocks", "input: {channels: 64, height: 56, width: 56}", "layers:"]
    previous = "input"
    for i in (1, 2):
        p = f"layer1.{i}."
        written += [
            f"  - {{kind: conv, name: {p}conv1, out_channels: 64, kernel: 3, padding: 1}}",
            f"  - {{kind: batchnorm, name: {p}bn1}}",
            f"  - {{kind: relu, name: {p}relu1}}",
            f"  - {{kind: conv, name: {p}conv2, out_channels: 64, kernel: 3, padding: 1}}",
            f"  - {{kind: batchnorm, name: {p}bn2}}",
            f"  - {{kind: add, name: {p}add, inputs: [{p}bn2, {previous}]}}",
            f"  - {{kind: relu, name: {p}relu2}}",
        ]
        previous = f"{p}relu2"
    written += ["  - {kind: adaptive_avgpool, output_size: 1}", f"  - {{kind: flatten, inputs: {previous}}}"]
    flat = archcalc.analyse(archcalc.parse("\n".join(written) + "\n"))
    assert repeated.totals == flat.totals
    assert repeated.totals.params == 2 * (2 * (3 * 3 * 64 * 64 + 64) + 2 * 256) == 148_736
    assert [(r.name, r.inputs, r.output_shape) for r in repeated.layers] == [
        (r.name, r.inputs, r.output_shape) for r in flat.layers
    ]


def test_names_with_i_are_used_as_written():
    spec = archcalc.parse(
        HEADER + "  - repeat: 3\n    layers:\n"
        '      - {kind: conv, name: "conv3_{i}", out_channels: 4, kernel: 3, padding: 1}\n'
        '      - {kind: relu, name: "relu3_{i}"}\n'
        "  - {kind: maxpool, name: pool3, kernel: 2}\n"
    )
    assert names(spec) == ["conv3_1", "relu3_1", "conv3_2", "relu3_2", "conv3_3", "relu3_3", "pool3"]
    assert wiring(spec)["conv3_2"] == ("relu3_1",)
    assert spec.blocks == (BlockSpec("block1", 3, 0, 5, 2, 4, None),)


def test_default_names_count_within_a_repetition_and_blocks_count_blocks():
    spec = archcalc.parse(
        HEADER + "  - {kind: relu}\n"
        "  - repeat: 2\n    layers: [{kind: relu}, {kind: relu}]\n"
        "  - {kind: relu}\n"
        "  - repeat: 1\n    layers: [{kind: tanh}]\n"
    )
    assert names(spec) == [
        "relu1",
        "block1.1.relu1",
        "block1.1.relu2",
        "block1.2.relu1",
        "block1.2.relu2",
        "relu2",
        "block2.1.tanh1",
    ]


NESTED = (
    HEADER + "  - {kind: conv, name: stem, out_channels: 8, kernel: 3, padding: 1}\n"
    "  - repeat: 2\n"
    "    name: stage\n"
    "    layers:\n"
    "      - {kind: conv, name: down, out_channels: 8, kernel: 1}\n"
    "      - repeat: 2\n"
    "        name: unit\n"
    "        layers:\n"
    "          - {kind: conv, name: conv, out_channels: 8, kernel: 3, padding: 1}\n"
    "          - {kind: add, name: sum, inputs: [conv, block_input]}\n"
    "      - {kind: add, name: join, inputs: [unit, down, stem]}\n"
    "  - {kind: relu, inputs: stage}\n"
)


def test_nested_blocks_get_both_prefixes():
    spec = archcalc.parse(NESTED)
    assert names(spec) == [
        "stem",
        "stage.1.down",
        "stage.1.unit.1.conv",
        "stage.1.unit.1.sum",
        "stage.1.unit.2.conv",
        "stage.1.unit.2.sum",
        "stage.1.join",
        "stage.2.down",
        "stage.2.unit.1.conv",
        "stage.2.unit.1.sum",
        "stage.2.unit.2.conv",
        "stage.2.unit.2.sum",
        "stage.2.join",
        "relu1",
    ]
    inputs = wiring(spec)
    assert inputs["stage.1.unit.1.sum"] == ("stage.1.unit.1.conv", "stage.1.down")
    assert inputs["stage.1.unit.2.sum"] == ("stage.1.unit.2.conv", "stage.1.unit.1.sum")
    assert inputs["stage.2.down"] == ("stage.1.join",)
    assert inputs["stage.2.join"] == ("stage.2.unit.2.sum", "stage.2.down", "stem")
    assert inputs["relu1"] == ("stage.2.join",)
    assert spec.blocks == (
        BlockSpec("stage", 2, 1, 12, 6, 5, None),
        BlockSpec("stage.1.unit", 2, 2, 5, 2, 9, "stage"),
        BlockSpec("stage.2.unit", 2, 8, 11, 2, 9, "stage"),
    )
    assert (spec.layers[9].block, spec.layers[9].repetition) == ("stage.2.unit", 1)
    assert (spec.layers[12].block, spec.layers[12].repetition) == ("stage", 2)
    assert archcalc.analyse(spec).totals.params == 8 * 9 * 3 + 8 + 2 * (8 * 8 + 8 + 2 * (8 * 9 * 8 + 8))


def test_repetitions_may_read_earlier_layers_by_full_name():
    spec = archcalc.parse(
        HEADER + "  - {kind: relu, name: top}\n"
        "  - repeat: 3\n    name: b\n    layers: [{kind: add, name: s, inputs: [top, block_input]}]\n"
        "  - {kind: add, inputs: [b.1.s, b]}\n"
    )
    assert wiring(spec) == {
        "top": ("input",),
        "b.1.s": ("top", "top"),
        "b.2.s": ("top", "b.1.s"),
        "b.3.s": ("top", "b.2.s"),
        "add1": ("b.1.s", "b.3.s"),
    }


def test_with_params_changes_one_expanded_layer():
    spec = archcalc.parse(RESNET_BLOCK).with_params("layer1.2.conv2", out_channels=32)
    assert spec.layers[10].params["out_channels"] == 32
    assert spec.layers[3].params["out_channels"] == 64
    with pytest.raises(archcalc.SpecError, match="cannot add"):
        archcalc.analyse(spec)


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        (
            "  - repeat: 0\n    name: b\n    layers: [{kind: relu}]\n",
            "net.yaml:4: layer 'b' (repeat block), field 'repeat': "
            "must be a positive integer (how many times to repeat the layers), got 0",
        ),
        (
            "  - repeat: two\n    layers: [{kind: relu}]\n",
            "net.yaml:4: layer 'block1' (repeat block), field 'repeat': "
            "must be a positive integer (how many times to repeat the layers), got 'two'",
        ),
        (
            "  - repeat: 1.5\n    layers: [{kind: relu}]\n",
            "net.yaml:4: layer 'block1' (repeat block), field 'repeat': "
            "must be a positive integer (how many times to repeat the layers), got 1.5",
        ),
        (
            "  - repeat: 2\n    name: b\n    layers: []\n",
            "net.yaml:6: layer 'b' (repeat block), field 'layers': must be a non-empty list of layers, got []",
        ),
        (
            "  - repeat: 2\n    name: b\n",
            "net.yaml:4: layer 'b' (repeat block), field 'layers': missing required field 'layers'",
        ),
        (
            "  - name: b\n    layers: [{kind: relu}]\n",
            "net.yaml:4: layer 'b' (repeat block), field 'repeat': missing required field 'repeat'",
        ),
        (
            "  - repeat: 2\n    name: b\n    layer: [{kind: relu}]\n",
            "net.yaml:6: layer 'b' (repeat block), field 'layer': unknown field 'layer' in a repeat block "
            "(did you mean 'layers'?); allowed: repeat, name, layers",
        ),
        (
            "  - repeat: 2\n    kind: relu\n    layers: [{kind: relu}]\n",
            "net.yaml:5: layer 'block1' (repeat block), field 'kind': unknown field 'kind' in a repeat block "
            "(a layer has 'kind'; a repeat block has 'repeat' and 'layers'); allowed: repeat, name, layers",
        ),
        (
            "  - repeat: 2\n    name: ''\n    layers: [{kind: relu}]\n",
            "net.yaml:5: layer 'block1' (repeat block), field 'name': must be a non-empty string, got ''",
        ),
        (
            "  - repeat: 2\n    name: b\n    layers:\n      - repeat: -1\n        name: u\n        layers: [{kind: relu}]\n",
            "net.yaml:7: layer 'b.1.u' (repeat block), field 'repeat': "
            "must be a positive integer (how many times to repeat the layers), got -1",
        ),
        (
            "  - repeat: 2\n    name: b\n    layers: [{kind: conv, name: c, out_channels: 0, kernel: 3}]\n",
            "net.yaml:6: layer 'b.1.c' (conv), field 'out_channels': must be positive, got 0",
        ),
        (
            "  - repeat: 2\n    name: b\n    layers: [{kind: relu}, 3]\n",
            "net.yaml:6: layer 'b.1.#2': layer 2 of repeat block 'b' must be a mapping with a 'kind', got 3",
        ),
        (
            "  - repeat: 2\n    name: b\n    layers: [{name: r}]\n",
            "net.yaml:6: layer 'b.1.r', field 'kind': missing 'kind'",
        ),
        (  # a shape error in a later repetition names that repetition's layer
            "  - repeat: 6\n    name: b\n    layers: [{kind: conv, name: c, out_channels: 3, kernel: 7}]\n",
            "net.yaml:6: layer 'b.6.c' (conv), field 'kernel': kernel 7 is larger than the padded input height 2",
        ),
        (
            "  - {kind: relu, name: b.1.r}\n  - repeat: 2\n    name: b\n    layers: [{kind: relu, name: r}]\n",
            "net.yaml:7: layer 'b.1.r' (relu), field 'name': duplicate name 'b.1.r' (also used by layer 1)",
        ),
        (
            "  - repeat: 2\n    name: b\n    layers: [{kind: relu, name: 'x{i}'}, {kind: relu, name: 'x{i}'}]\n",
            "net.yaml:6: layer 'x1' (relu), field 'name': duplicate name 'x1' (also used by layer 1)",
        ),
        (
            "  - {kind: relu, name: b}\n  - repeat: 2\n    name: b\n    layers: [{kind: relu}]\n",
            "net.yaml:6: layer 'b' (repeat block), field 'name': duplicate name 'b' (also used by layer 1)",
        ),
        (
            "  - repeat: 2\n    name: b\n    layers: [{kind: relu}]\n  - {kind: relu, name: b}\n",
            "net.yaml:7: layer 'b' (relu), field 'name': duplicate name 'b' (also used by the repeat block on line 4)",
        ),
        (
            "  - repeat: 2\n    name: b\n    layers: [{kind: relu, name: r}, {kind: relu, name: s, inputs: q}]\n",
            "net.yaml:6: layer 'b.1.s' (relu), field 'inputs': no layer named 'q'; "
            "earlier layers: block_input, r, input, b.1.r",
        ),
        (
            "  - repeat: 2\n    name: b\n    layers: [{kind: relu, name: r, inputs: s}, {kind: relu, name: s}]\n",
            "net.yaml:6: layer 'b.1.r' (relu), field 'inputs': 's' is defined later (layer 2 of repeat block 'b') "
            "and would make a cycle: r → s → r; inputs must name earlier layers",
        ),
        (
            "  - repeat: 2\n    name: b\n    layers: [{kind: relu, name: s, inputs: after}]\n"
            "  - {kind: relu, name: after}\n",
            "net.yaml:6: layer 'b.1.s' (relu), field 'inputs': 'after' is defined later (layer 2); "
            "inputs must name earlier layers",
        ),
        (
            "  - repeat: 2\n    name: b\n    layers: [{kind: relu, name: r, inputs: b}]\n",
            "net.yaml:6: layer 'b.1.r' (relu), field 'inputs': "
            "'b' is the repeat block this layer is in: its output comes after this layer",
        ),
        (
            "  - repeat: 2\n    name: b\n    layers: [{kind: relu, name: r, inputs: r}]\n",
            "net.yaml:6: layer 'b.1.r' (relu), field 'inputs': "
            "layer 'b.1.r' cannot take its own output as input (a cycle)",
        ),
        (
            "  - {kind: relu, inputs: block_input}\n",
            "net.yaml:4: layer 'relu1' (relu), field 'inputs': "
            "'block_input' names the input of a repetition: it works only inside a repeat block",
        ),
        (
            "  - repeat: 2\n    layers: [{kind: relu, name: block_input}]\n",
            "net.yaml:5: layer 'block1.1.block_input' (relu), field 'name': "
            "'block_input' is reserved: inside a repeat block it names the input of a repetition",
        ),
    ],
)
def test_bad_repeat_blocks(layers: str, expected: str):
    assert error(HEADER + layers) == expected


def test_a_huge_repeat_is_refused_before_expanding():
    started = time.perf_counter()
    message = error(HEADER + "  - repeat: 1000000000\n    name: big\n    layers: [{kind: relu}, {kind: relu}]\n")
    assert time.perf_counter() - started < 1
    assert message == (
        "net.yaml:4: layer 'big' (repeat block), field 'repeat': "
        "expands to 2,000,000,000 layers (1,000,000,000 repetitions); the limit is 1,000,000"
    )


def test_the_layer_limit_counts_nested_blocks_and_the_layers_around_them():
    nested = "  - repeat: 1000\n    name: a\n    layers:\n      - repeat: 1001\n        layers: [{kind: relu}]\n"
    assert error(HEADER + nested) == (
        "net.yaml:4: layer 'a' (repeat block), field 'repeat': "
        "expands to 1,001,000 layers (1,000 repetitions); the limit is 1,000,000"
    )
    around = "  - {kind: relu}\n  - repeat: 1000000\n    name: a\n    layers: [{kind: relu}]\n"
    assert error(HEADER + around) == (
        "net.yaml:5: layer 'a' (repeat block), field 'repeat': "
        "expands to 1,000,000 layers (1,000,000 repetitions), 1,000,001 with the layers before it; "
        "the limit is 1,000,000"
    )
    assert MAX_LAYERS == 1_000_000


def test_blocks_that_share_their_lists_are_counted_without_walking_them_all():
    # Python data may share one list between blocks: 2^25 layers in 25 levels, refused at once.
    layers: list = [{"kind": "relu"}]
    for _ in range(25):
        layers = [{"repeat": 1, "layers": layers}, {"repeat": 1, "layers": layers}]
    doc = {"name": "x", "input": [3, 8, 8], "layers": layers}
    started = time.perf_counter()
    with pytest.raises(archcalc.SpecError) as caught:
        archcalc.from_mapping(doc)
    assert str(caught.value) == (
        "<spec>: layer 'block1.1.block1.1.block1.1.block1.1.block1.1.block2' (repeat block), field 'repeat': "
        "expands to 524,288 layers (1 repetition), 1,048,576 with the layers before it; the limit is 1,000,000"
    )
    assert time.perf_counter() - started < 1


def test_a_block_that_contains_itself_is_refused():
    block: dict = {"repeat": 1, "name": "b"}
    block["layers"] = [{"kind": "relu"}, block]
    with pytest.raises(archcalc.SpecError, match="nested too deeply"):
        archcalc.from_mapping({"name": "x", "input": [3, 8, 8], "layers": [block]})


# --- input shorthands -----------------------------------------------------------------------------


@pytest.mark.parametrize("text", ["[3, 224, 200]", "3x224x200", "3×224×200", "3 x 224 x 200", "3X224X200"])
def test_input_shorthands(text: str):
    spec = archcalc.parse(f"name: t\ninput: {text}\nlayers: [{{kind: relu}}]\n")
    assert spec.input_shape == (3, 224, 200)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[3, 0, 224]", "net.yaml:2: field 'input.height': must be a positive integer, got 0"),
        ("[3, 224, true]", "net.yaml:2: field 'input.width': must be a positive integer, got True"),
        (
            "[3, 224]",
            "net.yaml:2: field 'input': must be three positive integers [channels, height, width], got 2 values",
        ),
        ("0x224x224", "net.yaml:2: field 'input.channels': must be a positive integer, got 0"),
        (
            "3x224",
            "net.yaml:2: field 'input': must be a mapping with channels, height and width, "
            "a list [channels, height, width] or a string like 3x224x224, got '3x224'",
        ),
        (
            "224",
            "net.yaml:2: field 'input': must be a mapping with channels, height and width, "
            "a list [channels, height, width] or a string like 3x224x224, got 224",
        ),
    ],
)
def test_bad_input_shorthands(text: str, expected: str):
    assert error(f"name: t\ninput: {text}\nlayers: [{{kind: relu}}]\n") == expected


# --- other frameworks' names ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "field", "canonical"),
    [
        ("{kind: conv, kernel: 3, filters: 8}", "filters", "out_channels"),
        ("{kind: conv, out_channels: 8, kernel_size: 3}", "kernel_size", "kernel"),
        ("{kind: conv, out_channels: 8, kernel: 3, strides: 2}", "strides", "stride"),
        ("{kind: conv, out_channels: 8, kernel: 3, use_bias: false}", "use_bias", "bias"),
        ("{kind: conv, out_channels: 8, kernel: 3, dilation_rate: 2}", "dilation_rate", "dilation"),
        ("{kind: maxpool, pool_size: 2}", "pool_size", "kernel"),
        ("{kind: dropout, rate: 0.3}", "rate", "p"),
        ("{kind: batchnorm, epsilon: 0.001}", "epsilon", "eps"),
    ],
)
def test_other_frameworks_field_names_get_a_pointed_hint(layer: str, field: str, canonical: str):
    message = error(HEADER + f"  - {layer}\n")
    kind = layer.split(",")[0].removeprefix("{kind: ")
    assert (
        f"field '{field}': unknown field '{field}' for kind '{kind}': archcalc calls it '{canonical}'; allowed: "
        in message
    )


def test_units_on_a_linear_layer():
    message = error(HEADER + "  - {kind: flatten}\n  - {kind: linear, name: fc, units: 10}\n")
    assert message.startswith(
        "net.yaml:5: layer 'fc' (linear), field 'units': unknown field 'units' for kind 'linear': "
        "archcalc calls it 'out_features'; allowed: kind, name, inputs, out_features, bias"
    )


def test_the_hint_is_given_only_where_the_kind_has_the_field():
    message = error(HEADER + "  - {kind: conv, name: c1, out_channels: 8, kernel: 3, rate: 0.5}\n")
    assert "unknown field 'rate' for kind 'conv'; allowed: kind, name, inputs, out_channels" in message
    assert "calls it" not in message
    message = error(HEADER + "  - {kind: relu, units: 3}\n")
    assert "unknown field 'units' for kind 'relu'; allowed: kind, name, inputs" in message


def test_activation_points_at_an_activation_layer():
    message = error(HEADER + "  - {kind: conv, name: c1, out_channels: 8, kernel: 3, activation: relu}\n")
    assert message.startswith(
        "net.yaml:4: layer 'c1' (conv), field 'activation': unknown field 'activation' for kind 'conv': "
        "add an activation layer (e.g. {kind: relu}) after this one; allowed: kind, name, inputs, out_channels"
    )


def test_declared_input_sizes_are_not_synonyms():
    for name in ("in_features", "in_channels"):
        assert name not in FIELD_SYNONYMS and name not in FIELD_HINTS
    assert FIELD_SYNONYMS["filters"] == "out_channels"


# --- YAML: merge keys -----------------------------------------------------------------------------

MERGED = """\
name: merged
input: 3x32x32
defaults:
layers:
  - &conv3 {kind: conv, out_channels: 16, kernel: 3, padding: 1}
  - {<<: *conv3, name: wide, out_channels: 32}
  - &act {kind: relu, name: act}
  - <<: [*conv3, *act]
    name: c3
"""


def test_merge_keys_in_a_spec():
    spec = archcalc.parse(MERGED.replace("defaults:\n", ""))
    assert [(layer.name, layer.kind) for layer in spec.layers] == [
        ("conv1", "conv"),
        ("wide", "conv"),
        ("act", "relu"),
        ("c3", "conv"),  # of two merged mappings, the first wins
    ]
    assert spec.layers[1].params["out_channels"] == 32  # explicit keys override merged ones
    assert spec.layers[1].params["kernel"] == (3, 3)
    assert spec.layers[3].params["out_channels"] == 16


def test_merged_keys_keep_the_line_of_the_anchors_key():
    doc = load_yaml("base: &b\n  x: 1\n  y: 2\nuse:\n  z: 0\n  <<: *b\n  y: 3\n")
    assert doc["use"] == {"z": 0, "x": 1, "y": 3}
    assert list(doc["use"]) == ["z", "x", "y"]
    assert doc["use"].key_lines == {"z": 5, "x": 2, "y": 7}
    # so an error in a merged field points at the anchor's line
    message = error(
        "name: t\ninput: 3x8x8\nlayers:\n  - &c {kind: conv, out_channels: 0, kernel: 1}\n  - {<<: *c, name: c2}\n"
    )
    assert message == "net.yaml:4: layer 'conv1' (conv), field 'out_channels': must be positive, got 0"


def test_merge_key_errors():
    assert error(HEADER + "  - {kind: relu}\n  - <<: 3\n    kind: relu\n") == (
        "net.yaml:5: a merge key ('<<') takes a mapping or a list of mappings (e.g. <<: *defaults)"
    )
    assert error(HEADER + "  - <<: {kind: relu}\n    <<: {name: x}\n") == "net.yaml:5: duplicate key '<<'"


def test_a_quoted_merge_key_is_a_plain_key():
    assert load_yaml('a: {"<<": {x: 1}}\n') == {"a": {"<<": {"x": 1}}}


def test_merge_keys_keep_the_alias_bound():
    lines = ["a0: &a0 {k0: x, k1: x, k2: x, k3: x, k4: x, k5: x, k6: x, k7: x, k8: x, k9: x}"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"{{<<: *a{i - 1}}}"] * 10) + "]" for i in range(1, 10)]
    started = time.perf_counter()
    assert "expands to more than 500,000 values" in error("\n".join(lines) + "\n")
    assert time.perf_counter() - started < 5


# --- YAML 1.2 numbers, booleans and strings ---------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("1e-5", 1e-5),
        ("1E5", 100000.0),
        (".5", 0.5),
        ("-1.5e+3", -1500.0),
        ("1.", 1.0),
        ("010", 10),
        ("-007", -7),
        ("0o17", 15),
        ("0x1F", 31),
        ("1_000", "1_000"),
        ("1:20", "1:20"),
        ("0b101", "0b101"),
        ("+12", 12),
        ("true", True),
        ("True", True),
        ("TRUE", True),
        ("false", False),
        ("FALSE", False),
        ("tRUE", "tRUE"),
        ("yes", "yes"),
        ("no", "no"),
        ("on", "on"),
        ("off", "off"),
        ("y", "y"),
        ("null", None),
        ("Null", None),
        ("~", None),
        ("", None),
        ("2024-01-01", "2024-01-01"),
        ("'010'", "010"),
        ("!!str 12", "12"),
        ("!!int 0x1F", 31),
        ("!!float 3", 3.0),
        ("! 12", "12"),
    ],
)
def test_yaml_1_2_core_schema(text: str, value: object):
    loaded = load_yaml(f"v: {text}\n")["v"]
    assert loaded == value and type(loaded) is type(value)


def test_infinity_and_nan_are_floats():
    loaded = load_yaml("v: [.inf, -.Inf, +.INF, .nan, .NaN]\n")["v"]
    assert loaded[:3] == [math.inf, -math.inf, math.inf]
    assert all(math.isnan(v) for v in loaded[3:])


def test_yaml_1_2_numbers_in_fields():
    spec = archcalc.parse(
        HEADER + "  - {kind: batchnorm, eps: 1e-3, momentum: .5}\n  - {kind: conv, out_channels: 010, kernel: 0x3}\n"
    )
    assert spec.layers[0].params["eps"] == 0.001 and spec.layers[0].params["momentum"] == 0.5
    assert spec.layers[1].params["out_channels"] == 10 and spec.layers[1].params["kernel"] == (3, 3)
    assert error(HEADER + "  - {kind: conv, name: c1, out_channels: 8, kernel: 3, bias: yes}\n") == (
        "net.yaml:4: layer 'c1' (conv), field 'bias': must be true or false, got the string 'yes'"
    )
    assert error(HEADER + "  - {kind: conv, name: c1, out_channels: 1_000, kernel: 3}\n") == (
        "net.yaml:4: layer 'c1' (conv), field 'out_channels': must be an integer, got the string '1_000'"
    )


def test_a_date_is_a_valid_name():
    spec = archcalc.parse(HEADER + "  - {kind: relu, name: 2024-01-01}\n")
    assert spec.layers[0].name == "2024-01-01"


def test_an_integer_with_too_many_digits_is_refused_where_used():
    message = error(HEADER + "  - {kind: conv, name: c1, kernel: 3, out_channels: " + "9" * 5000 + "}\n")
    assert message.startswith("net.yaml:4: layer 'c1' (conv), field 'out_channels': the number 9999")
    assert message.endswith("has too many digits")


# --- YAML tags archcalc does not read -------------------------------------------------------------

UNSUPPORTED = "specs hold plain numbers, strings, booleans, lists and mappings"


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        (
            "  - kind: conv\n    name: c1\n    kernel: 3\n    out_channels: !!binary aGVsbG8=\n",
            "net.yaml:7: layer 'c1' (conv), field 'out_channels': unsupported YAML tag '!!binary'",
        ),
        (
            "  - kind: relu\n    name: !!python/name:os.system\n",
            "net.yaml:5: layer '#1' (relu), field 'name': unsupported YAML tag '!!python/name:os.system'",
        ),
        (
            "  - {kind: conv, name: c1, out_channels: 3, kernel: !!set {3}}\n",
            "net.yaml:4: layer 'c1' (conv), field 'kernel': unsupported YAML tag '!!set'",
        ),
        (
            "  - {kind: conv, name: c1, out_channels: 3, kernel: [3, !odd 3]}\n",
            "net.yaml:4: layer 'c1' (conv), field 'kernel': unsupported YAML tag '!odd'",
        ),
        (
            "  - {kind: relu, name: r, inputs: [!!timestamp 2024-01-01]}\n",
            "net.yaml:4: layer 'r' (relu), field 'inputs': unsupported YAML tag '!!timestamp'",
        ),
        (
            "  - {kind: !custom relu, name: r}\n",
            "net.yaml:4: layer 'r', field 'kind': unsupported YAML tag '!custom'",
        ),
        (
            "  - !!python/object/apply:os.system ['echo hacked']\n",
            "net.yaml:4: layer '#1': unsupported YAML tag '!!python/object/apply:os.system'",
        ),
        (
            "  - repeat: !!int two\n    name: b\n    layers: [{kind: relu}]\n",
            "net.yaml:4: layer 'b' (repeat block), field 'repeat': 'two' is not an integer (it is tagged !!int)",
        ),
        (
            "  - repeat: 2\n    name: b\n    layers: [{kind: relu, name: r, inputs: !ref x}]\n",
            "net.yaml:6: layer 'b.1.r' (relu), field 'inputs': unsupported YAML tag '!ref'",
        ),
        (
            "  - {kind: relu}\n  - <<: !!omap [{kind: relu}]\n    name: r\n",
            "net.yaml:5: layer '#2': unsupported YAML tag '!!omap'",
        ),
    ],
)
def test_unsupported_tags_are_refused_where_they_are_used(layers: str, expected: str):
    message = error(HEADER + layers)
    assert message.startswith(expected), message


def test_unsupported_tags_at_the_top_level():
    assert error("name: t\ninput: !!python/tuple [3, 8, 8]\nlayers: [{kind: relu}]\n") == (
        f"net.yaml:2: field 'input': unsupported YAML tag '!!python/tuple': {UNSUPPORTED}"
    )
    assert error("!!set {name, layers}\n") == f"net.yaml:1: unsupported YAML tag '!!set': {UNSUPPORTED}"
    assert error("--- !spec\nname: t\n") == f"net.yaml:1: unsupported YAML tag '!spec': {UNSUPPORTED}"


def test_nothing_is_constructed_from_a_tag(tmp_path):
    marker = tmp_path / "ran"
    doc = load_yaml(
        f"a: !!python/object/apply:os.system ['touch {marker}']\n"
        f"b: !!python/object/new:os.system {{args: ['touch {marker}']}}\n"
        "c: !!python/name:os.system\n"
        "d: &x !!set {a: null}\n"
        "e: *x\n"
    )
    assert not marker.exists()
    assert all(isinstance(doc[key], UnsupportedValue) for key in "abcde")
    assert (doc["a"].tag, doc["a"].line) == ("tag:yaml.org,2002:python/object/apply:os.system", 1)
    assert doc["e"] is doc["d"]


# --- the README's examples ------------------------------------------------------------------------


def readme_example(heading: str) -> str:
    from .conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    return re.search(rf"### {heading}\n.*?```yaml\n(.*?)```", readme, re.S).group(1)


def test_readme_repeat_example():
    result = archcalc.analyse(archcalc.parse(readme_example("Repeat blocks")))
    assert result.totals.params == 9_472
    assert result["layer1.2.add"].inputs == ("layer1.2.bn2", "layer1.1.relu2")
    assert result["pool"].inputs == ("layer1.2.relu2",)


def test_readme_merge_key_example():
    result = archcalc.analyse(archcalc.parse(readme_example("YAML anchors and merge keys")))
    assert [(layer.name, layer.params) for layer in result.layers] == [
        ("conv1", 448),
        ("conv2", 2_320),
        ("conv3", 4_640),
    ]


def test_aliases_cannot_nest_blocks_past_the_limit():
    # Each alias nests the blocks one level deeper than the text does.
    lines = ["name: x", "input: 3x8x8", "layers:", "  - repeat: 1", "    name: b0", "    layers: &l0 [{kind: relu}]"]
    for i in range(1, 60):
        lines += ["  - repeat: 1", f"    name: b{i}", f"    layers: &l{i} [{{repeat: 1, layers: *l{i - 1}}}]"]
    assert error("\n".join(lines) + "\n") == (
        "net.yaml:102: layer 'b32.1.block1' (repeat block), field 'layers': "
        "repeat blocks are nested too deeply (more than 32 levels)"
    )


def test_default_names_of_kinds_ending_in_a_digit_do_not_read_as_other_indices():
    spec = archcalc.parse(
        "name: x\ninput: [3, 8, 8]\nlayers:\n  - {kind: relu6}\n  - {kind: relu6}\n  - {kind: relu}\n"
    )
    assert [layer.name for layer in spec.layers] == ["relu6_1", "relu6_2", "relu1"]
