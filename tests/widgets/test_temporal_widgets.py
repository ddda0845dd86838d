"""Time-lapse models in napari: Segment adds tracks, Tune relinks, Export writes CTC."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from napari.layers import Labels, Tracks
from qtpy.QtCore import Qt

from tessella._widgets import _results, _tracks_layer
from tessella.engine.methods import Prediction
from tessella.engine.tracking import read_ctc_tracks
from tests.conftest import cell_movie


def segment_cell_movie(make_napari_viewer, tiny_temporal_dir, monkeypatch, scale=None, **forced):
    """A viewer with the Segment panel, the tiny time-lapse model and a synthetic cell movie
    ("movie"); every run's parameters get ``forced`` (the tiny model's maps are noise:
    threshold 0 makes one cell per frame, one track). Returns viewer, widget, image."""
    from tessella.engine import pipeline

    original = pipeline.resolve_params
    monkeypatch.setattr(
        pipeline,
        "resolve_params",
        lambda model, params=None, **kw: original(model, params, **forced),
    )
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    image, _labels, _tracks = cell_movie()
    viewer.add_image(image, name="movie", **({"scale": scale} if scale else {}))
    return viewer, widget, image


def _perfect_predictions(labels):
    """The maps a perfect network gives: foreground and each cell's centre map."""
    from tessella.engine.train.methods import centre_map

    predictions = []
    for frame in labels:
        arrays = {
            "foreground": (frame > 0).astype(np.float32)[None],
            "centre": centre_map(frame)[None],
        }
        predictions.append(Prediction(arrays, "YX"))
    return predictions


@pytest.fixture(scope="module")
def movie_result(tiny_temporal_dir):
    """A Segment result of the tiny temporal model whose predictions are swapped for perfect
    ones: Tune then shows exactly what the post-processing and linking make of them."""
    from dataclasses import replace

    from tessella.engine.pipeline import run_steps, segment_steps

    image, labels, _tracks = cell_movie()
    result = run_steps(segment_steps(image, str(tiny_temporal_dir), "TYX"))
    return replace(result, predictions=_perfect_predictions(labels)), labels


def test_segment_a_time_lapse_adds_labels_and_tracks(
    make_napari_viewer, tiny_temporal_dir, run_to_end, monkeypatch
):
    viewer, widget, image = segment_cell_movie(
        make_napari_viewer,
        tiny_temporal_dir,
        monkeypatch,
        (1, 0.5, 0.5),
        threshold=0.0,
        split=False,
    )
    assert widget.axes_combo.currentText() == "TYX"  # nuclei2d: the slices one by one
    assert widget.add_model(tiny_temporal_dir)
    assert widget.axes_combo.currentText() == "TYX"  # the time-lapse model reads frames
    temporal = widget.model_combo.currentIndex()
    widget.model_combo.setCurrentIndex(
        widget.model_combo.findText("em-mito2d", Qt.MatchFlag.MatchStartsWith)
    )
    assert widget.axes_combo.currentText() == "ZYX"  # another model: the guess comes back
    widget.model_combo.setCurrentIndex(temporal)
    assert widget.axes_combo.currentText() == "TYX"

    run_to_end(widget)

    labels = [layer for layer in viewer.layers if isinstance(layer, Labels)]
    assert [layer.name for layer in labels] == ["movie labels (tiny_temporal)"]
    assert labels[0].data.shape == image.shape
    assert labels[0].metadata["tessella_recipe"]["axes"] == "TYX"
    assert " track" in widget.status_label.text()  # "1 track", "N tracks": not objects
    tracks = [layer for layer in viewer.layers if isinstance(layer, Tracks)]
    assert [layer.name for layer in tracks] == ["movie labels (tiny_temporal) tracks"]
    np.testing.assert_allclose(tracks[0].scale, (1, 0.5, 0.5))
    assert set(np.unique(labels[0].data)) - {0} == {1}  # one cell linked through every frame
    assert tracks[0].data.shape == (image.shape[0], 4)
    np.testing.assert_array_equal(tracks[0].data[:, 1], np.arange(image.shape[0]))
    assert widget.run_button.isEnabled()


