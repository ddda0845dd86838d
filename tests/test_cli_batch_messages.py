"""What a core-facility engineer's batch test (session 28) found said wrongly, or not at all, on
real data: the axes-contradiction warning named the orders backwards, ``-q`` hid why images
were redone, ``convert`` into an unwritable folder blamed the input, a cut TIFF was an
IndexError, and edge cases of ``segment`` were refused with the wrong reason or not at all."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import warnings

import numpy as np
import pytest
import tifffile
import zarr

from tessella.cli import main
from tessella.engine.io import AxesContradictionWarning, read_image
from tests.conftest import DATA

DSB = DATA / "nuclei2d_dsb2018" / "val" / "images"
#: a DSB2018 image of 260 x 347 pixels (not square: a transposition shows in its shape)
RECT = DSB / "0402a81e75262469925ea893b6706183832e85324f7b1e08e634129f5d522cdd.tif"
SQUARE = sorted(p for p in DSB.glob("*.tif") if tifffile.imread(p).shape == (256, 256))[:2]
#: a real CTC frame (LZW), whose image directory is at its end (byte 398100 of 399298)
CTC_FRAME = DATA / "ctc_Fluo-N2DH-SIM+" / "01" / "t000.tif"


def _segment(*args) -> int:
    return main(["segment", *map(str, args), "--model", "nuclei2d", "--no-tta", "--device", "cpu"])


def test_axes_given_against_a_tiff_s_pages_are_said_in_the_order_given(tmp_path, capsys):
    """--axes XY for a plain 2D TIFF (which its pages say is YX) was said "read as YX as the
    axes given say, not as XY from its TIFF pages": backwards. The labels come out transposed
    (347, 260) for the (260, 347) input without a word; now both are said."""
    said = (
        f"{RECT}: read as XY (as given), not as YX from its TIFF pages; its labels are "
        "written in the model's order, YX: shape (347, 260), not its (260, 347)"
    )
    with pytest.warns(AxesContradictionWarning) as caught:
        image = read_image(RECT, "XY")
    assert [str(w.message) for w in caught] == [said]
    assert image.axes == "YX" and image.data.shape == (347, 260)
    out = tmp_path / "r.tif"
    assert _segment(RECT, "-o", out, "--axes", "XY", "-q") == 0
    assert f"warning: {said}" in capsys.readouterr().err.splitlines()
    assert tifffile.imread(out).shape == (347, 260)


@pytest.mark.parametrize(
    ("axes", "written"),
    [("XYZ", "ZYX: shape (300, 200, 3)"), ("ZXY", "ZYX: shape (3, 300, 200)")],
)
def test_a_stack_read_in_another_order_says_the_file_s_order(tmp_path, axes, written):
    """Three DSB planes written by a plain imwrite (its pages say ?YX): the warning said "not
    as XY?" and "not as X?Y", the file's order garbled by the transpose into the read one."""
    planes = tifffile.imread(SQUARE[0])[:200, :]
    planes = np.stack([np.pad(planes, ((0, 0), (0, 44)))] * 3)  # (3, 200, 300)
    path = tmp_path / "stack.tif"
    tifffile.imwrite(path, planes, photometric="minisblack")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        read_image(path, axes)
    assert [str(w.message) for w in caught] == [
        f"{path}: read as {axes} (as given), not as ?YX from its TIFF pages (?: not named); "
        f"its labels are written in the model's order, {written}, not its (3, 200, 300)"
    ]


