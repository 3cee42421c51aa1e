"""Every layer kind declares everything about itself, and every view handles every kind.

Each registered kind is walked through every renderer (the table in all formats, the 3D figure as
SVG and TikZ, the DOT graph, the HTML page, the chart, code generation and, with torch, the
cross-check); a kind some renderer does not handle fails here, loudly. A kind written inside a test
flows through all of them by declaring only its class. No module outside a kind's own class names
that kind.
"""

from __future__ import annotations

import ast
import importlib.util
import json
import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import archcalc
from archcalc import errors
from archcalc.codegen import generate
from archcalc.engine import Analysis
from archcalc.fields import Boolean, Field, Integer, IntPair, Number, Padding
from archcalc.figure3d import build_figure, render_svg, render_tikz
from archcalc.graph import to_dot
from archcalc.kinds import KINDS, TORCH_HELPERS, Appearance, Kind, Outcome, TorchLayer
from archcalc.kinds.activation import Elementwise
from archcalc.kinds.base import Params, Shape
from archcalc.palette import Role
from archcalc.pycode import Call
from archcalc.report import render_table
from archcalc.schema import build_schema

from .conftest import ROOT

PACKAGE = ROOT / "archcalc"
# String constants that equal a kind's name but are not kind names.
NOT_KIND_NAMES = {("figure3d/options.py", "Scale")}  # the `linear` size mapping


def _example_value(field: Field) -> Any:
    """A valid value for a required field, from its type; kinds with other needs declare `example`."""
    generic: dict[type, Any] = {Integer: 2, IntPair: 2, Padding: 0, Boolean: True, Number: 1.0}
    for field_type, value in generic.items():
        if isinstance(field.type, field_type):
            return value
    raise AssertionError(f"field '{field.name}' needs an example value: declare the kind's `example`")


def example_doc(kind: Kind) -> dict[str, Any]:
    """The smallest spec that uses `kind`: its example layer fed by the input, or by parallel branches."""
    layer: dict[str, Any] = {"kind": kind.name, "name": "probe"}
    layer.update({f.name: _example_value(f) for f in kind.fields if f.required and f.name not in kind.example})
    layer.update(kind.example)
    shape = kind.example_input
    layers: list[dict[str, Any]] = []
    if kind.arity[0] >= 2:
        for index in range(kind.arity[0]):
            layers.append({"kind": "conv", "name": f"branch{index}", "out_channels": shape[0], "kernel": 1,
                           "inputs": "input"})  # fmt: skip
        layer["inputs"] = [branch["name"] for branch in layers]
    if len(shape) == 1:  # a flat input: the network's input is a map, flattened first
        layers.append({"kind": "flatten", "name": "flat"})
        shape = (shape[0], 1, 1)
    layers.append(layer)
    c, h, w = shape
    return {"name": f"{kind.name} probe", "input": {"channels": c, "height": h, "width": w}, "layers": layers}


def analysed(kind: Kind) -> Analysis:
    return archcalc.analyse(archcalc.from_mapping(example_doc(kind)))


def svg_texts(svg: str) -> list[str]:
    import xml.etree.ElementTree as ET

    root = ET.fromstring(svg)
    return ["".join(node.itertext()) for node in root.iter("{http://www.w3.org/2000/svg}text")]


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_declares_its_views(name: str):
    kind = KINDS[name]
    assert kind.summary, f"{name}: no summary"
    assert isinstance(kind.appearance, Appearance)
    if kind.appearance is Appearance.BLOCK:
        assert kind.role is not None, f"{name} is drawn as a block but declares no colour role"
    if kind.appearance is not Appearance.BLOCK:
        assert kind.arity == (1, 1), f"{name} merges inputs, so the figure must draw it as a block"


def walk_renderers(analysis: Analysis) -> Iterator[tuple[str, str]]:
    """(renderer, output) for every text view of an analysis."""
    for fmt in ("text", "markdown", "csv", "json", "html"):
        yield fmt, render_table(analysis, fmt)
    figure = build_figure(analysis)
    yield "svg", render_svg(figure)
    yield "tikz", render_tikz(figure)
    yield "dot", to_dot(analysis)
    yield "codegen", generate(analysis).source


