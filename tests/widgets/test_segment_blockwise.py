"""Segment's blockwise mode: a lazy zarr-backed layer is segmented block by block into a zarr,
shown as blocks finish; cancel keeps the finished blocks and Run resumes."""

from __future__ import annotations

import numpy as np
import zarr
from qtpy.QtCore import Qt

from tessella.engine.blockwise import work_dir
from tessella.engine.metrics import matching
from tessella.engine.pipeline import segment


def lazy_layer_with_model(segment_widget, tmp_path, name, data, chunks, model):
    """``data`` as a chunked zarr-backed layer ``name``, chosen in Segment with ``model``."""
    array = zarr.create_array(
        str(tmp_path / f"{name}.zarr"), shape=data.shape, dtype=data.dtype, chunks=chunks
    )
    array[...] = data
    viewer, widget = segment_widget
    viewer.add_image(zarr.open_array(str(tmp_path / f"{name}.zarr"), mode="r"), name=name)
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText(name))
    widget.blockwise_checkbox.setChecked(True)  # small enough for memory: ticked by hand
    items = [widget.model_combo.itemText(i) for i in range(widget.model_combo.count())]
    widget.model_combo.setCurrentIndex(next(i for i, t in enumerate(items) if t.startswith(model)))
    return viewer, widget


def same_partition(a, b) -> bool:
    """The same labels up to renumbering (0 stays 0)."""
    a, b = np.asarray(a).reshape(-1), np.asarray(b).reshape(-1)
    pairs = np.unique(np.stack([a, b]), axis=1)
    return pairs.shape[1] == np.unique(a).size == np.unique(b).size


def test_blockwise_run_writes_zarr_labels_that_match_in_memory(
    segment_widget, lazy_nuclei, tmp_path, run_to_end, segment_model_dir
):
    viewer, widget = segment_widget
    viewer.add_image(lazy_nuclei, name="big", scale=(0.5, 0.5))
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("big"))
    # lazy but small enough for memory: in memory by default (blockwise for big layers)
    assert not widget.blockwise_checkbox.isChecked()
    widget.blockwise_checkbox.setChecked(True)
    out = tmp_path / "big labels.zarr"
    widget.blockwise_edit.setText(str(out))
    widget.block_spin.setValue(256)
    _dock, export = viewer.window.add_plugin_dock_widget("tessella", "Export")
    run_to_end(widget)

    layer = viewer.layers["big labels (nuclei2d)"]
    assert not isinstance(layer.data, np.ndarray)  # read lazily from the output zarr
    assert out.is_dir() and layer.data.shape == lazy_nuclei.shape
    np.testing.assert_allclose(layer.scale, (0.5, 0.5))
    assert layer.metadata["tessella_recipe"]["model"]
    assert "written to" in widget.status_label.text()
    in_memory = segment(np.asarray(lazy_nuclei), str(segment_model_dir), "YX")
    assert matching(in_memory, np.asarray(layer.data), 0.5).f1 >= 0.99
    # Export, following the preview layer, offers the finished result's recipe
    assert export.labels_layer is layer and export.recipe_checkbox.isEnabled()

    # Run again: the finished result is kept and a free output name is offered, then used
    before = sorted(p.name for p in out.rglob("*"))
    widget.run_button.click()
    assert widget.worker is None or not widget.worker.is_running
    assert widget.blockwise_edit.text() == str(tmp_path / "big labels [1].zarr")
    assert "holds an earlier result, which is kept" in widget.status_label.text()
    assert sorted(p.name for p in out.rglob("*")) == before
    run_to_end(widget)
    assert (tmp_path / "big labels [1].zarr").is_dir()
    assert widget.run_button.isEnabled()


def test_cancel_keeps_blocks_and_run_resumes(
    segment_widget, lazy_nuclei, tmp_path, run_to_end, qtbot
):
    viewer, widget = segment_widget
    viewer.add_image(lazy_nuclei, name="big")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("big"))
    widget.blockwise_checkbox.setChecked(True)
    out = tmp_path / "resumed.zarr"
    widget.blockwise_edit.setText(str(out))
    widget.block_spin.setValue(128)
    blocks = []

    def cancel_after_two(progress):
        if progress.stage == "segment" and progress.region is not None:
            blocks.append(progress)
            if len(blocks) == 2:
                widget.cancel_button.click()

    widget.worker = None
    with qtbot.waitSignal(widget.run_finished, timeout=300_000):
        widget.run_button.click()
        widget.worker.yielded.connect(cancel_after_two)
    assert "Run again to resume" in widget.status_label.text()
    preview = viewer.layers[
        "big labels (nuclei2d, blocks so far)"
    ]  # kept: it shows the finished blocks
    assert not out.exists() and work_dir(out).is_dir()

    run_to_end(widget)
    assert "blocks resumed" in widget.status_label.text()
    assert out.is_dir() and viewer.layers["big labels (nuclei2d)"].data.shape == lazy_nuclei.shape
    assert (
        viewer.layers["big labels (nuclei2d)"] is preview
    )  # the resumed run went on in that layer


