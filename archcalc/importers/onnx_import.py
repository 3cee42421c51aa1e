"""Reading an ONNX model (``.onnx``) into a spec, from its graph alone.

The graph's nodes are read in order and each becomes the archcalc layer that computes exactly the
same (Conv → conv, Gemm → linear, BatchNormalization → batchnorm, ...). Initializers lend only their
dimensions: no weight value is ever read, so a model whose weights live in an external data file
imports without that file. The few small constants that say what a node does (a Reshape's target,
Pad's pads, Resize's scales, Clip's bounds) are read, at most ``MAX_VALUE_ELEMENTS`` numbers each,
and where an exporter computes them in the graph (``x.view(x.size(0), -1)`` becomes Shape → Gather
→ Unsqueeze → Concat → Reshape; ``nn.ZeroPad2d`` a chain ending in Pad) that arithmetic is evaluated
here, on those numbers only, with the batch size kept symbolic.

Shapes come from archcalc's own rules (``SpecBuilder.shape``), never from ONNX's shape inference,
which, for one, gets PyTorch's ceil-mode pooling wrong. Needs the ``onnx`` package (protobuf only;
no runtime): ``pip install 'archcalc[onnx]'``.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import ImportFailure, SpecError
from ..kinds import Shape
from ..kinds.sliding import same_padding
from .builder import SpecBuilder, clean_name, unsupported

MAX_FILE_BYTES = 2**31  # protobuf's own limit on one message
MAX_NODES = 50_000  # real CNN exports have hundreds to a few thousand
MAX_VALUE_ELEMENTS = 1024  # the most numbers read from, or computed for, one constant
_DEFAULT_DOMAINS = ("", "ai.onnx")
_EXTRA = "pip install 'archcalc[onnx]'"


def read(source: str, input_shape: Shape | None, args: dict[str, Any]) -> dict[str, Any]:
    """The spec mapping of the ONNX model in `source`; `input_shape` (C, H, W) overrides the graph's."""
    onnx = _import_onnx()
    model = _load(onnx, source)
    return _GraphReader(onnx, model, source, input_shape).read()


def _import_onnx() -> Any:
    try:
        import onnx
    except ImportError:
        raise ImportFailure(f"reading .onnx files needs the onnx package: {_EXTRA}") from None
    return onnx


def _reason(exc: BaseException) -> str:
    """An exception as one short line, for a message about a malformed file."""
    text = " ".join(str(exc).split())[:200]
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def _load(onnx: Any, source: str) -> Any:
    """The ModelProto, without external data; a file that is not one is an ImportFailure."""
    path = Path(source)
    try:
        size = path.stat().st_size
    except OSError as exc:
        raise ImportFailure(f"{source}: cannot read it: {exc.strerror or _reason(exc)}") from None
    if not path.is_file():
        raise ImportFailure(f"{source}: not a file")
    if size == 0:
        raise ImportFailure(f"{source}: the file is empty")
    if size > MAX_FILE_BYTES:
        raise ImportFailure(f"{source}: {size:,} bytes; an ONNX model file holds at most {MAX_FILE_BYTES:,}")
    try:
        model = onnx.load(str(path), load_external_data=False)
    except Exception as exc:  # protobuf's DecodeError, and anything else a malformed file makes it raise
        raise ImportFailure(f"{source}: not an ONNX model ({_reason(exc)})") from None
    if not model.HasField("graph") or not model.graph.node:
        raise ImportFailure(f"{source}: not an ONNX model: it has no graph nodes")
    _check_claimed_sizes(onnx, model.graph, source, size)
    return model


