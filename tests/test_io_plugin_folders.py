"""The reader on folders of TIFF files: the frames of a movie (a Cell Tracking Challenge
sequence) open as one layer with a "t" slider, as ``tessella segment`` reads them; label
frames as labels; files of different shapes one layer each; a frame of another shape is
named. Before, the reader refused every folder that was not a zarr."""

from __future__ import annotations

import warnings

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


def write_frames(folder, frames, name="t{}.tif", size=0.5, axes="YX", spacing=None, numbers=None):
    """``frames`` as ImageJ TIFFs of pixel size ``size`` µm in ``folder``, numbered from 1 (or
    ``numbers``)."""
    folder.mkdir(parents=True, exist_ok=True)
    metadata = {"axes": axes, "unit": "micron"}
    if spacing is not None:
        metadata["spacing"] = spacing
    for t, frame in zip(numbers or range(1, len(frames) + 1), frames):
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
    seg = write_frames(
        tmp_path / "01_GT" / "SEG", labels, name="man_seg{:03d}.tif", numbers=[0, 1, 2]
    )
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
    with pytest.warns(LazyLabelsWarning, match="SEG: opened lazily.* open the folder again"):
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
    labels = viewer.layers["movie labels (cells2dt)"]
    assert isinstance(labels, Labels) and isinstance(labels.data, np.ndarray)
    assert labels.data.shape == (4, 64, 64) and labels.data.max() > 0
    assert not list(tmp_path.rglob("*.zarr"))


def test_sparse_ctc_ground_truth_sits_at_its_frame_numbers(data_dir):
    """Fluo-N2DH-GOWT1's 01_GT/SEG annotates 30 of the 92 frames of 01 (man_seg002,
    man_seg005, ...): it stacked as 30 frames, so t=1 showed frame 5's labels over frame 1's
    cells. Now each sits at its frame number in a stack as long as the movie beside it, the
    others empty, said in a notification; past the lazy-labels limit (92 x 1024²), lazily."""
    from tessella._io_folder import AnnotatedFramesWarning

    seg = data_dir / "ctc_Fluo-N2DH-GOWT1" / "01_GT" / "SEG"
    with pytest.warns(AnnotatedFramesWarning, match=r"'SEG': 30 annotated frames of 0-91 "):
        with pytest.warns(LazyLabelsWarning, match="open the folder again"):
            [(labels, kwargs, kind)] = read(seg)
    assert kind == "labels" and labels.shape == (92, 1024, 1024)
    assert labels.chunks[0] == (1,) * 92  # one frame a chunk, the empty ones never read
    assert kwargs["metadata"]["axes"] == "TYX" and kwargs["name"] == "SEG"
    for t in (2, 5, 47):
        np.testing.assert_array_equal(
            np.asarray(labels[t]), tifffile.imread(seg / f"man_seg{t:03d}.tif")
        )
    for t in (0, 3, 48, 91):
        assert not np.asarray(labels[t]).any()
    # its files carry no pixel size: the movie's (0.2405 µm), so that they overlay it (they
    # were drawn at 1 pixel a unit, a quarter of the image's size, in its corner)
    np.testing.assert_allclose(kwargs["scale"], (1, 0.2405, 0.2405), rtol=1e-4)


def test_ctc_label_frames_without_a_pixel_size_take_the_movies(tmp_path):
    """Label frames of the CTC layout without a pixel size (as GOWT1's SEG) take the pixel
    size of the movie beside them (``01`` beside ``01_GT/SEG``), every frame annotated or
    not; label frames with their own keep it; a movie of another frame shape gives none."""
    frames = movie(4)
    write_frames(tmp_path / "01", frames, name="t{:03d}.tif", size=0.5, numbers=range(4))
    seg = tmp_path / "01_GT" / "SEG"
    seg.mkdir(parents=True)
    truth = (frames > frames.mean()).astype(np.uint16)
    truth[:, :4] = 2
    for t in range(4):
        tifffile.imwrite(seg / f"man_seg{t:03d}.tif", truth[t])  # no resolution
    [(labels, kwargs, kind)] = read(seg)
    assert kind == "labels" and np.asarray(labels).shape == (4, 32, 48)
    np.testing.assert_allclose(kwargs["scale"], (1, 0.5, 0.5))
    own = write_frames(
        tmp_path / "02_GT" / "SEG", truth, name="man_seg{:03d}.tif", size=0.25, numbers=range(4)
    )
    write_frames(tmp_path / "02", frames, name="t{:03d}.tif", size=0.5, numbers=range(4))
    np.testing.assert_allclose(read(own)[0][1]["scale"], (1, 0.25, 0.25))
    write_frames(tmp_path / "03", movie(4, (16, 48)), name="t{:03d}.tif", numbers=range(4))
    other = tmp_path / "03_GT" / "SEG"
    other.mkdir(parents=True)
    for t in range(4):
        tifffile.imwrite(other / f"man_seg{t:03d}.tif", truth[t])
    np.testing.assert_allclose(read(other)[0][1]["scale"], (1, 1, 1))


