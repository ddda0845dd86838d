"""A digest of labels that a recipe written beside them records, so a reader can tell whether
the labels file still holds the labels the recipe describes. No Qt here.

``tessella segment`` and the Export panel record :func:`labels_digest` of the labels they
write in the ``name.recipe.json`` beside ``name.tif``/``name.zarr``; the napari reader checks
it with :func:`digest_matches` when it reattaches the recipe. Both take labels on disk too (a
zarr or dask array, which the reader opens lazily when large): they read them piece by piece
in C order, whole rows of their chunks where these fit :data:`_SLAB_BYTES` (each chunk
decoded once), at most :data:`_SLAB_BYTES` at a time, never whole (see :func:`_pieces`).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import math
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import Any

import numpy as np

from .progress import Progress, run_steps

__all__ = [
    "DIGEST_KEY",
    "FILES_KEY",
    "digest_matches",
    "labels_digest",
    "labels_digest_steps",
    "replay_verdict",
    "stored_files_stamp",
]

#: the recipe key that holds :func:`labels_digest` of the labels written beside it
DIGEST_KEY = "labels_digest"
#: the stage of :func:`labels_digest_steps`' progress (a blockwise run's last one)
DIGEST_STAGE = "digest"
#: the recipe key that holds :func:`stored_files_stamp` of the zarr whose labels the recipe's
#: :data:`DIGEST_KEY` was computed on (a blockwise run records both in its result's
#: attributes): while the zarr's files are those, the digest holds without reading a pixel
FILES_KEY = "labels_digest_files"
# the metadata files of a zarr store, whose attributes change no pixel
_METADATA_NAMES = frozenset({"zarr.json", ".zarray", ".zattrs", ".zgroup", ".zmetadata"})

# values are cast and hashed this many at a time: no copy of a whole large array
_CHUNK_VALUES = 2**22
# labels not in memory (zarr, dask) are read in C-order pieces of about this many bytes ...
_PIECE_BYTES = 2**27
# ... or, where a row of their chunks is larger, one row of chunks up to this many (each
# chunk decoded once, not once per piece that crosses it)
_SLAB_BYTES = 2**28


def _canonical_dtype(labels: np.ndarray) -> np.dtype:
    """The type the digest hashes ``labels``' values as: uint16, uint32 above 65,535, uint64
    above 2**32 - 1 (the types the labels writers use, so a file they wrote is hashed as it
    reads back, without a cast); int64 for negative values, which no writer writes."""
    if labels.dtype.kind not in "iub":
        raise ValueError(f"labels must be integers, got {labels.dtype}")
    if labels.dtype.kind == "b" or (labels.dtype.kind == "u" and labels.dtype.itemsize <= 2):
        return np.dtype("<u2")
    if labels.size == 0:
        return np.dtype("<u2")
    return _dtype_of_range(int(labels.min()), int(labels.max()))


def _dtype_of_range(low: int, top: int) -> np.dtype:
    """:func:`_canonical_dtype` of integer labels from ``low`` to ``top`` (wider than uint16)."""
    if low < 0:
        return np.dtype("<i8")
    for dtype in ("<u2", "<u4"):
        if top <= np.iinfo(dtype).max:
            return np.dtype(dtype)
    return np.dtype("<u8")


def _in_memory(labels: Any) -> bool:
    """Whether ``labels`` are held in memory (numpy), not read from disk on access."""
    return isinstance(labels, np.ndarray)


def _pieces(labels: Any) -> Iterator[np.ndarray]:
    """``labels`` (a zarr or dask array) read in C order as numpy pieces whose bytes one after
    the other are the whole array's (:func:`_piece_reads`, each read in turn)."""
    for read in _piece_reads(labels):
        yield read()


