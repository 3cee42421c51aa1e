"""PyTorch models into specs, read through torch's own graph capture, ``torch.fx.symbolic_trace``.

SOURCE is ``path/to/file.py:NAME`` or ``package.module:NAME``: a class or a factory (called with the
``--arg`` keyword arguments, on the meta device where its code allows, so no weights are allocated
or initialised) or a module instance. Importing the file runs its code, as torch itself would.

Why symbolic tracing: it needs no example input, it keeps module paths (``features.0``) as node
targets, which become layer names, and it records functional calls and tensor methods as nodes.
``torch.export`` needs real shapes and decomposes modules into aten ops, losing the module
boundaries that are archcalc's layers.

Each module and operation maps to a kind by its hyper-parameters alone; the shapes come from
archcalc's engine. What depends on a shape (a view that must be a flatten, a layer norm that must
be over the features) is checked once the spec is analysed, and so is every module's parameter
count against torch's own: a module that is not what its type says is an error, never a wrong figure.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import math
import operator
import re
import sys
import types
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ImportFailure, SpecError
from ..fields import REQUIRED, FieldValueError
from ..format import bracketed
from ..kinds import KINDS, TORCH_HELPERS, Shape
from ..kinds.base import native_padding
from ..kinds.pool import pad_limit
from ..spec import INPUT_NAME
from .builder import SpecBuilder, unsupported

MAX_FILE_BYTES = 10_000_000  # a model definition, not a checkpoint
MAX_NODES = 100_000
_DOTTED = re.compile(r"[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*")
_NUMBERED = re.compile(r"_[0-9]+$")  # fx's counter on repeated node names (relu_3)
_LINE = "archcalc_line"  # a node's meta entry: the line of the user's code that made it
# What a subclass of a mapped module may change while staying that module: how it is built.
_CONSTRUCTION = frozenset({"__init__", "reset_parameters", "_reset_parameters", "extra_repr", "__setstate__"})


def read(source: str, input_shape: Shape | None, args: dict[str, Any]) -> dict[str, Any]:
    """The spec mapping of the PyTorch class or factory that `source` names."""
    from ..torchrun import import_torch
    from . import PYTHON_SOURCE

    torch = import_torch()
    match = PYTHON_SOURCE.match(source)
    if match is None:
        raise ImportFailure(f"{source}: expected FILE.py:NAME or package.module:NAME")
    where, name = match["module"], match["name"]
    with _user_code(where) as namespace:
        model = _build(_lookup(namespace, where, name), name, args, torch)
        graph = _trace(model, source, torch)
    shape = input_shape or _declared_input(model, source)
    builder = SpecBuilder(_text_attribute(model, "name") or name, source, shape, _description(model))
    translator = _Translator(torch, model, builder, _spec_names(namespace, model), source)
    translator.run(graph)
    translator.verify()
    builder.doc["description"] = _with_unused_note(builder.doc["description"], model, translator.called)
    return builder.mapping()


# --- loading the user's code -------------------------------------------------------------------


def _error_text(error: BaseException, path: Path | None = None) -> str:
    """``ValueError: bad value (line 12)``: the error's first line and, where known, the line of the file."""
    text = (error.msg if isinstance(error, SyntaxError) else str(error)).strip().splitlines()
    message = f"{type(error).__name__}: {text[0]}" if text else type(error).__name__
    line = error.lineno if isinstance(error, SyntaxError) else None
    if line is None and path is not None:
        frames = [f for f in _traceback_frames(error) if Path(f.filename).resolve() == path.resolve()]
        line = frames[-1].lineno if frames else None
    return message + (f" (line {line})" if line else "")


def _traceback_frames(error: BaseException) -> list[Any]:
    import traceback

    return list(traceback.extract_tb(error.__traceback__))


@contextmanager
def _user_code(where: str) -> Iterator[types.ModuleType]:
    """The module `where` names, a file run under a unique name or a package module imported as
    usual; a file's module (and its folder on sys.path) is there only while it is read."""
    if not (where.endswith(".py") or "/" in where or "\\" in where):
        if not _DOTTED.fullmatch(where):
            raise ImportFailure(f"{where}: not a file path ending in .py or a dotted module name")
        try:
            yield importlib.import_module(where)
        except ImportFailure:
            raise
        except (Exception, SystemExit) as error:
            raise ImportFailure(f"{where}: importing it raised {_error_text(error)}") from None
        return
    path = Path(where)
    if not path.is_file():
        raise ImportFailure(f"{where}: no such file")
    if path.stat().st_size > MAX_FILE_BYTES:
        raise ImportFailure(f"{where}: larger than {MAX_FILE_BYTES:,} bytes; a model definition is source code")
    unique = f"_archcalc_import_{uuid.uuid4().hex}"
    spec = importlib.util.spec_from_file_location(unique, path)
    if spec is None or spec.loader is None:
        raise ImportFailure(f"{where}: not a Python file")
    module = importlib.util.module_from_spec(spec)
    folder = str(path.resolve().parent)
    sys.modules[unique] = module  # classes and dataclasses defined in it look their module up there
    sys.path.insert(0, folder)  # its own imports of neighbouring files work as when it is run
    try:
        try:
            spec.loader.exec_module(module)
        except (Exception, SystemExit) as error:
            raise ImportFailure(f"{where}: importing it raised {_error_text(error, path)}") from None
        yield module
    finally:
        sys.modules.pop(unique, None)
        if folder in sys.path:
            sys.path.remove(folder)


def _lookup(namespace: types.ModuleType, where: str, name: str) -> Any:
    found = namespace.__dict__.get(name, inspect.Parameter.empty)
    if found is inspect.Parameter.empty:
        offered = [
            key
            for key, value in vars(namespace).items()
            if (inspect.isclass(value) or inspect.isfunction(value)) and value.__module__ == namespace.__name__
        ]
        listed = ", ".join(offered[:12]) or "no classes or functions"
        raise ImportFailure(f"{where} has no {name!r}; it defines: {listed}")
    return found


def _build(found: Any, name: str, args: dict[str, Any], torch: Any) -> Any:
    """The nn.Module: `found` itself, or what calling it with `args` gives, on the meta device where
    the code allows (no weights allocated), else on the CPU."""
    if isinstance(found, torch.nn.Module):
        if args:
            raise ImportFailure(f"{name} is a module already; --arg applies to a class or a factory function")
        return found
    if not callable(found):
        raise ImportFailure(
            f"{name} is of type {type(found).__name__}: not a torch.nn.Module class, factory or instance"
        )
    _check_arguments(found, name, args)
    try:
        with torch.device("meta"):
            model = found(**args)
    except (Exception, SystemExit):  # code that needs real tensors (an .item(), a loaded file)
        try:
            model = found(**args)
        except (Exception, SystemExit) as error:
            raise ImportFailure(f"{name}(...) raised {_error_text(error)}") from None
    if not isinstance(model, torch.nn.Module):
        raise ImportFailure(f"{name}(...) returned a value of type {type(model).__name__}, not a torch.nn.Module")
    return model


def _check_arguments(found: Any, name: str, args: dict[str, Any]) -> None:
    """Say which arguments a class or factory still needs, or does not take, before calling it."""
    try:
        parameters = dict(inspect.signature(found).parameters)
    except (TypeError, ValueError):
        return
    kinds = inspect.Parameter
    if not any(p.kind is kinds.VAR_KEYWORD for p in parameters.values()):
        unknown = [key for key in args if key not in parameters]
        if unknown:
            raise ImportFailure(f"{name} takes no argument {unknown[0]!r}; it takes: {', '.join(parameters) or 'none'}")
    missing = [
        p.name
        for p in parameters.values()
        if p.default is kinds.empty and p.kind not in (kinds.VAR_POSITIONAL, kinds.VAR_KEYWORD) and p.name not in args
    ]
    if missing:
        needs = ", ".join(missing)
        raise ImportFailure(f"{name} needs {needs}: pass --arg {missing[0]}=VALUE (a Python literal) for each")


