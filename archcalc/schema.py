"""The JSON Schema of the spec format, generated from the layer kinds' field declarations.

The published copy is ``archcalc/schema.json`` (what editors point at through the
``# yaml-language-server: $schema=...`` line); a test keeps it equal to ``build_schema()``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .kinds import KINDS
from .spec import BLOCK_INPUT, INPUT_FIELDS, INPUT_TEXT_PATTERN, LABEL_FIELD, MAX_LABEL_LENGTH, MAX_NAME_LENGTH

SCHEMA_ID = "https://archcalc.dev/schema/spec-v1.json"
SCHEMA_PATH = Path(__file__).resolve().parent / "schema.json"


def _name_schema(description: str) -> dict[str, Any]:
    return {
        "type": "string",
        "minLength": 1,
        "maxLength": MAX_NAME_LENGTH,
        "pattern": "\\S",
        "not": {"const": BLOCK_INPUT},
        "description": description,
    }


def _layer_schema() -> dict[str, Any]:
    common = {
        "kind": {"type": "string", "enum": list(KINDS), "description": "layer kind"},
        "name": _name_schema(
            "unique layer name; default: kind + running index (conv1, conv2, ...); in a repeat block "
            "it becomes <block>.<i>.<name>, or, with {i} in it, the name with {i} replaced by the repetition"
        ),
        LABEL_FIELD: {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_LABEL_LENGTH,
            "pattern": "\\S",
            "description": "the short name the 3D figure and the graph show instead of the name (fire2 for "
            "features.3); tables, JSON and code keep the name; in a repeat block {i} becomes the repetition",
        },
        "inputs": {
            "description": "earlier layer name(s) (or 'input'; in a repeat block also 'block_input' and the "
            "names of this repetition's layers); default: the previous layer",
            "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}],
        },
    }
    branches = []
    for kind in KINDS.values():
        properties: dict[str, Any] = {"kind": {"const": kind.name}, "name": True, LABEL_FIELD: True, "inputs": True}
        for field in kind.fields:
            properties[field.name] = field.schema()
        then: dict[str, Any] = {
            "description": kind.summary,
            "properties": properties,
            "required": ["kind"] + [f.name for f in kind.fields if f.required] + (["inputs"] if kind.merges else []),
            "additionalProperties": False,
        }
        branches.append({"if": {"properties": {"kind": {"const": kind.name}}, "required": ["kind"]}, "then": then})
    return {"type": "object", "required": ["kind"], "properties": common, "allOf": branches}


def _block_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "description": "a repeat block: its layers, repeated; each repetition reads the one before",
        "required": ["repeat", "layers"],
        "additionalProperties": False,
        "properties": {
            "repeat": {"type": "integer", "minimum": 1, "description": "how many times to repeat the layers"},
            "name": _name_schema("unique block name; default: block1, block2, ..."),
            "layers": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/item"}},
        },
    }


def _item_schema() -> dict[str, Any]:
    """A layers item: a repeat block if it has 'repeat' or 'layers', else a layer."""
    return {
        "if": {"type": "object", "anyOf": [{"required": ["repeat"]}, {"required": ["layers"]}]},
        "then": {"$ref": "#/$defs/block"},
        "else": {"$ref": "#/$defs/layer"},
    }


def _input_schema() -> dict[str, Any]:
    size = {"type": "integer", "minimum": 1}
    return {
        "description": "the input size: {channels, height, width}, [channels, height, width] or CxHxW (3x224x224)",
        "oneOf": [
            {
                "type": "object",
                "required": list(INPUT_FIELDS),
                "additionalProperties": False,
                "properties": {key: size for key in INPUT_FIELDS},
            },
            {"type": "array", "items": size, "minItems": 3, "maxItems": 3},
            {"type": "string", "pattern": INPUT_TEXT_PATTERN},
        ],
    }


def build_schema() -> dict[str, Any]:
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "archcalc network spec",
        "description": "A CNN described layer by layer; see the archcalc README for the format.",
        "type": "object",
        "required": ["name", "input", "layers"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "minLength": 1},
            "description": {"type": "string"},
            "source": {"type": "string", "description": "where the architecture is published"},
            "input": _input_schema(),
            "layers": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/item"}},
        },
        "$defs": {"item": _item_schema(), "layer": _layer_schema(), "block": _block_schema()},
    }


def schema_text() -> str:
    return json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n"