def assert_every_view_shows(analysis: Analysis, layer_name: str) -> None:
    layer = analysis[layer_name]
    kind = layer.definition
    outputs = dict(walk_renderers(analysis))
    for fmt in ("text", "markdown", "csv", "html", "dot"):
        assert layer_name in outputs[fmt], f"{kind.name}: the {fmt} view lost layer {layer_name}"
    [record] = [entry for entry in json.loads(outputs["json"])["layers"] if entry["name"] == layer_name]
    assert record["output_shape"] == list(layer.output_shape)
    assert record["params"] == layer.params
    texts = svg_texts(outputs["svg"])
    if kind.appearance is Appearance.BLOCK:
        assert layer_name in texts, f"{kind.name} is a block, but the figure does not draw it"
    elif kind.appearance is Appearance.ANNOTATION and kind.annotation(layer):
        assert any(kind.annotation(layer) in text for text in texts), f"{kind.name}'s note is not in the figure"
    else:
        assert layer_name not in texts, f"{kind.name} is hidden, but the figure draws it"
    source = outputs["codegen"]
    compile(source, "<generated>", "exec")
    assert repr(layer_name).strip("'") in source


@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_through_every_renderer(name: str):
    analysis = analysed(KINDS[name])
    assert_every_view_shows(analysis, "probe")
    rows = analysis.layers
    assert sum(r.params for r in rows) == analysis.totals.params  # rows add up to the totals
    assert sum(r.macs for r in rows) == analysis.totals.macs


def test_every_kind_in_the_chart(tmp_path: Path):
    pytest.importorskip("matplotlib")
    from archcalc.charts import render_chart

    for name, kind in KINDS.items():
        svg = render_chart(analysed(kind), "svg").decode()
        assert svg.startswith("<?xml"), name


@pytest.mark.torch
@pytest.mark.parametrize("name", list(KINDS))
def test_every_kind_checks_against_torch(name: str):
    pytest.importorskip("torch")
    from archcalc.crosscheck import check, format_report

    spec = archcalc.from_mapping(example_doc(KINDS[name]))
    report = check(spec, device="cpu", batch=2)
    assert report.ok, format_report(report)


# --- a kind added by declaring its class only ----------------------------------------------------


@pytest.fixture
def probe_kinds() -> Iterator[list[str]]:
    """Kinds a test defines are registered on definition; forget them afterwards."""
    before, helpers = dict(KINDS), dict(TORCH_HELPERS)
    added: list[str] = []
    yield added
    KINDS.clear()
    KINDS.update(before)
    TORCH_HELPERS.clear()
    TORCH_HELPERS.update(helpers)