def _text_attribute(model: Any, attribute: str) -> str:
    value = getattr(type(model), attribute, None)
    return value if isinstance(value, str) else ""


def _description(model: Any) -> str:
    """The class's `description` (archcalc's generated modules carry one, maybe empty), else the first
    paragraph of its docstring."""
    declared = getattr(type(model), "description", None)
    if isinstance(declared, str):
        return declared
    doc = type(model).__doc__
    if isinstance(doc, str) and not type(model).__module__.startswith("torch."):
        return doc.strip().split("\n\n")[0].replace("\n", " ")
    return ""


def _declared_input(model: Any, source: str) -> Shape:
    """The class's `input_shape` (C, H, W) where it has one (archcalc's generated modules do)."""
    shape = getattr(model, "input_shape", None)
    if isinstance(shape, (tuple, list)) and len(shape) == 3 and all(type(v) is int and v > 0 for v in shape):
        return (shape[0], shape[1], shape[2])
    raise ImportFailure(
        f"{source}: a PyTorch module does not record its input size; give --input CxHxW (e.g. 3x224x224)"
    )


def _spec_names(namespace: types.ModuleType, model: Any) -> dict[str, str]:
    """Module attribute → layer name, from the LAYER_NAMES table of a file archcalc generated."""
    table = getattr(namespace, "LAYER_NAMES", None)
    if type(model).__module__ != namespace.__name__ or not isinstance(table, dict):
        return {}
    return {attr: name for name, attr in table.items() if isinstance(name, str) and isinstance(attr, str)}


def _with_unused_note(description: str, model: Any, called: set[str]) -> str:
    """Say which modules holding parameters forward never calls: the spec leaves them out."""
    unused, count = [], 0
    for path, module in model.named_modules():
        own = sum(t.numel() for t in [*module.parameters(recurse=False), *module.buffers(recurse=False)])
        if own and path and not any(path == c or path.startswith(c + ".") for c in called):
            unused.append(path)
            count += own
    if not unused:
        return description
    names = ", ".join(unused[:5]) + (f" and {len(unused) - 5} more" if len(unused) > 5 else "")
    note = f"Not imported, as forward never calls them: {names} ({count:,} parameters and buffers)."
    return f"{description} {note}".strip()


# --- tracing -----------------------------------------------------------------------------------


def _trace(model: Any, source: str, torch: Any) -> Any:
    """The inference graph (the model in eval mode), with in-place operations made explicit. A layer
    whose result nothing reads stays: torch computes it (and counts its parameters) all the same."""
    import torch.fx as fx

    model.train(False)
    handlers = _Handlers.get(torch)

    # frames of torch and archcalc are not the user's line; both as imported and as resolved (a symlinked venv)
    folders = (Path(torch.__file__).parent, Path(__file__).parent.parent)
    skipped = tuple(str(path) for folder in folders for path in (folder, folder.resolve()))

    class Tracer(fx.Tracer):
        def is_leaf_module(self, m: Any, qualname: str) -> bool:
            return handlers.module(m) is not None or super().is_leaf_module(m, qualname)

        def create_node(self, *args: Any, **kwargs: Any) -> Any:
            if len(self.graph.nodes) >= MAX_NODES:  # bounded while tracing, not after
                raise ImportFailure(f"{source}: forward makes more than {MAX_NODES:,} graph nodes")
            node = super().create_node(*args, **kwargs)
            node.meta[_LINE] = _user_line(skipped)  # where the user's code made it
            return node

    tracer = Tracer()
    cls = type(model).__name__
    try:
        graph = tracer.trace(model, concrete_args=_concrete_args(model, f"{source}: {cls}") or None)
    except ImportFailure:
        raise
    except Exception as error:
        raise ImportFailure(
            f"{source}: torch.fx could not trace {cls}.forward: {_error_text(error)}; archcalc reads the graph "
            "torch.fx.symbolic_trace records, so forward must be traceable (no Python control flow on tensor "
            "values or shapes: see torch.fx's documentation)"
        ) from None
    _settle_in_place(graph, model)
    return graph


def _user_line(skipped: tuple[str, ...]) -> str | None:
    """``net.py:14``: the innermost frame outside torch and archcalc, found by walking the frames (torch's
    own record_stack_traces symbolises a whole traceback per node, 0.1 s each)."""
    frame = sys._getframe(1)
    while frame is not None:
        filename = frame.f_code.co_filename
        if not filename.startswith(skipped) and not filename.startswith("<"):
            return f"{Path(filename).name}:{frame.f_lineno}"
        frame = frame.f_back
    return None


def _concrete_args(model: Any, what: str) -> dict[str, Any]:
    """forward's optional parameters at their defaults; more than one required input is refused."""
    try:
        parameters = list(inspect.signature(model.forward).parameters.values())
    except (TypeError, ValueError):
        return {}
    kinds = inspect.Parameter
    named = [p for p in parameters if p.kind not in (kinds.VAR_POSITIONAL, kinds.VAR_KEYWORD)]
    required = [p.name for p in named if p.default is kinds.empty]
    if len(required) != 1:
        takes = f"{len(required)} inputs ({', '.join(required)})" if required else "no input"
        raise ImportFailure(f"{what}.forward takes {takes}; an archcalc network has one input")
    return {p.name: p.default for p in named if p.default is not kinds.empty}


def _mutated(node: Any, model: Any) -> Any:
    """The tensor node an in-place operation overwrites (``x.relu_()``, ``F.relu(x, inplace=True)``,
    ``nn.ReLU(inplace=True)``), or None."""
    if not node.args:
        return None
    if node.op == "call_method" and node.target.endswith("_") and not node.target.startswith("_"):
        return node.args[0]
    if node.op == "call_function" and (node.kwargs.get("inplace") is True or node.target in _IN_PLACE_OPERATORS):
        return node.args[0]
    if node.op == "call_module" and getattr(model.get_submodule(node.target), "inplace", False) is True:
        return node.args[0]
    return None


_IN_PLACE_OPERATORS = (operator.iadd, operator.imul)


def _settle_in_place(graph: Any, model: Any) -> None:
    """After ``x.relu_()``, later reads of x read the result, as in eager PyTorch; the graph says so."""
    import torch.fx as fx

    order = {node: index for index, node in enumerate(graph.nodes)}
    for node in list(graph.nodes):
        target = _mutated(node, model)
        if not isinstance(target, fx.Node):
            continue
        for user in list(target.users):
            if order[user] > order[node]:
                user.replace_input_with(target, node)


# --- what the translation produces -------------------------------------------------------------


class _Refused(Exception):
    """A module or call archcalc cannot represent; the translator adds where it is."""

    def __init__(self, operation: str, hint: str = "") -> None:
        super().__init__(operation)
        self.operation, self.hint = operation, hint


Check = Callable[[Any], str | None]  # a LayerResult → what is wrong with it, or None


@dataclass
class _Layer:
    """One layer a module or call becomes; `check` runs on the analysed layer."""

    kind: str
    fields: dict[str, Any] = field(default_factory=dict)
    checks: list[Check] = field(default_factory=list)


class _Alias:
    """A call whose result is its input (``x.contiguous()``)."""


ALIAS = _Alias()


class _Batch:
    """The batch dimension, as a size read from a tensor (``x.size(0)``, ``x.shape[0]``)."""

    def __repr__(self) -> str:
        return "N"


BATCH = _Batch()


class _Sizes:
    """A tensor's sizes (``x.shape``, ``x.size()``): the batch, then archcalc's shape of it, which is
    computed (by the engine) only when a size other than the batch is read."""

    def __init__(self, shape: Callable[[], Shape]) -> None:
        self.shape = shape

    def all(self) -> tuple[Any, ...]:
        return (BATCH, *self.shape())

    def __getitem__(self, index: Any) -> Any:
        return BATCH if index == 0 else self.all()[index]

    def __len__(self) -> int:
        return len(self.all())


