"""The figure as PDF or PNG, drawn with matplotlib element by element from the SVG that
``export.render_svg`` writes for it, so the two cannot drift apart.

The page has the SVG's stated size (its ``width``/``height``: the print size set on the figure);
polygons, lines with their widths and dashes, the arrowhead marker and every label are drawn in
the SVG's order and units, scaled to points. PDF text stays text (TrueType, ``pdf.fonttype`` 42)
and the file carries no date, so the same figure gives the same bytes. matplotlib is imported here
only, when called.
"""

from __future__ import annotations

import enum
import io
import logging
import math
import re
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from ..errors import OptionError
from .export import render_svg
from .primitives import Box, Figure

DEFAULT_DPI = 300
MAX_PIXELS = 100_000_000  # a PNG larger than this is refused rather than filling memory
_SVG = "{http://www.w3.org/2000/svg}"
_UNIT_PT = {"pt": 1.0, "px": 0.75, "": 0.75, "in": 72.0, "cm": 72 / 2.54, "mm": 72 / 25.4, "pc": 12.0}
_LENGTH = re.compile(r"\s*([0-9.]+(?:e[-+]?[0-9]+)?)\s*(pt|px|in|cm|mm|pc|)\s*", re.IGNORECASE)
_NUMBER = re.compile(r"-?[0-9.]+(?:e[-+]?[0-9]+)?", re.IGNORECASE)
_ANCHOR = {"start": "left", "middle": "center", "end": "right"}


class RasterFormat(enum.StrEnum):
    PDF = "pdf"
    PNG = "png"


def check_dpi(dpi: int) -> int:
    """A DPI between 36 and 2400, else an OptionError saying so."""
    if isinstance(dpi, bool) or not isinstance(dpi, int) or not 36 <= dpi <= 2400:
        raise OptionError(f"{dpi!r}: the dpi is a whole number from 36 to 2400", option="--dpi")
    return dpi


@contextmanager
def quiet_font_search() -> Iterator[None]:
    """Font lists name fonts of other systems (and CJK ones for Chinese text); matplotlib would log
    each one this system lacks."""
    logger = logging.getLogger("matplotlib.font_manager")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        yield
    finally:
        logger.setLevel(level)


def _length_pt(text: str) -> float:
    match = _LENGTH.fullmatch(text)
    if match is None:
        raise ValueError(f"not an SVG length: {text!r}")
    return float(match.group(1)) * _UNIT_PT[match.group(2).lower()]


@dataclass(frozen=True)
class Page:
    """The SVG's canvas: its viewBox (figure units) and its stated size in points."""

    box: Box
    width_pt: float
    height_pt: float

    @property
    def pt(self) -> float:
        """Points per figure unit."""
        return self.width_pt / (self.box.x1 - self.box.x0)


def page_of(root: ET.Element) -> Page:
    x, y, w, h = (float(v) for v in root.attrib["viewBox"].split())
    return Page(Box(x, y, x + w, y + h), _length_pt(root.attrib["width"]), _length_pt(root.attrib["height"]))


def svg_layout(figure: Figure) -> Page:
    """The page ``render_svg`` lays this figure on."""
    return page_of(ET.fromstring(render_svg(figure)))


def _walk(element: ET.Element, inherited: dict[str, str]) -> Iterator[tuple[ET.Element, dict[str, str]]]:
    """Every drawn element in document order, with the presentation attributes it inherits."""
    attributes = {**inherited, **{k: v for k, v in element.attrib.items() if k.startswith(("stroke", "fill", "font"))}}
    tag = element.tag.removeprefix(_SVG)
    if tag in ("defs", "marker", "title", "desc"):
        return
    if tag in ("polygon", "line", "text", "rect"):
        yield element, attributes
    for child in element:
        yield from _walk(child, attributes)


@dataclass(frozen=True)
class Marker:
    """The arrowhead: its outline in marker units, its reference point, its size per stroke width."""

    outline: list[tuple[float, float]]
    ref_x: float
    ref_y: float
    per_width: float
    fill: str


def _marker(root: ET.Element) -> Marker | None:
    marker = root.find(f".//{_SVG}marker")
    if marker is None:
        return None
    path = marker.find(f"{_SVG}path")
    numbers = [float(n) for n in _NUMBER.findall(path.attrib["d"])]
    outline = list(zip(numbers[::2], numbers[1::2], strict=True))
    view_width = float(marker.attrib["viewBox"].split()[2])
    per_width = float(marker.attrib["markerWidth"]) / view_width
    ref_x, ref_y = float(marker.attrib["refX"]), float(marker.attrib["refY"])
    return Marker(outline, ref_x, ref_y, per_width, path.attrib.get("fill", "#000000"))


