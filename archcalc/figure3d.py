"""The 3D-ish architecture figure in the style of the AlexNet paper, computed (never hand-placed).

Geometry first: ``build_figure`` turns an Analysis into a Figure of plain primitives (polygons,
segments, labels) with known bounding boxes, so tests can check collisions from the geometry;
``render_svg`` then writes them through a jinja2 template (autoescaped). Output is deterministic:
no randomness, no timestamps, fixed number formatting.

Projection: oblique. x runs along the network (channel thickness), y is height (H), z is depth (W),
drawn receding up and to the right. Each feature map is a cuboid; fully connected layers are thin
tall bars. One monotone mapping sizes every spatial extent and one every channel (or unit) count.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field, replace

from .engine import Analysis, LayerResult
from .layers import fmt_pair

DEPTH_DX, DEPTH_DY = 0.42, -0.30  # screen offset per unit of depth (z)
FONT_FAMILY = "DejaVu Sans, Helvetica, Arial, sans-serif"
CHAR_WIDTH = 0.62  # average advance of the font, in font sizes (a safe over-estimate)
LINE_HEIGHT = 1.25


class Scale(enum.StrEnum):
    LINEAR = "linear"
    SQRT = "sqrt"
    LOG = "log"


@dataclass(frozen=True)
class Mapping:
    """A monotone size → pixels mapping with clamps."""

    kind: Scale
    factor: float
    minimum: float
    maximum: float

    def __call__(self, n: int) -> float:
        if self.kind is Scale.LINEAR:
            raw = self.factor * n
        elif self.kind is Scale.SQRT:
            raw = self.factor * math.sqrt(n)
        else:
            raw = self.factor * (1 + math.log2(n))
        return min(self.maximum, max(self.minimum, raw))

    def describe(self) -> str:
        formula = {Scale.LINEAR: "{f:g}·n", Scale.SQRT: "{f:g}·√n", Scale.LOG: "{f:g}·(1 + log₂ n)"}[self.kind]
        return formula.format(f=self.factor) + f" px (clamped to {self.minimum:g}–{self.maximum:g})"


DEFAULT_SPATIAL = {Scale.SQRT: 11.0, Scale.LOG: 20.0, Scale.LINEAR: 0.8}
DEFAULT_CHANNELS = {Scale.SQRT: 3.5, Scale.LOG: 8.0, Scale.LINEAR: 0.25}


class Role(enum.StrEnum):
    """What a drawn block is; sets its colour (distinct in greyscale too) and legend entry."""

    INPUT = "input"
    CONV = "convolution"
    POOL = "pooling"
    DENSE = "fully connected"
    MERGE = "merge"
    OUTPUT = "output"


PALETTE = {  # luminance steps of about 0.12 so the legend reads in greyscale
    Role.INPUT: "#eeeeee",
    Role.POOL: "#f3cd85",
    Role.CONV: "#8fb4e3",
    Role.DENSE: "#6ea864",
    Role.MERGE: "#c9b3e0",
    Role.OUTPUT: "#b8524c",
}


@dataclass(frozen=True)
class Options:
    spatial: Scale = Scale.SQRT
    channels: Scale = Scale.SQRT
    spatial_factor: float | None = None
    channel_factor: float | None = None
    legend: bool = True
    labels: frozenset[str] = frozenset({"dims", "names", "ops", "streams"})
    colors: dict[Role, str] = field(default_factory=lambda: dict(PALETTE))
    right_to_left: bool = False

    def spatial_map(self) -> Mapping:
        return Mapping(self.spatial, self.spatial_factor or DEFAULT_SPATIAL[self.spatial], 6, 220)

    def channel_map(self) -> Mapping:
        return Mapping(self.channels, self.channel_factor or DEFAULT_CHANNELS[self.channels], 3, 280)


# --- primitives ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    def overlaps(self, other: Box, pad: float = 0.0) -> bool:
        return not (
            self.x1 + pad <= other.x0
            or other.x1 + pad <= self.x0
            or self.y1 + pad <= other.y0
            or other.y1 + pad <= self.y0
        )


@dataclass(frozen=True)
class Polygon:
    points: tuple[tuple[float, float], ...]
    fill: str
    stroke: str = "#333333"
    role: str = ""

    @property
    def box(self) -> Box:
        xs, ys = [p[0] for p in self.points], [p[1] for p in self.points]
        return Box(min(xs), min(ys), max(xs), max(ys))


@dataclass(frozen=True)
class Segment:
    x0: float
    y0: float
    x1: float
    y1: float
    dashed: bool = False
    arrow: bool = False  # an arrowhead at (x1, y1)
    stroke: str = "#333333"
    width: float = 1.0
    role: str = "connection"  # connection (arrows, detours), projection (kernel pyramids), hidden

    @property
    def box(self) -> Box:
        return Box(min(self.x0, self.x1), min(self.y0, self.y1), max(self.x0, self.x1), max(self.y0, self.y1))


@dataclass(frozen=True)
class Label:
    x: float
    y: float  # baseline
    text: str
    size: float
    anchor: str = "middle"
    bold: bool = False

    @property
    def box(self) -> Box:
        width = len(self.text) * self.size * CHAR_WIDTH
        x0 = {"start": self.x, "middle": self.x - width / 2, "end": self.x - width}[self.anchor]
        return Box(x0, self.y - self.size * 0.8, x0 + width, self.y + self.size * 0.25)


@dataclass
class Figure:
    polygons: list[Polygon] = field(default_factory=list)
    segments: list[Segment] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    blocks: list[Box] = field(default_factory=list)  # the screen extent of each drawn cuboid or bar
    title: str = ""
    font_size: float = 16.0
    drawing: Box = Box(0, 0, 0, 0)  # bounds of the network itself, legend excluded

    def bounds(self) -> Box:
        boxes = [p.box for p in self.polygons] + [s.box for s in self.segments] + [t.box for t in self.labels]
        return Box(
            min(b.x0 for b in boxes), min(b.y0 for b in boxes), max(b.x1 for b in boxes), max(b.y1 for b in boxes)
        )


# --- network → columns of blocks --------------------------------------------------------------

_MAP_KINDS = {"conv": Role.CONV, "maxpool": Role.POOL, "avgpool": Role.POOL, "subsample": Role.POOL,
              "adaptive_avgpool": Role.POOL}  # fmt: skip
_DENSE_KINDS = {"linear", "rbf"}
_ANNOTATIONS = {
    "relu": "ReLU",
    "tanh": "tanh",
    "sigmoid": "sigmoid",
    "scaled_tanh": "tanh",
    "lrn": "LRN",
    "batchnorm": "BN",
    "softmax": "softmax",
}  # fmt: skip (dropout: nothing at inference)


@dataclass
class Column:
    """One drawn block (split into streams when the network is) and what labels it."""

    layer: LayerResult | None  # None: the network input
    role: Role
    shape: tuple[int, ...]
    name: str
    op: str
    notes: list[str] = field(default_factory=list)
    streams: int = 1
    cross: bool = False  # reads every stream of its input (an ungrouped layer between split maps)
    sources: list[int] = field(default_factory=list)


def _op_text(layer: LayerResult) -> str:
    if "kernel" in layer.details:  # a sliding-window layer
        kernel, stride = layer.details["kernel"], layer.details["stride"]
        text = f"{kernel[0]}×{kernel[1]}"
        if stride != (1, 1):
            text += f" s{fmt_pair(stride)}"
        prefix = {"maxpool": "max ", "avgpool": "avg ", "subsample": "sub "}.get(layer.kind, "")
        return prefix + text
    if layer.kind == "adaptive_avgpool":
        return "adaptive avg"
    if layer.kind == "rbf":
        return "RBF"
    if layer.kind in ("concat", "add"):
        return layer.kind
    return ""


def _dims(shape: tuple[int, ...]) -> str:
    return f"{shape[1]}×{shape[2]}×{shape[0]}" if len(shape) == 3 else f"{shape[0]:,}"


def _stream_count(analysis: Analysis) -> int:
    """AlexNet's two GPUs: a chain network whose grouped convolutions all use the same group count."""
    groups = {layer.params_spec.get("groups", 1) for layer in analysis.layers if layer.kind == "conv"}
    groups.discard(1)
    chain = all(len(layer.inputs) == 1 for layer in analysis.layers)
    return groups.pop() if chain and len(groups) == 1 else 1