def _pair(value: Any) -> Any:
    """A torch size (int or tuple) as a spec value: ``3`` for (3, 3), ``[3, 5]`` otherwise."""
    if isinstance(value, (tuple, list)):
        values = [_int(v) for v in value]
        if len(values) == 1 or (len(values) == 2 and values[0] == values[1]):
            return values[0]
        if len(values) != 2:
            raise _Refused(f"a size of {len(values)} dimensions {tuple(values)}", "archcalc's maps have two")
        return values
    return _int(value)


def _int(value: Any) -> int:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if not isinstance(value, int) or isinstance(value, bool):
        raise _Refused(f"the size {value!r}", "archcalc's sizes are whole numbers")
    return value


def _sides(torch_padding: Any) -> list[int] | int:
    """torch's (left, right, top, bottom) as archcalc's [top, bottom, left, right] (or one int)."""
    if isinstance(torch_padding, int):
        torch_padding = (torch_padding,) * 4
    if len(torch_padding) == 2:
        torch_padding = (*torch_padding, 0, 0)
    if len(torch_padding) != 4:
        raise _Refused(f"padding {tuple(torch_padding)}", "archcalc pads height and width only")
    left, right, top, bottom = (_int(v) for v in torch_padding)
    if min(left, right, top, bottom) < 0:
        raise _Refused(f"negative padding {tuple(torch_padding)} (a crop)")
    return top if top == bottom == left == right else [top, bottom, left, right]


def _four(sides: list[int] | int) -> tuple[int, int, int, int]:
    if isinstance(sides, int):
        return (sides, sides, sides, sides)
    top, bottom, left, right = sides
    return (top, bottom, left, right)


def _conv_padding(padding: Any) -> Any:
    """A torch conv's padding: 'same' (the same rule as archcalc's at stride 1, the only stride torch
    allows it with), 'valid', or sizes."""
    return padding if isinstance(padding, str) else _pair(padding)


def _without_defaults(kind: str, fields: dict[str, Any]) -> dict[str, Any]:
    """The fields that differ from the kind's defaults, so the spec reads as one would write it."""
    declared = {f.name: f for f in KINDS[kind].fields}
    kept = {}
    for key, value in fields.items():
        spec_field = declared[key]
        if spec_field.default is not REQUIRED and spec_field.default is not None:
            try:
                if spec_field.type.coerce(value) == spec_field.type.coerce(spec_field.default):
                    continue
            except FieldValueError:
                pass
        kept[key] = value
    return kept


# --- checks on the analysed layers -------------------------------------------------------------


def _rank(layer: Any) -> int:
    """Dimensions of the layer's input as torch sees it (with the batch)."""
    return len(layer.input_shapes[0]) + 1


def _needs_flat(operation: str) -> Check:
    def check(layer: Any) -> str | None:
        shape = layer.input_shapes[0]
        return (
            None
            if len(shape) == 1
            else f"{operation} on a {bracketed(shape)} map (torch applies it along the width alone)"
        )

    return check


def _needs_map(operation: str) -> Check:
    def check(layer: Any) -> str | None:
        shape = layer.input_shapes[0]
        return None if len(shape) == 3 else f"{operation} on the flat input {bracketed(shape)}"

    return check


def _channels_are(count: int, operation: str) -> Check:
    def check(layer: Any) -> str | None:
        have = layer.input_shapes[0][0]
        return None if have == count else f"{operation} for {count:,} channels on an input of {have:,}"

    return check


def _axis_is_channels(dim: int | None, operation: str) -> Check:
    """`dim` names the channels (or a flat input's features): 1, or the same counted from the end."""

    def check(layer: Any) -> str | None:
        rank = _rank(layer)
        if dim is None or dim % rank == 1:
            return None
        return f"{operation} over dimension {dim} of a {bracketed(layer.input_shapes[0])} input, not its channels"

    return check


def _features_are(count: int, operation: str) -> Check:
    def check(layer: Any) -> str | None:
        shape = layer.input_shapes[0]
        have = math.prod(shape)
        if have == count:
            return None
        return f"{operation} of {bracketed(shape)} ({have:,} values a sample) into rows of {count:,}, changing the batch size"

    return check


def _padding_is(sides: tuple[int, int, int, int], operation: str) -> Check:
    def check(layer: Any) -> str | None:
        have = tuple(layer.details["padding"])
        return (
            None if have == sides else f"{operation} padding {list(sides)}, where SAME pads {list(have)} on this input"
        )

    return check


# --- modules -----------------------------------------------------------------------------------


def _conv2d(m: Any) -> _Layer:
    if m.padding_mode != "zeros":
        raise _Refused(f"nn.Conv2d with padding_mode={m.padding_mode!r}", "archcalc's convolutions pad with zeros")
    return _Layer("conv", {
        "out_channels": m.out_channels, "kernel": _pair(m.kernel_size), "stride": _pair(m.stride),
        "padding": _conv_padding(m.padding), "dilation": _pair(m.dilation), "groups": m.groups,
        "bias": m.bias is not None, "in_channels": m.in_channels,
    })  # fmt: skip


def _conv_transpose2d(m: Any) -> _Layer:
    if m.padding_mode != "zeros":
        raise _Refused(f"nn.ConvTranspose2d with padding_mode={m.padding_mode!r}")
    return _Layer("conv_transpose", {
        "out_channels": m.out_channels, "kernel": _pair(m.kernel_size), "stride": _pair(m.stride),
        "padding": _pair(m.padding), "output_padding": _pair(m.output_padding), "dilation": _pair(m.dilation),
        "groups": m.groups, "bias": m.bias is not None, "in_channels": m.in_channels,
    })  # fmt: skip


def _max_pool(kernel: Any, stride: Any, padding: Any, dilation: Any, ceil_mode: bool, indices: bool) -> _Layer:
    if indices:
        raise _Refused("max pooling with return_indices=True", "archcalc's layers return one tensor")
    return _Layer("maxpool", {
        "kernel": _pair(kernel), "stride": _pair(stride) if stride else None, "padding": _pair(padding),
        "dilation": _pair(dilation), "ceil_mode": bool(ceil_mode),
    })  # fmt: skip


def _avg_pool(kernel: Any, stride: Any, padding: Any, ceil_mode: bool, include_pad: bool, divisor: Any) -> _Layer:
    if divisor is not None:
        raise _Refused(f"average pooling with divisor_override={divisor}")
    if not include_pad and _pair(padding) != 0:
        raise _Refused(
            "average pooling with count_include_pad=False and padding",
            "archcalc's explicit padding counts in the average, as torch's default does",
        )
    return _Layer("avgpool", {
        "kernel": _pair(kernel), "stride": _pair(stride) if stride else None, "padding": _pair(padding),
        "ceil_mode": bool(ceil_mode),
    })  # fmt: skip


def _adaptive_pool(kind: str, output_size: Any, indices: bool = False) -> _Layer:
    if indices:
        raise _Refused("adaptive max pooling with return_indices=True")
    sizes = output_size if isinstance(output_size, (tuple, list)) else (output_size, output_size)
    if any(v is None for v in sizes):
        raise _Refused(f"adaptive pooling to {tuple(sizes)}", "None keeps an input size; archcalc needs both sizes")
    size = _pair(tuple(sizes))
    return _Layer(f"global_{kind}") if size == 1 else _Layer(f"adaptive_{kind}", {"output_size": size})


def _linear(m: Any) -> _Layer:
    fields = {"out_features": m.out_features, "bias": m.bias is not None, "in_features": m.in_features}
    return _Layer("linear", fields, [_needs_flat("nn.Linear")])


