"""What the panels say where a user reads it first (a user test, problems 3, 4 and 7): a
notification is cut to its first words, so the problem comes before the rest.

- Segment's error named the layer twice ("Segment failed on layer 'nuc2d': nuc2d: ax…") and a
  layer named ``constant`` read "constant is constant"; the layer is now named once, quoted.
- Export of edited labels warned "Export: Wrote a.tif, a.csv (58…", the caution (the recipe
  makes the labels as they were before the edits) cut off; the caution now comes first.
- Segment counted a movie's frames as tiles ("10 / 10 tiles"); Tune's bar read "1 / 1 frames"
  for a one-frame preview and "volume" for a volume's Apply to all.
- An RGB layer given to a one-channel model was averaged without a word in the panel.
"""

from __future__ import annotations

import numpy as np

from tessella._widgets import _export_write
from tessella._widgets import segment as segment_module
from tests.widgets.helpers import choose_model, result_name, said
from tests.widgets.test_segment_widget import choose_layer
from tests.widgets.test_tune_gaps import _volume_in_tune, volume_result  # noqa: F401
from tests.widgets.test_tune_widget import change, place


def test_segment_error_names_the_layer_once_quoted(segment_widget, monkeypatch, run_to_end):
    viewer, widget = segment_widget
    errors = said(monkeypatch, segment_module)
    warnings = said(monkeypatch, segment_module, "show_warning")
    viewer.add_image(np.full((64, 64), 7, np.uint16), name="constant")
    choose_layer(widget, "constant")

    run_to_end(widget)

    # a constant layer (a blank field) is a result of 0 objects, warned of: no failure
    message = "'constant' is constant (every pixel is 7): nothing to segment, 0 objects"
    assert errors == [] and warnings == [message], (errors, warnings)
    labels = viewer.layers[result_name(widget, "constant")]
    assert labels.data.shape == (64, 64) and not np.asarray(labels.data).any()
    assert widget.status_label.text().startswith("'constant': 0 objects in ")

    # axes that do not fit the model: the problem right after the layer's name
    viewer.add_image(np.random.default_rng(0).random((2, 4, 64, 64)), name="nuc2d")
    choose_layer(widget, "nuc2d")
    widget.axes_combo.setCurrentText("TZYX")
    run_to_end(widget)
    assert errors[0].startswith("Segment failed: 'nuc2d': axes TZYX do not fit model "), errors
    assert errors[0].count("nuc2d") == 1
    assert widget.run_button.isEnabled()


def _progress_seen(widget, monkeypatch) -> list[tuple[str, str]]:
    """(the bar's format, the status line) after each progress the run reports."""
    seen: list[tuple[str, str]] = []
    shown = widget._on_progress

    def record(progress) -> None:
        shown(progress)
        if progress.stage == "predict":
            seen.append((widget.progress_bar.format(), widget.status_label.text()))

    monkeypatch.setattr(widget, "_on_progress", record)
    return seen


def test_segment_counts_a_movies_frames_as_frames_and_tiles_as_tiles(
    segment_widget, nuclei_image, monkeypatch, run_to_end
):
    viewer, widget = segment_widget
    movie = np.stack([nuclei_image[:128, :128], nuclei_image[128:256, :128]])
    viewer.add_image(movie, name="movie")
    choose_layer(widget, "movie")
    widget.axes_combo.setCurrentText("TYX")
    seen = _progress_seen(widget, monkeypatch)

    run_to_end(widget)  # each frame in one tile

    assert seen[-1] == ("%v / %m frames", "'movie': predicting frame 1, 2 of 2")
    assert widget.progress_bar.text() == "2 / 2 frames"

    widget.tile_spin.setValue(widget.tile_spin.minimum())  # several tiles a frame
    seen.clear()
    run_to_end(widget)
    last_format, last_status = seen[-1]
    total = widget.progress_bar.maximum()
    assert total > 2 and total % 2 == 0
    assert last_format == "%v / %m tiles"
    assert last_status == f"'movie': predicting tile {total} of {total}, in frame 1"
    assert seen[0][1].endswith(", in frame 0")


