"""`archcalc explain`: every stage laid out as the seed posts lay it out, with the arithmetic right.

Values are hand-checked arithmetic, the papers (LeNet-5's C3: 1,516 parameters) and the seeds
(001's stage-by-stage AlexNet, 004's ungrouped conv2 count 614,656); ceil_mode against PyTorch.
"""

from __future__ import annotations

import re

import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import archcalc
from archcalc.cli import main
from archcalc.errors import OptionError
from archcalc.explain import explain, stage
from archcalc.i18n import Lang
from archcalc.kinds import KINDS

from .conftest import EVERY_KIND


def rows(net: str | archcalc.NetworkSpec, name: str, shape: tuple[int, ...] | None = None, lang: Lang = Lang.EN):
    spec = archcalc.load(net) if isinstance(net, str) else net
    return stage(archcalc.analyse(spec, shape)[name], lang)


def one_layer(layer: str, input_shape: str) -> archcalc.NetworkSpec:
    return archcalc.parse(f"name: probe\ninput: {input_shape}\nlayers:\n  - {layer}\n")


def test_alexnet_conv2_is_the_seeds_stage_with_the_groups_counted():
    conv2 = rows("alexnet", "conv2")
    table = dict(conv2.rows)
    # seed 001: 输入 27*27*96, 填充 2, 卷积核 5*5*48, 步长 1, 个数 256, 输出 (27-5+2*2)/1+1=27, 偏置 256
    assert table["input"] == "96×27×27"
    assert table["kernel"] == "5×5×48 per group"
    assert table["stride"] == "1"
    assert table["padding"] == "2"
    assert table["kernels"] == "256 (2 groups of 128)"
    assert table["output"] == "(27 − 5 + 2×2)/1 + 1 = 27 → 256×27×27"
    assert table["biases"] == "256"
    # 5·5·48 weights per kernel, 256 kernels, 256 biases: 307,200 + 256
    assert table["parameters"] == "5×5×48×256 + 256 = 307,456"
    assert 5 * 5 * 48 * 256 + 256 == 307_456
    assert table["MACs"] == f"{5 * 5 * 48 * 256 * 27 * 27:,}"
    [note] = conv2.notes
    # seed 004's table counts conv2 without the split: 5·5·96·256 + 256 = 614,656
    assert "5×5×96×256 + 256 = 614,656" in note
    assert 5 * 5 * 96 * 256 + 256 == 614_656
    assert "each kernel reads only the 48 channels of its group" in note
    assert "each group makes 128 of the 256 output maps" in note


def test_conv1_on_227_divides_exactly_and_224_drops_the_last_row_and_column():
    exact = rows("alexnet", "conv1")
    assert dict(exact.rows)["output"] == "(227 − 11 + 2×0)/4 + 1 = 55 → 96×55×55"
    assert exact.notes == []
    cut = rows("alexnet", "conv1", (3, 224, 224))
    assert dict(cut.rows)["output"] == "⌊(224 − 11 + 2×0)/4⌋ + 1 = 54 → 96×54×54"
    [note] = cut.notes
    # 54 windows of 11 at stride 4 start at 0, 4, …, 212 and end at row 222 (0-based): row 223
    # (the 224th) is never seen; 223 − 11 and 227 − 11 divide by 4.
    assert 53 * 4 + 11 == 223
    assert (223 - 11) % 4 == 0 and (227 - 11) % 4 == 0
    assert note.startswith("height and width: (224 − 11 + 0)/4 = 53.25 is not exact")
    assert "the last window ends at row/column 223 of the input and row/column 224 is never seen" in note
    assert note.endswith("an input of 223 or 227 divides exactly")


def test_a_remainder_of_several_rows_names_them_all():
    # 10 − 3 = 7 = 2·3 + 1 … with stride 3 on 12: (12 − 3)/3 = 3 exact; on 14: (14 − 3)/3 = 3.67, 2 rows dropped
    [note] = rows(one_layer("{kind: conv, name: c, out_channels: 1, kernel: 3, stride: 3}", "1x14x14"), "c").notes
    assert "the last window ends at row/column 12 of the input and rows/columns 13–14 are never seen" in note
    assert "an input of 12 or 15 divides exactly" in note


def test_a_remainder_that_is_only_padding_loses_no_input():
    # 6 + 2·1 − 3 = 5 = 2·2 + 1: the row left over is the bottom padding
    layer = "{kind: maxpool, name: p, kernel: 3, stride: 2, padding: 1}"
    [note] = rows(one_layer(layer, "1x6x6"), "p").notes
    assert "what the division drops is padding: every row/column of the input is seen" in note


