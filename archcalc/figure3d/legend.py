"""The colour key, in rows below the drawing. (The size mappings go into the SVG's <desc>: once
the figure is scaled to print, a mapping in the legend would state the wrong numbers.)"""

from __future__ import annotations

from ..palette import Role
from .columns import Column
from .options import Options
from .primitives import LINE_HEIGHT, SMALL_FONT, Figure, Label, Polygon, text_width


def _legend(figure: Figure, options: Options, columns: list[Column]) -> None:
    """One swatch per role drawn, wrapped at the drawing's width."""
    size = SMALL_FONT
    swatch = size * 0.9
    roles = [role for role in Role if any(c.role is role for c in columns)]
    bounds = figure.drawing
    right = max(bounds.x1, bounds.x0 + 120.0)
    x, y = bounds.x0, bounds.y1 + size * 1.8
    for role in roles:
        item = swatch * 1.4 + text_width(role.label_in(options.lang), size)
        if x > bounds.x0 and x + item > right:
            x, y = bounds.x0, y + size * LINE_HEIGHT * 1.3
        _swatch(figure, options, role, x, y, swatch, size)
        x += item + size * 1.5


def _swatch(figure: Figure, options: Options, role: Role, x: float, y: float, swatch: float, size: float) -> None:
    color = options.colors[role]
    figure.polygons.append(
        Polygon(((x, y - swatch), (x + swatch, y - swatch), (x + swatch, y), (x, y)), color, role="legend")
    )
    figure.labels.append(Label(x + swatch * 1.4, y - swatch * 0.1, role.label_in(options.lang), size, anchor="start"))
