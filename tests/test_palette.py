"""The role colours stay apart for every reader: in greyscale and under the three dichromacies.

Simulation: Machado, Oliveira & Fernandes (2009) at severity 1.0 on linear RGB, then CIELAB (D65).
Thresholds: ΔE*ab ≥ 20 with normal vision, ≥ 12 under protanopia, deuteranopia and tritanopia,
and ΔL* ≥ 8 in greyscale, for every pair of roles (any two may stand side by side in one figure).
"""

from __future__ import annotations

import itertools

import pytest

from archcalc.palette import MACHADO_2009, PALETTE, Role, Vision, cielab, delta_e, differences

THRESHOLDS = {
    Vision.NORMAL: 20.0,
    Vision.PROTANOPIA: 12.0,
    Vision.DEUTERANOPIA: 12.0,
    Vision.TRITANOPIA: 12.0,
    Vision.GREYSCALE: 8.0,
}
OUTLINE = "#333333"


@pytest.mark.parametrize(
    ("color", "expected"),
    [  # reference CIELAB (D65) values of the sRGB primaries and a mid grey
        ("#ff0000", (53.24, 80.09, 67.20)),
        ("#00ff00", (87.73, -86.18, 83.18)),
        ("#0000ff", (32.30, 79.19, -107.86)),
        ("#808080", (53.59, 0.0, 0.0)),
        ("#ffffff", (100.0, 0.0, 0.0)),
    ],
)
def test_cielab_matches_reference_values(color: str, expected: tuple[float, float, float]):
    assert cielab(color) == pytest.approx(expected, abs=0.02)


@pytest.mark.parametrize("vision", list(MACHADO_2009))
def test_simulation_keeps_white_and_black(vision: Vision):
    """Each row of a Machado matrix sums to 1: white and black look the same to everyone."""
    assert [sum(row) for row in MACHADO_2009[vision]] == pytest.approx([1, 1, 1], abs=1e-5)
    assert cielab("#ffffff", vision) == pytest.approx((100, 0, 0), abs=0.01)
    assert cielab("#000000", vision) == pytest.approx((0, 0, 0), abs=0.01)


def test_protanopia_confuses_red_and_green_but_not_blue():
    """The simulation itself: a protanope sees red and green far closer than a normal viewer does."""
    normal = delta_e(cielab("#d62728"), cielab("#2ca02c"))
    protan = delta_e(cielab("#d62728", Vision.PROTANOPIA), cielab("#2ca02c", Vision.PROTANOPIA))
    assert protan < normal / 3
    assert delta_e(cielab("#d62728", Vision.TRITANOPIA), cielab("#2ca02c", Vision.TRITANOPIA)) > normal / 2


@pytest.mark.parametrize("vision", list(Vision))
def test_every_pair_of_roles_stays_apart(vision: Vision):
    for a, b in itertools.combinations(Role, 2):
        difference = delta_e(cielab(PALETTE[a], vision), cielab(PALETTE[b], vision))
        assert difference >= THRESHOLDS[vision], f"{a} and {b}: ΔE {difference:.1f} for {vision}"


def test_differences_reports_the_closest_pair():
    closest = differences()
    assert set(closest) == set(Vision)
    assert closest[Vision.GREYSCALE][0] == pytest.approx(8.2, abs=0.05)  # the README quotes these
    assert closest[Vision.TRITANOPIA][0] == pytest.approx(13.8, abs=0.05)
    assert closest[Vision.DEUTERANOPIA][0] == pytest.approx(15.7, abs=0.05)
    assert closest[Vision.PROTANOPIA][0] == pytest.approx(19.5, abs=0.05)


def test_the_old_palette_would_fail():
    """The previous palette: merge and convolution nearly one grey, as the check should catch."""
    old = {
        Role.INPUT: "#eeeeee", Role.POOLING: "#f3cd85", Role.RESAMPLING: "#e8a0b4", Role.CONVOLUTION: "#8fb4e3",
        Role.MERGE: "#c9b3e0", Role.DENSE: "#6ea864", Role.OUTPUT: "#b8524c",
    }  # fmt: skip
    assert differences(old)[Vision.GREYSCALE][0] < THRESHOLDS[Vision.GREYSCALE]
    merge, conv = (cielab(old[r], Vision.GREYSCALE) for r in (Role.MERGE, Role.CONVOLUTION))
    assert delta_e(merge, conv) < 5
    assert differences(old)[Vision.PROTANOPIA][0] < THRESHOLDS[Vision.PROTANOPIA]


@pytest.mark.parametrize("role", list(Role))
def test_fills_are_light_under_dark_outlines(role: Role):
    lightness = cielab(PALETTE[role])[0]
    assert lightness >= 45
    assert lightness - cielab(OUTLINE)[0] >= 20
