"""Placing the columns: ranks left to right, parallel branches in lanes, labels under the blocks.

``build_figure`` finds the font size at which every label is at least 1/70 of the figure's width.
"""

from __future__ import annotations

from dataclasses import replace

from ..engine import Analysis
from ..palette import Role
from .columns import Column, columns_of, dims_text
from .draw import _connect, _cuboid, _detour, _Placed
from .legend import _legend
from .options import LabelSet, Mapping, Options
from .primitives import CHAR_WIDTH, DEPTH_DX, DEPTH_DY, LINE_HEIGHT, SMALL, Box, Figure, Label

MIN_FONT_FRACTION = 1 / 70  # every label at least this fraction of the figure width


def build_figure(analysis: Analysis, options: Options | None = None) -> Figure:
    options = options or Options()
    spatial, channel = options.spatial_map(), options.channel_map()
    columns = columns_of(analysis)
    # Labels must stay ≥ 1/70 of the final width, and the width grows with the labels: find the
    # fixed point, staggering labels over more rows when one row cannot fit them.
    for rows in (1, 2, 3):
        font = 16.0
        for _ in range(12):
            figure = _finish(
                _layout(analysis, columns, options, spatial, channel, font, rows), options, spatial, channel, columns
            )
            bounds = figure.bounds()
            needed = (bounds.x1 - bounds.x0 + 2 * font) * MIN_FONT_FRACTION / SMALL
            if font >= needed:
                return figure
            font = needed * 1.01
    return figure


def _finish(figure: Figure, options: Options, spatial: Mapping, channel: Mapping, columns: list[Column]) -> Figure:
    if options.legend:
        _legend(figure, options, spatial, channel, columns, figure.font_size)
    return _mirrored(figure) if options.right_to_left else figure


def _mirrored(figure: Figure) -> Figure:
    """The figure running right to left: geometry mirrored (depth then recedes up and to the left),
    text kept readable with its anchor swapped."""
    bounds = figure.bounds()
    axis = bounds.x0 + bounds.x1

    def box(b: Box) -> Box:
        return Box(axis - b.x1, b.y0, axis - b.x0, b.y1)

    swap = {"start": "end", "end": "start", "middle": "middle"}
    return Figure(
        polygons=[replace(p, points=tuple((axis - x, y) for x, y in p.points)) for p in figure.polygons],
        segments=[replace(s, x0=axis - s.x0, x1=axis - s.x1) for s in figure.segments],
        labels=[replace(t, x=axis - t.x, anchor=swap[t.anchor]) for t in figure.labels],
        blocks=[box(b) for b in figure.blocks],
        title=figure.title,
        font_size=figure.font_size,
        drawing=box(figure.drawing),
    )


def _label_lines(column: Column, options: Options) -> list[tuple[str, bool]]:
    """(text, bold) lines under a block: name, caption, notes, size; the output bar's notes in bold."""
    lines: list[tuple[str, bool]] = []
    if LabelSet.NAMES in options.labels:
        lines.append((column.name, True))
    if LabelSet.OPS in options.labels and column.op:
        lines.append((column.op, False))
    if LabelSet.OPS in options.labels and column.notes and column.role is not Role.OUTPUT:
        lines.append(("+ " + ", ".join(column.notes), False))
    if LabelSet.DIMS in options.labels:
        lines.append((dims_text(column.shape), False))  # the whole map; each stream is labelled above it
    if column.role is Role.OUTPUT and column.notes:
        lines.append((", ".join(column.notes), True))
    return lines


def _ranks(columns: list[Column]) -> list[int]:
    """Longest path from the input: columns of one rank are parallel branches."""
    ranks: list[int] = []
    for column in columns:
        ranks.append(1 + max((ranks[s] for s in column.sources), default=-1))
    return ranks


BAR_THICKNESS = 8.0
GAP = 56.0  # room between ranks for the kernel projection lines and arrows


