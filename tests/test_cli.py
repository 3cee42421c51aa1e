"""The command line as users run it: formats, output files, list, schema, version, start-up cost."""

from __future__ import annotations

import csv
import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main

from .conftest import ROOT


def invoke(*args: str) -> str:
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.stdout


def test_text_table_has_the_formulas_and_totals():
    out = invoke("table", "alexnet")
    lines = out.splitlines()
    assert lines[0] == "AlexNet — input 3×227×227"
    conv1 = next(line for line in lines if line.startswith("conv1 "))
    assert conv1.split()[:5] == ["conv1", "conv", "96×55×55", "34,944", "105,415,200"]
    assert "(227 − 11 + 2×0)/4 + 1 = 55" in conv1 and "11×11×3×96 + 96 = 34,944" in conv1
    assert "Total params:          60,965,224" in out
    assert "Total MACs:            724,406,816 (724.41 M)" in out
    assert "Params size (float32): 243.86 MB" in out


def test_json_is_the_documented_contract():
    data = json.loads(invoke("table", "alexnet", "--format", "json"))
    assert set(data) >= {"name", "input", "layers", "totals"}
    assert data["input"] == [3, 227, 227]
    first = data["layers"][0]
    assert {
        "name",
        "kind",
        "output_shape",
        "params",
        "trainable_params",
        "macs",
        "flops",
        "formula",
        "warnings",
    } <= set(first)
    assert first["output_shape"] == [96, 55, 55]
    assert data["totals"]["params"] == 60_965_224
    assert data["totals"]["non_trainable_params"] == 0
    assert data["totals"]["flops"] == 2 * data["totals"]["macs"]


def test_input_override_and_warnings_in_json():
    data = json.loads(invoke("table", "alexnet", "--input", "3x224x224", "-f", "json"))
    assert data["layers"][0]["output_shape"] == [96, 54, 54]
    assert "53.25 is not exact" in data["layers"][0]["warnings"][0]


def test_markdown_and_csv():
    md = invoke("table", "lenet5", "-f", "markdown")
    assert "| C3 | conv | 16×10×10 | 1,516 | 150,000 | 14 | (14 − 5 + 2×0)/1 + 1 = 10 |" in md
    rows = list(csv.DictReader(io.StringIO(invoke("table", "lenet5", "-f", "csv"))))
    assert [r["name"] for r in rows][:3] == ["C1", "C1.act", "S2"]
    assert sum(int(r["params"]) for r in rows) == 60_840


def test_dtype_and_flops_options():
    data = json.loads(invoke("table", "lenet5-mnist", "--dtype", "float16", "--flops", "all", "-f", "json"))
    assert data["dtype"] == "float16" and data["flops_convention"] == "all"
    assert data["totals"]["param_bytes"] == 2 * 44_426
    assert data["totals"]["flops"] > 2 * data["totals"]["macs"]


def test_output_file_is_written_atomically(tmp_path: Path):
    target = tmp_path / "alexnet.json"
    invoke("table", "alexnet", "-f", "json", "-o", str(target))
    assert json.loads(target.read_text())["totals"]["params"] == 60_965_224
    assert [p.name for p in tmp_path.iterdir()] == ["alexnet.json"]  # no temporary left behind


def test_failed_write_leaves_nothing(tmp_path: Path):
    result = CliRunner().invoke(main, ["table", "alexnet", "-o", str(tmp_path / "missing" / "out.txt")])
    assert result.exit_code == 2 and "cannot write" in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_failed_analysis_keeps_the_previous_output(tmp_path: Path):
    target = tmp_path / "table.txt"
    target.write_text("previous")
    result = CliRunner().invoke(main, ["table", "alexnet", "--input", "3x8x8", "-o", str(target)])
    assert result.exit_code == 2
    assert target.read_text() == "previous"


def test_list_shows_every_bundled_spec():
    out = invoke("list")
    assert len(out.splitlines()) == len(archcalc.bundled_names())
    assert any(line.split()[:4] == ["alexnet", "3×227×227", "60,965,224", "params"] for line in out.splitlines())