def test_label_frames_with_gaps_in_memory_and_lazily(tmp_path, monkeypatch):
    """A CTC layout (a 6-frame movie 01, SEG of frames 1 and 4) in memory and lazily;
    man_seg frames without their movie count from 0 and end at the last one; other label
    frames (masks/mask1.tif, mask3.tif, mask4.tif) stack in order, as image frames do, the
    missing number said (they sat at frames 0, 2, 3 of 4, and their images at 0, 1, 2)."""
    from tessella._io_folder import AnnotatedFramesWarning
    from tessella.engine.io._read import MissingFramesWarning

    movie_frames = movie(frames=6)
    labels = (movie_frames % 5).astype(np.uint16)
    write_frames(tmp_path / "01", movie_frames, name="t{:03d}.tif", numbers=range(6))
    seg = write_frames(
        tmp_path / "01_GT" / "SEG", labels[[1, 4]], name="man_seg{:03d}.tif", numbers=[1, 4]
    )

    with pytest.warns(AnnotatedFramesWarning, match=r"'SEG': 2 annotated frames of 0-5 "):
        [(data, kwargs, kind)] = read(seg)
    assert kind == "labels" and isinstance(data, np.ndarray) and data.shape == (6, 32, 48)
    expected = np.zeros_like(labels)
    expected[[1, 4]] = labels[[1, 4]]
    np.testing.assert_array_equal(data, expected)
    assert kwargs["metadata"]["axes"] == "TYX" and kwargs["scale"] == pytest.approx((1, 0.5, 0.5))

    monkeypatch.setenv(LAZY_LABELS_ENV, "100")
    with pytest.warns(AnnotatedFramesWarning, match=r"'SEG': 2 annotated frames of 0-5 "):
        with pytest.warns(LazyLabelsWarning, match=r"SEG: opened lazily .* the folder again"):
            [(data, _kwargs, _kind)] = read(seg)
    assert not isinstance(data, np.ndarray) and data.chunks[0] == (1,) * 6
    np.testing.assert_array_equal(np.asarray(data), expected)
    monkeypatch.delenv(LAZY_LABELS_ENV)

    # no movie beside: frames 0 to the last annotated
    alone = write_frames(tmp_path / "SEG", labels[[1, 4]], name="man_seg{:03d}.tif", numbers=[1, 4])
    with pytest.warns(AnnotatedFramesWarning, match=r"2 annotated frames of 0-4 "):
        [(data, _kwargs, _kind)] = read(alone)
    np.testing.assert_array_equal(data, expected[:5])

    masks = write_frames(
        tmp_path / "masks", labels[[0, 2, 3]], name="mask{}.tif", numbers=[1, 3, 4]
    )
    message = r"masks: frame 2 missing \(of 1-4\): its 3 frames are stacked in order"
    with pytest.warns(MissingFramesWarning, match=message):
        [(data, _kwargs, kind)] = read(masks)
    assert kind == "labels" and data.shape == (3, 32, 48)
    np.testing.assert_array_equal(data, labels[[0, 2, 3]])


def test_3d_label_frames_stack_to_tzyx_at_their_frame_numbers(tmp_path):
    """CTC ground truth of 3D frames (man_track000.tif ... ZYX): TZYX labels; the frames a
    sparse SEG skips are empty volumes."""
    from tessella._io_folder import AnnotatedFramesWarning

    volumes = (movie(frames=6) % 9).astype(np.uint16).reshape(3, 2, 32, 48)
    tra = write_frames(
        tmp_path / "TRA", volumes, name="man_track{:03d}.tif", axes="ZYX", numbers=range(3)
    )
    [(data, kwargs, kind)] = read(tra)
    assert kind == "labels" and data.shape == (3, 2, 32, 48)
    assert kwargs["metadata"]["axes"] == "TZYX"

    seg = write_frames(
        tmp_path / "SEG", volumes[[0, 2]], name="man_seg{:03d}.tif", axes="ZYX", numbers=[1, 3]
    )
    with pytest.warns(AnnotatedFramesWarning, match=r"2 annotated frames of 0-3 "):
        [(data, kwargs, kind)] = read(seg)
    assert kind == "labels" and data.shape == (4, 2, 32, 48)
    assert kwargs["metadata"]["axes"] == "TZYX" and kwargs["axis_labels"] == ("t", "z", "y", "x")
    assert not data[[0, 2]].any()
    np.testing.assert_array_equal(data[[1, 3]], volumes[[0, 2]])


