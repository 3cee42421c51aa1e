"""Chinese (`--lang zh`, ARCHCALC_LANG): the words change, numbers, shapes and formulas do not, and
columns line up by display width (a CJK character takes two terminal columns)."""

from __future__ import annotations

import csv
import io
import json
import pickle
import unicodedata

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import archcalc
from archcalc.cli import main
from archcalc.errors import OptionError
from archcalc.i18n import ENVIRONMENT, Lang, Phrase, display_width, pad, resolve_lang, word, wrap
from archcalc.kinds import KINDS
from archcalc.report import render_table
from archcalc.summary import COLUMN_TITLES, COLUMNS, table_rows

# --- choosing the language ------------------------------------------------------------------


def test_resolve_lang_option_environment_and_locale_names(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.delenv(ENVIRONMENT, raising=False)
    assert resolve_lang() is Lang.EN
    assert resolve_lang("zh") is Lang.ZH
    assert resolve_lang("zh_CN.UTF-8") is Lang.ZH
    assert resolve_lang("zh-TW") is Lang.ZH
    assert resolve_lang("ZH") is Lang.ZH
    assert resolve_lang("en_GB.UTF-8") is Lang.EN
    monkeypatch.setenv(ENVIRONMENT, "zh_CN.UTF-8")
    assert resolve_lang() is Lang.ZH
    assert resolve_lang("en") is Lang.EN  # the option wins over the environment


def test_an_unknown_language_is_an_error_listing_the_allowed(monkeypatch: pytest.MonkeyPatch):
    with pytest.raises(OptionError, match=r"^--lang: unknown language 'fr'; allowed: en, zh$"):
        resolve_lang("fr")
    monkeypatch.setenv(ENVIRONMENT, "de_DE.UTF-8")
    with pytest.raises(OptionError, match=r"^ARCHCALC_LANG: unknown language 'de_DE.UTF-8'; allowed: en, zh$"):
        resolve_lang()


def test_the_environment_chooses_the_language_of_a_command():
    result = CliRunner(env={ENVIRONMENT: "zh"}).invoke(main, ["table", "lenet5"])
    assert result.exit_code == 0 and "参数总数" in result.output
    wrong = CliRunner(env={ENVIRONMENT: "klingon"}).invoke(main, ["table", "lenet5"])
    assert wrong.exit_code == 2 and "unknown language 'klingon'; allowed: en, zh" in wrong.output


# --- words ----------------------------------------------------------------------------------


def test_a_phrase_is_its_english_text_and_says_itself_in_chinese():
    axis = word("height", "高")
    phrase = Phrase({"en": "{axis}: {n} rows", "zh": "{axis}：{n} 行"}, axis=axis, n=3)
    assert phrase == "height: 3 rows" and isinstance(phrase, str)
    assert phrase.said(Lang.ZH) == "高：3 行"
    assert phrase.said(Lang.EN) == "height: 3 rows"
    copy = pickle.loads(pickle.dumps(phrase))
    assert copy == phrase and copy.said(Lang.ZH) == "高：3 行"


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_has_a_name_in_english_and_chinese(name: str):
    title = KINDS[name].title
    assert title.get("en"), f"{name}: no English title"
    assert title.get("zh"), f"{name}: no Chinese title"
    assert any("\u4e00" <= char <= "\u9fff" for char in title["zh"]) or title["zh"] == title["en"], name


def test_every_column_has_a_chinese_header():
    for name in (*COLUMNS, "Inputs"):
        assert COLUMN_TITLES[name]["en"] == name
        assert all("\u4e00" <= char <= "\u9fff" for char in COLUMN_TITLES[name]["zh"])


# --- display width --------------------------------------------------------------------------


def test_display_width_counts_wide_characters_twice():
    assert display_width("conv1") == 5
    assert display_width("卷积") == 4
    assert display_width("输入 3×227×227") == 4 + 1 + 9  # × is narrow
    assert display_width("（）：") == 6  # fullwidth punctuation
    assert display_width(unicodedata.normalize("NFD", "é")) == 1  # a combining accent takes no column
    assert pad("卷积", 6) == "卷积  "
    assert pad("卷积", 6, right=True) == "  卷积"
    assert pad("toolong", 3) == "toolong"


@given(st.text(alphabet="ab 卷积层，。12×", max_size=60), st.integers(10, 30))
def test_wrap_keeps_every_character_and_the_width(text: str, width: int):
    lines = wrap(text, width)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "")
    for line in lines:
        longest_word = max((display_width(part) for part in line.split()), default=0)
        assert display_width(line) <= width or longest_word > width or line[-1] in "，。"


