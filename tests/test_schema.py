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
