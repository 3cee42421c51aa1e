"""Proving the engine against PyTorch: build the generated module, run it, compare every layer.

For each layer the engine's output shape, trainable and non-trainable parameter counts and
FLOPs (``matmul`` convention) are compared with what torch built and what
``torch.utils.flop_counter.FlopCounterMode`` counted. Torch is imported here only.
"""

from __future__ import annotations

import enum
import time
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .codegen import GeneratedModule, generate
from .engine import Analysis, FlopMode, analyse
from .errors import ArchcalcError, TorchMissingError
from .layers import fmt_shape
from .spec import NetworkSpec


class Device(enum.StrEnum):
    AUTO = "auto"
    CPU = "cpu"
    CUDA = "cuda"


class TorchDType(enum.StrEnum):
    FLOAT32 = "float32"
    FLOAT16 = "float16"
    BFLOAT16 = "bfloat16"


class DeviceError(ArchcalcError):
    exit_code = 2


class TorchRunError(ArchcalcError):
    """PyTorch could not run the network as asked (an op missing for a dtype on a device, memory)."""

    exit_code = 2


@contextmanager
def torch_errors(spec_name: str, device: str, dtype: str) -> Iterator[None]:
    try:
        yield
    except (RuntimeError, NotImplementedError) as error:
        first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise TorchRunError(
            f"PyTorch could not run {spec_name} in {dtype} on {device}: {first_line} "
            "(try --dtype float32, or another --device)"
        ) from None


def import_torch() -> Any:
    try:
        import torch
    except ImportError:
        raise TorchMissingError() from None
    return torch


def resolve_device(torch: Any, device: Device | str) -> str:
    device = Device(device)
    has_cuda = bool(torch.cuda.is_available())
    if device is Device.CUDA and not has_cuda:
        raise DeviceError("--device cuda: PyTorch sees no CUDA device here (try --device cpu or auto)")
    return "cuda" if device is Device.CUDA or (device is Device.AUTO and has_cuda) else "cpu"


def build_model(generated: GeneratedModule) -> tuple[Any, dict[str, str]]:
    """Execute the generated source in a fresh module object: nothing is written to disk."""
    module = types.ModuleType(f"archcalc_generated_{generated.class_name}")
    code = compile(generated.source, f"<archcalc: {generated.class_name}>", "exec")
    exec(code, module.__dict__)  # our own generated code: names are sanitised and strings escaped
    return getattr(module, generated.class_name)(), module.LAYER_NAMES


@dataclass
class Built:
    """A spec analysed, generated and built in PyTorch on a device, with a random input batch."""

    torch: Any
    analysis: Analysis
    generated: GeneratedModule
    model: Any
    attributes: dict[str, str]  # spec layer name → module attribute
    device: str
    dtype: str
    inputs: Any


def build(spec: NetworkSpec, device: Device | str, dtype: TorchDType | str, batch: int) -> Built:
    """The shared first half of `check` and `bench`."""
    torch = import_torch()
    analysis = analyse(spec, flops=FlopMode.MATMUL)
    generated = generate(analysis)
    where = resolve_device(torch, device)
    torch_dtype = getattr(torch, TorchDType(dtype).value)
    model, attributes = build_model(generated)
    model = model.to(device=where, dtype=torch_dtype)
    inputs = torch.randn(batch, *analysis.input_shape, device=where, dtype=torch_dtype)
    return Built(torch, analysis, generated, model, attributes, where, TorchDType(dtype).value, inputs)


def torch_param_counts(module: Any) -> tuple[int, int]:
    """(trainable, non-trainable); non-trainable are frozen parameters and state buffers such as
    batch-norm running statistics (``num_batches_tracked`` is a counter, not a parameter)."""
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in module.parameters() if not p.requires_grad)
    buffers = sum(b.numel() for name, b in module.named_buffers() if not name.endswith("num_batches_tracked"))
    return trainable, frozen + buffers


