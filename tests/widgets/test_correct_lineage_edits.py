"""Correct's lineage edits on a tracked time-lapse (user test s33/t12 #6: Correct could not add
or edit a division): *Break track here* gives the selected object a new track ID from the
frame on screen on, *Set parent* makes a track a daughter of another (refused, with the frame
to break the mother at, while the two overlap in time), *Swap from here* exchanges two tracks
from a frame on. Each is one Undo/Redo step (the panel's buttons and Ctrl+Z on the layer), the
Tracks layer follows, and Export's CTC res_track.txt writes what the panel shows.

The data: SIM+ 01's ground-truth tracks (01_GT/TRA, frames 50-55, a 120 x 140 crop) around
cell 23, which divides into 81 and 82 at t053, as a tracker gets it wrong: daughter 81 carried
on as 23 (the mother's ID) and 82 with no parent."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tessella._widgets import _results
from tessella._widgets._correct_lineage import BREAK_TRACK, SET_PARENT
from tessella.engine.tracking import read_ctc_tracks
from tests.widgets.helpers import choose_text

SIM = "ctc_Fluo-N2DH-SIM+"
FRAMES = list(range(50, 56))
CROP = (slice(90, 210), slice(190, 330))


def _gt(data_dir) -> np.ndarray:
    tra = data_dir / SIM / "01_GT" / "TRA"
    if not tra.is_dir():
        pytest.skip("SIM+ 01_GT/TRA not in the shared data")
    return np.stack([tifffile.imread(tra / f"man_track{t:03d}.tif")[CROP] for t in FRAMES])


def _mislinked(data_dir) -> np.ndarray:
    labels = _gt(data_dir)
    assert set(np.unique(labels[2])) >= {23} and set(np.unique(labels[3])) >= {81, 82}
    labels[labels == 81] = 23  # the linker carried the mother's ID into one daughter
    return labels


def _movie(viewer, labels, lineage=None, name="01 labels"):
    layer = viewer.add_labels(
        labels.copy(), name=name, metadata={"axes": "TYX", "frame_numbers": FRAMES}
    )
    _results.show_tracks(viewer, layer, np.asarray(layer.data), lineage or {}, linked=True)
    return layer


def _correct(viewer, layer):
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    return widget


def _res_track(viewer, layer, base) -> dict[int, tuple[int, int, int]]:
    """Export ``layer`` as a CTC folder ``base``_RES: ``{track: (begin, end, parent)}``."""
    export = viewer.window.add_plugin_dock_widget("tessella", "Export")[1]
    choose_text(export.labels_combo, layer.name)
    export.path_edit.setText(str(base))
    for box in ("tiff", "zarr", "csv", "recipe"):
        getattr(export, f"{box}_checkbox").setChecked(False)
    export.ctc_checkbox.setChecked(True)
    assert export.ctc_checkbox.isEnabled(), export.ctc_checkbox.toolTip()
    assert export.export(), export.status_label.text()
    tracks = read_ctc_tracks(base.parent / f"{base.name}_RES" / "res_track.txt")
    return {k.id: (k.start, k.end, k.parent) for k in tracks}


def _graph(viewer, layer) -> dict[int, int]:
    tracks = _results.tracks_layer(viewer, layer)
    return {int(c): int(p[0]) for c, p in tracks.graph.items() if p}


def test_break_the_mislinked_track_then_set_parents_export_and_undo(
    make_napari_viewer, data_dir, tmp_path
):
    viewer = make_napari_viewer()
    labels = _mislinked(data_dir)
    layer = _movie(viewer, labels)
    widget = _correct(viewer, layer)
    assert widget._tracks_box.isVisibleTo(widget)
    assert _res_track(viewer, layer, tmp_path / "before")[23] == (50, 55, 0)

    # 82 cannot be 23's daughter while 23 goes on through t053-t055: refused, with the fix
    widget.set_selection([82])
    widget.parent_spin.setValue(23)
    assert not widget.set_parent()
    said = widget.status_label.text()
    assert said.startswith(f"{SET_PARENT} on '01 labels': track 23 (frame 0 (t050) to frame 5")
    assert "Break track 23 at frame 3 (t053) first" in said, said
    np.testing.assert_array_equal(layer.data, labels)

    # break 23 at t053: from there on it is a new track (81's pixels), with no parent
    viewer.dims.set_current_step(0, 3)
    widget.set_selection([23])
    widget.break_track_button.click()
    new = int(labels.max()) + 1
    said = widget.status_label.text()
    assert said.startswith(f"break track 23 (from there on track {new}) on '01 labels' in frame 3")
    assert widget.selected_ids() == [new] and widget.parent_spin.value() == 23
    edited = np.asarray(layer.data)
    np.testing.assert_array_equal(edited[3:] == new, labels[3:] == 23)
    assert not (edited[3:] == 23).any()
    widget.set_parent_button.click()  # the new track: a daughter of 23 (as the panel offers)
    assert widget.status_label.text().startswith(
        f"set the parent of track {new} to 23 on '01 labels': track {new} (frame 3 (t053) to "
        "frame 5 (t055)) is now a daughter of track 23, which ends in frame 2 (t052)"
    )
    widget.set_selection([82, 23])  # daughter, then mother (as picked)
    widget.parent_spin.setValue(0)
    widget.set_parent_button.click()
    assert widget.parent_spin.value() == 23
    assert _graph(viewer, layer) == {new: 23, 82: 23}
    res = _res_track(viewer, layer, tmp_path / "fixed")
    assert res[23] == (50, 52, 0) and res[new] == (53, 55, 23) and res[82] == (53, 55, 23)

    # Undo, one step at a time: the second parent, the first, the break
    widget.undo_button.click()
    assert widget.status_label.text() == "Undid: set the parent of track 82 to 23 on '01 labels'"
    assert _graph(viewer, layer) == {new: 23}
    widget.undo_button.click()
    widget.undo_button.click()
    np.testing.assert_array_equal(layer.data, labels)
    assert _graph(viewer, layer) == {}
    res = _res_track(viewer, layer, tmp_path / "undone")
    assert res[23] == (50, 55, 0) and res[82] == (53, 55, 0)
    # Redo all three, the last by Shift+Ctrl+Z on the layer (napari's own redo)
    widget.redo_button.click()
    widget.redo_button.click()
    layer.redo()
    np.testing.assert_array_equal(layer.data, edited)
    assert _graph(viewer, layer) == {new: 23, 82: 23}
    res = _res_track(viewer, layer, tmp_path / "redone")
    assert res[new] == (53, 55, 23) and res[82] == (53, 55, 23)
    # Ctrl+Z on the layer undoes a parent too
    layer.undo()
    assert _graph(viewer, layer) == {new: 23}
    assert _res_track(viewer, layer, tmp_path / "ctrl_z")[82] == (53, 55, 0)


def test_set_parent_on_an_unedited_result_reaches_export_and_undo_takes_it_back(
    make_napari_viewer, data_dir, tmp_path
):
    """Labels that are a recorded Segment state (their lineage read from it, not from the
    Tracks layer): a parent set by hand reaches Export, and Undo takes it back."""
    viewer = make_napari_viewer()
    labels = _gt(data_dir)  # 81 and 82 there, their parent missed
    layer = _movie(viewer, labels)
    layer.metadata = {**layer.metadata, "tessella_recipe": {"model": "cells2dt", "params": {}}}
    _results.note_labels_state(layer, {"link": True}, {})
    assert _results.lineage_on_screen(layer) == {}
    widget = _correct(viewer, layer)
    for daughter in (81, 82):
        widget.set_selection([daughter])
        widget.parent_spin.setValue(23)
        assert widget.set_parent(), widget.status_label.text()
    np.testing.assert_array_equal(layer.data, labels)  # no pixel changed
    res = _res_track(viewer, layer, tmp_path / "set")
    assert res[81] == (53, 55, 23) and res[82] == (53, 55, 23) and res[23] == (50, 52, 0)
    widget.undo_button.click()
    widget.undo_button.click()
    assert _results.lineage_on_screen(layer) == {} and _graph(viewer, layer) == {}
    res = _res_track(viewer, layer, tmp_path / "undone")
    assert res[81] == (53, 55, 0) and res[82] == (53, 55, 0)


def test_swap_from_here_exchanges_two_tracks_and_their_daughters(
    make_napari_viewer, data_dir, tmp_path
):
    """Two neighbouring tracks exchanged by the linker from t053 on: Swap from here puts them
    back, the daughters following the mother's end."""
    viewer = make_napari_viewer()
    labels = _gt(data_dir)
    ids = [int(i) for i in np.unique(labels[0]) if i and i != 23 and (labels[5] == i).any()]
    other = ids[0]
    swapped = labels.copy()
    later = swapped[3:]
    a, b = later == 81, later == other
    later[a], later[b] = other, 81
    layer = _movie(viewer, swapped, {81: 23, 82: 23})
    widget = _correct(viewer, layer)
    viewer.dims.set_current_step(0, 3)
    widget.set_selection([other, 81])
    assert widget.swap_tracks(), widget.status_label.text()
    np.testing.assert_array_equal(layer.data, labels)
    assert widget.status_label.text().startswith(
        f"swap tracks {other} and 81 on '01 labels' from frame 3 (t053) on:"
    )
    res = _res_track(viewer, layer, tmp_path / "swapped")
    assert res[81] == (53, 55, 23) and res[other] == (50, 55, 0)
    widget.undo_button.click()
    np.testing.assert_array_equal(layer.data, swapped)
    assert widget.status_label.text().startswith(f"Undid: swap tracks {other} and 81")


