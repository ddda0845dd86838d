"""An overwritten CTC result folder holds the new result only (review 1, B2): since masks are
numbered as the input's frames (eda3e69), ``segment --ctc RES --overwrite`` of frames 52-54
into a folder holding an earlier run's mask000-mask002 left both sets beside one
``res_track.txt`` of the new run, and ``evaluate --ctc`` then failed on 'mask003.tif is
missing'; a shorter second run from the same frame left the first run's last masks, which
``evaluate --ctc`` scored without a word. ``write_ctc`` with overwrite now removes the masks
the new result does not have, once its files are in place (a failure keeps the earlier
result), and refuses without overwrite a folder holding masks of any numbers; a folder of
two results is named so by ``evaluate --ctc``."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine.io import read_image
from tessella.engine.tracking import read_ctc_tracks, write_ctc
from tessella.engine.tracking._evaluate import evaluate_ctc
from tests.conftest import DATA

SIM = DATA / "ctc_Fluo-N2DH-SIM+"


def _masks(folder) -> list[str]:
    return sorted(p.name for p in folder.glob("mask*.tif"))


def _track_frames(folder) -> tuple[int, int]:
    tracks = read_ctc_tracks(folder / "res_track.txt")
    assert tracks
    return min(k.start for k in tracks), max(k.end for k in tracks)


@pytest.fixture(scope="module")
def sim_frames(tmp_path_factory):
    """SIM+ 01's frames 0-2 and 52-55 (a 192x192 crop holding nuclei) as folders of
    ``tNNN.tif``: ``f0`` (0-2), ``f52`` (52-55) and ``f52s`` (52-53)."""
    if not (SIM / "01" / "t052.tif").is_file():
        pytest.fail(f"the SIM+ sequence is not at {SIM} (set TESSELLA_DATA)")
    root = tmp_path_factory.mktemp("ctc_over")
    for name, numbers in (("f0", range(3)), ("f52", range(52, 56)), ("f52s", range(52, 54))):
        (root / name).mkdir()
        for t in numbers:
            frame = read_image(SIM / "01" / f"t{t:03d}.tif").data[120:312, 120:312]
            tifffile.imwrite(root / name / f"t{t:03d}.tif", np.asarray(frame))
    return root


def _segment(root, frames: str, res, *extra) -> int:
    out = root / f"{frames}.tif"
    args = ["segment", str(root / frames), "-o", str(out), "--model", "cells2dt"]
    return main([*args, "--ctc", str(res), "-q", *extra])


def test_segment_ctc_overwrite_replaces_the_earlier_result_whole(sim_frames):
    """cells2dt on frames 0-2 into RES, then 52-55 with --overwrite: RES holds mask052-055
    (each the labels' frame) and their res_track.txt, no mask000-002; then 52-53 with
    --overwrite: mask052-053 only (not the first run's mask054-055)."""
    root = sim_frames
    res = root / "RES"
    assert _segment(root, "f0", res) == 0
    assert _masks(res) == ["mask000.tif", "mask001.tif", "mask002.tif"]

    assert _segment(root, "f52", res, "--overwrite") == 0
    assert _masks(res) == [f"mask{t:03d}.tif" for t in range(52, 56)]
    assert sorted(p.name for p in res.iterdir()) == [*_masks(res), "res_track.txt"]
    labels = tifffile.imread(root / "f52.tif")
    for t in range(52, 56):
        np.testing.assert_array_equal(tifffile.imread(res / f"mask{t:03d}.tif"), labels[t - 52])
    assert _track_frames(res) == (52, 55)

    assert _segment(root, "f52s", res, "--overwrite") == 0  # fewer frames, the same start
    assert _masks(res) == ["mask052.tif", "mask053.tif"]
    labels = tifffile.imread(root / "f52s.tif")
    np.testing.assert_array_equal(tifffile.imread(res / "mask053.tif"), labels[1])
    assert _track_frames(res) == (52, 53)


def _movie() -> np.ndarray:
    """Four frames of SIM+ 01's tracking ground truth (a crop): real tracked markers."""
    return np.stack(
        [
            tifffile.imread(SIM / "01_GT" / "TRA" / f"man_track{t:03d}.tif")[120:312, 120:312]
            for t in range(52, 56)
        ]
    ).astype(np.uint16)


def test_write_ctc_overwrite_removes_other_masks_and_a_failure_keeps_the_result(tmp_path):
    movie = _movie()
    assert len(np.unique(movie)) > 3
    res = tmp_path / "RES"
    write_ctc(movie, None, res)
    (res / "notes.txt").write_text("mine")  # not a CTC file: kept
    # without overwrite, a folder holding another result's masks is refused, any numbers
    with pytest.raises(FileExistsError, match="already holds mask000.tif"):
        write_ctc(movie[:3], None, res, first_frame=52)
    assert _masks(res) == [f"mask00{t}.tif" for t in range(4)]

    # a failure (a track ID over uint16) leaves the earlier result as it was
    bad = movie[:3].astype(np.int32)
    bad[2, 0, 0] = 70_000
    before = {name: (res / name).read_bytes() for name in [*_masks(res), "res_track.txt"]}
    with pytest.raises(ValueError, match="uint16"):
        write_ctc(bad, None, res, overwrite=True, first_frame=52)
    assert {name: (res / name).read_bytes() for name in before} == before
    assert _masks(res) == sorted(before)[:4]

    write_ctc(movie[:3], None, res, overwrite=True, first_frame=52)
    assert _masks(res) == ["mask052.tif", "mask053.tif", "mask054.tif"]
    assert sorted(p.name for p in res.iterdir()) == [*_masks(res), "notes.txt", "res_track.txt"]
    assert _track_frames(res) == (52, 54)
    write_ctc(movie[:2], None, res, overwrite=True, first_frame=52)  # shorter, same start
    assert _masks(res) == ["mask052.tif", "mask053.tif"]


def test_evaluate_ctc_names_two_results_in_one_folder(tmp_path):
    """mask000-002 and mask052-054 in one folder (as the old overwrite left them): the
    error names both runs (it said only 'mask003.tif is missing'); a four-digit result
    missing mask0999 names it so (it said mask999.tif)."""
    movie = _movie()
    one, two = tmp_path / "one", tmp_path / "two"
    write_ctc(movie[:3], None, one)
    write_ctc(movie[:3], None, two, first_frame=52)
    for name in _masks(one):
        shutil.copy(one / name, two / name)
    with pytest.raises(ValueError) as raised:
        evaluate_ctc(two, SIM / "01_GT")
    message = str(raised.value)
    assert message.startswith(f"{two}: mask003.tif is missing: "), message
    assert "mask000-002 and mask052-054" in message and "two results in one folder" in message

    wide = tmp_path / "wide"
    write_ctc(movie[:3], None, wide, first_frame=998)  # mask0998, mask0999, mask1000
    (wide / "mask0999.tif").unlink()
    with pytest.raises(ValueError) as raised:
        evaluate_ctc(wide, SIM / "01_GT")
    message = str(raised.value)
    assert message.startswith(f"{wide}: mask0999.tif is missing: "), message
    assert message.endswith("its masks are mask0998 and mask1000")
    assert "two results" not in message  # one mask missing: no second result
