"""The layer graph as graphviz: pure DOT text generation, and a separate step that runs ``dot``.

``to_dot`` needs neither the ``dot`` program nor the graphviz package; ``render_graph`` hands the
text to graphviz (the package runs the program) for SVG, PNG or PDF.
"""

from __future__ import annotations

import enum
from typing import Any

from .engine import Analysis, LayerResult
from .errors import ArchcalcError
from .layers import fmt_padding, fmt_pair, fmt_shape
from .spec import INPUT_NAME

KIND_COLORS = {
    "conv": "#8fb4e3",
    "maxpool": "#f3cd85",
    "avgpool": "#f3cd85",
    "adaptive_avgpool": "#f3cd85",
    "subsample": "#f3cd85",
    "linear": "#6ea864",
    "rbf": "#b8524c",
    "concat": "#d9d2e9",
    "add": "#d9d2e9",
}


class Direction(enum.StrEnum):
    LR = "lr"
    RL = "rl"
    TB = "tb"
    BT = "bt"


class GraphvizMissingError(ArchcalcError):
    exit_code = 2


def dot_string(text: str) -> str:
    """A DOT quoted string that shows `text` literally: no escape sequence survives, no quote ends it."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r", "").replace("\n", "\\n") + '"'


def _details(layer: LayerResult) -> str:
    p = layer.params_spec
    if "kernel" in layer.details:  # a sliding-window layer
        kernel, stride, pad = layer.details["kernel"], layer.details["stride"], layer.details["padding"]
        parts = [f"{kernel[0]}×{kernel[1]}"]
        if stride != (1, 1):
            parts.append(f"stride {fmt_pair(stride)}")
        if any(pad):
            parts.append(("same, " if p.get("padding") == "same" else "") + "pad " + fmt_padding(pad))
        if p.get("groups", 1) > 1:
            parts.append(f"groups {p['groups']}")
        if p.get("connections") is not None:
            parts.append("connection table")
        return ", ".join(parts)
    if layer.kind in ("linear", "rbf"):
        return f"{p['out_features']:,} units"
    return ""


def _node_label(layer: LayerResult) -> str:
    lines = [f"{layer.name} ({layer.kind})"]
    details = _details(layer)
    if details:
        lines.append(details)
    lines.append(fmt_shape(layer.output_shape))
    if layer.params:
        lines.append(f"{layer.params:,} params")
    return "\n".join(lines)


def _branches(graph: Any) -> list[list[str]]:
    """Chains of nodes that leave a fork and end before a merge: drawn as clusters."""
    branches = []
    for fork in graph.nodes:
        if graph.out_degree(fork) < 2:
            continue
        for start in sorted(graph.successors(fork)):
            chain, node = [], start
            while graph.in_degree(node) == 1 and node not in chain:
                chain.append(node)
                if graph.out_degree(node) != 1:
                    break
                node = next(iter(graph.successors(node)))
            if chain:
                branches.append(chain)
    return branches


def to_dot(analysis: Analysis, direction: Direction | str = Direction.TB) -> str:
    """DOT text for the layer graph (deterministic; every name and label escaped)."""
    graph = analysis.to_networkx()
    ids = {name: f"n{index}" for index, name in enumerate(graph.nodes)}
    lines = [
        "digraph archcalc {",
        f"  graph [rankdir={Direction(direction).name}, fontname=Helvetica, label={dot_string(analysis.name)}, labelloc=t];",
        '  node [shape=box, style="rounded,filled", fillcolor="#f4f4f4", fontname=Helvetica, fontsize=11];',
        '  edge [color="#555555", arrowsize=0.7];',
    ]
    in_cluster: set[str] = set()
    for index, chain in enumerate(_branches(graph)):
        if any(node in in_cluster for node in chain):
            continue
        in_cluster.update(chain)
        lines.append(f"  subgraph cluster_{index} {{")
        lines.append(f'    label={dot_string("branch " + chain[0])}; style=dashed; color="#999999";')
        lines += [f"    {ids[node]};" for node in chain]
        lines.append("  }")
    input_label = f"input\n{fmt_shape(analysis.input_shape)}"
    lines.append(f'  {ids[INPUT_NAME]} [label={dot_string(input_label)}, fillcolor="#eeeeee"];')
    for layer in analysis.layers:
        attributes = [f"label={dot_string(_node_label(layer))}"]
        color = KIND_COLORS.get(layer.kind)
        if color:
            attributes.append(f'fillcolor="{color}"')
        if layer.params_spec.get("groups", 1) > 1:
            attributes.append("peripheries=2")
        lines.append(f"  {ids[layer.name]} [{', '.join(attributes)}];")
    for source, target in graph.edges:
        lines.append(f"  {ids[source]} -> {ids[target]};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def render_graph(analysis: Analysis, fmt: str, direction: Direction | str = Direction.TB) -> bytes:
    """SVG, PNG or PDF bytes from the ``dot`` program."""
    import graphviz

    try:
        return graphviz.Source(to_dot(analysis, direction)).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise GraphvizMissingError(
            f"rendering to {fmt} needs graphviz's 'dot' program (Debian/Ubuntu: apt-get install graphviz); "
            "--format dot writes the graph without it"
        ) from None
