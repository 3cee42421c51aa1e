"""Runs of identical blocks become repeat blocks, only where the rewrite expands to the same layers."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import archcalc
from archcalc.importers.builder import SpecBuilder
from archcalc.importers.repeats import find_repeats
from archcalc.kinds import KINDS
from archcalc.specwriter import spec_yaml


def _plain(value: Any) -> Any:
    return [_plain(v) for v in value] if isinstance(value, (list, tuple)) else value


def flat_layers(spec: archcalc.NetworkSpec) -> list[dict[str, Any]]:
    """A spec's expanded layers as an importer writes them: `inputs` only where a layer does not
    read the one before it (or merges)."""
    layers, previous = [], "input"
    for layer in spec.layers:
        mapping: dict[str, Any] = {"kind": layer.kind, "name": layer.name}
        if list(layer.inputs) != [previous] or KINDS[layer.kind].merges:
            mapping["inputs"] = list(layer.inputs) if len(layer.inputs) > 1 else layer.inputs[0]
        mapping.update({k: _plain(v) for k, v in layer.params.items() if v is not None})
        layers.append(mapping)
        previous = layer.name
    return layers


def expand(layers: list[dict[str, Any]], input_shape: Any = (3, 224, 224)) -> archcalc.NetworkSpec:
    return archcalc.from_mapping({"name": "n", "input": list(input_shape), "layers": layers})


def blocks(layers: list[dict[str, Any]]) -> list[tuple[str, int, int]]:
    """(name, repeat, layers per repetition) of each repeat block written."""
    return [(entry["name"], entry["repeat"], len(entry["layers"])) for entry in layers if "repeat" in entry]


def same_analysis(flat: list[dict[str, Any]], rewritten: list[dict[str, Any]], input_shape: Any) -> None:
    def rows(layers: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
        result = archcalc.analyse(expand(layers, input_shape))
        return [
            (r.name, r.kind, r.inputs, r.output_shape, r.params, r.macs, dict(r.params_spec)) for r in result.layers
        ]

    assert rows(rewritten) == rows(flat)


# --- ResNets as torchvision names them ------------------------------------------------------------


def test_resnet18_keeps_its_stages_flat_because_torchvision_counts_blocks_from_0():
    # layer1.0 and layer1.1 are the same block, but a repeat block numbers its repetitions from 1:
    # no block expands to layer1.0.*, so the run stays flat; layer2-4 have one plain block each.
    flat = flat_layers(archcalc.load("resnet18"))
    assert [layer["name"] for layer in flat[4:11]] == [f"layer1.0.{n}" for n in ("conv1", "bn1", "relu1", "conv2", "bn2", "add", "relu2")]  # fmt: skip
    assert find_repeats(flat) == flat


def basic_block(stage: int, block: int, channels: int, reads: str, project: bool) -> list[dict[str, Any]]:
    """torchvision's BasicBlock, named as resnet18.yaml names it (relu1, add, relu2)."""
    p, stride = f"layer{stage}.{block}.", 2 if project else 1
    conv = {"kind": "conv", "out_channels": channels, "kernel": 3, "padding": 1, "bias": False}
    layers = [
        {**conv, "name": p + "conv1", "stride": stride},
        {"kind": "batchnorm", "name": p + "bn1"},
        {"kind": "relu", "name": p + "relu1"},
        {**conv, "name": p + "conv2"},
        {"kind": "batchnorm", "name": p + "bn2"},
    ]
    shortcut = reads
    if project:
        layers += [
            {"kind": "conv", "name": p + "downsample.0", "inputs": reads, "out_channels": channels, "kernel": 1,
             "stride": stride, "bias": False},
            {"kind": "batchnorm", "name": p + "downsample.1"},
        ]  # fmt: skip
        shortcut = p + "downsample.1"
    return layers + [
        {"kind": "add", "name": p + "add", "inputs": [p + "bn2", shortcut]},
        {"kind": "relu", "name": p + "relu2"},
    ]