def test_boundary_model_blockwise_shows_superpixels_then_the_same_cells_as_in_memory(
    segment_widget, tmp_path, run_to_end, data_dir
):
    """em-membranes2d blockwise from the GUI on a real ISBI section: while blocks finish the
    preview says it holds superpixels; the result equals the in-memory segmentation."""
    import tifffile

    image = tifffile.imread(data_dir / "em_membranes_isbi2012" / "images" / "17.tif")
    viewer, widget = lazy_layer_with_model(
        segment_widget, tmp_path, "em", image, (256, 256), "em-membranes2d "
    )
    widget.blockwise_edit.setText(str(tmp_path / "cells.zarr"))
    widget.block_spin.setValue(256)
    widget.tta_checkbox.setChecked(False)
    names = []
    viewer.layers.events.inserted.connect(lambda event: names.append(event.value.name))
    run_to_end(widget)

    assert "em labels (em-membranes2d, superpixels so far)" in names
    labels = np.asarray(viewer.layers["em labels (em-membranes2d)"].data)
    expected = segment(image, "em-membranes2d", "YX", tta=False)
    assert np.unique(expected).size > 30 and same_partition(expected, labels)


def test_time_lapse_blockwise_gives_tracks_like_in_memory(
    segment_widget, tmp_path, run_to_end, data_dir
):
    """cells2dt blockwise from the GUI on 4 real Fluo-N2DH-SIM+ frames (a 448x448 crop with
    more than 20 cells, 2x2 blocks per frame): the labels are the in-memory tracks (up to
    renumbering) and a Tracks layer shows them."""
    import tifffile

    from tessella.engine.pipeline import run_steps, segment_steps

    files = sorted((data_dir / "ctc_Fluo-N2DH-SIM+" / "01").glob("*.tif"))[20:24]
    movie = np.stack([tifffile.imread(f)[64:512, :448] for f in files])
    viewer, widget = lazy_layer_with_model(
        segment_widget, tmp_path, "movie", movie, (1, 224, 224), "cells2dt "
    )
    widget.axes_combo.setCurrentText("TYX")
    widget.blockwise_edit.setText(str(tmp_path / "tracks.zarr"))
    widget.block_spin.setValue(224)
    run_to_end(widget)

    labels = np.asarray(viewer.layers["movie labels (cells2dt)"].data)
    expected = run_steps(segment_steps(movie, "cells2dt", "TYX", device="cpu")).labels
    assert same_partition(expected, labels) and np.unique(labels).size > 20
    tracks = viewer.layers["movie labels (cells2dt) tracks"]
    assert set(np.unique(tracks.data[:, 0]).astype(int)) == set(np.unique(labels[labels > 0]))
    assert "tracks" in widget.status_label.text()


def test_in_memory_layer_cancelled_resumes_in_the_same_preview(
    segment_widget, nuclei_image, tmp_path, run_to_end, qtbot
):
    """A numpy layer (a TIFF read into memory) resumes as a zarr-backed one does: Cancel keeps
    the finished blocks and their preview layer, and Run does only the others (it redid every
    block, though the status promised a resume). The Cancel status speaks of blocks."""
    viewer, widget = segment_widget
    image = nuclei_image[:256, :256].copy()
    viewer.add_image(image, name="crop")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("crop"))
    widget.blockwise_checkbox.setChecked(True)
    out = tmp_path / "crop_labels.zarr"
    widget.blockwise_edit.setText(str(out))
    widget.block_spin.setValue(128)
    said = []

    def second_block(progress) -> bool:
        return progress.stage == "segment" and progress.done == 2 and progress.region is not None

    def stop_there(progress):  # in the worker's thread: it stops right after the 2nd block
        if second_block(progress):
            widget.worker.quit()

    def click_cancel(progress):
        if second_block(progress):
            widget.cancel_button.click()
            said.append(widget.status_label.text())

    widget.worker = None
    with qtbot.waitSignal(widget.run_finished, timeout=300_000):
        widget.run_button.click()
        widget.worker.yielded.connect(stop_there, Qt.ConnectionType.DirectConnection)
        widget.worker.yielded.connect(click_cancel)
    assert "finished blocks are kept" in said[0] and "tile" not in said[0]
    assert "(shown in 'crop labels (nuclei2d, blocks so far)')" in widget.status_label.text()
    preview = viewer.layers["crop labels (nuclei2d, blocks so far)"]
    assert len(list((work_dir(out) / "blocks").glob("*.npz"))) == 2

    run_to_end(widget)
    assert "4 blocks, 2 blocks resumed" in widget.status_label.text()
    assert viewer.layers["crop labels (nuclei2d)"] is preview and len(viewer.layers) == 2
    assert np.asarray(preview.data).max() > 5