def _batch_norm(m: Any, flat: bool) -> _Layer:
    label = "nn.BatchNorm1d" if flat else "nn.BatchNorm2d"
    if not m.track_running_stats:
        raise _Refused(f"{label} with track_running_stats=False", "it normalises with batch statistics at inference")
    if m.momentum is None:
        raise _Refused(f"{label} with momentum=None (a cumulative average)", "archcalc's momentum is a number")
    shape_check = _needs_flat(label) if flat else _needs_map(label)
    fields = {"eps": m.eps, "momentum": m.momentum, "affine": m.affine}
    return _Layer("batchnorm", fields, [shape_check, _channels_are(m.num_features, label)])


def _layer_norm(m: Any, over_channels: bool) -> _Layer:
    label = "LayerNorm2d" if over_channels else "nn.LayerNorm"
    shape = tuple(m.normalized_shape)
    if len(shape) != 1:
        raise _Refused(
            f"{label} over {shape}", "archcalc's layernorm is over the channels (or a flat input's features)"
        )
    if m.elementwise_affine and getattr(m, "bias", True) is None:
        raise _Refused(f"{label} with bias=False", "archcalc's affine layer norm has a scale and a shift")
    fields = {"eps": m.eps, "affine": m.elementwise_affine}
    where = _needs_map(label) if over_channels else _needs_flat(f"{label}({shape[0]})")
    return _Layer("layernorm", fields, [where, _channels_are(shape[0], label)])


def _group_norm(m: Any) -> _Layer:
    fields = {"groups": m.num_groups, "eps": m.eps, "affine": m.affine}
    return _Layer("groupnorm", fields, [_channels_are(m.num_channels, "nn.GroupNorm")])


def _instance_norm(m: Any) -> _Layer:
    checks = [_needs_map("nn.InstanceNorm2d")]
    if m.affine or m.track_running_stats:  # then num_features sizes its parameters
        checks.append(_channels_are(m.num_features, "nn.InstanceNorm2d"))
    fields = {"eps": m.eps, "affine": m.affine, "track_running_stats": m.track_running_stats}
    return _Layer("instancenorm", fields, checks)


def _prelu(m: Any) -> _Layer:
    if m.num_parameters == 1:
        return _Layer("prelu")
    return _Layer("prelu", {"per_channel": True}, [_channels_are(m.num_parameters, "nn.PReLU")])


def _softmax(dim: Any, operation: str) -> _Layer:
    return _Layer("softmax", checks=[_axis_is_channels(dim, operation)])


def _flatten(start: Any, end: Any, operation: str) -> list[_Layer]:
    if start != 1 or end != -1:
        raise _Refused(f"{operation} from dimension {start} to {end}", "archcalc flattens each sample: start 1, end -1")
    return [_Layer("flatten")]


def _pad(torch_padding: Any, value: Any) -> _Layer:
    value = 0.0 if value is None else float(value)
    if not math.isfinite(value):
        raise _Refused(
            f"padding with {value}", "a pad layer holds a finite value; -inf belongs to a max pool's padding"
        )
    return _Layer("zeropad", {"padding": _sides(torch_padding), "value": value})


def _upsample(size: Any, scale: Any, mode: str, align_corners: Any) -> _Layer:
    if mode not in ("nearest", "bilinear"):
        raise _Refused(f"upsampling with mode={mode!r}", "archcalc's upsample is nearest or bilinear")
    if scale is not None:
        scales = scale if isinstance(scale, (tuple, list)) else (scale, scale)
        if not all(float(s).is_integer() for s in scales):
            raise _Refused(f"upsampling by {scale}", "archcalc's scale is a whole number")
    fields = {
        "scale": _pair(tuple(scales)) if scale is not None else None,
        "size": _pair(size) if size is not None else None,
        "mode": mode,
        "align_corners": bool(align_corners) if mode == "bilinear" else None,
    }
    return _Layer("upsample", fields)


def _upsample_module(m: Any) -> _Layer:
    return _upsample(m.size, m.scale_factor, m.mode, m.align_corners)


def _plain(kind: str) -> Callable[[Any], _Layer]:
    return lambda m: _Layer(kind)


def _module_table(nn: Any) -> dict[type, Callable[[Any], _Layer | list[_Layer]]]:
    return {
        nn.Conv2d: _conv2d,
        nn.ConvTranspose2d: _conv_transpose2d,
        nn.MaxPool2d: lambda m: _max_pool(
            m.kernel_size, m.stride, m.padding, m.dilation, m.ceil_mode, m.return_indices
        ),
        nn.AvgPool2d: lambda m: _avg_pool(
            m.kernel_size, m.stride, m.padding, m.ceil_mode, m.count_include_pad, m.divisor_override
        ),
        nn.AdaptiveAvgPool2d: lambda m: _adaptive_pool("avgpool", m.output_size),
        nn.AdaptiveMaxPool2d: lambda m: _adaptive_pool("maxpool", m.output_size, m.return_indices),
        nn.Linear: _linear,
        nn.BatchNorm2d: lambda m: _batch_norm(m, flat=False),
        nn.BatchNorm1d: lambda m: _batch_norm(m, flat=True),
        nn.LayerNorm: lambda m: _layer_norm(m, over_channels=False),
        nn.GroupNorm: _group_norm,
        nn.InstanceNorm2d: _instance_norm,
        nn.LocalResponseNorm: lambda m: _Layer("lrn", {"size": m.size, "alpha": m.alpha, "beta": m.beta, "k": m.k}),
        nn.Dropout: lambda m: _Layer("dropout", {"p": m.p}),
        nn.Dropout2d: lambda m: _Layer("dropout2d", {"p": m.p}),
        nn.ReLU: _plain("relu"),
        nn.ReLU6: _plain("relu6"),
        nn.Sigmoid: _plain("sigmoid"),
        nn.Tanh: _plain("tanh"),
        nn.SiLU: _plain("silu"),
        nn.Hardswish: _plain("hardswish"),
        nn.Hardsigmoid: _plain("hardsigmoid"),
        nn.Identity: _plain("identity"),
        nn.LeakyReLU: lambda m: _Layer("leaky_relu", {"negative_slope": m.negative_slope}),
        nn.ELU: lambda m: _Layer("elu", {"alpha": m.alpha}),
        nn.GELU: lambda m: _Layer("gelu", {"approximate": m.approximate}),
        nn.PReLU: _prelu,
        nn.Softmax: lambda m: _softmax(m.dim, "nn.Softmax"),
        nn.Softmax2d: lambda m: _Layer("softmax", checks=[_needs_map("nn.Softmax2d")]),
        nn.Flatten: lambda m: _flatten(m.start_dim, m.end_dim, "nn.Flatten"),
        nn.ZeroPad2d: lambda m: _pad(m.padding, 0.0),
        nn.ConstantPad2d: lambda m: _pad(m.padding, m.value),
        nn.Upsample: _upsample_module,
        nn.ChannelShuffle: lambda m: _Layer("channel_shuffle", {"groups": m.groups}),
    }


# archcalc's own helper modules (archcalc.codegen writes them into generated files), by class name


def _connection_conv(m: Any) -> _Layer:
    first = m.maps[0]
    fields = {
        "out_channels": len(m.table), "kernel": _pair(first.kernel_size), "stride": _pair(first.stride),
        "padding": _conv_padding(first.padding), "dilation": _pair(first.dilation), "bias": first.bias is not None,
        "connections": [list(row) for row in m.table],
    }  # fmt: skip
    return _Layer("conv", fields)


def _avg_pool_same(m: Any) -> _Layer:
    sides = _four(_sides(m.padding))
    fields = {"kernel": _pair(m.kernel_size), "stride": _pair(m.stride), "padding": "same"}
    return _Layer("avgpool", fields, [_padding_is(sides, "AvgPool2dSame")])


def _rbf(m: Any) -> _Layer:
    out_features, in_features = m.weight.shape
    fields = {"out_features": out_features, "trainable": m.weight.requires_grad, "in_features": in_features}
    return _Layer("rbf", fields)


