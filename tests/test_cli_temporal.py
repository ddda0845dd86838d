"""The command line with a time-lapse model: a frame folder in, TYX labels and CTC out."""

from __future__ import annotations

import numpy as np
import tifffile

from tessella.cli import main
from tessella.engine.io import read_image
from tessella.engine.tracking import read_ctc_tracks
from tests.conftest import cell_movie, write_ctc_sequence


def test_segment_a_frame_folder_writes_tyx_labels_and_ctc(tmp_path, tiny_temporal_dir, capsys):
    image, labels, tracks = cell_movie()
    seq = write_ctc_sequence(tmp_path, image, labels, tracks)
    out, ctc = tmp_path / "labels.tif", tmp_path / "01_RES"
    args = ["segment", str(seq), "-o", str(out), "--model", str(tiny_temporal_dir)]
    # threshold 0: the tiny model's maps are noise, so one cell per frame, linked into one track
    code = main([*args, "--ctc", str(ctc), "--set", "threshold=0", "--set", "split=false", "-q"])
    assert code == 0
    result = read_image(out)
    assert result.data.shape == image.shape and result.axes == "TYX"
    masks = sorted(p.name for p in ctc.glob("mask*.tif"))
    assert masks == [f"mask{t:03d}.tif" for t in range(image.shape[0])]
    np.testing.assert_array_equal(tifffile.imread(ctc / "mask003.tif"), result.data[3])
    assert [(k.id, k.start, k.end) for k in read_ctc_tracks(ctc / "res_track.txt")] == [
        (1, 0, image.shape[0] - 1)
    ]
    # existing CTC results are kept unless --overwrite
    (tmp_path / "labels2.tif").unlink(missing_ok=True)
    args2 = ["segment", str(seq), "-o", str(tmp_path / "labels2.tif")]
    code = main([*args2, "--model", str(tiny_temporal_dir), "--ctc", str(ctc)])
    assert code == 1 and "mask000.tif exists" in capsys.readouterr().err
    assert not (tmp_path / "labels2.tif").exists()

    # unlinked IDs are per frame, no tracks: --ctc refuses them before any work
    unlinked = [*args2, "--model", str(tiny_temporal_dir), "--ctc", str(tmp_path / "u")]
    assert main([*unlinked, "--set", "link=false", "--overwrite"]) == 1
    assert "with link=false no object is followed" in capsys.readouterr().err
    assert not (tmp_path / "labels2.tif").exists() and not (tmp_path / "u").exists()
    # without --ctc it runs, and says objects, not tracks (it said "N tracks")
    sets = ["--set", "threshold=0", "--set", "split=false", "--set", "link=false"]
    assert main([*args2, "--model", str(tiny_temporal_dir), *sets]) == 0
    said = capsys.readouterr().out.strip()
    assert said.endswith(" objects") and "tracks" not in said, said
    (tmp_path / "labels2.tif").unlink()
    (tmp_path / "labels2.recipe.json").unlink()

    # scored against the ground truth: SEG over the SEG frames, links against TRA
    assert main(["evaluate", str(ctc), str(tmp_path / "01_GT"), "--ctc"]) == 0
    printed = capsys.readouterr().out
    assert "SEG:" in printed and "links reproduced:" in printed


def test_evaluate_ctc_of_the_truth_is_perfect(tmp_path, capsys):
    from tessella.engine.tracking import link, write_ctc

    image, labels, tracks = cell_movie()
    write_ctc_sequence(tmp_path, image, labels, tracks, seg_frames={1, 6})
    tracked, lineage = link(labels)
    write_ctc(tracked, lineage, tmp_path / "res")
    json_path = tmp_path / "scores.json"
    args = ["evaluate", str(tmp_path / "res"), str(tmp_path / "01_GT"), "--ctc"]
    assert main([*args, "--frames", "4:8", "--json", str(json_path), "-q"]) == 0
    import json

    scores = json.loads(json_path.read_text())
    assert scores["seg"] == 1.0 and scores["seg_frames"] == 1
    assert scores["link_accuracy"] == 1.0 and scores["divisions_reproduced"] == 2
    assert main(["evaluate", "a", "b", "--frames", "1:2"]) == 1
    assert "--frames needs --ctc" in capsys.readouterr().err
    assert main([*args, "--frames", "0:1", "--json", str(json_path)]) == 0  # no link, no SEG
    assert json.loads(json_path.read_text())["link_accuracy"] is None  # valid JSON, no NaN
    out = capsys.readouterr().out
    assert "links: none in these frames" in out and "no annotated (SEG) frame" in out
    for frames in ("5:9", "3:1", "-1:2"):  # outside the 8 frames, or empty: refused
        assert main([*args, f"--frames={frames}", "-q"]) == 1
        assert "has frames 0:8" in capsys.readouterr().err


