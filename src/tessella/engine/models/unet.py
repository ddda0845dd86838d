"""U-Nets for 2D and 3D: a plain one and a branched one (shared encoder, several decoders)."""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

__all__ = ["UNet", "BranchedUNet", "fit_merged_head", "inflate_to_3d", "merge_branches"]


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
        self.head: nn.Conv2d | nn.Conv3d = conv(rev[-1], out_channels, 1)

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


def _heads(network: BranchedUNet) -> list[nn.Conv2d | nn.Conv3d]:
    return [decoder.head for decoder in network.decoders if isinstance(decoder, Decoder)]


def merge_branches(branched: BranchedUNet, merged: BranchedUNet) -> BranchedUNet:
    """Start ``merged``, a one-decoder :class:`BranchedUNet` with all the outputs of
    ``branched``, from ``branched``; returns ``merged``.

    The encoder and the first branch's decoder are copied, so the first branch's outputs are
    unchanged; every other output starts constant, at its own head's bias, until
    :func:`fit_merged_head` gives it a head fitted to the branched network's outputs. One
    decoder instead of two cuts the embedding network's work by about 40%.

    Examples
    --------
    >>> two = BranchedUNet(ndim=2, out_channels=(4, 1), features=(4, 8)).eval()
    >>> one = merge_branches(two, BranchedUNet(ndim=2, out_channels=(5,), features=(4, 8)))
    >>> x = torch.rand(1, 1, 16, 16)
    >>> bool(torch.allclose(one.eval()(x)[:, :4], two(x)[:, :4], atol=1e-6))
    True
    """
    if len(merged.decoders) != 1:
        raise ValueError(f"the merged network must have one decoder, not {len(merged.decoders)}")
    heads = _heads(branched)
    if _heads(merged)[0].out_channels != sum(h.out_channels for h in heads):
        raise ValueError("the merged network must have as many outputs as all branches together")
    with torch.no_grad():
        merged.encoder.load_state_dict(branched.encoder.state_dict())
        first = {k: v for k, v in branched.decoders[0].state_dict().items() if "head" not in k}
        merged.decoders[0].load_state_dict(first, strict=False)
        weight, bias = _heads(merged)[0].weight, _heads(merged)[0].bias
        assert bias is not None  # heads are built with a bias
        weight.zero_()
        start = 0
        for i, head in enumerate(heads):
            rows = slice(start, start + head.out_channels)
            if i == 0:
                weight[rows] = head.weight
            bias[rows] = head.state_dict()["bias"]
            start = rows.stop
    return merged


def fit_merged_head(
    branched: BranchedUNet,
    merged: BranchedUNet,
    images: Sequence[torch.Tensor],
    clamp: float = 6.0,
    max_pixels: int = 200_000,
) -> BranchedUNet:
    """Give the outputs :func:`merge_branches` started constant a head fitted by least squares
    to what ``branched`` gives on ``images`` (tensors ``(1, C, *spatial)``, sizes multiples
    of the networks'), from the shared decoder's last features; returns ``merged``.

    Raw outputs are clamped to ``±clamp`` first: a seed logit of -20 or of -6 reads the same.
    Training then starts near the base (on the 30-image nuclei2d hold-out the merged seed map
    learnt from scratch was still below 0.6 everywhere after 200 steps).

    Examples
    --------
    Where the other branch's output is a linear map of the first branch's last features, the
    fit finds it:

    >>> _ = torch.manual_seed(0)
    >>> two = BranchedUNet(ndim=2, out_channels=(4, 1), features=(4, 8)).eval()
    >>> body = {k: v for k, v in two.decoders[0].state_dict().items() if "head" not in k}
    >>> _ = two.decoders[1].load_state_dict(body, strict=False)
    >>> one = merge_branches(two, BranchedUNet(ndim=2, out_channels=(5,), features=(4, 8)))
    >>> x = [torch.rand(1, 1, 32, 32) for _ in range(4)]
    >>> one = fit_merged_head(two, one, x).eval()
    >>> bool(torch.allclose(one(x[0]), two(x[0]), atol=1e-4))
    True
    """
    first = _heads(branched)[0].out_channels
    head = _heads(merged)[0]
    captured: list[torch.Tensor] = []
    hook = head.register_forward_hook(lambda module, args, out: captured.append(args[0]))
    modes = branched.training, merged.training
    branched.eval(), merged.eval()
    features, targets = [], []
    try:
        with torch.no_grad():
            for image in images:
                target = branched(image.float())[:, first:].clamp(-clamp, clamp)
                merged(image.float())
                feature = captured.pop()
                # (pixels, channels)
                features.append(feature.movedim(1, -1).reshape(-1, feature.shape[1]))
                targets.append(target.movedim(1, -1).reshape(-1, target.shape[1]))
    finally:
        hook.remove()
        branched.train(modes[0]), merged.train(modes[1])
    x, y = torch.cat(features).double(), torch.cat(targets).double()
    if len(x) > max_pixels:
        keep = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))[:max_pixels]
        x, y = x[keep], y[keep]
    x = torch.cat([x, torch.ones(len(x), 1, dtype=x.dtype)], dim=1)  # a column for the bias
    solution = torch.linalg.lstsq(x, y).solution  # (channels + 1, outputs)
    with torch.no_grad():
        rows = slice(first, head.out_channels)
        head.weight[rows] = solution[:-1].T.reshape(head.weight[rows].shape).to(head.weight)
        assert head.bias is not None  # heads are built with a bias
        head.bias[rows] = solution[-1].to(head.bias)
    return merged


def inflate_to_3d(network2d: nn.Module, network3d: nn.Module) -> nn.Module:
    """Start ``network3d`` from ``network2d``, the same architecture built in 2D.

    Every 2D convolution kernel becomes the middle Z slice of its 3D kernel (zeros elsewhere)
    and every transposed convolution (upsampling) is repeated along Z, so that on a volume
    constant along Z the 3D network computes what the 2D one computes on each slice; norms and
    biases are copied. Fine-tuning then adds what the neighbouring slices tell. Returns
    ``network3d``.

    Examples
    --------
    >>> net2d = UNet(ndim=2, in_channels=1, out_channels=1, features=(4, 8)).eval()
    >>> net3d = inflate_to_3d(net2d, UNet(ndim=3, in_channels=1, out_channels=1,
    ...                                   features=(4, 8))).eval()
    >>> x = torch.rand(1, 1, 16, 16)
    >>> bool(torch.allclose(net3d(x[:, :, None].expand(-1, -1, 4, -1, -1))[:, :, 2], net2d(x),
    ...                     atol=1e-5))
    True
    """
    modules2d = dict(network2d.named_modules())
    with torch.no_grad():
        for name, module in network3d.named_modules():
            if name not in modules2d:
                raise ValueError(f"the 2D network has no layer {name!r}: not the same design")
            source = modules2d[name]
            for key, value in module.named_parameters(recurse=False):
                weight = getattr(source, key)
                if isinstance(module, nn.ConvTranspose3d) and key == "weight":
                    value.copy_(weight[:, :, None].expand_as(value))
                elif isinstance(module, nn.Conv3d) and key == "weight":
                    value.zero_()
                    value[:, :, value.shape[2] // 2] = weight
                else:
                    value.copy_(weight)
            for key, buffer in module.named_buffers(recurse=False):
                buffer.copy_(getattr(source, key))
    return network3d