def _movie_in_tune(make_napari_viewer, result):
    """A viewer with the movie's labels placed as Segment places them, chosen in Tune."""
    viewer = make_napari_viewer()
    _dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    layer = viewer.add_labels(
        result.labels.copy(), name="movie labels", metadata={"tessella_recipe": result.recipe()}
    )
    _results.register(layer, result, viewer.layers)
    tune.layer_combo.setCurrentIndex(tune.layer_combo.findData(layer.unique_id))
    return viewer, tune, layer


def _set_then_apply_to_all(qtbot, tune, name, value) -> None:
    """Set one control (a preview of the frame on screen), then Apply to all; wait for both."""
    with qtbot.waitSignal(tune.update_finished, timeout=60_000):
        tune.set_param(name, value)
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    with qtbot.waitSignal(tune.update_finished, timeout=60_000):
        tune.apply_all_button.click()
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)


def test_tune_previews_a_frame_then_relinks_the_movie(make_napari_viewer, movie_result, qtbot):
    result, truth = movie_result
    viewer, tune, layer = _movie_in_tune(make_napari_viewer, result)
    assert "max_distance" in tune.controls and "temporal_sigma" in tune.controls
    assert tune.apply_all_button.isVisible() or not tune.isVisible()

    viewer.dims.set_point(0, 5)
    before = layer.data.copy()
    with qtbot.waitSignal(tune.update_finished, timeout=30_000):
        assert tune.set_param("temporal_sigma", 0.0)
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    np.testing.assert_array_equal(layer.data[:5], before[:5])  # only frame 5 changed
    assert len(np.unique(layer.data[5])) - 1 == len(np.unique(truth[5])) - 1
    assert "links the IDs" in tune.status_label.text()

    with qtbot.waitSignal(tune.update_finished, timeout=60_000):
        tune.apply_all_button.click()
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    # every cell is one track, the division is two daughters of one mother
    assert len(np.unique(layer.data)) - 1 == 6
    tracks = _results.tracks_layer(viewer, layer)
    assert isinstance(tracks, Tracks)
    assert len(tracks.graph) == 2 and len({p[0] for p in tracks.graph.values()}) == 1
    assert "6 tracks" in tune.status_label.text()
    assert layer.metadata["tessella_recipe"]["params"]["temporal_sigma"] == 0.0

    # unlinking gives every frame its own IDs; the Tracks layer follows
    _set_then_apply_to_all(qtbot, tune, "link", False)
    assert tracks.graph == {} or all(not p for p in tracks.graph.values())


def test_export_writes_cell_tracking_challenge_results(
    make_napari_viewer, movie_result, tmp_path, monkeypatch
):
    from tessella._widgets import _export_write
    from tessella.engine.tracking import link

    result, truth = movie_result
    errors = []
    monkeypatch.setattr(_export_write, "show_error", errors.append)
    viewer = make_napari_viewer()
    tracked, lineage = link(truth)
    layer = viewer.add_labels(tracked, name="movie labels", metadata={"axes": "TYX"})
    _results.register(layer, result, viewer.layers)
    _results.show_tracks(viewer, layer, tracked, lineage)
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    widget.labels_combo.setCurrentIndex(widget.labels_combo.findText("movie labels"))
    widget.path_edit.setText(str(tmp_path / "movie"))
    for box in (widget.tiff_checkbox, widget.csv_checkbox, widget.recipe_checkbox):
        box.setChecked(False)
    widget.ctc_checkbox.setChecked(True)

    written = widget.export()

    assert errors == [] and written == [tmp_path / "movie_RES"]
    out = tmp_path / "movie_RES"
    assert len(list(out.glob("mask*.tif"))) == truth.shape[0]
    table = read_ctc_tracks(out / "res_track.txt")
    assert {(k.id, k.parent) for k in table if k.parent} == set(lineage.items())
    before = (out / "res_track.txt").read_text()
    assert widget.export() == []  # exists: refused, nothing changed
    assert errors and "already" in errors[-1]
    assert (out / "res_track.txt").read_text() == before

    # a 2D labels layer offers no CTC output
    viewer.add_labels(truth[0], name="one frame")
    widget.labels_combo.setCurrentIndex(widget.labels_combo.findText("one frame"))
    assert all(o.kind != "ctc" for o in widget.outputs())


