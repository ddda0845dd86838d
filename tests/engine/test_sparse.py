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

    with pytest.raises(ValueError, match="trained with ignore_label=999; resume with the same"):
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


def test_training_leaves_the_unannotated_part_out_of_validation(tmp_path, nuclei_sample, capsys):
    """Scored on a sparsely annotated hold-out, the bundled model is judged on the annotated
    half only with --ignore-label; without it, everything it finds in the other half counts as
    false and the painted half as one missed object, and the run warns, naming the flag."""
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
        painted = f"label {UNANNOTATED} covers 50% of the pixels"
        err = capsys.readouterr().err
        assert (painted in err and f"--ignore-label {UNANNOTATED}" in err) == (name == "naive")
    card = json.loads((tmp_path / "sparse" / "card.json").read_text())
    assert card["training"]["config"]["ignore_label"] == UNANNOTATED
    assert scores["sparse"] > 0.8 and scores["naive"] < scores["sparse"] - 0.3


def test_a_label_nobody_painted_is_refused(tmp_path, nuclei_sample, capsys):
    data = _sparse_folder(tmp_path / "data", nuclei_sample)
    args = ["--data", str(data), "--out", str(tmp_path / "m"), "--device", "cpu"]
    for method in ("embedding", "patches"):
        assert main(["train", method, *args, "--ignore-label", "60000"]) == 1
        assert "ignore label 60000: no pixel" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def _sparse_worms(data_dir, well="E03"):
    """A BBBC010 well as a user who annotated only the right half would leave it: the worms
    mostly on the left dropped, and a last plane of UNANNOTATED over the left half except
    where a kept worm lies (they were annotated whole)."""
    root = data_dir / "worms_bbbc010"
    image = tifffile.imread(root / "gfp" / f"{well}.tif")  # the brightfield images (README)
    worms = tifffile.imread(root / "worm_masks" / f"{well}.tif") > 0
    half = worms.shape[2] // 2
    right = np.array([m[:, half:].sum() > m[:, :half].sum() for m in worms])
    kept = worms[right]
    mark = np.zeros(worms.shape[1:], np.uint16)
    mark[:, :half] = UNANNOTATED
    mark[kept.any(axis=0)] = 0
    stack = np.concatenate([kept.astype(np.uint16), mark[None]])
    return image, worms, kept, stack, mark > 0


def test_mask_stacks_mark_the_unannotated_part_in_any_plane(tmp_path, data_dir, capsys):
    """Overlapping masks (patches): pixels of N in a plane of the stack are not annotated;
    the plane is no object, and a real object's mask is cut where N is painted over it."""
    from tessella.engine.evaluation import mask_stack_objects
    from tessella.engine.train.overlapping import bitmask_to_stack, load_overlapping_pairs

    image, worms, kept, stack, marked = _sparse_worms(data_dir)
    assert 3 <= len(kept) < len(worms)
    for sub, array in (("images", image), ("masks", stack)):
        (tmp_path / sub).mkdir()
        tifffile.imwrite(tmp_path / sub / "w.tif", array)
    (sample,) = load_overlapping_pairs(tmp_path, ignore_label=UNANNOTATED)
    assert (sample.ignore == marked).all()
    assert (bitmask_to_stack(sample.labels) == kept).all()
    (plain,) = load_overlapping_pairs(tmp_path)  # without the option the plane is an object
    assert plain.ignore is None and len(bitmask_to_stack(plain.labels)) == len(kept) + 1
    # N painted over part of an object (in its own plane) cuts it there
    over = stack.copy()
    over[0][kept[0]] = UNANNOTATED  # the whole first worm unannotated: it is no object
    over[1][: over.shape[1] // 2][kept[1][: over.shape[1] // 2]] = UNANNOTATED
    objects, unannotated = mask_stack_objects(over, 2, UNANNOTATED)
    assert len(objects) == len(kept) - 1 and unannotated[kept[0]].all()
    assert (objects[0] == kept[1] & ~unannotated).all() and not objects[0][
        : over.shape[1] // 2
    ].any()
    # N is the value of every object (a 0/N stack): refused, naming the file
    binary = kept.astype(np.uint16) * 255
    for stack in (binary, binary[:1]):  # one plane or several: refused alike
        with pytest.raises(ValueError, match="b.tif: ignore label 255 is the value of every"):
            mask_stack_objects(stack, 2, 255, "b.tif")
    tifffile.imwrite(tmp_path / "masks" / "w.tif", binary)
    args = ["--data", str(tmp_path), "--out", str(tmp_path / "m"), "--device", "cpu"]
    assert main(["train", "patches", *args, "--ignore-label", "255"]) == 1
    assert "ignore label 255 is the value of every object mask" in capsys.readouterr().err
    assert not (tmp_path / "m").exists()


def test_patches_training_validates_the_annotated_part_only(tmp_path, data_dir):
    """worms2d scored on a sparsely annotated well (its own validation well E03): with
    --ignore-label the worms it finds in the unannotated half are not counted, and the
    painted plane is not a missed object; without it, both count against it."""
    image, _worms, _kept, stack, _marked = _sparse_worms(data_dir)
    data = tmp_path / "data"
    for sub, array in (("images", image), ("masks", stack)):
        (data / sub).mkdir(parents=True)
        tifffile.imwrite(data / sub / "w.tif", array)
    common = ["--data", str(data), "--val-data", str(data), "--base", "worms2d"]
    common += ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "1", "--patch", "64"]
    common += ["--device", "cpu"]
    scores = {}
    for name, extra in (("sparse", ["--ignore-label", str(UNANNOTATED)]), ("naive", [])):
        out = tmp_path / name
        assert main(["train", "patches", *common, "--out", str(out), *extra]) == 0
        log = [json.loads(x) for x in (out / "train.log").read_text().splitlines()]
        scores[name] = log[0]["val_avs"]  # epoch 0: the bundled model itself
    card = json.loads((tmp_path / "sparse" / "card.json").read_text())
    assert card["training"]["config"]["ignore_label"] == UNANNOTATED
    assert scores["sparse"] > 0.6 and scores["naive"] < scores["sparse"] - 0.2, scores


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
    assert main(["evaluate", *bad, str(UNANNOTATED), "--ctc"]) == 1  # refused, not ignored
    assert "does not apply to --ctc or --frames" in capsys.readouterr().err