def test_a_new_kind_flows_through_every_renderer_by_declaring_its_class(probe_kinds: list[str]):
    class ClampProbe(Elementwise):
        name = "clamp_probe"
        summary = "clamp(x, low, high): a kind defined here and nowhere else"
        fields = (Field("low", Number(), -1.0), Field("high", Number(), 1.0))
        annotation_text = "clamp"
        torch_helpers = {
            "ClampProbe": """
class ClampProbe(nn.Module):
    def __init__(self, low=-1.0, high=1.0):
        super().__init__()
        self.low, self.high = low, high

    def forward(self, x):
        return x.clamp(self.low, self.high)
"""
        }

        def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
            return TorchLayer(Call("ClampProbe", p["low"], p["high"]), ("ClampProbe",))

    class StripeProbe(Kind):
        name = "stripe_probe"
        summary = "keeps every second row: a block with its own receptive-field rule"
        appearance = Appearance.BLOCK
        role = Role.POOLING

        def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
            c, h, w = inputs[0]
            from archcalc.kinds import Window

            window = Window((1, 1), (2, 1), (0, 0))
            return Outcome(shape=(c, (h + 1) // 2, w), formula=f"⌈{h}/2⌉ = {(h + 1) // 2} rows", window=window)

        def caption(self, layer: Any) -> str:
            return "rows ÷2"

        def torch(self, p: Params, inputs: list[Shape], details: dict[str, Any]) -> TorchLayer:
            return TorchLayer(Call("nn.MaxPool2d", (1, 1), stride=(2, 1)))

    probe_kinds += ["clamp_probe", "stripe_probe"]
    doc = {
        "name": "probes",
        "input": {"channels": 3, "height": 9, "width": 8},
        "layers": [
            {"kind": "conv", "name": "c1", "out_channels": 4, "kernel": 3},
            {"kind": "clamp_probe", "name": "clamp", "low": -0.5},
            {"kind": "stripe_probe", "name": "stripe"},
            {"kind": "conv", "name": "c2", "out_channels": 2, "kernel": 3},
        ],
    }
    analysis = archcalc.analyse(archcalc.from_mapping(doc))
    assert analysis["stripe"].output_shape == (4, 4, 6)
    # the receptive field follows the kind's own window: 3 → 3 + 2×2 rows after the stride-2 rows, 5 columns
    assert analysis["c2"].receptive_field.size == (7, 5)
    assert_every_view_shows(analysis, "clamp")
    assert_every_view_shows(analysis, "stripe")
    assert "rows ÷2" in svg_texts(render_svg(build_figure(analysis)))
    assert "ClampProbe" in generate(analysis).source
    assert "clamp_probe" in build_schema()["$defs"]["layer"]["properties"]["kind"]["enum"]
    if importlib.util.find_spec("torch") is not None:
        from archcalc.crosscheck import check, format_report

        report = check(analysis.spec, device="cpu", batch=1)
        assert report.ok, format_report(report)


def test_a_kind_that_breaks_its_declared_invariant_is_an_internal_error(probe_kinds: list[str]):
    class LyingProbe(Elementwise):
        name = "lying_probe"
        summary = "says it keeps positions, but halves the height"

        def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
            c, h, w = inputs[0]
            return Outcome(shape=(c, h // 2, w), extra_flops=math.prod(inputs[0]))

    class SilentProbe(Kind):
        name = "silent_probe"
        summary = "moves positions without saying how"

        def infer(self, p: Params, inputs: list[Shape]) -> Outcome:
            return Outcome(shape=inputs[0])

    probe_kinds += ["lying_probe", "silent_probe"]
    for kind, message in (("lying_probe", "declares that it keeps positions"), ("silent_probe", "neither keeps")):
        doc = {"name": "x", "input": {"channels": 3, "height": 8, "width": 8}, "layers": [{"kind": kind}]}
        with pytest.raises(errors.InvariantError, match=message) as caught:
            archcalc.analyse(archcalc.from_mapping(doc))
        assert caught.value.exit_code == 70


# --- static rules ---------------------------------------------------------------------------------


def _kind_name_of(node: ast.ClassDef) -> str | None:
    for statement in node.body:
        if (
            isinstance(statement, ast.Assign)
            and [getattr(t, "id", None) for t in statement.targets] == ["name"]
            and isinstance(statement.value, ast.Constant)
        ):
            return statement.value.value
    return None


def _literals_outside_their_kind(path: Path) -> list[str]:
    relative = path.relative_to(PACKAGE).as_posix()
    found: list[str] = []

    def visit(node: ast.AST, classes: list[ast.ClassDef]) -> None:
        if isinstance(node, ast.ClassDef):
            classes = [*classes, node]
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value in KINDS:
            owners = {_kind_name_of(c) for c in classes}
            exempt = any((relative, c.name) in NOT_KIND_NAMES for c in classes)
            if node.value not in owners and not exempt:
                found.append(f"{relative}:{node.lineno}: {node.value!r}")
        for child in ast.iter_child_nodes(node):
            visit(child, classes)

    visit(ast.parse(path.read_text(encoding="utf-8")), [])
    return found


# Importers translate another framework's vocabulary into kind names: that mapping is their whole
# job (and builder.add refuses a name that is not a kind). Every other module asks the kind.
TRANSLATORS = PACKAGE / "importers"


def test_no_kind_name_appears_outside_its_own_class():
    paths = [p for p in sorted(PACKAGE.rglob("*.py")) if TRANSLATORS not in p.parents]
    found = [hit for path in paths for hit in _literals_outside_their_kind(path)]
    assert found == [], "views and the CLI must ask the kind, not name it:\n" + "\n".join(found)


def test_every_error_lives_in_errors_py_with_its_own_exit_code():
    def subclasses(cls: type) -> Iterator[type]:
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    found = list(subclasses(errors.ArchcalcError))
    assert len(found) >= 10
    for cls in found:
        assert cls.__module__ == "archcalc.errors", f"{cls.__name__} is defined in {cls.__module__}"
        assert "exit_code" in cls.__dict__, f"{cls.__name__} does not state its exit code"
    assert {cls.exit_code for cls in found} == {1, 2, 70}
    assert not hasattr(errors.ArchcalcError, "exit_code") or "exit_code" not in errors.ArchcalcError.__dict__
