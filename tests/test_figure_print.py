"""The 3D figure at its printed size: every bundled spec at a journal's text width (17 cm) and one
column (8.5 cm), measured in points from the geometry — text ≥ 7 pt, lines ≥ 0.5 pt (block outlines
≥ 0.75 pt), kernels ≥ 2 mm, no label overlapping a label or crossed by a line or a block — or, where
a network cannot meet that at the width, the one clear error saying so."""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.errors import FigureFitError, OptionError
from archcalc.figure3d import Box, Options, build_figure, render_svg
from archcalc.figure3d.options import parse_width

SVG = "{http://www.w3.org/2000/svg}"
PT_PER_MM = 72 / 25.4
# Networks that cannot keep 7 pt text in up to four rows at that width (checked to raise instead).
REFUSED = {
    "17cm": set(),
    "8.5cm": {"unet"},
}
WIDTHS = list(REFUSED)


def _analysis(name: str) -> archcalc.Analysis:
    return archcalc.analyse(archcalc.load(name))


def _scale(svg: str) -> tuple[float, ET.Element]:
    """Points per SVG unit, from the SVG's own width (in cm) and viewBox."""
    root = ET.fromstring(svg)
    width_cm = float(root.get("width", "").removesuffix("cm"))
    view_width = float(root.get("viewBox", "").split()[2])
    return width_cm / 2.54 * 72 / view_width, root


def _crosses(x0: float, y0: float, x1: float, y1: float, box: Box, inset: float = 0.5) -> bool:
    inner = Box(box.x0 + inset, box.y0 + inset, box.x1 - inset, box.y1 - inset)
    for step in range(1, 40):
        t = step / 40
        x, y = x0 + (x1 - x0) * t, y0 + (y1 - y0) * t
        if inner.x0 < x < inner.x1 and inner.y0 < y < inner.y1:
            return True
    return False


def check_print(figure, svg: str, width: str, max_ratio: float = 4.5, max_bytes: int = 80_000) -> None:
    scale, root = _scale(svg)
    assert abs(float(root.get("width", "").removesuffix("cm")) - float(width.removesuffix("cm"))) < 0.01
    assert scale >= 1 - 1e-9  # the layout fits within the width: nothing is shrunk to print
    # sizes, in points, as the SVG states them
    for text in root.iter(f"{SVG}text"):
        assert float(text.get("font-size")) * scale >= 7.0 - 1e-6, text.text
    for line in root.iter(f"{SVG}line"):
        assert float(line.get("stroke-width")) * scale >= 0.5 - 1e-6
    outlines = [g for g in root.iter(f"{SVG}g") if g.find(f"{SVG}polygon") is not None]
    assert outlines and all(float(g.get("stroke-width")) * scale >= 0.75 - 1e-6 for g in outlines)
    for kernel in figure.kernels:
        assert (kernel.y1 - kernel.y0) * scale >= 2 * PT_PER_MM - 1e-6
    # collisions, from the geometry
    labels = [label.box for label in figure.labels]
    for i, a in enumerate(labels):
        for j in range(i + 1, len(labels)):
            assert not a.overlaps(labels[j]), (figure.labels[i].text, figure.labels[j].text)
        for block in figure.blocks:
            assert not a.overlaps(block), f"{figure.labels[i].text!r} is hidden by a block"
        for s in figure.segments:
            assert not _crosses(s.x0, s.y0, s.x1, s.y1, a, inset=0.0), f"a line crosses {figure.labels[i].text!r}"
    for s in figure.segments:
        if s.role in ("connection", "skip"):
            for block in figure.blocks:
                assert not _crosses(s.x0, s.y0, s.x1, s.y1, block), "an arrow runs through a block"
    bounds = figure.bounds()
    ratio = (bounds.x1 - bounds.x0) / (bounds.y1 - bounds.y0)
    assert 0.25 <= ratio <= max_ratio, ratio
    assert len(svg.encode()) < max_bytes


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("name", archcalc.bundled_names())
def test_every_bundled_figure_prints_or_says_why(name: str, width: str):
    analysis = _analysis(name)
    options = Options(width=parse_width(width))
    if name in REFUSED[width]:
        with pytest.raises(FigureFitError, match=f"at {width} wide.*give a wider --width"):
            build_figure(analysis, options)
        return
    figure = build_figure(analysis, options)
    svg = render_svg(figure)
    check_print(figure, svg, width)
    assert svg == render_svg(build_figure(analysis, options))  # byte-identical


