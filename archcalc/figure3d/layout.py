"""Placing the columns at the printed size: ranks left to right, parallel branches in lanes, labels
in one row under their blocks, skip connections over the top.

Coordinates are points at the stated print width. Text, line and kernel sizes are fixed in points
(``primitives``); only the geometry of the blocks scales (``g``). ``build_figure`` searches the
largest ``g`` at which the figure fits the width, collapsing repeat blocks, then branch regions,
then stage modules when the whole network cannot fit at the smallest ``g``, and raises ``FigureFitError`` (saying
what to change) when nothing fits. The search is a bisection with a fixed number of steps, so it
always ends.
"""

from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, replace

from ..engine import Analysis
from ..errors import FigureFitError
from ..i18n import Lang, Message, say
from ..palette import Role
from .columns import Collapse, Column, columns_of, dims_text
from .draw import _connect, _cuboid, _merge_mark, _Placed
from .export import MARGIN
from .legend import _legend
from .options import LabelSet, Mapping, Options, Scale, describe_scales
from .primitives import (
    CONNECTION_WIDTH,
    DEPTH_DX,
    DEPTH_DY,
    FONT,
    LINE_HEIGHT,
    SMALL_FONT,
    Box,
    Figure,
    Label,
    Segment,
    text_width,
)  # fmt: skip

G_MIN, G_MAX = 0.35, 2.5  # the range of the geometric scale searched
SEARCH_STEPS = 6
BLOCK_GAP = 16.0  # pt between neighbouring blocks at g = 1, room for kernel pyramids and arrows
LABEL_PAD = 2.5  # pt between neighbouring labels
CHANNEL_PAD = 8.0  # pt free on either side of a vertical connector between ranks
SKIP_LEVEL = 5.0  # pt between stacked skip arcs
LABEL_GAP = FONT * 1.15  # from the lowest block of a lane to the first baseline of its labels, plus the ascent


MAX_PERMUTED = 6  # routes in one band whose order is searched exhaustively (6! orders)
MAX_ROWS = 6  # a longer network is collapsed (or refused), not folded further
MAX_HEIGHT = 23 * 72 / 2.54  # pt: a printed page's text height


def _plans(expand: bool) -> list[tuple[Collapse, int]]:
    """(collapse, rows) in the order tried: every block, repeat blocks, branch regions or stage
    modules collapsed in one or two rows, then in more rows; whole named stages last."""
    if expand:
        return [(Collapse.NONE, rows) for rows in range(1, MAX_ROWS + 1)]
    levels = [Collapse.NONE, Collapse.REPEATS, Collapse.BRANCHES, Collapse.MODULES]
    plans = [(level, rows) for rows in (1, 2) for level in levels]
    plans += [(level, rows) for rows in range(3, MAX_ROWS + 1) for level in levels]
    return plans + [(Collapse.STAGES, rows) for rows in range(1, MAX_ROWS + 1)]


def build_figure(analysis: Analysis, options: Options | None = None) -> Figure:
    """The figure at ``options.width``: the largest blocks that fit, or FigureFitError."""
    options = options or Options()
    target = options.width.points
    narrowest = None
    cache: dict[Collapse, list[Column]] = {}
    for level, rows in _plans(options.expand):
        if level not in cache:
            cache[level] = columns_of(analysis, level, options.lang)
            if level > Collapse.NONE and any(_same(cache[level], cache[other]) for other in cache if other != level):
                cache[level] = []  # nothing more to collapse: the same layout was tried already
        columns = cache[level]
        if not columns:
            continue
        if rows == 1 and (drawn_u := _u_figure(analysis, columns, options)) is not None:
            return drawn_u
        # Measure (place the blocks only) to find the largest g that fits; then draw it, and
        # step g down where the drawing overhangs what was measured.
        fits, strip = _measure(analysis, columns, options, G_MIN, rows)
        if rows == 1:
            narrowest = strip if narrowest is None else min(narrowest, strip)
        if not fits:
            continue
        low = _largest_g(analysis, columns, options, rows)
        if level > Collapse.NONE:
            columns, low = _roomier(analysis, options, rows, level, columns, low)
        previous = None
        for g in (low, low * 0.96, low * 0.9, low * 0.8, G_MIN):
            drawn = _attempt(analysis, columns, options, max(g, G_MIN), rows)
            if drawn.fits(target, rows):
                return _finish(drawn.figure, options, drawn.spatial, drawn.channel, columns)
            if drawn.tall(target):
                continue  # smaller blocks make a shorter figure
            if previous is not None and drawn.width_needed() > previous - 0.5:
                break  # what overhangs does not shrink with the blocks
            previous = drawn.width_needed()
    assert narrowest is not None
    cm = narrowest / 72 * 2.54 + 0.05
    hint = "" if options.expand else " (with repeat blocks, branch regions or named stages collapsed)"
    raise FigureFitError(
        f"{analysis.name}: at {options.width.text} wide, in up to {MAX_ROWS} rows and 23cm tall{hint}, the figure cannot keep "
        f"text ≥ 7 pt, lines ≥ 0.5 pt and kernels ≥ 2 mm; give a wider --width (one row needs {cm:.1f}cm), "
        "or fewer labels (--labels names,dims)" + ("" if not options.expand else ", or drop --expand"),
        one_row_cm=cm,
    )


ROOMIER = 1.25  # a further collapse in as many rows is taken where its blocks are this much larger


def _largest_g(analysis: Analysis, columns: list[Column], options: Options, rows: int) -> float:
    """The largest g at which the measured blocks fit in `rows` rows (bisected; they fit at G_MIN)."""
    low, high = G_MIN, G_MAX
    if _measure(analysis, columns, options, G_MAX, rows)[0]:
        return G_MAX
    for _ in range(SEARCH_STEPS):
        middle = (low + high) / 2
        low, high = (middle, high) if _measure(analysis, columns, options, middle, rows)[0] else (low, middle)
    return low


