"""The graph style: folding activations into their layer's node (``--fold``) and PNG resolution."""

from __future__ import annotations

import io
import re

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.graph import render_graph, to_dot

from .conftest import need_program


def nodes(dot: str) -> dict[str, str]:
    """Node id → its label, from DOT text."""
    return {m[1]: m[2] for m in re.finditer(r'^  (n\d+) \[label="((?:[^"\\]|\\.)*)"', dot, re.M)}


def edges(dot: str) -> list[tuple[str, str]]:
    return re.findall(r"^  (n\d+) -> (n\d+);", dot, re.M)


def labels_by_name(dot: str) -> dict[str, str]:
    return {label.split(" ")[0].split("\\n")[0]: label for label in nodes(dot).values()}


def test_fold_puts_alexnets_activations_and_lrn_in_their_layers():
    analysis = archcalc.analyse(archcalc.load("alexnet"))
    plain, folded = to_dot(analysis), to_dot(analysis, fold=True)
    # 24 layers + the input; relu1–7, norm1–2 and the softmax fold: 10 nodes fewer
    assert len(nodes(plain)) == 25 and len(nodes(folded)) == 15
    assert len(edges(folded)) == 14  # still one chain
    by_name = labels_by_name(folded)
    assert by_name["conv1"].startswith("conv1 (conv) + ReLU + LRN\\n11×11, stride 4\\n96×55×55\\n34,944 params")
    assert by_name["fc8"].startswith("fc8 (linear) + softmax")
    assert "relu1" not in by_name and "norm1" not in by_name and "prob" not in by_name
    assert "drop6" in by_name  # dropout is hidden in the figure, not a note: it keeps its node
    assert "ReLU" not in plain


def test_fold_adds_the_folded_parameters_and_shows_the_last_shape(write_spec):
    spec = write_spec(
        "name: n\ninput: 3x8x8\nlayers:\n"
        "  - {kind: conv, name: c, out_channels: 8, kernel: 3, bias: false}\n"
        "  - {kind: batchnorm, name: bn}\n"
        "  - {kind: relu, name: r}\n"
        "  - {kind: maxpool, name: p, kernel: 2}\n"
    )
    dot = to_dot(archcalc.analyse(archcalc.load(str(spec))), fold=True)
    by_name = labels_by_name(dot)
    # 3·3·3·8 = 216 weights; batch norm 2·8 trainable + 2·8 running statistics = 32
    assert by_name["c"] == "c (conv) + BN + ReLU\\n3×3\\n8×6×6\\n248 params"
    assert set(by_name) == {"input", "c", "p"}


def test_fold_keeps_a_node_whose_input_feeds_a_branch(write_spec):
    """Folding relu into conv would hide that the add reads the conv's output before the relu."""
    spec = write_spec(
        "name: n\ninput: 4x8x8\nlayers:\n"
        "  - {kind: conv, name: c, out_channels: 4, kernel: 3, padding: 1}\n"
        "  - {kind: relu, name: r}\n"
        "  - {kind: add, name: sum, inputs: [r, c]}\n"
        "  - {kind: relu, name: after}\n"
    )
    dot = to_dot(archcalc.analyse(archcalc.load(str(spec))), fold=True)
    by_name = labels_by_name(dot)
    assert "r" in by_name and not by_name["c"].startswith("c (conv) +")
    assert by_name["sum"].startswith("sum (add) + ReLU")
    assert len(edges(dot)) == 4  # input→c, c→r, r→sum, c→sum


def test_fold_never_folds_into_the_input(write_spec):
    spec = write_spec("name: n\ninput: 4x8x8\nlayers:\n  - {kind: relu, name: r}\n  - {kind: maxpool, kernel: 2}\n")
    assert "r" in labels_by_name(to_dot(archcalc.analyse(archcalc.load(str(spec))), fold=True))


