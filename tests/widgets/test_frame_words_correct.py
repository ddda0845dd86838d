"""Correct and Tune name a folder movie's frame as Segment does (user test s31/t7, finding 5;
helper f17's list): by napari's slider index with the file's number, "frame 1 (t053)", in
every edit's status line, its refusals, Next suspicious and Tune's note of mixed
parameters. Also: an edit in one frame that leaves a track absent from it between two frames
where it is says so (t7: only Export said it, later, as a split), and Next suspicious sizes a
volume's object in voxels, with µm³ where the layer's scale has that unit (t8: "118586 px")."""

from __future__ import annotations

import numpy as np
import pytest

from tessella._widgets.correct import CorrectWidget
from tests.widgets.test_frame_words import sim_folder  # noqa: F401  (the fixture)


def _tracks(shape: tuple[int, int]) -> np.ndarray:
    """Four frames of labels the size of the folder's frames: cells 2 and 3 side by side (a
    one-pixel crack between them), cell 4 apart, each in every frame."""
    labels = np.zeros((4, *shape), np.int32)
    labels[:, 20:28, 10:16] = 2
    labels[:, 20:28, 17:23] = 3
    labels[:, 60:66, 60:66] = 4
    return labels


def _correct_on_folder_labels(viewer, folder, labels=None):
    """The folder movie opened by Tessella's reader (it records frame numbers 52-55), labels
    of it carrying those numbers as Segment's result does, and Correct docked on them."""
    [image] = viewer.open(str(folder), plugin="tessella")
    numbers = image.metadata["frame_numbers"]
    assert numbers == [52, 53, 54, 55]
    data = _tracks(image.data.shape[1:]) if labels is None else labels
    layer = viewer.add_labels(
        data, name="01 labels", metadata={"axes": "TYX", "frame_numbers": numbers[: len(data)]}
    )
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    assert isinstance(widget, CorrectWidget)
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    return layer, widget


def test_corrects_edits_name_the_frame_and_a_track_left_with_a_gap(
    make_napari_viewer,
    sim_folder,  # noqa: F811
):
    viewer = make_napari_viewer()
    layer, widget = _correct_on_folder_labels(viewer, sim_folder)
    viewer.dims.set_current_step(0, 1)

    widget.set_selection([3, 2])
    assert widget.merge()
    said = widget.status_label.text()
    assert said.startswith("merge 3, 2 into 3 on '01 labels' in frame 1 (t053): "), said
    # 2 is in frames 0 and 2, no longer in 1: a CTC export splits track 2 there
    assert said.endswith(
        "; track 2 now skips frame 1 (t053): a CTC export splits it in two there"
    ), said
    widget.undo()
    assert widget.status_label.text() == "Undid: merge 3, 2 into 3 on '01 labels' in frame 1 (t053)"

    viewer.dims.set_current_step(0, 0)  # the first frame: no gap, the track starts later
    widget.set_selection([4])
    assert widget.delete()
    assert widget.status_label.text() == "delete 4 on '01 labels' in frame 0 (t052): 36 px changed"

    viewer.dims.set_current_step(0, 2)
    widget.set_selection([4, 3])
    assert widget.delete()
    assert widget.status_label.text() == (
        "delete 3, 4 on '01 labels' in frame 2 (t054): 84 px changed; tracks 3, 4 now skip "
        "frame 2 (t054): a CTC export splits each in two there"
    )
    widget.set_selection([4])
    assert not widget.delete()  # gone from this frame: refused, the frame named
    assert widget.status_label.text().startswith(
        "Delete on layer '01 labels' in frame 2 (t054): no object with label 4"
    )


def test_a_frame_on_screen_outside_the_labels_is_refused_with_their_frames_named(
    make_napari_viewer,
    sim_folder,  # noqa: F811
):
    viewer = make_napari_viewer()
    three = _tracks((96, 96))[:3]  # labels of the first three frames only
    _layer, widget = _correct_on_folder_labels(viewer, sim_folder, three)
    viewer.dims.set_current_step(0, 3)
    widget.set_selection([2])
    assert not widget.delete()
    assert widget.status_label.text() == (
        "Delete: frame 3 on screen is not in '01 labels' (its frames: frame 0 (t052) to "
        "frame 2 (t054)); move to one of its frames or tick 'All frames (whole track)'"
    )


def test_next_suspicious_names_the_frame(
    make_napari_viewer,
    sim_folder,  # noqa: F811
):
    viewer = make_napari_viewer()
    labels = _tracks((96, 96))
    labels[2, 80, 80] = 9  # one pixel among objects of 36 to 48: small
    layer, widget = _correct_on_folder_labels(viewer, sim_folder, labels)

    suspect = widget.step_suspicious()

    assert suspect is not None and suspect.label == 9
    assert widget.suspect_label.text() == "1 of 1: label 9 in frame 2 (t054) is small (1 px)"


@pytest.mark.parametrize(
    ("scale", "units", "size"),
    [
        ((2.0, 0.5, 0.5), "µm", "(1,000 voxels, 500 µm³)"),
        ((1.0, 1.0, 1.0), None, "(1,000 voxels)"),  # no pixel size: voxels alone
    ],
)
def test_next_suspicious_sizes_a_volumes_object_in_voxels(make_napari_viewer, scale, units, size):
    viewer = make_napari_viewer()
    volume = np.zeros((12, 40, 40), np.int32)
    for k in range(1, 9):  # eight objects of 8 voxels...
        y, x = divmod(k - 1, 4)
        volume[1:3, 2 + 6 * y : 4 + 6 * y, 2 + 6 * x : 4 + 6 * x] = k
    volume[1:11, 25:35, 25:35] = 10  # ...and one of 1,000
    kwargs = {} if units is None else {"units": units}
    layer = viewer.add_labels(
        volume, name="cells 3d", scale=scale, metadata={"axes": "ZYX"}, **kwargs
    )
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))

    suspect = widget.step_suspicious()

    assert suspect is not None and suspect.label == 10
    assert widget.suspect_label.text() == f"1 of 1: label 10 is large {size}"


def test_tunes_note_of_frames_at_other_values_names_them_as_the_slider_does(
    docked_tune, result_tyx, qtbot
):
    """Frames previewed alone at other values: Tune's status names each by the slider's
    index and its file's number (it said "frame 1 at ..., frame 2 at ...")."""
    from tests.widgets.test_tune_widget import change, place

    viewer, widget = docked_tune
    layer = place(viewer, result_tyx, name="movie labels")
    layer.metadata["frame_numbers"] = [52, 53, 54]
    viewer.dims.set_current_step(0, 1)
    change(qtbot, widget, seed_thresh=0.6)
    viewer.dims.set_current_step(0, 2)
    change(qtbot, widget, seed_thresh=0.7)

    said = widget.status_label.text()
    assert " frame 2 (t054): updated in " in said, said
    assert "; frame 1 (t053) at seed_thresh=0.6, frame 2 (t054) at seed_thresh=0.7, " in said
    assert "frame 0 (t052) at seed_thresh=" in said, said
