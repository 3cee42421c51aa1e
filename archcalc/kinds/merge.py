"""Merges of two or more branches: concatenation, elementwise sum and elementwise product."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..errors import LayerError
from ..format import bracketed
from ..i18n import Lang, Phrase, say
from ..palette import Role
from ..pycode import Call
from .base import IDENTITY_WINDOW, Appearance, Kind, OpClass, Outcome, Params, Shape, TorchLayer

if TYPE_CHECKING:
    from ..engine import LayerResult


CHANNELS = {"en": "{sum} = {channels} channels", "zh": "{sum} = {channels} 个通道"}  # concat's shape arithmetic


class _Merge(Kind):
    arity = (2, None)
    keeps_positions = True
    appearance = Appearance.BLOCK
    role = Role.MERGE
    charted = True

    def caption(self, layer: LayerResult) -> str:
        return Phrase({"en": self.name, "zh": say(self.title, Lang.ZH)})  # "add", 相加


class Concat(_Merge):
    name = "concat"
    merge_mark = "‖"
    counted_as = OpClass.MERGE
    title = {"en": "concatenation", "zh": "拼接"}
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
        formula = Phrase(CHANNELS, sum=" + ".join(str(shape[0]) for shape in inputs), channels=channels)
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
    merge_mark = "⊕"
    counted_as = OpClass.MERGE
    title = {"en": "addition", "zh": "相加"}
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


class Multiply(_Merge):
    name = "multiply"
    merge_mark = "⊗"
    counted_as = OpClass.MERGE
    title = {"en": "multiplication", "zh": "相乘"}
    summary = "elementwise product; a [C, 1, 1] input scales every position of a [C, H, W] one (squeeze-and-excitation)"
    keeps_positions = False  # any input may be the [C, 1, 1] one, so input 1 need not have the output's size
    charted = True

    def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
        full = max(inputs, key=math.prod)
        for index, shape in enumerate(inputs):
            if shape != full and not (len(full) == 3 and shape == (full[0], 1, 1)):
                raise LayerError(
                    f"cannot multiply {bracketed(full)} by {bracketed(shape)} (input {index + 1}): inputs need "
                    f"the same shape, or [{full[0]}, 1, 1] to scale every position",
                    field="inputs",
                )
        return Outcome(shape=full, extra_flops=(len(inputs) - 1) * math.prod(full), window=IDENTITY_WINDOW)

    def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
        return TorchLayer(Call("Multiply"), ("Multiply",))

    torch_helpers = {
        "Multiply": '''
class Multiply(nn.Module):
    """Elementwise product; a [C, 1, 1] input broadcasts over every position."""

    def forward(self, first, *others):
        for other in others:
            first = first * other
        return first
'''
    }
