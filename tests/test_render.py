"""The 3D figure, the graphviz graph, the HTML page and the charts: structure, determinism,
geometry (the figure checklist), escaping of hostile names, and a real browser."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.figure3d import Box, Segment, build_figure, render_svg
from archcalc.graph import dot_string, to_dot

from .conftest import need_program

SVG = "{http://www.w3.org/2000/svg}"
HOSTILE_NAME = "<script>alert(1)</script> & \"q\" 'x' <img src=x onerror=\"document.title='pwned'\">"
HOSTILE = {
    "name": HOSTILE_NAME,
    "description": "</title><script>document.title='pwned'</script>",
    "input": {"channels": 3, "height": 32, "width": 32},
    "layers": [
        {"kind": "conv", "name": HOSTILE_NAME, "out_channels": 8, "kernel": 3},
        {"kind": "maxpool", "name": 'a\\N \\" ] ; } } -> x', "kernel": 2},
        {"kind": "flatten"},
        {"kind": "linear", "name": "&amp; &lt;", "out_features": 10},
    ],
}


def figure_of(name: str, **kwargs) -> tuple[archcalc.Analysis, object]:
    analysis = archcalc.analyse(archcalc.load(name), **kwargs)
    return analysis, build_figure(analysis)


def texts(svg: str) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text")]


# --- 3D figure ------------------------------------------------------------------------------


def test_svg_is_valid_and_labels_carry_the_computed_shapes():
    from archcalc.figure3d import Options
    from archcalc.figure3d.options import parse_width

    figure = build_figure(archcalc.analyse(archcalc.load("alexnet")), Options(width=parse_width("17cm")))
    svg = render_svg(figure)
    root = ET.fromstring(svg)
    assert root.tag == f"{SVG}svg"
    labels = texts(svg)
    for expected in ("3×227×227", "96×55×55", "96×27×27", "256×27×27", "256×13×13", "384×13×13", "256×6×6",
                     "4,096", "1,000", "softmax", "11×11, s4", "5×5", "3×3", "max 3×3, s2", "conv1", "fc8"):  # fmt: skip
        assert expected in labels, expected
    # the two-GPU split: per-stream channels 48/128/192/192/128 and 2048 + 2048 dense
    assert [t for t in labels if t in ("48", "128", "192", "2,048")].count("48") == 4  # conv1, pool1 × 2 streams
    assert labels.count("192") == 4 and labels.count("2,048") == 4
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter(f"{SVG}image"))
    assert "@import" not in svg and 'href="http' not in svg


def test_svg_is_deterministic_and_small():
    first = render_svg(figure_of("alexnet")[1])
    second = render_svg(figure_of("alexnet")[1])
    assert first == second
    assert len(first.encode()) < 150_000


@pytest.mark.parametrize("name", ["alexnet", "lenet5", "alexnet-tf-bench", "zfnet"])
def test_figure_checklist_geometry(name: str):
    """One row at 17 cm, as the papers draw them (print sizes: tests/test_figure_print.py)."""
    _, figure = figure_of(name)
    bounds = figure.bounds()
    width, height = bounds.x1 - bounds.x0, bounds.y1 - bounds.y0
    assert 2.0 <= width / height <= 4.2, width / height
    assert all(block.x1 - block.x0 <= width / 4 for block in figure.blocks)
    _check_collisions(figure)


def _check_collisions(figure) -> None:
    boxes = [label.box for label in figure.labels]
    for i, a in enumerate(boxes):
        for b in boxes[i + 1 :]:
            assert not a.overlaps(b), (figure.labels[boxes.index(a)].text, figure.labels[boxes.index(b)].text)
        for block in figure.blocks:
            assert not a.overlaps(block), "a label is hidden by a block"
    for arrow in (s for s in figure.segments if s.role == "connection"):
        for block in figure.blocks:
            assert not _crosses(arrow, block), "an arrow runs through a block"
    assert all(s.width >= 0.5 for s in figure.segments)


def _crosses(segment: Segment, box: Box) -> bool:
    """Does the segment pass through the inside of the box (sampled; endpoints may touch)?"""
    inner = Box(box.x0 + 1, box.y0 + 1, box.x1 - 1, box.y1 - 1)
    for step in range(1, 50):
        t = step / 50
        x, y = segment.x0 + (segment.x1 - segment.x0) * t, segment.y0 + (segment.y1 - segment.y0) * t
        if inner.x0 < x < inner.x1 and inner.y0 < y < inner.y1:
            return True
    return False


def test_honest_monotone_scale():
    analysis, figure = figure_of("alexnet-ungrouped")
    heights = [round(b.y1 - b.y0, 3) for b in figure.blocks[:9]]
    # input 227, conv1 55, pool1 27, conv2 27, pool2 13: spatial size shrinks visibly
    assert heights[0] > heights[1] > heights[2] == heights[3] > heights[4]
    thickness = [p.points[1][0] - p.points[0][0] for p in figure.polygons if p.role == "convolution"][::3]
    # conv1 96 < conv2 256 < conv3 384 channels: deeper blocks are thicker
    assert thickness[0] < thickness[1] < thickness[2]


def test_render_options_and_errors(tmp_path: Path):
    target = tmp_path / "net.svg"
    result = CliRunner().invoke(
        main,
        ["render", "lenet5", "-o", str(target), "--no-legend", "--labels", "names,dims", "--spatial-scale", "log",
         "--color", "convolution=#123456"],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    svg = target.read_text()
    assert "#123456" in svg and "convolution" not in texts(svg) and "5×5" not in texts(svg)
    result = CliRunner().invoke(main, ["render", "lenet5", "--color", "convolution=red"])
    assert result.exit_code == 2 and "ROLE=#RRGGBB with ROLE one of input, convolution, pooling" in result.stderr
    result = CliRunner().invoke(main, ["render", "lenet5", "--labels", "names,sizes"])
    assert result.exit_code == 2 and "--labels: unknown label set ['sizes']; allowed: names, ops" in result.stderr
    result = CliRunner().invoke(main, ["render", "lenet5", "-o", str(tmp_path / "x.gv")])
    assert result.exit_code == 2 and "written as svg, pdf, png or tikz, not dot" in result.stderr


BRANCHY = """
name: branchy
input: {channels: 3, height: 32, width: 32}
layers:
  - {kind: conv, name: stem, out_channels: 16, kernel: 3, padding: 1}
  - {kind: relu}
  - {kind: conv, name: tower_a, out_channels: 8, kernel: 1, inputs: relu1}
  - {kind: conv, name: tower_b, out_channels: 8, kernel: [5, 3], padding: [2, 1], inputs: relu1}
  - {kind: concat, name: merged, inputs: [tower_a, tower_b]}
  - {kind: add, name: residual, inputs: [merged, relu1]}
  - {kind: maxpool, kernel: 2}
  - {kind: flatten}
  - {kind: linear, out_features: 10}
