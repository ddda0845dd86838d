"""The blockwise intensity scan and progress inside a block (user test t2, item 3).

- The scan counted each slice's values by sorting them (``np.unique``): 0.5 s a 256^3 uint8
  block, 7.6 s on a loaded machine (10 min for an EM volume of 84 blocks). It now counts
  8- and 16-bit values in one pass; the percentiles it records are the same, exactly.
- A cancel during the scan kept nothing: the next Run scanned every block again. Each
  block's statistics are now kept as it finishes (``scan/N.npz`` in the work folder) and a
  resumed scan reads only the blocks it had not.
- Progress inside a block (a 256^3 block of a 2D model takes minutes on a CPU) never reached
  the caller: ``BlockProgress.inner`` and ``.block`` now say which block and how far it is,
  from this process and from workers (through a file the run polls).
"""

from __future__ import annotations

import concurrent.futures
import json
import threading
import time

import numpy as np
import pytest
import tifffile
import zarr

from tessella.engine.blockwise import BlockwiseSupport, label_blocks_steps, work_dir
from tessella.engine.blockwise import _scan as scan_module
from tessella.engine.blockwise._driver import segment_blockwise_steps
from tessella.engine.progress import Progress


@pytest.fixture(scope="module")
def em_zarr(tmp_path_factory, data_dir):
    """16 slices of 384 x 512 px of the Lucchi++ EM volume (uint8), in 8 x 128 x 128 chunks."""
    volume = tifffile.imread(data_dir / "em_mito_lucchipp" / "train" / "image.tif")
    volume = np.ascontiguousarray(volume[:16, :384, :512])
    path = tmp_path_factory.mktemp("em") / "em.zarr"
    zarr.create_array(str(path), data=volume, chunks=(8, 128, 128))
    return path, volume


def _scan_only(image, out, stop_after=None):
    """Run em-mito2d blockwise into ``out`` until its scan ends (or ``stop_after`` blocks
    of it finished: a cancel), and close the run; the work folder keeps what it kept."""
    steps = segment_blockwise_steps(image, out, "em-mito2d", axes="ZYX", block=128, tta=False)
    scanned = 0
    try:
        for progress in steps:
            if progress.stage == "segment":
                break
            if progress.stage == "scan" and progress.region is not None:
                scanned += 1
                if scanned == stop_after:
                    break
    finally:
        steps.close()
    return scanned


def test_the_scan_records_each_slices_percentiles_as_in_memory(em_zarr, tmp_path):
    """The scan of a real EM volume (a 2D model: one normalisation unit per slice) records
    each slice's percentiles, min and max exactly as numpy computes them on the whole slice
    in memory (counting rather than sorting changes nothing)."""
    from tessella.engine.registry import find_model, read_card

    path, volume = em_zarr
    out = tmp_path / "labels.zarr"
    assert _scan_only(str(path), out) == 12  # 1 x 3 x 4 blocks
    norm = read_card(find_model("em-mito2d")).normalization
    low, high = norm.get("low", 1.0), norm.get("high", 99.8)
    ranges = json.loads((work_dir(out) / "ranges.json").read_text())
    assert [unit for unit, _ in ranges] == [[-1, z] for z in range(16)]
    for (_t, z), [(lo, hi, vmin, vmax, _inverted)] in ranges:
        expected = np.percentile(volume[z], (low, high))
        assert (lo, hi) == (float(expected[0]), float(expected[1]))
        assert (vmin, vmax) == (float(volume[z].min()), float(volume[z].max()))
    assert not (work_dir(out) / "scan").exists()  # (ranges.json holds what they gave)


def test_value_counts_are_numpys_unique_for_every_integer_type():
    rng = np.random.default_rng(0)
    for dtype in (np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.int64):
        info = np.iinfo(dtype)
        for low, high in ((info.min, min(info.max, info.min + 300)), (info.min, info.max)):
            values = rng.integers(low, high, size=5000, dtype=dtype, endpoint=True)
            found, counts = scan_module._value_counts(values)
            expected = np.unique(values, return_counts=True)
            assert np.array_equal(found, expected[0]) and found.dtype == expected[0].dtype
            assert np.array_equal(counts, expected[1]) and counts.dtype == expected[1].dtype