_HELPERS: dict[str, Callable[[Any], _Layer]] = {
    "ScaledTanh": lambda m: _Layer("scaled_tanh", {"amplitude": float(m.amplitude), "slope": float(m.slope)}),
    "ConnectionConv2d": _connection_conv,
    "RBF": _rbf,
    "Concat": _plain("concat"),
    "Add": _plain("add"),
    "Multiply": _plain("multiply"),
    "LayerNorm2d": lambda m: _layer_norm(m, over_channels=True),
    "AvgPool2dSame": _avg_pool_same,
    "Subsample": lambda m: _Layer(
        "subsample",
        {"kernel": _pair(m.kernel_size), "stride": _pair(m.stride)},
        [_channels_are(m.weight.numel(), "Subsample")],
    ),
    "CenterCrop2d": _plain("crop"),
}


_GENERATED_HEADER = "import torch\nfrom torch import nn\n"


def _code_key(code: types.CodeType) -> tuple[Any, ...]:
    """What a function does, independent of where it is written: bytecode, names and constants."""
    consts = tuple(_code_key(c) if isinstance(c, types.CodeType) else c for c in code.co_consts)
    return (code.co_code, code.co_names, code.co_varnames, consts)


def _methods(cls: type) -> dict[str, tuple[Any, ...]]:
    return {name: _code_key(value.__code__) for name, value in vars(cls).items() if inspect.isfunction(value)}


class _Handlers:
    """Which modules map to kinds: torch.nn types (and subclasses that change only how they are
    built), archcalc's helper modules (the same code as archcalc's own), and the Sequential(pad,
    conv or pool) that archcalc writes for asymmetric padding."""

    _cache: dict[int, _Handlers] = {}

    def __init__(self, torch: Any) -> None:
        self.torch = torch
        self.table = _module_table(torch.nn)
        # archcalc's own helper source, compiled as a generated file holds it (after `import torch`,
        # which changes how CPython compiles `torch.cat(...)`) and alone
        self.helpers: dict[str, tuple[type, list[dict[str, tuple[Any, ...]]]]] = {}
        for name, source in TORCH_HELPERS.items():
            variants = []
            for header in (_GENERATED_HEADER, ""):
                namespace: dict[str, Any] = {"torch": torch, "nn": torch.nn}
                exec(compile(header + source, "<archcalc helper>", "exec", dont_inherit=True), namespace)
                variants.append(_methods(namespace[name]))
            self.helpers[name] = (namespace[name], variants)

    @classmethod
    def get(cls, torch: Any) -> _Handlers:
        if id(torch) not in cls._cache:
            cls._cache[id(torch)] = cls(torch)
        return cls._cache[id(torch)]

    def module(self, m: Any) -> Callable[[Any], _Layer | list[_Layer]] | None:
        cls = type(m)
        helper = self.helpers.get(cls.__name__)
        if helper is not None and cls.__bases__ == helper[0].__bases__ and _methods(cls) in helper[1]:
            return _HELPERS[cls.__name__]
        if isinstance(m, self.torch.nn.Sequential) and self.padded_parts(m) is not None:
            return self.padded
        for base in cls.__mro__:
            if base in self.table and _only_built_differently(cls, base):
                return self.table[base]
        return None

    def padded_parts(self, seq: Any) -> tuple[tuple[int, int, int, int], Any] | None:
        """(padding, inner) for Sequential(pad, conv or pool) where the pad is the inner layer's own
        padding: zeros for a convolution or an average pool, -inf for a max pool."""
        nn = self.torch.nn
        if len(seq) != 2 or type(seq[0]) not in (nn.ZeroPad2d, nn.ConstantPad2d):
            return None
        pad, inner = seq[0], seq[1]
        try:
            sides = _four(_sides(pad.padding))
        except _Refused:
            return None
        fill = "max" if pad.value == -math.inf else "zero" if pad.value == 0 else None
        if type(inner) is nn.Conv2d and fill == "zero" and inner.padding in ((0, 0), "valid"):
            return sides, inner
        if type(inner).__name__ == "ConnectionConv2d" and fill == "zero" and self.module(inner) is not None:
            return (sides, inner) if inner.maps[0].padding == (0, 0) else None
        pools = {nn.MaxPool2d: "max", nn.AvgPool2d: "zero"}
        if type(inner) in pools and pools[type(inner)] == fill and _pair(inner.padding) == 0:
            limit = pad_limit(_pair_tuple(inner.kernel_size))
            # with ceil_mode, torch drops a last window starting in its own padding but not in a pad
            # layer's: fold only where archcalc, too, treats the padding as a pad layer
            if not inner.ceil_mode or native_padding(sides, limit) is None:
                return sides, inner
        return None

    def padded(self, seq: Any) -> _Layer:
        sides, inner = self.padded_parts(seq)  # type: ignore[misc]
        layer = self.module(inner)(inner)  # type: ignore[misc]
        assert isinstance(layer, _Layer)
        layer.fields["padding"] = sides[0] if len(set(sides)) == 1 else list(sides)
        if layer.kind == "maxpool":
            limit = pad_limit(_pair_tuple(inner.kernel_size))
            if native_padding(sides, limit) is None and native_padding(sides) is not None:
                # symmetric but more than half the kernel: archcalc writes that as SAME
                layer.fields["padding"] = "same"
                layer.checks.append(_padding_is(sides, "the max pool's pad layer"))
        return layer


def _pair_tuple(value: Any) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (value[0], value[1])


def _only_built_differently(cls: type, base: type) -> bool:
    """`cls` is `base` or a subclass that overrides nothing but how it is built (``__init__``)."""
    for klass in cls.__mro__[: cls.__mro__.index(base)]:
        for name, value in vars(klass).items():
            if name not in _CONSTRUCTION and callable(value) and hasattr(base, name):
                return False
    return True


# --- functional calls and tensor methods -------------------------------------------------------


@dataclass
class _Signature:
    """A call's parameters in order, and the defaults of those that have one."""

    names: tuple[str, ...]
    defaults: dict[str, Any]


def _sig(*names: str, **defaults: Any) -> _Signature:
    return _Signature(names, defaults)


class _Call:
    """One call's arguments by name: tensors resolved to source tensors, the rest evaluated to values."""

    def __init__(self, translator: _Translator, node: Any, signature: _Signature) -> None:
        self.translator = translator
        positional = list(node.args)
        if signature.names and signature.names[-1].startswith("*"):
            rest = signature.names[-1][1:]
            count = len(signature.names) - 1
            positional = positional[:count] + [tuple(positional[count:])]
            names = signature.names[:-1] + (rest,)
        else:
            names = signature.names
        if len(positional) > len(names):
            raise _Refused(f"a call with {len(positional)} positional arguments")
        self.raw = {**signature.defaults, **dict(zip(names, positional, strict=False))}
        for key, value in node.kwargs.items():
            if key not in names:
                raise _Refused(f"the argument {key}=")
            self.raw[key] = value

    def argument(self, name: str) -> Any:
        if name not in self.raw:
            raise _Refused(f"a call without its argument '{name}'")
        return self.raw[name]

    def value(self, name: str) -> Any:
        return self.translator.static(self.argument(name))

    def tensor(self, name: str) -> str:
        return self.translator.tensor(self.argument(name))

    def is_tensor(self, name: str) -> bool:
        return self.translator.is_tensor(self.argument(name))


Emit = list[_Layer] | _Alias
Translation = Callable[[_Call], Emit]


def _one(layer: _Layer | list[_Layer]) -> list[_Layer]:
    return layer if isinstance(layer, list) else [layer]


def _activation(kind: str, **fields: str) -> Translation:
    """An elementwise call; `fields` maps the kind's fields to the call's argument names."""
    return lambda c: [_Layer(kind, {key: c.value(arg) for key, arg in fields.items()})]


