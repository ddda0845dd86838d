"""The Evaluate panel and ``tessella evaluate`` give the same figures for the same time-lapse
files (s34 user test t16, finding 1: on a SIM+ clip the panel said AP(0.5) 0.905, TP 19 /
FN 2, frame by frame, while the command scored the movie as one volume, AP(0.5) 1.000).

The files: a SIM+ clip of 3 frames, 128 x 128, with ImageJ axes TYX, and a prediction
missing one cell in frame 2 (``tests/test_evaluate_timelapse_cli_api.py``), opened by the
tessella reader as a user opens them."""

from __future__ import annotations

import json

import pytest

from tessella.cli import main
from tests.test_evaluate_timelapse_cli_api import write_clip


def test_panel_and_command_score_a_movie_alike(make_napari_viewer, tmp_path):
    pred_path, gt_path = write_clip(tmp_path / "clip")
    out = tmp_path / "scores.json"
    args = ["evaluate", str(pred_path), str(gt_path), "--metric", "ap", "--metric", "iou"]
    assert main([*args, "--json", str(out), "-q"]) == 0
    cli = json.loads(out.read_text())

    viewer = make_napari_viewer()
    [truth] = viewer.open(str(gt_path), plugin="tessella", layer_type="labels", name="gt")
    [pred] = viewer.open(str(pred_path), plugin="tessella", layer_type="labels", name="pred")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    for combo, layer in ((widget.pred_combo, pred), (widget.truth_combo, truth)):
        combo.setCurrentIndex(combo.findText(layer.name))
    assert widget.truth_kind == "labels"
    assert (widget.prediction_layer.name, widget.truth_layer.name) == ("pred", "gt")
    widget.evaluate_button.click()
    result = widget.last_evaluation
    assert result is not None, widget.status_label.text()

    assert result.scores["n_images"] == cli["n_images"] == 3
    assert result.scores["ap"] == pytest.approx(cli["ap"])
    assert result.scores["ap"]["0.5"] < 1.0  # the cell missed in frame 2 counts
    assert result.scores["avs"] == pytest.approx(cli["avs"])
    assert result.scores["foreground_iou"] == pytest.approx(cli["foreground_iou"])
    counts = [sum(row[key]["0.5"] for row in cli["images"]) for key in ("tp", "fp", "fn")]
    assert [result.tp, result.fp, result.fn] == counts == [17, 0, 1]
