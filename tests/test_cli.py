import json
import shutil
import subprocess
import sys

import numpy as np
import pytest
import tifffile

from tessella.cli import evaluate_paths, main
from tessella.engine import metrics
from tessella.engine.io import read_image


@pytest.fixture
def image_file(tmp_path, nuclei_sample):
    path = tmp_path / "img.tif"
    tifffile.imwrite(
        path,
        nuclei_sample[0],
        imagej=True,
        resolution=(2.0, 2.0),
        metadata={"unit": "micron", "axes": "YX"},
    )
    return path


def test_segment_writes_labels_with_pixel_size_and_recipe(tmp_path, image_file, tiny_model_dir):
    out = tmp_path / "out" / "labels.tif"
    assert (
        main(
            [
                "segment",
                str(image_file),
                "-o",
                str(out),
                "--model",
                str(tiny_model_dir),
                "--set",
                "seed_thresh=0.7",
                "-q",
            ]
        )
        == 0
    )
    labels = read_image(out)
    assert labels.data.shape == (520, 512)
    assert labels.pixel_size["X"] == pytest.approx(0.5)
    recipe = json.loads((tmp_path / "out" / "labels.recipe.json").read_text())
    assert recipe["params"]["seed_thresh"] == 0.7 and recipe["model"] == "tiny"


def test_recipe_replays_the_same_labels(tmp_path, image_file, tiny_model_dir):
    first, second = tmp_path / "a.tif", tmp_path / "b.tif"
    main(
        [
            "segment",
            str(image_file),
            "-o",
            str(first),
            "--model",
            str(tiny_model_dir),
            "--set",
            "fg_thresh=0.3",
            "--set",
            "seed_thresh=0.5",
            "-q",
        ]
    )
    recipe = tmp_path / "a.recipe.json"
    assert json.loads(recipe.read_text())["model_path"] == str(tiny_model_dir.resolve())
    assert main(["segment", str(image_file), "-o", str(second), "--recipe", str(recipe), "-q"]) == 0
    np.testing.assert_array_equal(read_image(first).data, read_image(second).data)


def test_a_recipe_replays_its_own_model_or_refuses(
    tmp_path, image_file, tiny_model_dir, monkeypatch, capsys
):
    """A user's fine-tune named like a bundled model (as `--name nuclei2d` makes them) is
    replayed from its folder, or found by its weights among the installed models, never
    swapped for the bundled one; when it cannot be found the replay is refused."""
    import shutil

    tuned = tmp_path / "tuned"
    shutil.copytree(tiny_model_dir, tuned)
    card = json.loads((tuned / "card.json").read_text())
    (tuned / "card.json").write_text(json.dumps({**card, "name": "nuclei2d"}))
    first = tmp_path / "a.tif"
    assert main(["segment", str(image_file), "-o", str(first), "--model", str(tuned), "-q"]) == 0
    recipe = tmp_path / "a.recipe.json"
    assert json.loads(recipe.read_text())["model"] == "nuclei2d"
    monkeypatch.chdir(tmp_path.parent)  # the recipe names the folder absolutely

    def replay(name: str) -> int:
        out = tmp_path / name
        return main(["segment", str(image_file), "-o", str(out), "--recipe", str(recipe), "-q"])

    assert replay("b.tif") == 0
    np.testing.assert_array_equal(read_image(first).data, read_image(tmp_path / "b.tif").data)
    models = tmp_path / "models"  # the folder moved into the user model folder: found there
    models.mkdir()
    tuned.rename(models / "tuned")
    monkeypatch.setenv("TESSELLA_MODELS", str(models))
    assert replay("c.tif") == 0
    np.testing.assert_array_equal(read_image(first).data, read_image(tmp_path / "c.tif").data)
    shutil.rmtree(models / "tuned")  # gone: the bundled nuclei2d has other weights
    assert replay("d.tif") == 1
    err = capsys.readouterr().err
    assert "made with model 'nuclei2d'" in err and "has other weights" in err
    assert not (tmp_path / "d.tif").exists()


@pytest.mark.parametrize(
    "content, message",
    [
        ("[1, 2]", "a recipe is a JSON object, got list"),
        (
            '{"model": "nuclei2d", "tta": "no"}',
            "recipe field 'tta' must be true or false, got 'no'",
        ),
        (
            '{"model": "nuclei2d", "tile": "big"}',
            "recipe field 'tile' must be a whole number, got 'big'",
        ),
        ('{"model": "nuclei2d", "tile": -3}', "recipe field 'tile' must be positive"),
        ('{"params": {}}', "the recipe names no model; give one with --model"),
        ('{"model": "nuclei2d", "spacing": [null, 1]}', "'spacing' must hold positive numbers"),
    ],
)
def test_a_hand_edited_recipe_is_checked(tmp_path, image_file, capsys, content, message):
    recipe = tmp_path / "r.recipe.json"
    recipe.write_text(content)
    out = tmp_path / "o.tif"
    assert main(["segment", str(image_file), "-o", str(out), "--recipe", str(recipe)]) == 1
    err = capsys.readouterr().err
    assert str(recipe) in err and message in err and "Traceback" not in err
    assert not out.exists()
    if content == '{"params": {}}':  # --model gives what the recipe does not say
        replay = ["segment", str(image_file), "-o", str(out), "--recipe", str(recipe)]
        assert main([*replay, "--model", "nuclei2d", "-q"]) == 0