def columns_of(analysis: Analysis) -> list[Column]:
    streams = _stream_count(analysis)
    columns = [Column(None, Role.INPUT, analysis.input_shape, "input", "")]
    column_of: dict[str, int] = {"input": 0}
    dense = [layer for layer in analysis.layers if layer.kind in _DENSE_KINDS]
    last_dense = dense[-1].name if dense else None
    for layer in analysis.layers:
        sources = sorted({column_of[name] for name in layer.inputs})
        if layer.kind in _MAP_KINDS or layer.kind in _DENSE_KINDS or len(layer.inputs) > 1:
            role = _MAP_KINDS.get(layer.kind) or (Role.OUTPUT if layer.name == last_dense else Role.DENSE)
            if len(layer.inputs) > 1:
                role = Role.MERGE
            column = Column(layer, role, layer.output_shape, layer.name, _op_text(layer), sources=sources)
            grouped = layer.params_spec.get("groups", 1) > 1
            if streams > 1 and role is not Role.OUTPUT:
                column.streams = streams
                source_streams = columns[sources[0]].streams
                column.cross = source_streams > 1 and not grouped and layer.kind in ("conv", "linear", "rbf")
            columns.append(column)
            column_of[layer.name] = len(columns) - 1
        else:
            index = column_of[layer.inputs[0]]
            column_of[layer.name] = index
            note = _ANNOTATIONS.get(layer.kind)
            if note and note not in columns[index].notes:
                columns[index].notes.append(note)
    return columns


