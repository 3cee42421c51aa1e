"""Grading a learner's layer table against a spec: each cell right or wrong, and for a wrong one
the right value and the known mistakes that reproduce the learner's number exactly."""

from __future__ import annotations

import enum
import math
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from ..engine import Analysis, analyse
from ..errors import TableError
from ..palette import Role
from ..spec import INPUT_NAME, NetworkSpec
from .mistakes import (
    DIGIT_MISTAKES,
    DIGIT_MUTATIONS,
    MISTAKES,
    TOTAL,
    Candidate,
    Carried,
    Mistake,
    Probe,
    Value,
    by_id,
    digit_candidates,
    expected,
)
from .tables import Column, LearnerTable, Row, load_table
from .values import Order, Rounded, Written, evaluate, first_number, read_number, read_pair, read_shape


class Status(enum.StrEnum):
    RIGHT = "right"
    WRONG = "wrong"
    UNGRADED = "not graded"


class MatchedBy(enum.StrEnum):
    NAME = "name"
    ORDER = "order"
    SEQUENCE = "kind in order"  # torchsummary's "Conv2d-1": the next layer of that kind


@dataclass(frozen=True, slots=True)
class Cause:
    mistake: Mistake
    where: str | None = None  # the layer it was made at, when not the cell's own
    detail: str | None = None


@dataclass(frozen=True, slots=True)
class Note:
    """Something said about a cell, in words chosen at rendering (a key of report.NOTES)."""

    key: str
    fields: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CellGrade:
    line: int
    row: str  # the learner's row name
    layer: str
    column: Column
    given: str
    status: Status
    expected: str  # the right value, written the learner's way
    causes: tuple[Cause, ...] = ()
    notes: tuple[Note, ...] = ()


@dataclass(frozen=True, slots=True)
class RowMatch:
    row: Row
    name: str
    layer: str
    by: MatchedBy


@dataclass(frozen=True, slots=True)
class GradeResult:
    table: LearnerTable
    analysis: Analysis
    matches: tuple[RowMatch, ...]
    cells: tuple[CellGrade, ...]

    @property
    def wrong(self) -> list[CellGrade]:
        return [c for c in self.cells if c.status is Status.WRONG]

    @property
    def ok(self) -> bool:
        return not self.wrong

    def count(self, status: Status) -> int:
        return sum(c.status is status for c in self.cells)

    def cell(self, line: int, column: Column) -> CellGrade | None:
        return next((c for c in self.cells if c.line == line and c.column is column), None)

    def to_dict(self, lang: Any = None) -> dict[str, Any]:
        from .report import to_dict

        return to_dict(self, lang)


def grade(spec_or_analysis: NetworkSpec | Analysis | str | Path, table: str | Path | LearnerTable) -> GradeResult:
    """Grade `table` (its text, a path, or a read table) against a spec (a NetworkSpec, an
    Analysis, or what ``archcalc.load`` takes)."""
    analysis = _analysis_of(spec_or_analysis)
    learner = table if isinstance(table, LearnerTable) else load_table(table)
    matches = match_rows(learner, analysis)
    grader = _Grader(analysis, learner, matches)
    cells = [grader.cell(learner, match, index) for match in matches for index in range(len(learner.columns))]
    return GradeResult(learner, analysis, tuple(matches), tuple(c for c in cells if c is not None))


def _analysis_of(source: NetworkSpec | Analysis | str | Path) -> Analysis:
    if isinstance(source, Analysis):
        return source
    if isinstance(source, NetworkSpec):
        return analyse(source)
    from ..importers import load_source

    return analyse(load_source(str(source)))


# --- rows to layers ------------------------------------------------------------------------------

