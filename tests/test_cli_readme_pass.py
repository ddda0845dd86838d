"""What an acceptance pass through the README found in the command line: errors of a
hand-edited recipe name the recipe, `tessella models` shows the score of a model's default
configuration, a blockwise recipe records the tessella version and in-memory zarr output of
an OME-Zarr is OME-Zarr labels as blockwise writes them, a 3-frame movie saved as planar RGB
gets the hint to pass --axes TYX, a closed pipe ends quietly, one --overwrite advice, train
--help shows its defaults, --holdout of the wrong axis is refused, and a fine-tune that kept
its base says so."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import numpy as np
import pytest
import tifffile
import zarr

from tessella.cli import _build_parser, main
from tests.conftest import write_ome_zarr


@pytest.fixture
def image_file(tmp_path, nuclei_sample):
    path = tmp_path / "img.tif"
    tifffile.imwrite(path, nuclei_sample[0][:128, :128])
    return path


@pytest.mark.parametrize(
    ("params", "said"),
    [
        ({"seed_thresh": "high"}, "parameter 'seed_thresh': 'high' is not a valid float"),
        ({"seed_tresh": 0.5}, "unknown parameter 'seed_tresh'"),
    ],
)
def test_a_hand_edited_recipe_s_parameter_errors_name_the_recipe(
    tmp_path, image_file, capsys, params, said
):
    recipe = tmp_path / "bad.recipe.json"
    recipe.write_text(json.dumps({"model": "nuclei2d", "params": params}))
    out = tmp_path / "out.tif"
    code = main(["segment", str(image_file), "-o", str(out), "--recipe", str(recipe), "-q"])
    err = capsys.readouterr().err
    assert code == 1 and said in err and f"error: {recipe}: " in err, err
    assert not out.exists()
    # a --set of the command line is no recipe's
    code = main(["segment", str(image_file), "-o", str(out), "--set", "seed_thresh=high"])
    err = capsys.readouterr().err
    assert code == 1 and "'high' is not a valid float" in err and "recipe" not in err, err


def test_models_shows_the_score_of_each_model_s_default_configuration(capsys):
    """em-mito2d segments with TTA by default (0.892, as the README says); the list showed
    its no-TTA figure 0.8522 unlabelled."""
    assert main(["models"]) == 0
    rows = {line.split()[0]: line for line in capsys.readouterr().out.splitlines()}
    assert "foreground_iou=0.8923" in rows["em-mito2d"], rows["em-mito2d"]
    assert "0.8522" not in rows["em-mito2d"] and "(with TTA, its default)" in rows["em-mito2d"]
    assert "foreground_iou=0.8437" in rows["em-mito3d"]  # no TTA by default
    assert "0.8692" not in rows["em-mito3d"]  # (its 16x TTA figure)
    assert "(without TTA, its default)" in rows["em-mito3d"]
    assert "(without TTA, its default)" in rows["cells2dt"]  # sequences
    assert "ap50=0.8457" in rows["nuclei2d"] and "{" not in rows["nuclei2d"]
    # the axes of what each segments: a time-lapse model's movies (it read "YX", its frames')
    axes = {name: row.split()[2] for name, row in rows.items() if name != "NAME"}
    assert axes["cells2dt"] == "TYX" and axes["em-mito3d"] == "ZYX" and axes["nuclei2d"] == "YX"


def test_ome_zarr_in_memory_and_blockwise_write_the_same_labels_format_and_recipe(
    tmp_path, nuclei_sample, capsys
):
    """In memory, OME-Zarr input gave a plain zarr v3 array (pixel size in tessella's
    attributes) and --blockwise OME-Zarr 0.4 labels; the blockwise recipe lacked
    tessella_version."""
    from tessella import __version__
    from tessella.engine.io import read_image

    image = nuclei_sample[0][:128, :128]
    source = write_ome_zarr(
        tmp_path / "in.ome.zarr", image[None, None, None], "tczyx", [1, 1, 1, 0.5, 0.5],
        (1, 1, 1, 128, 128),
    )  # fmt: skip
    base = ["segment", str(source), "--model", "nuclei2d", "--device", "cpu", "-q"]
    assert main([*base, "-o", str(tmp_path / "memory.zarr")]) == 0, capsys.readouterr().err
    blockwise = ["--blockwise", "--workers", "0", "--block", "128"]
    assert main([*base, "-o", str(tmp_path / "blocks.zarr"), *blockwise]) == 0, (
        capsys.readouterr().err
    )
    groups = [zarr.open_group(str(tmp_path / f"{n}.zarr"), mode="r") for n in ("memory", "blocks")]
    assert [g.metadata.zarr_format for g in groups] == [2, 2]
    multiscales = [g.attrs["multiscales"][0] for g in groups]
    for key in ("axes", "datasets", "version"):
        assert multiscales[0][key] == multiscales[1][key], key
    assert multiscales[0]["axes"] == [
        {"name": "y", "type": "space", "unit": "micrometer"},
        {"name": "x", "type": "space", "unit": "micrometer"},
    ]
    assert multiscales[0]["datasets"][0]["coordinateTransformations"] == [
        {"type": "scale", "scale": [0.5, 0.5]}
    ]
    assert groups[0].attrs["image-label"] == groups[1].attrs["image-label"]
    memory = read_image(tmp_path / "memory.zarr")
    assert memory.labels and memory.axes == "YX" and memory.pixel_size == {"Y": 0.5, "X": 0.5}
    assert np.asarray(memory.data).max() > 5
    for name in ("memory", "blocks"):
        recipe = json.loads((tmp_path / f"{name}.recipe.json").read_text())
        assert recipe["tessella_version"] == __version__, name
    # a plain zarr array in gives a plain zarr array out, with the pixel size in attributes
    plain = zarr.create_array(str(tmp_path / "plain.zarr"), shape=image.shape, dtype=image.dtype)
    plain[...] = image
    plain.attrs.update({"pixel_size": {"Y": 0.5, "X": 0.5}, "unit": "µm"})
    out = tmp_path / "plain_labels.zarr"
    assert main([*base[:1], str(tmp_path / "plain.zarr"), *base[2:], "-o", str(out)]) == 0
    written = zarr.open(str(out), mode="r")
    assert isinstance(written, zarr.Array) and written.attrs["tessella_axes"] == "YX"
    assert written.attrs["pixel_size"] == {"Y": 0.5, "X": 0.5}


def test_an_ome_zarr_0_5_gives_ome_zarr_0_5_labels_in_memory(tmp_path, nuclei_sample):
    from tessella.engine.io import read_image, write_zarr_labels

    group = zarr.open_group(str(tmp_path / "in.ome.zarr"), mode="w", zarr_format=3)
    group.create_array("s0", shape=(2, 64, 64), dtype="uint8")[...] = 1
    axes = [{"name": "c", "type": "channel"}, {"name": "y", "type": "space"}, "x"]
    scale = {"type": "scale", "scale": [1.0, 2.0, 3.0]}
    multiscale = {"axes": axes, "datasets": [{"path": "s0", "coordinateTransformations": [scale]}]}
    group.attrs["ome"] = {"version": "0.5", "multiscales": [multiscale]}
    image = read_image(tmp_path / "in.ome.zarr")
    assert image.axes == "CYX"
    from tessella.engine.io import labels_ome

    labels = np.zeros((64, 64), np.uint16)
    labels[5:9, 5:9] = 1
    out = write_zarr_labels(tmp_path / "out.zarr", labels, "YX", ome=labels_ome(image, "YX"))
    written = zarr.open_group(str(out), mode="r")
    assert written.metadata.zarr_format == 3
    ome = written.attrs["ome"]
    assert ome["version"] == "0.5" and "image-label" in ome
    assert ome["multiscales"][0]["axes"] == [
        {"name": "y", "type": "space"},
        {"name": "x", "type": "space"},
    ]
    back = read_image(out)
    assert back.labels and back.pixel_size == {"Y": 2.0, "X": 3.0}
    assert (np.asarray(back.data) == labels).all()


def test_a_3_frame_movie_saved_as_planar_rgb_gets_the_axes_hint(tmp_path, capsys):
    """tifffile.imwrite tags a (3, Y, X) array as planar RGB: a time-lapse model averaged
    its frames with only the engine's warning about channels. The reader now reads it as a
    stack (ZYX) saying so, and the time-lapse model refuses a stack naming --axes TYX, as
    for a stack of minisblack pages (P4)."""
    rng = np.random.default_rng(0)
    movie = tmp_path / "movie.tif"
    frames = (rng.random((3, 48, 48)) * 1000).astype(np.uint16)
    # what a plain tifffile.imwrite(movie, frames) does (today; said here for the future)
    tifffile.imwrite(movie, frames, photometric="rgb", planarconfig="separate")
    out = tmp_path / "labels.tif"
    assert main(["segment", str(movie), "-o", str(out), "--model", "cells2dt", "-q"]) == 1
    err = capsys.readouterr().err
    assert "read as a stack of 3 slices (ZYX)" in err and "if frames of a time-lapse TYX" in err
    assert "the image has axes ZYX: if its first axis is time, give axes TYX" in err
    assert "averaged" not in err and not out.exists()
    out3 = tmp_path / "labels3.tif"
    args = ["segment", str(movie), "-o", str(out3), "--model", "cells2dt", "--axes", "TYX"]
    assert main([*args, "-q"]) == 0
    assert "channels" not in capsys.readouterr().err


def test_a_closed_pipe_ends_quietly(tmp_path):
    """`tessella models --json | head` ended with 'error: [Errno 32] Broken pipe'."""
    env = os.environ | {"XDG_CONFIG_HOME": str(tmp_path), "XDG_CACHE_HOME": str(tmp_path)}
    code = "import sys; from tessella.cli import main; sys.exit(main(['models', '--json']))"
    proc = subprocess.Popen(
        [sys.executable, "-c", code], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before anything is written
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=120) == 141
    assert err == "", err


def test_blockwise_says_pass_overwrite_as_the_rest_does(tmp_path, nuclei_sample, capsys):
    image = nuclei_sample[0][:64, :64]
    source = tmp_path / "in.zarr"
    zarr.create_array(str(source), shape=image.shape, dtype=image.dtype)[...] = image
    out = tmp_path / "out.zarr"
    out.mkdir()
    args = ["segment", str(source), "-o", str(out), "--blockwise", "--workers", "0", "-q"]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert f"{out} exists; pass --overwrite to replace it" in err and "=True" not in err, err


def test_train_help_shows_the_defaults(capsys):
    with pytest.raises(SystemExit):
        _build_parser().parse_args(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option, default in (
        ("--epochs EPOCHS", "50"),
        ("--steps-per-epoch STEPS_PER_EPOCH", "100"),
        ("--batch-size BATCH_SIZE", "8"),
        ("--patch PATCH", "256"),
        ("--lr LR", "0.0003 with --base, 0.001 for a new model"),
    ):
        after = text.split(f"{option} ", 1)[1][:80]
        assert f"default: {default})" in after or f"default: {default}" in after, (option, after)


@pytest.mark.parametrize(
    ("method", "selector", "axis"),
    [("semantic", "lucchi[t=1:3]", "'t'"), ("temporal", "movie[z=4]", "'z'")],
)
def test_holdout_of_the_wrong_axis_is_refused(tmp_path, capsys, method, selector, axis):
    out = tmp_path / "model"
    args = ["train", method, "--data", str(tmp_path), "--out", str(out), "--holdout", selector]
    assert main(args) == 1
    err = capsys.readouterr().err
    assert f"--holdout {selector}: axis {axis}" in err, err
    assert not out.exists()
    args[-2:] = ["--exclude", "lucchi[q=1]"]
    assert main(args) == 1
    assert "--exclude lucchi[q=1]: unknown axis 'q'" in capsys.readouterr().err


@pytest.mark.parametrize(("epochs", "kept"), [((0.5, 0.49), True), ((0.5, 0.51), False)])
def test_a_fine_tune_that_never_beat_its_base_says_its_weights_are_the_base_s(
    tmp_path, monkeypatch, capsys, epochs, kept
):
    """The command printed only 'model written to OUT' where the Train panel says that no
    epoch beat the base, so its weights were kept."""
    import tessella.engine.train as train_module

    out = tmp_path / "my_model"

    def fake_train_steps(config):
        out.mkdir()
        (out / "card.json").write_text("{}")
        (out / "model.safetensors").write_bytes(b"")
        lines = [{"epoch": 0, "val_ap50": 0.5, "base": "nuclei2d"}] + [
            {"epoch": i + 1, "loss": 0.1, "val_ap50": s} for i, s in enumerate(epochs)
        ]
        (out / "train.log").write_text("".join(json.dumps(e) + "\n" for e in lines))
        yield from ()

    monkeypatch.setattr(train_module, "train_steps", fake_train_steps)
    args = ["train", "embedding", "--data", str(tmp_path), "--out", str(out), "-q"]
    assert main([*args, "--base", "nuclei2d"]) == 0
    said = capsys.readouterr().out.strip()
    if kept:
        assert said.startswith(f"model written to {out}: no epoch beat the base model's")
        assert "0.500" in said and "the base's (nuclei2d) unchanged" in said
    else:
        assert said == f"model written to {out}"


def test_a_broken_pipe_that_is_not_stdouts_is_an_error(monkeypatch, capsys):
    """Only a closed stdout ends quietly: a broken pipe elsewhere (a worker's connection, a
    FIFO output) is an error that says what broke."""
    from tessella import cli

    def broken(args):
        raise BrokenPipeError(32, "Broken pipe (a worker's connection)")

    monkeypatch.setattr(cli, "_cmd_models", broken)
    assert main(["models"]) == 1
    assert "error: [Errno 32] Broken pipe (a worker's connection)" in capsys.readouterr().err


def test_the_frames_hint_comes_from_the_engine_for_napari_too():
    """The hint is the engine's warning (which the Segment panel shows as a notification),
    not only the command line's."""
    from tessella.engine.pipeline import run_steps, segment_steps

    frames = (np.random.default_rng(1).random((3, 48, 48)) * 1000).astype(np.uint16)
    with pytest.warns(UserWarning, match=r"if these are frames, use --axes TYX \(Axes in the"):
        run_steps(segment_steps(frames, "cells2dt", "CYX", name="movie", device="cpu"))
    with pytest.warns(UserWarning, match="separate stains"):  # (a one-image model)
        run_steps(segment_steps(frames, "nuclei2d", "CYX", name="stains", device="cpu"))
