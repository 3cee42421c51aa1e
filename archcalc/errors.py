"""Every exception archcalc raises on purpose, each with its exit code; the CLI maps them (and nothing else does).

Exit codes: 1 a failed check, 2 bad input (a spec, an option, a file, a missing dependency or
device), 70 an internal inconsistency (a bug in archcalc, never the user's input).
"""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar


class ArchcalcError(Exception):
    """Base class; every subclass states its exit code."""

    exit_code: ClassVar[int]


class SpecError(ArchcalcError):
    """A spec that cannot be read, validated or analysed.

    Carries where the problem is (file, line, layer, field) so that one message can point at it.
    """

    exit_code = 2

    def __init__(
        self,
        message: str,
        *,
        path: str | Path | None = None,
        line: int | None = None,
        layer: str | None = None,
        kind: str | None = None,
        field: str | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.path = str(path) if path is not None else None
        self.line = line
        self.layer = layer
        self.kind = kind
        self.field = field

    def located(self, **where: object) -> SpecError:
        """Fill in the location fields that are still unknown, keeping those already set."""
        for key, value in where.items():
            if getattr(self, key) is None and value is not None:
                setattr(self, key, str(value) if key == "path" else value)
        return self

    def __str__(self) -> str:
        head = ""
        if self.path is not None:
            head = self.path + (f":{self.line}" if self.line is not None else "") + ": "
        elif self.line is not None:
            head = f"line {self.line}: "
        parts = []
        if self.layer is not None:
            parts.append(f"layer '{self.layer}'" + (f" ({self.kind})" if self.kind else ""))
        if self.field is not None:
            parts.append(f"field '{self.field}'")
        where = ", ".join(parts)
        from .format import visible  # a quoted name never reaches a terminal raw

        return visible(head + (where + ": " if where else "") + self.message)


class LayerError(SpecError):
    """Raised by a layer kind's rules; the engine adds which layer and where it is defined.

    ``about_input``: the problem is the size of what the layer reads (a declared ``in_features``
    that does not match), so the engine also says which layer produced it and how.
    """

    exit_code = 2

    def __init__(self, message: str, *, about_input: bool = False, **where: object) -> None:
        super().__init__(message, **where)  # type: ignore[arg-type]
        self.about_input = about_input


class FieldValueError(SpecError):
    """A value of the wrong type or range; the caller adds the field and layer."""

    exit_code = 2


class ImportFailure(ArchcalcError):
    """A model file (or PyTorch class) that archcalc cannot read into a spec exactly.

    The message names the operation, where it is in the source (module path, node name,
    prototxt line) and, for an operation with no kind, the kinds that exist.
    """

    exit_code = 2


class OptionError(ArchcalcError):
    """A command-line or API option with a value archcalc cannot use."""

    exit_code = 2

    def __init__(self, message: str, option: str | None = None) -> None:
        super().__init__(f"{option}: {message}" if option else message)


class FigureFitError(ArchcalcError):
    """The 3D figure cannot meet its print constraints (text, line and kernel sizes) at the asked width.

    ``one_row_cm``: the width (cm) the figure would need in one row, where that is known."""

    exit_code = 2

    def __init__(self, message: str, one_row_cm: float | None = None) -> None:
        super().__init__(message)
        self.one_row_cm = one_row_cm


class OutputError(ArchcalcError):
    """An output file that cannot be written."""

    exit_code = 2


class TorchMissingError(ArchcalcError):
    """A command that needs PyTorch was run without it."""

    exit_code = 2

    def __init__(self) -> None:
        super().__init__("this command needs PyTorch: pip install 'archcalc[torch]'")


class GraphvizMissingError(ArchcalcError):
    """Rendering the graph to SVG/PNG/PDF without graphviz's ``dot`` program."""

    exit_code = 2


class DeviceError(ArchcalcError):
    """A device that PyTorch cannot see here."""

    exit_code = 2


class TorchRunError(ArchcalcError):
    """PyTorch could not run the network as asked (an op missing for a dtype on a device, memory)."""

    exit_code = 2


class CheckFailed(ArchcalcError):
    """The engine and torch disagree somewhere."""

    exit_code = 1


class WarningsAsErrors(ArchcalcError):
    """``--warnings error`` and the analysis has warnings."""

    exit_code = 1


class InvariantError(ArchcalcError):
    """A layer kind broke a rule it declared (e.g. it keeps positions but changed H×W): a bug in archcalc."""

    exit_code = 70


class TableError(ArchcalcError):
    """A learner's table that cannot be graded: unreadable, no known column, a row naming no layer."""

    exit_code = 2

    def __init__(self, message: str, *, path: str | None = None, line: int | None = None, cell: str | None = None):
        where = (path or "<table>") + (f":{line}" if line is not None else "")
        from .format import visible

        super().__init__(visible(f"{where}: " + (f"cell {cell!r}: " if cell is not None else "") + message))
        self.path, self.line, self.cell = path, line, cell


class GradeFailed(ArchcalcError):
    """A graded table has wrong cells (the report says which)."""

    exit_code = 1
