"""`tessella evaluate --metric voi` gives V_rand and VOI, as `--metric vrand` does: VOI is
computed with V_rand, but the command line refused 'voi' (the data README names "V_rand and
VOI" as the EM metrics, and the Python API takes 'voi' too)."""

from __future__ import annotations

import json

import tifffile

from tessella.cli import main
from tests.conftest import DATA


def test_metric_voi_scores_as_vrand(tmp_path, capsys):
    truth = tifffile.imread(DATA / "fixtures" / "mask2d.tif")
    pred = truth.copy()
    pred[:, : pred.shape[1] // 2][pred[:, : pred.shape[1] // 2] > 0] += 1000  # split objects
    tifffile.imwrite(tmp_path / "gt.tif", truth)
    tifffile.imwrite(tmp_path / "pred.tif", pred)
    scores = {}
    for metric in ("vrand", "voi"):
        out = tmp_path / f"{metric}.json"
        args = ["evaluate", str(tmp_path / "pred.tif"), str(tmp_path / "gt.tif")]
        assert main([*args, "--metric", metric, "--json", str(out), "-q"]) == 0, capsys.readouterr()
        scores[metric] = json.loads(out.read_text())
    assert "voi" in scores["voi"] and "vrand" in scores["voi"]
    assert scores["voi"]["vrand"] == scores["vrand"]["vrand"]
    assert scores["voi"]["voi"] == scores["vrand"]["voi"]
    assert 0 < scores["voi"]["vrand"] < 1  # the split objects cost something