def _roomier(
    analysis: Analysis, options: Options, rows: int, level: Collapse, columns: list[Column], g: float
) -> tuple[list[Column], float]:
    """A collapsed layout, or a further collapse of it in as many rows where that draws blocks
    ROOMIER times larger (DenseNet's transitions as one module each: 12 blocks, not 15, in 2 rows)."""
    for further in (c for c in Collapse if level < c <= Collapse.MODULES):
        candidate = columns_of(analysis, further, options.lang)
        if _same(candidate, columns) or not _measure(analysis, candidate, options, G_MIN, rows)[0]:
            continue
        larger = _largest_g(analysis, candidate, options, rows)
        if larger >= g * ROOMIER:
            columns, g = candidate, larger
    return columns, g


@dataclass
class _Attempt:
    figure: Figure
    spatial: Mapping
    channel: Mapping

    rows: int
    strip_width: float  # the width it would need in one row

    def fits(self, target: float, rows: int) -> bool:
        """Within the width, the rows and a page's height (a taller figure collapses more instead)."""
        return self.rows <= rows and self.width_needed() <= target + 1e-6 and not self.tall(target)

    def tall(self, target: float) -> bool:
        """Folded taller than a page (a figure in one row is as tall as its blocks and labels)."""
        bounds = self.figure.bounds()
        return self.rows > 1 and (bounds.y1 - bounds.y0) * target / max(self.width_needed(), 1.0) > MAX_HEIGHT

    def width_needed(self) -> float:
        bounds = self.figure.bounds()
        return bounds.x1 - bounds.x0 + 2 * MARGIN


def _same(a: list[Column], b: list[Column]) -> bool:
    return [(c.name, c.sources) for c in a] == [(c.name, c.sources) for c in b]


def _measure(analysis: Analysis, columns: list[Column], options: Options, g: float, rows: int) -> tuple[bool, float]:
    """Does the network fit in `rows` rows at scale g (from placing the blocks, nothing drawn)? And
    the width it would need in one row."""
    spatial, channel = options.spatial_map().scaled(g), options.channel_map().scaled(g)
    layout = _Layout(analysis, columns, options, spatial, channel, g, options.width.points - 2 * MARGIN, rows)
    layout.place_x()
    return layout.row_count <= rows and layout.measured_width() <= options.width.points, layout.strip_width


def _attempt(analysis: Analysis, columns: list[Column], options: Options, g: float, rows: int) -> _Attempt:
    spatial, channel = options.spatial_map().scaled(g), options.channel_map().scaled(g)
    layout = _Layout(analysis, columns, options, spatial, channel, g, options.width.points - 2 * MARGIN, rows)
    figure = layout.build()
    if options.legend:
        _legend(figure, options, columns)
    return _Attempt(figure, spatial, channel, layout.row_count, layout.strip_width)


def _finish(figure: Figure, options: Options, spatial: Mapping, channel: Mapping, columns: list[Column]) -> Figure:
    figure.print_width = options.width
    figure.lang = options.lang
    figure.description = describe_scales(spatial, channel, options.lang)
    figure.description = ("" if options.lang is Lang.ZH else " ").join([figure.description, *figure.notes])
    return _mirrored(figure) if options.right_to_left else figure


def _mirrored(figure: Figure) -> Figure:
    """The figure running right to left: geometry mirrored (depth then recedes up and to the left),
    text kept readable with its anchor swapped."""
    bounds = figure.bounds()
    axis = bounds.x0 + bounds.x1

    def box(b: Box) -> Box:
        return Box(axis - b.x1, b.y0, axis - b.x0, b.y1)

    swap = {"start": "end", "end": "start", "middle": "middle"}
    return replace(
        figure,
        polygons=[replace(p, points=tuple((axis - x, y) for x, y in p.points)) for p in figure.polygons],
        segments=[replace(s, x0=axis - s.x0, x1=axis - s.x1) for s in figure.segments],
        labels=[replace(t, x=axis - t.x, anchor=swap[t.anchor]) for t in figure.labels],
        blocks=[box(b) for b in figure.blocks],
        kernels=[box(b) for b in figure.kernels],
        drawing=box(figure.drawing),
    )


def _label_lines(column: Column, options: Options, kernel_apart: bool) -> list[tuple[str, bool]]:
    """(text, bold) lines under a block: name, caption, notes, size; the output bar's notes in bold.
    A kernel's size and stride are written next to the kernel instead (``kernel_apart``)."""
    lines: list[tuple[str, bool]] = []
    if LabelSet.NAMES in options.labels:
        lines.append((column.name, True))
    if LabelSet.OPS in options.labels and column.op and not kernel_apart:
        lines.append((column.op, False))
    if LabelSet.OPS in options.labels:
        lines += [(detail, False) for detail in column.details]
    if LabelSet.OPS in options.labels and column.notes and column.role is not Role.OUTPUT:
        lines.append(("+ " + ", ".join(column.notes), False))
    if LabelSet.DIMS in options.labels:
        # the whole map; each stream is labelled above it
        lines.append((dims_text(column.shape, options.notation), False))
    if column.role is Role.OUTPUT and column.notes:
        lines.append((", ".join(column.notes), True))
    return lines


def _ranks(columns: list[Column]) -> list[int]:
    """Longest path from the input: columns of one rank are parallel branches."""
    ranks: list[int] = []
    for column in columns:
        ranks.append(1 + max((ranks[s] for s in column.sources), default=-1))
    return ranks


def _lanes(columns: list[Column], ranks: list[int]) -> list[int]:
    """A lane (row of the drawing) for every column: a branch keeps its lane, a merge takes the
    lowest lane it reads, a parallel branch takes the next free lane below."""
    lanes: list[int] = []
    taken: dict[int, set[int]] = {}
    for index, column in enumerate(columns):
        wanted = min((lanes[s] for s in column.sources), default=0)
        used = taken.setdefault(ranks[index], set())
        lane = wanted
        while lane in used:
            lane += 1
        used.add(lane)
        lanes.append(lane)
    return lanes


