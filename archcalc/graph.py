"""The layer graph as graphviz: pure DOT text generation, and a separate step that runs ``dot``.

``to_dot`` needs neither the ``dot`` program nor the graphviz package; ``render_graph`` hands the
text to graphviz (the package runs the program) for SVG, PNG or PDF.
"""

from __future__ import annotations

import enum
from typing import Any

from .engine import Analysis, LayerResult
from .errors import GraphvizMissingError
from .format import fmt_shape
from .palette import NEUTRAL, PALETTE, Role
from .spec import INPUT_NAME


class Direction(enum.StrEnum):
    LR = "lr"
    RL = "rl"
    TB = "tb"
    BT = "bt"


def dot_string(text: str) -> str:
    """A DOT quoted string that shows `text` literally: no escape sequence survives, no quote ends it."""
    escaped = text.replace("\\", "\\\\").replace('"', '\\"')
    return '"' + escaped.replace("\r", "").replace("\n", "\\n") + '"'


def _node_label(layer: LayerResult) -> str:
    lines = [f"{layer.name} ({layer.kind})"]
    details = layer.definition.graph_details(layer)
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
        f'  node [shape=box, style="rounded,filled", fillcolor="{NEUTRAL}", fontname=Helvetica, fontsize=11];',
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
    lines.append(f'  {ids[INPUT_NAME]} [label={dot_string(input_label)}, fillcolor="{PALETTE[Role.INPUT]}"];')
    for layer in analysis.layers:
        attributes = [f"label={dot_string(_node_label(layer))}"]
        role = layer.definition.role
        if role is not None:
            attributes.append(f'fillcolor="{PALETTE[role]}"')
        if layer.definition.groups(layer) > 1:
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
