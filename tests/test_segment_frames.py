"""Segmenting frames A:B of a time-lapse (``frames=``, ``tessella segment --frames``): the
frames keep their numbers, and a time-lapse model segments them as in the whole movie; a
folder of frames read by ``tessella.read_image``; CTC masks with the movie's pixel size."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

import tessella
from tessella.engine.pipeline import run_steps, segment_steps
from tests.conftest import cell_movie


def _same_objects(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two label images hold the same objects, whatever their IDs."""
    pairs = set(zip(a.ravel().tolist(), b.ravel().tolist()))
    return len(pairs) == len(np.unique(a)) == len(np.unique(b))


def test_frames_of_sim_movie_are_segmented_as_in_the_whole_movie(data_dir):
    """cells2dt's frame 2 of 4 SIM+ frames (a 64 x 64 crop), segmented alone, holds the
    objects the whole movie's run gives it: its window and the smoothing along time read
    the frames around it (frames 1 to 3: one on either side at sigma 0.25; frame 0 not
    read). Frame 2 segmented without them gives other objects (checked once on this crop),
    so the equality needs the context."""
    folder = data_dir / "ctc_Fluo-N2DH-SIM+" / "01"
    crop = np.s_[230:294, 200:264]
    movie = np.stack([tifffile.imread(folder / f"t{t:03d}.tif")[crop] for t in range(4)])
    options = {"axes": "TYX", "device": "cpu", "tta": False, "params": {"temporal_sigma": 0.25}}
    whole = run_steps(segment_steps(movie, "cells2dt", **options))
    steps = segment_steps(movie, "cells2dt", frames="2:3", **options)
    totals = set()
    while True:
        try:
            progress = next(steps)
            if progress.stage == "predict":
                totals.add(progress.total)
        except StopIteration as stop:
            part = stop.value
            break
    assert part.labels.shape == (1, 64, 64) and part.frame_numbers == [2]
    assert part.recipe()["frame_numbers"] == [2]
    assert totals == {3}  # frames 1 to 3 predicted: the one wanted and its context
    assert whole.labels[2].max() > 0
    assert _same_objects(whole.labels[2], part.labels[0])
    # Tune's re-run of the part (the network not run again) smooths with the context too
    again = part.with_params(temporal_sigma=0.25)
    np.testing.assert_array_equal(again.labels, part.labels)


def _frame_folder(root, first=8, count=7):
    """A CTC-like folder ``t008.tif ... t014.tif`` of the synthetic cell movie, its pixels
    0.125 µm as the CTC's files carry it (resolution tags in pixels per centimetre)."""
    image, _labels, _tracks = cell_movie(frames=count, shape=(64, 80))
    folder = root / "01"
    folder.mkdir()
    for t in range(count):
        tifffile.imwrite(
            folder / f"t{first + t:03d}.tif",
            image[t].astype(np.uint16),
            resolution=(80000.0, 80000.0),
            resolutionunit=tifffile.RESUNIT.CENTIMETER,
        )
    return folder, image


def test_read_image_reads_a_frame_folder_and_segment_picks_frames_by_number(
    tmp_path, tiny_temporal_dir
):
    folder, image = _frame_folder(tmp_path)
    movie = tessella.read_image(folder)  # (it refused a folder: "unsupported file type")
    assert movie.axes == "TYX" and movie.data.shape == image.shape
    assert movie.frame_numbers == list(range(8, 15))
    assert movie.pixel_size == pytest.approx({"Y": 0.125, "X": 0.125})
    np.testing.assert_array_equal(movie.data[2], image[2].astype(np.uint16))

    sets = {"threshold": 0.0, "split": False}  # (the tiny model's maps are noise)
    steps = segment_steps(movie, tiny_temporal_dir, frames="10:12", device="cpu", params=sets)
    result = run_steps(steps)
    assert result.labels.shape == (2, 64, 80) and result.frame_numbers == [10, 11]
    assert result.lineage is not None
    labels = tessella.segment(movie, tiny_temporal_dir, frames=10, device="cpu", **sets)
    assert labels.shape == (1, 64, 80)

    # frames outside the movie, or text of another form: one line naming it and its frames
    with pytest.raises(
        ValueError, match=r"01: frames 3:9 are not all in it: it has 7 frames, 8 to 14"
    ):
        tessella.segment(movie, tiny_temporal_dir, frames="3:9", device="cpu")
    with pytest.raises(ValueError, match=r"frames expects A:B .* got '10-12'"):
        tessella.segment(movie, tiny_temporal_dir, frames="10-12", device="cpu")
    with pytest.raises(ValueError, match=r"picks frames of a time-lapse .* axes are YX"):
        tessella.segment(image[0], tiny_temporal_dir, "YX", frames="0:1", device="cpu")

    # the CTC folder keeps the numbers and the movie's pixel size (t19 #10: 1/1, unitless)
    files = tessella.write_ctc(result, tmp_path / "01_RES")
    assert sorted(p.name for p in files) == ["mask010.tif", "mask011.tif", "res_track.txt"]
    mask = tessella.read_image(tmp_path / "01_RES" / "mask010.tif")
    assert mask.pixel_size == pytest.approx({"Y": 0.125, "X": 0.125}) and mask.unit == "µm"
    with tifffile.TiffFile(tmp_path / "01_RES" / "mask011.tif") as tif:
        page = tif.pages[0]
        assert page.dtype == np.uint16 and len(tif.pages) == 1
        assert page.tags["ResolutionUnit"].value == tifffile.RESUNIT.CENTIMETER
    reopened = tessella.read_image(tmp_path / "01_RES")
    assert reopened.frame_numbers == [10, 11]
    np.testing.assert_array_equal(reopened.data, result.labels)


