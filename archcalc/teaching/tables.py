"""Reading a learner's hand-made layer table: CSV, a pipe (Markdown) table or whitespace columns
(a Keras summary, a blog table), English or Chinese headers, any subset of the gradable columns.

Cells stay text here; ``values`` reads the numbers and shapes in them.
"""

from __future__ import annotations

import csv
import enum
import re
import sys
from dataclasses import dataclass
from pathlib import Path

from ..errors import TableError
from ..i18n import char_width, display_width


class Column(enum.StrEnum):
    """What a column of a learner's table holds."""

    LAYER = "layer"
    INPUT = "input size"
    OUTPUT = "output size"
    KERNEL = "kernel"
    STRIDE = "stride"
    PADDING = "padding"
    PARAMS = "params"
    MACS = "MACs"
    FLOPS = "FLOPs"
    ARITHMETIC = "arithmetic"


# Header words, normalised (see `_key`): lower case, without spaces, brackets, '#', '_', '-', ':'.
SYNONYMS: dict[Column, tuple[str, ...]] = {
    Column.LAYER: (
        "layer", "layertype", "layertypedepthidx", "layers", "name", "layername", "type", "stage", "层", "层名", "层名称", "层名type",
        "网络层", "名称", "层类型", "阶段", "结构",
    ),
    Column.INPUT: ("input", "inputsize", "inputshape", "in", "输入", "输入大小", "输入尺寸", "输入形状", "输入维度"),
    Column.OUTPUT: (
        "output", "outputsize", "outputshape", "shape", "out", "featuremap", "featuremaps", "输出", "输出大小",
        "输出尺寸", "输出形状", "输出维度", "特征图", "特征图大小", "特征图尺寸",
    ),
    Column.KERNEL: (
        "kernel", "kernelsize", "filter", "filtersize", "ksize", "卷积核", "卷积核大小", "卷积核尺寸", "核大小",
        "池化核", "核尺寸", "窗口",
    ),
    Column.STRIDE: ("stride", "strides", "步长", "步幅"),
    Column.PADDING: ("padding", "pad", "填充", "补零", "填充大小"),
    Column.PARAMS: (
        "params", "param", "parameters", "paramcount", "numparams", "weights", "参数", "参数量", "参数个数",
        "参数数量", "训练参数", "可训练参数", "权重", "权重数",
    ),
    Column.MACS: (
        "macs", "mac", "multadds", "madds", "multiplyadds", "乘加", "乘加次数", "乘加运算", "乘加数", "计算量",
    ),
    Column.FLOPS: ("flops", "flop", "浮点运算", "浮点运算量", "浮点运算次数", "浮点计算量"),
    Column.ARITHMETIC: (
        "arithmetic", "formula", "calculation", "computation", "working", "计算过程", "公式", "计算", "计算公式",
        "推导", "算式",
    ),
}  # fmt: skip

_BY_KEY = {word: column for column, words in SYNONYMS.items() for word in words}
_LONGEST_FIRST = sorted(_BY_KEY, key=len, reverse=True)


class Layout(enum.StrEnum):
    """How the table's cells are separated."""

    CSV = "csv"
    PIPES = "markdown"
    COLUMNS = "text"


@dataclass(frozen=True, slots=True)
class Row:
    line: int  # 1-based line in the table's file
    cells: tuple[str, ...]  # one per header column, "" where the row has none


@dataclass(frozen=True, slots=True)
class LearnerTable:
    path: str
    layout: Layout
    header_line: int
    header: tuple[str, ...]
    columns: tuple[Column | None, ...]  # what each header cell is; None: a column archcalc does not grade
    rows: tuple[Row, ...]

    def index(self, column: Column) -> int | None:
        return self.columns.index(column) if column in self.columns else None

    @property
    def graded(self) -> list[Column]:
        return [c for c in self.columns if c is not None and c is not Column.LAYER]

    @property
    def ignored(self) -> list[str]:
        return [h for h, c in zip(self.header, self.columns, strict=True) if c is None and h]


