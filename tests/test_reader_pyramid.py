"""A big 2D zarr image opens as a napari multiscale (pyramid) layer, so that napari reads only
what it shows (a 20000x20000 uint16 mosaic took 9 s and 1.9 GB to open as one scale, napari
reading the plane whole): level 0 is the file's array, the levels below are an OME-Zarr
image's stored ones, else every 2nd, 4th, ... pixel of the file, read lazily. A zarr stored
in thin chunks (one row each) is said with the ``tessella convert`` command that rechunks it.
Here on the real nuclei sample with the size limit lowered (``TESSELLA_PYRAMID_PIXELS``)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import zarr

from tessella._io import ChunksWarning, read_layers

LIMIT = "100,000"  # pixels: the 520x512 sample is above it, a 256x256 crop below


@pytest.fixture
def image(nuclei_sample) -> np.ndarray:
    """The real 520x512 nuclei sample as uint16 (a microscope's type)."""
    return nuclei_sample[0].astype(np.uint16) * 200


def _zarr(path, data, chunks):
    array = zarr.create_array(str(path), shape=data.shape, dtype=data.dtype, chunks=chunks)
    array[...] = data
    return path


def _read(path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layers = read_layers(path)
    return layers, [w for w in caught if issubclass(w.category, ChunksWarning)]


def test_a_big_zarr_opens_as_a_pyramid_whose_level_0_is_the_file(tmp_path, image, monkeypatch):
    monkeypatch.setenv("TESSELLA_PYRAMID_PIXELS", LIMIT)
    path = _zarr(tmp_path / "mosaic.zarr", image, (128, 128))
    [(data, kwargs, kind)], said = _read(path)
    assert kind == "image" and kwargs["multiscale"] is True and not said
    level0 = data[0]
    assert isinstance(level0, zarr.Array) and str(level0.store_path).endswith("mosaic.zarr")
    np.testing.assert_array_equal(level0[...], image)
    # halved down to at most PYRAMID_SMALLEST (1024) px a side: every 2nd, 4th ... pixel
    shapes = [tuple(level.shape) for level in data]
    assert shapes == [(520, 512), (260, 256)]
    np.testing.assert_array_equal(np.asarray(data[1]), image[::2, ::2])
    assert kwargs["metadata"]["path"] == str(path) and kwargs["metadata"]["axes"] == "YX"

    # below the limit (or the default, 4096x4096): one scale, as before
    small = _zarr(tmp_path / "crop.zarr", image[:256, :256], (128, 128))
    [(data, kwargs, _)], _ = _read(small)
    assert "multiscale" not in kwargs and isinstance(data, zarr.Array)
    monkeypatch.delenv("TESSELLA_PYRAMID_PIXELS")
    [(data, kwargs, _)], _ = _read(path)
    assert "multiscale" not in kwargs and isinstance(data, zarr.Array)


def test_a_large_pyramid_keeps_its_coarse_level_and_reads_the_file_once(
    tmp_path, image, monkeypatch
):
    """A 4160x4096 mosaic of the sample: levels 1/2, 1/4 and 1/8, each the file's own pixels;
    1/4 is kept once read and 1/8 taken from it, so that showing them again (zooming out,
    panning) reads the file no more."""
    monkeypatch.setenv("TESSELLA_PYRAMID_PIXELS", LIMIT)
    mosaic = np.tile(image, (8, 8))
    path = _zarr(tmp_path / "big.zarr", mosaic, (512, 512))
    [(data, kwargs, _)], _ = _read(path)
    shapes = [tuple(level.shape) for level in data]
    assert shapes == [(4160, 4096), (2080, 2048), (1040, 1024), (520, 512)]
    for level, factor in zip(data[1:], (2, 4, 8)):
        np.testing.assert_array_equal(np.asarray(level), mosaic[::factor, ::factor])
    reads = []
    real = zarr.Array.__getitem__

    def counted(self, key):
        reads.append(key)
        return real(self, key)

    monkeypatch.setattr(zarr.Array, "__getitem__", counted)
    np.asarray(data[2])
    np.asarray(data[3][100:300, 50:400])
    assert reads == []  # kept: the file is not read again


def test_an_ome_zarr_pyramid_opens_with_its_own_levels(tmp_path, image, monkeypatch):
    monkeypatch.setenv("TESSELLA_PYRAMID_PIXELS", LIMIT)
    group = zarr.open_group(str(tmp_path / "slide.ome.zarr"), mode="w", zarr_format=2)
    # level 1: a mean of 2x2 pixels, not a pixel of 2 (what a computed level would hold)
    half = image[:520, :512].reshape(260, 2, 256, 2).mean(axis=(1, 3)).astype(np.uint16)
    datasets = []
    for name, data, size in (("0", image, 0.5), ("1", half, 1.0)):
        group.create_array(name, shape=(1, *data.shape), chunks=(1, 128, 128), dtype="u2")[:] = (
            data[None]
        )
        scale = [{"type": "scale", "scale": [1.0, size, size]}]
        datasets.append({"path": name, "coordinateTransformations": scale})
    axes = [{"name": "c", "type": "channel"}] + [
        {"name": a, "type": "space", "unit": "micrometer"} for a in "yx"
    ]
    group.attrs["multiscales"] = [{"version": "0.4", "axes": axes, "datasets": datasets}]
    [(data, kwargs, kind)], _ = _read(tmp_path / "slide.ome.zarr")
    assert kind == "image" and kwargs["multiscale"] is True
    assert [tuple(level.shape) for level in data] == [(520, 512), (260, 256)]
    np.testing.assert_array_equal(np.asarray(data[0]), image)
    np.testing.assert_array_equal(np.asarray(data[1]), half)  # the file's level, not strided
    assert kwargs["scale"] == (0.5, 0.5)  # level 0's pixel size: napari scales the others


def test_a_zarr_stored_in_rows_is_said_with_the_command_that_rechunks_it(tmp_path, image):
    rows = _zarr(tmp_path / "rows.zarr", image, (1, 512))
    [(data, _, _)], said = _read(rows)
    [warning] = said
    message = str(warning.message)
    assert message.startswith(f"{rows}: stored in chunks of 1x512 pixels (YX), thin along Y")
    assert message.endswith(f"tessella convert {rows} {tmp_path / 'rows_rechunked.zarr'}")
    np.testing.assert_array_equal(data[...], image)
    # square chunks, and one chunk of the whole image, are no cause for a hint
    for name, chunks in (("tiles.zarr", (128, 128)), ("one.zarr", image.shape)):
        _, said = _read(_zarr(tmp_path / name, image, chunks))
        assert said == []


def test_a_big_colour_zarr_opens_as_a_colour_pyramid(tmp_path, nuclei_sample, monkeypatch):
    monkeypatch.setenv("TESSELLA_PYRAMID_PIXELS", LIMIT)
    grey = nuclei_sample[0].astype(np.uint8)
    rgb = np.stack([grey, grey // 2, 255 - grey], axis=-1)  # (520, 512, 3), YXC
    path = _zarr(tmp_path / "slide.zarr", rgb, (128, 128, 3))
    [(data, kwargs, kind)], _ = _read(path)
    assert kind == "image" and kwargs["rgb"] is True and kwargs["multiscale"] is True
    assert [tuple(level.shape) for level in data] == [(520, 512, 3), (260, 256, 3)]
    assert isinstance(data[0], zarr.Array)
    np.testing.assert_array_equal(np.asarray(data[1]), rgb[::2, ::2])
    assert kwargs["metadata"]["axes"] == "YXC"
