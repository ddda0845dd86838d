"""``--fg-dice``: a soft Dice term on the patches method's foreground (P(1+ instances))."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import torch
from scipy import ndimage

from tessella.engine.registry import load_model
from tessella.engine.train.methods import (
    _patch_foreground_dice,
    _patch_loss,
    _patch_targets,
    soft_dice_loss,
)
from tessella.engine.train.overlapping import stack_to_bitmask
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


def _worm_crop(data_dir, well="B13", rows=slice(132, 388), cols=slice(220, 476)):
    root = data_dir / "worms_bbbc010"
    image = tifffile.imread(root / "gfp" / f"{well}.tif")[rows, cols].astype(np.float32)
    masks = tifffile.imread(root / "worm_masks" / f"{well}.tif")[:, rows, cols] > 0
    low, high = np.percentile(tifffile.imread(root / "gfp" / f"{well}.tif"), (1, 99.8))
    return ((image - low) / (high - low)).astype(np.float32), masks[masks.any((1, 2))]


def _foreground_iou(network, image, truth) -> float:
    network.eval()
    with torch.no_grad():
        raw = network(torch.from_numpy(image)[None, None])
    foreground = (1 - torch.softmax(raw[0, :3], 0)[0]).numpy() > 0.5
    return float((foreground & truth).sum() / (foreground | truth).sum())


def test_the_dice_term_pulls_worms2d_foreground_onto_the_masks(data_dir):
    """Eight steps on a crop of a hold-out well (B13: never trained on; worms2d's foreground
    IoU there is 0.65) with and without the term, from the bundled weights: with it the
    foreground fits the crop's worms better (0.92 against 0.84 when written)."""
    image, masks = _worm_crop(data_dir)
    truth = masks.any(0)
    targets = _patch_targets(stack_to_bitmask(masks), None, np.random.default_rng(0), patch=41)
    tensors = [torch.from_numpy(np.asarray(t))[None] for t in targets]
    ious = {}
    for weight in (0.0, 5.0):
        network = load_model("worms2d").network
        torch.manual_seed(0)
        optimizer = torch.optim.Adam(network.parameters(), lr=3e-4)
        for _ in range(8):
            network.train()
            raw = network(torch.from_numpy(image)[None, None])
            loss = _patch_loss(raw, tensors, 2, network)
            if weight:
                loss = loss + weight * _patch_foreground_dice(raw, tensors)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        ious[weight] = _foreground_iou(network, image, truth)
    assert ious[5.0] > ious[0.0] + 0.03, ious


def test_fg_dice_is_refused_where_it_has_no_foreground_term(tmp_path, data_dir):
    from tessella.cli import main

    out = tmp_path / "semantic"
    data = data_dir / "nuclei2d_dsb2018" / "train"
    code = main(["train", "semantic", "--data", str(data), "--out", str(out), "--fg-dice", "1"])
    assert code != 0 and not out.exists()
    out = tmp_path / "negative"
    code = main(["train", "patches", "--data", str(data), "--out", str(out), "--fg-dice", "-1"])
    assert code != 0 and not out.exists()
