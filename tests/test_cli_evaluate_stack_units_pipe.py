"""``tessella evaluate`` findings of session 35's user tests:

- t21 #2: Tessella's own mask stack (``segment --stack``, ImageJ axes TYX and the
  MASK_STACK_INFO tag) given without ``--overlapping`` was scored as a movie, frame by frame
  (avS 0.067 on BBBC010, exit 0). It is now scored as ``--overlapping``, said in a warning;
  where the options ask for another scoring it is refused in one line naming
  ``--overlapping``.
- t20 #2: VOI is in nats (skimage's is in bits): the printout says so, ``--json`` records
  ``"voi_unit": "nats"``.
- t20 #5: ``--json F | head`` lost the JSON: it was written after the printout, which the
  closed pipe ends. It is written first.
- t19 #5: the division count is of parent-daughter links: "division links: N of M".
"""

from __future__ import annotations

import io
import json
import sys

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine.io import MASK_STACK_INFO, write_mask_stack
from tests.conftest import DATA

WORMS = DATA / "worms_bbbc010" / "worm_masks" / "A01.tif"


@pytest.fixture
def worm_stacks(tmp_path):
    """A01's ground-truth worms (a plain 0/1 stack, as BBBC010 gives them) and a prediction
    written as ``segment --stack`` writes one: the worms but one, in another order."""
    if not WORMS.is_file():
        pytest.skip(f"no {WORMS}")
    truth = tifffile.imread(WORMS).astype(bool)
    predicted = truth[::-1][1:]  # (the last worm missed; the others in reverse order)
    write_mask_stack(tmp_path / "pred.tif", predicted)
    with tifffile.TiffFile(tmp_path / "pred.tif") as tif:
        assert tif.imagej_metadata["Info"] == MASK_STACK_INFO
    return tmp_path / "pred.tif", WORMS, len(truth)


def test_a_mask_stack_is_scored_as_overlapping(worm_stacks, tmp_path, capsys):
    pred, gt, count = worm_stacks
    assert main(["evaluate", str(pred), str(gt), "--json", str(tmp_path / "a.json")]) == 0
    captured = capsys.readouterr()
    assert "pred.tif: a mask stack" in captured.err and "scored as --overlapping" in captured.err
    assert "(overlapping objects)" in captured.out
    args = ["evaluate", str(pred), str(gt), "--overlapping", "--json", str(tmp_path / "b.json")]
    assert main(args) == 0
    scores = json.loads((tmp_path / "a.json").read_text())
    assert scores == json.loads((tmp_path / "b.json").read_text())
    # every predicted worm is a ground-truth worm: precision 1, recall (count - 1) / count
    assert scores["precision"]["0.9"] == 1.0
    assert scores["recall"]["0.9"] == pytest.approx((count - 1) / count)


def test_a_mask_stack_scored_otherwise_is_refused(worm_stacks, capsys):
    pred, gt, _count = worm_stacks
    assert main(["evaluate", str(pred), str(gt), "--metric", "seg"]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert "pred.tif: is a mask stack" in err and "--overlapping" in err


def _membrane_pair(tmp_path):
    """ISBI-like: a label image and the membrane map between its cells (0 inside, 1 on
    the borders), from the real nuclei fixture's labels, half of them split."""
    truth = tifffile.imread(DATA / "fixtures" / "mask2d.tif")
    from skimage.segmentation import find_boundaries, watershed

    cells = watershed(np.zeros(truth.shape), truth)  # the labels grown to tile the image
    membrane = find_boundaries(cells).astype(np.uint8)
    pred = cells.copy()
    pred[:, : pred.shape[1] // 2] += 1000  # objects cut at the middle
    tifffile.imwrite(tmp_path / "gt.tif", membrane)
    tifffile.imwrite(tmp_path / "pred.tif", pred.astype(np.uint32))
    return tmp_path / "pred.tif", tmp_path / "gt.tif"


def test_voi_is_said_in_nats(tmp_path, capsys):
    from skimage.metrics import variation_of_information

    pred, gt = _membrane_pair(tmp_path)
    out = tmp_path / "scores.json"
    args = ["evaluate", str(pred), str(gt), "--gt-boundaries", "--metric", "vrand"]
    assert main([*args, "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    scores = json.loads(out.read_text())
    assert scores["voi_unit"] == "nats"
    assert f"voi (nats): {scores['voi']:.4f}" in printed
    assert f"voi_split (nats): {scores['voi_split']:.4f}" in printed
    # nats, not skimage's bits: its VOI, on the cells scored (inside the membranes), / ln 2
    cells = tifffile.imread(gt) == 0
    from skimage.measure import label

    bits = variation_of_information(label(cells)[cells], tifffile.imread(pred)[cells])
    assert sum(bits) == pytest.approx(scores["voi"] / np.log(2), rel=1e-6)


class _ClosedPipe(io.StringIO):
    """stdout of ``| head`` once head has read its lines: every write fails."""

    def write(self, text):
        raise BrokenPipeError(32, "Broken pipe")


def test_json_is_written_before_the_printout(tmp_path, monkeypatch):
    pred, gt = _membrane_pair(tmp_path)
    out = tmp_path / "scores.json"
    monkeypatch.setattr(sys, "stdout", _ClosedPipe())
    args = ["evaluate", str(pred), str(gt), "--gt-boundaries", "--metric", "vrand"]
    main([*args, "--json", str(out)])  # (its exit code: the pipe's, 141 on a real one)
    assert json.loads(out.read_text())["vrand"] > 0


def test_division_links_are_said_so(capsys):
    sim = DATA / "ctc_Fluo-N2DH-SIM+"
    if not sim.is_dir():
        pytest.skip(f"no {sim}")
    from tessella._widgets._evaluate_links import links_said

    said = links_said(
        {"links": 10, "reproduced": 9, "link_accuracy": 0.9, "division_links": 4}
        | {"divisions_reproduced": 2, "links_against": str(sim / "01_GT" / "TRA")}
    )
    assert "division links: 2 of 4" in said and "divisions:" not in said
