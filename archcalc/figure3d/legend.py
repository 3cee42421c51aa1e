"""The colour key and the two size mappings, placed below or beside the drawing."""

from __future__ import annotations

from ..palette import Role
from .columns import Column
from .options import Mapping, Options
from .primitives import CHAR_WIDTH, LINE_HEIGHT, SMALL, Figure, Label, Polygon


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
        [swatch * 1.4 + len(role.label) * size * CHAR_WIDTH for role in roles]
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
            item = swatch * 1.4 + len(role.label) * size * CHAR_WIDTH
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
    figure.labels.append(Label(x + swatch * 1.4, y - swatch * 0.1, role.label, size, anchor="start"))
