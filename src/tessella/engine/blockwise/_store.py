"""The input (zarr, OME-Zarr or an array) and the outputs: the work folder that makes a run
resumable, the provisional and result arrays, and the lock against a second writer."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..commands import convert_command
from ._convert import default_chunk
from ._grid import BlockGrid
from ._run import _open_zarr, _Source
from ._settings import PIXEL_KEYS, describe_differences

MAX_CHUNK_BYTES = 1 << 30  # a bigger input chunk is refused: every block would decode it


def work_dir(out: str | os.PathLike) -> Path:
    """Where an unfinished blockwise run into ``out`` keeps its state."""
    out = Path(out)
    return out.with_name(f".{out.name}.blockwise")


@dataclass
class _Input:
    source: _Source
    array: Any
    axes: str
    pixel_size: dict
    unit: str
    name: str
    ome: dict | None = None  # an OME-Zarr input's layout (ImageData.ome)
    #: a zarr path's axes in the order it stores them (a channel chosen: with C), as
    #: ``read_image`` gives them (what a recipe records as ``stored_axes``); None: an array
    stored_axes: str | None = None
    channel: int | None = None  # the channel chosen (``channel=``): that one alone, no C
    #: the file or folder the input was read from (a path's; an ImageData's ``path``, e.g.
    #: the file napari read a layer from); None: an array
    path: Path | None = None


def _open_input(image, axes: str | None, channel: int | None = None) -> _Input:
    """The input: a zarr/OME-Zarr path; an array (no pixel size: "pixel"); or an
    :class:`~tessella.engine.io.ImageData` (an array with its axes, pixel size, unit, OME-Zarr
    layout and file, as read_image gives them or a caller such as the napari widget knows
    them from a layer), whose metadata the labels and the recipe keep as a path's. Its OME-Zarr
    layout is kept only for its own axes (other ``axes`` write a plain zarr array).
    ``channel`` (a path only: read an array's or ImageData's channel first): that channel
    alone, as ``read_image(path, axes, channel=channel)`` reads it."""
    from ..axes import check_axes, guess_axes
    from ..io import ImageData, is_zarr_path, read_image

    if channel is not None and not isinstance(image, str | os.PathLike):
        raise ValueError(
            "channel= chooses a channel of a zarr path; of an array, pass that channel "
            "(read_image(path, channel=N) reads one lazily)"
        )
    if isinstance(image, ImageData):
        array = _open_input(image.data, axes or image.axes)
        return dataclasses.replace(
            array,
            pixel_size={str(a).upper(): float(s) for a, s in image.pixel_size.items()},
            unit=image.unit if image.pixel_size else "pixel",
            name=str(image.path) if image.path is not None else array.name,
            ome=image.ome if array.axes == image.axes.upper() else None,
            path=Path(image.path) if image.path is not None else None,
        )
    if not isinstance(image, str | os.PathLike):
        store = getattr(getattr(image, "store", None), "root", None)
        source = _Source(str(store), image.path) if store is not None else _Source(None, "", image)
        if getattr(image, "dtype", np.dtype(object)).kind not in "biuf":
            raise ValueError(f"unsupported pixel type {getattr(image, 'dtype', type(image))}")
        axes = check_axes(axes or guess_axes(image.shape), image.ndim)
        return _Input(source, image, axes, {}, "pixel", "image")
    path = Path(image)
    if not path.exists():
        raise ValueError(f"{path}: no such file or folder")
    if not is_zarr_path(path):
        raise ValueError(
            f"{path}: blockwise segmentation reads chunked zarr or OME-Zarr; convert it first, "
            f"keeping its axes and pixel size: {convert_command(path, path.with_suffix('.zarr'))}"
        )
    whole = read_image(path, axes)  # every channel: where each axis is stored
    data = whole if channel is None else read_image(path, axes, channel=channel)
    key = ""
    if whole.ome is not None:  # OME-Zarr: read_image took the first dataset
        attrs = dict(_open_zarr(str(path)).attrs)
        first = (attrs.get("multiscales") or attrs["ome"]["multiscales"])[0]
        key = first["datasets"][0]["path"]
    source = _Source(str(path.resolve()), key, **_stored_layout(whole, data.axes, channel))
    return _Input(
        source, data.data, data.axes, data.pixel_size, data.unit, str(path), data.ome,
        whole.stored_axes, channel, path,
    )  # fmt: skip


def given_pixel_size(data, sizes: dict, unit: str | None = None):
    """``data`` (the blockwise input, or what ``read_image`` returns: anything with
    ``axes``, ``pixel_size``, ``unit`` and ``ome``) with ``sizes`` (by spatial axis) as its
    pixel size, in ``unit`` (None: its own), an OME-Zarr layout's scale too: what
    post-processing uses and the labels are written with, as if the file had said it
    (``tessella segment --voxel-size``, in memory and blockwise). Given a ``unit``, the
    OME-Zarr axes of ``sizes`` are in that unit (NGFF's name: "nanometer"), not the file's."""
    ome = data.ome
    if ome is not None and "scale" in ome and "kept" in ome:  # OME-Zarr labels' scale
        from ..io._write import unit_for

        scale = list(ome["scale"])
        axes = [dict(axis) for axis in ome.get("axes", [])]
        # the axes' unit is the one the sizes are in: a size in nm on an axis that said
        # micrometer would be read as µm (1000x); "pixel" (no unit): the axis names none
        named = None if unit is None else unit_for(unit, "ome-zarr")
        for axis, size in sizes.items():
            at = ome["kept"][data.axes.index(axis)]
            scale[at] = size
            if unit is not None and at < len(axes):
                axes[at].pop("unit", None)
                axes[at].update({"unit": named} if named else {})
        ome = {**ome, "scale": scale} | ({"axes": axes} if "axes" in ome else {})
    return dataclasses.replace(
        data, pixel_size=dict(sizes), unit=data.unit if unit is None else unit, ome=ome
    )


def _checked_pixel_size(data: _Input, pixel_size, unit: str | None) -> dict:
    """``pixel_size`` (one size per spatial axis of ``data``, or a dict of sizes by axis)
    as sizes by spatial axis, checked: positive finite numbers, every spatial axis; the
    input's own where None. ValueError (TypeError: not numbers) naming the input."""
    spatial = "".join(a for a in data.axes if a in "ZYX")
    if unit is not None and not isinstance(unit, str):
        raise TypeError(f"{data.name}: unit must be a string such as 'µm', not {unit!r}")
    if pixel_size is None:
        return dict(data.pixel_size)
    if isinstance(pixel_size, dict):
        given = {str(k).upper(): v for k, v in pixel_size.items()}
        if set(given) != set(spatial):
            raise ValueError(
                f"{data.name}: pixel_size {pixel_size} must give a size for each spatial axis "
                f"of the image ({spatial}), and no other"
            )
        values = [given[a] for a in spatial]
    else:
        try:
            values = list(pixel_size)
        except TypeError:
            values = [pixel_size]
    try:
        sizes = [float(v) for v in values]
    except (TypeError, ValueError):
        raise TypeError(
            f"{data.name}: pixel_size must be a size per spatial axis (numbers), not {pixel_size!r}"
        ) from None
    if len(sizes) != len(spatial) or not all(np.isfinite(v) and v > 0 for v in sizes):
        raise ValueError(
            f"{data.name}: pixel_size must be {len(spatial)} positive numbers, one per spatial "
            f"axis ({spatial}), got {list(values)}"
        )
    return dict(zip(spatial, sizes, strict=True))


def _stored_layout(whole, axes: str, channel: int | None) -> dict:
    """How workers read the store of ``whole`` (``read_image``'s ImageData of a zarr path,
    every channel) as the input of ``axes`` (``channel``: that channel alone): the
    :class:`_Source` fields ``drop``, ``at`` and ``order``. The stored positions of its axes
    are the OME-Zarr layout's ``kept`` (its axes of length 1 left out), else those of its
    ``stored_axes``; a ZCYX store read as CZYX is read as stored and transposed, as
    ``read_image`` transposes it."""
    if whole.ome is not None:
        positions, ndim = list(whole.ome["kept"]), len(whole.ome["axes"])
    else:
        stored = whole.stored_axes or whole.axes
        positions, ndim = [stored.index(a) for a in whole.axes], len(stored)
    at_axis = dict(zip(whole.axes, positions))
    taken = {i: 0 for i in range(ndim) if i not in positions}  # OME axes of length 1
    if channel is not None and "C" in at_axis:  # (without C: channel 0, the image itself)
        taken[at_axis.pop("C")] = channel
    kept = sorted(at_axis.values())
    order = tuple(kept.index(at_axis[a]) for a in axes)
    drop = tuple(sorted(taken))
    return {
        "drop": drop,
        "at": tuple(taken[i] for i in drop),
        "order": () if order == tuple(range(len(order))) else order,
    }


def check_target(data: _Input, out: Path) -> Path | None:
    """Refuse (ValueError, before any block) an ``out`` inside an OME-Zarr image other than
    as labels of that image, read with its OME-Zarr axes, in its labels group
    (:func:`~tessella.engine.io._zarr.check_labels_in_ome_image`, the rule ``tessella
    segment`` follows in memory). Returns that image (whose labels group the finished run
    lists ``out`` in), else None."""
    from ..io._zarr import check_labels_in_ome_image

    return check_labels_in_ome_image(
        out, data.path, data.name, read_with=data.axes if data.ome is None else None
    )


def input_record(data: _Input, out: Path) -> dict | None:
    """:func:`~tessella.engine.input_record.input_identity` of a zarr input's folder (a
    path's, or the file of an ImageData, e.g. the one napari read a panel's layer from), as
    ``tessella segment`` records it beside its labels for ``--skip-existing``: its metadata
    and one ``stat`` per chunk file, no pixel read. What the run writes there is left out
    (``out``, its recipe and work folder, and the labels group of an OME-Zarr image it
    lists ``out`` in). None for an array, and for a file (a TIFF would be hashed whole).
    With the digest of the attributes that say how it is read
    (:func:`~._identity.read_attributes_sha256`), which the identity leaves out."""
    from ..input_record import input_identity
    from ..io import is_zarr_path
    from ..io._zarr import ome_image_of_labels

    if data.path is None or not data.path.is_dir() or not is_zarr_path(data.path):
        return None
    from ..io._kept_recipe import own_recipe_path
    from ..io._zarr import labels_recipe_path

    # its recipe: NAME.recipe.json, or NAME.zarr.recipe.json where the first is another's
    outputs = [out, labels_recipe_path(out), own_recipe_path(out), work_dir(out)]
    if ome_image_of_labels(out) is not None:  # the labels group: none of the image's pixels
        outputs.append(out.parent)
    from ._identity import ATTRIBUTES_KEY, read_attributes_sha256

    identity = input_identity(data.path, outputs)
    read = read_attributes_sha256(data.path)  # (the attributes that say how it is read)
    if identity is None or read is None:
        return identity
    return {**identity, ATTRIBUTES_KEY: read}


def _check_chunks(data: _Input, grid: BlockGrid) -> None:
    chunks = getattr(data.array, "chunks", None)
    if chunks is None:
        return
    chunks = tuple(max(c) if isinstance(c, tuple) else int(c) for c in chunks)
    nbytes = int(np.prod(chunks)) * data.array.dtype.itemsize
    # (keeping its axes and pixel size, which a plain dask to_zarr copy drops), in the chunks
    # `tessella convert` writes for these blocks by default: half their edge
    edge = default_chunk(grid.block[-1])
    name = Path(data.name)
    if data.source.store is not None and name.exists():  # a path: the command to paste
        rechunked = name.with_name(f"{name.name.rsplit('.', 1)[0]}_rechunked.zarr")
        advice = f"rechunk it: {convert_command(name, rechunked, edge)}"
    else:
        advice = f"rechunk its file: tessella convert FILE OUT.zarr --chunk {edge}"
    if nbytes > MAX_CHUNK_BYTES:
        raise ValueError(
            f"{data.name}: one chunk {chunks} holds {nbytes / 2**30:.1f} GiB and every block "
            f"would decode it whole; {advice}"
        )
    if chunks == tuple(data.array.shape) and grid.n_blocks > 1:
        warnings.warn(
            f"{data.name} is stored as one chunk, which every block decodes whole; "
            f"for large arrays {advice}",
            UserWarning,
            stacklevel=4,
        )
        return
    # what the blocks' reads cost in this layout, against chunks of half the block's edge
    # (what the advice's `tessella convert --chunk` writes): a block decodes every chunk it
    # touches whole, and nothing is cached between blocks
    shape, itemsize = data.array.shape, data.array.dtype.itemsize
    ours = _read_cost(data.axes, shape, chunks, grid, itemsize)
    converted = _read_cost(data.axes, shape, _converted_chunks(data.axes, edge), grid, itemsize)
    if _slow_layout(ours, converted):
        shown = "x".join(map(str, chunks))
        decodes = (
            f" and decodes {ours.overread:.0f} times the bytes it reads"
            if ours.overread >= 1.5
            else ""
        )
        warnings.warn(
            f"{data.name} is stored in chunks of {shown} pixels ({data.axes}): every block "
            f"reads about {ours.chunks:,.0f} chunks{decodes}, an estimated "
            f"{ours.cost / converted.cost:.0f} times the work of chunks of {edge} px, which "
            f"is slow; {advice}",
            UserWarning,
            stacklevel=4,
        )


#: what reading one chunk costs besides decoding its bytes, in bytes decoded: measured on 2
#: busy cores (zarr 3, zstd, real EM pixels), 0.25-1.2 ms a chunk against 150-300 MiB/s
CHUNK_READ_COST = 128 * 1024
#: a layout whose blocks' reads cost this many times those from chunks of half the block's
#: edge (what the advice's ``tessella convert --chunk`` writes, :func:`default_chunk`) is
#: said. Measured, one interior block with its halo, against chunks of the block's edge:
#: rows of 1x40000 uint16 px, 2048-px blocks, 3.8 times as slow (1.35 s against 0.36;
#: estimated 6.7); whole 4096x4096 planes, 256-px blocks, 14 times (31 s against 2.2;
#: estimated 17), each about twice that against chunks of half the edge. Chunks of the block's
#: edge (convert's default before) are quiet: an estimated 3.3 times the work at most (a
#: 2048^3 uint16 volume in 256^3 chunks: 3.1; measured on a 300x512x1024 one, every block:
#: 2.7 times as slow); so are slices of 1x512x512 (1.8). Tiles of 1x1024x1024 in a volume
#: of 512 slices (6.4) are said
SLOW_LAYOUT_RATIO = 4
#: nor is a layout whose blocks' reads cost less than this more each (~0.3 s)
SLOW_LAYOUT_EXTRA = 64 * 2**20


@dataclass(frozen=True)
class _ReadCost:
    """What one block's read costs, on average over a grid's blocks: ``chunks`` read and
    ``overread`` (the bytes of the chunks it touches / the bytes it reads, halo included)."""

    chunks: float
    overread: float
    read_bytes: float  # the bytes it reads

    @property
    def cost(self) -> float:
        """In bytes decoded: the chunks' bytes, plus :data:`CHUNK_READ_COST` a chunk."""
        return self.overread * self.read_bytes + self.chunks * CHUNK_READ_COST


def _slow_layout(ours: _ReadCost, converted: _ReadCost) -> bool:
    """Whether blocks read ``ours`` :data:`SLOW_LAYOUT_RATIO` times as costly as
    ``converted`` or more, and :data:`SLOW_LAYOUT_EXTRA` more per block at least."""
    return (
        ours.cost >= SLOW_LAYOUT_RATIO * converted.cost
        and ours.cost - converted.cost >= SLOW_LAYOUT_EXTRA
    )


def _converted_chunks(axes: str, edge: int) -> tuple[int, ...]:
    """The chunks ``tessella convert --chunk EDGE`` writes (``to_chunked_zarr``; by default
    ``EDGE`` is :func:`default_chunk` of the block's): ``edge``
    along each spatial axis, one frame along T, every channel (0: the whole axis)."""
    return tuple(edge if a in "ZYX" else 1 if a == "T" else 0 for a in axes)


def _read_cost(axes: str, shape, chunks, grid: BlockGrid, itemsize: int = 1) -> _ReadCost:
    """The :class:`_ReadCost` of reading every block of ``grid`` (over ``axes`` without C;
    each read with its halo, every channel) from an array of ``shape`` in ``chunks`` (per
    axis of ``axes``; 0 or more than the extent: the whole axis). Exact: the blocks are the
    product of their ranges along each axis, so the totals are products of per-axis sums.
    ``itemsize``: the bytes of a pixel.

    >>> grid = BlockGrid((4096, 4096), (2048, 2048), (0, 0))
    >>> rows = _read_cost("YX", (4096, 4096), (1, 4096), grid)
    >>> rows.chunks, rows.overread
    (2048.0, 2.0)
    >>> _read_cost("YX", (4096, 4096), (2048, 2048), grid).overread
    1.0
    """
    label = iter(range(len(grid.shape)))
    touched = read = count = 1.0
    for a, n, c in zip(axes, shape, chunks):
        n = int(n)
        c = n if c <= 0 else min(int(c), n)
        if a == "C":
            spans = [(0, n)]  # every channel, by every block
        else:
            i = next(label)
            b, h = grid.block[i], grid.halo[i]
            spans = [(max(0, k * b - h), min((k + 1) * b + h, n)) for k in range(-(-n // b))]
        first = [lo // c for lo, _ in spans]
        last = [-(-hi // c) for _, hi in spans]
        touched *= sum(min(e * c, n) - f * c for f, e in zip(first, last))
        count *= sum(e - f for f, e in zip(first, last))
        read *= sum(hi - lo for lo, hi in spans)
    blocks = grid.n_blocks
    return _ReadCost(count / blocks, touched / read, read / blocks * itemsize)


def _create_outputs(work: Path, grid: BlockGrid, data: _Input) -> str:
    """The provisional array and the empty result; returns the result's array key. A plain
    result is in its input's zarr format (v2 labels of a v2 zarr, as in memory: the v2-only
    tools that read the image read them; v2 with Blosc-LZ4, which every v2 reader decodes),
    else v3, with its unit spelled as :func:`~tessella.engine.io.unit_for` spells it."""
    import zarr

    from ..io import _labels_layout, create_ome_labels
    from ..io._write import _v2_compressor, unit_for, zarr_format_of

    label_axes = data.axes.replace("C", "")
    shape, chunks = grid.shape, grid.block
    zarr.create_array(
        str(work / "provisional.zarr"), shape=shape, dtype="uint32", chunks=chunks, fill_value=0
    )
    result = str(work / "result.zarr")
    if data.ome is None:
        pixel_size = {a: s for a, s in data.pixel_size.items() if a in label_axes}
        attrs: dict[str, Any] = {
            "tessella_axes": label_axes,
            "pixel_size": pixel_size,
            "unit": unit_for(data.unit, "zarr"),
        }
        # (an ImageData's array, as napari read it, has no store: the file it was read from)
        form = zarr_format_of(data.source.store or data.path) or 3
        codecs: dict[str, Any] = {"compressors": _v2_compressor()} if form == 2 else {}
        array = zarr.create_array(
            result,
            shape=shape,
            dtype="uint32",
            chunks=chunks,
            fill_value=0,
            zarr_format=2 if form == 2 else 3,
            **codecs,
        )
        array.attrs.update(attrs)
        return ""
    layout = _labels_layout(data.ome, data.axes, label_axes, data.source.store)
    create_ome_labels(result, shape, "uint32", chunks, layout)  # as write_zarr_labels does
    return "0"


#: the lock files this process holds (:func:`_hold_lock` to :func:`release_lock`)
_HELD: set[str] = set()


def _holder(record: str, out: Path, lock: Path) -> str:
    """The one-line refusal of a run into ``out`` whose work folder's lock file ``lock``
    another process holds, naming it as its ``record`` (``HOST PID``, as :func:`_hold_lock`
    writes it) says. A process of this host that has ended holds no lock: what does is one it
    started (a worker it forked shares its open lock file) or a run of another container with
    this hostname (a pid of another pid namespace)."""
    import socket

    if str(lock.absolute()) in _HELD:
        return (
            f"{out}: a run of this process is writing it (an unfinished blockwise generator: "
            "close() it, or let it end)"
        )
    try:
        host, pid = record.split()
        number = int(pid)
    except ValueError:
        return f"{out}: another run is writing it; wait for it to end"
    if host != socket.gethostname():
        return f"{out}: another run (process {pid} on {host}) is writing it; wait for it to end"
    try:
        os.kill(number, 0)
    except ProcessLookupError:
        return (
            f"{out}: process {pid}, whose run {lock} names, has ended, but another process "
            f"still holds the lock (one it started, a forked worker, say, or a run of another "
            f"container): wait for it or end it (`fuser {lock}` names it)"
        )
    except (OSError, OverflowError):
        pass
    return f"{out}: another run (process {pid}) is writing it; wait for it to end"


def _check_lock_by_pid(work: Path, out: Path) -> None:
    """Where the work folder's lock file cannot be locked (a file system without locks):
    refuse to work on ``out`` while another live process on this machine does, as its
    ``HOST PID`` record says (a process of another pid namespace on this host, a container,
    cannot be told from a dead one)."""
    import socket

    try:
        host, pid = (work / "lock").read_text().split()
        number = int(pid)
    except (OSError, ValueError):
        return
    if host == socket.gethostname() and number != os.getpid():
        try:
            os.kill(number, 0)
        except ProcessLookupError:
            return  # a run that was killed: its lock is stale
        except PermissionError:
            pass
        raise ValueError(_holder(f"{host} {pid}", out, work / "lock"))
    if host != socket.gethostname():
        raise ValueError(_elsewhere(host, pid, work, out))


def _elsewhere(host: str, pid: str, work: Path, out: Path) -> str:
    """The one-line refusal of a run into ``out`` whose work folder's record names a run on
    another ``host``, which this one cannot tell live from killed."""
    return (
        f"{out}: a run on {host} (process {pid}) is writing it; if none is, delete {work / 'lock'}"
    )


def _hold_lock(work: Path, out: Path) -> int | None:
    """Lock the work folder of a run into ``out`` for this run (made where missing): its file
    ``lock`` is locked (:func:`~tessella.engine._file_lock.try_lock`) until
    :func:`release_lock` or this process ends, however it ends (``kill -9`` included), and
    names this run (``HOST PID``) for another run's refusal. Whether a run is live there is
    the lock's to say, not its record's: a process of another container with this hostname
    (its pid meaningless here) is refused as one of this one's, and a dead one's lock is
    taken over. ValueError (one line, naming the holder) where another run holds it. Returns
    the open lock file (None where it cannot be locked: then the record alone says)."""
    import socket

    from .._file_lock import try_lock

    lock = work / "lock"
    while True:
        work.mkdir(parents=True, exist_ok=True)  # (again where a run that ended removed it)
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o644)
        locked = try_lock(fd)
        if locked is False:
            try:
                record = _read_record(fd)
            except OSError:  # (unreadable: said without its holder)
                record = ""
            finally:
                os.close(fd)
            raise ValueError(_holder(record, out, lock))
        if locked is None:
            os.close(fd)
            _check_lock_by_pid(work, out)
            lock.write_text(f"{socket.gethostname()} {os.getpid()}\n")
            return None
        try:  # (a run that ended meanwhile removed the file this one locked: lock the new one)
            mine = os.stat(lock)
        except FileNotFoundError:
            mine = None
        held = os.fstat(fd)
        if mine is None or (mine.st_ino, mine.st_dev) != (held.st_ino, held.st_dev):
            os.close(fd)
            continue
        # a record of another host where the lock was free: a file system whose locks are
        # only the node's own (BeeGFS by default, NFS mounted nolock, Lustre localflock),
        # where a live run on that host holds a lock this one cannot see, or a run killed
        # there (a run that ends removes the file): the user tells which
        try:
            old = _read_record(fd).split()
        except OSError:
            old = []
        if len(old) == 2 and old[0] != socket.gethostname():
            os.close(fd)
            raise ValueError(_elsewhere(old[0], old[1], work, out))
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, f"{socket.gethostname()} {os.getpid()}\n".encode())
        _HELD.add(str(lock.absolute()))
        return fd


def _read_record(fd: int) -> str:
    """The ``HOST PID`` record of the open lock file ``fd`` (read from its start with the
    calls every system has: Windows has no ``os.pread``; the lock there is on a byte beyond
    the record, see :func:`~tessella.engine._file_lock.try_lock`, so that it stays readable)."""
    os.lseek(fd, 0, os.SEEK_SET)
    return os.read(fd, 256).decode(errors="replace")


def release_lock(work: Path, fd: int | None) -> None:
    """Unlock the work folder of :func:`_hold_lock` (its file removed first where it is still
    the one locked, so that a run started after this one locks a file of its own)."""
    lock = work / "lock"
    with contextlib.suppress(OSError):
        if fd is None:
            lock.unlink()
        else:
            mine, held = os.stat(lock), os.fstat(fd)
            if (mine.st_ino, mine.st_dev) == (held.st_ino, held.st_dev):
                lock.unlink()
    if fd is not None:
        _HELD.discard(str(lock.absolute()))
        os.close(fd)


def _clear(work: Path) -> None:
    """Remove what a work folder holds but its lock, which this run holds."""
    for entry in work.iterdir():
        if entry.name == "lock":
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


class StartedAgainWarning(UserWarning):
    """An unfinished run into the output was made from other pixels (a numpy array's, or a
    zarr input's chunk files written since), or from an array that cannot be identified: it
    cannot be resumed, so it was deleted and the run started again."""


def _why_started_again(plan: dict, old: dict, data: _Input) -> str:
    """Why an unfinished run whose plan differs from ``plan`` only in the input's identity
    cannot be resumed (the warning's text, without the output and "starting again")."""
    from ._identity import input_folders

    identity, before = plan.get("input_pixels"), old.get("input_pixels")
    if identity is None:
        return (
            f"the input ({type(data.array).__name__}, neither numpy, dask nor a zarr folder) "
            "cannot be matched with the unfinished run's"
        )
    if before is None:
        return "the unfinished run did not record its input's identity (an older version)"
    if "files:" in identity and identity.split("files:")[0] == before.split("files:")[0]:
        folders = ", ".join(str(f) for f in input_folders(data))
        return f"the input's pixels changed since the unfinished run (chunk files of {folders})"
    return "the input's pixels changed since the unfinished run"


def _start(out: Path, plan: dict, overwrite: bool, data: _Input, grid: BlockGrid) -> tuple:
    """A fresh or resumed work directory, locked for this run (:func:`_hold_lock`); returns
    (work, result key, the open lock file, for :func:`release_lock` when the run ends).
    What a conversion to ``out`` killed before it finished left beside it is undone first
    (:func:`~._convert.recover_convert_leftovers`: its hidden staged copy removed, the
    previous ``out`` put back where none is, so that it is not replaced without overwrite)."""
    from ._convert import recover_convert_leftovers

    recover_convert_leftovers(out)
    work = work_dir(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass overwrite=True (--overwrite) to replace it")
    existed = work.exists()
    fd = _hold_lock(work, out)
    try:
        # again, locked: a run that held the lock until now may have made ``out`` meanwhile
        if out.exists() and not overwrite:
            raise FileExistsError(f"{out} exists; pass overwrite=True (--overwrite) to replace it")
        return (*_prepare(work, out, plan, overwrite, data, grid, existed), fd)
    except BaseException:
        # (made for the lock, or left empty by a run that committed: nothing of a run in it)
        empty = not existed or not (work / "plan.json").exists()
        if empty:  # emptied while locked, the lock file last (another run may lock it next)
            with contextlib.suppress(OSError):
                _clear(work)
        release_lock(work, fd)
        if empty:
            remove_work_dir(work)
        raise


def remove_work_dir(work: Path) -> None:
    """Remove the work folder that :func:`_clear` emptied and :func:`release_lock` unlocked,
    where it is still empty (a run that started meanwhile may hold a lock file in it)."""
    with contextlib.suppress(OSError):
        os.rmdir(work)


def _prepare(
    work: Path, out: Path, plan: dict, overwrite: bool, data: _Input, grid: BlockGrid, existed
) -> tuple:
    """:func:`_start` in its locked work folder: (work, result key)."""
    plan = json.loads(json.dumps(plan, default=str))
    if existed:
        try:
            old = json.loads((work / "plan.json").read_text())
        except (OSError, json.JSONDecodeError):
            old = None  # never got as far as the plan: start again
        result_key = old.pop("result_key", "") if old else ""
        if not (work / "result.zarr").exists():
            old = None  # the result was moved onto ``out``: that run finished
        unknown = plan.get("input_pixels") is None  # never resumed
        if old == plan and not unknown:  # the plan holds what stands for the input's pixels
            return work, result_key
        if old is not None and not overwrite:
            changed = {k for k in set(plan) | set(old) if plan.get(k) != old.get(k)}
            if not changed <= set(PIXEL_KEYS):
                said = "; ".join(describe_differences(old, plan))
                raise ValueError(
                    f"{out}: an unfinished blockwise run with other settings ({said}) is in "
                    f"{work}; pass overwrite=True (--overwrite) to start again"
                )
            # other pixels: that run can never be resumed from this input
            why = _why_started_again(plan, old, data)
            warnings.warn(f"{out}: {why}: starting again", StartedAgainWarning, stacklevel=5)
    _clear(work)
    (work / "blocks").mkdir()
    (work / "relabelled").mkdir()
    result_key = _create_outputs(work, grid, data)
    tmp = work / "plan.json.tmp"
    tmp.write_text(json.dumps(plan | {"result_key": result_key}, indent=2) + "\n")
    os.replace(tmp, work / "plan.json")
    return work, result_key
