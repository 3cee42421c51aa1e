"""The JSON Schema of the spec format, generated from the layer kinds' field declarations.

The published copy is ``archcalc/schema.json`` (what editors point at through the
``# yaml-language-server: $schema=...`` line); a test keeps it equal to ``build_schema()``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from .kinds import KINDS
from .spec import INPUT_FIELDS, MAX_NAME_LENGTH

SCHEMA_ID = "https://archcalc.dev/schema/spec-v1.json"
SCHEMA_PATH = Path(__file__).resolve().parent / "schema.json"


def _layer_schema() -> dict[str, Any]:
    common = {
        "kind": {"type": "string", "enum": list(KINDS), "description": "layer kind"},
        "name": {
            "type": "string",
            "minLength": 1,
            "maxLength": MAX_NAME_LENGTH,
            "description": "unique layer name; default: kind + running index (conv1, conv2, ...)",
        },
        "inputs": {
            "description": "earlier layer name(s) (or 'input'); default: the previous layer",
            "oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "minItems": 1}],
        },
    }
    branches = []
    for kind in KINDS.values():
        properties: dict[str, Any] = {"kind": {"const": kind.name}, "name": True, "inputs": True}
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
            "input": {
                "type": "object",
                "required": list(INPUT_FIELDS),
                "additionalProperties": False,
                "properties": {key: {"type": "integer", "minimum": 1} for key in INPUT_FIELDS},
            },
            "layers": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/layer"}},
        },
        "$defs": {"layer": _layer_schema()},
    }


def schema_text() -> str:
    return json.dumps(build_schema(), indent=2, ensure_ascii=False) + "\n"
