"""Plain geometric primitives of the figure, with the bounding boxes the layout and the tests check."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from typing import Any

from ..i18n import Lang

DEPTH_DX, DEPTH_DY = 0.42, -0.30  # screen offset per unit of depth (z)
# Latin fonts first, then common CJK ones, so Chinese legends render wherever such a font is installed
FONT_FAMILY = (
    "DejaVu Sans, Helvetica, Arial, Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, "
    "WenQuanYi Micro Hei, sans-serif"
)
CHAR_WIDTH = 0.62  # average advance of the font, in font sizes (a safe over-estimate)
LINE_HEIGHT = 1.25

# Print sizes, in points at the stated width (the figure's unit): what a reader sees.
FONT = 7.5  # layer names
SMALL_FONT = 7.0  # every other text: the smallest legible size
OUTLINE_WIDTH = 0.75  # block outlines
CONNECTION_WIDTH = 0.75  # arrows and skip connections
THIN_WIDTH = 0.5  # kernel projections and hidden edges: the thinnest line printed
KERNEL_MIN = 72 / 25.4 * 2  # 2 mm: the smallest kernel drawn
MIN_TEXT, MIN_LINE = 7.0, 0.5

# Advance widths (in font sizes) of DejaVu Sans, the first and widest font of FONT_FAMILY, measured
# from its regular and bold faces: text boxes are estimated from these, never smaller than printed.
_GLYPHS = " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefghijklmnopqrstuvwxyz{|}~×→‖·√₂–…"
_REGULAR = dict(
    zip(
        _GLYPHS,
        (
            0.318,
            0.401,
            0.46,
            0.838,
            0.637,
            0.951,
            0.78,
            0.275,
            0.391,
            0.391,
            0.5,
            0.838,
            0.318,
            0.361,
            0.318,
            0.337,
            0.637,
            0.637,
            0.637,
            0.637,
            0.637,
            0.637,
            0.637,
            0.637,
            0.637,
            0.637,
            0.337,
            0.337,
            0.838,
            0.838,
            0.838,
            0.531,
            1,
            0.685,
            0.687,
            0.699,
            0.771,
            0.632,
            0.576,
            0.775,
            0.752,
            0.295,
            0.295,
            0.656,
            0.558,
            0.863,
            0.749,
            0.788,
            0.604,
            0.788,
            0.695,
            0.635,
            0.611,
            0.732,
            0.685,
            0.989,
            0.686,
            0.611,
            0.686,
            0.391,
            0.337,
            0.391,
            0.838,
            0.5,
            0.5,
            0.613,
            0.635,
            0.55,
            0.635,
            0.616,
            0.353,
            0.635,
            0.634,
            0.278,
            0.278,
            0.58,
            0.278,
            0.975,
            0.634,
            0.612,
            0.635,
            0.635,
            0.412,
            0.521,
            0.393,
            0.634,
            0.592,
            0.818,
            0.592,
            0.592,
            0.525,
            0.637,
            0.337,
            0.637,
            0.838,
            0.838,
            0.838,
            0.5,
            0.318,
            0.638,
            0.401,
            0.5,
            1,
        ),
        strict=True,
    )
)
_BOLD = dict(
    zip(
        _GLYPHS,
        (
            0.349,
            0.457,
            0.521,
            0.838,
            0.696,
            1.002,
            0.873,
            0.307,
            0.458,
            0.458,
            0.523,
            0.838,
            0.38,
            0.416,
            0.38,
            0.366,
            0.696,
            0.696,
            0.696,
            0.696,
            0.696,
            0.696,
            0.696,
            0.696,
            0.696,
            0.696,
            0.4,
            0.4,
            0.838,
            0.838,
            0.838,
            0.581,
            1,
            0.774,
            0.763,
            0.734,
            0.831,
            0.684,
            0.684,
            0.821,
            0.837,
            0.373,
            0.373,
            0.775,
            0.638,
            0.996,
            0.837,
            0.851,
            0.733,
            0.851,
            0.771,
            0.721,
            0.683,
            0.813,
            0.774,
            1.104,
            0.771,
            0.725,
            0.726,
            0.458,
            0.366,
            0.458,
            0.838,
            0.5,
            0.5,
            0.675,
            0.716,
            0.593,
            0.716,
            0.679,
            0.436,
            0.716,
            0.712,
            0.343,
            0.343,
            0.666,
            0.343,
            1.042,
            0.712,
            0.688,
            0.716,
            0.716,
            0.494,
            0.596,
            0.479,
            0.712,
            0.652,
            0.924,
            0.646,
            0.652,
            0.583,
            0.712,
            0.366,
            0.712,
            0.838,
            0.838,
            0.838,
            0.5,
            0.38,
            0.667,
            0.438,
            0.5,
            1,
        ),
        strict=True,
    )
)


def text_width(text: str, size: float, bold: bool = False) -> float:
    """The printed width of `text` at `size`: CJK and other wide characters one em, anything
    unknown 0.9 em."""
    advances = _BOLD if bold else _REGULAR
    total = 0.0
    for char in text:
        width = advances.get(char)
        if width is None:
            width = 1.0 if unicodedata.east_asian_width(char) in ("W", "F") else 0.9
        total += width
    return total * size


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
    role: str = "connection"  # connection (arrows), skip (skip connections), projection (kernel pyramids), hidden

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
        width = text_width(self.text, self.size, self.bold)
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
    kernels: list[Box] = field(default_factory=list)  # the front face of each kernel cuboid
    print_width: Any = None  # options.PrintWidth: the width the figure is printed at
    description: str = ""  # the scale mapping, for the SVG's <desc>
    lang: Lang = Lang.EN  # the language of its words (the export writes the rest of the <desc> in it)
    notes: list[str] = field(default_factory=list)  # what the drawing leaves out or clamps, after the mapping in <desc>

    def bounds(self) -> Box:
        boxes = [p.box for p in self.polygons] + [s.box for s in self.segments] + [t.box for t in self.labels]
        return Box(
            min(b.x0 for b in boxes), min(b.y0 for b in boxes), max(b.x1 for b in boxes), max(b.y1 for b in boxes)
        )
