"""A big TIFF (or a badly chunked zarr) into a chunked zarr that blockwise segmentation reads,
keeping the axes and the pixel size."""

from __future__ import annotations

import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
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

    Written as a whole or not at all: into a hidden folder beside ``out``, renamed onto it
    once every chunk and the attributes are written; a failure or an interruption (a bad
    chunk, a full disk, Ctrl-C) removes that folder and leaves ``out`` as it was, the
    ``out`` that ``overwrite`` was replacing included. (A kill -9 leaves the hidden
    ``.OUT.zarr.*.tmp`` folder, never a half-written ``out``.)

    >>> to_chunked_zarr("slide.tif", "slide.zarr")  # doctest: +SKIP
    PosixPath('slide.zarr')
    """
    import dask
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
    # (tessella_labels false: an image, though its attributes are those of labels zarrs
    # written before the marker, which the reader would otherwise ask about)
    attrs: dict = {
        "pixel_size": sizes,
        "unit": unit if sizes else "pixel",
        "tessella_labels": False,
    }
    if axes:
        attrs["tessella_axes"] = axes
    out.parent.mkdir(parents=True, exist_ok=True)  # (as zarr made it before)
    staged = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    # a pool of its own, shut down (its running chunk writes finished) before the staged
    # folder is removed: the threads of dask's shared pool went on writing chunks after an
    # error or Ctrl-C, and made the removed folder again
    workers = dask.config.get("num_workers", None) or os.cpu_count() or 1
    pool = ThreadPoolExecutor(workers)
    try:
        try:
            with dask.config.set(pool=pool):
                data.to_zarr(os.fspath(staged), overwrite=True)
        except OSError as exc:  # a full disk: named as OUT, not the staged folder removed
            if not str(exc.filename or "").startswith(os.fspath(staged)):
                raise
            raise OSError(exc.errno, exc.strerror, os.fspath(out)) from exc
        except (ValueError, MemoryError):
            raise
        except Exception as exc:  # a codec's error on a damaged chunk (zstd's RuntimeError)
            kept = "kept as it was" if out.exists() or out.is_symlink() else "not written"
            raise ValueError(
                f"{path}: cannot be converted, a chunk failed to read or write "
                f"({type(exc).__name__}: {exc}); {out} {kept}"
            ) from exc
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        zarr.open(os.fspath(staged), mode="r+").attrs.update(attrs)
        os.chmod(staged, 0o777 & ~_umask())  # mkdtemp makes it 0700
        _rename_onto(staged, out, overwrite)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return out


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _rename_onto(staged: Path, out: Path, overwrite: bool) -> None:
    """Put the folder ``staged`` in the place of ``out``: a previous ``out`` (a folder, a
    file or a link; one made meanwhile is refused without ``overwrite``) is renamed aside
    first and removed once ``staged`` is in place (put back where that rename fails), as a
    folder cannot be renamed onto a folder that holds files."""
    if not (out.exists() or out.is_symlink()):
        os.rename(staged, out)
        return
    if not overwrite:
        raise FileExistsError(f"{out} exists; pass overwrite=True to replace it")
    aside = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".old", dir=out.parent))
    previous = aside / out.name
    os.rename(out, previous)
    try:
        os.rename(staged, out)
    except BaseException:
        os.rename(previous, out)
        aside.rmdir()
        raise
    if previous.is_dir() and not previous.is_symlink():
        shutil.rmtree(aside, ignore_errors=True)
    else:
        previous.unlink()
        aside.rmdir()