def test_folder_in_folder_out(tmp_path, nuclei_sample, tiny_model_dir):
    src = tmp_path / "in"
    src.mkdir()
    for name in ("x.tif", "y.tif"):
        tifffile.imwrite(src / name, nuclei_sample[0][:256, :256])
    assert (
        main(
            ["segment", str(src), "-o", str(tmp_path / "out"), "--model", str(tiny_model_dir), "-q"]
        )
        == 0
    )
    assert sorted(p.name for p in (tmp_path / "out").glob("*.tif")) == ["x.tif", "y.tif"]


def test_zarr_in_zarr_out(tmp_path, nuclei_sample, tiny_model_dir, capsys):
    import zarr

    array = zarr.create_array(
        str(tmp_path / "in.zarr"), shape=(256, 256), dtype="uint8", chunks=(128, 128)
    )
    array[...] = nuclei_sample[0][:256, :256]
    assert (
        main(
            [
                "segment",
                str(tmp_path / "in.zarr"),
                "-o",
                str(tmp_path / "out.zarr"),
                "--model",
                str(tiny_model_dir),
                "-q",
            ]
        )
        == 0
    )
    assert read_image(tmp_path / "out.zarr").data.shape == (256, 256)

    # a corrupt chunk: one line naming the store, nothing written
    chunk = next(
        p for p in (tmp_path / "in.zarr").rglob("*") if p.is_file() and p.parent.name == "0"
    )
    chunk.write_bytes(b"not a compressed chunk")
    for argv, out in (
        (["segment", str(tmp_path / "in.zarr"), "-o", str(tmp_path / "bad.zarr")], "bad.zarr"),
        (["evaluate", str(tmp_path / "out.zarr"), str(tmp_path / "in.zarr")], None),
    ):
        assert main(argv + ["--model", str(tiny_model_dir), "-q"] * (out is not None)) == 1
        [line] = capsys.readouterr().err.strip().splitlines()
        assert f"{tmp_path / 'in.zarr'}: cannot read its data" in line, line
        assert out is None or not (tmp_path / out).exists()


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--set", "bogus=1"], "unknown parameter 'bogus'"),
        (["--set", "seed_thresh=3"], "seed_thresh"),
        (["--set", "seed_thresh"], "NAME=VALUE"),
        (["--axes", "ZYX"], "axes 'ZYX' name 3 axes"),
    ],
)
def test_bad_usage_exits_1_and_writes_nothing(
    tmp_path, image_file, tiny_model_dir, capsys, extra, message
):
    out = tmp_path / "never.tif"
    code = main(
        ["segment", str(image_file), "-o", str(out), "--model", str(tiny_model_dir), *extra]
    )
    assert code == 1
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists()


def test_missing_file_unknown_model_and_tampered_weights(
    tmp_path, image_file, tiny_model_dir, capsys
):
    out = tmp_path / "o.tif"
    assert main(["segment", str(tmp_path / "nope.tif"), "-o", str(out)]) == 1
    assert "nope.tif: no such file" in capsys.readouterr().err
    assert main(["segment", str(image_file), "-o", str(out), "--model", "no-such"]) == 1
    assert "unknown model 'no-such'" in capsys.readouterr().err
    tampered = tmp_path / "tampered"
    shutil.copytree(tiny_model_dir, tampered)
    with open(tampered / "model.safetensors", "r+b") as handle:
        handle.seek(-4, 2)
        handle.write(b"\x00\x01\x02\x03")
    assert main(["segment", str(image_file), "-o", str(out), "--model", str(tampered)]) == 1
    assert "sha256" in capsys.readouterr().err
    assert not out.exists()


def test_constant_image_is_0_objects_with_a_warning(tmp_path, tiny_model_dir, capsys):
    """A constant image (a blank field, an empty well) is segmented as 0 objects, warned of
    once with its value; it was an error with no output."""
    flat = tmp_path / "flat.tif"
    tifffile.imwrite(flat, np.full((64, 48), 9, np.uint8))
    out = tmp_path / "flat_labels.tif"
    assert main(["segment", str(flat), "-o", str(out), "--model", str(tiny_model_dir)]) == 0
    err = capsys.readouterr().err
    assert err.count("flat.tif is constant (every pixel is 9): nothing to segment, 0 objects") == 1
    assert sorted(p.name for p in tmp_path.glob("flat_labels*")) == [
        "flat_labels.recipe.json",
        "flat_labels.tif",
    ]
    labels = tifffile.imread(out)
    assert labels.shape == (64, 48) and not labels.any()


def test_existing_output_needs_overwrite(tmp_path, image_file, tiny_model_dir, capsys):
    out = tmp_path / "o.tif"
    out.write_bytes(b"precious")
    assert main(["segment", str(image_file), "-o", str(out), "--model", str(tiny_model_dir)]) == 1
    assert "--overwrite" in capsys.readouterr().err
    assert out.read_bytes() == b"precious"


