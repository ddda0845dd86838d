"""Export never writes over an image read from a file (review 1, B1): with ``cells.ome.zarr``
open, *Save as* ``cells.ome.zarr`` with "Overwrite existing files" ticked replaced the image's
store with the labels, and a ``cells.tif`` image became its labels, the status line saying a
normal success. ``tessella segment`` refuses such an output even with ``--overwrite``; Export
now refuses it too, in one line naming the layer and the file, and writes nothing. The
labels' own file stays theirs to replace (a save over the file they were opened from), and
labels written into a movie's folder of frames stay allowed, its frames not."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
import zarr
from scipy import ndimage as ndi

from tessella._widgets import _export_write
from tessella._widgets.export import ExportWidget
from tessella.engine.io import read_image, write_labels

SIM = "ctc_Fluo-N2DH-SIM+"


def _frame(data_dir, t: int = 0) -> np.ndarray:
    """SIM+ 01's frame ``t``, a 128x128 crop holding nuclei (uint16)."""
    frame = np.asarray(read_image(data_dir / SIM / "01" / f"t{t:03d}.tif").data)
    return frame[120:248, 120:248]


def _nuclei(image: np.ndarray) -> np.ndarray:
    """Labels of ``image``: its nuclei, by a threshold (uint16)."""
    labels, count = ndi.label(image > np.percentile(image, 80))
    assert count >= 1
    return labels.astype(np.uint16)


@pytest.fixture
def errors(monkeypatch):
    """The messages Export shows as error notifications."""
    shown: list[str] = []
    monkeypatch.setattr(_export_write, "show_error", shown.append)
    return shown


def _export_panel(viewer, labels_layer) -> ExportWidget:
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    assert isinstance(widget, ExportWidget)
    widget.labels_combo.setCurrentIndex(widget.labels_combo.findData(labels_layer.unique_id))
    widget.recipe_checkbox.setChecked(False)
    widget.overwrite_checkbox.setChecked(True)
    return widget


def test_export_refuses_to_replace_the_tiff_image_even_with_overwrite(
    make_napari_viewer, data_dir, tmp_path, errors
):
    """Image ``cells.tif`` opened with Tessella's reader, labels of it made in napari (not
    by Segment), *Save as* ``cells`` with Overwrite: nothing written (not the CSV either),
    the image file as it was, one line naming the file and the layer."""
    image = _frame(data_dir)
    path = tmp_path / "cells.tif"
    tifffile.imwrite(path, image)
    before = path.read_bytes()
    viewer = make_napari_viewer()
    [layer] = viewer.open(str(path), plugin="tessella")
    assert layer.name == "cells"
    labels = viewer.add_labels(_nuclei(image), name="cells labels")
    widget = _export_panel(viewer, labels)
    widget.path_edit.setText(str(tmp_path / "cells"))
    assert [o.path for o in widget.outputs()] == [path, tmp_path / "cells.csv"]

    assert widget.export() == []
    assert path.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cells.tif"]
    status = widget.status_label.text()
    assert status.startswith("Nothing written:"), status
    assert f"'{layer.name}'" in status and str(path) in status and "Overwrite" in status
    assert len(errors) == 1 and str(path) in errors[0] and "'cells'" in errors[0]
    # another name is written, Overwrite ticked or not
    widget.path_edit.setText(str(tmp_path / "cells_lab"))
    assert widget.export() == [tmp_path / "cells_lab.tif", tmp_path / "cells_lab.csv"]
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "cells_lab.tif"), labels.data)


def _ome_zarr_image(path, image: np.ndarray) -> None:
    """``image`` as an OME-Zarr (NGFF 0.4, zarr v2) image at 0.125 µm per pixel."""
    group = zarr.open_group(str(path), mode="w", zarr_format=2)
    array = group.create_array(
        "0",
        shape=image.shape,
        dtype=image.dtype,
        chunks=image.shape,
        chunk_key_encoding={"name": "v2", "separator": "/"},
    )
    array[...] = image
    axes = [{"name": a, "type": "space", "unit": "micrometer"} for a in "yx"]
    scale = [{"type": "scale", "scale": [0.125, 0.125]}]
    group.attrs["multiscales"] = [
        {
            "version": "0.4",
            "name": "cells",
            "axes": axes,
            "datasets": [{"path": "0", "coordinateTransformations": scale}],
        }
    ]


def test_export_refuses_to_replace_an_ome_zarr_image_typed_as_the_save_name(
    make_napari_viewer, data_dir, tmp_path, errors
):
    """Image ``cells.ome.zarr`` (its layer added from what Tessella's reader gives, so only
    its metadata records the path), *Save as* ``cells.ome.zarr`` typed (which ticks the
    OME-Zarr output) with Overwrite: the store is not replaced by the labels; nothing else
    is written either. Exporting the same labels as ``lab.ome.zarr`` beside it works."""
    from tessella._io import get_reader

    image = _frame(data_dir)
    store = tmp_path / "cells.ome.zarr"
    _ome_zarr_image(store, image)
    attrs = (store / ".zattrs").read_text()
    viewer = make_napari_viewer()
    for data, meta, kind in get_reader(str(store))(str(store)):
        viewer._add_layer_from_data(data, meta, kind)
    [layer] = viewer.layers
    assert layer.source.path is None and layer.metadata["path"] == str(store)
    labels = viewer.add_labels(_nuclei(image), name="cells labels", scale=(0.125, 0.125))
    widget = _export_panel(viewer, labels)
    typed = str(store)
    widget.path_edit.setText(typed)
    widget.path_edit.textEdited.emit(typed)  # as typed: the OME-Zarr output ticked
    assert widget.ome_zarr_checkbox.isChecked()
    assert store in [o.path for o in widget.outputs()]

    assert widget.export() == []
    assert (store / ".zattrs").read_text() == attrs  # no image-label: still the image
    np.testing.assert_array_equal(np.asarray(zarr.open_array(str(store / "0"))), image)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cells.ome.zarr"]
    status = widget.status_label.text()
    assert status.startswith("Nothing written:") and str(store) in status, status
    assert f"'{layer.name}'" in status
    assert len(errors) == 1

    widget.path_edit.setText(str(tmp_path / "lab.ome.zarr"))
    written = widget.export()
    assert tmp_path / "lab.ome.zarr" in written, widget.status_label.text()
    assert "image-label" in json.loads((tmp_path / "lab.ome.zarr" / ".zattrs").read_text())
    assert (store / ".zattrs").read_text() == attrs


