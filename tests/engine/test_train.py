"""Training runs for real (briefly) in 2D and 3D, resumes, and writes a loadable model."""

import json
import re
import warnings

import numpy as np
import pytest
import tifffile
import torch

from tessella.cli import main
from tessella.engine.pipeline import segment
from tessella.engine.registry import load_model
from tessella.engine.train.data import CropDataset, Sample, deform, deform_margin, medoid_map
from tessella.engine.train.losses import embedding_loss, lovasz_hinge_rows


def test_lovasz_hinge_is_zero_for_perfect_margins_and_positive_otherwise():
    labels = torch.tensor([[1.0, 1.0, 0.0, 0.0]])
    perfect = torch.tensor([[2.0, 2.0, -2.0, -2.0]])
    assert float(lovasz_hinge_rows(perfect, labels)[0]) == 0.0
    wrong = torch.tensor([[-1.0, 2.0, 2.0, -2.0]])
    assert float(lovasz_hinge_rows(wrong, labels)[0]) > 0.5


def test_medoid_lies_inside_a_non_convex_object():
    labels = np.zeros((40, 40), np.int32)
    labels[5:35, 5:10] = 1  # an L shape: its centroid is outside it
    labels[30:35, 5:35] = 1
    centre = np.argwhere(medoid_map(labels, np.random.default_rng(0)))
    assert len(centre) == 1 and labels[tuple(centre[0])] == 1


def test_loss_is_lower_for_the_ideal_output_than_for_a_random_one():
    labels = np.zeros((1, 32, 32), np.int64)
    labels[0, 4:12, 4:12] = 1
    labels[0, 18:28, 16:30] = 2
    centres = torch.from_numpy(np.stack([medoid_map(labels[0], np.random.default_rng(0))]))
    spacing = (1 / 1024, 1 / 1024)
    ideal = torch.zeros(1, 5, 32, 32)
    coords = np.indices((32, 32)).astype(np.float32)
    for index in (1, 2):
        mask = labels[0] == index
        centre = np.argwhere(centres[0].numpy() & mask)[0]
        for d in range(2):
            raw = np.arctanh((centre[d] - coords[d][mask]) / 1024).astype(np.float32)
            ideal[0, d][torch.from_numpy(mask)] = torch.from_numpy(raw)
    ideal[0, 2:4] = 1.35  # sigma: phi = 0.5 about 1 pixel from the centre
    ideal[0, 4] = torch.from_numpy(np.where(labels[0] > 0, 4.0, -4.0))
    random = torch.randn(1, 5, 32, 32)
    good, _ = embedding_loss(ideal, torch.from_numpy(labels), centres, spacing)
    bad, _ = embedding_loss(random, torch.from_numpy(labels), centres, spacing)
    assert float(good) < float(bad)


def test_crops_are_deterministic_and_have_one_medoid_per_object(nuclei_sample):
    image, labels = nuclei_sample
    sample = Sample(image[None].astype(np.float32) / 255, labels.astype(np.int32), "s")
    dataset = CropDataset([sample], (128, 128), length=4, seed=3)
    a, b = dataset[1], dataset[1]
    np.testing.assert_array_equal(a[0], b[0])
    crop_labels, centres = a[1], a[2]
    assert crop_labels.shape == (128, 128)
    assert centres.sum() == len(np.unique(crop_labels)) - 1


def test_a_patch_bigger_than_a_training_image_is_reported(nuclei_sample):
    """Crops of an image smaller than the patch are mirrored to fit and the mirrored part is
    left out of the loss (a volume's slab shorter than a 3D patch, say): the user is told
    which image."""
    image, labels = nuclei_sample
    big = Sample(image[None].astype(np.float32) / 255, labels.astype(np.int32), "big")
    small = Sample(big.image[:, :60, :90], big.labels[:60, :90], "tiny-one")
    with pytest.warns(
        UserWarning, match=r"1 of 2 training images .* patch 64x64 .*tiny-one, 60x90"
    ):
        dataset = CropDataset([big, small], (64, 64), length=4)
    _, crop_labels, _, ignore = dataset._crop(small, np.random.default_rng(0))
    assert crop_labels.shape == ignore.shape == (64, 64)
    assert ignore[60:].all() and not ignore[:60].any()  # the mirrored rows, and only they
    assert not dataset._crop(big, np.random.default_rng(0))[3].any()  # same structure
    # the embedding targets mark the ignored pixels -1, with no medoid there
    for i in range(4):
        _, target_labels, centres = dataset[i]
        assert target_labels.min() >= -1 and not centres[target_labels < 0].any()
    assert any((dataset[i][1] == -1).any() for i in range(4))
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        plain = CropDataset([big, small], (60, 64), length=4)  # fits every image: silent
    assert len(plain[0]) == 3 and plain[0][1].min() >= 0  # no ignore mask where none is needed