class _Layout:
    """One attempt at laying out the columns at a given font size and number of label rows.

    Ranks go left to right; parallel branches of a rank are stacked as lanes (each labelled under
    its block); a chain's labels go in one to three rows under the whole drawing.
    """

    def __init__(
        self, analysis: Analysis, columns: list[Column], options: Options, spatial: Mapping, channel: Mapping,
        font: float, label_rows: int,
    ) -> None:  # fmt: skip
        self.figure = Figure(title=analysis.name, font_size=font)
        self.options, self.font, self.small = options, font, font * SMALL
        self.placed = [_sized(column, spatial, channel) for column in columns]
        self.ranks = _ranks(columns)
        self.lanes: dict[int, list[int]] = {}
        for index, rank in enumerate(self.ranks):
            self.lanes.setdefault(rank, []).append(index)
        self.branched = any(len(members) > 1 for members in self.lanes.values())
        self.label_lines = [_label_lines(column, options) for column in columns]
        self.label_widths = [
            max((len(text) * self._size(bold) * CHAR_WIDTH for text, bold in lines), default=0.0)
            for lines in self.label_lines
        ]
        self.label_height = max(sum(self._size(bold) * LINE_HEIGHT for _, bold in lines) for lines in self.label_lines)
        self.rows = [0 if self.branched else i % label_rows for i in range(len(self.placed))]

    def _size(self, bold: bool) -> float:
        return self.font if bold else self.small

    def build(self) -> Figure:
        self.place()
        self.draw_blocks()
        self.draw_connections()
        self.draw_labels()
        self.figure.drawing = self.figure.bounds()
        return self.figure

    def pitch(self) -> float:
        """Vertical distance between streams (or lanes): the tallest block plus room for its labels."""
        pitch = 0.0
        for p in self.placed:
            if p.column.streams > 1 or self.branched:
                room = self.small * LINE_HEIGHT * 2 if p.column.streams > 1 else self.label_height + self.font * 1.3
                pitch = max(pitch, p.h - p.d * DEPTH_DY + room)
        return pitch

    def width_of(self, i: int) -> float:
        p = self.placed[i]
        block_width = p.t + p.d * DEPTH_DX
        if p.column.streams > 1 and LabelSet.STREAMS in self.options.labels:  # its per-stream channel label
            per_stream = f"{p.column.shape[0] // p.column.streams:,}"
            block_width = max(block_width, len(per_stream) * self.small * CHAR_WIDTH)
        return block_width

    def place(self) -> None:
        """x of every block (labels must not collide) and the vertical centre of each of its streams."""
        pitch = self.pitch()
        last_on_row: dict[int, tuple[float, float]] = {}
        right = -GAP
        for rank in sorted(self.lanes):
            members = self.lanes[rank]
            rank_width = max(self.width_of(i) for i in members)
            centre = right + GAP + rank_width / 2
            if self.branched:  # labels sit under their own block: the rank must be as wide as its labels
                rank_width = max([rank_width] + [self.label_widths[i] for i in members])
                centre = right + GAP + rank_width / 2
            else:
                i = members[0]
                row = self.rows[i]
                if row in last_on_row:
                    other_centre, other_width = last_on_row[row]
                    centre = max(centre, other_centre + (other_width + self.label_widths[i]) / 2 + self.font)
                else:
                    centre = max(centre, self.label_widths[i] / 2)
                last_on_row[row] = (centre, self.label_widths[i])
            right = centre + rank_width / 2
            for lane, i in enumerate(members):
                p = self.placed[i]
                p.x = centre - (p.t + p.d * DEPTH_DX) / 2
                offset = (lane - (len(members) - 1) / 2) * pitch
                p.centres = [offset + (s - (p.column.streams - 1) / 2) * pitch for s in range(p.column.streams)]

    def draw_blocks(self) -> None:
        """Back to front: left to right; within a column, top stream first."""
        for p in self.placed:
            color = self.options.colors[p.column.role]
            for centre in p.centres:
                bottom = centre + p.h / 2
                p.boxes.append(_cuboid(self.figure, p.x, bottom, p.t, p.h, p.d, color, p.column.role.value))

    def draw_connections(self) -> None:
        """Kernels and arrows over the blocks; edges that skip ranks go over the top."""
        top = min(box.y0 for p in self.placed for box in p.boxes) - self.font
        detours = 0
        for index, p in enumerate(self.placed):
            for source_index in p.column.sources:
                if self.ranks[index] - self.ranks[source_index] == 1:
                    _connect(self.figure, self.placed[source_index], p, index, self.font)
                else:
                    _detour(self.figure, self.placed[source_index], p, top - detours * self.font * 0.6, GAP)
                    detours += 1

    def draw_labels(self) -> None:
        """Under each block when branched, else in rows under the whole drawing; stream sizes above."""
        lowest = max(box.y1 for p in self.placed for box in p.boxes)
        for i, p in enumerate(self.placed):
            centre_x = p.x + (p.t + p.d * DEPTH_DX) / 2
            if self.branched:
                y = max(box.y1 for box in p.boxes) + self.font * 1.3
            else:
                y = lowest + self.font * 1.3 + self.rows[i] * (self.label_height + self.font * 0.3)
            for text, bold in self.label_lines[i]:
                size = self._size(bold)
                self.figure.labels.append(Label(centre_x, y, text, size, bold=bold))
                y += size * LINE_HEIGHT
            if p.column.streams > 1 and LabelSet.STREAMS in self.options.labels:
                per_stream = f"{p.column.shape[0] // p.column.streams:,}"
                for box in p.boxes:
                    x = (box.x0 + box.x1) / 2
                    self.figure.labels.append(Label(x, box.y0 - self.small * 0.45, per_stream, self.small))


def _sized(column: Column, spatial: Mapping, channel: Mapping) -> _Placed:
    """A block's thickness, height and depth from its shape: a cuboid for a map, a bar when flat."""
    per_stream = column.shape[0] // column.streams
    if len(column.shape) == 3:
        t, h, d = channel(per_stream), spatial(column.shape[1]), spatial(column.shape[2])
    else:
        t, h, d = BAR_THICKNESS, channel(per_stream), BAR_THICKNESS * 1.6
    return _Placed(column, 0.0, t, h, d, [])


def _layout(
    analysis: Analysis, columns: list[Column], options: Options, spatial: Mapping, channel: Mapping,
    font: float, label_rows: int,
) -> Figure:  # fmt: skip
    return _Layout(analysis, columns, options, spatial, channel, font, label_rows).build()
