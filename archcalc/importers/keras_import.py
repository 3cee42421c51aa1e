"""Keras models from their config alone: a ``.keras`` archive's ``config.json`` or ``model.to_json()`` text.

keras is never imported and no weight is read (``model.weights.h5`` is never opened): the config names
every layer, its hyper-parameters and, in a Functional model, what each layer reads, which is all
archcalc needs; every shape then comes from archcalc's engine. Keras 3 configs (``inbound_nodes`` of
``args`` holding ``keras_history``) and Keras 2 ones (``[[["name", 0, 0, {}]]]``) are both read. A
Functional or Sequential model used as a layer is inlined, its layers named ``outer/inner``.

Keras is channels-last by default: a ``(None, H, W, C)`` input is archcalc's ``[C, H, W]``, and the
channel axis (-1, or 1 with ``channels_first``) is the only axis Concatenate, BatchNormalization and
LayerNormalization may name to be represented. A fused ``activation=`` becomes its own layer,
``<layer>/<kind>``, after the layer.
"""

from __future__ import annotations

import heapq
import json
import math
import struct
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import ImportFailure, SpecError
from ..format import visible
from ..kinds import Shape
from .builder import SpecBuilder, clean_name, unsupported

MAX_CONFIG_BYTES = 32 * 2**20  # the largest keras.applications config is about 2 MB
MAX_ZIP_ENTRIES = 256  # a .keras archive holds three (metadata, config, weights) and maybe assets
MAX_ZIP_DIRECTORY_BYTES = 2**20
MAX_LAYERS = 20_000  # Keras layers, nested models' included
MAX_MODEL_NESTING = 16
MAX_NODE_NESTING = 8  # lists inside a Keras 3 node's args
MAX_INTEGER = 2**31 - 1  # any size or count; keeps depth multipliers from compounding without bound

MODEL_CLASSES = ("Sequential", "Functional", "Model")
CHANNELS_LAST, CHANNELS_FIRST = "channels_last", "channels_first"

# Keras activation names → (archcalc kind, fields); "linear" is no layer at all
ACTIVATIONS: dict[str, tuple[str, dict[str, Any]]] = {
    "relu": ("relu", {}),
    "relu6": ("relu6", {}),
    "sigmoid": ("sigmoid", {}),
    "tanh": ("tanh", {}),
    "softmax": ("softmax", {}),  # over the last axis: the channels (or features), as archcalc's
    "elu": ("elu", {}),
    "gelu": ("gelu", {}),  # keras.activations.gelu defaults to approximate=False: the erf form
    "silu": ("silu", {}),
    "swish": ("silu", {}),
    "hard_silu": ("hardswish", {}),
    "hard_swish": ("hardswish", {}),
    "hard_sigmoid": ("hardsigmoid", {}),  # Keras 3: relu6(x + 3) / 6, PyTorch's; Keras 2 differs
    "leaky_relu": ("leaky_relu", {"negative_slope": 0.2}),  # keras.activations.leaky_relu's default
}


@dataclass(frozen=True)
class Tensor:
    """A Keras tensor: the spec layer that makes it and whether Keras sees it flat, (None, N), which
    decides what Dense, the channel axis and PReLU's shared axes mean. Its size, where a translation
    needs one (a depth multiplier's input channels), comes from archcalc's rules (``SpecBuilder.shape``)."""

    key: str
    flat: bool = False
    pooled: str | None = None  # the [C, 1, 1] map a global pool's flatten read: Reshape((1, 1, C)) undoes it


Ref = tuple[str, int]  # (layer name, output index) inside one model


def read(source: str, input_shape: Shape | None, args: dict[str, Any]) -> dict[str, Any]:
    """The spec mapping of a .keras archive or a Keras JSON config (``args`` is for PyTorch only)."""
    top = _parse(_config_bytes(source), source)
    return _Reader(source, input_shape, top).build()


# ---------------------------------------------------------------------------------------------------
# reading the file: bounded, and only config.json of an archive


def _config_bytes(source: str) -> bytes:
    path = Path(source)
    try:
        if path.suffix.lower() == ".keras":
            return _archive_config(path, source)
        with path.open("rb") as handle:
            return _bounded(handle.read(MAX_CONFIG_BYTES + 1), source)
    except OSError as error:
        raise ImportFailure(f"{source}: cannot read: {error.strerror or _one_line(error)}") from None


def _bounded(data: bytes, source: str, what: str = "the config") -> bytes:
    if len(data) > MAX_CONFIG_BYTES:
        raise ImportFailure(f"{source}: {what} is larger than {MAX_CONFIG_BYTES:,} bytes, the limit")
    return data


def _archive_config(path: Path, source: str) -> bytes:
    """config.json of a .keras zip, refused by its declared size before anything is unpacked; no
    other entry is opened and nothing is extracted to disk."""
    import zipfile
    import zlib

    with path.open("rb") as handle:
        _check_zip_directory(handle, source)
        try:
            with zipfile.ZipFile(handle) as archive:
                try:
                    info = archive.getinfo("config.json")
                except KeyError:
                    raise ImportFailure(f"{source}: no config.json in the archive: not a Keras 3 .keras file") from None
                if info.file_size > MAX_CONFIG_BYTES:
                    raise ImportFailure(
                        f"{source}: config.json would unpack to {info.file_size:,} bytes; "
                        f"the limit is {MAX_CONFIG_BYTES:,}"
                    )
                with archive.open(info) as member:  # reads at most the declared size
                    return _bounded(member.read(MAX_CONFIG_BYTES + 1), source, "config.json")
        except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError, RuntimeError, ValueError) as error:
            raise ImportFailure(f"{source}: not a readable .keras archive: {_one_line(error)}") from None


_EOCD, _ZIP64_LOCATOR, _ZIP64_EOCD = b"PK\x05\x06", b"PK\x06\x07", b"PK\x06\x06"


