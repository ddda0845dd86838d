"""Standalone OME-Zarr labels (Export's "Labels as OME-Zarr", ``-o NAME.ome.zarr``) of a big
plane are written as an NGFF multiscale pyramid: every 2nd, 4th, ... pixel (label IDs kept),
each level's scale doubled, so that viewers show them without reading them whole (t6 finding 2)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tessella.engine.io import read_image
from tessella.engine.io._write import write_ome_zarr_labels
from tessella.engine.io._zarr import ome_levels


def _tiled(labels: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Real labels tiled to ``shape``, each tile's objects renumbered (no ID repeats)."""
    reps = (-(-shape[0] // labels.shape[0]), -(-shape[1] // labels.shape[1]))
    top = int(labels.max())
    rows = []
    for i in range(reps[0]):
        row = []
        for j in range(reps[1]):
            tile = labels.astype(np.uint32)
            tile[tile > 0] += top * (i * reps[1] + j)
            row.append(tile)
        rows.append(np.concatenate(row, axis=1))
    return np.concatenate(rows)[: shape[0], : shape[1]]


def test_big_labels_get_exact_levels_with_doubled_scales(tmp_path, nuclei_sample):
    labels = _tiled(nuclei_sample[1], (4100, 4200))  # just above 4096²
    assert labels.size > 4096 * 4096
    store = write_ome_zarr_labels(
        tmp_path / "big.ome.zarr",
        labels,
        "YX",
        {"Y": 0.25, "X": 0.5},
        "µm",
        name="big",
        attrs={"tessella": {"model": "nuclei2d"}},
    )
    attrs = json.loads((store / ".zattrs").read_text())
    [multiscale] = attrs["multiscales"]
    datasets = multiscale["datasets"]
    # 4100x4200 -> 2050x2100 -> 1025x1050 -> 513x525 (the longer side at most 1024)
    assert [d["path"] for d in datasets] == ["0", "1", "2", "3"]
    for k, dataset in enumerate(datasets):
        # one scale, doubled per level; no translation (strided from the first pixel: each
        # level's pixel centres are those of the level-0 pixels taken)
        assert dataset["coordinateTransformations"] == [
            {"type": "scale", "scale": [0.25 * 2**k, 0.5 * 2**k]}
        ]
        array = json.loads((store / str(k) / ".zarray").read_text())
        assert array["dimension_separator"] == "/" and array["dtype"] == "<u2"
        assert array["shape"] == [-(-4100 // 2**k), -(-4200 // 2**k)]
        assert array["chunks"] == [512, 512]
    assert multiscale["type"] == "nearest"
    assert attrs["tessella"] == {"model": "nuclei2d"} and attrs["image-label"]["version"] == "0.4"

    read = read_image(store)  # level 0: the labels; the levels as the reader finds them
    assert read.labels and read.axes == "YX" and read.pixel_size == {"Y": 0.25, "X": 0.5}
    np.testing.assert_array_equal(np.asarray(read.data), labels)
    levels = ome_levels(read)
    assert len(levels) == 3
    for k, level in enumerate(levels, start=1):  # label-exact: no value that is not level 0's
        np.testing.assert_array_equal(np.asarray(level), labels[:: 2**k, :: 2**k])


@pytest.mark.parametrize(
    ("shape", "paths"), [((4096, 4096), ["0"]), ((2, 4100, 4200), ["0", "1", "2", "3"])]
)
def test_levels_only_above_4096_squared_and_z_kept(tmp_path, nuclei_sample, shape, paths):
    """Up to 4096² pixels a plane stays one level (a viewer reads it whole in about a second);
    a volume's levels halve Y and X, not Z."""
    plane = _tiled(nuclei_sample[1], shape[-2:]).astype(np.uint16)
    labels = np.stack([plane, np.roll(plane, 7, axis=1)]) if len(shape) == 3 else plane
    axes = "ZYX" if len(shape) == 3 else "YX"
    store = write_ome_zarr_labels(tmp_path / "x.ome.zarr", labels, axes)
    datasets = json.loads((store / ".zattrs").read_text())["multiscales"][0]["datasets"]
    assert [d["path"] for d in datasets] == paths
    if len(paths) > 1:
        scales = [d["coordinateTransformations"][0]["scale"] for d in datasets]
        assert scales == [[1.0, 2.0**k, 2.0**k] for k in range(4)]
        top = np.asarray(read_image(store, axes="ZYX").data)
        np.testing.assert_array_equal(top, labels)
        import zarr

        last = zarr.open_array(str(store / "3"), mode="r")
        np.testing.assert_array_equal(last[...], labels[:, ::8, ::8])
