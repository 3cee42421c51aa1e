"""The engine against PyTorch itself: every bundled spec, random specs, and the check/bench commands."""

from __future__ import annotations

import sys

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import archcalc
from archcalc.cli import main

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.torch

from archcalc.crosscheck import check, format_report  # noqa: E402

from .conftest import EVERY_KIND  # noqa: E402


def test_every_kind_matches_torch():
    report = check(archcalc.parse(EVERY_KIND), device="cpu")
    assert report.ok, format_report(report)
    assert report.checks == 4 * len(report.layers)


@pytest.mark.parametrize("name", archcalc.bundled_names())
def test_bundled_specs_pass_check_on_cpu(name: str):
    report = check(archcalc.load(name), device="cpu", batch=1)
    assert report.ok, format_report(report)


def test_check_command_output_and_exit_code():
    result = CliRunner().invoke(main, ["check", "lenet5-mnist", "--device", "cpu"])
    assert result.exit_code == 0, result.output
    assert "conv1    conv     OK 6×24×24    OK 156     OK 0           OK 345,600" in result.stdout
    assert result.stdout.splitlines()[-1].startswith("12 layers, 48 checks: all OK")


def test_a_mismatch_is_reported_and_exits_1(monkeypatch):
    from archcalc.kinds import dense as layers

    original = layers.Linear.infer

    def wrong(self, p, inputs):  # an engine bug: biases forgotten, as in many hand-made tables
        outcome = original(self, p, inputs)
        outcome.trainable -= p["out_features"]
        return outcome

    monkeypatch.setattr(layers.Linear, "infer", wrong)
    result = CliRunner().invoke(main, ["check", "lenet5-mnist", "--device", "cpu"])
    assert result.exit_code == 1
    assert "MISMATCH 30,720 ≠ torch 30,840" in result.stdout
    assert "archcalc: error: the engine and PyTorch disagree on lenet5-mnist" in result.stderr


def test_check_all_shows_progress():
    result = CliRunner().invoke(main, ["check", "--all", "--device", "cpu", "--batch", "1"])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert len(lines) == len(archcalc.bundled_names())
    count = len(archcalc.bundled_names())
    assert lines[0].startswith(f"[1/{count}] alexnet: 24 layers, 96 checks on cpu: OK")


def test_check_needs_exactly_one_target():
    assert CliRunner().invoke(main, ["check"]).exit_code == 2
    assert CliRunner().invoke(main, ["check", "alexnet", "--all"]).exit_code == 2


def test_cuda_request_without_a_gpu_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    result = CliRunner().invoke(main, ["check", "lenet5", "--device", "cuda"])
    assert result.exit_code == 2
    assert "PyTorch sees no CUDA device" in result.stderr