CHINESE_NAMES = """
name: 中文网络
input: 3x32x32
layers:
  - {kind: conv, name: 卷积层一, out_channels: 8, kernel: 3, padding: 1}
  - {kind: relu, name: 激活}
  - {kind: maxpool, name: 池化, kernel: 2}
  - {kind: flatten, name: flat}
  - {kind: linear, name: 全连接输出层, out_features: 10}
"""


def from_column(line: str, column: int) -> str:
    """What `line` shows from display column `column` on."""
    used = 0
    for index, char in enumerate(line):
        if used >= column:
            return line[index:]
        used += display_width(char)
    return ""


@pytest.mark.parametrize("lang", list(Lang))
def test_columns_line_up_by_display_width_with_chinese_names(lang: Lang):
    analysis = archcalc.analyse(archcalc.parse(CHINESE_NAMES))
    text = render_table(analysis, "text", lang=lang)
    lines = text.splitlines()
    rule = lines[1]
    rows = [line for line in lines[2 : lines.index(rule, 2)] if not line.startswith("-")]
    header = rows[0]
    shape_title = "Output shape" if lang is Lang.EN else "输出形状"
    shape_column = display_width(header[: header.index(shape_title)])
    # every row shows its shape from the header's column on, whatever the width of the names before it
    shapes = [shape_title, "3×32×32", "8×32×32", "8×32×32", "8×16×16", "2048", "10"]
    for row, shape in zip(rows, shapes, strict=True):
        assert from_column(row, shape_column).startswith(shape + " "), text
    # the right-aligned Params column: every count ends where the header does
    params_title = "Params" if lang is Lang.EN else "参数"
    params_end = display_width(header[: header.index(params_title) + len(params_title)])
    for row, count in zip(rows[2:], ["224", "0", "0", "0", "20,490"], strict=True):
        assert from_column(row, params_end - display_width(count)).startswith(count + "  "), text
    assert max(display_width(line) for line in rows) <= display_width(rule)


# --- the table in Chinese -------------------------------------------------------------------


def test_table_in_chinese_has_chinese_words_and_the_same_numbers():
    analysis = archcalc.analyse(archcalc.load("alexnet"))
    header, english = table_rows(analysis)
    _, chinese = table_rows(analysis, lang=Lang.ZH)
    kind, rf = header.index("Kind"), header.index("RF")
    for en, zh in zip(english, chinese, strict=True):
        for index, (a, b) in enumerate(zip(en, zh, strict=True)):
            if index == kind:
                assert b == KINDS[a].title["zh"]
            elif index == rf and a == "all":
                assert b == "全部"
            else:
                assert a == b  # names, shapes, counts and formulas
    result = CliRunner().invoke(main, ["table", "alexnet", "--lang", "zh"])
    assert result.exit_code == 0
    lines = result.output.splitlines()
    assert lines[0] == "AlexNet — 输入 3×227×227"
    assert lines[2].split() == ["层", "类型", "输出形状", "参数", "乘加次数", "感受野", "形状计算", "参数计算"]
    conv2 = next(line for line in lines if line.startswith("conv2 "))
    assert conv2.split()[:5] == ["conv2", "卷积", "256×27×27", "307,456", "223,948,800"]
    assert "参数总数：             60,965,224" in lines


def test_markdown_csv_json_and_html_in_chinese():
    analysis = archcalc.analyse(archcalc.load("alexnet"), (3, 224, 224))
    markdown = render_table(analysis, "markdown", lang=Lang.ZH)
    assert "| 层 | 类型 | 输出形状 | 参数 |" in markdown and "**警告**" in markdown
    english_csv = list(csv.DictReader(io.StringIO(render_table(analysis, "csv"))))
    chinese_csv = list(csv.DictReader(io.StringIO(render_table(analysis, "csv", lang=Lang.ZH))))
    assert [row["params"] for row in chinese_csv] == [row["params"] for row in english_csv]
    assert chinese_csv[0]["kind"] == "conv"  # kind names are the contract's identifiers
    assert chinese_csv[0]["warnings"].startswith("高和宽：(224 − 11 + 0)/4 = 53.25 不能整除")
    english_json = json.loads(render_table(analysis, "json"))
    chinese_json = json.loads(render_table(analysis, "json", lang=Lang.ZH))
    assert chinese_json["totals"] == english_json["totals"]
    assert [layer["output_shape"] for layer in chinese_json["layers"]] == [
        layer["output_shape"] for layer in english_json["layers"]
    ]
    assert "从未被卷积核覆盖" in chinese_json["layers"][0]["warnings"][0]
    html = render_table(analysis, "html", lang=Lang.ZH)
    assert '<html lang="zh-CN">' in html
    assert '<th data-type="text">层</th>' in html and '<td data-v="卷积">卷积</td>' in html
    assert "<dt>卷积核大小</dt><dd>11×11×3，96 个卷积核</dd>" in html
    assert "Noto Sans CJK SC" in html


