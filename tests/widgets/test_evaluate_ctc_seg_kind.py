"""A Cell Tracking Challenge SEG folder the reader opened is instances to Evaluate, never
guessed (review r4, finding 3): a few frames of one or two annotated cells each (GOWT1's
man_seg 2, 5, 6, 7) were guessed a binary mask, so touching cells were scored joined."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile


def test_seg_folder_is_instances_without_guessing(make_napari_viewer, tmp_path):
    from tessella._widgets.evaluate import EvaluateWidget

    movie, seg = tmp_path / "01", tmp_path / "01_GT" / "SEG"
    movie.mkdir()
    seg.mkdir(parents=True)
    for t in range(4):
        tifffile.imwrite(movie / f"t{t:03d}.tif", np.full((40, 40), 100, np.uint16))
    for t in (1, 3):  # one cell each, of id 1: a binary mask to the guess
        truth = np.zeros((40, 40), np.uint16)
        truth[10:20, 10:20] = 1
        tifffile.imwrite(seg / f"man_seg{t:03d}.tif", truth)
    viewer = make_napari_viewer()
    with pytest.warns(UserWarning):
        [layer] = viewer.open(str(seg), plugin="tessella")
    pred = np.zeros((4, 40, 40), np.uint16)
    pred[:, 10:20, 10:20] = 5
    viewer.add_labels(pred, name="prediction", axis_labels=("t", "y", "x"))
    widget = EvaluateWidget(viewer)
    assert widget.truth_layer is layer
    assert widget.kind_worker is None  # (no guess running to change it later)
    assert widget.truth_kind == "labels", widget.kind_label.text()
    assert "Cell Tracking Challenge SEG folder" in widget.kind_label.text()
