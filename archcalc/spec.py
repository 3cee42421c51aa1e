"""Spec files: YAML → a validated, immutable NetworkSpec.

Validation happens once, here, at the edge: everything after this module may trust its input.
Every error names the file, line, layer and field.

Reading a document goes: the top-level fields (``_read_texts``), the input (``_read_input``),
then the layers (``_LayerReader``): a first pass checks the repeat blocks and counts what they
expand to (``check_blocks``), a second expands them and reads each layer (``read_layer``: its
name, ``_read_params`` for its fields, ``resolve_inputs`` for what it reads).
"""

from __future__ import annotations

import os
import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from .errors import FieldValueError, SpecError
from .fields import check_size
from .format import CONTROL, visible
from .kinds import KINDS, Shape
from .resources import resource_dir
from .yamlload import UnsupportedValue, line_of, load_yaml

INPUT_NAME = "input"
BLOCK_INPUT = "block_input"  # inside a repeat block: the input of the current repetition
REPETITION = "{i}"  # in a name inside a repeat block: the repetition number
TOP_LEVEL_FIELDS = ("name", "description", "source", "input", "layers")
LAYER_COMMON_FIELDS = ("kind", "name", "inputs")
LABEL_FIELD = "label"  # optional, on any layer: what figures show instead of its name
BLOCK_FIELDS = ("repeat", "name", "layers")
INPUT_FIELDS = ("channels", "height", "width")
MAX_NAME_LENGTH = 200
MAX_LABEL_LENGTH = MAX_NAME_LENGTH  # a label is a name for the eye: the same rules
MAX_LAYERS = 1_000_000  # after expanding repeat blocks
MAX_BLOCK_DEPTH = 32
BLOCK_KIND = "repeat block"  # what errors about a repeat block show as its kind

# Other frameworks' names for fields (Keras, PyTorch), and what archcalc calls them. The hint is
# given only where the layer's kind has that field.
FIELD_SYNONYMS: Mapping[str, str] = MappingProxyType(
    {
        "filters": "out_channels",
        "units": "out_features",
        "kernel_size": "kernel",
        "pool_size": "kernel",
        "strides": "stride",
        "rate": "p",
        "use_bias": "bias",
        "epsilon": "eps",
        "dilation_rate": "dilation",
    }
)
# Other frameworks' fields that archcalc expresses differently, and how.
FIELD_HINTS: Mapping[str, str] = MappingProxyType(
    {"activation": "add an activation layer (e.g. {kind: relu}) after this one"}
)

# `input: 3x224x224` (or 3×224×224); the schema's pattern says the same.
_INPUT_TEXT = re.compile(r"([0-9]{1,4000}) *[x×X] *([0-9]{1,4000}) *[x×X] *([0-9]{1,4000})")
INPUT_TEXT_PATTERN = "^0*[1-9][0-9]* *[x×X] *0*[1-9][0-9]* *[x×X] *0*[1-9][0-9]*$"


def bundled_specs_dir() -> Path:
    return resource_dir("specs")


def bundled_names() -> list[str]:
    return sorted(p.stem for p in bundled_specs_dir().glob("*.yaml"))


@dataclass(frozen=True, slots=True)
class LayerSpec:
    """One validated layer: its kind, normalised hyper-parameters and the names of its inputs.

    ``block`` and ``repetition``: the innermost repeat block it comes from (its full name) and
    which repetition of it (from 1); None for a layer written outside any block. ``label``: the
    short name the figure and the graph show (``fire2`` for ``features.3``); None: they show ``name``.
    """

    name: str
    kind: str
    params: Mapping[str, Any]
    inputs: tuple[str, ...]
    line: int | None = None
    block: str | None = None
    repetition: int | None = None
    label: str | None = None

    @property
    def shown(self) -> str:
        """What a figure calls this layer: its label, else its name."""
        return self.label if self.label is not None else self.name


@dataclass(frozen=True, slots=True)
class BlockSpec:
    """One repeat block, expanded: its layers are ``NetworkSpec.layers[first : last + 1]``,
    ``per_repetition`` of them for each of its ``repeat`` repetitions.

    ``name`` is its full name (``stage.1.unit`` for a block inside repetition 1 of ``stage``),
    ``parent`` the full name of the block it is in (None at the top level). A block inside a
    repeated block appears once per repetition of the outer one.
    """

    name: str
    repeat: int
    first: int
    last: int
    per_repetition: int
    line: int | None = None
    parent: str | None = None


