"""The 3D figure as PDF and PNG (``figure3d.raster``): size, text as text, determinism, and a
picture that matches the SVG's as a browser draws it."""

from __future__ import annotations

import io
import re
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.errors import OptionError
from archcalc.figure3d import Figure, Label, Polygon, Segment, build_figure, render_svg
from archcalc.figure3d.options import Options
from archcalc.figure3d.raster import render_raster, svg_layout
from archcalc.i18n import Lang

from .conftest import need_program


def image(png: bytes):
    from PIL import Image

    return Image.open(io.BytesIO(png)).convert("RGB")


def pdf_text(pdf: bytes) -> str:
    """The text a PDF shows: its content streams inflated, the strings of each TJ/Tj decoded (UTF-16BE
    for the TrueType fonts matplotlib embeds as CID fonts)."""
    shown = []
    for match in re.finditer(rb">>\s*stream\r?\n", pdf):
        try:
            content = zlib.decompressobj().decompress(pdf[match.end() :])
        except zlib.error:
            continue
        for array in re.findall(rb"\[(.*?)\]\s*TJ", content, re.S):
            parts = re.findall(rb"\(((?:[^()\\]|\\.)*)\)", array, re.S)
            raw = b"".join(re.sub(rb"\\(.)", rb"\1", part, flags=re.S) for part in parts)
            shown.append(raw.decode("utf-16-be", "replace"))
    return "\n".join(shown)


@pytest.fixture(scope="module")
def alexnet_figure() -> Figure:
    return build_figure(archcalc.analyse(archcalc.load("alexnet")))


def test_pdf_has_the_svgs_size_real_text_and_no_date(alexnet_figure: Figure):
    pdf = render_raster(alexnet_figure, "pdf")
    assert pdf.startswith(b"%PDF-")
    page = svg_layout(alexnet_figure)
    width_pt, height_pt = page.width_pt, page.height_pt
    box = [float(v) for v in re.search(rb"/MediaBox \[ *([^\]]+)\]", pdf).group(1).split()]
    assert box == pytest.approx([0, 0, width_pt, height_pt], abs=0.01)
    text = pdf_text(pdf)
    for label in ("conv1", "pool5", "fc8", "11×11, s4"):
        assert label in text
    assert b"/FontFile2" in pdf and b"/Type3" not in pdf  # TrueType embedded: text, not outlines
    assert b"/ToUnicode" in pdf  # so it copies and searches as text
    assert b"CreationDate" not in pdf
    assert render_raster(alexnet_figure, "pdf") == pdf


def test_png_is_width_times_dpi(alexnet_figure: Figure):
    page = svg_layout(alexnet_figure)
    width_pt, height_pt = page.width_pt, page.height_pt
    for dpi in (72, 150):
        png = render_raster(alexnet_figure, "png", dpi)
        assert png.startswith(b"\x89PNG")
        width, height = image(png).size
        assert width == pytest.approx(width_pt / 72 * dpi, abs=1) and height == pytest.approx(
            height_pt / 72 * dpi, abs=1
        )
    assert render_raster(alexnet_figure, "png", 72) == render_raster(alexnet_figure, "png", 72)


def test_primitives_land_where_the_svg_puts_them():
    """A hand-made figure: the square's fill at its centre, the arrow's ink on its line, the label's ink."""
    figure = Figure(font_size=10.0)
    figure.polygons.append(Polygon(((0, 0), (100, 0), (100, 100), (0, 100)), fill="#2f71a8", stroke="#000000"))
    figure.segments.append(Segment(120, 50, 300, 50, arrow=True, width=2.0))
    figure.labels.append(Label(200, 130, "hello", 20.0))
    page = svg_layout(figure)
    box, width_pt, height_pt = page.box, page.width_pt, page.height_pt
    assert (
        box.x0 < 0
        and box.x1 > 300
        and width_pt / height_pt == pytest.approx((box.x1 - box.x0) / (box.y1 - box.y0), rel=1e-3)
    )
    dpi = 150
    scale = width_pt / (box.x1 - box.x0) * dpi / 72  # pixels per figure unit
    picture = image(render_raster(figure, "png", dpi))

    def at(x: float, y: float) -> tuple[int, int, int]:
        return picture.getpixel((int((x - box.x0) * scale), int((y - box.y0) * scale)))

    assert at(50, 50) == (0x2F, 0x71, 0xA8)
    assert max(at(200, 50)) < 120 and min(at(200, 56)) > 240  # on the line, and clear of it
    assert max(at(297, 50)) < 120  # the arrowhead reaches the end
    assert max(at(296, 52)) < 120 and min(at(250, 52)) > 240  # the head is wider than the line
    ink = [at(x, y) for x in range(180, 222) for y in range(116, 132)]
    assert sum(1 for p in ink if max(p) < 100) > 20