def test_english_is_unchanged_by_the_words_machinery():
    analysis = archcalc.analyse(archcalc.load("alexnet"), (3, 224, 224))
    [warning] = analysis["conv1"].warnings
    assert warning == (
        "height and width: (224 − 11 + 0)/4 = 53.25 is not exact; "
        "the last 1 row/column of the input is never covered by the kernel"
    )
    text = render_table(analysis, "text")
    assert "\nWarnings (4):\n" in text and "\nTotal params:          " in text


def test_explain_in_chinese():
    result = CliRunner().invoke(main, ["explain", "lenet5", "C3", "--lang", "zh"])
    assert result.exit_code == 0
    assert "C3 — 卷积 (conv)" in result.output
    assert "连接表" in result.output and "1,516" in result.output
    assert "输出大小         (14 − 5 + 2×0)/1 + 1 = 10 → 16×10×10" in result.output


def test_readme_quotes_the_real_chinese_table():
    from .conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quoted = readme.split("<!-- table-zh:alexnet -->\n```\n$ archcalc table alexnet --lang zh\n")[1].split("```")[0]
    real = CliRunner().invoke(main, ["table", "alexnet", "--lang", "zh"]).output.splitlines()
    lines = [line for line in quoted.splitlines() if line != "..."]
    assert len(lines) == 7 and all(line in real for line in lines)


# --- the figure, the notebook, the charts' words and the parameter arithmetic --------------------


def _figure_texts(svg: str) -> list[str]:
    import xml.etree.ElementTree as ET

    return [t.text or "" for t in ET.fromstring(svg).iter("{http://www.w3.org/2000/svg}text")]


def test_figure_captions_and_notes_in_chinese():
    from archcalc.figure3d.columns import Collapse, columns_of

    alexnet = archcalc.analyse(archcalc.load("alexnet"))
    chinese = _figure_texts(alexnet.svg(lang="zh"))
    assert "+ ReLU、LRN" in chinese and "输入" in chinese and "卷积" in chinese  # a note, the input, the legend
    assert any(text.startswith("最大 3×3") for text in chinese)  # pool1: max pooling 3×3, stride 2
    page = CliRunner().invoke(main, ["table", "alexnet", "-f", "html", "--lang", "zh"]).output
    assert ">+ ReLU、LRN</text>" in page and "特征图的高与深" in page  # the page's figure as well
    english = _figure_texts(alexnet.svg(lang="en"))
    assert "+ ReLU, LRN" in english and "input" in english and not any("最大" in text for text in english)
    resnet = archcalc.analyse(archcalc.load("resnet18"))
    regions = columns_of(resnet, Collapse.BRANCHES, Lang.ZH)
    block = next(c for c in regions if c.name == "layer1.0")
    assert (block.op, block.details) == ("2 条路径，相加", ["‖ 捷径", "‖ 3×3 → 3×3"])
    assert next(c for c in regions if c.name == "avgpool").op == "自适应平均"
    english_block = next(c for c in columns_of(resnet, Collapse.BRANCHES, Lang.EN) if c.name == "layer1.0")
    assert (english_block.op, english_block.details) == ("2 paths, add", ["‖ shortcut", "‖ 3×3 → 3×3"])


def test_a_repeat_block_is_said_in_chinese():
    from archcalc.figure3d.columns import Collapse, columns_of

    spec = archcalc.parse(
        "name: r\ninput: [3, 16, 16]\nlayers:\n"
        "  - repeat: 3\n    name: body\n    layers:\n"
        "      - {kind: conv, out_channels: 4, kernel: 3, padding: 1}\n      - {kind: maxpool, kernel: 1}\n"
    )
    analysis = archcalc.analyse(spec)
    [zh] = [c for c in columns_of(analysis, Collapse.REPEATS, Lang.ZH) if c.fused > 1]
    [en] = [c for c in columns_of(analysis, Collapse.REPEATS, Lang.EN) if c.fused > 1]
    assert (en.op, en.details) == ("×3", ["3×3 → max 1×1"])
    assert (zh.op, zh.details) == ("重复 ×3", ["3×3 → 最大 1×1"])