def _piece_reads(labels: Any) -> list[Callable[[], np.ndarray]]:
    """How :func:`_pieces` reads ``labels`` (a zarr or dask array) in C order: one call per
    numpy piece, none made yet (so that the pieces can be counted before any is read).
    Where it can, each piece is one or more whole rows of
    chunks along the first axis whose chunk row fits :data:`_SLAB_BYTES` (the axes before it
    in chunks of 1), so that each chunk is decoded once; pieces then hold about
    :data:`_PIECE_BYTES`, or one chunk row up to :data:`_SLAB_BYTES`. Otherwise (chunks deeper
    than that, as 3D labels zarrs written before had) pieces of up to :data:`_SLAB_BYTES`:
    runs of whole hyperplanes along the first axis whose hyperplane fits, aligned with the
    chunks where they can be, each read one chunk column at a time; zarr decodes each chunk a
    piece crosses whole, once per piece (a 512-deep chunk of 512³ uint32 labels 2048² wide:
    32 times, each 512 MiB)."""
    shape = tuple(int(n) for n in labels.shape)
    if not shape or 0 in shape:
        return [functools.partial(_read, labels, ...)]
    chunks = getattr(labels, "chunksize", None) or getattr(labels, "chunks", None)
    if not (isinstance(chunks, tuple) and len(chunks) == len(shape)):
        chunks = shape
    chunks = tuple(
        min(int(c), n) if isinstance(c, int | np.integer) and c > 0 else n
        for c, n in zip(chunks, shape)
    )
    itemsize = np.dtype(labels.dtype).itemsize
    for axis in range(len(shape)):  # whole chunk rows, each chunk decoded once
        plane = itemsize * math.prod(shape[axis + 1 :])
        row = chunks[axis] * plane
        if row <= _SLAB_BYTES:
            step = chunks[axis] * max(1, _PIECE_BYTES // row)
            return [
                functools.partial(_read, labels, outer + (slice(start, start + step),))
                for outer in itertools.product(*(range(n) for n in shape[:axis]))
                for start in range(0, shape[axis], step)
            ]
        if chunks[axis] != 1:  # read index by index, this axis would decode chunks again
            break
    axis = 0  # the first axis a run of whose hyperplanes fits (the last one always does)
    while axis < len(shape) - 1 and itemsize * math.prod(shape[axis + 1 :]) > _SLAB_BYTES:
        axis += 1
    plane = itemsize * math.prod(shape[axis + 1 :])
    step = max(1, _SLAB_BYTES // plane)  # large pieces: fewer decodes of each chunk
    if step >= chunks[axis]:
        step -= step % chunks[axis]
    return [
        functools.partial(_chunk_by_chunk, labels, outer + (slice(start, start + step),), chunks)
        for outer in itertools.product(*(range(n) for n in shape[:axis]))
        for start in range(0, shape[axis], step)
    ]


def _read(labels: Any, index: Any) -> np.ndarray:
    return np.asarray(labels[index])


def _chunk_by_chunk(labels: Any, index: tuple, chunks: tuple[int, ...]) -> np.ndarray:
    """``labels[index]`` (``index``: integers, then a slice, then whole axes) read one chunk
    column of the whole axes at a time: zarr decodes one chunk at a time, not all those the
    piece crosses at once (each up to 512 MiB in 3D labels written before)."""
    shape = tuple(int(n) for n in labels.shape)
    first = len(index) - 1
    lead = range(*index[-1].indices(shape[first]))
    piece = np.empty((len(lead), *shape[first + 1 :]), dtype=labels.dtype)
    grid = [range(0, n, c) for n, c in zip(shape[first + 1 :], chunks[first + 1 :])]
    for corner in itertools.product(*grid):
        block = tuple(slice(o, o + c) for o, c in zip(corner, chunks[first + 1 :]))
        piece[(slice(None),) + block] = np.asarray(labels[index + block])
    return piece


def _range_of(labels: Any) -> tuple[int, int]:
    """The smallest and largest value of non-empty ``labels`` on disk, read piece by piece."""
    return run_steps(_range_steps(_piece_reads(labels)))


def _range_steps(reads: list[Callable[[], np.ndarray]]) -> Generator[None, None, tuple[int, int]]:
    """:func:`_range_of` of the pieces ``reads`` read, yielding after each piece."""
    low, top = None, None
    for read in reads:
        piece = read()
        if piece.size:
            low = int(piece.min()) if low is None else min(low, int(piece.min()))
            top = int(piece.max()) if top is None else max(top, int(piece.max()))
        yield
    return (0, 0) if low is None or top is None else (low, top)


def _hash_pieces(labels: Any, dtype: np.dtype) -> tuple[str, int, int]:
    """The SHA-256 of the values of ``labels`` on disk as ``dtype``, and their smallest and
    largest value (0, 0 when empty), in one reading piece by piece."""
    return run_steps(_hash_steps(_piece_reads(labels), dtype))


def _hash_steps(
    reads: list[Callable[[], np.ndarray]], dtype: np.dtype
) -> Generator[None, None, tuple[str, int, int]]:
    """:func:`_hash_pieces` of the pieces ``reads`` read, yielding after each piece."""
    hashed = hashlib.sha256()
    low, top = 0, 0
    seen = False
    for read in reads:
        piece = read()
        if piece.size:
            lo, hi = int(piece.min()), int(piece.max())
            low, top = (min(low, lo), max(top, hi)) if seen else (lo, hi)
            seen = True
        flat = piece.reshape(-1)
        for start in range(0, flat.size, _CHUNK_VALUES):
            chunk = np.ascontiguousarray(flat[start : start + _CHUNK_VALUES], dtype=dtype)
            hashed.update(chunk.data.cast("B"))
        yield
    return hashed.hexdigest(), low, top


def _counted(steps: Generator[None, None, Any], done: int, total: int):
    """``steps``' value, yielding ``Progress(DIGEST_STAGE, done, total)`` after each of its
    steps, ``done`` counting on from the one given."""
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            return stop.value
        done += 1
        yield Progress(DIGEST_STAGE, done, total)


def _streamed_dtype(labels: Any, low: int, top: int) -> np.dtype:
    """:func:`_canonical_dtype` of labels on disk whose values range from ``low`` to ``top``."""
    kind, itemsize = np.dtype(labels.dtype).kind, np.dtype(labels.dtype).itemsize
    if kind not in "iub":
        raise ValueError(f"labels must be integers, got {labels.dtype}")
    if kind == "b" or (kind == "u" and itemsize <= 2) or math.prod(labels.shape) == 0:
        return np.dtype("<u2")
    return _dtype_of_range(low, top)


def labels_digest(labels: np.ndarray) -> dict[str, Any]:
    """``{"shape", "dtype", "sha256"}`` of ``labels``' values: the SHA-256 of their bytes in C
    order, little-endian, as ``dtype`` (uint16, uint32 above 65,535 or uint64 above
    2**32 - 1, whatever type they are held in: a file re-saved as another integer type with
    the same values has the same digest).

    0.2-0.5 s for 8192 x 8192 uint32 labels, 0.1-0.25 s for uint16 ones (one core with
    SHA-NI, idle to busy): a fraction of writing them as a compressed TIFF (3-4 s).

    >>> labels = np.zeros((2, 3), np.int32)
    >>> labels[0, 1] = 7
    >>> digest = labels_digest(labels)
    >>> digest["shape"], digest["dtype"], digest["sha256"][:12]
    ([2, 3], 'uint16', 'fa2a032c1833')
    >>> digest == labels_digest(labels.astype(np.uint32))
    True

    Labels on disk (zarr, dask) are read twice piece by piece (their range, then their values),
    never whole: the same digest as of the array read into memory.
    """
    if _on_disk(labels):
        return run_steps(labels_digest_steps(labels))
    labels = np.asarray(labels)
    dtype = _canonical_dtype(labels)
    flat = labels.reshape(-1)  # (a copy only when labels are not contiguous)
    hashed = hashlib.sha256()
    if flat.dtype == dtype and flat.flags.c_contiguous:
        hashed.update(flat.data.cast("B"))
    else:
        for start in range(0, flat.size, _CHUNK_VALUES):
            chunk = np.ascontiguousarray(flat[start : start + _CHUNK_VALUES], dtype=dtype)
            hashed.update(chunk.data.cast("B"))
    return {"shape": list(labels.shape), "dtype": dtype.name, "sha256": hashed.hexdigest()}


def labels_digest_steps(
    labels: Any, top: int | None = None
) -> Generator[Progress, None, dict[str, Any]]:
    """:func:`labels_digest` of ``labels``, as a generator: for labels on disk (zarr, dask) it
    yields ``Progress("digest", done, total)`` before the first piece and after each piece
    read (:func:`_pieces`), so that the caller can show how far it is and stop it between
    two pieces (``close()`` it: nothing is written, nothing is left open). Labels in memory
    are hashed at once, nothing yielded.

    ``top``: the largest value the labels are expected to hold (a blockwise run's object
    count, known without reading them). Labels on disk are then read once, hashed as the
    type it gives, and read again only where the values read give another type (a larger
    value, or none as large); without it, twice (their range, then their values), as
    :func:`labels_digest` reads them. The digest is the same either way.

    >>> import zarr
    >>> stored = zarr.create_array({}, shape=(300, 4), chunks=(100, 4), dtype="uint32")
    >>> stored[:] = 7
    >>> steps, said = labels_digest_steps(stored, top=7), []
    >>> while True:
    ...     try:
    ...         said.append(next(steps))
    ...     except StopIteration as stop:
    ...         digest = stop.value
    ...         break
    >>> [(p.stage, p.done, p.total) for p in said], digest == labels_digest(stored[...])
    ([('digest', 0, 1), ('digest', 1, 1)], True)
    """
    if not _on_disk(labels):
        return labels_digest(labels)
    reads = _piece_reads(labels)
    count = len(reads)
    guess = None if top is None else _streamed_dtype(labels, 0, int(top))
    total = 2 * count if guess is None else count
    yield Progress(DIGEST_STAGE, 0, total)
    if guess is None:
        low, high = yield from _counted(_range_steps(reads), 0, total)
        dtype = _streamed_dtype(labels, low, high)
        sha256 = (yield from _counted(_hash_steps(reads, dtype), count, total))[0]
    else:
        sha256, low, high = yield from _counted(_hash_steps(reads, guess), 0, total)
        dtype = _streamed_dtype(labels, low, high)
        if dtype != guess:  # (not the values expected: hashed again as they are)
            total += count
            sha256 = (yield from _counted(_hash_steps(reads, dtype), count, total))[0]
    return {"shape": [int(n) for n in labels.shape], "dtype": dtype.name, "sha256": sha256}


def _on_disk(labels: Any) -> bool:
    """Whether ``labels`` are an array read from disk on access (zarr, dask), not numpy."""
    return not _in_memory(labels) and hasattr(labels, "shape") and hasattr(labels, "dtype")


def digest_matches(digest: Any, labels: np.ndarray) -> bool:
    """Whether ``labels`` are the labels ``digest`` (:func:`labels_digest`, as read from a
    recipe) describes. A digest that is not one (edited by hand, cut short) matches nothing:
    it cannot vouch for the labels.

    Axes of length 1 are left out of the comparison of shapes: a TIFF reader drops them
    (labels written as 1 x Y x X read back as Y x X), and they do not change the values'
    bytes in C order, so the SHA-256 is the same with or without them.

    >>> labels = np.arange(6, dtype=np.uint16).reshape(2, 3)
    >>> digest = labels_digest(labels)
    >>> digest_matches(digest, labels), digest_matches(digest, labels.T)
    (True, False)
    >>> digest_matches(labels_digest(labels[np.newaxis]), labels)
    True
    >>> digest_matches({"sha256": "0"}, labels)
    False
    """
    if not isinstance(digest, dict):
        return False
    shape, dtype, sha256 = digest.get("shape"), digest.get("dtype"), digest.get("sha256")
    if not isinstance(shape, list) or not isinstance(sha256, str) or not isinstance(dtype, str):
        return False
    if _on_disk(labels):
        return _streamed_matches(labels, shape, dtype, sha256)
    labels = np.asarray(labels)
    if _without_ones(labels.shape) != _without_ones(shape) or labels.dtype.kind not in "iub":
        return False
    found = labels_digest(labels)
    return found["dtype"] == dtype and found["sha256"] == sha256


def _digest_differences(recorded: dict, now: dict) -> str:
    """What differs between two :func:`labels_digest` (a recipe's, then a replay's): ""
    where they are the same labels, else in words ("shape [5, 64, 64], now [5, 64, 32]",
    "the same shape and type, other values")."""
    shape, dtype = recorded.get("shape"), recorded.get("dtype")
    if not isinstance(shape, list) or _without_ones(shape) != _without_ones(now["shape"]):
        return f"shape {shape}, now {now['shape']}"
    if dtype != now["dtype"]:
        return f"type {dtype}, now {now['dtype']}"
    if recorded.get("sha256") != now["sha256"]:
        was = str(recorded.get("sha256"))[:12]
        return f"the same shape and type, other values (sha256 {was}…, now {now['sha256'][:12]}…)"
    return ""


#: what a recipe records of how its labels were made, in the words a replay that gives other
#: labels names where they differ (:func:`replay_verdict`)
_MADE_WITH = (
    ("tessella_version", "Tessella version"),
    ("tessella_revision", "Tessella revision"),  # (engine.revision: the code's commit)
    ("model_sha256", "model weights"),
    ("device", "device"),
    ("tta", "tta"),
    ("tile", "tile"),
)


def _short(value: Any) -> str:
    """``value`` as a replay's words give it: a SHA-256 by its first 12 digits."""
    text = str(value)
    digest = len(text) == 64 and all(c in "0123456789abcdef" for c in text)
    return f"{text[:12]}…" if digest else text


def replay_verdict(
    recipe: dict, recorded: dict, source: Any, where: Any, outputs: Any = ()
) -> tuple[bool, str] | None:
    """Whether a replay of ``recipe`` (read from ``where``) on the input ``source``
    reproduced the labels the recipe records (its :data:`DIGEST_KEY`), ``recorded`` being
    the recipe the replay wrote (with the digest of its labels): ``(True, words)`` saying so,
    ``(False, words)`` saying what differs (the labels' shape, type or values, and which of
    what made them differs: Tessella's version, the model's weights, the device, ``tta``,
    ``tile``, the parameters; or that none of that does). None where nothing can be said:
    the recipe records no digest, or of labels edited after its run (``labels_edited``), or
    of a mask stack where labels were written (or the reverse), or no ``input_identity``,
    or the input differs from the one it records
    (:func:`~tessella.engine.input_record.input_changes`; ``outputs``: as there).

    >>> import tempfile
    >>> from pathlib import Path
    >>> from tessella.engine.input_record import INPUT_KEY, input_identity
    >>> image = Path(tempfile.mkdtemp()) / "a.tif"
    >>> _ = image.write_bytes(b"pixels")
    >>> labels = np.zeros((4, 4), np.uint16)
    >>> recipe = {INPUT_KEY: input_identity(image), DIGEST_KEY: labels_digest(labels)}
    >>> replay_verdict(recipe, {DIGEST_KEY: labels_digest(labels)}, image, "a.recipe.json")[0]
    True
    >>> labels[0, 0] = 1
    >>> replay_verdict(recipe, {DIGEST_KEY: labels_digest(labels)}, image, "a.recipe.json")[0]
    False
    """
    from .input_record import INPUT_KEY, input_changes

    wanted, got = recipe.get(DIGEST_KEY), recorded.get(DIGEST_KEY)
    if not isinstance(wanted, dict) or not isinstance(got, dict) or recipe.get("labels_edited"):
        return None
    if bool(recipe.get("stack")) != bool(recorded.get("stack")):
        return None  # (the digest of a mask stack, not of labels)
    if input_changes(recipe.get(INPUT_KEY), source, outputs) != "":
        return None  # (no record of the input, or another input: nothing to compare)
    differs = _digest_differences(wanted, got)
    if not differs:
        return True, f"{where}: reproduced the recorded labels (sha256 {got['sha256'][:12]}…)"
    both = [(key, words) for key, words in _MADE_WITH if key in recipe and key in recorded]
    made = [
        f"{words} {_short(recipe[key])}, now {_short(recorded[key])}"
        for key, words in both
        if recipe[key] != recorded[key]
    ]
    compared = [words for _key, words in both]
    then, now = recipe.get("params"), recorded.get("params")
    if isinstance(then, dict) and isinstance(now, dict):
        compared.append("parameters")
        made += [
            f"{name} {then.get(name)}, now {now.get(name)}"
            for name in sorted(set(then) | set(now))
            if then.get(name) != now.get(name)
        ]
    if made:
        why = "; recorded with " + "; ".join(made)
    elif compared:
        why = f"; with the same {', '.join(compared)}"
    else:
        why = ""
    return False, (
        f"{where}: the replay gave other labels than it records from the same input "
        f"{Path(str(source)).name} ({differs}){why}"
    )


def _without_ones(shape: Any) -> list[Any]:
    """``shape`` without its axes of length 1 (which readers may drop or add)."""
    return [length for length in shape if length != 1]


def _streamed_matches(labels: Any, shape: list, dtype: str, sha256: str) -> bool:
    """:func:`digest_matches` for labels on disk (zarr, dask), read once piece by piece: hashed
    as the type the digest names, which must then be the one their range gives."""
    if _without_ones(tuple(labels.shape)) != _without_ones(shape):
        return False
    if np.dtype(labels.dtype).kind not in "iub":
        return False
    try:
        recorded = np.dtype(dtype).newbyteorder("<")
    except TypeError:
        return False
    if recorded.name not in ("uint16", "uint32", "uint64", "int64"):
        return False
    found, low, top = _hash_pieces(labels, recorded)
    return found == sha256 and _streamed_dtype(labels, low, top) == recorded


def stored_files_stamp(folder: Any) -> str | None:
    """A SHA-256 of the files of the zarr store ``folder`` as they are on disk, not of their
    pixels: each file's path relative to ``folder``, size and modification time (ns), the
    arrays' metadata without their attributes (shape, chunks, data type, codecs) and the
    attributes by which the reader lays out the pixels (:func:`_layout_of`: ``tessella_axes``,
    OME-Zarr multiscales' axis names and dataset paths); None where it cannot be listed. One
    ``stat`` per chunk file (about 100 files for a 20000² result in 2048² chunks): no pixel
    is read. Every write of a chunk, by zarr or any other tool, gives its file a new
    modification time (a chunk written as all fill value is deleted), so labels edited by
    hand change it, as does an edit of those attributes (``tessella_axes`` "YX" made "XY":
    the labels read transposed); other attribute edits (a recipe written, the pixel size, an
    OME-Zarr labels group's ``image-label``) and a rename of the folder do not. Only a file
    replaced by one of the same size and the same time goes unnoticed (a copy that keeps the
    time of the same write: ``cp -p``), the check ``--skip-existing``'s input identity and
    rsync rely on; a copy that does not keep times changes it (the digest is then checked
    reading the labels). Before the layout attributes were in it, a stamp recorded of a store
    with any of them differs from this one: its digest is checked reading the labels."""
    import json
    import os
    from pathlib import Path

    root = Path(folder)
    hashed = hashlib.sha256()
    try:
        for current, _dirs, files in sorted(os.walk(root, onerror=_raise)):
            relative = Path(current).relative_to(root).as_posix()
            for name in sorted(files):
                path = Path(current) / name
                if name in _METADATA_NAMES:
                    if name == ".zgroup":
                        continue
                    metadata = json.loads(path.read_bytes())
                    layout = _layout_of(metadata, name)
                    if name in (".zattrs", ".zmetadata"):  # (attributes only: their layout)
                        if layout:
                            hashed.update(f"{relative}/{name}\0{layout}\n".encode())
                        continue
                    if isinstance(metadata, dict):
                        metadata.pop("attributes", None)
                    line = f"{relative}/{name}\0{json.dumps(metadata, sort_keys=True)}"
                    # (no layout attribute: the line of a stamp recorded before they counted)
                    hashed.update(
                        f"{line}\0{layout}\n".encode() if layout else f"{line}\n".encode()
                    )
                elif not name.startswith("."):  # (.DS_Store)
                    stat = path.stat()
                    hashed.update(
                        f"{relative}/{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode()
                    )
    except (OSError, ValueError):
        return None
    return hashed.hexdigest()


def _layout_of(metadata: Any, name: str) -> str:
    """The attributes of a zarr metadata file (``name``: ``zarr.json``, ``.zattrs``, or
    ``.zmetadata``, which holds every node's) by which the reader lays out the pixels, as
    JSON text; empty where it has none. ``tessella_axes`` (a plain array's axes, which the
    reader puts in its order: "XY" reads the array transposed) and, for each OME-Zarr
    multiscales (at the top or under ``ome``), its axis names and its datasets' paths
    (which array is read, and how its axes are named). Not the pixel size, unit, scale, the
    recipe or ``image-label``: they lay out no pixel.

    >>> _layout_of({"attributes": {"tessella_axes": "YX", "pixel_size": {"Y": 1}}}, "zarr.json")
    '[{"tessella_axes": "YX"}]'
    >>> _layout_of({"shape": [4, 4]}, "zarr.json"), _layout_of({"tessella": {}}, ".zattrs")
    ('', '')
    """
    import json

    if not isinstance(metadata, dict):
        return ""
    if name == ".zmetadata":  # {"metadata": {"path/.zattrs": {...}, ...}}
        nodes = metadata.get("metadata")
        found = nodes if isinstance(nodes, dict) else {}
        every = [(key, found[key]) for key in sorted(found) if key.endswith(".zattrs")]
    elif name == "zarr.json":
        every = [("", metadata.get("attributes"))]
    else:
        every = [("", metadata)]
    kept = []
    for key, attrs in every:
        if not isinstance(attrs, dict):
            continue
        layout: dict[str, Any] = {}
        if "tessella_axes" in attrs:
            layout["tessella_axes"] = attrs["tessella_axes"]
        ome = attrs.get("ome")
        multiscales = attrs.get("multiscales")
        if multiscales is None and isinstance(ome, dict):
            multiscales = ome.get("multiscales")
        if isinstance(multiscales, list):
            layout["multiscales"] = [_multiscale_layout(m) for m in multiscales]
        elif multiscales is not None:
            layout["multiscales"] = multiscales  # (not a list: the reader refuses it)
        if layout:
            kept.append({"node": key, **layout} if key else layout)
    return json.dumps(kept, sort_keys=True) if kept else ""


def _multiscale_layout(multiscale: Any) -> Any:
    """Of one OME-Zarr multiscales entry, what lays out pixels: axis names, dataset paths."""
    if not isinstance(multiscale, dict):
        return multiscale
    axes = multiscale.get("axes")
    if isinstance(axes, list):
        axes = [a.get("name") if isinstance(a, dict) else a for a in axes]
    datasets = multiscale.get("datasets")
    if isinstance(datasets, list):
        datasets = [d.get("path") if isinstance(d, dict) else d for d in datasets]
    return {"axes": axes, "datasets": datasets}


def _raise(error: OSError) -> None:
    raise error


def _is_digest_of_shape(digest: dict, labels: Any) -> bool:
    """Whether ``digest`` names integer labels of the shape of ``labels`` (axes of length 1
    aside, as :func:`digest_matches` compares them)."""
    return np.dtype(labels.dtype).kind in "iub" and _without_ones(
        tuple(int(n) for n in labels.shape)
    ) == _without_ones(digest["shape"])