@dataclass
class Comparison:
    quantity: str
    engine: Any
    torch: Any

    @property
    def ok(self) -> bool:
        return self.engine == self.torch


@dataclass
class LayerCheck:
    name: str
    kind: str
    comparisons: list[Comparison]

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.comparisons)


@dataclass
class CheckReport:
    spec_name: str
    device: str
    dtype: str
    batch: int
    torch_version: str
    layers: list[LayerCheck] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(layer.ok for layer in self.layers)

    @property
    def checks(self) -> int:
        return sum(len(layer.comparisons) for layer in self.layers)

    @property
    def mismatches(self) -> int:
        return sum(not c.ok for layer in self.layers for c in layer.comparisons)


QUANTITIES = ("output shape", "trainable", "non-trainable", "FLOPs")


def check(
    spec: NetworkSpec, device: Device | str = Device.AUTO, batch: int = 2, dtype: TorchDType | str = TorchDType.FLOAT32
) -> CheckReport:
    """Run `spec` in PyTorch and compare every layer with the engine."""
    import_torch()  # before the clock: the first import of torch takes seconds
    started = time.perf_counter()
    built = build(spec, device, dtype, batch)
    torch, analysis, model = built.torch, built.analysis, built.model.eval()
    from torch.utils.flop_counter import FlopCounterMode

    shapes: dict[str, tuple[int, ...]] = {}

    def recorder(name: str) -> Any:
        def hook(_module: Any, _inputs: Any, output: Any) -> None:
            shapes[name] = tuple(output.shape[1:])

        return hook

    for name, attr in built.attributes.items():
        getattr(model, attr).register_forward_hook(recorder(name))
    with (
        torch_errors(spec.name, built.device, built.dtype),
        torch.no_grad(),
        FlopCounterMode(display=False) as counter,
    ):
        model(built.inputs)
    flop_counts = counter.get_flop_counts()

    report = CheckReport(spec.name, built.device, built.dtype, batch, torch.__version__.split("+")[0])
    for layer in analysis.layers:
        attribute = built.attributes[layer.name]
        trainable, non_trainable = torch_param_counts(getattr(model, attribute))
        measured = sum(flop_counts.get(f"{built.generated.class_name}.{attribute}", {}).values())
        report.layers.append(
            LayerCheck(
                layer.name,
                layer.kind,
                [
                    Comparison("output shape", layer.output_shape, shapes.get(layer.name)),
                    Comparison("trainable", layer.trainable_params, trainable),
                    Comparison("non-trainable", layer.non_trainable_params, non_trainable),
                    Comparison("FLOPs", layer.flops * batch, measured),
                ],
            )
        )
    report.seconds = time.perf_counter() - started
    return report


def _cell(comparison: Comparison) -> str:
    def show(value: Any) -> str:
        if value is None:
            return "missing"
        return fmt_shape(value) if isinstance(value, tuple) else f"{value:,}"

    if comparison.ok:
        return f"OK {show(comparison.engine)}"
    return f"MISMATCH {show(comparison.engine)} ≠ torch {show(comparison.torch)}"


def format_report(report: CheckReport) -> str:
    header = ("Layer", "Kind", *(q[0].upper() + q[1:] for q in QUANTITIES))
    rows = [header] + [(layer.name, layer.kind, *(_cell(c) for c in layer.comparisons)) for layer in report.layers]
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = [
        f"{report.spec_name}: engine vs PyTorch {report.torch_version} on {report.device} "
        f"({report.dtype}, batch {report.batch}; FLOPs from torch.utils.flop_counter, for the whole batch)"
    ]
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip() for row in rows]
    verdict = "all OK" if report.ok else f"{report.mismatches} MISMATCH"
    lines.append(f"{len(report.layers)} layers, {report.checks} checks: {verdict} ({report.seconds:.2f} s)")
    return "\n".join(lines) + "\n"


class CheckFailed(ArchcalcError):
    """The engine and torch disagree somewhere (exit code 1)."""