def test_a_scan_cancelled_midway_resumes_with_the_blocks_it_had_not_read(
    em_zarr, tmp_path, monkeypatch
):
    """Cancel after 5 of 12 blocks were scanned: their statistics are kept in the work
    folder, and the next run scans only the 7 others, recording the same ranges as a scan
    that was never cut short."""
    path, _volume = em_zarr
    whole = tmp_path / "whole.zarr"
    _scan_only(str(path), whole)
    expected = json.loads((work_dir(whole) / "ranges.json").read_text())

    out = tmp_path / "labels.zarr"
    assert _scan_only(str(path), out, stop_after=5) == 5
    assert not (work_dir(out) / "ranges.json").exists()
    assert len(list((work_dir(out) / "scan").glob("*.npz"))) == 5

    read: list = []
    task = scan_module._scan_task

    def counted(run, index):
        read.append(index)
        return task(run, index)

    monkeypatch.setattr(scan_module, "_scan_task", counted)
    firsts: list = []
    steps = segment_blockwise_steps(str(path), out, "em-mito2d", axes="ZYX", block=128, tta=False)
    try:
        for progress in steps:
            if progress.stage == "scan" and not firsts:
                firsts.append(progress)
            if progress.stage == "segment":
                break
    finally:
        steps.close()
    assert (firsts[0].done, firsts[0].total) == (5, 12)  # the kept blocks counted as done
    assert len(read) == len(set(read)) == 7
    assert json.loads((work_dir(out) / "ranges.json").read_text()) == expected


def test_progress_inside_each_block_reaches_the_caller(em_zarr, tmp_path):
    """A 2D model on a volume, blocks run here: while a block runs, the caller is told which
    block and which of its slices the network is on (8 slices a block: one tile each)."""
    path, volume = em_zarr
    small = tmp_path / "small.zarr"
    zarr.create_array(str(small), data=volume[:8, :96, :96], chunks=(8, 64, 64))
    steps = segment_blockwise_steps(
        str(small), tmp_path / "labels.zarr", "em-mito2d", axes="ZYX", block=64, tta=False
    )
    inside: dict = {}
    finished = []
    while True:
        try:
            progress = next(steps)
        except StopIteration:
            break
        if progress.stage != "segment":
            continue
        if progress.region is not None:
            finished.append(progress.done)
        elif getattr(progress, "inner", None) is not None:
            inside.setdefault(progress.block, []).append(progress.inner)
    assert finished == [1, 2, 3, 4]
    assert sorted(inside) == [0, 1, 2, 3]
    for said in inside.values():
        assert {p.stage for p in said} == {"slice"} and {p.total for p in said} == {8}
        assert [p.done for p in said][-1] == 8
        assert sorted(p.done for p in said) == [p.done for p in said]  # in order
        assert set(range(9)) <= {p.done for p in said}


class _Slow:
    """A segmenter whose blocks report 4 steps and wait until the caller has seen progress
    inside a block (or 20 s), as a network on a large block on a CPU."""

    def __init__(self):
        self.seen = threading.Event()

    def steps(self, image, axes, origin):
        for done in range(3):
            yield Progress("predict", done, 4)
            time.sleep(0.3)
        yield Progress("predict", 3, 4)  # (written: the block has run over 0.5 s)
        self.seen.wait(20)
        yield Progress("predict", 4, 4)
        return (image > 0).astype(np.uint32)


def test_progress_inside_a_block_run_by_an_executor_reaches_the_caller(tmp_path):
    image = np.zeros((64, 128), np.uint8)
    image[10:20, 10:20] = image[40:50, 90:100] = 1
    path = tmp_path / "image.zarr"
    zarr.create_array(str(path), data=image, chunks=(64, 64))
    segmenter = _Slow()
    inside = []
    with concurrent.futures.ThreadPoolExecutor(1) as executor:
        steps = label_blocks_steps(
            str(path),
            tmp_path / "labels.zarr",
            segmenter,
            "YX",
            block=64,
            halo=0,
            support=BlockwiseSupport(0, "touch"),
            executor=executor,
        )
        for progress in steps:
            if getattr(progress, "inner", None) is not None:
                inside.append((progress.block, progress.inner))
                segmenter.seen.set()
    assert inside and {block for block, _ in inside} <= {0, 1}
    assert all(p.stage == "tile" and p.total == 4 and 0 < p.done <= 4 for _, p in inside)
