"""What is read: an image with its axes, pixel size and what states its axes."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    import zarr

__all__ = [
    "TIFF_SUFFIXES",
    "LABELS_SOFTWARE",
    "AxesContradictionWarning",
    "ImageData",
    "is_zarr_path",
]


TIFF_SUFFIXES = (".tif", ".tiff")


_SUPPORTED_DTYPES = "biuf"  # bool, int, uint, float


# the TIFF Software tag of labels written by tessella: its reader opens them as labels
LABELS_SOFTWARE = "tessella labels"


class AxesContradictionWarning(UserWarning):
    """Axes given to :func:`read_image` that contradict the axes the file's metadata states:
    the file is read as they say (they override the metadata)."""


@dataclass
class ImageData:
    data: np.ndarray | zarr.Array  # a zarr array for zarr input
    axes: str
    pixel_size: dict[str, float] = field(default_factory=dict)  # axis -> size, in `unit`
    unit: str = "pixel"
    path: Path | None = None
    labels: bool = False  # written as labels (by tessella, or an OME-Zarr image-label)
    #: an OME-Zarr image's layout, which its labels repeat (:func:`labels_ome`): ``version``,
    #: ``axes`` and ``scale`` of each stored axis, ``kept``: the stored axis of each of ``axes``
    ome: dict | None = None
    #: the axes the file's own metadata states, one letter per axis of ``data`` and ``?`` where
    #: it says nothing (an ImageJ stack of unknown planes, a plain TIFF's pages, planes tagged
    #: planar RGB, which a plain ``tifffile.imwrite`` of 3 or 4 planes writes); None when unknown
    stated_axes: str | None = None
    #: what states them: "ImageJ metadata", "OME metadata", "TIFF tags (RGB)", "TIFF
    #: description" (tifffile's), "TIFF pages", "OME-Zarr axes" or "zarr attribute
    #: tessella_axes"
    stated_by: str = ""
    #: the axes it was read with, in the order the file stores its dimensions (its C too, where
    #: one channel was chosen; before the transpose to the engine's order): ``axes=`` reads the
    #: same image with them again (what a recipe records as ``stored_axes``); None where not
    #: read from one file
    stored_axes: str | None = None
    #: the number of each frame along T of a movie read from a folder of numbered frames
    #: (``t052.tif ...``: 52, ...; :func:`~tessella.engine.io.read_frames`), in order; None
    #: where its frames are not numbered (0, 1, ...)
    frame_numbers: list[int] | None = None


def is_zarr_path(path: Path) -> bool:
    path = Path(path)
    return path.suffix == ".zarr" or (
        path.is_dir()
        and (
            (path / ".zarray").exists()
            or (path / "zarr.json").exists()
            or (path / ".zgroup").exists()
        )
    )