def test_an_image_movie_missing_frames_stacks_in_order_naming_them(tmp_path):
    """t1, t2, t4, t5, t7: five frames in order (as segment reads them, so that tracks link
    frame to frame), the missing 3 and 6 named, in the reader as in read_frames."""
    from tessella.engine.io._read import MissingFramesWarning

    frames = movie(frames=7)
    folder = write_frames(tmp_path / "01", frames[[0, 1, 3, 4, 6]], numbers=[1, 2, 4, 5, 7])
    message = r"01: frames 3, 6 missing \(of 1-7\): its 5 frames are stacked in order.*t4\.tif"
    with pytest.warns(MissingFramesWarning, match=message):
        [(data, _kwargs, kind)] = read(folder)
    assert kind == "image"
    np.testing.assert_array_equal(data, frames[[0, 1, 3, 4, 6]])
    with pytest.warns(MissingFramesWarning, match=message):
        np.testing.assert_array_equal(read_frames(folder).data, data)


def test_the_in_memory_limit_for_images_has_an_environment_variable(tmp_path, monkeypatch):
    """TESSELLA_LAZY_IMAGE_BYTES, read as TESSELLA_LAZY_LABELS_PIXELS is (commas allowed)."""
    from tessella._io_folder import LAZY_IMAGE_ENV

    frames = movie(frames=4)
    folder = write_frames(tmp_path / "movie", frames)
    monkeypatch.setenv(LAZY_IMAGE_ENV, f"{frames.nbytes - 1:,}")
    [(data, _kwargs, _kind)] = read(folder)
    assert not isinstance(data, np.ndarray) and data.chunks[0] == (1, 1, 1, 1)
    np.testing.assert_array_equal(np.asarray(data), frames)
    monkeypatch.setenv(LAZY_IMAGE_ENV, str(frames.nbytes))
    [(data, _kwargs, _kind)] = read(folder)
    assert isinstance(data, np.ndarray)
    monkeypatch.setenv(LAZY_IMAGE_ENV, "1 GB")
    with pytest.warns(UserWarning, match=rf"{LAZY_IMAGE_ENV} is '1 GB', not a whole number"):
        [(data, _kwargs, _kind)] = read(folder)
    assert isinstance(data, np.ndarray)


def caught(folder) -> tuple[list[tuple], list[str]]:
    """The layers of ``folder`` and the names of the warnings reading it raised."""
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        layers = read(folder)
    return layers, [type(w.message).__name__ for w in said]


def test_an_image_folder_and_its_masks_folder_with_gaps_line_up(tmp_path):
    """images/img1,3,4.tif and masks/img1,3,4.tif (a training pair): the masks opened as 4
    frames (an empty frame 1 put in), the images as 3, so Train and Evaluate could not pair
    them. Both now stack in order, each with the missing number said."""
    frames = movie(frames=4)
    images = write_frames(
        tmp_path / "exp" / "images", frames[[0, 2, 3]], "img{}.tif", numbers=[1, 3, 4]
    )
    masks = (frames % 5).astype(np.uint16)[[0, 2, 3]]
    write_frames(tmp_path / "exp" / "masks", masks, "img{}.tif", numbers=[1, 3, 4])

    [(image, _kwargs, kind)], said = caught(images)
    assert kind == "image" and said == ["MissingFramesWarning"]
    [(labels, _kwargs, kind)], said = caught(tmp_path / "exp" / "masks")
    assert kind == "labels" and said == ["MissingFramesWarning"]
    assert labels.shape == image.shape == (3, 32, 48)
    np.testing.assert_array_equal(labels, masks)


