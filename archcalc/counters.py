"""The names of the FLOP counters whose conventions archcalc reproduces, and of the comparison's
formats: what the command line and the table need to name them, without loading the rules
(``conventions``), which only ``--convention`` and ``archcalc conventions`` use."""

from __future__ import annotations

import enum
from typing import Any

from .errors import OptionError


class Convention(enum.StrEnum):
    """Whose rules count the MACs/FLOPs."""

    ARCHCALC = "archcalc"
    TORCH = "torch"
    FVCORE = "fvcore"
    PTFLOPS = "ptflops"
    PTFLOPS_ATEN = "ptflops-aten"
    THOP = "thop"
    TORCHINFO = "torchinfo"

    @property
    def unit(self) -> str:
        """The counter's own word for its number (a column header)."""
        return _UNITS[self][0]

    @property
    def source(self) -> str:
        """Where the counter's number comes from, as a user would call it."""
        return _UNITS[self][1]

    @property
    def column(self) -> str:
        """The table's count column under this convention: ``flops (fvcore)``."""
        return self.unit if self is Convention.ARCHCALC else f"{self.unit} ({self.value})"


_UNITS = {
    Convention.ARCHCALC: ("MACs", "archcalc counts: multiply-accumulates of conv, linear and RBF layers"),
    Convention.TORCH: ("FLOPs", "torch.utils.flop_counter.FlopCounterMode counts: 2 FLOPs per MAC of conv/linear"),
    Convention.FVCORE: ("flops", "fvcore's FlopCountAnalysis.total() counts: MACs, which it calls flops"),
    Convention.PTFLOPS: ("MACs", "ptflops' get_model_complexity_info() returns it (default backend)"),
    Convention.PTFLOPS_ATEN: ("MACs", "ptflops' get_model_complexity_info(backend='aten') returns it"),
    Convention.THOP: ("MACs", "thop's profile() returns it"),
    Convention.TORCHINFO: ("mult-adds", "torchinfo's summary() reports it (Total mult-adds)"),
}


def parse_convention(text: str) -> Convention:
    """``fvcore`` → Convention.FVCORE (any case); anything else is an OptionError listing the choices."""
    try:
        return Convention(text.strip().lower())
    except ValueError:
        allowed = ", ".join(c.value for c in Convention)
        raise OptionError(f"unknown convention {text!r}; allowed: {allowed}", option="--convention") from None


class ComparisonFormat(enum.StrEnum):
    TEXT = "text"
    MARKDOWN = "markdown"
    CSV = "csv"
    JSON = "json"


def counted_of(analysis: Any) -> Any:
    """The counter's numbers a view should show (``conventions.Counted``), or None for archcalc's own."""
    return getattr(analysis, "counted", None)
