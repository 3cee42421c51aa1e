"""The PyTorch runtime shared by ``check`` and ``bench``: import torch, pick the device, build the
generated module on it, run it with torch's refusals turned into one-line errors.

The only module that imports torch (lazily, inside functions), so every other command starts without it.
"""

from __future__ import annotations

import enum
import types
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from .codegen import GeneratedModule, generate
from .engine import Analysis, FlopMode, analyse
from .errors import DeviceError, TorchMissingError, TorchRunError
from .spec import NetworkSpec


class Device(enum.StrEnum):
    AUTO = "auto"
    CPU = "cpu"
    CUDA = "cuda"


class TorchDType(enum.StrEnum):
    FLOAT32 = "float32"
    FLOAT16 = "float16"
    BFLOAT16 = "bfloat16"


@contextmanager
def torch_errors(spec_name: str, device: str, dtype: str, doing: str = "run") -> Iterator[None]:
    """torch's refusals (RuntimeError, NotImplementedError, ValueError from GroupNorm, memory) as one line."""
    try:
        yield
    except (RuntimeError, NotImplementedError, ValueError, MemoryError, OverflowError) as error:
        text = str(error).strip()
        first_line = text.splitlines()[0] if text else type(error).__name__
        # another dtype or device helps only when a kernel is missing for this one
        hint = " (try --dtype float32, or another --device)" if "not implemented" in text.lower() else ""
        raise TorchRunError(
            f"PyTorch could not {doing} {spec_name} in {dtype} on {device}: {first_line}{hint}"
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


def build(
    spec: NetworkSpec, device: Device | str, dtype: TorchDType | str, batch: int, initialise: bool = True
) -> Built:
    """The shared first half of `check` and `bench`. Without `initialise` the weights are left as
    they come (built on the meta device, then given memory): shapes, counts and FLOPs do not
    depend on their values, and initialising large networks costs seconds."""
    torch = import_torch()
    analysis = analyse(spec, flops=FlopMode.MATMUL)
    generated = generate(analysis)
    where = resolve_device(torch, device)
    torch_dtype = getattr(torch, TorchDType(dtype).value)
    name = TorchDType(dtype).value
    with torch_errors(spec.name, where, name, doing="build"):
        if initialise:
            model, attributes = build_model(generated)
        else:
            with torch.device("meta"):
                model, attributes = build_model(generated)
            model = model.to_empty(device=where)
        model = model.to(device=where, dtype=torch_dtype)
        inputs = torch.randn(batch, *analysis.input_shape, device=where, dtype=torch_dtype)
    return Built(torch, analysis, generated, model, attributes, where, name, inputs)


def torch_param_counts(module: Any) -> tuple[int, int]:
    """(trainable, non-trainable); non-trainable are frozen parameters and state buffers such as
    batch-norm running statistics (``num_batches_tracked`` is a counter, not a parameter)."""
    trainable = sum(p.numel() for p in module.parameters() if p.requires_grad)
    frozen = sum(p.numel() for p in module.parameters() if not p.requires_grad)
    buffers = sum(b.numel() for name, b in module.named_buffers() if not name.endswith("num_batches_tracked"))
    return trainable, frozen + buffers
