"""Hold-out selectors that cannot work are refused saying why: a hold-out of every image says
so (not "needs at least one image"), and a name that picks nothing lists the names there are."""

import numpy as np
import tifffile

from tessella.cli import main
from tests.conftest import cell_movie, nuclei_folder, write_ctc_sequence

TINY = ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "2", "--patch", "64"]
TINY += ["--device", "cpu", "--features", "4,8", "-q"]


def _train(method, data, out, *options):
    return main(["train", method, "--data", str(data), "--out", str(out), *TINY, *options])


def test_a_holdout_of_every_image_says_so(tmp_path, nuclei_sample, capsys):
    data = nuclei_folder(tmp_path / "data", nuclei_sample, count=2)
    assert _train("boundary", data, tmp_path / "m", "--holdout", "1,0") == 1
    err = capsys.readouterr().err
    assert (
        "hold-out 1,0: it holds out all 2 images, leaving none to train on; hold out fewer" in err
    ), err
    assert "--val-data" in err and not (tmp_path / "m").exists()


def test_a_holdout_of_every_slice_counts_slices(tmp_path, capsys):
    rng = np.random.default_rng(0)
    labels = np.zeros((6, 64, 64), np.uint16)
    labels[:, 10:30, 10:30], labels[:, 40:60, 40:60] = 1, 2
    for sub, array in (("images", rng.integers(0, 255, labels.shape, np.uint8)), ("masks", labels)):
        (tmp_path / sub).mkdir()
        tifffile.imwrite(tmp_path / sub / "vol.tif", array, photometric="minisblack")
    code = _train("semantic", tmp_path, tmp_path / "m", "--holdout", "vol[z=0:6]")
    err = capsys.readouterr().err
    assert code == 1 and "it holds out all 6 slices of vol, leaving none to train on" in err, err
    assert _train("semantic", tmp_path, tmp_path / "m", "--holdout", "vol[z=8:9]") == 1
    err = capsys.readouterr().err
    assert "hold-out files not found: vol[z=8:9] (vol has z=0:6)" in err, err


def test_a_ctc_holdout_not_found_names_the_sequence(tmp_path, capsys):
    image, labels, tracks = cell_movie(frames=4)
    seq = write_ctc_sequence(tmp_path / "sim", image, labels, tracks)
    assert _train("temporal", seq, tmp_path / "m", "--holdout", "01[t=2:4]") == 1
    err = capsys.readouterr().err
    assert "hold-out files not found: 01[t=2:4] (the files are: sim_01)" in err, err


def test_a_holdout_of_the_only_image_says_so(tmp_path, nuclei_sample, capsys):
    data = nuclei_folder(tmp_path / "data", nuclei_sample, count=1)
    assert _train("boundary", data, tmp_path / "m", "--holdout", "0") == 1
    err = capsys.readouterr().err
    assert "hold-out 0: it holds out the only image, leaving none to train on" in err, err
