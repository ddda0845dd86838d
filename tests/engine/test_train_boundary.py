"""Boundary-method training on the real ISBI 2012 EM slices: data, targets, a short run."""

from __future__ import annotations

import json

import numpy as np
import pytest
from scipy import ndimage

from tessella.cli import main
from tessella.engine.pipeline import run_steps, segment_steps
from tessella.engine.registry import load_model
from tessella.engine.train.data import CropDataset, load_folder_pairs, split_holdout
from tessella.engine.train.methods import boundary_weight_map, get_training

ISBI = "em_membranes_isbi2012"


@pytest.fixture(scope="module")
def isbi(data_dir):
    return data_dir / ISBI


def test_boundary_folders_load_as_cells_with_their_membranes(isbi):
    samples = load_folder_pairs(isbi, "YX", 1, {}, exclude=[f"{i:02d}" for i in range(2, 20)])
    assert [s.name for s in samples] == ["00.tif", "01.tif"]
    sample = samples[0]
    import tifffile

    membranes = tifffile.imread(isbi / "boundaries" / "00.tif") > 0
    assert np.array_equal(sample.boundary, membranes)
    assert np.array_equal(sample.labels > 0, ~membranes)  # cells: the connected insides
    assert sample.labels.max() == ndimage.label(~membranes)[1]
    train, held = split_holdout(samples, 0.5, names=["01"])
    assert [s.name for s in held] == ["01.tif"] and [s.name for s in train] == ["00.tif"]
    with pytest.raises(ValueError, match="hold-out files not found: 07"):
        split_holdout(samples, 0.5, names=["07"])


def test_border_weights_are_high_only_between_close_cells():
    labels = np.zeros((40, 60), np.int32)
    labels[5:35, 5:28] = 1
    labels[5:35, 30:55] = 2  # 2 px gap to object 1
    edges = labels == 0
    weights = boundary_weight_map(labels, edges)
    assert weights[20, 28] > 8  # in the narrow gap: d1 + d2 = 2 or 3
    assert weights[2, 45] < 3  # above object 2: far from object 1
    assert np.all(weights[labels > 0] == 1)


def test_boundary_targets_from_instance_labels_and_from_membranes(isbi, nuclei_sample):
    targets = get_training("boundary").targets
    labels = nuclei_sample[1].astype(np.int32)
    edges, foreground, weights = targets(labels, None, np.random.default_rng(0))
    assert edges.dtype == np.float32 and set(np.unique(edges)) == {0.0, 1.0}
    # thick edges: on both sides of every object border
    assert edges[labels == 0].sum() > 0 and edges[labels > 0].sum() > 0
    assert np.all(foreground[labels > 0] == 1) and np.any(foreground == 0)
    [sample] = load_folder_pairs(isbi, "YX", 1, {}, exclude=[f"{i:02d}" for i in range(1, 20)])
    edges, foreground, _ = targets(sample.labels, sample.boundary, np.random.default_rng(0))
    assert np.array_equal(edges > 0, sample.boundary) and np.all(foreground == 1)


def test_crops_carry_the_membranes_through_augmentation(isbi):
    samples = load_folder_pairs(isbi, "YX", 1, {}, exclude=[f"{i:02d}" for i in range(1, 20)])
    dataset = CropDataset(samples, (96, 96), 6, seed=1, targets=get_training("boundary").targets)
    for index in range(6):
        image, edges, foreground, weights = dataset[index]
        assert image.shape == (1, 96, 96) and edges.shape == (96, 96)
        # membranes are dark in ISBI EM: the edge pixels are darker than the cell insides
        assert image[0][edges > 0].mean() < image[0][edges == 0].mean()
    # rotated and elastically deformed crops (the boundary default) keep image and membranes
    # aligned: membranes stay dark, and each crop differs from an undeformed one
    deformed = CropDataset(
        samples, (96, 96), 6, seed=1, targets=get_training("boundary").targets, elastic=True
    )
    for index in range(6):
        image, edges, foreground, weights = deformed[index]
        assert image.shape == (1, 96, 96) and edges.shape == weights.shape == (96, 96)
        assert image[0][edges > 0].mean() < image[0][edges == 0].mean() - 0.1
        assert not np.array_equal(image, dataset[index][0])


def test_cli_trains_a_boundary_model_that_segments_a_stack(tmp_path, isbi):
    out = tmp_path / "membranes"
    test_slices = ",".join(f"{i:02d}" for i in range(3, 20))
    args = ["train", "boundary", "--data", str(isbi), "--out", str(out), "--exclude"]
    args += [test_slices, "--holdout", "02", "--epochs", "2", "--steps-per-epoch", "3"]
    args += ["--batch-size", "2", "--patch", "96", "--device", "cpu", "-q"]
    assert main(args) == 0
    card = json.loads((out / "card.json").read_text())
    assert card["method"] == "boundary"
    assert card["architecture"]["args"]["out_channels"] == [2]
    assert card["training"]["config"]["elastic"] is True  # the boundary default, recorded
    log = [json.loads(line) for line in (out / "train.log").read_text().splitlines()]
    assert len(log) == 2 and all(0.0 <= entry["val_vrand"] <= 1.0 for entry in log)
    assert card["training"]["best_val_vrand"] == max(entry["val_vrand"] for entry in log)

    import tifffile

    stack = np.stack([tifffile.imread(isbi / "images" / f"{i:02d}.tif") for i in (16, 17)])
    model = load_model(out)
    result = run_steps(segment_steps(stack, model, "ZYX", spacing=(50.0, 4.0, 4.0)))
    assert result.labels.shape == stack.shape
    [prediction] = result.predictions
    assert prediction.arrays["boundary"].shape == (1, *stack.shape)
    assert prediction.meta["spacing"] == (50.0, 4.0, 4.0)
    assert result.recipe()["spacing"] == [50.0, 4.0, 4.0]


def test_evaluate_scores_cells_against_membrane_ground_truth(tmp_path, isbi, capsys):
    import tifffile

    membranes = tifffile.imread(isbi / "boundaries" / "16.tif")
    cells = ndimage.label(membranes == 0)[0]
    tifffile.imwrite(tmp_path / "perfect.tif", cells.astype(np.uint16))
    merged = cells.copy()
    merged[merged == 2] = 1  # one false merge
    tifffile.imwrite(tmp_path / "merged.tif", merged.astype(np.uint16))
    gt = str(isbi / "boundaries" / "16.tif")
    scores = {}
    for name in ("perfect", "merged"):
        out = tmp_path / f"{name}.json"
        args = ["evaluate", str(tmp_path / f"{name}.tif"), gt, "--gt-boundaries"]
        assert main([*args, "--metric", "vrand", "--json", str(out), "-q"]) == 0
        scores[name] = json.loads(out.read_text())
    assert scores["perfect"]["vrand"] == 1.0 and scores["perfect"]["voi"] == 0.0
    assert scores["merged"]["vrand"] < 1.0 and scores["merged"]["voi_merge"] > 0
