"""Timing a spec in PyTorch, as the classic TensorFlow AlexNet benchmark did: burn-in steps, then the
mean ± standard deviation of the time per batch, forward and forward+backward.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .spec import NetworkSpec
from .torchrun import Device, TorchDType, build, torch_errors

# Backward costs about twice the forward pass (gradients with respect to inputs and to weights).
BACKWARD_FLOP_FACTOR = 2


@dataclass
class Timing:
    label: str
    mean: float
    sd: float
    flops: int  # engine FLOPs of one step (whole batch)

    @property
    def flops_per_second(self) -> float:
        return self.flops / self.mean if self.mean > 0 else math.inf


@dataclass
class BenchReport:
    spec_name: str
    device: str
    dtype: str
    batch: int
    steps: int
    warmup: int
    torch_version: str
    timings: list[Timing]


Progress = Callable[[str, int, int, float | None], None]  # (label, steps done, steps in all, running mean)


def _time_steps(
    torch: Any, step: Any, device: str, steps: int, warmup: int, label: str, progress: Progress | None
) -> tuple[float, float]:
    durations: list[float] = []
    for index in range(warmup + steps):
        if progress is not None:
            shown = label if index >= warmup else f"{label} (burn-in)"
            progress(shown, index, warmup + steps, sum(durations) / len(durations) if durations else None)
        if device == "cuda":
            torch.cuda.synchronize()
        started = time.perf_counter()
        step()
        if device == "cuda":
            torch.cuda.synchronize()
        if index >= warmup:
            durations.append(time.perf_counter() - started)
    mean = sum(durations) / len(durations)
    variance = sum((d - mean) ** 2 for d in durations) / len(durations)
    return mean, math.sqrt(variance)


def bench(
    spec: NetworkSpec,
    device: Device | str = Device.AUTO,
    batch: int = 32,
    steps: int = 100,
    warmup: int = 10,
    backward: bool = False,
    dtype: TorchDType | str = TorchDType.FLOAT32,
    progress: Progress | None = None,
) -> BenchReport:
    """Time the forward (and backward) pass; `progress` is called before every step."""
    built = build(spec, device, dtype, batch)
    torch, model, images, where = built.torch, built.model, built.inputs, built.device
    forward_flops = built.analysis.totals.flops * batch

    def forward() -> None:
        with torch.no_grad():
            model(images)

    def forward_backward() -> None:
        output = model(images)
        loss = (output.float() ** 2).sum() / 2  # the benchmark's l2 loss on the last layer
        loss.backward()
        model.zero_grad(set_to_none=True)

    model.eval()
    with torch_errors(spec.name, where, built.dtype):
        timings = [
            Timing("forward", *_time_steps(torch, forward, where, steps, warmup, "forward", progress), forward_flops)
        ]
        if backward:
            model.train()
            total = forward_flops * (1 + BACKWARD_FLOP_FACTOR)
            timings.append(
                Timing(
                    "forward+backward",
                    *_time_steps(torch, forward_backward, where, steps, warmup, "forward+backward", progress),
                    total,
                )
            )
    return BenchReport(spec.name, where, built.dtype, batch, steps, warmup, torch.__version__.split("+")[0], timings)


def format_bench(report: BenchReport) -> str:
    lines = [
        f"{report.spec_name} in PyTorch {report.torch_version} on {report.device} ({report.dtype}, batch {report.batch}): "
        f"{report.steps} timed steps after {report.warmup} burn-in steps"
    ]
    for timing in report.timings:
        lines.append(
            f"{timing.label + ':':<18} {timing.mean * 1000:9.3f} ± {timing.sd * 1000:.3f} ms / batch   "
            f"{timing.flops / 1e9:9.2f} GFLOP/batch   {timing.flops_per_second / 1e9:8.2f} GFLOP/s"
        )
    if len(report.timings) > 1:
        lines.append(f"(forward+backward FLOPs = {1 + BACKWARD_FLOP_FACTOR} × forward, the usual estimate)")
    return "\n".join(lines) + "\n"
