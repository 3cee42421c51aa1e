"""One colour palette for every view: the 3D figure, the graph and the charts colour by role.

A layer kind declares its role (see ``kinds.base.Kind.role``); views never look at kind names.
"""

from __future__ import annotations

import enum
import re

from .errors import OptionError


class Role(enum.StrEnum):
    """What a drawn block is; sets its colour and its legend entry."""

    INPUT = "input"
    CONVOLUTION = "convolution"
    POOLING = "pooling"
    RESAMPLING = "resampling"
    DENSE = "dense"
    MERGE = "merge"
    OUTPUT = "output"

    @property
    def label(self) -> str:
        """The legend's wording."""
        return "fully connected" if self is Role.DENSE else self.value


# Luminance steps of about 0.1 so the legend also reads in greyscale.
PALETTE: dict[Role, str] = {
    Role.INPUT: "#eeeeee",
    Role.POOLING: "#f3cd85",
    Role.RESAMPLING: "#e8a0b4",
    Role.CONVOLUTION: "#8fb4e3",
    Role.MERGE: "#c9b3e0",
    Role.DENSE: "#6ea864",
    Role.OUTPUT: "#b8524c",
}
NEUTRAL = "#f4f4f4"  # blocks a view draws without a role (the graph's elementwise layers)


def parse_colors(items: tuple[str, ...] | list[str]) -> dict[Role, str]:
    """``ROLE=#RRGGBB`` overrides on top of the palette; a bad item is an OptionError listing the roles."""
    palette = dict(PALETTE)
    for item in items:
        key, _, value = item.partition("=")
        try:
            role = Role(key.strip().lower())
        except ValueError:
            role = None
        if role is None or not re.fullmatch(r"#[0-9a-fA-F]{6}", value.strip()):
            raise OptionError(
                f"{item!r}: expected ROLE=#RRGGBB with ROLE one of {', '.join(r.value for r in Role)}",
                option="--color",
            )
        palette[role] = value.strip().lower()
    return palette
