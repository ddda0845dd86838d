"""A big TIFF (or a badly chunked zarr) into a chunked zarr that blockwise segmentation reads,
keeping the axes and the pixel size."""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import socket
import warnings
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .._file_lock import try_lock
from ..io._leftovers import _gone as _write_gone
from ..io._leftovers import _this_machine, mark_lock

__all__ = ["default_chunk", "recover_convert_leftovers", "to_chunked_zarr", "try_lock"]


def default_chunk(block: int) -> int:
    """The chunk edge :func:`to_chunked_zarr` writes for blocks of edge ``block`` (half of
    it, at least 1): 1024 px for the default 2D block of 2048, 128 for the 3D one of 256.
    A block is read with its halo, so chunks of its own edge make an inner block decode 9
    (2D) or 27 (3D) chunks, 5-6 times the bytes it reads; halves, 16 or 64 chunks, 2-3
    times. Measured (``benchmarks/convert_chunk_sides.py``, 4 rounds on 2 busy cores,
    zarr's default zstd): every block read with its halo, an 8192^2 DSB nuclei mosaic
    (nuclei2d's halo of 96) in 0.36-0.81 s from 1024^2 chunks against 1.2-2.3 s from 2048^2,
    a 300x512x1024 Lucchi++ EM volume (em-mito3d's 32) in 1.3-3.0 s from 128^3 against
    3.6-4.5 s from 256^3. Quarters were no faster in 2D and slower in 3D, with 4 times the
    files again (8 in 3D); converting was no slower, and napari's views faster in all
    rounds but one each.

    >>> default_chunk(2048), default_chunk(256)
    (1024, 128)
    """
    return max(1, int(block) // 2)


def to_chunked_zarr(image, out, chunks: int | None = None, overwrite: bool = False) -> Path:
    """Write the TIFF or zarr/OME-Zarr ``image`` (a path) into the zarr array ``out``, chunk
    by chunk (never held whole), for :func:`segment_blockwise_steps` and ``tessella segment
    --blockwise``. Its axes, pixel size and unit go with it (the zarr attributes
    ``tessella_axes``, ``pixel_size`` and ``unit``, which :func:`~tessella.engine.io.
    read_image` reads), so that it is segmented with the same voxel size as the file in
    memory; a plain ``dask.array.to_zarr`` copy keeps none of them. ``chunks``: the edge
    along each spatial axis (default: half the default block, :func:`default_chunk`: 1024
    px in 2D, 128 in 3D); one frame along T and every channel per chunk. Returns ``out``.
    On the command line: ``tessella convert IMAGE OUT [--chunk N]``.

    Written as a whole or not at all: into a hidden folder beside ``out``, renamed onto it
    once every chunk and the attributes are written; a failure or an interruption (a bad
    chunk, a full disk, Ctrl-C) removes that folder and leaves ``out`` as it was, the
    ``out`` that ``overwrite`` was replacing included. A kill -9 (the OOM killer, a job's
    time limit) leaves the hidden ``.OUT.zarr.convert-HOST-PID-*.tmp`` folder, never a
    half-written ``out``; the next conversion to ``out`` removes it, and puts the previous
    ``out`` back where the kill came between the two renames that replace it
    (:func:`recover_convert_leftovers`). While it runs, it holds a lock on the file
    ``.OUT.zarr.convert-HOST-PID-*.lock`` beside them, which tells a running conversion's
    folders from a killed one's.

    >>> to_chunked_zarr("slide.tif", "slide.zarr")  # doctest: +SKIP
    PosixPath('slide.zarr')
    """
    path, out = Path(image), Path(out)
    recover_convert_leftovers(out)
    if (out.exists() or out.is_symlink()) and not overwrite:
        raise FileExistsError(f"{out} exists; pass overwrite=True to replace it")
    stores: list = []  # a TIFF's zarr store, its file open while its chunks are read
    try:
        return _convert(path, out, chunks, overwrite, stores)
    finally:  # (left open, it was a ResourceWarning at exit)
        for store in stores:
            store.close()


def _convert(path: Path, out: Path, chunks, overwrite: bool, stores: list) -> Path:
    """:func:`to_chunked_zarr` of ``path``; the TIFF zarr store it opens is put in ``stores``
    for the caller to close."""
    import dask.array as da

    from ..io import TIFF_SUFFIXES, is_zarr_path, read_image
    from ._driver import default_block

    if is_zarr_path(path):
        read = read_image(path)  # (lazy: its metadata)
        data = read.data if isinstance(read.data, da.Array) else da.from_zarr(read.data)
        axes, sizes, unit = read.axes, dict(read.pixel_size), read.unit
    elif path.suffix.lower() in TIFF_SUFFIXES:
        import tifffile

        from ..io._tiff import tiff_layout, tifffile_log_held

        # (its metadata: read_image reads it whole)
        with tifffile_log_held(), tifffile.TiffFile(path) as tif:
            layout = tiff_layout(path, tif)  # the series, axes and pixel size read_image reads
        index, drop, sizes, unit = layout.series, layout.drop, layout.sizes, layout.unit
        ndim = len(layout.shape) + len(drop)
        # its axes in the order the file stores them (Fiji's ZCYX and TCYX hyperstacks kept
        # as stored), recorded as tessella_axes for the zarr reader to transpose as the TIFF
        # reader does; none where read_image refuses the file's own axes
        axes = layout.axes if layout.readable else ""
        store = tifffile.imread(path, aszarr=True, series=index)
        stores.append(store)  # (closed by to_chunked_zarr once written, or on a failure)
        data = da.from_zarr(store)
        if drop and data.ndim == ndim:  # as read_image drops them
            data = data[tuple(0 if i in drop else slice(None) for i in range(data.ndim))]
        if len(axes) != data.ndim:
            axes = ""  # not stated: give --axes when segmenting it
    else:
        raise ValueError(f"{path}: not a TIFF or zarr")
    n_spatial = sum(a in "ZYX" for a in axes) or min(data.ndim, 2)
    edge = int(chunks or default_chunk(default_block(n_spatial)))
    data = data.rechunk(_chunks(axes, data.shape, edge))
    # (tessella_labels false: an image, though its attributes are those of labels zarrs
    # written before the marker, which the reader would otherwise ask about)
    attrs: dict = {
        "pixel_size": sizes,
        "unit": unit if sizes else "pixel",
        "tessella_labels": False,
    }
    if axes:
        attrs["tessella_axes"] = axes
    try:
        out.parent.mkdir(parents=True, exist_ok=True)  # (as zarr made it before)
        stem, lock = _claim(out)  # held until its folders are gone
    except OSError as exc:  # a folder not writable: named as OUT, not its hidden lock file
        raise OSError(exc.errno, exc.strerror, os.fspath(out)) from exc
    try:
        _convert_into(data, stem, out, attrs, overwrite, path)
    finally:
        _release(stem, lock)
    return out


def _convert_into(data, stem: Path, out: Path, attrs: dict, overwrite: bool, path: Path) -> None:
    """Write ``data`` into the folder ``stem``.tmp, then rename it onto ``out`` (the body of
    :func:`to_chunked_zarr`, run while it holds the lock of ``stem``)."""
    import dask
    import zarr

    staged = _own_folder(stem, ".tmp")
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
        _rename_onto(staged, out, overwrite, stem)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise


def _chunks(axes: str, shape: tuple[int, ...], edge: int) -> tuple[int, ...]:
    """The chunk of an array of ``axes`` (in the order it is stored) and ``shape``: one
    frame along T, every channel along C, ``edge`` along Z, Y and X. Axes not known (``""``,
    given when segmenting): ``edge`` along the last two, 1 along the others, so that no chunk
    holds a whole movie or stack of unknown axes."""
    if not axes:
        return tuple(edge if i >= len(shape) - 2 else 1 for i in range(len(shape)))
    return tuple({"T": 1, "C": n}.get(a, edge) for a, n in zip(axes, shape))


def _host() -> str:
    return re.sub(r"[^A-Za-z0-9.]", "_", socket.gethostname()) or "host"


def _named(stem: Path, suffix: str) -> Path:
    return stem.with_name(stem.name + suffix)


def _there(path: Path) -> bool:
    return path.exists() or path.is_symlink()


#: the stems of this process's conversions (:func:`_claim`): only these are its own
#: (:func:`_gone`); another named with its pid is an earlier process's of the same pid (a
#: container restarted), judged by its lock file
_MADE: set[str] = set()


def _claim(out: Path) -> tuple[Path, int]:
    """A name for this conversion's folders beside ``out``,
    ``.OUT.zarr.convert-HOST-PID-XXXXXX`` (returned as ``stem``), and the open file
    ``stem``.lock, made new and locked (:func:`try_lock`) until :func:`_release`, so that
    :func:`recover_convert_leftovers` leaves its ``.tmp`` and ``.old`` folders alone while it
    runs, though its pid looks dead to a process in another pid namespace (a container) on
    this host. Made before the folders, removed after them. Once locked, it holds this
    process's pid and this machine's id (:func:`~tessella.engine.io._leftovers.mark_lock`):
    an empty one of a running process is one made and not yet locked, not a killed
    conversion's; one named with this machine's former host name is still this machine's."""
    while True:
        stem = out.parent / f".{out.name}.convert-{_host()}-{os.getpid()}-{secrets.token_hex(3)}"
        _MADE.add(stem.name)  # (before its lock file: a recovery meanwhile spares it)
        try:
            fd = os.open(_named(stem, ".lock"), os.O_RDWR | os.O_CREAT | os.O_EXCL, 0o644)
        except FileExistsError:
            continue
        if any(_there(_named(stem, kind)) for kind in (".tmp", ".old")):  # (an older one's)
            os.close(fd)
            _named(stem, ".lock").unlink()
            continue
        try:
            try_lock(fd)  # (where it cannot be locked, recovery asks whether the pid runs)
            mark_lock(fd)  # (its pid and machine id, as any write's claim)
        except BaseException:
            os.close(fd)
            with contextlib.suppress(OSError):
                _named(stem, ".lock").unlink()
            raise
        return stem, fd


def _release(stem: Path, fd: int) -> None:
    """Unlock the lock file of :func:`_claim`, and remove it where its folders are gone (one
    that could not be removed is left with it, unlocked, for the next recovery)."""
    os.close(fd)
    if not any(_there(_named(stem, kind)) for kind in (".tmp", ".old")):
        with contextlib.suppress(OSError):  # (FileNotFoundError: a recovery took it after)
            _named(stem, ".lock").unlink()


def _own_folder(stem: Path, suffix: str) -> Path:
    """The new hidden folder ``stem`` + ``suffix`` (``.tmp`` or ``.old``) beside ``out``, of
    the conversion that holds the lock of ``stem`` (:func:`_claim`)."""
    folder = _named(stem, suffix)
    folder.mkdir()
    return folder


def recover_convert_leftovers(out) -> str | None:
    """Undo what a conversion to ``out`` (:func:`to_chunked_zarr`) killed before it
    finished (kill -9, the OOM killer, a job's time limit) left beside it: its hidden staged
    folder (``.OUT.zarr.convert-HOST-PID-*.tmp``) is removed, and the previous ``out`` it
    was replacing (``.OUT.zarr.convert-HOST-PID-*.old/OUT.zarr``) put back where ``out`` is
    missing (a kill between the two renames), else removed. Only folders of this host (or
    of this machine under a former host name: their lock file holds this machine's id, and
    tells alone whether they are gone) whose conversion is gone are touched: one whose lock
    file (``...-*.lock``, :func:`_claim`) this process can lock, which the system unlocks
    when its holder dies, so that a running conversion keeps its own though its pid looks
    dead (a process in another pid namespace, a container on this host). Where there is no
    lock file (a conversion by a version before it) or the file system cannot lock, one
    whose pid does not run. Says what it did in one warning line, which it also returns;
    None where there was nothing."""
    out = Path(out)
    pattern = re.compile(
        rf"\.{re.escape(out.name)}\.convert-(?P<host>.+)-(?P<pid>\d+)-[0-9a-f]{{6}}"
        r"\.(?P<kind>tmp|old|lock)"
    )
    try:
        entries = sorted(out.parent.iterdir()) if out.parent.is_dir() else []
    except OSError:
        return None
    host, removed, restored = _host(), [], None
    stems: dict[Path, tuple[int, bool]] = {}
    for entry in entries:
        match = pattern.fullmatch(entry.name)
        if match is None:
            continue
        stem = entry.with_name(entry.name[: -len(match["kind"]) - 1])
        # (this machine under a former host name: its lock file holds this machine's id)
        renamed = match["host"] != host and _this_machine(_named(stem, ".lock"))
        if match["host"] == host or renamed:
            stems[stem] = (int(match["pid"]), renamed)
    for stem, (pid, renamed) in stems.items():
        gone, fd = _gone(stem, pid, by_pid=not renamed)
        if not gone:
            continue
        try:
            for kind in (".old", ".tmp"):  # (the previous OUT put back before the rest)
                entry = _named(stem, kind)
                if entry.is_symlink() or not entry.is_dir():
                    continue
                previous = entry / out.name
                if kind == ".old" and _there(previous) and not _there(out):
                    try:
                        os.rename(previous, out)
                    except FileNotFoundError:
                        continue  # another recovery put it back meanwhile, and removes this
                    restored = entry.name
                shutil.rmtree(entry, ignore_errors=True)
                if restored != entry.name:
                    removed.append(entry.name)
            with contextlib.suppress(OSError):  # (FileNotFoundError: none, or taken by another)
                _named(stem, ".lock").unlink()
        finally:
            if fd is not None:
                os.close(fd)
    if not (removed or restored):
        return None
    said = [f"put {out} back from {restored}"] if restored else []
    if removed:
        said.append(f"removed {', '.join(removed)}")
    line = (
        f"{out}: a conversion to it was killed before it finished; "
        f"{' and '.join(said)} (left beside it)"
    )
    warnings.warn(line, UserWarning, stacklevel=2)
    return line


def _gone(stem: Path, pid: int, by_pid: bool = True) -> tuple[bool, int | None]:
    """Whether the conversion of this host that named its folders ``stem`` (its pid ``pid``)
    is gone, and the open lock file ``stem``.lock, locked by this process, that says so (None
    where it does not exist or cannot be locked: then it is gone where ``pid`` does not
    run). Closing it unlocks it. The same judgement as any killed write's
    (:func:`~tessella.engine.io._leftovers._gone`), except that a conversion of this process
    (:func:`_claim` made ``stem``) is never gone (one of its conversions runs); another of its
    pid, an earlier process's, is judged as any other. ``by_pid`` False: judged by its lock
    file alone (a conversion of this machine under its former host name)."""
    if pid == os.getpid() and stem.name in _MADE:
        return False, None
    return _write_gone(_named(stem, ".lock"), pid, by_pid=by_pid)


def _rename_onto(staged: Path, out: Path, overwrite: bool, stem: Path) -> None:
    """Put the folder ``staged`` in the place of ``out``: a previous ``out`` (a folder, a
    file or a link; one made meanwhile is refused without ``overwrite``) is renamed aside
    first and removed once ``staged`` is in place (put back where that rename fails), as a
    folder cannot be renamed onto a folder that holds files."""
    if not (out.exists() or out.is_symlink()):
        os.rename(staged, out)
        return
    if not overwrite:
        raise FileExistsError(f"{out} exists; pass overwrite=True to replace it")
    aside = _own_folder(stem, ".old")
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