def _merge(kind: str, label: str) -> Translation:
    def translate(c: _Call) -> Emit:
        for operand in ("input", "other"):
            if not c.is_tensor(operand):
                raise _Refused(f"{label} with the constant {c.value(operand)!r}", f"archcalc's {kind} merges layers")
        if "alpha" in c.raw and c.value("alpha") != 1:
            raise _Refused(f"{label} with alpha={c.value('alpha')}")
        return [_Layer(kind)]

    return translate


def _concat(c: _Call) -> Emit:
    return [_Layer("concat", checks=[_axis_is_channels(c.value("dim"), "torch.cat")])]


def _view(c: _Call) -> Emit:
    """``x.view(x.size(0), -1)``, ``x.view(-1, 400)``, ``x.reshape(x.shape[0], n)``: a flatten."""
    shape = c.value("shape")
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    text = "(" + ", ".join(map(repr, shape)) + ")"
    if len(shape) == 2:
        first, second = shape
        if first is BATCH and second == -1:
            return [_Layer("flatten")]
        if (first is BATCH or first == -1) and isinstance(second, int) and second > 0:
            return [_Layer("flatten", checks=[_features_are(second, f"a reshape {text}")])]
    raise _Refused(f"a reshape to {text}", "archcalc reshapes only by flattening each sample: x.view(x.size(0), -1)")


def _mean(c: _Call) -> Emit:
    """``x.mean((2, 3), keepdim=True)``: global average pooling (then a flatten without keepdim)."""
    dims = c.value("dim")
    dims = tuple(dims) if isinstance(dims, (tuple, list)) else (dims,)
    if c.value("dtype") is not None or len(dims) != 2 or not all(isinstance(d, int) for d in dims):
        raise _Refused(f"a mean over {dims}", "archcalc's global_avgpool is the mean over height and width")

    def over_positions(layer: Any) -> str | None:
        if _rank(layer) == 4 and {d % 4 for d in dims} == {2, 3}:
            return None
        return f"a mean over dimensions {dims} of a {bracketed(layer.input_shapes[0])} input"

    layers = [_Layer("global_avgpool", checks=[over_positions])]
    return layers if c.value("keepdim") else [*layers, _Layer("flatten")]


def _interpolate(c: _Call) -> Emit:
    if c.value("antialias"):
        raise _Refused("F.interpolate with antialias=True")
    return [_upsample(c.value("size"), c.value("scale_factor"), c.value("mode"), c.value("align_corners"))]


def _f_pad(c: _Call) -> Emit:
    if c.value("mode") != "constant":
        raise _Refused(f"F.pad with mode={c.value('mode')!r}", "archcalc pads with a constant")
    return [_pad(tuple(c.value("pad")), c.value("value"))]


def _f_max_pool(c: _Call) -> Emit:
    names = ("kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices")
    return [_max_pool(*(c.value(name) for name in names))]


def _f_avg_pool(c: _Call) -> Emit:
    names = ("kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override")
    return [_avg_pool(*(c.value(name) for name in names))]


def _f_adaptive(kind: str) -> Translation:
    return lambda c: [_adaptive_pool(kind, c.value("output_size"), c.value("return_indices"))]


def _f_softmax(label: str) -> Translation:
    return lambda c: [_softmax(c.value("dim"), label)]


def _f_flatten(label: str) -> Translation:
    return lambda c: _flatten(c.value("start_dim"), c.value("end_dim"), label)


_ACTIVATION = _sig("input", "inplace", inplace=False)
_UNARY = _sig("input")
_DROPOUT = _sig("input", "p", "training", "inplace", p=0.5, training=True, inplace=False)
_MAX_POOL = _sig(
    "input", "kernel_size", "stride", "padding", "dilation", "ceil_mode", "return_indices",
    stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False,
)  # fmt: skip
_AVG_POOL = _sig(
    "input", "kernel_size", "stride", "padding", "ceil_mode", "count_include_pad", "divisor_override",
    stride=None, padding=0, ceil_mode=False, count_include_pad=True, divisor_override=None,
)  # fmt: skip
_ADAPTIVE = _sig("input", "output_size", "return_indices", return_indices=False)
_INTERPOLATE = _sig(
    "input", "size", "scale_factor", "mode", "align_corners", "recompute_scale_factor", "antialias",
    size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None, antialias=False,
)  # fmt: skip
_LRN = _sig("input", "size", "alpha", "beta", "k", alpha=1e-4, beta=0.75, k=1.0)
_SOFTMAX = _sig("input", "dim", "dtype", dim=None, dtype=None)
_FLATTEN = _sig("input", "start_dim", "end_dim", start_dim=0, end_dim=-1)
_MEAN = _sig("input", "dim", "keepdim", "dtype", keepdim=False, dtype=None)
_BINARY = _sig("input", "other", "alpha", alpha=1)


def _function_table(torch: Any) -> dict[Any, tuple[_Signature, Translation]]:
    """call_function targets → how their calls read."""
    F = torch.nn.functional
    table: dict[Any, tuple[_Signature, Translation]] = {
        F.relu: (_ACTIVATION, _activation("relu")),
        torch.relu: (_UNARY, _activation("relu")),
        F.relu6: (_ACTIVATION, _activation("relu6")),
        F.silu: (_ACTIVATION, _activation("silu")),
        F.hardswish: (_ACTIVATION, _activation("hardswish")),
        F.hardsigmoid: (_ACTIVATION, _activation("hardsigmoid")),
        torch.sigmoid: (_UNARY, _activation("sigmoid")),
        torch.tanh: (_UNARY, _activation("tanh")),
        F.gelu: (_sig("input", "approximate", approximate="none"), _activation("gelu", approximate="approximate")),
        F.leaky_relu: (
            _sig("input", "negative_slope", "inplace", negative_slope=0.01, inplace=False),
            _activation("leaky_relu", negative_slope="negative_slope"),
        ),
        F.elu: (_sig("input", "alpha", "inplace", alpha=1.0, inplace=False), _activation("elu", alpha="alpha")),
        F.softmax: (
            _sig("input", "dim", "_stacklevel", "dtype", dim=None, _stacklevel=3, dtype=None),
            _f_softmax("F.softmax"),
        ),  # fmt: skip
        torch.softmax: (_SOFTMAX, _f_softmax("torch.softmax")),
        F.dropout: (_DROPOUT, _activation("dropout", p="p")),
        F.dropout2d: (_DROPOUT, _activation("dropout2d", p="p")),
        F.max_pool2d: (_MAX_POOL, _f_max_pool),
        torch.max_pool2d: (_MAX_POOL, _f_max_pool),
        F.avg_pool2d: (_AVG_POOL, _f_avg_pool),
        F.adaptive_avg_pool2d: (_ADAPTIVE, _f_adaptive("avgpool")),
        F.adaptive_max_pool2d: (_ADAPTIVE, _f_adaptive("maxpool")),
        F.interpolate: (_INTERPOLATE, _interpolate),
        F.pad: (_sig("input", "pad", "mode", "value", mode="constant", value=None), _f_pad),
        F.local_response_norm: (_LRN, _activation("lrn", size="size", alpha="alpha", beta="beta", k="k")),
        torch.channel_shuffle: (_sig("input", "groups"), _activation("channel_shuffle", groups="groups")),
        torch.flatten: (_FLATTEN, _f_flatten("torch.flatten")),
        torch.reshape: (_sig("input", "shape"), _view),
        torch.mean: (_MEAN, _mean),
        operator.add: (_BINARY, _merge("add", "+")),
        operator.iadd: (_BINARY, _merge("add", "+=")),
        torch.add: (_BINARY, _merge("add", "torch.add")),
        operator.mul: (_BINARY, _merge("multiply", "*")),
        operator.imul: (_BINARY, _merge("multiply", "*=")),
        torch.mul: (_BINARY, _merge("multiply", "torch.mul")),
    }
    for cat in (torch.cat, torch.concat, torch.concatenate):
        table[cat] = (_sig("tensors", "dim", dim=0), _concat)
    return table