BAR_THICKNESS = 4.0
CAPPED: Message = {
    "en": "A bar is drawn at most as tall as the tallest map ({height} units).",
    "zh": "条形最高画到与最高的特征图同高（{height} 单位）。",
}
UNPREFIXED: Message = {
    "en": "Layer names are written without the prefix {prefix} that they all share.",
    "zh": "层名省略了它们共同的前缀 {prefix}。",
}
_STRIDE = re.compile(r"(\d) (s\d)")  # a caption's kernel size, then its stride


def _text_width(text: str, size: float, bold: bool = False) -> float:
    return text_width(text, size, bold)


class _Layout:
    """One layout at geometric scale ``g``: blocks, kernels, connections and labels, in points."""

    def __init__(
        self, analysis: Analysis, columns: list[Column], options: Options, spatial: Mapping, channel: Mapping,
        g: float, available: float, rows: int,
    ) -> None:  # fmt: skip
        self.figure = Figure(title=analysis.name, font_size=FONT)
        self.available, self.max_rows = available, rows
        self.options, self.g = options, g
        self.columns = columns
        self.placed = [_sized(column, spatial, channel) for column in columns]
        self.cap_bars()
        prefix = next((column.prefix for column in columns if column.prefix), "")
        if prefix:
            self.figure.notes.append(say(UNPREFIXED, options.lang, prefix=f"“{prefix}”"))
        self.ranks = _ranks(columns)
        self.lanes = _lanes(columns, self.ranks)
        self.at: dict[tuple[int, int], int] = {
            (r, lane): i for i, (r, lane) in enumerate(zip(self.ranks, self.lanes, strict=True))
        }
        self.kernel_text = [self._kernel_text(i) for i in range(len(columns))]
        self.label_lines = [_label_lines(c, options, bool(self.kernel_text[i])) for i, c in enumerate(columns)]
        self.label_widths = [
            max((_text_width(text, FONT if bold else SMALL_FONT, bold) for text, bold in lines), default=0.0)
            for lines in self.label_lines
        ]
        self.label_heights = [
            sum((FONT if bold else SMALL_FONT) * LINE_HEIGHT for _, bold in lines) for lines in self.label_lines
        ]
        self.skips: list[tuple[int, int]] = []
        self.arrowed: set[int] = set()  # targets whose arrowhead is drawn
        self.gap = max(BLOCK_GAP * g, 10.0)

    def cap_bars(self) -> None:
        """A fully connected bar no taller than the tallest map: 4096 channels would otherwise tower
        over the 13×13 maps they read (said in the <desc>)."""
        tallest = max((p.h for p in self.placed if len(p.column.shape) == 3), default=0.0)
        bars = [p for p in self.placed if len(p.column.shape) != 3 and p.h > tallest > 0.0]
        for bar in bars:
            bar.h = tallest
        if bars:
            self.figure.notes.append(say(CAPPED, self.options.lang, height=f"{tallest:.3g}"))

    def _kernel_text(self, index: int) -> str:
        """``11×11, s4`` beside the kernel, when the layer's kernel is drawn on the block before it."""
        column = self.columns[index]
        if column.layer is None or column.fused > 1 or "kernel" not in column.layer.details or len(column.sources) != 1:
            return ""
        source = column.sources[0]
        if LabelSet.OPS not in self.options.labels or len(self.columns[source].shape) != 3:
            return ""
        if self.lanes_of(source, index) is False:
            return ""
        return _STRIDE.sub(r"\1, \2", column.op)  # "11×11, s4", as the AlexNet paper writes it

    def lanes_of(self, source: int, target: int) -> bool:
        ranks = _ranks(self.columns) if not hasattr(self, "ranks") else self.ranks
        lanes = self.lanes
        return ranks[target] - ranks[source] == 1 and lanes[target] == lanes[source]

    def build(self) -> Figure:
        self.place_x()
        self.place_y()
        self.draw_blocks()
        self.draw_connections()
        self.draw_labels()
        self.figure.drawing = self.figure.bounds()
        return self.figure

    # --- horizontal --------------------------------------------------------------------------

    def block_width(self, i: int) -> float:
        p = self.placed[i]
        width = p.t + p.d * DEPTH_DX
        if p.column.streams > 1 and LabelSet.STREAMS in self.options.labels:  # its per-stream channel label
            width = max(width, _text_width(self.stream_text(i), SMALL_FONT))
        return width

    def stream_text(self, i: int) -> str:
        column = self.placed[i].column
        return f"{column.shape[0] // column.streams:,}"

    def place_x(self) -> None:
        """Rank centres: blocks at least a gap apart (wider where a kernel label sits between them),
        labels at least a pad apart, and a free channel where connections change lanes."""
        count = max(self.ranks) + 1
        members: list[list[int]] = [[] for _ in range(count)]
        for i, rank in enumerate(self.ranks):
            members[rank].append(i)
        block = [max(self.block_width(i) for i in m) for m in members]
        label = [max(max(self.label_widths[i], self.block_width(i)) for i in m) for m in members]
        kernel = [max((_text_width(self.kernel_text[i], SMALL_FONT) for i in m), default=0.0) for m in members]
        changes = [False] * count
        for i, column in enumerate(self.columns):
            for s in column.sources:
                if self.lanes[s] != self.lanes[i] or len(members[self.ranks[i]]) > 1 or len(members[self.ranks[s]]) > 1:
                    changes[self.ranks[i]] = True
        self.rank_centres = [label[0] / 2]
        self.channels: list[float] = [0.0]  # x of the free channel before each rank
        self.kernel_x = [0.0] * count  # centre of the kernel label before each rank (above the blocks)
        last_kernel: tuple[float, float] | None = None  # (centre, width) of the previous kernel label
        for r in range(1, count):
            pad = 2 * CHANNEL_PAD if changes[r] else LABEL_PAD
            previous = self.rank_centres[-1]
            beside = self.labels_apart(members[r - 1], members[r]) if pad == LABEL_PAD else None
            labels_apart = label[r - 1] / 2 + label[r] / 2 if beside is None else beside
            distance = max(block[r - 1] / 2 + block[r] / 2 + self.gap, labels_apart + pad)
            if kernel[r] and last_kernel is not None:  # kernel labels may overhang the blocks, not each other
                wanted = last_kernel[0] + (last_kernel[1] + kernel[r]) / 2 + LABEL_PAD
                distance = max(distance, 2 * wanted - 2 * previous - block[r - 1] / 2 + block[r] / 2)
            self.rank_centres.append(previous + distance)
            self.channels.append(previous + (distance + label[r - 1] / 2 - label[r] / 2) / 2)
            if kernel[r]:
                self.kernel_x[r] = previous + (distance + block[r - 1] / 2 - block[r] / 2) / 2
                last_kernel = (self.kernel_x[r], kernel[r])
        self.channels[0] = -CHANNEL_PAD
        self.strip_width = self.rank_centres[-1] + label[-1] / 2 + 2 * MARGIN  # all in one row
        self.fold(label)
        for i, p in enumerate(self.placed):
            p.x = self.rank_centres[self.ranks[i]] - (p.t + p.d * DEPTH_DX) / 2

    def labels_apart(self, left: list[int], right: list[int]) -> float | None:
        """The distance between the centres of two single-block ranks' labels at which no line of
        one overlaps a line of the other at the same height (a wide size may pass under a short
        note); None where a rank has several blocks (their labels lie in several lanes)."""
        if len(left) != 1 or len(right) != 1 or self.lanes[left[0]] != self.lanes[right[0]]:
            return None
        apart = 0.0
        for top_a, bottom_a, width_a in self.line_extents(left[0]):
            for top_b, bottom_b, width_b in self.line_extents(right[0]):
                if top_a < bottom_b and top_b < bottom_a:
                    apart = max(apart, (width_a + width_b) / 2)
        return apart

    def line_extents(self, i: int) -> list[tuple[float, float, float]]:
        """(top, bottom, width) of each line of a block's label, from the top of its first line."""
        extents, y = [], 0.0
        for text, bold in self.label_lines[i]:
            size = FONT if bold else SMALL_FONT
            extents.append((y, y + size * LINE_HEIGHT, _text_width(text, size, bold)))
            y += size * LINE_HEIGHT
        return extents

    def fold(self, label: list[float]) -> None:
        """Ranks into rows no wider than the available width, each row starting at x = 0; a free
        channel before each row's first rank and after its last, for the connections between rows.
        Rows are balanced: as many as the width needs, each about as wide as the others."""
        starts = self.row_starts(label, self.available)
        if len(starts) > 1:
            even = self.strip_width / len(starts)
            while even < self.available:
                balanced = self.row_starts(label, even)
                if len(balanced) <= len(starts):
                    starts = balanced
                    break
                even *= 1.05
        self.row_of = []
        self.exits: list[float] = []
        left, row = 0.0, -1
        for r, centre in enumerate(self.rank_centres):
            if r in starts:
                row += 1
                left = 0.0 if r == 0 else centre - label[r] / 2 - CHANNEL_PAD
                if r > 0:
                    self.channels[r] = centre - label[r] / 2 - CHANNEL_PAD / 2
            self.row_of.append(row)
            self.exits.append(centre + label[r] / 2 + CHANNEL_PAD / 2 - left)
            self.rank_centres[r] = centre - left
            self.kernel_x[r] -= left
            if r > 0:
                self.channels[r] -= left
        self.row_count = row + 1
        if self.row_count > 1:
            self.justify(label)
        for r in range(len(self.rank_centres) - 1):
            if self.row_of[r + 1] == self.row_of[r]:
                self.exits[r] = self.channels[r + 1]

    def justify(self, label: list[float]) -> None:
        """Spread each row's ranks over the available width, as a justified line of text."""
        shift = [0.0] * len(self.rank_centres)
        for row in range(self.row_count):
            ranks = [r for r, of in enumerate(self.row_of) if of == row]
            if len(ranks) < 2:
                continue
            last = ranks[-1]
            right = self.rank_centres[last] + label[last] / 2 + CHANNEL_PAD
            slack = max(0.0, self.available - right - 0.01)
            for k, r in enumerate(ranks):
                shift[r] = slack * k / (len(ranks) - 1)
        for r in range(len(self.rank_centres)):
            between = (shift[r - 1] + shift[r]) / 2 if r > 0 and self.row_of[r - 1] == self.row_of[r] else shift[r]
            self.rank_centres[r] += shift[r]
            self.exits[r] += shift[r]
            self.channels[r] += between
            self.kernel_x[r] += between

    def row_starts(self, label: list[float], limit: float) -> set[int]:
        """The first rank of each row when every row is at most `limit` wide."""
        starts, left = {0}, 0.0
        last = len(self.rank_centres) - 1
        for r, centre in enumerate(self.rank_centres):
            exit_room = CHANNEL_PAD if r < last else 0.0  # the last rank leads nowhere
            if r > 0 and centre + label[r] / 2 + exit_room - left > limit:
                starts.add(r)
                left = centre - label[r] / 2 - CHANNEL_PAD
        return starts

    def measured_width(self) -> float:
        """The drawing's width as placed: every rank with its labels, the channels around the rows."""
        right = max(max(self.exits), max(self.rank_centres))
        rows_of = [self.row_of[r] for r in self.ranks]
        long_routes = sum(rows_of[i] - rows_of[s] > 1 for i, c in enumerate(self.columns) for s in c.sources)
        left = CHANNEL_PAD / 2 + SKIP_LEVEL * (long_routes - 1) if long_routes else 0.0  # down the left margin
        return right + left + 2 * MARGIN

    def row(self, i: int) -> int:
        return self.row_of[self.ranks[i]]

    # --- vertical ----------------------------------------------------------------------------

    def place_y(self) -> None:
        """Lane centres, row by row and top lane first: each lane of a row as tall as its blocks
        (all streams), their labels, and the skip arcs over it; rows apart by the routes between them."""
        self.find_skips()
        stream_pitch = self.stream_pitch()
        up: dict[tuple[int, int], float] = {}
        down: dict[tuple[int, int], float] = {}
        labels: dict[tuple[int, int], float] = {}
        above: dict[tuple[int, int], float] = {}
        kernels: dict[tuple[int, int], float] = {}
        for i, p in enumerate(self.placed):
            key = self.key(i)
            span = (p.column.streams - 1) * stream_pitch
            up[key] = max(up.get(key, 0.0), span / 2 + p.h / 2 - p.d * DEPTH_DY)
            if p.column.streams > 1:  # a stream's size above each stream
                above[key] = SMALL_FONT * LINE_HEIGHT
            if self.kernel_text[i]:  # a kernel's label above the blocks, over the stream sizes
                kernels[key] = SMALL_FONT * LINE_HEIGHT
            down[key] = max(down.get(key, 0.0), span / 2 + p.h / 2)
            labels[key] = max(labels.get(key, 0.0), self.label_heights[i])
        self.kernel_row = dict(above)
        self.lane_bottoms = dict(down)  # below the lane's centre line: where its row of labels starts
        for key in up:
            up[key] += above.get(key, 0.0) + kernels.get(key, 0.0)
            down[key] += LABEL_GAP + labels[key]
        self.skip_levels = self.assign_skip_levels()
        for key in {self.key(s) for s, _ in self.skips}:
            levels = [level for (s, _), level in zip(self.skips, self.skip_levels, strict=True) if self.key(s) == key]
            up[key] += SKIP_LEVEL * (max(levels) + 2)
        self.lane_up = up
        self.crossing = [(s, i) for i, c in enumerate(self.columns) for s in c.sources if self.row(s) != self.row(i)]
        per_boundary = [0] * self.row_count
        for s, t in self.crossing:
            per_boundary[self.row(s)] += 1
            if self.row(t) - self.row(s) > 1:
                per_boundary[self.row(t) - 1] += 1
        self.lane_centres: dict[tuple[int, int], float] = {}
        self.row_tops = [0.0]
        self.bands: list[float] = []  # y of the first route between a row and the next
        y = 0.0
        for row in range(self.row_count):
            if row > 0:
                self.bands.append(y + LABEL_PAD + SKIP_LEVEL)
                y += LABEL_PAD * 2 + SKIP_LEVEL * (per_boundary[row - 1] + 1)
                self.row_tops.append(y)
            for index, key in enumerate(sorted(k for k in up if k[0] == row)):
                y += (LABEL_PAD * 2 if index else 0.0) + up[key]
                self.lane_centres[key] = y
                y += down[key]
        for i, p in enumerate(self.placed):
            centre = self.lane_centres[self.key(i)]
            p.centres = [centre + (s - (p.column.streams - 1) / 2) * stream_pitch for s in range(p.column.streams)]

    def key(self, i: int) -> tuple[int, int]:
        return (self.row(i), self.lanes[i])

    def stream_pitch(self) -> float:
        pitch = 0.0
        for p in self.placed:
            if p.column.streams > 1:
                pitch = max(pitch, p.h - p.d * DEPTH_DY + SMALL_FONT * LINE_HEIGHT * 1.6)
        return pitch

    def find_skips(self) -> None:
        """Edges within a lane and a row that pass over a block of that lane: arcs over the top."""
        for i, column in enumerate(self.columns):
            for s in column.sources:
                if self.row(s) == self.row(i) and self.lanes[s] == self.lanes[i] and self.blocked(s, i):
                    self.skips.append((s, i))

    def blocked(self, source: int, target: int) -> bool:
        lane = self.lanes[source]
        return any((r, lane) in self.at for r in range(self.ranks[source] + 1, self.ranks[target]))

    def assign_skip_levels(self) -> list[int]:
        levels: list[int] = []
        spans: list[tuple[int, int, int]] = []
        for s, t in self.skips:
            level = 0
            while any(
                lv == level and not (self.ranks[t] < a or b < self.ranks[s]) and self.key(s) == self.key(other)
                for (a, b, lv), (other, _) in zip(spans, self.skips[: len(spans)], strict=True)
            ):
                level += 1
            spans.append((self.ranks[s], self.ranks[t], level))
            levels.append(level)
        return levels

    # --- drawing -----------------------------------------------------------------------------

    def draw_blocks(self) -> None:
        """Back to front: left to right; within a column, top stream first."""
        for p in self.placed:
            color = self.options.colors[p.column.role]
            for centre in p.centres:
                bottom = centre + p.h / 2
                p.boxes.append(
                    _cuboid(self.figure, p.x, bottom, p.t, p.h, p.d, color, p.column.role.value, p.column.depthwise)
                )
                if p.column.mark:
                    _merge_mark(self.figure, p.x, bottom, p.t, p.h, p.column.mark)

    def draw_connections(self) -> None:
        skips = set(self.skips)
        merging: dict[int, list[int]] = {}
        crossing = set(self.crossing)
        for i, column in enumerate(self.columns):
            direct = [s for s in column.sources if (s, i) not in skips and (s, i) not in crossing]
            for s in direct:
                if len(direct) > 1:  # a merge of lanes: every lane joins one arrow into it
                    merging.setdefault(i, []).append(s)
                elif self.lanes_of(s, i) or (self.lanes[s] == self.lanes[i] and len(column.sources) == 1):
                    _connect(self.figure, self.placed[s], self.placed[i], i, bool(self.kernel_text[i]))
                    if self.kernel_text[i]:
                        self.draw_kernel_label(i)
                else:
                    merging.setdefault(i, []).append(s)
        for target, sources in merging.items():
            self.draw_lane_change(target, sources)
        for (s, t), level in zip(self.skips, self.skip_levels, strict=True):
            self.draw_skip(s, t, level)
        for (s, t), level in zip(self.crossing, self.crossing_levels(), strict=True):
            self.draw_between_rows(s, t, level)

    def crossing_levels(self) -> list[int]:
        """The height of each route between rows in its band. Routes to the next row share their
        band in the order that crosses fewest of their verticals over each other's runs (tried
        exhaustively for up to MAX_PERMUTED routes, in the drawing order otherwise); a route past
        several rows goes under all of them."""
        levels: list[int] = [0] * len(self.crossing)
        taken: dict[int, int] = {}
        for boundary in range(self.row_count - 1):
            near = [k for k, (s, t) in enumerate(self.crossing) if self.row(s) == boundary == self.row(t) - 1]
            order = self.fewest_crossings(near) if len(near) <= MAX_PERMUTED else near
            for level, k in enumerate(order):
                levels[k] = level
            taken[boundary] = len(near)
        for k, (s, t) in enumerate(self.crossing):
            if self.row(t) - self.row(s) > 1:
                bands = {self.row(s), self.row(t) - 1}
                levels[k] = max(taken.get(b, 0) for b in bands)
                for b in bands:
                    taken[b] = levels[k] + 1
        return levels

    def fewest_crossings(self, routes: list[int]) -> list[int]:
        """The routes (indices into self.crossing), top first, in the order with the fewest crossings."""
        ends = []
        for k in routes:
            s, t = self.crossing[k]
            x_out, x_in = self.exits[self.ranks[s]], self.channels[self.ranks[t]]
            if any(self.row(other) == self.row(t) for other in self.columns[t].sources):
                box = self.placed[t].boxes[0]  # it comes down onto the target's top
                x_in = (box.x0 + box.x1) / 2
            ends.append((x_out, x_in, min(x_out, x_in), max(x_out, x_in)))

        def crossings(order: tuple[int, ...]) -> int:
            count = 0
            for at, upper in enumerate(order):
                for lower in order[at + 1 :]:  # `lower` runs under `upper`
                    count += ends[upper][2] < ends[lower][0] < ends[upper][3]  # the lower's way down crosses
                    count += ends[lower][2] < ends[upper][1] < ends[lower][3]  # the upper's way in crosses
            return count

        best = min(itertools.permutations(range(len(routes))), key=crossings, default=())
        return [routes[i] for i in best]

    def draw_between_rows(self, source: int, target: int, level: int) -> None:
        """Out of the source into the free channel after it, down to the band under its row, along
        it, down the channel before the target and in: dashed when it skips blocks."""
        s, t = self.placed[source], self.placed[target]
        skips = self.row(target) - self.row(source) > 1 or self.ranks[target] - self.ranks[source] > 1
        style = {"dashed": skips, "width": CONNECTION_WIDTH, "role": "skip" if skips else "connection"}
        y_band = self.bands[self.row(source)] + SKIP_LEVEL * level
        x_exit, x_entry = self.exits[self.ranks[source]], self.channels[self.ranks[target]]
        y0, y1 = s.centres[0], t.centres[0]
        points = [(s.boxes[0].x1, y0), (x_exit, y0), (x_exit, y_band)]
        if self.row(target) - self.row(source) > 1:  # down the left margin, past the rows between
            x_left = -CHANNEL_PAD / 2 - SKIP_LEVEL * level
            y_band = self.bands[self.row(target) - 1] + SKIP_LEVEL * level
            points += [(x_left, points[-1][1]), (x_left, y_band)]
        if any(self.row(other) == self.row(target) for other in self.columns[target].sources):
            # the target's arrow from its own row comes in from the left: this one comes down on its top
            box = t.boxes[0]
            x_top = self.free_x(box, y_band, box.y0)
            points += [(x_top, y_band), (x_top, box.y0 - 0.5)]
        else:
            points += [(x_entry, y_band), (x_entry, y1), (t.x - 1, y1)]
        for (xa, ya), (xb, yb) in zip(points, points[1:], strict=False):
            last = (xb, yb) == points[-1]
            self.figure.segments.append(Segment(xa, ya, xb, yb, arrow=last, **style))  # type: ignore[arg-type]

    def free_x(self, box: Box, y0: float, y1: float) -> float:
        """An x over the box where a vertical line from y0 down to y1 crosses no label."""
        width = box.x1 - box.x0
        candidates = [box.x0 + width * f for f in (0.3, 0.5, 0.15, 0.7, 0.85)]
        for x in candidates:
            if not any(b.x0 <= x <= b.x1 and b.y0 < y1 and y0 < b.y1 for b in (t.box for t in self.figure.labels)):
                return x
        return candidates[0]

    def draw_kernel_label(self, target: int) -> None:
        """``11×11 s4`` above the blocks it overhangs (and their stream sizes), centred on the gap."""
        text = self.kernel_text[target]
        x = self.kernel_x[self.ranks[target]]
        half = _text_width(text, SMALL_FONT) / 2
        lane, row = self.lanes[target], self.row(target)
        tops = [
            box.y0
            for j, p in enumerate(self.placed)
            if self.lanes[j] == lane and self.row(j) == row
            for box in p.boxes[:1]
            if box.x0 < x + half and x - half < box.x1
        ]
        source = self.placed[self.columns[target].sources[0]]
        top = min([*tops, self.placed[target].boxes[0].y0, source.boxes[0].y0])
        y = top - self.kernel_row.get((row, lane), 0.0) - SMALL_FONT * 0.25 - 1.0
        self.figure.labels.append(Label(x, y, text, SMALL_FONT))

    def draw_lane_change(self, target: int, sources: list[int]) -> None:
        """Elbows along each source's lane to the free channel before the target, then one arrow in."""
        p = self.placed[target]
        x_channel = self.channels[self.ranks[target]]
        y_target = p.centres[0]
        ys = [y_target]
        for s in sources:
            source = self.placed[s]
            y = source.centres[0]
            start = source.boxes[0].x1
            self.figure.segments.append(Segment(start, y, x_channel, y, width=CONNECTION_WIDTH))
            ys.append(y)
        if min(ys) < max(ys):
            self.figure.segments.append(Segment(x_channel, min(ys), x_channel, max(ys), width=CONNECTION_WIDTH))
        self.figure.segments.append(
            Segment(x_channel, y_target, p.x - 1.0, y_target, width=CONNECTION_WIDTH, arrow=True)
        )
        self.arrowed.add(target)

    def draw_skip(self, source: int, target: int, level: int) -> None:
        """Dashed, over the top of the lane: up from the source, across, down into the target's top."""
        s, t = self.placed[source], self.placed[target]
        key = self.key(source)
        top = self.lane_centres[key] - self.lane_up[key]
        y_route = top + SKIP_LEVEL * (level + 1)
        x0 = (s.boxes[0].x0 + s.boxes[0].x1) / 2 + (s.boxes[0].x1 - s.boxes[0].x0) / 4
        x1 = (t.boxes[0].x0 + t.boxes[0].x1) / 2 - (t.boxes[0].x1 - t.boxes[0].x0) / 4
        y0, y1 = s.boxes[0].y0, t.boxes[0].y0
        dashed = {"dashed": True, "width": CONNECTION_WIDTH, "role": "skip"}
        self.figure.segments.append(Segment(x0, y0, x0, y_route, **dashed))  # type: ignore[arg-type]
        self.figure.segments.append(Segment(x0, y_route, x1, y_route, **dashed))  # type: ignore[arg-type]
        self.figure.segments.append(Segment(x1, y_route, x1, y1 - 0.5, arrow=True, **dashed))  # type: ignore[arg-type]

    def draw_labels(self) -> None:
        """In one row under each lane's blocks; per-stream sizes above each stream."""
        for i, p in enumerate(self.placed):
            centre_x = p.x + (p.t + p.d * DEPTH_DX) / 2
            key = self.key(i)
            y = self.lane_centres[key] + self.lane_bottoms[key] + LABEL_GAP - FONT * 0.25
            for text, bold in self.label_lines[i]:
                size = FONT if bold else SMALL_FONT
                self.figure.labels.append(Label(centre_x, y, text, size, bold=bold))
                y += size * LINE_HEIGHT
            if p.column.streams > 1 and LabelSet.STREAMS in self.options.labels:
                for box in p.boxes:
                    x = (box.x0 + box.x1) / 2
                    self.figure.labels.append(Label(x, box.y0 - SMALL_FONT * 0.45, self.stream_text(i), SMALL_FONT))