def test_evaluate_prints_and_writes_the_metrics_module_numbers(tmp_path, nuclei_sample, capsys):
    _, truth = nuclei_sample
    predicted = truth.copy()
    predicted[predicted == 5] = 0  # one miss
    predicted[:20, :20] = 999  # one false positive
    tifffile.imwrite(tmp_path / "p.tif", predicted)
    tifffile.imwrite(tmp_path / "g.tif", truth)
    assert (
        main(
            [
                "evaluate",
                str(tmp_path / "p.tif"),
                str(tmp_path / "g.tif"),
                "--json",
                str(tmp_path / "s.json"),
                "--metric",
                "ap",
                "--metric",
                "seg",
            ]
        )
        == 0
    )
    printed = capsys.readouterr().out
    expected = metrics.matching(truth, predicted, 0.5)
    scores = json.loads((tmp_path / "s.json").read_text())
    assert scores["ap"]["0.5"] == pytest.approx(expected.ap, abs=1e-4)
    assert f"{expected.ap:6.3f}" in printed
    paths = (str(tmp_path / "p.tif"), str(tmp_path / "g.tif"))
    assert scores == evaluate_paths(*paths, ("ap", "seg"), per_image=True)
    [row] = scores["images"]  # the one image's scores, as the metrics module gives them
    assert row["name"] == "g.tif" and row["ap"]["0.5"] == scores["ap"]["0.5"]
    assert (row["n_true"], row["n_pred"], row["tp"]["0.5"]) == (
        expected.n_true,
        expected.n_pred,
        expected.tp,
    )


def test_evaluate_shape_mismatch_is_named(tmp_path, capsys):
    tifffile.imwrite(tmp_path / "p.tif", np.zeros((10, 10), np.uint16))
    tifffile.imwrite(tmp_path / "g.tif", np.zeros((12, 10), np.uint16))
    assert main(["evaluate", str(tmp_path / "p.tif"), str(tmp_path / "g.tif")]) == 1
    assert "differs from ground truth" in capsys.readouterr().err


def test_console_script_help_and_bad_usage_exit_codes():
    run = [sys.executable, "-m", "tessella.cli"]
    for command in ("segment", "evaluate", "train", "models"):
        done = subprocess.run([*run, command, "--help"], capture_output=True, text=True)
        assert done.returncode == 0
    assert (
        "examples:"
        in subprocess.run([*run, "segment", "--help"], capture_output=True, text=True).stdout
    )
    assert subprocess.run([*run, "segment"], capture_output=True).returncode == 2


def test_models_lists_user_models(tiny_model_dir, monkeypatch, capsys):
    monkeypatch.setenv("TESSELLA_MODELS", str(tiny_model_dir.parent))
    assert main(["models"]) == 0
    assert "tiny" in capsys.readouterr().out


def test_evaluate_reads_binary_ground_truth_as_components(tmp_path):
    import tifffile
    from scipy import ndimage

    mask = np.zeros((3, 40, 40), np.uint8)
    mask[:, 5:15, 5:15] = 1
    mask[1:, 25:35, 20:30] = 1
    labels = ndimage.label(mask)[0].astype(np.uint16)  # two 3D objects
    tifffile.imwrite(tmp_path / "gt.tif", mask, imagej=True, metadata={"axes": "ZYX"})
    tifffile.imwrite(tmp_path / "pred.tif", labels, imagej=True, metadata={"axes": "ZYX"})
    out = tmp_path / "scores.json"
    args = ["evaluate", str(tmp_path / "pred.tif"), str(tmp_path / "gt.tif"), "--json", str(out)]
    assert main([*args, "--metric", "ap", "--metric", "iou", "--gt-binary", "-q"]) == 0
    scores = json.loads(out.read_text())
    assert scores["ap"]["0.5"] == 1.0 and scores["foreground_iou"] == 1.0
    assert main([*args, "--metric", "ap", "-q"]) == 0  # read as labels: one object, split in two
    assert json.loads(out.read_text())["ap"]["0.5"] == 0.5


def test_the_output_never_replaces_the_input(tmp_path, nuclei_sample, capsys):
    """Even with --overwrite, an output that is the input (a file, a folder written into
    itself, a zarr array or the group holding it) is refused and the image kept."""
    import zarr

    image = nuclei_sample[0][:128, :128]
    tifffile.imwrite(tmp_path / "self.tif", image)
    folder = tmp_path / "in"
    folder.mkdir()
    tifffile.imwrite(folder / "a.tif", image)
    group = zarr.open_group(str(tmp_path / "img.zarr"), mode="w")
    group.create_array("0", shape=image.shape, dtype=image.dtype)[...] = image
    cases = [
        (tmp_path / "self.tif", tmp_path / "self.tif"),
        (folder, folder),
        (tmp_path / "img.zarr" / "0", tmp_path / "img.zarr"),
    ]
    for source, target in cases:
        for extra in ([], ["--blockwise"]) if "zarr" in str(source) else ([],):
            args = ["segment", str(source), "-o", str(target), "--overwrite", *extra]
            assert main(args) == 1
            assert "would replace the input" in capsys.readouterr().err
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "self.tif"), image)
    np.testing.assert_array_equal(tifffile.imread(folder / "a.tif"), image)
    np.testing.assert_array_equal(zarr.open_array(str(tmp_path / "img.zarr" / "0"))[...], image)


