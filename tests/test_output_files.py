"""Output files: regular files replaced atomically (mode kept, umask honoured), everything else
written to and never replaced, no temporary file left by a failure or a signal, the format from
the extension."""

from __future__ import annotations

import os
import signal
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner

from archcalc import fileio
from archcalc.cli import main
from archcalc.errors import OutputError


def run(*args: str):
    return CliRunner().invoke(main, list(args))


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_a_new_file_honours_the_umask(tmp_path: Path):
    old = os.umask(0o077)
    try:
        fileio.write_output(tmp_path / "new.txt", "x")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.txt").stat().st_mode) == 0o600


def test_a_replaced_file_keeps_its_mode_and_its_hard_links(tmp_path: Path):
    target = tmp_path / "table.txt"
    target.write_text("old")
    target.chmod(0o640)
    fileio.write_output(target, "new")
    assert target.read_text() == "new" and stat.S_IMODE(target.stat().st_mode) == 0o640
    other = tmp_path / "other-name.txt"
    os.link(target, other)
    fileio.write_output(target, "newer")
    assert other.read_text() == "newer" and target.stat().st_ino == other.stat().st_ino


def test_a_symlink_is_followed_and_kept(tmp_path: Path):
    real = tmp_path / "real.txt"
    real.write_text("old")
    link = tmp_path / "link.txt"
    link.symlink_to(real)
    fileio.write_output(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_a_fifo_is_written_to_not_replaced(tmp_path: Path):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        fileio.write_output(fifo, "through the pipe")
        assert os.read(reader, 100) == b"through the pipe"
    finally:
        os.close(reader)
    assert stat.S_ISFIFO(fifo.stat().st_mode)


def test_a_character_device_is_written_to_not_replaced(tmp_path: Path):
    device = tmp_path / "null"
    try:
        os.mknod(device, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
    except PermissionError:
        pytest.skip("making a device node needs root")
    result = run("table", "lenet5", "-o", str(device))
    assert result.exit_code == 0
    assert stat.S_ISCHR(device.stat().st_mode)


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("", "the output path is empty (use -o - for standard output)"),
        ("sub/", "the path names a directory; give a file name"),
        (".", "it is a directory; give a file name"),
    ],
)
def test_paths_that_cannot_be_a_file_are_clear_errors(path: str, message: str, tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = run("table", "lenet5", "-o", path)
    assert result.exit_code == 2 and message in result.stderr
    assert list(tmp_path.iterdir()) == []


def test_a_signal_during_the_write_leaves_no_temporary_file(tmp_path: Path, monkeypatch):
    target = tmp_path / "out.txt"
    target.write_text("old")
    real_fdopen = os.fdopen

    def fdopen_then_terminate(fd: int, *args, **kwargs):
        handle = real_fdopen(fd, *args, **kwargs)
        os.kill(os.getpid(), signal.SIGTERM)  # arrives while the temporary file is open
        return handle

    monkeypatch.setattr(fileio.os, "fdopen", fdopen_then_terminate)
    with pytest.raises(fileio.Interrupted):
        fileio.write_output(target, "new")
    assert leftovers(tmp_path) == [] and target.read_text() == "old"
    result = run("table", "lenet5", "-o", str(target))
    assert result.exit_code == 128 + signal.SIGTERM and "archcalc: interrupted" in result.stderr
    assert leftovers(tmp_path) == [] and target.read_text() == "old"
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # the handler is put back


def test_ctrl_c_exits_130_without_click_noise(monkeypatch):
    def interrupt(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr("archcalc.report.render_table", interrupt)
    result = run("table", "lenet5")
    assert result.exit_code == 130
    assert result.stderr == "archcalc: interrupted\n"


def test_an_unwritable_directory_is_an_output_error(tmp_path: Path):
    with pytest.raises(OutputError, match="cannot write"):
        fileio.write_output(tmp_path / "missing" / "x.txt", "x")


@pytest.mark.parametrize(
    ("name", "start"),
    [
        ("t.json", "{"),
        ("t.md", "### LeNet-5"),
        ("t.csv", "name,kind"),
        ("t.html", "<!DOCTYPE html>"),
        ("t.txt", "LeNet-5"),
    ],
)
def test_the_table_format_follows_the_extension(name: str, start: str, tmp_path: Path):
    target = tmp_path / name
    assert run("table", "lenet5", "-o", str(target)).exit_code == 0
    assert target.read_text().lstrip().startswith(start)


def test_an_extension_that_names_no_format_is_an_error(tmp_path: Path):
    result = run("render", "lenet5", "-o", str(tmp_path / "a.jpg"))
    assert result.exit_code == 2
    assert "no format is written as .jpg; give --format, or one of" in result.stderr and ".svg" in result.stderr
    assert list(tmp_path.iterdir()) == []
    result = run("table", "lenet5", "-o", str(tmp_path / "t.xlsx"))
    assert result.exit_code == 2 and ".json" in result.stderr


def test_every_command_takes_its_format_from_the_extension_it_can_write():
    from archcalc.conventions import ComparisonFormat
    from archcalc.errors import OptionError
    from archcalc.explain import ExplainFormat
    from archcalc.fileio import chosen_format
    from archcalc.report import TableFormat
    from archcalc.teaching.formats import GradeFormat

    assert chosen_format(None, "t.htm", TableFormat) is TableFormat.HTML
    assert chosen_format(None, "notes.md", ExplainFormat) is ExplainFormat.MARKDOWN
    assert chosen_format(None, "c.csv", ComparisonFormat) is ComparisonFormat.CSV
    assert chosen_format("JSON", "r.txt", GradeFormat) is GradeFormat.JSON  # --format wins, in any case
    assert chosen_format(None, None, GradeFormat) is GradeFormat.TEXT
    with pytest.raises(
        OptionError, match=r"no format is written as \.md; give --format, or one of \.txt, \.text, \.json"
    ):
        chosen_format(None, "report.md", GradeFormat)  # a graded table has no Markdown form