def test_ceil_mode_adds_a_partial_window():
    # GoogLeNet's maxpool1: 112 → 3×3 stride 2 ceil: (112 − 3)/2 = 54.5 → 56 windows; the last starts
    # at row 111 (1-based) and only rows 111, 112 of its 3 exist.
    layer = "{kind: maxpool, name: p, kernel: 3, stride: 2, ceil_mode: true}"
    result = rows(one_layer(layer, "4x112x112"), "p")
    assert dict(result.rows)["ceil_mode"] == "on"
    assert dict(result.rows)["output"].endswith("= 56 → 4×56×56")
    [note] = result.notes
    assert "a last window starts at row/column 111 and only 2 of its 3 rows/columns lie inside" in note
    assert "the output is 56, not 55" in note


def test_ceil_mode_window_starting_in_the_padding_is_dropped_as_pytorch_does():
    layer = "{kind: maxpool, name: p, kernel: 2, stride: 2, padding: 1, ceil_mode: true}"
    result = rows(one_layer(layer, "1x17x11"), "p")
    height, width = result.notes
    assert height.startswith("height: ceil_mode would add a window starting at row 18")
    assert "PyTorch drops a last window that starts in the padding, so the output stays 9" in height
    assert width.startswith("width: ceil_mode would add a window starting at column 12")
    assert "so the output stays 6" in width
    torch = pytest.importorskip("torch")
    pooled = torch.nn.functional.max_pool2d(torch.zeros(1, 1, 17, 11), 2, 2, padding=1, ceil_mode=True)
    assert tuple(pooled.shape[2:]) == (9, 6)


def test_same_padding_that_does_not_split_evenly():
    # TensorFlow: output ⌈224/4⌉ = 56; padding (56 − 1)·4 + 11 − 224 = 7: 3 before, 4 after (seed 003's conv1 56×56)
    result = rows("alexnet-tf-bench", "conv1")
    assert (56 - 1) * 4 + 11 - 224 == 7
    assert dict(result.rows)["padding"] == "top 3, bottom 4, left 3, right 4 (SAME)"
    [note] = result.notes
    assert "output ⌈224/4⌉ = 56 needs (56 − 1)×4 + 11 − 224 = 7 rows/columns of padding" in note
    assert "3 before and 4 after" in note


def test_lenet5_c3_connection_table_and_c5_as_a_fully_connected_layer():
    c3 = rows("lenet5", "C3")
    # the paper: 60 connections of 5×5 weights, plus 16 biases = 1,516; fully connected it would be 2,416
    assert dict(c3.rows)["parameters"] == "5×5×60 connections + 16 = 1,516"
    [note] = c3.notes
    assert "60 connections in all instead of 6×16 = 96" in note
    assert "5×5×60 + 16 = 1,516 parameters instead of 2,416" in note
    assert 5 * 5 * 6 * 16 + 16 == 2_416
    c5 = rows("lenet5", "C5")
    assert dict(c5.rows)["kernel"] == "5×5×16"
    assert dict(c5.rows)["parameters"] == "5×5×16×120 + 120 = 48,120"
    assert dict(c5.rows)["output"] == "(5 − 5 + 2×0)/1 + 1 = 1 → 120×1×1"
    [note] = c5.notes
    assert "covers the whole 5×5 input" in note and "a fully connected layer written as a convolution" in note


def test_fully_connected_rows():
    fc6 = dict(rows("alexnet", "fc6").rows)
    assert fc6["input"] == "9216" and fc6["output"] == "4096" and fc6["biases"] == "4,096"
    assert fc6["parameters"] == "9216×4096 + 4096 = 37,752,832"
    assert fc6["receptive field"] == "the whole input"


def test_depthwise_note():
    layer = "{kind: conv, name: dw, out_channels: 32, kernel: 3, padding: 1, groups: depthwise}"
    result = rows(one_layer(layer, "32x8x8"), "dw")
    assert dict(result.rows)["kernel"] == "3×3×1 per group"
    [note] = result.notes
    assert "each of the 32 kernels is 3×3×1" in note and "3×3×32×32 + 32 = 9,248" in note


def test_layers_named_in_order_and_an_unknown_name_lists_them():
    analysis = archcalc.analyse(archcalc.load("alexnet"))
    text = explain(analysis, ["pool2", "conv1"])
    assert text.index("\npool2 — max pooling (maxpool)") < text.index("\nconv1 — convolution (conv)")
    assert "conv2" not in text
    with pytest.raises(OptionError, match=r"no layer named 'pool9' in AlexNet; layers: conv1, relu1, norm1, pool1"):
        explain(analysis, ["pool9"])


def test_every_layer_without_names():
    analysis = archcalc.analyse(archcalc.load("alexnet"))
    text = explain(analysis)
    for layer in analysis.layers:
        assert f"\n{layer.name} — " in text


