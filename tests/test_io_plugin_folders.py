"""The reader on folders of TIFF files: the frames of a movie (a Cell Tracking Challenge
sequence) open as one layer with a "t" slider, as ``tessella segment`` reads them; label
frames as labels; files of different shapes one layer each; a frame of another shape is
named. Before, the reader refused every folder that was not a zarr."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from napari.layers import Image, Labels
from qtpy.QtCore import Qt

from tessella._io import LAZY_LABELS_ENV, LazyLabelsWarning, get_reader
from tessella.engine.io import read_frames


def read(path) -> list[tuple]:
    reader = get_reader(str(path))
    assert reader is not None, path
    return reader(str(path))


def write_frames(folder, frames, name="t{}.tif", size=0.5, axes="YX", spacing=None):
    """``frames`` as ImageJ TIFFs of pixel size ``size`` µm in ``folder``, numbered from 1."""
    folder.mkdir(parents=True, exist_ok=True)
    metadata = {"axes": axes, "unit": "micron"}
    if spacing is not None:
        metadata["spacing"] = spacing
    for t, frame in enumerate(frames, start=1):
        tifffile.imwrite(
            folder / name.format(t),
            frame,
            imagej=True,
            resolution=(1 / size, 1 / size),
            metadata=metadata,
        )
    return folder


def movie(frames=12, shape=(32, 48), dtype=np.uint16) -> np.ndarray:
    """Frame t holds t + 100 and a gradient, so that the order and pixels can be checked."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return np.stack([yy + xx + 100 * (t + 1) for t in range(frames)]).astype(dtype)


def test_a_folder_of_frames_opens_as_one_movie_in_frame_order(tmp_path):
    """t1 ... t12 without zero padding: t2 comes before t10, as ``tessella segment`` reads."""
    frames = movie()
    folder = write_frames(tmp_path / "01", frames)

    [(data, kwargs, kind)] = read(folder)
    assert kind == "image" and isinstance(data, np.ndarray)  # small: in memory
    np.testing.assert_array_equal(data, frames)
    np.testing.assert_array_equal(data, read_frames(folder).data)
    assert kwargs["name"] == "01"
    assert kwargs["axis_labels"] == ("t", "y", "x")
    assert kwargs["scale"] == pytest.approx((1.0, 0.5, 0.5))
    assert kwargs["units"] == ("pixel", "µm", "µm")
    meta = kwargs["metadata"]
    assert meta["axes"] == "TYX" and "axes_guessed" not in meta
    assert meta["pixel_size"] == {"Y": 0.5, "X": 0.5} and meta["path"] == str(folder)


def test_a_real_ctc_sequence_opens_as_the_cli_reads_it(data_dir):
    """Fluo-N2DH-SIM+ 01 (65 frames, 690x628) and its ground truth 01_GT/SEG (man_seg*.tif)."""
    sequence = data_dir / "ctc_Fluo-N2DH-SIM+" / "01"
    [(data, kwargs, kind)] = read(sequence)
    assert kind == "image" and data.shape == (65, 690, 628)
    for t in (0, 9, 10, 64):
        np.testing.assert_array_equal(data[t], tifffile.imread(sequence / f"t{t:03d}.tif"))
    assert kwargs["metadata"]["axes"] == "TYX" and kwargs["axis_labels"] == ("t", "y", "x")

    [(labels, kwargs, kind)] = read(data_dir / "ctc_Fluo-N2DH-SIM+" / "01_GT" / "SEG")
    assert kind == "labels" and isinstance(labels, np.ndarray)
    assert labels.shape == (65, 690, 628) and kwargs["name"] == "SEG"
    np.testing.assert_array_equal(
        labels[7], tifffile.imread(data_dir / "ctc_Fluo-N2DH-SIM+/01_GT/SEG/man_seg007.tif")
    )


def test_a_folder_larger_than_the_limit_opens_lazily_one_frame_a_chunk(tmp_path, monkeypatch):
    from tessella import _io_folder

    frames = movie(frames=4)
    folder = write_frames(tmp_path / "movie", frames)
    monkeypatch.setattr(_io_folder, "LAZY_IMAGE_BYTES", frames.nbytes - 1)

    [(data, kwargs, kind)] = read(folder)
    assert kind == "image" and not isinstance(data, np.ndarray)
    assert data.chunks == ((1, 1, 1, 1), (32,), (48,))
    np.testing.assert_array_equal(np.asarray(data[2]), frames[2])
    np.testing.assert_array_equal(np.asarray(data), frames)
    assert kwargs["metadata"]["axes"] == "TYX"

    monkeypatch.setattr(_io_folder, "LAZY_IMAGE_BYTES", frames.nbytes)
    [(data, _kwargs, _kind)] = read(folder)
    assert isinstance(data, np.ndarray)


def test_3d_frames_stack_to_tzyx_with_their_z_spacing(tmp_path):
    volumes = movie(frames=6).reshape(3, 2, 32, 48)
    folder = write_frames(tmp_path / "volumes", volumes, axes="ZYX", spacing=2.0)

    [(data, kwargs, kind)] = read(folder)
    assert kind == "image"
    np.testing.assert_array_equal(data, volumes)
    assert kwargs["metadata"]["axes"] == "TZYX"
    assert kwargs["axis_labels"] == ("t", "z", "y", "x")
    assert kwargs["scale"] == pytest.approx((1.0, 2.0, 0.5, 0.5))


