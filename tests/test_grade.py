"""Grading hand-made layer tables: the seeds' own tables first, then one table per known mistake.

The right values come from the papers' arithmetic (checked by hand below) and the seeds themselves;
each mistake table makes exactly one mistake and must be diagnosed as that mistake.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

import archcalc
from archcalc.cli import main
from archcalc.errors import OptionError, TableError
from archcalc.teaching.grade import Status, grade
from archcalc.teaching.mistakes import MISTAKES
from archcalc.teaching.report import GradeFormat, render_grade, to_text
from archcalc.teaching.tables import Column, read_table
from archcalc.teaching.values import Order, Rounded, read_number, read_shape

from .conftest import ROOT

DATA = ROOT / "tests" / "grade_data"
SEED004 = DATA / "seed004-alexnet.md"
SEED001 = DATA / "seed001-stages.md"
SEED000 = DATA / "seed000-keras-summary.txt"


def causes(cell) -> set[str]:
    return {cause.mistake.id for cause in cell.causes}


def by_layer(result, layer: str, column: Column):
    return next(c for c in result.cells if c.layer == layer and c.column is column)


# --- the seeds' tables ---------------------------------------------------------------------------


def test_seed004_table_is_the_ungrouped_alexnet():
    # Its conv2 (5·5·96·256 + 256), conv4 (3·3·384·384 + 384) and conv5 (3·3·384·256 + 256)
    # count every input map: the one-GPU AlexNet, not the paper's two groups.
    assert 5 * 5 * 96 * 256 + 256 == 614_656 and 3 * 3 * 384 * 384 + 384 == 1_327_488
    result = grade("alexnet-ungrouped", SEED004)
    right = {c.layer for c in result.cells if c.status is Status.RIGHT}
    assert right == {"conv1", "conv2", "conv4", "conv5"}
    grouped = grade("alexnet", SEED004)
    assert causes(by_layer(grouped, "conv2", Column.PARAMS)) == {"groups_ignored"}


def test_seed004_conv3_is_a_dropped_digit_of_885120():
    result = grade("alexnet-ungrouped", SEED004)
    conv3 = by_layer(result, "conv3", Column.PARAMS)
    assert conv3.status is Status.WRONG
    assert conv3.expected == "885,120" == f"{3 * 3 * 256 * 384 + 384:,}"
    assert causes(conv3) == {"digit_dropped"}
    assert conv3.causes[0].detail == "885120 → 88512"
    assert [n.key for n in conv3.notes] == ["working_right"]  # its own working gives 885,120


def test_seed004_fully_connected_rows_leave_out_the_biases():
    result = grade("alexnet-ungrouped", SEED004)
    expected = {"fc6": 9216 * 4096 + 4096, "fc7": 4096 * 4096 + 4096, "fc8": 4096 * 1000 + 1000}
    for layer, params in expected.items():
        cell = by_layer(result, layer, Column.PARAMS)
        assert cell.status is Status.WRONG and cell.expected == f"{params:,}"
        assert causes(cell) == {"bias_forgotten"}
    assert len(result.wrong) == 4 and not result.ok


def test_seed004_rows_are_matched_by_their_tutorial_names():
    result = grade("alexnet-ungrouped", SEED004)
    matched = {m.name: m.layer for m in result.matches}
    assert matched["输入层"] == "input"
    assert matched["convolution_1+ReLU+LRN"] == "conv1"
    assert matched["最大池化层_3"] == "pool5"  # the third pooling layer
    assert matched["全连接层1+ReLU+Dropout"] == "fc6"  # the first fully connected one
    assert matched["输出层(Softmax)"] == "prob"
    assert result.table.ignored == ["介绍"]


def test_seed001_pool2_line_starts_from_57_for_an_input_of_27():
    result = grade("alexnet", SEED001)
    pool2 = by_layer(result, "pool2", Column.ARITHMETIC)
    assert pool2.status is Status.WRONG
    assert pool2.expected == "(27 − 3 + 2×0)/2 + 1 = 13"
    assert {n.key: n.fields for n in pool2.notes} == {
        "formula_input": {"given": 57, "right": 27},
        "formula_value": {"expression": "(57-3)/2+1", "value": "28", "given": 13},  # (57 − 3)/2 + 1 = 28
    }
    assert causes(pool2) == {"digit_mistyped"}
    assert by_layer(result, "pool2", Column.OUTPUT).status is Status.RIGHT  # 13×13×256 itself is right


def test_seed001_conv4_and_conv5_kernels_ignore_the_two_gpus():
    # The paper: conv4 and conv5 kernels are 3×3×192 (each GPU's half of 384 maps); the seed says 3×3×384.
    result = grade("alexnet", SEED001)
    for layer in ("conv4", "conv5"):
        cell = by_layer(result, layer, Column.KERNEL)
        assert cell.expected == "3*3*192" and causes(cell) == {"groups_ignored"}
    assert by_layer(result, "conv2", Column.KERNEL).status is Status.RIGHT  # 5×5×48, as the seed says
    assert {(c.layer, c.column) for c in result.wrong} == {
        ("pool2", Column.ARITHMETIC), ("conv4", Column.KERNEL), ("conv5", Column.KERNEL)
    }  # fmt: skip
    assert by_layer(result, "fc6", Column.KERNEL).status is Status.UNGRADED  # a fully connected layer has none


def test_seed000_keras_summary_is_all_right():
    result = grade("alexnet-keras-bn", SEED000)
    assert result.ok and result.count(Status.RIGHT) == len(result.cells) == 33
    assert by_layer(result, "conv2d", Column.OUTPUT).given == "(None, 57, 57, 96)"
    assert by_layer(result, "batch_normalization", Column.PARAMS).given == "384"  # Keras's 4 × 96
    rows = [c for c in result.cells if c.column is Column.PARAMS and c.layer != "total"]
    assert sum(int(c.given) for c in rows) == 58_323_722
    assert by_layer(result, "total", Column.PARAMS).given == "58,323,722"  # its "Total params:" line


# --- one table per mistake -----------------------------------------------------------------------

MISTAKE_TABLES = [
    # file, spec, layer, column, the learner's value worked by hand
    ("floor_ceil.csv", "alexnet-torchvision", "features.0", Column.OUTPUT),  # ⌈(224 + 4 − 11)/4⌉ + 1 = 56
    ("padding_forgotten.md", "alexnet", "conv2", Column.OUTPUT),  # (27 − 5)/1 + 1 = 23
    ("padding_one_side.md", "alexnet", "conv2", Column.OUTPUT),  # (27 − 5 + 2)/1 + 1 = 25
    ("padding_doubled.txt", "alexnet", "conv2", Column.OUTPUT),  # (27 − 5 + 8)/1 + 1 = 31
    ("stride_ignored.csv", "alexnet", "conv1", Column.OUTPUT),  # (227 − 11)/1 + 1 = 217
    ("input_224_227.md", "alexnet", "conv1", Column.OUTPUT),  # ⌊(224 − 11)/4⌋ + 1 = 54
    ("bias_forgotten.csv", "alexnet", "conv1", Column.PARAMS),  # 11·11·3·96 = 34,848
    ("groups_ignored.md", "alexnet", "conv2", Column.PARAMS),  # 5·5·96·256 + 256 = 614,656
    ("groups_ignored.md", "alexnet", "conv2", Column.KERNEL),  # 5×5×96, not 5×5×48
    ("channels_swapped.csv", "alexnet-ungrouped", "conv2", Column.PARAMS),  # 5·5·256·96 + 96 = 614,496
    ("channels_swapped.csv", "alexnet-ungrouped", "conv2", Column.OUTPUT),  # 96 maps, not 256
    ("axes_order.txt", "alexnet-keras-bn", "conv2d", Column.OUTPUT),  # (None, 96, 57, 57) in Keras's H, W, C
    ("flatten_wrong_map.md", "alexnet", "flatten", Column.OUTPUT),  # 256·13·13 = 43,264
    ("flatten_wrong_map.md", "alexnet", "fc6", Column.PARAMS),  # 43,264·4096 + 4096 = 177,213,440
    ("macs_flops.csv", "alexnet", "conv1", Column.MACS),  # 2 · 105,415,200
    ("flops_as_macs.csv", "alexnet", "fc8", Column.FLOPS),  # 4096·1000 MACs, not 8,192,000 FLOPs
    ("bias_adds.csv", "alexnet", "conv1", Column.MACS),  # 105,415,200 + 96·55·55
    ("digit_repeated.csv", "alexnet", "conv1", Column.PARAMS),  # 349944
    ("digits_swapped.csv", "alexnet-ungrouped", "conv4", Column.PARAMS),  # 1327848
    ("digit_mistyped.csv", "alexnet-ungrouped", "conv5", Column.PARAMS),  # 884922
    ("connections_ignored.md", "lenet5", "C3", Column.PARAMS),  # 5·5·6·16 + 16 = 2,416, not 1,516
    ("connections_ignored.md", "lenet5", "total", Column.PARAMS),  # 60,840 + 900
    ("carried.md", "alexnet", "pool1", Column.OUTPUT),  # (45 − 3)/2 + 1 = 22 from its conv1 slip 45
    ("carried.md", "alexnet", "conv2", Column.OUTPUT),  # 22 again, from the row's own input 22×22×96
]


@pytest.mark.parametrize(("name", "spec", "layer", "column"), MISTAKE_TABLES)
def test_each_mistake_is_named(name: str, spec: str, layer: str, column: Column):
    result = grade(spec, DATA / "mistakes" / name)
    cell = by_layer(result, layer, column)
    assert cell.status is Status.WRONG
    assert Path(name).stem in causes(cell) or (name == "flops_as_macs.csv" and causes(cell) == {"macs_flops"})


def test_every_mistake_has_a_table_and_words_in_both_languages():
    tested = {Path(name).stem for name, *_ in MISTAKE_TABLES} | {"digit_dropped"}  # dropped: seed 004
    assert {m.id for m in MISTAKES} <= tested | {"flops_as_macs"}
    assert all(m.en and m.zh and m.en != m.zh for m in MISTAKES)


def test_a_slip_carries_through_the_rows_after_it():
    result = grade("alexnet", DATA / "mistakes" / "carried.md")
    conv1 = by_layer(result, "conv1", Column.OUTPUT)
    assert causes(conv1) == {"digit_mistyped"} and conv1.causes[0].detail == "55 → 45"
    pool1 = by_layer(result, "pool1", Column.OUTPUT)
    assert [(c.mistake.id, c.detail) for c in pool1.causes] == [("carried", "pool1, 输入大小: 45×45×96")]
    pool1_input = by_layer(result, "pool1", Column.INPUT)  # copied from the row above
    assert [(c.mistake.id, c.detail) for c in pool1_input.causes] == [("carried", "conv1, 输出大小: 45×45×96")]
    assert by_layer(result, "conv2", Column.PARAMS).status is Status.RIGHT  # the count does not depend on it


def test_totals_rows():
    # Seed 004's numbers, its biases left out of fc6–fc8, added up: the total repeats the rows' mistakes.
    result = grade("alexnet-ungrouped", DATA / "totals.csv")
    total = by_layer(result, "total", Column.PARAMS)
    assert total.expected == "62,378,344" and [n.key for n in total.notes] == ["sum_of_rows"]
    every = grade("alexnet-ungrouped", "layer,params\n总计,62367776\n").cells[0]  # 62,378,344 − 10,568 biases
    assert [(c.mistake.id, c.detail) for c in every.causes] == [("bias_forgotten", "at every layer it applies to")]


def test_the_224_input_propagates_to_the_fully_connected_layer():
    # 224 → conv1 54 → pool1 26 → conv2 26 → pool2 12 → conv3–5 12 → pool5 5: fc6 sees 256·5·5 = 6400.
    result = grade("alexnet", DATA / "mistakes" / "input_224_227.md")
    fc6 = by_layer(result, "fc6", Column.PARAMS)
    assert fc6.given == "26,218,496" == f"{6400 * 4096 + 4096:,}"
    # Both also follow from the rows above (conv1's 54, pool1's 26), worked on correctly: both are named.
    assert causes(fc6) == {"input_224_227", "carried"}
    assert causes(by_layer(result, "pool1", Column.OUTPUT)) == {"input_224_227", "carried"}


def test_floor_vs_ceil_names_every_mistake_that_gives_56():
    # 56 also comes from padding 4 instead of 2, and from a 227 input: each reproduces it exactly.
    cell = by_layer(grade("alexnet-torchvision", DATA / "mistakes" / "floor_ceil.csv"), "features.0", Column.OUTPUT)
    assert causes(cell) == {"floor_ceil", "padding_doubled", "input_224_227"}


def test_a_value_no_mistake_explains_says_so():
    result = grade("alexnet", "layer,params\nconv1,12345\n")
    cell = by_layer(result, "conv1", Column.PARAMS)
    assert cell.status is Status.WRONG and cell.causes == ()
    assert "line 2, conv1, params: 12345 → 34,944: no known mistake gives 12345\n" in to_text(result)


DIGIT_SLIPS = {
    "drop": "digit_dropped",
    "repeat": "digit_repeated",
    "swap": "digits_swapped",
    "mistype": "digit_mistyped",
}


@given(st.data())
def test_digit_slips_are_never_graded_right(data):
    right = data.draw(st.sampled_from([34_944, 614_656, 885_120, 1_327_488, 884_992, 37_752_832]))
    digits = str(right)
    i = data.draw(st.integers(0, len(digits) - 1))
    kind = data.draw(st.sampled_from(["drop", "repeat", "swap", "mistype"]))
    if kind == "drop":
        slipped = digits[:i] + digits[i + 1 :]
    elif kind == "repeat":
        slipped = digits[: i + 1] + digits[i:]
    elif kind == "swap":
        i = min(i, len(digits) - 2)
        slipped = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
    else:
        slipped = digits[:i] + data.draw(st.sampled_from("0123456789")) + digits[i + 1 :]
    if slipped == digits or not slipped.lstrip("0"):
        return
    layer = {34_944: "conv1", 614_656: "conv2", 885_120: "conv3", 1_327_488: "conv4", 884_992: "conv5"}.get(
        right, "fc6"
    )
    cell = grade(ALEXNET_UNGROUPED, f"layer,params\n{layer},{int(slipped)}\n").cells[0]
    assert cell.status is Status.WRONG  # never right
    found = causes(cell)
    # The slip is named, unless a mistake of substance reproduces the number (then digit slips are not listed).
    if str(int(slipped)) == slipped and not found - set(DIGIT_SLIPS.values()):
        assert DIGIT_SLIPS[kind] in found


ALEXNET_UNGROUPED = archcalc.analyse(archcalc.load("alexnet-ungrouped"))


# --- reading tables ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "dims", "order"),
    [
        ("55×55×96", (55, 55, 96), Order.EITHER),
        ("96×55×55", (96, 55, 55), Order.EITHER),
        ("55*55*96", (55, 55, 96), Order.EITHER),
        ("55x55x96", (55, 55, 96), Order.EITHER),
        ("(None, 55, 55, 96)", (55, 55, 96), Order.HWC),
        ("[96, 55, 55]", (96, 55, 55), Order.EITHER),
        ("[1, 96, 55, 55]", (96, 55, 55), Order.EITHER),
        ("6*6*256=9216", (9216,), Order.EITHER),
    ],
)
def test_shape_notations(text: str, dims: tuple[int, ...], order: Order):
    written = read_shape(text)
    assert written.value == dims and written.order is order


@pytest.mark.parametrize("text", ["34,944", "34944", "34 944", "34\u202f944", "(11*11*3*96)+96=34944", "34944。"])
def test_exact_number_notations(text: str):
    assert read_number(text).value == 34_944


def test_rounded_numbers_are_not_graded_exactly():
    assert isinstance(read_number("0.6M").value, Rounded)
    result = grade("alexnet", "layer,params\nfc6,37.75M\nfc7,17.2M\n")
    fc6, fc7 = result.cells
    assert fc6.status is Status.UNGRADED and fc6.notes[0].key == "rounded"  # 37,752,832 reads 37.75M
    assert fc7.status is Status.WRONG and fc7.notes[0].key == "rounded_wrong"  # 16,781,312 is not 17.2M


def test_a_shape_is_right_in_either_order_except_where_the_notation_fixes_it():
    result = grade("alexnet", "layer,output size\nconv1,96×55×55\npool1,27x27x96\nflatten,6*6*256\n")
    assert result.ok
    keras = grade("alexnet-keras-bn", "Layer (type)  Output Shape\nconv2d  (None, 96, 57, 57)\n")
    assert not keras.ok


def test_chinese_headers_and_synonyms():
    table = read_table(
        "层名 | 输出尺寸 | 参数量 | 计算量 | 步长 | 填充 | 卷积核\n--|--|--|--|--|--|--\nconv1 | 55×55×96 | 34944 | 1 | 4 | 0 | 11×11\n"
    )
    assert table.columns == (
        Column.LAYER, Column.OUTPUT, Column.PARAMS, Column.MACS, Column.STRIDE, Column.PADDING, Column.KERNEL
    )  # fmt: skip


@pytest.mark.parametrize(
    ("spec", "fmt"), [("alexnet", "text"), ("alexnet", "markdown"), ("alexnet", "csv"), ("resnet18", "text")]
)
def test_archcalcs_own_tables_grade_as_right(spec: str, fmt: str):
    # An aligned text table with empty cells, right-aligned numbers, totals and a warnings section after it.
    text = CliRunner().invoke(main, ["table", spec, "--format", fmt]).stdout
    result = grade(spec, text)
    assert result.ok and result.count(Status.RIGHT) > 50
    assert {m.layer for m in result.matches} >= {layer.name for layer in archcalc.analyse(archcalc.load(spec)).layers}


def test_an_aligned_text_table_with_empty_cells():
    text = "层名    输出尺寸     参数量\nconv1   55×55×96    34,944\n\n合计                 62,378,344\n"
    result = grade("alexnet-ungrouped", text)
    assert [(c.layer, c.column, c.status) for c in result.cells] == [
        ("conv1", Column.OUTPUT, Status.RIGHT), ("conv1", Column.PARAMS, Status.RIGHT),
        ("total", Column.PARAMS, Status.RIGHT),
    ]  # fmt: skip


def test_a_torchsummary_is_matched_kind_by_kind():
    # torchvision's AlexNet at 224, as torchsummary prints it: it numbers modules, and leaves out
    # the flatten (a function call), so Dropout-15 is the layer after flatten.
    result = grade("alexnet-torchvision", DATA / "torchsummary-alexnet.txt")
    assert result.ok and len(result.cells) == 43
    matched = {m.name: m.layer for m in result.matches}
    assert matched["ReLU-2"] == "features.1" and matched["Dropout-15"] == "classifier.0"
    assert matched["Total params"] == "total"
    assert by_layer(result, "classifier.0", Column.OUTPUT).given == "[-1, 9216]"


def test_a_torchinfo_summary_leaves_out_its_containers():
    result = grade("alexnet-torchvision", DATA / "torchinfo-alexnet.txt")
    assert result.ok and result.count(Status.RIGHT) == 30  # 21 shapes, 8 parameter counts, the total
    assert "AlexNet" not in {m.name for m in result.matches}  # the model itself, and its Sequentials
    assert {m.name: m.layer for m in result.matches}["├─AdaptiveAvgPool2d: 1-2"] == "avgpool"


def test_rows_without_layer_names_match_by_order():
    result = grade("alexnet", "output size,params\n55×55×96,34944\n27×27×96,0\n27×27×256,307456\n")
    assert [m.layer for m in result.matches] == ["conv1", "pool1", "conv2"] and result.ok


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("layer,params\nconv1,34944\nconv9,5\n", "<table>:3: cell 'conv9': matches no layer of AlexNet"),
        ("layer,params\nconv9,5\n", "<table>:2: cell 'conv9': matches no layer of AlexNet"),
        ("foo,bar\n1,2\n", "<table>: no line names a column archcalc grades"),
        ("layer,params\n", "<table>:1: the table has a header but no rows"),
    ],
)
def test_bad_tables_are_one_clear_error(text: str, message: str):
    with pytest.raises(TableError) as error:
        grade("alexnet", text)
    assert str(error.value).startswith(message) and error.value.exit_code == 2


# --- the command ---------------------------------------------------------------------------------


def test_command_exit_codes_and_error_lines(tmp_path: Path):
    runner = CliRunner()
    assert runner.invoke(main, ["grade", "alexnet-keras-bn", str(SEED000)]).exit_code == 0
    wrong = runner.invoke(main, ["grade", "alexnet-ungrouped", str(SEED004)])
    assert wrong.exit_code == 1 and wrong.stderr == "archcalc: error: 4 of 8 graded cells are wrong\n"
    bad = tmp_path / "t.md"
    bad.write_text("| layer | params |\n|---|---|\n| conv1 | 34944 |\n| fc99 | 7 |\n")
    failed = runner.invoke(main, ["grade", "alexnet", str(bad)])
    assert failed.exit_code == 2
    assert failed.stderr.startswith(f"archcalc: error: {bad}:4: cell 'fc99': matches no layer of AlexNet")
    missing = runner.invoke(main, ["grade", "alexnet", str(tmp_path / "none.csv")])
    assert missing.exit_code == 2 and missing.stderr.count("\n") == 1
    binary = tmp_path / "b.csv"
    binary.write_bytes(b"\xff\xfe\x00layer")
    refused = runner.invoke(main, ["grade", "alexnet", str(binary)]).stderr
    assert refused == f"archcalc: error: {binary}: neither UTF-8 nor GB18030 text (byte 0)\n"
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes("层,参数量\nconv1,34944\n".encode("gbk"))  # as a Chinese Windows editor saves it
    assert runner.invoke(main, ["grade", "alexnet", str(gbk)]).exit_code == 0


def test_text_report_marks_cells_and_explains_the_wrong_ones():
    out = CliRunner().invoke(main, ["grade", "alexnet-ungrouped", str(SEED004)]).stdout
    assert "  7  convolution_3+ReLU      conv3  (3*3*256*384)+384=88512 ✗" in out
    assert "line 7, convolution_3+ReLU (conv3), 训练参数: 88512 → 885,120: a digit dropped (885120 → 88512)" in out
    assert "line 11, 全连接层1+ReLU+Dropout (fc6), 训练参数: 37748736 → 37,752,832: biases forgotten\n" in out
    assert out.endswith("Cells graded: 8; right: 4, wrong: 4\n")


def test_chinese_report(monkeypatch: pytest.MonkeyPatch):
    out = CliRunner().invoke(main, ["grade", "alexnet-ungrouped", str(SEED004), "--lang", "zh"]).stdout
    assert "第 11 行，全连接层1+ReLU+Dropout（fc6），训练参数：37748736 → 应为 37,752,832：漏算了偏置" in out
    monkeypatch.setenv("ARCHCALC_LANG", "zh_CN.UTF-8")
    assert CliRunner().invoke(main, ["grade", "alexnet-ungrouped", str(SEED004)]).stdout == out
    lines = out.splitlines()
    header = next(line for line in lines if line.lstrip().startswith("行号"))
    from archcalc.i18n import display_width

    row = next(line for line in lines if "conv3" in line and "✗" in line)
    assert display_width(header.split("训练参数")[0]) == display_width(row.split("(3*3")[0])  # aligned by width


def test_json_report_keys_are_stable(tmp_path: Path):
    out = tmp_path / "grade.json"
    result = CliRunner().invoke(main, ["grade", "alexnet-ungrouped", str(SEED004), "-o", str(out)])
    assert result.exit_code == 1
    data = json.loads(out.read_text())
    assert list(data) == ["table", "spec", "input", "layout", "columns", "rows", "cells", "summary", "ok"]
    conv3 = next(c for c in data["cells"] if c["layer"] == "conv3")
    assert list(conv3) == ["line", "row", "layer", "column", "given", "status", "expected", "causes", "notes"]
    assert conv3["causes"] == [
        {"id": "digit_dropped", "where": None, "detail": "885120 → 88512", "text": "a digit dropped (885120 → 88512)"}
    ]
    assert data["summary"] == {"graded": 8, "right": 4, "wrong": 4, "not_graded": 0} and data["ok"] is False


def test_html_report_escapes_names_and_highlights_wrong_cells(tmp_path: Path):
    table = tmp_path / "t.csv"
    table.write_text('layer,params\n<script>alert(1)</script>,34944\nconv2,"614,656"\n')
    # '<script>…' names no layer, but conv2 does: the script row is an error, never run.
    assert CliRunner().invoke(main, ["grade", "alexnet", str(table)]).exit_code == 2
    out = tmp_path / "g.html"
    CliRunner().invoke(main, ["grade", "alexnet", str(SEED001), "-o", str(out)])
    page = out.read_text()
    assert page.count('class="wrong"') == 3 and "(27 − 3 + 2×0)/2 + 1 = 13" in page
    assert "<dt>parameters</dt><dd>3×3×192×384 + 384 = 663,936</dd>" in page  # the derivation beside it
    hostile = tmp_path / "h.csv"
    hostile.write_text('layer,params\nconv1,"<img src=x onerror=alert(1)>"\n')
    CliRunner().invoke(main, ["grade", "alexnet", str(hostile), "-f", "html", "-o", str(out)])
    assert "<img" not in out.read_text() and "&lt;img src=x" in out.read_text()


def test_python_api_renders_in_either_language():
    result = archcalc.grade(archcalc.load("alexnet-ungrouped"), SEED004)
    assert render_grade(result, "text", "zh").endswith("共批改 8 格：4 格正确，4 格错误\n")
    assert result.to_dict("zh")["cells"][-1]["causes"][0]["text"] == "漏算了偏置"
    with pytest.raises(OptionError, match="unknown format 'pdf'; allowed: text, json, html"):
        render_grade(result, "pdf")


def test_stdin_table():
    result = CliRunner().invoke(main, ["grade", "alexnet", "-"], input="layer,params\nconv1,34944\n")
    assert result.exit_code == 0 and "Grading <stdin> against AlexNet" in result.stdout


def test_thirty_rows_grade_as_a_command_without_torch_or_matplotlib():
    """Its speed is measured in tests/benchmark.py (against `table` in the same run); here, what it loads."""
    table = DATA / "vgg16-30rows.csv"
    assert len(read_table(table.read_text()).rows) == 30
    probe = (
        "import sys; from archcalc.cli import main\n"
        f"try: main(['grade', 'vgg16', {str(table)!r}])\n"
        "except SystemExit as stop: print('exit', stop.code)\n"
        "print('torch' in sys.modules, 'matplotlib' in sys.modules)"
    )
    run = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=False)
    assert "Cells graded: 90; right: 87, wrong: 3" in run.stdout
    assert run.stdout.splitlines()[-2:] == ["exit 1", "False False"]


def test_readme_quotes_the_real_grading_of_seed004():
    readme = (ROOT / "README.md").read_text()
    quoted = re.search(r"<!-- grade:seed004 -->\n```\n\$ (archcalc .*?)\n(.*?)```\n<!-- /grade -->", readme, re.S)
    command, output = quoted.group(1), quoted.group(2)
    real = CliRunner().invoke(main, command.split()[1:])
    assert real.stdout == output


def test_readme_quoted_stage_grading_lines_are_real():
    readme = (ROOT / "README.md").read_text()
    quoted = re.search(r"```\n\$ archcalc grade alexnet tests/grade_data/seed001-stages.md\n(.*?)```", readme, re.S)
    real = CliRunner().invoke(main, ["grade", "alexnet", "tests/grade_data/seed001-stages.md"]).stdout.splitlines()
    lines = [line for line in quoted.group(1).splitlines() if line != "..."]
    assert len(lines) == 3 and all(line in real for line in lines)


CELLS = st.sampled_from(
    ["conv1", "pool2", "fc6", "Total", "输入层", "x", "", "55×55×96", "0×0×0", "(None, 5, 5, 3)", "(None, -1, 5)",
     "[1, 2]", "[-1]", "()", "=", "(3*3)=9", "3/0=1", "((((", "0.6M", "1e9", "34,944", "--", "|", ",", "a:b",
     "(57-3)/2+1=13", "(224-11)/4+1=54.25", "Conv2d-1", "9" * 40, "<script>"]
)  # fmt: skip
HEADERS = st.sampled_from(["layer", "output size", "params", "MACs", "FLOPs", "kernel", "stride", "padding", "arithmetic", "input size", "x"])  # fmt: skip


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(CELLS, min_size=1, max_size=5), min_size=1, max_size=6), st.sampled_from([",", " | ", "   ", "\t"]), st.lists(HEADERS, min_size=1, max_size=5))  # fmt: skip
def test_any_table_is_graded_or_refused_in_one_line(rows: list[list[str]], separator: str, header: list[str]):
    text = separator.join(header) + "\n" + "\n".join(separator.join(row) for row in rows) + "\n"
    try:
        result = grade(ALEXNET, text)
    except TableError as error:
        assert "\n" not in str(error)
        return
    for fmt in GradeFormat:
        render_grade(result, fmt)


ALEXNET = archcalc.analyse(archcalc.load("alexnet"))
