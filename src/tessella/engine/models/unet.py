"""U-Nets for 2D and 3D: a plain one and a branched one (shared encoder, several decoders)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["UNet", "BranchedUNet"]


def _layers(ndim: int):
    if ndim == 2:
        return nn.Conv2d, nn.ConvTranspose2d, nn.BatchNorm2d, nn.MaxPool2d
    if ndim == 3:
        return nn.Conv3d, nn.ConvTranspose3d, nn.BatchNorm3d, nn.MaxPool3d
    raise ValueError(f"ndim must be 2 or 3, got {ndim}")


def _norm(ndim: int, channels: int, norm: str) -> nn.Module:
    if norm == "batch":
        return _layers(ndim)[2](channels)
    if norm == "group":
        return nn.GroupNorm(min(8, channels), channels)
    raise ValueError(f"norm must be 'batch' or 'group', got {norm!r}")


class ConvBlock(nn.Sequential):
    """Two 3x3 convolutions, each followed by normalisation and ReLU."""

    def __init__(self, ndim: int, in_channels: int, out_channels: int, norm: str):
        conv = _layers(ndim)[0]
        super().__init__(
            conv(in_channels, out_channels, 3, padding=1, bias=False),
            _norm(ndim, out_channels, norm),
            nn.ReLU(inplace=True),
            conv(out_channels, out_channels, 3, padding=1, bias=False),
            _norm(ndim, out_channels, norm),
            nn.ReLU(inplace=True),
        )


class Encoder(nn.Module):
    def __init__(self, ndim: int, in_channels: int, features: Sequence[int], norm: str):
        super().__init__()
        pool = _layers(ndim)[3]
        channels = [in_channels, *features]
        self.blocks = nn.ModuleList(
            ConvBlock(ndim, channels[i], channels[i + 1], norm) for i in range(len(features))
        )
        self.pool = pool(2)

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        skips = []
        for i, block in enumerate(self.blocks):
            if i:
                x = self.pool(x)
            x = block(x)
            skips.append(x)
        return skips


class Decoder(nn.Module):
    def __init__(self, ndim: int, features: Sequence[int], out_channels: int, norm: str):
        super().__init__()
        conv, up = _layers(ndim)[0], _layers(ndim)[1]
        rev = list(features)[::-1]
        self.ups = nn.ModuleList(up(rev[i], rev[i + 1], 2, stride=2) for i in range(len(rev) - 1))
        self.blocks = nn.ModuleList(
            ConvBlock(ndim, 2 * rev[i + 1], rev[i + 1], norm) for i in range(len(rev) - 1)
        )
        self.head = conv(rev[-1], out_channels, 1)

    def forward(self, skips: list[torch.Tensor]) -> torch.Tensor:
        x = skips[-1]
        for up, block, skip in zip(self.ups, self.blocks, reversed(skips[:-1])):
            x = block(torch.cat([up(x), skip], dim=1))
        return self.head(x)


class UNet(nn.Module):
    """A U-Net with ``len(features) - 1`` poolings; input sizes must be multiples of ``multiple``.

    Examples
    --------
    >>> net = UNet(ndim=2, in_channels=1, out_channels=2, features=(8, 16))
    >>> net(torch.zeros(1, 1, 32, 32)).shape
    torch.Size([1, 2, 32, 32])
    """

    def __init__(
        self,
        ndim: int = 2,
        in_channels: int = 1,
        out_channels: int = 1,
        features: Sequence[int] = (16, 32, 64, 128, 256),
        norm: str = "batch",
    ):
        super().__init__()
        self.ndim = ndim
        self.multiple = 2 ** (len(features) - 1)
        self.encoder = Encoder(ndim, in_channels, features, norm)
        self.decoder = Decoder(ndim, features, out_channels, norm)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))


class BranchedUNet(nn.Module):
    """One encoder, one decoder per entry of ``out_channels``; outputs are concatenated.

    The embedding method uses two branches: offsets + sigmas, and the seed map (as EmbedSeg's
    branched ERFNet does).
    """

    def __init__(
        self,
        ndim: int = 2,
        in_channels: int = 1,
        out_channels: Sequence[int] = (4, 1),
        features: Sequence[int] = (16, 32, 64, 128, 256),
        norm: str = "batch",
    ):
        super().__init__()
        self.ndim = ndim
        self.multiple = 2 ** (len(features) - 1)
        self.encoder = Encoder(ndim, in_channels, features, norm)
        self.decoders = nn.ModuleList(
            Decoder(ndim, features, channels, norm) for channels in out_channels
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = self.encoder(x)
        return torch.cat([decoder(skips) for decoder in self.decoders], dim=1)
