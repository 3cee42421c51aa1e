"""Writing a spec mapping as readable YAML: one line per layer, repeat blocks nested, strings quoted
where a YAML reader could take them for something else. Reading the text back gives the same spec."""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from typing import Any

from .schema import SCHEMA_ID

SCHEMA_LINE = f"# yaml-language-server: $schema={SCHEMA_ID}"
_PLAIN = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-/]*")
_RESERVED = {"true", "false", "null", "yes", "no", "on", "off", "y", "n", "~"}
TOP_ORDER = ("name", "description", "source", "input", "layers")
LAYER_FIRST = ("kind", "name", "inputs")


def scalar(value: Any) -> str:
    """A YAML flow scalar for a plain value."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"a spec holds finite numbers only, got {value}")
        text = repr(value)
        return text if any(c in text for c in ".e") else text + ".0"
    if isinstance(value, str):
        if _PLAIN.fullmatch(value) and value.lower() not in _RESERVED:
            return value
        return json.dumps(value, ensure_ascii=False)  # a JSON string is a YAML double-quoted scalar
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(scalar(v) for v in value) + "]"
    raise TypeError(f"no YAML scalar for {type(value).__name__}")


def _layer_line(layer: Mapping[str, Any]) -> str:
    keys = [k for k in LAYER_FIRST if k in layer] + [k for k in layer if k not in LAYER_FIRST]
    return "{" + ", ".join(f"{k}: {scalar(layer[k])}" for k in keys) + "}"


def _layers(entries: list[Mapping[str, Any]], indent: int) -> list[str]:
    pad = " " * indent
    lines: list[str] = []
    for entry in entries:
        if "repeat" in entry:
            lines.append(f"{pad}- repeat: {entry['repeat']}")
            if "name" in entry:
                lines.append(f"{pad}  name: {scalar(entry['name'])}")
            lines.append(f"{pad}  layers:")
            lines += _layers(entry["layers"], indent + 4)
        else:
            lines.append(f"{pad}- {_layer_line(entry)}")
    return lines


def spec_yaml(doc: Mapping[str, Any]) -> str:
    """YAML text of a spec mapping (as importers build it)."""
    lines = [SCHEMA_LINE]
    for key in TOP_ORDER[:3]:
        if doc.get(key):
            lines.append(f"{key}: {scalar(doc[key])}")
    shape = doc["input"]
    if isinstance(shape, Mapping):
        shape = [shape["channels"], shape["height"], shape["width"]]
    lines.append(f"input: {scalar(list(shape))}")
    lines.append("layers:")
    lines += _layers(list(doc["layers"]), 2)
    return "\n".join(lines) + "\n"