def _method_table() -> dict[str, tuple[_Signature, Translation]]:
    """Tensor methods (``x.relu()``; the in-place ``x.relu_()`` alike) → how their calls read."""
    table: dict[str, tuple[_Signature, Translation]] = {
        "relu": (_UNARY, _activation("relu")),
        "sigmoid": (_UNARY, _activation("sigmoid")),
        "tanh": (_UNARY, _activation("tanh")),
        "softmax": (_SOFTMAX, _f_softmax("Tensor.softmax")),
        "flatten": (_FLATTEN, _f_flatten("Tensor.flatten")),
        "view": (_sig("input", "*shape"), _view),
        "reshape": (_sig("input", "*shape"), _view),
        "mean": (_MEAN, _mean),
        "add": (_BINARY, _merge("add", "Tensor.add")),
        "mul": (_BINARY, _merge("multiply", "Tensor.mul")),
        "contiguous": (_sig("input", "memory_format", memory_format=None), lambda c: ALIAS),
    }
    for name in ("relu", "sigmoid", "tanh", "add", "mul"):
        table[name + "_"] = table[name]
    return table


# What reads sizes, not values: evaluated only when a layer's argument needs it.
_STATIC_METHODS = frozenset({"size", "dim"})
_ARITHMETIC = {operator.mul: operator.mul, operator.add: operator.add, operator.sub: operator.sub,
               operator.floordiv: operator.floordiv}  # fmt: skip


def _op_label(node: Any) -> str:
    """``torch.nn.functional.relu``, ``Tensor.view``, ``operator.add``."""
    if node.op == "call_method":
        return f"Tensor.{node.target}"
    name = getattr(node.target, "__name__", repr(node.target))
    module = getattr(node.target, "__module__", None) or ""
    module = {
        "torch._C._nn": "torch.nn.functional",
        "_operator": "operator",
        "torch._C._VariableFunctions": "torch",
    }.get(module, module)
    return f"{module}.{name}" if module else name


def _module_label(m: Any) -> str:
    cls = type(m)
    return f"nn.{cls.__name__}" if cls.__module__.startswith("torch.nn.") else cls.__name__


# --- the translation ---------------------------------------------------------------------------


@dataclass
class _PendingCheck:
    layer: str
    where: str
    check: Check


