"""A patch that the network's poolings shrink to one pixel, with one crop a batch, is refused
before anything is read or scored (batch normalisation would stop the run at its first step)."""

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine.models.unet import BranchedUNet
from tessella.engine.train import TrainConfig


@pytest.fixture
def volume_folder(tmp_path):
    rng = np.random.default_rng(0)
    mask = np.zeros((24, 64, 64), np.uint8)
    mask[4:20, 10:30, 10:30] = mask[4:20, 40:60, 35:55] = 1
    image = (mask * 120 + rng.normal(60, 10, mask.shape)).astype(np.uint8)
    for sub, array in (("images", image), ("masks", mask)):
        (tmp_path / sub).mkdir()
        tifffile.imwrite(tmp_path / sub / "vol.tif", array, photometric="minisblack")
    return tmp_path


@pytest.mark.parametrize("base", [None, "em-mito2d"])
def test_a_patch_too_small_for_batch_size_1_is_refused_first(volume_folder, capsys, base):
    out = volume_folder / "model"
    options = ["--base", base] if base else []
    args = ["train", "semantic", "--ndim", "3", "--data", str(volume_folder), "--out", str(out)]
    code = main(
        [*args, "--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "1", "--patch", "16"]
        + ["--holdout", "vol[z=16:24]", "--device", "cpu", *options]
    )
    captured = capsys.readouterr()
    err = captured.err.strip()
    assert code == 1 and len(err.splitlines()) == 1, err
    assert "patch 16 with batch size 1" in err and "use a patch of at least 32" in err, err
    assert ("fewer features" in err) is (base is None), err
    assert "epoch" not in captured.out and not out.exists()  # the base was not scored


def test_a_small_patch_fits_a_shallower_network_or_a_larger_batch():
    from tessella.engine.train._options import _check_patch_fits

    network = BranchedUNet(3, 1, (1,), (16, 32, 64, 128, 256))
    for patch, batch in ((16, 2), (32, 1)):
        _check_patch_fits(TrainConfig("semantic", "d", "o", patch=patch, batch_size=batch), network)
    shallow = BranchedUNet(2, 1, (1,), (4, 8))
    _check_patch_fits(TrainConfig("semantic", "d", "o", patch=16, batch_size=1), shallow)
