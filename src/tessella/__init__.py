"""Tessella: deep-learning instance segmentation for napari.

``tessella.segment(image, model="nuclei2d", **params)`` is the Python API; the napari widgets are
reached only through ``napari.yaml`` (this module never imports them).
"""

__version__ = "0.1.0"
__all__ = ["__version__", "segment"]


def __getattr__(name):
    if name == "segment":
        from .engine.pipeline import segment

        return segment
    raise AttributeError(f"module 'tessella' has no attribute {name!r}")