def _ignored_marks(method: str, targets) -> np.ndarray:
    """Where a method's crop targets mark pixels as ignored."""
    if method == "embedding":
        return targets[0] == -1
    if method == "patches":
        return targets[0] == -100
    if method == "semantic" and len(targets) == 1:  # no weights: nothing is ignored
        return np.zeros(targets[0].shape, bool)
    return targets[-1] == 0  # semantic and boundary: a zero weight


@pytest.mark.parametrize("method", ["embedding", "semantic", "boundary", "patches"])
@pytest.mark.parametrize("elastic", [False, True])
def test_padded_crops_of_every_method_batch_together_and_mark_the_padding(method, elastic):
    """Each method's targets mark a small image's padding as ignored, also when elastic
    deformation reads a margin beyond the patch (an image as big as the patch is then padded
    too), and crops of small and big images still form one batch."""
    from torch.utils.data import default_collate

    from tessella.engine.train.methods import _configure_patches, get_training

    rng = np.random.default_rng(0)
    labels = np.zeros((100, 100), np.int32)
    labels[10:40, 10:40], labels[60:95, 50:90] = 1, 2
    image = (labels > 0)[None].astype(np.float32) + rng.normal(0, 0.1, (1, 100, 100))
    training = get_training(method)
    targets = training.targets
    if method == "patches":
        targets = _configure_patches(type("Config", (), {"patch_size": 9})())
        labels = labels.astype(np.int64)  # as bitmasks: objects 1 and 2 are bits 0 and 1
    samples = [
        Sample(image.astype(np.float32), labels, "big"),
        Sample(image[:, :, :64].astype(np.float32), labels[:, :64], "as-wide-as-the-patch"),
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # neither is smaller than the patch: no warning
        dataset = CropDataset(
            samples,
            (64, 64),
            12,
            targets=targets,
            relabel=not training.overlapping,
            elastic=elastic,
        )
    assert dataset.with_ignore == elastic  # only the elastic margin needs padding
    items = [dataset[i] for i in range(12)]
    batch = default_collate(items)
    assert all(tuple(t.shape[:1]) == (12,) for t in batch)
    marked = [_ignored_marks(method, [np.asarray(t) for t in item[1:]]).mean() for item in items]
    if elastic:  # some crops of the 64-wide image reach into its padding
        assert max(marked) > 0
    else:
        assert max(marked) == 0


def test_boundary_targets_put_no_edge_where_an_object_meets_the_padding():
    """The padding mirrors the image, so an object reaching it goes on there: its last real
    row is no boundary (it would be taught as one if the padding counted as background)."""
    from tessella.engine.train.methods import get_training

    labels = np.zeros((32, 32), np.int32)
    labels[10:22, 5:20] = 1  # touches row 22, the first padded one
    ignore = np.zeros((32, 32), bool)
    ignore[22:] = True
    edges, _, weights = get_training("boundary").targets(
        labels, None, np.random.default_rng(0), ignore=ignore
    )
    assert edges[21, 7:18].max() == 0 and weights[21, 7:18].min() >= 1  # taught: inside
    assert edges[10, 7:18].min() == 1  # the real top edge is still one
    assert weights[ignore].max() == 0


def _ignored_crop_targets(method: str):
    """A 32x32 crop whose last 10 rows are ignored: (the method's training, its targets as
    a batch of one, the ignore mask, the network's output channels)."""
    from tessella.engine.train.methods import _configure_patches, get_training

    labels = np.zeros((32, 32), np.int32)
    labels[4:14, 4:14] = 1
    labels[16:30, 18:28] = 2  # reaches into the ignored rows
    ignore = np.zeros((32, 32), bool)
    ignore[22:] = True
    labels[ignore] = 0  # padding is background in the labels, as CropDataset pads them
    training = get_training(method)
    targets = training.targets
    if method == "patches":
        targets = _configure_patches(type("C", (), {"patch_size": 9})())
    made = targets(labels, None, np.random.default_rng(0), ignore=ignore)
    tensors = [torch.from_numpy(np.asarray(t))[None] for t in made]
    channels = {"embedding": 5, "semantic": 1, "boundary": 2, "patches": 3 + 4}
    return training, tensors, ignore, channels[method]


@pytest.mark.parametrize("method", ["embedding", "semantic", "boundary", "patches"])
def test_ignored_pixels_take_no_part_in_the_loss(method):
    """What the network predicts on ignored pixels (a small image's padding) changes neither
    the loss nor its gradient there; what it predicts elsewhere does."""
    from tessella.engine.models.patches import PatchUNet

    training, targets, ignore, channels = _ignored_crop_targets(method)
    kwargs = {}
    if method == "patches":  # the patch decoder: any small network with ``decode`` will do
        kwargs["network"] = PatchUNet(features=(4, 8), code=4, patch=9, hidden=16)
    torch.manual_seed(0)
    raw = torch.randn(1, channels, 32, 32, requires_grad=True)
    loss = training.loss(raw, targets, 2, **kwargs)
    loss.backward()
    loss = loss.detach()
    mask = torch.from_numpy(ignore)
    assert float(raw.grad[0][:, mask].abs().max()) == 0.0
    assert float(raw.grad[0][:, ~mask].abs().max()) > 0.0
    changed = raw.detach().clone()
    changed[0][:, mask] = torch.randn(channels, int(mask.sum())) * 5
    elsewhere = raw.detach().clone()
    elsewhere[0][:, ~mask] += 1.0
    with torch.no_grad():
        assert float(training.loss(changed, targets, 2, **kwargs)) == pytest.approx(float(loss))
        assert float(training.loss(elsewhere, targets, 2, **kwargs)) != pytest.approx(float(loss))


def _write_pairs(root, images, masks):
    for sub in ("images", "masks"):
        (root / sub).mkdir(parents=True)
    for i, (image, mask) in enumerate(zip(images, masks)):
        tifffile.imwrite(root / "images" / f"{i}.tif", image)
        tifffile.imwrite(root / "masks" / f"{i}.tif", mask)


def test_deform_keeps_instance_ids_and_alignment_and_treats_z_alike():
    rng = np.random.default_rng(3)
    margin = deform_margin(64)
    size = 64 + 2 * margin
    labels = np.zeros((size, size), np.int32)
    labels[20:70, 30:60], labels[80:110, 75:120] = 4, 9
    image = (labels > 0)[None].astype(np.float32)
    moved = 0
    for _ in range(10):
        warped, (warped_labels,) = deform(image, [labels], rng, (64, 64), blur=0.0)
        assert warped.shape == (1, 64, 64) and warped_labels.dtype == np.int32
        assert set(np.unique(warped_labels)) <= {0, 4, 9}  # nearest sampling: IDs exact
        # image (linear) and labels (nearest) sample the same positions
        assert np.mean((warped[0] > 0.5) == (warped_labels > 0)) > 0.98
        centre = labels[margin:-margin, margin:-margin]
        moved += not np.array_equal(warped_labels, centre)
    assert moved == 10
    # a stack: every section gets the same in-plane field, z is not mixed
    volume = np.stack([labels, labels * 0, labels])
    _, (warped_volume,) = deform(volume[None].astype(np.float32), [volume], rng, (3, 64, 64))
    assert np.array_equal(warped_volume[0], warped_volume[2]) and not warped_volume[1].any()


def test_deform_keeps_the_high_bits_of_a_bitmask():
    # overlapping objects travel as an int64 bitmask; bit 62 is the 63rd object. Sampling
    # through float64 (as map_coordinates does) rounds 2**62 + 1 to 2**62
    rng = np.random.default_rng(0)
    size = 64 + 2 * deform_margin(64)
    bits = np.zeros((size, size), np.int64)
    bits[30:100, 30:100] = (1 << 62) | 1
    bits[60:120, 60:120] |= 1 << 52
    image = (bits != 0)[None].astype(np.float32)
    for _ in range(5):
        _, (warped,) = deform(image, [bits], rng, (64, 64))
        assert warped.dtype == np.int64
        assert set(np.unique(warped)) <= set(np.unique(bits))
        assert ((warped & 1) != 0).any() and ((warped >> 62) & 1).any()


def test_cli_trains_3d_resumes_and_the_model_segments_volumes(tmp_path, data_dir, capsys):
    volume = tifffile.imread(data_dir / "fixtures" / "img3d.tif")
    mask = tifffile.imread(data_dir / "fixtures" / "mask3d.tif")
    _write_pairs(tmp_path / "data", [volume, volume[:, ::-1]], [mask, mask[:, ::-1]])
    out = tmp_path / "model3d"
    args = [
        "train",
        "embedding",
        "--data",
        str(tmp_path / "data"),
        "--out",
        str(out),
        "--ndim",
        "3",
        "--epochs",
        "1",
        "--steps-per-epoch",
        "2",
        "--batch-size",
        "1",
        "--patch",
        "32",
        "--device",
        "cpu",
        "-q",
    ]
    assert main(args) == 0  # the volumes are 31 deep: the user is told the patch is not
    err = capsys.readouterr().err  # one line, without Python's source excerpt
    assert re.search(r"^warning: 1 of 1 training images .* 32x32x32 .*31x61x57", err, re.M)
    assert "UserWarning" not in err
    card = json.loads((out / "card.json").read_text())
    assert card["input"]["axes"] == "ZYX" and card["architecture"]["args"]["ndim"] == 3
    assert main(args) == 1  # the folder holds a model: not overwritten without --resume
    assert "holds a model already" in capsys.readouterr().err
    args[args.index("--epochs") + 1] = "2"
    assert main([*args, "--resume"]) == 0
    assert "smaller than the patch" in capsys.readouterr().err
    log = [json.loads(line) for line in (out / "train.log").read_text().splitlines()]
    assert [entry["epoch"] for entry in log] == [1, 2]
    model = load_model(out)
    labels = segment(volume, model, "ZYX")
    assert labels.shape == volume.shape


def test_fine_tuning_from_a_base_model_keeps_its_architecture(
    tmp_path, tiny_model_dir, nuclei_sample
):
    image, labels = nuclei_sample
    _write_pairs(tmp_path / "data", [image[:256, :256]], [labels[:256, :256]])
    out = tmp_path / "tuned"
    assert (
        main(
            [
                "train",
                "embedding",
                "--data",
                str(tmp_path / "data"),
                "--out",
                str(out),
                "--base",
                str(tiny_model_dir),
                "--epochs",
                "1",
                "--steps-per-epoch",
                "1",
                "--batch-size",
                "1",
                "--patch",
                "128",
                "--device",
                "cpu",
                "-q",
            ]
        )
        == 0
    )
    base = json.loads((tiny_model_dir / "card.json").read_text())
    tuned = json.loads((out / "card.json").read_text())
    assert tuned["architecture"] == base["architecture"] and tuned["name"] == "tuned"


def test_bad_sizes_another_network_and_a_stopped_run_are_handled(
    tmp_path, tiny_model_dir, nuclei_sample, capsys, monkeypatch
):
    """Sizes below one step are refused naming the option; --resume of a checkpoint of
    another network is one line, not a traceback; a run stopped before its first model
    (Ctrl-C) leaves no folder; --resume with nothing to resume says it starts afresh."""
    image, labels = nuclei_sample
    _write_pairs(tmp_path / "data", [image[:256, :256]], [labels[:256, :256]])
    common = ["train", "embedding", "--data", str(tmp_path / "data"), "--device", "cpu", "-q"]
    small = ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "1", "--patch", "64"]
    for option, value in (("--epochs", "0"), ("--steps-per-epoch", "0"), ("--batch-size", "0")):
        args = [*common, *small, "--out", str(tmp_path / "m"), option, value]  # the last wins
        assert main(args) == 1
        err = capsys.readouterr().err
        assert f"{option[2:].replace('-', ' ')} 0: must be at least 1" in err, err
        assert not (tmp_path / "m").exists()
    out = tmp_path / "m"
    assert main([*common, *small, "--out", str(out), "--features", "8,16", "--resume"]) == 0
    # in the command's words (tessella.train says resume=True: ...)
    assert f"warning: --resume: {out} has no checkpoint to continue; training starts afresh" in (
        capsys.readouterr().err
    )
    assert main([*common, *small, "--out", str(out), "--features", "8,16,32", "--resume"]) == 1
    err = capsys.readouterr().err
    assert "its checkpoint holds another network" in err and "Traceback" not in err

    import tessella.engine.train.loop as loop

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(loop, "_validate", interrupted)  # Ctrl-C during the first epoch
    nested = tmp_path / "new" / "deeper" / "stopped"
    assert main([*common, *small, "--out", str(nested)]) == 130
    assert not (tmp_path / "new").exists()  # every folder the run made is gone

    # a fine-tune whose epochs have not beaten its base yet keeps its checkpoint to resume,
    # and the best model so far (the base), as Cancel does
    scores = iter([0.9, 0.1, 0.1])

    def validate(*args, **kwargs):
        score = next(scores, None)
        if score is None:
            raise KeyboardInterrupt
        return score

    monkeypatch.setattr(loop, "_validate", validate)
    tuned = tmp_path / "tuned"
    more = ["--epochs", "5", "--steps-per-epoch", "1", "--batch-size", "1", "--patch", "64"]
    assert main([*common, *more, "--out", str(tuned), "--base", str(tiny_model_dir)]) == 130
    assert (tuned / "checkpoint.pt").is_file()
    base_weights = (tiny_model_dir / "model.safetensors").read_bytes()
    assert (tuned / "model.safetensors").read_bytes() == base_weights

    # stopped while epoch 1's checkpoint was being written (after its log line, the base
    # not beaten): the epoch is checkpointed on the way out, so --resume continues it
    real_save = torch.save
    stops = iter([True])

    def save_stopped(state, path, *args, **kwargs):
        real_save(state, path, *args, **kwargs)
        if next(stops, False):
            raise KeyboardInterrupt  # (SIGTERM raises the same in the CLI)

    monkeypatch.setattr(loop, "_validate", lambda *args, **kwargs: 0.0)
    monkeypatch.setattr(torch, "save", save_stopped)
    cut = tmp_path / "cut"
    assert main([*common, *more, "--out", str(cut), "--base", str(tiny_model_dir)]) == 130
    log = [json.loads(line) for line in (cut / "train.log").read_text().splitlines()]
    assert log[-1]["epoch"] == 1
    checkpoint = torch.load(cut / "checkpoint.pt", weights_only=True)
    assert checkpoint["epoch"] == 1 and not (cut / ".checkpoint.pt.tmp").exists()
    monkeypatch.setattr(torch, "save", real_save)
    resumed = ["--epochs", "2", "--steps-per-epoch", "1", "--batch-size", "1", "--patch", "64"]
    args = [*common, *resumed, "--out", str(cut), "--base", str(tiny_model_dir), "--resume"]
    assert main(args) == 0
    log = [json.loads(line) for line in (cut / "train.log").read_text().splitlines()]
    assert [entry["epoch"] for entry in log if "epoch" in entry] == [0, 1, 2]  # 0: the base

    # a model folder without a checkpoint is not retrained over by --resume
    (out / "checkpoint.pt").unlink()
    weights = (out / "model.safetensors").read_bytes()
    assert main([*common, *small, "--out", str(out), "--features", "8,16", "--resume"]) == 1
    assert "holds a model but no checkpoint" in capsys.readouterr().err
    assert (out / "model.safetensors").read_bytes() == weights

    # the patches method's shape patch must stay within the reach that shared bits allow
    bad = ["train", "patches", "--data", str(tmp_path / "data"), "--out", str(tmp_path / "p")]
    assert main([*bad, "--patch-size", "129", "--device", "cpu"]) == 1
    assert "patch size 129: at most 127 pixels" in capsys.readouterr().err