def test_quiet_still_says_which_images_are_redone_and_why(tmp_path, capsys):
    """-q is "errors and warnings still print", but --skip-existing -q replaced the labels of
    an input that changed without a word; now the redone line prints (not the skipped one)."""
    folder = tmp_path / "in"
    folder.mkdir()
    for source in SQUARE:
        shutil.copy(source, folder / source.name)
    out = tmp_path / "out"
    assert _segment(folder, "-o", out, "-q") == 0
    changed = folder / SQUARE[0].name
    tifffile.imwrite(changed, tifffile.imread(changed)[::-1])  # flipped: other content
    capsys.readouterr()
    assert _segment(folder, "-o", out, "--skip-existing", "-q") == 0
    err = capsys.readouterr().err.splitlines()
    redone = [line for line in err if line.startswith("redoing")]
    assert len(redone) == 1 and redone[0].startswith(f"redoing {changed.name}: input ")
    assert "changed since" in redone[0]
    assert not [line for line in err if "skipped" in line]
    labels = tifffile.imread(out / changed.name)
    assert labels.max() > 0 and labels.shape == (256, 256)


def _cli(*args, drop_override: bool) -> subprocess.CompletedProcess:
    """``tessella`` in a process of its own; ``drop_override``: without the capability that
    lets root write into any folder (so that a read-only folder bites as it does for a user)."""
    command = [sys.executable, "-m", "tessella.cli", *map(str, args)]
    if drop_override:
        caps = "-dac_override,-dac_read_search"
        command = ["setpriv", "--bounding-set", caps, "--inh-caps", caps, *command]
    env = dict(os.environ, OMP_NUM_THREADS="1")
    return subprocess.run(command, capture_output=True, text=True, env=env, timeout=300)


def test_convert_into_a_folder_that_cannot_be_written_names_the_output(tmp_path):
    """It said "bw/img.tif: [Errno 13] Permission denied: 'ro/.c.zarr.convert-vm-16305-
    97debd.lock'": the input blamed, the hidden lock file named. Now the output is named, once,
    before anything is read; a folder to be made inside it too, and one inside a file."""
    source = tmp_path / "img.tif"
    shutil.copy(RECT, source)
    read_only = tmp_path / "ro"
    read_only.mkdir()
    read_only.chmod(stat.S_IRUSR | stat.S_IXUSR | stat.S_IRGRP | stat.S_IXGRP)
    root = os.geteuid() == 0
    # root writes anywhere unless the capability is dropped (setpriv); a user is refused anyway
    assert not root or shutil.which("setpriv"), "root needs setpriv to make a folder read-only"
    try:
        for out in (read_only / "c.zarr", read_only / "sub" / "c.zarr"):
            done = _cli("convert", source, out, drop_override=root)
            assert (done.returncode, done.stderr.strip()) == (
                1,
                f"tessella convert: error: {out}: cannot write there (Permission denied)",
            )
        assert sorted(read_only.iterdir()) == []
    finally:
        read_only.chmod(stat.S_IRWXU)
    (tmp_path / "notes.txt").write_text("a file")
    out = tmp_path / "notes.txt" / "c.zarr"
    done = _cli("convert", source, out, drop_override=False)
    assert (done.returncode, done.stderr.strip()) == (
        1,
        f"tessella convert: error: {out}: {tmp_path / 'notes.txt'} is a file, not a folder; "
        "cannot write there",
    )


def test_a_tiff_cut_before_its_image_directory_is_said_so(tmp_path, capsys):
    """A CTC frame cut to 200 kB (its image directory, at the end, gone) was "cannot read as
    TIFF (IndexError: list index out of range)", after a line of tifffile's log."""
    cut = tmp_path / "t000.tif"
    cut.write_bytes(CTC_FRAME.read_bytes()[:200_000])
    said = f"{cut}: truncated or not a complete TIFF (no image directory)"
    with pytest.raises(ValueError) as caught:
        read_image(cut)
    assert str(caught.value) == said
    assert _segment(cut, "-o", tmp_path / "l.tif") == 1
    assert capsys.readouterr().err.strip() == f"tessella segment: error: {said}"
    assert main(["convert", str(cut), str(tmp_path / "c.zarr"), "-q"]) == 1
    assert capsys.readouterr().err.strip() == f"tessella convert: error: {said}"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["t000.tif"]