def test_time_lapse_model_refuses_what_it_cannot_do(tmp_path, tiny_temporal_dir, capsys):
    image, _labels, _tracks = cell_movie(frames=5)
    stack = tmp_path / "stack.tif"
    tifffile.imwrite(stack, image, photometric="minisblack")
    model = ["--model", str(tiny_temporal_dir)]
    # a 3D stack is taken as a volume unless told: the error says to give TYX
    assert main(["segment", str(stack), "-o", str(tmp_path / "a.tif"), *model]) == 1
    assert "give axes TYX" in capsys.readouterr().err
    assert (
        main(["segment", str(stack), "-o", str(tmp_path / "a.tif"), *model, "--axes", "TYX"]) == 0
    )
    # --ctc on a single 2D image, and a folder of frames into a folder
    frame = tmp_path / "frame.tif"
    tifffile.imwrite(frame, image[0])
    code = main(["segment", str(frame), "-o", str(tmp_path / "f.tif"), *model, "--ctc", "x"])
    assert code == 1 and "--ctc needs a time-lapse" in capsys.readouterr().err
    # a movie segmented frame by frame has no tracks to write, in memory as blockwise
    per_frame = ["segment", str(stack), "-o", str(tmp_path / "n.tif"), "--axes", "TYX"]
    assert main([*per_frame, "--model", "nuclei2d", "--ctc", str(tmp_path / "n")]) == 1
    err = capsys.readouterr().err
    assert "--ctc needs a time-lapse model (it writes tracks); nuclei2d" in err
    assert not (tmp_path / "n.tif").exists() and not (tmp_path / "n").exists()
    frames = tmp_path / "frames"
    frames.mkdir()
    for t in range(3):
        tifffile.imwrite(frames / f"t{t:03d}.tif", image[t])
    tifffile.imwrite(frames / "t003.tif", image[0, :50])
    code = main(["segment", str(frames), "-o", str(tmp_path / "out"), *model])
    assert code == 1 and "one .tif (TYX)" in capsys.readouterr().err
    code = main(["segment", str(frames), "-o", str(tmp_path / "m.tif"), *model])
    assert code == 1 and "t003.tif: shape" in capsys.readouterr().err
    assert not (tmp_path / "m.tif").exists()


def test_a_blank_frame_splits_the_tracks_that_cross_it(tmp_path, tiny_temporal_dir):
    """A blank frame in the middle of a movie has no labels; the track crossing it goes on
    after it as a new track whose parent is the piece before, so the CTC result is valid."""
    image, labels, tracks = cell_movie()
    image = image.copy()
    image[4] = 0  # nothing imaged in frame 4
    movie = tmp_path / "movie.tif"
    tifffile.imwrite(movie, image, metadata={"axes": "TYX"}, imagej=True)
    out, ctc = tmp_path / "labels.tif", tmp_path / "01_RES"
    args = ["segment", str(movie), "-o", str(out), "--model", str(tiny_temporal_dir)]
    code = main([*args, "--ctc", str(ctc), "--set", "threshold=0", "--set", "split=false", "-q"])
    assert code == 0
    result = read_image(out).data
    assert not result[4].any() and result[3].any() and result[5].any()
    table = [(k.id, k.start, k.end, k.parent) for k in read_ctc_tracks(ctc / "res_track.txt")]
    assert table == [(1, 0, 3, 0), (2, 5, image.shape[0] - 1, 1)]