def test_schema_command_prints_the_published_schema():
    assert json.loads(invoke("schema"))["$defs"]["layer"]["properties"]["kind"]["enum"][0] == "conv"


def test_version_and_help():
    assert invoke("--version").strip() == f"archcalc, version {archcalc.__version__}"
    for command in ([], ["table"], ["list"], ["schema"]):
        assert "Usage:" in invoke(*command, "--help")


def test_table_does_not_import_heavy_modules():
    """`archcalc table` starts fast: no torch, matplotlib, networkx or jinja2 on its path."""
    env = dict(os.environ, PYTHONPROFILEIMPORTTIME="1")
    result = subprocess.run(
        [sys.executable, "-m", "archcalc", "table", "alexnet"], capture_output=True, text=True, env=env, check=True
    )
    imported = {line.split("|")[-1].strip() for line in result.stderr.splitlines() if "|" in line}
    assert "archcalc.engine" in imported
    assert not imported & {"torch", "matplotlib", "networkx", "jinja2", "numpy", "jsonschema"}
    # nor the counters' rules, the grader or the figure: they load with the option or command that uses them
    assert not imported & {"archcalc.conventions", "archcalc.teaching.grade", "archcalc.figure3d.layout"}
    assert "60,965,224" in result.stdout


def test_inputs_column_only_for_branching_networks(write_spec):
    assert "Inputs" not in invoke("table", "alexnet").splitlines()[2]
    path = write_spec(
        "name: b\ninput: {channels: 3, height: 8, width: 8}\nlayers:\n"
        "  - {kind: conv, name: a, out_channels: 2, kernel: 1}\n"
        "  - {kind: conv, name: b, out_channels: 2, kernel: 1, inputs: input}\n"
        "  - {kind: add, name: s, inputs: [a, b]}\n"
    )
    lines = invoke("table", str(path)).splitlines()
    assert lines[2].split()[:3] == ["Layer", "Kind", "Inputs"]
    assert next(line for line in lines if line.startswith("s ")).split()[:4] == ["s", "add", "a,", "b"]
    assert "| s | add | a, b | 2×8×8 |" in invoke("table", str(path), "-f", "markdown")