def test_correct_edits_redraw_the_tracks_and_undo_brings_them_back(
    make_napari_viewer, movie_result
):
    """Deleting a daughter's track in Correct removes it (and its division edge) from the
    Tracks layer; Undo brings both back."""
    from tessella.engine.tracking import link

    _result, truth = movie_result
    viewer = make_napari_viewer()
    tracked, lineage = link(truth)
    assert lineage
    layer = viewer.add_labels(tracked, name="movie labels", metadata={"axes": "TYX"})
    _results.show_tracks(viewer, layer, tracked, lineage)
    tracks = _results.tracks_layer(viewer, layer)
    daughter = next(iter(lineage))
    assert daughter in tracks.graph
    _dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    correct.layer_combo.setCurrentIndex(correct.layer_combo.findText("movie labels"))
    correct.all_frames_checkbox.setChecked(True)  # the whole track, not the frame on screen
    correct.set_selection([daughter])
    correct.delete_button.click()
    assert daughter not in set(tracks.data[:, 0].astype(int)) and daughter not in tracks.graph
    correct.undo()
    assert daughter in set(tracks.data[:, 0].astype(int))
    assert tracks.graph[daughter] == [lineage[daughter]]


def test_relabel_renames_the_divisions_and_undo_brings_the_old_ones_back(
    make_napari_viewer, movie_result, tmp_path
):
    """Relabel 1..N after a track was deleted shifts the IDs: the divisions (Tracks layer,
    CTC export) follow the new IDs, and Ctrl+Z gives back the old IDs with their divisions."""
    from tessella.engine.tracking import link, write_ctc

    _result, truth = movie_result
    viewer = make_napari_viewer()
    tracked, lineage = link(truth)
    layer = viewer.add_labels(tracked.copy(), name="movie labels", metadata={"axes": "TYX"})
    layer.metadata = {**layer.metadata, "tessella_recipe": {"params": {}, "axes": "TYX"}}
    tracks = _results.show_tracks(viewer, layer, tracked, lineage)
    _dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    correct.layer_combo.setCurrentIndex(correct.layer_combo.findText("movie labels"))
    first = min(set(np.unique(tracked)) - {0} - set(lineage) - set(lineage.values()))
    correct.all_frames_checkbox.setChecked(True)  # the whole track, not the frame on screen
    correct.set_selection([first])  # a track outside every division: the IDs above it shift
    correct.delete_button.click()
    assert correct.relabel()
    relabelled = layer.data.copy()

    def divisions_by_frames(labels, links):
        """Each division as (daughter's first frame, parent's last frame, parent's size)."""
        found = set()
        for child, parent in links.items():
            child_frames = np.nonzero((labels == child).any(axis=(1, 2)))[0]
            parent_frames = np.nonzero((labels == parent).any(axis=(1, 2)))[0]
            found.add((child_frames[0], parent_frames[-1], int((labels == parent).sum())))
        return found

    expected = divisions_by_frames(tracked, lineage)
    shown = {c: p[0] for c, p in tracks.graph.items() if p}
    assert len(shown) == len(lineage) and divisions_by_frames(relabelled, shown) == expected
    with warnings.catch_warnings():  # the export: every division valid, none dropped
        warnings.simplefilter("error")
        write_ctc(relabelled, tracks.metadata[_results.LINEAGE_KEY], tmp_path / "RES")

    correct.undo()  # back to the deleted-track labels, with the old IDs and divisions
    assert first not in layer.data
    shown = {c: p[0] for c, p in tracks.graph.items() if p}
    assert divisions_by_frames(np.asarray(layer.data), shown) == expected
    correct.redo()
    np.testing.assert_array_equal(layer.data, relabelled)
    shown = {c: p[0] for c, p in tracks.graph.items() if p}
    assert divisions_by_frames(relabelled, shown) == expected


