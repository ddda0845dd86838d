"""Blockwise OME-Zarr labels get the lower-resolution levels Export writes (the known gap
"Blockwise OME-Zarr labels are written with one resolution level (Export writes 5)": napari
then computed the levels of a 12288² result on opening it, reading it whole).

The levels are Export's (:func:`~tessella.engine.io._write.write_label_levels`), written last
in the work folder, listed once written, before the digest and the commit; a run cancelled
while they are written leaves ``out`` as it was and no level listed, and the next run writes
them again (never an earlier run's stale ones). Levels start above 4096² pixels; the tests
lower that threshold (the module's own constants) to run on the real 520x512 nuclei image
tiled 2x2, so that they take a second."""

from __future__ import annotations

import numpy as np
import pytest
import zarr
from scipy import ndimage

from tessella._io import get_reader
from tessella.engine.blockwise import (
    BlockwiseSupport,
    FunctionSegmenter,
    label_blocks_steps,
    work_dir,
)
from tessella.engine.io import _write
from tessella.engine.pipeline import run_steps
from tests.conftest import write_ome_zarr


def components(image, axes, origin):
    return ndimage.label(image > 40)[0]


@pytest.fixture
def small_levels(monkeypatch):
    """Levels from 256² pixels on, down to 130 px a side (instead of 4096² and 1024)."""
    monkeypatch.setattr(_write, "LEVELS_PIXELS", 256 * 256)
    monkeypatch.setattr(_write, "LEVELS_SMALLEST", 130)


@pytest.fixture
def image_zarr(tmp_path, nuclei_sample):
    image = np.tile(nuclei_sample[0], (2, 2))  # 1040 x 1024, real nuclei
    return write_ome_zarr(tmp_path / "nuclei.zarr", image, "yx", [0.5, 0.25], (256, 256))


def _steps(image, out, overwrite=False):
    return label_blocks_steps(
        image,
        out,
        FunctionSegmenter(components),
        block=256,
        halo=0,
        support=BlockwiseSupport(0, "touch"),
        overwrite=overwrite,
    )


def _datasets(path):
    return zarr.open_group(str(path), mode="r").attrs["multiscales"][0]["datasets"]


def test_blockwise_ome_zarr_labels_have_exports_levels(tmp_path, image_zarr, small_levels):
    out = image_zarr.parent / "labels.ome.zarr"
    progress = []
    steps = _steps(image_zarr, out)
    while True:
        try:
            progress.append(next(steps))
        except StopIteration as stop:
            result = stop.value
            break
    group = zarr.open_group(str(out), mode="r")
    labels = np.asarray(group["0"][...])
    assert result.n_objects > 100 and labels.shape == (1040, 1024)
    # levels 1, 2, 3: every 2nd, 4th, 8th pixel of every 2nd, 4th, 8th row, IDs kept
    assert [d["path"] for d in _datasets(out)] == ["0", "1", "2", "3"]
    for k in (1, 2, 3):
        level = np.asarray(group[str(k)][...])
        np.testing.assert_array_equal(level, labels[:: 2**k, :: 2**k])
        assert level.dtype == labels.dtype
    scales = [d["coordinateTransformations"][0]["scale"] for d in _datasets(out)]
    assert scales == [[0.5, 0.25], [1.0, 0.5], [2.0, 1.0], [4.0, 2.0]]
    assert group.attrs["multiscales"][0]["type"] == "nearest"
    # the same levels and metadata as Export's OME-Zarr of the same labels
    export = _write.write_ome_zarr_labels(
        tmp_path / "export.ome.zarr", labels, "YX", {"Y": 0.5, "X": 0.25}
    )
    exported = zarr.open_group(str(export), mode="r")
    assert _datasets(export) == _datasets(out)
    for k in (1, 2, 3):
        np.testing.assert_array_equal(exported[str(k)][...], group[str(k)][...])
    # the stage is said, and ends at 100 %
    levels = [p for p in progress if p.stage == "levels"]
    assert levels and (levels[-1].done, levels[-1].total) == (100, 100)
    stages = [p.stage for p in progress]
    assert stages.index("levels") < stages.index("digest")  # (the stamp covers the levels)
    # the recipe's digest still holds for the files as they are (levels included)
    from tessella.engine.digest import FILES_KEY, stored_files_stamp

    assert group.attrs["tessella"][FILES_KEY] == stored_files_stamp(out)