def test_tune_bar_names_what_it_counts(docked_tune, volume_result, qtbot):  # noqa: F811
    viewer, widget, layer = _volume_in_tune(docked_tune, volume_result)

    change(qtbot, widget, threshold=0.3)  # a preview of slice 5
    assert widget.progress_bar.text() == "slice 5 preview"
    with qtbot.waitSignal(widget.update_finished, timeout=30_000):
        widget.apply_all_button.click()
    qtbot.waitUntil(lambda: not widget.busy, timeout=30_000)
    assert widget.progress_bar.text() == "1 / 1 volume"


def test_tune_one_frame_preview_says_which_frame(docked_tune, result_tyx, qtbot):
    viewer, widget = docked_tune
    place(viewer, result_tyx, name="movie labels")
    viewer.dims.set_current_step(0, 2)

    change(qtbot, widget, seed_thresh=0.6)

    assert widget.progress_bar.text() == "frame 2 preview"  # was "1 / 1 frames"
    with qtbot.waitSignal(widget.update_finished, timeout=30_000):
        widget.apply_all_button.click()
    qtbot.waitUntil(lambda: not widget.busy, timeout=30_000)
    assert widget.progress_bar.text() == "3 / 3 frames"


def test_rgb_averaged_for_a_one_channel_model_is_said(
    segment_widget, nuclei_image, monkeypatch, run_to_end
):
    viewer, widget = segment_widget
    choose_model(widget, "nuclei2d")
    crop = nuclei_image[:128, :128]
    rgb = np.stack([crop] * 3, axis=-1).astype(np.uint8)
    viewer.add_image(rgb, name="rgb", rgb=True)
    choose_layer(widget, "rgb")
    assert widget.axes_combo.currentText() == "YXC"
    warned = said(monkeypatch, segment_module, "show_warning")

    run_to_end(widget)

    status = widget.status_label.text()
    assert status.endswith(
        "added 'rgb labels (nuclei2d)' (its 3 channels are averaged into the one channel model "
        "'nuclei2d' reads)"
    ), status
    assert warned == []  # an 8-bit colour photo: averaged as the card says, no warning

    # three float channels first: the engine's warning reaches the panel as a notification
    viewer.add_image(np.stack([crop.astype(np.float32)] * 3), name="stains")
    choose_layer(widget, "stains")
    widget.axes_combo.setCurrentText("CYX")
    run_to_end(widget)
    assert len(warned) == 1
    assert warned[0].startswith("'stains': its 3 channels (axes CYX) are averaged into the one")
    assert "its 3 channels are averaged" in widget.status_label.text()


def test_export_of_edited_labels_warns_with_the_caution_first(
    segment_widget, nuclei_image, run_to_end, monkeypatch, tmp_path
):
    viewer, segment = segment_widget
    viewer.add_image(nuclei_image[:128, :128], name="nuc")
    choose_layer(segment, "nuc")
    run_to_end(segment)
    labels = viewer.layers["nuc labels (nuclei2d)"]
    labels.paint((5, 5), 99, refresh=False)  # a hand edit, as the brush makes
    assert labels.metadata.get("tessella_edited")
    warned = said(monkeypatch, _export_write, "show_warning")
    _dock, export = viewer.window.add_plugin_dock_widget("tessella", "Export")
    export.labels_combo.setCurrentIndex(export.labels_combo.findData(labels.unique_id))
    export.path_edit.setText(str(tmp_path / "nuc_res"))

    written = export.export()

    assert {p.name for p in written} >= {"nuc_res.tif", "nuc_res.recipe.json"}
    assert len(warned) == 1
    assert warned[0].startswith(
        "Export: the recipe makes 'nuc labels (nuclei2d)' as it was before the edits (by hand, "
        "or a Tune preview not applied to all); wrote nuc_res.tif"
    ), warned
    # the status line keeps the whole account, as before
    assert export.status_label.text().startswith("Wrote nuc_res.tif")
    assert "the recipe makes them as they were before" in export.status_label.text()
