"""A big TIFF (or a badly chunked zarr) into a chunked zarr that blockwise segmentation reads,
keeping the axes and the pixel size."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["to_chunked_zarr"]


def to_chunked_zarr(image, out, chunks: int | None = None, overwrite: bool = False) -> Path:
    """Write the TIFF or zarr/OME-Zarr ``image`` (a path) into the zarr array ``out``, chunk
    by chunk (never held whole), for :func:`segment_blockwise_steps` and ``tessella segment
    --blockwise``. Its axes, pixel size and unit go with it (the zarr attributes
    ``tessella_axes``, ``pixel_size`` and ``unit``, which :func:`~tessella.engine.io.
    read_image` reads), so that it is segmented with the same voxel size as the file in
    memory; a plain ``dask.array.to_zarr`` copy keeps none of them. ``chunks``: the edge
    along each spatial axis (default: the default block, 2048 px in 2D, 256 in 3D); one
    frame along T and every channel per chunk. Returns ``out``. On the command line:
    ``tessella convert IMAGE OUT [--chunk N]``.

    >>> to_chunked_zarr("slide.tif", "slide.zarr")  # doctest: +SKIP
    PosixPath('slide.zarr')
    """
    import dask.array as da
    import zarr

    from ..axes import SUPPORTED_AXES
    from ..io import TIFF_SUFFIXES, is_zarr_path, read_image
    from ._driver import default_block

    path, out = Path(image), Path(out)
    if (out.exists() or out.is_symlink()) and not overwrite:
        raise FileExistsError(f"{out} exists; pass overwrite=True to replace it")
    if is_zarr_path(path):
        read = read_image(path)  # (lazy: its metadata)
        data = read.data if isinstance(read.data, da.Array) else da.from_zarr(read.data)
        axes, sizes, unit = read.axes, dict(read.pixel_size), read.unit
    elif path.suffix.lower() in TIFF_SUFFIXES:
        import tifffile

        from ..io._tiff import _tiff_axes, _tiff_pixel_size  # as read_image reads a TIFF

        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            axes, drop = _tiff_axes(series.axes, series.shape, strict=False)
            sizes, unit = _tiff_pixel_size(tif)
        data = da.from_zarr(tifffile.imread(path, aszarr=True))
        if drop and data.ndim == len(series.axes):  # as read_image drops them
            data = data[tuple(0 if i in drop else slice(None) for i in range(data.ndim))]
        if axes not in SUPPORTED_AXES or len(axes) != data.ndim:
            axes = ""  # not stated: give --axes when segmenting it
    else:
        raise ValueError(f"{path}: not a TIFF or zarr")
    n_spatial = sum(a in "ZYX" for a in axes) or min(data.ndim, 2)
    edge = int(chunks or default_block(n_spatial))
    shape = dict(zip(axes, data.shape))
    data = data.rechunk(
        tuple({"T": 1, "C": shape.get("C", 1)}.get(a, edge) for a in axes) if axes else edge
    )
    data.to_zarr(os.fspath(out), overwrite=overwrite)
    # (tessella_labels false: an image, though its attributes are those of labels zarrs
    # written before the marker, which the reader would otherwise ask about)
    attrs: dict = {
        "pixel_size": sizes,
        "unit": unit if sizes else "pixel",
        "tessella_labels": False,
    }
    if axes:
        attrs["tessella_axes"] = axes
    zarr.open(os.fspath(out), mode="r+").attrs.update(attrs)
    return out
