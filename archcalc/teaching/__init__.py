"""For learners and teachers: grading a hand-made layer table against the engine's numbers.

``archcalc.grade`` (or ``archcalc.teaching.grade.grade``) grades; the names here load on first
use, so that other commands start fast.
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

_WHERE = {
    "CellGrade": "grade", "GradeResult": "grade", "Status": "grade",
    "Column": "tables", "LearnerTable": "tables", "load_table": "tables", "read_table": "tables",
}  # fmt: skip

__all__ = sorted(_WHERE)


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(f".{_WHERE[name]}", __name__), name)
    globals()[name] = value
    return value