@pytest.mark.parametrize("bad", ["missing", "mismatch"])
def test_bad_training_data_is_named(tmp_path, nuclei_sample, bad, capsys):
    image, labels = nuclei_sample
    if bad == "missing":
        (tmp_path / "data").mkdir()
    else:
        _write_pairs(tmp_path / "data", [image], [labels[:100]])
    code = main(
        [
            "train",
            "embedding",
            "--data",
            str(tmp_path / "data"),
            "--out",
            str(tmp_path / "m"),
            "--device",
            "cpu",
        ]
    )
    assert code == 1
    err = capsys.readouterr().err
    assert ("images/ and masks/" in err) if bad == "missing" else ("do not match" in err)
    assert not (tmp_path / "m").exists()  # a run that cannot start leaves nothing behind


def test_border_crops_reach_past_an_edge_mirrored_as_inference_pads():
    # a volume whose voxels hold their own (z, y, x): a crop's values say where it came from
    shape = (20, 40, 40)
    z, y, x = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    image = np.stack([z, y, x]).astype(np.float32)
    labels = (z * 10_000 + y * 100 + x + 1).astype(np.int32)
    sample = Sample(image, labels, "coords")
    patch = (12, 24, 24)
    plain = CropDataset([sample], patch, 8, border=0.0)
    mirrored = CropDataset([sample], patch, 8, border=1.0)
    seen_past = 0
    for i in range(40):
        crop, crop_labels, *_ = mirrored._crop(sample, np.random.default_rng(i))
        assert crop.shape == (3, *patch) and crop_labels.shape == patch
        np.testing.assert_array_equal(crop_labels, crop[0] * 10_000 + crop[1] * 100 + crop[2] + 1)
        for axis in range(3):
            profile = crop[axis].mean(axis=tuple(a for a in range(3) if a != axis))
            steps = np.diff(profile)
            if np.all(steps == 1):
                continue  # inside the volume along this axis
            # one turn: the crop reached past an edge and what lies beyond is the mirror
            # image of what lies inside (np.pad "reflect", as predict_tiled pads)
            if steps[0] == -1:  # past the first edge: ... 2 1 | 0 1 2 ...
                reach = int(np.argmin(profile))
                assert profile[reach] == 0
                np.testing.assert_array_equal(
                    profile[:reach], profile[reach + 1 : 2 * reach + 1][::-1]
                )
            else:  # past the last edge: ... n-2 n-1 | n-2 n-3 ...
                top = int(np.argmax(profile))
                assert profile[top] == shape[axis] - 1
                tail = profile[top + 1 :]
                np.testing.assert_array_equal(tail, profile[top - len(tail) : top][::-1])
            seen_past += 1
    assert seen_past >= 30  # border=1: (nearly) every crop reaches past one edge
    for i in range(40):  # border=0: never
        crop, *_ = plain._crop(sample, np.random.default_rng(i))
        for axis in range(3):
            profile = crop[axis].mean(axis=tuple(a for a in range(3) if a != axis))
            assert np.all(np.diff(profile) == 1)


