"""The published JSON Schema: in step with the validator, and accepting what archcalc accepts."""

from __future__ import annotations

import json

import jsonschema
import pytest

import archcalc
from archcalc.schema import SCHEMA_PATH, build_schema
from archcalc.spec import bundled_specs_dir
from archcalc.yamlload import load_yaml


def validator() -> jsonschema.Draft202012Validator:
    schema = json.loads(SCHEMA_PATH.read_text())
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def test_published_schema_is_up_to_date():
    # Regenerate with: archcalc schema -o archcalc/schema.json
    assert json.loads(SCHEMA_PATH.read_text()) == build_schema()


@pytest.mark.parametrize("name", archcalc.bundled_names())
def test_bundled_specs_validate_and_point_editors_at_the_schema(name: str):
    path = bundled_specs_dir() / f"{name}.yaml"
    text = path.read_text()
    assert text.startswith("# yaml-language-server: $schema=../archcalc/schema.json\n")
    assert (path.parent / "../archcalc/schema.json").resolve() == SCHEMA_PATH
    assert list(validator().iter_errors(load_yaml(text))) == []


@pytest.mark.parametrize(
    "layer",
    [
        {"kind": "convolution"},
        {"kind": "conv", "out_channels": 8},
        {"kind": "conv", "out_channels": 8, "kernel": 3, "kernal": 3},
        {"kind": "conv", "out_channels": 0, "kernel": 3},
        {"kind": "conv", "out_channels": 8, "kernel": [3, 3, 3]},
        {"kind": "conv", "out_channels": 8, "kernel": 3, "padding": "full"},
        {"kind": "maxpool", "kernel": 2, "ceil_mode": "yes"},
        {"kind": "concat"},
        {"kind": "dropout", "p": 1},
    ],
)
def test_schema_and_validator_reject_the_same_layers(layer: dict):
    doc = {"name": "x", "input": {"channels": 3, "height": 8, "width": 8}, "layers": [{"kind": "relu"}, layer]}
    assert list(validator().iter_errors(doc))
    with pytest.raises(archcalc.SpecError):
        archcalc.from_mapping(doc)


RELU = {"kind": "relu"}
RESIDUAL = {
    "repeat": 2,
    "name": "layer1",
    "layers": [
        {"kind": "conv", "name": "conv1", "out_channels": 3, "kernel": 3, "padding": 1},
        {"kind": "add", "name": "add", "inputs": ["conv1", "block_input"]},
    ],
}


def spec_with(*items: dict, input: object = None) -> dict:
    return {"name": "x", "input": input or {"channels": 3, "height": 8, "width": 8}, "layers": [RELU, *items]}


@pytest.mark.parametrize(
    "item",
    [
        RESIDUAL,
        {"repeat": 1, "layers": [RELU]},
        {"repeat": 3, "layers": [{"kind": "conv", "name": "conv_{i}", "out_channels": 3, "kernel": 1}]},
        {"repeat": 2, "name": "stage", "layers": [RELU, {"repeat": 2, "name": "unit", "layers": [RESIDUAL]}]},
    ],
)
def test_schema_and_validator_accept_the_same_repeat_blocks(item: dict):
    doc = spec_with(item)
    assert list(validator().iter_errors(doc)) == []
    assert archcalc.analyse(archcalc.from_mapping(doc)).layers


@pytest.mark.parametrize(
    "item",
    [
        {"repeat": 0, "layers": [RELU]},
        {"repeat": -2, "layers": [RELU]},
        {"repeat": "2", "layers": [RELU]},
        {"repeat": True, "layers": [RELU]},
        {"repeat": 1.5, "layers": [RELU]},
        {"repeat": 2},
        {"repeat": 2, "layers": []},
        {"repeat": 2, "layers": RELU},
        {"layers": [RELU]},
        {"repeat": 2, "layers": [RELU], "kind": "relu"},
        {"repeat": 2, "layers": [RELU], "inputs": "input"},
        {"repeat": 2, "layers": [RELU], "name": ""},
        {"repeat": 2, "layers": [RELU], "name": " "},
        {"repeat": 2, "layers": [RELU], "name": 7},
        {"repeat": 2, "layers": [RELU], "name": "block_input"},
        {"repeat": 2, "layers": [RELU], "name": "b" * 201},
        {"repeat": 2, "layers": [{"kind": "conv", "out_channels": 8}]},
        {"repeat": 2, "layers": [{"kind": "relu", "name": "block_input"}]},
        {"repeat": 2, "layers": [{"repeat": 0, "layers": [RELU]}]},
        {"repeat": 2, "layers": [{"repeat": 2, "layers": [{"kind": "convolution"}]}]},
        {"repeat": 2, "layers": [3]},
    ],
)
def test_schema_and_validator_reject_the_same_repeat_blocks(item: dict):
    doc = spec_with(item)
    assert list(validator().iter_errors(doc))
    with pytest.raises(archcalc.SpecError):
        archcalc.from_mapping(doc)


@pytest.mark.parametrize("shape", ["3x8x8", "3×8×8", "3 x 8 x 8", "03x8x8", [3, 8, 8]])
def test_schema_and_validator_accept_the_same_input_shorthands(shape: object):
    doc = spec_with(input=shape)
    assert list(validator().iter_errors(doc)) == []
    assert archcalc.from_mapping(doc).input_shape == (3, 8, 8)


@pytest.mark.parametrize(
    "shape", ["3x8", "0x8x8", "3x8x0", "-3x8x8", "3x8x8x1", " 3x8x8", "3,8,8", [3, 8], [3, 8, 0], [3, 8, "8"], 3]
)
def test_schema_and_validator_reject_the_same_input_shorthands(shape: object):
    doc = spec_with(input=shape)
    assert list(validator().iter_errors(doc))
    with pytest.raises(archcalc.SpecError):
        archcalc.from_mapping(doc)