def test_label_frames_open_as_labels_by_the_rule_for_label_files(tmp_path, monkeypatch):
    """CTC ground truth (man_seg000.tif ...: one such file opens as labels too) and a
    masks/ folder; beyond the lazy-labels limit, lazily and read-only, as a labels zarr."""
    labels = (movie(frames=3) % 7).astype(np.uint16)
    seg = write_frames(tmp_path / "01_GT" / "SEG", labels, name="man_seg{:03d}.tif")
    [(data, kwargs, kind)] = read(seg)
    assert kind == "labels" and isinstance(data, np.ndarray)
    np.testing.assert_array_equal(data, labels)
    assert kwargs["metadata"]["axes"] == "TYX"
    [(_data, _kwargs, kind)] = read(seg / "man_seg002.tif")
    assert kind == "labels"

    masks = write_frames(tmp_path / "masks", labels, name="frame{}.tif")
    [(data, _kwargs, kind)] = read(masks)
    assert kind == "labels"
    images = write_frames(tmp_path / "images", labels, name="frame{}.tif")
    [(_data, _kwargs, kind)] = read(images)
    assert kind == "image"  # no sign of labels: an image

    monkeypatch.setenv(LAZY_LABELS_ENV, str(labels.size - 1))
    with pytest.warns(LazyLabelsWarning, match="SEG: opened lazily"):
        [(data, _kwargs, kind)] = read(seg)
    assert kind == "labels" and not isinstance(data, np.ndarray)
    np.testing.assert_array_equal(np.asarray(data), labels)


def test_files_of_different_shapes_open_one_layer_each(tmp_path):
    """Independent images (DSB2018's names), in natural order; too many are refused."""
    from tessella import _io_folder

    folder = tmp_path / "images"
    folder.mkdir()
    shapes = {"c07e2.tif": (20, 30), "a3f10.tif": (24, 24), "a3f9.tif": (16, 40)}
    for name, shape in shapes.items():
        tifffile.imwrite(folder / name, np.ones(shape, np.float32))
    layers = read(folder)
    assert [kwargs["name"] for _data, kwargs, _kind in layers] == ["a3f9", "a3f10", "c07e2"]
    assert [data.shape for data, _kwargs, _kind in layers] == [(16, 40), (24, 24), (20, 30)]

    for i in range(_io_folder.MAX_FOLDER_LAYERS - 2):
        tifffile.imwrite(folder / f"b{i}x.tif", np.ones((8 + i % 2, 8), np.uint8))
    with pytest.raises(ValueError, match=r"images: not opened: its 51 TIFF files are no movie"):
        read(folder)


def test_real_dsb2018_images_are_too_many_to_open_one_layer_each(data_dir):
    folder = data_dir / "nuclei2d_dsb2018" / "val" / "images"
    with pytest.raises(ValueError, match=r"^\S*images: not opened: its 64 TIFF files"):
        read(folder)


def test_a_frame_of_another_shape_is_named_with_both_shapes(tmp_path):
    folder = write_frames(tmp_path / "movie", movie(frames=5))
    tifffile.imwrite(folder / "t3.tif", np.zeros((32, 40), np.uint16))
    message = r"t3.tif: shape \(32, 40\) differs from t1.tif's \(32, 48\)"
    with pytest.raises(ValueError, match=message):
        read(folder)


def test_folders_without_tiffs_are_left_to_other_readers(tmp_path):
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "a.png").write_bytes(b"x")
    assert get_reader(str(tmp_path / "empty")) is None
    assert get_reader(str(tmp_path / "notes")) is None


def test_viewer_opens_a_folder_as_a_movie_that_segment_runs_in_memory(
    make_napari_viewer, data_dir, tmp_path, qtbot
):
    """4 real SIM+ frames (64x64 crops) through the plugin: one layer, slider "t", and a
    cells2dt Run in memory (not blockwise into a zarr)."""
    files = sorted((data_dir / "ctc_Fluo-N2DH-SIM+" / "01").glob("t0*.tif"))[20:24]
    frames = np.stack([tifffile.imread(f)[436:500, 136:200] for f in files])
    folder = tmp_path / "movie"
    folder.mkdir()
    for t, frame in enumerate(frames):
        tifffile.imwrite(folder / f"t{t:03d}.tif", frame)
    viewer = make_napari_viewer()

    [layer] = viewer.open(str(folder), plugin="tessella")
    assert isinstance(layer, Image) and layer.name == "movie"
    assert isinstance(layer.data, np.ndarray) and layer.data.shape == (4, 64, 64)
    assert viewer.dims.axis_labels == ("t", "y", "x")

    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    index = widget.model_combo.findText("cells2dt ", Qt.MatchFlag.MatchStartsWith)
    if index < 0:
        pytest.skip("the bundled cells2dt model is not installed")
    widget.model_combo.setCurrentIndex(index)
    assert widget.axes_combo.currentText() == "TYX"
    assert not widget.blockwise_checkbox.isChecked()
    with qtbot.waitSignal(widget.run_finished, timeout=120_000):
        widget.run_button.click()
    labels = viewer.layers["movie labels"]
    assert isinstance(labels, Labels) and isinstance(labels.data, np.ndarray)
    assert labels.data.shape == (4, 64, 64) and labels.data.max() > 0
    assert not list(tmp_path.rglob("*.zarr"))