def test_fold_on_a_branching_zoo_net_keeps_the_graph_connected():
    import networkx as nx

    analysis = archcalc.analyse(archcalc.load("resnet18"))
    dot = to_dot(analysis, fold=True)
    graph = nx.DiGraph(edges(dot))
    assert nx.is_directed_acyclic_graph(graph) and nx.is_weakly_connected(graph)
    assert len(nodes(dot)) < len(analysis.layers) + 1
    assert set(graph.nodes) == set(nodes(dot))


def _png_size(png: bytes) -> tuple[int, int]:
    from PIL import Image

    return Image.open(io.BytesIO(png)).size


def test_png_dpi_scales_the_image():
    need_program("dot")
    analysis = archcalc.analyse(archcalc.load("lenet5"))
    svg = render_graph(analysis, "svg").decode()
    width_pt = float(re.search(r'<svg width="([0-9.]+)pt"', svg).group(1))
    for dpi in (72, 150):
        width, _ = _png_size(render_graph(analysis, "png", dpi=dpi))
        assert width == pytest.approx(width_pt * dpi / 72, abs=2)


def test_cli_graph_png_with_dpi_and_fold(tmp_path):
    need_program("dot")
    low, high = tmp_path / "low.png", tmp_path / "high.png"
    for path, dpi in ((low, "60"), (high, "120")):
        result = CliRunner().invoke(
            main, ["render", "alexnet", "--style", "graph", "--fold", "--dpi", dpi, "-o", str(path)]
        )
        assert result.exit_code == 0, result.output
    (w1, h1), (w2, h2) = _png_size(low.read_bytes()), _png_size(high.read_bytes())
    assert w2 == pytest.approx(2 * w1, abs=2) and h2 == pytest.approx(2 * h1, abs=2)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--style", "graph", "--format", "dot", "--dpi", "100"], "--dpi: only a png has a resolution, not dot"),
        (["--style", "graph", "--format", "svg", "--dpi", "100"], "--dpi: only a png has a resolution, not svg"),
        (["--style", "graph", "--format", "png", "--dpi", "7"], "--dpi: 7: the dpi is a whole number from 36 to 2400"),
        (["--fold"], "--fold: folding layers into their nodes is for --style graph"),
        (["--format", "tikz", "--dpi", "300"], "--dpi: only a png has a resolution, not tikz"),
    ],
)
def test_options_that_do_not_apply_are_refused(args: list[str], message: str, tmp_path):
    result = CliRunner().invoke(main, ["render", "alexnet", *args, "-o", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert result.stderr.strip().splitlines() == [f"archcalc: error: {message}"]


def test_cli_dot_fold():
    result = CliRunner().invoke(main, ["render", "lenet5", "--style", "graph", "--format", "dot", "--fold"])
    assert result.exit_code == 0
    assert "(conv) + A·tanh" in result.stdout


@pytest.mark.parametrize("name", archcalc.bundled_names())
def test_fold_keeps_every_path_of_every_bundled_net(name: str):
    """Folding only merges a node into the one it reads: what reaches what is unchanged, and every
    folded layer is one its kind draws as a note."""
    import networkx as nx

    from archcalc.kinds import Appearance

    analysis = archcalc.analyse(archcalc.load(name))
    plain, folded = to_dot(analysis), to_dot(analysis, fold=True)

    named = {spec.label: spec.name for spec in analysis.spec.layers if spec.label is not None}  # titles → names

    def graph_of(dot: str):
        titles = {node_id: label.split(" ")[0].split("\\n")[0] for node_id, label in nodes(dot).items()}
        names = {node_id: named.get(title, title) for node_id, title in titles.items()}
        graph = nx.relabel_nodes(nx.DiGraph(edges(dot)), names)
        graph.add_nodes_from(names.values())
        return graph

    before, after = graph_of(plain), graph_of(folded)
    kept = set(after)
    assert len(kept) == len(nodes(folded))  # names are unique
    for node in kept:
        assert nx.descendants(after, node) == nx.descendants(before, node) & kept
    for layer in analysis.layers:
        if layer.name not in kept:
            assert layer.definition.appearance is Appearance.ANNOTATION and layer.definition.annotation(layer)
