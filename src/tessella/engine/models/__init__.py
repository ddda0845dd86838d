"""Torch network architectures, looked up by name from a model card (nothing is unpickled)."""

from __future__ import annotations

from .patches import PatchUNet
from .temporal import TemporalUNet
from .unet import BranchedUNet, UNet

__all__ = ["ARCHITECTURES", "build_network", "BranchedUNet", "PatchUNet", "TemporalUNet", "UNet"]

ARCHITECTURES = {
    "BranchedUNet": BranchedUNet,
    "PatchUNet": PatchUNet,
    "TemporalUNet": TemporalUNet,
    "UNet": UNet,
}


def build_network(name: str, args: dict):
    """Instantiate architecture ``name`` with keyword ``args`` (from a model card)."""
    try:
        cls = ARCHITECTURES[name]
    except KeyError:
        raise ValueError(
            f"unknown architecture {name!r}; known: {', '.join(sorted(ARCHITECTURES))}"
        ) from None
    return cls(**args)