def test_export_saves_labels_over_their_own_file_but_not_over_a_frame_of_the_movie(
    make_napari_viewer, data_dir, tmp_path, errors
):
    """A movie opened from a folder of frames ``01/t000.tif ...`` and its labels opened from
    ``01_labels.tif``: the edited labels saved over ``01_labels.tif`` with Overwrite are
    written (a save), and so are labels written into the movie's folder; *Save as*
    ``01/t001`` (a frame of the movie) is refused, the frame as it was."""
    frames = tmp_path / "01"
    frames.mkdir()
    movie = np.stack([_frame(data_dir, t) for t in range(3)])
    for t, frame in enumerate(movie):
        tifffile.imwrite(frames / f"t{t:03d}.tif", frame)
    labels_file = tmp_path / "01_labels.tif"
    tracked = np.stack([_nuclei(frame) for frame in movie])
    write_labels(labels_file, tracked, "TYX")
    viewer = make_napari_viewer()
    [image] = viewer.open(str(frames), plugin="tessella")
    [labels] = viewer.open(str(labels_file), plugin="tessella")
    assert image.data.shape == movie.shape and labels.data.shape == movie.shape
    widget = _export_panel(viewer, labels)
    widget.csv_checkbox.setChecked(False)

    labels.data[1][labels.data[1] > 0] = 0  # an edit: frame 1 emptied
    widget.path_edit.setText(str(tmp_path / "01_labels"))
    assert widget.export() == [labels_file], widget.status_label.text()
    assert not tifffile.imread(labels_file)[1].any() and tifffile.imread(labels_file)[0].any()

    frame_1 = (frames / "t001.tif").read_bytes()
    widget.path_edit.setText(str(frames / "t001"))
    assert widget.export() == []
    assert (frames / "t001.tif").read_bytes() == frame_1
    status = widget.status_label.text()
    assert "Nothing written:" in status and str(frames) in status and f"'{image.name}'" in status

    widget.path_edit.setText(str(frames / "cells_labels"))  # beside the frames: no frame
    assert widget.export() == [frames / "cells_labels.tif"], widget.status_label.text()
    assert len(errors) == 1


def test_export_refuses_a_ctc_folder_that_is_the_movie_folder_and_a_file_in_a_zarr_image(
    make_napari_viewer, data_dir, tmp_path, errors
):
    """A movie opened from the folder ``cells_RES`` (frames t000-t002): its tracks exported
    as CTC with *Save as* ``cells`` (whose CTC folder is ``cells_RES``) are refused, no mask
    written among the frames. An image read from the zarr ``img.zarr``: *Save as*
    ``img.zarr/lab`` (a TIFF inside its store) is refused, the store as it was."""
    frames = tmp_path / "cells_RES"
    frames.mkdir()
    movie = np.stack([_frame(data_dir, t) for t in range(3)])
    for t, frame in enumerate(movie):
        tifffile.imwrite(frames / f"t{t:03d}.tif", frame)
    markers = np.stack(
        [
            tifffile.imread(data_dir / SIM / "01_GT" / "TRA" / f"man_track{t:03d}.tif")
            for t in range(3)
        ]
    )[:, 120:248, 120:248].astype(np.uint16)
    viewer = make_napari_viewer()
    [image] = viewer.open(str(frames), plugin="tessella")
    tracks = viewer.add_labels(markers, name="tracks", axis_labels=("t", "y", "x"))
    widget = _export_panel(viewer, tracks)
    for box in ("tiff", "csv"):
        getattr(widget, f"{box}_checkbox").setChecked(False)
    widget.ctc_checkbox.setChecked(True)
    assert widget.ctc_checkbox.isEnabled(), widget.ctc_checkbox.toolTip()
    widget.path_edit.setText(str(tmp_path / "cells"))
    assert [o.path for o in widget.outputs()] == [frames]
    assert widget.export() == []
    assert sorted(p.name for p in frames.iterdir()) == ["t000.tif", "t001.tif", "t002.tif"]
    status = widget.status_label.text()
    assert f"the image '{image.name}' was read from {frames}" in status, status

    store = tmp_path / "img.zarr"
    array = zarr.open_array(str(store), mode="w", shape=movie[0].shape, dtype=movie.dtype)
    array[...] = movie[0]
    [plane] = viewer.open(str(store), plugin="tessella")
    labels = viewer.add_labels(_nuclei(movie[0]), name="plane labels")
    widget.labels_combo.setCurrentIndex(widget.labels_combo.findData(labels.unique_id))
    widget.tiff_checkbox.setChecked(True)
    widget.path_edit.setText(str(store / "lab"))
    assert [o.path for o in widget.outputs()] == [store / "lab.tif"]
    before = sorted(p.relative_to(store) for p in store.rglob("*"))
    assert widget.export() == []
    assert sorted(p.relative_to(store) for p in store.rglob("*")) == before
    status = widget.status_label.text()
    assert f"{store / 'lab.tif'} is in {store}, the image '{plane.name}'" in status, status
    assert len(errors) == 2
