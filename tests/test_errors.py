"""Bad input: one clear line naming file, line, layer and field; exit code 2; never a traceback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from archcalc.cli import main

HEADER = "name: bad\ninput: {channels: 3, height: 32, width: 32}\nlayers:\n"


def run_table(path: Path | str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["table", str(path)])
    assert "Traceback" not in result.output
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stderr.strip()


def check(write_spec, text: str, *expected: str) -> str:
    path = write_spec(text)
    code, message = run_table(path)
    assert code == 2
    assert message.startswith(f"archcalc: error: {path}:"), message
    assert len(message.splitlines()) == 1, message
    for part in expected:
        assert part in message, message
    return message


@pytest.mark.parametrize(
    ("layers", "expected"),
    [
        (
            "  - {kind: conv, out_channels: 8, kernel: 3}\n  - {kind: convolution, name: c2}\n",
            [":5:", "layer 'c2'", "field 'kind'", "unknown kind 'convolution'", "allowed: conv, conv_transpose,"],
        ),
        (
            "  - {kind: conv, name: c1, out_channels: 8, kernal: 3}\n",
            [
                ":4:",
                "layer 'c1' (conv)",
                "field 'kernal'",
                "did you mean 'kernel'",
                "allowed: kind, name, inputs, out_channels",
            ],
        ),
        (
            "  - {kind: conv, name: c1, out_channels: 8}\n",
            [":4:", "layer 'c1' (conv)", "field 'kernel'", "missing required"],
        ),
        ("  - {kind: conv, name: c1, out_channels: 8, kernel: big}\n", ["field 'kernel'", "got the string 'big'"]),
        (
            "  - {kind: conv, name: c1, out_channels: 8, kernel: 0}\n",
            ["field 'kernel'", "must be a positive integer", "got 0"],
        ),
        (
            "  - {kind: conv, name: c1, out_channels: -3, kernel: 3}\n",
            ["field 'out_channels'", "must be positive, got -3"],
        ),
        (
            "  - {kind: conv, name: c1, out_channels: 8, kernel: 3, padding: fullish}\n",
            ["field 'padding'", "'same', 'valid'"],
        ),
        (
            "  - {kind: conv, name: c1, out_channels: 8, kernel: 3, bias: 1}\n",
            ["field 'bias'", "must be true or false"],
        ),
        ("  - {kind: lrn, name: n, beta: .nan}\n", ["field 'beta'", "NaN"]),
        ("  - {kind: dropout, name: d, p: 1.0}\n", ["field 'p'", "must be < 1"]),
        (
            "  - {kind: conv, name: c1, out_channels: 8, kernel: 40, padding: 2}\n",
            [
                ":4:",
                "layer 'c1' (conv)",
                "field 'kernel'",
                "kernel 40 is larger than the padded input height 36 (32 + 4 padding)",
            ],
        ),
        (
            "  - {kind: conv, name: c1, out_channels: 8, kernel: 3, groups: 2}\n",
            ["layer 'c1' (conv)", "field 'groups'", "3 input channels are not divisible by 2 groups"],
        ),
        (
            "  - {kind: conv, name: c1, out_channels: 2, kernel: 3, connections: [[0, 1]]}\n",
            ["field 'connections'", "has 1 rows but the layer has 2 output channels"],
        ),
        (
            "  - {kind: conv, name: c1, out_channels: 2, kernel: 3, connections: [[0, 1], [2, 3]]}\n",
            ["field 'connections'", "row 1 names input channel 3, but the input has only 3 channels"],
        ),
        (
            "  - {kind: maxpool, name: p, kernel: 2, padding: 3}\n",
            ["field 'padding'", "more than half the kernel"],
        ),
        (
            "  - {kind: conv, name: a, out_channels: 4, kernel: 3}\n  - {kind: relu, name: r, inputs: [b]}\n",
            [":5:", "layer 'r' (relu)", "field 'inputs'", "no layer named 'b'", "earlier layers: input, a"],
        ),
        (
            "  - {kind: relu, name: a, inputs: b}\n  - {kind: relu, name: b, inputs: a}\n",
            ["layer 'a'", "'b' is defined later (layer 2) and would make a cycle: a → b → a"],
        ),
        ("  - {kind: relu, name: a, inputs: a}\n", ["cannot take its own output as input (a cycle)"]),
        (
            "  - {kind: maxpool, name: p, kernel: 2}\n  - {kind: concat, name: c, inputs: [input, p]}\n",
            [":5:", "layer 'c' (concat)", "cannot concatenate [3, 32, 32] and [3, 16, 16]", "same spatial size"],
        ),
        (
            "  - {kind: conv, name: a, out_channels: 4, kernel: 1}\n  - {kind: add, name: s, inputs: [input, a]}\n",
            ["layer 's' (add)", "cannot add [3, 32, 32] and [4, 32, 32]", "same shape"],
        ),
        ("  - {kind: add, name: s, inputs: [input]}\n", ["needs two or more inputs"]),
        (
            "  - {kind: flatten}\n  - {kind: conv, name: c, out_channels: 2, kernel: 3}\n",
            ["layer 'c'", "needs a [C, H, W] input"],
        ),
        ("  - {kind: linear, name: fc, out_features: 10}\n", ["layer 'fc'", "add a 'flatten' layer"]),
        (
            "  - {kind: relu, name: x}\n  - {kind: relu, name: x}\n",
            [":5:", "duplicate name 'x' (also used by layer 1)"],
        ),
        ("  - {kind: relu, kind: tanh}\n", [":4:", "duplicate key 'kind'"]),
    ],
)
def test_bad_layers(write_spec, layers: str, expected: list[str]):
    check(write_spec, HEADER + layers, *expected)


def test_bad_top_level(write_spec):
    check(
        write_spec,
        "name: x\ninput: {channels: 3, height: 0, width: 8}\nlayers: [{kind: relu}]\n",
        ":2:",
        "input.height",
        "positive",
    )
    check(write_spec, "name: x\nlayers: [{kind: relu}]\n", "missing required field 'input'")
    check(write_spec, "name: x\ninputs: {}\n", "unknown top-level field 'inputs'", "did you mean 'input'")
    check(write_spec, "name: x\ninput: {channels: 3, height: 8, width: 8}\nlayers: []\n", "non-empty list")
    check(write_spec, "- just\n- a list\n", "a spec must be a mapping")


def test_bad_repeat_blocks_and_tags_through_the_cli(write_spec):
    check(
        write_spec,
        HEADER + "  - repeat: 1000000000\n    name: stage\n    layers: [{kind: relu}]\n",
        ":4:",
        "layer 'stage' (repeat block), field 'repeat'",
        "expands to 1,000,000,000 layers",
    )
    check(
        write_spec,
        HEADER + "  - repeat: 2\n    name: b\n    layers: [{kind: conv, name: c, filters: 8, kernel: 3}]\n",
        ":6:",
        "layer 'b.1.c' (conv), field 'filters'",
        "archcalc calls it 'out_channels'",
    )
    check(
        write_spec,
        HEADER + "  - {kind: dropout, name: d, p: !!binary aGVsbG8=}\n",
        ":4:",
        "layer 'd' (dropout), field 'p'",
        "unsupported YAML tag '!!binary'",
    )


def test_yaml_syntax_error(write_spec):
    check(write_spec, HEADER + "  - {kind: conv, out_channels: 8, kernel: [3, 3}\n", ":4:", "YAML syntax error")


def test_unsafe_yaml_tag(write_spec):
    check(write_spec, HEADER + "  - !!python/object:os.system {kind: relu}\n", "unsupported YAML tag")


def test_empty_and_comment_only_files(write_spec):
    check(write_spec, "", "the file is empty")
    check(write_spec, "# nothing but a comment\n", "the file is empty")


def test_binary_file(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    code, message = run_table(path)
    assert code == 2 and "binary data" in message


def test_not_utf8(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_bytes(b"name: caf\xe9\n")
    code, message = run_table(path)
    assert code == 2 and "not a UTF-8 text file" in message


def test_huge_file(tmp_path):
    path = tmp_path / "net.yaml"
    path.write_bytes(b"# " + b"x" * (5 * 1024 * 1024) + b"\n")
    code, message = run_table(path)
    assert code == 2 and "too large" in message


def test_deeply_nested_file(write_spec):
    check(write_spec, "name: " + "[" * 10_000 + "]" * 10_000 + "\n", "nested too deeply")


def test_alias_bomb_is_refused_quickly(write_spec):
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"]
    lines += [f"a{i}: &a{i} [" + ", ".join([f"*a{i - 1}"] * 10) + "]" for i in range(1, 10)]
    started = time.perf_counter()
    check(write_spec, "\n".join(lines) + "\n", "expands to more than")
    assert time.perf_counter() - started < 5  # generous: a real bomb would never finish


def test_unknown_spec_name_suggests_a_bundled_one():
    code, message = run_table("alexnt")
    assert code == 2
    assert "no such file or bundled spec 'alexnt' (did you mean 'alexnet'?)" in message


def test_bad_input_override():
    result = CliRunner().invoke(main, ["table", "alexnet", "--input", "224x224"])
    assert result.exit_code == 2 and "3x224x224" in result.stderr
    result = CliRunner().invoke(main, ["table", "alexnet", "--input", "3x60x60"])
    assert result.exit_code == 2
    assert "layer 'pool5' (maxpool), field 'kernel': kernel 3 is larger than the padded input height 2" in result.stderr


def test_bad_option_value_lists_the_allowed_values():
    result = CliRunner().invoke(main, ["table", "alexnet", "--format", "yaml"])
    assert result.exit_code == 2
    assert "'text', 'markdown', 'csv', 'json', 'html'" in result.stderr


# --- fuzzing: whatever a spec holds, the answer is a result or a SpecError --------------------

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

import archcalc  # noqa: E402
from archcalc.kinds import KINDS  # noqa: E402

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 40), st.floats(allow_nan=True), st.text(max_size=5),
    st.sampled_from(["same", "valid", "input", "l0", "l1", "block_input", "b", "b.1.l0"]),
)  # fmt: skip
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=8,
)
field_names = st.sampled_from(
    sorted({f.name for kind in KINDS.values() for f in kind.fields} | {"name", "inputs", "bogus"})
)
layers = st.fixed_dictionaries({"kind": st.sampled_from([*KINDS, "nope", 3])}, optional={}).flatmap(
    lambda base: st.dictionaries(field_names, values, max_size=5).map(lambda extra: {**extra, **base})
)
items = st.recursive(  # layers and repeat blocks of them, nested
    layers,
    lambda inner: st.fixed_dictionaries(
        {"repeat": st.integers(-1, 3) | values, "layers": st.lists(inner, max_size=3)},
        optional={"name": st.sampled_from(["b", "l0", "x{i}", "", "block_input"]) | values, "bogus": values},
    ),
    max_leaves=6,
)
sizes = st.tuples(st.integers(-1, 40), st.integers(-1, 40), st.integers(-1, 40))
input_shapes = st.one_of(
    sizes.map(lambda size: dict(zip(("channels", "height", "width"), size, strict=True))),
    sizes.map(list),
    sizes.map(lambda size: "x".join(map(str, size))),
    values,
)


@settings(max_examples=300, deadline=None)
@given(layer_list=st.lists(items, max_size=6), input_shape=input_shapes)
def test_arbitrary_specs_give_a_result_or_a_spec_error(layer_list, input_shape):
    doc = {"name": "fuzz", "input": input_shape, "layers": layer_list}
    try:
        archcalc.analyse(archcalc.from_mapping(doc))
    except archcalc.SpecError as error:
        assert str(error)


# Repeat blocks of layers that often fit together, so that expansion and name resolution get exercised.
refs = st.sampled_from(["input", "block_input", "a", "b", "x1", "blk", "blk.1.a", "c1"])


def wired(kind: dict, inputs: st.SearchStrategy) -> st.SearchStrategy:
    return st.fixed_dictionaries(kind, optional={"name": st.sampled_from(["a", "b", "x{i}", "blk"]), "inputs": inputs})


wired_layers = st.one_of(
    wired({"kind": st.just("relu")}, refs),
    wired({"kind": st.just("conv"), "out_channels": st.just(3), "kernel": st.integers(1, 2)}, refs),
    wired({"kind": st.just("maxpool"), "kernel": st.just(1)}, st.lists(refs, min_size=1, max_size=2)),
    st.fixed_dictionaries(
        {"kind": st.sampled_from(["add", "concat"]), "inputs": st.lists(refs, min_size=1, max_size=3)},
        optional={"name": st.sampled_from(["a", "b", "x{i}"])},
    ),
)
wired_items = st.recursive(
    wired_layers,
    lambda inner: st.fixed_dictionaries(
        {"repeat": st.integers(1, 3), "layers": st.lists(inner, min_size=1, max_size=3)},
        optional={"name": st.sampled_from(["blk", "b", "c{i}"])},
    ),
    max_leaves=8,
)


@settings(max_examples=300, deadline=None)
@given(layer_list=st.lists(wired_items, min_size=1, max_size=5))
def test_arbitrary_repeat_blocks_give_a_result_or_a_spec_error(layer_list):
    doc = {"name": "fuzz", "input": [3, 8, 8], "layers": layer_list}
    try:
        spec = archcalc.from_mapping(doc)
    except archcalc.SpecError as error:
        assert str(error)
        return
    parents = {block.name: block.parent for block in spec.blocks}

    def enclosing(name: str | None) -> list[str | None]:
        chain = []
        while name is not None:
            chain.append(name)
            name = parents[name]
        return chain

    for block in spec.blocks:  # each block's layers: one run, `repeat` repetitions of equal length
        assert block.last - block.first + 1 == block.repeat * block.per_repetition
        for index, layer in enumerate(spec.layers):
            assert (block.name in enclosing(layer.block)) == (block.first <= index <= block.last)
    seen = {"input"}
    for layer in spec.layers:  # every input names an earlier layer
        assert set(layer.inputs) <= seen
        seen.add(layer.name)
    try:
        archcalc.analyse(spec)
    except archcalc.SpecError as error:
        assert str(error)


@settings(max_examples=200, deadline=None)
@given(text=st.text(max_size=300))
def test_arbitrary_text_gives_a_result_or_a_spec_error(text: str):
    try:
        archcalc.analyse(archcalc.parse(text))
    except archcalc.SpecError as error:
        assert str(error)