@dataclass(frozen=True, slots=True)
class NetworkSpec:
    """A validated network: layers in an order where every input comes before its consumer.

    ``blocks``: the repeat blocks the layers were expanded from, outer before inner, in order.
    """

    name: str
    input_shape: Shape
    layers: tuple[LayerSpec, ...]
    description: str = ""
    source: str = ""
    path: str | None = None
    blocks: tuple[BlockSpec, ...] = ()

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
                            _unknown_field_message(key, kind.name, list(fields), fields), layer=layer, kind=spec.kind
                        )
                    params[key] = _coerce(fields[key], value, self.path, spec.line, layer, spec.kind)
                layers = list(self.layers)
                layers[index] = replace(spec, params=params)
                return replace(self, layers=tuple(layers))
        raise SpecError(f"no layer named '{layer}'", path=self.path)


def default_name(kind: str, count: int) -> str:
    """conv1, conv2, ...; relu6_1 where the kind's name ends in a digit (not relu61, which reads as
    the 61st relu)."""
    return f"{kind}_{count}" if kind[-1].isdigit() else f"{kind}{count}"


def parse_input_shape(text: str) -> Shape:
    """``3x224x224`` (or ``3,224,224``) → ``(3, 224, 224)``."""
    parts = re.split(r"[x×,\s]+", text.strip().lower())
    if len(parts) != 3 or not all(re.fullmatch(r"[0-9]{1,15}", p) for p in parts):
        raise SpecError(f"input shape must look like 3x224x224 (channels x height x width), got {text!r}")
    return _check_input_shape(tuple(int(p) for p in parts), None)


def _check_input_shape(shape: Shape, path: str | None) -> Shape:
    if len(shape) != 3 or any(not isinstance(v, int) or isinstance(v, bool) or v < 1 for v in shape):
        raise SpecError(f"input shape must be three positive integers (C, H, W), got {shape}", path=path)
    try:
        for value in shape:
            check_size(value)
    except FieldValueError as exc:
        raise SpecError(f"input sizes {exc.message}", path=path) from None
    return tuple(shape)


