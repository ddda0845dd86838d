"""Segmenting a block (its record for stitching), stitching the pieces of objects (or of
superpixels, for the global graph) across faces, and the final relabelling."""

from __future__ import annotations

import itertools
import os
from collections.abc import Callable, Generator
from pathlib import Path

import numpy as np

from ._grid import _face_box, _offsets, _within
from ._run import BlockProgress, _open_zarr, _Run

MATCH_IOU = 0.5  # two pieces are one object above this IoU (one-to-one above 0.5)


def _segment_task(run: _Run, index):
    """Segment block + halo; write the core's labels (1..n), then the block's record."""
    grid = run.grid
    core, extended = grid.core(index), grid.extended(index)
    # a segmenter working from stored network maps needs only the block's shape
    reads = getattr(run.segmenter, "reads_input", True)
    image = run.read(extended) if reads else run.shaped(extended)
    origin = tuple(s.start for s in extended)
    result = yield from run.segmenter.steps(image, run.axes, origin)
    graph = run.support.stitch == "graph"
    labels = np.asarray(result["superpixels"] if graph else result)
    expected = tuple(s.stop - s.start for s in extended)
    if labels.shape != expected:
        raise ValueError(f"the segmenter returned labels of shape {labels.shape}, not {expected}")
    in_core = _within([(s.start, s.stop) for s in core], extended)
    core_labels = labels[in_core]
    ids = np.unique(core_labels)
    ids = ids[ids != 0]

    def local(values):  # a label present in the core -> 1..n; anything else -> 0
        if ids.size == 0:
            return np.zeros(values.shape, np.uint32)
        position = np.minimum(np.searchsorted(ids, values), ids.size - 1)
        return np.where(ids[position] == values, position + 1, 0).astype(np.uint32)

    core_local = local(core_labels)
    record = {"counts": np.bincount(core_local.reshape(-1), minlength=ids.size + 1)}
    blank = run.blank(core)
    if blank is not None:  # cleared when relabelled: pixels of each label outside blank parts
        record["kept"] = np.bincount(core_local[~blank], minlength=ids.size + 1)
    for offset in _offsets(run.stitched, positive=False):
        neighbour = tuple(i + o for i, o in zip(index, offset))
        if grid.contains(neighbour):
            box = _face_box(grid, index, offset, run.depth)
            record["inner" + _key(offset)] = core_local[_within(box, core)]
            if run.support.stitch != "touch":  # my view of the neighbour's side
                there = _within(box, grid.core(neighbour), extended)
                record["outer" + _key(offset)] = local(labels[there])
    if graph:
        record.update(_graph_record(run, index, result, in_core, core_local, ids.size))
    provisional = _open_zarr(str(Path(run.work) / "provisional.zarr"), mode="r+")
    provisional[core] = core_local
    path = run.record_path(index)
    tmp = path.with_name(path.stem + ".tmp.npz")
    np.savez_compressed(tmp, allow_pickle=False, **record)
    os.replace(tmp, path)
    return int(ids.size)


def _graph_record(run: _Run, index, result: dict, in_core, core_local, n: int) -> dict:
    """A block's part of the global superpixel graph: the contacts inside its core (local
    labels, summed boundary probability, area), the foreground summed per superpixel, and the
    boundary values on the core's outer layer at each face (the contacts across it)."""
    from ..methods.boundary import region_graph

    boundary = np.asarray(result["boundary"], np.float32)[in_core]
    foreground = result.get("foreground")
    spacing = result.get("spacing")
    values = None if foreground is None else np.asarray(foreground, np.float64)[in_core]
    weights = None if values is None else values.reshape(-1)  # none: the pixel counts
    fg_sum = np.bincount(core_local.reshape(-1), weights, minlength=n + 1).astype(np.float64)
    edges, mean_p, size = region_graph(core_local, boundary, spacing)
    relative = np.ones(boundary.ndim) if spacing is None else np.asarray(spacing, np.float64)
    record = {"fg_sum": fg_sum, "edges": edges, "p_sum": mean_p * size, "area": size,
              "spacing": relative / relative.min()}  # fmt: skip
    for axis, stitched in enumerate(run.stitched):
        for o in (-1, 1) if stitched else ():
            offset = tuple(o if d == axis else 0 for d in range(len(run.stitched)))
            if run.grid.contains(tuple(i + d for i, d in zip(index, offset))):
                side = slice(-1, None) if o > 0 else slice(0, 1)
                layer = tuple(side if d == axis else slice(None) for d in range(boundary.ndim))
                record["face_p" + _key(offset)] = boundary[layer]
    return record


