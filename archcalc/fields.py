"""Typed hyper-parameter fields.

Each field type does two things from one definition: it checks and normalises a value read
from a spec (``coerce``), and it describes itself as a JSON Schema fragment (``schema``), so
the published schema and the validator cannot drift apart.
"""

from __future__ import annotations

import enum
from typing import Any

from .errors import FieldValueError

Pair = tuple[int, int]


class PaddingMode(enum.StrEnum):
    """Named padding rules; `same` follows TensorFlow (extra row/column after, i.e. bottom/right)."""

    SAME = "same"
    VALID = "valid"


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"the boolean {str(value).lower()}"
    if value is None:
        return "nothing (null)"
    if isinstance(value, str):
        return f"the string {value!r}"
    if isinstance(value, (list, dict)):
        return "a list" if isinstance(value, list) else "a mapping"
    return repr(value)


class FieldType:
    """Base class of field value types. (Plain classes, not dataclasses: they are built at every
    start-up, and `archcalc table` has to start fast.)"""

    __slots__ = ()

    def coerce(self, value: Any) -> Any:
        raise NotImplementedError

    def schema(self) -> dict[str, Any]:
        raise NotImplementedError


MAX_SIZE = 2**40  # any size or count in a spec: beyond it, float views and torch would lose exactness


def check_size(value: int) -> int:
    """A size within archcalc's stated limit (MAX_SIZE), or a FieldValueError saying so."""
    if value > MAX_SIZE:
        raise FieldValueError(f"must be at most {MAX_SIZE:,} (archcalc's limit on any size), got {value:.3e}")
    return value


class Integer(FieldType):
    __slots__ = ("minimum",)

    def __init__(self, minimum: int = 1) -> None:
        self.minimum = minimum

    def coerce(self, value: Any) -> int:
        if not _is_int(value):
            raise FieldValueError(f"must be an integer, got {_describe(value)}")
        if value < self.minimum:
            word = "positive" if self.minimum == 1 else f"at least {self.minimum}"
            raise FieldValueError(f"must be {word}, got {value}")
        return check_size(int(value))

    def schema(self) -> dict[str, Any]:
        return {"type": "integer", "minimum": self.minimum, "maximum": MAX_SIZE}


class IntPair(FieldType):
    """An int for both axes, or ``[height, width]``."""

    __slots__ = ("minimum",)

    def __init__(self, minimum: int = 1) -> None:
        self.minimum = minimum

    def coerce(self, value: Any) -> Pair:
        word = "a positive integer" if self.minimum == 1 else f"an integer ≥ {self.minimum}"
        if _is_int(value):
            if value < self.minimum:
                raise FieldValueError(f"must be {word} or a pair [height, width], got {value}")
            return (check_size(value), value)
        if isinstance(value, list) and len(value) == 2 and all(_is_int(v) for v in value):
            if min(value) < self.minimum:
                raise FieldValueError(f"both values must be ≥ {self.minimum}, got {list(value)}")
            return (check_size(value[0]), check_size(value[1]))
        raise FieldValueError(f"must be {word} or a pair [height, width], got {_describe(value)}")

    def schema(self) -> dict[str, Any]:
        item = {"type": "integer", "minimum": self.minimum, "maximum": MAX_SIZE}
        return {"oneOf": [item, {"type": "array", "items": item, "minItems": 2, "maxItems": 2}]}


def _sides(value: Any) -> tuple[int, int, int, int] | None:
    """An int, [h, w] or [top, bottom, left, right] of non-negative ints as (top, bottom, left, right)."""
    if _is_int(value) and value >= 0:
        return (check_size(value),) * 4  # type: ignore[return-value]
    if isinstance(value, list) and len(value) in (2, 4) and all(_is_int(v) and v >= 0 for v in value):
        for v in value:
            check_size(v)
        if len(value) == 2:
            return (value[0], value[0], value[1], value[1])
        return (value[0], value[1], value[2], value[3])
    return None


class Padding(FieldType):
    """``same`` / ``valid``, an int, ``[h, w]``, or ``[top, bottom, left, right]``.

    Normalised to a PaddingMode or a 4-tuple (top, bottom, left, right).
    """

    def coerce(self, value: Any) -> PaddingMode | tuple[int, int, int, int]:
        if isinstance(value, str):
            try:
                return PaddingMode(value.lower())
            except ValueError:
                raise FieldValueError(
                    f"must be 'same', 'valid', an integer, [h, w] or [top, bottom, left, right], got {value!r}"
                ) from None
        sides = _sides(value)
        if sides is None:
            raise FieldValueError(
                "must be 'same', 'valid', a non-negative integer, [h, w] or [top, bottom, left, right], "
                f"got {_describe(value)}"
            )
        return sides

    def schema(self) -> dict[str, Any]:
        item = {"type": "integer", "minimum": 0}
        return {
            "oneOf": [
                {"type": "string", "enum": [m.value for m in PaddingMode]},
                item,
                {"type": "array", "items": item, "minItems": 2, "maxItems": 2},
                {"type": "array", "items": item, "minItems": 4, "maxItems": 4},
            ]
        }


class Sides(FieldType):
    """Padding as sizes only: an int, ``[h, w]``, or ``[top, bottom, left, right]`` (no named rules).

    Normalised to a 4-tuple (top, bottom, left, right).
    """

    def coerce(self, value: Any) -> tuple[int, int, int, int]:
        sides = _sides(value)
        if sides is None:
            raise FieldValueError(
                f"must be a non-negative integer, [h, w] or [top, bottom, left, right], got {_describe(value)}"
            )
        return sides

    def schema(self) -> dict[str, Any]:
        item = {"type": "integer", "minimum": 0}
        return {
            "oneOf": [
                item,
                {"type": "array", "items": item, "minItems": 2, "maxItems": 2},
                {"type": "array", "items": item, "minItems": 4, "maxItems": 4},
            ]
        }