def _squares_movie():
    """Track 1 (frames 0-1) divides into 2 and 3 (frames 2-3); 4 and 5 run throughout."""
    labels = np.zeros((4, 64, 64), np.int32)
    for t, y, x, i in [(0, 10, 10, 1), (1, 10, 10, 1), (2, 10, 2, 2), (3, 10, 2, 2)]:
        labels[t, y : y + 6, x : x + 6] = i
    for t in (2, 3):
        labels[t, 10:16, 20:26] = 3
    for t in range(4):
        labels[t, 40:46, 40:46] = 4
        labels[t, 40:46, 10:16] = 5
    return labels, {2: 1, 3: 1}


def test_relabel_after_deleting_a_parent_invents_no_division(make_napari_viewer):
    """The Tracks layer keeps the divisions of a deleted parent (for an undo); a relabel must
    not hand their old IDs to other tracks (a self-loop, a false division)."""
    labels, lineage = _squares_movie()
    viewer = make_napari_viewer()
    layer = viewer.add_labels(labels.copy(), name="movie labels", metadata={"axes": "TYX"})
    layer.metadata = {**layer.metadata, "tessella_recipe": {"params": {}, "axes": "TYX"}}
    tracks = _results.show_tracks(viewer, layer, labels, lineage)
    _dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    correct.layer_combo.setCurrentIndex(correct.layer_combo.findText("movie labels"))
    correct.all_frames_checkbox.setChecked(True)  # the whole track, not the frame on screen
    correct.set_selection([1])
    correct.delete_button.click()
    assert correct.relabel()
    assert sorted(np.unique(layer.data).tolist()) == [0, 1, 2, 3, 4]
    assert not any(parents for parents in tracks.graph.values())  # the parent is gone
    assert tracks.metadata[_results.LINEAGE_KEY] == {}
    correct.undo()
    correct.undo()  # the delete too: the division is back under its old IDs
    np.testing.assert_array_equal(layer.data, labels)
    assert {c: p[0] for c, p in tracks.graph.items() if p} == lineage


def test_the_tracks_follow_an_undo_when_hidden_or_after_another_layers_axis_moved(
    make_napari_viewer,
):
    labels, lineage = _squares_movie()
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((3, 4, 64, 64)), name="a movie of 3 channels")
    layer = viewer.add_labels(labels.copy(), name="movie labels", metadata={"axes": "TYX"})
    tracks = _results.show_tracks(viewer, layer, labels, lineage)

    def ids():
        return set(tracks.data[:, 0].astype(int))

    where = np.nonzero(layer.data == 5)
    with layer.block_history():
        layer.data_setitem(where, 0)
    assert 5 not in ids()
    viewer.dims.set_point(0, 2)  # an axis the labels do not have: their slice is the same
    layer.undo()
    assert 5 in ids()
    _dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    correct.layer_combo.setCurrentIndex(correct.layer_combo.findText("movie labels"))
    layer.visible = False  # napari does not refresh a hidden layer after an undo
    correct.redo()
    assert 5 not in ids()
    layer.undo()  # Ctrl+Z on the hidden layer: seen when it is shown again
    assert 5 not in ids()
    layer.visible = True
    assert 5 in ids()
    viewer.layers.remove(layer)  # the follower lets go of the layer and its data
    assert _results._key(layer) not in _results._FOLLOWERS


