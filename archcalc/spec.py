"""Spec files: YAML → a validated, immutable NetworkSpec.

Validation happens once, here, at the edge: everything after this module may trust its input.
Every error names the file, line, layer and field.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .errors import SpecError
from .fields import FieldValueError
from .kinds import KINDS, Shape
from .resources import resource_dir
from .yamlload import YList, YMap, line_of, load_yaml

INPUT_NAME = "input"
TOP_LEVEL_FIELDS = ("name", "description", "source", "input", "layers")
LAYER_COMMON_FIELDS = ("kind", "name", "inputs")
INPUT_FIELDS = ("channels", "height", "width")
MAX_NAME_LENGTH = 200


def bundled_specs_dir() -> Path:
    return resource_dir("specs")


def bundled_names() -> list[str]:
    return sorted(p.stem for p in bundled_specs_dir().glob("*.yaml"))


@dataclass(frozen=True, slots=True)
class LayerSpec:
    """One validated layer: its kind, normalised hyper-parameters and the names of its inputs."""

    name: str
    kind: str
    params: Mapping[str, Any]
    inputs: tuple[str, ...]
    line: int | None = None


@dataclass(frozen=True, slots=True)
class NetworkSpec:
    """A validated network: layers in an order where every input comes before its consumer."""

    name: str
    input_shape: Shape
    layers: tuple[LayerSpec, ...]
    description: str = ""
    source: str = ""
    path: str | None = None

    def with_input(self, shape: Shape) -> NetworkSpec:
        """The same network on another input size (``(C, H, W)``)."""
        return replace(self, input_shape=_check_input_shape(shape, self.path))

    def with_params(self, layer: str, **changes: Any) -> NetworkSpec:
        """The same network with some hyper-parameters of one layer changed (validated as in a file)."""
        for index, spec in enumerate(self.layers):
            if spec.name == layer:
                kind = KINDS[spec.kind]
                params = dict(spec.params)
                fields = {f.name: f for f in kind.fields}
                for key, value in changes.items():
                    if key not in fields:
                        raise SpecError(
                            _unknown_field_message(key, kind.name, list(fields)), layer=layer, kind=spec.kind
                        )
                    params[key] = _coerce(fields[key], value, self.path, spec.line, layer, spec.kind)
                layers = list(self.layers)
                layers[index] = replace(spec, params=params)
                return replace(self, layers=tuple(layers))
        raise SpecError(f"no layer named '{layer}'", path=self.path)


def parse_input_shape(text: str) -> Shape:
    """``3x224x224`` (or ``3,224,224``) → ``(3, 224, 224)``."""
    parts = re.split(r"[x×,\s]+", text.strip().lower())
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        raise SpecError(f"input shape must look like 3x224x224 (channels x height x width), got {text!r}")
    return _check_input_shape(tuple(int(p) for p in parts), None)


def _check_input_shape(shape: Shape, path: str | None) -> Shape:
    if len(shape) != 3 or any(not isinstance(v, int) or v < 1 for v in shape):
        raise SpecError(f"input shape must be three positive integers (C, H, W), got {shape}", path=path)
    return tuple(shape)


def _did_you_mean(word: str, choices: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _unknown_field_message(key: str, kind: str, allowed: list[str]) -> str:
    return f"unknown field '{key}' for kind '{kind}'{_did_you_mean(key, allowed)}; allowed: {', '.join(allowed)}"


def _coerce(field: Any, value: Any, path: str | None, line: int | None, layer: str, kind: str) -> Any:
    try:
        return field.type.coerce(value)
    except FieldValueError as exc:
        raise SpecError(exc.message, path=path, line=line, layer=layer, kind=kind, field=field.name) from None


def resolve_spec_path(spec: str | Path) -> Path:
    """A file path, or the name of a bundled spec."""
    path = Path(spec)
    if path.is_file():
        return path
    if isinstance(spec, str) and re.fullmatch(r"[A-Za-z0-9_.-]+", spec):
        bundled = bundled_specs_dir() / f"{spec.removesuffix('.yaml')}.yaml"
        if bundled.is_file():
            return bundled
    if path.exists():
        raise SpecError("not a file", path=path)
    names = bundled_names()
    raise SpecError(
        f"no such file or bundled spec '{spec}'{_did_you_mean(str(spec), names)}; bundled specs: {', '.join(names)}"
    )


def load(spec: str | Path) -> NetworkSpec:
    """Read and validate a spec: a YAML file path or the name of a bundled spec (``alexnet``)."""
    path = resolve_spec_path(spec)
    shown = os.path.relpath(path) if not os.path.relpath(path).startswith("..") else str(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SpecError(f"cannot read: {exc.strerror}", path=shown) from None
    return parse(data, shown)


def parse(data: bytes | str, path: str = "<spec>") -> NetworkSpec:
    """Validate YAML text (or bytes) into a NetworkSpec."""
    doc = load_yaml(data, path)
    return from_mapping(doc, path)


def from_mapping(doc: Any, path: str = "<spec>") -> NetworkSpec:
    """Validate an already-parsed mapping (from YAML, JSON or Python) into a NetworkSpec."""

    def fail(message: str, container: Any = None, key: Any = None, **where: Any) -> SpecError:
        return SpecError(message, path=path, line=line_of(container, key) if container is not None else None, **where)

    if not isinstance(doc, dict):
        raise fail(f"a spec must be a mapping with {', '.join(TOP_LEVEL_FIELDS)}; got {type(doc).__name__}", doc)
    for key in doc:
        if key not in TOP_LEVEL_FIELDS:
            raise fail(
                f"unknown top-level field '{key}'{_did_you_mean(key, list(TOP_LEVEL_FIELDS))}; "
                f"allowed: {', '.join(TOP_LEVEL_FIELDS)}",
                doc,
                key,
                field=key,
            )
    for key in ("name", "input", "layers"):
        if key not in doc:
            raise fail(f"missing required field '{key}'", doc, field=key)
    texts = {}
    for key in ("name", "description", "source"):
        value = doc.get(key, "")
        if not isinstance(value, str):
            raise fail(f"must be a string, got {value!r}", doc, key, field=key)
        texts[key] = value.strip()
    if not texts["name"]:
        raise fail("must not be empty", doc, "name", field="name")

    raw_input = doc["input"]
    if not isinstance(raw_input, dict):
        raise fail("must be a mapping with channels, height and width", doc, "input", field="input")
    input_shape = []
    for key in raw_input:
        if key not in INPUT_FIELDS:
            raise fail(f"unknown field '{key}' in input; allowed: {', '.join(INPUT_FIELDS)}", raw_input, key, field=key)
    for key in INPUT_FIELDS:
        if key not in raw_input:
            raise fail(f"input is missing '{key}'", raw_input, field=f"input.{key}")
        value = raw_input[key]
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise fail(f"must be a positive integer, got {value!r}", raw_input, key, field=f"input.{key}")
        input_shape.append(value)

    raw_layers = doc["layers"]
    if not isinstance(raw_layers, list) or not raw_layers:
        raise fail("must be a non-empty list of layers", doc, "layers", field="layers")

    layers: list[LayerSpec] = []
    known: dict[str, int] = {INPUT_NAME: -1}
    counters: dict[str, int] = {}
    declared = {
        str(entry["name"]): i for i, entry in enumerate(raw_layers) if isinstance(entry, dict) and "name" in entry
    }
    for index, entry in enumerate(raw_layers):
        line = line_of(raw_layers, index)
        if not isinstance(entry, dict):
            raise fail(f"layer {index + 1} must be a mapping with a 'kind', got {entry!r}", raw_layers, index)
        kind_name = entry.get("kind")
        label = entry.get("name") if isinstance(entry.get("name"), str) else f"#{index + 1}"
        if kind_name is None:
            raise fail("missing 'kind'", entry, layer=label, field="kind")
        if not isinstance(kind_name, str) or kind_name not in KINDS:
            raise fail(
                f"unknown kind {kind_name!r}{_did_you_mean(str(kind_name), list(KINDS))}; allowed: {', '.join(KINDS)}",
                entry,
                "kind",
                layer=label,
                field="kind",
            )
        kind = KINDS[kind_name]
        counters[kind_name] = counters.get(kind_name, 0) + 1
        name = entry.get("name", f"{kind_name}{counters[kind_name]}")
        if not isinstance(name, str) or not name.strip():
            raise fail(
                f"must be a non-empty string, got {name!r}", entry, "name", layer=label, kind=kind_name, field="name"
            )
        if len(name) > MAX_NAME_LENGTH:
            raise fail(
                f"is longer than {MAX_NAME_LENGTH} characters", entry, "name", layer=name[:40] + "…", field="name"
            )
        if name in known:
            what = "the network input" if name == INPUT_NAME else f"layer {known[name] + 1}"
            raise fail(
                f"duplicate name '{name}' (also used by {what})",
                entry,
                "name",
                layer=name,
                kind=kind_name,
                field="name",
            )

        fields = {f.name: f for f in kind.fields}
        allowed = list(LAYER_COMMON_FIELDS) + list(fields)
        params: dict[str, Any] = {}
        for key, value in entry.items():
            if key in LAYER_COMMON_FIELDS:
                continue
            if key not in fields:
                raise fail(
                    _unknown_field_message(str(key), kind_name, allowed),
                    entry,
                    key,
                    layer=name,
                    kind=kind_name,
                    field=str(key),
                )
            params[key] = _coerce(fields[key], value, path, line_of(entry, key), name, kind_name)
        for field in kind.fields:
            if field.name in params:
                continue
            if field.required:
                raise fail(
                    f"missing required field '{field.name}'", entry, layer=name, kind=kind_name, field=field.name
                )
            params[field.name] = field.type.coerce(field.default) if field.default is not None else None

        previous = layers[-1].name if layers else INPUT_NAME
        inputs = _layer_inputs(entry, previous, name, kind, known, declared, raw_layers, fail)
        layers.append(LayerSpec(name=name, kind=kind_name, params=params, inputs=inputs, line=line))
        known[name] = index

    return NetworkSpec(
        name=texts["name"],
        description=texts["description"],
        source=texts["source"],
        input_shape=tuple(input_shape),
        layers=tuple(layers),
        path=path,
    )


def _layer_inputs(
    entry: YMap | dict[str, Any],
    previous: str,
    name: str,
    kind: Any,
    known: dict[str, int],
    declared: dict[str, int],
    raw_layers: YList | list[Any],
    fail: Any,
) -> tuple[str, ...]:
    where = {"layer": name, "kind": kind.name, "field": "inputs"}
    if "inputs" not in entry:
        if kind.merges:
            raise fail(f"'{kind.name}' needs 'inputs': a list of two or more layer names", entry, **where)
        return (previous,)
    raw = entry["inputs"]
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw or not all(isinstance(v, str) for v in raw):
        raise fail("must be a layer name or a list of layer names", entry, "inputs", **where)
    if kind.merges and len(raw) < 2:
        raise fail(f"'{kind.name}' needs two or more inputs, got {len(raw)}", entry, "inputs", **where)
    if not kind.merges and len(raw) != 1:
        raise fail(
            f"'{kind.name}' takes one input, got {len(raw)}; merge them with 'concat' or 'add' first",
            entry,
            "inputs",
            **where,
        )
    for ref in raw:
        if ref == name:
            raise fail(f"layer '{name}' cannot take its own output as input (a cycle)", entry, "inputs", **where)
        if ref in known:
            continue
        if ref in declared:
            later = declared[ref]
            cycle = _cycle_through(raw_layers, later, name, declared)
            detail = f" and would make a cycle: {' → '.join(cycle)}" if cycle else ""
            raise fail(
                f"'{ref}' is defined later (layer {later + 1}){detail}; inputs must name earlier layers",
                entry,
                "inputs",
                **where,
            )
        choices = list(known)
        raise fail(
            f"no layer named '{ref}'{_did_you_mean(ref, choices)}; earlier layers: {', '.join(choices)}",
            entry,
            "inputs",
            **where,
        )
    return tuple(raw)


def _cycle_through(raw_layers: Any, start: int, target: str, declared: dict[str, int]) -> list[str] | None:
    """If layer `start` (transitively) reads `target`, the path target → … → start → target."""
    names = {i: str(e.get("name")) for i, e in enumerate(raw_layers) if isinstance(e, dict) and "name" in e}

    def refs(i: int) -> list[int]:
        entry = raw_layers[i]
        raw = entry.get("inputs") if isinstance(entry, dict) else None
        if raw is None:
            return [i - 1] if i > 0 else []
        raw = [raw] if isinstance(raw, str) else raw
        return [declared[r] for r in raw if isinstance(r, str) and r in declared]

    target_index = declared.get(target)
    stack, seen = [(start, [start])], {start}
    while stack:
        node, trail = stack.pop()
        if node == target_index:
            return [names.get(i, f"layer {i + 1}") for i in reversed(trail)] + [target]
        for ref in refs(node):
            if ref >= 0 and ref not in seen:
                seen.add(ref)
                stack.append((ref, trail + [ref]))
    return None


__all__ = ["LayerSpec", "NetworkSpec", "load", "parse", "from_mapping", "parse_input_shape", "bundled_names"]