def resnet34() -> list[dict[str, Any]]:
    """torchvision.models.resnet34 as a flat list: stages of 3, 4, 6 and 3 basic blocks."""
    layers = [
        {"kind": "conv", "name": "conv1", "out_channels": 64, "kernel": 7, "stride": 2, "padding": 3, "bias": False},
        {"kind": "batchnorm", "name": "bn1"},
        {"kind": "relu", "name": "relu"},
        {"kind": "maxpool", "name": "maxpool", "kernel": 3, "stride": 2, "padding": 1},
    ]
    for stage, (count, channels) in enumerate([(3, 64), (4, 128), (6, 256), (3, 512)], start=1):
        for block in range(count):
            layers += basic_block(stage, block, channels, layers[-1]["name"], project=stage > 1 and block == 0)
    return layers + [
        {"kind": "adaptive_avgpool", "name": "avgpool", "output_size": 1},
        {"kind": "flatten", "name": "flatten"},
        {"kind": "linear", "name": "fc", "out_features": 1000},
    ]


def test_resnet34_stages_become_repeat_blocks_from_their_second_block():
    flat = resnet34()
    rewritten = find_repeats(flat)
    # layerN.0 stays written out (it is numbered 0; in layers 2-4 it also projects); the rest of
    # each stage, layerN.1 …, is one block named as torchvision names the stage
    assert blocks(rewritten) == [("layer1", 2, 7), ("layer2", 3, 7), ("layer3", 5, 7), ("layer4", 2, 7)]
    stage3 = next(entry for entry in rewritten if entry.get("name") == "layer3")
    assert [layer["name"] for layer in stage3["layers"]] == ["conv1", "bn1", "relu1", "conv2", "bn2", "add", "relu2"]
    assert stage3["layers"][5]["inputs"] == ["bn2", "block_input"]
    assert len(rewritten) == 4 + (7 + 1) + 3 * (9 + 1) + 3  # stem, layer1.0 and a block, layer2-4.0 and blocks, head
    spec = expand(rewritten)
    assert [layer.name for layer in spec.layers] == [layer["name"] for layer in flat]
    result = archcalc.analyse(spec)
    assert result.totals.trainable_params == 21_797_672  # torchvision's documented resnet34 count
    assert result["layer3.5.relu2"].output_shape == (256, 14, 14)
    same_analysis(flat, rewritten, (3, 224, 224))


# --- the bundled zoo, flattened and found again ---------------------------------------------------


@pytest.mark.parametrize("spec_name", archcalc.bundled_names())
def test_every_bundled_spec_flattened_expands_the_same_after_find_repeats(spec_name: str):
    spec = archcalc.load(spec_name)
    flat = flat_layers(spec)
    same_analysis(flat, find_repeats(flat), spec.input_shape)


@pytest.mark.parametrize("spec_name", ["resnet50", "densenet121", "mobilenet_v2", "vgg11", "vgg19"])
def test_the_hand_written_repeat_blocks_are_found_again(spec_name: str):
    spec = archcalc.load(spec_name)
    found = expand(find_repeats(flat_layers(spec)), spec.input_shape)
    written = [(b.first, b.last, b.repeat) for b in spec.blocks if b.repeat > 1]
    assert [(b.first, b.last, b.repeat) for b in found.blocks] == written


def test_block_names_follow_the_source():
    def found(name: str) -> list[tuple[str, int, int]]:
        return blocks(find_repeats(flat_layers(archcalc.load(name))))

    assert found("resnet50") == [("layer1", 2, 10), ("layer2", 3, 10), ("layer3", 5, 10), ("layer4", 2, 10)]
    densenet = find_repeats(flat_layers(archcalc.load("densenet121")))
    assert blocks(densenet)[0] == ("features.denseblock1", 6, 7)
    dense_layer = next(entry for entry in densenet if "repeat" in entry)["layers"]
    assert dense_layer[0]["name"] == "features.denseblock1.denselayer{i}.norm1"
    assert dense_layer[-1]["inputs"] == ["block_input", "features.denseblock1.denselayer{i}.conv2"]
    assert found("vgg16") == [("conv1", 2, 2), ("conv2", 2, 2), ("conv3", 3, 2), ("conv4", 3, 2), ("conv5", 3, 2)]


