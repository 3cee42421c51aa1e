"""What a name may hold is decided once, at the edge: text on one line, no control characters.
Everything allowed is escaped per output format (CSV formulas, Markdown pipes and HTML)."""

from __future__ import annotations

import csv
import io

import pytest
from click.testing import CliRunner

import archcalc
from archcalc.cli import main
from archcalc.report import render_table

TERMINAL_ATTACK = "x\x1b]0;OWNED\x07\x1b[2J"


def spec_text(name: str = "net", layer: str = "r1", description: str = "") -> str:
    import json

    return (
        f"name: {json.dumps(name)}\ndescription: {json.dumps(description)}\ninput: [3, 8, 8]\n"
        f"layers:\n  - {{kind: relu, name: {json.dumps(layer)}}}\n"
    )


@pytest.mark.parametrize("char", ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\r", "\n", "\t"])
def test_control_characters_in_names_are_refused_with_a_visible_message(char: str, write_spec):
    for text in (spec_text(name=f"a{char}b"), spec_text(layer=f"a{char}b")):
        result = CliRunner().invoke(main, ["table", str(write_spec(text))])
        assert result.exit_code == 2
        assert "holds the control character \\x" in result.stderr
        assert all(c not in result.stderr for c in "\x00\x01\x1b\x7f\x85\r\t")
        assert result.stderr.count("\n") == 1


def test_a_terminal_escape_in_an_error_message_is_shown_not_obeyed(write_spec):
    path = write_spec(spec_text(layer=TERMINAL_ATTACK))
    result = CliRunner().invoke(main, ["table", str(path)])
    assert result.exit_code == 2
    assert "layer 'x\\x1b]0;OWNED\\x07\\x1b[2J', field 'name'" in result.stderr
    assert "\x1b" not in result.stderr and "\x07" not in result.stderr


def test_descriptions_may_hold_newlines_and_tabs_but_not_escapes():
    assert archcalc.parse(spec_text(description="two\nlines\tand a tab")).description == "two\nlines\tand a tab"
    with pytest.raises(archcalc.SpecError, match="field 'description': holds the control character"):
        archcalc.parse(spec_text(description="bell\x07"))


def test_the_network_name_is_bounded():
    with pytest.raises(archcalc.SpecError, match="field 'name': is longer than 200 characters"):
        archcalc.parse(spec_text(name="n" * 1_000_000))


def test_csv_cells_that_a_spreadsheet_would_evaluate_are_text():
    for name in ('=HYPERLINK("http://evil")', "+1", "-2", "@SUM(A1)"):
        table = render_table(archcalc.analyse(archcalc.parse(spec_text(layer=name))), "csv")
        row = list(csv.reader(io.StringIO(table)))[1]
        assert row[0] == "'" + name


def test_markdown_cells_escape_pipes_and_raw_html():
    analysis = archcalc.analyse(archcalc.parse(spec_text(name="a|b", layer="<img src=x onerror=alert(1)>|")))
    table = render_table(analysis, "markdown")
    assert "| &lt;img src=x onerror=alert(1)&gt;\\| | relu |" in table
    assert table.startswith("### a\\|b — input 3×8×8")
    assert "<img" not in table
