"""Labels with IDs above 4,294,967,295 (uint64, int64) are never cut to 32 bits when written
(before, 2**32 + 5 and 5 were both written as 5, one object): zarr keeps them as uint64, TIFF
(uint32 at most: OME-TIFF and ImageJ have no 64-bit integers) refuses them in one line naming
the file and how to relabel them; negative IDs are refused naming the file."""

from __future__ import annotations

import numpy as np
import pytest

from tessella.engine.io import read_image, write_labels, write_zarr_labels
from tessella.engine.io._write import write_ome_zarr_labels

BIG = 2**32 + 5


def _labels(dtype) -> np.ndarray:
    labels = np.zeros((4, 4), dtype)
    labels[0, 0], labels[1, 1] = BIG, 5
    return labels


@pytest.mark.parametrize("dtype", [np.uint64, np.int64])
@pytest.mark.parametrize("writer", [write_zarr_labels, write_ome_zarr_labels])
def test_zarr_keeps_ids_above_uint32_as_uint64(tmp_path, dtype, writer):
    path = writer(tmp_path / "big.ome.zarr", _labels(dtype))
    back = np.asarray(read_image(path).data)
    assert back.dtype == np.uint64
    assert (int(back[0, 0]), int(back[1, 1])) == (BIG, 5)


def test_zarr_of_ids_within_uint32_stays_uint32(tmp_path):
    labels = _labels(np.uint64)
    labels[0, 0] = 2**32 - 1
    assert np.asarray(read_image(write_zarr_labels(tmp_path / "a.zarr", labels)).data).dtype == (
        np.uint32
    )


def test_tiff_refuses_ids_above_uint32_naming_the_file(tmp_path):
    path = tmp_path / "big.tif"
    with pytest.raises(ValueError) as refused:
        write_labels(path, _labels(np.uint64))
    said = str(refused.value)
    assert said.startswith(f"{path}: label ID {BIG} is above 4,294,967,295")
    assert "relabel_sequential" in said and "Relabel 1..N" in said and "\n" not in said
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("writer", [write_labels, write_zarr_labels])
def test_negative_ids_are_refused_naming_the_file(tmp_path, writer):
    labels = np.array([[0, 3], [-(2**40), 2]], np.int64)
    path = tmp_path / ("neg.tif" if writer is write_labels else "neg.zarr")
    with pytest.raises(ValueError, match=f"^{path}: labels must not be negative \\(found -"):
        writer(path, labels)
    assert list(tmp_path.iterdir()) == []