def _key(offset) -> str:
    return "_" + "_".join(str(o) for o in offset)


def _relabel_task(run: _Run, index):
    """Provisional labels of one block -> final IDs in the result."""
    work = Path(run.work)
    lut = np.load(work / "lut.npy", mmap_mode="r")
    prefix = np.load(work / "prefix.npy")
    linear = run.grid.linear(index)
    block_lut = np.concatenate([[0], lut[prefix[linear] : prefix[linear + 1]]]).astype(np.uint32)
    core = run.grid.core(index)
    local = np.asarray(_open_zarr(str(work / "provisional.zarr"))[core])
    labels = block_lut[local]
    blank = run.blank(core)
    if blank is not None:  # a blank frame or slice gets no labels
        labels[blank] = 0
    _open_zarr(str(work / "result.zarr"), run.result_key, "r+")[core] = labels
    (work / "relabelled" / str(linear)).touch()
    return None
    yield


def _matches(run: _Run, mine: dict, theirs: dict, offset) -> np.ndarray:
    """(k, 2) local labels (mine, theirs) that are one object, for blocks index, index+offset."""
    back = _key(tuple(-o for o in offset))
    inner, their_inner = mine["inner" + _key(offset)], theirs["inner" + back]
    if run.support.stitch == "touch":
        return _touching(inner, their_inner, offset, run.stitched, run.support.connectivity)
    # overlap: both views of my strip, then both views of theirs (the same pixels pairwise)
    a = np.concatenate([inner.reshape(-1), mine["outer" + _key(offset)].reshape(-1)])
    b = np.concatenate([theirs["outer" + back].reshape(-1), their_inner.reshape(-1)])
    a, b = a.astype(np.int64), b.astype(np.int64)
    both = (a > 0) & (b > 0)
    if not both.any():
        return np.zeros((0, 2), np.int64)
    pairs, overlap = np.unique(np.stack([a[both], b[both]], 1), axis=0, return_counts=True)
    size_a = np.bincount(a)[pairs[:, 0]]
    size_b = np.bincount(b)[pairs[:, 1]]
    return pairs[overlap / (size_a + size_b - overlap) > MATCH_IOU]


def _touching(mine, theirs, offset, stitched, connectivity) -> np.ndarray:
    """Label pairs of two facing one-pixel layers that touch within ``connectivity``."""
    across = sum(1 for o in offset if o)
    free = [d for d, o in enumerate(offset) if o == 0 and stitched[d]]
    found = [np.zeros((0, 2), np.int64)]
    for shift in itertools.product((-1, 0, 1), repeat=len(free)):
        if across + sum(1 for s in shift if s) > connectivity:
            continue
        a_index, b_index = [slice(None)] * mine.ndim, [slice(None)] * mine.ndim
        for d, s in zip(free, shift):
            a_index[d] = slice(max(0, -s), mine.shape[d] - max(0, s))
            b_index[d] = slice(max(0, s), mine.shape[d] - max(0, -s))
        a, b = mine[tuple(a_index)].reshape(-1), theirs[tuple(b_index)].reshape(-1)
        both = (a > 0) & (b > 0)
        found.append(np.stack([a[both], b[both]], 1).astype(np.int64))
    return np.unique(np.concatenate(found), axis=0)