def _stopped_after_one_block(viewer, widget, qtbot, image, out, tta: bool | None = None):
    """Adds ``image`` as 'crop' and runs it blockwise into ``out`` in blocks of 128 (with
    ``tta`` ticked or not when given), stopped from the worker's thread right after its first
    block; returns the layer added."""
    layer = viewer.add_image(image, name="crop")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("crop"))
    widget.blockwise_checkbox.setChecked(True)
    widget.blockwise_edit.setText(str(out))
    widget.block_spin.setValue(128)
    if tta is not None:
        widget.tta_checkbox.setChecked(tta)

    def stop_after_one(progress):  # in the worker's thread: it stops right after block 1
        if progress.stage == "segment" and progress.region is not None:
            widget.worker.quit()

    widget.worker = None
    with qtbot.waitSignal(widget.run_finished, timeout=300_000):
        widget.run_button.click()
        widget.worker.yielded.connect(stop_after_one, Qt.ConnectionType.DirectConnection)
    return layer


def test_in_memory_layer_with_other_pixels_starts_again_without_the_old_preview(
    segment_widget, nuclei_image, tmp_path, run_to_end, qtbot, monkeypatch, segment_model_dir
):
    """A numpy layer whose pixels changed since its cancelled run (same name, so the same
    output) starts again, saying so, and the kept preview of the old blocks goes: every Run
    was refused ('other settings (the input's pixels)'), and the panel has no overwrite."""
    from tessella._widgets import segment as segment_module

    warned: list[str] = []
    monkeypatch.setattr(segment_module, "show_warning", warned.append)
    viewer, widget = segment_widget
    image = nuclei_image[:128, :256].copy()  # two blocks of 128
    out = tmp_path / "crop_labels.zarr"
    layer = _stopped_after_one_block(viewer, widget, qtbot, image, out)
    old_preview = viewer.layers["crop labels (nuclei2d, blocks so far)"]
    assert len(list((work_dir(out) / "blocks").glob("*.npz"))) == 1

    layer.data = image[:, ::-1].copy()  # processed again: other pixels, the same name
    run_to_end(widget)
    status = widget.status_label.text()
    assert "(2 blocks) with nuclei2d's defaults, written to" in status and "resumed" not in status
    assert status.endswith("; the input's pixels changed since the unfinished run: started again")
    assert warned == [f"{out}: the input's pixels changed since the unfinished run: starting again"]
    assert old_preview not in viewer.layers
    result = viewer.layers["crop labels (nuclei2d)"]
    assert result is not old_preview and [lay.name for lay in viewer.layers] == [
        "crop",
        "crop labels (nuclei2d)",
    ]
    assert same_partition(segment(layer.data, str(segment_model_dir), "YX"), result.data)


def test_a_run_refused_for_other_settings_marks_the_kept_preview_as_the_earlier_settings(
    segment_widget, nuclei_image, tmp_path, run_to_end, qtbot, monkeypatch
):
    """Cancel after 1 of 2 blocks, tick TTA and Run: the engine refuses (the unfinished run
    had other settings). The kept preview still said '(blocks so far)', as if it showed this
    run's blocks; now it is kept (its blocks untouched, to look at before choosing) and named
    for the earlier settings, and the message names it. Run with the earlier settings again:
    the run resumes in that layer, which becomes the result."""
    from tessella._widgets import segment as segment_module

    errors: list[str] = []
    monkeypatch.setattr(segment_module, "show_error", errors.append)
    viewer, widget = segment_widget
    image = nuclei_image[:128, :256].copy()  # two blocks of 128
    out = tmp_path / "crop_labels.zarr"
    _stopped_after_one_block(viewer, widget, qtbot, image, out, tta=False)
    preview = viewer.layers["crop labels (nuclei2d, blocks so far)"]
    shown = np.asarray(preview.data).copy()
    assert shown.max() > 0

    widget.tta_checkbox.setChecked(True)  # another setting: the engine refuses the run
    run_to_end(widget)
    name = "crop labels (nuclei2d, blocks so far, earlier settings)"
    assert preview in viewer.layers and preview.name == name
    np.testing.assert_array_equal(np.asarray(preview.data), shown)  # the blocks are kept
    status = widget.status_label.text()
    said = "other settings (test-time augmentation: off in the unfinished run, on now)"
    assert "failed" in status and said in status
    assert status.endswith(f"; its blocks so far are shown in '{name}')")
    assert len(errors) == 1 and f"shown in '{name}'" in errors[0] and said in errors[0]
    assert len(list((work_dir(out) / "blocks").glob("*.npz"))) == 1

    widget.tta_checkbox.setChecked(False)  # the settings it had: it resumes in that layer
    names = []
    preview.events.name.connect(lambda event: names.append(preview.name))
    run_to_end(widget)
    assert "(2 blocks, 1 block resumed)" in widget.status_label.text()
    assert names[0] == "crop labels (nuclei2d, blocks so far)"  # this run's blocks again
    assert viewer.layers["crop labels (nuclei2d)"] is preview and len(viewer.layers) == 2