class _Translator:
    """Walks the traced graph in order and adds a layer for every module or call that computes."""

    def __init__(self, torch: Any, model: Any, builder: SpecBuilder, names: dict[str, str], source: str) -> None:
        self.torch, self.model, self.builder, self.names, self.source = torch, model, builder, names, source
        self.handlers = _Handlers.get(torch)
        self.functions = _function_table(torch)
        self.methods = _method_table()
        self.tensors: set[str] = set()
        self.checks: list[_PendingCheck] = []
        self.where: dict[str, str] = {}  # spec layer → where it is in the source
        self.called: set[str] = set()  # module paths called
        self.owners: dict[str, str] = {}  # module path holding parameters → its layer
        self._shapes: tuple[int, dict[str, Shape]] = (-1, {})

    def run(self, graph: Any) -> None:
        for node in graph.nodes:
            if node.op == "placeholder":
                if not self.tensors:  # the first is the input; the others are specialised defaults
                    self.builder.set_input(node.name)
                    self.tensors.add(node.name)
            elif node.op == "call_module":
                self.call_module(node)
            elif node.op in ("call_function", "call_method"):
                self.call(node)
            elif node.op == "output":
                self.output(node)

    # --- where things are

    def line(self, node: Any) -> str:
        """``net.py:14``: where the user's code made the node, else the source."""
        return node.meta.get(_LINE) or self.source

    def describe(self, node: Any) -> str:
        if node.op == "call_module":
            module = self.model.get_submodule(node.target)
            return f"{self.line(node)}: module '{node.target}' ({_module_label(module)})"
        text = f"{self.line(node)}: node '{node.name}' ({_op_label(node)})"
        stack = node.meta.get("nn_module_stack") or {}
        if stack:
            path, (_, cls) = list(stack.items())[-1]
            text += f" in module '{path}' ({getattr(cls, '__name__', cls)})"
        return text

    # --- values

    def is_tensor(self, arg: Any) -> bool:
        import torch.fx as fx

        return isinstance(arg, fx.Node) and (arg.name in self.tensors or arg.op == "get_attr")

    def tensor(self, arg: Any) -> str:
        """The source tensor name `arg` is; anything else that is read as a tensor is refused."""
        import torch.fx as fx

        if isinstance(arg, fx.Node) and arg.name in self.tensors:
            return arg.name
        if isinstance(arg, fx.Node) and arg.op == "get_attr":
            raise _Refused(f"reading the module's tensor '{arg.target}' directly", "archcalc's layers read layers")
        if isinstance(arg, fx.Node):
            label = _op_label(arg) if arg.op.startswith("call_") else arg.op
            raise _Refused(f"reading '{arg.name}' ({label}), which is not computed from the network's input")
        raise _Refused(f"the constant {arg!r} where a tensor is read")

    def static(self, arg: Any) -> Any:
        """The Python value of an argument: constants as they are, sizes read from tensors (``x.size(0)``,
        ``x.shape[2:]``) through archcalc's shapes, the batch as BATCH."""
        import torch.fx as fx

        if isinstance(arg, (list, tuple)):
            return type(arg)(self.static(a) for a in arg)
        if isinstance(arg, slice):
            return slice(self.static(arg.start), self.static(arg.stop), self.static(arg.step))
        if not isinstance(arg, fx.Node):
            return arg
        if self.is_tensor(arg):
            raise _Refused(f"the tensor '{arg.name}' as a hyper-parameter", "archcalc's hyper-parameters are constants")
        target, args = arg.target, arg.args
        if arg.op == "call_method" and target == "size" and args and self.is_tensor(args[0]):
            sizes = self.sizes(args[0])
            dim = self.static(args[1]) if len(args) > 1 else self.static(arg.kwargs.get("dim"))
            return sizes if dim is None else sizes[dim]
        if arg.op == "call_method" and target == "dim" and self.is_tensor(args[0]):
            return len(self.sizes(args[0]))
        if arg.op == "call_function" and target is getattr and args[1] == "shape" and self.is_tensor(args[0]):
            return self.sizes(args[0])
        try:
            if arg.op == "call_function" and target is operator.getitem:
                return self.static(args[0])[self.static(args[1])]
            if arg.op == "call_function" and target in _ARITHMETIC:
                left, right = self.static(args[0]), self.static(args[1])
                if left is BATCH or right is BATCH:
                    raise _Refused(f"'{arg.name}', a size computed from the batch size")
                return _ARITHMETIC[target](left, right)
        except (LookupError, TypeError, ArithmeticError) as error:
            raise _Refused(f"'{arg.name}' ({_op_label(arg)}), which raises {type(error).__name__} here") from None
        raise _Refused(
            f"'{arg.name}' ({_op_label(arg)}) as a hyper-parameter", "archcalc's hyper-parameters are constants"
        )

    def sizes(self, node: Any) -> _Sizes:
        return _Sizes(lambda: self.shape_of(self.builder.resolve(node.name)))

    def shape_of(self, layer: str) -> Shape:
        """A layer's output shape so far, from the engine (analysed again only after new layers)."""
        if layer == INPUT_NAME:
            return tuple(self.builder.doc["input"])
        count, shapes = self._shapes
        if count != len(self.builder.doc["layers"]):
            from ..engine import analyse
            from ..spec import from_mapping

            try:
                analysis = analyse(from_mapping(self.builder.doc, self.source))
            except SpecError:
                self.verify()  # says which layer, and why, as an ImportFailure
                raise
            shapes = {result.name: result.output_shape for result in analysis.layers}
            self._shapes = (len(self.builder.doc["layers"]), shapes)
        return shapes[layer]

    # --- nodes

    def call_module(self, node: Any) -> None:
        where = self.describe(node)
        module = self.model.get_submodule(node.target)
        handler = self.handlers.module(module)
        try:
            if handler is None:
                raise _Refused(_module_label(module))
            if node.kwargs:
                raise _Refused(f"{_module_label(module)} called with {', '.join(node.kwargs)}=")
            inputs = [self.tensor(arg) for arg in node.args]
            layers = _one(handler(module))
        except _Refused as refused:
            raise unsupported(refused.operation, where, refused.hint) from None
        self.called.add(node.target)
        path = node.target
        name = self.names.get(path, path)
        added = self.add(node, layers, inputs, name, where)
        self.expect_torch_count(module, path, added, where)

    def call(self, node: Any) -> None:
        if self.is_bookkeeping(node):
            return
        where = self.describe(node)
        entry = self.methods.get(node.target) if node.op == "call_method" else self.functions.get(node.target)
        try:
            if entry is None:
                raise _Refused(_op_label(node))
            signature, translate = entry
            call = _Call(self, node, signature)
            emitted = translate(call)
            if isinstance(emitted, _Alias):
                self.builder.alias(node.name, call.tensor("input"))
                self.tensors.add(node.name)
                return
            inputs = self.call_inputs(call, emitted)
        except _Refused as refused:
            raise unsupported(refused.operation, where, refused.hint) from None
        self.add(node, emitted, inputs, self.call_name(node), where)

    def call_name(self, node: Any) -> str:
        """A functional call's layer name: its node name, under the module it is in (``layer1.0.relu``)."""
        stack = node.meta.get("nn_module_stack") or {}
        if not stack:
            return node.name
        path = list(stack)[-1]
        return f"{self.names.get(path, path)}.{_NUMBERED.sub('', node.name)}"

    def call_inputs(self, call: _Call, emitted: list[_Layer]) -> list[str]:
        """The tensors a call reads: ``torch.cat``'s list, both operands of a merge, else its input."""
        if "tensors" in call.raw:
            tensors = call.raw["tensors"]
            if not isinstance(tensors, (list, tuple)):
                raise _Refused("torch.cat of a value that is not a list of tensors")
            return [self.tensor(t) for t in tensors]
        if KINDS[emitted[0].kind].merges:
            return [call.tensor("input"), call.tensor("other")]
        return [call.tensor("input")]

    def is_bookkeeping(self, node: Any) -> bool:
        """Size reads and arithmetic on them, asserts, and whatever reads no tensor: not layers."""
        if node.op == "call_method":
            return node.target in _STATIC_METHODS
        if node.target is getattr or node.target is operator.getitem:
            if node.target is operator.getitem and self.is_tensor(node.args[0]):
                return False  # indexing a tensor: refused as an operation
            return True
        flat = [*node.args, *node.kwargs.values()]
        flat = [a for item in flat for a in (item if isinstance(item, (list, tuple)) else [item])]
        return not any(self.is_tensor(a) for a in flat)

    def add(self, node: Any, layers: list[_Layer], inputs: list[str], name: str, where: str) -> list[str]:
        """Append `layers` in a chain reading `inputs`; the last produces the node's tensor."""
        if not KINDS[layers[0].kind].merges and len(inputs) != 1:
            raise unsupported(f"{layers[0].kind} on {len(inputs)} inputs", where)
        added: list[str] = []
        reads = inputs
        for index, layer in enumerate(layers):
            wanted = name if index == 0 else f"{name}_{layer.kind}"
            output = node.name if index == len(layers) - 1 else f"{node.name}/{index}"
            fields = _without_defaults(layer.kind, layer.fields)
            spec_name = self.builder.add(layer.kind, wanted, reads, output, **fields)
            reads = [output]
            self.where[spec_name] = where
            self.checks += [_PendingCheck(spec_name, where, check) for check in layer.checks]
            added.append(spec_name)
        self.tensors.add(node.name)
        return added

    def expect_torch_count(self, module: Any, path: str, added: list[str], where: str) -> None:
        """torch's own count of the module's parameters and buffers must be archcalc's for its layers;
        a module with parameters called twice would have them counted twice."""
        count = sum(p.numel() for p in module.parameters()) + sum(
            b.numel() for name, b in module.named_buffers() if not name.endswith("num_batches_tracked")
        )
        if count and path in self.owners:
            raise unsupported(
                f"module '{path}' called a second time (its {count:,} parameters shared)",
                where,
                f"first at layer '{self.owners[path]}'; archcalc counts each layer's own parameters",
            )
        if count:
            self.owners[path] = added[-1]
        label = _module_label(module)

        def same_count(layer: Any) -> str | None:
            if layer.params == count:
                return None
            return (
                f"{label} holding {count:,} parameters and buffers where archcalc's {layer.kind} on its "
                f"{bracketed(layer.input_shapes[0])} input has {layer.params:,}"
            )

        self.checks.append(_PendingCheck(added[-1], where, same_count))

    def output(self, node: Any) -> None:
        import torch.fx as fx

        result = node.args[0]
        if not isinstance(result, fx.Node):
            count = len(result) if isinstance(result, (tuple, list, dict)) else 1
            raise ImportFailure(
                f"{self.source}: forward returns {type(result).__name__} of {count} values; "
                "an archcalc network has one output"
            )
        try:
            layer = self.builder.resolve(self.tensor(result))
        except _Refused as refused:
            raise unsupported(refused.operation, self.describe(result), refused.hint) from None
        if layer != self.builder.last:
            raise ImportFailure(f"{self.source}: forward returns '{layer}', not the last layer '{self.builder.last}'")

    # --- checks once the shapes are known

    def verify(self) -> None:
        """Analyse the spec and run every layer's checks, in layer order; where the engine refuses a
        layer, the checks of the layers before it speak first (their problem is the cause)."""
        from ..engine import analyse
        from ..spec import from_mapping

        layers = self.builder.doc["layers"]
        if not layers:
            self.builder.mapping()  # refuses a network without layers
        order = {layer["name"]: index for index, layer in enumerate(layers)}
        try:
            analysis = analyse(from_mapping(self.builder.doc, self.source))
        except SpecError as error:
            where = self.where.get(error.layer or "")
            if where is None:
                raise
            index = order[error.layer]
            prefix = (
                analyse(from_mapping({**self.builder.doc, "layers": layers[:index]}, self.source)) if index else None
            )
            results = dict(prefix.by_name) if prefix else {}
            self.run_checks(results)
            self.run_checks({error.layer: _Probe(layers[index], results, self.builder.doc["input"])})
            raise ImportFailure(f"{where}: archcalc's {error.kind or 'layer'} refuses it: {error.message}") from None
        self.run_checks(analysis.by_name)

    def run_checks(self, results: dict[str, Any]) -> None:
        for pending in self.checks:
            if pending.layer in results:
                try:
                    problem = pending.check(results[pending.layer])
                except _NotAnalysed:
                    continue
                if problem:
                    raise unsupported(problem, pending.where)


class _NotAnalysed(Exception):
    pass


class _Probe:
    """A layer the engine refused, as far as its checks can see it: the shapes of its inputs."""

    def __init__(self, layer: dict[str, Any], results: dict[str, Any], input_shape: list[int]) -> None:
        sources = layer.get("inputs", [])
        sources = [sources] if isinstance(sources, str) else sources
        if not sources:
            sources = [list(results)[-1] if results else INPUT_NAME]
        self.input_shapes = [tuple(input_shape) if s == INPUT_NAME else results[s].output_shape for s in sources]

    def __getattr__(self, name: str) -> Any:
        raise _NotAnalysed(name)
