"""Generated PyTorch code: formatted, lint-clean, and safe against hostile spec names."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.codegen import generate
from archcalc.kinds import TORCH_HELPERS

from .conftest import EVERY_KIND

RUFF = shutil.which("ruff", path=str(Path(sys.executable).parent)) or shutil.which("ruff")


def generated(name_or_text: str) -> str:
    spec = archcalc.load(name_or_text) if "\n" not in name_or_text else archcalc.parse(name_or_text)
    return generate(archcalc.analyse(spec)).source


@pytest.mark.skipif(RUFF is None, reason="ruff is not installed")
@pytest.mark.parametrize("name", [*archcalc.bundled_names(), EVERY_KIND])
def test_generated_code_passes_ruff(name: str, tmp_path: Path):
    path = tmp_path / "model.py"
    path.write_text(generated(name))
    lint = subprocess.run(
        [RUFF, "check", "--isolated", "--select", "E,F,W,B,UP", str(path)], capture_output=True, text=True
    )
    assert lint.returncode == 0, lint.stdout
    fmt = subprocess.run([RUFF, "format", "--isolated", "--check", "--diff", str(path)], capture_output=True, text=True)
    assert fmt.returncode == 0, fmt.stdout + fmt.stderr


def test_generated_code_imports_only_torch():
    tree = ast.parse(generated("lenet5"))
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported == {"torch"}


def test_forward_lines_carry_their_shapes():
    source = generated("alexnet")
    assert "        x = self.conv1(x)  # (N, 96, 55, 55)\n" in source
    assert "        self.conv2 = nn.Conv2d(96, 256, (5, 5), padding=(2, 2), groups=2)\n" in source
    assert "        self.norm1 = nn.LocalResponseNorm(5, alpha=0.0005, beta=0.75, k=2.0)\n" in source


def test_same_padding_becomes_explicit_asymmetric_padding():
    source = generated("alexnet-tf-bench")
    assert "nn.ZeroPad2d((3, 4, 3, 4)), nn.Conv2d(3, 64, (11, 11), stride=(4, 4))" in source


HOSTILE = """
name: "Evil\\"\\"\\" import os; os.system('touch pwned')  # class"
description: "\\"\\"\\"); import os #\\n"
source: "'; raise SystemExit #"
input: {channels: 3, height: 16, width: 16}
layers:
  - {kind: conv, name: "x = __import__('os').system('id')", out_channels: 4, kernel: 3}
  - {kind: relu, name: "class"}
  - {kind: relu, name: "forward"}
  - {kind: relu, name: "self"}
  - {kind: relu, name: "conv;import os"}
  - {kind: relu, name: "conv import os"}
  - {kind: relu, name: "Überschicht ✓"}
  - {kind: relu, name: "ß"}
  - {kind: relu, name: "0day"}
  - {kind: relu, name: "a\\"; b='"}
  - {kind: relu, name: "LAYER_NAMES"}
  - {kind: concat, name: "} {", inputs: ["class", "forward"]}
"""


def test_hostile_names_cannot_inject_code(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = generate(archcalc.analyse(archcalc.parse(HOSTILE)))
    tree = ast.parse(result.source)
    classes = [node.name for node in tree.body if isinstance(node, ast.ClassDef)]
    assert classes == ["Concat", result.class_name]
    assert result.class_name == "EvilImportOsOsSystemTouchPwnedClass"
    assert all(name.isidentifier() and name.isascii() for name in result.attributes.values())
    assert len(set(result.attributes.values())) == len(result.attributes)
    top_level = {type(node).__name__ for node in tree.body}
    assert top_level <= {"Import", "ImportFrom", "Assign", "ClassDef", "If"}
    calls = {node.func.id for node in ast.walk(tree) if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert not calls & {"exec", "eval", "__import__", "compile", "open"}
    namespace: dict = {}
    exec(compile(result.source, "<generated>", "exec"), namespace)
    assert namespace["LAYER_NAMES"] == result.attributes
    model_class = namespace[result.class_name]
    assert model_class.name == archcalc.parse(HOSTILE).name
    assert list(tmp_path.iterdir()) == []  # nothing ran


@pytest.mark.torch
def test_hostile_spec_runs_in_torch(tmp_path: Path):
    pytest.importorskip("torch")
    from archcalc.crosscheck import check

    assert check(archcalc.parse(HOSTILE), device="cpu").ok


def test_helpers_are_emitted_only_when_used():
    source = generated("alexnet")
    assert not any(f"class {helper}(" in source for helper in TORCH_HELPERS)
    source = generated("lenet5")
    assert {h for h in TORCH_HELPERS if f"class {h}(" in source} == {
        "ConnectionConv2d",
        "Subsample",
        "ScaledTanh",
        "RBF",
    }


def test_codegen_command_writes_a_runnable_file(tmp_path: Path):
    target = tmp_path / "model.py"
    result = CliRunner().invoke(main, ["codegen", "lenet5-mnist", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert target.read_text() == generated("lenet5-mnist")
    if pytest.importorskip("torch"):
        run = subprocess.run([sys.executable, str(target)], capture_output=True, text=True, check=True)
        assert run.stdout.strip() == "(1, 10)"