def _check_claimed_sizes(onnx: Any, graph: Any, source: str, file_size: int) -> None:
    """Initializers must hold the values their dimensions claim (a 2 GB tensor in a 1 kB file is a
    lie): checked from lengths alone, nothing is copied or allocated. External data is not read."""
    embedded = 0
    for tensor in graph.initializer:
        label = f"{source}: initializer '{clean_name(tensor.name, '?')}' ({_dims_text(tensor.dims)})"
        if any(d < 0 for d in tensor.dims):
            raise ImportFailure(f"{label} has a negative dimension")
        if tensor.data_location == onnx.TensorProto.EXTERNAL:
            continue
        claimed_bits = math.prod(tensor.dims) * _bits(onnx, tensor.data_type)
        if tensor.HasField("raw_data"):
            embedded += -(-claimed_bits // 8)
            if embedded > file_size:
                raise ImportFailure(f"{label} claims more values than the whole file ({file_size:,} bytes) holds")
            continue
        # typed fields (float_data, int64_data, ...): at most 64 bits an entry, however they are packed
        entries = sum(
            len(values)
            for values in (tensor.float_data, tensor.int32_data, tensor.int64_data, tensor.double_data,
                           tensor.uint64_data, tensor.string_data)
        )  # fmt: skip
        if entries * 64 < claimed_bits:
            raise ImportFailure(f"{label} holds {entries:,} numbers, too few for its dimensions")


def _bits(onnx: Any, data_type: int) -> int:
    """Bits per element of an ONNX tensor type (the 2-, 4- and 6-bit types are packed)."""
    name = onnx.TensorProto.DataType.Name(data_type) if data_type in onnx.TensorProto.DataType.values() else ""
    packed = {"INT2": 2, "UINT2": 2, "INT4": 4, "UINT4": 4, "FLOAT4E2M1": 4, "FLOAT6E2M3": 6, "FLOAT6E3M2": 6}
    if name in packed:
        return packed[name]
    try:
        return 8 * onnx.helper.tensor_dtype_to_np_dtype(data_type).itemsize
    except Exception:  # an unknown or string type: count a byte each
        return 8


def _dims_text(dims: Any) -> str:
    return "×".join(str(d) for d in dims) if len(dims) else "scalar"


class _Batch:
    """The batch size, unknown: what Shape reports for dimension 0 of a feature map."""

    def __repr__(self) -> str:
        return "N"


BATCH = _Batch()


@dataclass
class _Constant:
    """One such tensor: its dimensions, the TensorProto its values are in (if they come from the file)
    and the values, once read or computed."""

    dims: tuple[int, ...]
    proto: Any = None  # the TensorProto the value is in, when it comes from the file
    value: Any = None  # numpy array, once known; may hold BATCH


class _Constants:
    """The tensors known without running the network: initializers (their dimensions; the values of a
    small one when a node needs them), Constant nodes, and the arithmetic folded on those."""

    def __init__(self, onnx: Any, graph: Any, opset: int) -> None:
        self.onnx, self.opset = onnx, opset
        self.tensors: dict[str, _Constant] = {}
        for tensor in graph.initializer:
            self.tensors[tensor.name] = _Constant(tuple(tensor.dims), proto=tensor)
        for sparse in graph.sparse_initializer:
            self.tensors[sparse.values.name] = _Constant(tuple(sparse.dims))

    def __contains__(self, name: str) -> bool:
        return name in self.tensors

    def __getitem__(self, name: str) -> _Constant:
        return self.tensors[name]

    def get(self, name: str) -> _Constant | None:
        return self.tensors.get(name)

    def computed(self, name: str, value: Any) -> None:
        self.tensors[name] = _Constant(tuple(value.shape), value=value)

    def value(self, node: _Node, name: str) -> Any:
        """The numbers of constant `name`, which `node` needs; small constants only."""
        constant = self.tensors[name]
        if constant.value is not None:
            return constant.value
        count = math.prod(constant.dims)
        what = f"constant '{clean_name(name, '?')}' ({_dims_text(constant.dims)})"
        if constant.proto is None or count > MAX_VALUE_ELEMENTS:
            raise node.fail(f"needs the values of {what}; archcalc reads at most {MAX_VALUE_ELEMENTS:,} values")
        if constant.proto.data_location == self.onnx.TensorProto.EXTERNAL:
            raise node.fail(f"needs the values of {what}, which are in an external data file archcalc does not read")
        try:
            constant.value = self.onnx.numpy_helper.to_array(constant.proto)
        except Exception as exc:  # a malformed tensor: wrong lengths, an unknown type
            raise node.fail(f"cannot read the values of {what} ({_reason(exc)})") from None
        return constant.value

    def add_node(self, node: _Node) -> None:
        """A Constant node's tensor (read, like an initializer's, only when needed)."""
        import numpy as np

        if node.attr("sparse_value") is not None:
            raise node.unsupported("a sparse constant")
        tensor = node.attr("value")
        if tensor is not None:
            self.tensors[node.outputs[0]] = _Constant(tuple(tensor.dims), proto=tensor)
            return
        for key, dtype in (("value_float", np.float32), ("value_floats", np.float32), ("value_int", np.int64),
                           ("value_ints", np.int64)):  # fmt: skip
            found = node.attr(key)
            if found is not None:
                value = np.array(found, dtype=dtype)
                if value.size > MAX_VALUE_ELEMENTS:
                    raise node.fail(
                        f"a constant of {value.size:,} values; archcalc reads at most {MAX_VALUE_ELEMENTS:,}"
                    )
                self.computed(node.outputs[0], value)
                return
        raise node.unsupported("a constant that is not a number tensor")

    def fold(self, node: _Node) -> None:
        """A node whose inputs are all constants: its output is one too, computed here."""
        import numpy as np

        if node.op == "Identity":  # often on a weight (PyTorch's shared initializers): keep it unread
            self.tensors[node.outputs[0]] = self.tensors[node.inputs[0]]
            return
        values = [self.value(node, name) if name else None for name in node.inputs]
        try:
            result = np.asarray(_FOLDS[node.op](self, node, values))
        except ImportFailure:
            raise
        except Exception as exc:  # numpy refusing malformed arithmetic: bad indices, shapes, axes
            if any(v is not None and v.dtype == object for v in values):
                raise node.fail("computes with the batch size, which archcalc does not know") from None
            raise node.fail(f"cannot evaluate it on its constant inputs ({_reason(exc)})") from None
        if result.size > MAX_VALUE_ELEMENTS:
            raise node.fail(f"makes {result.size:,} values; archcalc computes at most {MAX_VALUE_ELEMENTS:,}")
        self.computed(node.outputs[0], result)


class _Node:
    """One graph node, and where it is, for messages."""

    __slots__ = ("index", "op", "name", "inputs", "outputs", "where", "_attrs", "_onnx")

    def __init__(self, onnx: Any, index: int, proto: Any, source: str) -> None:
        self._onnx = onnx
        self.index = index
        self.op = proto.op_type if proto.domain in _DEFAULT_DOMAINS else f"{proto.domain}.{proto.op_type}"
        self.name = clean_name(proto.name, "")
        self.inputs = list(proto.input)
        self.outputs = list(proto.output)
        self.where = f"{source}: node {index}" + (f" '{self.name}'" if self.name else "")
        self._attrs = {a.name: a for a in proto.attribute}

    def attr(self, name: str, default: Any = None) -> Any:
        """An attribute's value (a string decoded), or `default` where the node has none."""
        found = self._attrs.get(name)
        if found is None:
            return default
        value = self._onnx.helper.get_attribute_value(found)
        return value.decode("utf-8", "replace") if isinstance(value, bytes) else value

    def input(self, i: int) -> str:
        """The name of input `i`, or "" where it is left out."""
        return self.inputs[i] if i < len(self.inputs) else ""

    def fail(self, message: str) -> ImportFailure:
        return ImportFailure(f"{self.where} ({self.op}): {message}")

    def unsupported(self, hint: str = "", operation: str = "") -> ImportFailure:
        return unsupported(operation or f"ONNX operator {self.op}", self.where, hint)

    @property
    def layer_name(self) -> str:
        """The layer's name in the spec: the node's, without the leading slash of PyTorch's scopes."""
        return self.name.lstrip("/")


def _f32(value: float) -> float:
    """A float32 attribute as the shortest decimal that is the same float32 (9.99999974e-06 → 1e-05)."""
    import numpy as np

    return float(str(np.float32(value)))


def _sides(top: int, bottom: int, left: int, right: int) -> int | list[int] | None:
    """Padding in the spec's shortest form; None for none."""
    if top == bottom == left == right:
        return top or None
    if top == bottom and left == right:
        return [top, left]
    return [top, bottom, left, right]


def _size(pair: tuple[int, int]) -> int | list[int]:
    return pair[0] if pair[0] == pair[1] else list(pair)


def _unless(value: Any, default: Any) -> Any:
    """`value`, or None (the field left out) where it is the kind's default."""
    return None if value == default else value


class _GraphReader:
    """Walks one graph's nodes in order, adding a layer (or a constant) for each."""

    def __init__(self, onnx: Any, model: Any, source: str, input_shape: Shape | None) -> None:
        self.onnx, self.graph, self.source = onnx, model.graph, source
        self.opset = _opset(model, source)
        if len(self.graph.node) > MAX_NODES:
            raise ImportFailure(f"{source}: {len(self.graph.node):,} nodes; archcalc reads at most {MAX_NODES:,}")
        self.constants = _Constants(onnx, self.graph, self.opset)
        tensor, shape, self.batch = self._graph_input(input_shape)
        producer = " ".join(filter(None, [model.producer_name, model.producer_version]))
        described = f"ONNX graph '{clean_name(self.graph.name, '')}'" + (f" from {producer}" if producer else "")
        self.builder = SpecBuilder(Path(source).stem, source, shape, f"{described}, opset {self.opset}")
        self.builder.set_input(tensor)
        self.made_by: dict[str, int] = {}  # tensor → index of the node that makes it
        self.consumers: dict[str, list[int]] = {}  # tensor → nodes reading it (-1: a graph output)
        self._index_tensors()
        self.skipped: set[int] = set()  # nodes folded into an earlier layer (the Add of MatMul + Add)
        # Pad nodes folded into the one Conv (zeros) or MaxPool (−∞) reading them: output → (input, sides)
        self.absorbed_pads: dict[str, tuple[str, tuple[int, int, int, int]]] = {}

    # --- the graph ----------------------------------------------------------------------------

    def _graph_input(self, override: Shape | None) -> tuple[str, Shape, int | None]:
        """The one data input: its name, (C, H, W) and batch size (None where symbolic)."""
        inputs = [value for value in self.graph.input if value.name not in self.constants]
        if len(inputs) != 1:
            names = ", ".join(f"'{clean_name(v.name, '?')}'" for v in inputs[:5]) or "none"
            raise ImportFailure(f"{self.source}: the graph has {len(inputs)} data inputs ({names}); archcalc reads one")
        value = inputs[0]
        label = f"{self.source}: input '{clean_name(value.name, '?')}'"
        if not value.type.HasField("tensor_type"):
            raise ImportFailure(f"{label} is not a tensor")
        dims = list(value.type.tensor_type.shape.dim)
        if len(dims) != 4:
            raise ImportFailure(f"{label} has {len(dims)} dimensions; archcalc reads images: (N, C, H, W)")
        known = [d.dim_value if d.HasField("dim_value") and d.dim_value > 0 else None for d in dims]
        if override is not None:
            return value.name, tuple(override), known[0]
        for axis, (dim, size) in enumerate(zip(dims[1:], known[1:], strict=True)):
            if size is None:
                what = f"'{clean_name(dim.dim_param, '?')}'" if dim.dim_param else "unknown"
                raise ImportFailure(
                    f"{label}: its {('channels', 'height', 'width')[axis]} are {what}; give them with --input CxHxW"
                )
        return value.name, (known[1], known[2], known[3]), known[0]

    def _index_tensors(self) -> None:
        for index, proto in enumerate(self.graph.node):
            for name in proto.input:
                if name:
                    self.consumers.setdefault(name, []).append(index)
            for name in proto.output:
                if not name:
                    continue
                if name in self.made_by or name in self.constants:
                    first = self.made_by.get(name)
                    by = f"node {first}" if first is not None else "an initializer"
                    raise ImportFailure(f"{self.source}: node {index} makes '{clean_name(name, '?')}', as {by} does")
                self.made_by[name] = index
        for value in self.graph.output:
            self.consumers.setdefault(value.name, []).append(-1)

    def read(self) -> dict[str, Any]:
        for index, proto in enumerate(self.graph.node):
            if index in self.skipped:
                continue
            node = _Node(self.onnx, index, proto, self.source)
            try:
                self._visit(node)
            except SpecError as exc:  # a layer the engine refuses while a later node asks for its shape
                raise exc.located(path=self.source) from None
            except (TypeError, ValueError, AttributeError, IndexError, KeyError, OverflowError) as exc:
                # an attribute of the wrong type or length in an untrusted file (a string group, one stride)
                raise node.fail(f"has an attribute or input archcalc cannot read ({_reason(exc)})") from None
        return self.builder.mapping()

    def _visit(self, node: _Node) -> None:
        if node.op == "Constant":
            self.constants.add_node(node)
            return
        given = [name for name in node.inputs if name]
        if node.op in _FOLDS and given and all(self._is_constant(node, name) for name in given):
            self.constants.fold(node)
            return
        handler = _HANDLERS.get(node.op)
        if handler is None:
            raise node.unsupported()
        handler(self, node)

    # --- inputs -------------------------------------------------------------------------------

    def _is_constant(self, node: _Node, name: str) -> bool:
        if name in self.constants:
            return True
        if name in self.builder.producers:
            return False
        raise self._unmade(node, name)

    def _unmade(self, node: _Node, name: str) -> ImportFailure:
        shown = clean_name(name, "?")
        maker = self.made_by.get(name)
        if maker is None:
            return node.fail(f"reads '{shown}', which no node, initializer or graph input makes")
        if maker >= node.index:
            return node.fail(
                f"reads '{shown}', which only node {maker} (later) makes: the graph has a cycle or is not in "
                "the topological order ONNX requires"
            )
        return node.fail(f"reads '{shown}', which node {maker} makes as something other than a feature map")

    def _data(self, node: _Node, i: int) -> str:
        """Input `i`, a feature map (made by the graph input or a layer)."""
        name = node.input(i)
        if not name:
            raise node.fail(f"input {i} is missing")
        if self._is_constant(node, name):
            raise node.unsupported(
                f"input {i} '{clean_name(name, '?')}' is a constant, where archcalc reads a feature map"
            )
        return name

    def _const(self, node: _Node, i: int) -> _Constant | None:
        """Input `i` as a constant; None where the input is left out."""
        name = node.input(i)
        if not name:
            return None
        if not self._is_constant(node, name):
            raise node.unsupported(f"input {i} '{clean_name(name, '?')}' is computed from the feature maps")
        return self.constants[name]

    def _weight(self, node: _Node, i: int, rank: int) -> tuple[int, ...]:
        """The dimensions of a weight input; its values are never read."""
        constant = self._const(node, i)
        if constant is None:
            raise node.fail(f"input {i} (the weight) is missing")
        if len(constant.dims) != rank:
            spatial = f"{len(constant.dims) - 2} spatial dimensions" if node.op.startswith("Conv") else "its rank"
            raise node.unsupported(
                f"a weight of {_dims_text(constant.dims)} ({spatial}); archcalc reads {rank}-D weights"
            )
        return constant.dims

    def _value(self, node: _Node, i: int) -> Any:
        """The values of constant input `i` (None where left out); small constants only."""
        constant = self._const(node, i)
        return None if constant is None else self.constants.value(node, node.input(i))

    def _scalar(self, node: _Node, i: int, default: float | None) -> float | None:
        value = self._value(node, i)
        if value is None or value.size == 0:
            return default
        if value.size != 1:
            raise node.fail(f"input {i} must be one number, got {value.size}")
        return float(value.reshape(-1)[0])

    def _ints(self, node: _Node, name: str, default: int, count: int = 2) -> tuple[int, ...]:
        values = node.attr(name)
        if values is None:
            return (default,) * count
        if len(values) != count:
            raise node.unsupported(f"'{name}' has {len(values)} entries; archcalc's layers are 2-D ({count} expected)")
        return tuple(int(v) for v in values)

    def _only_first_output(self, node: _Node, what: str) -> None:
        for name in node.outputs[1:]:
            if name and self.consumers.get(name):
                raise node.unsupported(
                    f"its output '{clean_name(name, '?')}' ({what}) is used; archcalc's layers have one output"
                )

    def _channels(self, tensor: str) -> int:
        return self.builder.shape(tensor)[0]

    def _rank(self, tensor: str) -> int:
        """The ONNX rank of a feature map: the batch, then archcalc's (C, H, W) or (N,)."""
        return len(self.builder.shape(tensor)) + 1

    def _add(self, kind: str, node: _Node, inputs: list[str], output: str | None = None, **fields: Any) -> str:
        return self.builder.add(kind, node.layer_name, inputs, output or node.outputs[0], **fields)

    # --- shapes as values -------------------------------------------------------------------------

    def _shape(self, node: _Node) -> None:
        """Shape: of a feature map (archcalc's, behind the symbolic batch) or of a constant."""
        import numpy as np

        name = node.input(0)
        if self._is_constant(node, name):
            full: Any = np.array(self.constants[name].dims, dtype=np.int64)
        else:
            full = np.array([BATCH, *self.builder.shape(name)], dtype=object)
        start, end = node.attr("start", 0), node.attr("end")
        self.constants.computed(node.outputs[0], full[start:end] if end is not None else full[start:])

    # --- convolution and pooling ---------------------------------------------------------------

    def _padded_input(self, node: _Node) -> tuple[str, tuple[int, int, int, int]]:
        """The feature map a conv or pool reads, and the sides of a Pad node it absorbs (zeros if none)."""
        absorbed = self.absorbed_pads.get(node.input(0))
        return absorbed if absorbed is not None else (self._data(node, 0), (0, 0, 0, 0))

    def _padding(self, node: _Node, x: str, kernel: tuple[int, ...], stride: tuple[int, ...],
                 dilation: tuple[int, ...], extra: tuple[int, int, int, int] = (0, 0, 0, 0)) -> Any:  # fmt: skip
        """The spec's padding for ONNX's pads / auto_pad (plus an absorbed Pad's `extra` sides);
        SAME_LOWER's from the input's size."""
        auto = node.attr("auto_pad", "NOTSET")
        if auto == "VALID":
            return _sides(*extra)
        if auto == "SAME_UPPER":  # TensorFlow's SAME: the odd pixel after, as archcalc's 'same'
            return "same"
        if auto == "SAME_LOWER":  # the odd pixel before: explicit, from the input's size
            _, h, w = self._map_shape(node, x)
            top, bottom = same_padding(h, dilation[0] * (kernel[0] - 1) + 1, stride[0])
            left, right = same_padding(w, dilation[1] * (kernel[1] - 1) + 1, stride[1])
            return _sides(bottom, top, right, left)
        if auto not in ("NOTSET", ""):
            raise node.fail(f"unknown auto_pad {auto!r}")
        top, left, bottom, right = self._ints(node, "pads", 0, count=4)  # ONNX: all begins, then all ends
        return _sides(top + extra[0], bottom + extra[1], left + extra[2], right + extra[3])

    def _map_shape(self, node: _Node, x: str) -> tuple[int, int, int]:
        shape = self.builder.shape(x)
        if len(shape) != 3:
            raise node.unsupported(f"its input is flat ({shape[0]:,} features), not a [C, H, W] map")
        return shape[0], shape[1], shape[2]

    def _conv(self, node: _Node) -> None:
        x, extra = self._padded_input(node)
        out_channels, per_group, kh, kw = self._weight(node, 1, rank=4)
        kernel = self._ints(node, "kernel_shape", 0)
        if kernel != (kh, kw) and node.attr("kernel_shape") is not None:
            raise node.fail(f"kernel_shape {list(kernel)} disagrees with the weight's {kh}×{kw}")
        stride, dilation = self._ints(node, "strides", 1), self._ints(node, "dilations", 1)
        group = int(node.attr("group", 1))
        self._add(
            "conv", node, [x],
            out_channels=out_channels, kernel=_size((kh, kw)), stride=_unless(_size(stride), 1),
            padding=self._padding(node, x, (kh, kw), stride, dilation, extra), dilation=_unless(_size(dilation), 1),
            groups=_unless(group, 1), bias=self._bias(node, 2, out_channels), in_channels=per_group * group,
        )  # fmt: skip

    def _bias(self, node: _Node, i: int, features: int) -> bool | None:
        """None (the default: a bias) where input `i` is a bias of `features`; False where left out."""
        bias = self._const(node, i)
        if bias is None:
            return False
        if math.prod(bias.dims) != features or len([d for d in bias.dims if d != 1]) > 1:
            raise node.unsupported(f"a bias of {_dims_text(bias.dims)} for {features:,} outputs")
        return None

    def _conv_transpose(self, node: _Node) -> None:
        x = self._data(node, 0)
        in_channels, per_group, kh, kw = self._weight(node, 1, rank=4)
        group = int(node.attr("group", 1))
        if node.attr("output_shape") is not None:
            raise node.unsupported("output_shape (the padding it implies is not given)")
        if node.attr("auto_pad", "NOTSET") not in ("NOTSET", "VALID", ""):
            raise node.unsupported(f"auto_pad {node.attr('auto_pad')}")
        top, left, bottom, right = self._ints(node, "pads", 0, count=4)
        if (top, left) != (bottom, right):
            raise node.unsupported(
                f"asymmetric pads {[top, left, bottom, right]}; archcalc's conv_transpose cuts the same from both sides"
            )
        stride, dilation = self._ints(node, "strides", 1), self._ints(node, "dilations", 1)
        self._add(
            "conv_transpose", node, [x],
            out_channels=per_group * group, kernel=_size((kh, kw)), stride=_unless(_size(stride), 1),
            padding=_unless(_size((top, left)), 0), output_padding=_unless(_size(self._ints(node, "output_padding", 0)), 0),
            dilation=_unless(_size(dilation), 1), groups=_unless(group, 1),
            bias=self._bias(node, 2, per_group * group), in_channels=in_channels,
        )  # fmt: skip

    def _pool(self, node: _Node, kind: str) -> None:
        self._only_first_output(node, "the indices of the maxima")
        kernel = self._ints(node, "kernel_shape", 0)
        if 0 in kernel:
            raise node.fail("kernel_shape is missing")
        stride = self._ints(node, "strides", 1)
        dilation = self._ints(node, "dilations", 1)
        ceil_mode = bool(node.attr("ceil_mode", 0))
        auto = node.attr("auto_pad", "NOTSET")
        x, extra = self._padded_input(node)
        padding = self._padding(node, x, kernel, stride, dilation, extra)
        if ceil_mode and auto not in ("NOTSET", "VALID", ""):
            raise node.unsupported(f"ceil_mode with auto_pad {auto} (ONNX leaves that combination undefined)")
        if ceil_mode and isinstance(padding, list) and len(padding) == 4:
            raise node.unsupported(
                f"ceil_mode with asymmetric pads {padding}: archcalc applies them as a pad layer, and PyTorch's rule "
                "for a last window starting in the padding then differs from ONNX's"
            )
        fields: dict[str, Any] = {}
        if kind == "avgpool":
            if dilation != (1, 1):
                raise node.unsupported("dilations on average pooling")
            padding = self._average_padding(node, x, padding, kernel, stride)
        else:
            fields["dilation"] = _unless(_size(dilation), 1)
        self._add(
            kind, node, [x], kernel=_size(kernel), stride=_unless(_size(stride), _size(kernel)), padding=padding,
            ceil_mode=ceil_mode or None, **fields,
        )  # fmt: skip

    def _average_padding(self, node: _Node, x: str, padding: Any, kernel: tuple[int, ...],
                         stride: tuple[int, ...]) -> Any:  # fmt: skip
        """archcalc's avgpool counts explicit padding in the averages (as PyTorch) and leaves SAME's out
        (as TensorFlow); ONNX says which with count_include_pad."""
        counted = bool(node.attr("count_include_pad", 0))
        if padding is None:
            return None
        if padding == "same":
            if not counted:
                return "same"
            _, h, w = self._map_shape(node, x)
            top, bottom = same_padding(h, kernel[0], stride[0])
            left, right = same_padding(w, kernel[1], stride[1])
            return _sides(top, bottom, left, right)
        if not counted:
            raise node.unsupported(
                f"average pooling over pads {padding} that are left out of the averages (count_include_pad=0); "
                "archcalc's avgpool counts explicit padding, as PyTorch does"
            )
        return padding

    def _max_pool(self, node: _Node) -> None:
        self._pool(node, "maxpool")

    def _average_pool(self, node: _Node) -> None:
        self._pool(node, "avgpool")

    def _global_pool(self, node: _Node) -> None:
        x = self._data(node, 0)
        self._map_shape(node, x)
        self._add("global_avgpool" if node.op == "GlobalAveragePool" else "global_maxpool", node, [x])

    def _reduce(self, node: _Node) -> None:
        """ReduceMean / ReduceMax over height and width: PyTorch's exporter's global pooling."""
        x = self._data(node, 0)
        self._map_shape(node, x)
        axes = node.attr("axes") if self.opset < 18 else self._value(node, 1)
        axes = sorted(int(a) % 4 for a in (axes if axes is not None else []))
        if axes != [2, 3]:
            raise node.unsupported(
                f"a reduction over axes {axes or 'all'}; archcalc's global pools reduce height and width"
            )
        kind = "global_avgpool" if node.op == "ReduceMean" else "global_maxpool"
        if node.attr("keepdims", 1):
            self._add(kind, node, [x])
            return
        pooled = f"{node.outputs[0]} (kept dims)"
        self._add(kind, node, [x], output=pooled)
        self.builder.add("flatten", f"{node.layer_name}/flatten", [pooled], node.outputs[0])

    # --- fully connected ----------------------------------------------------------------------

    def _gemm(self, node: _Node) -> None:
        x = self._data(node, 0)
        if node.attr("transA", 0):
            raise node.unsupported("transA=1 (a transposed input)")
        rows, columns = self._weight(node, 1, rank=2)
        out_features, in_features = (rows, columns) if node.attr("transB", 0) else (columns, rows)
        bias = self._bias(node, 2, out_features)
        if bias is None and float(node.attr("beta", 1.0)) == 0.0:
            bias = False  # C is multiplied by zero
        self._add("linear", node, [x], out_features=out_features, bias=bias, in_features=in_features)

    def _matmul(self, node: _Node) -> None:
        """MatMul by a weight, and the Add of a bias right after it (as older exporters write Linear)."""
        x = self._data(node, 0)
        if len(self.builder.shape(x)) != 1:
            raise node.unsupported(
                "a product over the last axis of a [C, H, W] map; archcalc's linear reads flat inputs"
            )
        in_features, out_features = self._weight(node, 1, rank=2)
        output, bias = node.outputs[0], False
        adder = self._bias_add(output, out_features)
        if adder is not None:
            self.skipped.add(adder.index)
            output, bias = adder.outputs[0], None
        self._add("linear", node, [x], output=output, out_features=out_features, bias=bias, in_features=in_features)

    def _bias_add(self, tensor: str, features: int) -> _Node | None:
        """The Add node that only adds a bias of `features` to `tensor`, when it is its one reader."""
        readers = self.consumers.get(tensor, [])
        if len(readers) != 1 or readers[0] < 0:
            return None
        proto = self.graph.node[readers[0]]
        if proto.op_type != "Add" or proto.domain not in _DEFAULT_DOMAINS or len(proto.input) != 2:
            return None
        other = proto.input[1] if proto.input[0] == tensor else proto.input[0]
        constant = self.constants.get(other)
        if constant is None or math.prod(constant.dims) != features or constant.dims[-1:] != (features,):
            return None
        return _Node(self.onnx, readers[0], proto, self.source)

    # --- normalisation and activations ----------------------------------------------------------

    def _batch_norm(self, node: _Node) -> None:
        x = self._data(node, 0)
        if self.opset < 9 and node.attr("spatial", 1) == 0:
            raise node.unsupported("spatial=0 (statistics per position)")
        self._only_first_output(node, "the running statistics of training mode")
        self._per_channel(node, x, range(1, 5))
        momentum = _f32(1 - _f32(node.attr("momentum", 0.9)))  # ONNX's is Keras's: PyTorch's = 1 − it
        self._add(
            "batchnorm", node, [x], eps=_unless(_f32(node.attr("epsilon", 1e-5)), 1e-5), momentum=_unless(momentum, 0.1)
        )

    def _per_channel(self, node: _Node, x: str, inputs: range) -> None:
        channels = self._channels(x)
        for i in inputs:
            constant = self._const(node, i)
            if constant is None or constant.dims != (channels,):
                shown = _dims_text(constant.dims) if constant is not None else "missing"
                raise node.fail(f"input {i} is {shown}, not one value per channel ({channels})")

    def _instance_norm(self, node: _Node) -> None:
        x = self._data(node, 0)
        self._map_shape(node, x)
        self._per_channel(node, x, range(1, 3))
        self._add("instancenorm", node, [x], eps=_unless(_f32(node.attr("epsilon", 1e-5)), 1e-5), affine=True)

    def _elementwise(self, node: _Node) -> None:
        self._add(_ELEMENTWISE[node.op], node, [self._data(node, 0)])

    def _softmax(self, node: _Node) -> None:
        x = self._data(node, 0)
        rank = self._rank(x)
        if self.opset < 13:  # the input flattened to 2-D at `axis`, the softmax over the second part
            axis = int(node.attr("axis", 1)) % rank
            if axis != 1 or math.prod(self.builder.shape(x)[1:]) != 1:
                raise node.unsupported(
                    f"softmax over axes {axis}… jointly (opset {self.opset}); archcalc's is over channels"
                )
        elif int(node.attr("axis", -1)) % rank != 1:
            raise node.unsupported(f"softmax over axis {node.attr('axis', -1)}; archcalc's is over channels (axis 1)")
        self._add("softmax", node, [x])

    def _clip(self, node: _Node) -> None:
        x = self._data(node, 0)
        if self.opset < 11:
            low, high = node.attr("min"), node.attr("max")
        else:
            low, high = self._scalar(node, 1, None), self._scalar(node, 2, None)
        if low == 0 and high == 6:
            self._add("relu6", node, [x])
        elif low == 0 and (high is None or high == math.inf):
            self._add("relu", node, [x])
        else:
            raise node.unsupported(f"Clip to [{low}, {high}]; archcalc has relu (0, ∞) and relu6 (0, 6)")

    def _leaky_relu(self, node: _Node) -> None:
        slope = _f32(node.attr("alpha", 0.01))
        self._add("leaky_relu", node, [self._data(node, 0)], negative_slope=_unless(slope, 0.01))

    def _elu(self, node: _Node) -> None:
        self._add("elu", node, [self._data(node, 0)], alpha=_unless(_f32(node.attr("alpha", 1.0)), 1.0))

    def _gelu(self, node: _Node) -> None:
        approximate = node.attr("approximate", "none")
        if approximate not in ("none", "tanh"):
            raise node.fail(f"unknown approximate {approximate!r}")
        self._add("gelu", node, [self._data(node, 0)], approximate=_unless(approximate, "none"))

    def _hard_sigmoid(self, node: _Node) -> None:
        alpha, beta = node.attr("alpha", 0.2), node.attr("beta", 0.5)
        if not (math.isclose(alpha, 1 / 6, rel_tol=1e-6) and beta == 0.5):
            raise node.unsupported(
                f"HardSigmoid with alpha {_f32(alpha)}, beta {_f32(beta)}; archcalc's hardsigmoid is PyTorch's "
                "(alpha 1/6, beta 0.5)"
            )
        self._add("hardsigmoid", node, [self._data(node, 0)])

    def _prelu(self, node: _Node) -> None:
        x = self._data(node, 0)
        slope = self._const(node, 1)
        if slope is None:
            raise node.fail("the slope (input 1) is missing")
        shape = self.builder.shape(x)
        dims = tuple(slope.dims)
        while len(dims) > len(shape) and dims[0] == 1:  # leading ones broadcast over the batch
            dims = dims[1:]
        if math.prod(dims) == 1:
            self._add("prelu", node, [x])
        elif dims == (shape[0],) + (1,) * (len(shape) - 1):
            self._add("prelu", node, [x], per_channel=True)
        else:
            raise node.unsupported(f"slopes of {_dims_text(slope.dims)}; archcalc's prelu has one, or one per channel")

    def _lrn(self, node: _Node) -> None:
        size = node.attr("size")
        if size is None:
            raise node.fail("size is missing")
        self._add(
            "lrn", node, [self._data(node, 0)], size=int(size), alpha=_f32(node.attr("alpha", 1e-4)),
            beta=_f32(node.attr("beta", 0.75)), k=_f32(node.attr("bias", 1.0)),
        )  # fmt: skip

    def _dropout(self, node: _Node) -> None:
        x = self._data(node, 0)
        self._only_first_output(node, "the dropout mask")
        ratio = node.attr("ratio", 0.5) if self.opset < 12 else self._scalar(node, 1, 0.5)
        self._add("dropout", node, [x], p=_unless(_f32(ratio), 0.5))

    def _identity(self, node: _Node) -> None:
        self._add("identity", node, [self._data(node, 0)])

    # --- merges -------------------------------------------------------------------------------

    def _concat(self, node: _Node) -> None:
        inputs = [self._data(node, i) for i in range(len(node.inputs))]
        if int(node.attr("axis", 1)) % self._rank(inputs[0]) != 1:
            raise node.unsupported(f"concatenation along axis {node.attr('axis')}; archcalc's is along channels")
        self._add("concat", node, inputs)

    def _merge(self, node: _Node) -> None:
        """Add / Sum / Mul of feature maps (archcalc checks the shapes; multiply broadcasts [C, 1, 1])."""
        for i, name in enumerate(node.inputs):
            if name and self._is_constant(node, name):
                verb = "multiplies by" if node.op == "Mul" else "adds"
                raise node.unsupported(f"{verb} the constant '{clean_name(name, '?')}' (input {i})")
        inputs = [self._data(node, i) for i in range(len(node.inputs))]
        if len(inputs) == 1:
            self._add("identity", node, inputs)
        else:
            self._add("multiply" if node.op == "Mul" else "add", node, inputs)

    # --- reshaping ----------------------------------------------------------------------------

    def _flatten(self, node: _Node) -> None:
        x = self._data(node, 0)
        axis = int(node.attr("axis", 1)) % self._rank(x)
        if axis != 1:
            raise node.unsupported(f"Flatten at axis {axis}; archcalc's flatten keeps the batch (axis 1)")
        self._add("flatten", node, [x])

    def _reshape(self, node: _Node) -> None:
        """Reshape to (batch, features) is a flatten; anything else archcalc has no kind for."""
        x = self._data(node, 0)
        target = [v if v is BATCH else int(v) for v in self._value(node, 1).reshape(-1).tolist()]
        features = math.prod(self.builder.shape(x))
        if len(target) == 2:
            first, second = target
            batch = first is BATCH or (first == 0 and not node.attr("allowzero", 0)) or first == self.batch
            if (batch and second in (-1, features)) or (first == -1 and second == features):
                self._add("flatten", node, [x])
                return
        shown = "[" + ", ".join(map(str, target)) + "]"
        raise node.unsupported(
            f"Reshape to {shown} of {features:,} features; archcalc reshapes only to (batch, features)"
        )

    def _pad(self, node: _Node) -> None:
        x = self._data(node, 0)
        mode = node.attr("mode", "constant")
        if mode != "constant":
            raise node.unsupported(f"padding in {mode} mode; archcalc's zeropad pads with a constant")
        if self.opset < 11:
            pads, value = list(node.attr("pads", [])), float(node.attr("value", 0.0))
        else:
            pads, value = [int(p) for p in self._value(node, 1).reshape(-1)], self._scalar(node, 2, 0.0)
            if node.input(3):
                raise node.unsupported("pads over chosen axes (input 'axes')")
        self._map_shape(node, x)
        if len(pads) != 8 or any(pads[i] for i in (0, 1, 4, 5)):
            raise node.unsupported(f"pads {pads}; archcalc pads height and width only")
        sides = (pads[2], pads[6], pads[3], pads[7])
        if min(sides) < 0:
            raise node.unsupported(f"negative pads {pads} (a crop)")
        if self._absorbed(node, value):
            self.absorbed_pads[node.outputs[0]] = (x, sides)
            return
        if not math.isfinite(value):
            raise node.unsupported(f"padding with {value}")
        self._add("zeropad", node, [x], padding=_sides(*sides) or 0, value=_unless(_f32(value), 0.0))

    def _absorbed(self, node: _Node, value: float) -> bool:
        """Whether this Pad is the padding of the one node reading it: zeros before a Conv, −∞ before a
        MaxPool (whose own padding is −∞), exactly as if the reader had padded. Not before a pool with
        ceil_mode: PyTorch's rule for a last window that starts in the padding would then apply."""
        readers = self.consumers.get(node.outputs[0], [])
        if len(readers) != 1 or readers[0] < 0:
            return False
        reader = _Node(self.onnx, readers[0], self.graph.node[readers[0]], self.source)
        if reader.input(0) != node.outputs[0] or reader.attr("auto_pad", "NOTSET") not in ("NOTSET", "VALID", ""):
            return False
        if value == 0:
            return reader.op == "Conv"
        return value == -math.inf and reader.op == "MaxPool" and not reader.attr("ceil_mode", 0)

    # --- resampling ---------------------------------------------------------------------------

    def _resize(self, node: _Node) -> None:
        x = self._data(node, 0)
        channels, h, w = self._map_shape(node, x)
        mode = node.attr("mode", "nearest")
        if node.op == "Upsample" or self.opset < 11:  # asymmetric coordinates, by integer factors only
            if mode != "nearest":
                raise node.unsupported(f"{node.op} in {mode} mode (asymmetric coordinates, unlike PyTorch's bilinear)")
            scales = node.attr("scales") if node.op == "Upsample" and self.opset < 9 else self._value(node, 1)
            self._add("upsample", node, [x], scale=self._integer_scale(node, scales))
            return
        for name, default in (("antialias", 0), ("exclude_outside", 0), ("axes", None)):
            if node.attr(name, default) != default:
                raise node.unsupported(f"Resize with {name}")
        if node.attr("keep_aspect_ratio_policy", "stretch") != "stretch":
            raise node.unsupported(f"keep_aspect_ratio_policy {node.attr('keep_aspect_ratio_policy')}")
        scales, sizes = self._value(node, 2), self._value(node, 3)
        if sizes is not None and sizes.size:
            size = self._resize_size(node, sizes, channels)
            integral = size[0] % h == 0 and size[1] % w == 0
            fields: dict[str, Any] = {"size": _size(size)}
        else:
            scale = self._integer_scale(node, scales)
            integral, fields = True, {"scale": scale}
        coordinates = node.attr("coordinate_transformation_mode", "half_pixel")
        if mode == "nearest":
            rounding = node.attr("nearest_mode", "round_prefer_floor")
            floor = coordinates == "asymmetric" and rounding == "floor"  # PyTorch's nearest, any ratio
            rounded = coordinates in ("half_pixel", "pytorch_half_pixel") and rounding.startswith("round_prefer")
            if not (floor or (rounded and integral)):
                raise node.unsupported(
                    f"nearest resizing with {coordinates} coordinates and {rounding} rounding"
                    + ("" if integral else " by a fractional ratio")
                    + "; archcalc's is PyTorch's (asymmetric, floor)"
                )
            self._add("upsample", node, [x], **fields)
        elif mode == "linear":
            if coordinates not in ("half_pixel", "pytorch_half_pixel", "align_corners"):
                raise node.unsupported(f"linear resizing with {coordinates} coordinates")
            corners = coordinates == "align_corners" or None
            self._add("upsample", node, [x], **fields, mode="bilinear", align_corners=corners)
        else:
            raise node.unsupported(f"Resize in {mode} mode; archcalc upsamples nearest or bilinear")

    def _integer_scale(self, node: _Node, scales: Any) -> int | list[int]:
        factors = [float(s) for s in (scales if scales is not None else [])]
        if len(factors) != 4 or factors[:2] != [1.0, 1.0]:
            raise node.unsupported(f"scales {factors}; archcalc scales height and width only")
        if any(f < 1 or f != int(f) for f in factors[2:]):
            raise node.unsupported(f"scales {factors[2:]}; archcalc's upsample scales by whole numbers")
        return _size((int(factors[2]), int(factors[3])))

    def _resize_size(self, node: _Node, sizes: Any, channels: int) -> tuple[int, int]:
        values = [v if v is BATCH else int(v) for v in sizes.reshape(-1).tolist()]
        if len(values) != 4 or values[0] not in (BATCH, self.batch) or values[1] != channels:
            raise node.unsupported(f"sizes {values}; archcalc resizes height and width only")
        return values[2], values[3]


def _opset(model: Any, source: str) -> int:
    for entry in model.opset_import:
        if entry.domain in _DEFAULT_DOMAINS:
            return int(entry.version)
    raise ImportFailure(f"{source}: the model names no version of the ONNX operator set (opset_import)")


# --- the arithmetic of constant folding: each takes the input values (None where left out) ---------


def _fold_unsqueeze(constants: _Constants, node: _Node, values: list[Any]) -> Any:
    import numpy as np

    axes = node.attr("axes") if constants.opset < 13 else values[1]
    return np.expand_dims(values[0], tuple(int(a) for a in np.asarray(axes).reshape(-1)))


def _fold_squeeze(constants: _Constants, node: _Node, values: list[Any]) -> Any:
    import numpy as np

    axes = node.attr("axes") if constants.opset < 13 else (values[1] if len(values) > 1 else None)
    if axes is None:
        return np.squeeze(values[0])
    return np.squeeze(values[0], axis=tuple(int(a) for a in np.asarray(axes).reshape(-1)))


def _fold_cast(constants: _Constants, node: _Node, values: list[Any]) -> Any:

    value = values[0]
    if value.dtype == object:  # it holds the batch size: a shape, whatever its element type
        return value
    return value.astype(constants.onnx.helper.tensor_dtype_to_np_dtype(int(node.attr("to"))))


def _fold_divide(constants: _Constants, node: _Node, values: list[Any]) -> Any:
    import numpy as np

    a, b = values[0], values[1]
    if a.dtype.kind in "iu" and b.dtype.kind in "iu":
        return np.trunc(a / b).astype(np.result_type(a, b))  # ONNX's integer division truncates
    return a / b


def _fold_reshape(constants: _Constants, node: _Node, values: list[Any]) -> Any:
    data, shape = values[0], [int(v) for v in values[1].reshape(-1)]
    if not node.attr("allowzero", 0):
        shape = [data.shape[i] if v == 0 and i < data.ndim else v for i, v in enumerate(shape)]
    return data.reshape(shape)


def _fold_slice(constants: _Constants, node: _Node, values: list[Any]) -> Any:
    import numpy as np

    data = values[0]
    if constants.opset < 10:
        starts, ends, axes, steps = node.attr("starts"), node.attr("ends"), node.attr("axes"), None
    else:
        starts, ends = values[1], values[2]
        axes = values[3] if len(values) > 3 else None
        steps = values[4] if len(values) > 4 else None
    starts, ends = [int(v) for v in np.asarray(starts).reshape(-1)], [int(v) for v in np.asarray(ends).reshape(-1)]
    axes = list(range(len(starts))) if axes is None else [int(v) for v in np.asarray(axes).reshape(-1)]
    steps = [1] * len(starts) if steps is None else [int(v) for v in np.asarray(steps).reshape(-1)]
    index = [slice(None)] * data.ndim
    for start, end, axis, step in zip(starts, ends, axes, steps, strict=True):
        index[axis] = slice(start, end, step)
    return data[tuple(index)]


def _fold_constant_of_shape(constants: _Constants, node: _Node, values: list[Any]) -> Any:
    import numpy as np

    shape = [int(v) for v in values[0].reshape(-1)]
    if math.prod(shape) > MAX_VALUE_ELEMENTS or min(shape, default=0) < 0:
        raise node.fail(f"makes a tensor of {shape}; archcalc computes at most {MAX_VALUE_ELEMENTS:,} values")
    fill = node.attr("value")
    filler = constants.onnx.numpy_helper.to_array(fill).reshape(-1) if fill is not None else np.zeros(1, np.float32)
    return np.full(shape, filler[0], dtype=filler.dtype)


def _fold_gather(constants: _Constants, node: _Node, values: list[Any]) -> Any:
    import numpy as np

    return np.take(values[0], values[1].astype(np.int64), axis=int(node.attr("axis", 0)))


def _fold_concat(constants: _Constants, node: _Node, values: list[Any]) -> Any:
    import numpy as np

    return np.concatenate([v for v in values if v is not None], axis=int(node.attr("axis", 0)))


def _fold_transpose(constants: _Constants, node: _Node, values: list[Any]) -> Any:
    import numpy as np

    perm = node.attr("perm")
    return np.transpose(values[0], None if perm is None else [int(p) for p in perm])


def _binary(operation: Callable[[Any, Any], Any]) -> Callable[[_Constants, _Node, list[Any]], Any]:
    return lambda constants, node, values: operation(values[0], values[1])


_FOLDS: dict[str, Callable[[_Constants, _Node, list[Any]], Any]] = {
    "Identity": lambda constants, node, values: values[0],
    "Gather": _fold_gather,
    "Unsqueeze": _fold_unsqueeze,
    "Squeeze": _fold_squeeze,
    "Concat": _fold_concat,
    "Cast": _fold_cast,
    "Add": _binary(lambda a, b: a + b),
    "Sub": _binary(lambda a, b: a - b),
    "Mul": _binary(lambda a, b: a * b),
    "Div": _fold_divide,
    "Reshape": _fold_reshape,
    "Slice": _fold_slice,
    "Transpose": _fold_transpose,
    "ConstantOfShape": _fold_constant_of_shape,
}

# ONNX operator → the kind with no hyper-parameters that computes the same
_ELEMENTWISE = {"Relu": "relu", "Sigmoid": "sigmoid", "Tanh": "tanh", "HardSwish": "hardswish"}

_HANDLERS: dict[str, Callable[[_GraphReader, _Node], None]] = {
    "Conv": _GraphReader._conv,
    "ConvTranspose": _GraphReader._conv_transpose,
    "MaxPool": _GraphReader._max_pool,
    "AveragePool": _GraphReader._average_pool,
    "GlobalAveragePool": _GraphReader._global_pool,
    "GlobalMaxPool": _GraphReader._global_pool,
    "ReduceMean": _GraphReader._reduce,
    "ReduceMax": _GraphReader._reduce,
    "Gemm": _GraphReader._gemm,
    "MatMul": _GraphReader._matmul,
    "BatchNormalization": _GraphReader._batch_norm,
    "InstanceNormalization": _GraphReader._instance_norm,
    **{op: _GraphReader._elementwise for op in _ELEMENTWISE},
    "Softmax": _GraphReader._softmax,
    "Clip": _GraphReader._clip,
    "LeakyRelu": _GraphReader._leaky_relu,
    "Elu": _GraphReader._elu,
    "Gelu": _GraphReader._gelu,
    "HardSigmoid": _GraphReader._hard_sigmoid,
    "PRelu": _GraphReader._prelu,
    "LRN": _GraphReader._lrn,
    "Dropout": _GraphReader._dropout,
    "Identity": _GraphReader._identity,
    "Concat": _GraphReader._concat,
    "Add": _GraphReader._merge,
    "Sum": _GraphReader._merge,
    "Mul": _GraphReader._merge,
    "Flatten": _GraphReader._flatten,
    "Reshape": _GraphReader._reshape,
    "Pad": _GraphReader._pad,
    "Resize": _GraphReader._resize,
    "Upsample": _GraphReader._resize,
    "Shape": _GraphReader._shape,
}