def _sized(column: Column, spatial: Mapping, channel: Mapping) -> _Placed:
    """A block's thickness, height and depth from its shape: a cuboid for a map, a bar when flat."""
    per_stream = column.shape[0] // column.streams
    if len(column.shape) == 3:
        t, h, d = channel(per_stream), spatial(column.shape[1]), spatial(column.shape[2])
    else:
        t, h, d = BAR_THICKNESS, channel(per_stream), BAR_THICKNESS * 1.6
    return _Placed(column, 0.0, t, h, d, [])


# --- an encoder–decoder drawn as a U -------------------------------------------------------------

LEVEL_STEP = 1.5  # a spatial size this many times smaller (larger) is one level down (up)
U_OFFSET = 0.12  # of a level's lowest block: skips enter this far above its centre line, chain arrows below


def _u_levels(columns: list[Column]) -> list[int] | None:
    """The resolution level of every column where the network is an encoder–decoder drawn as a U:
    a chain whose spatial size falls level by level then rises again, with skips that join maps
    of the same level across a lower part of the U. None for any other graph."""
    if len(columns) < 3 or any(len(c.shape) != 3 for c in columns):
        return None
    levels, rising = [0], False
    for i in range(1, len(columns)):
        if i - 1 not in columns[i].sources:
            return None
        ratio = columns[i - 1].shape[1] / columns[i].shape[1]
        step = 1 if ratio >= LEVEL_STEP else -1 if ratio <= 1 / LEVEL_STEP else 0
        if (step > 0 and rising) or levels[-1] + step < 0:
            return None
        rising = rising or step < 0
        levels.append(levels[-1] + step)
    skips = [(s, i) for i, c in enumerate(columns) for s in c.sources if s != i - 1]
    for s, i in skips:
        if levels[s] != levels[i] or all(levels[j] == levels[i] for j in range(s + 1, i)):
            return None
    return levels if skips and rising else None