def _did_you_mean(word: str, choices: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, choices, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _unknown_field_message(key: str, kind: str, allowed: list[str], fields: Collection[str]) -> str:
    """The message for a field the kind does not have; other frameworks' names get a pointed hint."""
    canonical = FIELD_SYNONYMS.get(key)
    if canonical is not None and canonical in fields:
        detail = f": archcalc calls it '{canonical}'"
    elif key in FIELD_HINTS:
        detail = f": {FIELD_HINTS[key]}"
    else:
        detail = _did_you_mean(key, allowed)
    return f"unknown field '{key}' for kind '{kind}'{detail}; allowed: {', '.join(allowed)}"


def _find_unsupported(value: Any, budget: int = 10_000) -> UnsupportedValue | None:
    """The first value in `value` (looking into lists and mappings) that the YAML reader did not construct."""
    stack = [value]
    while stack and budget > 0:
        item = stack.pop()
        budget -= 1
        if isinstance(item, UnsupportedValue):
            return item
        if isinstance(item, dict):
            stack.extend(reversed(item.values()))
        elif isinstance(item, list):
            stack.extend(reversed(item))
    return None


def _coerce(field: Any, value: Any, path: str | None, line: int | None, layer: str, kind: str) -> Any:
    try:
        return field.type.coerce(value)
    except FieldValueError as exc:
        message = exc.message
        unsupported = _find_unsupported(value)
        if unsupported is not None:
            message, line = unsupported.message, unsupported.line or line
        raise SpecError(message, path=path, line=line, layer=layer, kind=kind, field=field.name) from None


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
    fail = _Fail(path)
    _check_top_level(doc, fail)
    texts = _read_texts(doc, fail)
    input_shape = _read_input(doc, fail)
    raw_layers = doc["layers"]
    if not isinstance(raw_layers, list) or not raw_layers:
        raise fail.value("must be a non-empty list of layers", raw_layers, doc, "layers", field="layers")
    reader = _LayerReader(fail)
    reader.read(raw_layers)
    return NetworkSpec(
        name=texts["name"],
        description=texts["description"],
        source=texts["source"],
        input_shape=input_shape,
        layers=tuple(reader.layers),
        path=path,
        blocks=tuple(block for block in reader.blocks if block is not None),
    )


class _Fail:
    """Makes the SpecErrors of one document: located at a file, a line, a layer and a field."""

    __slots__ = ("path",)

    def __init__(self, path: str) -> None:
        self.path = path

    def __call__(self, message: str, container: Any = None, key: Any = None, **where: Any) -> SpecError:
        line = line_of(container, key) if container is not None else None
        return SpecError(message, path=self.path, line=line, **where)

    def value(self, message: str, value: Any, container: Any = None, key: Any = None, **where: Any) -> SpecError:
        """A value refused with `message`, unless it holds a YAML tag archcalc does not read: then that."""
        unsupported = _find_unsupported(value)
        if unsupported is None:
            return self(message, container, key, **where)
        line = unsupported.line if unsupported.line is not None else line_of(container, key)
        return SpecError(unsupported.message, path=self.path, line=line, **where)


def _check_top_level(doc: Any, fail: _Fail) -> None:
    """The document is a mapping with the required top-level fields and no others."""
    if not isinstance(doc, dict):
        message = f"a spec must be a mapping with {', '.join(TOP_LEVEL_FIELDS)}; got {type(doc).__name__}"
        raise fail.value(message, doc, doc)
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


MAX_TEXT_LENGTH = {"name": MAX_NAME_LENGTH, "description": 10_000, "source": 2_000}
TEXT_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")  # descriptions may hold tabs and newlines


def _read_texts(doc: Mapping[str, Any], fail: _Fail) -> dict[str, str]:
    """``name`` (required, non-empty, one line), ``description`` and ``source``, stripped, bounded."""
    texts = {}
    for key in ("name", "description", "source"):
        value = doc.get(key, "")
        if not isinstance(value, str):
            raise fail.value(f"must be a string, got {value!r}", value, doc, key, field=key)
        value = value.strip()
        if len(value) > MAX_TEXT_LENGTH[key]:
            raise fail(f"is longer than {MAX_TEXT_LENGTH[key]:,} characters", doc, key, field=key)
        control = (CONTROL if key == "name" else TEXT_CONTROL).search(value)
        if control:
            raise fail(_control_message(control.group()), doc, key, field=key)
        texts[key] = value
    if not texts["name"]:
        raise fail("must not be empty", doc, "name", field="name")
    return texts


def _control_message(char: str) -> str:
    return f"holds the control character {visible(char)}: names are text on one line (no control characters)"


def _read_input(doc: Mapping[str, Any], fail: _Fail) -> Shape:
    """``input``: a mapping ``{channels, height, width}``, a list ``[C, H, W]`` or a string ``CxHxW``."""
    raw = doc["input"]
    # (field, value, container and key of the value's line)
    values: list[tuple[str, Any, Any, Any]]
    if isinstance(raw, dict):
        for key in raw:
            if key not in INPUT_FIELDS:
                message = f"unknown field '{key}' in input; allowed: {', '.join(INPUT_FIELDS)}"
                raise fail(message, raw, key, field=key)
        values = [(key, raw.get(key, _MISSING), raw, key) for key in INPUT_FIELDS]
    elif isinstance(raw, list):
        if len(raw) != 3:
            message = f"must be three positive integers [channels, height, width], got {len(raw)} values"
            raise fail(message, doc, "input", field="input")
        values = [(key, value, raw, index) for index, (key, value) in enumerate(zip(INPUT_FIELDS, raw, strict=True))]
    elif isinstance(raw, str) and (match := _INPUT_TEXT.fullmatch(raw)):
        values = [(key, int(text), doc, "input") for key, text in zip(INPUT_FIELDS, match.groups(), strict=True)]
    else:
        message = (
            "must be a mapping with channels, height and width, a list [channels, height, width] "
            f"or a string like 3x224x224, got {raw!r}"
        )
        raise fail.value(message, raw, doc, "input", field="input")
    for key, value, container, where in values:
        if value is _MISSING:
            raise fail(f"input is missing '{key}'", raw, field=f"input.{key}")
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise fail.value(
                f"must be a positive integer, got {value!r}", value, container, where, field=f"input.{key}"
            )
        try:
            check_size(value)
        except FieldValueError as exc:
            raise fail(exc.message, container, where, field=f"input.{key}") from None
    return tuple(value for _, value, _, _ in values)


_MISSING = object()


def _is_block(entry: Any) -> bool:
    """A layers item that is a repeat block (it has ``repeat`` or ``layers``) rather than a layer."""
    return isinstance(entry, dict) and ("repeat" in entry or "layers" in entry)


def _explicit_names(items: list[Any]) -> dict[str, int]:
    """The names written in a list of layers (and blocks) → their position in it."""
    return {str(entry["name"]): i for i, entry in enumerate(items) if isinstance(entry, dict) and "name" in entry}


class _Scope:
    """One list of layers being read: the top level, or one repetition of a repeat block.

    ``local`` maps the short names of the layers (and inner blocks) read so far in this
    repetition to the full layer name they stand for; ``declared`` the names written in the list
    to their position, to tell "defined later" from "no such layer".
    """

    __slots__ = ("items", "block", "repetition", "prefix", "parent", "input", "local", "declared", "counters", "blocks")

    def __init__(
        self,
        items: list[Any],
        declared: dict[str, int],
        block: str | None = None,
        repetition: int | None = None,
        parent: _Scope | None = None,
        input: str | None = None,
    ) -> None:
        self.items = items
        self.declared = declared
        self.block = block
        self.repetition = repetition
        self.prefix = f"{block}.{repetition}." if block is not None else ""
        self.parent = parent
        self.input = input  # what block_input names here
        self.local: dict[str, str] = {}
        self.counters: dict[str, int] = {}  # for default names: kind + running index
        self.blocks = 0  # for default block names: block1, block2, ...

    def full_name(self, written: str) -> str:
        """The expanded name of a layer or block written `written` in this list."""
        if self.block is None:
            return written
        if REPETITION in written:
            return written.replace(REPETITION, str(self.repetition))
        return self.prefix + written

    def where(self, index: int) -> str:
        """``layer 3`` (or ``layer 3 of repeat block 'stage'``), for messages about an item."""
        return f"layer {index + 1}" + (f" of repeat block '{self.block}'" if self.block is not None else "")


class _LayerReader:
    """Reads a ``layers`` list into LayerSpecs, expanding repeat blocks on the way."""

    def __init__(self, fail: _Fail) -> None:
        self.fail = fail
        self.layers: list[LayerSpec] = []
        self.known: dict[str, int] = {INPUT_NAME: -1}  # full layer name → its index in layers
        self.block_lines: dict[str, int | None] = {}  # full block name → its line (from when it starts)
        self.block_outputs: dict[str, str] = {}  # full block name → its last layer (once read)
        self.blocks: list[BlockSpec | None] = []
        self.block_info: dict[int, tuple[int, list[Any], str | None]] = {}  # id(entry) → repeat, layers, name
        self.counts: dict[int, tuple[int, int]] = {}  # id(list) → check_blocks() of it
        self.declared: dict[int, dict[str, int]] = {}  # id(list) → its explicit names
        self.params: dict[int, dict[str, Any]] = {}  # id(entry) → validated params, reused by each repetition

    # --- the first pass: repeat blocks, counted before anything is expanded --------------------

    def read(self, raw_layers: list[Any]) -> None:
        """Read the top-level ``layers`` list: check and count its blocks, then expand and read it."""
        total, _ = self.check_blocks(raw_layers, "", 0)
        if total > MAX_LAYERS:
            message = f"has {total:,} layers; the limit is {MAX_LAYERS:,}"
            raise self.fail(message, raw_layers, field="layers")
        self.read_items(_Scope(raw_layers, _explicit_names(raw_layers)))

    def check_blocks(self, items: list[Any], prefix: str, depth: int) -> tuple[int, int]:
        """Check every repeat block in `items` (and inside them): the number of layers they expand
        to, and how deeply blocks nest in them (0: no blocks).

        `prefix` is how names in `items` begin in the first repetition of their block (for messages);
        `depth` how many blocks `items` is in.
        """
        if id(items) in self.counts:  # the same list again (a YAML alias): checked already
            return self.counts[id(items)]
        total = height = 0
        blocks = 0
        for index, entry in enumerate(items):
            if not (isinstance(entry, dict) and ("repeat" in entry or "layers" in entry)):  # _is_block, inlined
                total += 1
                continue
            blocks += 1
            name = self.check_block(entry, items, index, prefix, blocks)
            if depth >= MAX_BLOCK_DEPTH:
                message = f"repeat blocks are nested too deeply (more than {MAX_BLOCK_DEPTH} levels)"
                raise self.fail(message, items, index, layer=name, kind=BLOCK_KIND, field="layers")
            repeat, layers, _ = self.block_info[id(entry)]
            inner, inner_height = self.check_blocks(layers, f"{name}.1.", depth + 1)
            if depth + 1 + inner_height > MAX_BLOCK_DEPTH:  # a list met again deeper down
                message = f"repeat blocks are nested too deeply (more than {MAX_BLOCK_DEPTH} levels)"
                raise self.fail(message, items, index, layer=name, kind=BLOCK_KIND, field="layers")
            height = max(height, inner_height + 1)
            count = repeat * inner
            total += count
            if count > MAX_LAYERS or total > MAX_LAYERS:
                message = (
                    f"expands to {count:,} layers ({repeat:,} repetition{'s' if repeat != 1 else ''})"
                    + (f", {total:,} with the layers before it" if total > count else "")
                    + f"; the limit is {MAX_LAYERS:,}"
                )
                raise self.fail(message, entry, "repeat", layer=name, kind=BLOCK_KIND, field="repeat")
        self.counts[id(items)] = total, height
        return total, height

    def check_block(self, entry: Mapping[str, Any], items: list[Any], index: int, prefix: str, number: int) -> str:
        """Check one repeat block's own fields and remember them; its name as it shows in messages."""
        written = entry.get("name")
        if isinstance(written, str) and written.strip():
            if prefix and REPETITION in written:
                name = written.replace(REPETITION, "1")
            else:
                name = prefix + written
        else:
            name = f"{prefix}block{number}"
        where = {"layer": name, "kind": BLOCK_KIND}
        for key in entry:
            if key not in BLOCK_FIELDS:
                hint = " (a layer has 'kind'; a repeat block has 'repeat' and 'layers')" if key == "kind" else ""
                hint = hint or _did_you_mean(str(key), list(BLOCK_FIELDS))
                message = f"unknown field '{key}' in a repeat block{hint}; allowed: {', '.join(BLOCK_FIELDS)}"
                raise self.fail(message, entry, key, field=str(key), **where)
        if "name" in entry:
            self.check_name(entry, written, **where)
        for key in ("repeat", "layers"):
            if key not in entry:
                raise self.fail(f"missing required field '{key}'", entry, field=key, **where)
        repeat = entry["repeat"]
        if isinstance(repeat, bool) or not isinstance(repeat, int) or repeat < 1:
            message = f"must be a positive integer (how many times to repeat the layers), got {repeat!r}"
            raise self.fail.value(message, repeat, entry, "repeat", field="repeat", **where)
        layers = entry["layers"]
        if not isinstance(layers, list) or not layers:
            message = f"must be a non-empty list of layers, got {layers!r}"
            raise self.fail.value(message, layers, entry, "layers", field="layers", **where)
        self.block_info[id(entry)] = (repeat, layers, written if "name" in entry else None)
        return name

    def check_name(self, entry: Mapping[str, Any], written: Any, **where: Any) -> None:
        """A written name (of a layer or a block): a non-empty string, not too long, not reserved."""
        if not isinstance(written, str) or not written.strip():
            raise self.fail.value(
                f"must be a non-empty string, got {written!r}", written, entry, "name", field="name", **where
            )
        if len(written) > MAX_NAME_LENGTH:
            message = f"is longer than {MAX_NAME_LENGTH} characters"
            raise self.fail(message, entry, "name", layer=written[:40] + "…", field="name")
        control = CONTROL.search(written)
        if control:
            raise self.fail(_control_message(control.group()), entry, "name", layer=visible(written), field="name")
        if written == BLOCK_INPUT:
            message = f"'{BLOCK_INPUT}' is reserved: inside a repeat block it names the input of a repetition"
            raise self.fail(message, entry, "name", field="name", **where)

    def read_label(self, entry: Mapping[str, Any], name: str, kind: str, scope: _Scope) -> str:
        """A layer's display label: checked as a name is; in a repeat block ``{i}`` in it becomes the
        repetition number (``fire{i}``)."""
        written = entry["label"]
        where = {"layer": name, "kind": kind, "field": "label"}
        if not isinstance(written, str) or not written.strip():
            raise self.fail.value(f"must be a non-empty string, got {written!r}", written, entry, "label", **where)
        if len(written) > MAX_LABEL_LENGTH:
            raise self.fail(f"is longer than {MAX_LABEL_LENGTH} characters", entry, "label", **where)
        control = CONTROL.search(written)
        if control:
            message = _control_message(control.group()).replace("names are", "labels are")
            raise self.fail(message, entry, "label", **where)
        if scope.repetition is not None:
            return written.replace(REPETITION, str(scope.repetition))
        return written

    def claim(self, name: str, entry: Mapping[str, Any], **where: Any) -> None:
        """Refuse a full name that an earlier layer or block (or the input) already has."""
        if name in self.known:
            index = self.known[name]
            what = "the network input" if index < 0 else f"layer {index + 1}"
        elif name in self.block_lines:
            line = self.block_lines[name]
            what = "the repeat block" + (f" on line {line}" if line is not None else "")
        else:
            if len(name) > MAX_NAME_LENGTH:
                where["layer"] = name[:40] + "…"
                message = f"its full name is longer than {MAX_NAME_LENGTH} characters"
                raise self.fail(message, entry, "name" if "name" in entry else None, field="name", **where)
            return
        raise self.fail(f"duplicate name '{name}' (also used by {what})", entry, "name", field="name", **where)

    # --- the second pass: expanding blocks, reading layers --------------------------------------

    def read_items(self, scope: _Scope) -> None:
        """Read the layers and blocks of one list (the top level or one repetition)."""
        read_layer = self.read_layer
        for index, entry in enumerate(scope.items):
            if isinstance(entry, dict) and ("repeat" in entry or "layers" in entry):  # _is_block, inlined
                self.read_block(entry, index, scope)
            else:
                read_layer(entry, index, scope)

    def read_block(self, entry: Mapping[str, Any], index: int, scope: _Scope) -> None:
        """Expand a repeat block: its layers once per repetition, each repetition reading the previous one."""
        repeat, items, written = self.block_info[id(entry)]
        scope.blocks += 1
        short = written if written is not None else f"block{scope.blocks}"
        name = scope.full_name(short)
        line = line_of(scope.items, index)
        self.claim(name, entry, layer=name, kind=BLOCK_KIND)
        self.block_lines[name] = line
        slot = len(self.blocks)
        self.blocks.append(None)  # filled in below: outer blocks come before the blocks inside them
        declared = self.declared.get(id(items))
        if declared is None:
            declared = self.declared[id(items)] = _explicit_names(items)
        first = len(self.layers)
        for repetition in range(1, repeat + 1):
            block_input = self.layers[-1].name if self.layers else INPUT_NAME
            self.read_items(_Scope(items, declared, name, repetition, scope, block_input))
        last = len(self.layers) - 1
        self.blocks[slot] = BlockSpec(name, repeat, first, last, (last - first + 1) // repeat, line, scope.block)
        self.block_outputs[name] = self.layers[-1].name
        if scope.block is not None:
            scope.local[short] = self.layers[-1].name

    def read_layer(self, entry: Any, index: int, scope: _Scope) -> None:
        """Read one layer: kind, name, fields, inputs. (Run for every layer: kept quick.)"""
        if not isinstance(entry, dict):
            message = f"{scope.where(index)} must be a mapping with a 'kind', got {entry!r}"
            if scope.block is None and not isinstance(entry, UnsupportedValue):
                raise self.fail(message, scope.items, index)
            raise self.fail.value(message, entry, scope.items, index, layer=f"{scope.prefix}#{index + 1}")
        written = entry.get("name")
        kind_name = entry.get("kind")
        if not isinstance(kind_name, str) or kind_name not in KINDS:
            label = scope.full_name(written) if isinstance(written, str) else f"{scope.prefix}#{index + 1}"
            if kind_name is None:
                raise self.fail("missing 'kind'", entry, layer=label, field="kind")
            message = (
                f"unknown kind {kind_name!r}{_did_you_mean(str(kind_name), list(KINDS))}; allowed: {', '.join(KINDS)}"
            )
            raise self.fail.value(message, kind_name, entry, "kind", layer=label, field="kind")
        kind = KINDS[kind_name]
        block = scope.block
        counters = scope.counters
        counters[kind_name] = count = counters.get(kind_name, 0) + 1
        if written is None and "name" not in entry:
            written = default_name(kind_name, count)
        else:
            label = scope.full_name(written) if isinstance(written, str) else f"{scope.prefix}#{index + 1}"
            self.check_name(entry, written, layer=label, kind=kind_name)
        name = written if block is None else scope.full_name(written)
        if name in self.known or name in self.block_lines or len(name) > MAX_NAME_LENGTH:
            self.claim(name, entry, layer=name, kind=kind_name)
        if block is None:
            params = _read_params(entry, kind, name, self.fail)
        else:
            params = self.params.get(id(entry))
            if params is None:
                params = self.params[id(entry)] = _read_params(entry, kind, name, self.fail)
        if "inputs" in entry or kind.merges:
            inputs = self.resolve_inputs(entry, name, written, kind, scope)
        else:
            inputs = (self.layers[-1].name if self.layers else INPUT_NAME,)
        label = self.read_label(entry, name, kind_name, scope) if LABEL_FIELD in entry else None
        self.known[name] = len(self.layers)
        self.layers.append(
            LayerSpec(name, kind_name, params, inputs, line_of(scope.items, index), block, scope.repetition, label)
        )
        if block is not None:
            scope.local[written] = name

    def resolve_inputs(
        self, entry: Mapping[str, Any], name: str, written: str, kind: Any, scope: _Scope
    ) -> tuple[str, ...]:
        """The full names of what a layer reads: its ``inputs``, or else the layer before it."""
        where = {"layer": name, "kind": kind.name, "field": "inputs"}
        if "inputs" not in entry:
            if kind.merges:
                raise self.fail(f"'{kind.name}' needs 'inputs': a list of {kind.inputs_wanted()}", entry, **where)
            return (self.layers[-1].name if self.layers else INPUT_NAME,)
        raw = entry["inputs"]
        if isinstance(raw, str):
            raw = [raw]
        if not isinstance(raw, list) or not raw or not all(isinstance(v, str) for v in raw):
            raise self.fail.value("must be a layer name or a list of layer names", raw, entry, "inputs", **where)
        problem = kind.inputs_problem(len(raw))  # its arity: one, two or more, exactly two, ...
        if problem is not None:
            raise self.fail(problem, entry, "inputs", **where)
        if scope.block is None:  # the common case, kept quick: full names only
            known = self.known
            if all(ref in known for ref in raw):
                return tuple(raw)
        return tuple(self.resolve(ref, entry, name, written, scope, where) for ref in raw)

    def resolve(
        self, ref: str, entry: Mapping[str, Any], name: str, written: str, scope: _Scope, where: dict[str, Any]
    ) -> str:
        """The full layer name that `ref` stands for, in `scope`.

        Inside a repetition: ``block_input``, then the short names of this repetition and of the
        repetitions around it (innermost first); everywhere: earlier layers and blocks by full name.
        """

        def refuse(message: str) -> SpecError:
            return self.fail(message, entry, "inputs", **where)

        if ref == name or (scope.block is not None and ref == written):
            raise refuse(f"layer '{name}' cannot take its own output as input (a cycle)")
        if ref == BLOCK_INPUT:
            if scope.input is None:
                raise refuse(f"'{BLOCK_INPUT}' names the input of a repetition: it works only inside a repeat block")
            return scope.input
        inner: _Scope | None = scope
        while inner is not None:
            if inner.block is None:
                if ref in self.known:
                    return ref
                if ref in self.block_outputs:
                    return self.block_outputs[ref]
                if ref in self.block_lines:
                    raise refuse(f"'{ref}' is the repeat block this layer is in: its output comes after this layer")
            elif ref in inner.local:
                return inner.local[ref]
            elif ref in inner.declared and inner.full_name(ref) in self.block_lines:
                raise refuse(f"'{ref}' is the repeat block this layer is in: its output comes after this layer")
            if ref in inner.declared:
                later = inner.declared[ref]
                cycle = _cycle_through(inner.items, later, written, inner.declared) if inner is scope else None
                detail = f" and would make a cycle: {' → '.join(cycle)}" if cycle else ""
                place = inner.where(later)
                raise refuse(f"'{ref}' is defined later ({place}){detail}; inputs must name earlier layers")
            inner = inner.parent
        choices = [BLOCK_INPUT] if scope.block is not None else []
        inner = scope
        while inner is not None and inner.block is not None:
            choices += list(inner.local)
            inner = inner.parent
        choices += list(self.known) + list(self.block_outputs)
        shown = ", ".join(choices[:40]) + (f", … ({len(choices) - 40:,} more)" if len(choices) > 40 else "")
        raise refuse(f"no layer named '{ref}'{_did_you_mean(ref, choices)}; earlier layers: {shown}")


def _read_params(entry: Mapping[str, Any], kind: Any, name: str, fail: _Fail) -> dict[str, Any]:
    """One layer's hyper-parameters: every field of its kind, validated, with defaults filled in."""
    fields = {f.name: f for f in kind.fields}
    params: dict[str, Any] = {}
    for key, value in entry.items():
        if key in LAYER_COMMON_FIELDS or key == LABEL_FIELD:
            continue
        if key not in fields:
            allowed = [*LAYER_COMMON_FIELDS, *fields, LABEL_FIELD]
            message = _unknown_field_message(str(key), kind.name, allowed, fields)
            raise fail(message, entry, key, layer=name, kind=kind.name, field=str(key))
        params[key] = _coerce(fields[key], value, fail.path, line_of(entry, key), name, kind.name)
    for field in kind.fields:
        if field.name in params:
            continue
        if field.required:
            raise fail(f"missing required field '{field.name}'", entry, layer=name, kind=kind.name, field=field.name)
        params[field.name] = field.type.coerce(field.default) if field.default is not None else None
    return params


def _item_refs(entry: Any, declared: dict[str, int]) -> tuple[list[int], bool]:
    """The positions (in the list of `entry`) of the named items `entry` reads, and whether it reads
    the item before it. A repeat block reads what its layers read, and the item before it."""
    if not isinstance(entry, dict):
        return [], False
    if not _is_block(entry):
        raw = entry.get("inputs")
        if raw is None:
            return [], True
        raw = [raw] if isinstance(raw, str) else raw if isinstance(raw, list) else []
        return [declared[r] for r in raw if isinstance(r, str) and r in declared], False
    refs: list[int] = []
    stack, budget = [entry], 10_000  # blocks may share their lists (aliases): bounded, not exhaustive
    while stack and budget > 0:
        budget -= 1
        item = stack.pop()
        if _is_block(item):
            layers = item.get("layers")
            if isinstance(layers, list):
                stack.extend(layers[:budget])
        else:
            refs += _item_refs(item, declared)[0]
    return refs, True


def _cycle_through(items: list[Any], start: int, target: str, declared: dict[str, int]) -> list[str] | None:
    """If item `start` (transitively) reads `target`, the path target → … → start → target."""
    names = {i: name for name, i in declared.items()}

    def refs(i: int) -> list[int]:
        found, reads_previous = _item_refs(items[i], declared)
        return found + ([i - 1] if reads_previous and i > 0 else [])

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


__all__ = [
    "BlockSpec",
    "LayerSpec",
    "NetworkSpec",
    "load",
    "parse",
    "from_mapping",
    "parse_input_shape",
    "bundled_names",
]
