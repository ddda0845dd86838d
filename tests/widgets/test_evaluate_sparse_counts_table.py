"""The Evaluate panel's counts table on ground truth that looks sparse within its frames
(GOWT1's SEG frame 40: 2 of about 24 nuclei annotated): the predicted nuclei
touching no annotated cell, yellow (not annotated) in the errors layer, are counted apart
("Yellow", their colour there), not in FP, which counts the others only (frame 39's
unmatched markers and debris specks, red). The table said FP 33 where the status said 22
of them were not annotated. The scores (AP, precision, recall, F1, avS, SEG) stay those of
``tessella evaluate`` on the same pair, which count the not-annotated objects as false
positives."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import tifffile

from tessella.cli._evaluate import evaluate_paths
from tessella.engine.evaluation import FALSE_POSITIVE, NOT_ANNOTATED

DATA = Path(os.environ.get("TESSELLA_DATA", "/work/shared/data"))
GOWT = DATA / "ctc_Fluo-N2DH-GOWT1" / "01_GT"
# frame 39 annotated densely (24 nuclei), 40 sparsely (2), 42 not at all
FRAMES = (39, 40, 42)
THRESHOLDS = ("0.5", "0.6", "0.7", "0.8", "0.9")


def _text(table) -> list[str]:
    return [table.item(0, c).text() for c in range(table.columnCount())]


@pytest.mark.skipif(not (GOWT / "SEG" / "man_seg040.tif").exists(), reason="no GOWT1 data")
def test_not_annotated_counted_apart_from_fp(make_napari_viewer, tmp_path):
    from tessella._widgets.evaluate import EvaluateWidget

    movie, seg = tmp_path / "01", tmp_path / "01_GT" / "SEG"
    movie.mkdir()
    seg.mkdir(parents=True)
    pred = np.stack([tifffile.imread(GOWT / "TRA" / f"man_track{t:03d}.tif") for t in FRAMES])
    for k, t in enumerate(FRAMES):
        tifffile.imwrite(movie / f"t{k:03d}.tif", np.zeros((1024, 1024), np.uint8))
        if t == 42:
            continue
        tifffile.imwrite(
            seg / f"man_seg{k:03d}.tif", tifffile.imread(GOWT / f"SEG/man_seg{t:03d}.tif")
        )
    specks = [60000 + k for k in range(4)]  # 5x5 debris in frame 40, off every nucleus
    for k, speck in enumerate(specks):
        assert not pred[1, 2:15, 10 + 40 * k : 23 + 40 * k].any()
        pred[1, 6:11, 14 + 40 * k : 19 + 40 * k] = speck
    tifffile.imwrite(tmp_path / "pred.tif", pred, imagej=True, metadata={"axes": "TYX"})
    cli = evaluate_paths(str(tmp_path / "pred.tif"), str(seg), ("ap", "iou", "seg"))

    viewer = make_napari_viewer()
    with pytest.warns(UserWarning, match="2 annotated frames of 0-2"):
        [truth] = viewer.open(str(seg), plugin="tessella")
    viewer.add_labels(pred, name="prediction", axis_labels=("t", "y", "x"))
    widget = EvaluateWidget(viewer)
    assert widget.truth_layer is truth and widget.annotated_checkbox.isChecked()
    widget.errors_checkbox.setChecked(True)
    widget.evaluate_button.click()
    result, scores = widget.last_evaluation, widget.last_scores
    # the scores shown are tessella evaluate's
    for key in ("ap", "precision", "recall", "f1"):
        assert scores[key] == pytest.approx(cli[key])
    assert scores["avs"] == pytest.approx(cli["avs"]) and scores["seg"] == pytest.approx(cli["seg"])
    shown = [[widget.scores_table.item(r, c).text() for c in range(5)] for r in range(4)]
    for row, key in enumerate(("ap", "precision", "recall", "f1")):
        assert shown[row] == [f"{cli[key][t]:.3f}" for t in THRESHOLDS]
    # the counts: the yellow objects apart from the red FP
    errors = viewer.layers["prediction errors @0.5"].data
    # (objects frame by frame: a track's ID is in several)
    yellow = sum(np.unique(p[e == NOT_ANNOTATED]).size for p, e in zip(pred, errors))
    assert result.not_annotated == yellow == 22  # the unannotated nuclei of frame 40
    red = result.fp - yellow
    assert red == 7 + len(specks)  # frame 39's 7 unmatched markers (red, or under cyan), specks
    header = widget.counts_table.horizontalHeaderItem(5)
    assert widget.counts_table.columnCount() == 6 and header.text() == "Yellow"
    counts = [result.n_pred, result.n_true, result.tp, red, result.fn, yellow]
    assert _text(widget.counts_table) == [str(n) for n in counts]
    assert red + yellow == result.fp  # what AP counts as false positives
    assert set(specks) <= set(np.unique(pred[errors == FALSE_POSITIVE]).tolist())
    assert "Yellow: not annotated, false positives to AP and F1" in widget.counts_label.text()
    status = widget.status_label.text()
    assert f"FP {red} without them, {result.fp} to AP and F1 (hover for more)" in status
    assert f"table's Yellow column (FP {red} without them)" in widget.status_label.toolTip()
    assert f"({result.fp} FP)" in widget.counts_label.toolTip()
    # scored whole (not annotated frames only): nothing is yellow, five columns again
    widget.annotated_checkbox.setChecked(False)
    widget.evaluate_button.click()
    assert widget.last_evaluation.not_annotated == 0 and widget.counts_table.columnCount() == 5
    assert _text(widget.counts_table)[3] == str(widget.last_evaluation.fp)
    assert "Yellow" not in widget.counts_label.text()
