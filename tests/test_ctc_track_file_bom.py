"""A CTC track file saved by a Windows editor (r10 #4): Notepad's UTF-8 writes a byte-order
mark first, its "Unicode" (and Excel's "Unicode Text") is UTF-16, both with CRLF line ends.
Before, ``read_ctc_tracks`` failed on line 1 ('\\ufeff1 0 1 0'): a result folder opened with
no divisions (with a warning), and ``tessella evaluate --ctc`` could not read the ground
truth's man_track.txt or the result's res_track.txt. Real data: SIM+ 01's ground-truth
tracks (01_GT/TRA, frames 8-13: track 24 divides into 35 and 36, 18 into 33 and 34)."""

from __future__ import annotations

import codecs
import shutil
import warnings

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine.tracking import read_ctc_tracks, write_ctc

FRAMES = list(range(8, 14))


@pytest.fixture(scope="module")
def tra(data_dir):
    return data_dir / "ctc_Fluo-N2DH-SIM+" / "01_GT" / "TRA"


@pytest.fixture(scope="module")
def window(tra, tmp_path_factory):
    """A CTC result folder RES of frames 8-13 (their ground-truth tracks, as a tracker that
    got them right writes them) and its res_track.txt's text."""
    labels = np.stack([tifffile.imread(tra / f"man_track{t:03d}.tif") for t in FRAMES])
    present = set(np.unique(labels).tolist())
    lineage = {
        k.id: k.parent
        for k in read_ctc_tracks(tra / "man_track.txt")
        if k.parent and k.id in present
    }
    res = tmp_path_factory.mktemp("ctc") / "01_RES"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (tracks cut by the window's ends)
        write_ctc(labels, lineage, res, frame_numbers=FRAMES)
    text = (res / "res_track.txt").read_text()
    assert "35 11 13 24" in text and "36 11 13 24" in text
    return res, text


def _saved_as(path, text, encoding):
    """``text`` as Notepad saves it: CRLF, in ``encoding`` with its byte-order mark."""
    bom = codecs.BOM_UTF16_BE if encoding == "utf-16-be" else b""
    path.write_bytes(bom + text.replace("\n", "\r\n").encode(encoding))


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16", "utf-16-be"])
def test_the_ground_truths_track_file_saved_by_notepad_reads_as_it_was(tra, tmp_path, encoding):
    original = read_ctc_tracks(tra / "man_track.txt")
    assert len(original) == 95
    saved = tmp_path / "man_track.txt"
    _saved_as(saved, (tra / "man_track.txt").read_text(), encoding)
    assert saved.read_bytes()[:2] in (b"\xef\xbb", b"\xff\xfe", b"\xfe\xff")
    assert read_ctc_tracks(saved) == original


def test_a_track_file_that_is_no_text_is_refused_naming_it(tmp_path):
    path = tmp_path / "res_track.txt"
    path.write_bytes(b"1 0 1 0\n\xff\x00\x81\n")
    with pytest.raises(ValueError, match=r"res_track\.txt: not a text file of 'L B E P' lines"):
        read_ctc_tracks(path)


def test_a_result_folder_with_a_bom_opens_with_its_divisions(window, tmp_path):
    from tessella._io_folder import folder_layers

    res, text = window
    opened = tmp_path / "01_RES"
    shutil.copytree(res, opened)
    _saved_as(opened / "res_track.txt", text, "utf-8-sig")
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (before: "not read (... got '\ufeff...')")
        layers = folder_layers(opened)
    [tracks] = [kw for _data, kw, kind in layers if kind == "tracks"]
    graph = {int(c): [int(p) for p in ps] for c, ps in tracks["graph"].items()}
    assert graph[35] == graph[36] == [24] and graph[33] == graph[34] == [18]


def test_evaluate_ctc_reads_track_files_saved_by_notepad(window, tra, tmp_path, capsys):
    """The result's res_track.txt with a BOM, the ground truth's man_track.txt in UTF-16:
    every link and division reproduced, as with the files as written."""
    res, text = window
    gt = tmp_path / "01_GT" / "TRA"
    gt.mkdir(parents=True)
    for t in FRAMES:
        shutil.copy(tra / f"man_track{t:03d}.tif", gt)
    (gt / "man_track.txt").write_text(text)
    assert main(["evaluate", str(res), str(gt.parent), "--ctc"]) == 0
    assert (
        "links reproduced: 161 of 161 (1.0000); division links: 6 of 6" in capsys.readouterr().out
    )

    result = tmp_path / "01_RES"
    shutil.copytree(res, result)
    _saved_as(result / "res_track.txt", text, "utf-8-sig")
    _saved_as(gt / "man_track.txt", text, "utf-16")
    assert main(["evaluate", str(result), str(gt.parent), "--ctc"]) == 0
    captured = capsys.readouterr()
    assert "ufeff" not in captured.err and "not read" not in captured.err
    # (before: the ground truth's file not read)
    assert "links reproduced: 161 of 161 (1.0000); division links: 6 of 6" in captured.out
