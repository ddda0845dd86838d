"""A U-Net applied to each frame of a window, a ConvLSTM over the frames (microscopy-dl-suite).

The window of ``window`` frames arrives stacked along the channel axis, ``(batch, window *
in_channels, H, W)``, so tiling, padding and test-time augmentation treat it as any multi-channel
image. The U-Net (shared weights) maps every frame to ``features[0]`` channels at full resolution;
a 3x3 ConvLSTM reads them in time order and a 1x1 convolution turns its state after the centre
frame (or the last one) into the outputs for that frame.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from .unet import Decoder, Encoder

__all__ = ["ConvLSTMCell", "TemporalUNet"]


class ConvLSTMCell(nn.Module):
    """Convolutional LSTM cell (Shi et al. 2015) with 3x3 gates."""

    def __init__(self, in_channels: int, hidden: int):
        super().__init__()
        self.hidden = hidden
        self.gates = nn.Conv2d(in_channels + hidden, 4 * hidden, 3, padding=1)

    def forward(self, x, state):
        h, c = state
        i, f, o, g = self.gates(torch.cat([x, h], dim=1)).chunk(4, dim=1)
        c = torch.sigmoid(f) * c + torch.sigmoid(i) * torch.tanh(g)
        h = torch.sigmoid(o) * torch.tanh(c)
        return h, c


class TemporalUNet(nn.Module):
    """Per-frame 2D U-Net + ConvLSTM over a window of frames -> outputs for one frame.

    ``target`` is ``"centre"`` (the middle frame; the window looks both ways) or ``"last"``
    (causal). Input sizes must be multiples of ``multiple``.

    Examples
    --------
    >>> net = TemporalUNet(window=3, out_channels=(1, 1), features=(8, 16))
    >>> net(torch.zeros(2, 3, 32, 32)).shape
    torch.Size([2, 2, 32, 32])
    """

    def __init__(
        self,
        ndim: int = 2,
        in_channels: int = 1,
        out_channels: Sequence[int] = (1, 1),
        features: Sequence[int] = (16, 32, 64, 128),
        window: int = 3,
        target: str = "centre",
        norm: str = "batch",
    ):
        super().__init__()
        if ndim != 2:
            raise ValueError(f"TemporalUNet segments 2D frames; ndim must be 2, got {ndim}")
        if target not in ("centre", "last"):
            raise ValueError(f"target must be 'centre' or 'last', got {target!r}")
        if window < 1:
            raise ValueError(f"window must be at least 1, got {window}")
        self.ndim = ndim
        self.in_channels = in_channels
        self.window = window
        self.target_index = window // 2 if target == "centre" else window - 1
        self.multiple = 2 ** (len(features) - 1)
        self.encoder = Encoder(ndim, in_channels, features, norm)
        self.decoder = Decoder(ndim, features, features[0], norm)  # a feature map, not a head
        self.lstm = ConvLSTMCell(features[0], features[0])
        self.head = nn.Conv2d(features[0], sum(out_channels), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        batch, channels, height, width = x.shape
        if channels != self.window * self.in_channels:
            raise ValueError(
                f"expected {self.window} frames x {self.in_channels} channels = "
                f"{self.window * self.in_channels} input channels, got {channels}"
            )
        frames = x.reshape(batch * self.window, self.in_channels, height, width)
        features = torch.relu(self.decoder(self.encoder(frames)))
        features = features.reshape(batch, self.window, -1, height, width)
        h = features.new_zeros(batch, self.lstm.hidden, height, width)
        state = (h, h)
        for t in range(self.target_index + 1):
            state = self.lstm(features[:, t], state)
        if self.target_index + 1 < self.window:
            # frames after the target: a second pass backwards, so the centre frame sees both
            back = (h, h)
            for t in range(self.window - 1, self.target_index, -1):
                back = self.lstm(features[:, t], back)
            combined = state[0] + back[0]
        else:
            combined = state[0]
        return self.head(combined)
