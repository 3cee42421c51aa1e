"""Every command is also a Python API: the Analysis methods give what the commands print.

The numbers checked come from the papers' arithmetic and from the counters themselves (the
torchinfo total below is what torchinfo 1.8.0's summary() reports for AlexNet, as in
tests/test_conventions.py); the rest compares each method with its command.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Any

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.errors import OptionError

from .conftest import ROOT

SEED004 = ROOT / "tests" / "grade_data" / "seed004-alexnet.md"


def command(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code in (0, 1), result.output
    return result.stdout


@pytest.fixture(scope="module")
def alexnet() -> archcalc.Analysis:
    return archcalc.analyse(archcalc.load("alexnet"))


@pytest.fixture(autouse=True)
def english(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("ARCHCALC_LANG", raising=False)


def test_import_archcalc_loads_no_grader_torch_or_matplotlib():
    code = (
        "import sys, archcalc\n"
        "a = archcalc.analyse(archcalc.load('alexnet'))\n"
        "a.table(columns='layer,macs', convention='fvcore', lang='zh'); a.conventions(); a.dot(fold=True)\n"
        "heavy = [m for m in ('archcalc.teaching.grade', 'archcalc.explain', 'torch', 'matplotlib') if m in sys.modules]\n"
        "assert not heavy, heavy"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def test_table_takes_the_commands_options(alexnet):
    columns = "layer,kind,macs"
    api = alexnet.table(columns=columns, convention="torchinfo")
    assert api == command("table", "alexnet", "--columns", columns, "--convention", "torchinfo")
    # torchinfo 1.8.0 reports 725,066,088 mult-adds for this AlexNet
    assert "Total mult-adds (torchinfo): 725,066,088" in api
    assert alexnet.table(columns=["Layer", "kind", "MACs"], convention="torchinfo") == api  # names, any case
    # conv1: 96 maps of 55×55; lenet notation writes 96@55×55, hwc 55×55×96
    assert "96@55×55" in alexnet.table(notation="lenet") and "55×55×96" in alexnet.table(notation="hwc")
    chinese = alexnet.table("markdown", lang="zh")
    assert chinese == command("table", "alexnet", "-f", "markdown", "--lang", "zh") and "| 层 |" in chinese


def test_table_lang_defaults_to_archcalc_lang(alexnet, monkeypatch):
    monkeypatch.setenv("ARCHCALC_LANG", "zh_CN.UTF-8")
    assert alexnet.table().startswith("AlexNet — 输入 3×227×227")
    assert alexnet.table(lang="en").startswith("AlexNet — input 3×227×227")


def test_table_html_and_json_under_a_convention(alexnet):
    html = alexnet.table("html", convention="fvcore")
    assert '<th data-type="num" class="num">flops (fvcore)</th>' in html
    data = json.loads(alexnet.table("json", convention="fvcore"))
    assert data["totals"]["counted"] == 724_406_816  # fvcore: MACs without the bias


def test_table_refuses_what_the_command_refuses(alexnet):
    with pytest.raises(OptionError, match="unknown column 'flops'; allowed: layer, kind"):
        alexnet.table(columns="layer,flops")
    with pytest.raises(OptionError, match="unknown language 'fr'; allowed: en, zh"):
        alexnet.table(lang="fr")
    with pytest.raises(OptionError, match="unknown convention 'flopco'; allowed: archcalc, torch, fvcore"):
        alexnet.table(convention="flopco")


def test_dot_folds_like_the_command(alexnet):
    folded = alexnet.dot(fold=True)
    assert folded == command("render", "alexnet", "--style", "graph", "--format", "dot", "--fold")
    assert folded.count("->") < alexnet.dot().count("->")  # relu1 and norm1 inside conv1's node, ...


def test_explain(alexnet):
    text = alexnet.explain("conv1")
    assert text == command("explain", "alexnet", "conv1")
    assert "(227 − 11 + 2×0)/4 + 1 = 55" in text  # the paper's 55×55 maps
    assert alexnet.explain(["conv1", "pool1"], "markdown", "zh") == command(
        "explain", "alexnet", "conv1", "pool1", "-f", "markdown", "--lang", "zh"
    )


def test_conventions(alexnet):
    text = alexnet.conventions()
    assert text == command("conventions", "alexnet")
    data: dict[str, Any] = json.loads(alexnet.conventions("json"))
    assert {c["name"]: c["total"] for c in data["conventions"]}["ptflops"] == 729_347_320
    assert alexnet.conventions(lang="zh") == command("conventions", "alexnet", "--lang", "zh")


def test_grade():
    # The seed's table gives conv3 as 88512: a digit dropped from 3×3×256×384 + 384 = 885,120.
    ungrouped = archcalc.analyse(archcalc.load("alexnet-ungrouped"))
    result = ungrouped.grade(SEED004)
    assert not result.ok
    conv3 = next(cell for cell in result.wrong if cell.layer == "conv3")
    assert conv3.expected == f"{3 * 3 * 256 * 384 + 384:,}"
    assert result.to_dict() == archcalc.grade(ungrouped, SEED004).to_dict()


def test_chart(alexnet):
    from archcalc.charts import render_chart

    svg = alexnet.chart("svg", lang="zh")
    assert svg == render_chart(alexnet, "svg", lang="zh") and "乘加次数 (MACs)".encode() in svg
