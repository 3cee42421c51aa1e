"""Bring your own network: PyTorch, ONNX, Keras and Caffe models read into archcalc's own spec.

Every importer turns its source into the same plain mapping a YAML spec holds (name, source,
input, layers), and that mapping goes through the one validator (``spec.from_mapping``): an
imported network is checked exactly like a hand-written one. An operation archcalc cannot
represent exactly is an ``ImportFailure`` naming it, where it is, and the kinds that exist; nothing
is dropped or guessed. Weights are never loaded.

Which importer reads a source is decided by its form (see ``source_format``); each importer
lives in its own module and imports its framework lazily.
"""

from __future__ import annotations

import enum
import importlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from ..errors import ImportFailure, OptionError
from ..kinds import Shape
from ..spec import NetworkSpec, from_mapping

PYTHON_SOURCE = re.compile(r"^(?P<module>[^:]+):(?P<name>[A-Za-z_][A-Za-z0-9_]*)$")


class SourceFormat(enum.StrEnum):
    YAML = "yaml"
    PYTORCH = "pytorch"
    ONNX = "onnx"
    KERAS = "keras"
    CAFFE = "caffe"


# module of archcalc.importers that reads each format
_READERS = {
    SourceFormat.PYTORCH: "torch_import",
    SourceFormat.ONNX: "onnx_import",
    SourceFormat.KERAS: "keras_import",
    SourceFormat.CAFFE: "caffe_import",
}


def source_format(source: str) -> SourceFormat:
    """What a SOURCE argument names, from its form alone (nothing is read or run here)."""
    lower = source.lower()
    if lower.endswith((".yaml", ".yml")):
        return SourceFormat.YAML
    if lower.endswith(".onnx"):
        return SourceFormat.ONNX
    if lower.endswith((".keras", ".json")):
        return SourceFormat.KERAS
    if lower.endswith(".prototxt"):
        return SourceFormat.CAFFE
    if PYTHON_SOURCE.match(source) and not Path(source).exists():
        return SourceFormat.PYTORCH
    return SourceFormat.YAML  # a YAML path or a bundled spec name


def parse_args(items: tuple[str, ...] | list[str]) -> dict[str, Any]:
    """``--arg name=value`` → keyword arguments; values are Python literals where they parse as one
    (``10``, ``0.5``, ``True``, ``"x"``, ``[1, 2]``), else strings."""
    import ast

    out: dict[str, Any] = {}
    for item in items:
        key, sep, text = item.partition("=")
        if not sep or not key.isidentifier():
            raise OptionError(f"{item!r}: expected name=value", option="--arg")
        try:
            out[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError, MemoryError, RecursionError):
            out[key] = text
    return out


def import_mapping(
    source: str, input_shape: Shape | None = None, args: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """The spec mapping an importer reads from `source` (not yet validated)."""
    fmt = source_format(source)
    if fmt is SourceFormat.YAML:
        raise ImportFailure(f"{source}: not a model file; SOURCE is a .onnx, .keras, .json, .prototxt or FILE.py:NAME")
    reader = importlib.import_module(f"{__name__}.{_READERS[fmt]}")
    if args and fmt is not SourceFormat.PYTORCH:
        raise OptionError("--arg passes keyword arguments to a PyTorch class or factory only", option="--arg")
    return reader.read(source, input_shape, dict(args or {}))


def import_spec(source: str, input_shape: Shape | None = None, args: Mapping[str, Any] | None = None) -> NetworkSpec:
    """Read a model file (or PyTorch class) into a validated NetworkSpec."""
    doc = import_mapping(source, input_shape, args)
    return from_mapping(doc, source)


def load_source(source: str, input_shape: Shape | None = None, args: Mapping[str, Any] | None = None) -> NetworkSpec:
    """What every command's SOURCE argument accepts: a YAML spec, a bundled name, or a model."""
    from ..spec import load, parse

    if source == "-":  # a spec on standard input
        import sys

        return parse(sys.stdin.buffer.read(), "<stdin>")
    if source_format(source) is SourceFormat.YAML:
        return load(source)
    return import_spec(source, input_shape, args)


__all__ = ["SourceFormat", "import_mapping", "import_spec", "load_source", "parse_args", "source_format"]