def test_the_tracks_box_is_hidden_for_one_image(make_napari_viewer, data_dir):
    viewer = make_napari_viewer()
    layer = viewer.add_labels(_gt(data_dir)[0], name="one frame")
    widget = _correct(viewer, layer)
    assert not widget._tracks_box.isVisibleTo(widget)
    assert widget.break_track_button.text() == BREAK_TRACK


def test_set_parent_on_a_movie_without_tracks_draws_them(make_napari_viewer, data_dir, tmp_path):
    """Time-lapse labels with no Tracks layer beside them (a TIFF opened from disk): Set
    parent adds one, with the division; Export writes it; Undo takes it back."""
    viewer = make_napari_viewer()
    labels = _gt(data_dir)
    layer = viewer.add_labels(
        labels.copy(), name="01 gt", metadata={"axes": "TYX", "frame_numbers": FRAMES}
    )
    widget = _correct(viewer, layer)
    assert _results.tracks_layer(viewer, layer) is None
    widget.set_selection([82])
    widget.parent_spin.setValue(23)
    assert widget.set_parent(), widget.status_label.text()
    assert _graph(viewer, layer) == {82: 23}
    assert _res_track(viewer, layer, tmp_path / "set")[82] == (53, 55, 23)
    widget.undo_button.click()
    assert _graph(viewer, layer) == {}
    assert _res_track(viewer, layer, tmp_path / "undone")[82] == (53, 55, 0)


def test_ctrl_z_on_a_hidden_layer_brings_the_lineage_back_when_the_pointer_comes_back(
    make_napari_viewer, data_dir, tmp_path
):
    """napari refreshes nothing when Ctrl+Z undoes a step of a hidden layer: the lineage comes
    back once the pointer comes to the panel (or the layer is shown), before any Export."""
    from qtpy.QtCore import QPointF
    from qtpy.QtGui import QEnterEvent
    from qtpy.QtWidgets import QApplication

    viewer = make_napari_viewer()
    layer = _movie(viewer, _gt(data_dir))
    widget = _correct(viewer, layer)
    widget.set_selection([82, 23])
    assert widget.set_parent(), widget.status_label.text()
    layer.visible = False
    _results.tracks_layer(viewer, layer).visible = True
    layer.undo()
    QApplication.sendEvent(widget, QEnterEvent(QPointF(5, 5), QPointF(5, 5), QPointF(5, 5)))
    assert _graph(viewer, layer) == {}
    assert _res_track(viewer, layer, tmp_path / "undone")[82] == (53, 55, 0)
