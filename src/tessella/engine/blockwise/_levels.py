"""The lower-resolution levels of a blockwise run's OME-Zarr labels, written last, before the
run's digest and commit, with Export's own function (:func:`~tessella.engine.io._write.
write_label_levels`), so that napari (and any OME-NGFF viewer) shows a big result zoomed out
without reading it whole."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np

from ._run import BlockProgress, _open_zarr

#: how often (s) the levels stage yields its progress while the levels are written: the
#: moments at which Cancel (closing the run's generator) can stop it
LEVELS_EVERY = 0.2


class _Stopped(Exception):
    """Raised in the thread writing the levels once the run is cancelled."""


class _Level0:
    """Level 0 (``array``, a zarr array) as :func:`write_label_levels` reads it, piece by
    piece, every ``2**k``-th pixel of every ``2**k``-th row: each piece counted (pixels
    given, for the progress), the reading stopped once ``stop`` is set (Cancel), and each
    read of level ``k`` >= 2 taken from level ``k - 1`` of ``group`` once that is written
    (every 2nd pixel of it: the same pixels of level 0, a quarter of the reading; a
    20000² result reads level 0 once, not once a level)."""

    def __init__(self, array, group, stop: threading.Event):
        self.array, self.group, self.stop = array, group, stop
        self.shape, self.dtype, self.ndim = tuple(array.shape), array.dtype, array.ndim
        self.given = 0
        self.steps: list[int] = []  # the steps of Y and X read so far, in order

    def __getitem__(self, key) -> np.ndarray:
        if self.stop.is_set():
            raise _Stopped
        source, index = self.array, key
        step = self._step(key)
        if step is not None and (not self.steps or self.steps[-1] != step):
            self.steps.append(step)
        # (level k - 1, of step 2**(k - 1), is written once the reads of level k began)
        if step is not None and step >= 4 and step // 2 in self.steps[:-1]:
            half, above = step // 2, str(step.bit_length() - 2)
            if above in self.group and all(k.stop % half == 0 for k in key[-2:]):
                source = self.group[above]
                plane = tuple(slice(k.start // half, k.stop // half, 2) for k in key[-2:])
                index = (*key[:-2], *plane)
        piece = np.asarray(source[index])
        self.given += piece.size
        return piece

    def _step(self, key) -> int | None:
        """The step along Y and X of ``key`` (slices from a multiple of it, the same step
        along both, a power of 2), or None."""
        if not isinstance(key, tuple) or len(key) != self.ndim or self.ndim < 2:
            return None
        plane = key[-2:]
        if not all(isinstance(k, slice) and isinstance(k.step, int) for k in plane):
            return None
        step = plane[0].step
        if step < 2 or step & (step - 1) or plane[1].step != step:
            return None
        if any(not isinstance(k.start, int) or k.start % step for k in plane):
            return None
        if any(not isinstance(k.stop, int) for k in plane):
            return None
        return step


def _reset_levels(folder: Path, key: str) -> None:
    """Remove what a run stopped while it wrote the levels left in the labels ``folder``:
    the arrays ``1``, ``2``, ... and their datasets (only level ``key`` kept)."""
    group = _open_zarr(str(folder), mode="r+")
    attrs: dict[str, Any] = dict(group.attrs)
    holder: dict[str, Any] = attrs["ome"] if isinstance(attrs.get("ome"), dict) else attrs
    multiscale = holder["multiscales"][0]
    datasets = multiscale["datasets"]
    if len(datasets) > 1 or "type" in multiscale:
        multiscale["datasets"] = [d for d in datasets if d.get("path") == key]
        multiscale.pop("type", None)
        multiscale.pop("metadata", None)
        group.attrs.update({"ome": holder} if holder is not attrs else attrs)
    for entry in folder.iterdir():
        if entry.is_dir() and entry.name != key and entry.name.isdigit():
            shutil.rmtree(entry)


def _levels_written(folder: Path, key: str, shapes: list) -> bool:
    """Whether the labels ``folder`` lists every level of ``shapes`` after ``key`` (the
    datasets are listed last, once every level is written)."""
    group = _open_zarr(str(folder), mode="r")
    attrs: dict[str, Any] = dict(group.attrs)
    holder: dict[str, Any] = attrs["ome"] if isinstance(attrs.get("ome"), dict) else attrs
    paths = [d.get("path") for d in holder["multiscales"][0]["datasets"]]
    return paths == [key, *(str(k) for k in range(1, len(shapes) + 1))]


def levels_steps(
    folder: Path, key: str, axes: str, fresh: bool
) -> Generator[BlockProgress, None, int]:
    """Write into the OME-Zarr labels ``folder`` (a run's ``result.zarr`` in its work folder,
    level 0 at ``key``, of ``axes``) the lower-resolution levels Export writes
    (:func:`~tessella.engine.io._write.write_label_levels`: for a Y-X plane above 4096², every
    2nd, 4th, ... pixel down to at most 1024 px a side, label IDs kept), yielding
    ``BlockProgress("levels", percent, 100)`` (the share of the levels' pixels written)
    every :data:`LEVELS_EVERY` s. Closing the generator (Cancel, Ctrl-C) stops the writing
    within a piece (at most 2048² pixels of a level). The datasets are listed last, once
    every level is written, so a run stopped before leaves none listed; the next run removes
    what it left and writes them again (as it does where ``fresh``: blocks were relabelled
    in this run, so the levels of an earlier one would be stale). Nothing for a plain zarr
    result (``key`` ""): a zarr array has no place for levels (the reader computes them).
    Returns how many levels were written."""
    import concurrent.futures

    from ..io._write import label_level_shapes, write_label_levels

    if not key:
        return 0
    group = _open_zarr(str(folder), mode="r+")
    first = group[key]
    shapes = label_level_shapes(first.shape)
    if not shapes:
        return 0
    if not fresh and _levels_written(folder, key, shapes):
        yield BlockProgress("levels", 100, 100)
        return len(shapes)
    _reset_levels(folder, key)
    group = _open_zarr(str(folder), mode="r+")
    first = group[key]
    stop = threading.Event()
    reads: Any = _Level0(first, group, stop)  # (read as write_label_levels reads an array)
    total = sum(int(np.prod(s, dtype=np.int64)) for s in shapes)
    yield BlockProgress("levels", 0, 100)
    pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="tessella-levels")
    try:
        future = pool.submit(write_label_levels, folder, reads, axes, tuple(first.chunks))
        while True:
            try:
                written = future.result(timeout=LEVELS_EVERY)
                break
            except concurrent.futures.TimeoutError:
                yield BlockProgress("levels", min(99, 100 * reads.given // total), 100)
    finally:
        stop.set()  # (closed: the thread stops at its next piece)
        pool.shutdown(wait=True)
    yield BlockProgress("levels", 100, 100)
    return int(written)