def _pieces(run: _Run, on_pair: Callable | None = None):
    """Join the pieces (block, label) that are one object (one superpixel, for ``"graph"``):
    yields progress; returns (component per piece, pixels per piece, pixels per piece outside
    blank frames or slices, prefix), where piece ``prefix[linear] + label - 1`` is ``label``
    of block ``linear``. ``on_pair(index, mine, neighbour, theirs, offset)`` sees every pair
    of neighbouring records once."""
    from scipy import sparse
    from scipy.sparse.csgraph import connected_components

    grid = run.grid
    counts, kept = [], []
    for index in grid.indices():
        with np.load(run.record_path(index)) as record:
            counts.append(record["counts"])
            kept.append(record["kept"] if "kept" in record else record["counts"])
    prefix = np.concatenate([[0], np.cumsum([c.size - 1 for c in counts])]).astype(np.int64)
    total = int(prefix[-1])
    rows, cols, cache = [np.zeros(0, np.int64)], [np.zeros(0, np.int64)], {}

    def block_record(index):
        if index not in cache:
            with np.load(run.record_path(index)) as loaded:
                cache[index] = dict(loaded)
        return cache[index]

    for done, index in enumerate(grid.indices(), start=1):
        for offset in _offsets(run.stitched, positive=True):
            neighbour = tuple(i + o for i, o in zip(index, offset))
            if grid.contains(neighbour):
                mine, theirs = block_record(index), block_record(neighbour)
                pairs = _matches(run, mine, theirs, offset)
                rows.append(prefix[grid.linear(index)] + pairs[:, 0] - 1)
                cols.append(prefix[grid.linear(neighbour)] + pairs[:, 1] - 1)
                if on_pair is not None:
                    on_pair(index, mine, neighbour, theirs, offset)
        if on_pair is not None:
            on_pair(index, block_record(index), None, None, None)
        cache.pop(index, None)  # later blocks only pair with blocks after themselves
        yield BlockProgress("stitch", done, grid.n_blocks)
    pair_rows, pair_cols = np.concatenate(rows), np.concatenate(cols)
    graph = sparse.coo_matrix(
        (np.ones(pair_rows.size), (pair_rows, pair_cols)), shape=(total, total)
    )
    component = connected_components(graph, directed=False)[1] if total else np.zeros(0, int)
    pixels = np.concatenate([c[1:] for c in counts]).astype(np.float64)
    kept_pixels = np.concatenate([c[1:] for c in kept]).astype(np.float64)
    return component, pixels, kept_pixels, prefix


def _save_lut(run: _Run, object_of_piece: np.ndarray, prefix: np.ndarray) -> None:
    work = Path(run.work)
    np.save(work / "prefix.npy", prefix)
    np.save(work / "lut.tmp.npy", object_of_piece)
    os.replace(work / "lut.tmp.npy", work / "lut.npy")


def _numbered(objects: np.ndarray, keep: np.ndarray, name: str) -> np.ndarray:
    """Consecutive uint32 IDs for the kept ``objects``, in the order of their first piece."""
    n = int(objects.max(initial=-1)) + 1
    first = np.full(n, objects.size, np.int64)
    np.minimum.at(first, objects, np.arange(objects.size))
    order = np.argsort(first, kind="stable")
    kept = order[keep[order]]
    if kept.size > np.iinfo(np.uint32).max:
        raise ValueError(f"{name}: {kept.size} objects do not fit in uint32 labels")
    final = np.zeros(n, np.uint32)
    final[kept] = np.arange(1, kept.size + 1)
    return final[objects]


def _stitch(
    run: _Run, min_size: int, max_size: int, clear_blank: bool = True
) -> Generator[BlockProgress, None, None]:
    """Join the pieces of each object; writes the final numbering (``lut.npy``). The size
    filters count every pixel; with ``clear_blank`` an object wholly in blank frames or slices
    (cleared when relabelled) gets no ID (linking does that itself, after it)."""
    component, pixels, kept, prefix = yield from _pieces(run)
    sizes = np.bincount(component, weights=pixels)
    keep = sizes >= min_size
    if max_size > 0:
        keep &= sizes <= max_size
    if clear_blank:
        keep &= np.bincount(component, weights=kept, minlength=keep.size) > 0
    _save_lut(run, _numbered(component, keep, run.name), prefix)


