"""``--fg-dice``: a soft Dice term on the patches method's foreground (P(1+ instances))."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import ndimage

from tessella.engine.train.methods import _patch_foreground_dice, soft_dice_loss
from tests.conftest import crossing_rods


def _logits_for(foreground: np.ndarray) -> torch.Tensor:
    """Raw patches-method output (1, 3 + code, H, W) whose numinst says 1 on ``foreground``."""
    raw = torch.zeros((1, 3 + 4, *foreground.shape))
    raw[0, 0] = torch.from_numpy(np.where(foreground, -8.0, 8.0))
    raw[0, 1] = torch.from_numpy(np.where(foreground, 8.0, -8.0))
    raw[0, 2] = -8.0
    return raw


def test_the_dice_term_counts_a_missing_edge_by_the_objects_own_pixels():
    rods = crossing_rods()
    truth = rods.any(0)
    numinst = torch.from_numpy(np.minimum(rods.sum(0), 2))[None]
    exact = float(_patch_foreground_dice(_logits_for(truth), (numinst,)))
    assert exact < 1e-3
    eroded = ndimage.binary_erosion(truth)
    lost = float(_patch_foreground_dice(_logits_for(eroded), (numinst,)))
    expected = 1 - 2 * eroded.sum() / (eroded.sum() + truth.sum())
    assert lost == pytest.approx(expected, abs=2e-3)
    # the per-pixel cross-entropy sees the same one-pixel edge diluted by the background
    ce = torch.nn.functional.cross_entropy
    ce_lost = float(ce(_logits_for(eroded)[:, :3], numinst)) - float(
        ce(_logits_for(truth)[:, :3], numinst)
    )
    assert lost > 0.1 and ce_lost / 16 < lost  # 16: the logit gap of a wrong pixel
    assert float(soft_dice_loss(torch.zeros(4), torch.zeros(4))) == 0.0  # no objects: no loss


def test_a_patches_training_adds_the_term_to_its_loss(tmp_path, tiny_patches_dir):
    """Two steps of the same tiny training, with and without ``fg_dice``: the logged loss
    carries the term (a fresh network's foreground is far from the masks: Dice near 1), and
    the card records the weight."""
    import json

    from tests.conftest import train_tiny

    # the real DSB2018 crops the tiny patches model trained on
    data = json.loads((tiny_patches_dir / "card.json").read_text())["training"]["data"]
    losses = {}
    for weight in (0.0, 1.0):
        out = train_tiny(
            "patches", data, tmp_path / f"w{weight}", patch_size=9, code=8, fg_dice=weight
        )
        card = json.loads((out / "card.json").read_text())
        assert card["training"]["config"]["fg_dice"] == weight
        [entry] = [json.loads(line) for line in (out / "train.log").read_text().splitlines()]
        losses[weight] = entry["loss"]
    assert losses[1.0] > losses[0.0] + 0.3, losses


def test_fg_dice_is_refused_where_it_has_no_foreground_term(tmp_path, data_dir):
    from tessella.cli import main

    out = tmp_path / "semantic"
    data = data_dir / "nuclei2d_dsb2018" / "train"
    code = main(["train", "semantic", "--data", str(data), "--out", str(out), "--fg-dice", "1"])
    assert code != 0 and not out.exists()
    out = tmp_path / "negative"
    code = main(["train", "patches", "--data", str(data), "--out", str(out), "--fg-dice", "-1"])
    assert code != 0 and not out.exists()
