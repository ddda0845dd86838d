"""The maintainer tools that set a bundled model's defaults (``tools/tune_defaults.py``), run
for real on a tiny semantic model and the shipped nuclei sample (no shared data needed)."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import tifffile

from tests.conftest import train_tiny

TOOLS = Path(__file__).resolve().parents[1] / "tools"


def _tool(name: str):
    """Import ``tools/NAME.py`` (the tools are scripts, not a package)."""
    sys.path.insert(0, str(TOOLS))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.remove(str(TOOLS))


def _main(name: str, capsys, *argv: str) -> subprocess.CompletedProcess:
    """Run ``tools/NAME.py ARGV...`` in this process, as a fresh one would (no model loaded
    before it; a subprocess spent most of its time importing torch): its exit code, stdout
    and stderr. Each tool is also run once as a script, in
    ``test_tools_take_a_model_by_name_like_the_cli``."""
    from tessella.engine import registry

    tool = _tool(name)
    registry._CACHE.clear()  # a card rewritten by the previous run is read again
    capsys.readouterr()
    argv_before = sys.argv
    sys.argv = [str(TOOLS / f"{name}.py"), *argv]
    try:
        tool.main()
        code = 0
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else (0 if stop.code is None else 1)
        if isinstance(stop.code, str):
            print(stop.code, file=sys.stderr)
    finally:
        sys.argv = argv_before
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(argv, code, out, err)


def _tune(capsys, model: Path, data: Path, *extra: str) -> subprocess.CompletedProcess:
    command = [str(model), "--data", str(data)]
    command += ["--holdout", "1", "--grid", "radius=0", "--grid", "z_median=0", *extra]
    return _main("tune_defaults", capsys, *command)


def _two_crops(folder: Path, nuclei_sample, width: int, binary: bool) -> Path:
    """``folder/images`` and ``folder/masks``: the top and bottom halves of the sample."""
    image, labels = nuclei_sample
    for sub in ("images", "masks"):
        (folder / sub).mkdir(parents=True)
    for i, rows in enumerate((slice(0, 256), slice(256, 512))):
        mask = labels[rows, :width]
        tifffile.imwrite(folder / "images" / f"{i}.tif", image[rows, :width])
        tifffile.imwrite(
            folder / "masks" / f"{i}.tif", (mask > 0).astype("uint8") if binary else mask
        )
    return folder


def test_tune_defaults_grid_dry_run_and_tta(tmp_path, nuclei_sample, capsys):
    data = _two_crops(tmp_path / "data", nuclei_sample, 256, binary=True)
    model = train_tiny("semantic", data, tmp_path / "model")
    card_path = model / "card.json"
    before = card_path.read_text()

    # --dry-run prints the choice among the given values and leaves the card alone
    done = _tune(capsys, model, data, "--grid", "threshold=0.3,0.5", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert "top 5:" in done.stdout and "'threshold': (0.3, 0.5)" in done.stdout
    assert card_path.read_text() == before

    # --tta tunes on augmented predictions and makes TTA the model's default
    done = _tune(
        capsys,
        model,
        data,
        "--grid",
        "threshold=0.3,0.5",
        "--grid",
        "fill_holes=false,true",
        "--tta",
    )
    assert done.returncode == 0, done.stderr
    defaults = json.loads(card_path.read_text())["defaults"]
    assert defaults["tta"] is True
    assert defaults["params"]["threshold"] in (0.3, 0.5)
    assert isinstance(defaults["params"]["fill_holes"], bool)
    assert "test-time augmented predictions" in defaults["params_tuning"]["how"]
    assert "'fill_holes': (False, True)" in defaults["params_tuning"]["how"]
    # the card's parameters are scored too: re-tuned on the same grid, they are the choice
    done = _tune(
        capsys,
        model,
        data,
        "--grid",
        "threshold=0.3,0.5",
        "--grid",
        "fill_holes=false,true",
        "--tta",
        "--dry-run",
    )
    tuning = json.loads(done.stdout[: done.stdout.index("top 5:")])["params_tuning"]
    assert tuning["holdout_foreground_iou_with_previous_params"] == tuning["holdout_foreground_iou"]

    # an unknown parameter is a usage error that names it; the card is untouched
    tuned = card_path.read_text()
    done = _tune(capsys, model, data, "--grid", "thresold=0.3")
    assert done.returncode == 2 and "--grid thresold=0.3" in done.stderr
    assert card_path.read_text() == tuned

    # --orientations: each hold-out image in its 8 orientations; consecutive slices of a
    # (non-square) volume are stacked per orientation, so turned slices never mix
    volume = tmp_path / "volume"
    image, labels = nuclei_sample
    for sub in ("images", "masks"):
        (volume / sub).mkdir(parents=True)
    stack_image = np.stack([image[i * 80 : i * 80 + 128, :160] for i in range(5)])
    stack_mask = np.stack([labels[i * 80 : i * 80 + 128, :160] > 0 for i in range(5)])
    tifffile.imwrite(volume / "images" / "vol.tif", stack_image, photometric="minisblack")
    tifffile.imwrite(
        volume / "masks" / "vol.tif", stack_mask.astype("uint8"), photometric="minisblack"
    )
    command = [str(model), "--data", str(volume)]
    command += ["--holdout", "vol", "--grid", "radius=0", "--grid", "threshold=0.5"]
    plain = _main("tune_defaults", capsys, *command, "--dry-run")
    turned = _main("tune_defaults", capsys, *command, "--dry-run", "--orientations")
    assert plain.returncode == 0 and turned.returncode == 0, turned.stderr
    assert "each image in its dihedral orientations" in turned.stdout
    assert "orientations" not in plain.stdout

    def iou(done):
        return json.loads(done.stdout[: done.stdout.index("top 5:")])["params_tuning"][
            "holdout_foreground_iou"
        ]

    assert abs(iou(turned) - iou(plain)) < 0.1
    assert card_path.read_text() == tuned


def test_tools_take_a_model_by_name_like_the_cli(tmp_path, nuclei_sample, capsys):
    """``tune_defaults.py nuclei2d`` tunes the bundled model (it used to read the name as a
    folder and fail after the whole hold-out had been predicted); an unknown name is refused
    at once, by name."""
    from tessella.engine.registry import find_model

    data = _two_crops(tmp_path / "data", nuclei_sample, 256, binary=False)
    bundled_card = find_model("nuclei2d") / "card.json"
    before = bundled_card.read_text()
    command = ["nuclei2d", "--data", str(data)]
    command += ["--holdout", "1", "--grid", "seed_thresh=0.8,0.85", "--grid", "min_size=25"]
    done = _main("tune_defaults", capsys, *command, "--dry-run")
    assert done.returncode == 0, done.stderr
    tuning = json.loads(done.stdout[: done.stdout.index("top 5:")])["params_tuning"]
    assert tuning["holdout_ap50"] > 0.5  # the bundled network found the sample's nuclei
    assert bundled_card.read_text() == before  # --dry-run

    for tool in ("tune_defaults.py", "score_model.py", "score_ctc.py"):
        done = subprocess.run(
            [sys.executable, str(TOOLS / tool), "no-such-model", "--help-not-reached"],
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert done.returncode == 2, (tool, done.stderr)
        assert "unknown model 'no-such-model'" in done.stderr, (tool, done.stderr)


def test_score_model_orientations(tmp_path, nuclei_sample, capsys):
    """``score_model.py --orientations`` scores the 8 orientations of images and masks, turned
    together, with the bundled nuclei2d on two crops of the shipped sample."""
    # two 256 x 160 crops: not square, so a transposed orientation changes the shape too
    data = _two_crops(tmp_path / "data", nuclei_sample, 160, binary=False)
    model = TOOLS.parent / "src" / "tessella" / "bundled" / "nuclei2d"
    command = [str(model), "--images", str(data / "images"), "--masks", str(data / "masks")]
    done = _main("score_model", capsys, *command, "--orientations")
    assert done.returncode == 0, done.stderr
    validation = json.loads(done.stdout[done.stdout.index("{\n") :])
    turned = validation["orientations"]
    assert len(turned["per_orientation"]) == 8
    assert turned["per_orientation"][0] == validation["scores"]["avs"] > 0.5
    assert turned["min"] <= turned["mean"] <= turned["max"]
    # masks turned with their images: every orientation scores about as the first (a mask
    # left as it was would match its turned nuclei by chance only)
    assert turned["min"] > validation["scores"]["avs"] - 0.1
    # an image with a pixel size is refused by name (its turned copies would lose it), before
    # the plain scoring segments anything
    image = tifffile.imread(data / "images" / "1.tif")
    tifffile.imwrite(data / "images" / "1.tif", image, imagej=True, resolution=(2.0, 2.0))
    done = _main("score_model", capsys, *command, "--orientations")
    assert done.returncode != 0 and "1.tif: --orientations needs images" in done.stderr
    assert "$ tessella" not in done.stdout, done.stdout


def test_score_model_turns_colour_images_in_y_and_x():
    from tessella.engine.tta import dihedral_transforms, transform_image

    tool = _tool("score_model")
    rgb = np.random.default_rng(0).integers(0, 255, (5, 7, 3), dtype=np.uint8)
    stack = np.random.default_rng(1).integers(0, 2, (4, 5, 7), dtype=np.uint8)  # (N, Y, X) masks
    for transform in dihedral_transforms(2):
        turned = tool._orient(rgb, transform, "YXC")
        for c in range(3):
            np.testing.assert_array_equal(turned[..., c], transform_image(rgb[..., c], transform))
        np.testing.assert_array_equal(
            tool._orient(stack, transform, ".YX")[2], transform_image(stack[2], transform)
        )


def test_patches_oracle_scores_a_well_with_its_true_foreground(data_dir, capsys):
    """The diagnosis behind ``--fg-dice``: on a hold-out well worms2d scores better with the
    true foreground in place of its own, the shape patches unchanged."""
    patches_oracle = _tool("patches_oracle")
    root = data_dir / "worms_bbbc010"
    scores = patches_oracle.main(
        ["worms2d", "--images", str(root / "gfp"), "--masks", str(root / "worm_masks")]
        + ["--names", "A05"]
    )
    printed = capsys.readouterr().out
    assert "true foreground: avS" in printed and "(1 images)" in printed
    model, oracle = scores["model"]["avs"], scores["true foreground"]["avs"]
    assert 0.5 < model < oracle  # 0.670 and 0.691 when written (0.754, 0.876 over 8 turns)
    assert scores["true foreground + overlaps"]["avs"] >= oracle - 0.02
    assert scores["true foreground"]["fg_iou"] == 1.0
    assert 0.8 < scores["model"]["fg_iou"] < 0.97  # the edge it misses


def test_patches_oracle_tries_another_models_foreground(data_dir, capsys, monkeypatch):
    """``--foreground-model``: a semantic model's foreground replaces the patch network's
    (here em-mito2d's, which knows nothing of worms: the row must carry *its* foreground);
    a model of another method is refused."""
    patches_oracle = _tool("patches_oracle")
    # the tool's predictions, each with the image and model it ran on (em-mito2d's is checked
    # to be that of the image as read, so it need not be predicted a second time here)
    predicted, made = [], []

    def predict_steps(image, model, *args, **kwargs):
        predicted.append((np.array(image), model.name))
        return real_predict(image, model, *args, **kwargs)

    def run_steps(steps):
        made.append(real_run(steps))
        return made[-1]

    real_predict, real_run = patches_oracle.predict_steps, patches_oracle.run_steps
    monkeypatch.setattr(patches_oracle, "predict_steps", predict_steps)
    monkeypatch.setattr(patches_oracle, "run_steps", run_steps)
    root = data_dir / "worms_bbbc010"
    args = ["worms2d", "--images", str(root / "gfp"), "--masks", str(root / "worm_masks")]
    args += ["--names", "A05"]
    scores = patches_oracle.main([*args, "--foreground-model", "em-mito2d"])
    assert "foreground model: avS" in capsys.readouterr().out
    image = tifffile.imread(root / "gfp" / "A05.tif")
    truth = tifffile.imread(root / "worm_masks" / "A05.tif").any(0)
    assert [name for _, name in predicted] == ["worms2d", "em-mito2d"]
    assert len(made) == 2 and np.array_equal(predicted[1][0], image)
    prediction = made[1][0]
    theirs = np.asarray(prediction.arrays["foreground"]).reshape(truth.shape) > 0.5
    expected = (theirs & truth).sum() / (theirs | truth).sum()
    assert scores["foreground model"]["fg_iou"] == pytest.approx(expected, abs=1e-4)
    assert abs(expected - scores["model"]["fg_iou"]) > 0.05  # a different foreground
    with pytest.raises(SystemExit):
        patches_oracle.main([*args, "--foreground-model", "nuclei2d"])
    assert "not semantic" in capsys.readouterr().err


def test_device_kit_packs_a_training_set_in_parts_and_unpacks_it_whole(tmp_path, monkeypatch):
    """``tools/device_kit.py``: a training set too big for one `device` call travels in parts
    of whole image/mask pairs under the size asked for, and unpacks byte for byte."""
    device_kit = _tool("device_kit")
    source = tmp_path / "set"
    rng = np.random.default_rng(0)
    for sub in ("images", "masks"):
        (source / sub).mkdir(parents=True)
    for i in range(5):
        tifffile.imwrite(source / "images" / f"{i}.tif", rng.integers(0, 255, (200, 200), np.uint8))
        tifffile.imwrite(source / "masks" / f"{i}.tif", rng.integers(0, 9, (200, 200), np.uint16))
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    parts = device_kit.pack(source, "demo", part_mb=0.26)  # 121 kB a pair in the tar: 2 a part
    assert [p.name for p in parts] == ["demo-0.tar", "demo-1.tar", "demo-2.tar"]
    assert all(p.stat().st_size <= 0.26e6 for p in parts)
    there = tmp_path / "there"  # the device: each call brings one part, earlier ones stay
    (there / ".carry").mkdir(parents=True)
    monkeypatch.chdir(there)
    for part in parts:
        (there / ".carry" / part.name).write_bytes(part.read_bytes())
        counts = device_kit.unpack()
    assert counts == {"demo": (5, 5)}
    for sub in ("images", "masks"):
        for i in range(5):
            original = (source / sub / f"{i}.tif").read_bytes()
            assert (there / ".carry/data/demo" / sub / f"{i}.tif").read_bytes() == original
    (source / "masks" / "4.tif").unlink()
    monkeypatch.chdir(here)
    with pytest.raises(SystemExit, match="4.tif: missing"):
        device_kit.pack(source, "demo", part_mb=0.26)


def test_device_kit_sends_a_file_bigger_than_a_part_in_pieces(tmp_path, monkeypatch, capsys):
    """A volume bigger than a part (Lucchi++'s is 58.7 MB) travels as byte pieces; ``unpack``
    says what is still missing, then joins the pieces into the same bytes once all arrived."""
    device_kit = _tool("device_kit")
    source = tmp_path / "set"
    for sub in ("images", "masks"):
        (source / sub).mkdir(parents=True)
    volume = np.random.default_rng(1).integers(0, 255, (12, 100, 100), np.uint8)  # 120 kB
    tifffile.imwrite(source / "images" / "vol.tif", volume)
    tifffile.imwrite(
        source / "masks" / "vol.tif", (volume > 200).astype(np.uint8), compression="zlib"
    )
    here = tmp_path / "here"
    here.mkdir()
    monkeypatch.chdir(here)
    parts = device_kit.pack(source, "em", part_mb=0.05)
    assert len(parts) == 4 and all(p.stat().st_size <= 0.05e6 for p in parts)  # 39 kB pieces
    there = tmp_path / "there"
    (there / ".carry").mkdir(parents=True)
    monkeypatch.chdir(there)
    capsys.readouterr()
    (there / ".carry" / parts[0].name).write_bytes(parts[0].read_bytes())
    assert device_kit.unpack(delete=True) == {"em": (0, 0)}  # 1 piece of 4: nothing usable
    assert "vol.tif: 1 of 4 pieces" in capsys.readouterr().out
    assert not (there / ".carry" / parts[0].name).exists()  # extracted once, not again
    for part in parts[1:]:
        (there / ".carry" / part.name).write_bytes(part.read_bytes())
    assert device_kit.unpack(delete=True) == {"em": (1, 1)}
    for sub in ("images", "masks"):
        got = there / ".carry/data/em" / sub / "vol.tif"
        assert got.read_bytes() == (source / sub / "vol.tif").read_bytes()
    assert np.array_equal(tifffile.imread(there / ".carry/data/em/images/vol.tif"), volume)
    assert not list((there / ".carry/data/em").rglob("*.piece-*"))
    # an odd part size still gives parts under it (tar pads the archive to 10240-byte records)
    monkeypatch.chdir(here)
    assert all(p.stat().st_size <= 50_760 for p in device_kit.pack(source, "em", part_mb=0.05076))
    # pieces left on the machine by a pack with another part size never join with a new pack's
    stale = device_kit.pack(source, "em", part_mb=0.08)[0].read_bytes()  # piece 0 of 2
    fresh = device_kit.pack(source, "em", part_mb=0.05)
    monkeypatch.chdir(there)
    (there / ".carry/data/em/images/vol.tif").unlink()
    capsys.readouterr()
    for name, data in (("old-0.tar", stale), *((p.name, p.read_bytes()) for p in fresh[:2])):
        (there / ".carry" / name).write_bytes(data)
        device_kit.unpack(delete=True)
    out = capsys.readouterr().out
    assert "1 of 2 pieces" in out and "2 of 4 pieces" in out
    assert not (there / ".carry/data/em/images/vol.tif").exists()
    for part in fresh[2:]:
        (there / ".carry" / part.name).write_bytes(part.read_bytes())
    device_kit.unpack(delete=True)
    got = (there / ".carry/data/em/images/vol.tif").read_bytes()
    assert got == (source / "images" / "vol.tif").read_bytes()


def test_sparse_experiment_hides_objects_as_a_user_would_leave_them(nuclei_sample):
    """Half of the sample's nuclei are left out: as background (naive) or painted over with
    the ignore label, a brush margin around each and never over a nucleus that was kept."""
    experiment = _tool("sparse_experiment")
    labels = nuclei_sample[1].astype(np.int32)
    naive, painted = experiment.hide_objects(labels, 0.5, 2, np.random.default_rng(0))
    ids = set(np.unique(labels)) - {0}
    kept = set(np.unique(naive)) - {0}
    assert abs(len(kept) - len(ids) / 2) <= 0.5 and kept < ids
    hidden = np.isin(labels, list(ids - kept))
    unannotated = painted == experiment.UNANNOTATED
    assert unannotated[hidden].all() and unannotated.sum() > hidden.sum()  # with a margin
    assert (painted[~unannotated] == naive[~unannotated]).all()
    assert not unannotated[np.isin(labels, list(kept))].any()
