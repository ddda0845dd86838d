"""Ground truth taken as a binary mask with an unannotated label (``kind="binary"``,
``ignore_label``; ``tessella evaluate --gt-binary --ignore-label``) of a lazy 2D pair (a
zarr, dask) is scored a piece at a time: a first pass counts the predicted objects lying
mostly on the unannotated pixels (left out, as read whole), then the mask's pieces of the
annotated pixels are found and joined across the pieces' edges, so the scores, counts,
error map, notes and refusals are those of the pair read whole. Before, such a pair was
read whole (``tiled_pair`` took an unannotated label of instance labels only). Real data:
Lucchi++ mitochondria (val slices), its right third and a band unannotated, pieces of 97
pixels."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
import tifffile
from scipy import ndimage

from tessella.engine.evaluation import _tiles, evaluate_labels, mask_pieces, score_paths
from tests.engine._evaluate_pieces_common import Lazy, spy_largest_read, write_pair_file

DATA = Path(os.environ.get("TESSELLA_DATA", "/work/shared/data"))
MITO = DATA / "em_mito_lucchipp" / "val" / "mito.tif"
SIDE = 97
UNANNOTATED = 7

pytestmark = pytest.mark.skipif(not MITO.exists(), reason="no Lucchi++ data")


def _pair() -> tuple[np.ndarray, np.ndarray]:
    """Slice 0 of the mitochondria (0/1) with its right third and a band of rows marked
    unannotated, against the pieces of slice 10 eroded by a pixel."""
    stack = tifffile.imread(MITO)
    truth = stack[0].astype(np.uint8)
    truth[:, 2 * truth.shape[1] // 3 :] = UNANNOTATED
    truth[300:340] = UNANNOTATED
    pred = mask_pieces(ndimage.binary_erosion(stack[10] > 0))[0].astype(np.uint32)
    return truth, pred


def _same(lazy, whole) -> None:
    assert lazy.scores == whole.scores and list(lazy.scores) == list(whole.scores)
    got = (lazy.n_true, lazy.n_pred, lazy.tp, lazy.fp, lazy.fn, lazy.notes)
    assert got == (whole.n_true, whole.n_pred, whole.tp, whole.fp, whole.fn, whole.notes)
    assert np.array_equal(lazy.errors, whole.errors)


def test_lazy_binary_truth_with_an_unannotated_label_as_read_whole(monkeypatch):
    truth, pred = _pair()
    wanted = ("ap", "iou")
    whole = evaluate_labels(truth, pred, kind="binary", ignore_label=UNANNOTATED,
                            metrics_wanted=wanted)  # fmt: skip
    left = evaluate_labels(truth, pred, kind="binary", metrics_wanted=wanted)
    assert whole.n_pred < left.n_pred and 0 < whole.tp < whole.n_true  # (objects left out)
    monkeypatch.setattr(_tiles, "TILE_SIDE", SIDE)
    labels = np.where(truth == 1, ndimage.label(truth == 1)[0] + 10, truth)  # (a label image)
    variants = [truth, np.where(truth == 1, 255, truth), labels]
    assert (
        "distinct object values"
        in evaluate_labels(labels, pred, kind="binary", ignore_label=UNANNOTATED).notes[-1]
    )
    for t, p in ((t, pred) for t in variants):
        seen = [0]
        lazy = evaluate_labels(Lazy(t, seen), Lazy(p, seen), kind="binary",
                               ignore_label=UNANNOTATED, metrics_wanted=wanted)  # fmt: skip
        assert 0 < seen[0] <= SIDE * SIDE  # (before: 768 x 1024, read whole)
        expected = evaluate_labels(t, p, kind="binary", ignore_label=UNANNOTATED,
                                   metrics_wanted=wanted)  # fmt: skip
        _same(lazy, expected)
    # a label no pixel has: refused, as read whole
    with pytest.raises(ValueError, match="no ground-truth pixel has it"):
        evaluate_labels(Lazy(truth, [0]), Lazy(pred, [0]), kind="binary", ignore_label=99)


def test_gt_binary_ignore_label_zarrs_read_in_pieces(tmp_path, monkeypatch):
    """``score_paths(..., gt_binary=True, ignore_label=N)`` (``tessella evaluate --gt-binary
    --ignore-label N``) of two zarrs reads them a piece at a time (before: whole), with the
    scores and notes of the TIFFs."""
    truth, pred = _pair()
    paths = {name: write_pair_file(tmp_path, name, array, 128)
             for name, array in (("gt", truth), ("pred", pred))}  # fmt: skip
    seen = spy_largest_read(monkeypatch, SIDE)
    noted: dict[str, list[str]] = {"zarr": [], "tif": []}
    scores = {}
    for k, how in ((0, "zarr"), (1, "tif")):
        scores[how] = score_paths(paths["pred"][k], paths["gt"][k], ("ap", "iou"),
                                  gt_binary=True, ignore_label=UNANNOTATED, per_image=True,
                                  warn=noted[how].append)  # fmt: skip
        if how == "zarr":
            assert 0 < seen[0] <= SIDE * SIDE  # (before: 768 x 1024, read whole)
    for value in scores.values():
        value["images"][0]["name"] = "gt"
    assert scores["zarr"] == scores["tif"]
    assert [n.replace(".zarr", "") for n in noted["zarr"]] == [
        n.replace(".tif", "") for n in noted["tif"]
    ]
