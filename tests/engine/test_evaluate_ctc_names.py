"""File names of a CTC result and ground truth for ``evaluate_ctc``: ``.TIF``/``.tiff`` masks,
SEG and TRA files are scored, files of other names are named as left out, and two files of one
frame are refused instead of both being scored."""

from __future__ import annotations

import shutil
import warnings

import pytest

from tessella.engine import tracking
from tests.conftest import cell_movie, write_ctc_sequence


def _result_and_truth(root):
    image, labels, tracks = cell_movie(frames=4, shape=(96, 128))
    write_ctc_sequence(root, image, labels, tracks, seg_frames={1, 2})
    tracking.write_ctc(*tracking.link(labels), root / "01_RES")
    return root / "01_RES", root / "01_GT"


def _evaluate(res, gt):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = tracking.evaluate_ctc(res, gt)
    return scores, [str(w.message) for w in caught]


def test_tif_and_tiff_in_any_case_are_scored(tmp_path):
    """SEG as man_segTTT.tiff / .TIF, TRA markers and result masks as .TIF: before, the SEG
    frames were not scored (seg_frames 0, no word why) and the masks not found ('no
    maskTTT.tif files')."""
    res, gt = _result_and_truth(tmp_path)
    (gt / "SEG" / "man_seg001.tif").rename(gt / "SEG" / "man_seg001.tiff")
    (gt / "SEG" / "man_seg002.tif").rename(gt / "SEG" / "man_seg002.TIF")
    for t in range(4):
        (res / f"mask{t:03d}.tif").rename(res / f"mask{t:03d}.TIF")
        (gt / "TRA" / f"man_track{t:03d}.tif").rename(gt / "TRA" / f"man_track{t:03d}.Tiff")
    scores, said = _evaluate(res, gt)
    assert said == []
    assert scores["seg_frames"] == 2 and scores["seg"] == 1.0
    assert scores["links"] > 0 and scores["link_accuracy"] == 1.0


def test_files_of_other_names_are_named_as_left_out(tmp_path):
    """man_seg_old.tif or 'mask000 copy.tif' were skipped without a word."""
    res, gt = _result_and_truth(tmp_path)
    shutil.copy(gt / "SEG" / "man_seg001.tif", gt / "SEG" / "man_seg_old.tif")
    shutil.copy(res / "mask000.tif", res / "mask000 copy.tif")
    (gt / "TRA" / ".DS_Store").write_text("")  # hidden: not named
    scores, said = _evaluate(res, gt)
    assert scores["seg_frames"] == 2 and scores["seg"] == 1.0
    assert said == [
        f"{tmp_path}: left out 01_RES/mask000 copy.tif (not maskTTT.tif)",
        f"{gt}: left out SEG/man_seg_old.tif (not man_segTTT.tif)",
    ]


def test_two_files_of_one_frame_are_refused(tmp_path):
    """man_seg1.tif beside man_seg001.tif was scored twice (seg_frames 3 of 2 frames)."""
    res, gt = _result_and_truth(tmp_path)
    shutil.copy(gt / "SEG" / "man_seg001.tif", gt / "SEG" / "man_seg1.tif")
    with pytest.raises(ValueError, match=r"SEG: man_seg001\.tif and man_seg1\.tif are both frame"):
        tracking.evaluate_ctc(res, gt)
