"""The output formats of a graded table (kept apart so that the command line names them without
loading the grader)."""

from __future__ import annotations

import enum


class GradeFormat(enum.StrEnum):
    TEXT = "text"
    JSON = "json"
    HTML = "html"
