"""A U-Net that predicts, per pixel, a compact code of the local instance shape (PatchPerPix
"ppp+dec") and the number of instances (0, 1, 2+); a small decoder turns codes into patches.

The decoder is a two-layer perceptron (code -> hidden -> ``patch`` x ``patch`` logits). It is
tiny, so post-processing decodes only the codes it needs, in numpy, from the weights given by
:meth:`PatchUNet.decoder_weights` (no network runs during tuning).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
from torch import nn

from .unet import BranchedUNet

__all__ = ["PatchUNet"]


class PatchUNet(nn.Module):
    """Branched U-Net: a 3-class number-of-instances head and a ``code``-channel shape code.

    Examples
    --------
    >>> net = PatchUNet(features=(8, 16), code=8, patch=9)
    >>> net(torch.zeros(1, 1, 32, 32)).shape
    torch.Size([1, 11, 32, 32])
    >>> net.decode(torch.zeros(5, 8)).shape
    torch.Size([5, 9, 9])
    """

    def __init__(
        self,
        ndim: int = 2,
        in_channels: int = 1,
        out_channels: Sequence[int] = (3,),
        features: Sequence[int] = (16, 32, 64, 128),
        code: int = 32,
        patch: int = 41,
        hidden: int = 256,
        norm: str = "batch",
    ):
        super().__init__()
        if ndim != 2:
            raise ValueError(f"PatchUNet is 2D; ndim must be 2, got {ndim}")
        if patch % 2 == 0:
            raise ValueError(f"patch must be odd (a pixel in its centre), got {patch}")
        self.ndim = ndim
        self.patch = patch
        self.code = code
        self.backbone = BranchedUNet(ndim, in_channels, (3, code), features, norm)
        self.multiple = self.backbone.multiple
        self.decoder = nn.Sequential(
            nn.Linear(code, hidden), nn.ReLU(inplace=True), nn.Linear(hidden, patch * patch)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(batch, 3 + code, H, W)``: number-of-instances logits, then the shape code."""
        return self.backbone(x)

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Patch logits ``(n, patch, patch)`` for codes ``(n, code)``."""
        return self.decoder(codes).reshape(-1, self.patch, self.patch)

    def decoder_weights(self) -> dict:
        """The decoder as numpy arrays (float32) for post-processing."""
        first, last = self.decoder[0], self.decoder[2]
        assert isinstance(first, nn.Linear) and isinstance(last, nn.Linear)
        return {
            "w1": first.weight.detach().float().cpu().numpy().T.copy(),
            "b1": first.bias.detach().float().cpu().numpy().copy(),
            "w2": last.weight.detach().float().cpu().numpy().T.copy(),
            "b2": last.bias.detach().float().cpu().numpy().copy(),
            "patch": int(self.patch),
        }


def decode_numpy(codes: np.ndarray, weights: dict) -> np.ndarray:
    """Patch probabilities ``(n, patch, patch)`` (float32) from codes ``(n, code)``."""
    hidden = np.maximum(codes.astype(np.float32) @ weights["w1"] + weights["b1"], 0)
    logits = hidden @ weights["w2"] + weights["b2"]
    patch = int(weights["patch"])
    return (1.0 / (1.0 + np.exp(-logits))).astype(np.float32).reshape(-1, patch, patch)
