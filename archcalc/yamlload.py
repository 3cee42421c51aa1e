"""A bounded YAML reader that remembers line numbers.

Specs are untrusted data. PyYAML's own loaders recurse per nesting level and expand aliases
without limit, so this module builds the document from the *event stream* instead: iteratively,
with caps on size, depth and total node count (alias expansions included, which defuses
"billion laughs" bombs), and it records the line of every mapping key and sequence item so
that validation errors can point at a line.

Plain scalars resolve by YAML 1.2's core schema (``1e-5`` is a float, ``010`` is 10, ``yes`` and
``1:20`` are strings), merge keys (``<<: *anchor``) are applied, and a value with a tag this
reader does not construct (``!!binary``, ``!!set``, ``!custom``, ...) becomes an
:class:`UnsupportedValue`, which validation refuses where it is used.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import yaml

from .errors import SpecError

MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 500_000

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_CORE = "tag:yaml.org,2002:"
_COLLECTION_TAGS = (None, "!", _CORE + "map", _CORE + "seq")

# YAML 1.2 core schema (https://yaml.org/spec/1.2.2/#1032-tag-resolution).
_NULLS = frozenset({"", "~", "null", "Null", "NULL"})
_BOOLS = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_SPECIAL_FLOATS = {
    **{
        sign + inf: (-math.inf if sign == "-" else math.inf)
        for sign in ("", "+", "-")
        for inf in (".inf", ".Inf", ".INF")
    },
    **{nan: math.nan for nan in (".nan", ".NaN", ".NAN")},
}
_INT = re.compile(r"[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?")
_MAYBE_NOT_STR = frozenset("0123456789+-.~nNtTfF")  # first characters of every non-string plain scalar


def short_tag(tag: str) -> str:
    """``tag:yaml.org,2002:binary`` → ``!!binary``; other tags as written."""
    return "!!" + tag[len(_CORE) :] if tag.startswith(_CORE) else tag


@dataclass(frozen=True, slots=True)
class UnsupportedValue:
    """What the reader returns for a tagged value it does not construct, or an explicitly typed
    scalar that is not of its type (``!!int abc``). Nothing is built from its content; validation
    refuses it with ``message`` wherever it is used, naming that layer and field."""

    tag: str
    line: int | None
    message: str

    def __repr__(self) -> str:
        return f"<{short_tag(self.tag)} value>"


class YMap(dict):  # type: ignore[type-arg]
    """A YAML mapping with the line of the mapping itself and of each key."""

    __slots__ = ("line", "key_lines")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.key_lines: dict[str, int] = {}


class YList(list):  # type: ignore[type-arg]
    """A YAML sequence with its own line and the line of each item."""

    __slots__ = ("line", "item_lines")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.item_lines: list[int] = []


def line_of(container: Any, key: Any = None) -> int | None:
    """Line of `container[key]` (or of the container when key is None), if known."""
    if key is None:
        return getattr(container, "line", None)
    if isinstance(container, YMap):
        return container.key_lines.get(key, container.line)
    if isinstance(container, YList) and isinstance(key, int) and 0 <= key < len(container.item_lines):
        return container.item_lines[key]
    return getattr(container, "line", None)


def _decode(data: bytes, path: str) -> str:
    if len(data) > MAX_BYTES:
        raise SpecError(f"file is too large ({len(data):,} bytes; the limit is {MAX_BYTES:,})", path=path)
    utf16 = data.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(data) > 1 and (data[0] == 0) != (data[1] == 0))
    if utf16 and b"\x00" in data[:8192]:
        raise SpecError(
            "this file is UTF-16; archcalc reads specs as UTF-8 (convert it: iconv -f UTF-16 -t UTF-8)", path=path
        )
    if b"\x00" in data[:8192]:
        raise SpecError("this is not a YAML text file (it contains binary data)", path=path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(f"this is not a UTF-8 text file (byte {exc.start} cannot be decoded)", path=path) from None


def _int(text: str) -> int | None:
    """A YAML 1.2 core integer (``-12``, ``010`` = 10, ``0o17``, ``0x1F``), or None."""
    if not _INT.fullmatch(text):
        return None
    if text.startswith(("0o", "0x")):
        return int(text[2:], 8 if text[1] == "o" else 16)
    return int(text, 10)


def _float(text: str) -> float | None:
    """A YAML 1.2 core float (``1e-5``, ``.5``, ``-1.5e+3``, ``.inf``, ``.nan``), or None."""
    if text in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[text]
    return float(text) if _FLOAT.fullmatch(text) else None


def resolve_plain(text: str) -> Any:
    """The value of an untagged plain scalar under YAML 1.2's core schema: null, a boolean, an
    integer, a float, or else the string itself (``yes``, ``1_000``, ``1:20``, ``2024-01-01``)."""
    if text and text[0] not in _MAYBE_NOT_STR:
        return text
    if text in _NULLS:
        return None
    if text in _BOOLS:
        return _BOOLS[text]
    number = _int(text)
    if number is not None:
        return number
    number = _float(text)
    return text if number is None else number


def _any_float(text: str) -> float | None:
    """What ``!!float`` accepts: a float, or an integer taken as a float."""
    number = _float(text)
    if number is None and (whole := _int(text)) is not None:
        return float(whole)
    return number


def _typed(kind: str, parse: Callable[[str], Any]) -> Callable[[str, str, int | None], Any]:
    def construct(text: str, tag: str, line: int | None) -> Any:
        value = parse(text)
        if value is None:
            return UnsupportedValue(tag, line, f"{text!r} is not {kind} (it is tagged {short_tag(tag)})")
        return value

    return construct


def _null(text: str, tag: str, line: int | None) -> Any:
    if text in _NULLS:
        return None
    return UnsupportedValue(tag, line, f"{text!r} is not null (it is tagged {short_tag(tag)})")


# Explicitly tagged scalars this reader constructs; every other tag gives an UnsupportedValue.
_CONSTRUCTORS: dict[str, Callable[[str, str, int | None], Any]] = {
    _CORE + "str": lambda text, tag, line: text,
    _CORE + "int": _typed("an integer", _int),
    _CORE + "float": _typed("a number", _any_float),
    _CORE + "bool": _typed("true or false", _BOOLS.get),
    _CORE + "null": _null,
}


def unsupported_tag(tag: str, line: int | None) -> UnsupportedValue:
    return UnsupportedValue(
        tag,
        line,
        f"unsupported YAML tag '{short_tag(tag)}': specs hold plain numbers, strings, booleans, lists and mappings",
    )


def _scalar(event: yaml.ScalarEvent, line: int | None, cache: dict[tuple[str, str | None, bool], Any]) -> Any:
    plain = event.implicit[0]
    key = (event.value, event.tag, plain)
    if key in cache:  # specs repeat the same few scalars ("conv", "3", "true") many times
        return cache[key]
    tag = event.tag
    try:
        if tag is None:
            value = resolve_plain(event.value) if plain else event.value
        elif tag == "!":  # the non-specific tag: a string
            value = event.value
        elif tag in _CONSTRUCTORS:
            value = _CONSTRUCTORS[tag](event.value, tag, line)
        else:
            value = unsupported_tag(tag, line)
    except (ValueError, OverflowError):  # an integer beyond int()'s digit limit, or beyond a float
        value = UnsupportedValue(tag or _CORE + "int", line, f"the number {event.value[:20]}… has too many digits")
    if isinstance(value, UnsupportedValue):
        return value  # carries its line: not cached
    if len(cache) < 10_000:
        cache[key] = value
    return value


class _Frame:
    """An open mapping or sequence while its events arrive."""

    __slots__ = ("container", "key", "anchor", "start", "line", "merges", "merge_at")

    def __init__(self, container: Any, anchor: str | None, start: int, line: int) -> None:
        self.container = container  # YMap, YList, or the UnsupportedValue standing for a tagged collection
        self.key: tuple[str] | None = None  # the key whose value comes next (mappings)
        self.anchor = anchor
        self.start = start  # node count when it opened
        self.line = line
        self.merges: list[tuple[Any, int]] | None = None  # values of '<<' keys, with their lines
        self.merge_at = 0  # how many explicit keys came before '<<'


_MERGE = ("<<",)  # the pending key of a frame whose next value is merged


def _merge_sources(value: Any, line: int) -> list[YMap]:
    if isinstance(value, YMap):
        return [value]
    if isinstance(value, YList) and all(isinstance(item, YMap) for item in value):
        return list(value)
    raise SpecError("a merge key ('<<') takes a mapping or a list of mappings (e.g. <<: *defaults)", line=line)


def _apply_merges(frame: _Frame) -> Any:
    """The frame's mapping with the '<<' mappings merged in, as YAML's merge key specifies: explicit
    keys win, and of several merged mappings the earlier ones win. Merged keys take the place of
    the '<<' key and keep the line of the anchor's key. A merge of a tagged value archcalc does not
    read makes the whole mapping that UnsupportedValue."""
    container: YMap = frame.container
    merged: dict[str, tuple[Any, int]] = {}
    for value, line in frame.merges or ():
        unsupported = value if isinstance(value, UnsupportedValue) else None
        if isinstance(value, YList):
            unsupported = next((item for item in value if isinstance(item, UnsupportedValue)), None)
        if unsupported is not None:
            return unsupported
        for source in _merge_sources(value, line):
            for key, item in source.items():
                if key not in container and key not in merged:
                    merged[key] = (item, source.key_lines.get(key, source.line))
    explicit = list(container.items())
    container.clear()
    container.update(explicit[: frame.merge_at])
    for key, (item, line) in merged.items():
        container[key] = item
        container.key_lines[key] = line
    container.update(explicit[frame.merge_at :])
    return container


def load_yaml(data: bytes | str, path: str = "<spec>") -> Any:
    """Parse one YAML document into dicts/lists that carry line numbers (YMap / YList)."""
    text = _decode(data, path) if isinstance(data, bytes) else data
    if len(text) > MAX_BYTES:
        raise SpecError(f"file is too large ({len(text):,} characters; the limit is {MAX_BYTES:,})", path=path)
    scalars: dict[tuple[str, str | None, bool], Any] = {}
    anchors: dict[str, tuple[Any, int]] = {}
    stack: list[_Frame] = []
    root: Any = None
    have_root = False
    nodes = 0
    documents = 0

    def attach(value: Any, line: int) -> None:
        nonlocal root, have_root
        if not stack:
            root, have_root = value, True
            return
        frame = stack[-1]
        container = frame.container
        if isinstance(container, YList):
            container.append(value)
            container.item_lines.append(line)
        elif not isinstance(container, YMap):  # inside a tagged collection: nothing is built
            return
        elif frame.key is None:  # a key
            if not isinstance(value, str):
                if isinstance(value, UnsupportedValue):
                    raise SpecError(value.message, line=line)
                raise SpecError(f"mapping keys must be strings, got {value!r}", line=line)
            if value in container:
                raise SpecError(f"duplicate key '{value}'", line=line)
            frame.key = (value,)
            container.key_lines[value] = line
        elif frame.key is _MERGE:
            frame.merges = [(value, line)]
            frame.key = None
        else:
            container[frame.key[0]] = value
            frame.key = None

    try:
        for event in yaml.parse(text, Loader=_Loader):
            line = event.start_mark.line + 1 if event.start_mark is not None else None
            if isinstance(event, yaml.ScalarEvent):
                nodes += 1
                frame = stack[-1] if stack else None
                if frame is not None and not isinstance(frame.container, (YMap, YList)):
                    value = frame.container  # inside a tagged collection
                elif (
                    frame is not None
                    and frame.key is None
                    and event.value == "<<"
                    and event.tag is None
                    and event.implicit[0]
                    and isinstance(frame.container, YMap)
                ):
                    if frame.merges is not None:
                        raise SpecError("duplicate key '<<'", line=line)
                    frame.key, frame.merge_at = _MERGE, len(frame.container)
                    frame.merges = []
                    continue
                else:
                    value = _scalar(event, line, scalars)
                if event.anchor is not None:
                    anchors[event.anchor] = (value, 1)
                attach(value, line)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if len(stack) >= MAX_DEPTH:
                    raise SpecError(f"the document is nested too deeply (more than {MAX_DEPTH} levels)", line=line)
                if stack and isinstance(stack[-1].container, YMap) and stack[-1].key is None:
                    raise SpecError("mapping keys must be strings, not a mapping or a list", line=line)
                nodes += 1
                if stack and not isinstance(stack[-1].container, (YMap, YList)):
                    container = stack[-1].container  # nested in a tagged collection
                elif event.tag not in _COLLECTION_TAGS:
                    container = unsupported_tag(event.tag, line)
                else:
                    container = YMap(line) if isinstance(event, yaml.MappingStartEvent) else YList(line)
                stack.append(_Frame(container, event.anchor, nodes, line))
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                frame = stack.pop()
                if frame.merges is not None:
                    frame.container = _apply_merges(frame)
                if frame.anchor is not None:
                    anchors[frame.anchor] = (frame.container, nodes - frame.start + 1)
                attach(frame.container, frame.line)
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors:
                    raise SpecError(f"alias '*{event.anchor}' refers to an anchor that is not defined", line=line)
                value, size = anchors[event.anchor]
                nodes += size
                attach(value, line)
            elif isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise SpecError("a spec holds one YAML document; found a second one", line=line)
            if nodes > MAX_NODES:
                raise SpecError(
                    f"the document expands to more than {MAX_NODES:,} values (through aliases?); refusing to read it",
                    line=line,
                )
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        problem = exc.problem or str(exc)
        if "nesting depth" in problem:  # PyYAML ≥ 6.0.3 stops deep nesting in its scanner, before our cap
            message = f"the document is nested too deeply (more than {MAX_DEPTH} levels)"
            raise SpecError(message, path=path, line=mark.line + 1 if mark else None) from None
        if exc.context:
            problem = f"{problem} ({exc.context})"
        raise SpecError(f"YAML syntax error: {problem}", path=path, line=mark.line + 1 if mark else None) from None
    except yaml.YAMLError as exc:
        raise SpecError(f"YAML error: {exc}", path=path) from None
    except SpecError as exc:
        raise exc.located(path=path) from None
    except RecursionError:
        raise SpecError("the document is nested too deeply", path=path) from None
    if not have_root or root is None:
        raise SpecError("the file is empty: a spec needs at least 'name', 'input' and 'layers'", path=path)
    return root