def test_the_reader_shows_the_stored_levels(image_zarr, small_levels, monkeypatch):
    out = image_zarr.parent / "labels.ome.zarr"
    run_steps(_steps(image_zarr, out))
    monkeypatch.setenv("TESSELLA_PYRAMID_PIXELS", str(256 * 256))
    monkeypatch.setenv("TESSELLA_LAZY_LABELS_PIXELS", "0")
    with pytest.warns(UserWarning, match="opened lazily"):
        [(data, kwargs, kind)] = get_reader(str(out))(str(out))
    assert kind == "labels" and isinstance(data, list)
    group = zarr.open_group(str(out), mode="r")
    # the stored arrays themselves, not levels computed from level 0
    assert [tuple(level.shape) for level in data] == [
        tuple(group[k].shape) for k in ("0", "1", "2", "3")
    ]
    assert all(isinstance(level, zarr.Array) for level in data)
    np.testing.assert_array_equal(np.asarray(data[-1][...]), group["3"][...])


def test_a_run_cancelled_while_levels_are_written_lists_none_and_resumes(
    image_zarr, small_levels, monkeypatch
):
    from tessella.engine.blockwise import _levels

    out = image_zarr.parent / "labels.ome.zarr"
    monkeypatch.setattr(_levels, "LEVELS_EVERY", 0.001)
    steps = _steps(image_zarr, out)
    for progress in steps:
        if progress.stage == "levels":
            break
    steps.close()  # Cancel
    assert not out.exists()
    result = work_dir(out) / "result.zarr"
    assert [d["path"] for d in _datasets(result)] == ["0"]  # no level listed
    # what a run killed while writing them leaves: a level half written, wrong
    group = zarr.open_group(str(result), mode="r+")
    if "1" not in group:
        group.create_array("1", shape=(520, 512), dtype="uint32", chunks=(256, 256))
    group["1"][:100, :100] = 7
    again = run_steps(_steps(image_zarr, out))
    assert again.resumed == again.n_blocks  # no block segmented again
    done = zarr.open_group(str(out), mode="r")
    labels = np.asarray(done["0"][...])
    assert [d["path"] for d in _datasets(out)] == ["0", "1", "2", "3"]
    for k in (1, 2, 3):
        np.testing.assert_array_equal(done[str(k)][...], labels[:: 2**k, :: 2**k])


def test_a_rerun_over_a_result_replaces_its_levels(image_zarr, small_levels, nuclei_sample):
    out = image_zarr.parent / "labels.ome.zarr"
    run_steps(_steps(image_zarr, out))
    other = write_ome_zarr(
        image_zarr.parent / "other.zarr",
        np.tile(nuclei_sample[0][::-1], (2, 2)),
        "yx",
        [0.5, 0.25],
        (256, 256),
    )
    run_steps(_steps(other, out, overwrite=True))
    done = zarr.open_group(str(out), mode="r")
    labels = np.asarray(done["0"][...])
    for k in (1, 2, 3):
        np.testing.assert_array_equal(done[str(k)][...], labels[:: 2**k, :: 2**k])


def test_plain_zarr_labels_stay_one_array(tmp_path, nuclei_sample, small_levels):
    """A plain zarr result is one array (no group to hold levels in): the reader computes
    its levels when it opens it."""
    source = zarr.create_array(
        str(tmp_path / "plain.zarr"), shape=(1040, 1024), chunks=(256, 256), dtype="uint8"
    )
    source[...] = np.tile(nuclei_sample[0], (2, 2))
    out = tmp_path / "labels.zarr"
    run_steps(_steps(tmp_path / "plain.zarr", out))
    assert isinstance(zarr.open(str(out), mode="r"), zarr.Array)


def test_level0_reads_come_from_the_level_above(tmp_path, monkeypatch):
    """The levels are Export's function's, each read from the level written before it (a
    quarter of the reading), to the same pixels as from level 0."""
    from tessella.engine.blockwise import _levels

    labels = np.random.default_rng(0).integers(0, 50, (300, 200), dtype=np.uint32)
    path = tmp_path / "labels.ome.zarr"
    from tessella.engine.io._zarr import create_ome_labels

    create_ome_labels(path, labels.shape, "uint32", (64, 64), _write.ome_labels_layout("YX"))[
        ...
    ] = labels
    group = zarr.open_group(str(path), mode="r+")
    import threading

    reads = _levels._Level0(group["0"], group, threading.Event())
    seen = []
    getitem = reads.array.__class__.__getitem__

    class Watch:
        def __init__(self, array, name):
            self.array, self.name = array, name

        def __getitem__(self, key):
            seen.append(self.name)
            return getitem(self.array, key)

    reads.array = Watch(reads.array, "0")
    monkeypatch.setattr(_write, "LEVELS_PIXELS", 100)
    monkeypatch.setattr(_write, "LEVELS_SMALLEST", 38)
    count = _write.write_label_levels(path, reads, "YX", (64, 64))
    assert count == 3
    for k in (1, 2, 3):
        np.testing.assert_array_equal(group[str(k)][...], labels[:: 2**k, :: 2**k])
    assert set(seen) == {"0"} and len(seen) == 1  # level 0 read for level 1 only
    assert reads.given == sum(labels[:: 2**k, :: 2**k].size for k in (1, 2, 3))
