"""``tessella evaluate PRED.zarr GT.zarr --ignore-label N`` (``score_paths``,
``tessella.evaluate_paths``) reads a pair of 2D label zarrs a piece at a time, as the
Evaluate panel does (3deb96a), with the scores, rows, notes and errors of the same pair as
TIFFs read whole: the ID-clash warning and the 'no ground-truth pixel has it' refusal (over
all the pairs of folders) too, done from the pieces. Before, such a pair was read whole.
Real data: the DSB2018 fixture's nuclei, its right third and a band unannotated."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tessella.cli import main
from tessella.engine.evaluation import EvaluationInputError, score_paths
from tests.engine import test_evaluate_ignore_label_tiled as dsb
from tests.engine._evaluate_pieces_common import spy_largest_read, write_pair_file
from tests.engine.test_evaluate_ignore_label_tiled import SIDE, UNANNOTATED, WANTED

pytestmark = dsb.pytestmark  # (the DSB2018 fixture)


def _pair(label: int = UNANNOTATED) -> tuple[np.ndarray, np.ndarray]:
    """The nuclei with their right third and rows 200-239 marked ``label`` (int32), against
    the nuclei shifted by 2 pixels, every 7th left out (``test_evaluate_ignore_label_tiled``'s
    pair)."""
    truth, pred = dsb._pair()
    truth = truth.astype(np.int32)
    truth[truth == UNANNOTATED] = label
    return truth, pred


def _scores(pred: str, gt: str, label: int, notes: list, metrics=WANTED) -> dict:
    scores = score_paths(pred, gt, metrics, ignore_label=label, per_image=True, warn=notes.append)
    for row in scores["images"]:
        row["name"] = row["name"].split(".")[0]  # (gt.zarr, gt.tif)
    return scores


@pytest.mark.parametrize("metrics", [("ap",), WANTED])
def test_zarr_pair_with_an_unannotated_label_is_scored_in_pieces(tmp_path, monkeypatch, metrics):
    truth, pred = _pair()
    gt_zarr, gt_tif = write_pair_file(tmp_path, "gt", truth, 128)
    pred_zarr, pred_tif = write_pair_file(tmp_path, "pred", pred, 128)
    seen = spy_largest_read(monkeypatch, SIDE)
    notes: list[str] = []
    pieces = _scores(pred_zarr, gt_zarr, UNANNOTATED, notes, metrics)
    assert 0 < seen[0] <= SIDE * SIDE  # (before: 512 x 512, each read whole)
    whole = _scores(pred_tif, gt_tif, UNANNOTATED, [], metrics)
    assert pieces == whole and notes == []
    row = whole["images"][0]
    assert row["n_true"] > 50 and 0 < row["ap"]["0.5"] < 1


def test_clash_notes_and_refusal_as_read_whole(tmp_path, monkeypatch):
    """An unannotated label among the object IDs (warned of), an intensity image given as
    the prediction (noted), a negative unannotated label (not refused): the same notes and
    scores as the TIFFs; a label no pixel has: the same refusal."""
    truth, pred = _pair(label=5)
    image = np.random.default_rng(0).integers(0, 4000, truth.shape).astype(np.int32)
    negative, _ = _pair(label=-1)
    seen = spy_largest_read(monkeypatch, SIDE)
    for gt, predicted, label in ((truth, pred, 5), (truth, image, 5), (negative, pred, -1)):
        gt_zarr, gt_tif = write_pair_file(tmp_path, "gt", gt, 128)
        pred_zarr, pred_tif = write_pair_file(tmp_path, "pred", predicted, 128)
        notes: list[str] = []
        seen[0] = 0
        pieces = _scores(pred_zarr, gt_zarr, label, notes)
        assert 0 < seen[0] <= SIDE * SIDE
        whole: list[str] = []
        assert pieces == _scores(pred_tif, gt_tif, label, whole)
        assert notes == [n.replace(".tif", ".zarr") for n in whole]
        if label == 5:
            assert "unannotated label 5 is among its object IDs" in notes[-1]
        if predicted is image:
            assert "segment the image" in notes[0]
    gt_zarr, gt_tif = write_pair_file(tmp_path, "gt", truth, 128)
    for gt in (gt_zarr, gt_tif):
        with pytest.raises(EvaluationInputError, match="4321: no ground-truth pixel"):
            score_paths(pred_zarr, gt, ignore_label=4321)
    negative[3, 3] = -2  # (a negative label other than the unannotated one)
    gt_zarr, gt_tif = write_pair_file(tmp_path, "gt", negative, 128)
    errors = []
    for gt in (gt_zarr, gt_tif):
        with pytest.raises(EvaluationInputError) as error:
            score_paths(pred_tif, gt, ignore_label=-1)
        errors.append(str(error.value))
    assert errors[0] == errors[1].replace(".tif", ".zarr") and "(found -2)" in errors[0]


def test_folders_of_zarrs_one_pair_unannotated(tmp_path, monkeypatch, capsys):
    """Folders of two zarr pairs, one marking no pixel unannotated: scored (the label is
    somewhere), in pieces, as the TIFFs; ``tessella evaluate`` itself prints the same table."""
    truth, pred = _pair()
    plain = np.where(truth == UNANNOTATED, 0, truth)
    for kind in ("zarr", "tif"):
        for folder in ("gt", "pred"):
            (tmp_path / f"{folder}_{kind}").mkdir()
    for name, gt in (("a", truth), ("b", plain)):
        for folder, array in (("gt", gt), ("pred", pred)):
            paths = write_pair_file(tmp_path, name, array, 128)
            for kind, path in zip(("zarr", "tif"), paths):
                Path(path).rename(tmp_path / f"{folder}_{kind}" / Path(path).name)
    seen = spy_largest_read(monkeypatch, SIDE)
    pieces = _scores(str(tmp_path / "pred_zarr"), str(tmp_path / "gt_zarr"), UNANNOTATED, [])
    assert 0 < seen[0] <= SIDE * SIDE
    whole = _scores(str(tmp_path / "pred_tif"), str(tmp_path / "gt_tif"), UNANNOTATED, [])
    assert pieces == whole and len(whole["images"]) == 2
    printed = []
    for kind in ("zarr", "tif"):
        args = ["evaluate", str(tmp_path / f"pred_{kind}"), str(tmp_path / f"gt_{kind}")]
        assert main([*args, "--ignore-label", str(UNANNOTATED)]) == 0
        printed.append(capsys.readouterr().out)
    assert printed[0] == printed[1].replace(".tif", ".zarr") and "AP" in printed[0]