_INPUT_WORDS = re.compile(r"^(input|inputs|data|输入|输入层|数据|数据层|图像|image)$")
_TOTAL_WORDS = re.compile(r"^(total|totals|totalparams|sum|合计|总计|总和|总数|总参数|总参数量|参数总量|总计算量)$")
_OUTPUT_WORDS = re.compile(r"^(output|输出|输出层|分类层|classifier)$")
# A learner's layer word, by what the layer does; the number after it counts layers of that role.
_ROLE_WORDS: tuple[tuple[re.Pattern[str], Role], ...] = (
    (re.compile(r"^(conv\w*?|卷积层?|c)(\d*)$"), Role.CONVOLUTION),
    (re.compile(r"^((max|avg|average|最大|平均)?_?pool\w*?|(最大|平均)?池化层?|下采样层?|采样层?|subsampling|s|p)(\d*)$"), Role.POOLING),
    (re.compile(r"^(fc|fullyconnected|full|dense|ip|innerproduct|全连接层?|f)(\d*)$"), Role.DENSE),
)  # fmt: skip


def _words(name: str) -> str:
    """A row name as matched: its first part ("convolution_1+ReLU+LRN" → "convolution1"), lower case."""
    first = re.split(r"[+＋/]", name.strip())[0]
    first = re.sub(r"[(（].*$", "", first).strip() or first
    return re.sub(r"[\s_\-.:：]+", "", first.lower())


def _trailing_number(name: str) -> int | None:
    found = re.search(r"(\d+)$", name)
    return int(found.group(1)) if found else None


class _Names:
    def __init__(self, analysis: Analysis) -> None:
        self.analysis = analysis
        self.exact = {layer.name.lower(): layer.name for layer in analysis.layers}
        self.loose = {_words(layer.name): layer.name for layer in analysis.layers}

    def find(self, written: str) -> str | None:
        text = written.strip()
        first = text.split()[0].lower() if text else ""
        for key in (text.lower(), first):
            if key in self.exact:
                return self.exact[key]
        words = _words(text)
        if _INPUT_WORDS.match(words):
            return INPUT_NAME
        if _TOTAL_WORDS.match(words):
            return TOTAL
        if _OUTPUT_WORDS.match(words):
            return self.analysis.layers[-1].name
        if words in self.loose:
            return self.loose[words]
        return self._by_role(words) or self._by_kind(text)

    @staticmethod
    def looks_named(written: str) -> bool:
        """Whether a row names a layer in a way archcalc reads ('conv9'), so that a miss is an error."""
        words = _words(written)
        return any(pattern.match(words) and re.search(r"\d", words) for pattern, _ in _ROLE_WORDS)

    def _by_role(self, words: str) -> str | None:
        for pattern, role in _ROLE_WORDS:
            found = pattern.match(words)
            if found:
                layers = [layer.name for layer in self.analysis.layers if layer.definition.role is role]
                return _nth(layers, found.group(found.lastindex or 0))
        return None

    def _by_kind(self, text: str) -> str | None:
        """'输出层(Softmax)', 'Flatten', 'dropout_2': a kind's name, counted among layers of that kind."""
        for part in [*re.findall(r"[(（]([^)）]*)[)）]", text), text]:
            words = _words(part)
            found = re.match(r"^([a-z][a-z0-9]*?)(\d*)$", words)
            if found:
                layers = [layer.name for layer in self.analysis.layers if layer.kind == found.group(1)]
                if layers:
                    return _nth(layers, found.group(2))
        return None


def _some_names(analysis: Analysis, shown: int = 12) -> str:
    names = [layer.name for layer in analysis.layers]
    return ", ".join(names[:shown]) + (f", … ({len(names)} in all)" if len(names) > shown else "")


def _nth(names: list[str], number: str) -> str | None:
    """The layer numbered `number`: the one whose own name ends in it, else the number-th."""
    if not names:
        return None
    if not number:
        return names[0]
    wanted = int(number)
    suffixed = [n for n in names if _trailing_number(n) == wanted]
    if len(suffixed) == 1:
        return suffixed[0]
    return names[wanted - 1] if 1 <= wanted <= len(names) else None


def _significant(analysis: Analysis) -> list[str]:
    """Layers a hand-made table lists: those with parameters or that change the shape."""
    return [
        layer.name
        for layer in analysis.layers
        if layer.params or tuple(layer.output_shape) != tuple(layer.input_shapes[0])
    ]


_NUMBERED = re.compile(r"^([A-Za-z][A-Za-z0-9]*)-(\d+)$")  # torchsummary's "Conv2d-1", "ReLU-2", ...
_TREE = re.compile(r"^[│├└─|\s]*([A-Za-z]\w*)(?:: (\d+)-(\d+))?$")  # torchinfo's "│    └─Conv2d: 2-1"