def _check_zip_directory(handle: BinaryIO, source: str) -> None:
    """The entry count and directory size the archive declares, checked before zipfile reads (and
    builds an object for) every directory entry."""
    size = handle.seek(0, 2)
    start = max(0, size - (22 + 65_535))  # the end record and the longest comment
    handle.seek(start)
    tail = handle.read()
    at = tail.rfind(_EOCD)
    if at < 0 or len(tail) - at < 22:
        raise ImportFailure(f"{source}: not a zip archive (a .keras file is one)")
    entries, directory = struct.unpack("<HI", tail[at + 10 : at + 16])
    if entries == 0xFFFF or directory == 0xFFFF_FFFF:  # Zip64: the real figures are in its own end record
        locator = tail[at - 20 : at] if at >= 20 else b""
        if locator[:4] != _ZIP64_LOCATOR:
            raise ImportFailure(f"{source}: a damaged Zip64 archive")
        handle.seek(struct.unpack("<Q", locator[8:16])[0])
        record = handle.read(56)
        if len(record) < 56 or record[:4] != _ZIP64_EOCD:
            raise ImportFailure(f"{source}: a damaged Zip64 archive")
        entries, directory = struct.unpack("<QQ", record[32:48])
    if entries > MAX_ZIP_ENTRIES:
        raise ImportFailure(
            f"{source}: the archive has {entries:,} entries; a .keras file has a few (limit {MAX_ZIP_ENTRIES})"
        )
    if directory > MAX_ZIP_DIRECTORY_BYTES:
        raise ImportFailure(
            f"{source}: the archive's directory is {directory:,} bytes (limit {MAX_ZIP_DIRECTORY_BYTES:,})"
        )


def _parse(data: bytes, source: str) -> Any:
    try:
        return json.loads(data)
    except RecursionError:
        raise ImportFailure(f"{source}: the config nests deeper than a model config can") from None
    except (ValueError, MemoryError) as error:  # JSONDecodeError, UnicodeDecodeError, a 5,000-digit number
        raise ImportFailure(f"{source}: not a Keras model config (JSON): {_one_line(error)}") from None


def _one_line(error: object) -> str:
    return " ".join(visible(part) for part in str(error).splitlines())[:200] or type(error).__name__


def _quote(text: str) -> str:
    """A name from the file in a message: control characters escaped, length bounded."""
    return visible(text)[:200]


def _show(value: Any) -> str:
    """A config value in a message: plain values as written (bounded), containers by their type."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return visible(repr(value))[:60]
    return {"list": "a list", "dict": "an object"}.get(type(value).__name__, type(value).__name__)


# ---------------------------------------------------------------------------------------------------
# the config's structure


def _entry(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise ImportFailure(f"{where}: expected a layer object, got {_show(value)}")
    return value


def _class(entry: Mapping[str, Any], where: str) -> str:
    cls = entry.get("class_name")
    if not isinstance(cls, str):
        raise ImportFailure(f"{where}: a layer without a class_name")
    return cls


def _config(entry: Mapping[str, Any], where: str) -> Mapping[str, Any]:
    config = entry.get("config", {})
    if isinstance(config, list):  # Keras ≤ 2.2 wrote a Sequential's config as its list of layers
        return {"layers": config}
    if not isinstance(config, dict):
        raise ImportFailure(f"{where}: a layer's config must be an object, got {_show(config)}")
    return config


def _layers(model: Mapping[str, Any], where: str) -> list[Any]:
    layers = _config(model, where).get("layers")
    if not isinstance(layers, list):
        raise ImportFailure(f"{where}: a model config without a list of layers")
    return layers


def _name(entry: Mapping[str, Any], where: str) -> str:
    name = entry.get("name", _config(entry, where).get("name"))
    if not isinstance(name, str) or not name:
        raise ImportFailure(f"{where}: a layer without a name")
    return name


def _survey(top: Mapping[str, Any], source: str) -> str:
    """The model's data layout (every layer's data_format must agree), with the layer count and the
    model nesting bounded, before anything is built."""
    formats: set[str] = set()
    count = 0
    stack = [(top, 0)]
    while stack:
        model, depth = stack.pop()
        if depth > MAX_MODEL_NESTING:
            raise ImportFailure(f"{source}: models nested more than {MAX_MODEL_NESTING} deep")
        for layer in _layers(model, source):
            count += 1
            if count > MAX_LAYERS:
                raise ImportFailure(f"{source}: more than {MAX_LAYERS:,} layers")
            layer = _entry(layer, source)
            data_format = _config(layer, source).get("data_format")
            if isinstance(data_format, str):
                formats.add(data_format)
            if layer.get("class_name") in MODEL_CLASSES:
                stack.append((layer, depth + 1))
    if len(formats) > 1:
        raise ImportFailure(f"{source}: the layers mix data formats ({', '.join(sorted(_quote(f) for f in formats))})")
    layout = formats.pop() if formats else CHANNELS_LAST
    if layout not in (CHANNELS_LAST, CHANNELS_FIRST):
        raise ImportFailure(f"{source}: unknown data_format {_show(layout)}")
    return layout


def _ref(value: Any, where: str) -> Ref:
    """[name, node_index, tensor_index(, kwargs)]; a layer is called once here, so its node is implied."""
    if not isinstance(value, list) or len(value) < 3:
        raise ImportFailure(f"{where}: a tensor reference must be [layer, node, index], got {_show(value)}")
    name, node, index = value[:3]
    ints = all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in (node, index))
    if not isinstance(name, str) or not ints:
        raise ImportFailure(f"{where}: a tensor reference must be [layer, node, index], got {_show(value)}")
    return name, index


def _refs(value: Any, where: str) -> list[Ref]:
    """A model's input_layers / output_layers: one reference (Keras 3, single) or a list of them."""
    if isinstance(value, list) and value and isinstance(value[0], str):
        return [_ref(value, where)]
    if not isinstance(value, list):
        raise ImportFailure(f"{where}: input_layers/output_layers must be a list, got {_show(value)}")
    return [_ref(item, where) for item in value]


