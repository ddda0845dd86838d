"""measure_objects on worms (BBBC010's ground-truth masks of well E03: an (N, Y, X) 0/1
stack, one worm a page, crossing worms overlapping): ``instances=True`` measures each worm
whole, one row a page (t13 #3: the stack gave one 3D row, silently); a 0/1 stack without
it is warned of; ``length=True`` adds each worm's length along its skeleton (t13 #2)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import zarr

from tessella import measure_objects
from tessella.engine.measure import skeleton_length
from tests.conftest import DATA


@pytest.fixture(scope="module")
def worms():
    return tifffile.imread(DATA / "worms_bbbc010" / "worm_masks" / "E03.tif")


def test_an_instances_stack_is_one_row_a_worm_each_whole(worms):
    table = measure_objects(worms, instances=True)
    assert table["label"].tolist() == list(range(1, len(worms) + 1))
    assert table["area_px"].tolist() == [int((page > 0).sum()) for page in worms]
    assert "centroid_y" in table and "volume_px" not in table
    # two worms of E03 overlap: their areas add to more than the pixels covered
    assert table["area_px"].sum() > int((worms > 0).any(axis=0).sum())


def test_a_zero_one_stack_without_instances_is_warned_of(worms):
    with pytest.warns(UserWarning, match="instances=True"):
        table = measure_objects(worms)
    assert len(table["label"]) == 1  # (what it measures: one 3D object, as said)


def test_worm_lengths_along_the_skeleton(worms):
    table = measure_objects(worms, instances=True, length=True, spacing={"Y": 2.0, "X": 2.0})
    names = list(table)
    assert names.index("length_px") == names.index("area_um2") + 1
    assert names.index("length_um") == names.index("length_px") + 1
    lengths = table["length_px"]
    np.testing.assert_allclose(lengths, [skeleton_length(page > 0) for page in worms])
    np.testing.assert_allclose(table["length_um"], 2 * lengths)
    # worms 1, 3 and 5 measured by hand, tip to tip along their middle with a polyline on
    # an 8x zoom: 116, 107 and 113 px (the skeleton's steps alone said 121.7, 111.1, 118.1)
    np.testing.assert_allclose(lengths[[0, 2, 4]], [116, 107, 113], rtol=0.03)
    heights = table["bbox_max_y"] - table["bbox_min_y"] + 1
    widths = table["bbox_max_x"] - table["bbox_min_x"] + 1
    # curled worms are longer than their box's long side; all are far longer than wide
    assert (lengths > 0.8 * np.maximum(heights, widths)).all()
    assert (table["area_px"] / lengths < 15).all()  # mean width (px): worms, not blobs


def test_lengths_of_labels_on_disk_are_those_read_whole(worms, tmp_path):
    labels = np.zeros(worms.shape[1:], np.uint16)
    for n, page in enumerate(worms, 1):  # (flat labels: the top worm wins at a crossing)
        labels[page > 0] = n
    stored = zarr.open(
        str(tmp_path / "l.zarr"),
        mode="w",
        shape=labels.shape,
        chunks=(128, 128),
        dtype=labels.dtype,
    )
    stored[:] = labels
    whole = measure_objects(labels, length=True)
    pieces = measure_objects(stored, length=True)
    assert list(pieces) == list(whole)
    np.testing.assert_array_equal(pieces["length_px"], whole["length_px"])


def test_length_is_refused_for_volumes():
    with pytest.raises(ValueError, match="2D objects"):
        measure_objects(np.ones((2, 4, 4), np.uint8), axes="ZYX", length=True)
