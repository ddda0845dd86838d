"""One decoder for all embedding outputs: merging a two-decoder model, then learning the seed
map again on real DSB2018 nuclei."""

from __future__ import annotations

import copy
import json

import numpy as np
import pytest
import tifffile
import torch

from tessella.engine import metrics
from tessella.engine.models import BranchedUNet
from tessella.engine.models.unet import fit_merged_head, merge_branches
from tessella.engine.pipeline import segment
from tessella.engine.registry import load_model, save_model
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


def _held_ap50(model, pair) -> float:
    image, truth = pair
    labels = segment(image, str(model), "YX")
    return metrics.average_precision_scores([(truth, labels)], (0.5,))["ap"][0.5]


@pytest.fixture(scope="module")
def two_decoder_base(tmp_path_factory, data_dir):
    """The bundled nuclei2d (one decoder since session 12) written as EmbedSeg's branched
    design: two copies of its decoder, one giving the offsets and sigmas, the other the seeds.
    It computes what nuclei2d computes; merging it must find that again. Also four real
    DSB2018 images to train on and a fifth held out."""
    bundled = load_model("nuclei2d")
    one = bundled.network.float()
    args = {**bundled.card.raw["architecture"]["args"], "out_channels": [4, 1]}
    two = BranchedUNet(**args)
    two.encoder.load_state_dict(one.encoder.state_dict())
    state = one.decoders[0].state_dict()
    for i, rows in enumerate((slice(0, 4), slice(4, 5))):
        part = {
            **state,
            "head.weight": state["head.weight"][rows],
            "head.bias": state["head.bias"][rows],
        }
        two.decoders[i].load_state_dict(part)
    out = tmp_path_factory.mktemp("two") / "base"
    card = {**bundled.card.raw, "name": "two-decoders"}
    card["architecture"] = {"name": "BranchedUNet", "args": args}
    save_model(out, two, card)
    pairs = _grey_images(data_dir, 5)
    samples = load_pairs([p[0] for p in pairs[:4]], [p[1] for p in pairs[:4]], "YX", 1, NORM)
    held = load_pairs([pairs[4][0]], [pairs[4][1]], "YX", 1, NORM)
    return out, samples, held, pairs[4]


def test_merging_keeps_the_offsets_and_sigmas_and_the_fit_finds_the_seeds(two_decoder_base):
    base = load_model(str(two_decoder_base[0])).network.float().eval()
    assert len(base.decoders) == 2
    merged = merge_branches(
        base, BranchedUNet(ndim=2, out_channels=(5,), features=(16, 32, 64, 128, 256))
    ).eval()
    image, _ = two_decoder_base[3]
    x = torch.from_numpy(((image - image.mean()) / image.std()).astype(np.float32))[None, None]
    with torch.no_grad():
        before, after = base(x), merged(x)
    assert torch.allclose(after[:, :4], before[:, :4], atol=1e-4)
    seed = after[:, 4]
    assert float(seed.max() - seed.min()) == 0.0  # the seed output starts constant

    def count(module):
        return sum(p.numel() for p in module.parameters())

    # the seed decoder is gone; its one output moved to the shared head (16 weights + a bias)
    assert count(merged) == count(base) - count(base.decoders[1]) + 16 + 1
    # here the seeds are a linear map of the shared features: the least-squares head finds it
    fit_merged_head(base, merged, [x])
    with torch.no_grad():
        fitted = torch.sigmoid(merged.eval()(x)[:, 4])
    target = torch.sigmoid(before[:, 4])
    error = (fitted - target).abs()  # not exact: logits beyond ±6 are fitted clamped
    assert float(error.mean()) < 0.01 and float(error[target > 0.5].mean()) < 0.03


def _fine_tune(out, base, samples, held, epochs=2, **options):
    settings = dict(steps_per_epoch=15, batch_size=4, patch=128, lr=3e-3, device="cpu")
    settings.update(options)
    config = TrainConfig("embedding", "dsb", str(out), base=str(base), epochs=epochs, **settings)
    return [p.val_score for p in train_steps(config, samples, held) if p.val_score is not None]


def test_a_one_decoder_fine_tune_writes_a_one_decoder_model_that_still_segments(
    tmp_path, two_decoder_base
):
    base, samples, held, pair = two_decoder_base
    before = _held_ap50(base, pair)
    assert before > 0.8, before
    out = tmp_path / "one"
    # two epochs of 8 steps: the second (0.96) beats epoch 0 (0.958), so the model written is
    # one that trained, not the merged network as it started
    scores = _fine_tune(out, base, samples, held, steps_per_epoch=8, one_decoder=True, distil=10.0)
    assert scores[0] > 0.8, scores  # epoch 0: the merged network with its fitted seed head
    card = json.loads((out / "card.json").read_text())
    assert card["architecture"]["args"]["out_channels"] == [5]
    assert card["training"]["config"]["one_decoder"] is True
    assert card["training"]["config"]["distil"] == 10.0
    assert len(load_model(str(out)).network.decoders) == 1
    assert _held_ap50(out, pair) > before - 0.1
    again = tmp_path / "again"  # from a one-decoder base: that design, and the card says so
    # (what is written, not how well it learns: one step of 64² crops is enough)
    _fine_tune(again, out, samples, held, epochs=1, steps_per_epoch=1, patch=64)
    card = json.loads((again / "card.json").read_text())
    assert card["architecture"]["args"]["out_channels"] == [5]
    assert card["training"]["config"]["one_decoder"] is True


def test_distillation_keeps_a_fine_tune_near_its_base(tmp_path, two_decoder_base):
    """At a learning rate high enough to pull the network away, the distillation term keeps
    its seed map nearer the base's on an image it never trained on."""
    base, samples, held, pair = two_decoder_base
    image = pair[0]
    x = torch.from_numpy(((image - image.mean()) / image.std()).astype(np.float32))[None, None]

    def seeds(network):
        with torch.no_grad():
            return torch.sigmoid(network.float().eval()(x)[:, 4])

    drift = {}
    for weight in (0.0, 100.0):
        out = tmp_path / f"distil{weight}"
        _fine_tune(out, base, samples, held, distil=weight, epochs=1)
        # the network as training left it (the model written may be the base, kept when no
        # epoch beat it on the hold-out)
        trained = copy.deepcopy(load_model(str(base)).network)  # load_model caches
        state = torch.load(out / "checkpoint.pt", weights_only=True)["model"]
        trained.load_state_dict(state)
        drift[weight] = float((seeds(trained) - seeds(load_model(str(base)).network)).abs().mean())
    assert drift[100.0] < drift[0.0], drift


def test_distillation_needs_a_base_to_learn_from(tmp_path, data_dir):
    pairs = _grey_images(data_dir, 2)
    samples = load_pairs([pairs[0][0]], [pairs[0][1]], "YX", 1, NORM)
    held = load_pairs([pairs[1][0]], [pairs[1][1]], "YX", 1, NORM)
    config = TrainConfig("embedding", "dsb", str(tmp_path / "x"), distil=1.0, device="cpu")
    with pytest.raises(ValueError, match="distil needs a base model"):
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