"""


def test_branches_are_laid_out_side_by_side():
    figure = build_figure(archcalc.analyse(archcalc.parse(BRANCHY)))
    blocks = dict(
        zip(["input", "stem", "tower_a", "tower_b", "merged", "residual", "pool", "fc"], figure.blocks, strict=True)
    )
    assert blocks["tower_a"].x0 == blocks["tower_b"].x0  # one rank, two lanes
    assert blocks["tower_a"].y1 < blocks["tower_b"].y0
    assert blocks["stem"].x1 < blocks["tower_a"].x0 < blocks["merged"].x0 < blocks["residual"].x0
    # the skip connection stem → residual goes over the top of every block, dashed
    skip = [s for s in figure.segments if s.role == "skip"]
    assert skip and all(s.dashed for s in skip)
    assert min(s.y0 for s in skip) < min(b.y0 for b in figure.blocks)
    _check_collisions(figure)


# --- hostile names --------------------------------------------------------------------------


def test_hostile_names_are_text_in_svg():
    svg = render_svg(build_figure(archcalc.analyse(archcalc.from_mapping(HOSTILE))))
    root = ET.fromstring(svg)
    assert not list(root.iter(f"{SVG}script")) and not list(root.iter(f"{SVG}img"))
    assert HOSTILE_NAME in texts(svg)
    assert root.find(f"{SVG}title").text == HOSTILE_NAME


def test_hostile_names_are_text_in_dot():
    dot = to_dot(archcalc.analyse(archcalc.from_mapping(HOSTILE)))
    assert dot_string('a"b\\N\nc') == '"a\\"b\\\\N\\nc"'
    for line in dot.splitlines()[4:]:
        assert line.count('"') % 2 == 0 or '\\"' in line


@pytest.mark.dot
def test_dot_renders_hostile_names_literally():
    need_program("dot")
    from archcalc.graph import render_graph

    svg = render_graph(archcalc.analyse(archcalc.from_mapping(HOSTILE)), "svg").decode()
    root = ET.fromstring(svg)
    shown = " ".join(t.text or "" for t in root.iter(f"{SVG}text"))
    assert "<script>alert(1)</script>" in shown and "a\\N" in shown
    assert not list(root.iter(f"{SVG}script"))


# --- graphviz -------------------------------------------------------------------------------


def test_dot_text_without_the_dot_program(monkeypatch, tmp_path: Path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no `dot` anywhere
    result = CliRunner().invoke(main, ["render", "alexnet", "--style", "graph", "--format", "dot"])
    assert result.exit_code == 0
    assert 'label="conv2 (conv)\\n5×5, pad 2, groups 2\\n256×27×27\\n307,456 params"' in result.stdout
    assert "peripheries=2" in result.stdout
    result = CliRunner().invoke(main, ["render", "alexnet", "--style", "graph", "-o", str(tmp_path / "g.png")])
    assert result.exit_code == 2
    assert "needs graphviz's 'dot' program (Debian/Ubuntu: apt-get install graphviz)" in result.stderr


def test_branch_clusters_in_dot():
    spec = archcalc.parse(
        "name: b\ninput: {channels: 3, height: 16, width: 16}\nlayers:\n"
        "  - {kind: conv, name: stem, out_channels: 4, kernel: 1}\n"
        "  - {kind: conv, name: left, out_channels: 4, kernel: 3, padding: 1}\n"
        "  - {kind: relu, name: left_relu}\n"
        "  - {kind: conv, name: right, out_channels: 4, kernel: 1, inputs: stem}\n"
        "  - {kind: add, name: sum, inputs: [left_relu, right]}\n"
    )
    dot = to_dot(archcalc.analyse(spec))
    assert dot.count("subgraph cluster_") == 2
    assert 'label="branch left"' in dot and 'label="branch right"' in dot


@pytest.mark.dot
@pytest.mark.parametrize("fmt", ["svg", "png", "pdf"])
def test_graph_renders_with_dot(fmt: str, tmp_path: Path):
    need_program("dot")
    target = tmp_path / f"alexnet.{fmt}"
    result = CliRunner().invoke(main, ["render", "alexnet", "--style", "graph", "-o", str(target)])
    assert result.exit_code == 0, result.output
    data = target.read_bytes()
    assert data.startswith({"svg": b"<?xml", "png": b"\x89PNG", "pdf": b"%PDF"}[fmt])


# --- HTML and charts --------------------------------------------------------------------------


def test_html_page_is_self_contained_and_escaped():
    from archcalc.report import render_table

    page = render_table(archcalc.analyse(archcalc.load("alexnet")), "html")
    assert "<svg" in page and "http://" not in page.replace("http://www.w3.org/2000/svg", "")
    assert "<link" not in page and 'src="http' not in page
    hostile = render_table(archcalc.analyse(archcalc.from_mapping(HOSTILE)), "html")
    assert "<script>alert(1)</script>" not in hostile
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in hostile
    assert "<script>document.title" not in hostile
    assert hostile.count("<script>") == 1  # only the page's own sorting script


@pytest.mark.parametrize("fmt", ["png", "svg"])
def test_chart(fmt: str, tmp_path: Path):
    outputs = []
    for attempt in range(2):
        target = tmp_path / f"chart{attempt}.{fmt}"
        result = CliRunner().invoke(main, ["chart", "alexnet", "-o", str(target)])
        assert result.exit_code == 0, result.output
        outputs.append(target.read_bytes())
    assert outputs[0].startswith(b"\x89PNG" if fmt == "png" else b"<?xml")
    if fmt == "svg":
        assert "conv1" in outputs[0].decode()
        assert outputs[0] == outputs[1]  # no date, fixed ids


def test_chart_rejects_unknown_formats(tmp_path: Path):
    result = CliRunner().invoke(main, ["chart", "alexnet", "-o", str(tmp_path / "chart.bmp")])
    assert result.exit_code == 2 and "png, svg, pdf" in result.stderr


# --- a real browser -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser():
    chromium = need_program("chromium", "/usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(
            executable_path=chromium,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"],
        )  # fmt: skip
        yield instance
        instance.close()


def _ink(png: bytes) -> float:
    """Share of pixels that are not (near) white."""
    import io

    from PIL import Image

    image = Image.open(io.BytesIO(png)).convert("L")
    histogram = image.histogram()
    return 1 - sum(histogram[245:]) / (image.width * image.height)


@pytest.mark.browser
def test_html_page_in_a_browser(browser, tmp_path: Path):
    page_path = tmp_path / "alexnet.html"
    result = CliRunner().invoke(main, ["table", "alexnet", "--format", "html", "-o", str(page_path)])
    assert result.exit_code == 0
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    page.goto(page_path.as_uri())
    names = page.eval_on_selector_all("#layers tbody tr td:nth-child(2)", "cells => cells.map(c => c.textContent)")
    assert names == [layer.name for layer in archcalc.analyse(archcalc.load("alexnet")).layers]
    assert page.inner_text("#layers tfoot").split()[:2] == ["Total", "60,965,224"]
    assert _ink(page.screenshot(full_page=True)) > 0.05
    page.click("th:has-text('MACs')")  # numbers: largest first on the first click
    first = page.eval_on_selector_all(
        "#layers tbody tr td:nth-child(2)", "cells => cells.slice(0, 2).map(c => c.textContent)"
    )
    assert first == ["conv2", "conv3"]
    page.click("th:has-text('MACs')")  # then smallest first
    assert page.inner_text("#layers tbody tr:first-child td:nth-child(2)") == "relu1"
    page.click("th:has-text('MACs')")
    page.click("#layers tbody tr:first-child summary")
    assert "5×5×48, 256 kernels in 2 groups" in page.inner_text("#layers tbody tr:first-child details")
    page.close()


@pytest.mark.browser
def test_hostile_page_runs_nothing(browser, tmp_path: Path):
    from archcalc.report import render_table

    path = tmp_path / "hostile.html"
    path.write_text(render_table(archcalc.analyse(archcalc.from_mapping(HOSTILE)), "html"))
    page = browser.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    page.goto(path.as_uri())
    page.wait_for_timeout(200)
    assert dialogs == [] and page.title() != "pwned"
    assert HOSTILE_NAME in page.inner_text("#layers tbody")
    page.close()


@pytest.mark.browser
@pytest.mark.parametrize("name", ["alexnet", "lenet5"])
def test_svg_figure_in_a_browser(browser, name: str, tmp_path: Path):
    path = tmp_path / f"{name}.svg"
    path.write_text(render_svg(figure_of(name)[1]))
    page = browser.new_page(viewport={"width": 1600, "height": 700})
    page.goto(path.as_uri())
    assert _ink(page.screenshot()) > 0.01
    assert page.eval_on_selector_all("text", "nodes => nodes.length") > 20
    page.close()


@pytest.mark.parametrize("name", ["alexnet", "lenet5"])
def test_golden_figures_are_current(name: str):
    """The README shows these files; regenerate with `python tests/update_golden.py` and review."""
    from .update_golden import GOLDEN, figure_svg

    assert (GOLDEN / f"{name}.svg").read_text(encoding="utf-8") == figure_svg(name)


@pytest.mark.parametrize("name", ["alexnet", "lenet5", "googlenet", "resnet18", "unet"])
def test_readme_figures_are_current(name: str):
    """docs/figures/NAME.svg is what `archcalc render NAME -o docs/figures/NAME.svg` writes now
    (regenerate with `python tests/update_golden.py` and review)."""
    from .update_golden import DOCS, README_FIGURES, figure_svg

    assert name in README_FIGURES
    assert (DOCS / f"{name}.svg").read_text(encoding="utf-8") == figure_svg(name)


def test_tikz_export_escapes_names_and_matches_the_figure():
    from archcalc.figure3d import latex_text, render_tikz

    figure = build_figure(archcalc.analyse(archcalc.from_mapping(HOSTILE)))
    tikz = render_tikz(figure)
    assert tikz.count("\\node[") == len(figure.labels)
    assert tikz.count("\\filldraw[") == len(figure.polygons)
    assert latex_text("a_b & {c} \\input{x} 100% $5 #1 ~ ^") == (
        "a\\_b \\& \\{c\\} \\textbackslash{}input\\{x\\} 100\\% \\$5 \\#1 \\~{} \\^{}"
    )
    assert "\\input{x" not in tikz and "<script>" not in tikz
    assert tikz.startswith("% ") and tikz.rstrip().endswith("\\end{tikzpicture}")
    result = CliRunner().invoke(main, ["render", "lenet5", "--format", "tikz"])
    assert result.exit_code == 0 and "\\begin{tikzpicture}" in result.stdout


def test_right_to_left_mirrors_the_geometry_and_keeps_the_text():
    from archcalc.figure3d import Options

    analysis = archcalc.analyse(archcalc.load("alexnet"))
    forward, backward = build_figure(analysis), build_figure(analysis, Options(right_to_left=True))
    assert sorted(t.text for t in forward.labels) == sorted(t.text for t in backward.labels)
    assert backward.blocks[0].x0 > backward.blocks[-1].x1  # the input is now on the right
    _check_collisions(backward)
    result = CliRunner().invoke(main, ["render", "alexnet", "--direction", "tb"])
    assert result.exit_code == 2 and "the 3d figure runs lr or rl" in result.stderr
    result = CliRunner().invoke(main, ["render", "lenet5", "--style", "graph", "--direction", "bt", "-f", "dot"])
    assert "rankdir=BT" in result.stdout


def test_the_graph_style_refuses_the_figure_options():
    result = CliRunner().invoke(main, ["render", "alexnet", "--style", "graph", "--format", "dot", "--no-legend",
                                       "--spatial-scale", "log"])  # fmt: skip
    assert result.exit_code == 2
    assert (
        "--legend/--no-legend, --spatial-scale shape the 3d figure; --style graph does not take them" in result.stderr
    )
    assert CliRunner().invoke(main, ["render", "alexnet", "--style", "graph", "--format", "dot"]).exit_code == 0


@pytest.mark.parametrize("name", archcalc.bundled_names())
def test_json_written_layer_by_layer_is_the_contract_text(name: str):
    import json

    from archcalc.report import render_table

    analysis = archcalc.analyse(archcalc.load(name))
    assert render_table(analysis, "json") == json.dumps(analysis.to_dict(), indent=2, ensure_ascii=False) + "\n"
