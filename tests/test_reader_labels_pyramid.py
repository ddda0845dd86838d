"""Big 2D labels on disk (a labels zarr, a blockwise result, an OME-Zarr of labels) open as a
multiscale labels layer, as Segment shows its big blockwise result: as one scale, napari read
the whole plane on the GUI thread to draw it (a 20000² labels zarr: 18.6 s, a 16.3 s stall
and 4.3 GB; user test s30/t6). Level 0 is the file's array; the levels below are an
OME-Zarr's own where they are labels of the same type, else every 2nd, 4th, ... pixel of the
file, so that label IDs stay exact. Labels small enough to be read into memory (for Correct)
stay one level. The real nuclei sample's labels with both limits lowered."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import zarr

from tessella._io import LazyLabelsWarning, read_layers


@pytest.fixture
def big(monkeypatch):
    """Both limits below the sample's 520x512 pixels: its labels zarr opens lazily, and is
    "big" enough for a pyramid."""
    monkeypatch.setenv("TESSELLA_LAZY_LABELS_PIXELS", "100,000")
    monkeypatch.setenv("TESSELLA_PYRAMID_PIXELS", "100,000")


def _labels_zarr(path, labels, chunks=(128, 128)):
    array = zarr.create_array(str(path), shape=labels.shape, dtype=labels.dtype, chunks=chunks)
    array[...] = labels
    array.attrs["tessella_labels"] = True
    return path


def _read(path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layers = read_layers(path)
    return layers, [str(w.message) for w in caught if w.category is LazyLabelsWarning]


def test_big_labels_zarr_opens_as_exact_multiscale_labels(tmp_path, nuclei_sample, big):
    labels = nuclei_sample[1].astype(np.uint32)
    path = _labels_zarr(tmp_path / "cells.zarr", labels)
    [(data, kwargs, kind)], said = _read(path)
    assert kind == "labels" and kwargs["multiscale"] is True
    assert said and said[0].startswith(f"{path}: opened lazily")
    level0 = data[0]
    assert isinstance(level0, zarr.Array) and str(level0.store_path).endswith("cells.zarr")
    assert [tuple(level.shape) for level in data] == [(520, 512), (260, 256)]
    # the file's own pixels: no new values, every label ID as in the file
    np.testing.assert_array_equal(np.asarray(data[1]), labels[::2, ::2])
    assert np.asarray(data[1]).dtype == np.uint32
    assert kwargs["metadata"]["path"] == str(path) and kwargs["metadata"]["axes"] == "YX"


def test_labels_read_into_memory_stay_one_level(tmp_path, nuclei_sample, monkeypatch):
    """Up to TESSELLA_LAZY_LABELS_PIXELS labels are read into memory, so that Correct can
    edit them, however far above the pyramid size."""
    monkeypatch.setenv("TESSELLA_PYRAMID_PIXELS", "100,000")
    labels = nuclei_sample[1].astype(np.uint32)
    [(data, kwargs, kind)], said = _read(_labels_zarr(tmp_path / "cells.zarr", labels))
    assert kind == "labels" and "multiscale" not in kwargs and not said
    assert isinstance(data, np.ndarray)
    np.testing.assert_array_equal(data, labels)


def test_lazy_labels_below_the_pyramid_size_stay_one_level(tmp_path, nuclei_sample, monkeypatch):
    monkeypatch.setenv("TESSELLA_LAZY_LABELS_PIXELS", "0")
    labels = nuclei_sample[1].astype(np.uint32)
    [(data, kwargs, kind)], said = _read(_labels_zarr(tmp_path / "cells.zarr", labels))
    assert kind == "labels" and "multiscale" not in kwargs and said
    assert isinstance(data, zarr.Array)


def _ome_labels(path, levels, dtype):
    group = zarr.open_group(str(path), mode="w", zarr_format=2)
    datasets = []
    for i, level in enumerate(levels):
        group.create_array(str(i), shape=level.shape, chunks=(128, 128), dtype=dtype)[:] = level
        scale = [{"type": "scale", "scale": [2.0**i, 2.0**i]}]
        datasets.append({"path": str(i), "coordinateTransformations": scale})
    axes = [{"name": a, "type": "space"} for a in "yx"]
    group.attrs["multiscales"] = [{"version": "0.4", "axes": axes, "datasets": datasets}]
    group.attrs["image-label"] = {"version": "0.4"}  # (OME-Zarr's mark of labels)
    return path


def test_ome_zarr_labels_open_with_their_own_levels(tmp_path, nuclei_sample, big):
    labels = nuclei_sample[1].astype(np.uint32)
    # a stored level 1 that no strided level equals: the odd pixels, not the even ones
    odd = labels[1::2, 1::2]
    path = _ome_labels(tmp_path / "cells.ome.zarr", [labels, odd], "u4")
    [(data, kwargs, kind)], _ = _read(path)
    assert kind == "labels" and kwargs["multiscale"] is True
    assert [tuple(level.shape) for level in data] == [(520, 512), (260, 256)]
    np.testing.assert_array_equal(np.asarray(data[0]), labels)
    np.testing.assert_array_equal(np.asarray(data[1]), odd)  # the file's level

    # a single-level OME-Zarr (as Export wrote it): the computed levels
    path = _ome_labels(tmp_path / "one.ome.zarr", [labels], "u4")
    [(data, kwargs, kind)], _ = _read(path)
    assert kind == "labels" and kwargs["multiscale"] is True
    np.testing.assert_array_equal(np.asarray(data[1]), labels[::2, ::2])


def test_ome_zarr_levels_of_another_type_are_not_taken_for_labels(tmp_path, nuclei_sample, big):
    """Levels stored as floats (a mean of 2x2 labels) hold no label IDs: the computed levels
    are shown instead."""
    labels = nuclei_sample[1].astype(np.uint16)
    group = zarr.open_group(str(tmp_path / "mean.ome.zarr"), mode="w", zarr_format=2)
    mean = labels.reshape(260, 2, 256, 2).mean(axis=(1, 3))
    group.create_array("0", shape=labels.shape, chunks=(128, 128), dtype="u2")[:] = labels
    group.create_array("1", shape=mean.shape, chunks=(128, 128), dtype="f8")[:] = mean
    datasets = [
        {"path": str(i), "coordinateTransformations": [{"type": "scale", "scale": [s, s]}]}
        for i, s in ((0, 1.0), (1, 2.0))
    ]
    axes = [{"name": a, "type": "space"} for a in "yx"]
    group.attrs["multiscales"] = [{"version": "0.4", "axes": axes, "datasets": datasets}]
    group.attrs["image-label"] = {"version": "0.4"}  # (OME-Zarr's mark of labels)
    [(data, kwargs, kind)], _ = _read(tmp_path / "mean.ome.zarr")
    assert kind == "labels" and kwargs["multiscale"] is True
    assert np.asarray(data[1]).dtype == np.uint16
    np.testing.assert_array_equal(np.asarray(data[1]), labels[::2, ::2])


def test_export_s_ome_zarr_reopens_with_the_levels_it_wrote(
    tmp_path, nuclei_sample, big, monkeypatch
):
    """Export's OME-Zarr of big labels (levels from ff34065; sizes lowered here) reopens as a
    pyramid of its own levels, each the labels' every 2nd, 4th pixel."""
    from tessella.engine.io import _write

    monkeypatch.setattr(_write, "LEVELS_PIXELS", 100_000)
    monkeypatch.setattr(_write, "LEVELS_SMALLEST", 128)
    labels = nuclei_sample[1].astype(np.uint32)
    store = _write.write_ome_zarr_labels(tmp_path / "r.ome.zarr", labels, "YX", name="r")
    [(data, kwargs, kind)], _ = _read(store)
    assert kind == "labels" and kwargs["multiscale"] is True
    shapes = [tuple(level.shape) for level in data]
    assert shapes == [(520, 512), (260, 256), (130, 128), (65, 64)]
    assert all(isinstance(level, zarr.Array) for level in data)  # the file's, not computed
    np.testing.assert_array_equal(np.asarray(data[2]), labels[::4, ::4])
