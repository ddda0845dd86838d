"""A label image given as the membrane map (``tessella evaluate PRED GT --gt-boundaries``
with PRED and GT swapped: 110 label values, no 0) has no cell to score: every score was
printed "undefined" and the command exited 0 without a hint (t8 finding 4). It is now noted
as a label image (arguments swapped?), and a run whose every score is undefined exits 1; the
Evaluate panel says the same in its status."""

from __future__ import annotations

import numpy as np
import tifffile

from tessella.cli import main


def _pair():
    """A membrane map (1 = membrane, 4 x 4 cells of 8 px) and labels of its cells, no 0."""
    membrane = np.zeros((32, 32), np.uint8)
    membrane[::8] = membrane[:, ::8] = 1
    labels = np.kron(np.arange(1, 17).reshape(4, 4), np.ones((8, 8), np.uint16))
    return membrane, labels.astype(np.uint16)


def test_swapped_arguments_are_noted_and_exit_1(tmp_path, capsys):
    membrane, labels = _pair()
    tifffile.imwrite(tmp_path / "map.tif", membrane)
    tifffile.imwrite(tmp_path / "labels.tif", labels)
    swapped = [str(tmp_path / "map.tif"), str(tmp_path / "labels.tif"), "--gt-boundaries"]
    assert main(["evaluate", *swapped, "--metric", "vrand"]) == 1
    err = capsys.readouterr().err
    assert "labels.tif: a membrane map holds 0" in err and "16 distinct values and no 0" in err
    assert "Are PRED and GT swapped" in err
    assert "error: nothing scored: every score is undefined" in err
    # the right order scores, exit 0, no such note
    right = [str(tmp_path / "labels.tif"), str(tmp_path / "map.tif"), "--gt-boundaries"]
    assert main(["evaluate", *right, "--metric", "vrand"]) == 0
    captured = capsys.readouterr()
    assert "swapped" not in captured.err and "vrand: 1.0000" in captured.out


def test_panel_says_a_label_image_taken_as_membrane_map_scores_nothing(make_napari_viewer):
    from tessella._widgets.evaluate import EvaluateWidget

    membrane, labels = _pair()
    viewer = make_napari_viewer()
    viewer.add_labels(membrane, name="prediction")
    viewer.add_labels(labels, name="truth")
    widget = EvaluateWidget(viewer)
    widget.pred_combo.setCurrentIndex(widget.pred_combo.findText("prediction"))
    widget.truth_combo.setCurrentIndex(widget.truth_combo.findText("truth"))
    widget.kind_combo.setCurrentIndex(widget.kind_combo.findData("boundaries"))
    widget.evaluate_button.click()
    status = widget.status_label.text()
    assert widget.last_scores["vrand"] is None
    assert "a label image? Are the prediction and the ground truth swapped?" in status
    assert "nothing to score: 'truth' has no cell" in status
