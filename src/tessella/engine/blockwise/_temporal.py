"""Time-lapse models blockwise: a stored prediction pass before segmenting, linking after
stitching."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from collections.abc import Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..progress import Progress
from ._grid import _within
from ._run import BlockProgress, _map, _open_zarr, _Run, blank_units
from ._scan import _scan
from ._segmenters import ModelSegmenter, _model_layout, _normalize, _units


@dataclass(frozen=True)
class TemporalSegmenter(ModelSegmenter):
    """A time-lapse model (``temporal``) blockwise, in two passes over the blocks (one frame
    each): :meth:`predict` runs the network on the window of frames around the block's frame
    and stores the core's foreground and centre maps in ``store`` (a float32 zarr beside the
    provisional labels); :meth:`steps` then reads the stored foreground of the frames within
    4 ``temporal_sigma`` (the smoothing along time) and the block's halo, and segments the
    frame as in memory. The network runs once per block; linking comes after stitching."""

    store: str = ""  # the stored predictions: (2, T, Y, X) foreground, centre
    frames: int = 0  # frames in the movie

    def fingerprint(self) -> dict:
        return super().fingerprint() | {"temporal": True}

    def predict(self, run: _Run, index) -> Generator[Progress, None, None]:
        from ..train.timelapse import window_indices

        model, predict = self.network()
        card = model.card
        ranges = dict(self.ranges)
        core, extended = run.grid.core(index), run.grid.extended(index)
        t = core[0].start
        frames = window_indices(t, self.frames, card.window,
                                card.input.get("target", "centre"))  # fmt: skip
        parts = []
        for k in frames:
            block = run.read((slice(k, k + 1), *extended[1:]))
            origin = (k, *[s.start for s in extended[1:]])
            ((unit, part, part_axes),) = _units(block, run.axes, origin, model)
            parts.append(_normalize(_model_layout(part, part_axes, card), ranges[unit]))
        outputs = yield from predict(np.concatenate(parts))
        inside = _within([(c.start, c.stop) for c in core[1:]], extended[1:])
        maps = np.stack([outputs["foreground"][0][inside], outputs["centre"][0][inside]])
        where = (slice(None), t, *core[1:])
        _open_zarr(self.store, mode="r+")[where] = maps

    #: the segment stage works from the stored maps: ``steps`` gets a shape-only stand-in
    reads_input = False

    def steps(self, image, axes, origin) -> Generator[Progress, None, Any]:
        from ..methods.temporal import _segment_frame, smooth_along_time

        size = [n for a, n in zip(axes, image.shape) if a != "C"][1:]
        region = tuple(slice(o, o + n) for o, n in zip(origin[1:], size))
        t, stored = origin[0], _open_zarr(self.store)
        sigma = float(self.params.temporal_sigma)
        reach = int(np.ceil(4 * sigma)) if sigma > 0 else 0
        low, high = max(t - reach, 0), min(t + reach + 1, self.frames)
        frames, here = (0, slice(low, high), *region), (1, t, *region)
        foreground = smooth_along_time(np.asarray(stored[frames]), sigma)
        centre = np.asarray(stored[here])
        return _segment_frame(foreground[t - low], centre, self.params)[None]
        yield  # a generator like the other segmenters


def _predict_task(run: _Run, index):
    yield from run.segmenter.predict(run, index)
    (Path(run.work) / "predicted" / str(run.grid.linear(index))).touch()


def _scan_and_predict(
    run: _Run, executor, name: str | None = None
) -> Generator[BlockProgress, None, _Run]:
    """The scan (and the input's check, ``name`` as :func:`._scan._scan` takes it), then the
    network on every block into ``prediction.zarr`` (resumable)."""
    import zarr

    run = yield from _scan(run, executor, name)
    grid, work = run.grid, Path(run.work)
    store = work / "prediction.zarr"
    if not store.exists():
        tmp = work / "prediction.tmp.zarr"
        shutil.rmtree(tmp, ignore_errors=True)
        chunks = (2, *grid.block)  # one chunk per block: foreground and centre of one frame
        zarr.create_array(str(tmp), shape=(2, *grid.shape), dtype="float32", chunks=chunks)
        os.replace(tmp, store)
    (work / "predicted").mkdir(exist_ok=True)
    segmenter = dataclasses.replace(run.segmenter, store=str(store), frames=grid.shape[0])
    run = dataclasses.replace(run, segmenter=segmenter)
    finished = {int(p.name) for p in (work / "predicted").iterdir()}
    todo = [i for i in grid.indices() if grid.linear(i) not in finished]
    done = grid.n_blocks - len(todo)
    yield BlockProgress("predict", done, grid.n_blocks)
    yield from _map(_predict_task, run, todo, executor, "predict", done, {})
    return run


def _objects_of(run: _Run, index) -> np.ndarray:
    """A block's core with the stitched object IDs (before linking)."""
    work = Path(run.work)
    lut = np.load(work / "objects.npy", mmap_mode="r")
    prefix = np.load(work / "prefix.npy")
    linear = run.grid.linear(index)
    block_lut = np.concatenate([[0], lut[prefix[linear] : prefix[linear + 1]]]).astype(np.uint32)
    return block_lut[np.asarray(_open_zarr(str(work / "provisional.zarr"))[run.grid.core(index)])]


def _link_task(run: _Run, index):
    """A block's objects (IDs, pixels, coordinate sums) and their overlaps with the same
    block of the next frame."""
    from ..tracking import frame_overlaps

    core = run.grid.core(index)
    objects = _objects_of(run, index)[0]
    flat = objects.reshape(-1)
    ids, inverse, counts = np.unique(flat, return_inverse=True, return_counts=True)
    coords = np.indices(objects.shape).reshape(objects.ndim, -1)
    sums = np.stack(
        [np.bincount(inverse, weights=c + s.start, minlength=ids.size)
         for c, s in zip(coords, core[1:])], 1,
    )  # fmt: skip
    after = (index[0] + 1, *index[1:])
    overlaps = np.zeros((0, 3), np.int64)
    if run.grid.contains(after):
        overlaps = frame_overlaps(objects, _objects_of(run, after)[0])
    keep = ids != 0
    return core[0].start, ids[keep], counts[keep], sums[keep], overlaps
    yield


def _link(run: _Run, executor) -> Generator[BlockProgress, None, None]:
    """One track ID per cell through the movie (:func:`tracking.link_objects` on the objects
    summed over the blocks of each frame); rewrites ``lut.npy``, keeps ``lineage.json``."""
    from ..tracking import FrameObjects, link_objects

    work, grid = Path(run.work), run.grid
    if (work / "lineage.json").exists():
        return
    if not (work / "objects.npy").exists():  # the stitched IDs, kept for a resumed link
        shutil.copyfile(work / "lut.npy", work / "objects.tmp.npy")
        os.replace(work / "objects.tmp.npy", work / "objects.npy")
    results: dict = {}
    yield BlockProgress("link", 0, grid.n_blocks)
    yield from _map(_link_task, run, grid.indices(), executor, "link", 0, results)
    n_frames = grid.shape[0]
    per_frame: list[list] = [[] for _ in range(n_frames)]
    for t, ids, counts, sums, overlaps in results.values():
        per_frame[t].append((ids, counts, sums, overlaps))
    frames, pairs = [], []
    for t, parts in enumerate(per_frame):
        ids, inverse = np.unique(np.concatenate([p[0] for p in parts]), return_inverse=True)
        areas = np.bincount(inverse, np.concatenate([p[1] for p in parts]), ids.size)
        sums = np.concatenate([p[2] for p in parts]).reshape(-1, len(grid.shape) - 1)
        centres = (
            np.stack([np.bincount(inverse, sums[:, d], ids.size) for d in range(sums.shape[1])], 1)
            / np.maximum(areas, 1)[:, None]
        )
        frames.append(FrameObjects(ids.astype(np.int64), areas, centres))
        rows = np.concatenate([p[3] for p in parts])
        if t + 1 < n_frames:
            pair, where = np.unique(rows[:, :2], axis=0, return_inverse=True)
            shared = np.bincount(where.reshape(-1), rows[:, 2], len(pair)).astype(np.int64)
            pairs.append(np.column_stack([pair, shared]))
    params = run.segmenter.params
    tracks, lineage = link_objects(
        frames, pairs, params.min_iou, params.max_distance, params.divisions
    )
    tracks, lineage = _without_blank_frames(tracks, lineage, run)
    objects = np.load(work / "objects.npy")
    track_of = np.zeros(int(objects.max(initial=0)) + 1, np.uint32)
    for found, assigned in zip(frames, tracks):
        track_of[found.ids] = assigned
    np.save(work / "lut.tmp.npy", track_of[objects])
    os.replace(work / "lut.tmp.npy", work / "lut.npy")
    tmp = work / "lineage.tmp.json"
    tmp.write_text(json.dumps(sorted(lineage.items())))
    os.replace(tmp, work / "lineage.json")


def _without_blank_frames(tracks: list[np.ndarray], lineage: dict[int, int], run: _Run):
    """The track of each frame's objects and the lineage with the blank frames cleared, as
    in memory (:func:`~tessella.engine.pipeline.series_without_blank_frames`: linked first,
    so a track that crosses a blank frame goes on after it as a new track whose parent is the
    piece before), renumbered 1..n (a track only in blank frames is gone)."""
    from ..tracking import split_at_gaps

    blank = {t for t, _ in blank_units(run.segmenter)}
    if not blank:
        return tracks, lineage
    present = np.zeros((len(tracks), max([a.size for a in tracks] + [1])), np.int64)
    for t, assigned in enumerate(tracks):
        if t not in blank:
            present[t, : assigned.size] = assigned
    present, lineage = split_at_gaps(present, lineage)  # per frame: its tracks, in order
    found = np.unique(present[present > 0])
    renumber = np.zeros(int(found.max(initial=0)) + 1, np.int64)
    renumber[found] = np.arange(1, found.size + 1)
    tracks = [renumber[present[t, : a.size]] for t, a in enumerate(tracks)]
    kept = {int(k): int(renumber[k]) for k in found}
    lineage = {kept[c]: kept[p] for c, p in lineage.items() if c in kept and p in kept}
    return tracks, lineage