def _key(text: str) -> str:
    return re.sub(r"[\s()\[\]（）#_\-:：.*/]+", "", text.lower())


def column_of(header: str) -> Column | None:
    return _BY_KEY.get(_key(header))


_RULE = re.compile(r"^[\s_=\-─━┄┈+|:]*$")  # --- rows, Keras's ____ and ==== lines
_FOOTER = re.compile(r"^\s*[A-Za-z][\w\- ()/]*:\s")  # "Total params: 58,323,722"
# A Keras shape, a bracketed list, a parenthesised list of numbers, or any run of non-spaces.
_TOKEN = re.compile(r"\(\s*None\s*(?:,\s*-?\d+\s*)*,?\s*\)|\[[^\]]*\]|\([\d\s,]*\)|\S+")


def _split_pipes(line: str) -> list[str]:
    cells = [c.strip() for c in line.strip().split("|")]
    if cells and cells[0] == "" and line.strip().startswith("|"):
        cells = cells[1:]
    if cells and cells[-1] == "":
        cells = cells[:-1]
    return cells


def _spans(line: str) -> list[tuple[int, int, str]]:
    """The runs of text separated by two or more spaces, with their display columns [start, end)."""
    spans, column, start, text, gap = [], 0, None, "", 0
    for char in line:
        if char == " ":
            gap += 1
        elif start is None or gap >= 2:
            if start is not None:
                spans.append((start, start + display_width(text), text))
            start, text, gap = column, char, 0
        else:
            text, gap = text + " " * gap + char, 0
        column += char_width(char)
    if start is not None:
        spans.append((start, start + display_width(text), text))
    return spans


def _placed(line: str, columns: list[tuple[int, int, str]]) -> list[str]:
    """A row of an aligned table with empty cells: each cell goes under the header it overlaps most
    (numbers are often right-aligned, text left-aligned), else under the nearest one."""
    cells = [""] * len(columns)
    for start, end, text in _spans(line):
        overlap = [min(end, h_end) - max(start, h_start) for h_start, h_end, _ in columns]
        best = max(range(len(columns)), key=lambda i: (overlap[i], -i))
        cells[best] = f"{cells[best]} {text}".strip()
    return cells


def _split_columns(line: str, width: int | None = None, header: str | None = None) -> list[str]:
    """Cells of a whitespace table row: two or more spaces (or a tab) separate cells, and a row
    with fewer cells than an aligned header is placed under it; a line with single spaces only (a
    summary pasted without its alignment) is split into tokens that keep a shape such as
    ``(None, 55, 55, 96)`` whole, extra leading tokens joining the first cell."""
    cells = [c for c in re.split(r"\t|\s{2,}", line.strip()) if c]
    if width is None or len(cells) == width:
        return cells
    aligned = _spans(header) if header is not None and "\t" not in header + line else []
    if 1 < len(cells) < width and len(aligned) == width:
        return _placed(line, aligned)
    tokens = _TOKEN.findall(line)
    if width and len(tokens) > width:
        extra = len(tokens) - width + 1
        tokens = [" ".join(tokens[:extra]), *tokens[extra:]]
    return tokens


def _header_words(line: str) -> list[str] | None:
    """A single-spaced header ("Layer (type) Output Shape Param #") cut into known column names."""
    words = line.split()
    cells: list[str] = []
    i = 0
    while i < len(words):
        for j in range(len(words), i, -1):
            if column_of(" ".join(words[i:j])) is not None:
                cells.append(" ".join(words[i:j]))
                i = j
                break
        else:
            return None
    return cells


def _layout_of(line: str, path: str) -> Layout:
    if "|" in line:
        return Layout.PIPES
    if path.lower().endswith(".csv") or ("," in line and "\t" not in line):
        return Layout.CSV
    return Layout.COLUMNS