@pytest.fixture
def frames_and_ctc(tmp_path):
    """Two real CTC frames in a folder, and a --ctc folder holding a mask000.tif."""
    frames = tmp_path / "01"
    frames.mkdir()
    for t in range(2):
        shutil.copy(CTC_FRAME.with_name(f"t00{t}.tif"), frames / f"t00{t}.tif")
    ctc = tmp_path / "01_RES"
    ctc.mkdir()
    (ctc / "mask000.tif").write_bytes(b"")
    return ["segment", str(frames), "-o", str(tmp_path / "m.tif"), "--ctc", str(ctc)], ctc


def test_ctc_with_skip_existing_says_why(frames_and_ctc, capsys):
    """It said only "01_RES/mask000.tif exists; pass --overwrite to replace it", not that the
    CTC files cannot be told complete (the README's reason)."""
    movie, ctc = frames_and_ctc
    assert main([*movie, "--model", "cells2dt", "--skip-existing"]) == 1
    assert capsys.readouterr().err.strip() == (
        "tessella segment: error: --skip-existing cannot tell whether the files --ctc wrote "
        "are complete; run without it (--overwrite replaces the labels and the CTC files)"
    )
    assert [p.name for p in ctc.iterdir()] == ["mask000.tif"]


def test_ctc_with_a_frame_by_frame_model_says_it_writes_no_tracks(frames_and_ctc, capsys):
    """nuclei2d with --ctc on a folder of frames said "several inputs need an output folder,
    not a file"; the real problem is that it writes no tracks."""
    movie, ctc = frames_and_ctc
    assert main([*movie, "--model", "nuclei2d"]) == 1
    assert capsys.readouterr().err.strip() == (
        "tessella segment: error: --ctc needs a time-lapse model (it writes tracks); nuclei2d "
        "segments frame by frame and writes no tracks (without --ctc each object of the movie "
        "gets its own ID)"
    )
    assert [p.name for p in ctc.iterdir()] == ["mask000.tif"]


def test_empty_axes_are_refused(tmp_path, capsys):
    """--axes '' was taken as no axes, without a word."""
    assert _segment(RECT, "-o", tmp_path / "e.tif", "--axes", "") == 1
    assert capsys.readouterr().err.strip() == (
        "tessella segment: error: --axes is empty; give the input's axes in the order the file "
        "stores them (e.g. --axes YX), or leave --axes out to read the axes its metadata name"
    )
    assert not (tmp_path / "e.tif").exists()


def test_a_folder_as_one_image_s_output_names_a_file_it_could_be(tmp_path, capsys):
    """-o exdir/ for one image said "the output of one image must be a .tif/.tiff file"."""
    folder = tmp_path / "exdir"
    folder.mkdir()
    assert _segment(RECT, "-o", f"{folder}/") == 1
    assert capsys.readouterr().err.strip() == (
        f"tessella segment: error: {folder} is a folder; give a file name, e.g. "
        f"{folder / RECT.name}"
    )
    assert sorted(folder.iterdir()) == []


def test_quiet_still_says_a_blockwise_output_is_redone_and_why(tmp_path, capsys):
    """The same for --blockwise: --skip-existing -q replaced the labels of a zarr whose
    content changed without a word."""
    source = tmp_path / "in.zarr"
    image = tifffile.imread(SQUARE[0])
    zarr.create_array(str(source), shape=image.shape, dtype=image.dtype, chunks=(128, 128))[...] = (
        image
    )
    out = tmp_path / "out.zarr"
    blockwise = ["--blockwise", "--workers", "0", "--block", "128", "-q"]
    assert _segment(source, "-o", out, *blockwise) == 0
    zarr.open_array(str(source), mode="r+")[...] = image[::-1]  # other content
    capsys.readouterr()
    assert _segment(source, "-o", out, "--skip-existing", *blockwise) == 0
    err = capsys.readouterr().err.splitlines()
    redone = [line for line in err if line.startswith("redoing")]
    assert len(redone) == 1 and redone[0].startswith("redoing out.zarr: "), err
