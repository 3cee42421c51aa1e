"""Drawing blocks, kernels and connections into a Figure."""

from __future__ import annotations

from dataclasses import dataclass, field

from .columns import Column
from .primitives import DEPTH_DX, DEPTH_DY, Box, Figure, Polygon, Segment


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
