"""jinja2 environment for the HTML and SVG templates in ``templates/`` (autoescaped)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from .resources import resource_dir


def number(value: float) -> str:
    """Fixed, short formatting for coordinates: the same figure gives the same bytes."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


@lru_cache(maxsize=1)
def environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
        autoescape=True,  # every template here is HTML or SVG; names in specs are untrusted
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["n"] = number
    return env


def render(template: str, **context: Any) -> str:
    return environment().get_template(template).render(**context)
