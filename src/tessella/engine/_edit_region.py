"""Edit a region of labels stored in a zarr (a big blockwise result) in memory, and write it
back. No Qt.

:func:`region_steps` reads the level-0 labels of a box of the zarr into memory, with what a
safe write needs: the :func:`~tessella.engine.digest.stored_files_stamp` of the store, a
SHA-256 of the region's bytes and the largest label ID of the whole store (recorded in its
attributes, :data:`MAX_LABEL_ATTR`, with the stamp it holds for; else read once, piece by
piece). :func:`write_region_steps` writes the edited region back:

* it refuses (:class:`RegionChangedError`) where the region's labels in the store are no
  longer those loaded (the store's files changed since, and the region's bytes too);
* object IDs new in the region (pieces of a split, a brush's new label) are renamed to IDs
  above the store's largest, so that no ID is shared with an object elsewhere;
* edits of whole objects (Correct's Delete and Merge: ``objects``, an ID -> the ID it
  becomes, 0 for deleted) are applied to the rest of the store too, piece by piece (rows of
  chunks read; only the chunks that hold those IDs written), so that an object crossing the
  region's edge is deleted or merged whole; every other edit (brush, eraser, fill, split)
  stays inside the region, and the objects that cross its edge and were changed only inside
  it are named (:attr:`Written.cut`);
* only the box of the pixels that changed (and the chunks outside it holding the objects
  deleted or merged) is written (zarr writes each chunk file under a
  temporary name, then renames it); the labels there before are kept in memory until the
  end, and written back where anything fails (an error, a disk full, Cancel), so that the
  store holds either the old labels or the new ones;
* the store's lower resolution levels (an OME-Zarr's ``1``, ``2``, ...) are rewritten over
  the boxes written, as every ``f``-th pixel of level 0 (label IDs stay exact);
* the recipe in the store's attributes (``tessella``, as a blockwise run writes it) says
  that the labels were edited after segmentation (``labels_edited``), and loses the digest
  and files stamp of the labels the run wrote (:func:`_recipe_steps`: no whole read of the
  store at each write; the reader then takes the recipe as it says, without reading the
  labels, and does not take them for changed outside Tessella).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .progress import Progress

__all__ = [
    "MAX_LABEL_ATTR",
    "REGION_MAX_PIXELS",
    "Region",
    "RegionChangedError",
    "Written",
    "region_steps",
    "store_of",
    "write_region_steps",
]

#: the most level-0 pixels a region may hold (4096², 64 MiB of uint32 labels, plus the copy
#: kept to find what changed)
REGION_MAX_PIXELS = 4096 * 4096

#: the attribute in which the store records its largest label ID: ``{"value": N, "files":
#: stamp}``, which holds while :func:`~tessella.engine.digest.stored_files_stamp` is ``stamp``
MAX_LABEL_ATTR = "tessella_max_label"

#: the recipe attribute of a labels zarr (``tessella._io_recipe.ZARR_RECIPE_ATTR``)
RECIPE_ATTR = "tessella"

#: the note the recipe gets when its labels were written back edited
EDITED_NOTE = (
    "The labels were edited after segmentation (Correct's Write back of a region); replaying "
    "this recipe gives them as they were before."
)

# the store's maximum is read in pieces of about this many bytes
_PIECE_BYTES = 2**26


class RegionChangedError(ValueError):
    """The region's labels in the store are not those loaded: written back, they would undo
    someone else's change."""


@dataclass
class Region:
    """A region of a labels zarr loaded into memory (:func:`region_steps`)."""

    path: Path  # the zarr store (folder)
    key: str  # the level-0 array in it ("" for an array at the store's root)
    box: tuple[slice, ...]  # the region, in level-0 pixels (whole other axes)
    labels: np.ndarray  # the region's labels as loaded (or as last written back)
    stamp: str | None  # stored_files_stamp of the store when loaded (or last written)
    sha256: str  # of the region's bytes as loaded
    top: int  # the largest label ID of the whole store
    levels: list[tuple[str, tuple[int, ...]]] = field(default_factory=list)  # (key, factors)


