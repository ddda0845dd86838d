"""V_rand and VOI of a lazy 2D pair (a zarr, dask: the Evaluate panel's scores of a membrane
map, ``tessella evaluate --gt-boundaries --metric vrand``) are scored a piece at a time,
from the overlap table merged over the pieces (their sums are over the pairs of objects
that share pixels), with the numbers of the pair read whole. Before, asking for them read
the pair whole. Real data: ISBI 2012 slice 0 (pieces of 61 pixels) and the DSB2018 nuclei
fixture (instance labels, pieces of 97)."""

from __future__ import annotations

import os
from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import tifffile
from scipy import ndimage

from tessella.engine import metrics
from tessella.engine.evaluation import _tiles, evaluate_labels, score_paths
from tessella.engine.progress import run_steps
from tests.engine._evaluate_pieces_common import Lazy, spy_largest_read, write_pair_file

DATA = Path(os.environ.get("TESSELLA_DATA", "/work/shared/data"))
MAP = DATA / "em_membranes_isbi2012" / "boundaries" / "00.tif"
MASK = DATA / "fixtures" / "mask2d.tif"
WANTED = ("ap", "iou", "vrand")

pytestmark = pytest.mark.skipif(
    not (MAP.exists() and MASK.exists()), reason="no ISBI 2012 or fixtures data"
)


def _map_pair() -> tuple[np.ndarray, np.ndarray]:
    """The membrane map of slice 0 and its cells with the membrane thickened by a pixel
    (cells lost or split: V_rand below 1)."""
    truth = tifffile.imread(MAP)
    thick = ndimage.binary_dilation(truth > 0)
    return truth, ndimage.label(~thick)[0].astype(np.uint32)


def _labels_pair() -> tuple[np.ndarray, np.ndarray]:
    """The nuclei against the nuclei shifted by 2 pixels, pairs of them merged."""
    nuclei = tifffile.imread(MASK)
    pred = np.roll(nuclei, 2, axis=1).astype(np.uint32)
    return nuclei, np.where(pred % 5 == 1, pred + 1, pred)


@pytest.mark.parametrize("kind, side", [("boundaries", 61), ("labels", 97)])
def test_lazy_vrand_and_voi_as_read_whole(kind, side, monkeypatch):
    truth, pred = _map_pair() if kind == "boundaries" else _labels_pair()
    whole = evaluate_labels(truth, pred, kind=kind, metrics_wanted=WANTED)
    assert 0.3 < whole.scores["vrand"] < 1 and whole.scores["voi"] > 0
    steps = _tiles.tiled_steps(da.from_array(truth, chunks=side), pred, metrics_wanted=WANTED,
                               side=side, kind=kind)  # fmt: skip
    tiled = run_steps(steps)
    assert tiled.scores == whole.scores and list(tiled.scores) == list(whole.scores)
    assert np.array_equal(tiled.errors, whole.errors) and tiled.notes == whole.notes
    # the panel's way in (lazy layers): never read whole, the same scores
    monkeypatch.setattr(_tiles, "TILE_SIDE", side)
    seen = [0]
    lazy = evaluate_labels(Lazy(truth, seen), Lazy(pred, seen), kind=kind,
                           metrics_wanted=WANTED)  # fmt: skip
    assert 0 < seen[0] <= side * side  # (before: 512 x 512, each read whole)
    assert lazy.scores == whole.scores


def test_table_rand_voi_equals_rand_voi():
    """An empty ground truth (NaN), a prediction of background only, one object split."""
    from tessella.engine._metrics_overlap import _contingency
    from tessella.engine.evaluation._scores import PairTable

    truth, pred = _labels_pair()
    for t, p in ((truth, pred), (truth * 0, pred), (truth, pred * 0), (truth > 0, pred)):
        t = np.asarray(t, np.uint16)
        got, want = PairTable(*_contingency(t, p)).rand_voi(), metrics.rand_voi(t, p)
        assert got.keys() == want.keys()
        assert all(got[k] == want[k] or (np.isnan(got[k]) and np.isnan(want[k])) for k in got)


def test_gt_boundaries_vrand_zarr_pair_read_in_pieces(tmp_path, monkeypatch):
    """``score_paths(..., ("vrand",), gt_boundaries=True)`` (``tessella evaluate
    --gt-boundaries --metric vrand``) of two zarrs reads a piece at a time (it read both
    whole) with the scores of the TIFFs, per image too."""
    truth, pred = _map_pair()
    paths = {name: write_pair_file(tmp_path, name, array, 128)
             for name, array in (("gt", truth), ("pred", pred))}  # fmt: skip
    seen = spy_largest_read(monkeypatch, 61)
    for wanted in (("vrand",), WANTED):
        seen[0] = 0
        pieces = score_paths(paths["pred"][0], paths["gt"][0], wanted, gt_boundaries=True,
                             per_image=True)  # fmt: skip
        assert 0 < seen[0] <= 61 * 61  # (before: 512 x 512, each read whole)
        whole = score_paths(paths["pred"][1], paths["gt"][1], wanted, gt_boundaries=True,
                            per_image=True)  # fmt: skip
        for scores in (pieces, whole):
            scores["images"][0]["name"] = "gt"
        assert pieces == whole and 0.3 < whole["vrand"] < 1