@pytest.mark.parametrize("name", ["resnet18", "resnet50", "squeezenet1_0", "unet", "mobilenet_v2"])
def test_every_layer_drawn_out_is_clean_too(name: str):
    """--expand at 60 cm: lanes, elbows, skips over the top and routes between rows, every layer
    its own block, with the same print sizes and no collisions."""
    options = Options(expand=True, width=parse_width("60cm"))
    figure = build_figure(_analysis(name), options)
    svg = render_svg(figure)
    check_print(figure, svg, "60cm", max_ratio=6.0, max_bytes=160_000)
    assert not any(label.text.startswith(("‖", "×")) for label in figure.labels)  # nothing collapsed


def test_width_parsing_and_its_errors():
    assert round(parse_width("17cm").points, 2) == 481.89  # 17 / 2.54 × 72
    assert round(parse_width("85mm").points, 2) == round(parse_width("8.5cm").points, 2) == 240.94
    assert parse_width("6.5in").points == 468.0 and parse_width("482pt").points == 482.0
    for bad in ("17", "17px", "wide", "-3cm"):
        with pytest.raises(OptionError, match="one of cm, mm, in, pt"):
            parse_width(bad)
    with pytest.raises(OptionError, match="between 2cm and 100cm"):
        parse_width("1cm")


def test_the_command_takes_the_width(tmp_path):
    target = tmp_path / "lenet.svg"
    result = CliRunner().invoke(main, ["render", "lenet5", "--width", "8.5cm", "-o", str(target)])
    assert result.exit_code == 0, result.output
    root = ET.fromstring(target.read_text())
    assert root.get("width") == "8.5cm" and root.get("height", "").endswith("cm")
    assert "units (clamped to" in root.find(f"{SVG}desc").text  # the mapping, stated once, not in the legend
    result = CliRunner().invoke(main, ["render", "lenet5", "--width", "17in2"])
    assert result.exit_code == 2 and "--width: '17in2' is not a length" in result.stderr
    result = CliRunner().invoke(main, ["render", "unet", "--width", "8.5cm"])
    assert result.exit_code == 2
    assert "U-Net: at 8.5cm wide" in result.stderr and "give a wider --width" in result.stderr


def test_branches_lanes_and_skips():
    """Inception's branches in four lanes at one x; one arrow into the merge; ResNet's identity
    skips dashed over the top."""
    figure = build_figure(_analysis("googlenet"), Options(expand=True, width=parse_width("100cm")))
    arrows_into = {}
    for s in figure.segments:
        if s.arrow:
            key = (round(s.x1, 1), round(s.y1, 1))
            arrows_into[key] = arrows_into.get(key, 0) + 1
    assert max(arrows_into.values()) == 1  # no pile of arrowheads
    resnet = build_figure(_analysis("resnet18"), Options(expand=True, width=parse_width("100cm")))
    skips = [s for s in resnet.segments if s.role == "skip"]
    assert skips and all(s.dashed for s in skips)
    assert min(s.y0 for s in skips) < min(b.y0 for b in resnet.blocks)  # over the top of the blocks


def test_collapsed_repeats_and_runs():
    from archcalc.figure3d.columns import Collapse, columns_of

    vgg = columns_of(_analysis("vgg16"), Collapse.REPEATS)
    assert [c.op for c in vgg if c.op.startswith(("2×", "3×"))] == ["2× 3×3"] * 2 + ["3× 3×3"] * 3 + ["2×"]  # fc6–fc7
    dense = columns_of(_analysis("densenet121"), Collapse.REPEATS)
    assert [c.op for c in dense if c.op.startswith("×")] == ["×6", "×12", "×24", "×16"]
    assert [c.shape for c in dense if c.op.startswith("×")][0] == (256, 56, 56)  # 64 + 6 × 32 channels