# --- layout -----------------------------------------------------------------------------------


def _cuboid(fig: Figure, x: float, y_bottom: float, t: float, h: float, d: float, color: str, role: str) -> Box:
    """Front face at z = 0 from (x, y_bottom − h) to (x + t, y_bottom), depth d receding."""
    dx, dy = d * DEPTH_DX, d * DEPTH_DY
    top = y_bottom - h
    # hidden edges (from the back-bottom-left corner), dashed, drawn first
    hx, hy = x + dx, y_bottom + dy
    for ex, ey in ((x + t + dx, y_bottom + dy), (x + dx, top + dy), (x, y_bottom)):
        fig.segments.append(Segment(hx, hy, ex, ey, dashed=True, stroke="#999999", width=0.6, role="hidden"))
    fig.polygons.append(Polygon(((x, top), (x + t, top), (x + t, y_bottom), (x, y_bottom)), color, role=role))
    fig.polygons.append(
        Polygon(((x, top), (x + dx, top + dy), (x + t + dx, top + dy), (x + t, top)), _shade(color, 1.18), role=role)
    )
    fig.polygons.append(
        Polygon(
            ((x + t, top), (x + t + dx, top + dy), (x + t + dx, y_bottom + dy), (x + t, y_bottom)),
            _shade(color, 0.82),
            role=role,
        )
    )
    box = Box(x, top + dy, x + t + dx, y_bottom)
    fig.blocks.append(box)
    return box


def _shade(color: str, factor: float) -> str:
    channels = [int(color[i : i + 2], 16) for i in (1, 3, 5)]
    if factor >= 1:
        channels = [round(c + (255 - c) * (factor - 1) * 2) for c in channels]
    else:
        channels = [round(c * factor) for c in channels]
    return "#" + "".join(f"{min(255, max(0, c)):02x}" for c in channels)


@dataclass
class _Placed:
    column: Column
    x: float
    t: float
    h: float
    d: float
    centres: list[float]  # vertical centre of the front face of each stream
    boxes: list[Box] = field(default_factory=list)


