"""Sample data contributed to napari (File > Open Sample > Tessella). No Qt here."""

from __future__ import annotations

from pathlib import Path

__all__ = ["nuclei_sample"]

_SAMPLES = Path(__file__).parent / "samples"


def nuclei_sample():
    """A fluorescence nuclei image from DSB2018 (CC0) and its ground-truth labels."""
    import tifffile

    image = tifffile.imread(_SAMPLES / "nuclei.tif")
    labels = tifffile.imread(_SAMPLES / "nuclei_labels.tif")
    return [
        (image, {"name": "nuclei", "metadata": {"axes": "YX", "source": "DSB2018 (CC0)"}}, "image"),
        (labels, {"name": "nuclei ground truth", "visible": False}, "labels"),
    ]