def test_one_notation_for_the_table_and_the_figure():
    """C×H×W by default, as PyTorch and the table write it; H×W×C and LeNet's 6@28×28 on request."""
    from archcalc.format import Notation, fmt_shape
    from archcalc.report import render_table

    assert [fmt_shape((96, 55, 55), n) for n in Notation] == ["96×55×55", "55×55×96", "96@55×55"]
    assert fmt_shape((4096,), Notation.LENET) == "4096"
    analysis = _analysis("lenet5")
    figure = {label.text for label in build_figure(analysis, Options(notation=Notation.LENET)).labels}
    assert {"6@28×28", "6@14×14", "16@10×10", "16@5×5"} <= figure
    table = render_table(analysis, "text", notation="lenet")
    assert "6@28×28" in table and "6×28×28" not in table
    page = render_table(analysis, "html", notation="hwc")
    assert page.count("28×28×6") >= 2 and "6×28×28" not in page  # the table and the figure on the page
    result = CliRunner().invoke(main, ["table", "lenet5", "--notation", "nchw"])
    assert result.exit_code == 2 and "--notation: unknown notation 'nchw'; allowed: chw, hwc, lenet" in result.stderr


def test_depthwise_is_drawn_in_slices_and_tikz_is_at_the_width():
    figure = build_figure(_analysis("mobilenet_v2"), Options(expand=True, width=parse_width("100cm")))
    assert any(s.role == "slice" for s in figure.segments)
    assert any(label.text.startswith("dw 3×3") for label in figure.labels)
    from archcalc.figure3d import render_tikz

    lenet = build_figure(_analysis("lenet5"), Options(width=parse_width("8.5cm")))
    tikz = render_tikz(lenet)
    assert "resizebox" not in tikz and "8.5cm wide" in tikz
    scale = float(tikz.split("[x=")[1].split("pt")[0])
    box = tikz.split("use as bounding box] (")[1].split(");")[0]
    (x0, _), (x1, _) = [tuple(map(float, part.strip("() ").split(","))) for part in box.split("rectangle")]
    assert abs((x1 - x0) * scale - 8.5 / 2.54 * 72) < 0.05  # the picture is 8.5 cm wide, in points
    assert all(float(size) * scale >= 7 - 1e-3 for size in [t.size for t in lenet.labels])


def test_the_readme_quotes_the_real_errors():
    from .conftest import ROOT

    readme = (ROOT / "README.md").read_text()
    quoted = readme.split("$ archcalc render unet --width 8.5cm\n")[1].split("```")[0].splitlines()
    refused = CliRunner().invoke(main, ["render", "unet", "--width", "8.5cm"])
    assert quoted[0] == refused.stderr.strip()
    alexnet = CliRunner().invoke(main, ["render", "alexnet", "--width", "17"])
    assert quoted[2] == alexnet.stderr.strip() and quoted[1] == "$ archcalc render alexnet --width 17"
    assert "3.43·√n units (clamped to 8–68.6)" in " ".join(readme.split())
    assert "3.43·√n units (clamped to 8–68.6)" in render_svg(build_figure(_analysis("alexnet")))


def _long_chain(layers: int = 60) -> dict:
    """A chain too long for 17 cm: one row of its labels needs 2.8 m."""
    convs = [
        {"kind": "conv", "name": f"encoder_block_{i:02d}_convolution", "out_channels": 16 + i, "kernel": 1}
        for i in range(layers)
    ]
    return {"name": "LongChain", "input": {"channels": 3, "height": 64, "width": 64}, "layers": convs}


