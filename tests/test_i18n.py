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
