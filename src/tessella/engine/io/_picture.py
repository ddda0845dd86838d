"""Reading a 2D picture (PNG, JPEG, BMP: what BBBC and the Data Science Bowl hand out) as an
image, with the axes, pixel types and channel rules of a TIFF (:func:`~._tiff._read_tiff`)."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ._image import ImageData

__all__ = ["PICTURE_SUFFIXES", "LOSSY_SUFFIXES", "LossyPictureWarning", "read_picture"]

#: the pictures :func:`~tessella.engine.io.read_image` reads (with imageio)
PICTURE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp")
#: of them, those whose compression changes the pixels
LOSSY_SUFFIXES = (".jpg", ".jpeg")
#: what states a picture's axes: its colour samples (the last axis of an RGB/RGBA picture)
PICTURE_STATED_BY = "picture's colour samples"


class LossyPictureWarning(UserWarning):
    """A JPEG was read: its compression changed the pixels the microscope recorded."""


def read_picture(
    path: Path, axes: str | None, channel: int | None = None, ignore_metadata: bool = False
) -> ImageData:
    """The picture at ``path`` as a TIFF of the same pixels is read: grey as ``YX``; colour
    (RGB, RGBA) as ``YXC``, the file's order, as an RGB TIFF is (a one-channel model
    averages the colours, an RGBA picture's alpha left out, as for a TIFF); a grey picture
    with transparency (PNG's grey + alpha) as its grey alone; 8- or 16-bit as stored.
    ``axes`` (in the file's order) and ``channel`` as :func:`~tessella.engine.io.read_image`
    takes them for a TIFF. A palette (indexed) PNG or BMP whose palette is of colours (a
    label mask as annotation tools and VOC-style datasets save them: the colours are for
    display) is read as its indices, grey ``YX``, so its label IDs are kept (read as RGB they
    were lost, and ``tessella evaluate`` refused the shape), unless its indices change from
    pixel to pixel as a photo's colours do (:func:`_label_like`): that one is read as its
    colours, ``YXC``, as napari reads it; one whose palette is grey as
    those greys (an identity palette: the same values); a 1-bit picture as 0 and 1 (uint8).
    A picture states no pixel size (a PNG's or JPEG's resolution is
    one for printing): ``unit`` "pixel". A JPEG is read with a :class:`LossyPictureWarning`.
    ValueError naming the file where it cannot be read or is no 2D picture (an animation)."""
    import imageio.v3 as iio

    from ..axes import supported_order
    from ._tiff import _given_axes, _one_channel

    kind = {".jpg": "JPEG", ".jpeg": "JPEG"}.get(path.suffix.lower(), path.suffix[1:].upper())
    try:
        data = _indexed(path)
        if data is None:
            data = np.asarray(iio.imread(path))
        elif data.dtype == bool:  # (a 1-bit picture: 0 and 1, as a mask's IDs)
            data = data.astype(np.uint8)
    except MemoryError:
        raise
    except Exception as exc:  # (pillow's and imageio's many kinds)
        raise ValueError(
            f"{path}: cannot read it as a {kind} picture ({type(exc).__name__}: {exc})"
        ) from None
    if path.suffix.lower() in LOSSY_SUFFIXES:
        warnings.warn(
            f"{path}: JPEG is lossy: its compression changed the pixels the microscope "
            "recorded (blocks, blurred edges), which segmentation and intensities measure; "
            "use the original TIFF or PNG where there is one",
            LossyPictureWarning,
            stacklevel=3,
        )
    if data.ndim == 3 and data.shape[-1] == 2:  # grey + alpha: the grey
        data = np.ascontiguousarray(data[..., 0])
    if data.ndim == 2:
        stated = "YX"
    elif data.ndim == 3 and data.shape[-1] in (3, 4):
        stated = "YXC"
    else:
        raise ValueError(
            f"{path}: a {kind} of shape {data.shape} is no 2D picture (grey, RGB or RGBA); "
            "save its frames as a TIFF stack"
        )
    if axes is None:
        axes = stated
    else:  # (as a TIFF's: its colour samples name no axis a given one contradicts)
        axes = _given_axes(path, axes, data.ndim, stated, "", ignore_metadata)
    stored = axes
    if channel is not None:
        data, axes, stated = _one_channel(path, data, axes, stated, channel)
    order = supported_order(axes)
    if order is None:
        raise ValueError(f"{path}: axes {axes} of a {kind} picture are not read; give YX or YXC")
    if order != axes:
        data = np.ascontiguousarray(np.transpose(data, [axes.index(a) for a in order]))
        stated = "".join(stated[axes.index(a)] for a in order) if stated else stated
        axes = order
    return ImageData(
        data,
        axes,
        {},
        "pixel",
        path,
        False,
        stated_axes=stated,
        stated_by=PICTURE_STATED_BY,
        stored_axes=stored,
    )


def _indexed(path: Path) -> np.ndarray | None:
    """The pixels of a palette picture (Pillow's mode "P", "PA") or a 1-bit one ("1") at
    ``path`` as :func:`read_picture` reads them: the indices where the palette's colours
    used are not all grey (a label mask's display colours), else the greys they stand for;
    a 1-bit one's as bool. None for any other picture (read by imageio)."""
    from PIL import Image

    with Image.open(path) as picture:
        mode = picture.mode
        if mode == "1":
            return np.asarray(picture)
        if mode not in ("P", "PA"):
            return None
        indices = np.asarray(picture)
        if indices.ndim == 3:  # (PA: the alpha left out, as a grey picture's)
            indices = np.ascontiguousarray(indices[..., 0])
        palette = np.asarray(picture.getpalette() or [], np.uint8)
    colours = palette[: palette.size // 3 * 3].reshape(-1, 3)
    used = np.unique(indices)
    if used.size and int(used.max()) < len(colours):
        seen = colours[used]
        if (seen[:, 0] == seen[:, 1]).all() and (seen[:, 1] == seen[:, 2]).all():
            return colours[:, 0][indices]  # a grey palette: its greys
        if not _label_like(indices):  # a colour picture saved with a palette: its colours
            return colours[indices]
    return indices


#: a palette picture is a label mask where more than this share of its neighbouring pixel
#: pairs not 0 are equal (label masks: 0.97 and more; a photo quantized to a palette, its
#: colours changing from pixel to pixel: far fewer), as the reader tells labels by content
LABEL_EQUAL_SHARE = 0.9
#: fewer such pairs tell nothing: the indices are kept (a mask of a few small objects)
LABEL_MIN_PAIRS = 64


def _label_like(indices: np.ndarray) -> bool:
    """Whether a colour palette picture's ``indices`` are a label mask's (piecewise
    constant: kept as its IDs) rather than a colour picture's (a photo saved with a palette,
    read as its colours, RGB, as napari reads it; review r12: an H&E crop quantized to 64
    colours was segmented as its indices, 3 objects against 10 from its RGB)."""
    from .._neighbours import equal_neighbour_pairs

    equal, pairs = equal_neighbour_pairs([indices], 0, False)
    return pairs < LABEL_MIN_PAIRS or equal > LABEL_EQUAL_SHARE * pairs