def test_the_page_is_written_when_the_figure_needs_more_width(tmp_path):
    """`render` refuses the chain at 17 cm; the HTML page draws it at the width it needs and says so."""
    import yaml

    from archcalc.figure3d import page_figure

    analysis = archcalc.analyse(archcalc.from_mapping(_long_chain()))
    with pytest.raises(FigureFitError, match="one row needs 277") as refused:
        build_figure(analysis)
    assert refused.value.one_row_cm is not None and refused.value.one_row_cm > 270
    drawn = page_figure(analysis)
    assert drawn.svg is not None and 'width="51cm"' in drawn.svg  # 17 cm × 3: the narrowest step that fits
    assert drawn.note.startswith("The figure needs 51cm") and "archcalc render --width 51cm" in drawn.note
    spec = tmp_path / "chain.yaml"
    spec.write_text(yaml.safe_dump(_long_chain()))
    page = tmp_path / "chain.html"
    result = CliRunner().invoke(main, ["table", str(spec), "--format", "html", "-o", str(page)])
    assert result.exit_code == 0, result.output
    html = page.read_text()
    assert '<figcaption class="figure-note">The figure needs 51cm' in html and 'width="51cm"' in html
    assert html.count("<svg") == 1


def test_the_page_goes_without_a_figure_that_fits_no_width(monkeypatch):
    """Where no width up to 100 cm fits, the page has no figure and one line saying why, in escaped text."""
    from archcalc import html
    from archcalc.figure3d import layout

    def refuse(analysis, options=None):
        raise FigureFitError("Net: at <17cm> wide … give a wider --width (one row needs 300.0cm)", one_row_cm=300.0)

    monkeypatch.setattr(layout, "build_figure", refuse)
    page = html.to_html(_analysis("lenet5"))
    assert "<svg" not in page
    assert '<figcaption class="figure-note">No figure: Net: at &lt;17cm&gt; wide' in page
    assert "<p>No figure: Net:" in html.notebook_html(_analysis("lenet5"))


def test_alexnet_at_17cm_draws_every_layer_and_where_the_streams_cross():
    """The flagship figure: each of AlexNet's twelve blocks its own at the default 17 cm (conv3, which
    reads both GPUs' maps, is not merged with conv4, which reads its own GPU's); four kernels into
    conv3 (each stream from each) and two into conv4; four arrows into fc6 and fc7, two into fc8."""
    from archcalc.figure3d.columns import Collapse, columns_of

    analysis = _analysis("alexnet")
    figure = build_figure(analysis)
    names = [c.name for c in columns_of(analysis, Collapse.NONE)]
    assert names == ["input", "conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5",
                     "fc6", "fc7", "fc8"]  # fmt: skip
    drawn = [label for label in figure.labels if label.bold and label.text in names]
    assert [label.text for label in drawn] == names  # one block each, in order
    assert not any("2×" in label.text for label in figure.labels)
    x = {label.text: label.x for label in drawn}

    def kernels_into(name: str) -> int:
        before = names[names.index(name) - 1]
        return sum(x[before] < k.x0 < x[name] for k in figure.kernels)

    def arrows_into(name: str) -> set[tuple[float, float]]:
        before = names[names.index(name) - 1]
        heads = [s for s in figure.segments if s.arrow and x[before] < s.x1 < x[name]]
        return {(round(s.y0, 1), round(s.y1, 1)) for s in heads}

    assert kernels_into("conv3") == 4 and kernels_into("conv4") == kernels_into("conv5") == 2
    for name in ("fc6", "fc7"):
        crossing = arrows_into(name)
        assert len(crossing) == 4 and len({y0 for y0, _ in crossing}) == len({y1 for _, y1 in crossing}) == 2
    assert len(arrows_into("fc8")) == 2


def _marks(figure) -> list[str]:
    """The merge signs drawn, left to right: ⊕ (a level and an upright stroke), ‖ (two upright), ⊗."""
    circles = sorted((p.box for p in figure.polygons if p.role == "mark"), key=lambda b: (b.x0, b.y0))
    signs = []
    for c in circles:
        inside = [s for s in figure.segments if s.role == "mark" and c.x0 < s.x0 < c.x1 and c.y0 < s.y0 < c.y1]
        upright = sum(abs(s.x0 - s.x1) < 1e-6 for s in inside)
        level = sum(abs(s.y0 - s.y1) < 1e-6 for s in inside)
        signs.append({(1, 1): "⊕", (2, 0): "‖", (0, 0): "⊗"}[(upright, level)])
    return signs


