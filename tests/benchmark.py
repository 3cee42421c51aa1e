"""Benchmarks (not tests): speed as ratios against a peer measured in the same run.

    python tests/benchmark.py            # all
    python tests/benchmark.py startup    # one of: startup, scale, codegen, imports, huge, api, figures, grade

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


def wall(command: list[str], runs: int, verdict: bool = False) -> list[float]:
    """Seconds per fresh process; `verdict`: its exit status is an answer (grade exits 1), not a failure."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(command, check=not verdict, capture_output=True, cwd=ROOT)
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


# --- importing a 50-layer network from each format, as a whole command --------------------------
# The network: 12 stages of conv 3×3 – ReLU – conv 3×3 – ReLU (32 maps) on 3×64×64, a flatten and a
# linear layer: 50 layers. Each format's file is written here from the same description.
STAGES, WIDTH, SIZE = 12, 32, 64


def _keras_config() -> str:
    import json

    def conv(name: str) -> dict:
        return {"class_name": "Conv2D", "config": {"name": name, "filters": WIDTH, "kernel_size": [3, 3],
                "strides": [1, 1], "padding": "same", "dilation_rate": [1, 1], "groups": 1,
                "activation": "relu", "use_bias": True, "data_format": "channels_last"}}  # fmt: skip

    layers = [{"class_name": "InputLayer", "config": {"name": "input", "batch_shape": [None, SIZE, SIZE, 3]}}]
    layers += [conv(f"conv{i}_{j}") for i in range(STAGES) for j in (1, 2)]
    layers += [{"class_name": "Flatten", "config": {"name": "flatten"}},
               {"class_name": "Dense", "config": {"name": "fc", "units": 10, "activation": "linear", "use_bias": True}}]  # fmt: skip
    return json.dumps({"class_name": "Sequential", "config": {"name": "chain50", "layers": layers}})


def _prototxt() -> str:
    lines = ['name: "chain50"', 'input: "data"', f"input_shape {{ dim: 1 dim: 3 dim: {SIZE} dim: {SIZE} }}"]
    bottom = "data"
    for i in range(STAGES):
        for j in (1, 2):
            name = f"conv{i}_{j}"
            lines += [f'layer {{ name: "{name}" type: "Convolution" bottom: "{bottom}" top: "{name}"',
                      f"  convolution_param {{ num_output: {WIDTH} kernel_size: 3 pad: 1 }} }}",
                      f'layer {{ name: "relu{i}_{j}" type: "ReLU" bottom: "{name}" top: "{name}" }}']  # fmt: skip
            bottom = name
    lines.append(
        f'layer {{ name: "fc" type: "InnerProduct" bottom: "{bottom}" top: "fc" inner_product_param {{ num_output: 10 }} }}'
    )
    return "\n".join(lines) + "\n"


def _torch_source() -> str:
    body = [f"            nn.Conv2d({3 if i == j == 0 else WIDTH}, {WIDTH}, 3, padding=1), nn.ReLU(),"
            for i in range(STAGES) for j in (0, 1)]  # fmt: skip
    return (
        "import torch\nfrom torch import nn\n\n\nclass Chain50(nn.Module):\n    def __init__(self):\n"
        "        super().__init__()\n        self.features = nn.Sequential(\n" + "\n".join(body) + "\n        )\n"
        f"        self.fc = nn.Linear({WIDTH * SIZE * SIZE}, 10)\n\n    def forward(self, x):\n"
        "        return self.fc(torch.flatten(self.features(x), 1))\n"
    )


def imports(runs: int = 5) -> None:
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="archcalc-bench-"))
    (folder / "chain50.py").write_text(_torch_source())
    (folder / "chain50.json").write_text(_keras_config())
    (folder / "chain50.prototxt").write_text(_prototxt())
    sources = {"pytorch": f"{folder / 'chain50.py'}:Chain50", "keras": str(folder / "chain50.json"),
               "caffe": str(folder / "chain50.prototxt")}  # fmt: skip
    try:  # ONNX: torch's own exporter writes the file, when this torch has one that works offline
        import torch

        namespace: dict = {}
        exec(_torch_source(), namespace)
        torch.onnx.export(namespace["Chain50"]().eval(), torch.randn(1, 3, SIZE, SIZE), str(folder / "chain50.onnx"),
                          dynamo=False)  # fmt: skip
        sources["onnx"] = str(folder / "chain50.onnx")
    except Exception as error:  # noqa: BLE001 - a benchmark reports what it could not measure
        print(f"import   onnx: not measured ({type(error).__name__}: {str(error).splitlines()[0][:80]})")
    peer_code = _torch_source() + (
        f"from torchinfo import summary\nsummary(Chain50(), input_size=(1, 3, {SIZE}, {SIZE}))\n"
    )
    peer = statistics.median(wall([sys.executable, "-c", peer_code], runs))
    print(f"import   torchinfo summary of the same 50-layer network: {peer * 1000:.0f} ms (median of {runs})")
    for fmt, source in sources.items():
        command = [sys.executable, "-m", "archcalc", "import", source, "-o", str(folder / f"{fmt}.yaml")]
        command += ["--input", f"3x{SIZE}x{SIZE}"] if fmt == "pytorch" else []  # a module has no input size
        ours = statistics.median(wall(command, runs))
        print(
            f"import   {fmt:8s} 50 layers, whole command: {ours * 1000:5.0f} ms  ({peer / ours:.1f}× faster than torchinfo)"
        )


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


def figures(runs: int = 3) -> None:
    """`archcalc render` of every bundled spec as a whole command, against `table` of the same spec."""
    import tempfile

    compileall.compile_dir(ROOT / "archcalc", quiet=1)
    folder = Path(tempfile.mkdtemp(prefix="archcalc-bench-"))
    slowest = ("", 0.0, 0.0)
    for name in archcalc.bundled_names():
        drawn = min(wall([sys.executable, "-m", "archcalc", "render", name, "-o", str(folder / "f.svg")], runs))
        table = min(wall([sys.executable, "-m", "archcalc", "table", name], runs))
        print(
            f"figures  render {name:20s} {drawn * 1000:4.0f} ms  (table: {table * 1000:4.0f} ms, {drawn / table:.2f}×)"
        )
        slowest = max(slowest, (name, drawn, table), key=lambda item: item[1])
    print(f"figures  slowest: {slowest[0]}, {slowest[1] * 1000:.0f} ms (best of {runs})")


def grade(runs: int = 5) -> None:
    """Grading a 30-row table as a command, against `table` of the same network in the same run."""
    compileall.compile_dir(ROOT / "archcalc", quiet=1)
    table = ROOT / "tests" / "grade_data" / "vgg16-30rows.csv"
    graded = statistics.median(
        wall([sys.executable, "-m", "archcalc", "grade", "vgg16", str(table)], runs, verdict=True)
    )
    baseline = statistics.median(wall([sys.executable, "-m", "archcalc", "table", "vgg16"], runs))
    print(f"grade    30-row VGG-16 table: {graded * 1000:.0f} ms; table vgg16: {baseline * 1000:.0f} ms "
          f"({graded / baseline:.2f}× the table's time; median of {runs})")  # fmt: skip


if __name__ == "__main__":
    chosen = sys.argv[1:] or ["startup", "scale", "codegen", "imports", "huge", "api", "figures", "grade"]
    for name in chosen:
        globals()[name]()
