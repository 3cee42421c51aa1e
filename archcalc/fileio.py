"""Writing output files safely: a regular file is replaced atomically, anything else is written to.

- A regular file (or a new path) gets a temporary file beside it, renamed over it once complete:
  a failure or a signal never leaves a half-written file, and no temporary file survives. The new
  file keeps the old one's permission bits; a new file gets the umask's.
- A regular file with other hard links is written in place (a rename would cut it off from them).
- A symbolic link is followed: its target is what gets written.
- A device, a FIFO or a terminal is written to directly (``-o /dev/stdout`` works; it is never
  replaced by a regular file).
- A directory, a path ending in ``/`` and an empty path are errors.
"""

from __future__ import annotations

import enum
import os
import signal
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

from .errors import OptionError, OutputError


class Interrupted(BaseException):
    """A catchable termination signal arrived while a file was being written."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


def _raise_interrupted(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signum)


@contextmanager
def signals_raise() -> Iterator[None]:
    """SIGTERM and SIGHUP raise Interrupted meanwhile, so cleanup code runs (main thread only)."""
    wanted = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    try:
        previous = {signum: signal.signal(signum, _raise_interrupted) for signum in wanted}
    except ValueError:  # not the main thread: signals cannot be caught here
        yield
        return
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


# The extensions that name each text format, whichever command writes it.
TEXT_SUFFIXES = {
    "txt": "text", "text": "text", "md": "markdown", "markdown": "markdown", "csv": "csv", "json": "json",
    "html": "html", "htm": "html",
}  # fmt: skip


def suffixes_of(formats: type[enum.StrEnum]) -> dict[str, Any]:
    """The extensions that name each of `formats` (a command's format enum): ``{"md": MARKDOWN, ...}``."""
    values = {member.value for member in formats}
    return {suffix: formats(value) for suffix, value in TEXT_SUFFIXES.items() if value in values}


def chosen_format(fmt: str | None, output: str | None, formats: type[enum.StrEnum]) -> Any:
    """``--format`` (any case), else the format the ``-o`` extension names, else the first of `formats`."""
    if fmt is not None:
        return formats(fmt.lower())
    return format_for(output, suffixes_of(formats), next(iter(formats)))


def format_for(output: str | None, suffixes: dict[str, Any], default: Any) -> Any:
    """The output format an ``-o`` path's extension names (no path or ``-``: `default`); an
    extension that names none is an OptionError listing those that do."""
    if output is None or output == "-":
        return default
    suffix = Path(output).suffix.lower().lstrip(".")
    if not suffix:
        return default
    if suffix not in suffixes:
        known = ", ".join(f".{s}" for s in suffixes)
        raise OptionError(
            f"{output!r}: no format is written as .{suffix}; give --format, or one of {known}", option="--output"
        )
    return suffixes[suffix]


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_output(path: str | Path, data: str | bytes) -> None:
    """Write `data` to `path` as the module docstring says."""
    text = str(path)
    if not text:
        raise OutputError("the output path is empty (use -o - for standard output)")
    if text.endswith(os.sep):
        raise OutputError(f"cannot write {text}: the path names a directory; give a file name")
    payload = data.encode("utf-8") if isinstance(data, str) else data
    try:
        info = os.stat(text)  # follows a symbolic link: its target is what is written
    except FileNotFoundError:
        info = None
    except OSError as exc:
        raise OutputError(f"cannot write {text}: {exc.strerror}") from None
    if info is not None and stat.S_ISDIR(info.st_mode):
        raise OutputError(f"cannot write {text}: it is a directory; give a file name")
    if info is not None and (not stat.S_ISREG(info.st_mode) or info.st_nlink > 1):
        _write_in_place(text, payload)  # a device, FIFO, terminal, or a hard-linked file
        return
    mode = stat.S_IMODE(info.st_mode) if info is not None else 0o666 & ~_umask()
    _replace_atomically(text, Path(os.path.realpath(text)), payload, mode)


def _write_in_place(path: str, payload: bytes) -> None:
    shown = path
    try:
        with open(path, "wb") as handle:
            handle.write(payload)
    except OSError as exc:
        raise OutputError(f"cannot write {shown}: {exc.strerror}") from None


def _replace_atomically(shown: str, target: Path, payload: bytes, mode: int) -> None:
    import tempfile  # here, not at start-up: most commands write to standard output

    with signals_raise():
        try:
            fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        except OSError as exc:
            raise OutputError(f"cannot write {shown}: {exc.strerror}") from None
        try:
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
            os.chmod(tmp, mode)
            os.replace(tmp, target)
        except BaseException as exc:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            if isinstance(exc, OSError):
                raise OutputError(f"cannot write {shown}: {exc.strerror}") from None
            raise