# --- where a rewrite is not exact, nothing changes --------------------------------------------------


def chain(names: list[str], **fields: Any) -> list[dict[str, Any]]:
    return [{"kind": "conv", "name": n, "out_channels": 4, "kernel": 3, "padding": 1, **fields} for n in names]


def test_names_decide_the_numbering():
    assert blocks(find_repeats(chain(["c1", "c2", "c3"]))) == [("c", 3, 1)]
    assert find_repeats(chain(["c0", "c1"])) == chain(["c0", "c1"])  # from 0: no block names c0
    assert find_repeats(chain(["c1", "c3"])) == chain(["c1", "c3"])  # not consecutive
    assert find_repeats(chain(["a1", "b2"])) == chain(["a1", "b2"])
    assert find_repeats(chain(["c01", "c02"])) == chain(["c01", "c02"])  # '01' is not the number 1
    rewritten = find_repeats(chain(["x.1.c", "x.2.c", "x.3.c", "x.5.c"]))
    assert blocks(rewritten) == [("x", 3, 1)] and rewritten[-1]["name"] == "x.5.c"


def test_a_difference_in_one_repetition_ends_the_run_there():
    layers = chain(["c1", "c2", "c3", "c4"])
    layers[2]["bias"] = False
    assert blocks(find_repeats(layers)) == [("c", 2, 1)]
    layers = chain(["c1", "c2", "c3"])
    layers[1]["out_channels"] = 4.0  # equal as numbers, but not the same field as written
    assert find_repeats(layers) == layers


def test_a_block_reading_outside_its_repetition_stays_flat():
    def stage(second_input: Any) -> list[dict[str, Any]]:
        layers = []
        for r in (0, 1, 2):
            layers.append({"kind": "conv", "name": f"b.{r}.conv", "out_channels": 4, "kernel": 1})
            layers.append({"kind": "add", "name": f"b.{r}.add", "inputs": [f"b.{r}.conv", second_input(r)]})
        return layers

    # b.1 and b.2 are alike, each adding the conv of the repetition before: not its block_input
    previous = stage(lambda r: f"b.{r - 1}.conv" if r else "input")
    assert find_repeats(previous) == previous
    # each adding the network input: a fixed layer outside the block, which it cannot name exactly
    fixed = stage(lambda r: "input")
    assert find_repeats(fixed) == fixed
    # each adding its own block_input: a repeat block
    own = stage(lambda r: f"b.{r - 1}.add" if r else "input")
    assert blocks(find_repeats(own)) == [("b", 2, 2)]
    same_analysis(own, find_repeats(own), (4, 5, 5))


def test_a_taken_block_name_is_not_reused():
    layers = chain(["layer1", "layer1.1.c", "layer1.2.c"])
    rewritten = find_repeats(layers)
    assert blocks(rewritten) == [("layer1_2", 2, 1)]
    assert rewritten[1]["layers"][0]["name"] == "layer1.{i}.c"
    assert [layer.name for layer in expand(rewritten).layers] == ["layer1", "layer1.1.c", "layer1.2.c"]
    referenced = chain(["x.1.c", "x.2.c"]) + [{"kind": "add", "name": "sum", "inputs": ["x.2.c", "x"]}]
    assert blocks(find_repeats(referenced)) == [("x_2", 2, 1)]  # 'x' would make a wrong input resolve


