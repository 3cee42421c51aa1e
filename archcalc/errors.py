"""The exceptions archcalc raises; the CLI maps them to exit codes (and nothing else does)."""

from __future__ import annotations

from pathlib import Path


class ArchcalcError(Exception):
    """Base class: every error archcalc raises on purpose."""

    exit_code = 1


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
        return head + (where + ": " if where else "") + self.message


class LayerError(SpecError):
    """Raised by a layer kind's rules; the engine adds which layer and where it is defined."""


class TorchMissingError(ArchcalcError):
    """A command that needs PyTorch was run without it."""

    exit_code = 2

    def __init__(self) -> None:
        super().__init__("this command needs PyTorch: pip install 'archcalc[torch]'")