@dataclass
class Written:
    """What :func:`write_region_steps` wrote."""

    pixels: int  # level-0 pixels changed
    renamed: dict[int, int]  # new IDs in the region -> the IDs written for them
    box: tuple[slice, ...] | None  # the box written (level 0), None when nothing changed
    labels: np.ndarray  # the region as written (the renamed IDs in it)
    # objects deleted (-> 0) or merged (-> their target) in the whole store, as written
    whole: dict[int, int] = field(default_factory=dict)
    outside: int = 0  # pixels of them changed outside the region
    # objects that continue outside the region and were changed only inside it
    cut: list[int] = field(default_factory=list)
    spans: tuple[slice, ...] | None = None  # the box spanning every pixel written (level 0)


def store_of(array: Any) -> tuple[Path, str] | None:
    """``(folder, key)`` of a zarr array on a local store (level 0 of a lazy labels layer:
    a blockwise result); None for anything else (numpy, dask, a zarr in memory)."""
    store = getattr(array, "store", None)
    root = getattr(store, "root", None)
    key = getattr(array, "path", None)
    if root is None or not isinstance(key, str) or not hasattr(array, "chunks"):
        return None
    try:
        folder = Path(root)
    except TypeError:
        return None
    return (folder, key) if folder.is_dir() else None


def _open(path: Path, key: str, mode: str) -> Any:
    import zarr

    node: Any = zarr.open(str(path), mode=mode)  # type: ignore[arg-type]
    return node[key] if key else node


