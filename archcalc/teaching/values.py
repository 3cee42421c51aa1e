"""The values a learner writes in a cell: exact counts (``34,944``, ``34 944``), rounded ones
(``0.6M``: not gradable exactly), shapes in any common notation, and worked arithmetic
(``(11*11*3*96)+96=34944``, whose written result is what is graded)."""

from __future__ import annotations

import ast
import enum
import re
from dataclasses import dataclass
from fractions import Fraction


class Order(enum.StrEnum):
    """The axis order a shape's notation fixes."""

    HWC = "hwc"  # Keras: (None, 55, 55, 96)
    EITHER = "either"  # 55×55×96 or 96×55×55: the numbers tell


@dataclass(frozen=True, slots=True)
class Rounded:
    """A number written rounded (``0.6M``, ``37.75 M``, ``1.2亿``): only its consistency is checked."""

    text: str
    mantissa: Fraction
    scale: int
    decimals: int

    def rounds(self, exact: int) -> bool:
        """Whether `exact`, rounded as the learner rounded, reads as they wrote it."""
        step = Fraction(1, 10**self.decimals)
        return abs(Fraction(exact, self.scale) - self.mantissa) <= step / 2


@dataclass(frozen=True, slots=True)
class Written:
    """A cell's value: the learner's result, and the expression they wrote before its '=' (if any)."""

    value: int | tuple[int, ...] | Rounded | None
    expression: str | None = None
    order: Order = Order.EITHER
    keras: bool = False
    separator: str = "×"


EMPTY = {"", "-", "--", "—", "–", "/", "n/a", "na", "无", "none"}  # torchinfo writes "--" for none
_SCALES = {"k": 10**3, "m": 10**6, "g": 10**9, "b": 10**9, "万": 10**4, "亿": 10**8, "million": 10**6}
_EXACT = re.compile(r"^\d{1,3}(?:[,\s\u202f\u2009\u00a0]\d{3})+$|^\d+$")
_ROUNDED = re.compile(r"^(\d+(?:\.(\d+))?)\s*(k|m|g|b|万|亿|million)?$", re.I)
_TRAILING = "。.,，;；:："


def _result_part(text: str) -> tuple[str, str | None]:
    """The part after the last '=' (the written result) and the expression before it."""
    text = text.strip().rstrip(_TRAILING).strip()
    if "=" in text:
        expression, _, result = text.rpartition("=")
        return result.strip().rstrip(_TRAILING).strip(), expression.strip()
    return text, None


def read_number(text: str) -> Written | str:
    """A count as written, or the reason it cannot be read."""
    result, expression = _result_part(text)
    if result.lower() in EMPTY:
        return Written(None, expression)
    if _EXACT.match(result):
        return Written(int(re.sub(r"\D", "", result)), expression)
    rounded = _ROUNDED.match(result.replace(",", ""))
    if rounded and (rounded.group(2) or rounded.group(3)):
        scale = _SCALES[rounded.group(3).lower()] if rounded.group(3) else 1
        decimals = len(rounded.group(2) or "")
        return Written(Rounded(result, Fraction(rounded.group(1)), scale, decimals), expression)
    return f"cannot read a number in {text!r}"


_KERAS = re.compile(r"^\(\s*None\s*((?:,\s*-?\d+\s*)+),?\s*\)$")
_BRACKETS = re.compile(r"^[\[(]\s*(-?\d+(?:\s*,\s*-?\d+)*)\s*,?\s*[\])]$")
_PRODUCT = re.compile(r"^\d+(?:\s*([×xX*✕])\s*\d+)*$")


def read_shape(text: str) -> Written | str:
    """A shape as written: ``55×55×96``, ``96x55x55``, ``55*55*96``, ``(None, 55, 55, 96)``,
    ``[96, 55, 55]`` (a leading batch of 1, -1 or None is dropped), or one number once flat."""
    result, expression = _result_part(text)
    if result.lower() in EMPTY:
        return Written(None, expression)
    keras = _KERAS.match(result)
    if keras:
        dims = tuple(int(v) for v in keras.group(1).strip(", ").split(","))
        return Written(dims, expression, Order.HWC, keras=True)
    listed = _BRACKETS.match(result)
    if listed:
        dims = tuple(int(v) for v in listed.group(1).split(","))
        if len(dims) >= 2 and dims[0] == -1 or len(dims) in (2, 4) and dims[0] == 1:  # a batch of -1 or 1
            dims = dims[1:]
        return Written(dims, expression, separator=", ") if all(d > 0 for d in dims) else f"cannot read {text!r}"
    product = _PRODUCT.match(result)
    if product:
        dims = tuple(int(v) for v in re.findall(r"\d+", result))
        return Written(dims, expression, separator=product.group(1) or "×")
    return f"cannot read a shape in {text!r}"


def read_pair(text: str) -> Written | str:
    """A kernel, stride or padding: ``3``, ``3×3``, ``5*5*48`` (with the channels each kernel spans)."""
    written = read_shape(text)
    if isinstance(written, str) or written.value is None:
        return written
    word = text.strip().lower()
    if word in ("same", "valid"):
        return Written(None)
    return written


_ALLOWED = re.compile(r"^[\d\s+\-*/().]+$")


def evaluate(expression: str) -> Fraction | None:
    """The exact value of a learner's arithmetic (``+ − × ÷ * / x`` and brackets), None if it is not that."""
    text = expression.replace("×", "*").replace("÷", "/").replace("−", "-").replace("x", "*").replace("X", "*")
    if not _ALLOWED.match(text):
        return None
    try:
        tree = ast.parse(text, mode="eval")
    except SyntaxError:
        return None
    return _value(tree.body)


def _value(node: ast.AST) -> Fraction | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, int):
        return Fraction(node.value)
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _value(node.operand)
        return -inner if inner is not None else None
    if isinstance(node, ast.BinOp):
        left, right = _value(node.left), _value(node.right)
        if left is None or right is None:
            return None
        if isinstance(node.op, ast.Add):
            return left + right
        if isinstance(node.op, ast.Sub):
            return left - right
        if isinstance(node.op, ast.Mult):
            return left * right
        if isinstance(node.op, ast.Div) and right:
            return left / right
    return None


def first_number(expression: str) -> int | None:
    """The first number of an output-size formula ``(n − k + 2p)/s + 1``: the input size n."""
    found = re.search(r"\d+", expression)
    return int(found.group()) if found else None