def test_chinese_words_numbers_unchanged():
    zh = rows("alexnet", "conv2", lang=Lang.ZH)
    table = dict(zh.rows)
    assert table["输入大小"] == "96×27×27"
    assert table["卷积核大小"] == "每组 5×5×48"
    assert table["卷积核个数"] == "256（2 组，每组 128 个）"
    assert table["输出大小"] == "(27 − 5 + 2×2)/1 + 1 = 27 → 256×27×27"
    assert table["偏置个数"] == "256"
    assert zh.title == "卷积"
    assert "5×5×96×256 + 256 = 614,656" in zh.notes[0] and "分组 2" in zh.notes[0]
    cut = rows("alexnet", "conv1", (3, 224, 224), Lang.ZH)
    assert "第 224 行/列从未被卷积核看到" in cut.notes[0] and "223 或 227" in cut.notes[0]


@pytest.mark.parametrize("lang", list(Lang))
@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_explains_itself_in_every_language(name: str, lang: Lang):
    from .test_kinds_contract import analysed  # the smallest use of each kind

    analysis = analysed(KINDS[name])
    text = explain(analysis, ["probe"], lang=lang)
    assert "probe — " in text
    assert "{" not in text, "a template field left unfilled"


@pytest.mark.parametrize("lang", list(Lang))
def test_every_awkward_case_says_itself(lang: Lang):
    analysis = archcalc.analyse(archcalc.parse(EVERY_KIND))
    for fmt in ("text", "markdown", "html"):
        assert "{" not in explain(analysis, fmt=fmt, lang=lang).replace("{ ", "").split("<style>")[0]


@given(n=st.integers(8, 64), k=st.integers(1, 7), s=st.integers(1, 5))
def test_the_note_names_exactly_the_rows_the_division_drops(n: int, k: int, s: int):
    result = rows(one_layer(f"{{kind: conv, name: c, out_channels: 1, kernel: {k}, stride: {s}}}", f"1x{n}x{n}"), "c")
    windows = (n - k) // s + 1
    last_seen = (windows - 1) * s + k  # 1-based row the last window ends on
    if last_seen == n:
        assert result.notes == []
    else:
        [note] = result.notes
        assert f"ends at row/column {last_seen} of the input" in note
        # the sizes that divide: the rows the windows reach, or one more stride of them
        assert note.endswith(f"an input of {last_seen} or {last_seen + s} divides exactly")


def test_markdown_and_html(tmp_path):
    analysis = archcalc.analyse(archcalc.load("alexnet"))
    markdown = explain(analysis, ["conv2"], fmt="markdown")
    assert "### conv2 — convolution (`conv`)" in markdown
    assert "- **kernel:** 5×5×48 per group" in markdown
    html = explain(analysis, ["conv2"], fmt="html", lang="zh")
    assert '<html lang="zh-CN">' in html
    assert "<dt>卷积核大小</dt><dd>每组 5×5×48</dd>" in html
    assert "Noto Sans CJK SC" in html


def test_html_escapes_names():
    spec = one_layer("{kind: conv, name: '<script>alert(1)</script>', out_channels: 1, kernel: 1}", "1x4x4")
    html = explain(archcalc.analyse(spec), fmt="html")
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_cli(tmp_path):
    result = CliRunner().invoke(main, ["explain", "alexnet", "conv2", "--lang", "zh"])
    assert result.exit_code == 0, result.output
    assert "卷积核个数       256（2 组，每组 128 个）" in result.output
    wrong = CliRunner().invoke(main, ["explain", "alexnet", "conv9"])
    assert wrong.exit_code == 2
    assert "no layer named 'conv9' in AlexNet; layers: conv1," in wrong.output
    target = tmp_path / "notes.html"
    written = CliRunner().invoke(main, ["explain", "lenet5", "-o", str(target)])
    assert written.exit_code == 0 and target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    markdown = CliRunner().invoke(main, ["explain", "lenet5", "C3", "--format", "markdown"])
    assert "### C3 — convolution (`conv`)" in markdown.output
    bad = CliRunner().invoke(main, ["explain", "lenet5", "--lang", "fr"])
    assert bad.exit_code == 2 and "unknown language 'fr'; allowed: en, zh" in bad.output


def test_readme_quotes_the_real_output():
    from .conftest import ROOT

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    quoted = re.findall(
        r"<!-- explain:(.*?) -->\n```\n\$ archcalc explain .*?\n(.*?)```\n<!-- /explain -->", readme, re.S
    )
    assert len(quoted) >= 2
    for args, text in quoted:
        assert CliRunner().invoke(main, ["explain", *args.split()]).output == text
