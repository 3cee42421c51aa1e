"""Proving the engine against PyTorch: build the generated module, run it, compare every layer.

For each layer the engine's output shape, trainable and non-trainable parameter counts and
FLOPs (``matmul`` convention) are compared with what torch built and what
``torch.utils.flop_counter.FlopCounterMode`` counted. Torch is imported through ``torchrun`` only.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from .format import fmt_shape
from .spec import NetworkSpec
from .torchrun import Device, TorchDType, build, import_torch, torch_errors, torch_param_counts


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
    built = build(spec, device, dtype, batch, initialise=False)
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