def test_merges_are_marked_with_their_sign():
    """A sum joins at ⊕ and a concatenation at ‖, drawn out and in collapsed modules; none elsewhere."""
    wide = Options(expand=True, width=parse_width("100cm"))
    resnet = _analysis("resnet18")
    adds = sum(layer.kind == "add" for layer in resnet.layers)
    assert adds == 8 and _marks(build_figure(resnet, wide)) == ["⊕"] * adds
    assert _marks(build_figure(resnet)) == ["⊕"] * 4  # 17 cm: each stage one module, still ⊕
    googlenet = _analysis("googlenet")
    assert _marks(build_figure(googlenet, wide)) == ["‖"] * 9  # the nine Inception modules
    assert _marks(build_figure(_analysis("alexnet"))) == []
    r = min(p.box.x1 - p.box.x0 for p in build_figure(resnet).polygons if p.role == "mark")
    assert r >= 5.0  # a sign at least 5 pt across at print size


def _rows(figure, names: list[str]) -> int:
    """How many rows the blocks' name labels lie in."""
    return len({round(label.y) for label in figure.labels if label.bold and label.text in names})


def test_mobilenet_and_squeezenet_are_drawn_in_modules_as_papers_do():
    """At 17 cm: MobileNetV2 a module per stage (its first block and its repeats), SqueezeNet a
    module per fire module (the squeeze with its expand branches and their concat), in ≤ 3 rows."""
    from archcalc.figure3d.columns import Collapse, columns_of

    mobilenet = _analysis("mobilenet_v2")
    figure = build_figure(mobilenet)
    texts = [label.text for label in figure.labels]
    stages = [f"stage{k}" for k in range(1, 8)]
    assert all(texts.count(stage) == 1 for stage in stages) and not any(".conv." in t for t in texts)
    # Table 2 of the paper: n = 1, 2, 3, 4, 3, 3, 1 blocks; the first of each stage strided (s) where the map halves
    assert [t for t in texts if "blocks" in t] == ["2 blocks, s2", "3 blocks, s2", "4 blocks, s2", "3 blocks",
                                                   "3 blocks, s2"]  # fmt: skip
    assert texts.count("1×1 → dw 3×3 → 1×1") == 6 and _marks(figure) == ["⊕"] * 5
    assert _rows(figure, [c.name for c in columns_of(mobilenet, Collapse.MODULES)]) <= 3
    squeezenet = _analysis("squeezenet1_0")
    figure = build_figure(squeezenet)
    texts = [label.text for label in figure.labels]
    fires = [f"fire{k}" for k in range(2, 10)]  # the paper's names: the spec's labels of features.3 … features.12
    assert all(texts.count(fire) == 1 for fire in fires) and not any(t.endswith(".squeeze") for t in texts)
    assert texts.count("1×1 →") == texts.count("‖ 3×3") == 8 and _marks(figure) == ["‖"] * 8
    assert _rows(figure, [c.name for c in columns_of(squeezenet, Collapse.MODULES)]) <= 3


@pytest.mark.parametrize(
    ("name", "blocks", "path"), [("resnet50", [3, 4, 6, 3], "1×1 → 3×3 → 1×1"), ("resnet18", [2, 2, 2, 2], "3×3 → 3×3")]
)
def test_resnets_are_drawn_one_module_per_stage_in_one_row(name: str, blocks: list[int], path: str):
    """At 17 cm a ResNet is one module per stage, as the paper's Table 1 lists it: conv2_x … conv5_x
    with 3, 4, 6, 3 bottleneck blocks (ResNet-50) or 2 basic blocks each (ResNet-18); the block's
    path once, the sum's sign on the module, the stride and the projection shortcut of the stages
    that halve the map; no ``layer1.0`` beside a ``layer1 ×2``; in one row."""
    figure = build_figure(_analysis(name))
    texts = [label.text for label in figure.labels]
    stages = [f"layer{k}" for k in range(1, 5)]
    assert all(texts.count(stage) == 1 for stage in stages) and not any(t.startswith("layer1.") for t in texts)
    counts = [f"{blocks[0]} blocks"] + [f"{n} blocks, s2" for n in blocks[1:]]
    assert [t for t in texts if "blocks" in t] == counts
    assert texts.count(path) == 4 and _marks(figure) == ["⊕"] * 4
    assert texts.count("shortcut 1×1 s2") == 3  # layer2–4 halve the map: a strided 1×1 projection
    assert texts.count("shortcut 1×1") == (name == "resnet50")  # the bottleneck widens 64 → 256 in layer1
    assert _rows(figure, ["input", *stages, "fc"]) == 1
    check_print(figure, render_svg(figure), "17cm")