def test_border_crops_follow_the_models_padding():
    # with edge padding (a card's defaults.pad), what lies past the edge repeats the edge
    image = np.broadcast_to(np.arange(30, dtype=np.float32)[:, None], (30, 30))[None].copy()
    sample = Sample(image, np.ones((30, 30), np.int32), "ramp")
    dataset = CropDataset([sample], (12, 12), 4, border=1.0, border_mode="edge")
    past = 0
    for i in range(30):
        crop, *_ = dataset._crop(sample, np.random.default_rng(i))
        rows = crop[0, :, 0]
        if rows[0] == rows[1] == 0 or rows[-1] == rows[-2] == 29:
            past += 1
        steps = np.diff(rows)
        assert set(np.unique(steps)) <= {0.0, 1.0}  # repeated, never mirrored back
    assert past >= 5


def test_val_orientations_score_every_orientation_of_each_holdout_image(
    tmp_path, nuclei_sample, monkeypatch
):
    """--val-orientations: the hold-out is validated in its 8 orientations (images and labels
    turned together; the image cap counts images); the card records the setting; a time-lapse
    method refuses it before anything is written."""
    from tessella.engine.train import TrainConfig, loop, train
    from tessella.engine.train.data import orientations
    from tessella.engine.tta import dihedral_transforms, transform_image

    image, labels = nuclei_sample
    sample = Sample(image[None, :128, :96].astype(np.float32), labels[:128, :96], "crop")
    sample.ignore = labels[:128, :96] == labels[5, 7]
    turned = orientations([sample])
    assert [s.name for s in turned] == [f"crop[o={k}]" for k in range(8)]
    for s, transform in zip(turned, dihedral_transforms(2)):
        assert np.array_equal(s.labels, transform_image(sample.labels, transform))
        assert np.array_equal(s.image, transform_image(sample.image, transform))
        assert np.array_equal(s.ignore, transform_image(sample.ignore, transform))
    assert len(orientations([Sample(np.zeros((1, 4, 8, 8)), np.zeros((4, 8, 8)), "v")])) == 16

    seen = []
    validate = loop._validate

    def spy(network, samples, *args, **kwargs):
        seen.append([s.name for s in samples])
        return validate(network, samples, *args, **kwargs)

    monkeypatch.setattr(loop, "_validate", spy)
    data = tmp_path / "data"
    for sub in ("images", "masks"):
        (data / sub).mkdir(parents=True)
    for i in range(3):
        tifffile.imwrite(data / "images" / f"{i}.tif", image[i * 128 : (i + 1) * 128, :128])
        tifffile.imwrite(data / "masks" / f"{i}.tif", labels[i * 128 : (i + 1) * 128, :128])
    settings = dict(epochs=1, steps_per_epoch=1, batch_size=2, patch=64, features=(8, 16))
    out = train(
        TrainConfig(
            "embedding",
            str(data),
            str(tmp_path / "m"),
            holdout=("1", "2"),
            max_val_images=1,
            val_orientations=True,
            device="cpu",
            **settings,
        )
    )
    assert seen and all(names == [f"1.tif[o={k}]" for k in range(8)] for names in seen)
    card = json.loads((out / "card.json").read_text())
    assert card["training"]["config"]["val_orientations"] is True
    with pytest.raises(ValueError, match="val orientations: the temporal method"):
        train(TrainConfig("temporal", str(data), str(tmp_path / "t"), val_orientations=True))
    assert not (tmp_path / "t").exists()


