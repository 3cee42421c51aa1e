"""Building Python source safely: identifiers from untrusted names, literals, and calls laid out
the way ``ruff format`` (Black style, 88 columns) lays them out, so generated code needs no
formatter at run time.
"""

from __future__ import annotations

import keyword
import re
import unicodedata
from collections.abc import Collection, Iterable
from typing import Any

LINE_WIDTH = 88


def literal(value: Any) -> str:
    """A Python literal for a plain value (repr escapes every string, so nothing can break out)."""
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return f'float("{value}")'
        return repr(value)
    if isinstance(value, str):
        text = repr(value)
        # Black/ruff prefer double quotes when that needs no extra escaping.
        if text.startswith("'") and '"' not in value:
            text = '"' + text[1:-1].replace("\\'", "'") + '"'
        return text
    if isinstance(value, tuple):
        inner = ", ".join(literal(v) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, list):
        return "[" + ", ".join(literal(v) for v in value) + "]"
    if isinstance(value, bool | int) or value is None:
        return repr(value)
    raise TypeError(f"no literal for {type(value).__name__}")


def ascii_words(text: str) -> list[str]:
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    return re.findall(r"[A-Za-z0-9]+", folded)


def identifier(text: str, fallback: str, reserved: Collection[str] = ()) -> str:
    """A valid, ASCII, non-keyword Python identifier derived from `text` (``features.0`` → ``features_0``)."""
    name = "_".join(ascii_words(text)) or fallback
    if name[0].isdigit():
        name = f"{fallback}_{name}"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name) or name in reserved:
        name += "_"
    return name


def class_name(text: str, reserved: Collection[str] = ()) -> str:
    """A CamelCase class name: ``AlexNet (torchvision)`` → ``AlexNetTorchvision``."""
    words = ascii_words(text)
    name = "".join(w[:1].upper() + w[1:] for w in words) or "Network"
    if name[0].isdigit():
        name = "Net" + name
    if keyword.iskeyword(name) or name in reserved:
        name += "Net"
    return name


def node(value: Any) -> str | Call:
    """A renderable argument: lists become bracketed nodes (so long tables split), the rest literals."""
    if isinstance(value, Call):
        return value
    if isinstance(value, list) and value:
        return Call("", *value, brackets="[]")
    return literal(value)


def string_assignment(indent: int, target: str, text: str) -> list[str]:
    """``target = "text"``, split into implicitly concatenated pieces when it would pass the line width."""
    pad = " " * indent
    one_line = f"{pad}{target} = {literal(text)}"
    if len(one_line) <= LINE_WIDTH:
        return [one_line]
    inner = " " * (indent + 4)
    budget = LINE_WIDTH - len(inner) - 2
    pieces: list[str] = []
    current = ""
    for word in re.findall(r"\S+\s*|\s+", text):
        if current and len(literal(current + word)) > budget:
            pieces.append(current)
            current = ""
        current += word
    pieces.append(current)
    return [f"{pad}{target} = ("] + [inner + literal(piece) for piece in pieces] + [f"{pad})"]


class Call:
    """A call expression (or a bracketed list), on one line when it fits, split like ruff/Black when not."""

    __slots__ = ("func", "args", "open", "close")

    def __init__(self, func: str, *args: Any, brackets: str = "()", **kwargs: Any) -> None:
        self.func = func
        self.open, self.close = brackets
        self.args: list[str | Call | _Keyword] = [node(a) for a in args]
        self.args += [_Keyword(k, node(v)) for k, v in kwargs.items()]

    @classmethod
    def expression(cls, func: str, *sources: str) -> Call:
        """A call whose arguments are Python expressions already (variable names), not values."""
        call = cls(func)
        call.args = list(sources)
        return call

    def flat(self) -> str:
        return f"{self.func}{self.open}" + ", ".join(_flat(a) for a in self.args) + self.close

    def render(self, indent: int, prefix: str = "", suffix: str = "") -> list[str]:
        """Lines (with indentation) for ``prefix + call + suffix`` starting at column `indent`."""
        pad = " " * indent
        one_line = f"{pad}{prefix}{self.flat()}{suffix}"
        if len(one_line) <= LINE_WIDTH or not self.args:
            return [one_line]
        inner_pad = " " * (indent + 4)
        joined = ", ".join(_flat(a) for a in self.args)
        if len(inner_pad + joined) <= LINE_WIDTH:
            return [f"{pad}{prefix}{self.func}{self.open}", inner_pad + joined, f"{pad}{self.close}{suffix}"]
        lines = [f"{pad}{prefix}{self.func}{self.open}"]
        for arg in self.args:
            lines += _render_arg(arg, indent + 4)
        lines.append(f"{pad}{self.close}{suffix}")
        return lines


class _Keyword:
    __slots__ = ("name", "value")

    def __init__(self, name: str, value: str | Call) -> None:
        self.name, self.value = name, value


def _flat(arg: Any) -> str:
    if isinstance(arg, _Keyword):
        return f"{arg.name}={_flat(arg.value)}"
    return arg.flat() if isinstance(arg, Call) else arg


def _render_arg(arg: Any, indent: int) -> list[str]:
    if isinstance(arg, _Keyword):
        if isinstance(arg.value, Call):
            return arg.value.render(indent, f"{arg.name}=", ",")
        return [" " * indent + f"{arg.name}={arg.value},"]
    if isinstance(arg, Call):
        return arg.render(indent, "", ",")
    return [" " * indent + arg + ","]


def render_lines(lines: Iterable[str | tuple[int, str, Call, str]]) -> list[str]:
    """Flatten a mix of ready lines and ``(indent, prefix, call, suffix)`` entries."""
    out: list[str] = []
    for entry in lines:
        if isinstance(entry, tuple):
            indent, prefix, call, suffix = entry
            out += call.render(indent, prefix, suffix)
        else:
            out.append(entry)
    return out