def _dashed_crossings(figure) -> int:
    """How often a dashed route's upright run crosses another dashed route's level run."""
    dashed = [s for s in figure.segments if s.role == "skip"]
    level = [s for s in dashed if abs(s.y0 - s.y1) < 1e-6]
    upright = [s for s in dashed if abs(s.x0 - s.x1) < 1e-6]
    return sum(
        min(a.x0, a.x1) + 0.5 < b.x0 < max(a.x0, a.x1) - 0.5 and min(b.y0, b.y1) + 0.5 < a.y0 < max(b.y0, b.y1) - 0.5
        for a in level
        for b in upright
    )


def test_skips_between_rows_are_stacked_so_they_do_not_cross(monkeypatch):
    """Two staggered skips from row 1 to row 2 (c1 → a16, c4 → a19): drawn in their order they
    would cross twice; stacked the other way round, not at all."""
    from archcalc.figure3d import layout

    convs = [{"kind": "conv", "name": f"c{i}", "out_channels": 8, "kernel": 3, "padding": 1} for i in range(20)]
    convs[16] = {"kind": "add", "name": "a16", "inputs": ["c15", "c1"]}
    convs[19] = {"kind": "add", "name": "a19", "inputs": ["c18", "c4"]}
    convs[17]["inputs"] = ["a16"]
    spec = {"name": "Staggered", "input": {"channels": 8, "height": 16, "width": 16}, "layers": convs}
    analysis = archcalc.analyse(archcalc.from_mapping(spec))
    options = Options(expand=True)
    figure = build_figure(analysis, options)
    assert len({round(label.y) for label in figure.labels if label.bold}) == 2  # two rows
    assert len([s for s in figure.segments if s.role == "skip" and s.arrow]) == 2
    assert _dashed_crossings(figure) == 0
    check_print(figure, render_svg(figure), "17cm")
    monkeypatch.setattr(layout._Layout, "fewest_crossings", lambda self, routes: routes)
    assert _dashed_crossings(build_figure(analysis, options)) == 2


def test_densenet_is_drawn_in_dense_blocks_and_transitions_without_its_shared_prefix():
    """DenseNet-121 at 17 cm: each dense block once (×6, ×12, ×24, ×16: torchvision's block_config)
    and each transition one module (its 1×1 conv, then 2×2 average pooling with stride 2), named
    without the ``features.`` every layer but the head shares (the <desc> says so); ≤ 3 rows, ≤ 17 cm tall."""
    figure = build_figure(_analysis("densenet121"))
    svg = render_svg(figure)
    texts = [label.text for label in figure.labels]
    assert not any(t.startswith("features.") for t in texts)
    blocks = [f"denseblock{k}" for k in range(1, 5)]
    transitions = [f"transition{k}" for k in range(1, 4)]
    assert all(texts.count(name) == 1 for name in blocks + transitions + ["conv0", "pool0", "classifier"])
    assert [t for t in texts if t.startswith("×")] == ["×6", "×12", "×24", "×16"]
    assert texts.count("1×1 → avg 2×2 s2") == 3
    assert "without the prefix “features.” that they all share" in ET.fromstring(svg).find(f"{SVG}desc").text
    assert _rows(figure, ["input", *blocks, *transitions, "classifier"]) <= 3
    assert float(ET.fromstring(svg).get("height").removesuffix("cm")) <= 17.0
    check_print(figure, svg, "17cm")


