"""Ground truth of more than 2 axes annotating a few frames (slices) only, scored whole by
``tessella evaluate`` and :func:`tessella.evaluate_paths` without ``--annotated-only``, is
warned about, with the way out (s35 f2, the 3D unannotated case): before, a SIM+ clip whose
ground truth annotates frame 2 of 6 scored AP(0.5) 0.167 and the 3D nuclei fixture
annotated in slice 15 only 0.000, with no word, though the prediction was the full ground
truth (1.000 with ``--annotated-only``)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tifffile

import tessella
from tessella.cli import main
from tests.conftest import DATA

SIM_SEG = DATA / "ctc_Fluo-N2DH-SIM+" / "01_GT" / "SEG"


def _notes(pred, gt, **keywords) -> tuple[dict, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        scores = tessella.evaluate_paths(pred, gt, **keywords)
    said = [str(w.message) for w in caught if "holds objects in" in str(w.message)]
    return scores, said


def test_sparse_frames_and_slices_are_said(tmp_path, capsys):
    truth = np.stack(
        [tifffile.imread(SIM_SEG / f"man_seg{t:03d}.tif")[:200, :200] for t in range(6)]
    )
    sparse = np.zeros_like(truth)
    sparse[2] = truth[2]  # (frame 2 annotated only)
    tessella.write_labels(tmp_path / "gt.tif", sparse, axes="TYX")
    tessella.write_labels(tmp_path / "pred.tif", truth, axes="TYX")
    pred, gt = tmp_path / "pred.tif", tmp_path / "gt.tif"
    scores, said = _notes(pred, gt)
    assert scores["ap"]["0.5"] == pytest.approx(1 / 6)
    assert said == [
        f"{gt}: holds objects in 1 of its 6 frames, and the prediction in 5 of the others: "
        "annotated in those frames only? Each predicted object in the others counts as a false "
        "positive (AP and precision); annotated_only='frames' scores only the frames holding a "
        "ground-truth object"
    ]
    scores, said = _notes(pred, gt, annotated_only="frames")
    assert scores["ap"]["0.5"] == 1.0 and said == []
    assert main(["evaluate", str(pred), str(gt)]) == 0
    assert "; --annotated-only frames scores only the frames holding" in capsys.readouterr().err

    volume = tifffile.imread(DATA / "fixtures" / "mask3d.tif")
    one_slice = np.zeros_like(volume)
    one_slice[15] = volume[15]
    tifffile.imwrite(tmp_path / "gt3d.tif", one_slice)
    tifffile.imwrite(tmp_path / "pred3d.tif", volume)
    scores, said = _notes(tmp_path / "pred3d.tif", tmp_path / "gt3d.tif")
    assert scores["ap"]["0.5"] == 0.0 and len(said) == 1
    assert said[0].startswith(f"{tmp_path / 'gt3d.tif'}: holds objects in 1 of its 31 slices")
    assert said[0].endswith(
        "annotated_only='slices' scores only the slices holding a ground-truth object"
    )
    scores, said = _notes(tmp_path / "pred3d.tif", tmp_path / "gt3d.tif", annotated_only="slices")
    assert scores["ap"]["0.5"] == 1.0 and said == []
    # fully annotated: no word (objects in every frame, or in a volume's every slice)
    tessella.write_labels(tmp_path / "full.tif", truth, axes="TYX")
    assert _notes(pred, tmp_path / "full.tif")[1] == []
    assert _notes(tmp_path / "pred3d.tif", tmp_path / "pred3d.tif")[1] == []