def test_without_torch_the_commands_say_how_to_install_it(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # makes `import torch` fail
    for command in (["check", "lenet5"], ["bench", "lenet5", "--steps", "1"]):
        result = CliRunner().invoke(main, command)
        assert result.exit_code == 2
        assert "pip install 'archcalc[torch]'" in result.stderr


def test_bench_command():
    result = CliRunner().invoke(
        main,
        ["bench", "lenet5-mnist", "--device", "cpu", "--batch", "4", "--steps", "3", "--warmup", "1", "--backward"],
    )
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "3 timed steps after 1 burn-in steps" in lines[0]
    assert lines[1].startswith("forward:") and "ms / batch" in lines[1] and "GFLOP/s" in lines[1]
    assert lines[2].startswith("forward+backward:")


# --- random specs -----------------------------------------------------------------------------

pairs = st.one_of(st.integers(1, 4), st.tuples(st.integers(1, 4), st.integers(1, 4)).map(list))


def _conv(draw, channels: int) -> dict:
    groups = draw(st.sampled_from([g for g in (1, 2, 3) if channels % g == 0]))
    layer = {
        "kind": "conv",
        "out_channels": groups * draw(st.integers(1, 4)),
        "kernel": draw(pairs),
        "stride": draw(st.integers(1, 3)),
        "padding": draw(
            st.one_of(
                st.sampled_from(["same", "valid"]),
                st.integers(0, 2),
                st.lists(st.integers(0, 2), min_size=4, max_size=4),
            )
        ),
        "dilation": draw(st.integers(1, 2)),
        "bias": draw(st.booleans()),
    }
    if groups > 1:
        layer["groups"] = groups
    elif draw(st.integers(0, 5)) == 0:
        rows = layer["out_channels"]
        layer["connections"] = [sorted(draw(st.sets(st.integers(0, channels - 1), min_size=1))) for _ in range(rows)]
    return layer


def _pool(draw) -> dict:
    kernel = draw(st.integers(1, 3))
    return {
        "kind": draw(st.sampled_from(["maxpool", "avgpool"])),
        "kernel": kernel,
        "stride": draw(st.integers(1, 3)),
        "padding": draw(
            st.one_of(st.just("same"), st.integers(0, kernel // 2), st.lists(st.integers(0, 2), min_size=4, max_size=4))
        ),
        "ceil_mode": draw(st.booleans()),
    }


@st.composite
def random_specs(draw) -> str:
    channels, height, width = draw(st.integers(1, 6)), draw(st.integers(6, 28)), draw(st.integers(6, 28))
    doc = {"name": "random", "input": {"channels": channels, "height": height, "width": width}, "layers": []}
    layers = doc["layers"]

    def current() -> archcalc.LayerResult | None:
        return archcalc.analyse(archcalc.from_mapping(doc)).layers[-1] if layers else None

    def try_add(layer: dict) -> bool:
        layer.setdefault("name", f"l{len(layers)}")
        layers.append(layer)
        try:
            archcalc.analyse(archcalc.from_mapping(doc))
            return True
        except archcalc.SpecError:
            layers.pop()
            return False

    for _ in range(draw(st.integers(1, 8))):
        shape = current().output_shape if layers else (channels, height, width)
        choice = draw(st.sampled_from(["conv", "conv", "pool", "elementwise", "branch", "norm", "other"]))
        if choice == "conv":
            try_add(
                _conv(draw, shape[0])
                if len(shape) == 3
                else {"kind": "linear", "out_features": draw(st.integers(1, 9))}
            )
        elif choice == "pool" and len(shape) == 3:
            try_add(_pool(draw))
        elif choice == "elementwise":
            try_add({"kind": draw(st.sampled_from(["relu", "tanh", "sigmoid", "scaled_tanh", "softmax", "dropout"]))})
        elif choice == "norm":
            try_add(
                {"kind": "batchnorm", "affine": draw(st.booleans())}
                if draw(st.booleans()) or len(shape) == 1
                else {"kind": "lrn", "size": draw(st.integers(1, 5))}
            )
        elif choice == "branch" and len(shape) == 3 and layers:
            source = draw(st.sampled_from(["input"] + [layer["name"] for layer in layers]))
            side = {"kind": "conv", "out_channels": shape[0], "kernel": 1, "inputs": source}
            if try_add(side):
                merge = draw(st.sampled_from(["add", "concat"]))
                if not try_add({"kind": merge, "inputs": [layers[-2]["name"], layers[-1]["name"]]}):
                    layers.pop()
        elif choice == "other":
            if len(shape) == 3:
                try_add(
                    draw(
                        st.sampled_from(
                            [
                                {"kind": "flatten"},
                                {"kind": "subsample", "kernel": 2},
                                {"kind": "adaptive_avgpool", "output_size": [2, 3]},
                            ]
                        )
                    )
                )
            else:
                try_add({"kind": "rbf", "out_features": draw(st.integers(1, 5)), "trainable": draw(st.booleans())})
    if not layers:
        layers.append({"kind": "relu", "name": "only"})
    return doc


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large], deadline=None)
@given(doc=random_specs())
def test_random_specs_match_torch(doc: dict):
    report = check(archcalc.from_mapping(doc), device="cpu", batch=1)
    assert report.ok, format_report(report)


def test_an_op_torch_lacks_is_a_clear_error(monkeypatch):
    def missing(*args, **kwargs):
        raise NotImplementedError("\"avg_pool3d_out_frame\" not implemented for 'Half'")

    monkeypatch.setattr(torch.nn.functional, "local_response_norm", missing)
    result = CliRunner().invoke(main, ["check", "alexnet-tf-bench", "--device", "cpu"])
    assert result.exit_code == 2
    assert result.stderr.startswith(
        "archcalc: error: PyTorch could not run AlexNet (TF benchmark, conv part) in float32"
    )
    names = ["alexnet", "alexnet-tf-bench", "lenet5-mnist"]  # LRN and not: --all goes on after a refusal
    monkeypatch.setattr(archcalc.spec, "bundled_names", lambda: names)
    result = CliRunner().invoke(main, ["check", "--all", "--device", "cpu", "--batch", "1"])
    assert result.exit_code == 2
    position = f"[{names.index('lenet5-mnist') + 1}/{len(names)}]"
    assert f"{position} lenet5-mnist: 12 layers, 48 checks on cpu: OK" in result.stdout
    assert f"[1/{len(names)}] alexnet: not run: PyTorch could not run AlexNet" in result.stderr
    assert "every other spec checked OK" in result.stderr


def test_half_precision_on_cpu():
    report = check(archcalc.load("lenet5-mnist"), device="cpu", dtype="bfloat16")
    assert report.ok and report.dtype == "bfloat16", format_report(report)