def test_a_frame_previewed_in_tune_redraws_its_tracks(make_napari_viewer, movie_result, qtbot):
    from tessella.engine.tracking import frame_track_rows

    result, _truth = movie_result
    viewer, tune, layer = _movie_in_tune(make_napari_viewer, result)
    _set_then_apply_to_all(qtbot, tune, "temporal_sigma", 0.0)
    tracks = _results.tracks_layer(viewer, layer)
    viewer.dims.set_point(0, 5)
    with qtbot.waitSignal(tune.update_finished, timeout=30_000):
        assert tune.set_param("min_size", 100000)  # frame 5 alone: every cell removed
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    assert not layer.data[5].any()
    assert len(tracks.data[tracks.data[:, 1] == 5]) == len(frame_track_rows(layer.data[5], 5))


def test_ctc_export_drops_divisions_that_do_not_fit_the_labels(tmp_path, movie_result):
    from tessella.engine.tracking import link, read_ctc_tracks, write_ctc

    _result, truth = movie_result
    tracked, lineage = link(truth)
    child, parent = next(iter(lineage.items()))
    whole = next(
        int(i)
        for i in np.unique(tracked[0])[1:]
        if all((tracked[t] == i).any() for t in range(len(tracked)))
    )  # a track present in every frame cannot be anyone's parent
    with pytest.warns(UserWarning, match="1 division"):
        write_ctc(tracked, {**lineage, child: whole}, tmp_path / "RES")
    table = {k.id: k.parent for k in read_ctc_tracks(tmp_path / "RES" / "res_track.txt")}
    assert table[child] == 0 and all(table[c] == p for c, p in lineage.items() if c != child)


