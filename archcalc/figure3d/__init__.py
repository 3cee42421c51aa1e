"""The 3D-ish architecture figure in the style of the AlexNet paper, computed (never hand-placed).

Geometry first: ``build_figure`` turns an Analysis into a Figure of plain primitives (polygons,
segments, labels) with known bounding boxes, so tests can check collisions from the geometry;
``render_svg`` then writes them through a jinja2 template (autoescaped), ``render_tikz`` as TikZ,
``render_raster`` as PDF or PNG (matplotlib, loaded only then).
Output is deterministic: no randomness, no timestamps, fixed number formatting.

Projection: oblique. x runs along the network (channel thickness), y is height (H), z is depth (W),
drawn receding up and to the right. Each feature map is a cuboid; fully connected layers are thin
tall bars. One monotone mapping sizes every spatial extent and one every channel (or unit) count.

The parts: ``columns`` (which layers are blocks, read from their kinds), ``layout`` (placing
them), ``draw`` (cuboids, kernels, arrows), ``legend``, ``export`` (SVG, TikZ).
"""

from __future__ import annotations

import importlib
from typing import Any

# Loaded on first use, so that `archcalc table` (which needs only the option names) stays fast.
_EXPORTS = {
    "PALETTE": "..palette", "Role": "..palette",
    "Column": ".columns", "columns_of": ".columns",
    "latex_text": ".export", "render_svg": ".export", "render_tikz": ".export",
    "RasterFormat": ".raster", "render_raster": ".raster",
    "build_figure": ".layout",
    "PageFigure": ".page", "page_figure": ".page",
    "FlowDirection": ".options", "LabelSet": ".options", "Mapping": ".options", "Options": ".options",
    "Scale": ".options", "figure_options": ".options",
    "Box": ".primitives", "Figure": ".primitives", "Label": ".primitives", "Polygon": ".primitives",
    "Segment": ".primitives",
}  # fmt: skip


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(_EXPORTS[name], __name__), name)


__all__ = [
    "PALETTE",
    "Box",
    "Column",
    "Figure",
    "FlowDirection",
    "Label",
    "LabelSet",
    "Mapping",
    "Options",
    "PageFigure",
    "Polygon",
    "RasterFormat",
    "Role",
    "Scale",
    "Segment",
    "build_figure",
    "columns_of",
    "figure_options",
    "latex_text",
    "page_figure",
    "render_raster",
    "render_svg",
    "render_tikz",
]