def test_colour_weight_draws_colour_images_more_often(tmp_path, nuclei_sample, capsys):
    """--colour-weight W: colour images (not grey copied into three channels) are drawn W times
    as often as single-channel ones; the card records it; a weight with nothing to weigh, or
    not above 0, is refused by name."""
    from tessella.engine.train.data import load_folder_pairs

    image, labels = nuclei_sample
    crop, crop_labels = image[:128, :128].astype(np.float32), labels[:128, :128]
    scaled = crop / crop.max()
    stained = np.stack([255 - 150 * scaled, 255 - 200 * scaled, 255 - 60 * scaled], -1)
    files = {
        "grey_a": image[:128, :128],
        "grey_b": image[128:256, :128],
        "grey_rgb": np.repeat(image[:128, :128, None], 3, -1),  # grey in three channels
        "stain": stained.astype(np.uint8),  # dark-on-bright colour, like H&E
    }
    data = tmp_path / "data"
    _write_pairs(
        data, list(files.values()), [crop_labels, labels[128:256, :128]] + [crop_labels] * 2
    )
    samples = load_folder_pairs(data, "YX", 1, {"kind": "percentile"})
    colour = {s.name: s.colour for s in samples}
    assert sum(colour.values()) == 1 and [n for n, c in colour.items() if c][0].startswith("3")

    def share(weight):
        dataset = CropDataset(samples, (64, 64), 8, colour_weight=weight)
        draws = [dataset.draw(np.random.default_rng([7, i])) for i in range(4000)]
        return np.mean([s.colour for s in draws])

    assert abs(share(1.0) - 1 / 4) < 0.03
    assert abs(share(4.0) - 4 / 7) < 0.03
    grey = [s for s in samples if not s.colour]
    with pytest.raises(ValueError, match="none of the 3 training images is in colour"):
        CropDataset(grey, (64, 64), 8, colour_weight=3.0)
    CropDataset(grey, (64, 64), 8)  # weight 1: nothing to check

    common = ["--data", str(data), "--device", "cpu", "--epochs", "1", "--steps-per-epoch", "1"]
    common += ["--batch-size", "2", "--patch", "64", "--features", "8,16", "-q"]
    out = tmp_path / "m"
    assert main(["train", "embedding", "--out", str(out), "--colour-weight", "3", *common]) == 0
    card = json.loads((out / "card.json").read_text())
    assert card["training"]["config"]["colour_weight"] == 3.0
    assert (
        main(["train", "embedding", "--out", str(tmp_path / "z"), "--colour-weight", "0", *common])
        == 1
    )
    assert "colour weight 0.0: must be above 0" in capsys.readouterr().err
    assert not (tmp_path / "z").exists()