def test_the_tracks_follow_canvas_edits_and_keyboard_undo(make_napari_viewer, movie_result):
    """Without any Tessella widget: painting on the canvas and Ctrl+Z / Shift+Ctrl+Z
    (``layer.undo``/``redo``, what napari's key bindings call) redraw the Tracks layer."""
    from tessella.engine.tracking import link

    _result, truth = movie_result
    viewer = make_napari_viewer()
    tracked, lineage = link(truth)
    layer = viewer.add_labels(tracked, name="movie labels", metadata={"axes": "TYX"})
    tracks = _results.show_tracks(viewer, layer, tracked, lineage)
    daughter = next(iter(lineage))

    def ids():
        return set(tracks.data[:, 0].astype(int))

    where = np.nonzero(layer.data == daughter)
    with layer.block_history():  # one step, as the eraser or any plugin would record it
        layer.data_setitem(where, 0)
    assert daughter not in ids() and daughter not in tracks.graph
    layer.undo()
    assert daughter in ids() and tracks.graph[daughter] == [lineage[daughter]]
    layer.redo()
    assert daughter not in ids()
    layer.undo()

    new_id = int(layer.data.max()) + 1  # a cell painted by hand in frame 2
    layer.selected_label = new_id
    layer.brush_size = 5
    y, x = np.argwhere(layer.data[2] == 0)[len(np.argwhere(layer.data[2] == 0)) // 2]
    layer.paint((2, y, x), new_id)
    rows = tracks.data[tracks.data[:, 0] == new_id]
    assert rows[:, 1].tolist() == [2]
    layer.undo()
    assert new_id not in ids() and daughter in ids()


def test_an_undone_relink_exports_the_divisions_of_the_labels_on_screen(
    make_napari_viewer, movie_result, qtbot, tmp_path
):
    """Linked, then unlinked by Tune, then Ctrl+Z back to the linked labels: the CTC export
    and the Tracks layer give that state's divisions, not the unlinked one's (none)."""
    from tessella._widgets.export import ExportWidget

    result, _truth = movie_result
    viewer, tune, layer = _movie_in_tune(make_napari_viewer, result)
    _set_then_apply_to_all(qtbot, tune, "temporal_sigma", 0.0)
    linked = layer.data.copy()
    tracks = _results.tracks_layer(viewer, layer)
    divisions = {c: p[0] for c, p in tracks.graph.items()}
    assert len(divisions) == 2

    _set_then_apply_to_all(qtbot, tune, "link", False)
    assert not tracks.graph or all(not p for p in tracks.graph.values())
    for _ in range(4):
        if np.array_equal(layer.data, linked):
            break
        layer.undo()
    np.testing.assert_array_equal(layer.data, linked)
    assert {c: p[0] for c, p in tracks.graph.items()} == divisions  # followed the undo

    export = viewer.window.add_plugin_dock_widget("tessella", "Export")[1]
    assert isinstance(export, ExportWidget)
    export.labels_combo.setCurrentIndex(export.labels_combo.findText("movie labels"))
    export.path_edit.setText(str(tmp_path / "movie"))
    for box in (export.tiff_checkbox, export.csv_checkbox, export.recipe_checkbox):
        box.setChecked(False)
    export.ctc_checkbox.setChecked(True)
    assert export.export() == [tmp_path / "movie_RES"]
    table = read_ctc_tracks(tmp_path / "movie_RES" / "res_track.txt")
    assert {k.id: k.parent for k in table if k.parent} == divisions
    assert tune.follow_labels_on_screen()  # the controls and the Tracks layer follow too
    assert tune.params.link and {c: p[0] for c, p in tracks.graph.items()} == divisions


def test_a_frame_previewed_alone_keeps_its_track_ids(make_napari_viewer, movie_result, qtbot):
    """After linking, a change previewed on one frame gives that frame's cells the IDs of
    their tracks (not a fresh 1..n that clashes with other tracks)."""
    result, _truth = movie_result
    viewer, tune, layer = _movie_in_tune(make_napari_viewer, result)
    _set_then_apply_to_all(qtbot, tune, "temporal_sigma", 0.0)
    linked = layer.data.copy()
    viewer.dims.set_point(0, 5)
    with qtbot.waitSignal(tune.update_finished, timeout=30_000):
        assert tune.set_param("max_distance", float(tune.params.max_distance) + 1)
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    np.testing.assert_array_equal(layer.data[5], linked[5])  # same cells, same track IDs


def test_the_tracks_follow_an_edit_by_checking_only_the_frames_it_changed(
    make_napari_viewer, monkeypatch
):
    """An edit redraws its frame's tracks without checksumming the whole movie (which took
    about 0.25 s per 800 MB at each brush stroke): a paint event names the frames it wrote;
    undo and redo of a movie over ``FOLLOW_SCAN_BYTES`` check only the frames the recent
    steps wrote to and the frame on screen."""
    import zlib

    labels = np.zeros((8, 64, 64), np.int32)
    labels[:, 40:46, 40:46] = 4
    labels[:, 40:46, 10:16] = 5
    viewer = make_napari_viewer()
    layer = viewer.add_labels(labels, name="movie labels", metadata={"axes": "TYX"})
    viewer.dims.set_point(0, 0)  # frame 0 on screen
    tracks = _results.show_tracks(viewer, layer, labels, {})
    monkeypatch.setattr(_tracks_layer, "FOLLOW_SCAN_BYTES", 0, raising=False)  # as if very large
    read: list[int] = []  # the frames checksummed
    crc32 = zlib.crc32

    def counting(buffer, *args):
        array = np.asarray(buffer)
        if array.nbytes == layer.data[0].nbytes:
            start = array.__array_interface__["data"][0] - layer.data.ctypes.data
            read.append(start // layer.data[0].nbytes)
        return crc32(buffer, *args)

    monkeypatch.setattr(zlib, "crc32", counting)

    def rows(label):
        return tracks.data[tracks.data[:, 0] == label][:, 1].astype(int).tolist()

    layer.brush_size = 5
    with layer.block_history():  # a brush stroke on the canvas: one step, announced after
        layer.paint((2, 20, 20), 7)
        layer.paint((2, 20, 24), 7)
    assert rows(7) == [2]
    # (the viewer without a window refreshes the frame on screen at each dab)
    assert set(read) <= {0, 2}
    read.clear()
    layer.paint((5, 20, 20), 8)  # a single dab: announced before it is written
    assert rows(8) == [5]
    assert set(read) <= {0, 2, 5}
    read.clear()
    layer.undo()
    assert rows(8) == [] and rows(7) == [2]
    assert set(read) <= {0, 2, 5}  # the steps' frames and the one on screen
    layer.undo()
    assert rows(7) == []
    layer.redo()
    assert rows(7) == [2] and rows(4) == list(range(8))
    read.clear()
    layer.visible = False  # no refresh while hidden: the undo is seen when shown again
    layer.undo()
    assert rows(7) == [2]
    layer.visible = True
    assert rows(7) == []
    assert set(read) <= {0, 2, 5}


def test_the_tracks_follow_an_undo_of_a_step_older_than_the_recent_paints(
    make_napari_viewer, monkeypatch
):
    """Over ``FOLLOW_SCAN_BYTES``, an undo is checked on the frames the steps napari can
    still undo wrote to, not only those of the last few paints: paint frame 3, paint frame
    0 a few times, undo those, paint frame 0 anew (the undone steps are discarded, frame
    3's step is still in the history), undo all: frame 3's label leaves the tracks too."""
    labels = np.zeros((8, 64, 64), np.int32)
    labels[:, 40:46, 40:46] = 4
    viewer = make_napari_viewer()
    layer = viewer.add_labels(labels, name="movie labels", metadata={"axes": "TYX"})
    viewer.dims.set_point(0, 0)  # frame 0 on screen, frame 3 not
    monkeypatch.setattr(_tracks_layer, "FOLLOW_SCAN_BYTES", 0, raising=False)  # as if very large
    monkeypatch.setattr(_tracks_layer, "FOLLOW_STEPS", 4, raising=False)  # (the old bound)
    tracks = _results.show_tracks(viewer, layer, labels, {})

    def rows(label):
        return tracks.data[tracks.data[:, 0] == label][:, 1].astype(int).tolist()

    layer.brush_size = 3
    layer.paint((3, 20, 20), 7)
    assert rows(7) == [3]
    for i in range(4):
        layer.paint((0, 10, 10 + 4 * i), 8)
    for _ in range(4):
        layer.undo()
    for i in range(4):
        layer.paint((0, 30, 10 + 4 * i), 9)
    assert rows(8) == [] and rows(9) == [0]
    for _ in range(4):
        layer.undo()
    assert rows(9) == [] and rows(7) == [3]
    layer.undo()  # frame 3's step, older than the last four paints
    assert 7 not in layer.data[3]
    assert rows(7) == []
    assert rows(4) == list(range(8))


def test_a_plain_stack_opened_by_the_reader_is_read_as_frames_and_named_so(
    make_napari_viewer, tiny_temporal_dir, tmp_path, run_to_end
):
    import tifffile

    image, _labels, _tracks = cell_movie()
    tifffile.imwrite(tmp_path / "movie.tif", image)  # no axes in the file: ZYX is a guess
    tifffile.imwrite(tmp_path / "volume.tif", image, imagej=True, metadata={"axes": "ZYX"})
    viewer = make_napari_viewer()
    [volume] = viewer.open(str(tmp_path / "volume.tif"), plugin="tessella")
    [movie] = viewer.open(str(tmp_path / "movie.tif"), plugin="tessella")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(movie.unique_id))
    assert widget.axes_combo.currentText() == "TYX"  # (nuclei2d: the slices one by one)
    assert movie.axis_labels == ("z", "y", "x")

    assert widget.add_model(tiny_temporal_dir)
    assert widget.axes_combo.currentText() == "TYX"  # as napari's own reader's layer
    assert movie.axis_labels == ("t", "y", "x")  # the slider says "t"
    assert viewer.dims.axis_labels == ("t", "y", "x")
    temporal = widget.model_combo.currentIndex()
    widget.model_combo.setCurrentIndex(
        widget.model_combo.findText("em-mito2d", Qt.MatchFlag.MatchStartsWith)
    )
    assert widget.axes_combo.currentText() == "ZYX"
    assert movie.axis_labels == ("z", "y", "x")
    widget.model_combo.setCurrentIndex(temporal)

    run_to_end(widget)
    assert "failed" not in widget.status_label.text()
    assert (
        viewer.layers["movie labels (tiny_temporal)"].metadata["tessella_recipe"]["axes"] == "TYX"
    )

    # a file that names its axes ZYX is a volume, whatever the model
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(volume.unique_id))
    assert widget.axes_combo.currentText() == "ZYX"
    assert volume.axis_labels == ("z", "y", "x")
    # names the user gave the dimensions are theirs
    movie.axis_labels = ("plane", "row", "column")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(movie.unique_id))
    assert widget.axes_combo.currentText() == "TYX"
    assert movie.axis_labels == ("plane", "row", "column")


