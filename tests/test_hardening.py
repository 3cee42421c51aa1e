"""Extreme and hostile input: exact numbers or a stated limit, one-line errors, standard input."""

from __future__ import annotations

import click
import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.fields import MAX_SIZE
from archcalc.format import human, megabytes


def run(*args: str, stdin: str | None = None):
    return CliRunner().invoke(main, list(args), input=stdin)


def net(layer: str, input_shape: str = "[3, 8, 8]") -> str:
    return f"name: x\ninput: {input_shape}\nlayers:\n  - {layer}\n"


def test_big_counts_are_exact_integers_in_every_format():
    # 2**40 channels of a 1×1 convolution: 2**80 + 2**40 parameters, beyond any float's exact range
    analysis = archcalc.analyse(archcalc.parse(net(f"{{kind: conv, out_channels: {MAX_SIZE}, kernel: 1}}")))
    assert analysis.totals.params == 3 * 2**40 + 2**40
    for fmt in ("text", "markdown", "csv", "json", "html"):
        assert f"{analysis.totals.params:,}" in archcalc.report.render_table(analysis, fmt) or fmt in ("csv", "json")
    assert human(10**400).endswith(" P") and human(1_448_813_632) == "1.45 G"
    assert megabytes(7_203_999_999_999_999_971_478_732_800) == "7,203,999,999,999,999,971,478.73 MB"
    assert megabytes(618_348) == "0.62 MB" and megabytes(99_999) == "100.00 kB"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            net("{kind: conv, out_channels: 10000000000000000000000000000000, kernel: 1}"),
            "must be at most 1,099,511,627,776",
        ),
        (net("{kind: relu}", "[3, 1000000000000000000000000, 8]"), "field 'input.height': must be at most"),
        (net("{kind: lrn, alpha: .inf}"), "field 'alpha': must be a finite number"),
        (net("{kind: batchnorm, eps: -.inf}"), "field 'eps': must be a finite number"),
    ],
)
def test_values_beyond_the_stated_limits_are_refused(text: str, message: str, write_spec):
    result = run("table", str(write_spec(text)))
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize("shape", ["3x²x2", "3x224", "3x224x224x1", "0x2x2", "3x99999999999999999999x2"])
def test_a_bad_input_option_is_one_line(shape: str):
    result = run("table", "alexnet", "--input", shape)
    assert result.exit_code == 2 and result.stderr.startswith("archcalc: error: ")
    assert result.stderr.count("\n") == 1


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["tabel"], ": No such command 'tabel'. Did you mean 'table'?"),
        (["table"], " table: Missing argument 'SPEC'."),
        (
            ["table", "alexnet", "--flops", "most"],
            " table: Invalid value for '--flops': 'most' is not one of 'matmul', 'all'.",
        ),
    ],
)
def test_option_errors_are_one_line(args: list[str], message: str):
    result = run(*args)
    assert result.exit_code == 2
    assert result.stderr.startswith("archcalc: error: ") and result.stderr.count("\n") == 1
    assert result.stderr.rstrip().endswith(message)


def test_a_spec_on_standard_input():
    result = run("table", "-", stdin="name: piped\ninput: [3, 8, 8]\nlayers:\n  - {kind: relu}\n")
    assert result.exit_code == 0 and result.stdout.startswith("piped — input 3×8×8")
    result = run("table", "-", stdin="name: piped\ninput: [3, 8, 8]\nlayers:\n  - {kind: rleu}\n")
    assert result.exit_code == 2 and result.stderr.startswith("archcalc: error: <stdin>:4: layer '#1'")


def test_a_utf16_file_is_named_as_such(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_bytes(net("{kind: relu}").encode("utf-16"))
    result = run("table", str(path))
    assert result.exit_code == 2 and "UTF-16" in result.stderr and "UTF-8" in result.stderr


@pytest.mark.torch
def test_a_network_torch_cannot_hold_is_a_one_line_error(write_spec):
    pytest.importorskip("torch")
    path = write_spec(net("{kind: conv, out_channels: 1000000000000, kernel: 1}"))
    result = run("check", str(path), "--device", "cpu")
    assert result.exit_code == 2
    assert result.stderr.startswith("archcalc: error: PyTorch could not build x in float32 on cpu: ")
    assert result.stderr.count("\n") == 1 and "--dtype" not in result.stderr


@pytest.mark.torch
def test_a_dilated_max_pool_with_same_padding_runs_in_torch():
    pytest.importorskip("torch")
    from archcalc.crosscheck import check, format_report

    spec = archcalc.parse(net("{kind: maxpool, kernel: 3, stride: 1, dilation: 2, padding: same}", "[2, 9, 9]"))
    analysis = archcalc.analyse(spec)
    assert analysis.layers[0].output_shape == (2, 9, 9)  # SAME pads 2 on each side: more than half the kernel
    assert 'nn.ConstantPad2d((2, 2, 2, 2), float("-inf"))' in analysis.code()
    report = check(spec, device="cpu")
    assert report.ok, format_report(report)


def test_every_option_has_help_text():
    from archcalc.cli import main as group

    for name, command in group.commands.items():
        for param in command.params:
            if isinstance(param, click.Option):
                assert param.help, f"archcalc {name} {param.opts[0]} has no help text"
