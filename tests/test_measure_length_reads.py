"""The reads of the length pass of labels on disk, counted before it runs (s35 r13 #3): since
ac6afb0 the engine reads one region per square of ``_REGION_SIDE`` where objects' boxes start
(and an object too big for its square on its own), not one box per object, so a progress bar
that announced one step per object sat near 0 and jumped to done.
``engine.measure.length_reads`` gives the number of those reads from the objects' boxes;
``CountedReads`` counts the reads made (the CLI's and Export's bars), so the two must agree,
for a plane and a movie (each frame read apart), with objects read alone too."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from tessella.engine import measure
from tessella.engine.measure import (
    CountedReads,
    _lengths_on_disk,
    fits_labels,
    length_reads,
    measure_objects,
    spacing_for,
    table_boxes,
)


def _labels(shape, seed):
    """Small rods scattered over ``shape`` (some squares empty) and one long rod crossing
    several squares (read on its own)."""
    rng = np.random.default_rng(seed)
    labels = np.zeros(shape, np.uint32)
    n = 0
    for y, x in rng.integers(0, 150, size=(9, 2)):  # (the top-left 150²: the rest empty)
        n += 1
        labels[y : y + 6, x : x + 14][labels[y : y + 6, x : x + 14] == 0] = n
    labels[200:206, 10:250] = n + 1  # (reaches past its square and margin)
    return labels


@pytest.mark.parametrize("frames", [0, 3])
def test_length_reads_is_the_number_of_reads_the_length_pass_makes(tmp_path, frames):
    shape = (256, 256) if not frames else (frames, 256, 256)
    data = (
        _labels(shape, 0)
        if not frames
        else np.stack([_labels(shape[1:], t) for t in range(frames)])
    )
    if frames:
        data[1] = 0  # (a frame without objects: nothing read for it)
    store = zarr.open(str(tmp_path / "l.zarr"), mode="w", shape=shape, dtype=np.uint32)
    store[...] = data
    axes = "TYX" if frames else "YX"
    reads = []
    counted = CountedReads(store, lambda: reads.append(1))
    assert counted.shape == shape and counted.dtype == np.uint32 and len(counted) == shape[0]
    with pytest.MonkeyPatch.context() as patch:  # (squares of 64 px: several in 256²)
        patch.setattr(measure, "_REGION_SIDE", 64)
        patch.setattr(measure, "_REGION_MARGIN", 16)
        table = measure_objects(counted, axes=axes)
        reads.clear()
        table = _lengths_on_disk(table, counted, axes, None, "µm")
        expected = length_reads(table_boxes(table), shape)
    assert len(reads) == expected
    objects = len(table["label"])
    assert 1 < expected < objects  # (fewer reads than objects: not one per object)
    reference = measure_objects(data, axes=axes, length=True)  # (in memory: the same)
    np.testing.assert_allclose(table["length_px"], reference["length_px"])


def test_length_reads_of_nothing_and_of_the_wrong_shape():
    assert length_reads(np.zeros((0, 4), int), (512, 512)) == 0
    with pytest.raises(ValueError, match="2D labels"):
        length_reads(np.zeros((1, 4), int), (4, 4, 4, 4))


def test_fits_labels_and_spacing_for():
    assert fits_labels((64, 80), (64, 80)) and fits_labels((64, 80, 3), (64, 80))
    assert not fits_labels((80, 64), (64, 80)) and not fits_labels((3, 64, 80), (64, 80))
    assert spacing_for("TYX", {"Y": 0.5, "X": 0.25}) == {"Y": 0.5, "X": 0.25}
    assert spacing_for("ZYX", {"Y": 0.5, "X": 0.25}) is None  # (no Z size)
    assert spacing_for("YX", {"Y": 0.5, "X": 0.25}, physical=False) is None


def test_measure_kept_tells_the_length_reads_before_them(tmp_path):
    """The CLI's bar of a labels zarr measured piece by piece (``measure_kept``'s
    ``on_read``) gets the reads of the lengths to come from ``on_lengths``: the pieces
    and those reads are all the reads made (its total was every square of the plane)."""
    from types import SimpleNamespace

    from tessella.cli._measure_csv import measure_kept
    from tessella.engine.registry import load_model

    data = _labels((256, 256), 0)
    store = zarr.open(
        str(tmp_path / "l.zarr"), mode="w", shape=data.shape, chunks=(128, 128), dtype=data.dtype
    )
    store[...] = data
    store.attrs["tessella_axes"] = "YX"
    reads, told = [], []

    def on_read(shape, chunks, axes):
        told.append((shape, chunks, axes))
        return lambda: reads.append(1)

    image = SimpleNamespace(data=np.ones(data.shape, np.uint16), axes="YX")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(measure, "_REGION_SIDE", 64)
        patch.setattr(measure, "_REGION_MARGIN", 16)
        table = measure_kept(
            tmp_path / "in.tif",
            tmp_path / "l.zarr",
            lambda _: image,
            load_model("nuclei2d"),
            on_read,
            on_lengths=told.append,
        )
        expected = length_reads(table_boxes(table), data.shape)  # (squares of 64)
    [(shape, chunks, axes), lengths] = told
    assert (shape, chunks, axes) == ((256, 256), (128, 128), "YX")
    pieces = len(measure.piece_slices(shape, chunks))
    assert lengths == expected > 1
    assert len(reads) == pieces + lengths
    reference = measure_objects(data, image.data, length=True)
    np.testing.assert_allclose(table["length_px"], reference["length_px"])
    assert table["mean_confidence"].tolist() == [""] * len(reference["label"])
