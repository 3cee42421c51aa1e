"""What a figure is asked to show: size mappings, labels, colours, direction; parsed and checked here."""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field

from ..errors import OptionError
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

    def describe(self) -> str:
        formula = {Scale.LINEAR: "{f:g}·n", Scale.SQRT: "{f:g}·√n", Scale.LOG: "{f:g}·(1 + log₂ n)"}[self.kind]
        return formula.format(f=self.factor) + f" px (clamped to {self.minimum:g}–{self.maximum:g})"


DEFAULT_SPATIAL = {Scale.SQRT: 11.0, Scale.LOG: 20.0, Scale.LINEAR: 0.8}
DEFAULT_CHANNELS = {Scale.SQRT: 3.5, Scale.LOG: 8.0, Scale.LINEAR: 0.25}


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

    def spatial_map(self) -> Mapping:
        return Mapping(self.spatial, self.spatial_factor or DEFAULT_SPATIAL[self.spatial], 6, 220)

    def channel_map(self) -> Mapping:
        return Mapping(self.channels, self.channel_factor or DEFAULT_CHANNELS[self.channels], 3, 280)


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
) -> Options:
    """Options from the command line's words, each checked with an error that lists what is allowed."""
    return Options(
        Scale(spatial),
        Scale(channels),
        legend=legend,
        labels=parse_labels(labels),
        colors=parse_colors(colors),
        right_to_left=FlowDirection(direction) is FlowDirection.RL,
    )
