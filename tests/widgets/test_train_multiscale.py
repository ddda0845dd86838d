"""Train reads a multiscale layer at full resolution (review 3, B1 and B2): a big zarr image
opens as a pyramid, and a big 2D blockwise result is multiscale labels [output zarr, every
Nth pixel]; ``np.asarray(layer.data)`` on either gives the lowest level. Compare segmented the
coarse image and scored it against full-resolution labels ("label images differ in shape");
Add pair accepted a multiscale labels layer (its shape is level 0's), then building the
training samples read the coarse labels and refused the pair, calling it "the image"."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zarr

from tessella._widgets._train_data import layer_samples, pair_mismatch
from tessella._widgets.train import REGION_LAYER
from tests.widgets.helpers import train_panel


@pytest.fixture
def crop(nuclei_sample):
    """A real 256x256 crop of the nuclei sample and its labels."""
    image, labels = nuclei_sample
    return image[:256, :256], labels[:256, :256].astype(np.int32)


def _zarr(path: Path, array: np.ndarray):
    """``array`` written as an on-disk zarr, opened read-only, as a blockwise output is."""
    store = zarr.open_array(
        str(path), mode="w", shape=array.shape, chunks=(64, 64), dtype=array.dtype
    )
    store[:] = array
    return zarr.open_array(str(path), mode="r")


def _blockwise_like(viewer, labels, path, name="blockwise result"):
    """A multiscale labels layer as Segment makes of a big 2D blockwise result."""
    return viewer.add_labels([_zarr(path, labels), labels[::2, ::2]], multiscale=True, name=name)


def test_full_resolution_is_level_0(make_napari_viewer, crop, tmp_path):
    from tessella._widgets._layers import full_resolution

    image, labels = crop
    viewer = make_napari_viewer()
    pyramid = viewer.add_image([image, image[::2, ::2]], multiscale=True, name="pyramid")
    result = _blockwise_like(viewer, labels, tmp_path / "out.zarr")
    plain = viewer.add_image(image, name="plain")
    assert np.asarray(pyramid.data).shape == (128, 128)  # what napari gives: the lowest level
    np.testing.assert_array_equal(np.asarray(full_resolution(pyramid)), image)
    np.testing.assert_array_equal(np.asarray(full_resolution(result)), labels)
    assert full_resolution(plain) is plain.data


def test_a_blockwise_result_trains_at_full_resolution(make_napari_viewer, crop, tmp_path):
    image, labels = crop
    viewer = make_napari_viewer()
    image_layer = viewer.add_image(image, name="nuclei")
    result = _blockwise_like(viewer, labels, tmp_path / "out.zarr")
    train = train_panel(viewer)
    train.image_combo.setCurrentIndex(train.image_combo.findData(image_layer.unique_id))
    train.labels_combo.setCurrentIndex(train.labels_combo.findData(result.unique_id))
    train._on_add_pair()
    assert train.pairs == [(image_layer.unique_id, result.unique_id)]
    assert pair_mismatch(image_layer, result, temporal=False) is None

    [sample] = layer_samples([(image_layer, result)], 2)
    assert sample.name == "blockwise result"
    np.testing.assert_array_equal(np.squeeze(sample.labels), labels)
    # a time-lapse model: the 2D image is a one-frame movie, its labels the full ones too
    [frame] = layer_samples([(image_layer, result)], 2, window=3)
    np.testing.assert_array_equal(np.squeeze(frame.labels), labels)


def _compare(train, qtbot):
    with qtbot.waitSignal(train.compare_finished, timeout=300_000):
        assert train.compare()
    assert "Compare failed" not in train.status_label.text(), train.status_label.text()


def test_compare_runs_on_the_full_resolution_of_a_pyramid(
    make_napari_viewer, crop, tmp_path, segment_model_dir, qtbot
):
    from tessella.engine.evaluation import score_pairs

    image, labels = crop
    viewer = make_napari_viewer()
    train = train_panel(viewer)
    train.last_model, train.last_temporal = Path(segment_model_dir), False
    model = Path(segment_model_dir).name

    plain = viewer.add_image(image, name="plain")
    truth = viewer.add_labels(labels, name="truth")
    train.last_pairs = ((plain.unique_id, truth.unique_id),)
    _compare(train, qtbot)
    expected = viewer.layers[f"plain by {model}"].data

    pyramid = viewer.add_image([image, image[::2, ::2]], multiscale=True, name="pyramid")
    result = _blockwise_like(viewer, labels, tmp_path / "out.zarr")
    train.last_pairs = ((pyramid.unique_id, result.unique_id),)
    # (the whole of a pyramid is refused: test_a_whole_pyramid_asks_for_a_region) a region
    # drawn around all of it: all of it, at full resolution
    train.draw_region()
    viewer.layers[REGION_LAYER].add_rectangles(np.array([[-5, -5], [300, 300]]))
    _compare(train, qtbot)
    found = viewer.layers[f"pyramid by {model}"]
    np.testing.assert_array_equal(found.data, expected)  # the same model on the same pixels
    assert train.comparison[model] == score_pairs([(labels, found.data)])

    # within a drawn region (in the labels' coordinates): that part of the full image
    viewer.layers[REGION_LAYER].add_rectangles(np.array([[40, 60], [200, 220]]))
    _compare(train, qtbot)
    found = viewer.layers[f"pyramid by {model}"]
    assert found.data.shape == (160, 160)
    np.testing.assert_allclose(found.translate, (40, 60))
    assert train.comparison[model] == score_pairs([(labels[40:200, 60:220], found.data)])
    assert train.comparison[model]["ap"]["0.5"] > 0.5  # nuclei found where they are


def test_a_whole_pyramid_asks_for_a_region(
    make_napari_viewer, crop, tmp_path, segment_model_dir, monkeypatch, qtbot
):
    """A 2D image too large to read whole opens as a pyramid; Compare read all its level 0
    on the GUI thread when no region was drawn (review r2, finding 5: seconds for an 8192²
    zarr, minutes and GBs for a slide, napari frozen), then segmented all of it with no way
    to stop. It now asks for a region, at once."""
    from tessella import _io

    image, labels = crop
    _zarr(tmp_path / "slide.zarr", image)
    monkeypatch.setenv("TESSELLA_PYRAMID_PIXELS", "10,000")  # (a 256² crop: above it)
    monkeypatch.setattr(_io, "PYRAMID_SMALLEST", 64)
    viewer = make_napari_viewer()
    [slide] = viewer.open(str(tmp_path / "slide.zarr"), plugin="tessella")
    assert slide.multiscale and not isinstance(slide.data[0], np.ndarray)
    truth = viewer.add_labels(labels, name="truth")
    train = train_panel(viewer)
    train.last_model, train.last_temporal = Path(segment_model_dir), False
    train.last_pairs = ((slide.unique_id, truth.unique_id),)

    assert not train.compare()
    assert train.status_label.text() == (
        "Not compared: 'slide' is a pyramid image of 256×256 pixels, long to segment whole: "
        "draw a region (Draw region), then Compare again"
    )
    train.draw_region()
    viewer.layers[REGION_LAYER].add_rectangles(np.array([[40, 60], [200, 220]]))
    _compare(train, qtbot)
    assert viewer.layers[f"slide by {Path(segment_model_dir).name}"].data.shape == (160, 160)


def test_compare_reads_in_its_worker(make_napari_viewer, crop, segment_model_dir, qtbot):
    """Compare reads the image (level 0 of a pyramid, a lazy array) in its worker, not on
    the GUI thread, which froze napari while a large one was read (review r2, finding 5)."""
    import threading

    import dask
    import dask.array as da

    image, labels = crop
    reads: list[bool] = []  # for each chunk read: on the GUI thread

    def read(block):
        reads.append(threading.current_thread() is threading.main_thread())
        return block

    viewer = make_napari_viewer()
    train = train_panel(viewer)
    train.last_model, train.last_temporal = Path(segment_model_dir), False
    with dask.config.set(scheduler="synchronous"):  # (chunks read by the thread asking)
        lazy = viewer.add_image(
            da.from_array(image, chunks=64).map_blocks(read, dtype=image.dtype), name="lazy"
        )
        truth = viewer.add_labels(labels, name="truth")
        train.last_pairs = ((lazy.unique_id, truth.unique_id),)
        reads.clear()  # (napari's own reads to show it)
        with qtbot.waitSignal(train.compare_finished, timeout=300_000):
            assert train.compare()
            on_gui = [r for r in reads if r]  # (napari draws nothing until this returns)
    assert not on_gui
    assert len(reads) >= 16  # all 16 chunks, in the worker
    assert "Compare failed" not in train.status_label.text()
