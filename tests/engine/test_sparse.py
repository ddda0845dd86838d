"""Sparse annotations: a label value marks where nothing was annotated (``--ignore-label``);
those pixels are left out of the loss and of validation instead of counting as background."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine.evaluation import without_ignored
from tessella.engine.train.data import Sample, apply_ignore_label

UNANNOTATED = 999


def _sample(labels, name="a", ignore=None) -> Sample:
    return Sample(np.zeros((1, *labels.shape), np.float32), labels, name, ignore=ignore)


def test_the_marked_label_becomes_ignored_background_and_nothing_else_changes():
    labels = np.zeros((6, 8), np.int32)
    labels[1:3, 1:3], labels[4:6, 5:8] = 1, 2
    labels[:, 4] = UNANNOTATED
    earlier = np.zeros((6, 8), bool)
    earlier[0, 0] = True  # e.g. the temporal loader's unannotated cells
    marked, plain = apply_ignore_label(
        [_sample(labels.copy(), "m", earlier), _sample(labels[:, :4].copy(), "p")], UNANNOTATED
    )
    assert (marked.ignore == ((labels == UNANNOTATED) | earlier)).all()
    assert not (marked.labels == UNANNOTATED).any()
    assert (marked.labels[labels != UNANNOTATED] == labels[labels != UNANNOTATED]).all()
    assert plain.ignore is None and plain.labels.shape == (6, 4)  # nothing marked: as it was
    assert (labels == UNANNOTATED).sum() == 6  # the caller's arrays are left alone
    with pytest.raises(ValueError, match="ignore label 0: 0 is background"):
        apply_ignore_label([_sample(labels)], 0)
    with pytest.raises(ValueError, match="ignore label 7: no pixel of the 1 training"):
        apply_ignore_label([_sample(labels)], 7)
    # boundary maps are marked when read (their labels are the insides, not the map's values)
    membranes = Sample(np.zeros((1, 6, 8), np.float32), labels, "m", boundary=labels > 1)
    with pytest.raises(ValueError, match="no pixel of the 1 training"):
        apply_ignore_label([membranes], UNANNOTATED)
    read = Sample(membranes.image, labels, "m", boundary=labels > 1, ignore=labels == 2)
    assert apply_ignore_label([read], UNANNOTATED) == [read]


def test_boundary_maps_with_an_unannotated_part_train(tmp_path, data_dir):
    """An ISBI 2012 membrane map whose left half is painted N: that half is neither membrane
    nor cell when read, and a boundary model trains on the rest."""
    image = tifffile.imread(data_dir / "em_membranes_isbi2012" / "images" / "00.tif")
    membranes = tifffile.imread(data_dir / "em_membranes_isbi2012" / "boundaries" / "00.tif")
    painted = (membranes > 0).astype(np.uint16)
    painted[:, :256] = UNANNOTATED
    root = tmp_path / "data"
    for sub, array in (("images", image), ("boundaries", painted)):
        (root / sub).mkdir(parents=True)
        tifffile.imwrite(root / sub / "a.tif", array)
    from tessella.engine.train.data import load_folder_pairs

    [sample] = load_folder_pairs(root, "YX", 1, {}, ignore_label=UNANNOTATED)
    assert sample.ignore[:, :256].all() and not sample.ignore[:, 256:].any()
    assert not sample.boundary[:, :256].any() and sample.boundary[:, 256:].any()
    assert not sample.labels[:, :256].any()
    [plain] = load_folder_pairs(root, "YX", 1, {})
    assert plain.ignore is None and plain.boundary[:, :256].all()  # without: all membrane
    unpainted = tmp_path / "unpainted"
    for sub, array in (("images", image), ("boundaries", (membranes > 0).astype(np.uint8))):
        (unpainted / sub).mkdir(parents=True)
        tifffile.imwrite(unpainted / sub / "a.tif", array)
    with pytest.raises(ValueError, match="a.tif: ignore label 1 is its membrane value"):
        load_folder_pairs(unpainted, "YX", 1, {}, ignore_label=1)  # 0/1: 1 is the membrane
    # the same map scores a prediction on its annotated half only (tessella evaluate): every
    # cell of the complete map, those of the unannotated half not counted as false
    from scipy import ndimage

    cells = ndimage.label(membranes == 0)[0].astype(np.int32)
    tifffile.imwrite(tmp_path / "cells.tif", cells)
    gt = [str(tmp_path / "cells.tif"), str(root / "boundaries" / "a.tif"), "--gt-boundaries"]
    scored = {}
    for name, extra in (("sparse", ["--ignore-label", str(UNANNOTATED)]), ("naive", [])):
        assert main(["evaluate", *gt, *extra, "-q", "--json", str(tmp_path / f"{name}.json")]) == 0
        scored[name] = json.loads((tmp_path / f"{name}.json").read_text())["ap"]["0.5"]
    assert scored["sparse"] > 0.9 and scored["naive"] < scored["sparse"] - 0.2
    out = tmp_path / "m"
    args = ["train", "boundary", "--data", str(root), "--val-data", str(root), "--out", str(out)]
    args += ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "1", "--patch", "64"]
    args += ["--features", "4,8", "--device", "cpu", "--ignore-label", str(UNANNOTATED)]
    assert main(args) == 0
    card = json.loads((out / "card.json").read_text())
    assert card["training"]["config"]["ignore_label"] == UNANNOTATED


def test_the_training_crops_carry_the_unannotated_part(tmp_path, nuclei_sample, monkeypatch):
    """Not only the hold-out: the samples the crops are cut from have the painted part as
    ignored background, and a resumed run must keep the setting."""
    import tessella.engine.train.loop as loop
    from tessella.engine.train import TrainConfig, train

    seen = []

    class Recording(loop.CropDataset):
        def __init__(self, samples, *args, **kwargs):
            seen.extend(samples)
            super().__init__(samples, *args, **kwargs)

    monkeypatch.setattr(loop, "CropDataset", Recording)
    data = _sparse_folder(tmp_path / "data", nuclei_sample)
    config = TrainConfig(
        method="embedding",
        data=str(data),
        val_data=str(data),
        out=str(tmp_path / "m"),
        epochs=1,
        steps_per_epoch=1,
        batch_size=1,
        patch=64,
        features=(8, 16),
        device="cpu",
        ignore_label=UNANNOTATED,
    )
    train(config)
    [sample] = seen
    assert sample.ignore[:, :256].all() and not sample.ignore[:, 256:].any()
    assert not (sample.labels == UNANNOTATED).any() and sample.labels[:, 256:].any()
    from dataclasses import replace

    with pytest.raises(ValueError, match="trained with --ignore-label 999; resume with the"):
        train(replace(config, ignore_label=None, resume=True, epochs=2))


def test_objects_mostly_in_the_unannotated_part_are_not_scored():
    predicted = np.zeros((10, 10), np.int32)
    predicted[1:4, 1:4] = 1  # wholly annotated
    predicted[5:9, 3:7] = 2  # 12 of its 16 pixels unannotated
    predicted[0:4, 6:9] = 3  # 3 of its 12 pixels unannotated
    ignore = np.zeros((10, 10), bool)
    ignore[:, 4:] = True
    ignore[:3, :] = False
    kept = without_ignored(predicted, ignore)
    assert set(np.unique(kept)) == {0, 1, 3}
    assert (kept[predicted == 1] == 1).all()
    assert (kept[ignore] == 0).all() and (kept == 3).sum() == 9  # cut at the edge
    # an annotated object that crosses into the unannotated part is found whole: cut at the
    # edge as its annotation is, and matched, even though most of it lies beyond
    truth = np.zeros((10, 10), np.int32)
    truth[5:9, 3] = 8
    kept = without_ignored(predicted, ignore, truth)
    assert set(np.unique(kept)) == {0, 1, 2, 3} and ((kept == 2) == (truth == 8)).all()
    assert without_ignored(predicted.astype(np.uint16) * 1000, ignore).dtype == np.uint16


def _sparse_folder(root, nuclei_sample):
    """The sample image with its left half unannotated (painted UNANNOTATED), as a user who
    labelled only the right half would leave it."""
    image, labels = nuclei_sample
    sparse = labels.astype(np.int32)
    sparse[:, :256] = UNANNOTATED
    for sub, array in (("images", image), ("masks", sparse)):
        (root / sub).mkdir(parents=True)
        tifffile.imwrite(root / sub / "s.tif", array)
    return root


def test_training_leaves_the_unannotated_part_out_of_validation(tmp_path, nuclei_sample):
    """Scored on a sparsely annotated hold-out, the bundled model is judged on the annotated
    half only with --ignore-label; without it, everything it finds in the other half counts as
    false and the painted half as one missed object."""
    data = _sparse_folder(tmp_path / "data", nuclei_sample)
    common = ["--data", str(data), "--val-data", str(data), "--base", "nuclei2d"]
    common += ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "1", "--patch", "64"]
    common += ["--device", "cpu"]
    scores = {}
    for name, extra in (("sparse", ["--ignore-label", str(UNANNOTATED)]), ("naive", [])):
        out = tmp_path / name
        assert main(["train", "embedding", *common, "--out", str(out), *extra]) == 0
        log = [json.loads(x) for x in (out / "train.log").read_text().splitlines()]
        scores[name] = log[0]["val_ap50"]  # epoch 0: the bundled model itself
    card = json.loads((tmp_path / "sparse" / "card.json").read_text())
    assert card["training"]["config"]["ignore_label"] == UNANNOTATED
    assert scores["sparse"] > 0.8 and scores["naive"] < scores["sparse"] - 0.3


def test_a_label_nobody_painted_or_the_patches_method_is_refused(tmp_path, nuclei_sample, capsys):
    data = _sparse_folder(tmp_path / "data", nuclei_sample)
    args = ["--data", str(data), "--out", str(tmp_path / "m"), "--device", "cpu"]
    assert main(["train", "embedding", *args, "--ignore-label", "60000"]) == 1
    assert "ignore label 60000: no pixel" in capsys.readouterr().err
    assert main(["train", "patches", *args, "--ignore-label", str(UNANNOTATED)]) == 1
    assert "stacks of overlapping objects" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_evaluate_scores_sparse_ground_truth_on_its_annotated_part(tmp_path, nuclei_sample, capsys):
    """The complete labels, scored against the half that was annotated: perfect with
    --ignore-label (objects crossing into the unannotated half are cut as their annotation
    is), and not without it."""
    _image, labels = nuclei_sample
    sparse = labels.astype(np.int32)
    sparse[:, :256] = UNANNOTATED
    tifffile.imwrite(tmp_path / "gt.tif", sparse)
    tifffile.imwrite(tmp_path / "pred.tif", labels.astype(np.int32))
    scores = {}
    for name, extra in (("sparse", ["--ignore-label", str(UNANNOTATED)]), ("naive", [])):
        out = tmp_path / f"{name}.json"
        args = [str(tmp_path / "pred.tif"), str(tmp_path / "gt.tif"), "--json", str(out), "-q"]
        assert main(["evaluate", *args, *extra]) == 0
        scores[name] = json.loads(out.read_text())
    assert all(v == 1.0 for v in scores["sparse"]["ap"].values())
    assert scores["naive"]["ap"]["0.5"] < 0.7
    bad = [str(tmp_path / "pred.tif"), str(tmp_path / "gt.tif"), "--ignore-label"]
    assert main(["evaluate", *bad, "60000"]) == 1
    assert "--ignore-label 60000: no ground-truth pixel has it" in capsys.readouterr().err
    # a binary mask (semantic ground truth): objects are its components, minus the N part
    binary = np.where(sparse == UNANNOTATED, UNANNOTATED, sparse > 0).astype(np.int32)
    tifffile.imwrite(tmp_path / "binary.tif", binary)
    out = tmp_path / "binary.json"
    args = [str(tmp_path / "pred.tif"), str(tmp_path / "binary.tif"), "--gt-binary", "-q"]
    assert main(["evaluate", *args, "--ignore-label", str(UNANNOTATED), "--json", str(out)]) == 0
    touching = json.loads(out.read_text())["ap"]["0.5"]  # touching nuclei merge in the mask
    assert scores["naive"]["ap"]["0.5"] < touching <= 1.0
    for mode in ("--overlapping", "--ctc"):  # scored otherwise: refused, not ignored
        assert main(["evaluate", *bad, str(UNANNOTATED), mode]) == 1
        assert "does not apply to --ctc, --frames or --overlapping" in capsys.readouterr().err