def test_shared_prefix_is_dropped_only_where_every_dotted_name_has_it():
    from archcalc.figure3d.columns import shared_prefix

    assert shared_prefix(["features.conv0", "features.denseblock1", "avgpool", "classifier"]) == "features."
    assert shared_prefix(["features.0", "features.3", "classifier"]) == ""  # "0" would be no name
    assert shared_prefix(["features.0", "classifier.1"]) == ""  # not shared
    assert shared_prefix(["features.fc", "fc"]) == ""  # two blocks would read "fc"
    assert shared_prefix(["conv1", "features.pool"]) == ""  # one dotted name: nothing to shorten


def _front_heights(figure, roles: set[str]) -> list[float]:
    """The front face's height of each block of these roles (a cuboid is front, top, side)."""
    faces = [p for p in figure.polygons if p.role in {"input", "convolution", "pooling", "dense", "output"}]
    return [f.box.y1 - f.box.y0 for f in faces[::3] if f.role in roles]


@pytest.mark.parametrize("name", ["alexnet-keras-bn", "alexnet-tf2", "alexnet-torchvision"])
def test_fully_connected_bars_are_no_taller_than_the_tallest_map(name: str):
    """4096-wide FC layers would tower over AlexNet's maps: a bar is capped at the tallest map's
    height (the input's, 227 or 224 px square), and the <desc> states the cap."""
    figure = build_figure(_analysis(name))
    svg = render_svg(figure)
    maps, bars = _front_heights(figure, {"input", "convolution", "pooling"}), _front_heights(figure, {"dense"})
    assert bars and max(bars) <= max(maps) + 1e-6
    assert max(bars) == pytest.approx(max(maps))  # the 4096 bars reach the cap, not beyond
    wide = build_figure(_analysis(name), Options(expand=True, width=parse_width("100cm")))
    assert "at most as tall as the tallest map" in ET.fromstring(svg).find(f"{SVG}desc").text
    assert "at most as tall" in render_svg(wide)  # at any width, every layer drawn
    check_print(figure, svg, "17cm")


def _meets(a, b) -> bool:
    """Do two axis-parallel segments cross or touch other than at a shared end?"""
    ends = {(round(a.x0, 6), round(a.y0, 6)), (round(a.x1, 6), round(a.y1, 6))}
    if ends & {(round(b.x0, 6), round(b.y0, 6)), (round(b.x1, 6), round(b.y1, 6))}:
        return False
    return (
        min(a.x0, a.x1) <= max(b.x0, b.x1) and min(b.x0, b.x1) <= max(a.x0, a.x1)
        and min(a.y0, a.y1) <= max(b.y0, b.y1) and min(b.y0, b.y1) <= max(a.y0, a.y1)
    )  # fmt: skip


@pytest.mark.parametrize("direction", [False, True])
def test_unet_is_drawn_as_a_u(direction: bool):
    """The encoder descends level by level on one side, the decoder rises on the other to the same
    levels, and each cropped skip is a horizontal dashed arrow across its level, crossing nothing."""
    options = Options(right_to_left=direction)
    figure = build_figure(_analysis("unet"), options)
    check_print(figure, render_svg(figure), "17cm")
    names = [label.text for label in figure.labels if label.bold]
    block = dict(zip(names, figure.blocks, strict=True))  # one block per stage, drawn in order
    bottom = {name: block[name].y1 for name in names}
    encoder = ["down1", "down2", "down3", "down4", "bottom"]
    decoder = ["bottom", "up4", "up3", "up2", "up1"]
    assert all(bottom[a] < bottom[b] for a, b in itertools.pairwise(encoder))  # each level lower
    assert all(bottom[a] > bottom[b] for a, b in itertools.pairwise(decoder))  # and up again
    for k in range(1, 5):
        assert bottom[f"pool{k}"] > bottom[f"down{k}"] + 20  # the pooling one level down
    skips = [s for s in figure.segments if s.role == "skip"]
    assert len(skips) == 4 and all(s.dashed and s.arrow and s.y0 == s.y1 for s in skips)
    for k, skip in zip((1, 2, 3, 4), sorted(skips, key=lambda s: s.y0), strict=True):
        source, target = block[f"down{k}"], block[f"up{k}"]
        assert source.y0 < skip.y0 < source.y1 and target.y0 < skip.y0 < target.y1  # across at its level
        assert min(skip.x0, skip.x1) == pytest.approx(min(source.x1, target.x1), abs=1.5)
        others = [s for s in figure.segments if s.role in ("connection", "skip") and s is not skip]
        assert not any(_meets(skip, other) for other in others)
        assert not any(_crosses(skip.x0, skip.y0, skip.x1, skip.y1, b, inset=0.0) for b in figure.blocks)


