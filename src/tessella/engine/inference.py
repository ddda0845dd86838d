"""Running a network on an image: precision/layout per device, TTA, tiling."""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence

import numpy as np

from .device import ExecutionPlan
from .progress import Progress
from .tiling import predict_tiled
from .tta import Transform, dihedral_transforms, invert_outputs, transform_image

__all__ = ["NetworkRunner", "prepare_network"]


def prepare_network(network, plan: ExecutionPlan):
    """An inference copy of ``network``: eval mode, BatchNorm folded into the convolutions,
    cast to the plan's dtype and memory layout, on the plan's device.

    Folding BatchNorm matters on CPU: under autocast, unfused BatchNorm and the casts around
    it took more time than the convolutions.
    """
    import copy

    import torch
    from torch.nn.utils.fusion import fuse_conv_bn_eval

    net = copy.deepcopy(network).eval()
    for module in net.modules():
        if isinstance(module, torch.nn.Sequential):
            children = list(module.children())
            for i in range(len(children) - 1):
                conv, norm = children[i], children[i + 1]
                if isinstance(conv, torch.nn.Conv2d | torch.nn.Conv3d) and isinstance(
                    norm, torch.nn.BatchNorm2d | torch.nn.BatchNorm3d
                ):
                    module[i] = fuse_conv_bn_eval(conv, norm)
                    module[i + 1] = torch.nn.Identity()
    ndim = getattr(network, "ndim", 2)
    dtype = getattr(torch, plan.autocast_dtype) if plan.autocast_dtype else torch.float32
    net = net.to(device=plan.device, dtype=dtype)
    if plan.channels_last:
        net = net.to(memory_format=plan.memory_format(ndim))
    return net


class NetworkRunner:
    """Calls a prepared network on one window, with optional dihedral TTA.

    ``activate`` turns the raw ``(batch, channels, *spatial)`` tensor into named tensors;
    ``kinds`` says how each one transforms (scalar, vector, axial).
    """

    def __init__(
        self,
        network,
        plan: ExecutionPlan,
        activate: Callable,
        kinds: dict[str, str],
        ndim: int,
        tta: bool = False,
        max_batch: int = 8,
    ):
        self.network = network
        self.plan = plan
        self.activate = activate
        self.kinds = kinds
        self.ndim = ndim
        self.transforms: list[Transform] = (
            dihedral_transforms(ndim) if tta else dihedral_transforms(ndim)[:1]
        )
        self.max_batch = max_batch
        self.calls = 0  # windows run, for tests and benchmarks

    def _run_batch(self, batch: np.ndarray) -> dict[str, np.ndarray]:
        import torch

        dtype = next(self.network.parameters()).dtype
        x = torch.from_numpy(batch).to(device=self.plan.device, dtype=dtype)
        if self.plan.channels_last:
            x = x.contiguous(memory_format=self.plan.memory_format(self.ndim))
        with torch.inference_mode():
            # one pass to fp32 in plain layout: the activations then run on contiguous planes
            # (tanh of a channel slice of a bf16 channels_last tensor was 7x slower)
            raw = self.network(x).to(torch.float32, memory_format=torch.contiguous_format)
            outputs = self.activate(raw)
        return {name: t.float().cpu().numpy() for name, t in outputs.items()}

    def __call__(self, window: np.ndarray) -> dict[str, np.ndarray]:
        self.calls += 1
        groups: dict[tuple, list[Transform]] = {}
        for transform in self.transforms:
            shape = tuple(window.shape[1:][p] for p in transform.perm)
            groups.setdefault(shape, []).append(transform)
        total: dict[str, np.ndarray] = {}
        # "stacked" outputs: one copy per transform, in the order of self.transforms, written
        # straight into their slice of the result (no list of copies to concatenate)
        stacked: dict[str, np.ndarray] = {}
        position = {t: i for i, t in enumerate(self.transforms)}
        for transforms in groups.values():
            for i in range(0, len(transforms), self.max_batch):
                chunk = transforms[i : i + self.max_batch]
                batch = np.stack([transform_image(window, t) for t in chunk])
                outputs = self._run_batch(batch)
                for j, transform in enumerate(chunk):
                    back = invert_outputs(
                        {name: out[j] for name, out in outputs.items()}, transform, self.kinds
                    )
                    for name, value in back.items():
                        if self.kinds.get(name) == "stacked":
                            size = value.shape[0]
                            if name not in stacked:
                                shape = (size * len(self.transforms), *value.shape[1:])
                                stacked[name] = np.empty(shape, np.float32)
                            k = position[transform]
                            stacked[name][k * size : (k + 1) * size] = value
                        elif name in total:
                            total[name] += value
                        else:
                            total[name] = value.astype(np.float32, copy=True)
        n = len(self.transforms)
        result = {name: value / n for name, value in total.items()} if n > 1 else total
        return {**result, **stacked}

    def predict(
        self,
        image: np.ndarray,
        tile_shape: Sequence[int],
        halo: Sequence[int],
        multiple: int,
        pad_mode: str = "reflect",
    ) -> Generator[Progress, None, dict[str, np.ndarray]]:
        """Tiled prediction over ``image`` (``(channels, *spatial)``); yields progress."""
        return (
            yield from predict_tiled(image, self, tile_shape, halo, multiple, pad_mode=pad_mode)
        )
