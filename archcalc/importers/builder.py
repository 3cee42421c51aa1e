"""What every importer shares: building the spec mapping layer by layer, names decided once here.

An importer walks its source in order and calls ``add`` for every layer, naming its inputs by the
source's own tensor or layer names; the builder keeps names unique and valid, resolves inputs,
and says, in one message, what cannot be represented.
"""

from __future__ import annotations

from typing import Any

from ..errors import FieldValueError, ImportFailure, SpecError
from ..format import CONTROL
from ..kinds import KINDS, Kind, Shape
from ..spec import INPUT_NAME, MAX_NAME_LENGTH
from .repeats import find_repeats


def clean_name(text: str, fallback: str) -> str:
    """A source's name as a layer name: control characters out, length bounded, never empty."""
    name = CONTROL.sub("", str(text)).strip()[:MAX_NAME_LENGTH]
    return name or fallback


def unsupported(operation: str, where: str, hint: str = "") -> ImportFailure:
    """The one error for an operation archcalc cannot represent exactly."""
    message = f"{where}: {operation} cannot be represented exactly"
    if hint:
        message += f" ({hint})"
    return ImportFailure(f"{message}; archcalc's kinds: {', '.join(KINDS)}")


class SpecBuilder:
    """Layers in order, as a spec mapping; tensors of the source mapped to the layers that make them."""

    def __init__(self, name: str, source: str, input_shape: Shape, description: str = "") -> None:
        self.doc: dict[str, Any] = {
            "name": clean_name(name, "imported network"),
            "description": description,
            "source": source,
            "input": list(input_shape),
            "layers": [],
        }
        self.producers: dict[str, str] = {}  # source tensor / layer name → layer name (or "input")
        self.taken: set[str] = {INPUT_NAME}
        self.next_suffix: dict[str, int] = {}  # base name → first suffix not yet tried (keeps unique() linear)
        self.last = INPUT_NAME
        self._shapes: dict[str, Shape] = {INPUT_NAME: tuple(input_shape)}  # layers inferred so far, in order

    def set_input(self, tensor: str) -> None:
        self.producers[tensor] = INPUT_NAME

    def alias(self, tensor: str, of: str) -> None:
        """`tensor` is the same values as `of` (an identity, a dropout at inference, a reshape no-op)."""
        self.producers[tensor] = self.resolve(of)

    def resolve(self, tensor: str) -> str:
        try:
            return self.producers[tensor]
        except KeyError:
            raise ImportFailure(f"'{tensor}' is read before anything produces it") from None

    def unique(self, wanted: str, kind: str) -> str:
        base = clean_name(wanted, kind)
        name, counter = base, self.next_suffix.get(base, 2)
        while name in self.taken:
            name, counter = f"{base}_{counter}", counter + 1
        self.next_suffix[base] = counter
        self.taken.add(name)
        return name

    def add(self, kind: str, name: str, inputs: list[str] | None = None, output: str | None = None,
            **fields: Any) -> str:  # fmt: skip
        """Append a layer reading `inputs` (source tensor names; default: the previous layer) and
        producing `output` (a source tensor name); returns the layer's name in the spec."""
        if kind not in KINDS:
            raise ImportFailure(f"internal: no kind {kind!r}")
        layer_name = self.unique(name, kind)
        layer: dict[str, Any] = {"kind": kind, "name": layer_name}
        sources = [self.resolve(t) for t in inputs] if inputs is not None else [self.last]
        if sources != [self.last] or KINDS[kind].merges:
            layer["inputs"] = sources if len(sources) > 1 else sources[0]
        layer.update({key: value for key, value in fields.items() if value is not None})
        self.doc["layers"].append(layer)
        self.producers[output or name] = layer_name
        self.last = layer_name
        return layer_name

    def shape(self, tensor: str) -> Shape:
        """The shape of `tensor` by archcalc's own rules, for the hyper-parameters that depend on it
        (ONNX's SAME_LOWER padding, a reshape's target). Each layer is inferred once, in order."""
        wanted = self.resolve(tensor)
        layers = self.doc["layers"]
        while wanted not in self._shapes:
            index = len(self._shapes) - 1
            layer = layers[index]
            kind = KINDS[layer["kind"]]
            sources = layer.get("inputs", layers[index - 1]["name"] if index else INPUT_NAME)
            inputs = [self._shapes[name] for name in ([sources] if isinstance(sources, str) else sources)]
            try:
                outcome = kind.infer(_layer_params(kind, layer), inputs)
            except SpecError as exc:
                raise exc.located(layer=layer["name"], kind=kind.name) from None
            self._shapes[layer["name"]] = outcome.shape
        return self._shapes[wanted]

    def mapping(self) -> dict[str, Any]:
        if not self.doc["layers"]:
            raise ImportFailure("the model has no layers archcalc can show")
        return {**self.doc, "layers": find_repeats(self.doc["layers"])}  # runs of identical blocks as repeat blocks


def _layer_params(kind: Kind, layer: dict[str, Any]) -> dict[str, Any]:
    """A layer's fields as the spec reader validates them, defaults filled in."""
    params: dict[str, Any] = {}
    for field in kind.fields:
        value = layer.get(field.name, None if field.required else field.default)
        try:
            params[field.name] = field.type.coerce(value) if value is not None else None
        except FieldValueError as exc:
            raise SpecError(exc.message, layer=layer["name"], kind=kind.name, field=field.name) from None
    return params