def _node_tensors(value: Any, where: str, depth: int = 0) -> list[Ref]:
    """The Keras 3 tensors in a node's args (in order), found in nested lists."""
    if depth > MAX_NODE_NESTING:
        raise ImportFailure(f"{where}: a call's arguments nest more than {MAX_NODE_NESTING} deep")
    if isinstance(value, dict):
        if value.get("class_name") == "__keras_tensor__":
            config = value.get("config")
            return [_ref(config.get("keras_history") if isinstance(config, dict) else None, where)]
        return [ref for item in value.values() for ref in _node_tensors(item, where, depth + 1)]
    if isinstance(value, list):
        return [ref for item in value for ref in _node_tensors(item, where, depth + 1)]
    return []


def _reads(entry: Mapping[str, Any], where: str) -> list[Ref]:
    """What a Functional model's layer reads, from its one inbound node."""
    nodes = entry.get("inbound_nodes", [])
    if not isinstance(nodes, list):
        raise ImportFailure(f"{where}: inbound_nodes must be a list, got {_show(nodes)}")
    if not nodes:
        return []
    if len(nodes) > 1:
        raise ImportFailure(
            f"{where}: called {len(nodes)} times with shared weights; archcalc would count them {len(nodes)} times"
        )
    node = nodes[0]
    if isinstance(node, dict):  # Keras 3: {"args": [...], "kwargs": {...}}
        if _node_tensors(node.get("kwargs", {}), where):
            raise ImportFailure(f"{where}: a tensor passed as a keyword argument (a mask, a second input)")
        return _node_tensors(node.get("args", []), where)
    if isinstance(node, list):  # Keras 2: [["name", 0, 0, {}], ...]
        return [_ref(item, where) for item in node]
    raise ImportFailure(f"{where}: an inbound node must be a list or an object, got {_show(node)}")


def _order(names: list[str], reads: dict[str, list[Ref]], where: Callable[[str], str]) -> list[str]:
    """Producers before readers, otherwise in the config's order (Keras lists them so already)."""
    position = {name: index for index, name in enumerate(names)}
    waiting = {name: {ref[0] for ref in reads[name]} for name in names}
    readers: dict[str, list[str]] = {}
    for name, producers in waiting.items():
        for producer in producers:
            if producer not in position:
                raise ImportFailure(f"{where(name)}: reads '{_quote(producer)}', which no layer of the model produces")
            readers.setdefault(producer, []).append(name)
    ready = [position[name] for name, producers in waiting.items() if not producers]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        name = names[heapq.heappop(ready)]
        order.append(name)
        for reader in readers.get(name, []):
            waiting[reader].discard(name)
            if not waiting[reader]:
                heapq.heappush(ready, position[reader])
    if len(order) < len(names):
        stuck = next(name for name in names if waiting[name])
        raise ImportFailure(f"{where(stuck)}: its inputs depend on its own output (a cycle)")
    return order


def _is_keras3(top: Mapping[str, Any]) -> bool:
    """Keras 3 writes the module of every object; Keras 2 writes its version at the top."""
    version = top.get("keras_version")
    return "module" in top or (isinstance(version, str) and version.startswith("3"))


# ---------------------------------------------------------------------------------------------------
# one layer's hyper-parameters