class Interpolation(enum.StrEnum):
    """How upsampling fills new positions: copy the nearest input, or blend the two nearest per axis."""

    NEAREST = "nearest"
    BILINEAR = "bilinear"


class GroupMode(enum.StrEnum):
    """Named group counts: ``depthwise`` is one group per input channel (MobileNet's 3×3 layers)."""

    DEPTHWISE = "depthwise"


class Groups(FieldType):
    """A positive integer, or ``depthwise`` (resolved to the input channels by the layer)."""

    def coerce(self, value: Any) -> int | GroupMode:
        if isinstance(value, str):
            try:
                return GroupMode(value.lower())
            except ValueError:
                raise FieldValueError(f"must be a positive integer or 'depthwise', got {value!r}") from None
        return Integer().coerce(value)

    def schema(self) -> dict[str, Any]:
        return {"oneOf": [Integer().schema(), {"type": "string", "enum": [m.value for m in GroupMode]}]}


class Number(FieldType):
    __slots__ = ("minimum", "maximum", "exclusive_minimum", "exclusive_maximum")

    def __init__(
        self,
        minimum: float | None = None,
        maximum: float | None = None,
        exclusive_minimum: bool = False,
        exclusive_maximum: bool = False,
    ) -> None:
        self.minimum, self.maximum = minimum, maximum
        self.exclusive_minimum, self.exclusive_maximum = exclusive_minimum, exclusive_maximum

    def coerce(self, value: Any) -> float:
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise FieldValueError(f"must be a number, got {_describe(value)}")
        if value != value:  # NaN
            raise FieldValueError("must be a number, got NaN")
        if isinstance(value, int) and abs(value) > MAX_SIZE or value in (float("inf"), float("-inf")):
            raise FieldValueError(f"must be a finite number, got {value:.3e}")
        low, high = self.minimum, self.maximum
        if low is not None and (value <= low if self.exclusive_minimum else value < low):
            raise FieldValueError(f"must be {'>' if self.exclusive_minimum else '≥'} {low:g}, got {value:g}")
        if high is not None and (value >= high if self.exclusive_maximum else value > high):
            raise FieldValueError(f"must be {'<' if self.exclusive_maximum else '≤'} {high:g}, got {value:g}")
        return float(value)

    def schema(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "number"}
        if self.minimum is not None:
            out["exclusiveMinimum" if self.exclusive_minimum else "minimum"] = self.minimum
        if self.maximum is not None:
            out["exclusiveMaximum" if self.exclusive_maximum else "maximum"] = self.maximum
        return out


class Boolean(FieldType):
    def coerce(self, value: Any) -> bool:
        if not isinstance(value, bool):
            raise FieldValueError(f"must be true or false, got {_describe(value)}")
        return value

    def schema(self) -> dict[str, Any]:
        return {"type": "boolean"}


class Choice(FieldType):
    """One of the values of a string enum (gelu's ``approximate``: ``none`` or ``tanh``).

    Matched exactly, as the schema's ``enum`` matches, so the validator and the schema agree.
    """

    __slots__ = ("values",)

    def __init__(self, values: type[enum.StrEnum]) -> None:
        self.values = values

    def coerce(self, value: Any) -> enum.StrEnum:
        allowed = [member.value for member in self.values]
        if isinstance(value, str) and value in allowed:
            return self.values(value)
        raise FieldValueError(f"must be one of {', '.join(map(repr, allowed))}, got {_describe(value)}")

    def schema(self) -> dict[str, Any]:
        return {"type": "string", "enum": [member.value for member in self.values]}


class ConnectionTable(FieldType):
    """Which input maps each output map sees, e.g. LeNet-5's C3: ``[[0, 1, 2], [1, 2, 3], ...]``.

    Its length and index range depend on the layer, so the layer kind checks those.
    """

    def coerce(self, value: Any) -> tuple[tuple[int, ...], ...]:
        if not isinstance(value, list) or not value:
            raise FieldValueError(
                f"must be a list with one list of input channels per output channel, got {_describe(value)}"
            )
        rows = []
        for index, row in enumerate(value):
            if not isinstance(row, list) or not row or not all(_is_int(v) and v >= 0 for v in row):
                raise FieldValueError(
                    f"row {index} must be a non-empty list of input channel indices, got {_describe(row)}"
                )
            if len(set(row)) != len(row):
                raise FieldValueError(f"row {index} names an input channel twice: {row}")
            rows.append(tuple(row))
        return tuple(rows)

    def schema(self) -> dict[str, Any]:
        return {
            "type": "array",
            "minItems": 1,
            "items": {"type": "array", "minItems": 1, "uniqueItems": True, "items": {"type": "integer", "minimum": 0}},
        }


REQUIRED = object()


class Field:
    """One hyper-parameter of a layer kind: name, value type, default (or REQUIRED) and a description."""

    __slots__ = ("name", "type", "default", "doc")

    def __init__(self, name: str, type: FieldType, default: Any = REQUIRED, doc: str = "") -> None:
        self.name, self.type, self.default, self.doc = name, type, default, doc

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def schema(self) -> dict[str, Any]:
        out = dict(self.type.schema())
        if self.doc:
            out["description"] = self.doc
        if not self.required and self.default is not None:
            out["default"] = self.default.value if isinstance(self.default, enum.Enum) else self.default
        return out