def _module_word(name: str) -> str:
    """A module's class name as archcalc's kind names are written: 'MaxPool2d' → 'maxpool'."""
    return re.sub(r"[123]d$", "", name.lower())


def _modules(names: list[str]) -> list[str] | None:
    """The module class of each row of a torchsummary or torchinfo summary; None for other tables."""
    numbered = [_NUMBERED.match(name) for name in names]
    if all(numbered) and [int(m.group(2)) for m in numbered if m] == list(range(1, len(names) + 1)):
        return [m.group(1) for m in numbered if m]
    tree = [_TREE.match(name) for name in names]
    if all(tree) and any("─" in name for name in names) and sum(bool(m and m.group(2)) for m in tree) >= len(names) - 1:
        return [m.group(1) for m in tree if m]
    return None


def _in_sequence(table: LearnerTable, analysis: Analysis, index: int | None) -> list[RowMatch] | None:
    """Rows named by module class (a torchsummary or torchinfo summary): each row is the next layer
    of that kind (or role) in the spec, so layers a summary leaves out (flatten) are skipped, and so
    are its containers (Sequential, the model itself), which are no layer of any kind here."""
    modules = _modules([row.cells[index].strip() for row in table.rows]) if index is not None else None
    if modules is None or index is None:
        return None
    matches, position = [], 0
    for row, module in zip(table.rows, modules, strict=True):
        word = _module_word(module)
        role = next((r for pattern, r in _ROLE_WORDS if pattern.match(word)), None)
        fits = [
            i
            for i, layer in enumerate(analysis.layers)
            if _words(layer.kind) == word or (role and layer.definition.role is role)
        ]
        if not fits:
            continue  # a container
        at = next((i for i in fits if i >= position), None)
        if at is None:
            raise TableError(
                f"no {module} layer of {analysis.name} is left for this row, in order",
                path=table.path, line=row.line, cell=row.cells[index],
            )  # fmt: skip
        matches.append(RowMatch(row, row.cells[index], analysis.layers[at].name, MatchedBy.SEQUENCE))
        position = at + 1
    return matches


def match_rows(table: LearnerTable, analysis: Analysis) -> list[RowMatch]:
    """Each row's layer: by name; if no row names a layer, by order of the significant layers."""
    index = table.index(Column.LAYER)
    totals = [row for row in table.rows if index is not None and _TOTAL_WORDS.match(_words(row.cells[index]))]
    numbered = _in_sequence(replace(table, rows=tuple(r for r in table.rows if r not in totals)), analysis, index)
    if numbered is not None:
        return numbered + [RowMatch(row, row.cells[index], TOTAL, MatchedBy.NAME) for row in totals]
    names = _Names(analysis)
    found = [(row, names.find(row.cells[index]) if index is not None else None) for row in table.rows]
    if any(layer is not None for _, layer in found):
        for row, layer in found:
            if layer is None:
                known = _some_names(analysis)
                raise TableError(
                    f"matches no layer of {analysis.name} (its layers: input, {known})",
                    path=table.path, line=row.line, cell=row.cells[index] if index is not None else "",
                )  # fmt: skip
        return [
            RowMatch(row, row.cells[index] if index is not None else "", layer, MatchedBy.NAME)
            for row, layer in found
            if layer is not None
        ]
    named = next((row for row, _ in found if index is not None and names.looks_named(row.cells[index])), None)
    if named is not None and index is not None:
        raise TableError(
            f"matches no layer of {analysis.name} (its layers: input, {_some_names(analysis)})",
            path=table.path, line=named.line, cell=named.cells[index],
        )  # fmt: skip
    return _by_order(table, analysis, index)


def _by_order(table: LearnerTable, analysis: Analysis, index: int | None) -> list[RowMatch]:
    layers = _significant(analysis)
    if len(table.rows) > len(layers):
        row = table.rows[len(layers)]
        raise TableError(
            f"no row names a layer of {analysis.name}, and the table has {len(table.rows)} rows for its "
            f"{len(layers)} layers with parameters or a change of shape ({', '.join(layers)}): rows cannot be "
            "matched by order either",
            path=table.path, line=row.line, cell=row.cells[index] if index is not None else None,
        )  # fmt: skip
    return [
        RowMatch(row, row.cells[index] if index is not None else "", layer, MatchedBy.ORDER)
        for row, layer in zip(table.rows, layers, strict=False)
    ]


