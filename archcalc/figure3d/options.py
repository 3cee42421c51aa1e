"""What a figure is asked to show: size mappings, labels, colours, direction; parsed and checked here."""

from __future__ import annotations

import enum
import math
import re
from dataclasses import dataclass, field

from ..errors import OptionError
from ..format import Notation, parse_notation
from ..i18n import Lang, Message, resolve_lang, say
from ..palette import PALETTE, Role, parse_colors


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

    def describe(self, lang: Lang = Lang.EN) -> str:
        """The mapping as a formula in layout units, with its clamps, its words in `lang`."""
        formula = {Scale.LINEAR: "{f:.3g}·n", Scale.SQRT: "{f:.3g}·√n", Scale.LOG: "{f:.3g}·(1 + log₂ n)"}[self.kind]
        low, high = f"{self.minimum:.3g}", f"{self.maximum:.3g}"
        return say(MAPPING, lang, formula=formula.format(f=self.factor), low=low, high=high)

    def scaled(self, g: float) -> Mapping:
        """The same mapping with its factor and ceiling times g; the floor stays (a printable minimum)."""
        return Mapping(self.kind, self.factor * g, self.minimum, max(self.minimum, self.maximum * g))


# The SVG's <desc>: the print width (written by the export, which knows the scale), then both
# mappings (written by the layout).
PRINTED: Message = {
    "en": "Printed {width} wide: 1 unit = {scale} pt. {rest}",
    "zh": "按 {width} 宽打印：1 单位 = {scale} pt。{rest}",
}
SCALES: Message = {
    "en": "Height and depth of a map: {spatial}; thickness of a map and height of a bar: {channels}.",
    "zh": "特征图的高与深：{spatial}；特征图的厚度与条形的高度：{channels}。",
}
MAPPING: Message = {"en": "{formula} units (clamped to {low}–{high})", "zh": "{formula} 单位（限制在 {low}–{high}）"}


def describe_scales(spatial: Mapping, channel: Mapping, lang: Lang = Lang.EN) -> str:
    """What the sizes of the blocks mean, in `lang`: the <desc> after its print width."""
    return say(SCALES, lang, spatial=spatial.describe(lang), channels=channel.describe(lang))


def describe_print(width: PrintWidth, scale: float, rest: str, lang: Lang = Lang.EN) -> str:
    """The <desc>: the width the figure is printed at and a unit's size there, then `rest`."""
    return say(PRINTED, lang, width=width.text, scale=f"{scale:.3f}", rest=rest)


# In points at the printed size, at geometric scale 1 (the layout scales them to fit the width).
DEFAULT_SPATIAL = {Scale.SQRT: 5.0, Scale.LOG: 9.0, Scale.LINEAR: 0.36}
DEFAULT_CHANNELS = {Scale.SQRT: 1.6, Scale.LOG: 3.6, Scale.LINEAR: 0.11}
MAP_MIN = 8.0  # pt: the smallest map face still holds a 2 mm kernel


class LabelSet(enum.StrEnum):
    """The label groups a figure can show."""

    NAMES = "names"
    OPS = "ops"
    DIMS = "dims"
    STREAMS = "streams"


class FlowDirection(enum.StrEnum):
    """Which way the 3D figure runs (the graph view takes four directions)."""

    LR = "lr"
    RL = "rl"


ALL_LABELS = frozenset(LabelSet)


class LengthUnit(enum.StrEnum):
    """Units of a print size, each with its length in points (1 pt = 1/72 in)."""

    CM = "cm"
    MM = "mm"
    IN = "in"
    PT = "pt"

    @property
    def points(self) -> float:
        return {"cm": 72 / 2.54, "mm": 72 / 25.4, "in": 72.0, "pt": 1.0}[self.value]


DEFAULT_WIDTH = "17cm"  # a journal's text width; one column is 8.5cm
_LENGTH = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*")


@dataclass(frozen=True)
class PrintWidth:
    """The width the figure is printed at, as written (``17cm``) and in points."""

    text: str
    points: float


def parse_width(text: str) -> PrintWidth:
    """``17cm``, ``85mm``, ``6.5in``, ``482pt`` → the print width; anything else is an OptionError listing the units."""
    units = ", ".join(unit.value for unit in LengthUnit)
    match = _LENGTH.fullmatch(text.lower())
    if match is None or match.group(2) not in list(LengthUnit):
        raise OptionError(f"{text!r} is not a length: a number and one of {units} (17cm, 8.5cm)", option="--width")
    value, unit = float(match.group(1)), LengthUnit(match.group(2))
    points = value * unit.points
    if not 2 * LengthUnit.CM.points <= points <= 100 * LengthUnit.CM.points:
        raise OptionError(f"{text!r}: the figure's width must be between 2cm and 100cm", option="--width")
    return PrintWidth(f"{value:g}{unit.value}", points)


@dataclass(frozen=True)
class Options:
    spatial: Scale = Scale.SQRT
    channels: Scale = Scale.SQRT
    spatial_factor: float | None = None
    channel_factor: float | None = None
    legend: bool = True
    labels: frozenset[LabelSet] = ALL_LABELS
    colors: dict[Role, str] = field(default_factory=lambda: dict(PALETTE))
    right_to_left: bool = False
    width: PrintWidth = field(default_factory=lambda: parse_width(DEFAULT_WIDTH))
    expand: bool = False  # every layer its own block, even where a repeat block could be drawn once
    notation: Notation | None = None  # how map shapes are written; None: as the table around it does (C×H×W)
    lang: Lang = Lang.EN  # the language of the legend's words

    def spatial_map(self) -> Mapping:
        return Mapping(self.spatial, self.spatial_factor or DEFAULT_SPATIAL[self.spatial], MAP_MIN, 100)

    def channel_map(self) -> Mapping:
        return Mapping(self.channels, self.channel_factor or DEFAULT_CHANNELS[self.channels], 2, 130)


def parse_labels(text: str) -> frozenset[LabelSet]:
    """``names,ops`` → the label set; an unknown name is an OptionError listing the allowed ones."""
    chosen = {label.strip().lower() for label in text.split(",") if label.strip()}
    allowed = [label.value for label in LabelSet]
    unknown = sorted(chosen - set(allowed))
    if unknown:
        raise OptionError(f"unknown label set {unknown}; allowed: {', '.join(allowed)}", option="--labels")
    return frozenset(LabelSet(label) for label in chosen)


def figure_options(
    spatial: Scale | str = Scale.SQRT,
    channels: Scale | str = Scale.SQRT,
    legend: bool = True,
    labels: str = ",".join(LabelSet),
    colors: tuple[str, ...] | list[str] = (),
    direction: FlowDirection | str = FlowDirection.LR,
    width: str = DEFAULT_WIDTH,
    expand: bool = False,
    lang: Lang | str = Lang.EN,
    notation: Notation | str | None = None,
) -> Options:
    """Options from the command line's words, each checked with an error that lists what is allowed."""
    return Options(
        Scale(spatial),
        Scale(channels),
        legend=legend,
        labels=parse_labels(labels),
        colors=parse_colors(colors),
        right_to_left=FlowDirection(direction) is FlowDirection.RL,
        width=parse_width(width),
        expand=expand,
        lang=resolve_lang(lang),
        notation=None if notation is None else parse_notation(notation),
    )