def test_default_output_is_beside_the_layers_file_with_a_safe_name(
    segment_widget, lazy_nuclei, tmp_path, monkeypatch
):
    """The blockwise output defaults to the folder of the file the layer was read from, not
    the working folder ('mosaic labels.zarr' there, with a space); an array layer gets its
    name made safe, in the working folder. The name is the one Export proposes for the
    result, NAME_labels_MODEL (user test s28/t5 item 9)."""
    viewer, widget = segment_widget
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path / "elsewhere")  # napari started from another folder
    [layer] = viewer.open(str(tmp_path / "nuclei.zarr"), plugin="tessella")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText(layer.name))
    assert not widget.blockwise_checkbox.isChecked()  # 520x512: in memory by default
    assert widget.blockwise_edit.text() == str(tmp_path / "nuclei_labels_nuclei2d.zarr")
    viewer.add_image(np.zeros((64, 64), np.uint8), name="my crop: 2/3")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("my crop: 2/3"))
    assert widget.blockwise_edit.text() == str(
        tmp_path / "elsewhere" / "my_crop_2_3_labels_nuclei2d.zarr"
    )
    viewer.add_image(np.zeros((64, 64), np.uint8), name="Zellkerne ü")  # as Export names it
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText("Zellkerne ü"))
    assert widget.blockwise_edit.text() == str(
        tmp_path / "elsewhere" / "Zellkerne_ü_labels_nuclei2d.zarr"
    )


def _choose_model(widget, name: str) -> None:
    items = [widget.model_combo.itemText(i) for i in range(widget.model_combo.count())]
    widget.model_combo.setCurrentIndex(next(i for i, t in enumerate(items) if t.startswith(name)))


def test_each_model_s_blockwise_run_has_its_own_default_output(
    segment_widget, nuclei_image, tmp_path, run_to_end
):
    """A second model's blockwise run on the same image writes its own zarr by default (the
    default 'NAME_labels.zarr' left out the model, so the second run met the first's result:
    user test s28/t5 item 9). The default follows the model chosen, a name typed does not."""
    import tifffile

    viewer, widget = segment_widget
    path = tmp_path / "nuclei crop.tif"
    tifffile.imwrite(path, nuclei_image[:256, :256])
    [layer] = viewer.open(str(path), plugin="tessella")
    _choose_model(widget, "nuclei2d")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    widget.blockwise_checkbox.setChecked(True)
    widget.block_spin.setValue(256)
    first = tmp_path / "nuclei_crop_labels_nuclei2d.zarr"
    assert widget.blockwise_edit.text() == str(first)
    run_to_end(widget)
    assert first.is_dir() and "written to" in widget.status_label.text()

    _choose_model(widget, "worms2d")
    widget.tta_checkbox.setChecked(False)
    second = tmp_path / "nuclei_crop_labels_worms2d.zarr"
    assert widget.blockwise_edit.text() == str(second)
    run_to_end(widget)
    status = widget.status_label.text()
    assert "written to" in status and str(second) in status, status
    assert "earlier result" not in status and second.is_dir()
    names = {layer.name for layer in viewer.layers}
    assert {"nuclei crop labels (nuclei2d)", "nuclei crop labels (worms2d)"} <= names

    typed = str(tmp_path / "mine.zarr")  # the user's name stays when the model changes
    widget.blockwise_edit.setText(typed)
    _choose_model(widget, "nuclei2d")
    assert widget.blockwise_edit.text() == typed