SMALL = 0.85  # secondary labels, relative to the main label size
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
    lines: list[tuple[str, bool]] = []
    if "names" in options.labels:
        lines.append((column.name, True))
    if "ops" in options.labels and column.op:
        lines.append((column.op, False))
    if "ops" in options.labels and column.notes and column.role is not Role.OUTPUT:
        lines.append(("+ " + ", ".join(column.notes), False))
    if "dims" in options.labels:
        lines.append((_dims(column.shape), False))  # the whole map; each stream is labelled above it
    if column.role is Role.OUTPUT and "softmax" in column.notes:
        lines.append(("softmax", True))
    return lines


def _ranks(columns: list[Column]) -> list[int]:
    """Longest path from the input: columns of one rank are parallel branches."""
    ranks: list[int] = []
    for column in columns:
        ranks.append(1 + max((ranks[s] for s in column.sources), default=-1))
    return ranks


def _layout(
    analysis: Analysis,
    columns: list[Column],
    options: Options,
    spatial: Mapping,
    channel: Mapping,
    font: float,
    label_rows: int,
) -> Figure:
    """Ranks left to right; parallel branches of a rank stacked as lanes (each labelled under its
    block); a chain's labels go in one to three rows under the whole drawing."""
    figure = Figure(title=analysis.name, font_size=font)
    small = font * SMALL
    bar_thickness = 8.0
    gap = 56.0  # room for the kernel projection lines and arrows
    placed: list[_Placed] = []
    for column in columns:
        per_stream = column.shape[0] // column.streams
        if len(column.shape) == 3:
            t, h, d = channel(per_stream), spatial(column.shape[1]), spatial(column.shape[2])
        else:
            t, h, d = bar_thickness, channel(per_stream), bar_thickness * 1.6
        placed.append(_Placed(column, 0.0, t, h, d, []))
    ranks = _ranks(columns)
    lanes: dict[int, list[int]] = {}
    for index, rank in enumerate(ranks):
        lanes.setdefault(rank, []).append(index)
    branched = any(len(members) > 1 for members in lanes.values())
    label_lines = [_label_lines(p.column, options) for p in placed]
    label_widths = [
        max((len(text) * (font if bold else small) * CHAR_WIDTH for text, bold in lines), default=0.0)
        for lines in label_lines
    ]
    label_height = max(sum((font if bold else small) * LINE_HEIGHT for _, bold in lines) for lines in label_lines)
    # vertical pitch between streams (or lanes): the tallest block plus room for its labels
    pitch = 0.0
    for p in placed:
        if p.column.streams > 1 or branched:
            room = small * LINE_HEIGHT * 2 if p.column.streams > 1 else label_height + font * 1.3
            pitch = max(pitch, p.h - p.d * DEPTH_DY + room)

    def width_of(i: int) -> float:
        p = placed[i]
        block_width = p.t + p.d * DEPTH_DX
        if p.column.streams > 1 and "streams" in options.labels:  # its per-stream channel label
            block_width = max(block_width, len(f"{p.column.shape[0] // p.column.streams:,}") * small * CHAR_WIDTH)
        return block_width

    rows = [0 if branched else i % label_rows for i in range(len(placed))]
    last_on_row: dict[int, tuple[float, float]] = {}
    right = -gap
    for rank in sorted(lanes):
        members = lanes[rank]
        rank_width = max(width_of(i) for i in members)
        centre = right + gap + rank_width / 2
        if branched:  # labels sit under their own block: the rank must be as wide as its labels
            rank_width = max([rank_width] + [label_widths[i] for i in members])
            centre = right + gap + rank_width / 2
        else:
            i = members[0]
            if rows[i] in last_on_row:
                other_centre, other_width = last_on_row[rows[i]]
                centre = max(centre, other_centre + (other_width + label_widths[i]) / 2 + font)
            else:
                centre = max(centre, label_widths[i] / 2)
            last_on_row[rows[i]] = (centre, label_widths[i])
        right = centre + rank_width / 2
        for lane, i in enumerate(members):
            p = placed[i]
            p.x = centre - (p.t + p.d * DEPTH_DX) / 2
            offset = (lane - (len(members) - 1) / 2) * pitch
            p.centres = [offset + (s - (p.column.streams - 1) / 2) * pitch for s in range(p.column.streams)]
    # blocks, back to front (left to right; within a column, top stream first)
    for p in placed:
        color = options.colors[p.column.role]
        for centre in p.centres:
            bottom = centre + p.h / 2
            p.boxes.append(_cuboid(figure, p.x, bottom, p.t, p.h, p.d, color, p.column.role.value))
    # kernels and connections, drawn over the blocks; edges that skip ranks go over the top
    top = min(box.y0 for p in placed for box in p.boxes) - font
    detours = 0
    for index, p in enumerate(placed):
        for source_index in p.column.sources:
            if ranks[index] - ranks[source_index] == 1:
                _connect(figure, placed[source_index], p, index, font)
            else:
                _detour(figure, placed[source_index], p, top - detours * font * 0.6, gap)
                detours += 1
    # labels: under each block when branched, else in rows under the whole drawing
    lowest = max(box.y1 for p in placed for box in p.boxes)
    for i, p in enumerate(placed):
        centre_x = p.x + (p.t + p.d * DEPTH_DX) / 2
        if branched:
            y = max(box.y1 for box in p.boxes) + font * 1.3
        else:
            y = lowest + font * 1.3 + rows[i] * (label_height + font * 0.3)
        for text, bold in label_lines[i]:
            size = font if bold else small
            figure.labels.append(Label(centre_x, y, text, size, bold=bold))
            y += size * LINE_HEIGHT
        if p.column.streams > 1 and "streams" in options.labels:
            per_stream = p.column.shape[0] // p.column.streams
            for box in p.boxes:
                figure.labels.append(Label((box.x0 + box.x1) / 2, box.y0 - small * 0.45, f"{per_stream:,}", small))
    figure.drawing = figure.bounds()
    return figure