def test_errors_name_bundled_specs_by_a_short_path(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = CliRunner().invoke(main, ["table", "alexnet", "--input", "3x60x60"])
    assert result.stderr.startswith("archcalc: error: specs/alexnet.yaml:")


def test_warnings_error_fails_the_command_for_ci():
    result = CliRunner().invoke(main, ["table", "alexnet", "--input", "3x224x224", "--warnings", "error"])
    assert result.exit_code == 1
    assert result.stderr.startswith("archcalc: error: 4 warning(s) in AlexNet: conv1: height and width: ")
    assert result.stdout == ""
    assert CliRunner().invoke(main, ["table", "alexnet", "--warnings", "error"]).exit_code == 0
    assert CliRunner().invoke(main, ["render", "alexnet", "--input", "3x224x224", "--warnings", "error"]).exit_code == 1


def test_collapse_shows_a_repeat_block_as_one_row():
    result = CliRunner().invoke(main, ["table", "vgg19", "--collapse"])
    full = CliRunner().invoke(main, ["table", "vgg19"])
    assert result.exit_code == 0, result.output
    rows = {line.split()[0]: line for line in result.stdout.splitlines()[4:-9] if line.strip()}
    assert list(rows)[:4] == ["input", "block1", "pool1", "block2"]
    # block5: four 3×3 convolutions of 512 maps: 4 × (3·3·512·512 + 512)
    assert "repeat ×4" in rows["block5"] and "4 × 2,359,808 = 9,439,232" in rows["block5"]
    assert result.stdout.splitlines()[-8:] == full.stdout.splitlines()[-8:]  # the same totals
    resnet = CliRunner().invoke(main, ["table", "resnet50", "--collapse"]).stdout
    stage = next(line for line in resnet.splitlines() if line.startswith("layer1 "))
    # ResNet-50's layer1 after its first block: two bottlenecks of 1×1 64, 3×3 64, 1×1 256 (+ BN)
    per_block = 256 * 64 + 2 * 64 * 2 + 64 * 64 * 9 + 2 * 64 * 2 + 64 * 256 + 2 * 256 * 2
    assert "repeat ×2" in stage and f"2 × {per_block:,} = {2 * per_block:,}" in stage
    refused = CliRunner().invoke(main, ["table", "vgg16", "--collapse", "--format", "csv"])
    assert refused.exit_code == 2 and "--collapse: shapes text and markdown tables" in refused.stderr


def test_columns_choose_what_the_table_shows():
    result = CliRunner().invoke(main, ["table", "alexnet", "--columns", "Layer,output shape,PARAMS"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[2].split() == ["Layer", "Output", "shape", "Params"]
    assert lines[5].split() == ["conv1", "96×55×55", "34,944"]
    assert max(len(line) for line in lines[:30]) < 60  # 120 columns wide with all of them
    refused = CliRunner().invoke(main, ["table", "alexnet", "--columns", "layer,size"])
    assert refused.exit_code == 2
    assert "--columns: unknown column 'size'; allowed: layer, kind, output shape, params" in refused.stderr
    markdown = CliRunner().invoke(main, ["table", "alexnet", "-f", "markdown", "--columns", "layer,macs"]).stdout
    assert "| Layer | MACs |" in markdown and "| conv1 | 105,415,200 |" in markdown


def test_quiet_leaves_only_results_and_errors(tmp_path):
    target = tmp_path / "t.txt"
    loud = CliRunner().invoke(main, ["table", "lenet5", "-o", str(target)])
    quiet = CliRunner().invoke(main, ["--quiet", "table", "lenet5", "-o", str(target)])
    assert loud.stderr == f"wrote {target}\n" and quiet.stderr == "" and quiet.exit_code == 0
    assert CliRunner().invoke(main, ["-q", "table", "nope"]).exit_code == 2


def test_colour_on_a_terminal_none_when_piped_or_with_no_color(monkeypatch):
    pytest.importorskip("torch")
    coloured = CliRunner().invoke(main, ["check", "lenet5-mnist", "--device", "cpu"], color=True).stdout
    assert "\x1b[32m" in coloured and "OK" in coloured
    piped = CliRunner().invoke(main, ["check", "lenet5-mnist", "--device", "cpu"]).stdout
    assert "\x1b[" not in piped
    monkeypatch.setenv("NO_COLOR", "1")
    plain = CliRunner().invoke(main, ["check", "lenet5-mnist", "--device", "cpu"], color=True).stdout
    assert "\x1b[" not in plain and plain == piped.replace(piped.splitlines()[-1], plain.splitlines()[-1])


def test_bench_reports_progress_to_a_callback():
    pytest.importorskip("torch")
    from archcalc.bench import bench

    seen: list[tuple[str, int, int, float | None]] = []
    bench(archcalc.load("lenet5-mnist"), "cpu", batch=1, steps=3, warmup=2, progress=lambda *a: seen.append(a))
    assert [(label, done, total) for label, done, total, _ in seen] == [
        ("forward (burn-in)", 0, 5), ("forward (burn-in)", 1, 5), ("forward", 2, 5), ("forward", 3, 5), ("forward", 4, 5),
    ]  # fmt: skip
    assert seen[2][3] is None and seen[3][3] > 0  # the running mean of the timed steps


def test_shell_completion_offers_bundled_specs(monkeypatch):
    monkeypatch.setenv("_ARCHCALC_COMPLETE", "bash_complete")
    monkeypatch.setenv("COMP_WORDS", "archcalc table lenet")
    monkeypatch.setenv("COMP_CWORD", "2")
    result = CliRunner().invoke(main, [], prog_name="archcalc")
    assert result.stdout.splitlines()[:2] == ["plain,lenet5", "plain,lenet5-mnist"]
