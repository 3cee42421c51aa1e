"""Runs of identical blocks in an imported layer list, written back as ``repeat`` blocks.

An importer sees a ResNet stage as ``layer3.1.conv1 … layer3.5.relu3``: five copies of one block.
``find_repeats`` writes such a run as one ``repeat: 5`` block, but only where that is exact: the
block must expand (through the spec reader) to the same layers, with the same kinds, fields,
inputs and names, as the flat list. Anything else stays flat.

How a run is found, in one pass over the list:

- Every layer gets a structural signature: its kind, its fields in order, and each input as a
  distance back (1 = the previous layer). Two repetitions of a block have equal signatures layer by
  layer, because a block's inputs are its own layers or ``block_input``, both at fixed distances.
- The expanded names decide where a run starts and how long a repetition is. Repetition ``r``
  names its layers ``<block>.<r>.<layer>`` or by a template with ``{i}`` replaced by ``r``, counting
  from 1; so a run starts at a layer whose name has the number 1 where the next repetition's first
  layer has 2, and that layer's position gives the repetition length.
- A candidate run is checked layer by layer, repetition by repetition. Pairs of layers already
  compared for a repetition length are not compared again, and the work is bounded by a budget
  proportional to the list's length, so the pass stays linear even on adversarial names (a run
  not found for want of budget stays flat, which is always exact).
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from ..kinds import KINDS
from ..spec import BLOCK_INPUT, INPUT_NAME, MAX_NAME_LENGTH, REPETITION

_NUMBER = re.compile(r"[0-9]+")
_SCALARS = (str, int, bool, type(None))  # exactly these types: a subclass of int is not plain data
_SEPARATORS = "._-/: "
MAX_ONES = 8  # "1"s per name tried as the repetition number
WORK_PER_LAYER = 16  # comparisons budgeted per layer of the list (real networks need about 1)


def find_repeats(layers: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """`layers` with runs of two or more identical consecutive blocks written as repeat blocks.

    Exact or not at all: the result expands to the same layers as `layers`. A list that already
    holds a repeat block, has an unnamed layer or repeats a name is returned unchanged.
    """
    flat = _FlatList.of(layers)
    if flat is None:
        return list(layers)
    out: list[dict[str, Any]] = []
    start = 0
    while start < len(layers):
        run = flat.best_run(start)
        if run is None:
            out.append(layers[start])
            start += 1
        else:
            out.append(flat.block(run))
            start += run.repeat * run.period
    return out


@dataclass(frozen=True, slots=True)
class _Run:
    """Layers ``start … start + repeat·period − 1``: `repeat` copies of `period` layers, whose names
    in repetition r are ``templates[q].replace("{i}", str(r))``."""

    start: int
    period: int
    repeat: int
    templates: tuple[str, ...]


class _Unusable(Exception):
    """A layer that can take part in no block (its inputs do not resolve, a field is not plain data)."""


def _freeze(value: Any) -> Hashable:
    """A field value as a hashable key that tells 1, 1.0 and True (and [1] and (1,)) apart."""
    if type(value) in _SCALARS:
        return (type(value), value)
    if isinstance(value, float):
        return (type(value), repr(value))
    if isinstance(value, (list, tuple)):
        return (type(value), tuple(_freeze(v) for v in value))
    if isinstance(value, dict):
        return (type(value), tuple((_freeze(k), _freeze(v)) for k, v in value.items()))
    raise _Unusable


class _FlatList:
    """A flat layer list, indexed for finding runs: names, positions, signatures, inputs."""

    def __init__(self, layers: list[dict[str, Any]], names: list[str]) -> None:
        self.layers = layers
        self.names = names
        self.index = {name: i for i, name in enumerate(names)}
        self.inputs: list[tuple[int, ...] | None] = []  # positions read (-1: the network input)
        self.signature: list[int] = []  # equal ids: same kind, fields and inputs (as distances)
        ids: dict[Hashable, int] = {}
        for i, layer in enumerate(layers):
            try:
                reads = self._reads(i, layer)
                key = (
                    layer["kind"],
                    "inputs" in layer,
                    tuple(i - j for j in reads),
                    tuple((k, _freeze(v)) for k, v in layer.items() if k not in ("name", "inputs")),
                )
            except _Unusable:
                self.inputs.append(None)
                self.signature.append(-1 - i)  # equal to no other layer's
                continue
            self.inputs.append(reads)
            self.signature.append(ids.setdefault(key, len(ids)))
        # the names that a block may not take: every layer's, every name an input refers to
        self.taken = set(names) | {INPUT_NAME, BLOCK_INPUT}
        for layer in layers:
            refs = layer.get("inputs")
            self.taken.update(r for r in (refs if isinstance(refs, list) else [refs]) if isinstance(r, str))
        self.budget = WORK_PER_LAYER * len(layers) + 1000
        self.alike: dict[int, tuple[int, int]] = {}  # period → (lo, hi): see _alike

    @classmethod
    def of(cls, layers: list[dict[str, Any]]) -> _FlatList | None:
        """The indexed list, or None where no rewrite can be checked: a repeat block already in it,
        a layer without a name (its default name counts its kind, which blocks change), a name
        given twice."""
        names: list[str] = []
        for layer in layers:
            if not isinstance(layer, dict) or "repeat" in layer or "layers" in layer:
                return None
            name = layer.get("name")
            if not isinstance(name, str) or not name:
                return None
            names.append(name)
        if len(set(names)) != len(names):
            return None
        return cls(layers, names)

    def _reads(self, i: int, layer: dict[str, Any]) -> tuple[int, ...]:
        """The positions layer `i` reads, as the spec reader resolves them."""
        kind = layer.get("kind")
        if not isinstance(kind, str) or kind not in KINDS or REPETITION in self.names[i]:
            raise _Unusable
        if "inputs" not in layer:
            if KINDS[kind].merges:
                raise _Unusable
            return (i - 1,)
        refs = layer["inputs"]
        refs = [refs] if isinstance(refs, str) else refs
        if not isinstance(refs, list) or not refs:
            raise _Unusable
        reads = []
        for ref in refs:
            j = -1 if ref == INPUT_NAME else self.index.get(ref) if isinstance(ref, str) else None
            if j is None or j >= i:
                raise _Unusable
            reads.append(j)
        return tuple(reads)

    # --- finding a run -------------------------------------------------------------------------

    def best_run(self, start: int) -> _Run | None:
        """The run starting at `start` that covers the most layers, if any."""
        name = self.names[start]
        best: _Run | None = None
        ones = [m for m in _NUMBER.finditer(name) if m.group() == "1"][:MAX_ONES]
        for one in ones:
            second = self.index.get(name[: one.start()] + "2" + name[one.end() :])
            if second is None or second <= start or self.budget <= 0:
                continue
            run = self._run(start, second - start)
            if run is not None and (best is None or run.repeat * run.period > best.repeat * best.period):
                best = run
        return best

    def _run(self, start: int, period: int) -> _Run | None:
        """The run of repetitions of layers ``start … start + period − 1`` (at least two), if the
        first two match and every layer of the first reads inside it or its ``block_input``."""
        n, names, signature = len(self.layers), self.names, self.signature
        if start + 2 * period > n or not self._alike(start, period):
            return None
        self.budget -= period
        if any(j < start - 1 for reads in self.inputs[start : start + period] for j in reads or ()):
            return None  # a layer reads before the block's input: no name in the block says that
        # (each template exists: _alike found it)
        templates = tuple(_template(names[x], names[x + period]) or "" for x in range(start, start + period))
        repeat = 2
        while start + (repeat + 1) * period <= n and self.budget > 0:
            offset = start + repeat * period
            number = str(repeat + 1)
            self.budget -= period
            if not all(
                signature[offset + q] == signature[start + q] and names[offset + q] == t.replace(REPETITION, number)
                for q, t in enumerate(templates)
            ):
                break
            repeat += 1
        return _Run(start, period, repeat, templates)

    def _alike(self, start: int, period: int) -> bool:
        """Whether each layer x of ``start … start + period − 1`` matches layer x + period: the same
        signature, and names one template gives for two consecutive repetitions.

        That holds pair by pair, so what was checked for `period` is kept (``alike[period]``: pairs
        from ``lo`` up to ``hi`` match) and a later start with the same period goes on from there.
        """
        lo, hi = self.alike.get(period, (start, start))
        if not lo <= start <= hi:
            lo = hi = start
        x, end = hi, start + period
        signature, names, inputs = self.signature, self.names, self.inputs
        while x < end:
            self.budget -= 1
            y = x + period
            if signature[x] != signature[y] or inputs[x] is None or _template(names[x], names[y]) is None:
                self.alike[period] = (lo, x)
                return False
            x += 1
        self.alike[period] = (lo, max(hi, end))
        return True

    # --- writing a run as a repeat block -------------------------------------------------------

    def block(self, run: _Run) -> dict[str, Any]:
        """The repeat block for `run`: ``<block>.<i>.<layer>`` names where the templates allow it and
        the block's name is free, else the templates themselves."""
        written = _prefix_names(run.templates)
        if written is not None and written[0] not in self.taken:
            block_name, short = written
        else:
            block_name, short = self._free_name(_block_stem(run.templates)), list(run.templates)
        self.taken.add(block_name)
        layers = []
        for q in range(run.period):
            i = run.start + q
            local: dict[str, Any] = {}
            for key, value in self.layers[i].items():
                if key == "name":
                    value = short[q]
                elif key == "inputs":
                    refs = [BLOCK_INPUT if j == run.start - 1 else short[j - run.start] for j in self.inputs[i]]
                    value = refs[0] if isinstance(value, str) else refs
                local[key] = value
            layers.append(local)
        return {"repeat": run.repeat, "name": block_name, "layers": layers}

    def _free_name(self, stem: str) -> str:
        name, counter = stem, 2
        while name in self.taken:
            name, counter = f"{stem}_{counter}", counter + 1
        return name


