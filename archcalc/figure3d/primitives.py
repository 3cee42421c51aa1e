"""Plain geometric primitives of the figure, with the bounding boxes the layout and the tests check."""

from __future__ import annotations

from dataclasses import dataclass, field

DEPTH_DX, DEPTH_DY = 0.42, -0.30  # screen offset per unit of depth (z)
FONT_FAMILY = "DejaVu Sans, Helvetica, Arial, sans-serif"
CHAR_WIDTH = 0.62  # average advance of the font, in font sizes (a safe over-estimate)
LINE_HEIGHT = 1.25
SMALL = 0.85  # secondary labels, relative to the main label size


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