def test_evaluate_overlapping_scores_the_annotated_part(tmp_path, data_dir, capsys):
    """Every worm of a well, scored against its right half's annotation (a mask stack with a
    plane of N): perfect with --ignore-label, worse without it (the worms on the left count as
    false, the plane as a missed object)."""
    _image, worms, _kept, stack, _marked = _sparse_worms(data_dir)
    tifffile.imwrite(tmp_path / "gt.tif", stack)
    tifffile.imwrite(tmp_path / "pred.tif", worms.astype(np.uint8))
    scores = {}
    for name, extra in (("sparse", ["--ignore-label", str(UNANNOTATED)]), ("naive", [])):
        out = tmp_path / f"{name}.json"
        args = [str(tmp_path / "pred.tif"), str(tmp_path / "gt.tif"), "--overlapping", "-q"]
        assert main(["evaluate", *args, "--json", str(out), *extra]) == 0
        scores[name] = json.loads(out.read_text())
    assert scores["sparse"]["avs"] == 1.0
    assert scores["naive"]["ap"]["0.5"] < 0.8
    args = [str(tmp_path / "pred.tif"), str(tmp_path / "gt.tif"), "--overlapping"]
    assert main(["evaluate", *args, "--ignore-label", "60000"]) == 1
    assert "--ignore-label 60000: no ground-truth pixel has it" in capsys.readouterr().err


def test_an_unannotated_label_among_the_object_ids_is_warned(tmp_path, nuclei_sample, capsys):
    """An unannotated label smaller than some object ID may be an object's ID: evaluate and
    train say so (once per file), naming the file and a safe value, and go ahead."""
    _image, labels = nuclei_sample
    sparse = labels.astype(np.int32)
    value = 2  # an ID an object has
    sparse[:, :256] = value
    tifffile.imwrite(tmp_path / "gt.tif", sparse)
    tifffile.imwrite(tmp_path / "pred.tif", labels.astype(np.int32))
    args = [str(tmp_path / "pred.tif"), str(tmp_path / "gt.tif"), "-q"]
    assert main(["evaluate", *args, "--ignore-label", str(value)]) == 0
    err = capsys.readouterr().err
    assert f"unannotated label {value} is among its object IDs" in err and "gt.tif" in err
    assert main(["evaluate", *args, "--ignore-label", str(UNANNOTATED)]) == 1  # none painted
    capsys.readouterr()
    data = _sparse_folder(tmp_path / "data", nuclei_sample)
    tifffile.imwrite(data / "masks" / "s.tif", sparse)
    train = ["train", "embedding", "--data", str(data), "--val-data", str(data), "--base"]
    train += ["nuclei2d", "--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "1"]
    train += ["--patch", "64", "--device", "cpu", "-q", "--out", str(tmp_path / "m")]
    assert main([*train, "--ignore-label", str(value)]) == 0
    warned = f"warning: unannotated label {value} is among the object IDs of s.tif (up to"
    assert warned in capsys.readouterr().err


def test_a_crop_with_nothing_annotated_has_a_finite_patches_loss():
    """Every pixel of a patches crop unannotated (or padding): the number-of-instances term
    was a mean over no pixel, NaN, which made the weights NaN after the step."""
    import torch

    from tessella.engine.train.methods import _patch_loss

    class Decoder:
        def decode(self, codes):
            return codes[:, :9]

    raw = torch.randn(1, 3 + 9, 8, 8, requires_grad=True)
    numinst = torch.full((1, 8, 8), -100)
    coords = torch.zeros((1, 2, 2), dtype=torch.long)
    loss = _patch_loss(raw, (numinst, coords, torch.zeros(2, 9), torch.zeros(2, 9)), 2, Decoder())
    loss.backward()
    assert float(loss.detach()) == 0.0 and bool((raw.grad == 0).all())