def _detour(figure: Figure, source: _Placed, target: _Placed, y_route: float, gap: float) -> None:
    """An arrow for an edge that skips ranks: out into the gap, over the top of every block, down the
    gap before the target and in, so it never runs through a block."""
    start = source.boxes[0]
    end = target.boxes[0]
    x_out = start.x1 + gap * 0.4
    x_in = target.x - gap * 0.4
    y_start = (start.y0 + start.y1) / 2
    y_end = end.y1 - target.h / 2
    points = [
        (start.x1 + 2, y_start),
        (x_out, y_start),
        (x_out, y_route),
        (x_in, y_route),
        (x_in, y_end),
        (target.x - 3, y_end),
    ]
    for (x0, y0), (x1, y1) in zip(points, points[1:], strict=False):
        figure.segments.append(Segment(x0, y0, x1, y1, width=1.2, arrow=(x1, y1) == points[-1]))


def _connect(figure: Figure, source: _Placed, target: _Placed, index: int, font: float) -> None:
    """Kernel cuboid + pyramid for a window layer; arrows otherwise. Crossing lines where a layer
    reads every stream of its input."""
    pairs: list[tuple[Box, Box]]
    if len(source.boxes) == len(target.boxes) and not target.column.cross:
        pairs = list(zip(source.boxes, target.boxes, strict=True))
    elif len(source.boxes) == 1 or len(target.boxes) == 1 or target.column.cross:
        pairs = [(s, t) for s in source.boxes for t in target.boxes]
    layer = target.column.layer
    windowed = layer is not None and "kernel" in layer.details and len(source.column.shape) == 3
    # deterministic, varied kernel positions (golden-ratio sequence)
    u = 0.25 + 0.5 * ((index * 0.618034) % 1.0)
    v = 0.3 + 0.4 * ((index * 0.381966) % 1.0)
    for source_box, target_box in pairs:
        if windowed:
            _kernel(figure, source, source_box, target, target_box, u, v)
        else:
            y0 = (source_box.y0 + source_box.y1) / 2 + source.d * DEPTH_DY * -0.25
            y1 = (target_box.y0 + target_box.y1) / 2 + target.d * DEPTH_DY * -0.25
            figure.segments.append(Segment(source_box.x1 + 3, y0, target.x - 3, y1, arrow=True, width=1.2))


