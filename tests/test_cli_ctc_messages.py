"""What `segment --ctc` says (user test s31/t7, findings 3 and 6): a plain 3D stack refused by
--ctc gets the hint to give --axes TYX, as it gets without --ctc; the line written for the
movie names the CTC folder and its tracks (more than the labels' where a track is split at a
gap); the bar counts frames where its steps are frames (it said "s/tile")."""

from __future__ import annotations

import pytest
import tifffile

from tessella.cli import main
from tests.conftest import cell_movie


def test_ctc_on_a_plain_stack_hints_axes_tyx(tmp_path, tiny_temporal_dir, capsys):
    image, _labels, _tracks = cell_movie(frames=4)
    stack = tmp_path / "stack_plain.tif"
    tifffile.imwrite(stack, image, photometric="minisblack")  # no axes metadata: ZYX
    args = ["segment", str(stack), "-o", str(tmp_path / "sp.tif")]
    code = main([*args, "--model", str(tiny_temporal_dir), "--ctc", str(tmp_path / "sp_RES")])
    assert code == 1
    err = capsys.readouterr().err
    assert "--ctc needs a time-lapse (axes with T), got ZYX" in err
    assert err.rstrip().endswith("if its first axis is time, give --axes TYX"), err
    assert not (tmp_path / "sp.tif").exists() and not (tmp_path / "sp_RES").exists()
    # a single 2D image: no such hint (it is no movie whatever its axes)
    frame = tmp_path / "frame.tif"
    tifffile.imwrite(frame, image[0])
    args = ["segment", str(frame), "-o", str(tmp_path / "f.tif")]
    assert main([*args, "--model", str(tiny_temporal_dir), "--ctc", str(tmp_path / "f")]) == 1
    err = capsys.readouterr().err
    assert "got YX" in err and "--axes" not in err, err


@pytest.fixture(scope="module")
def gap_run(tmp_path_factory, tiny_temporal_dir):
    """segment --ctc of frames t000, t001, t003 (t002 missing): (folder, labels, CTC folder,
    what was printed, what went to stderr)."""
    import contextlib
    import io

    tmp_path = tmp_path_factory.mktemp("gap")
    image, _labels, _tracks = cell_movie(frames=4)
    frames = tmp_path / "movie"
    frames.mkdir()
    for t in (0, 1, 3):  # frame 2 missing: the one track is split in the CTC folder
        tifffile.imwrite(frames / f"t{t:03d}.tif", image[t])
    out, res = tmp_path / "labels.tif", tmp_path / "movie_RES"
    args = ["segment", str(frames), "-o", str(out), "--model", str(tiny_temporal_dir)]
    # threshold 0: the tiny model's maps are noise, so one cell per frame, linked
    sets = ["--set", "threshold=0", "--set", "split=false"]
    printed, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(printed), contextlib.redirect_stderr(err):
        assert main([*args, *sets, "--ctc", str(res)]) == 0
    return frames, out, res, printed.getvalue(), err.getvalue()


def test_ctc_run_names_its_folder_and_tracks(gap_run):
    frames, out, res, printed, _err = gap_run
    said = printed.strip().splitlines()[-1]
    assert said == (
        f"{frames} -> {out}: 1 track; CTC in {res}: 2 tracks (1 track split where it skips frames)"
    ), said


def test_the_bar_counts_frames(gap_run):
    err = gap_run[4]
    assert "3/3" in err and "frame" in err and "tile" not in err, err