def _u_figure(analysis: Analysis, columns: list[Column], options: Options) -> Figure | None:
    """The U at the largest blocks that fit the width and a page's height, or None where it does not fit."""
    levels = _u_levels(columns)
    if levels is None:
        return None
    target = options.width.points

    def layout(g: float) -> _ULayout:
        spatial, channel = options.spatial_map().scaled(g), options.channel_map().scaled(g)
        return _ULayout(analysis, columns, options, spatial, channel, g, target - 2 * MARGIN, levels)

    def measured(g: float) -> bool:
        placed = layout(g)
        placed.place_x()
        return placed.measured_width() <= target

    if not measured(G_MIN):
        return None
    low, high = G_MIN, G_MAX
    for _ in range(SEARCH_STEPS):
        middle = (low + high) / 2
        low, high = (middle, high) if measured(middle) else (low, middle)
    for g in (low, low * 0.9, low * 0.8, G_MIN):
        drawn = layout(max(g, G_MIN))
        figure = drawn.build()
        if options.legend:
            _legend(figure, options, columns)
        attempt = _Attempt(figure, drawn.spatial, drawn.channel, 1, drawn.strip_width)
        bounds = figure.bounds()
        if attempt.width_needed() <= target + 1e-6 and (bounds.y1 - bounds.y0) <= MAX_HEIGHT:
            return _finish(figure, options, drawn.spatial, drawn.channel, columns)
    return None


