"""One decoder for all embedding outputs: merging the bundled two-decoder model, then learning
the seed map again on real DSB2018 nuclei."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
import torch

from tessella.engine import metrics
from tessella.engine.models import BranchedUNet
from tessella.engine.models.unet import merge_branches
from tessella.engine.pipeline import segment
from tessella.engine.registry import load_model
from tessella.engine.train import TrainConfig
from tessella.engine.train.data import load_pairs
from tessella.engine.train.loop import train_steps

NORM = {"low": 1.0, "high": 99.8}


def _grey_images(data_dir, count):
    root = data_dir / "nuclei2d_dsb2018" / "train"
    pairs = []
    for path in sorted((root / "images").glob("*.tif")):
        image = tifffile.imread(path)
        if image.ndim == 2 and image.shape == (256, 256):
            labels = tifffile.imread(root / "masks" / path.name).astype(np.int32)
            if 10 <= labels.max() <= 60:
                pairs.append((image, labels))
        if len(pairs) == count:
            break
    return pairs


def test_merging_keeps_the_offsets_and_sigmas_of_the_bundled_model(data_dir):
    base = load_model("nuclei2d").network.float().eval()
    merged = merge_branches(
        base, BranchedUNet(ndim=2, out_channels=(5,), features=(16, 32, 64, 128, 256))
    ).eval()
    image, _ = _grey_images(data_dir, 1)[0]
    x = torch.from_numpy(((image - image.mean()) / image.std()).astype(np.float32))[None, None]
    with torch.no_grad():
        before, after = base(x), merged(x)
    assert torch.allclose(after[:, :4], before[:, :4], atol=1e-4)
    seed = after[:, 4]
    assert float(seed.max() - seed.min()) == 0.0  # the seed map is learnt anew

    def count(module):
        return sum(p.numel() for p in module.parameters())

    # the seed decoder is gone; its one output moved to the shared head (16 weights + a bias)
    assert count(merged) == count(base) - count(base.decoders[1]) + 16 + 1


def test_a_one_decoder_fine_tune_learns_the_seeds_again(tmp_path, data_dir):
    pairs = _grey_images(data_dir, 5)
    samples = load_pairs([p[0] for p in pairs[:4]], [p[1] for p in pairs[:4]], "YX", 1, NORM)
    held = load_pairs([pairs[4][0]], [pairs[4][1]], "YX", 1, NORM)
    out = tmp_path / "one"
    config = TrainConfig(
        "embedding",
        "dsb",
        str(out),
        base="nuclei2d",
        one_decoder=True,
        distil=10.0,
        epochs=2,
        steps_per_epoch=15,
        batch_size=4,
        patch=128,
        lr=1e-3,
        device="cpu",
    )
    scores = [p.val_score for p in train_steps(config, samples, held) if p.val_score is not None]
    # epoch 0: the seed head fitted on the offset decoder's features is only a rough start
    assert scores[0] < 0.5, scores
    card = json.loads((out / "card.json").read_text())
    assert card["architecture"]["args"]["out_channels"] == [5]
    assert card["training"]["config"]["one_decoder"] is True
    assert len(load_model(str(out)).network.decoders) == 1
    image, truth = pairs[4]
    labels = segment(image, str(out), "YX")
    ap50 = metrics.average_precision_scores([(truth, labels)], (0.5,))["ap"][0.5]
    assert ap50 > 0.6, scores


def test_distillation_needs_a_base_to_learn_from(tmp_path, data_dir):
    pairs = _grey_images(data_dir, 2)
    samples = load_pairs([pairs[0][0]], [pairs[0][1]], "YX", 1, NORM)
    held = load_pairs([pairs[1][0]], [pairs[1][1]], "YX", 1, NORM)
    config = TrainConfig("embedding", "dsb", str(tmp_path / "x"), distil=1.0, device="cpu")
    with pytest.raises(ValueError, match="--distil needs a --base"):
        for _ in train_steps(config, samples, held):
            pass
    assert not (tmp_path / "x" / "model.safetensors").exists()


def test_the_cli_trains_a_new_one_decoder_model_and_refuses_distillation_without_base(
    tmp_path, nuclei_sample, capsys
):
    from tessella.cli import main

    image, labels = nuclei_sample
    data = tmp_path / "data"
    for sub, array in (("images", image[:256, :256]), ("masks", labels[:256, :256])):
        (data / sub).mkdir(parents=True)
        tifffile.imwrite(data / sub / "a.tif", array)
        tifffile.imwrite(data / sub / "b.tif", np.ascontiguousarray(array[::-1]))
    common = ["--data", str(data), "--device", "cpu", "--epochs", "1", "--steps-per-epoch", "1"]
    common += ["--batch-size", "2", "--patch", "64", "--features", "8,16", "-q"]
    out = tmp_path / "one"
    assert main(["train", "embedding", "--out", str(out), "--one-decoder", *common]) == 0
    card = json.loads((out / "card.json").read_text())
    assert card["architecture"]["args"]["out_channels"] == [5]
    assert len(load_model(str(out)).network.decoders) == 1
    refused = tmp_path / "refused"
    assert main(["train", "embedding", "--out", str(refused), "--distil", "1", *common]) == 1
    assert "--distil needs a --base model" in capsys.readouterr().err
    assert not refused.exists()
    assert main(["train", "semantic", "--out", str(refused), "--one-decoder", *common]) == 1
    assert "the semantic method's network has one decoder already" in capsys.readouterr().err
    assert not refused.exists()