def test_bad_features_time_budget_exclusions_and_checkpoints_are_one_line(
    tmp_path, nuclei_sample, capsys
):
    """--features 0,0, a time budget of 0 or less, an --exclude that names no file (as
    --holdout refuses) and a corrupt checkpoint to --resume: one line each, nothing left."""
    image, labels = nuclei_sample
    _write_pairs(tmp_path / "data", [image[:128, :128]], [labels[:128, :128]])
    common = ["train", "embedding", "--data", str(tmp_path / "data"), "--device", "cpu", "-q"]
    small = ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "1", "--patch", "64"]
    for option, value, said in (
        ("--features", "0,0", "features 0,0: the channels of each level"),
        ("--features", "16,2.5", "--features 16,2.5: the channels of each level"),
        ("--time-budget", "-5", "time budget -5.0: must be above 0"),
        ("--exclude", "typo", "excluded files not found in"),
        ("--exclude", "0[z=3]", "exclude 0[z=3]: '0.tif' is one image, with no slices"),
    ):
        assert main([*common, *small, "--out", str(tmp_path / "m"), option, value]) == 1
        err = capsys.readouterr().err
        assert said in err and "Traceback" not in err, err
        assert len(err.strip().splitlines()) == 1, err
        assert not (tmp_path / "m").exists()
    out = tmp_path / "corrupt"
    out.mkdir()
    (out / "checkpoint.pt").write_bytes(b"PK\x03\x04 not a checkpoint")
    args = [*common, *small, "--features", "8,16", "--out", str(out), "--resume"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert f"--resume {out / 'checkpoint.pt'}: the checkpoint cannot be read" in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert sorted(p.name for p in out.iterdir()) == ["checkpoint.pt"]


def test_exclusions_must_name_something_in_every_layout(tmp_path, nuclei_sample):
    """A volume's slices, a time-lapse's frames and an overlapping-objects folder's files:
    an exclusion naming one of them is fine, one naming none is refused."""
    from tessella.engine.train.data import load_folder_pairs
    from tessella.engine.train.overlapping import load_overlapping_pairs
    from tessella.engine.train.timelapse import load_timelapse_samples

    image, labels = nuclei_sample
    volume = np.stack([image[:64, :64]] * 5)  # 3 or 4 planes would be read as colour
    _write_pairs(
        tmp_path / "vol",
        [volume, image[:64, :64]],
        [np.stack([labels[:64, :64]] * 5), labels[:64, :64]],
    )
    norm = {"low": 1.0, "high": 99.8}
    kept = load_folder_pairs(tmp_path / "vol", "YX", 1, norm, exclude=["0[z=1:3]", "1"])
    assert [s.name for s in kept] == ["0.tif[z=000]", "0.tif[z=003]", "0.tif[z=004]"]
    with pytest.raises(ValueError, match=r"excluded files not found in .*: 0\[z=7\]"):
        load_folder_pairs(tmp_path / "vol", "YX", 1, norm, exclude=["0[z=7]"])
    movie = np.stack([image[:64, :64]] * 5)
    _write_pairs(tmp_path / "movie", [movie], [np.stack([labels[:64, :64]] * 5)])
    assert len(load_timelapse_samples(tmp_path / "movie", 3, exclude=["0[t=1]"])) == 4
    with pytest.raises(ValueError, match=r"excluded files not found .*: 0\[t=7\]"):
        load_timelapse_samples(tmp_path / "movie", 3, exclude=["0[t=7]"])
    with pytest.raises(ValueError, match="excluded files not found .*: typo"):
        load_overlapping_pairs(tmp_path / "vol", norm, exclude=["typo"])


def test_a_selector_of_the_wrong_axis_is_refused_by_the_engine(tmp_path, nuclei_sample):
    """STEM[z=...] selects slices of a volume, STEM[t=...] frames of a movie: from the Python
    API (and the Train panel, which splits with the same function) the other letter picked
    the same numbers along the axis the file has (the command refused it, the engine did
    not). The engine refuses it, naming the selector, the file and the axis it has, before
    anything is written."""
    from tessella.engine.train import TrainConfig, train
    from tessella.engine.train.data import split_holdout
    from tessella.engine.train.timelapse import load_timelapse_samples

    image, labels = nuclei_sample
    volume, masks = np.stack([image[:64, :64]] * 5), np.stack([labels[:64, :64]] * 5)
    _write_pairs(tmp_path / "vol", [volume, image[:64, :64]], [masks, labels[:64, :64]])
    _write_pairs(tmp_path / "movie", [volume], [masks])
    cases = [
        (
            "embedding",
            "vol",
            "0[t=1:3]",
            r"axis 't' selects frames of a movie, but '0.tif' has "
            r"slices of a volume: select them as 0\[z=N\] or 0\[z=A:B\]",
        ),
        (
            "temporal",
            "movie",
            "0[z=1]",
            r"axis 'z' selects slices of a volume, but '0' has "
            r"frames of a movie: select them as 0\[t=N\]",
        ),
        (
            "embedding",
            "vol",
            "1[z=0]",
            r"'1.tif' is one image, with no slices \(z\) or "
            r"frames \(t\) to select: name it whole \(1\)",
        ),
        ("embedding", "vol", "0[q=1]", r"unknown axis 'q'; '0.tif' has slices of a volume"),
    ]
    for method, data, selector, message in cases:
        config = TrainConfig(
            method,
            str(tmp_path / data),
            str(tmp_path / "m"),
            holdout=(selector,),
            epochs=1,
            steps_per_epoch=1,
            batch_size=1,
            patch=32,
            device="cpu",
        )
        with pytest.raises(ValueError, match=rf"^hold-out {re.escape(selector)}: {message}"):
            train(config)
        assert not (tmp_path / "m").exists()
    # the same check for --exclude, and the right letter in either case (upper case too)
    with pytest.raises(ValueError, match=r"^exclude 0\[z=1\]: axis 'z' selects slices"):
        load_timelapse_samples(tmp_path / "movie", 3, exclude=["0[z=1]"])
    samples = load_timelapse_samples(tmp_path / "movie", 3, exclude=["0[T=4]"])
    _, held = split_holdout(samples, 0.1, names=["0[t=1:3]"])
    assert [s.name for s in held] == ["0[t=001]", "0[t=002]"]


def test_images_with_nan_are_refused_by_name(tmp_path, nuclei_sample):
    """One NaN pixel in a crop makes the loss NaN and a step on it every weight: every
    loader refuses such an image, naming it."""
    from tessella.engine.train.data import load_folder_pairs
    from tessella.engine.train.overlapping import load_overlapping_pairs
    from tessella.engine.train.timelapse import load_timelapse_samples

    image, labels = nuclei_sample
    bad = image[:64, :64].astype(np.float32)
    bad[3, 5] = np.nan
    _write_pairs(tmp_path / "flat", [image[:64, :64], bad], [labels[:64, :64]] * 2)
    norm = {"low": 1.0, "high": 99.8}
    said = "1.tif: the image holds NaN or infinite values"
    with pytest.raises(ValueError, match=said):
        load_folder_pairs(tmp_path / "flat", "YX", 1, norm)
    with pytest.raises(ValueError, match=said):
        load_overlapping_pairs(tmp_path / "flat", norm)
    movie = np.stack([image[:64, :64].astype(np.float32)] * 4 + [bad])
    _write_pairs(tmp_path / "movie", [movie], [np.stack([labels[:64, :64]] * 5)])
    with pytest.raises(ValueError, match="0.tif: the image holds NaN or infinite values"):
        load_timelapse_samples(tmp_path / "movie", 3)
