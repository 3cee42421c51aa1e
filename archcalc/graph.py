"""The layer graph as graphviz: pure DOT text generation, and a separate step that runs ``dot``.

``to_dot`` needs neither the ``dot`` program nor the graphviz package; ``render_graph`` hands the
text to graphviz (the package runs the program) for SVG, PNG (at a chosen dpi) or PDF. With
``fold`` a layer its kind draws as a note on the previous block (activations, normalisations) joins
that block's node, as Keras' ``plot_model`` shows activations.
"""

from __future__ import annotations

import enum
from typing import Any

from .engine import Analysis, LayerResult
from .errors import GraphvizMissingError
from .format import fmt_shape
from .kinds import Appearance
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


def _node_label(layer: LayerResult, folded: list[LayerResult] | None = None, title: str | None = None) -> str:
    """Name (`title`: the layer's label, where it has one) and kind, hyper-parameters, output shape,
    parameters; `folded` layers join the first line (``conv1 (conv) + ReLU``) and their output and
    parameters stand for the node's."""
    folded = folded or []
    last = folded[-1] if folded else layer
    notes = "".join(f" + {f.definition.annotation(f)}" for f in folded)
    lines = [f"{title or layer.name} ({layer.kind}){notes}"]
    details = layer.definition.graph_details(layer)
    if details:
        lines.append(details)
    lines.append(fmt_shape(last.output_shape))
    params = layer.params + sum(f.params for f in folded)
    if params:
        lines.append(f"{params:,} params")
    return "\n".join(lines)


def folds_into(layer: LayerResult, graph: Any) -> str | None:
    """The layer this one folds into (as Keras' plot shows activations): a kind drawn as a note on
    the previous block (``Appearance.ANNOTATION`` with an ``annotation()`` text), reading one layer
    that nothing else reads; None when it keeps a node of its own."""
    kind = layer.definition
    if kind.appearance is not Appearance.ANNOTATION or not kind.annotation(layer) or len(layer.inputs) != 1:
        return None
    source = layer.inputs[0]
    return source if source != INPUT_NAME and graph.out_degree(source) == 1 else None


def _fold(graph: Any, analysis: Analysis) -> tuple[Any, dict[str, list[LayerResult]]]:
    """The graph with folded layers merged into their node, and what each node absorbed."""
    owner: dict[str, str] = {}
    absorbed: dict[str, list[LayerResult]] = {}
    for layer in analysis.layers:
        target = folds_into(layer, graph)
        if target is None:
            continue
        host = owner.get(target, target)
        owner[layer.name] = host
        absorbed.setdefault(host, []).append(layer)
    folded = graph.copy()
    for name, host in owner.items():
        for successor in list(folded.successors(name)):
            folded.add_edge(host, successor)
        folded.remove_node(name)
    return folded, absorbed


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


def to_dot(analysis: Analysis, direction: Direction | str = Direction.TB, fold: bool = False) -> str:
    """DOT text for the layer graph (deterministic; every name and label escaped). `fold`: each
    activation (or other layer its kind draws as a note) inside the node of the layer it follows."""
    graph = analysis.to_networkx()
    absorbed: dict[str, list[LayerResult]] = {}
    if fold:
        graph, absorbed = _fold(graph, analysis)
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
    titles = {spec.name: spec.label for spec in analysis.spec.layers if spec.label is not None}
    input_label = f"input\n{fmt_shape(analysis.input_shape)}"
    lines.append(f'  {ids[INPUT_NAME]} [label={dot_string(input_label)}, fillcolor="{PALETTE[Role.INPUT]}"];')
    for layer in analysis.layers:
        if layer.name not in ids:
            continue
        attributes = [f"label={dot_string(_node_label(layer, absorbed.get(layer.name), titles.get(layer.name)))}"]
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


def check_dpi(dpi: int | None) -> int | None:
    """None (graphviz's 96) or a DPI between 36 and 2400."""
    if dpi is None:
        return None
    from .figure3d.raster import check_dpi as checked

    return checked(dpi)


def render_graph(
    analysis: Analysis,
    fmt: str,
    direction: Direction | str = Direction.TB,
    dpi: int | None = None,
    fold: bool = False,
) -> bytes:
    """SVG, PNG or PDF bytes from the ``dot`` program; `dpi` sets a PNG's resolution (``-Gdpi``)."""
    import graphviz

    text = to_dot(analysis, direction, fold)
    if dpi is not None:  # what `dot -Gdpi=N` sets: the graph's own dpi attribute
        text = text.replace("digraph archcalc {\n", f"digraph archcalc {{\n  graph [dpi={check_dpi(dpi)}];\n", 1)
    try:
        return graphviz.Source(text).pipe(format=fmt)
    except graphviz.ExecutableNotFound:
        raise GraphvizMissingError(
            f"rendering to {fmt} needs graphviz's 'dot' program (Debian/Ubuntu: apt-get install graphviz); "
            "--format dot writes the graph without it"
        ) from None