@pytest.mark.parametrize("name", sorted(KINDS))
def test_every_caption_and_note_has_no_english_words_left(name: str):
    """In Chinese the figure keeps only the names its readers use as they are: ReLU, BN, RBF, ..."""
    import re

    from archcalc.figure3d.columns import Collapse, columns_of

    from .conftest import EVERY_KIND
    from .test_conventions import COUNTED_KINDS

    kept = {"ReLU", "ReLU6", "Leaky", "PReLU", "ELU", "GELU", "SiLU", "h-swish", "h-sigmoid", "tanh", "A·tanh",
            "sigmoid", "softmax", "BN", "LN", "GN", "IN", "LRN", "RBF", "s"}  # fmt: skip
    for source in (EVERY_KIND, COUNTED_KINDS):
        analysis = archcalc.analyse(archcalc.parse(source))
        if name not in {layer.kind for layer in analysis.layers}:
            continue
        for level in Collapse:
            for column in columns_of(analysis, level, Lang.ZH):
                if column.layer is None or column.layer.kind != name:
                    continue
                words = set(re.findall(r"[A-Za-z][A-Za-z·6-]*", " ".join([column.op, *column.notes, *column.details])))
                assert words <= kept, (column.name, column.op, column.notes, column.details)


def test_figure_speaks_the_language_of_its_options():
    from archcalc.figure3d import Options, build_figure, columns_of, page_figure, render_svg

    analysis = archcalc.analyse(archcalc.load("alexnet"))
    assert columns_of(analysis)[0].name == "input" and columns_of(analysis, lang=Lang.ZH)[0].name == "输入"
    chinese, english = build_figure(analysis, Options(lang=Lang.ZH)), build_figure(analysis, Options())
    assert "输入" in {label.text for label in chinese.labels} and "输入" not in {label.text for label in english.labels}
    assert "input" in {label.text for label in english.labels}
    # the <desc> is written in the figure's language by the layout and the export, with nothing after them
    assert "<desc>按 17cm 宽打印：1 单位 = " in render_svg(chinese)
    assert "<desc>Printed 17cm wide: 1 unit = " in render_svg(english)
    assert "<desc>按 17cm 宽打印：" in page_figure(analysis, Options(lang=Lang.ZH)).svg


def test_size_mapping_described_in_each_language():
    from archcalc.figure3d.options import Mapping, Scale

    assert Mapping(Scale.SQRT, 5.0, 8.0, 100.0).describe() == "5·√n units (clamped to 8–100)"
    assert Mapping(Scale.SQRT, 5.0, 8.0, 100.0).describe(Lang.ZH) == "5·√n 单位（限制在 8–100）"
    assert Mapping(Scale.LOG, 3.6, 2.0, 130.0).describe(Lang.ZH) == "3.6·(1 + log₂ n) 单位（限制在 2–130）"


def test_svg_description_in_chinese():
    import re

    analysis = archcalc.analyse(archcalc.load("lenet5"))
    english = re.search(r"<desc>(.*?)</desc>", analysis.svg(lang="en")).group(1)
    chinese = re.search(r"<desc>(.*?)</desc>", analysis.svg(lang="zh")).group(1)
    assert english.startswith("Printed 17cm wide: 1 unit = ") and "Height and depth of a map: " in english
    assert (
        chinese.startswith("按 17cm 宽打印：1 单位 = ")
        and "特征图的高与深：" in chinese
        and "单位（限制在 8–" in chinese
    )
    assert re.findall(r"\d+(?:\.\d+)?", chinese) == re.findall(r"\d+(?:\.\d+)?", english)  # the same numbers
    assert not re.search(r"[A-Za-z]{3,}", chinese.replace("cm", ""))
    via_command = CliRunner().invoke(main, ["render", "lenet5", "--lang", "zh"]).output
    assert f"<desc>{chinese}</desc>" in via_command