def test_lists_that_cannot_be_checked_come_back_unchanged():
    unnamed = chain(["c1", "c2"]) + [{"kind": "relu"}]
    assert find_repeats(unnamed) == unnamed  # its default name counts the layers before it
    twice = chain(["c1", "c2", "c1"])
    assert find_repeats(twice) == twice
    written = find_repeats(chain(["c1", "c2"]))
    assert find_repeats(written) == written
    braces = chain(["c{i}1", "c{i}2"])
    assert find_repeats(braces) == braces


def test_the_builder_writes_repeat_blocks():
    builder = SpecBuilder("two blocks", "test", (8, 16, 16))
    builder.add("conv", "stem", out_channels=8, kernel=3, padding=1)
    for r in (1, 2):
        block_input = builder.last
        builder.add("conv", f"stage.{r}.conv", out_channels=8, kernel=3, padding=1, bias=False)
        builder.add("batchnorm", f"stage.{r}.bn")
        builder.producers[block_input] = block_input
        builder.add("add", f"stage.{r}.add", inputs=[f"stage.{r}.bn", block_input])
    doc = builder.mapping()
    assert blocks(doc["layers"]) == [("stage", 2, 3)]
    assert len(builder.doc["layers"]) == 7  # the builder's own list stays flat
    text = spec_yaml(doc)
    assert "- repeat: 2\n    name: stage\n" in text
    result = archcalc.analyse(archcalc.parse(text))
    assert [r.name for r in result.layers][-3:] == ["stage.2.conv", "stage.2.bn", "stage.2.add"]
    assert result["stage.2.add"].inputs == ("stage.2.bn", "stage.1.add")
    assert result.totals.trainable_params == (9 * 8 * 8 + 8) + 2 * (9 * 8 * 8 + 2 * 8)


def test_ten_thousand_layers_are_one_block():
    block = [("conv", {"out_channels": 4, "kernel": 1}), ("relu", {})] * 5
    layers = [
        {"kind": kind, "name": f"s.{r}.{kind}{q}", **fields}
        for r in range(1, 1001)
        for q, (kind, fields) in enumerate(block)
    ]
    assert blocks(find_repeats(layers)) == [("s", 1000, 10)]
    # every v<n>.1 has a v<n>.2 a third of the list on, alike up to the last: each start is a
    # candidate that fails late, which a budget of comparisons keeps linear
    names = (
        [f"v{2 * n}.1" for n in range(3333)] + [f"v{2 * n}.2" for n in range(3333)] + [f"w{2 * n}" for n in range(3334)]
    )
    adversarial = [{"kind": "relu", "name": n} for n in names]
    adversarial[3333 * 2 - 1]["kind"] = "sigmoid"
    assert find_repeats(adversarial) == adversarial


# --- the property: any flat list, rewritten, analyses the same -------------------------------------

STYLES = {
    # style: (name of layer `short` in repetition r (from 1) of block g, whether a run of k is expressible)
    "prefix": (lambda g, r, short: f"layer{g}.{r}.{short}", lambda k: k >= 2),
    "torchvision": (lambda g, r, short: f"layer{g}.{r - 1}.{short}", lambda k: k >= 3),
    "keras": (lambda g, r, short: f"conv{g}_block{r}_{short}", lambda k: k >= 2),
    "vgg": (lambda g, r, short: f"{short}_{g}_{r}", lambda k: k >= 2),
    "onnx": (lambda g, r, short: f"/layer{g}/layer{g}.{r - 1}/{short}/Op", lambda k: k >= 3),
}