def _stitch_graph(run: _Run) -> Generator[BlockProgress, None, None]:
    """``"graph"``: join the pieces of each superpixel, gather the region graph of the whole
    array (the cores' contacts and those across every face), and let the segmenter's
    ``objects`` agglomerate it; writes the final numbering (``lut.npy``)."""
    linear = run.grid.linear
    contacts: list[tuple] = []  # (block a, labels a, block b, labels b, p sum, area)
    fg_sums: dict[int, np.ndarray] = {}

    def on_pair(index, mine, neighbour, theirs, offset):
        if neighbour is None:  # the block's own contacts and foreground
            fg_sums[linear(index)] = mine["fg_sum"][1:]
            edges = mine["edges"].astype(np.int64)
            here = linear(index)
            contacts.append((here, edges[:, 0], here, edges[:, 1], mine["p_sum"], mine["area"]))
            return
        if sum(1 for o in offset if o) != 1:
            return  # blocks meeting at an edge or a corner share no face contacts
        axis = next(d for d, o in enumerate(offset) if o)
        back = _key(tuple(-o for o in offset))

        def layer(array, last):  # the layer of a strip next to the face
            side = slice(-1, None) if last else slice(0, 1)
            return array[tuple(side if d == axis else slice(None) for d in range(array.ndim))]

        a = layer(mine["inner" + _key(offset)], True).reshape(-1).astype(np.int64)
        b = layer(theirs["inner" + back], False).reshape(-1).astype(np.int64)
        p = (mine["face_p" + _key(offset)] + theirs["face_p" + back]) * np.float32(0.5)
        both = (a > 0) & (b > 0)
        area = float(np.prod(np.delete(mine["spacing"], axis)))
        p = p.reshape(-1)[both].astype(np.float64) * area
        contacts.append((linear(index), a[both], linear(neighbour), b[both], p,
                         np.full(p.size, area)))  # fmt: skip

    component, pixels, kept, prefix = yield from _pieces(run, on_pair)
    n_nodes = int(component.max(initial=-1)) + 1
    fg = np.zeros(pixels.size)
    for block, sums in fg_sums.items():
        fg[prefix[block] : prefix[block] + sums.size] = sums
    empty = [np.zeros(0, np.int64)]
    a = np.concatenate([component[prefix[c[0]] + c[1] - 1] for c in contacts] or empty)
    b = np.concatenate([component[prefix[c[2]] + c[3] - 1] for c in contacts] or empty)
    p_sum = np.concatenate([c[4] for c in contacts] or [np.zeros(0)])
    area = np.concatenate([c[5] for c in contacts] or [np.zeros(0)])
    inter = a != b  # contacts inside one superpixel (pieces of it in two blocks) are not edges
    key = np.minimum(a[inter], b[inter]) * n_nodes + np.maximum(a[inter], b[inter])
    unique, inverse = np.unique(key, return_inverse=True)
    size = np.bincount(inverse, weights=area[inter], minlength=unique.size)
    mean_p = np.bincount(inverse, p_sum[inter], unique.size) / np.maximum(size, 1e-12)
    edges = np.stack([unique // max(n_nodes, 1), unique % max(n_nodes, 1)], axis=1)
    node_pixels = np.bincount(component, weights=pixels, minlength=n_nodes)
    node_fg = np.bincount(component, weights=fg, minlength=n_nodes)
    objects = np.asarray(run.segmenter.objects(edges, mean_p, size, node_pixels, node_fg))
    if objects.shape != (n_nodes,):
        raise ValueError(f"segmenter.objects returned shape {objects.shape}, not ({n_nodes},)")
    piece_object = objects[component].astype(np.int64)
    # an object wholly in blank frames or slices (cleared when relabelled) gets no ID
    n_objects = int(piece_object.max(initial=0)) + 1
    keep = np.bincount(piece_object, weights=kept, minlength=n_objects) > 0
    keep[0] = False
    _save_lut(run, _numbered(piece_object, keep, run.name), prefix)