def test_dense_label_frames_numbered_from_100_are_their_5_frames(tmp_path):
    """mask100 ... mask104 (a crop of a movie) opened as 104 frames, 99 of them empty in
    front, beside their 5-frame image movie t100 ... t104. The Cell Tracking Challenge's
    layout still places sparse frames on the movie beside them."""
    from tessella._io_folder import AnnotatedFramesWarning

    labels = (movie(frames=5) % 7).astype(np.uint16)
    masks = write_frames(tmp_path / "masks_crop", labels, "mask{}.tif", numbers=range(100, 105))
    [(data, _kwargs, kind)], said = caught(masks)
    assert kind == "labels" and said == []
    np.testing.assert_array_equal(data, labels)

    write_frames(tmp_path / "02", movie(frames=5), "t{:03d}.tif", numbers=range(100, 105))
    seg = write_frames(
        tmp_path / "02_GT" / "SEG", labels[[0, 3]], "man_seg{:03d}.tif", numbers=[100, 103]
    )
    with pytest.warns(AnnotatedFramesWarning, match=r"'SEG': 2 annotated frames of 0-4 "):
        [(data, _kwargs, kind)] = read(seg)
    assert kind == "labels" and data.shape == (5, 32, 48)
    np.testing.assert_array_equal(data[[0, 3]], labels[[0, 3]])
    assert not data[[1, 2, 4]].any()


@pytest.mark.parametrize(
    ("image_name", "labels_name"),
    [("cells.tif", "cells_labels.tif"), ("b.tif", "a_mask.tif"), ("raw.tif", "result.tif")],
)
def test_an_image_and_its_labels_in_one_folder_open_as_one_layer_each(
    tmp_path, image_name, labels_name
):
    """They were stacked into one 2-frame layer whose kind the first file decided (labels
    shown as pixels, or the image as labels). result.tif is labels by Tessella's tag."""
    from tessella.engine.io import write_labels

    frames = movie(frames=2)
    labels = (frames[1] % 6).astype(np.uint16)
    tifffile.imwrite(tmp_path / image_name, frames[0])
    if labels_name == "result.tif":
        write_labels(tmp_path / labels_name, labels, "YX", {}, "µm")
    else:
        tifffile.imwrite(tmp_path / labels_name, labels)

    layers = {kwargs["name"]: (data, kind) for data, kwargs, kind in read(tmp_path)}
    image_stem, labels_stem = image_name[:-4], labels_name[:-4]
    assert sorted(layers) == sorted([image_stem, labels_stem])
    assert layers[image_stem][1] == "image" and layers[labels_stem][1] == "labels"
    np.testing.assert_array_equal(layers[image_stem][0], frames[0])
    np.testing.assert_array_equal(layers[labels_stem][0], labels)


def test_an_image_series_and_its_labels_series_in_one_folder_open_as_two_movies(tmp_path):
    """t1..t3.tif and mask1..mask3.tif: an image movie and a labels movie of the same frames
    (they were one 6-frame labels layer); with mask3.tif gone, the labels are 2 frames (mask1
    and mask2 were left out of the movie t1..t3 as stray files)."""
    frames = movie(frames=3)
    labels = (frames % 5).astype(np.uint16)
    folder = write_frames(tmp_path / "exp", frames)
    write_frames(folder, labels, name="mask{}.tif")

    [(image, image_kwargs, image_kind), (masks, masks_kwargs, masks_kind)] = read(folder)
    assert (image_kind, image_kwargs["name"]) == ("image", "exp")
    assert (masks_kind, masks_kwargs["name"]) == ("labels", "exp labels")
    np.testing.assert_array_equal(image, frames)
    np.testing.assert_array_equal(masks, labels)
    assert image_kwargs["metadata"]["axes"] == masks_kwargs["metadata"]["axes"] == "TYX"

    (folder / "mask3.tif").unlink()
    layers, said = caught(folder)
    assert [(kwargs["name"], kind, data.shape) for data, kwargs, kind in layers] == [
        ("exp", "image", (3, 32, 48)),
        ("exp labels", "labels", (2, 32, 48)),
    ]
    assert said == []
    np.testing.assert_array_equal(layers[1][0], labels[:2])


def test_hidden_appledouble_files_are_left_out(tmp_path):
    """macOS's ._t000.tif beside each frame copied to an exFAT or network drive (no TIFF):
    the folder was refused ("._t000.tif: cannot read as TIFF")."""
    frames = movie(frames=4)
    folder = write_frames(tmp_path / "01", frames, name="t{:03d}.tif", numbers=range(4))
    for t in range(4):
        (folder / f"._t{t:03d}.tif").write_bytes(b"\x00\x05\x16\x07" + bytes(4000))

    [(data, _kwargs, kind)] = read(folder)
    assert kind == "image"
    np.testing.assert_array_equal(data, frames)
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "._t000.tif").write_bytes(b"\x00\x05\x16\x07")
    assert get_reader(str(hidden)) is None