def _arrowhead(x0: float, y0: float, x1: float, y1: float, width: float, marker: Marker) -> list[tuple[float, float]]:
    length = math.hypot(x1 - x0, y1 - y0) or 1.0
    ux, uy = (x1 - x0) / length, (y1 - y0) / length
    unit = marker.per_width * width  # markerUnits="strokeWidth", SVG's default
    return [
        (x1 + ((px - marker.ref_x) * ux - (py - marker.ref_y) * uy) * unit,
         y1 + ((px - marker.ref_x) * uy + (py - marker.ref_y) * ux) * unit)
        for px, py in marker.outline
    ]  # fmt: skip


def _draw(axes: Any, root: ET.Element, pt: float) -> None:
    from matplotlib.patches import Polygon as Patch

    marker = _marker(root)
    for z, (element, style) in enumerate(_walk(root, {}), start=1):
        tag, a = element.tag.removeprefix(_SVG), element.attrib
        stroke_width = float(style.get("stroke-width", "1")) * pt
        if tag in ("polygon", "rect"):
            if tag == "rect":
                x, y, w, h = (float(a[k]) for k in ("x", "y", "width", "height"))
                points = [(x, y), (x + w, y), (x + w, y + h), (x, y + h)]
            else:
                numbers = [float(n) for n in _NUMBER.findall(a["points"])]
                points = list(zip(numbers[::2], numbers[1::2], strict=True))
            stroke = style.get("stroke", "none")
            axes.add_patch(
                Patch(points, closed=True, facecolor=style.get("fill", "#000000"),
                      edgecolor=stroke if stroke != "none" else "none",
                      linewidth=stroke_width if stroke != "none" else 0, joinstyle="round", zorder=z)
            )  # fmt: skip
        elif tag == "line":
            x0, y0, x1, y1 = (float(a[k]) for k in ("x1", "y1", "x2", "y2"))
            dashes = [float(n) * pt for n in _NUMBER.findall(a.get("stroke-dasharray", ""))]
            axes.plot([x0, x1], [y0, y1], color=style.get("stroke", "#000000"), linewidth=stroke_width,
                      linestyle=(0, tuple(dashes)) if dashes else "solid", solid_capstyle="butt",
                      dash_capstyle="butt", zorder=z)  # fmt: skip
            if "marker-end" in a and marker is not None:
                head = _arrowhead(x0, y0, x1, y1, stroke_width / pt, marker)
                axes.add_patch(Patch(head, closed=True, facecolor=marker.fill, linewidth=0, zorder=z))
        else:
            axes.text(float(a["x"]), float(a["y"]), element.text or "", fontsize=float(style["font-size"]) * pt,
                      ha=_ANCHOR[a.get("text-anchor", "start")], va="baseline", color=style.get("fill", "#000000"),
                      fontweight=style.get("font-weight", "normal"), zorder=z)  # fmt: skip


def _fonts(root: ET.Element) -> list[str]:
    families = [f.strip().strip("'\"") for f in root.attrib.get("font-family", "DejaVu Sans").split(",")]
    return [f for f in families if f not in ("sans-serif", "serif")] or ["DejaVu Sans"]


def render_raster(figure: Figure, fmt: RasterFormat | str = RasterFormat.PDF, dpi: int = DEFAULT_DPI) -> bytes:
    """PDF or PNG bytes of the figure at its stated size (PNG: `dpi` pixels per inch)."""
    fmt, dpi = RasterFormat(fmt), check_dpi(dpi)
    root = ET.fromstring(render_svg(figure))
    page = page_of(root)
    if fmt is RasterFormat.PNG and page.width_pt * page.height_pt / 72**2 * dpi**2 > MAX_PIXELS:
        size = f"{page.width_pt / 72 * dpi:.0f}×{page.height_pt / 72 * dpi:.0f} px"
        raise OptionError(f"{size} is too large; lower --dpi", option="--dpi")
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure as Canvas

    # font.family as the SVG's list of names: matplotlib falls back along it glyph by glyph, so
    # Chinese labels take a CJK font where one is installed, as a browser does with the SVG
    settings = {"pdf.fonttype": 42, "font.family": _fonts(root), "lines.scale_dashes": False,
                "path.simplify": False}  # fmt: skip
    with matplotlib.rc_context(settings), quiet_font_search():
        canvas = Canvas(figsize=(page.width_pt / 72, page.height_pt / 72), dpi=dpi, facecolor="#ffffff")
        axes = canvas.add_axes((0, 0, 1, 1))
        axes.set_axis_off()
        axes.set_xlim(page.box.x0, page.box.x1)
        axes.set_ylim(page.box.y1, page.box.y0)  # SVG y runs down
        _draw(axes, root, page.pt)
        buffer = io.BytesIO()
        if fmt is RasterFormat.PDF:
            metadata = {"CreationDate": None, "Title": figure.title, "Creator": "archcalc"}
            canvas.savefig(buffer, format="pdf", metadata=metadata)
        else:
            canvas.savefig(buffer, format="png", dpi=dpi, metadata={"Software": None})
    return buffer.getvalue()
