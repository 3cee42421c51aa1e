"""archcalc: exact shapes, parameters, MACs/FLOPs, memory and receptive fields of CNNs, from a YAML spec.

>>> import archcalc
>>> result = archcalc.analyse(archcalc.load("alexnet"))
>>> result.totals.params
60965224
"""

from __future__ import annotations

from .engine import Analysis, DType, FlopMode, LayerResult, ReceptiveField, Totals, WarningMode, analyse
from .errors import ArchcalcError, ImportFailure, InvariantError, LayerError, SpecError, TorchMissingError
from .importers import import_spec, load_source
from .rendering import RenderFormat, Style, render
from .spec import BlockSpec, LayerSpec, NetworkSpec, bundled_names, from_mapping, load, parse, parse_input_shape

__version__ = "0.1.0"

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
    "from_mapping",
    "import_spec",
    "load",
    "load_source",
    "parse",
    "parse_input_shape",
    "render",
]
