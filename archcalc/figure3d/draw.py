"""Drawing blocks, kernels and connections into a Figure (in points at the printed size)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .columns import Column
from .primitives import (
    CONNECTION_WIDTH,
    DEPTH_DX,
    DEPTH_DY,
    KERNEL_MIN,
    THIN_WIDTH,
    Box,
    Figure,
    Polygon,
    Segment,
)  # fmt: skip

SLICES = 4  # a depthwise convolution's block is drawn as this many separate channel slices


def _cuboid(
    fig: Figure, x: float, y_bottom: float, t: float, h: float, d: float, color: str, role: str,
    depthwise: bool = False,
) -> Box:  # fmt: skip
    """Front face at z = 0 from (x, y_bottom − h) to (x + t, y_bottom), depth d receding. A
    depthwise block is lines of slices on its front and top, one per group of channels."""
    dx, dy = d * DEPTH_DX, d * DEPTH_DY
    top = y_bottom - h
    # hidden edges (from the back-bottom-left corner), dashed, drawn first
    hx, hy = x + dx, y_bottom + dy
    for ex, ey in ((x + t + dx, y_bottom + dy), (x + dx, top + dy), (x, y_bottom)):
        fig.segments.append(Segment(hx, hy, ex, ey, dashed=True, stroke="#999999", width=THIN_WIDTH, role="hidden"))
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
    if depthwise and t >= 4:
        for k in range(1, SLICES):
            sx = x + t * k / SLICES
            fig.segments.append(Segment(sx, top, sx, y_bottom, stroke="#333333", width=THIN_WIDTH, role="slice"))
            fig.segments.append(Segment(sx, top, sx + dx, top + dy, stroke="#333333", width=THIN_WIDTH, role="slice"))
    box = Box(x, top + dy, x + t + dx, y_bottom)
    fig.blocks.append(box)
    return box


MARK_SEGMENTS = 24  # sides of the polygon drawn as a merge mark's circle


def _merge_mark(fig: Figure, x: float, y_bottom: float, t: float, h: float, mark: str) -> None:
    """A merge's sign in a white circle on the front face of its block, as papers draw the join:
    ⊕ a sum, ⊗ a product, ‖ a concatenation (a thin face lets the circle overhang its side)."""
    r = min(6.0, max(2.5, min(h, t) * 0.4))
    cx, cy = x + t / 2, y_bottom - h / 2
    circle = tuple(
        (cx + r * math.cos(2 * math.pi * k / MARK_SEGMENTS), cy + r * math.sin(2 * math.pi * k / MARK_SEGMENTS))
        for k in range(MARK_SEGMENTS)
    )
    fig.polygons.append(Polygon(circle, "#ffffff", role="mark"))
    a = r * 0.6
    strokes = {
        "⊕": [(-a, 0, a, 0), (0, -a, 0, a)],
        "⊗": [(-a * 0.72, -a * 0.72, a * 0.72, a * 0.72), (-a * 0.72, a * 0.72, a * 0.72, -a * 0.72)],
        "‖": [(-r * 0.25, -a, -r * 0.25, a), (r * 0.25, -a, r * 0.25, a)],
    }[mark]
    for x0, y0, x1, y1 in strokes:
        fig.segments.append(
            Segment(cx + x0, cy + y0, cx + x1, cy + y1, stroke="#333333", width=CONNECTION_WIDTH, role="mark")
        )


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


def _connect(figure: Figure, source: _Placed, target: _Placed, index: int, kernel: bool) -> None:
    """Kernel cuboid + pyramid for a window layer; arrows otherwise. Crossing lines where a layer
    reads every stream of its input."""
    pairs: list[tuple[Box, Box]]
    if len(source.boxes) == len(target.boxes) and not target.column.cross:
        pairs = list(zip(source.boxes, target.boxes, strict=True))
    else:
        pairs = [(s, t) for s in source.boxes for t in target.boxes]
    # deterministic, varied kernel positions (golden-ratio sequence)
    u = 0.25 + 0.5 * ((index * 0.618034) % 1.0)
    v = 0.3 + 0.4 * ((index * 0.381966) % 1.0)
    for source_box, target_box in pairs:
        if kernel:
            _kernel(figure, source, source_box, target, target_box, u, v)
        else:
            y0 = (source_box.y0 + source_box.y1) / 2 + source.d * DEPTH_DY * -0.25
            y1 = (target_box.y0 + target_box.y1) / 2 + target.d * DEPTH_DY * -0.25
            figure.segments.append(Segment(source_box.x1 + 1, y0, target.x - 1, y1, arrow=True, width=CONNECTION_WIDTH))


def _kernel(
    figure: Figure, source: _Placed, source_box: Box, target: _Placed, target_box: Box, u: float, v: float
) -> None:
    """A k×k cuboid standing on the source's right face (never larger than it, never under 2 mm
    unless the face itself is smaller) and a pyramid to its output position on the target."""
    layer = target.column.layer
    assert layer is not None
    kh, kw = layer.details["kernel"]
    _, H, W = source.column.shape
    h_k = min(source.h, max(KERNEL_MIN, source.h * kh / H))
    d_k = min(source.d, max(KERNEL_MIN, source.d * kw / W))
    t_k = max(2.0, min(5.0, source.t * 0.3))
    x_face = source.x + source.t  # the right face of the source block (the y–z plane)
    bottom = source_box.y1
    top = bottom - source.h
    z = min(max(source.d * v - d_k / 2, 0.0), source.d - d_k)  # nearest depth of the kernel
    yc = min(max(top + source.h * u, top + h_k / 2), bottom - h_k / 2)
    ky_bottom = yc + h_k / 2 + z * DEPTH_DY
    kx = x_face + z * DEPTH_DX
    _cuboid(figure, kx, ky_bottom, t_k, h_k, d_k, "#ffffff", "kernel")
    figure.blocks.pop()  # a kernel is not a block
    figure.kernels.append(Box(kx, ky_bottom - h_k, kx + t_k, ky_bottom))
    # apex: the output position on the target's front face, at the same relative place
    t_top = target_box.y1 - target.h
    apex = (target.x + min(target.t * 0.5, 3.0), t_top + target.h * u)
    corners = [
        (kx + t_k + d_k * DEPTH_DX * a, ky_bottom - h_k * b + d_k * DEPTH_DY * a) for a in (0, 1) for b in (0, 1)
    ]
    for cx, cy in corners:
        figure.segments.append(Segment(cx, cy, apex[0], apex[1], stroke="#555555", width=THIN_WIDTH, role="projection"))