@st.composite
def block_template(draw: st.DrawFn, channels: int) -> list[dict[str, Any]]:
    """One block's layers, shape-preserving, inputs as positions in the block (-1: block_input)."""
    layers: list[dict[str, Any]] = []
    wide: set[int] = set()  # positions whose output has 2·channels (after a concat)
    for q in range(draw(st.integers(1, 6))):
        same = [p for p in range(-1, q) if p not in wide]
        previous_wide = q - 1 in wide
        kind = "conv" if previous_wide else draw(st.sampled_from(["conv", "batchnorm", "relu", "add", "concat"]))
        if kind == "conv":
            kernel = draw(st.sampled_from([1, 3]))
            reads = q - 1 if previous_wide else draw(st.sampled_from([q - 1, *same]))
            layer = {"kind": "conv", "out_channels": channels, "kernel": kernel, "padding": kernel // 2,
                     "bias": draw(st.booleans()), "reads": [reads]}  # fmt: skip
        elif kind in ("add", "concat"):
            pair = draw(st.lists(st.sampled_from(same), min_size=2, max_size=2))
            layer = {"kind": kind, "reads": pair}
            if kind == "concat":
                wide.add(q)
        else:
            layer = {"kind": kind, "reads": [q - 1]}
        layers.append(layer)
    if len(layers) - 1 in wide:
        layers.append({"kind": "conv", "out_channels": channels, "kernel": 1, "reads": [len(layers) - 1]})
    return layers


@st.composite
def flat_networks(draw: st.DrawFn) -> tuple[list[dict[str, Any]], tuple[int, int, int], bool]:
    """A flat layer list of repeated blocks (some with one repetition changed) and single layers;
    whether one of its runs can certainly be written as a repeat block."""
    channels = draw(st.integers(1, 3))
    layers: list[dict[str, Any]] = []
    expressible = False
    for g in range(1, draw(st.integers(1, 4)) + 1):
        if draw(st.booleans()):
            kind = draw(st.sampled_from(["relu", "batchnorm", "identity"]))
            layers.append({"kind": kind, "name": draw(st.sampled_from([f"single{g}", f"{kind}{g}", f"s.{g}.x"]))})
            continue
        template = draw(block_template(channels))
        style = draw(st.sampled_from(sorted(STYLES)))
        name_of, can_write = STYLES[style]
        repeat = draw(st.integers(1, 4))
        changed = draw(st.none() | st.integers(1, repeat))  # one repetition with a field changed
        start = len(layers)
        for r in range(1, repeat + 1):
            offset = start + (r - 1) * len(template)
            names = [name_of(g, r, f"{t['kind']}{q}") for q, t in enumerate(template)]
            for q, t in enumerate(template):
                layer = {"kind": t["kind"], "name": names[q]}
                reads = [
                    names[p] if p >= 0 else (layers[offset - 1]["name"] if offset else "input") for p in t["reads"]
                ]
                if reads != [layers[-1]["name"] if layers else "input"] or KINDS[t["kind"]].merges:
                    layer["inputs"] = reads
                layer.update({k: v for k, v in t.items() if k not in ("kind", "reads")})
                if r == changed and q == len(template) - 1:
                    layer["kind"] = {"relu": "relu6", "relu6": "relu"}.get(layer["kind"], layer["kind"])
                    if layer["kind"] == "conv":
                        layer["bias"] = not layer.get("bias", True)
                    elif layer["kind"] == "batchnorm":
                        layer["eps"] = 1e-3
                layers.append(layer)
        expressible |= changed is None and can_write(repeat)
    if not layers:
        layers.append({"kind": "relu", "name": "only"})
    return layers, (channels, 6, 6), expressible


@settings(max_examples=200)
@given(flat_networks())
def test_find_repeats_never_changes_the_analysis(network):
    flat, input_shape, expressible = network
    rewritten = find_repeats(flat)
    same_analysis(flat, rewritten, input_shape)
    if expressible:
        assert blocks(rewritten)
    assert find_repeats(rewritten) == rewritten


@given(st.lists(st.text(alphabet="ab12._{}i", min_size=1, max_size=6), min_size=1, max_size=12, unique=True))
def test_any_names_either_rewrite_exactly_or_stay(names):
    names = [n for n in names if n not in ("input", "block_input")] or ["x"]
    flat = [{"kind": "relu", "name": n} for n in names]
    same_analysis(flat, find_repeats(flat), (1, 2, 2))
