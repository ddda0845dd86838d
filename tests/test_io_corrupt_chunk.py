"""A zarr with a damaged chunk file (cut short, as by a copy that did not finish): napari said
only "Zstd decompression error: invalid input data", naming no file (the known gap "Opening a
zarr with a corrupt chunk in napari fails with 'Zstd decompression error' naming no file").
The arrays Tessella's reader opens now name the chunk file, its pixels and what to do (copy
it again, or delete it to read its pixels as the fill value), wherever they are read: by
napari's slicing, by the reader's levels, by the engine (``as_array``, blockwise's blocks)."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

from tessella.engine.io import as_array, read_image
from tests.conftest import write_ome_zarr


def _cut_short(chunk):
    data = chunk.read_bytes()
    chunk.write_bytes(data[: len(data) // 2])


@pytest.fixture
def damaged(tmp_path, nuclei_sample):
    """The real nuclei image as a zarr in 256² chunks, chunk (0, 1) cut short."""
    image = np.ascontiguousarray(nuclei_sample[0][:512, :512])
    array = zarr.create_array(
        str(tmp_path / "nuclei.zarr"), shape=image.shape, chunks=(256, 256), dtype=image.dtype
    )
    array[...] = image
    array.attrs["tessella_axes"] = "YX"
    chunk = tmp_path / "nuclei.zarr" / "c" / "0" / "1"
    _cut_short(chunk)
    return tmp_path / "nuclei.zarr", chunk, image


def test_a_read_over_a_damaged_chunk_names_it(damaged):
    path, chunk, image = damaged
    data = read_image(path).data
    np.testing.assert_array_equal(data[300:, :], image[300:, :])  # the others read
    with pytest.raises(RuntimeError) as caught:
        data[100:200, 200:300]
    said = str(caught.value)
    assert said.startswith(f"{path}: chunk file {chunk} (pixels [0:256, 256:512])")
    assert "Zstd" in said and "Copy it again" in said
    assert "delete it to read its pixels as 0" in said
    with pytest.raises(RuntimeError, match="c/0/1"):  # (what caught zstd's error catches it)
        np.asarray(data)


def test_the_engine_names_the_chunk_of_a_plain_zarr_array(damaged):
    """What blockwise's workers read (their own zarr array, not the reader's): the block and
    the chunk file."""
    path, chunk, _image = damaged
    plain = zarr.open_array(str(path), mode="r")
    with pytest.raises(ValueError) as caught:
        as_array(plain, path, "block [0:512, 0:512]", (slice(0, 512), slice(0, 512)))
    said = str(caught.value)
    assert said.startswith(f"{path}: cannot read block [0:512, 0:512]: chunk file {chunk}")


def test_a_stored_level_names_its_chunk(tmp_path, nuclei_sample):
    from tessella.engine.io._zarr import ome_levels

    image = np.ascontiguousarray(nuclei_sample[0][:512, :512])
    path = write_ome_zarr(tmp_path / "img.zarr", image, "yx", [1.0, 1.0], (128, 128))
    group = zarr.open_group(str(path), mode="r+")
    group.create_array("1", shape=(256, 256), chunks=(128, 128), dtype=image.dtype)[...] = image[
        ::2, ::2
    ]
    attrs = dict(group.attrs)
    attrs["multiscales"][0]["datasets"].append(
        {"path": "1", "coordinateTransformations": [{"type": "scale", "scale": [2.0, 2.0]}]}
    )
    group.attrs.update(attrs)
    _cut_short(path / "1" / "1.1")  # (zarr v2's default chunk key: "Y.X")
    [level] = ome_levels(read_image(path))
    with pytest.raises(RuntimeError, match=r"chunk file .*img\.zarr/1/1\.1 \(pixels"):
        np.asarray(level)


def test_napari_opening_it_names_the_chunk(make_napari_viewer, damaged):
    path, chunk, _image = damaged
    viewer = make_napari_viewer()
    with pytest.raises(RuntimeError) as caught:
        viewer.open(str(path), plugin="tessella")  # (napari reads the plane to show it)
    assert str(chunk) in str(caught.value) and "Zstd" in str(caught.value)
