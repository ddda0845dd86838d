"""`tessella segment --channel N` segments one channel of a multichannel image (recorded in the
recipe, replayed, compared by --skip-existing); channels averaged without it are said where
they are no 8-bit RGB; `--series N` reads one series of a multi-series TIFF; `--axes` against
the order a file's metadata name is refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine.io import read_image


@pytest.fixture
def stains(tmp_path, nuclei_sample):
    """A plain uint16 (Y, X, 3) TIFF (tifffile tags it RGB): noise, noise, and the nuclei in
    channel 2, as a microscope's export of three stains; and the nuclei channel alone."""
    nuclei = nuclei_sample[0][:128, :128].astype(np.uint16) * 200
    noise = np.random.default_rng(0).integers(0, 60000, (2, 128, 128), dtype=np.uint16)
    path = tmp_path / "stains.tif"
    tifffile.imwrite(path, np.stack([noise[0], noise[1], nuclei], axis=-1))
    alone = tmp_path / "nuclei.tif"
    tifffile.imwrite(alone, nuclei)
    return path, alone


def _segment(*args):
    return main(["segment", *map(str, args), "--model", "nuclei2d", "--no-tta"])


def test_channel_segments_one_channel_recorded_and_replayed(tmp_path, stains, capsys):
    """Without --channel, 3 uint16 channels were averaged without a word (0 objects where the
    nuclei channel alone gives many). Now the averaging is said, naming the file and the
    channels and suggesting --channel; --channel 2 gives the labels of the channel alone,
    without a warning, its recipe records it, and --recipe reads the same channel again."""
    path, alone = stains
    assert _segment(path, "-o", tmp_path / "averaged.tif", "-q") == 0
    [warning] = capsys.readouterr().err.strip().splitlines()
    assert warning == (
        f"warning: {path}: its 3 channels (axes YXC, uint16) are averaged into the one channel "
        "model 'nuclei2d' reads; if they are separate stains, choose one (read_image's "
        "channel= in Python, --channel N on the command line: 0 to 2)"
    )
    assert _segment(alone, "-o", tmp_path / "alone.tif", "-q") == 0
    assert _segment(path, "-o", tmp_path / "chosen.tif", "-q", "--channel", "2") == 0
    assert capsys.readouterr().err == ""
    expected = read_image(tmp_path / "alone.tif").data
    assert expected.max() > 10  # the nuclei
    np.testing.assert_array_equal(read_image(tmp_path / "chosen.tif").data, expected)
    recipe = tmp_path / "chosen.recipe.json"
    recorded = json.loads(recipe.read_text())
    assert recorded["channel"] == 2 and recorded["axes"] == "YX"
    replay = ["segment", str(path), "-o", str(tmp_path / "replayed.tif"), "--recipe", str(recipe)]
    assert main([*replay, "-q"]) == 0
    np.testing.assert_array_equal(read_image(tmp_path / "replayed.tif").data, expected)


def test_skip_existing_compares_the_channel(tmp_path, stains, capsys):
    path, _ = stains
    folder = tmp_path / "in"
    folder.mkdir()
    path.rename(folder / path.name)
    out = tmp_path / "out"
    assert _segment(folder, "-o", out, "-q", "--channel", "2") == 0
    assert _segment(folder, "-o", out, "-q", "--channel", "2", "--skip-existing") == 0
    assert _segment(folder, "-o", out, "-q", "--channel", "0", "--skip-existing") == 1
    assert "--channel=2 (this run: 0)" in capsys.readouterr().err
    assert _segment(folder, "-o", out, "-q", "--skip-existing") == 1
    assert "--channel=2 (this run: all)" in capsys.readouterr().err


def test_a_channel_or_series_out_of_range_is_one_line_naming_the_file(tmp_path, stains, capsys):
    path, _ = stains
    assert _segment(path, "-o", tmp_path / "out.tif", "--channel", "3") == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line == f"tessella segment: error: {path}: no channel 3: it has 3 channels (0 to 2)"
    assert _segment(path, "-o", tmp_path / "out.tif", "--series", "1") == 1
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line == f"tessella segment: error: {path}: no series 1: it holds 1 series (0 to 0)"
    assert not (tmp_path / "out.tif").exists()


def test_a_zcyx_hyperstack_is_read_by_its_axes_and_one_channel_chosen(
    tmp_path, nuclei_sample, capsys
):
    """Fiji's ZCYX hyperstack was refused with advice to pass --axes CZYX, which then swapped
    Z and C (the z-planes averaged as channels, the Z spacing on C). It reads as CZYX; --axes
    CZYX is refused naming both; --channel picks the nuclei, read as ZYX with its Z spacing."""
    crop = nuclei_sample[0][:64, :64].astype(np.uint16)
    zcyx = np.stack([np.stack([crop[::-1] // 3, crop]) for _ in range(3)])
    path = tmp_path / "hyperstack.tif"
    metadata = {"axes": "ZCYX", "spacing": 2.0, "unit": "um"}
    tifffile.imwrite(path, zcyx, imagej=True, resolution=(2.0, 2.0), metadata=metadata)
    args = ["segment", str(path), "--model", "em-mito2d", "--no-tta", "-q", "-o"]
    assert main([*args, str(tmp_path / "swapped.tif"), "--axes", "CZYX"]) == 1
    err = capsys.readouterr().err
    assert f"{path}: axes CZYX put C, Z where its ImageJ metadata do not; they say ZCYX" in err
    assert main([*args, str(tmp_path / "nuclei.tif"), "--channel", "1"]) == 0
    labels = read_image(tmp_path / "nuclei.tif")
    assert labels.axes == "ZYX" and labels.data.shape == (3, 64, 64)
    assert labels.pixel_size == pytest.approx({"Z": 2.0, "Y": 0.5, "X": 0.5})


def test_series_reads_the_series_chosen_and_is_recorded(tmp_path, nuclei_sample, capsys):
    full = nuclei_sample[0][:128, :128]
    path = tmp_path / "two.tif"
    with tifffile.TiffWriter(path) as tif:
        tif.write(full[::4, ::4])
        tif.write(full)
    assert _segment(path, "-o", tmp_path / "full.tif", "-q") == 0
    assert "read series 1 (shape (128, 128), axes YX)" in capsys.readouterr().err
    assert _segment(path, "-o", tmp_path / "thumb.tif", "-q", "--series", "0") == 0
    assert capsys.readouterr().err == ""
    assert read_image(tmp_path / "thumb.tif").data.shape == (32, 32)
    assert json.loads((tmp_path / "thumb.recipe.json").read_text())["series"] == 0


def test_python_says_it_too(stains):
    """The averaging of separate stains is said from Python as well (only the command said
    it), and not for a channel chosen when reading."""
    import warnings

    import tessella

    path, _alone = stains
    with pytest.warns(UserWarning, match=r"its 3 channels \(axes YXC, uint16\) are averaged"):
        tessella.segment(tessella.read_image(path), "nuclei2d", tta=False)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tessella.segment(tessella.read_image(path, channel=2), "nuclei2d", tta=False)
