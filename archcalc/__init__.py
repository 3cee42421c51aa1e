"""archcalc: exact shapes, parameters, MACs/FLOPs, memory and receptive fields of CNNs, from a YAML spec.

>>> import archcalc
>>> result = archcalc.analyse(archcalc.load("alexnet"))
>>> result.totals.params
60965224
"""

from __future__ import annotations

from typing import Any

from .engine import Analysis, DType, FlopMode, LayerResult, ReceptiveField, Totals, WarningMode, analyse
from .errors import ArchcalcError, ImportFailure, InvariantError, LayerError, SpecError, TorchMissingError
from .importers import import_spec, load_source
from .rendering import RenderFormat, Style, render
from .spec import BlockSpec, LayerSpec, NetworkSpec, bundled_names, from_mapping, load, parse, parse_input_shape

__version__ = "0.1.0"


def explain(analysis: Analysis, layers: Any = None, fmt: str = "text", lang: str | None = None) -> str:
    """Each stage of `analysis` laid out with its arithmetic and a teacher's notes (``explain.explain``);
    loaded on first use, as ``grade`` is."""
    from .explain import explain as explain_stages

    return explain_stages(analysis, layers, fmt, lang)


def grade(spec_or_analysis: Any, table: Any) -> Any:
    """Grade a hand-made layer table (its text or a path) against a spec or an analysis: a
    ``teaching.GradeResult``. The grader loads on first use, so that ``archcalc table`` starts fast."""
    from .teaching.grade import grade as grade_table

    return grade_table(spec_or_analysis, table)


__all__ = [
    "Analysis",
    "ArchcalcError",
    "BlockSpec",
    "DType",
    "FlopMode",
    "ImportFailure",
    "InvariantError",
    "LayerError",
    "LayerResult",
    "LayerSpec",
    "NetworkSpec",
    "ReceptiveField",
    "RenderFormat",
    "SpecError",
    "Style",
    "TorchMissingError",
    "Totals",
    "WarningMode",
    "__version__",
    "analyse",
    "bundled_names",
    "explain",
    "from_mapping",
    "grade",
    "import_spec",
    "load",
    "load_source",
    "parse",
    "parse_input_shape",
    "render",
]
