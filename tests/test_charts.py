"""The charts: text stays text, the same bytes every time, honest (linear, from zero) MACs bars."""

from __future__ import annotations

import io
import re
import xml.etree.ElementTree as ET

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.charts import CJK_FONTS, FONTS, render_chart
from archcalc.cli import main
from archcalc.errors import OptionError

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def alexnet() -> archcalc.Analysis:
    return archcalc.analyse(archcalc.load("alexnet"))


@pytest.fixture(scope="module")
def svg(alexnet) -> str:
    return render_chart(alexnet, "svg").decode()


def texts(svg: str) -> list[str]:
    return [t.text or "" for t in ET.fromstring(svg).iter(f"{SVG}text")]


def test_svg_text_is_text_in_the_stated_fonts(svg: str):
    words = texts(svg)
    assert {"conv1", "fc8", "Parameters", "MACs"} <= set(words)
    assert "<path" in svg and "glyph" not in svg  # no text turned into outlines
    families = set(re.findall(r"font-family: ([^;\"]+)", svg))
    assert families == {", ".join(f"'{f}'" for f in FONTS) + ", sans-serif"}


def test_bars_carry_their_values(svg: str, alexnet):
    """Each MACs bar is labelled with its value (AlexNet's conv2: 223,948,800 MACs, in the table)."""
    words = texts(svg)
    assert "223.95 M" in words and "105.42 M" in words  # conv2, conv1
    assert "37.75 M" in words  # fc6: 37,748,736 MACs and 37,752,832 parameters
    assert words.count("37.75 M") == 2


def test_macs_axis_is_linear_from_zero(svg: str):
    """The MACs panel's ticks are evenly spaced from 0 (a log axis would step by powers of ten)."""
    words = texts(svg)
    assert {"0", "50 M", "100 M", "150 M", "200 M", "250 M"} <= set(words)  # conv2's 224 M is the top bar
    assert not any("10^" in w or "$" in w for w in words)  # no powers of ten


def test_svg_and_pdf_are_byte_identical_and_undated(alexnet):
    for fmt in ("svg", "pdf"):
        first, second = render_chart(alexnet, fmt), render_chart(alexnet, fmt)
        assert first == second
        assert b"CreationDate" not in first and b"<dc:date>" not in first


def test_png_dpi(alexnet):
    from PIL import Image

    small = Image.open(io.BytesIO(render_chart(alexnet, "png", dpi=50))).size
    large = Image.open(io.BytesIO(render_chart(alexnet, "png", dpi=100))).size
    assert large[0] == pytest.approx(2 * small[0], abs=2) and large[1] == pytest.approx(2 * small[1], abs=2)
    # the figure is 7.5 inches tall
    assert small[1] == pytest.approx(7.5 * 50, abs=1)


def test_dpi_only_for_png(alexnet):
    with pytest.raises(OptionError, match="only a png has a resolution, not svg"):
        render_chart(alexnet, "svg", dpi=300)


@pytest.mark.parametrize(
    ("name", "dpi", "message"),
    [
        ("c.pdf", "300", "--dpi: only a png has a resolution, not pdf"),
        ("c.png", "9", "--dpi: 9: the dpi is a whole number"),
    ],
)
def test_cli_refuses_dpi_where_it_does_not_apply(tmp_path, name: str, dpi: str, message: str):
    result = CliRunner().invoke(main, ["chart", "alexnet", "-o", str(tmp_path / name), "--dpi", dpi])
    assert result.exit_code == 2 and result.stderr.startswith(f"archcalc: error: {message}")
    assert len(result.stderr.strip().splitlines()) == 1


def test_chinese_words_and_a_cjk_font(alexnet):
    chinese = render_chart(alexnet, "svg", lang="zh").decode()
    words = texts(chinese)
    assert {"参数", "乘加次数 (MACs)", "激活值内存（float32，MB）", "AlexNet — 输入 3×227×227"} <= set(words)
    assert "223.95 M" in words and "conv2" in words  # the numbers and names as in English
    families = set(re.findall(r"font-family: ([^;\"]+)", chinese))
    assert families == {", ".join(f"'{f}'" for f in FONTS + CJK_FONTS) + ", sans-serif"}


def test_chinese_glyphs_are_drawn_from_a_cjk_font(alexnet):
    """matplotlib warns of each glyph its font lacks; with the CJK fallback there is none to warn of."""
    import warnings

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        render_chart(alexnet, "png", dpi=40, lang="zh")
    assert not [w for w in caught if "missing from font" in str(w.message)]


def test_a_chinese_layer_name_brings_the_cjk_fonts():
    spec = archcalc.parse(
        "name: 小网络\ninput: [1, 8, 8]\nlayers:\n  - {kind: conv, name: 卷积1, out_channels: 2, kernel: 3}\n"
    )
    svg = render_chart(archcalc.analyse(spec), "svg", lang="en").decode()
    assert "卷积1" in texts(svg) and "Parameters" in texts(svg) and "'Noto Sans CJK SC'" in svg


def test_chart_command_takes_lang(tmp_path, monkeypatch):
    monkeypatch.delenv("ARCHCALC_LANG", raising=False)
    target = tmp_path / "c.svg"
    result = CliRunner().invoke(main, ["chart", "lenet5", "-o", str(target), "--lang", "zh"])
    assert result.exit_code == 0, result.output
    assert "参数" in texts(target.read_text(encoding="utf-8"))
    wrong = CliRunner().invoke(main, ["chart", "lenet5", "-o", str(target), "--lang", "fr"])
    assert wrong.exit_code == 2 and "unknown language 'fr'; allowed: en, zh" in wrong.stderr