def test_a_bad_file_in_a_folder_is_skipped_and_reported(
    tmp_path, nuclei_sample, tiny_model_dir, capsys
):
    """One unreadable image among good ones: the others are segmented, the bad one is named,
    and the exit code says that something failed."""
    src = tmp_path / "in"
    src.mkdir()
    tifffile.imwrite(src / "a.tif", nuclei_sample[0][:128, :128])
    (src / "b.tif").write_bytes(b"not a tiff at all")
    tifffile.imwrite(src / "c.tif", nuclei_sample[0][128:256, :128])
    out = tmp_path / "out"
    assert main(["segment", str(src), "-o", str(out), "--model", str(tiny_model_dir), "-q"]) == 1
    err = capsys.readouterr().err
    assert "b.tif" in err and "(skipped)" in err and "1 of 3 images failed: b.tif" in err
    assert sorted(p.name for p in out.glob("*.tif")) == ["a.tif", "c.tif"]
    assert not (out / "b.recipe.json").exists()


def test_option_mistakes_are_named(tmp_path, image_file, nuclei_sample, capsys):
    """--tile 0 or negative, a tile too small (reported as typed), two ground-truth kinds at
    once; and a zarr prediction scores like a TIFF one."""
    import zarr

    out = tmp_path / "o.tif"
    for tile, message in (
        ("0", "--tile must be a positive number of pixels, got 0"),
        ("-5", "--tile must be a positive number of pixels, got -5"),
        ("7", "tile size 7 is too small"),
    ):
        assert main(["segment", str(image_file), "-o", str(out), f"--tile={tile}", "-q"]) == 1
        assert message in capsys.readouterr().err
        assert not out.exists()
    labels = nuclei_sample[1]
    tifffile.imwrite(tmp_path / "gt.tif", labels)
    both = [str(tmp_path / "gt.tif"), str(tmp_path / "gt.tif"), "--gt-binary", "--gt-boundaries"]
    assert main(["evaluate", *both]) == 1
    assert "give one" in capsys.readouterr().err
    array = zarr.create_array(str(tmp_path / "pred.zarr"), shape=labels.shape, dtype=labels.dtype)
    array[...] = labels
    scores = tmp_path / "s.json"
    args = [str(tmp_path / "pred.zarr"), str(tmp_path / "gt.tif"), "--json", str(scores), "-q"]
    assert main(["evaluate", *args]) == 0
    assert json.loads(scores.read_text())["ap"]["0.5"] == 1.0


def test_a_short_stack_without_axes_is_not_taken_for_colour(tmp_path, nuclei_sample, capsys):
    """Three frames saved without axes metadata are a stack, not the channels of one image:
    a 2D model refuses them with a hint, and --axes TYX or CYX says which."""
    frames = np.stack([nuclei_sample[0][:128, :128]] * 3)
    tifffile.imwrite(tmp_path / "three.tif", frames, photometric="minisblack")
    args = ["segment", str(tmp_path / "three.tif"), "-q", "--model", "nuclei2d"]
    assert main([*args, "-o", str(tmp_path / "a.tif")]) == 1
    assert "use axes TYX (CYX if its planes are channels)" in capsys.readouterr().err
    assert main([*args, "-o", str(tmp_path / "t.tif"), "--axes", "TYX"]) == 0
    assert tifffile.imread(tmp_path / "t.tif").shape == frames.shape
    assert main([*args, "-o", str(tmp_path / "c.tif"), "--axes", "CYX"]) == 0
    assert tifffile.imread(tmp_path / "c.tif").shape == frames.shape[1:]


def test_a_recipe_brings_its_voxel_size_to_a_file_without_one(tmp_path, data_dir, capsys):
    """A volume segmented with a voxel size (napari's scale, or the file's) is replayed with
    that voxel size on a copy of the file that lacks it; a file with another one is warned."""
    stack = tifffile.imread(data_dir / "em_mito_lucchipp" / "val" / "image.tif")[:3, 256:384, :128]

    def sized(path, pixels_per_um):  # z 0.01 µm, y and x 1 / pixels_per_um
        meta = {"axes": "ZYX", "spacing": 0.01, "unit": "um"}
        resolution = (pixels_per_um, pixels_per_um)
        tifffile.imwrite(path, stack, imagej=True, resolution=resolution, metadata=meta)
        return path

    with_size = sized(tmp_path / "sized.tif", 200.0)
    tifffile.imwrite(tmp_path / "bare.tif", stack, imagej=True, metadata={"axes": "ZYX"})
    common = ["--model", "em-mito3d", "--no-tta", "--device", "cpu", "-q"]
    assert main(["segment", str(with_size), "-o", str(tmp_path / "a.tif"), *common]) == 0
    recipe = json.loads((tmp_path / "a.recipe.json").read_text())
    assert recipe["spacing"] == pytest.approx([0.01, 0.005, 0.005])
    replay = ["--recipe", str(tmp_path / "a.recipe.json"), "-q"]
    assert (
        main(["segment", str(tmp_path / "bare.tif"), "-o", str(tmp_path / "b.tif"), *replay]) == 0
    )
    assert json.loads((tmp_path / "b.recipe.json").read_text())["spacing"] == recipe["spacing"]
    np.testing.assert_array_equal(
        tifffile.imread(tmp_path / "a.tif"), tifffile.imread(tmp_path / "b.tif")
    )
    other = sized(tmp_path / "other.tif", 100.0)
    assert main(["segment", str(other), "-o", str(tmp_path / "c.tif"), *replay]) == 0
    assert "was made with (0.01, 0.005, 0.005)" in capsys.readouterr().err