def test_binary_mask_frames_are_labels_in_memory_and_lazily(tmp_path, monkeypatch):
    """0/1 frames (the first one empty) opened as labels in memory but as an image when
    lazy (TESSELLA_LAZY_IMAGE_BYTES=0, or a larger folder): now labels both ways."""
    from tessella._io_folder import LAZY_IMAGE_ENV

    masks = (movie(frames=3) % 3 == 0).astype(np.uint8)
    masks[0] = 0
    folder = write_frames(tmp_path / "binary", masks, name="frame{}.tif")
    [(data, _kwargs, kind)] = read(folder)
    assert kind == "labels"
    np.testing.assert_array_equal(data, masks)
    monkeypatch.setenv(LAZY_IMAGE_ENV, "0")
    [(data, _kwargs, kind)] = read(folder)
    assert kind == "labels"
    np.testing.assert_array_equal(np.asarray(data), masks)


def test_2d_frames_not_named_as_times_have_their_axes_marked_guessed(tmp_path):
    """slice_000.tif ... may be the sections of a volume: TYX is a guess (Segment's Axes may
    make it ZYX); t000.tif, frame_1.tif and man_seg000.tif name times."""
    for name, guessed in [
        ("slice_{:03d}.tif", True),
        ("img{}.tif", True),
        ("t{:03d}.tif", False),
        ("frame_{}.tif", False),
        ("cell_T{}.tif", False),
        ("man_seg{:03d}.tif", False),
    ]:
        folder = write_frames(
            tmp_path / name.split("{")[0], movie(frames=3), name, numbers=range(3)
        )
        [(_data, kwargs, _kind)] = read(folder)
        assert kwargs["metadata"]["axes"] == "TYX"
        assert kwargs["metadata"].get("axes_guessed", False) is guessed, name