# --- cells ---------------------------------------------------------------------------------------

_READERS: dict[Column, Callable[[str], Written | str]] = {
    Column.INPUT: read_shape,
    Column.OUTPUT: read_shape,
    Column.KERNEL: read_pair,
    Column.STRIDE: read_pair,
    Column.PADDING: read_pair,
    Column.PARAMS: read_number,
    Column.MACS: read_number,
    Column.FLOPS: read_number,
    Column.ARITHMETIC: read_number,
}


def agrees(written: Written, right: Value, column: Column) -> bool:
    """Whether the learner's value is `right` (a shape in either order its notation allows)."""
    value = written.value
    if isinstance(right, int) or isinstance(value, int):
        return isinstance(value, int) and isinstance(right, int) and value == right
    if not isinstance(value, tuple) or not isinstance(right, tuple):
        return False
    if column in (Column.INPUT, Column.OUTPUT):
        return value in _shape_readings(right, written)
    return value in _pair_readings(right, column)


def _pair_readings(right: tuple[int, ...], column: Column) -> set[tuple[int, ...]]:
    """A kernel, stride or padding as it may be written: ``3``, ``3×3``, ``5×5×48`` (the depth
    each kernel spans), a padding as one number, [h, w] or its four sides."""
    if column is Column.PADDING:
        top, bottom, left, right_side = right
        readings = {tuple(right)}
        if top == bottom and left == right_side:
            readings.add((top, left))
            if top == left:
                readings.add((top,))
        return readings
    height, width = right[:2]
    readings = {(height, width), tuple(right)}
    if height == width:
        readings.add((height,))
    return readings


def _shape_readings(right: tuple[int, ...], written: Written) -> set[tuple[int, ...]]:
    if len(right) == 1:
        value = written.value
        flat = isinstance(value, tuple) and len(value) > 1 and math.prod(value) == right[0]
        return {right, value} if flat and not written.keras else {right}
    if len(right) != 3:
        return {right}
    c, h, w = right
    if written.order is Order.HWC:
        return {(h, w, c)}
    return {(c, h, w), (h, w, c), (h, w)}


def written_as(right: Value, written: Written, column: Column) -> str:
    """The right value in the learner's notation."""
    if isinstance(right, int):
        return f"{right:,}"
    if column in (Column.INPUT, Column.OUTPUT) and len(right) == 3:
        c, h, w = right
        value = written.value
        channels_first = isinstance(value, tuple) and len(value) == 3 and value[0] == c and value[-1] != c
        if written.keras:
            return f"(None, {h}, {w}, {c})"
        if written.separator == ", ":
            return f"[{c}, {h}, {w}]"
        return written.separator.join(map(str, (c, h, w) if channels_first else (h, w, c)))
    if written.keras and column in (Column.INPUT, Column.OUTPUT):
        return "(None, " + ", ".join(map(str, right)) + ")"
    separator = written.separator if written.separator != ", " else "×"
    if column is Column.PADDING:
        top, bottom, left, right_side = right
        if top == bottom == left == right_side:
            return str(top)
        return separator.join(map(str, (top, left) if top == bottom and left == right_side else right))
    if column is Column.STRIDE:
        return str(right[0]) if right[0] == right[1] else separator.join(map(str, right))
    value = written.value
    parts = right if isinstance(value, tuple) and len(value) >= 3 else right[:2]
    return separator.join(map(str, parts))


def as_chw(written: Written, right: tuple[int, ...]) -> tuple[int, ...] | None:
    """The learner's shape in [C, H, W] order, read as their notation (and the right one) suggests."""
    dims = written.value
    if not isinstance(dims, tuple) or len(right) != 3 or len(dims) not in (2, 3):
        return dims if isinstance(dims, tuple) and len(dims) == 1 else None
    if len(dims) == 2:
        return (right[0], *dims)
    channels_first = written.order is not Order.HWC and (
        (dims[0] == right[0] and dims[2] != right[0]) or (written.separator == ", " and dims[2] != right[0])
    )
    return dims if channels_first else (dims[2], dims[0], dims[1])


