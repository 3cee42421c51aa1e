"""Benchmarks (not tests): speed as ratios against a peer measured in the same run.

    python tests/benchmark.py            # all
    python tests/benchmark.py startup    # one of: startup, scale, codegen, huge, api

Needs torch and torchinfo for the start-up comparison (pip install -e '.[torch,bench]').
"""

from __future__ import annotations

import compileall
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import archcalc

ROOT = Path(__file__).resolve().parent.parent
ARCHCALC = [sys.executable, "-m", "archcalc", "table", "alexnet-torchvision"]
# The peer: torchinfo's summary of the same network (torchvision's AlexNet, written out so the
# benchmark does not depend on torchvision), in a fresh interpreter as a user would run it.
TORCHINFO = [
    sys.executable,
    "-c",
    """
import torch.nn as nn
from torchinfo import summary
features = nn.Sequential(
    nn.Conv2d(3, 64, 11, 4, 2), nn.ReLU(True), nn.MaxPool2d(3, 2),
    nn.Conv2d(64, 192, 5, padding=2), nn.ReLU(True), nn.MaxPool2d(3, 2),
    nn.Conv2d(192, 384, 3, padding=1), nn.ReLU(True), nn.Conv2d(384, 256, 3, padding=1), nn.ReLU(True),
    nn.Conv2d(256, 256, 3, padding=1), nn.ReLU(True), nn.MaxPool2d(3, 2))
model = nn.Sequential(features, nn.AdaptiveAvgPool2d(6), nn.Flatten(),
    nn.Dropout(), nn.Linear(9216, 4096), nn.ReLU(True), nn.Dropout(), nn.Linear(4096, 4096), nn.ReLU(True),
    nn.Linear(4096, 1000))
summary(model, input_size=(1, 3, 224, 224))
""",
]


def wall(command: list[str], runs: int) -> list[float]:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, cwd=ROOT)
        times.append(time.perf_counter() - started)
    return times


def startup(runs: int = 7) -> None:
    # pip byte-compiles installed packages; an editable checkout may not be (PYTHONDONTWRITEBYTECODE),
    # and compiling the sources at every start would be measured instead of archcalc.
    compileall.compile_dir(ROOT / "archcalc", quiet=1)
    wall(ARCHCALC, 1), wall(TORCHINFO, 1)  # warm the file cache for both
    ours, peer = statistics.median(wall(ARCHCALC, runs)), statistics.median(wall(TORCHINFO, runs))
    print(f"startup  archcalc table alexnet-torchvision: {ours * 1000:.0f} ms (median of {runs} fresh processes)")
    print(f"startup  torchinfo summary, same network:     {peer * 1000:.0f} ms")
    print(f"startup  ratio: archcalc is {peer / ours:.1f}× faster")


def chain(n_layers: int) -> str:
    lines = ["name: chain", "input: {channels: 16, height: 32, width: 32}", "layers:"]
    for i in range(n_layers // 2):
        lines.append(f"  - {{kind: conv, name: c{i}, out_channels: 16, kernel: 3, padding: 1}}")
        lines.append(f"  - {{kind: relu, name: r{i}}}")
    return "\n".join(lines) + "\n"


def best_of(function, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        function()
        times.append(time.perf_counter() - started)
    return min(times)


def scale() -> None:
    previous = None
    for n in (2_500, 5_000, 10_000, 20_000):
        text = chain(n)
        total = best_of(lambda text=text: archcalc.analyse(archcalc.parse(text)), 3)
        spec = archcalc.parse(text)
        engine = best_of(lambda spec=spec: archcalc.analyse(spec), 3)
        growth = f"  ({total / previous:.2f}× the previous)" if previous else ""
        print(
            f"scale    {n:>6,} layers: parse+validate+analyse {total * 1000:7.1f} ms, analyse only {engine * 1000:6.1f} ms{growth}"
        )
        previous = total


def codegen() -> None:
    """PyTorch code generation grows linearly: time per doubling of a chain's length."""
    from archcalc.codegen import generate

    previous = None
    for n in (10_000, 20_000, 40_000):
        analysis = archcalc.analyse(archcalc.parse(chain(n)))
        took = best_of(lambda analysis=analysis: generate(analysis), 3)
        growth = f"  ({took / previous:.2f}× the previous)" if previous else ""
        print(f"codegen  {n:>6,} layers: {took * 1000:7.1f} ms{growth}")
        previous = took


def huge() -> None:
    spec = archcalc.load("vgg16").with_input((3, 4096, 4096))
    spec = spec.with_params("fc6", out_features=16_384).with_params("fc7", out_features=16_384)
    small = archcalc.load("vgg16")
    big_time = best_of(lambda: archcalc.analyse(spec))
    small_time = best_of(lambda: archcalc.analyse(small))
    tracemalloc.start()
    archcalc.analyse(spec)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    result = archcalc.analyse(spec)
    print(
        f"huge     VGG-16 at 4096×4096 with 16,384-wide FC: {result.totals.params:,} params, "
        f"{result.totals.macs:,} MACs in {big_time * 1000:.2f} ms (VGG-16 at 224: {small_time * 1000:.2f} ms); "
        f"peak traced memory {peak / 1e6:.2f} MB"
    )


def api(seconds: float = 2.0) -> None:
    spec = archcalc.load("alexnet")
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        for size in range(195, 291):
            archcalc.analyse(spec, input_shape=(3, size, size))
        count += 96
    rate = count / (time.perf_counter() - started)
    print(f"api      {rate:,.0f} analyses of alexnet per second (input sizes 195..290)")


if __name__ == "__main__":
    chosen = sys.argv[1:] or ["startup", "scale", "codegen", "huge", "api"]
    for name in chosen:
        globals()[name]()
