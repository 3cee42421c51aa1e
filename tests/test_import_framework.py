"""The import framework: which reader a SOURCE names, --arg values, and the spec writer's round trip."""

from __future__ import annotations

import pytest

import archcalc
from archcalc.errors import OptionError
from archcalc.importers import SourceFormat, parse_args, source_format
from archcalc.importers.builder import SpecBuilder, clean_name
from archcalc.specwriter import spec_yaml


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("alexnet", SourceFormat.YAML),
        ("nets/mine.yaml", SourceFormat.YAML),
        ("model.onnx", SourceFormat.ONNX),
        ("model.KERAS", SourceFormat.KERAS),
        ("config.json", SourceFormat.KERAS),
        ("deploy.prototxt", SourceFormat.CAFFE),
        ("models/resnet.py:ResNet", SourceFormat.PYTORCH),
        ("torchvision.models:resnet18", SourceFormat.PYTORCH),
    ],
)
def test_the_form_of_a_source_names_its_reader(source: str, expected: SourceFormat):
    assert source_format(source) is expected


def test_arguments_are_python_literals_or_strings():
    assert parse_args(["num_classes=10", "width=0.5", "pretrained=False", "name=tiny", "sizes=[1, 2]"]) == {
        "num_classes": 10, "width": 0.5, "pretrained": False, "name": "tiny", "sizes": [1, 2],
    }  # fmt: skip
    with pytest.raises(OptionError, match="--arg: 'oops': expected name=value"):
        parse_args(["oops"])


@pytest.mark.parametrize("spec_name", archcalc.bundled_names())
def test_the_spec_writer_round_trips_every_bundled_spec(spec_name: str):
    original = archcalc.load(spec_name)
    doc = {
        "name": original.name, "description": original.description, "source": original.source,
        "input": list(original.input_shape),
        "layers": [{"kind": layer.kind, "name": layer.name, "inputs": list(layer.inputs),
                    **{k: _plain(v) for k, v in layer.params.items() if v is not None}} for layer in original.layers],
    }  # fmt: skip
    again = archcalc.parse(spec_yaml(doc))
    first, second = archcalc.analyse(original), archcalc.analyse(again)
    assert [(r.name, r.output_shape, r.params, r.macs) for r in first.layers] == [
        (r.name, r.output_shape, r.params, r.macs) for r in second.layers
    ]


def _plain(value):
    """A validated hyper-parameter back to what a spec file holds."""
    import enum

    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    return value


def test_hostile_names_stay_data_in_the_written_yaml():
    builder = SpecBuilder("x\x1b]0;OWNED\x07: {evil}", "a.onnx", (3, 8, 8))
    builder.set_input("in")
    builder.add("relu", "yes", ["in"], output="t1")
    builder.add("relu", "- [a, b]: c # d", ["t1"])
    text = spec_yaml(builder.mapping())
    spec = archcalc.parse(text)
    assert spec.name == "x]0;OWNED: {evil}"
    assert [layer.name for layer in spec.layers] == ["yes", "- [a, b]: c # d"]
    assert clean_name("\x00\x01", "relu") == "relu"