def test_only_an_encoder_decoder_is_drawn_as_a_u():
    """The U is found from the graph (a chain down and up in resolution, skips across a level):
    no other bundled network, at any collapse, has it; U-Net has it once its stages are blocks."""
    from archcalc.figure3d.columns import Collapse, columns_of
    from archcalc.figure3d.layout import _u_levels
    from archcalc.i18n import Lang

    found = {
        (name, level.name)
        for name in archcalc.bundled_names()
        for level in Collapse
        if _u_levels(columns_of(_analysis(name), level, Lang.EN)) is not None
    }
    assert found == {("unet", "STAGES")}
    levels = _u_levels(columns_of(_analysis("unet"), Collapse.STAGES, Lang.EN))
    assert levels == [0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 3, 2, 1, 0, 0]  # 572 → 28 → 388: four halvings, four doublings


def test_grouped_depthwise_and_plain_convolutions_are_told_apart():
    """A branching net's groups are not drawn as streams, so the kernel label says them; AlexNet's
    two GPUs are its two streams, so its labels need not."""
    spec = archcalc.parse(
        "name: g\ninput: {channels: 8, height: 32, width: 32}\nlayers:\n"
        "  - {kind: conv, name: stem, out_channels: 32, kernel: 3, padding: 1}\n"
        "  - {kind: conv, name: g, out_channels: 32, kernel: 3, padding: 1, groups: 4}\n"
        "  - {kind: conv, name: dw, out_channels: 32, kernel: 3, padding: 1, groups: depthwise, inputs: stem}\n"
        "  - {kind: add, name: sum, inputs: [g, dw]}\n"
    )
    texts = [label.text for label in build_figure(archcalc.analyse(spec), Options(expand=True)).labels]
    assert "3×3 g4" in texts and "dw 3×3" in texts
    alexnet = [label.text for label in build_figure(_analysis("alexnet")).labels]
    assert not any(" g2" in text for text in alexnet)


def test_tikz_compiles_at_the_stated_width(tmp_path):
    """LaTeX measures the picture: 17 cm of text width, within the half-width of its outermost lines.
    (TeX Live is not part of .ci/run, so this runs where pdflatex is installed.)"""
    import shutil
    import subprocess

    from archcalc.figure3d import render_tikz

    if shutil.which("pdflatex") is None:
        pytest.skip("pdflatex is not installed (Debian: texlive-latex-base texlive-pictures)")
    (tmp_path / "figure.tex").write_text(render_tikz(build_figure(_analysis("alexnet"))))
    (tmp_path / "doc.tex").write_text(
        "\\documentclass{article}\\usepackage{tikz}\\usetikzlibrary{arrows.meta}\\newlength{\\figw}\n"
        "\\begin{document}\\settowidth{\\figw}{\\input{figure.tex}}\\typeout{WIDTH=\\the\\figw}\\end{document}\n"
    )
    run = subprocess.run(["pdflatex", "-interaction=nonstopmode", "doc.tex"], cwd=tmp_path, capture_output=True,
                         text=True, timeout=120, check=False)  # fmt: skip
    assert run.returncode == 0, run.stdout[-2000:]
    width_pt = float(run.stdout.split("WIDTH=")[1].split("pt")[0])
    assert abs(width_pt - 17 / 2.54 * 72.27) < 2.0, width_pt  # TeX points: 72.27 to the inch
