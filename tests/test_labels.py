"""A layer's ``label``: the short name the 3D figure and the graph show (the paper's ``fire2`` for
torchvision's ``features.3``); tables, JSON, code and imports keep the layer's name."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import archcalc
from archcalc.cli import main
from archcalc.errors import SpecError
from archcalc.figure3d import Options, build_figure, columns_of, render_svg
from archcalc.figure3d.columns import Collapse
from archcalc.graph import to_dot
from archcalc.importers import import_spec
from archcalc.spec import MAX_LABEL_LENGTH, parse

KERAS_DATA = Path(__file__).parent / "import_data" / "keras"


def spec_text(label: str) -> str:
    return (
        "name: labelled\n"
        "input: 3x32x32\n"
        "layers:\n"
        "  - {kind: conv, name: features.0, out_channels: 8, kernel: 3}\n"
        f"  - {{kind: maxpool, name: features.1, kernel: 2, stride: 2, label: {label}}}\n"
    )


def refusal(label: str) -> str:
    with pytest.raises(SpecError) as caught:
        parse(spec_text(label), "net.yaml")
    return str(caught.value)


def test_a_label_is_read_beside_the_name():
    layers = parse(spec_text("pool1"), "net.yaml").layers
    assert [(layer.name, layer.label, layer.shown) for layer in layers] == [
        ("features.0", None, "features.0"),
        ("features.1", "pool1", "pool1"),
    ]


def test_in_a_repeat_block_i_in_a_label_is_the_repetition():
    text = (
        "name: r\ninput: 3x32x32\nlayers:\n"
        "  - repeat: 3\n    name: stage\n    layers:\n"
        "      - {kind: conv, name: c, label: 'conv{i}', out_channels: 4, kernel: 3, padding: 1}\n"
    )
    layers = parse(text, "net.yaml").layers
    assert [(layer.name, layer.label) for layer in layers] == [
        ("stage.1.c", "conv1"),
        ("stage.2.c", "conv2"),
        ("stage.3.c", "conv3"),
    ]


@pytest.mark.parametrize(
    ("label", "message"),
    [
        ("12", "must be a non-empty string, got 12"),
        ("[pool1]", "must be a non-empty string, got ['pool1']"),
        ("''", "must be a non-empty string, got ''"),
        ("'   '", "must be a non-empty string, got '   '"),
        ('"pool\\x1b[31m1"', "holds the control character \\x1b: labels are text on one line"),
        ('"pool\\n1"', "holds the control character \\x0a: labels are text on one line"),
        ('"pool\\x851"', "holds the control character \\x85"),
        ("p" * (MAX_LABEL_LENGTH + 1), f"is longer than {MAX_LABEL_LENGTH} characters"),
    ],
)
def test_a_bad_label_is_refused_naming_file_line_layer_and_field(label: str, message: str):
    text = refusal(label)
    assert text.startswith("net.yaml:5: layer 'features.1' (maxpool), field 'label': ")
    assert message in text


def test_the_longest_label_is_accepted():
    assert parse(spec_text("p" * MAX_LABEL_LENGTH), "net.yaml").layers[1].label == "p" * MAX_LABEL_LENGTH


@given(st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x9F), min_size=1, max_size=20))
def test_a_label_holds_a_control_character_only_to_be_refused(text: str):
    quoted = json.dumps(text)  # a YAML double-quoted string
    has_control = re.search(r"[\x00-\x1f\x7f-\x9f]", text) is not None
    if not text.strip() and not has_control:
        return  # blank: refused as empty, tested above
    try:
        label = parse(spec_text(quoted), "net.yaml").layers[1].label
    except SpecError as exc:
        assert has_control or not text.strip(), str(exc)
    else:
        assert not has_control and label == text


def squeezenet() -> archcalc.Analysis:
    return archcalc.analyse(archcalc.load("squeezenet1_0"))


def test_the_figure_names_squeezenets_blocks_as_the_paper_does():
    analysis = squeezenet()
    names = [column.name for column in columns_of(analysis, Collapse.BRANCHES)]
    # the SqueezeNet paper's Table 1: conv1, maxpool1, fire2-fire4, maxpool4, fire5-fire8, maxpool8,
    # fire9, conv10, avgpool10; each fire module (named after its concatenation) by its label
    assert names == [
        "input", "conv1", "maxpool1", "fire2", "fire3", "fire4", "maxpool4", "fire5", "fire6", "fire7",
        "fire8", "maxpool8", "fire9", "conv10", "avgpool10",
    ]  # fmt: skip
    svg = render_svg(build_figure(analysis, Options()))
    assert ">fire9<" in svg and "features.12" not in svg


def test_unlabelled_layers_keep_their_names_in_the_figure():
    names = [column.name for column in columns_of(squeezenet(), Collapse.NONE)]
    assert "features.3.squeeze" in names and "fire2" in names  # the squeeze has no label; its module has


def test_a_run_of_blocks_is_named_by_its_ends_labels():
    analysis = archcalc.analyse(archcalc.load("alexnet-torchvision"))
    names = [column.name for column in columns_of(analysis, Collapse.REPEATS)]
    assert names == [
        "input", "conv1", "pool1", "conv2", "pool2", "conv3", "conv4–conv5", "pool5", "avgpool", "fc6–fc7", "fc8"
    ]  # fmt: skip


@pytest.mark.parametrize("fold", [False, True])
def test_the_graph_titles_a_node_by_its_label(fold: bool):
    dot = to_dot(archcalc.analyse(archcalc.load("alexnet-keras-bn")), fold=fold)
    assert '"conv1 (conv)' in dot and '"fc8 (linear)' in dot
    assert "conv2d_1 (conv)" not in dot and "dense_2 (linear)" not in dot


def test_the_table_and_json_keep_the_names():
    analysis = squeezenet()
    table_names = [line.split()[0] for line in analysis.table().splitlines() if line.startswith("features.")]
    assert "features.12" in table_names and not any("fire" in name for name in table_names)
    layers = json.loads(analysis.table("json"))["layers"]
    assert [layer["name"] for layer in layers] == [layer.name for layer in analysis.spec.layers]
    assert not any("label" in layer for layer in layers)
    assert layers[0]["name"] == "features.0"


def test_codegen_keeps_the_names():
    from archcalc.codegen import generate

    code = generate(archcalc.analyse(archcalc.load("alexnet-keras-bn"))).source
    assert "dense_2" in code and "fc8" not in code


@pytest.mark.parametrize(
    ("seed", "bundled"), [("alexnet_keras_bn", "alexnet-keras-bn"), ("alexnet_tf2", "alexnet-tf2")]
)
def test_an_import_gives_the_bundled_names_and_no_labels(seed: str, bundled: str):
    imported = import_spec(str(KERAS_DATA / f"{seed}.json"))
    written = archcalc.load(bundled)
    assert all(layer.label is None for layer in imported.layers)
    labelled = [layer.name for layer in written.layers if layer.label is not None]
    assert set(labelled) <= {layer.name for layer in imported.layers}  # the names the labels stand beside
    assert sum(layer.label is not None for layer in written.layers) == 11  # conv1-conv5, pool1/2/5, fc6-fc8


def test_a_label_that_looks_like_markup_is_escaped_in_the_svg_and_the_dot():
    label = '</text><script>alert(1)</script> "q"'
    analysis = archcalc.analyse(parse(spec_text(json.dumps(label)), "net.yaml"))
    assert analysis.spec.layers[1].label == label
    svg = render_svg(build_figure(analysis, Options()))
    assert "<script>" not in svg and "&lt;script&gt;alert(1)&lt;/script&gt;" in svg
    assert '"</text><script>alert(1)</script> \\"q\\" (maxpool)' in to_dot(analysis)  # quotes escaped


def test_a_misspelt_label_is_named_with_the_fields_allowed(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_text(
        "name: t\ninput: {channels: 3, height: 8, width: 8}\n"
        "layers:\n  - {kind: conv, name: c1, out_channels: 4, kernel: 3, lable: first}\n"
    )
    result = CliRunner().invoke(main, ["table", str(path)])
    assert result.exit_code == 2
    assert (
        "unknown field 'lable' for kind 'conv' (did you mean 'label'?); allowed: kind, name, inputs," in result.stderr
    )
    assert result.stderr.rstrip().endswith("in_channels, label")