def _levels(path: Path, key: str, shape: tuple[int, ...]) -> list[tuple[str, tuple[int, ...]]]:
    """The lower resolution levels stored beside the level-0 array ``key``: the datasets of
    an OME-Zarr ``multiscales`` after ``key``, each with its integer factor per axis; those
    that are not every ``f``-th pixel of level 0 (another type, a fractional factor) are
    left out."""
    if not key:
        return []
    import zarr

    parent, _, name = key.rpartition("/")
    try:
        group = zarr.open_group(str(path), mode="r", path=parent)
        multiscales: Any = group.attrs.get("multiscales") or []
        paths = [str(d.get("path")) for d in multiscales[0].get("datasets", [])]
    except Exception:
        return []
    if name not in paths:
        return []
    base = _open(path, key, "r")
    found: list[tuple[str, tuple[int, ...]]] = []
    for sub in paths[paths.index(name) + 1 :]:
        full = f"{parent}/{sub}" if parent else sub
        try:
            level = _open(path, full, "r")
        except Exception:
            break
        if np.dtype(level.dtype) != np.dtype(base.dtype) or level.ndim != len(shape):
            break
        factors = []
        for n, m in zip(shape, level.shape):
            f = max(1, round(n / max(int(m), 1)))
            if -(-n // f) != int(m):
                return found
            factors.append(f)
        found.append((full, tuple(factors)))
    return found


def _sha(labels: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(labels).data.cast("B")).hexdigest()


def _stamp(path: Path) -> str | None:
    from .digest import stored_files_stamp

    return stored_files_stamp(path)


def _top_steps(path: Path, array, stamp: str | None) -> Generator[Progress, None, int]:
    """The largest label ID of ``array``: as recorded (:data:`MAX_LABEL_ATTR`) for the
    store's files ``stamp``, else read piece by piece (rows of chunks)."""
    try:
        recorded = _open(path, "", "r").attrs.get(MAX_LABEL_ATTR)
    except Exception:
        recorded = None
    if (
        isinstance(recorded, dict)
        and stamp is not None
        and recorded.get("files") == stamp
        and isinstance(recorded.get("value"), int)
    ):
        return int(recorded["value"])
    shape = tuple(int(n) for n in array.shape)
    rows = int(array.chunks[0]) if shape else 1
    row_bytes = np.dtype(array.dtype).itemsize * math.prod(shape[1:]) * rows
    step = rows * max(1, _PIECE_BYTES // max(row_bytes, 1))
    starts = list(range(0, shape[0], step)) if shape else [0]
    top = 0
    for done, start in enumerate(starts):
        yield Progress("maximum", done, len(starts))
        piece = np.asarray(array[start : start + step])
        if piece.size:
            top = max(top, int(piece.max()))
    yield Progress("maximum", len(starts), len(starts))
    return top


def _record_top(path: Path, top: int, stamp: str | None) -> None:
    """Record ``top`` as the store's largest ID for its files ``stamp`` (attributes are not
    in the stamp); nothing where it cannot be written."""
    if stamp is None:
        return
    try:
        _open(path, "", "r+").attrs[MAX_LABEL_ATTR] = {"value": int(top), "files": stamp}
    except Exception:
        return


def region_steps(
    path: str | Path, key: str, box: tuple[slice, ...]
) -> Generator[Progress, None, Region]:
    """Read the level-0 labels ``box`` (slices, clamped to the array) of the zarr ``path``
    (its array ``key``) into memory, yielding ``Progress`` ("reading", then "maximum" while
    the store's largest ID is read where its attributes do not record it): a
    :class:`Region`. Closing the generator stops it. Refuses (ValueError) a box of more
    than :data:`REGION_MAX_PIXELS` pixels or of none."""
    path = Path(path)
    array = _open(path, key, "r")
    shape = tuple(int(n) for n in array.shape)
    box = tuple(slice(*s.indices(n)[:2]) for s, n in zip(box, shape)) + tuple(
        slice(0, n) for n in shape[len(box) :]
    )
    pixels = math.prod(max(0, s.stop - s.start) for s in box)
    if pixels == 0:
        raise ValueError("the region holds no pixel of the labels (they are not in view)")
    if pixels > REGION_MAX_PIXELS:
        raise ValueError(
            f"the region holds {pixels:,} pixels, more than {REGION_MAX_PIXELS:,}: zoom in"
        )
    stamp = _stamp(path)
    yield Progress("reading", 0, 1)
    labels = np.asarray(array[box])
    yield Progress("reading", 1, 1)
    top = yield from _top_steps(path, array, stamp)
    if stamp is not None and _stamp(path) == stamp:
        _record_top(path, top, stamp)
    else:  # (written while read: not trusted later)
        stamp = None
    return Region(
        path=path,
        key=key,
        box=box,
        labels=labels,
        stamp=stamp,
        sha256=_sha(labels),
        top=top,
        levels=_levels(path, key, shape),
    )


def _renamed(edited: np.ndarray, before: np.ndarray, top: int) -> dict[int, int]:
    """The IDs in ``edited`` that the region did not hold ``before`` (a split's new pieces,
    a brush's new label), each given an ID above ``top`` in order."""
    new = np.setdiff1d(np.unique(edited), np.unique(before))
    new = new[new != 0]
    return {int(old): top + 1 + i for i, old in enumerate(new)}


def _changed_box(changed: np.ndarray) -> tuple[slice, ...] | None:
    """The smallest box holding every True of ``changed``; None where none is."""
    if not changed.any():
        return None
    box = []
    for axis in range(changed.ndim):
        other = tuple(a for a in range(changed.ndim) if a != axis)
        hit = np.flatnonzero(changed.any(axis=other))
        box.append(slice(int(hit[0]), int(hit[-1]) + 1))
    return tuple(box)


def _level_box(box: tuple[slice, ...], factors: tuple[int, ...]) -> tuple[slice, ...]:
    """The pixels ``i`` of a level of ``factors`` whose level-0 pixel ``i * f`` lies in
    ``box``."""
    return tuple(slice(-(-s.start // f), -(-s.stop // f)) for s, f in zip(box, factors))


def _recipe_steps(path: Path, top: int) -> Generator[Progress, None, None]:
    """Make the recipe in the store's attributes (where it has one) say that its labels were
    edited after the run (``labels_edited``, :data:`EDITED_NOTE`), without the digest and
    files stamp of the labels the run wrote, which no longer describe them; record ``top``.

    The digest is one SHA-256 of every pixel in order: a new one would read the whole store
    again at each Write back (1.2 s of a 1.3 s Write back into a 12288² result), to vouch for
    labels the recipe already says it does not reproduce. Without it the reader takes the
    recipe as it says (edited) without reading the labels; Export records the digest of the
    labels it writes."""
    from .digest import DIGEST_KEY, FILES_KEY

    yield Progress("recipe", 0, 1)
    root = _open(path, "", "r+")
    recipe = root.attrs.get(RECIPE_ATTR)
    if isinstance(recipe, dict):
        updated = {k: v for k, v in recipe.items() if k not in (DIGEST_KEY, FILES_KEY)}
        updated["labels_edited"] = True
        updated.setdefault("note", EDITED_NOTE)
        if updated != recipe:
            root.attrs[RECIPE_ATTR] = updated
    _record_top(path, top, _stamp(path))
    yield Progress("recipe", 1, 1)


def _ring_ids(array, box: tuple[slice, ...]) -> set[int]:
    """The label IDs in the store's pixels just outside ``box`` (one pixel deep, its corners
    too; none where the box meets the store's edge): those of the objects that continue
    outside it."""
    shape = tuple(int(n) for n in array.shape)
    found: set[int] = set()
    for axis, (s, n) in enumerate(zip(box, shape)):
        for at in (s.start - 1, s.stop):
            if not 0 <= at < n:
                continue
            slab = tuple(
                slice(at, at + 1)
                if a == axis
                else slice(max(0, b.start - 1), min(int(m), b.stop + 1))
                for a, (b, m) in enumerate(zip(box, shape))
            )
            found.update(int(i) for i in np.unique(np.asarray(array[slab])))
    found.discard(0)
    return found


def _mapped(values: np.ndarray, mapping: dict[int, int]) -> np.ndarray:
    """``values`` with each ID of ``mapping`` replaced by the ID it maps to (same type)."""
    lookup = np.array(sorted(mapping), dtype=values.dtype)
    at = np.searchsorted(lookup, values)
    hit = (at < len(lookup)) & (lookup[np.minimum(at, len(lookup) - 1)] == values)
    out = values.copy()
    targets = np.array([mapping[int(v)] for v in lookup], dtype=values.dtype)
    out[hit] = targets[at[hit]]
    return out


def _whole_objects_steps(
    array,
    mapping: dict[int, int],
    box: tuple[slice, ...],
    kept: list[tuple[Any, tuple[slice, ...], np.ndarray]],
    boxes: list[tuple[slice, ...]],
) -> Generator[Progress, None, int]:
    """Give the objects of ``mapping`` (an ID -> the ID it becomes, 0: deleted) their new IDs
    in the store ``array`` outside ``box`` (the region, written apart): read piece by piece
    (rows of chunks of about :data:`_PIECE_BYTES`), only the chunks holding them written, the
    labels there before appended to ``kept`` and the boxes written to ``boxes``. Returns the
    pixels changed."""
    shape = tuple(int(n) for n in array.shape)
    chunks = tuple(int(c) for c in array.chunks)
    keys = np.array(sorted(mapping), dtype=array.dtype)
    row_bytes = np.dtype(array.dtype).itemsize * math.prod(shape[1:]) * chunks[0]
    step = chunks[0] * max(1, _PIECE_BYTES // max(row_bytes, 1))
    starts = list(range(0, shape[0], step))
    changed = 0
    for done, start in enumerate(starts):
        yield Progress("objects", done, len(starts))
        stop = min(shape[0], start + step)
        piece = np.asarray(array[start:stop])
        hit = np.isin(piece, keys)
        inner = (slice(max(box[0].start, start) - start, max(0, min(box[0].stop, stop) - start)),)
        hit[inner + box[1:]] = False  # (the region: written from its edited labels)
        if not hit.any():
            continue
        where = np.nonzero(hit)
        cells = np.unique(np.stack([w // c for w, c in zip(where, chunks)], axis=1), axis=0)
        for cell in cells:
            local = tuple(
                slice(int(i) * c, min(int(i) * c + c, n))
                for i, c, n in zip(cell, chunks, piece.shape)
            )
            old = piece[local]
            new = _mapped(old, mapping)
            keep = ~hit[local]  # (pixels of the region and others: as they are)
            new[keep] = old[keep]
            target = (slice(local[0].start + start, local[0].stop + start),) + local[1:]
            kept.append((array, target, old.copy()))
            array[target] = new
            boxes.append(target)
            changed += int(np.count_nonzero(hit[local]))
    yield Progress("objects", len(starts), len(starts))
    return changed


def write_region_steps(
    region: Region, edited: np.ndarray, objects: dict[int, int] | None = None
) -> Generator[Progress, None, Written]:
    """Write the labels ``edited`` (the region's shape) back into the store of ``region``
    (see the module's words), yielding ``Progress`` ("checking", "writing", "objects",
    "recipe"): a :class:`Written`. ``objects``: the edits of whole objects made in the
    region (an ID loaded -> the ID it became, 0 where deleted; a target new in the region
    gets its renumbered ID), applied outside the region too. ``region`` is updated to the
    labels written (another write-back starts from them). Raises
    :class:`RegionChangedError` where the store's labels in the region changed since they
    were loaded; any failure while writing (Cancel: the generator closed) writes the labels
    there before back before it propagates."""
    edited = np.asarray(edited)
    if edited.shape != region.labels.shape:
        raise ValueError(
            f"the edited labels are {edited.shape}, the region {region.labels.shape}: not "
            "the region loaded"
        )
    path = region.path
    array = _open(path, region.key, "r+")
    yield Progress("checking", 0, 1)
    stamp = _stamp(path)
    top = region.top
    if stamp is None or stamp != region.stamp:  # files changed: is the region still as read?
        if _sha(np.asarray(array[region.box])) != region.sha256:
            raise RegionChangedError(
                f"{path.name}: the labels in this region changed in the file since they were "
                "loaded (written by another program or another region's Write back over "
                "them); nothing was written. Load the region again to edit it as it is now"
            )
        top = yield from _top_steps(path, array, stamp)
    if np.dtype(edited.dtype) != np.dtype(array.dtype):
        highest = int(edited.max()) if edited.size else 0
        if edited.size and (int(edited.min()) < 0 or highest > np.iinfo(array.dtype).max):
            raise ValueError(f"the edited labels do not fit the file's {array.dtype}")
    renamed = _renamed(edited, region.labels, top)
    if renamed:
        if top + len(renamed) > np.iinfo(array.dtype).max:
            raise ValueError(f"the new IDs do not fit the file's {array.dtype}")
        edited = _mapped(edited.astype(array.dtype, copy=True), renamed)
    edited = edited.astype(array.dtype, copy=False)
    differs = edited != region.labels
    changed = _changed_box(differs)
    if changed is None:
        return Written(0, {}, None, edited)
    # whole objects: only IDs of objects loaded (an ID new in the region is no object outside)
    loaded = set(np.unique(region.labels).tolist())
    whole = {
        int(k): renamed.get(int(v), int(v))
        for k, v in (objects or {}).items()
        if int(k) in loaded and int(k) != 0 and renamed.get(int(v), int(v)) != int(k)
    }
    touched = set(np.unique(region.labels[differs]).tolist()) - {0}
    crossing = _ring_ids(array, region.box) if touched else set()
    cut = sorted(i for i in touched & crossing if i not in whole)
    yield Progress("checking", 1, 1)
    pixels = int(np.count_nonzero(edited[changed] != region.labels[changed]))
    box = tuple(
        slice(outer.start + inner.start, outer.start + inner.stop)
        for outer, inner in zip(region.box, changed)
    )
    total = 1 + len(region.levels)
    kept: list[tuple[Any, tuple[slice, ...], np.ndarray]] = []  # what was there before
    boxes = [box]  # the level-0 boxes written
    outside = 0
    try:
        yield Progress("writing", 0, total)
        kept.append((array, box, np.asarray(array[box])))
        array[box] = edited[changed]
        if whole:
            outside = yield from _whole_objects_steps(array, whole, region.box, kept, boxes)
        for done, (key, factors) in enumerate(region.levels, start=1):
            yield Progress("writing", done, total)
            target = _open(path, key, "r+")
            for written in boxes:
                where = _level_box(written, factors)
                if any(s.stop <= s.start for s in where):
                    continue
                kept.append((target, where, np.asarray(target[where])))
                source = tuple(
                    slice(s.start * f, s.stop * f - (f - 1), f) for s, f in zip(where, factors)
                )
                target[where] = np.asarray(array[source])
        yield Progress("writing", total, total)
        new_top = max(top, int(edited.max()) if edited.size else 0)
        yield from _recipe_steps(path, new_top)
    except BaseException:
        for target, where, before in reversed(kept):
            target[where] = before
        raise
    region.labels = edited
    region.sha256 = _sha(edited)
    region.stamp = _stamp(path)
    region.top = new_top
    spans = tuple(
        slice(min(b[a].start for b in boxes), max(b[a].stop for b in boxes))
        for a in range(len(box))
    )
    return Written(pixels, renamed, box, edited, whole, outside, cut, spans)
