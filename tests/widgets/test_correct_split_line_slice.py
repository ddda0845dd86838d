"""Correct's *Split along lines* on a volume sweeps the line drawn in one slice through the
others and cuts the whole object; the status line names the pieces and the slices (user test
s28/t4, problem 5: a 3D object became one body and a one-slice sliver without a word; it was
then cut in the line's slice only and said so, now it is cut whole)."""

from __future__ import annotations

import numpy as np

from tessella._widgets.correct import LINES_LAYER


def _largest_two(labels: np.ndarray) -> tuple[int, int]:
    counts = np.bincount(labels.ravel())
    counts[0] = 0
    first, second = np.argsort(counts)[::-1][:2]
    return int(first), int(second)


def _split_across(viewer, widget, layer, label: int, z: int | None, plane: np.ndarray):
    """Select ``label``, draw a vertical line across it (in slice ``z`` of a volume) and split."""
    rows, cols = np.nonzero(plane == label)
    cx = int(np.median(cols))
    widget.selection_edit.setText(str(label))
    widget.draw_line_button.click()
    shapes = viewer.layers[LINES_LAYER]
    ends = [[rows.min() - 2, cx], [rows.max() + 2, cx]]
    if z is not None:
        viewer.dims.set_current_step(0, z)
        ends = [[z, *end] for end in ends]
    shapes.add_lines(np.array(ends))
    assert widget.split_along_lines()
    return widget.status_label.text()


def test_a_line_on_a_volume_cuts_the_object_in_every_slice_and_says_so(
    make_napari_viewer, nuclei_sample
):
    viewer = make_napari_viewer()
    truth = nuclei_sample[1].astype(np.int32)
    through, alone = _largest_two(truth)
    volume = np.stack([truth] * 5)
    volume[[0, 1, 3, 4]] = np.where(volume[[0, 1, 3, 4]] == alone, 0, volume[[0, 1, 3, 4]])
    layer = viewer.add_labels(volume.copy(), name="volume", metadata={"axes": "ZYX"})
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))

    said = _split_across(viewer, widget, layer, through, 2, truth)
    new = int(volume.max()) + 1
    for z in range(5):  # the same cut in every slice
        assert set(np.unique(layer.data[z][truth == through])) == {through, new}, z
        assert np.array_equal(layer.data[z][truth == through], layer.data[2][truth == through])
    assert f"split {through} into 2 by line" in said
    assert f"{through} is now {through} and {new}, cut through all 5 slices it spans" in said
    assert "only" not in said, said
    # an object of that one slice alone is split whole: nothing to add
    said = _split_across(viewer, widget, layer, alone, 2, truth)
    assert f"split {alone} into 2 by line" in said and "only" not in said, said


def test_a_line_on_an_image_or_a_movie_frame_says_no_slice(make_napari_viewer, nuclei_sample):
    viewer = make_napari_viewer()
    truth = nuclei_sample[1].astype(np.int32)
    through, _ = _largest_two(truth)
    image = viewer.add_labels(truth.copy(), name="image")
    movie = viewer.add_labels(np.stack([truth] * 3), name="movie", metadata={"axes": "TYX"})
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(image.unique_id))
    said = _split_across(viewer, widget, image, through, None, truth)
    assert f"split {through} into 2 by line" in said and "slice" not in said, said
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(movie.unique_id))
    said = _split_across(viewer, widget, movie, through, 1, truth)
    assert "in frame 1" in said and "slice" not in said, said