def _kernel(
    figure: Figure, source: _Placed, source_box: Box, target: _Placed, target_box: Box, u: float, v: float
) -> None:
    layer = target.column.layer
    assert layer is not None
    kh, kw = layer.details["kernel"]
    _, H, W = source.column.shape
    h_px = max(4.0, source.h * kh / H)
    d_px = max(4.0, source.d * kw / W)
    t_px = max(3.0, min(8.0, source.t * 0.3))
    x_face = source.x + source.t  # the right face of the source block (the y–z plane)
    bottom = source_box.y1
    top = bottom - source.h
    # kernel centre on the right face: fraction u down from the top, fraction v into the depth
    z = source.d * v
    yc = top + source.h * u
    ky_bottom = yc + h_px / 2 + z * DEPTH_DY
    # a small cuboid standing out of the right face
    kx = x_face + z * DEPTH_DX
    _cuboid(figure, kx, ky_bottom, t_px, h_px, d_px, "#ffffff", "kernel")
    figure.blocks.pop()  # a kernel is not a block
    # apex: the output position on the target's front face, at the same relative place
    t_top = target_box.y1 - target.h
    apex = (target.x + min(target.t * 0.5, 6.0), t_top + target.h * u)
    corners = [
        (kx + t_px + d_px * DEPTH_DX * a, ky_bottom - h_px * b + d_px * DEPTH_DY * a) for a in (0, 1) for b in (0, 1)
    ]
    for cx, cy in corners:
        figure.segments.append(Segment(cx, cy, apex[0], apex[1], stroke="#555555", width=0.6, role="projection"))


def _legend(
    figure: Figure, options: Options, spatial: Mapping, channel: Mapping, columns: list[Column], font: float
) -> None:
    """Colour key and the two size mappings, below the drawing or to its right, whichever gives an
    aspect ratio nearer 3:1."""
    size = font * SMALL
    swatch = size * 0.9
    roles = [role for role in Role if any(c.role is role for c in columns)]
    notes = [
        ("height, depth:", size),
        ("  " + spatial.describe().replace("clamped to ", ""), size),
        ("thickness, bar height:", size),
        ("  " + channel.describe().replace("clamped to ", ""), size),
    ]
    bounds = figure.drawing
    width, height = bounds.x1 - bounds.x0, bounds.y1 - bounds.y0
    key_width = max(
        [swatch * 1.4 + len(role.value) * size * CHAR_WIDTH for role in roles]
        + [len(text) * s * CHAR_WIDTH for text, s in notes]
    )
    right_ratio = (width + font * 2 + key_width) / height
    bottom_ratio = width / (height + font * 1.8 + size * LINE_HEIGHT * 4)
    if abs(right_ratio - 3) < abs(bottom_ratio - 3):
        x, y = bounds.x1 + font * 2, bounds.y0 + size
        for role in roles:
            _swatch(figure, options, role, x, y, swatch, size)
            y += size * LINE_HEIGHT * 1.3
    else:
        x, y = bounds.x0, bounds.y1 + font * 1.8
        for role in roles:
            item = swatch * 1.4 + len(role.value) * size * CHAR_WIDTH
            if x > bounds.x0 and x + item > bounds.x1:
                x, y = bounds.x0, y + size * LINE_HEIGHT * 1.3
            _swatch(figure, options, role, x, y, swatch, size)
            x += item + size * 1.5
        x, y = bounds.x0, y + size * LINE_HEIGHT * 0.3
        notes = [(f"height, depth: {spatial.describe()}", size), (f"thickness, bar height: {channel.describe()}", size)]
    for text, text_size in notes:
        y += text_size * LINE_HEIGHT * 1.1
        figure.labels.append(Label(x, y, text, text_size, anchor="start"))


