"""What the optimisation adds to the method's loss and to Adam: the moving average of the
weights, the distillation from a base, and the crops a merged decoder's head is first fitted
to."""

from __future__ import annotations

import numpy as np

__all__: list[str] = []


def _ema_with_warm_up(decay: float):
    """Exponential moving average whose decay grows to ``decay`` over the first steps,
    min(decay, (1 + n) / (10 + n)) at update n (as timm's ModelEmaV2 warm-up): the first
    epochs are not weighed down by the initial weights."""
    import torch

    @torch.no_grad()
    def update(averaged: list, current: list, n_averaged) -> None:
        n = float(n_averaged)
        step_decay = min(decay, (1.0 + n) / (10.0 + n))
        if torch.is_floating_point(averaged[0]):
            torch._foreach_lerp_(averaged, current, 1.0 - step_decay)
        else:  # integer buffers (batch-norm step counts), as torch's own EMA does them
            for mean, value in zip(averaged, current, strict=True):
                mean.copy_(mean * step_decay + value * (1.0 - step_decay))

    return update


def _fitting_crops(samples, multiple: int, count: int = 16) -> list:
    """Up to ``count`` crops (tensors ``(1, C, *spatial)``, at most 256 pixels per axis in 2D
    and 64 in 3D, cut to a multiple of ``multiple``) of samples spread over ``samples``."""
    import torch

    crops = []
    for sample in samples[:: max(1, len(samples) // count)][:count]:
        edge = 256 if sample.image.ndim == 3 else 64
        box = tuple(slice(0, min(n, edge) // multiple * multiple) for n in sample.image.shape[1:])
        if all(b.stop for b in box):
            crops.append(
                torch.from_numpy(np.ascontiguousarray(sample.image[(slice(None),) + box]))[None]
            )
    return crops


def _distillation(method, raw, taught, ndim: int):
    """Mean squared difference between the activated outputs of the network (``raw``) and of
    the teacher (``taught``) on the same crops, summed over the method's outputs."""
    target = method.activate(taught.float(), ndim)
    ours = method.activate(raw.float(), ndim)
    return sum(((ours[k] - target[k]) ** 2).mean() for k in ours)
