"""The README stays true: its quoted output, example spec, kinds table and zoo table match the code."""

from __future__ import annotations

import re

from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.kinds import KINDS

from .conftest import ROOT

README = (ROOT / "README.md").read_text()


def test_quoted_alexnet_table_is_the_real_output():
    quoted = re.search(r"<!-- table:alexnet -->\n```\n(.*?)```\n<!-- /table -->", README, re.S).group(1)
    assert CliRunner().invoke(main, ["table", "alexnet"]).stdout == quoted


def test_example_spec_analyses():
    example = re.search(r"## The spec format.*?```yaml\n(.*?)```", README, re.S).group(1)
    result = archcalc.analyse(archcalc.parse(example))
    assert result["merged"].output_shape == (16, 32, 32)
    assert result.layers[-1].output_shape == (10,)


def test_every_kind_and_bundled_spec_is_documented():
    kinds_table = README.split("| kind | fields (default) | parameters |")[1].split("\n\n")[0]
    documented = set(re.findall(r"`([a-z][a-z0-9_]*)`", kinds_table.replace("\n", " ")))
    assert set(KINDS) <= documented
    zoo = README.split("## The bundled zoo")[1]
    assert {name for name in archcalc.bundled_names()} <= set(re.findall(r"^\| `([a-z0-9_-]+)` \|", zoo, re.M))


def test_the_two_commands_come_first():
    first_block = re.search(r"```sh\n(.*?)```", README, re.S).group(1)
    commands = [line for line in first_block.splitlines() if line and not line.startswith("#")]
    assert commands[0].endswith("archcalc table alexnet")
    assert commands[1].endswith(".venv/bin/python -m pytest")
    assert commands[1] in (ROOT / ".ci" / "run").read_text()


def test_quoted_collapsed_table_lines_are_real():
    quoted = re.search(r"`archcalc table vgg19 --collapse`.*?```\n(.*?)```", README, re.S).group(1)
    real = CliRunner().invoke(main, ["table", "vgg19", "--collapse"]).stdout.splitlines()
    lines = [line for line in quoted.splitlines() if line != "..."]
    assert len(lines) == 5 and all(line in real for line in lines)
