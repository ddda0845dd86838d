"""Device choice and the fastest precision/memory layout per device.

On CPUs with bf16 support, autocast to bfloat16 plus channels_last was about 4x faster than
fp32 for our U-Nets (see ``benchmarks/bench_precision.py``); on CUDA bf16 autocast wins too.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

__all__ = [
    "DEVICE_CHOICES",
    "ExecutionPlan",
    "resolve_device",
    "execution_plan",
    "free_memory",
    "suggest_tile",
]

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")


def resolve_device(device: str = "auto") -> str:
    """Return the concrete torch device name for ``device`` (auto: cuda, then mps, then cpu)."""
    import torch

    if device not in DEVICE_CHOICES and not device.startswith("cuda:"):
        raise ValueError(f"unknown device {device!r}; choose one of {', '.join(DEVICE_CHOICES)}")
    if device == "auto":
        if torch.cuda.is_available():
            return "cuda"
        if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
            return "mps"
        return "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {device!r} was asked for, but torch sees no CUDA GPU")
    if device == "mps" and not torch.backends.mps.is_available():
        raise ValueError("device 'mps' was asked for, but torch sees no Apple GPU")
    return device


@dataclass(frozen=True)
class ExecutionPlan:
    device: str
    autocast_dtype: str | None  # "bfloat16", "float16" or None (fp32)
    channels_last: bool

    def autocast(self):
        """A context manager running the forward pass in the plan's precision."""
        import torch

        if self.autocast_dtype is None:
            return contextlib.nullcontext()
        device_type = self.device.split(":")[0]
        return torch.autocast(device_type=device_type, dtype=getattr(torch, self.autocast_dtype))

    def memory_format(self, ndim: int):
        import torch

        if not self.channels_last:
            return torch.contiguous_format
        return torch.channels_last if ndim == 2 else torch.channels_last_3d


def _cpu_has_bf16() -> bool:
    try:
        with open("/proc/cpuinfo") as handle:
            flags = handle.read()
    except OSError:
        return False
    return any(flag in flags for flag in ("avx512_bf16", "amx_bf16", "avx512bw"))


def execution_plan(device: str = "auto", precision: str = "auto") -> ExecutionPlan:
    """The device and the precision/layout to run a network on.

    ``precision`` is ``"auto"`` (fastest measured: bf16 + channels_last on CUDA and on CPUs with
    AVX-512, fp32 elsewhere), ``"fp32"`` or ``"bf16"``.
    """
    concrete = resolve_device(device)
    if precision not in ("auto", "fp32", "bf16"):
        raise ValueError(f"unknown precision {precision!r}; choose auto, fp32 or bf16")
    if precision == "fp32":
        return ExecutionPlan(concrete, None, concrete == "cpu")
    if precision == "bf16":
        return ExecutionPlan(concrete, "bfloat16", True)
    if concrete.startswith("cuda"):
        return ExecutionPlan(concrete, "bfloat16", True)
    if concrete == "cpu" and _cpu_has_bf16():
        return ExecutionPlan(concrete, "bfloat16", True)
    return ExecutionPlan(concrete, None, concrete == "cpu")


def free_memory(device: str = "auto") -> int | None:
    """Bytes free for inference on ``device`` (CUDA: the card's free memory; CPU: what this
    process can still take, ``pipeline.available_memory``: on Linux ``MemAvailable`` within
    any cgroup limit), or None when unknown.

    Not the free pages (``MemFree``): the page cache fills those on a machine that has read a
    few GB of images, and the tile Segment suggests shrank for memory the kernel gives back
    on demand (below ~1.4 GiB free the 2D models' 1024 tile shrank)."""
    resolved = resolve_device(device)
    if resolved.startswith("cuda"):
        import torch

        return int(torch.cuda.mem_get_info(torch.device(resolved))[0])
    from tessella.engine.pipeline._inputs import available_memory

    return available_memory()


def suggest_tile(
    features, ndim: int, largest: int, device: str = "auto", tta: bool = False, step: int = 32
) -> int:
    """The tile edge to use: ``largest`` (the model card's), or smaller so one tile's
    activations fit in a quarter of the free memory.

    Level ``l`` of a U-Net holds ``features[l]`` float32 maps at ``1 / 2**(ndim*l)`` of the
    pixels; the decoder's concatenations and the convolution buffers triple that; TTA batches
    several views.
    """
    free = free_memory(device)
    if free is None:
        return largest
    maps = sum(f / 2 ** (ndim * level) for level, f in enumerate(features))
    bytes_per_pixel = 4 * 3 * maps * (4 if tta else 1)
    edge = int((free / 4 / bytes_per_pixel) ** (1 / ndim))
    return int(max(step, min(largest, edge // step * step)))