def test_channels_first_are_averaged_with_a_warning_and_two_are_refused(
    tmp_path, nuclei_sample, capsys
):
    """Three channels given first (CYX: maybe separate stains, not a colour photo) are
    averaged for a one-channel model with a one-line warning; two channels are refused,
    naming the file; an RGB image (YXC) is averaged without a word."""
    plane = nuclei_sample[0][:128, :128]
    tifffile.imwrite(tmp_path / "three.tif", np.stack([plane] * 3), photometric="minisblack")
    tifffile.imwrite(tmp_path / "two.tif", np.stack([plane] * 2), photometric="minisblack")
    tifffile.imwrite(tmp_path / "rgb.tif", np.stack([plane] * 3, axis=-1), photometric="rgb")
    common = ["--model", "nuclei2d", "--device", "cpu", "-q"]
    args = ["segment", str(tmp_path / "three.tif"), "-o", str(tmp_path / "a.tif"), "--axes", "CYX"]
    assert main([*args, *common]) == 0
    err = capsys.readouterr().err
    assert err.startswith(
        f"warning: {tmp_path / 'three.tif'}: its 3 channels (axes CYX) are averaged"
    )
    assert len(err.strip().splitlines()) == 1
    args = ["segment", str(tmp_path / "two.tif"), "-o", str(tmp_path / "b.tif"), "--axes", "CYX"]
    assert main([*args, *common]) == 1
    assert f"{tmp_path / 'two.tif'}: 2 channels (axes CYX)" in capsys.readouterr().err
    assert main(["segment", str(tmp_path / "rgb.tif"), "-o", str(tmp_path / "c.tif"), *common]) == 0
    assert capsys.readouterr().err == ""


