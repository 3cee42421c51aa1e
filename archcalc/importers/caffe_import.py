"""Caffe: a deploy.prototxt read by a small parser of its own (no Caffe, no protobuf compiler needed).

The protobuf text format is parsed into plain messages, bounded in file size, nesting depth and
layer count; then every layer of the inference net (Caffe's TEST phase) is translated into
archcalc's kinds with Caffe's own defaults and rules (caffe.proto and each layer's ``LayerSetUp``).
The importer translates hyper-parameters only: shapes come from archcalc's engine. Every layer
keeps the line its block starts on, so an error found here or in validation points at the prototxt.
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ImportFailure, SpecError
from ..kinds import Shape
from ..spec import BLOCK_INPUT
from ..yamlload import YList, YMap
from .builder import SpecBuilder, unsupported

MAX_BYTES = 4 * 1024 * 1024  # the same cap as a YAML spec; real deploy files are well under 1 MB
MAX_DEPTH = 64  # a prototxt nests 3 or 4 deep
MAX_LAYERS = 100_000
UINT32_MAX = 2**32 - 1

# --- the protobuf text format ---------------------------------------------------------------------

_TOKEN = re.compile(
    r"""
      (?P<space>[ \t\r\f\v]+)
    | (?P<newline>\n)
    | (?P<comment>\#[^\n]*)
    | (?P<string>"(?:[^"\\\n]|\\[^\n])*"|'(?:[^'\\\n]|\\[^\n])*')
    | (?P<number>[-+]?(?:0[xX][0-9a-fA-F]+|(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?[fF]?))
    | (?P<word>-?[A-Za-z_][A-Za-z0-9_]*)
    | (?P<punct>[{}<>\[\]:;,])
    | (?P<bad>.)
    """,
    re.VERBOSE | re.DOTALL,
)
_SKIPPED = frozenset({"space", "newline", "comment"})
_CLOSERS = {"{": "}", "<": ">"}
_ESCAPE = re.compile(rb"\\(?:([0-7]{1,3})|x([0-9a-fA-F]{1,2})|(.))", re.DOTALL)
_SIMPLE_ESCAPES = {b"a": 7, b"b": 8, b"f": 12, b"n": 10, b"r": 13, b"t": 9, b"v": 11}
_SIMPLE_ESCAPES.update({c: ord(c) for c in (b"\\", b"'", b'"', b"?")})


@dataclass(slots=True)
class Scalar:
    """One value as written: ``kind`` is ``string`` (``text`` decoded), ``number`` or ``word``."""

    kind: str
    text: str
    line: int


@dataclass(slots=True)
class Message:
    """A ``{ ... }`` block (or the whole file): its fields by name, each with every value given."""

    line: int
    fields: dict[str, list[Scalar | Message]] = field(default_factory=dict)

    def add(self, name: str, value: Scalar | Message) -> None:
        self.fields.setdefault(name, []).append(value)

    def all(self, name: str) -> list[Scalar | Message]:
        return self.fields.get(name, [])


class _Tokens:
    """The significant tokens of the text, one at a time, each with its line."""

    def __init__(self, text: str, path: str) -> None:
        self._matches = _TOKEN.finditer(text)
        self._path = path
        self._line = 1
        self._ahead: tuple[str, str, int] | None = None
        self.last_line = 1

    def _scan(self) -> tuple[str, str, int] | None:
        for match in self._matches:
            kind = match.lastgroup
            if kind == "newline":
                self._line += 1
            elif kind == "bad":
                char = match.group()
                what = "an unterminated string" if char in "\"'" else f"unexpected character {char!r}"
                raise syntax_error(self._path, self._line, what)
            elif kind not in _SKIPPED:
                return kind, match.group(), self._line  # type: ignore[return-value]
        return None

    def peek(self) -> tuple[str, str, int] | None:
        if self._ahead is None:
            self._ahead = self._scan()
        return self._ahead

    def next(self) -> tuple[str, str, int] | None:
        token = self.peek()
        self._ahead = None
        if token is not None:
            self.last_line = token[2]
        return token


def syntax_error(path: str, line: int, message: str) -> ImportFailure:
    return ImportFailure(f"{path}:{line}: {message}")


def parse_prototxt(text: str, path: str) -> Message:
    """The text format as messages; nesting deeper than MAX_DEPTH is refused, not recursed into."""
    tokens = _Tokens(text, path)
    root = Message(1)
    _read_fields(tokens, root, None, 0, path)
    return root


def _is(token: tuple[str, str, int] | None, *punctuation: str) -> bool:
    return token is not None and token[0] == "punct" and token[1] in punctuation


def _read_fields(tokens: _Tokens, message: Message, closer: str | None, depth: int, path: str) -> None:
    """Fields until `closer` (or the end of the file for the top level): ``name: value``,
    ``name { ... }`` (or ``name: { ... }``, ``< ... >``), ``name: [v1, v2]``; each optionally followed by ; or ,."""
    while True:
        token = tokens.next()
        if token is None:
            if closer is not None:
                opener = "{" if closer == "}" else "<"
                raise syntax_error(path, message.line, f"'{opener}' opened here is never closed (the file ends first)")
            return
        kind, name, line = token
        if closer is not None and _is(token, closer):
            return
        if kind != "word" or name.startswith("-"):
            expected = "a field name" + (f" or '{closer}'" if closer else "")
            raise syntax_error(path, line, f"expected {expected}, got {name!r}")
        colon = _is(tokens.peek(), ":")
        if colon:
            tokens.next()
        ahead = tokens.peek()
        if _is(ahead, *_CLOSERS):
            tokens.next()
            if depth + 1 > MAX_DEPTH:
                raise syntax_error(path, ahead[2], f"nested more than {MAX_DEPTH} levels deep")  # type: ignore[index]
            child = Message(ahead[2])  # type: ignore[index]
            _read_fields(tokens, child, _CLOSERS[ahead[1]], depth + 1, path)  # type: ignore[index]
            message.add(name, child)
        elif not colon:
            got = "the end of the file" if ahead is None else repr(ahead[1])
            raise syntax_error(path, ahead[2] if ahead else line, f"expected ':' or '{{' after '{name}', got {got}")
        elif _is(ahead, "["):
            for value in _read_list(tokens, name, path):
                message.add(name, value)
        else:
            message.add(name, _read_scalar(tokens, name, line, path))
        if _is(tokens.peek(), ";", ","):
            tokens.next()


def _read_list(tokens: _Tokens, name: str, path: str) -> list[Scalar]:
    """``[v1, v2, ...]``: the list form of a repeated field (of plain values)."""
    opening = tokens.next()
    values: list[Scalar] = []
    if _is(tokens.peek(), "]"):
        tokens.next()
        return values
    while True:
        values.append(_read_scalar(tokens, name, opening[2], path))  # type: ignore[index]
        token = tokens.next()
        if _is(token, "]"):
            return values
        if not _is(token, ","):
            got = "the end of the file" if token is None else repr(token[1])
            line = token[2] if token else opening[2]  # type: ignore[index]
            raise syntax_error(path, line, f"'{name}': expected ',' or ']', got {got}")


def _read_scalar(tokens: _Tokens, name: str, line: int, path: str) -> Scalar:
    token = tokens.next()
    if token is None or token[0] not in ("string", "number", "word"):
        got = "the end of the file" if token is None else repr(token[1])
        raise syntax_error(path, token[2] if token else line, f"'{name}': expected a value, got {got}")
    kind, text, at = token
    if kind != "string":
        return Scalar(kind, text, at)
    parts = [_unquote(text, path, at)]
    while (ahead := tokens.peek()) is not None and ahead[0] == "string":  # "ab" "cd" is "abcd"
        parts.append(_unquote(ahead[1], path, at))
        tokens.next()
    return Scalar("string", "".join(parts), at)


def _unquote(quoted: str, path: str, line: int) -> str:
    """A quoted string's text with C escapes (\\n, \\", \\101, \\x41) decoded, as protobuf does."""

    def one(match: re.Match[bytes]) -> bytes:
        octal, hexa, char = match.groups()
        if octal is not None:
            return bytes([int(octal, 8) & 0xFF])
        if hexa is not None:
            return bytes([int(hexa, 16)])
        if char not in _SIMPLE_ESCAPES:
            raise syntax_error(path, line, f"invalid escape '\\{char.decode('utf-8', 'replace')}' in a string")
        return bytes([_SIMPLE_ESCAPES[char]])

    raw = _ESCAPE.sub(one, quoted[1:-1].encode("utf-8"))
    return raw.decode("utf-8", errors="replace")


# --- reading the file -------------------------------------------------------------------------------


def read_text(path: str) -> str:
    """The file's text; refused if it is missing, too large, binary or not UTF-8."""
    file = Path(path)
    try:
        if not file.is_file():
            raise ImportFailure(f"{path}: no such file" if not file.exists() else f"{path}: not a file")
        size = file.stat().st_size
        if size > MAX_BYTES:
            raise ImportFailure(f"{path}: file is too large ({size:,} bytes; the limit is {MAX_BYTES:,})")
        with file.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except OSError as error:
        raise ImportFailure(f"{path}: cannot read the file ({error.strerror or error})") from None
    if len(data) > MAX_BYTES:
        raise ImportFailure(f"{path}: file is too large (over {MAX_BYTES:,} bytes, the limit)")
    if b"\x00" in data:
        raise ImportFailure(
            f"{path}: this is not a prototxt text file (it contains binary data; "
            "a .caffemodel holds weights, archcalc reads the deploy .prototxt)"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise ImportFailure(f"{path}: this is not a UTF-8 text file (byte {error.start} cannot be decoded)") from None


# --- Caffe's messages: which fields exist, and typed access with located errors ------------------------

_NET_FIELDS = frozenset(
    {"name", "input", "input_shape", "input_dim", "force_backward", "state", "debug_info", "layer", "layers"}
)
_LAYER_FIELDS = frozenset(
    "name type bottom top phase loss_weight param blobs propagate_down include exclude transform_param "
    "loss_param accuracy_param argmax_param batch_norm_param bias_param clip_param concat_param "
    "contrastive_loss_param convolution_param crop_param data_param dropout_param dummy_data_param "
    "eltwise_param elu_param embed_param exp_param flatten_param hdf5_data_param hdf5_output_param "
    "hinge_loss_param image_data_param infogain_loss_param inner_product_param input_param log_param "
    "lrn_param memory_data_param mvn_param parameter_param pooling_param power_param prelu_param "
    "python_param recurrent_param reduction_param relu_param reshape_param scale_param sigmoid_param "
    "softmax_param spp_param slice_param swish_param tanh_param threshold_param tile_param "
    "window_data_param".split()
)
# the old (V1) layer message, `layers { type: CONVOLUTION ... }`
_V1_LAYER_FIELDS = frozenset(
    "name type bottom top include exclude blobs param blob_share_mode blobs_lr weight_decay loss_weight "
    "accuracy_param argmax_param concat_param contrastive_loss_param convolution_param data_param "
    "dropout_param dummy_data_param eltwise_param exp_param hdf5_data_param hdf5_output_param "
    "hinge_loss_param image_data_param infogain_loss_param inner_product_param lrn_param memory_data_param "
    "mvn_param pooling_param power_param relu_param sigmoid_param softmax_param slice_param tanh_param "
    "threshold_param window_data_param transform_param loss_param".split()
)
# V1's type enum → today's type names (Caffe's UpgradeV1LayerType)
_V1_TYPES = {
    "ABSVAL": "AbsVal", "ACCURACY": "Accuracy", "ARGMAX": "ArgMax", "BNLL": "BNLL", "CONCAT": "Concat",
    "CONTRASTIVE_LOSS": "ContrastiveLoss", "CONVOLUTION": "Convolution", "DECONVOLUTION": "Deconvolution",
    "DATA": "Data", "DROPOUT": "Dropout", "DUMMY_DATA": "DummyData", "EUCLIDEAN_LOSS": "EuclideanLoss",
    "ELTWISE": "Eltwise", "EXP": "Exp", "FLATTEN": "Flatten", "HDF5_DATA": "HDF5Data",
    "HDF5_OUTPUT": "HDF5Output", "HINGE_LOSS": "HingeLoss", "IM2COL": "Im2col", "IMAGE_DATA": "ImageData",
    "INFOGAIN_LOSS": "InfogainLoss", "INNER_PRODUCT": "InnerProduct", "LRN": "LRN",
    "MEMORY_DATA": "MemoryData", "MULTINOMIAL_LOGISTIC_LOSS": "MultinomialLogisticLoss", "MVN": "MVN",
    "POOLING": "Pooling", "POWER": "Power", "RELU": "ReLU", "SIGMOID": "Sigmoid",
    "SIGMOID_CROSS_ENTROPY_LOSS": "SigmoidCrossEntropyLoss", "SILENCE": "Silence", "SOFTMAX": "Softmax",
    "SOFTMAX_LOSS": "SoftmaxWithLoss", "SPLIT": "Split", "SLICE": "Slice", "TANH": "TanH",
    "WINDOW_DATA": "WindowData", "THRESHOLD": "Threshold",
}  # fmt: skip
_DATA_TYPES = frozenset(
    {"Data", "ImageData", "HDF5Data", "MemoryData", "WindowData", "DummyData", "AnnotatedData", "VideoData"}
)
_PARAM_FIELDS = {
    "convolution_param": frozenset(
        "num_output bias_term pad kernel_size stride dilation pad_h pad_w kernel_h kernel_w stride_h stride_w "
        "group weight_filler bias_filler engine axis force_nd_im2col".split()
    ),
    "pooling_param": frozenset(
        "pool pad pad_h pad_w kernel_size kernel_h kernel_w stride stride_h stride_w engine global_pooling "
        "round_mode".split()
    ),
    "inner_product_param": frozenset("num_output bias_term weight_filler bias_filler axis transpose".split()),
    "relu_param": frozenset({"negative_slope", "engine"}),
    "sigmoid_param": frozenset({"engine"}),
    "tanh_param": frozenset({"engine"}),
    "lrn_param": frozenset({"local_size", "alpha", "beta", "norm_region", "k", "engine"}),
    "dropout_param": frozenset({"dropout_ratio"}),
    "softmax_param": frozenset({"engine", "axis"}),
    "concat_param": frozenset({"axis", "concat_dim"}),
    "eltwise_param": frozenset({"operation", "coeff", "stable_prod_grad"}),
    "batch_norm_param": frozenset({"use_global_stats", "moving_average_fraction", "eps"}),
    "scale_param": frozenset({"axis", "num_axes", "filler", "bias_term", "bias_filler"}),
    "flatten_param": frozenset({"axis", "end_axis"}),
    "input_param": frozenset({"shape"}),
    "prelu_param": frozenset({"filler", "channel_shared"}),
    "elu_param": frozenset({"alpha"}),
}
_WINDOW_FIELDS = ("kernel_size", "kernel_h", "kernel_w", "pad", "pad_h", "pad_w", "stride", "stride_h", "stride_w")
_RULE_FIELDS = frozenset({"phase", "min_level", "max_level", "stage", "not_stage"})
_STATE_FIELDS = frozenset({"phase", "level", "stage"})
_BOOLS = {"true": True, "True": True, "t": True, "1": True, "false": False, "False": False, "f": False, "0": False}
_INTEGER = re.compile(r"[-+]?(?:0[xX](?P<hex>[0-9a-fA-F]+)|0(?P<octal>[0-7]+)|(?P<decimal>[0-9]+))")


class Fields:
    """A message's fields read as Caffe's types; each error says where: the file, the field's line,
    the layer and the field (``deploy.prototxt:14: layer 'conv1' (type "Convolution"), convolution_param.group``)."""

    def __init__(self, message: Message | None, path: str, where: str, prefix: str = "", line: int = 1) -> None:
        self.message = message if message is not None else Message(line)  # an absent block: all defaults
        self.path = path
        self.where = where
        self.prefix = prefix

    def check(self, known: Collection[str]) -> Fields:
        """Caffe's parser refuses a field its message does not have, and so does this (a misspelt
        ``stirde`` must not silently become the default stride)."""
        for name in self.message.fields:
            if name not in known:
                raise self.fail(name, f"Caffe has no field '{name}' here")
        return self

    def fail(self, name: str, message: str, line: int | None = None) -> ImportFailure:
        if line is None:
            values = self.message.all(name)
            line = values[0].line if values else self.message.line
        label = f"{self.prefix}{name}" if name else self.prefix.rstrip(".")
        return ImportFailure(f"{self.path}:{line}: {self.where}" + (f", {label}" if label else "") + f": {message}")

    def has(self, name: str) -> bool:
        return name in self.message.fields

    def one(self, name: str) -> Scalar | Message | None:
        values = self.message.all(name)
        if len(values) > 1:
            raise self.fail(name, f"given {len(values)} times; it takes one value", values[1].line)
        return values[0] if values else None

    def scalar(self, name: str, value: Scalar | Message) -> Scalar:
        if isinstance(value, Message):
            raise self.fail(name, "expected a value, got a { } block", value.line)
        return value

    def integer(self, name: str, value: Scalar | Message, minimum: int = 0, maximum: int = UINT32_MAX) -> int:
        value = self.scalar(name, value)
        number = _integer(value.text) if value.kind == "number" else None
        if number is None:
            raise self.fail(name, f"expected an integer, got {value.text!r}", value.line)
        if not minimum <= number <= maximum:
            wanted = "a positive integer" if minimum == 1 else f"an integer from {minimum} to {maximum}"
            raise self.fail(name, f"must be {wanted}, got {number}", value.line)
        return number

    def uint(self, name: str, default: int | None = None, minimum: int = 0) -> int | None:
        value = self.one(name)
        return default if value is None else self.integer(name, value, minimum)

    def uints(self, name: str, minimum: int = 0, maximum: int = UINT32_MAX) -> list[int]:
        return [self.integer(name, value, minimum, maximum) for value in self.message.all(name)]

    def int32(self, name: str, default: int) -> int:
        value = self.one(name)
        return default if value is None else self.integer(name, value, -(2**31), 2**31 - 1)

    def real(self, name: str, default: float, minimum: float = -math.inf) -> float:
        value = self.one(name)
        return default if value is None else self._real(name, value, minimum)

    def reals(self, name: str) -> list[float]:
        return [self._real(name, value, -math.inf) for value in self.message.all(name)]

    def _real(self, name: str, value: Scalar | Message, minimum: float) -> float:
        value = self.scalar(name, value)
        number = _real(value)
        if number is None or not math.isfinite(number):
            raise self.fail(name, f"expected a finite number, got {value.text!r}", value.line)
        if number < minimum:
            raise self.fail(name, f"must be at least {minimum:g}, got {number:g}", value.line)
        return number

    def flag(self, name: str, default: bool) -> bool:
        value = self.one(name)
        if value is None:
            return default
        value = self.scalar(name, value)
        if value.kind == "string" or value.text not in _BOOLS:
            raise self.fail(name, f"expected true or false, got {value.text!r}", value.line)
        return _BOOLS[value.text]

    def choice(self, name: str, names: tuple[str, ...], default: str) -> str:
        """An enum, by name or by number (`names` in the order of their numbers)."""
        value = self.one(name)
        if value is None:
            return default
        value = self.scalar(name, value)
        if value.kind == "word" and value.text in names:
            return value.text
        number = _integer(value.text) if value.kind == "number" else None
        if number is not None and 0 <= number < len(names):
            return names[number]
        raise self.fail(name, f"expected one of {', '.join(names)}, got {value.text!r}", value.line)

    def text(self, name: str, value: Scalar | Message) -> str:
        value = self.scalar(name, value)
        if value.kind != "string":
            raise self.fail(name, f'expected a quoted string, got {value.text} (write "{value.text}")', value.line)
        return value.text

    def texts(self, name: str) -> list[str]:
        return [self.text(name, value) for value in self.message.all(name)]

    def block(self, name: str) -> Message | None:
        value = self.one(name)
        if isinstance(value, Scalar):
            raise self.fail(name, f"expected a {{ }} block, got {value.text!r}", value.line)
        return value

    def blocks(self, name: str) -> list[Message]:
        blocks = []
        for value in self.message.all(name):
            if isinstance(value, Scalar):
                raise self.fail(name, f"expected a {{ }} block, got {value.text!r}", value.line)
            blocks.append(value)
        return blocks

    def sub(self, name: str, block: Message | None, known: Collection[str]) -> Fields:
        """A message inside this one, its errors still naming this one's layer."""
        line = block.line if block is not None else self.message.line
        return Fields(block, self.path, self.where, f"{self.prefix}{name}.", line).check(known)


def _integer(text: str) -> int | None:
    """A protobuf text integer: decimal, 0x hexadecimal or 0 octal, with a sign."""
    match = _INTEGER.fullmatch(text)
    if match is None:
        return None
    sign = -1 if text.startswith("-") else 1
    if match["hex"] is not None:
        return sign * int(match["hex"], 16)
    if match["octal"] is not None:
        return sign * int(match["octal"], 8)
    return sign * int(match["decimal"])


def _real(value: Scalar) -> float | None:
    if value.kind == "number":
        whole = _integer(value.text)
        return float(whole) if whole is not None else float(value.text.rstrip("fF"))
    if value.kind == "word" and value.text.lstrip("-").lower() in ("inf", "infinity", "nan"):
        return float(value.text)
    return None


# --- the net: its layers in the TEST phase, and its one input ----------------------------------------


@dataclass(slots=True)
class Layer:
    """One layer block of the inference net, its type in today's spelling."""

    name: str
    type: str
    bottoms: list[str]
    tops: list[str]
    fields: Fields
    known: frozenset[str]  # the fields this layer message has (V1 or today's)

    @property
    def line(self) -> int:
        return self.fields.message.line

    @property
    def where(self) -> str:
        return f"{self.fields.path}:{self.line}: {self.fields.where}"

    def fail(self, message: str) -> ImportFailure:
        return ImportFailure(f"{self.where}: {message}")

    def unsupported(self, operation: str, hint: str = "") -> ImportFailure:
        return unsupported(operation, self.where, hint)

    def params(self, name: str) -> Fields:
        """The layer's `name` block (``convolution_param`` …); all defaults when it is not given."""
        return self.fields.sub(name, self.fields.block(name), _PARAM_FIELDS[name])


@dataclass(frozen=True, slots=True)
class NetState:
    """What Caffe filters layers by: the TEST phase a deploy net runs in, level 0, and the stages
    the file's own ``state`` block names."""

    level: int = 0
    stages: frozenset[str] = frozenset()

    def meets(self, rule: Fields) -> bool:
        """Caffe's StateMeetsRule."""
        if rule.choice("phase", ("TRAIN", "TEST"), "TEST") != "TEST":
            return False
        if rule.has("min_level") and self.level < rule.int32("min_level", 0):
            return False
        if rule.has("max_level") and self.level > rule.int32("max_level", 0):
            return False
        if any(stage not in self.stages for stage in rule.texts("stage")):
            return False
        return not any(stage in self.stages for stage in rule.texts("not_stage"))

    def includes(self, layer: Fields) -> bool:
        """Caffe's FilterNet: with include rules, any one met; else no exclude rule met."""
        includes, excludes = layer.blocks("include"), layer.blocks("exclude")
        if includes and excludes:
            raise layer.fail("include", "give include rules or exclude rules, not both")
        if includes:
            return any(self.meets(layer.sub("include", rule, _RULE_FIELDS)) for rule in includes)
        return not any(self.meets(layer.sub("exclude", rule, _RULE_FIELDS)) for rule in excludes)


def net_layers(net: Fields) -> list[Layer]:
    """The layers of the inference net in file order (``layer`` blocks, or the old ``layers``)."""
    modern, old = net.blocks("layer"), net.blocks("layers")
    if modern and old:
        raise net.fail("layers", "the file mixes 'layer' blocks and the old 'layers' blocks")
    blocks = modern or old
    if len(blocks) > MAX_LAYERS:
        raise net.fail("layer" if modern else "layers", f"more than {MAX_LAYERS:,} layers", blocks[MAX_LAYERS].line)
    state = _net_state(net)
    layers = [_layer(block, net.path, index, bool(old)) for index, block in enumerate(blocks, start=1)]
    return [layer for layer in layers if state.includes(layer.fields)]


def _net_state(net: Fields) -> NetState:
    state = net.sub("state", net.block("state"), _STATE_FIELDS)
    return NetState(state.int32("level", 0), frozenset(state.texts("stage")))


def _layer(block: Message, path: str, index: int, old: bool) -> Layer:
    fields = Fields(block, path, f"layer #{index}")
    name_value = fields.one("name")
    name = fields.text("name", name_value) if name_value is not None else ""
    if name:
        fields.where = f"layer '{name}'"
    if old and "layer" in block.fields:
        upgrade = "upgrade the file with Caffe's upgrade_net_proto_text"
        raise fields.fail("layer", f"the V0 format (layers {{ layer {{ ... }} }}) is not read; {upgrade}")
    type_value = fields.one("type")
    if type_value is None:
        raise fields.fail("type", "missing")
    layer_type = _v1_type(fields.scalar("type", type_value)) if old else fields.text("type", type_value)
    fields.where += f' (type "{layer_type}")'
    bottoms, tops = fields.texts("bottom"), fields.texts("top")
    for blob in (*bottoms, *tops):
        if not blob or any(ord(c) < 32 for c in blob):
            field_name = "bottom" if blob in bottoms else "top"
            raise fields.fail(field_name, f"blob name {blob!r} is empty or has control characters")
    return Layer(name, layer_type, bottoms, tops, fields, _V1_LAYER_FIELDS if old else _LAYER_FIELDS)


def _v1_type(value: Scalar) -> str:
    # a number or a string is kept as written, and refused as an unknown type where it is used
    return _V1_TYPES.get(value.text, value.text) if value.kind == "word" else value.text


@dataclass(frozen=True, slots=True)
class DeclaredInput:
    """An input blob as the file declares it."""

    blob: str
    dims: list[int] | None  # N, C, H, W as written; None when the file gives no shape
    line: int
    by_layer: bool  # declared by an Input layer (else by the net's own input: fields)

    @property
    def shape(self) -> Shape | None:
        return None if self.dims is None else (self.dims[1], self.dims[2], self.dims[3])


def declared_input(net: Fields, layers: list[Layer]) -> DeclaredInput:
    """The net's one input, from ``input:`` with ``input_shape`` or ``input_dim``, or an Input layer."""
    found = _net_inputs(net) + [item for layer in layers if layer.type == "Input" for item in _layer_inputs(layer)]
    if not found:
        raise ImportFailure(f"{net.path}: the net declares no input (input: with input_shape, or an Input layer)")
    if len(found) > 1:
        listed = ", ".join(f"'{item.blob}' (line {item.line})" for item in found)
        raise ImportFailure(
            f"{net.path}:{found[1].line}: the net has {len(found)} inputs, {listed}; archcalc reads one"
        )
    declared = found[0]
    if declared.dims is not None and (len(declared.dims) != 4 or min(declared.dims) < 1):
        shown = " × ".join(map(str, declared.dims)) or "no dimensions"
        message = f"input '{declared.blob}' is {shown}; archcalc reads N × C × H × W, each at least 1"
        raise ImportFailure(f"{net.path}:{declared.line}: {message}")
    return declared


def _net_inputs(net: Fields) -> list[DeclaredInput]:
    """``input: "data"`` with ``input_shape { dim: … }`` or four ``input_dim``s per input."""
    names = net.message.all("input")
    shapes = [net.sub("input_shape", block, {"dim"}).uints("dim") for block in net.blocks("input_shape")]
    flat = net.uints("input_dim", maximum=2**31 - 1)
    if shapes and flat:
        raise net.fail("input_dim", "give input_shape or input_dim, not both")
    if flat and len(flat) != 4 * len(names):
        raise net.fail("input_dim", f"{len(flat)} values for {len(names)} input(s); Caffe takes 4 (N, C, H, W) each")
    if shapes and len(shapes) != len(names):
        raise net.fail("input_shape", f"{len(shapes)} shapes for {len(names)} input(s)")
    inputs = []
    for index, value in enumerate(names):
        dims = shapes[index] if shapes else flat[4 * index : 4 * index + 4] or None
        inputs.append(DeclaredInput(net.text("input", value), dims, value.line, by_layer=False))
    return inputs


def _layer_inputs(layer: Layer) -> list[DeclaredInput]:
    """An Input layer's tops, with one shape for all or one each."""
    param = layer.params("input_param")
    shapes = [param.sub("shape", block, {"dim"}).uints("dim") for block in param.blocks("shape")]
    if len(shapes) not in (0, 1, len(layer.tops)):
        raise layer.fail(f"{len(shapes)} shapes for {len(layer.tops)} tops")
    return [
        DeclaredInput(top, shapes[0 if len(shapes) == 1 else index] if shapes else None, layer.line, by_layer=True)
        for index, top in enumerate(layer.tops)
    ]


# --- translation --------------------------------------------------------------------------------------


class Translator:
    """Caffe layers in order → spec layers, through a SpecBuilder. Blob names are Caffe's tops, so an
    in-place layer (top == bottom, Caffe's ReLU style) simply becomes the blob's producer from then on."""

    def __init__(self, builder: SpecBuilder, declared: DeclaredInput, path: str) -> None:
        self.builder = builder
        self.path = path
        builder.taken.add(BLOCK_INPUT)  # reserved in specs
        if not declared.by_layer:
            builder.set_input(declared.blob)
        self.lines: list[int] = []  # the prototxt line of each spec layer, in order
        self.line_of: dict[str, int] = {}  # spec layer → its prototxt line
        self.swallowed: dict[str, str] = {}  # blob → why it is not there on its own

    def run(self, layers: list[Layer]) -> None:
        skip_next = False
        for index, layer in enumerate(layers):
            if skip_next:  # a Scale joined into the BatchNorm before it
                skip_next = False
                continue
            handler = _HANDLERS.get(layer.type)
            if handler is None:
                where = f"{layer.fields.path}:{layer.line}"
                raise unsupported(layer.fields.where, where, _type_hint(layer.type))
            layer.fields.check(layer.known)
            follower = layers[index + 1] if index + 1 < len(layers) else None
            skip_next = bool(handler(self, layer, follower))

    # --- plumbing

    def bottom(self, layer: Layer, blob: str) -> str:
        if blob in self.swallowed:
            raise layer.fail(f"bottom '{blob}' is {self.swallowed[blob]}")
        if blob not in self.builder.producers:
            raise layer.fail(f"bottom '{blob}' is not produced by any earlier layer, nor is it the net's input")
        return blob

    def single(self, layer: Layer) -> str:
        """The one bottom of a one-in, one-out layer."""
        if len(layer.bottoms) != 1 or len(layer.tops) != 1:
            found = f"{len(layer.bottoms)} bottom(s) and {len(layer.tops)} top(s)"
            raise layer.fail(f"has {found}; archcalc reads this type with one of each")
        return self.bottom(layer, layer.bottoms[0])

    def shape(self, blob: str) -> Shape:
        """A blob's shape by archcalc's own rules (an error in an earlier layer names its line)."""
        try:
            return self.builder.shape(blob)
        except SpecError as error:
            raise error.located(path=self.path, line=self.line_of.get(error.layer or "")) from None

    def add(self, layer: Layer, kind: str, bottoms: list[str], *, top: str | None = None, name: str | None = None,
            **fields: Any) -> str:  # fmt: skip
        """A spec layer for `layer` (named after it unless `name`, at its line) producing its top (or `top`)."""
        output = top or layer.tops[0]
        spec_name = self.builder.add(kind, name or layer.name or layer.type.lower(), bottoms, output=output, **fields)
        self.swallowed.pop(output, None)  # written anew
        self.lines.append(layer.line)
        self.line_of[spec_name] = layer.line
        return spec_name

    def add_single(self, layer: Layer, kind: str, **fields: Any) -> str:
        return self.add(layer, kind, [self.single(layer)], **fields)

    # --- one method per Caffe type; `follower` is the next layer (a BatchNorm's Scale)

    def input(self, layer: Layer, follower: Layer | None) -> None:
        if layer.bottoms:
            raise layer.fail("an Input layer has no bottoms")
        self.builder.set_input(layer.tops[0])  # declared_input made sure it is the net's only input

    def convolution(self, layer: Layer, follower: Layer | None) -> None:
        self.add_single(layer, "conv", **_conv_fields(layer))

    def deconvolution(self, layer: Layer, follower: Layer | None) -> None:
        self.add_single(layer, "conv_transpose", **_conv_fields(layer))

    def pooling(self, layer: Layer, follower: Layer | None) -> None:
        p = layer.params("pooling_param")
        method = p.choice("pool", ("MAX", "AVE", "STOCHASTIC"), "MAX")
        if method == "STOCHASTIC":
            raise layer.unsupported("STOCHASTIC pooling", "it samples one value of each window at random")
        if p.flag("global_pooling", False):
            for name in _WINDOW_FIELDS:
                if p.has(name):
                    raise p.fail(name, "global_pooling takes no kernel size, padding or stride (Caffe's rule)")
            self.add_single(layer, "global_maxpool" if method == "MAX" else "global_avgpool")
            return
        kernel = _pair(p, "kernel_size", "kernel_h", "kernel_w", None, 1, repeated=False)
        stride = _pair(p, "stride", "stride_h", "stride_w", 1, 1, repeated=False)
        pad = _pair(p, "pad", "pad_h", "pad_w", 0, 0, repeated=False)
        ceil = p.choice("round_mode", ("CEIL", "FLOOR"), "CEIL") == "CEIL"
        bottom = self.single(layer)
        # Caffe rounds up, then drops a last window that would start in the padding, exactly as
        # PyTorch's ceil_mode does; but only when there is padding. Unpadded, with a stride over the
        # kernel, Caffe keeps a last window starting past the input, which PyTorch drops.
        unpadded = ceil and not any(pad) and (stride[0] > kernel[0] or stride[1] > kernel[1])
        size = self.shape(bottom)[1:] if unpadded else ()
        self.add(
            layer, "maxpool" if method == "MAX" else "avgpool", [bottom], kernel=_one_or_two(kernel),
            stride=_one_or_two(stride), padding=_one_or_two(pad) if any(pad) else None, ceil_mode=ceil or None,
        )  # fmt: skip
        if unpadded:
            self.refuse_unpadded_difference(layer, size, kernel, stride)

    def refuse_unpadded_difference(self, layer: Layer, size: Shape, kernel: tuple[int, int],
                                   stride: tuple[int, int]) -> None:  # fmt: skip
        """An unpadded pool whose size by Caffe's rule (ceil, never dropping a window) is not the engine's."""
        caffe = tuple(-(-(n - k) // s) + 1 for n, k, s in zip(size, kernel, stride, strict=True))
        ours = self.shape(layer.tops[0])[1:]
        if caffe != ours:
            raise layer.unsupported(
                f"pooling {'×'.join(map(str, size))} to {'×'.join(map(str, caffe))}",
                "unpadded, Caffe keeps a last window that starts past the input; PyTorch's ceil_mode, "
                f"which archcalc follows, drops it and gives {'×'.join(map(str, ours))}",
            )

    def inner_product(self, layer: Layer, follower: Layer | None) -> None:
        p = layer.params("inner_product_param")
        axis = p.int32("axis", 1)
        if axis != 1:
            raise layer.unsupported(
                f"an InnerProduct from axis {axis}", "archcalc's linear reads everything after the batch"
            )
        units = p.uint("num_output", minimum=1)
        if units is None:
            raise p.fail("num_output", "missing (Caffe requires it)")
        bottom = self.single(layer)
        if len(self.shape(bottom)) > 1:  # Caffe's InnerProduct flattens C×H×W itself: archcalc shows it
            flat = f"\x00flat{len(self.lines)}"  # no Caffe blob has a control character (see _layer)
            self.add(layer, "flatten", [bottom], top=flat, name=f"{layer.name or 'fc'}_flatten")
            bottom = flat
        self.add(layer, "linear", [bottom], out_features=units, bias=_false_only(p.flag("bias_term", True)))

    def relu(self, layer: Layer, follower: Layer | None) -> None:
        slope = layer.params("relu_param").real("negative_slope", 0.0)
        if slope == 0:
            self.add_single(layer, "relu")
        else:
            self.add_single(layer, "leaky_relu", negative_slope=slope)

    def sigmoid(self, layer: Layer, follower: Layer | None) -> None:
        layer.params("sigmoid_param")
        self.add_single(layer, "sigmoid")

    def tanh(self, layer: Layer, follower: Layer | None) -> None:
        layer.params("tanh_param")
        self.add_single(layer, "tanh")

    def prelu(self, layer: Layer, follower: Layer | None) -> None:
        shared = layer.params("prelu_param").flag("channel_shared", False)
        self.add_single(layer, "prelu", per_channel=None if shared else True)

    def elu(self, layer: Layer, follower: Layer | None) -> None:
        self.add_single(layer, "elu", alpha=layer.params("elu_param").real("alpha", 1.0))

    def lrn(self, layer: Layer, follower: Layer | None) -> None:
        p = layer.params("lrn_param")
        if p.choice("norm_region", ("ACROSS_CHANNELS", "WITHIN_CHANNEL"), "ACROSS_CHANNELS") != "ACROSS_CHANNELS":
            raise layer.unsupported("LRN with norm_region WITHIN_CHANNEL", "archcalc's lrn normalises across channels")
        size = p.uint("local_size", 5, minimum=1) or 5
        if size % 2 == 0:
            raise p.fail("local_size", f"must be odd (Caffe's rule), got {size}")
        # Caffe divides alpha by the size, as PyTorch and archcalc do; its k defaults to 1
        alpha, beta, k = p.real("alpha", 1.0, minimum=0.0), p.real("beta", 0.75), p.real("k", 1.0)
        self.add_single(layer, "lrn", size=size, alpha=alpha, beta=beta, k=k)

    def dropout(self, layer: Layer, follower: Layer | None) -> None:
        p = layer.params("dropout_param")
        ratio = p.real("dropout_ratio", 0.5, minimum=0.0)
        if ratio >= 1:
            raise p.fail("dropout_ratio", f"must be below 1, got {ratio:g}")
        self.add_single(layer, "dropout", p=ratio)

    def softmax(self, layer: Layer, follower: Layer | None) -> None:
        axis = layer.params("softmax_param").int32("axis", 1)
        if axis != 1:
            raise layer.unsupported(f"a Softmax over axis {axis}", "archcalc's softmax runs over channels (axis 1)")
        self.add_single(layer, "softmax")

    def concat(self, layer: Layer, follower: Layer | None) -> None:
        p = layer.params("concat_param")
        if p.has("axis") and p.has("concat_dim"):
            raise p.fail("concat_dim", "give axis or concat_dim, not both")
        axis = p.int32("axis", 1) if p.has("axis") else p.uint("concat_dim", 1)
        if axis != 1:
            raise layer.unsupported(f"a Concat along axis {axis}", "archcalc concatenates channels (axis 1)")
        self.merge(layer, "concat", fewest=1)

    def eltwise(self, layer: Layer, follower: Layer | None) -> None:
        p = layer.params("eltwise_param")
        operation = p.choice("operation", ("PROD", "SUM", "MAX"), "SUM")
        if operation == "MAX":
            raise layer.unsupported("Eltwise MAX (an element-wise maximum)", "archcalc has add and multiply")
        coefficients = p.reals("coeff")
        if coefficients and operation == "PROD":
            raise p.fail("coeff", "Caffe takes coefficients for SUM only")
        if coefficients and len(coefficients) != len(layer.bottoms):
            raise p.fail("coeff", f"{len(coefficients)} coefficients for {len(layer.bottoms)} bottoms")
        if any(c != 1 for c in coefficients):
            shown = ", ".join(f"{c:g}" for c in coefficients)
            raise layer.unsupported(f"an Eltwise SUM with coefficients {shown}", "archcalc's add sums plainly")
        self.merge(layer, "add" if operation == "SUM" else "multiply", fewest=2)

    def merge(self, layer: Layer, kind: str, fewest: int) -> None:
        if len(layer.tops) != 1 or len(layer.bottoms) < fewest:
            found = f"{len(layer.bottoms)} bottom(s) and {len(layer.tops)} top(s)"
            raise layer.fail(f"has {found}; it takes at least {fewest} bottom(s) and writes one top")
        bottoms = [self.bottom(layer, blob) for blob in layer.bottoms]
        if len(bottoms) == 1:  # a Concat of one blob passes it through
            self.builder.alias(layer.tops[0], bottoms[0])
        else:
            self.add(layer, kind, bottoms)

    def batch_norm(self, layer: Layer, follower: Layer | None) -> bool:
        """Caffe splits batch norm in two: BatchNorm (mean, variance), then Scale (γ, β) on its output.
        A pair is one batchnorm layer; a BatchNorm alone is one without `affine`."""
        p = layer.params("batch_norm_param")
        eps = p.real("eps", 1e-5)
        if eps <= 0:
            raise p.fail("eps", f"must be above 0, got {eps:g}")
        bottom = self.single(layer)
        scale = (
            follower if follower is not None and follower.type == "Scale" and follower.bottoms == layer.tops else None
        )
        if scale is None:
            self.add(layer, "batchnorm", [bottom], affine=False, eps=eps)
            return False
        scale.fields.check(scale.known)
        s = scale.params("scale_param")
        if s.int32("axis", 1) != 1 or s.int32("num_axes", 1) != 1:
            raise scale.unsupported("a Scale over other axes than the channels")
        if not s.flag("bias_term", False):
            raise scale.unsupported("a Scale without bias_term: true (γ without β)", "batchnorm's affine learns both")
        if len(scale.tops) != 1:
            raise scale.fail(f"has {len(scale.tops)} tops; archcalc reads a Scale with one")
        self.add(layer, "batchnorm", [bottom], top=scale.tops[0], eps=eps)
        if scale.tops[0] != layer.tops[0]:
            self.swallowed[layer.tops[0]] = (
                f"the output of BatchNorm '{layer.name}' before its Scale '{scale.name}'; "
                "archcalc joins the two into one batchnorm layer"
            )
        return True

    def scale(self, layer: Layer, follower: Layer | None) -> None:
        hint = "alone it is a learned per-channel multiply, which has no kind"
        raise layer.unsupported("a Scale that does not directly follow a BatchNorm on its top", hint)

    def flatten(self, layer: Layer, follower: Layer | None) -> None:
        p = layer.params("flatten_param")
        axes = (p.int32("axis", 1), p.int32("end_axis", -1))
        if axes != (1, -1):
            raise layer.unsupported(f"a Flatten of axes {axes[0]} to {axes[1]}", "archcalc flattens axes 1 to -1")
        self.add_single(layer, "flatten")

    def split(self, layer: Layer, follower: Layer | None) -> None:
        if len(layer.bottoms) != 1:
            raise layer.fail(f"has {len(layer.bottoms)} bottoms; a Split reads one")
        bottom = self.bottom(layer, layer.bottoms[0])
        for top in layer.tops:
            self.builder.alias(top, bottom)
            self.swallowed.pop(top, None)


_HANDLERS = {
    "Input": Translator.input, "Convolution": Translator.convolution, "Deconvolution": Translator.deconvolution,
    "Pooling": Translator.pooling, "InnerProduct": Translator.inner_product, "ReLU": Translator.relu,
    "Sigmoid": Translator.sigmoid, "TanH": Translator.tanh, "PReLU": Translator.prelu, "ELU": Translator.elu,
    "LRN": Translator.lrn, "Dropout": Translator.dropout, "Softmax": Translator.softmax,
    "Concat": Translator.concat, "Eltwise": Translator.eltwise, "BatchNorm": Translator.batch_norm,
    "Scale": Translator.scale, "Flatten": Translator.flatten, "Split": Translator.split,
}  # fmt: skip


def _type_hint(layer_type: str) -> str:
    if layer_type in _DATA_TYPES:
        return "a data layer reads a database: import the deploy.prototxt, whose input is an Input layer or input_shape"
    return f"the Caffe types archcalc reads: {', '.join(sorted(_HANDLERS))}"


def _pair(p: Fields, single: str, h: str, w: str, default: int | None, minimum: int, repeated: bool) -> tuple[int, int]:
    """A size given as `single` (in a convolution a repeated field: one value, or h and w) or as `h`
    and `w`. Caffe's rules: not both forms; a pool needs h and w together, a convolution takes the
    field's default for the one left out."""
    values = p.uints(single) if repeated else [v for v in [p.uint(single)] if v is not None]
    if p.has(h) or p.has(w):
        if values:
            raise p.fail(single, f"give {single} or {h} and {w}, not both")
        if not repeated and not (p.has(h) and p.has(w)):
            raise p.fail(h if p.has(h) else w, f"{h} and {w} go together")
        fallback = 0 if default is None else default
        named = ((h, p.uint(h, fallback)), (w, p.uint(w, fallback)))
    elif not values:
        if default is None:
            raise p.fail(single, f"missing (give {single}, or {h} and {w})")
        return default, default
    elif len(values) <= 2:
        named = ((single, values[0]), (single, values[-1]))
    else:
        raise p.fail(single, f"{len(values)} values, a {len(values)}-D window; archcalc reads 2-D maps")
    for name, value in named:
        if value is None or value < minimum:
            raise p.fail(name, f"must be a positive integer, got {value}")
    return named[0][1], named[1][1]  # type: ignore[return-value]


def _conv_fields(layer: Layer) -> dict[str, Any]:
    """Convolution and Deconvolution: Caffe's ConvolutionParameter as archcalc's fields."""
    p = layer.params("convolution_param")
    axis = p.int32("axis", 1)
    if axis != 1:
        raise layer.unsupported(f"a {layer.type} with channels on axis {axis}")
    out = p.uint("num_output", minimum=1)
    if out is None:
        raise p.fail("num_output", "missing (Caffe requires it)")
    kernel = _pair(p, "kernel_size", "kernel_h", "kernel_w", None, 1, repeated=True)
    stride = _pair(p, "stride", "stride_h", "stride_w", 1, 1, repeated=True)
    pad = _pair(p, "pad", "pad_h", "pad_w", 0, 0, repeated=True)
    dilation = _pair(p, "dilation", "dilation_h", "dilation_w", 1, 1, repeated=True)  # Caffe has no dilation_h/w
    groups = p.uint("group", 1, minimum=1)
    return {
        "out_channels": out,
        "kernel": _one_or_two(kernel),
        "stride": _one_or_two(stride) if stride != (1, 1) else None,
        "padding": _one_or_two(pad) if any(pad) else None,
        "dilation": _one_or_two(dilation) if dilation != (1, 1) else None,
        "groups": groups if groups != 1 else None,
        "bias": _false_only(p.flag("bias_term", True)),
    }


def _one_or_two(pair: tuple[int, int]) -> int | list[int]:
    return pair[0] if pair[0] == pair[1] else list(pair)


def _false_only(flag: bool) -> bool | None:
    """A boolean field written only where it is not archcalc's default (true)."""
    return None if flag else False


def _located(entries: list[dict[str, Any]], lines: list[int], start: int = 0) -> tuple[YList, int]:
    """The layers in line-carrying containers, so that validation errors name the prototxt line; a
    repeat block's layers take the lines of its first repetition. Returns them and how many of
    `lines` one pass through them covers."""
    located = YList(lines[start])
    index = start
    for entry in entries:
        item = YMap(lines[index])
        item.update(entry)
        located.append(item)
        located.item_lines.append(lines[index])
        if "repeat" in entry:
            item["layers"], per_repetition = _located(entry["layers"], lines, index)
            index += entry["repeat"] * per_repetition
        else:
            index += 1
    return located, index - start


def read(source: str, input_shape: Shape | None, args: dict[str, Any]) -> dict[str, Any]:
    """A Caffe deploy .prototxt as a spec mapping; `input_shape` (C, H, W) replaces the file's."""
    path = str(source)
    net = Fields(parse_prototxt(read_text(path), path), path, "the net").check(_NET_FIELDS)
    layers = net_layers(net)
    declared = declared_input(net, layers)
    shape = tuple(input_shape) if input_shape is not None else declared.shape
    if shape is None:
        raise ImportFailure(
            f"{path}:{declared.line}: input '{declared.blob}' has no shape; give one with --input CxHxW"
        )
    name_value = net.one("name")
    name = net.text("name", name_value) if name_value is not None else Path(path).stem
    builder = SpecBuilder(name, path, shape, f"Imported from the Caffe prototxt {Path(path).name}.")
    translator = Translator(builder, declared, path)
    translator.run(layers)
    if not translator.lines:
        raise ImportFailure(f"{path}: the net has no layers archcalc can show")
    doc = builder.mapping()
    doc["layers"], _ = _located(doc["layers"], translator.lines)
    return doc