@dataclass(frozen=True)
class Layer:
    """One Keras layer: its spec name (nested models' prefixes included), class, config, and where it is."""

    name: str
    cls: str
    config: Mapping[str, Any]
    where: str

    def value(self, key: str, default: Any = ...) -> Any:
        if key not in self.config:
            if default is ...:
                raise ImportFailure(f"{self.where}: no '{key}' in its config")
            return default
        return self.config[key]

    def fail(self, key: str, expected: str) -> ImportFailure:
        return ImportFailure(f"{self.where}: '{key}' must be {expected}, got {_show(self.config.get(key))}")

    def integer(self, key: str, default: Any = ..., minimum: int = 1) -> int:
        value = self.value(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or not minimum <= value <= MAX_INTEGER:
            raise self.fail(key, f"an integer from {minimum} to {MAX_INTEGER:,}")
        return value

    def pair(self, key: str, default: Any = ..., minimum: int = 1) -> tuple[int, int]:
        value = self.value(key, default)
        pair = (value, value) if isinstance(value, int) else tuple(value) if isinstance(value, list) else ()
        if len(pair) != 2 or any(
            not isinstance(v, int) or isinstance(v, bool) or not minimum <= v <= MAX_INTEGER for v in pair
        ):
            raise self.fail(key, f"an integer or two, each from {minimum} to {MAX_INTEGER:,}")
        return pair[0], pair[1]

    def number(self, key: str, default: Any = ...) -> float:
        value = self.value(key, default)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
            raise self.fail(key, "a finite number")
        return value

    def flag(self, key: str, default: bool) -> bool:
        value = self.value(key, default)
        if not isinstance(value, bool):
            raise self.fail(key, "true or false")
        return value

    def choice(self, key: str, default: str, allowed: tuple[str, ...], operation: str) -> str:
        value = self.value(key, default)
        if not isinstance(value, str):
            raise self.fail(key, " or ".join(allowed))
        if value.lower() not in allowed:
            raise unsupported(
                f"{operation} with {key} {_show(value)}", self.where, f"archcalc reads {' or '.join(allowed)}"
            )
        return value.lower()


def _compact(pair: tuple[int, int]) -> int | list[int]:
    return pair[0] if pair[0] == pair[1] else list(pair)


def _window(layer: Layer, kernel_key: str, default_kernel: Any = ...) -> dict[str, Any]:
    """kernel, stride, padding and dilation fields of a conv or pool, only those not at their default."""
    kernel = layer.pair(kernel_key, default_kernel)
    fields: dict[str, Any] = {"kernel": _compact(kernel)}
    pool = kernel_key == "pool_size"
    if pool and layer.value("strides", None) is None:  # a pool's strides=None is its size
        stride = kernel
    else:
        stride = layer.pair("strides", 1)
    if stride != (kernel if pool else (1, 1)):
        fields["stride"] = _compact(stride)
    if layer.choice("padding", "valid", ("valid", "same"), layer.cls) == "same":
        fields["padding"] = "same"  # TensorFlow's SAME rule, which archcalc's 'same' is
    if "dilation_rate" in layer.config and layer.pair("dilation_rate") != (1, 1):
        fields["dilation"] = _compact(layer.pair("dilation_rate"))
    return fields


def _transposed_axis(k: int, s: int, d: int, same: bool, extra: int | None) -> tuple[int, int] | None:
    """(padding, output_padding) giving PyTorch's (n − 1)·s − 2p + d·(k − 1) + op + 1 the size Keras
    computes for a Conv2DTranspose axis; None where symmetric padding cannot."""
    k_eff = d * (k - 1) + 1
    if extra is not None:  # Keras: (n − 1)·s + k_eff − 2·pad + output_padding, pad = k_eff // 2 for same
        return (k_eff // 2 if same else 0), extra
    if not same:  # n·s + max(k_eff − s, 0)
        return (0, 0) if k_eff >= s else (0, s - k_eff)
    if k_eff < s:  # n·s
        return 0, s - k_eff
    pad = -(-(k_eff - s) // 2)
    output_padding = 2 * pad - (k_eff - s)
    return (pad, output_padding) if output_padding < max(s, d) else None


# ---------------------------------------------------------------------------------------------------
# the reader


class _Reader:
    def __init__(self, source: str, input_shape: Shape | None, top: Any) -> None:
        self.source = source
        self.top = _entry(top, f"{source}: the top level")
        self.cls = _class(self.top, source)
        if self.cls not in MODEL_CLASSES:
            raise ImportFailure(f"{source}: the config is a '{_quote(self.cls)}', not a Sequential or Functional model")
        self.keras3 = _is_keras3(self.top)
        self.layout = _survey(self.top, source)
        shape = input_shape or self._declared_input()
        config = _config(self.top, source)
        name = config.get("name") if isinstance(config.get("name"), str) else "Keras model"
        description = f"A Keras {self.cls} model, read from its config (the weights are not read)."
        self.builder = SpecBuilder(name, source, shape, description)
        self.builder.set_input("#input")
        self.input = Tensor("#input")
        self.frozen: list[str] = []  # layers with trainable: false (training state, said in the description)

    def where(self, name: str, cls: str) -> str:
        return f"{self.source}: layer '{_quote(name)}' ({_quote(cls)})"

    # -- the input ------------------------------------------------------------------------------

    def _declared_input(self) -> Shape:
        """The model's input as its InputLayer (or first layer) declares it, as archcalc's [C, H, W]."""
        batch_shape = self._input_batch_shape(self.top, 0)
        dims = list(batch_shape[1:]) if isinstance(batch_shape, list) else None
        if dims is not None and len(dims) == 1:
            raise ImportFailure(
                f"{self.source}: the input {_show_shape(batch_shape)} is flat; archcalc's networks take a "
                "C×H×W map (a Dense-only model has nothing to convolve)"
            )
        if (
            dims is None
            or len(dims) != 3
            or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in dims)
        ):
            shown = _show_shape(batch_shape) if isinstance(batch_shape, list) else "not declared"
            raise ImportFailure(f"{self.source}: the model's input is {shown}: give its size with --input CxHxW")
        if self.layout == CHANNELS_FIRST:
            return dims[0], dims[1], dims[2]
        return dims[2], dims[0], dims[1]

    def _input_batch_shape(self, model: Mapping[str, Any], depth: int) -> Any:
        config = _config(model, self.source)
        layers = _layers(model, self.source)
        if _class(model, self.source) != "Sequential":
            inputs = _refs(config.get("input_layers", []), self.source)
            if len(inputs) != 1:
                raise ImportFailure(f"{self.source}: the model has {len(inputs)} inputs; archcalc's networks have one")
            entry = next((e for e in layers if isinstance(e, dict) and _name(e, self.source) == inputs[0][0]), None)
            return _batch_shape(_config(entry, self.source)) if entry is not None else None
        if layers and isinstance(layers[0], dict):
            first = layers[0]
            if first.get("class_name") in MODEL_CLASSES and depth < MAX_MODEL_NESTING:
                return self._input_batch_shape(first, depth + 1)
            declared = _batch_shape(_config(first, self.source))
            if declared is not None:
                return declared
        return config.get("build_input_shape")

    # -- building --------------------------------------------------------------------------------

    def build(self) -> dict[str, Any]:
        self.model(self.top, "", None)
        doc = self.builder.mapping()
        if self.frozen:
            names = ", ".join(clean_name(n, "?") for n in self.frozen[:5])
            more = f" and {len(self.frozen) - 5:,} more" if len(self.frozen) > 5 else ""
            doc["description"] += f" Frozen in Keras (trainable: false), counted as trainable here: {names}{more}."
        return doc

    def emit(self, kind: str, name: str, reads: list[Tensor], **fields: Any) -> str:
        """Append one spec layer reading `reads`; returns the key of the tensor it makes."""
        key = f"#{len(self.builder.doc['layers'])}"
        self.builder.add(kind, name, [t.key for t in reads], output=key, **fields)
        return key

    def shape(self, x: Tensor) -> Shape:
        """x's shape by archcalc's own rules (each layer inferred once, in order)."""
        try:
            return self.builder.shape(x.key)
        except SpecError as error:
            raise error.located(path=self.source) from None

    def model(self, entry: Mapping[str, Any], prefix: str, bound: list[Tensor] | None) -> list[Tensor]:
        if _class(entry, self.source) == "Sequential":
            return self.sequential(entry, prefix, bound)
        return self.functional(entry, prefix, bound)

    def sequential(self, entry: Mapping[str, Any], prefix: str, bound: list[Tensor] | None) -> list[Tensor]:
        if bound is not None and len(bound) != 1:
            raise ImportFailure(
                f"{self.source}: Sequential '{_quote(prefix[:-1])}' takes one input, given {len(bound)}"
            )
        x = bound[0] if bound else self.input
        for index, item in enumerate(_layers(entry, self.source)):
            layer = _entry(item, self.source)
            cls = _class(layer, self.source)
            if cls == "InputLayer":
                if index:
                    raise ImportFailure(
                        f"{self.where(prefix + _name(layer, self.source), cls)}: an input in the middle of a Sequential"
                    )
                continue
            outputs = self.layer(layer, prefix, [x])
            if len(outputs) != 1:
                raise ImportFailure(
                    f"{self.where(prefix + _name(layer, self.source), cls)}: a Sequential's layer must have one output"
                )
            x = outputs[0]
        return [x]

    def functional(self, entry: Mapping[str, Any], prefix: str, bound: list[Tensor] | None) -> list[Tensor]:
        config = _config(entry, self.source)
        layers: dict[str, Mapping[str, Any]] = {}
        for item in _layers(entry, self.source):
            layer = _entry(item, self.source)
            name = _name(layer, self.source)
            if name in layers:
                raise ImportFailure(
                    f"{self.where(prefix + name, _class(layer, self.source))}: two layers have this name"
                )
            layers[name] = layer

        def where(name: str) -> str:
            return self.where(prefix + name, _class(layers[name], self.source))

        reads = {name: _reads(layer, where(name)) for name, layer in layers.items()}
        inputs = _refs(config.get("input_layers", []), self.source)
        given = bound if bound is not None else [self.input]
        if len(inputs) != len(given):
            raise ImportFailure(f"{self.source}: the model has {len(inputs)} inputs, given {len(given)}")
        tensors: dict[Ref, Tensor] = dict(zip(inputs, given, strict=True))
        for name in _order(list(layers), reads, where):
            layer = layers[name]
            if _class(layer, self.source) == "InputLayer":
                if (name, 0) not in tensors:
                    raise ImportFailure(f"{where(name)}: an input that is not among the model's input_layers")
                continue
            args = [self._tensor(tensors, ref, where(name)) for ref in reads[name]]
            for index, tensor in enumerate(self.layer(layer, prefix, args)):
                tensors[(name, index)] = tensor
        return [
            self._tensor(tensors, ref, f"{self.source}: the model's output_layers")
            for ref in _refs(config.get("output_layers", []), self.source)
        ]

    def _tensor(self, tensors: dict[Ref, Tensor], ref: Ref, where: str) -> Tensor:
        if ref not in tensors:
            raise ImportFailure(
                f"{where}: reads output {ref[1]} of '{_quote(ref[0])}', which that layer does not produce"
            )
        return tensors[ref]

    def layer(self, entry: Mapping[str, Any], prefix: str, inputs: list[Tensor]) -> list[Tensor]:
        cls = _class(entry, self.source)
        name = prefix + _name(entry, self.source)
        where = self.where(name, cls)
        if _config(entry, where).get("trainable") is False:
            self.frozen.append(name)
        if cls in MODEL_CLASSES:  # a model used as a layer: its layers, inlined under its name
            return self.model(entry, name + "/", inputs)
        handler = HANDLERS.get(cls)
        if handler is None:
            raise unsupported(
                f"Keras layer class '{_quote(cls)}'",
                where,
                f"the Keras classes archcalc reads: {', '.join(sorted(set(HANDLERS) - {'Cropping2D'}))}",
            )
        layer = Layer(name, cls, _config(entry, where), where)
        for key in ("lora_rank", "quantization_config"):  # extra weights the layer's own fields do not show
            if layer.config.get(key):
                raise unsupported(f"{cls} with {key}", where)
        return [handler(self, layer, inputs)]

    # -- pieces the handlers share ----------------------------------------------------------------

    def activation(self, layer: Layer, x: Tensor, value: Any, name: str | None = None) -> Tensor:
        """A fused ``activation=`` (or an Activation layer) as its own layer; 'linear' adds nothing."""
        spec = self.activation_kind(layer, value)
        if spec is None:
            return x
        kind, fields = spec
        return _keep(x, self.emit(kind, name or f"{layer.name}/{kind}", [x], **fields))

    def activation_kind(self, layer: Layer, value: Any) -> tuple[str, dict[str, Any]] | None:
        if isinstance(value, dict) and value.get("class_name") == "function":  # Keras 3's serialised function
            value = value.get("config")
        if value is None or value == "linear":
            return None
        if not isinstance(value, str):
            raise unsupported(f"activation {_show(value)}", layer.where, "archcalc reads Keras's named activations")
        if value == "selu":
            raise unsupported(
                "activation 'selu'", layer.where, "SELU is λ·ELU with fixed λ and α; archcalc has elu without the scale"
            )
        if value == "hard_sigmoid" and not self.keras3:
            raise unsupported(
                "Keras 2's hard_sigmoid",
                layer.where,
                "clip(0.2x + 0.5), not PyTorch's hardsigmoid relu6(x + 3)/6 that Keras 3 uses",
            )
        if value not in ACTIVATIONS:
            raise unsupported(f"activation '{_quote(value)}'", layer.where)
        return ACTIVATIONS[value]

    def channel_axes(self, x: Tensor) -> tuple[int, int]:
        """The axis numbers (batch included) that name x's channels (a flat tensor's features)."""
        if x.flat:
            return 1, -1
        return (3, -1) if self.layout == CHANNELS_LAST else (1, -3)

    def over_channels(self, layer: Layer, key: str, x: Tensor, default: Any = -1) -> None:
        axis = layer.value(key, default)
        if isinstance(axis, list) and len(axis) == 1:
            axis = axis[0]
        if axis not in self.channel_axes(x) or isinstance(axis, bool):
            side = "features" if x.flat else "channels"
            raise unsupported(
                f"{layer.cls} over axis {_show(axis)}",
                layer.where,
                f"archcalc's works on the {side}: axis {self.channel_axes(x)[1]}",
            )


def _batch_shape(config: Mapping[str, Any]) -> Any:
    return config.get("batch_shape", config.get("batch_input_shape"))


def _show_shape(shape: list[Any]) -> str:
    return "(" + ", ".join("None" if v is None else _show(v) for v in shape[:8]) + ")"


def _keep(x: Tensor, key: str) -> Tensor:
    """The tensor a shape-keeping layer makes from x."""
    return Tensor(key, x.flat)


def _one(layer: Layer, inputs: list[Tensor], need_map: bool = True) -> Tensor:
    if len(inputs) != 1:
        raise ImportFailure(f"{layer.where}: reads {len(inputs)} tensors; it takes one")
    if need_map and inputs[0].flat:
        raise ImportFailure(f"{layer.where}: reads a flat tensor; {layer.cls} needs a (H, W, C) map")
    return inputs[0]


def _bias(layer: Layer) -> dict[str, Any]:
    return {} if layer.flag("use_bias", True) else {"bias": False}


def _affine(layer: Layer) -> dict[str, Any]:
    """Keras's center (β) and scale (γ) as archcalc's affine: both or neither."""
    center, scale = layer.flag("center", True), layer.flag("scale", True)
    if center != scale:
        raise unsupported(
            f"{layer.cls} with only {'center' if center else 'scale'}",
            layer.where,
            "archcalc's affine has γ and β together",
        )
    return {} if center else {"affine": False}


def _depthwise_channels(r: _Reader, layer: Layer, x: Tensor) -> int:
    """C × depth_multiplier, C the input channels archcalc computes."""
    channels = r.shape(x)[0] * layer.integer("depth_multiplier", 1)
    if channels > MAX_INTEGER:
        raise ImportFailure(f"{layer.where}: depth_multiplier makes {channels:,} channels, more than {MAX_INTEGER:,}")
    return channels


# ---------------------------------------------------------------------------------------------------
# the layers, one function each


def _conv2d(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
    x = _one(layer, inputs)
    filters = layer.integer("filters")
    groups = layer.integer("groups", 1)
    fields = _window(layer, "kernel_size") | ({"groups": groups} if groups != 1 else {}) | _bias(layer)
    y = Tensor(r.emit("conv", layer.name, [x], out_channels=filters, **fields))
    return r.activation(layer, y, layer.value("activation", None))


def _depthwise_conv2d(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
    x = _one(layer, inputs)
    fields = _window(layer, "kernel_size") | {"groups": "depthwise"} | _bias(layer)
    y = Tensor(r.emit("conv", layer.name, [x], out_channels=_depthwise_channels(r, layer, x), **fields))
    return r.activation(layer, y, layer.value("activation", None))


def _separable_conv2d(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
    """A depthwise convolution (no bias) and a 1×1 pointwise one: Keras's depthwise and pointwise kernels."""
    x = _one(layer, inputs)
    out, filters = _depthwise_channels(r, layer, x), layer.integer("filters")
    fields = _window(layer, "kernel_size") | {"groups": "depthwise", "bias": False}
    depthwise = Tensor(r.emit("conv", f"{layer.name}/depthwise", [x], out_channels=out, **fields))
    pointwise = r.emit("conv", f"{layer.name}/pointwise", [depthwise], out_channels=filters, kernel=1, **_bias(layer))
    return r.activation(layer, Tensor(pointwise), layer.value("activation", None))


def _conv2d_transpose(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
    x = _one(layer, inputs)
    filters = layer.integer("filters")
    (kh, kw), (sh, sw) = layer.pair("kernel_size"), layer.pair("strides", 1)
    (dh, dw) = layer.pair("dilation_rate", 1)
    same = layer.choice("padding", "valid", ("valid", "same"), layer.cls) == "same"
    extra = layer.value("output_padding", None)
    (oh, ow) = (None, None) if extra is None else layer.pair("output_padding", minimum=0)
    axes = (_transposed_axis(kh, sh, dh, same, oh), _transposed_axis(kw, sw, dw, same, ow))
    if None in axes:
        raise unsupported(
            f"{layer.cls} with padding 'same', stride 1 and an even kernel",
            layer.where,
            "it pads one side more, which ConvTranspose2d's padding cannot",
        )
    (ph, oph), (pw, opw) = axes
    fields: dict[str, Any] = {"kernel": _compact((kh, kw))}
    fields |= {"stride": _compact((sh, sw))} if (sh, sw) != (1, 1) else {}
    fields |= {"padding": _compact((ph, pw))} if (ph, pw) != (0, 0) else {}
    fields |= {"output_padding": _compact((oph, opw))} if (oph, opw) != (0, 0) else {}
    fields |= {"dilation": _compact((dh, dw))} if (dh, dw) != (1, 1) else {}
    y = Tensor(r.emit("conv_transpose", layer.name, [x], out_channels=filters, **fields, **_bias(layer)))
    return r.activation(layer, y, layer.value("activation", None))


def _pooling(kind: str) -> Callable[[_Reader, Layer, list[Tensor]], Tensor]:
    def pool(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
        x = _one(layer, inputs)
        return _keep(x, r.emit(kind, layer.name, [x], **_window(layer, "pool_size", 2)))

    return pool


def _global_pooling(kind: str) -> Callable[[_Reader, Layer, list[Tensor]], Tensor]:
    def pool(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
        """[C, 1, 1] with keepdims; Keras's default (None, C) is that map flattened, as a second layer."""
        x = _one(layer, inputs)
        pooled = r.emit(kind, layer.name, [x])
        if layer.flag("keepdims", False):
            return Tensor(pooled)
        return Tensor(r.emit("flatten", f"{layer.name}/flatten", [Tensor(pooled)]), True, pooled)

    return pool


def _dense(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
    x = _one(layer, inputs, need_map=False)
    if not x.flat:
        raise unsupported(
            "Dense on a (H, W, C) map", layer.where,
            "Keras applies it to the channels at every position; archcalc's linear takes a flat input: "
            "a Flatten or GlobalAveragePooling2D before it, or a 1×1 Conv2D",
        )  # fmt: skip
    units = layer.integer("units")
    y = Tensor(r.emit("linear", layer.name, [x], out_features=units, **_bias(layer)), True)
    return r.activation(layer, y, layer.value("activation", None))


def _flatten(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
    x = _one(layer, inputs, need_map=False)
    return Tensor(r.emit("flatten", layer.name, [x]), True)


def _dropout(kind: str, need_map: bool) -> Callable[[_Reader, Layer, list[Tensor]], Tensor]:
    def dropout(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
        x = _one(layer, inputs, need_map)
        return _keep(x, r.emit(kind, layer.name, [x], p=layer.number("rate")))

    return dropout


def _keras_momentum(layer: Layer) -> float:
    """Keras's moving-average momentum m is PyTorch's 1 − m (0.99 → 0.01), computed in decimal."""
    return float(Decimal(1) - Decimal(repr(float(layer.number("momentum", 0.99)))))


def _batch_normalization(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
    x = _one(layer, inputs, need_map=False)
    r.over_channels(layer, "axis", x)
    if layer.flag("renorm", False):
        raise unsupported(
            "BatchNormalization with renorm", layer.where, "its renormalisation statistics are extra weights"
        )
    fields = {"eps": layer.number("epsilon", 1e-3), "momentum": _keras_momentum(layer)} | _affine(layer)
    return _keep(x, r.emit("batchnorm", layer.name, [x], **fields))


def _layer_normalization(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
    x = _one(layer, inputs, need_map=False)
    r.over_channels(layer, "axis", x)
    if layer.flag("rms_scaling", False):
        raise unsupported("LayerNormalization with rms_scaling (RMSNorm)", layer.where)
    fields = {"eps": layer.number("epsilon", 1e-3)} | _affine(layer)
    return _keep(x, r.emit("layernorm", layer.name, [x], **fields))


def _group_normalization(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
    x = _one(layer, inputs)
    r.over_channels(layer, "axis", x)
    fields = {"groups": layer.integer("groups", 32), "eps": layer.number("epsilon", 1e-3)} | _affine(layer)
    return _keep(x, r.emit("groupnorm", layer.name, [x], **fields))


def _activation_layer(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
    x = _one(layer, inputs, need_map=False)
    if r.activation_kind(layer, layer.value("activation")) is None:  # Activation('linear'): kept, visibly
        return _keep(x, r.emit("identity", layer.name, [x]))
    return r.activation(layer, x, layer.value("activation"), layer.name)


def _relu(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
    x = _one(layer, inputs, need_map=False)
    ceiling, slope = layer.value("max_value", None), layer.number("negative_slope", 0.0)
    if layer.number("threshold", 0.0) != 0:
        raise unsupported("ReLU with a threshold", layer.where)
    if ceiling is None:
        kind, fields = ("relu", {}) if slope == 0 else ("leaky_relu", {"negative_slope": slope})
    elif layer.number("max_value") == 6 and slope == 0:
        kind, fields = "relu6", {}
    else:
        raise unsupported(
            f"ReLU with max_value {_show(ceiling)} and negative_slope {slope}",
            layer.where,
            "archcalc has relu6 and leaky_relu",
        )
    return _keep(x, r.emit(kind, layer.name, [x], **fields))


def _leaky_relu(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
    x = _one(layer, inputs, need_map=False)
    slope = layer.number("negative_slope" if "negative_slope" in layer.config else "alpha", 0.3)  # Keras 2: alpha
    return _keep(x, r.emit("leaky_relu", layer.name, [x], negative_slope=slope))


def _prelu(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
    """Keras learns one slope per element unless shared_axes say otherwise; archcalc: per channel, or one."""
    x = _one(layer, inputs, need_map=False)
    shared = layer.value("shared_axes", None)
    shared = [shared] if isinstance(shared, int) else shared
    if shared is not None and not (isinstance(shared, list) and all(isinstance(a, int) for a in shared)):
        raise layer.fail("shared_axes", "null or a list of axes")
    axes = None if shared is None else tuple(sorted(shared))
    spatial = (1, 2) if r.layout == CHANNELS_LAST else (2, 3)
    choices = {None: True, (1,): False} if x.flat else {spatial: True, (1, 2, 3): False}  # True: per channel
    per_channel = choices.get(axes)
    if per_channel is None:
        raise unsupported(
            f"PReLU with shared_axes {list(axes) if axes else None}", layer.where,
            "archcalc's prelu has one slope per channel (shared_axes = the spatial axes) or one in all",
        )  # fmt: skip
    return _keep(x, r.emit("prelu", layer.name, [x], **({"per_channel": True} if per_channel else {})))


def _elu(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
    x = _one(layer, inputs, need_map=False)
    alpha = layer.number("alpha", 1.0)
    return _keep(x, r.emit("elu", layer.name, [x], **({"alpha": alpha} if alpha != 1 else {})))


def _softmax(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
    x = _one(layer, inputs, need_map=False)
    r.over_channels(layer, "axis", x)
    return _keep(x, r.emit("softmax", layer.name, [x]))


def _merge(kind: str) -> Callable[[_Reader, Layer, list[Tensor]], Tensor]:
    def merge(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
        if len(inputs) < 2 or len({t.flat for t in inputs}) > 1:
            raise ImportFailure(f"{layer.where}: needs two or more inputs, all maps or all flat")
        if kind == "concat":
            r.over_channels(layer, "axis", inputs[0])
        return Tensor(r.emit(kind, layer.name, inputs), inputs[0].flat)

    return merge


def _zero_padding(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
    x = _one(layer, inputs)
    padding = layer.value("padding", 1)
    if isinstance(padding, list) and len(padding) == 2 and all(isinstance(p, list) for p in padding):
        sides = [*_pair_of(layer, padding[0]), *_pair_of(layer, padding[1])]  # ((top, bottom), (left, right))
    else:
        sides = list(layer.pair("padding", 1, minimum=0))
    return _keep(x, r.emit("zeropad", layer.name, [x], padding=sides))


def _pair_of(layer: Layer, value: Any) -> tuple[int, int]:
    if len(value) != 2 or any(not isinstance(v, int) or isinstance(v, bool) or v < 0 for v in value):
        raise layer.fail("padding", "((top, bottom), (left, right)) of integers ≥ 0")
    return value[0], value[1]


def _upsampling(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
    x = _one(layer, inputs)
    mode = layer.choice("interpolation", "nearest", ("nearest", "bilinear"), layer.cls)
    fields = {"scale": _compact(layer.pair("size", 2))} | ({"mode": mode} if mode != "nearest" else {})
    return _keep(x, r.emit("upsample", layer.name, [x], **fields))


def _cropping(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
    raise unsupported(
        "Cropping2D by fixed amounts", layer.where,
        "archcalc's crop centre-crops to the size of a reference layer (inputs: [x, ref]), as U-Net does; "
        "write that layer in the spec by hand",
    )  # fmt: skip


def _reshape(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
    """Read only where it provably moves no value: (-1,) or (N,) of a map is a Flatten, (N,) of a flat
    tensor a no-op, (1, 1, C) right after a global pool's flatten its [C, 1, 1] map again; the sizes
    are archcalc's."""
    x = _one(layer, inputs, need_map=False)
    target = layer.value("target_shape")
    dims = tuple(target) if isinstance(target, list) and all(type(v) is int for v in target) else ()
    if len(dims) == 1:
        kind = "identity" if x.flat else "flatten"
        y = Tensor(r.emit(kind, layer.name, [x]), True)
        if dims[0] != -1 and r.shape(y) != dims:
            raise ImportFailure(
                f"{layer.where}: reshapes to {list(dims)}, but archcalc computes {list(r.shape(y))} here"
            )
        return y
    if x.pooled is not None and _restores_pool(dims, r.shape(Tensor(x.pooled))[0], r.layout):
        return Tensor(r.emit("identity", layer.name, [Tensor(x.pooled)]))
    raise unsupported(
        f"Reshape to {_show_shape(target) if isinstance(target, list) else _show(target)}", layer.where,
        "archcalc reads a Reshape only as a Flatten, a no-op, or (1, 1, C) right after global pooling",
    )  # fmt: skip


def _restores_pool(dims: tuple[int, ...], channels: int, layout: str) -> bool:
    """(1, 1, C) (or (1, 1, -1); channels first (C, 1, 1)): a global pool's [C, 1, 1] map."""
    wanted = [(1, 1, c) if layout == CHANNELS_LAST else (c, 1, 1) for c in (channels, -1)]
    return dims in wanted


def _permute(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
    x = _one(layer, inputs, need_map=False)
    dims = layer.value("dims")
    if dims not in ([1, 2, 3], [1]):
        raise unsupported(
            f"Permute {_show_shape(dims) if isinstance(dims, list) else _show(dims)}",
            layer.where,
            "only the identity order is a no-op",
        )
    return _keep(x, r.emit("identity", layer.name, [x]))


def _identity(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
    """A layer that changes values, not shapes, and has no weights (Rescaling, Identity): kept as
    ``identity`` under its own name, so that nothing disappears from the table."""
    x = _one(layer, inputs, need_map=False)
    return _keep(x, r.emit("identity", layer.name, [x]))


def _normalization(r: _Reader, layer: Layer, inputs: list[Tensor]) -> Tensor:
    if layer.value("mean", None) is None or layer.value("variance", None) is None:
        raise unsupported(
            "an adapted Normalization layer", layer.where,
            "it keeps its mean, variance and count as 2C + 1 non-trainable weights, which no kind counts; "
            "with mean= and variance= given in the config it has none and is read as identity",
        )  # fmt: skip
    return _identity(r, layer, inputs)


HANDLERS: dict[str, Callable[[_Reader, Layer, list[Tensor]], Tensor]] = {
    "Conv2D": _conv2d,
    "DepthwiseConv2D": _depthwise_conv2d,
    "SeparableConv2D": _separable_conv2d,
    "Conv2DTranspose": _conv2d_transpose,
    "MaxPooling2D": _pooling("maxpool"),
    "AveragePooling2D": _pooling("avgpool"),  # 'same' leaves the padding out of the averages, as TensorFlow
    "GlobalAveragePooling2D": _global_pooling("global_avgpool"),
    "GlobalMaxPooling2D": _global_pooling("global_maxpool"),
    "Dense": _dense,
    "Flatten": _flatten,
    "Dropout": _dropout("dropout", need_map=False),
    "SpatialDropout2D": _dropout("dropout2d", need_map=True),
    "BatchNormalization": _batch_normalization,
    "LayerNormalization": _layer_normalization,
    "GroupNormalization": _group_normalization,
    "Activation": _activation_layer,
    "ReLU": _relu,
    "LeakyReLU": _leaky_relu,
    "PReLU": _prelu,
    "ELU": _elu,
    "Softmax": _softmax,
    "Concatenate": _merge("concat"),
    "Add": _merge("add"),
    "Multiply": _merge("multiply"),
    "ZeroPadding2D": _zero_padding,
    "UpSampling2D": _upsampling,
    "Cropping2D": _cropping,
    "Reshape": _reshape,
    "Permute": _permute,
    "Identity": _identity,
    "Rescaling": _identity,
    "Normalization": _normalization,
}