def _swatch(figure: Figure, options: Options, role: Role, x: float, y: float, swatch: float, size: float) -> None:
    color = options.colors[role]
    figure.polygons.append(
        Polygon(((x, y - swatch), (x + swatch, y - swatch), (x + swatch, y), (x, y)), color, role="legend")
    )
    figure.labels.append(Label(x + swatch * 1.4, y - swatch * 0.1, role.value, size, anchor="start"))


def render_svg(figure: Figure, id_prefix: str = "archcalc") -> str:
    """A standalone SVG: text as <text>, no scripts, fonts or images; the viewBox fits the drawing."""
    from .templating import render

    bounds = figure.bounds()
    margin = figure.font_size
    box = Box(bounds.x0 - margin, bounds.y0 - margin, bounds.x1 + margin, bounds.y1 + margin)
    return render(
        "figure3d.svg.j2",
        box=box,
        title=figure.title,
        font_family=FONT_FAMILY,
        id_prefix=id_prefix,
        stroke=max(0.8, figure.font_size / 18),
        polygons=figure.polygons,
        segments=sorted(figure.segments, key=lambda s: not s.dashed),
        labels=figure.labels,
    )


_LATEX_SPECIALS = {
    "\\": r"\textbackslash{}", "{": r"\{", "}": r"\}", "$": r"\$", "&": r"\&", "#": r"\#", "^": r"\^{}",
    "_": r"\_", "%": r"\%", "~": r"\~{}", "×": r"\ensuremath{\times}", "√": r"\ensuremath{\surd}",
    "₂": r"\ensuremath{_2}", "·": r"\ensuremath{\cdot}", "–": "--", "<": r"\textless{}", ">": r"\textgreater{}",
}  # fmt: skip
PX_TO_CM = 0.02


def latex_text(text: str) -> str:
    """Text for a TikZ node: every LaTeX special character escaped, so a name cannot run commands."""
    return "".join(_LATEX_SPECIALS.get(char, char) for char in text.replace("\n", " "))


def render_tikz(figure: Figure) -> str:
    """The same figure as a ``tikzpicture`` for LaTeX documents (needs ``\\usepackage{tikz}``)."""
    from .templating import number

    colors: dict[str, str] = {}

    def color(value: str) -> str:
        if value not in colors:
            colors[value] = f"archcalc{len(colors)}"
        return colors[value]

    body: list[str] = []
    for polygon in figure.polygons:
        path = " -- ".join(f"({number(x)},{number(y)})" for x, y in polygon.points)
        body.append(f"\\filldraw[fill={color(polygon.fill)}, draw={color(polygon.stroke)}] {path} -- cycle;")
    for s in sorted(figure.segments, key=lambda s: not s.dashed):
        style = [f"draw={color(s.stroke)}", f"line width={number(max(s.width, 0.6) * PX_TO_CM * 28.45)}pt"]
        if s.dashed:
            style.append("dashed")
        if s.arrow:
            style.append("-{Stealth}")
        body.append(f"\\draw[{', '.join(style)}] ({number(s.x0)},{number(s.y0)}) -- ({number(s.x1)},{number(s.y1)});")
    for label in figure.labels:
        anchor = {"start": "base west", "middle": "base", "end": "base east"}[label.anchor]
        size = label.size * PX_TO_CM * 28.45  # px → pt at this picture's scale
        font = f"\\fontsize{{{number(size)}}}{{{number(size * 1.2)}}}\\selectfont" + (
            "\\bfseries" if label.bold else ""
        )
        body.append(
            f"\\node[anchor={anchor}, inner sep=0, font={font}] at ({number(label.x)},{number(label.y)}) {{{latex_text(label.text)}}};"
        )
    head = [
        f"% {latex_text(figure.title)}: generated by archcalc. Needs \\usepackage{{tikz}} and \\usetikzlibrary{{arrows.meta}}.",
        f"\\begin{{tikzpicture}}[x={PX_TO_CM}cm, y=-{PX_TO_CM}cm, line join=round]",
    ]
    head += [f"\\definecolor{{{name}}}{{HTML}}{{{value.lstrip('#').upper()}}}" for value, name in colors.items()]
    return "\n".join(head + body + ["\\end{tikzpicture}"]) + "\n"
