"""Method families: network outputs -> instances. One module per family.

Each module provides ``NAME``, ``Params`` (frozen dataclass of post-processing parameters),
``OUTPUT_KINDS`` (how each output transforms under test-time augmentation), ``out_channels``,
``activate`` (raw network output -> named outputs) and ``postprocess(prediction, params)``.
"""

from __future__ import annotations

import importlib

from ._base import Prediction

__all__ = ["Prediction", "get_method", "METHOD_NAMES"]

METHOD_NAMES = ("embedding", "boundary", "semantic", "temporal", "patches")


def get_method(name: str):
    """The module implementing method family ``name``."""
    if name not in METHOD_NAMES:
        raise ValueError(f"unknown method {name!r}; known: {', '.join(METHOD_NAMES)}")
    return importlib.import_module(f"{__name__}.{name}")