class _Grader:
    def __init__(self, analysis: Analysis, table: LearnerTable, matches: list[RowMatch]) -> None:
        self.analysis = analysis
        self.cache: dict[str, Analysis | None] = {}
        self.order = [layer.name for layer in analysis.layers]
        self.carried = {m.row.line: self._carried(table, matches, i) for i, m in enumerate(matches)}

    def _own_shape(self, table: LearnerTable, match: RowMatch, column: Column) -> tuple[int, ...] | None:
        """The learner's own (wrong) shape in a row's INPUT or OUTPUT cell, as [C, H, W]; None if right."""
        index = table.index(column)
        if index is None or match.layer == INPUT_NAME and column is Column.INPUT:
            return None
        written = read_shape(match.row.cells[index]) if match.row.cells[index].strip() else None
        right = expected(self.analysis, match.layer, column)
        if right is None or not isinstance(written, Written) or written.value is None or agrees(written, right, column):
            return None
        return as_chw(written, right)

    def _carried(self, table: LearnerTable, matches: list[RowMatch], i: int) -> dict[Column, Carried | None]:
        """What each cell of row `i` may have been worked from: the row's own input size (for its
        output and counts), else the previous row's output size."""
        match = matches[i]
        here = self.order.index(match.layer) if match.layer in self.order else -1
        previous = None
        if i > 0 and matches[i - 1].layer != match.layer:
            before = matches[i - 1]
            start = self.order.index(before.layer) + 1 if before.layer in self.order else 0
            shape = self._own_shape(table, before, Column.OUTPUT)
            if shape is not None and start <= here:
                column = table.index(Column.OUTPUT)
                previous = Carried(start, shape, f"{before.name}, {table.header[column]}", before.row.cells[column])
        own = self._own_shape(table, match, Column.INPUT)
        column = table.index(Column.INPUT)
        stated = None
        if own is not None and column is not None and here >= 0:
            stated = Carried(here, own, f"{match.name}, {table.header[column]}", match.row.cells[column])
        return {each: (previous if each is Column.INPUT else stated or previous) for each in Column}

    def cell(self, table: LearnerTable, match: RowMatch, index: int) -> CellGrade | None:
        column = table.columns[index]
        text = match.row.cells[index].strip()
        if column is None or column is Column.LAYER or not text:
            return None
        right = expected(self.analysis, match.layer, column)
        base = dict(line=match.row.line, row=match.name, layer=match.layer, column=column, given=text)
        written = _READERS[column](text)
        if isinstance(written, str):
            return CellGrade(**base, status=Status.UNGRADED, expected="", notes=(Note("unreadable", {"why": written}),))
        if written.value is None:
            return None
        if right is None:
            return CellGrade(**base, status=Status.UNGRADED, expected="", notes=(Note("nothing_to_grade"),))
        if column is Column.ARITHMETIC:
            return self._arithmetic(base, written, right, match.layer)
        shown = written_as(right, written, column)
        if isinstance(written.value, Rounded):
            return self._rounded(base, written.value, right, shown)
        notes = self._working(written, right)
        if agrees(written, right, column):
            return CellGrade(**base, status=Status.RIGHT, expected=shown, notes=notes)
        causes = self.diagnose(written, match.layer, column, self.carried[match.row.line][column])
        if match.layer == TOTAL:
            notes += self._sum_of_rows(table, match, index, written)
        return CellGrade(**base, status=Status.WRONG, expected=shown, causes=causes, notes=notes)

    @staticmethod
    def _sum_of_rows(table: LearnerTable, total: RowMatch, index: int, written: Written) -> tuple[Note, ...]:
        """A wrong total that adds up the table's own numbers: the error is in the rows above."""
        values = [read_number(row.cells[index]) for row in table.rows if row is not total.row]
        own = sum(v.value for v in values if isinstance(v, Written) and isinstance(v.value, int))
        return (Note("sum_of_rows", {"sum": f"{own:,}"}),) if own == written.value else ()

    def _rounded(self, base: dict[str, Any], value: Rounded, right: Value, shown: str) -> CellGrade:
        if not isinstance(right, int):
            return CellGrade(
                **base, status=Status.UNGRADED, expected=shown, notes=(Note("unreadable", {"why": value.text}),)
            )
        status = Status.UNGRADED if value.rounds(right) else Status.WRONG
        key = "rounded" if status is Status.UNGRADED else "rounded_wrong"
        return CellGrade(**base, status=status, expected=shown, notes=(Note(key, {"exact": shown}),))

    @staticmethod
    def _working(written: Written, right: Value) -> tuple[Note, ...]:
        """A note when the learner's own arithmetic before '=' does not give their result."""
        if written.expression is None or not isinstance(written.value, int):
            return ()
        worked = evaluate(written.expression)
        if worked is None or worked == written.value:
            return ()
        key = "working_right" if worked == right else "working_differs"
        return (Note(key, {"expression": written.expression, "value": _fraction_text(worked)}),)

    def _arithmetic(self, base: dict[str, Any], written: Written, right: int, layer: str) -> CellGrade:
        """An output-size formula ``(n − k + 2p)/s + 1 = o``: its input n, its arithmetic, its result o."""
        result = self.analysis[layer]
        notes: list[Note] = []
        causes: list[Cause] = []
        if isinstance(written.value, Rounded):  # (224 − 11)/4 + 1 = 54.25
            notes.append(Note("formula_fraction", {"given": written.value.text, "right": right}))
            return CellGrade(**base, status=Status.WRONG, expected=result.formula, notes=tuple(notes))
        if written.expression is not None:
            n, size = first_number(written.expression), result.input_shapes[0][1]
            if n is not None and n != size:
                notes.append(Note("formula_input", {"given": n, "right": size}))
                causes += _digit_causes(n, size)
            worked = evaluate(written.expression)
            if worked is not None and worked != written.value:
                notes.append(
                    Note(
                        "formula_value",
                        {"expression": written.expression, "value": _fraction_text(worked), "given": written.value},
                    )
                )
        if written.value != right:
            notes.append(Note("formula_result", {"given": written.value, "right": right}))
            causes += self.diagnose(written, layer, Column.ARITHMETIC)
        status = Status.WRONG if notes else Status.RIGHT
        return CellGrade(**base, status=status, expected=result.formula, causes=tuple(causes), notes=tuple(notes))

    def diagnose(
        self, written: Written, layer: str, column: Column, carried: Carried | None = None
    ) -> tuple[Cause, ...]:
        """The mistakes that reproduce the learner's value exactly: those made at the cell's own layer
        (or the whole network) first; a mistake only at an earlier layer when none is."""
        probe = Probe(self.analysis.spec, self.analysis, layer, column, self.cache, carried)
        local: list[Cause] = []
        upstream: list[Cause] = []
        for mistake in MISTAKES:
            if column not in mistake.columns:
                continue
            hit = next((c for c in mistake.recompute(probe) if agrees(written, c.value, column)), None)
            if hit is not None:
                cause = Cause(mistake, hit.where if hit.where != layer else None, hit.detail)
                (upstream if cause.where is not None and hit.detail is None else local).append(cause)
        causes = local or upstream
        # Any number near the right one is some digit slip: name one only when nothing else explains it.
        substantive = [c for c in causes if c.mistake.id not in DIGIT_MISTAKES]
        return tuple(substantive or causes)


def _digit_causes(given: int, right: int) -> list[Cause]:
    causes = []
    for id in DIGIT_MISTAKES:
        mistake = by_id(id)
        hit = next((c for c in _digit_values(right, mistake) if c.value == given), None)
        if hit is not None:
            causes.append(Cause(mistake, None, hit.detail))
    return causes


def _digit_values(right: int, mistake: Mistake) -> list[Candidate]:
    return list(digit_candidates(right, DIGIT_MUTATIONS[mistake.id]))


def _fraction_text(value: Any) -> str:
    if value.denominator == 1:
        return f"{value.numerator:,}"
    return f"{float(value):,.4g}"
