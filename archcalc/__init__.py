"""archcalc: exact shapes, parameters, MACs/FLOPs, memory and receptive fields of CNNs, from a YAML spec.

>>> import archcalc
>>> result = archcalc.analyse(archcalc.load("alexnet"))
>>> result.totals.params
60965224
"""

from __future__ import annotations

from .engine import Analysis, DType, FlopMode, LayerResult, ReceptiveField, Totals, analyse
from .errors import ArchcalcError, LayerError, SpecError, TorchMissingError
from .spec import LayerSpec, NetworkSpec, bundled_names, from_mapping, load, parse, parse_input_shape

__version__ = "0.1.0"

__all__ = [
    "Analysis",
    "ArchcalcError",
    "DType",
    "FlopMode",
    "LayerError",
    "LayerResult",
    "LayerSpec",
    "NetworkSpec",
    "ReceptiveField",
    "SpecError",
    "TorchMissingError",
    "Totals",
    "__version__",
    "analyse",
    "bundled_names",
    "from_mapping",
    "load",
    "parse",
    "parse_input_shape",
]