class _ULayout(_Layout):
    """The encoder descending to the left, the bottom, the decoder rising to the right: one x per
    column, one y per resolution level; each skip a dashed horizontal arrow across at its level."""

    def __init__(
        self, analysis: Analysis, columns: list[Column], options: Options, spatial: Mapping, channel: Mapping,
        g: float, available: float, levels: list[int],
    ) -> None:  # fmt: skip
        super().__init__(analysis, columns, options, spatial, channel, g, available, 1)
        self.spatial, self.channel = spatial, channel
        self.levels = levels

    def _kernel_text(self, index: int) -> str:
        return ""  # kernels are not drawn in the U: the ops are written under the blocks

    def key(self, i: int) -> tuple[int, int]:
        return (self.levels[i], 0)

    def row(self, i: int) -> int:
        return 0

    def place_x(self) -> None:
        """Columns left to right, labels of one level a pad apart; a step down is drawn under the
        block before it (its arrow goes round that block's labels), a step up rises beside it."""
        block = [self.block_width(i) for i in range(len(self.columns))]
        label = [max(self.label_widths[i], block[i]) for i in range(len(self.columns))]
        centres: list[float] = []
        for i in range(len(self.columns)):
            centre = label[0] / 2
            for j in range(i):
                if self.levels[j] == self.levels[i]:
                    apart = max(block[j] / 2 + block[i] / 2 + self.gap, label[j] / 2 + label[i] / 2 + LABEL_PAD)
                    centre = max(centre, centres[j] + apart)
            if i and self.levels[i] > self.levels[i - 1]:  # down: under the block before, as papers draw it
                centre = max(centre, centres[i - 1])
            elif i and self.levels[i] < self.levels[i - 1]:  # up: its arrow rises clear of this block's labels
                apart = max(block[i - 1] / 2 + block[i] / 2 + self.gap, label[i] / 2 + LABEL_PAD * 2)
                centre = max(centre, centres[i - 1] + apart)
            centres.append(centre)
        self.row_count, self.row_of = 1, [0] * (max(self.ranks) + 1)
        self.centres, self.label_span = centres, label
        self.right = max(c + w / 2 for c, w in zip(centres, label, strict=True))
        self.strip_width = self.right + 2 * MARGIN
        for p, centre in zip(self.placed, centres, strict=True):
            p.x = centre - (p.t + p.d * DEPTH_DX) / 2

    def measured_width(self) -> float:
        return self.strip_width

    def place_y(self) -> None:
        """Levels top to bottom, each as tall as its blocks above the centre line and its blocks
        and labels below it."""
        up: dict[int, float] = {}
        down: dict[int, float] = {}
        for i, p in enumerate(self.placed):
            level = self.levels[i]
            up[level] = max(up.get(level, 0.0), p.h / 2 - p.d * DEPTH_DY)
            down[level] = max(down.get(level, 0.0), p.h / 2 + LABEL_GAP + self.label_heights[i])
        self.lane_centres, self.lane_bottoms = {}, {}
        self.level_bottoms: dict[int, float] = {}  # below the labels of a level
        y = 0.0
        for level in sorted(up):
            y += (LABEL_PAD * 2 if level else 0.0) + up[level]
            self.lane_centres[(level, 0)] = y
            self.lane_bottoms[(level, 0)] = max(p.h / 2 for i, p in enumerate(self.placed) if self.levels[i] == level)
            y += down[level]
            self.level_bottoms[level] = y
        for i, p in enumerate(self.placed):
            p.centres = [self.lane_centres[self.key(i)]]

    def offset(self, level: int) -> float:
        return U_OFFSET * min(p.h for i, p in enumerate(self.placed) if self.levels[i] == level)

    def draw_connections(self) -> None:
        arrow = {"width": CONNECTION_WIDTH, "role": "connection"}
        for i, column in enumerate(self.columns):
            if i == 0:
                continue
            s, t = self.placed[i - 1], self.placed[i]
            source, target = s.boxes[0], t.boxes[0]
            level, previous = self.levels[i], self.levels[i - 1]
            if level == previous:
                y = t.centres[0]
                points = [(source.x1, y), (t.x - 1.0, y)]
            elif level > previous:  # down: out of the right face, round its labels, onto the top below
                y = s.centres[0] + self.offset(previous)
                x_round = self.centres[i - 1] + self.label_span[i - 1] / 2 + LABEL_PAD
                y_round = (self.level_bottoms[previous] + target.y0) / 2
                x = (target.x0 + target.x1) / 2
                points = [(source.x1, y), (x_round, y), (x_round, y_round), (x, y_round), (x, target.y0 - 0.5)]
            else:  # up: out of the top, up to the level, into the next block's left face
                y = t.centres[0] + self.offset(level)
                x = (source.x0 + source.x1) / 2
                points = [(x, source.y0), (x, y), (t.x - 1.0, y)]
            for (xa, ya), (xb, yb) in zip(points, points[1:], strict=False):
                self.figure.segments.append(Segment(xa, ya, xb, yb, arrow=(xb, yb) == points[-1], **arrow))  # type: ignore[arg-type]
            for skip in (k for k in column.sources if k != i - 1):
                y = t.centres[0] - self.offset(level)
                dashed = {"dashed": True, "width": CONNECTION_WIDTH, "role": "skip", "arrow": True}
                self.figure.segments.append(Segment(self.placed[skip].boxes[0].x1, y, t.x - 1.0, y, **dashed))  # type: ignore[arg-type]


__all__ = ["Scale", "build_figure"]
