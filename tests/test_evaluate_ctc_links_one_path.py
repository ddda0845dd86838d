"""``tessella evaluate RES NN_GT --ctc`` (:func:`~tessella.engine.tracking.evaluate_ctc`) and
the Evaluate panel (``frame_links``) score a result's links against the Cell Tracking
Challenge ``TRA`` folder in one code path (s35 f2, item 5): ``evaluate_ctc`` stacked every
marker image itself, so a marker image of another shape than the masks failed with NumPy's
"could not broadcast input array from shape ..." naming no file, and the two counts could
drift apart. A result numbered from frame 10 (a part of the sequence) and one with a frame
its input lacked (no mask, no track there) give the links the panel's function gives.

The ground truth: 3 cells over 6 frames of 24 x 24, cell 1 dividing into 3 and 4 at frame
3; the result: its markers as masks (each cell its track), cell 2 lost in frame 4."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import tifffile

from tessella.engine.tracking import evaluate_ctc
from tessella.engine.tracking._evaluate import frame_links

#: man_track.txt: (id, first frame, last frame, parent)
TRACKS = [(1, 0, 2, 0), (2, 0, 5, 0), (3, 3, 5, 1), (4, 3, 5, 1)]
SPOTS = {1: (2, 2), 2: (14, 14), 3: (2, 12), 4: (12, 2)}


def _markers(t: int) -> np.ndarray:
    frame = np.zeros((24, 24), np.uint16)
    for track, first, last, _parent in TRACKS:
        if first <= t <= last:
            y, x = SPOTS[track]
            frame[y : y + 6, x : x + 6] = track
    return frame


def _ground_truth(root: Path) -> Path:
    gt = root / "01_GT"
    for sub in ("TRA", "SEG"):
        (gt / sub).mkdir(parents=True)
    lines = [f"{track} {first} {last} {parent}\n" for track, first, last, parent in TRACKS]
    (gt / "TRA" / "man_track.txt").write_text("".join(lines))
    for t in range(6):
        tifffile.imwrite(gt / "TRA" / f"man_track{t:03d}.tif", _markers(t))
    tifffile.imwrite(gt / "SEG" / "man_seg004.tif", _markers(4))
    return gt


def _result(root: Path, frames, lost_at: int = 4) -> tuple[Path, np.ndarray]:
    res = root / "RES"
    res.mkdir()
    stack = []
    for t in frames:
        mask = _markers(t)
        if t == lost_at:
            mask[mask == 2] = 0
        tifffile.imwrite(res / f"mask{t:03d}.tif", mask)
        stack.append(mask)
    lines = []
    for track, first, last, parent in TRACKS:
        there = [t for t in frames if first <= t <= last]
        if track == 2:  # (lost at lost_at: two tracks of the result, as write_ctc splits it)
            before = [t for t in there if t < lost_at]
            after = [t for t in there if t > lost_at]
            lines += [f"2 {before[0]} {before[-1]} 0\n"] if before else []
            lines += [f"5 {after[0]} {after[-1]} 2\n"] if after else []
            for t, mask in zip(frames, stack):
                if t > lost_at:
                    mask[mask == 2] = 5
                    tifffile.imwrite(res / f"mask{t:03d}.tif", mask)
        elif there:
            lines.append(f"{track} {there[0]} {there[-1]} {parent}\n")
    (res / "res_track.txt").write_text("".join(lines))
    return res, np.stack(stack)


def test_evaluate_ctc_counts_the_links_the_panel_counts(tmp_path):
    gt = _ground_truth(tmp_path)
    res, stack = _result(tmp_path, range(6))
    scores = evaluate_ctc(res, gt)
    panel = frame_links(stack, range(6), {3: 1, 4: 1, 5: 2}, gt / "TRA")
    # links: cell 2 over 0-5 (5), 1 over 0-2 (2), 1 -> 3 and 1 -> 4, 3 and 4 over 3-5 (4)
    assert scores["links"] == panel["links"] == 13
    # cell 2 lost at frame 4: the links 3 -> 4 and 4 -> 5 are not reproduced
    assert scores["reproduced"] == panel["reproduced"] == 11
    assert scores["division_links"] == scores["divisions_reproduced"] == 2
    assert {k: scores[k] for k in panel} == panel


def test_a_part_of_the_sequence_is_scored_at_its_frame_numbers(tmp_path):
    gt = _ground_truth(tmp_path)
    res, stack = _result(tmp_path, range(2, 6))
    scores = evaluate_ctc(res, gt, range(2, 6))
    panel = frame_links(stack, range(2, 6), {3: 1, 4: 1, 5: 2}, gt / "TRA")
    # into frames 3-5 only, 3 each: cell 2 and the two daughters (1 -> 3, 1 -> 4 at 3)
    assert scores["links"] == panel["links"] == 9
    assert scores["reproduced"] == panel["reproduced"] == 7  # (cell 2 lost at 4: 2 links)
    assert {k: scores[k] for k in panel} == panel


def test_a_marker_image_of_another_shape_is_named(tmp_path):
    gt = _ground_truth(tmp_path)
    res, _stack = _result(tmp_path, range(6))
    tifffile.imwrite(gt / "TRA" / "man_track002.tif", _markers(2)[:20])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(ValueError) as refused:
            evaluate_ctc(res, gt)
    assert str(refused.value) == (
        f"{gt / 'TRA' / 'man_track002.tif'}: markers of shape (20, 24), but the frames are (24, 24)"
    )