def _header_cells(line: str, layout: Layout) -> list[str]:
    if layout is Layout.PIPES:
        return _split_pipes(line)
    if layout is Layout.CSV:
        return next(csv.reader([line]), [])
    cells = _split_columns(line)
    if len(cells) == 1 or not all(column_of(c) for c in cells):
        return _header_words(line) or cells
    return cells


def _is_header(cells: list[str]) -> bool:
    known = [column_of(c) for c in cells]
    return any(c is not None and c is not Column.LAYER for c in known)


def _row_cells(line: str, layout: Layout, width: int, header: str) -> list[str] | None:
    if _RULE.match(line):
        return None
    if layout is Layout.PIPES:
        return _split_pipes(line) if "|" in line else None
    if layout is Layout.CSV:
        return [c.strip() for c in next(csv.reader([line]), [])]
    if _FOOTER.match(line):
        return None
    return _split_columns(line, width, header)


def read_table(text: str, path: str = "<table>") -> LearnerTable:
    """The table in `text`: its header is the first line that names a gradable column."""
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if not line.strip() or _RULE.match(line):
            continue
        layout = _layout_of(line, path)
        header = [h.strip() for h in _header_cells(line, layout)]
        if _is_header(header):
            return _table(lines, number, header, layout, path)
    known = "; ".join(f"{c.value} ({', '.join(_examples(words))})" for c, words in SYNONYMS.items())
    raise TableError(f"no line names a column archcalc grades (known columns: {known})", path=path)


_TOTAL_PARAMS = re.compile(r"^\s*Total params:\s*(\S.*?)\s*$", re.I)


def _total_cells(line: str, header: list[str]) -> list[str] | None:
    """A summary's ``Total params: 58,323,722`` footer as a totals row (where the table has those columns)."""
    found = _TOTAL_PARAMS.match(line)
    columns = [column_of(h) for h in header]
    if not found or Column.LAYER not in columns or Column.PARAMS not in columns:
        return None
    cells = [""] * len(header)
    cells[columns.index(Column.LAYER)] = "Total params"
    cells[columns.index(Column.PARAMS)] = found.group(1)
    return cells


def _examples(words: tuple[str, ...]) -> list[str]:
    """Two English header words and the first Chinese one."""
    return [*[w for w in words if w.isascii()][:2], *[w for w in words if not w.isascii()][:1]]


def _table(lines: list[str], header_line: int, header: list[str], layout: Layout, path: str) -> LearnerTable:
    width = len(header)
    rows = []
    for number in range(header_line + 1, len(lines) + 1):
        line = lines[number - 1]
        if not line.strip():
            continue
        if layout is Layout.COLUMNS and line.rstrip().endswith((":", "：")):
            break  # a section after the table ("Warnings (4):")
        cells = _total_cells(line, header) if layout is Layout.COLUMNS else None
        cells = cells or _row_cells(line, layout, width, lines[header_line - 1])
        if cells is None or not any(cells):
            continue
        cells = (cells + [""] * width)[:width]
        rows.append(Row(number, tuple(cells)))
    if not rows:
        raise TableError("the table has a header but no rows", path=path, line=header_line)
    columns = tuple(column_of(h) for h in header)
    return LearnerTable(path, layout, header_line, tuple(header), columns, tuple(rows))


def load_table(source: str | Path) -> LearnerTable:
    """A table from a file path, ``-`` (standard input), or its text (anything holding a newline)."""
    if isinstance(source, str) and "\n" in source:
        return read_table(source)
    path = "<stdin>" if source == "-" else str(source)
    try:
        data = sys.stdin.buffer.read() if source == "-" else Path(path).read_bytes()
    except OSError as error:
        raise TableError(f"cannot read the table: {error.strerror or error}", path=path) from None
    return read_table(_decode(data, path), path)


def _decode(data: bytes, path: str) -> str:
    """UTF-8 (with or without a BOM), else GB18030, as Chinese Windows editors save."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        try:
            return data.decode("gb18030")
        except UnicodeDecodeError:
            raise TableError(f"neither UTF-8 nor GB18030 text (byte {error.start})", path=path) from None
