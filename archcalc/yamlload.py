"""A bounded YAML reader that remembers line numbers.

Specs are untrusted data. PyYAML's own loaders recurse per nesting level and expand aliases
without limit, so this module builds the document from the *event stream* instead: iteratively,
with caps on size, depth and total node count (alias expansions included, which defuses
"billion laughs" bombs), and it records the line of every mapping key and sequence item so
that validation errors can point at a line.
"""

from __future__ import annotations

from typing import Any

import yaml

from .errors import SpecError

MAX_BYTES = 4 * 1024 * 1024
MAX_DEPTH = 64
MAX_NODES = 500_000

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_SCALAR_TAGS = {
    "tag:yaml.org,2002:str",
    "tag:yaml.org,2002:int",
    "tag:yaml.org,2002:float",
    "tag:yaml.org,2002:bool",
    "tag:yaml.org,2002:null",
}


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
    if b"\x00" in data[:8192]:
        raise SpecError("this is not a YAML text file (it contains binary data)", path=path)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SpecError(f"this is not a UTF-8 text file (byte {exc.start} cannot be decoded)", path=path) from None


def _scalar(
    event: yaml.ScalarEvent,
    resolver: yaml.resolver.BaseResolver,
    constructor: yaml.constructor.SafeConstructor,
    cache: dict[tuple[str, str | None, str | None], Any],
) -> Any:
    key = (event.value, event.tag, event.style)
    if key in cache:  # specs repeat the same few scalars ("conv", "3", "true") many times
        return cache[key]
    tag = event.tag
    if tag is None or tag == "!":
        tag = resolver.resolve(yaml.ScalarNode, event.value, event.implicit)
    if tag not in _SCALAR_TAGS:
        raise SpecError(f"unsupported YAML tag {tag!r}: specs hold plain numbers, strings and booleans")
    node = yaml.ScalarNode(tag, event.value, event.start_mark, event.end_mark, event.style)
    value = constructor.yaml_constructors[tag](constructor, node)
    if len(cache) < 10_000:
        cache[key] = value
    return value


def load_yaml(data: bytes | str, path: str = "<spec>") -> Any:
    """Parse one YAML document into dicts/lists that carry line numbers (YMap / YList)."""
    text = _decode(data, path) if isinstance(data, bytes) else data
    if len(text) > MAX_BYTES:
        raise SpecError(f"file is too large ({len(text):,} characters; the limit is {MAX_BYTES:,})", path=path)
    resolver = yaml.resolver.Resolver()
    constructor = yaml.constructor.SafeConstructor()
    scalars: dict[tuple[str, str | None, str | None], Any] = {}
    anchors: dict[str, tuple[Any, int]] = {}
    # Each open container: [container, pending_key, anchor, node_count_at_start]
    stack: list[list[Any]] = []
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
        container = frame[0]
        if isinstance(container, YList):
            container.append(value)
            container.item_lines.append(line)
        elif frame[1] is None:  # a key
            if not isinstance(value, str):
                raise SpecError(f"mapping keys must be strings, got {value!r}", line=line)
            if value in container:
                raise SpecError(f"duplicate key '{value}'", line=line)
            frame[1] = (value,)
            container.key_lines[value] = line
        else:
            container[frame[1][0]] = value
            frame[1] = None

    try:
        for event in yaml.parse(text, Loader=_Loader):
            line = event.start_mark.line + 1 if event.start_mark is not None else None
            if isinstance(event, yaml.DocumentStartEvent):
                documents += 1
                if documents > 1:
                    raise SpecError("a spec holds one YAML document; found a second one", line=line)
            elif isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
                if event.tag not in (None, "!", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
                    raise SpecError(f"unsupported YAML tag {event.tag!r}", line=line)
                if len(stack) >= MAX_DEPTH:
                    raise SpecError(f"the document is nested too deeply (more than {MAX_DEPTH} levels)", line=line)
                if stack and isinstance(stack[-1][0], YMap) and stack[-1][1] is None:
                    raise SpecError("mapping keys must be strings, not a mapping or a list", line=line)
                nodes += 1
                container = YMap(line) if isinstance(event, yaml.MappingStartEvent) else YList(line)
                stack.append([container, None, event.anchor, nodes, line])
            elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
                container, _, anchor, start, opened = stack.pop()
                if anchor is not None:
                    anchors[anchor] = (container, nodes - start + 1)
                attach(container, opened)
            elif isinstance(event, yaml.ScalarEvent):
                nodes += 1
                value = _scalar(event, resolver, constructor, scalars)
                if event.anchor is not None:
                    anchors[event.anchor] = (value, 1)
                attach(value, line)
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors:
                    raise SpecError(f"alias '*{event.anchor}' refers to an anchor that is not defined", line=line)
                value, size = anchors[event.anchor]
                nodes += size
                attach(value, line)
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
