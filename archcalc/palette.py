"""One colour palette for every view: the 3D figure, the graph and the charts colour by role.

A layer kind declares its role (see ``kinds.base.Kind.role``); views never look at kind names.
"""

from __future__ import annotations

import enum
import itertools
import math
import re

from .errors import OptionError
from .i18n import Lang, Message, say


class Role(enum.StrEnum):
    """What a drawn block is; sets its colour and its legend entry."""

    INPUT = "input"
    CONVOLUTION = "convolution"
    POOLING = "pooling"
    RESAMPLING = "resampling"
    DENSE = "dense"
    MERGE = "merge"
    OUTPUT = "output"

    @property
    def label(self) -> str:
        """The legend's wording."""
        return "fully connected" if self is Role.DENSE else self.value

    def label_in(self, lang: Lang) -> str:
        """The legend's wording in `lang`."""
        return say(ROLE_LABELS[self], lang) if lang is not Lang.EN else self.label


ROLE_LABELS: dict[Role, Message] = {
    Role.INPUT: {"en": "input", "zh": "输入"},
    Role.CONVOLUTION: {"en": "convolution", "zh": "卷积"},
    Role.POOLING: {"en": "pooling", "zh": "池化"},
    Role.RESAMPLING: {"en": "resampling", "zh": "重采样"},
    Role.DENSE: {"en": "fully connected", "zh": "全连接"},
    Role.MERGE: {"en": "merge", "zh": "合并"},
    Role.OUTPUT: {"en": "output", "zh": "输出"},
}

# Okabe & Ito's colour-blind-safe hues (yellow, sky blue, orange, reddish purple, bluish green,
# blue), each set in CIELAB to a lightness step of about 8.5 L* (97 … 46) and 85 % of its chroma,
# so fills stay light under dark outlines and every pair differs in greyscale as well as in hue.
# `differences` measures it; tests/test_palette.py holds it to thresholds.
PALETTE: dict[Role, str] = {
    Role.INPUT: "#f6f6f6",  # L* 97
    Role.POOLING: "#eee15e",  # L* 88
    Role.CONVOLUTION: "#88cffd",  # L* 80
    Role.MERGE: "#e3a334",  # L* 71
    Role.RESAMPLING: "#ca83a9",  # L* 63
    Role.DENSE: "#28936e",  # L* 55
    Role.OUTPUT: "#2f71a8",  # L* 46
}
NEUTRAL = "#ffffff"  # blocks a view draws without a role (the graph's elementwise layers)


class Vision(enum.StrEnum):
    """How a reader sees the palette: normal colour vision, a dichromacy, or a greyscale print."""

    NORMAL = "normal"
    PROTANOPIA = "protanopia"
    DEUTERANOPIA = "deuteranopia"
    TRITANOPIA = "tritanopia"
    GREYSCALE = "greyscale"


Matrix = tuple[tuple[float, float, float], ...]
# Machado, Oliveira & Fernandes (2009), severity 1.0, applied to linear RGB.
MACHADO_2009: dict[Vision, Matrix] = {
    Vision.PROTANOPIA: ((0.152286, 1.052583, -0.204868), (0.114503, 0.786281, 0.099216), (-0.003882, -0.048116, 1.051998)),
    Vision.DEUTERANOPIA: ((0.367322, 0.860646, -0.227968), (0.280085, 0.672501, 0.047413), (-0.011820, 0.042940, 0.968881)),
    Vision.TRITANOPIA: ((1.255528, -0.076749, -0.178779), (-0.078411, 0.930809, 0.147602), (0.004733, 0.691367, 0.303900)),
}  # fmt: skip
_SRGB_TO_XYZ: Matrix = ((0.4124564, 0.3575761, 0.1804375), (0.2126729, 0.7151522, 0.0721750), (0.0193339, 0.1191920, 0.9503041))  # fmt: skip
_D65 = (0.95047, 1.0, 1.08883)
Lab = tuple[float, float, float]


def linear_rgb(color: str) -> tuple[float, float, float]:
    """``#rrggbb`` → linear-light RGB in 0..1 (the sRGB transfer curve undone)."""
    channels = (int(color[i : i + 2], 16) / 255 for i in (1, 3, 5))
    r, g, b = (c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels)
    return r, g, b


def _apply(matrix: Matrix, v: tuple[float, float, float]) -> tuple[float, float, float]:
    r, g, b = (min(1.0, max(0.0, row[0] * v[0] + row[1] * v[1] + row[2] * v[2])) for row in matrix)
    return r, g, b


def cielab(color: str, vision: Vision = Vision.NORMAL) -> Lab:
    """CIELAB (D65) of `color` as seen with `vision`; greyscale keeps only the lightness L*."""
    rgb = linear_rgb(color)
    if vision in MACHADO_2009:
        rgb = _apply(MACHADO_2009[vision], rgb)
    x, y, z = (
        sum(k * c for k, c in zip(row, rgb, strict=True)) / white for row, white in zip(_SRGB_TO_XYZ, _D65, strict=True)
    )

    def f(t: float) -> float:
        return t ** (1 / 3) if t > (6 / 29) ** 3 else t / (3 * (6 / 29) ** 2) + 4 / 29

    lightness = 116 * f(y) - 16
    if vision is Vision.GREYSCALE:
        return lightness, 0.0, 0.0
    return lightness, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))


def delta_e(a: Lab, b: Lab) -> float:
    """CIE 1976 colour difference ΔE*ab (in greyscale: the lightness difference ΔL*)."""
    return math.dist(a, b)


def differences(palette: dict[Role, str] | None = None) -> dict[Vision, tuple[float, Role, Role]]:
    """For each way of seeing, the smallest ΔE between two roles' colours, and which two."""
    colors = palette or PALETTE
    closest = {}
    for vision in Vision:
        seen = {role: cielab(color, vision) for role, color in colors.items()}
        pairs = itertools.combinations(sorted(seen), 2)
        closest[vision] = min((delta_e(seen[a], seen[b]), a, b) for a, b in pairs)
    return closest


def parse_colors(items: tuple[str, ...] | list[str]) -> dict[Role, str]:
    """``ROLE=#RRGGBB`` overrides on top of the palette; a bad item is an OptionError listing the roles."""
    palette = dict(PALETTE)
    for item in items:
        key, _, value = item.partition("=")
        try:
            role = Role(key.strip().lower())
        except ValueError:
            role = None
        if role is None or not re.fullmatch(r"#[0-9a-fA-F]{6}", value.strip()):
            raise OptionError(
                f"{item!r}: expected ROLE=#RRGGBB with ROLE one of {', '.join(r.value for r in Role)}",
                option="--color",
            )
        palette[role] = value.strip().lower()
    return palette