def test_notebook_view_follows_archcalc_lang(monkeypatch):
    analysis = archcalc.analyse(archcalc.load("lenet5"))
    monkeypatch.delenv(ENVIRONMENT, raising=False)
    english = analysis._repr_html_()
    assert '<div class="archcalc-cell">' in english and "<th>Layer</th>" in english
    # LeNet-5: C1 156 + S2 12 + C3 1,516 + S4 32 + C5 48,120 + F6 10,164 + RBF 840 = 60,840 parameters
    assert "<li><b>Total params:</b> 60,840</li>" in english
    monkeypatch.setenv(ENVIRONMENT, "zh_CN.UTF-8")
    chinese = analysis._repr_html_()
    assert '<div class="archcalc-cell" lang="zh-CN">' in chinese and "<th>层</th>" in chinese
    assert "<li><b>参数总数：</b> 60,840</li>" in chinese and "LeNet-5 — 输入 1×32×32" in chinese
    assert "特征图的高与深" in chinese and "输入</text>" in chinese  # the figure's description and labels


def test_parameter_arithmetic_words_in_chinese():
    """BatchNorm over 64 channels: γ and β learned, mean and variance kept: 4 × 64 = 256 parameters."""
    import re

    resnet = archcalc.analyse(archcalc.load("resnet18"))
    english = resnet["bn1"].params_formula
    assert english == "64×(γ, β) trainable + 64×(mean, var) = 256" and 4 * 64 == 256
    chinese = Phrase.said(english, Lang.ZH)
    assert chinese == "64×(γ, β) 可训练 + 64×(均值, 方差) = 256"
    assert re.findall(r"[\d,]+|[×=+()]", chinese) == re.findall(r"[\d,]+|[×=+()]", english)
    spec = archcalc.parse(
        "name: p\ninput: [8, 6, 6]\nlayers:\n  - {kind: prelu, per_channel: true}\n  - {kind: prelu}\n"
        "  - {kind: batchnorm, affine: false}\n  - {kind: instancenorm, affine: true, track_running_stats: true}\n"
    )
    formulas = [layer.params_formula for layer in archcalc.analyse(spec).layers]
    assert [Phrase.said(f, Lang.ZH) for f in formulas] == [
        "8×1 个斜率（每通道一个） = 8", "1 个共享斜率", "8×(均值, 方差) = 16", "8×(γ, β) 可训练 + 8×(均值, 方差) = 32",
    ]  # fmt: skip
    assert formulas[1] == "1 shared slope" and formulas[3] == "8×(γ, β) trainable + 8×(mean, var) = 32"
    table = CliRunner().invoke(main, ["table", "resnet18", "--lang", "zh"]).output
    assert "trainable" not in table and "mean, var" not in table and "64×(γ, β) 可训练 + 64×(均值, 方差) = 256" in table


def test_shape_arithmetic_words_in_chinese():
    """GoogLeNet's inception 3a concatenates 64 + 128 + 32 + 32 = 256 channels (the paper's table 1)."""
    googlenet = archcalc.analyse(archcalc.load("googlenet"))
    formula = googlenet["inception3a"].formula
    assert formula == "64 + 128 + 32 + 32 = 256 channels"
    assert Phrase.said(formula, Lang.ZH) == "64 + 128 + 32 + 32 = 256 个通道"
    table = CliRunner().invoke(main, ["table", "googlenet", "--lang", "zh"]).output
    assert "64 + 128 + 32 + 32 = 256 个通道" in table and "channels" not in table
    explained = CliRunner().invoke(main, ["explain", "googlenet", "inception3a", "--lang", "zh"]).output
    assert "64 + 128 + 32 + 32 = 256 个通道 → 256×28×28" in explained
    shuffle = archcalc.parse("name: s\ninput: [6, 4, 4]\nlayers:\n  - {kind: channel_shuffle, groups: 2}\n")
    [layer] = archcalc.analyse(shuffle).layers
    assert layer.formula == "6 channels: 2 groups of 3, interleaved"
    assert Phrase.said(layer.formula, Lang.ZH) == "6 个通道：2 组，每组 3 个，交错排列"


def test_a_pooling_window_is_not_called_a_convolution_kernel_in_chinese():
    from archcalc.explain import explain

    text = explain(archcalc.analyse(archcalc.load("alexnet")), ["pool2", "conv3"], lang="zh")
    pool, conv = text.split("conv3 —")
    assert "窗口大小" in pool and "卷积核" not in pool
    assert "卷积核大小" in conv
    english = explain(archcalc.analyse(archcalc.load("alexnet")), ["pool2"])
    assert "  kernel " in english  # the same word in English for both