def test_dpi_is_checked():
    figure = Figure()
    figure.labels.append(Label(0, 0, "x", 10))
    with pytest.raises(OptionError, match="36 to 2400"):
        render_raster(figure, "png", 10)


def test_cli_writes_pdf_and_png(tmp_path: Path):
    pdf, png = tmp_path / "fig.pdf", tmp_path / "fig.png"
    assert CliRunner().invoke(main, ["render", "lenet5", "-o", str(pdf)]).exit_code == 0
    assert CliRunner().invoke(main, ["render", "lenet5", "-o", str(png), "--dpi", "100"]).exit_code == 0
    assert pdf.read_bytes().startswith(b"%PDF") and "C1" in pdf_text(pdf.read_bytes())
    width_pt = svg_layout(build_figure(archcalc.analyse(archcalc.load("lenet5")))).width_pt
    assert image(png.read_bytes()).width == pytest.approx(width_pt / 72 * 100, abs=1)


@pytest.mark.browser
@pytest.mark.parametrize("name", ["alexnet", "lenet5", "resnet18", "unet"])
def test_png_looks_like_the_svg_in_a_browser(name: str, tmp_path: Path):
    """The same picture: chromium's rendering of the SVG and the PNG at 96 dpi differ little, pixel by pixel."""
    from PIL import ImageChops, ImageFilter, ImageStat

    chromium = need_program("chromium", "/usr/bin/chromium")
    sync_api = pytest.importorskip("playwright.sync_api")
    figure = build_figure(archcalc.analyse(archcalc.load(name)))
    ours = image(render_raster(figure, "png", 96)).convert("L")
    svg_path = tmp_path / f"{name}.svg"
    svg_path.write_text(render_svg(figure), encoding="utf-8")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=chromium, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": ours.width, "height": ours.height})
        page.goto(svg_path.as_uri())
        theirs = image(page.screenshot(clip={"x": 0, "y": 0, "width": ours.width, "height": ours.height}))
        browser.close()
    # a 1 px blur evens out the two rasterisers' text anti-aliasing; a 2 px shift of the whole
    # picture scores about 10 here, leaving out the labels about 11, the same picture under 4
    blur = ImageFilter.GaussianBlur(1)
    theirs = theirs.convert("L").resize(ours.size)
    difference = ImageStat.Stat(ImageChops.difference(ours.filter(blur), theirs.filter(blur))).mean[0]
    assert difference < 5, f"mean difference {difference:.1f} of 255"


def test_chinese_labels_take_a_cjk_font_where_one_is_installed():
    """matplotlib falls back along the SVG's font list glyph by glyph, as a browser does."""
    import warnings

    from matplotlib import font_manager

    try:
        font_manager.findfont("Noto Sans CJK SC", fallback_to_default=False)
    except ValueError:
        pytest.skip("no Noto Sans CJK SC here (Debian: fonts-noto-cjk)")
    figure = archcalc.analyse(archcalc.load("lenet5")).svg(lang="zh")
    assert "卷积" in figure  # the legend, in Chinese
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        png = archcalc.render(archcalc.analyse(archcalc.load("lenet5")), fmt="png", figure=Options(lang=Lang.ZH))
    assert png.startswith(b"\x89PNG")
    assert not [w for w in caught if "missing from font" in str(w.message)]
