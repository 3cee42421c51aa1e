"""Text formatting shared by every view: counts, sizes, shapes, paddings, exact fractions.

Pure functions on exact numbers; no view depends on another view or on the layer kinds for these.
"""

from __future__ import annotations

import contextlib
import contextvars
import enum
import re
from collections.abc import Iterator, Sequence
from fractions import Fraction

CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")  # C0, DEL and C1: what a terminal may act on


def visible(text: str) -> str:
    """`text` with every control character written as an escape (``\\x1b``), for messages that
    quote what a user or a file gave: a terminal shows them, never obeys them."""
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def fmt_int(value: int) -> str:
    return f"{value:,}"


def fmt_number(value: int | Fraction) -> str:
    """An exact number: ``7``, ``2.5`` or ``1/3`` (a fraction only when no short decimal is exact)."""
    if isinstance(value, Fraction):
        if value.denominator == 1:
            return str(value.numerator)
        scaled, rest = divmod(value.numerator * 10_000, value.denominator)
        if rest:
            return str(value)
        whole, digits = divmod(abs(scaled), 10_000)
        return f"{'-' if scaled < 0 else ''}{whole}.{digits:04d}".rstrip("0")
    return str(value)


def fmt_pair(pair: Sequence[int | Fraction]) -> str:
    """(3, 3) → '3'; (3, 2) → '3×2': a size or stride per axis, written once when both agree."""
    return fmt_number(pair[0]) if pair[0] == pair[1] else f"{fmt_number(pair[0])}×{fmt_number(pair[1])}"


def fmt_padding(padding: Sequence[int]) -> str:
    """(top, bottom, left, right) → '2', '1×2' (per axis) or 'top 3, bottom 4, left 3, right 4'."""
    top, bottom, left, right = padding
    if top == bottom and left == right:
        return fmt_pair((top, left))
    return f"top {top}, bottom {bottom}, left {left}, right {right}"


class Notation(enum.StrEnum):
    """How a map's shape is written: ``96×55×55`` (C×H×W, PyTorch's order), ``55×55×96`` (H×W×C)
    or the LeNet paper's ``96@55×55``. A flat shape is its size in every notation."""

    CHW = "chw"
    HWC = "hwc"
    LENET = "lenet"


def parse_notation(text: Notation | str) -> Notation:
    """``chw``, ``hwc`` or ``lenet``; anything else is an OptionError listing them."""
    from .errors import OptionError

    try:
        return Notation(str(text).lower())
    except ValueError:
        allowed = ", ".join(n.value for n in Notation)
        raise OptionError(f"unknown notation {str(text)!r}; allowed: {allowed}", option="--notation") from None


_NOTATION: contextvars.ContextVar[Notation] = contextvars.ContextVar("notation", default=Notation.CHW)


@contextlib.contextmanager
def shape_notation(notation: Notation | str) -> Iterator[None]:
    """Within the block, ``fmt_shape`` writes shapes in `notation` (a table, and the figure on its page)."""
    token = _NOTATION.set(Notation(notation))
    try:
        yield
    finally:
        _NOTATION.reset(token)


def fmt_shape(shape: Sequence[int], notation: Notation | None = None) -> str:
    """A shape in `notation`, else in the one ``shape_notation`` set (C×H×W by default)."""
    notation = notation or _NOTATION.get()
    if len(shape) == 3 and notation is Notation.HWC:
        return f"{shape[1]}×{shape[2]}×{shape[0]}"
    if len(shape) == 3 and notation is Notation.LENET:
        return f"{shape[0]}@{shape[1]}×{shape[2]}"
    return "×".join(str(v) for v in shape)


def fmt_shapes(shapes: Sequence[Sequence[int]]) -> str:
    return " + ".join(fmt_shape(s) for s in shapes)


def bracketed(shape: Sequence[int]) -> str:
    """[96, 55, 55]: a shape as error messages quote it."""
    return "[" + ", ".join(str(v) for v in shape) + "]"


def _hundredths(value: int, unit: int) -> str:
    """value / unit to two decimals, rounded half up, in exact integer arithmetic (any size)."""
    hundredths = (value * 100 + unit // 2) // unit
    return f"{hundredths // 100:,}.{hundredths % 100:02d}"


def human(value: int, unit: str = "") -> str:
    """1_448_813_632 → '1.45 G' (decimal prefixes, as MACs/FLOPs are usually quoted); exact at any size."""
    for exponent, prefix in ((15, "P"), (12, "T"), (9, "G"), (6, "M"), (3, "k")):
        if abs(value) >= 10**exponent:
            return f"{_hundredths(value, 10**exponent)} {prefix}{unit}"
    return f"{value} {unit}".rstrip()


def megabytes(n_bytes: int) -> str:
    """Decimal megabytes as torchinfo prints them; kilobytes below 0.1 MB so small nets do not read 0.00."""
    if n_bytes < 100_000:
        return f"{_hundredths(n_bytes, 1_000)} kB"
    return f"{_hundredths(n_bytes, 1_000_000)} MB"