def _template(first: str, second: str) -> str | None:
    """The name with ``{i}`` that gives `first` for repetition 1 and `second` for 2, if one does."""
    for match in _NUMBER.finditer(first):
        if match.group() != "1":
            continue
        template = first[: match.start()] + REPETITION + first[match.end() :]
        if template.replace(REPETITION, "2") == second and len(template) <= MAX_NAME_LENGTH:
            return template
    return None


def _prefix_names(templates: tuple[str, ...]) -> tuple[str, list[str]] | None:
    """``(P, [short names])`` where every template is ``P.{i}.<short>``: the block's own naming."""
    block, shorts = None, []
    marker = "." + REPETITION + "."
    for template in templates:
        at = template.find(marker)
        if at <= 0:
            return None
        prefix, short = template[:at], template[at + len(marker) :]
        if (block is not None and prefix != block) or not short.strip() or short == BLOCK_INPUT:
            return None
        if short.startswith(prefix + "."):  # could read as another layer's full name inside the block
            return None
        block = prefix
        shorts.append(short)
    if block is None or not block.strip():
        return None
    return block, shorts


def _block_stem(templates: tuple[str, ...]) -> str:
    """A readable name for a block named by templates: what its names share before ``{i}``, up to
    the last separator (``conv3_{i}`` → ``conv3``, ``features.block1.layer{i}.conv`` →
    ``features.block1``)."""
    heads = [t[: t.find(REPETITION)] for t in templates]
    shared = heads[0]
    for head in heads[1:]:
        while not head.startswith(shared):
            shared = shared[:-1]
    shared = shared or heads[0]
    if shared and shared[-1] not in _SEPARATORS:
        cut = max(shared.rfind(c) for c in _SEPARATORS)
        shared = shared[:cut] if cut > 0 else shared
    return shared.rstrip(_SEPARATORS)[: MAX_NAME_LENGTH - 8] or "repeat"


__all__ = ["find_repeats"]
