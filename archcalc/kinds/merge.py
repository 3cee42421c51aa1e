"""Merges of two or more branches: concatenation and elementwise sum."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..errors import LayerError
from ..format import bracketed
from ..palette import Role
from ..pycode import Call
from .base import Appearance, Kind, Outcome, Params, Shape, TorchLayer

if TYPE_CHECKING:
    from ..engine import LayerResult


class _Merge(Kind):
    arity = (2, None)
    keeps_positions = True
    appearance = Appearance.BLOCK
    role = Role.MERGE
    charted = True

    def caption(self, layer: LayerResult) -> str:
        return self.name


class Concat(_Merge):
    name = "concat"
    summary = "concatenate inputs along channels (or features)"

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        first = inputs[0]
        for index, shape in enumerate(inputs[1:], start=1):
            if len(shape) != len(first) or shape[1:] != first[1:]:
                raise LayerError(
                    f"cannot concatenate {bracketed(first)} and {bracketed(shape)} "
                    f"(input {index + 1}): all inputs need the same spatial size",
                    field="inputs",
                )
        channels = sum(shape[0] for shape in inputs)
        formula = " + ".join(str(shape[0]) for shape in inputs) + f" = {channels} channels"
        return Outcome(shape=(channels, *first[1:]), formula=formula)

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call("Concat"), ("Concat",))

    torch_helpers = {
        "Concat": '''
class Concat(nn.Module):
    """Concatenation along channels (or features)."""

    def forward(self, *inputs):
        return torch.cat(inputs, dim=1)
'''
    }


class Add(_Merge):
    name = "add"
    summary = "elementwise sum of inputs of the same shape"

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        first = inputs[0]
        for index, shape in enumerate(inputs[1:], start=1):
            if shape != first:
                raise LayerError(
                    f"cannot add {bracketed(first)} and {bracketed(shape)} "
                    f"(input {index + 1}): all inputs need the same shape",
                    field="inputs",
                )
        return Outcome(shape=first, extra_flops=(len(inputs) - 1) * math.prod(first))

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call("Add"), ("Add",))

    torch_helpers = {
        "Add": '''
class Add(nn.Module):
    """Elementwise sum."""

    def forward(self, first, *others):
        for other in others:
            first = first + other
        return first
'''
    }