def test_read_image_of_a_folder_refuses_what_picks_part_of_one_file(tmp_path):
    folder, _image = _frame_folder(tmp_path, count=3)
    with pytest.raises(ValueError, match=r"01: channel= reads part of one file"):
        tessella.read_image(folder, channel=0)
    with pytest.raises(ValueError, match=r"read as a movie, TYX .* axes='ZYX' does not fit"):
        tessella.read_image(folder, "ZYX")
    assert tessella.read_image(folder, "TYX").axes == "TYX"


def test_cli_segments_frames_by_number_into_labels_and_ctc(tmp_path, tiny_temporal_dir, capsys):
    from tessella.cli import main

    folder, image = _frame_folder(tmp_path)  # t008.tif ... t014.tif
    out, ctc = tmp_path / "part.tif", tmp_path / "01_RES"
    args = ["segment", str(folder), "-o", str(out), "--model", str(tiny_temporal_dir), "-q"]
    sets = ["--set", "threshold=0", "--set", "split=false"]
    assert main([*args, *sets, "--frames", "10:13", "--ctc", str(ctc)]) == 0
    labels = tessella.read_image(out)
    assert labels.data.shape == (3, *image.shape[1:]) and labels.axes == "TYX"
    import json

    recipe = json.loads((tmp_path / "part.recipe.json").read_text())
    assert recipe["frame_numbers"] == [10, 11, 12]
    assert sorted(p.name for p in ctc.glob("mask*.tif")) == [
        "mask010.tif",
        "mask011.tif",
        "mask012.tif",
    ]
    mask = tessella.read_image(ctc / "mask012.tif")  # the movie's pixel size (t19 #10)
    assert mask.pixel_size == pytest.approx({"Y": 0.125, "X": 0.125}) and mask.unit == "µm"
    from tessella._io import read_layers

    layers = read_layers(str(ctc))  # reopened away from its movie: on its scale, in µm
    assert [kind for _, _, kind in layers] == ["labels", "tracks"]
    np.testing.assert_allclose(layers[0][1]["scale"][-2:], (0.125, 0.125))
    assert tuple(layers[0][1]["units"][-2:]) == ("µm", "µm")
    track_rows = (ctc / "res_track.txt").read_text().split()
    assert track_rows[1:3] == ["10", "12"]  # begin and end: frame numbers

    capsys.readouterr()
    code = main([*args, "--frames", "20:30", "--overwrite"])
    err = capsys.readouterr().err
    assert code != 0 and "01: frames 20:30 are not all in it: it has 7 frames, 8 to 14" in err
    assert main([*args, "--frames", "ten", "--overwrite"]) != 0
    assert "--frames expects A:B (frames A to B - 1) or A, got 'ten'" in capsys.readouterr().err


def test_cli_frames_refused_with_skip_existing(tmp_path, tiny_temporal_dir, capsys):
    from tessella.cli import main

    folder, _image = _frame_folder(tmp_path, count=3)
    out = tmp_path / "part.tif"
    args = ["segment", str(folder), "-o", str(out), "--model", str(tiny_temporal_dir)]
    assert main([*args, "--frames", "8:10", "--skip-existing"]) != 0
    assert "--skip-existing keeps an existing output whatever frames" in capsys.readouterr().err
    assert not out.exists()