def binary_mask(shape=(32, 48), top=1) -> np.ndarray:
    """A uint8 disc of ``top`` (1, or ImageJ's 255) on 0."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    return ((yy - 16) ** 2 + (xx - 20) ** 2 < 100).astype(np.uint8) * top


@pytest.mark.parametrize(
    ("names", "dtype", "top"),
    [
        (["t1.tif", "t2.tif", "t3.tif"], np.uint16, 1),  # it was left out of the movie
        (["a.tif", "b.tif", "c.tif"], np.uint8, 255),  # it was the movie's 4th frame
        # roi.tif came first: a 2-frame labels layer of both (0/1: see below)
        (["t1.tif"], np.uint16, 255),
    ],
)
def test_an_unnamed_mask_among_frames_opens_as_its_own_labels(tmp_path, names, dtype, top):
    """roi.tif, a mask nothing names as labels (0/1, or ImageJ's 0/255), of the frames'
    shape: it was stacked into the movie (frames without numbers), left out with a warning
    (numbered frames), or made the image labels. Now the frames are the movie, and the mask
    its own labels layer, named after it, its values kept."""
    frames = movie(frames=len(names)).astype(dtype)
    for name, frame in zip(names, frames):
        tifffile.imwrite(tmp_path / name, frame)
    mask = binary_mask(top=top)
    tifffile.imwrite(tmp_path / "roi.tif", mask)

    layers, said = caught(tmp_path)
    assert said == []
    by_name = {kwargs["name"]: (data, kind) for data, kwargs, kind in layers}
    image_name = tmp_path.name if len(names) > 1 else "t1"
    assert sorted(by_name) == sorted([image_name, "roi"])
    image, kind = by_name[image_name]
    assert kind == "image"
    np.testing.assert_array_equal(image, frames if len(names) > 1 else frames[0])
    labels, kind = by_name["roi"]
    assert kind == "labels" and labels.dtype == np.uint8
    np.testing.assert_array_equal(labels, mask)


def noisy_frames(frames=2, shape=(32, 48), dtype=np.uint16, seed=0) -> np.ndarray:
    """Intensity frames as a camera gives them: Poisson noise on a background of 100, a
    brighter cell (400) in each."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    cell = ((yy - 12) ** 2 + (xx - 30) ** 2 < 60) * 300 + 100
    return np.random.default_rng(seed).poisson(cell, (frames, *shape)).astype(dtype)


@pytest.mark.parametrize(
    ("names", "lazily"),
    [
        (["t1.tif"], ""),  # one frame beside it: a 2-frame labels layer of both
        (["sample_a.tif", "sample_b.tif"], ""),  # named without numbers: a 3-frame labels layer
        (["sample_a.tif", "sample_b.tif"], "0"),  # lazily (the mask uint8, told by its type)
    ],
)
def test_a_0_1_mask_sorting_first_among_image_frames_opens_as_its_own_labels(
    tmp_path, monkeypatch, names, lazily
):
    """roi.tif (0/1) sorting first among intensity frames named without numbers: 9a4c775
    asked the rule for a movie of labels (its first frame not empty holds only 0 and 1),
    which saw roi.tif first and made the whole folder one labels movie. The frames are told
    images by their content (noise: not piecewise constant), so the mask is its own labels."""
    from tessella._io_folder import LAZY_IMAGE_ENV

    frames = noisy_frames(len(names))
    for name, frame in zip(names, frames):
        tifffile.imwrite(tmp_path / name, frame)
    mask = binary_mask()  # uint8 0/1
    tifffile.imwrite(tmp_path / "roi.tif", mask)
    monkeypatch.setenv(LAZY_IMAGE_ENV, lazily)

    layers, said = caught(tmp_path)
    assert said == []
    by_name = {kwargs["name"]: (data, kind) for data, kwargs, kind in layers}
    image_name = tmp_path.name if len(names) > 1 else "t1"
    assert sorted(by_name) == sorted([image_name, "roi"])
    image, kind = by_name[image_name]
    assert kind == "image"
    np.testing.assert_array_equal(np.asarray(image), frames if len(names) > 1 else frames[0])
    labels, kind = by_name["roi"]
    assert kind == "labels"
    np.testing.assert_array_equal(np.asarray(labels), mask)


def test_unnamed_masks_in_a_lazy_folder_are_told_by_their_type(tmp_path, monkeypatch):
    """A movie opened lazily is not read whole to look for masks: an 8-bit mask among 16-bit
    frames is still told (and two masks are their own movie of labels); a folder of masks
    only, one of them empty, stays one movie of masks."""
    from tessella._io_folder import LAZY_IMAGE_ENV

    frames = movie(frames=3)
    for name, frame in zip(["a.tif", "b.tif", "c.tif"], frames):
        tifffile.imwrite(tmp_path / name, frame)
    masks = np.stack([binary_mask(), binary_mask()[::-1]])
    tifffile.imwrite(tmp_path / "roi_x.tif", masks[0])
    tifffile.imwrite(tmp_path / "roi_y.tif", masks[1])
    monkeypatch.setenv(LAZY_IMAGE_ENV, "0")

    [(image, image_kwargs, image_kind), (labels, kwargs, kind)] = read(tmp_path)
    assert image_kind == "image" and image_kwargs["name"] == tmp_path.name
    assert not isinstance(image, np.ndarray)
    np.testing.assert_array_equal(np.asarray(image), frames)
    assert kind == "labels" and kwargs["name"] == f"{tmp_path.name} masks"
    np.testing.assert_array_equal(np.asarray(labels), masks)

    only = tmp_path / "only"
    only.mkdir()
    masks = np.stack([masks[0], np.zeros_like(masks[0]), masks[1]])
    for name, mask in zip(["x.tif", "xy.tif", "y.tif"], masks):
        tifffile.imwrite(only / name, mask)
    for lazily in ("0", ""):  # an empty mask among them is one of them, read or not
        monkeypatch.setenv(LAZY_IMAGE_ENV, lazily)
        [(labels, kwargs, kind)] = read(only)
        assert kind == "labels" and kwargs["name"] == "only"
        np.testing.assert_array_equal(np.asarray(labels), masks)


def instance_labels(objects: int, shape=(32, 48)) -> np.ndarray:
    """A uint16 label frame of ``objects`` 6-pixel squares numbered 1, 2, ... on 0."""
    frame = np.zeros(shape, np.uint16)
    for i in range(objects):
        y, x = 2 + 10 * (i // 4), 2 + 11 * (i % 4)
        frame[y : y + 6, x : x + 6] = i + 1
    return frame


@pytest.mark.parametrize(
    ("names", "objects", "lazily"),
    [
        (["a.tif", "b.tif", "c.tif"], [1, 5, 3], ""),  # 'a' was split out, b c an image
        (["a.tif", "b.tif", "c.tif", "d.tif"], [0, 1, 4, 1], ""),  # b and d, as 'NAME masks'
        (["a.tif", "b.tif", "c.tif"], [1, 5, 3], "0"),  # lazily: a (uint8) was split out
        (["t000.tif", "t001.tif", "t002.tif"], [1, 0, 5], ""),  # numbered: never split
        # the first frame of many ids: b was split out, a c an image (the rule for a movie of
        # labels took them for images); lazily, the uint8 b too
        (["a.tif", "b.tif", "c.tif"], [5, 1, 3], ""),
        (["a.tif", "b.tif", "c.tif"], [5, 1, 3], "0"),
        # no frame of one object: an image movie, unnumbered or numbered
        (["a.tif", "b.tif", "c.tif"], [5, 3, 4], ""),
        (["t000.tif", "t001.tif", "t002.tif"], [0, 3, 4], "0"),
    ],
)
def test_label_frames_one_holding_one_object_stay_one_movie_of_labels(
    tmp_path, monkeypatch, names, objects, lazily
):
    """Label frames (nothing names them so) whose first frame that is not empty holds one
    object, 0/1: the folder is labels by the rule for a movie of labels, and that frame (and
    any other of one object) is one of its frames, not a mask beside them. 9550ce4 split
    such frames out as their own labels, leaving the others an image movie out of line with
    the image frames they annotate (Evaluate pairs them by frame). Where the first frame
    holds many ids, the frames are told labels by their content (piecewise constant, each
    value one region; first, middle and last frames, those of fewer than 4 ids telling
    nothing), said in a warning: one labels movie, a frame of one object among them or not."""
    from tessella._io_folder import LAZY_IMAGE_ENV

    # squares of 18 pixels: the content rule tells nothing of fewer than 1024 pairs of pixels
    frames = np.stack([np.kron(instance_labels(n), np.ones((3, 3), np.uint16)) for n in objects])
    folder = tmp_path / "seg"
    folder.mkdir()
    for name, frame in zip(names, frames):
        small = lazily and frame.max() == 1  # a one-object frame of another type than most
        tifffile.imwrite(folder / name, frame.astype(np.uint8) if small else frame)
    monkeypatch.setenv(LAZY_IMAGE_ENV, lazily)

    layers, said = caught(folder)
    binary = [n for n in objects if n][0] == 1  # the first frame not empty: 0/1, a mask
    assert said == ([] if binary else ["ContentLabelsWarning"])  # told by content: said so
    [(data, kwargs, kind)] = layers
    assert kind == "labels" and kwargs["name"] == "seg"
    assert kwargs["metadata"]["axes"] == "TYX"
    np.testing.assert_array_equal(np.asarray(data), frames)


#: DSB2018's fluorescence image whose pixels look most alike (86 % of it exactly 0): the
#: intensity frame nearest to labels by the content rule, and its instance labels
DSB_NEAREST = "f4c4db3df4ff0de90f44b027fc2e28c16bf7e5c75ea75b0a9762bbb7ac86e7a3.tif"


def test_real_frames_are_told_images_or_labels_by_their_content(tmp_path, data_dir):
    """A real fluorescence image (DSB2018, uint8) and its instance labels (uint16), nothing
    naming either: image frames with a 0/1 mask of their nuclei sorting first (roi.tif) open
    as an image movie and the mask (9a4c775: one labels movie of all three), label frames one
    of which holds one object open as one labels movie (9a4c775: that frame was split out
    as a mask, the other two an image)."""
    dsb = data_dir / "nuclei2d_dsb2018" / "train"
    image = tifffile.imread(dsb / "images" / DSB_NEAREST)
    labels = tifffile.imread(dsb / "masks" / DSB_NEAREST)
    assert image.dtype == np.uint8 and labels.dtype == np.uint16 and labels.max() > 1

    images = tmp_path / "images"
    images.mkdir()
    frames = np.stack([image, image[::-1, ::-1]])
    for name, frame in zip(["img_a.tif", "img_b.tif"], frames):
        tifffile.imwrite(images / name, frame)
    tifffile.imwrite(images / "roi.tif", (labels > 0).astype(np.uint8))
    layers, said = caught(images)
    assert said == []
    by_name = {kwargs["name"]: (data, kind) for data, kwargs, kind in layers}
    assert sorted(by_name) == ["images", "roi"]
    assert by_name["images"][1] == "image" and by_name["roi"][1] == "labels"
    np.testing.assert_array_equal(by_name["images"][0], frames)

    masks = tmp_path / "masks_of_dsb"  # not a name that says labels
    masks.mkdir()
    one = (labels == labels.max()).astype(np.uint16)  # one nucleus, id 1
    frames = np.stack([labels, one, labels[::-1, ::-1]])
    for name, frame in zip(["a.tif", "b.tif", "c.tif"], frames):
        tifffile.imwrite(masks / name, frame)
    layers, said = caught(masks)
    assert said == ["ContentLabelsWarning"]  # labels by their content alone: said so
    [(data, kwargs, kind)] = layers
    assert kind == "labels" and kwargs["name"] == "masks_of_dsb"
    np.testing.assert_array_equal(np.asarray(data), frames)


def ctc_3d(root, frames=4, depth=3):
    """A 3D Cell Tracking Challenge layout in ``root``: the movie ``01`` (t000 ... ZYX,
    0.5 µm pixels, 2 µm apart) and ``01_GT/SEG`` annotating slices (man_seg_TTT_ZZZ.tif:
    frame 0 slice 1, frame 2 slices 0 and 2) and a whole frame (man_seg003.tif); returns
    the SEG folder and the labels expected at (t, z)."""
    volumes = movie(frames=frames * depth, shape=(16, 20)).reshape(frames, depth, 16, 20)
    write_frames(root / "01", volumes, "t{:03d}.tif", axes="ZYX", spacing=2.0, numbers=range(4))
    expected = np.zeros(volumes.shape, np.uint16)
    seg = root / "01_GT" / "SEG"
    seg.mkdir(parents=True)
    for t, z in [(0, 1), (2, 0), (2, 2)]:
        expected[t, z] = (volumes[t, z] % 7).astype(np.uint16)
        tifffile.imwrite(seg / f"man_seg_{t:03d}_{z:03d}.tif", expected[t, z])
    expected[3] = (volumes[3] % 5).astype(np.uint16)
    tifffile.imwrite(seg / "man_seg003.tif", expected[3], photometric="minisblack")
    return seg, expected


def test_ctc_3d_ground_truth_of_single_slices_sits_at_its_t_and_z(tmp_path, monkeypatch):
    """3D CTC ground truth annotates single slices (man_seg_TTT_ZZZ.tif, YX): they stacked as
    a movie of 2D frames (TYX, 4 frames, in name order), none where it belongs. Now TZYX
    labels as long and deep as the movie 01 beside them, with its pixel size and Z spacing,
    each slice at (t, z), a whole frame man_segTTT.tif at t, the rest empty; lazily too."""
    from tessella._io_folder import AnnotatedFramesWarning

    seg, expected = ctc_3d(tmp_path)
    message = r"'SEG': 3 annotated slices and 1 whole frame in 3 of 4 frames of 3 slices"
    with pytest.warns(AnnotatedFramesWarning, match=message):
        [(data, kwargs, kind)] = read(seg)
    assert kind == "labels" and isinstance(data, np.ndarray) and data.shape == (4, 3, 16, 20)
    np.testing.assert_array_equal(data, expected)
    assert kwargs["metadata"]["axes"] == "TZYX" and kwargs["name"] == "SEG"
    assert kwargs["axis_labels"] == ("t", "z", "y", "x")
    assert kwargs["scale"] == pytest.approx((1.0, 2.0, 0.5, 0.5))

    monkeypatch.setenv(LAZY_LABELS_ENV, "100")
    with pytest.warns(AnnotatedFramesWarning, match=message):
        with pytest.warns(LazyLabelsWarning, match=r"SEG: opened lazily"):
            [(data, _kwargs, _kind)] = read(seg)
    assert not isinstance(data, np.ndarray) and data.chunks[0] == (1,) * 4
    np.testing.assert_array_equal(np.asarray(data), expected)


def test_ctc_slices_without_their_movie_say_what_is_assumed(tmp_path):
    """Without 01 beside 01_GT: frames from 0 to the last annotated one, slices to the
    deepest known, no Z spacing, said; a slice beyond the movie's Z is refused, named."""
    from tessella._io_folder import AnnotatedFramesWarning

    seg, expected = ctc_3d(tmp_path)
    alone = tmp_path / "SEG"
    seg.rename(alone)
    with pytest.warns(
        AnnotatedFramesWarning, match=r"no movie beside it .*: T and Z as far as annotated"
    ):
        [(data, kwargs, kind)] = read(alone)
    assert kind == "labels" and data.shape == (4, 3, 16, 20)
    np.testing.assert_array_equal(data, expected)
    assert kwargs["metadata"]["axes"] == "TZYX" and kwargs["scale"][:2] == (1.0, 1.0)

    alone.rename(seg)
    tifffile.imwrite(seg / "man_seg_001_003.tif", expected[0, 1])
    with pytest.raises(ValueError, match=r"man_seg_001_003.tif: a slice of .* at z=3 does not"):
        read(seg)