def test_segment_again_after_removing_the_labels_reuses_their_tracks_layer(
    make_napari_viewer, tiny_temporal_dir, run_to_end, monkeypatch
):
    viewer, widget, image = segment_cell_movie(
        make_napari_viewer, tiny_temporal_dir, monkeypatch, threshold=0.0, split=False
    )
    assert widget.add_model(tiny_temporal_dir)
    run_to_end(widget)
    tracks = viewer.layers["movie labels (tiny_temporal) tracks"]
    tracks.data = tracks.data[: len(tracks.data) // 2]  # stale tracks: half of them

    tracks.visible = True
    viewer.layers.remove("movie labels (tiny_temporal)")
    assert not tracks.visible  # tracks of labels that are gone are not drawn
    run_to_end(widget)
    assert tracks.visible  # shown again with the labels that took it over

    assert [layer.name for layer in viewer.layers] == [
        "movie",
        "movie labels (tiny_temporal)",
        "movie labels (tiny_temporal) tracks",
    ]
    labels = viewer.layers["movie labels (tiny_temporal)"]
    assert viewer.layers["movie labels (tiny_temporal) tracks"] is tracks  # taken over, drawn anew
    assert _results.tracks_layer(viewer, labels) is tracks
    assert tracks.data.shape == (image.shape[0], 4)
    # and it follows the new labels' edits: frame 0 erased, its rows go
    where = np.nonzero(labels.data[0] > 0)
    with labels.block_history():
        labels.data_setitem((np.zeros_like(where[0]), *where), 0)
    assert 0 not in tracks.data[:, 1] and 1 in tracks.data[:, 1]


def test_tune_forgets_the_progress_of_an_update_of_removed_labels(
    make_napari_viewer, movie_result, qtbot
):
    result, _labels = movie_result
    viewer, tune, layer = _movie_in_tune(make_napari_viewer, result)
    tune.set_param("threshold", 0.3)  # a preview of the frame on screen...
    # the one frame previewed (it read "0 / 1 frames")
    assert tune.progress_bar.text() == f"frame {viewer.dims.current_step[0]} preview"
    viewer.layers.remove(layer)  # ...whose labels go before it is written
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    assert tune.progress_bar.text() == ""

    # the movie segmented again: a new result, no count left from the old one
    again = viewer.add_labels(
        result.labels.copy(), name="movie labels", metadata={"tessella_recipe": result.recipe()}
    )
    _results.register(again, result, viewer.layers)
    assert tune.layer_combo.currentData() == again.unique_id
    assert tune.progress_bar.isVisibleTo(tune)
    assert tune.progress_bar.text() == ""
