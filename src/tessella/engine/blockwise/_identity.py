"""What stands for the input's pixels in a run's plan, so that an unfinished run is resumed
only on the input it was started on: the first stage, ``fingerprint``.

A run into an output resumes when its plan (settings + this identity) equals the unfinished
run's; when only the identity differs, that run was made from other pixels and is started
again (:class:`~tessella.engine.blockwise.StartedAgainWarning`). The identity must change
whenever the pixels do, and cost little beside segmenting them (minutes to hours):

- **a zarr input** (a path, or a zarr array in a local folder): the sizes and modification
  times (nanoseconds) of its chunk files, with its array metadata (``zarr.json`` or
  ``.zarray`` without the attributes: shape, chunks, data type, codecs, fill value). Every
  write of a chunk, by zarr or any other tool, gives its file a new modification time (a
  chunk written as all fill value is deleted, and a new one appears), so a chunk rewritten in
  place is noticed without reading a pixel: one ``stat`` per chunk file (measured on a local
  disk, file cache warm: 10 ms for a 32768² image in 1024 chunks of 1024², 0.23 s in 16384
  chunks of 256²; a network file system takes longer per file). The scan yields its
  progress, a cancel point, every :data:`FILES_PER_STEP` files. Only
  a file replaced by one of the same size *and* the same modification time goes unnoticed:
  a copy that keeps the time of the same write (``cp -p``, ``rsync -a``), which is the quick
  check rsync and make rely on. Attribute edits and dot-files (``.DS_Store``) are left out;
  they change no pixel.
- **a dask array**: its ``name`` (dask's deterministic token for its graph, never its pixels:
  a lazy image may be bigger than memory or remote), with the chunk files of every local zarr
  array its graph reads, as above. For ``dask.array.from_zarr`` the name stands for the
  store's path only, so a chunk rewritten in place is noticed by the files. A dask array
  over other files (TIFF pages, an HTTP store) is known by its name alone: pixels rewritten
  in those files are not noticed.
- **a numpy array**: the sha256 of its pixels, read block by block (a cancel point per block;
  about 0.1 s per 128 MiB in memory).
- **anything else** (a zarr array in memory, a lazy wrapper): None; it cannot be matched
  cheaply, so an unfinished run from it is started again, never resumed.

Hashing each block's input as it is segmented, and checking it for the finished blocks on
resume, was not chosen: it reads the finished part of the image again at every resume, and
it cannot see a change in the blocks not yet done, although the intensity normalisation
(the scan) and the stitching already used them.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from ..progress import run_steps, warn_at_caller
from ._run import BlockProgress

_METADATA_FILES = ("zarr.json", ".zarray")  # an array's own metadata (v3, v2)

#: the attributes of a zarr input's own node that say how it is read, so change the labels
#: made of it: its axes and pixel size (Tessella's attributes) and OME-Zarr's multiscales
#: (axes, datasets, scale), which ``read_image`` reads; others (``omero`` display
#: settings, an acquisition's time stamp, a recipe) change nothing read
_READ_ATTRIBUTES = ("tessella_axes", "pixel_size", "unit", "multiscales")
_READ_MULTISCALE = ("version", "axes", "datasets", "coordinateTransformations")

#: the key of an input's :data:`_READ_ATTRIBUTES` digest in its recipe's ``input_identity``
ATTRIBUTES_KEY = "attributes_sha256"


def read_attributes_sha256(path) -> str | None:
    """The sha256 of the attributes of the zarr ``path`` that change what it is read as
    (:data:`_READ_ATTRIBUTES`; within OME-Zarr's ``multiscales``, :data:`_READ_MULTISCALE`),
    canonical JSON; None where ``path`` is no zarr folder or its attributes cannot be read.
    The input's ``input_identity`` leaves every attribute out (an attribute edit changes no
    pixel), so its record holds this beside it (:data:`ATTRIBUTES_KEY`: ``tessella segment``
    and every blockwise run's recipe, :func:`~._store.input_record`), which
    ``--skip-existing`` compares: an input whose ``tessella_axes`` or pixel size was edited
    is read otherwise, and its labels are redone.

    >>> import tempfile
    >>> import zarr
    >>> folder = Path(tempfile.mkdtemp()) / "a.zarr"
    >>> array = zarr.open(str(folder), mode="w", shape=(4, 4), dtype="uint8")
    >>> array.attrs["tessella_axes"] = "YX"
    >>> before = read_attributes_sha256(folder)
    >>> array.attrs["acquired"] = "2026-12-07T10:00"  # changes nothing read
    >>> read_attributes_sha256(folder) == before
    True
    >>> array.attrs["tessella_axes"] = "XY"
    >>> read_attributes_sha256(folder) == before
    False
    """
    from ..io import is_zarr_path

    path = Path(path)
    try:
        if not path.is_dir() or not is_zarr_path(path):
            return None
        attrs: object = {}
        if (path / "zarr.json").is_file():
            metadata = json.loads((path / "zarr.json").read_text(encoding="utf-8"))
            attrs = metadata.get("attributes", {}) if isinstance(metadata, dict) else {}
        elif (path / ".zattrs").is_file():
            attrs = json.loads((path / ".zattrs").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(attrs, dict):
        attrs = {}

    def kept(node: dict) -> dict:
        found = {key: node[key] for key in _READ_ATTRIBUTES if key in node}
        if isinstance(found.get("multiscales"), list):
            found["multiscales"] = [
                {k: v for k, v in m.items() if k in _READ_MULTISCALE} if isinstance(m, dict) else m
                for m in found["multiscales"]
            ]
        return found

    read = kept(attrs)
    if isinstance(attrs.get("ome"), dict):  # OME-Zarr 0.5: its metadata under "ome"
        read["ome"] = kept(attrs["ome"]) | {
            k: attrs["ome"][k] for k in ("version",) if k in attrs["ome"]
        }
    text = json.dumps(read, sort_keys=True, ensure_ascii=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()


#: the chunk-file scan yields ``BlockProgress("fingerprint", files, expected files)``, a cancel
#: point, after this many files: about 15 ms on a local disk, seconds on a slow network file
#: system, against the minutes that a Cancel would otherwise wait there for 100 000 files
FILES_PER_STEP = 1000


def input_identity(data, grid) -> Generator[BlockProgress, None, str | None]:
    """What stands for ``data``'s pixels in the plan (see the module's notes): ``files:…``
    for a zarr input, ``dask:NAME`` (``dask:NAME files:…`` over zarr arrays),
    ``sha256:…`` for a numpy array, None for an array that cannot be identified. Yields
    ``fingerprint`` progress, a cancel point, per block hashed or :data:`FILES_PER_STEP`
    chunk files scanned."""
    if data.source.store is not None:  # a zarr path (or a zarr array in a local folder)
        folder = Path(data.source.store).resolve() / data.source.key
        absent: dict[Path, list] = {}
        digest = yield from chunk_files_digest_steps([folder], absent)
        if absent.get(folder):
            damaged = yield from damaged_chunks_steps(folder, absent[folder], _stored_plane(data))
            if damaged:
                warn_at_caller(absent_chunks_words(data.name, folder, damaged))
        return f"files:{digest}"
    array = data.array
    if isinstance(array, np.ndarray):
        return (yield from _pixels_sha256(array, data.axes, grid))
    name = getattr(array, "name", None)
    if not (hasattr(array, "__dask_graph__") and isinstance(name, str)):
        return None
    folders = dask_zarr_folders(array)
    if not folders:
        return f"dask:{name}"
    return f"dask:{name} files:{(yield from chunk_files_digest_steps(folders))}"


def input_folders(data) -> list[Path]:
    """The zarr array folders whose chunk files identify ``data`` (for messages)."""
    if data.source.store is not None:
        return [Path(data.source.store).resolve() / data.source.key]
    if hasattr(data.array, "__dask_graph__"):
        return dask_zarr_folders(data.array)
    return []


def _pixels_sha256(array: np.ndarray, axes: str, grid) -> Generator[BlockProgress, None, str]:
    """The sha256 of a numpy array's pixels (every channel), read block by block in the grid's
    order, yielding after each block (a cancel point)."""
    digest = hashlib.sha256()
    channel = axes.find("C")
    for done, index in enumerate(grid.indices(), 1):
        region = list(grid.core(index))
        if channel >= 0:
            region.insert(channel, slice(None))
        digest.update(np.ascontiguousarray(array[tuple(region)]).data)
        yield BlockProgress("fingerprint", done, grid.n_blocks)
    return f"sha256:{digest.hexdigest()}"


def chunk_files_digest(folders: list[Path]) -> str:
    """The sha256 of the array metadata (without attributes) and of every chunk file's path,
    size and modification time (ns) under each zarr array folder. A folder that cannot be
    listed gives a digest of its own ("missing"): a run from it is not resumed.

    Examples
    --------
    >>> import tempfile, zarr
    >>> folder = Path(tempfile.mkdtemp()) / "image.zarr"
    >>> array = zarr.create_array(str(folder), shape=(4, 4), dtype="uint8", chunks=(2, 2))
    >>> array[...] = 1
    >>> before = chunk_files_digest([folder])
    >>> before == chunk_files_digest([folder])
    True
    >>> os.utime(folder / "c" / "0" / "0", ns=(0, 0))  # as a rewrite of one chunk
    >>> before == chunk_files_digest([folder])
    False
    """
    return run_steps(chunk_files_digest_steps(folders))


def chunk_files_digest_steps(
    folders: list[Path], absent: dict[Path, list] | None = None
) -> Generator[BlockProgress, None, str]:
    """:func:`chunk_files_digest`, yielding ``BlockProgress("fingerprint", files, expected)``
    after every :data:`FILES_PER_STEP` files (a cancel point): ``expected`` is the number of
    chunk files that the arrays' metadata allow (chunks all fill value have none). With
    ``absent`` (a dict), the chunks whose files the scan did not find go into it, by folder
    (:func:`absent_chunks`; none for a folder that could not be listed)."""
    digest = hashlib.sha256()
    expected = sum(_expected_files(folder) for folder in folders)
    done = 0
    for folder in folders:
        digest.update(f"{folder}\0".encode())
        names: set[str] | None = set() if absent is not None else None
        try:
            digest.update(_metadata_without_attributes(folder))
            for _ in _digest_files(folder, "", digest, names):
                done += 1
                if done % FILES_PER_STEP == 0:
                    yield BlockProgress("fingerprint", done, max(expected, done))
        except OSError as exc:
            digest.update(f"missing: {exc}".encode())
            names = None
        if absent is not None and names is not None:
            absent[folder] = absent_chunks(folder, names)
    return digest.hexdigest()


#: at most this many chunks are looked for by name (a bigger grid is not checked)
MAX_CHECKED_CHUNKS = 10_000_000


def absent_chunks(folder: Path, names: set[str]) -> list[tuple[slice, ...]]:
    """The regions (slices of the array) of the chunks of the zarr array at ``folder`` whose
    files are not among ``names`` (paths relative to ``folder``, as the scan lists them), in
    the grid's order: zarr v3's default and v2 chunk keys, the outer (shard) grid of v3. A
    zarr may leave out chunks that are all fill value (zarr 3 does by default), and an
    interrupted copy leaves chunks out too: both read as the fill value. Empty where the
    metadata cannot tell the names.

    >>> import tempfile, zarr
    >>> folder = Path(tempfile.mkdtemp()) / "image.zarr"
    >>> array = zarr.create_array(str(folder), shape=(4, 5), dtype="uint8", chunks=(2, 2))
    >>> array[...] = 1
    >>> os.remove(folder / "c" / "1" / "2")
    >>> names = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    >>> absent_chunks(folder, names)
    [(slice(2, 4, None), slice(4, 5, None))]
    """
    for name in _METADATA_FILES:
        try:
            metadata = json.loads((folder / name).read_bytes())
        except (OSError, ValueError):
            continue
        try:
            shape = [int(n) for n in metadata["shape"]]
            if name == "zarr.json":
                grid = metadata["chunk_grid"]["configuration"]["chunk_shape"]
                encoding = metadata.get("chunk_key_encoding") or {}
                separator = (encoding.get("configuration") or {}).get(
                    "separator", "/" if encoding.get("name", "default") == "default" else "."
                )
                prefix = "c/" if encoding.get("name", "default") == "default" else ""
            else:
                grid = metadata["chunks"]
                separator, prefix = metadata.get("dimension_separator") or ".", ""
            chunks = [int(c) for c in grid]
        except (LookupError, TypeError, ValueError, AttributeError):
            return []
        counts = [-(-n // c) for n, c in zip(shape, chunks, strict=True)]
        if not shape or math.prod(counts) > MAX_CHECKED_CHUNKS:
            return []
        found = []
        for index in np.ndindex(*counts):
            key = prefix + separator.join(map(str, index))
            if key not in names:
                found.append(
                    tuple(
                        slice(i * c, min(n, (i + 1) * c))
                        for i, c, n in zip(index, chunks, shape, strict=True)
                    )
                )
        return found
    return []


#: an absent chunk is taken for damage where more than this fraction of the pixels of the
#: faces of the existing neighbouring chunks that touch it differ from the fill value: the
#: image had signal up to that chunk's borders. A camera's image differs from 0
#: nearly everywhere (every face of t9's nuclei mosaic, the DSB2018 and ISBI images: 100%);
#: a mask or labels whose background is the fill value has objects that end at a chunk's
#: border by chance (tests/engine/test_blockwise: 8-13% of a face; of a random blob mask
#: in 8 x 8 chunks, most of one face at times, not of the four), not warned of
DAMAGED_FACE_FRACTION = 0.5


def _stored_plane(data) -> tuple[int, ...] | None:
    """The positions of Y and X among the stored axes of the zarr input ``data`` (None: not
    known, the last two are taken)."""
    ome = getattr(data, "ome", None)
    if ome is not None and isinstance(ome.get("axes"), list):
        letters = [
            str(e.get("name", "") if isinstance(e, dict) else e).upper() for e in ome["axes"]
        ]
    else:
        letters = list(getattr(data, "stored_axes", None) or data.axes)
    plane = tuple(i for i, a in enumerate(letters) if a in ("Y", "X"))
    return plane or None


def damaged_chunks(
    folder: Path, regions: list[tuple[slice, ...]], plane: tuple[int, ...] | None = None
) -> list[tuple[slice, ...]]:
    """:func:`damaged_chunks_steps` to its end (its progress unseen)."""
    return run_steps(damaged_chunks_steps(folder, regions, plane))


#: the judgement of absent chunks yields ``BlockProgress("fingerprint", chunks, absent chunks)``,
#: a cancel point, after this many absent chunks (each reads up to four faces of the
#: chunks beside it, each face decoding a whole chunk: 64 of them about 0.1-1 s)
ABSENT_PER_STEP = 64


#: the ``inner`` stage of the judgement's progress (what the command line's bar says)
ABSENT_STAGE = "absent chunks"


def _absent_progress(judged: int, total: int) -> BlockProgress:
    """The judgement's progress: still "fingerprint" (checking the input, before the run's
    plan), ``inner`` saying which part of it (:data:`ABSENT_STAGE`)."""
    from ..progress import Progress

    return BlockProgress("fingerprint", judged, total, inner=Progress(ABSENT_STAGE, judged, total))


def damaged_chunks_steps(
    folder: Path, regions: list[tuple[slice, ...]], plane: tuple[int, ...] | None = None
) -> Generator[BlockProgress, None, list[tuple[slice, ...]]]:
    """Of the absent chunks at ``regions`` (:func:`absent_chunks`) of the zarr array at
    ``folder``, those that look lost rather than left out: zarr 3 leaves out every chunk
    that is all fill value (an image's blank margin or frame), so an absent chunk is only
    suspect where the image has signal up to its border. For each absent chunk, the
    one-pixel faces of the existing chunks that touch it along the ``plane`` axes (Y and X;
    the last two where None) are read (one pixel thick: a chunk's worth of pixels at most per
    face): where more than :data:`DAMAGED_FACE_FRACTION` of those pixels (of all its faces
    together) differ from the fill value, it is returned (an interrupted copy), with the
    absent chunks that touch no existing one and are enclosed by such chunks only (the middle
    of a lost 3 x 3).
    Faces along Z or T are not judged: a blank slice or frame among others with signal is
    common and legitimate. An array that cannot be opened: every region (warned of as
    before). In the order of ``regions``.

    >>> import tempfile, zarr
    >>> folder = Path(tempfile.mkdtemp()) / "image.zarr"
    >>> array = zarr.create_array(str(folder), shape=(6, 6), dtype="uint8", chunks=(2, 2))
    >>> array[:, :3] = 5  # a blank margin 3 wide: chunks c/*/2 are left out, as all fill
    >>> os.remove(folder / "c" / "1" / "0")  # signal lost at [2:4, 0:2]
    >>> names = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    >>> absent = absent_chunks(folder, names)
    >>> len(absent), damaged_chunks(folder, absent)
    (4, [(slice(2, 4, None), slice(0, 2, None))])
    >>> array[:, 3] = 5  # the image had signal up to the margin's chunks: lost too?
    >>> len(damaged_chunks(folder, absent))
    4
    """
    if not regions:
        return []
    try:
        import zarr

        array = zarr.open_array(str(folder), mode="r")
        fill = np.asarray(array.fill_value if array.fill_value is not None else 0)
    except Exception:  # (another writer's metadata, a codec missing: say it as before)
        return list(regions)
    ndim = len(regions[0])
    shape = tuple(int(n) for n in array.shape)
    axes = plane if plane and all(0 <= a < ndim for a in plane) else tuple(range(ndim))[-2:]
    grid = tuple(int(c) for c in (getattr(array, "shards", None) or array.chunks))
    starts = {tuple(s.start // c for s, c in zip(r, grid, strict=True)): r for r in regions}

    def beside(at):  # (neighbour's index, axis, the face's index along it) in the plane
        region = starts[at]
        for axis in axes:
            for side in (-1, 1):
                edge = region[axis].start - 1 if side < 0 else region[axis].stop
                if 0 <= edge < shape[axis]:
                    yield at[:axis] + (at[axis] + side,) + at[axis + 1 :], axis, edge

    suspect, unknown = set(), set()  # signal beside it; no existing chunk beside it
    yield _absent_progress(0, len(starts))
    for judged, (at, region) in enumerate(starts.items()):
        if judged and judged % ABSENT_PER_STEP == 0:
            yield _absent_progress(judged, len(starts))
        differ = pixels = 0  # over the faces of its existing neighbours, together
        for neighbour, axis, edge in beside(at):
            if neighbour in starts:
                continue
            face = list(region)
            face[axis] = slice(edge, edge + 1)
            try:
                read = np.asarray(array[tuple(face)])
            except Exception:
                continue
            if read.dtype.kind == "f" and np.isnan(fill):
                differ += int(np.count_nonzero(~np.isnan(read)))
            else:
                differ += int(np.count_nonzero(read != fill))
            pixels += read.size
        if not pixels:
            unknown.add(at)
        elif differ > DAMAGED_FACE_FRACTION * pixels:
            suspect.add(at)
    # absent chunks that touch no existing chunk, wholly enclosed by lost ones, are lost too
    found, seen = set(suspect), set()
    for first in unknown:
        if first in seen:
            continue
        part, around, todo = {first}, set(), [first]
        seen.add(first)
        while todo:
            for neighbour, _, _ in beside(todo.pop()):
                if neighbour in unknown:
                    if neighbour not in seen:
                        seen.add(neighbour)
                        part.add(neighbour)
                        todo.append(neighbour)
                elif neighbour in starts:
                    around.add(neighbour)
        if around and around <= suspect:
            found |= part
    yield _absent_progress(len(starts), len(starts))
    return [region for at, region in starts.items() if at in found]


def absent_chunks_words(name: str, folder: Path, regions: list, shown: int = 3) -> str:
    """The warning that the chunks at ``regions`` of the zarr array at ``folder`` have no
    file (:func:`absent_chunks`): how many, the first ``shown`` of them, and what it means.

    >>> print(absent_chunks_words("crop.zarr", Path("/d/crop.zarr"), [(slice(2048, 3072),
    ...     slice(1024, 2048))], 3))  # doctest: +NORMALIZE_WHITESPACE
    crop.zarr: 1 chunk has no file in /d/crop.zarr: [2048:3072, 1024:2048]; its pixels are
    read as the array's fill value. A zarr may leave out chunks that are all fill value, but
    an interrupted copy (cp, rsync) leaves chunks out too: if the image has pixels there,
    copy that file again
    """
    where = ", ".join(
        "[" + ", ".join(f"{s.start}:{s.stop}" for s in region) + "]" for region in regions[:shown]
    )
    more = f" and {len(regions) - shown} more" if len(regions) > shown else ""
    many = len(regions) != 1
    return (
        f"{name}: {len(regions)} chunk{'s have' if many else ' has'} no file in {folder}: "
        f"{where}{more}; {'their' if many else 'its'} pixels are read as the array's fill "
        "value. A zarr may leave out chunks that are all fill value, but an interrupted copy "
        f"(cp, rsync) leaves chunks out too: if the image has pixels there, copy "
        f"{'those files' if many else 'that file'} again"
    )


def _expected_files(folder: Path) -> int:
    """How many chunk files the zarr array at ``folder`` has at most, from its metadata (the
    chunks of zarr v2, the outer chunk grid, shards included, of v3); 0 where it says not."""
    for name in _METADATA_FILES:
        try:
            metadata = json.loads((folder / name).read_bytes())
            shape = metadata["shape"]
            grid = metadata.get("chunk_grid") or {}  # (v3; v2 has "chunks")
            chunks = metadata.get("chunks") or grid["configuration"]["chunk_shape"]
            return math.prod(-(-int(n) // int(c)) for n, c in zip(shape, chunks, strict=True))
        except (OSError, ValueError, LookupError, TypeError):
            continue
    return 0


def _metadata_without_attributes(folder: Path) -> bytes:
    for name in _METADATA_FILES:
        path = folder / name
        if path.is_file():
            try:
                metadata = json.loads(path.read_bytes())
            except ValueError:
                return path.read_bytes()
            if isinstance(metadata, dict):
                metadata.pop("attributes", None)
            return json.dumps(metadata, sort_keys=True).encode()
    return b""


def _digest_files(folder: Path, prefix: str, digest, names: set | None = None) -> Iterator[None]:
    """Each file's relative path, size and mtime (ns), in name order, recursively: one stat
    per file (``os.scandir`` knows directories from the listing); yields after each file,
    whose relative path goes into ``names`` (where given)."""
    with os.scandir(folder) as listing:
        entries = sorted(listing, key=lambda entry: entry.name)
    for entry in entries:
        if entry.name.startswith("."):  # .zarray/.zattrs (metadata above), .DS_Store
            continue
        relative = f"{prefix}{entry.name}"
        if entry.is_dir():
            yield from _digest_files(Path(entry.path), f"{relative}/", digest, names)
        elif prefix or entry.name not in _METADATA_FILES:
            if names is not None:
                names.add(relative)
            stat = entry.stat()
            digest.update(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
            yield


def dask_zarr_folders(array) -> list[Path]:
    """The local folders of the zarr arrays a dask array's graph reads (``from_zarr``,
    inlined or not), sorted; the graph's tasks are not materialised."""
    graph = array.__dask_graph__()
    found: set[Path] = set()
    for layer in getattr(graph, "layers", {}).values():
        if type(layer).__name__ == "MaterializedLayer" and len(layer) <= 16:
            candidates: list[Any] = list(layer.values())  # from_array's "original-" array
        else:  # a Blockwise layer's arguments (from_zarr(..., inline_array=True))
            candidates = [value for value, index in getattr(layer, "indices", ()) if not index]
        for candidate in candidates:
            folder = _zarr_folder(candidate)
            if folder is not None:
                found.add(folder)
    return sorted(found)


def _zarr_folder(candidate) -> Path | None:
    """The folder of a zarr array in a local store (LocalStore, or fsspec's local file
    system, which ``dask.array.from_zarr(path)`` opens), else None."""
    store, path = getattr(candidate, "store", None), getattr(candidate, "path", None)
    if store is None or not isinstance(path, str) or not hasattr(candidate, "shape"):
        return None
    root = getattr(store, "root", None)  # zarr.storage.LocalStore
    if root is None:
        protocols = getattr(getattr(store, "fs", None), "protocol", ())
        protocols = (protocols,) if isinstance(protocols, str) else protocols
        if "file" not in protocols and "local" not in protocols:
            return None  # a remote or in-memory store: its files cannot be listed here
        root = getattr(store, "path", None)
        if not isinstance(root, str):
            return None
    return Path(root).resolve() / path