def test_a_cut_tiff_is_one_line_in_evaluate_and_train(tmp_path, capsys):
    """A zlib TIFF cut in half raised the codec's DeflateError with a traceback."""
    image = np.random.default_rng(0).integers(1, 255, (64, 64)).astype(np.uint8)
    tifffile.imwrite(tmp_path / "z.tif", image, compression="zlib")
    raw = (tmp_path / "z.tif").read_bytes()
    cut = tmp_path / "cut.tif"
    cut.write_bytes(raw[: len(raw) // 2])
    assert main(["evaluate", str(cut), str(tmp_path / "z.tif")]) == 1
    err = capsys.readouterr().err.strip()
    assert f"{cut}: cannot read as TIFF" in err and len(err.splitlines()) == 1
    data = tmp_path / "data"
    for sub in ("images", "masks"):
        (data / sub).mkdir(parents=True)
        shutil.copy(cut, data / sub / "a.tif")
    out = tmp_path / "model"
    args = ["train", "embedding", "--data", str(data), "--out", str(out), "--epochs", "1"]
    assert main([*args, "--patch", "32", "--features", "8,16", "--device", "cpu", "-q"]) == 1
    err = capsys.readouterr().err.strip()
    assert "a.tif: cannot read as TIFF" in err and len(err.splitlines()) == 1, err
    assert not out.exists()


def test_a_broken_user_model_does_not_break_models(tmp_path, monkeypatch, capsys):
    (tmp_path / "broken").mkdir()
    (tmp_path / "broken" / "card.json").write_text('{"name": "x", "normalization": []}')
    monkeypatch.setenv("TESSELLA_MODELS", str(tmp_path))
    assert main(["models"]) == 0
    out, err = capsys.readouterr()
    assert "nuclei2d" in out and len(err.strip().splitlines()) == 1
    assert f"{tmp_path / 'broken' / 'card.json'}" in err and "skipped" in err
    # a card that loads but has odd validation scores (display only) is listed
    import shutil

    from tessella.engine.registry import find_model

    shutil.copytree(find_model("nuclei2d"), tmp_path / "mine")
    card = json.loads((tmp_path / "mine" / "card.json").read_text())
    (tmp_path / "mine" / "card.json").write_text(json.dumps({**card, "validation": None}))
    assert main(["models"]) == 0
    assert str(tmp_path / "mine") in capsys.readouterr().out


def test_evaluate_ctc_refuses_a_ground_truth_folder_that_is_not_one(tmp_path, capsys):
    """A GT folder that does not exist, or the image folder `01` given for `01_GT`, exited 0
    with "SEG: no annotated (SEG) frame"; so did a TRA folder without man_track.txt."""
    from tessella.engine.tracking import link, write_ctc
    from tests.conftest import cell_movie, write_ctc_sequence

    image, labels, tracks = cell_movie(frames=3, shape=(48, 64))
    write_ctc_sequence(tmp_path, image, labels, tracks)
    write_ctc(*link(labels), tmp_path / "res")
    res = str(tmp_path / "res")
    assert main(["evaluate", res, str(tmp_path / "01_GT"), "--ctc", "-q"]) == 0
    for gt, message in (
        (tmp_path / "nope", "no such folder"),
        (tmp_path / "01", "neither SEG/man_segTTT.tif nor TRA/man_track.txt"),
    ):
        assert main(["evaluate", res, str(gt), "--ctc"]) == 1
        out, err = capsys.readouterr()
        assert f"{gt}: " in err and message in err and len(err.strip().splitlines()) == 1, err
        assert "SEG:" not in out
    # tracks without segmentation masks: the links are scored
    seg = tmp_path / "01_GT" / "SEG"
    seg.rename(tmp_path / "SEG aside")
    assert main(["evaluate", res, str(tmp_path / "01_GT"), "--ctc"]) == 0
    assert "no annotated (SEG) frame" in capsys.readouterr().out
    (tmp_path / "SEG aside").rename(seg)
    (tmp_path / "01_GT" / "TRA" / "man_track.txt").unlink()
    assert main(["evaluate", res, str(tmp_path / "01_GT"), "--ctc"]) == 1
    err = capsys.readouterr().err
    assert f"{tmp_path / '01_GT' / 'TRA'}: no man_track.txt" in err, err


def test_a_recipe_made_from_an_ome_zarr_replays_on_it(tmp_path, nuclei_sample, tiny_model_dir):
    """The recipe records the axes the image was read with ("YX"); given back, they must drop
    the OME singleton axes (c, z of length 1) as reading without axes does."""
    import zarr

    group = zarr.open_group(str(tmp_path / "in.zarr"), mode="w", zarr_format=2)
    image = nuclei_sample[0][:96, :96]
    group.create_array("0", shape=(1, 1, 96, 96), dtype=image.dtype)[...] = image[None, None]
    axes = [{"name": n, "type": "space"} for n in "czyx"]
    group.attrs["multiscales"] = [{"version": "0.4", "axes": axes, "datasets": [{"path": "0"}]}]
    base = ["segment", str(tmp_path / "in.zarr"), "--model", str(tiny_model_dir), "-q"]
    assert main([*base, "-o", str(tmp_path / "a.zarr")]) == 0
    recipe = tmp_path / "a.recipe.json"
    assert json.loads(recipe.read_text())["axes"] == "YX"
    assert main([*base, "-o", str(tmp_path / "b.zarr"), "--recipe", str(recipe)]) == 0
    first, second = (read_image(tmp_path / f"{n}.zarr").data for n in "ab")
    np.testing.assert_array_equal(np.asarray(first), np.asarray(second))


@pytest.fixture
def small_image(tmp_path, nuclei_sample):
    path = tmp_path / "small.tif"
    tifffile.imwrite(path, nuclei_sample[0][:96, :96])
    return path


def test_outputs_that_cannot_be_written_are_refused_up_front(
    tmp_path, small_image, tiny_model_dir, tiny_temporal_dir, capsys
):
    """Each is one line naming the path, and nothing is written: --ctc naming a file (labels
    and recipe were written first), an existing recipe without --overwrite (it was replaced
    silently), a recipe path that is a folder (the labels were left behind), an output inside
    a file ([Errno 17]), an output that is a folder ([Errno 21] naming a hidden .tmp)."""
    (tmp_path / "file").write_text("x")
    (tmp_path / "r").mkdir()
    (tmp_path / "r" / "x.recipe.json").write_text('{"mine": 1}')
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "x.recipe.json").mkdir()
    (tmp_path / "folder.tif").mkdir()
    cases = [
        (tmp_path / "c" / "x.tif", ["--ctc", str(tmp_path / "file")], f"{tmp_path / 'file'}"),
        (tmp_path / "r" / "x.tif", [], f"{tmp_path / 'r' / 'x.recipe.json'} exists"),
        (tmp_path / "d" / "x.tif", ["--overwrite"], f"{tmp_path / 'd' / 'x.recipe.json'}"),
        (tmp_path / "file" / "x.tif", [], f"{tmp_path / 'file'} is a file"),
        (tmp_path / "folder.tif", ["--overwrite"], f"{tmp_path / 'folder.tif'} is a folder"),
    ]
    for out, extra, message in cases:
        model = tiny_temporal_dir if "--ctc" in extra else tiny_model_dir  # (--ctc: tracks)
        args = ["segment", str(small_image), "-o", str(out), "--model", str(model)]
        assert main([*args, *extra, "-q"]) == 1
        err = capsys.readouterr().err.strip()
        assert message in err and len(err.splitlines()) == 1, err
        assert "Errno" not in err
    assert not (tmp_path / "c").exists() and sorted(p.name for p in (tmp_path / "d").iterdir()) == [
        "x.recipe.json"
    ]
    assert (tmp_path / "r" / "x.recipe.json").read_text() == '{"mine": 1}'
    assert list((tmp_path / "folder.tif").iterdir()) == []


def test_labels_and_recipe_are_written_both_or_neither(
    tmp_path, small_image, tiny_model_dir, monkeypatch, capsys
):
    import tessella.engine.io as io

    def fail(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(io, "write_json", fail)
    out = tmp_path / "o" / "x.tif"
    args = ["segment", str(small_image), "-o", str(out), "--model", str(tiny_model_dir), "-q"]
    assert main(args) == 1
    assert "disk full" in capsys.readouterr().err
    # neither file, and not the folder the run made for them (9ad3932)
    assert not (tmp_path / "o").exists()
    (tmp_path / "o").mkdir()  # a folder that was there before stays, empty
    assert main(args) == 1
    assert "disk full" in capsys.readouterr().err
    assert list((tmp_path / "o").iterdir()) == []


def test_folder_runs_give_colliding_names_own_recipes_and_refuse_a_zarr_named_folder(
    tmp_path, small_image, tiny_model_dir, capsys
):
    src = tmp_path / "in"
    src.mkdir()
    for name in ("a.tif", "a.tiff"):
        shutil.copy(small_image, src / name)
    args = ["segment", str(src), "--model", str(tiny_model_dir), "-q"]
    # (a.tif and a.tiff each get a recipe of their own since 2dfb26c/7b51d27: no longer
    # refused; their shared a.csv is, test_cli_batch_tif_tiff)
    assert main([*args, "-o", str(tmp_path / "out")]) == 0
    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["a.recipe.json", "a.tif", "a.tiff", "a.tiff.recipe.json"], written
    (src / "a.tiff").unlink()
    assert main([*args, "-o", str(tmp_path / "out.zarr")]) == 1
    assert "out.zarr" in capsys.readouterr().err
    assert not (tmp_path / "out.zarr").exists()


def test_evaluate_an_empty_ground_truth_writes_valid_json(tmp_path, capsys):
    """NaN is no JSON: undefined scores are null, and a folder's vrand is the mean over the
    images that have ground truth (it was NaN when one had none)."""
    gt = np.zeros((16, 16), np.uint16)
    gt[2:8, 2:8] = 1
    for name, image in (("a.tif", gt), ("b.tif", np.zeros_like(gt))):
        for folder in ("p", "g"):
            (tmp_path / folder).mkdir(exist_ok=True)
            tifffile.imwrite(tmp_path / folder / name, image)
    scores = tmp_path / "s.json"
    empty = str(tmp_path / "g" / "b.tif")
    args = ["evaluate", empty, empty, "--metric", "seg", "--metric", "vrand", "--json", str(scores)]
    assert main(args) == 0

    def refuse(constant):
        raise AssertionError(f"{constant} in JSON")

    written = json.loads(scores.read_text(), parse_constant=refuse)
    assert written["seg"] is None and written["vrand"] is None
    out = capsys.readouterr().out
    assert "seg: undefined" in out and "vrand: undefined" in out
    assert main(["evaluate", str(tmp_path / "p"), str(tmp_path / "g"), "--metric", "vrand"]) == 0
    out = capsys.readouterr().out
    assert "vrand: 1.0000" in out and "1 of 2 images" in out
    # AP likewise: the blank pair is left out of the means (it scored 1.0 and lifted them)
    pred = np.zeros_like(gt)
    pred[2:8, 2:6] = 1  # IoU 2/3 with the one object: AP 1, 1, 0, 0, 0
    tifffile.imwrite(tmp_path / "p" / "a.tif", pred)
    assert main(["evaluate", str(tmp_path / "p"), str(tmp_path / "g"), "--json", str(scores)]) == 0
    written = json.loads(scores.read_text())
    assert written["avs"] == pytest.approx(0.4) and written["ap_images"] == 1
    assert "means over the 1 of 2 images with an object" in capsys.readouterr().out
    stacks = tmp_path / "stacks"
    for folder, first in (("p", pred), ("g", gt)):
        (stacks / folder).mkdir(parents=True)
        tifffile.imwrite(stacks / folder / "a.tif", first[None])
        tifffile.imwrite(stacks / folder / "b.tif", np.zeros((0, 16, 16), np.uint8))
    overlapping = ["evaluate", str(stacks / "p"), str(stacks / "g"), "--overlapping"]
    assert main([*overlapping, "--json", str(scores)]) == 0
    written = json.loads(scores.read_text())
    assert written["avs"] == pytest.approx(0.4) and written["ap_images"] == 1


def test_negative_labels_are_refused_naming_the_file(tmp_path, capsys):
    """evaluate said "labels_pred contains negative labels" naming no file; --overlapping
    took negative masks silently as background."""
    gt = np.zeros((16, 16), np.int32)
    gt[2:8, 2:8] = 1
    tifffile.imwrite(tmp_path / "gt.tif", gt)
    tifffile.imwrite(tmp_path / "neg.tif", -gt)
    tifffile.imwrite(tmp_path / "stack.tif", np.stack([gt, -gt]))
    for args in (
        ["neg.tif", "gt.tif"],
        ["gt.tif", "neg.tif"],
        ["neg.tif", "gt.tif", "--overlapping"],
        ["stack.tif", "gt.tif", "--overlapping"],
    ):
        name = args[0] if args[0] != "gt.tif" else args[1]
        assert (
            main(["evaluate", *(str(tmp_path / a) if a.endswith(".tif") else a for a in args)]) == 1
        )
        err = capsys.readouterr().err.strip()
        assert f"{tmp_path / name}: " in err and "negative" in err, err
        assert len(err.splitlines()) == 1
    # an ignore label may be negative: those pixels are not annotated, not objects
    marked = np.where(np.arange(16)[None, :] > 12, -1, gt)
    tifffile.imwrite(tmp_path / "sparse.tif", marked)
    assert (
        main(
            [
                "evaluate",
                str(tmp_path / "gt.tif"),
                str(tmp_path / "sparse.tif"),
                "--ignore-label",
                "-1",
                "-q",
            ]
        )
        == 0
    )


def test_a_stack_recipe_replays_as_a_stack(tmp_path, nuclei_sample, tiny_patches_dir, capsys):
    """--stack was not recorded: replaying its recipe wrote a label image."""
    image = tmp_path / "img.tif"
    tifffile.imwrite(image, nuclei_sample[0][:64, :64])
    first = ["segment", str(image), "-o", str(tmp_path / "a.tif"), "--model"]
    assert main([*first, str(tiny_patches_dir), "--stack", "-q"]) == 0
    recipe = tmp_path / "a.recipe.json"
    assert json.loads(recipe.read_text())["stack"] is True
    replay = ["segment", str(image), "-o", str(tmp_path / "b.tif"), "--recipe", str(recipe), "-q"]
    assert main(replay) == 0
    a, b = (tifffile.imread(tmp_path / f"{n}.tif") for n in "ab")
    assert a.ndim == 3 and b.shape == a.shape
    np.testing.assert_array_equal(a, b)
    # where a stack cannot be written (a zarr output), the replay writes labels and says
    # why, before any work; an explicit --stack is refused there
    import zarr

    recipe_args = ["--recipe", str(recipe), "-q"]
    source = zarr.create_array(str(tmp_path / "img.zarr"), shape=(64, 64), dtype=np.uint8)
    source[...] = tifffile.imread(image)
    zarr_out = ["segment", str(tmp_path / "img.zarr"), "-o", str(tmp_path / "c.zarr")]
    assert main([*zarr_out, *recipe_args]) == 0
    assert read_image(tmp_path / "c.zarr").data.shape == (64, 64)
    assert "c.zarr: a stack is written as a TIFF: writing labels" in capsys.readouterr().err
    assert main([*zarr_out[:-1], str(tmp_path / "e.zarr"), *recipe_args, "--stack"]) == 1
    assert "--stack: " in capsys.readouterr().err and not (tmp_path / "e.zarr").exists()


def test_float64_beyond_the_float32_range_segments_as_scaled(tmp_path, small_image, tiny_model_dir):
    """Normalised in float32, values of 1e300 overflowed: 0 objects and exit 0."""
    import warnings

    from tessella.engine.normalize import percentile_normalize

    image = tifffile.imread(small_image)
    huge = image.astype(np.float64) * 1e300
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no overflow warning either
        np.testing.assert_allclose(
            percentile_normalize(huge[None])[0], percentile_normalize(image[None])[0], atol=1e-5
        )
    tifffile.imwrite(tmp_path / "huge.tif", huge)
    args = ["segment", "--model", str(tiny_model_dir), "-q", "-o"]
    assert main([*args, str(tmp_path / "a.tif"), str(small_image)]) == 0
    assert main([*args, str(tmp_path / "b.tif"), str(tmp_path / "huge.tif")]) == 0
    a, b = (tifffile.imread(tmp_path / f"{n}.tif") for n in "ab")
    assert metrics.matching(a, b).f1 > 0.9


def test_evaluate_warns_of_an_inverted_membrane_map(tmp_path, data_dir, capsys):
    """Training warned of a boundary map that is mostly membrane (ISBI 2012's originals are
    255 = cell); evaluate --gt-boundaries scored it silently as a few thin 'cells'."""
    root = data_dir / "em_membranes_isbi2012" / "boundaries"
    membranes = tifffile.imread(root / "00.tif")[:128, :128]
    tifffile.imwrite(tmp_path / "map.tif", membranes)
    tifffile.imwrite(tmp_path / "inverted.tif", np.where(membranes > 0, 0, 255).astype(np.uint8))
    tifffile.imwrite(tmp_path / "pred.tif", np.ones((128, 128), np.uint16))
    for name, warned in (("map.tif", False), ("inverted.tif", True)):
        args = ["evaluate", str(tmp_path / "pred.tif"), str(tmp_path / name), "--gt-boundaries"]
        assert main([*args, "-q"]) == 0
        err = capsys.readouterr().err
        assert ("of its pixels are membrane" in err and "inverted.tif" in err) is warned
