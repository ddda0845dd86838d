"""--val-fraction with one volume and a 3D model holds out its last slices as a slab, as
``--holdout 'STEM[z=A:B]'`` does (it trained and scored on the whole volume, with a warning)."""

import warnings

import numpy as np
import pytest
import tifffile

from tessella.engine.train import TrainConfig
from tessella.engine.train.loop import _training_samples
from tessella.engine.train.methods import get_training

NORM = {"low": 1.0, "high": 99.8}


def _volume_folder(root, names=("vol",)):
    rng = np.random.default_rng(0)
    labels = np.zeros((20, 48, 48), np.uint16)
    labels[2:18, 5:20, 5:20], labels[2:18, 25:45, 25:45] = 1, 2
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    for name in names:
        image = (labels > 0) * 100 + rng.integers(0, 60, labels.shape)
        tifffile.imwrite(root / "images" / f"{name}.tif", image.astype(np.uint8))
        tifffile.imwrite(root / "masks" / f"{name}.tif", labels)
    return root


def _split(data, method="semantic", **options):
    config = TrainConfig(method, str(data), "unused", ndim=3, **options)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        samples, held, _ = _training_samples(config, None, None, get_training(method), NORM, False)
    return [s.name for s in samples], [s.name for s in held], caught


@pytest.mark.parametrize("method", ["semantic", "boundary"])
def test_one_volume_holds_out_its_last_slices_as_a_slab(tmp_path, method):
    trained, held, caught = _split(_volume_folder(tmp_path), method, val_fraction=0.2)
    assert trained == ["vol.tif[z=000:016]"] and held == ["vol.tif[z=016:020]"]
    assert not [w for w in caught if "trained on and scored on" in str(w.message)]


def test_several_volumes_and_a_holdout_are_as_before(tmp_path):
    data = _volume_folder(tmp_path, ("a", "b", "c"))
    trained, held, _ = _split(data)
    assert len(held) == 1 and sorted(trained + held) == ["a.tif", "b.tif", "c.tif"]
    trained, held, _ = _split(data, holdout=("b[z=10:20]",))
    assert held == ["b.tif[z=010:020]"] and "b.tif[z=000:010]" in trained
