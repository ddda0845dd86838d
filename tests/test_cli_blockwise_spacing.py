"""The voxel size of `tessella segment --blockwise --recipe` and of `--skip-existing`: a
recipe's `spacing` (the napari panel records the layer's scale in blockwise recipes too) is
replayed blockwise as in memory (where the zarr has no pixel size; a zarr's own pixel size
wins, with a warning), and `--skip-existing` refuses an output made with another voxel size
than this run would use."""

from __future__ import annotations

import json
import shlex

import numpy as np
import pytest
import tifffile
import zarr

from tessella.cli import main
from tessella.engine.io import read_image

BASE = ["--device", "cpu", "-q"]
BLOCKWISE = ["--workers", "0"]


def _zarr(path, image, pixel_size=None):
    """A plain zarr array in 128-px chunks, with a pixel size (attributes) or none, as a
    `dask.array.to_zarr` copy of a TIFF has none."""
    array = zarr.open(str(path), mode="w", shape=image.shape, chunks=(128, 128), dtype=image.dtype)
    array[...] = image
    if pixel_size:
        array.attrs.update({"pixel_size": pixel_size, "unit": "µm"})
    return path


def _recipe(path, spacing, unit=None):
    """A blockwise recipe of nuclei2d, as the Segment panel writes one for a layer with a
    scale (its `spacing`, and since s33 its `unit`; older ones have none), in 128-px blocks."""
    recipe = {"model": "nuclei2d", "axes": "YX", "spacing": spacing}
    if unit is not None:
        recipe["unit"] = unit
    recipe["blockwise"] = {"block": [128, 128]}
    path.write_text(json.dumps(recipe))
    return path


def _recorded(output):
    return json.loads(output.with_name(output.stem + ".recipe.json").read_text())


@pytest.fixture
def image(nuclei_sample):
    return nuclei_sample[0][:128, :256]


def test_blockwise_replay_uses_the_recipes_spacing_as_in_memory(tmp_path, image, capsys):
    """A zarr without a pixel size, replayed with a recipe that records spacing [2, 1]: in
    memory the run uses the recipe's voxel size (its recipe says so); blockwise ignored it
    and ran isotropic (no spacing in its recipe, nor given to the blocks). The recipe names
    its unit, as the Segment panel's now does (an older one without it: the next test)."""
    source = _zarr(tmp_path / "in.zarr", image)
    recipe = _recipe(tmp_path / "panel.recipe.json", [2.0, 1.0], "µm")
    args = ["segment", str(source), "--recipe", str(recipe), *BASE]
    assert main([*args, "-o", str(tmp_path / "memory.zarr"), "--no-blockwise"]) == 0
    assert main([*args, "-o", str(tmp_path / "blocks.zarr"), *BLOCKWISE]) == 0
    assert "voxel size" not in capsys.readouterr().err  # nothing to disagree with
    memory, blocks = _recorded(tmp_path / "memory.zarr"), _recorded(tmp_path / "blocks.zarr")
    assert "blockwise" in blocks and "blockwise" not in memory  # (replayed blockwise)
    assert memory["spacing"] == blocks["spacing"] == [2.0, 1.0]
    # the labels' own attributes hold the same recipe; their pixel size is the recipe's
    # voxel size, which the file lacks, as in memory, in the recipe's unit
    assert zarr.open(str(tmp_path / "blocks.zarr"), mode="r").attrs["tessella"]["spacing"] == [
        2.0,
        1.0,
    ]
    written = read_image(tmp_path / "blocks.zarr")
    assert written.pixel_size == read_image(tmp_path / "memory.zarr").pixel_size
    assert written.pixel_size == {"Y": 2.0, "X": 1.0}
    assert written.unit == read_image(tmp_path / "memory.zarr").unit == "µm"


def test_a_panel_recipe_replayed_on_a_zarr_without_pixel_size_keeps_its_unit(
    tmp_path, image, capsys
):
    """The Segment panel's blockwise run of a layer with a scale in µm (the engine given the
    layer as blockwise_input makes it: its own pixel size and unit) recorded the spacing but
    not its unit, so `tessella segment --recipe LABELS.zarr` on a zarr without a pixel size
    wrote the labels' pixel size 2, 1 in "pixel", warning that the recipe names no unit. Its
    recipe now records the unit, as `tessella segment`'s, Export's and Tune's do: no warning,
    the labels in µm. An older recipe without the unit is still warned of, once, and its
    labels are written as before (in pixels)."""
    from tessella.engine.blockwise import segment_blockwise
    from tessella.engine.io import ImageData

    layer = ImageData(image, "YX", {"Y": 2.0, "X": 1.0}, "µm", None)  # (as blockwise_input)
    panel = tmp_path / "panel labels.zarr"
    segment_blockwise(layer, panel, "nuclei2d", "YX", block=(128, 128), device="cpu")
    recorded = zarr.open(str(panel), mode="r").attrs["tessella"]
    assert recorded["spacing"] == [2.0, 1.0] and recorded["unit"] == "µm"
    source = _zarr(tmp_path / "in.zarr", image)
    out = tmp_path / "replayed.zarr"
    capsys.readouterr()
    args = ["segment", str(source), "--recipe", str(panel), "-o", str(out), *BASE, *BLOCKWISE]
    assert main(args) == 0
    assert "voxel size" not in capsys.readouterr().err
    written = read_image(out)
    assert (written.pixel_size, written.unit) == ({"Y": 2.0, "X": 1.0}, "µm")
    np.testing.assert_array_equal(np.asarray(written.data), zarr.open(str(panel), mode="r")[:])
    # an older recipe (no unit) replayed in memory: warned of once, the labels as before, in
    # pixels; blockwise writes them so too, with the same one warning (s34 f3 #3: none before)
    old = _recipe(tmp_path / "older_panel.recipe.json", [2.0, 1.0])
    args = ["segment", str(source), "--recipe", str(old), "-o", str(tmp_path / "old.zarr")]
    assert main([*args, *BASE, "--no-blockwise"]) == 0
    in_memory = capsys.readouterr().err
    assert in_memory.count('names no unit (its recipe has no "unit")') == 1
    written = read_image(tmp_path / "old.zarr")
    assert (written.pixel_size, written.unit) == ({"Y": 2.0, "X": 1.0}, "pixel")
    args = ["segment", str(source), "--recipe", str(old), "-o", str(tmp_path / "old_blocks.zarr")]
    assert main([*args, *BASE, *BLOCKWISE]) == 0
    blockwise = capsys.readouterr().err
    assert blockwise.count("warning:") == 1, blockwise
    assert blockwise == in_memory  # the same words, naming the same input and recipe
    written = read_image(tmp_path / "old_blocks.zarr")
    assert (written.pixel_size, written.unit) == ({"Y": 2.0, "X": 1.0}, "pixel")


def test_blockwise_replay_keeps_the_zarrs_pixel_size_and_says_the_recipe_differs(
    tmp_path, image, capsys
):
    """A zarr with its own pixel size (isotropic) and a recipe made with [2, 1]: the file's
    wins, as in memory, and the difference is said (blockwise said nothing)."""
    source = _zarr(tmp_path / "in.zarr", image, {"Y": 0.5, "X": 0.5})
    recipe = _recipe(tmp_path / "panel.recipe.json", [2.0, 1.0])
    out = tmp_path / "blocks.zarr"
    args = ["segment", str(source), "--recipe", str(recipe), "-o", str(out)]
    assert main([*args, *BASE, *BLOCKWISE]) == 0
    err = capsys.readouterr().err
    assert f"warning: {source} has voxel size (0.5, 0.5); {recipe} was made with (2.0, 1.0)" in err
    assert _recorded(out)["spacing"] == [0.5, 0.5]


def test_a_tiff_converted_as_suggested_keeps_its_pixel_size(tmp_path, image, capsys):
    """Blockwise refuses a TIFF and prints the conversion to run: it now keeps the axes and
    pixel size (a plain `dask.array.to_zarr` copy dropped them, so the zarr was segmented
    isotropic)."""
    tif = tmp_path / "aniso.tif"
    tifffile.imwrite(
        tif, image, imagej=True, resolution=(1 / 0.25, 1 / 0.5), metadata={"unit": "um"}
    )
    out = tmp_path / "labels.zarr"
    assert main(["segment", str(tif), "-o", str(out), "--blockwise", *BLOCKWISE, *BASE]) == 1
    err = capsys.readouterr().err
    command = err[err.index("pixel size: ") + len("pixel size: ") :].splitlines()[0]
    assert command == f"tessella convert {tif} {tmp_path / 'aniso.zarr'}"
    assert main(shlex.split(command)[1:]) == 0  # the conversion as printed, into aniso.zarr
    converted = read_image(tmp_path / "aniso.zarr")
    assert converted.pixel_size == read_image(tif).pixel_size == {"Y": 0.5, "X": 0.25}
    assert converted.axes == "YX"
    np.testing.assert_array_equal(np.asarray(converted.data), image)
    from tessella.engine.blockwise import to_chunked_zarr  # (what the command runs)

    assert to_chunked_zarr(tif, tmp_path / "again.zarr", 64) == tmp_path / "again.zarr"
    assert zarr.open(str(tmp_path / "again.zarr"), mode="r").chunks == (64, 64)


@pytest.mark.parametrize("blockwise", [False, True])
def test_skip_existing_refuses_an_output_of_another_voxel_size(tmp_path, image, capsys, blockwise):
    """An output made with the recipe's voxel size [2, 1] on a zarr without a pixel size,
    then `--skip-existing` without that recipe (so isotropic): it was skipped as made "with
    this run's settings" (spacing was not compared); it is refused, naming the difference.
    The same run with the recipe again skips it."""
    source = _zarr(tmp_path / "in.zarr", image)
    recipe = _recipe(tmp_path / "panel.recipe.json", [2.0, 1.0])
    out = tmp_path / "labels.zarr"
    how = ["--blockwise", *BLOCKWISE, "--block", "128"] if blockwise else ["--no-blockwise"]
    run = ["segment", str(source), "-o", str(out), *BASE, *how]
    assert main([*run, "--recipe", str(recipe)]) == 0
    assert _recorded(out)["spacing"] == [2.0, 1.0]
    capsys.readouterr()
    assert main([*run, "--model", "nuclei2d", "--axes", "YX", "--skip-existing"]) == 1
    err = capsys.readouterr().err
    assert "made with other settings than this run's" in err
    assert "spacing=[2.0, 1.0] (this run: none, the input has no pixel size)" in err
    assert main([*run, "--recipe", str(recipe), "--skip-existing"]) == 0


def test_skip_existing_keeps_an_older_output_that_records_no_spacing(tmp_path, image, capsys):
    """A blockwise output whose recipe records no spacing (written before blockwise recipes
    recorded it) on a zarr with its own pixel size is kept by `--skip-existing`: this run's
    voxel size is the file's own, as that run's was. Made with a recipe's voxel size on a
    zarr that has none, it is refused: this run would use another one."""
    own = _zarr(tmp_path / "own.zarr", image, {"Y": 1.0, "X": 0.5})
    bare = _zarr(tmp_path / "bare.zarr", image)
    recipe = _recipe(tmp_path / "panel.recipe.json", [2.0, 1.0])
    run = [*BASE, "--blockwise", *BLOCKWISE, "--block", "128", "--model", "nuclei2d"]
    run += ["--axes", "YX"]
    outputs = {}
    for source in (own, bare):
        outputs[source] = out = tmp_path / f"{source.stem}_labels.zarr"
        assert main(["segment", str(source), "-o", str(out), *run]) == 0
        recorded = _recorded(out)
        recorded.pop("spacing", None)  # as an older version wrote it
        out.with_name(out.stem + ".recipe.json").write_text(json.dumps(recorded))
    capsys.readouterr()
    said = [a for a in run if a != "-q"]  # (says what it skips)
    assert main(["segment", str(own), "-o", str(outputs[own]), *said, "--skip-existing"]) == 0
    assert "skipped own.zarr" in capsys.readouterr().err
    # the recipe's voxel size, where the zarr has none, is not what that run used
    again = ["segment", str(bare), "-o", str(outputs[bare]), "--recipe", str(recipe)]
    assert main([*again, *BASE, *BLOCKWISE, "--skip-existing"]) == 1
    assert "spacing=not recorded (this run: [2.0, 1.0], the recipe's)" in capsys.readouterr().err


def test_the_printed_conversion_runs_for_any_file_name_and_gives_an_image(tmp_path, image, capsys):
    """The printed conversion put the path in quotes as it was: a Windows path (C:\\Users\\...)
    or any name with a backslash was another string once run (\\b a backspace). The zarr it
    makes of a 16-bit image carries the attributes of labels zarrs written before the
    tessella_labels marker, so the reader asked whether it held labels (review3)."""
    import warnings

    from tessella._io import read_layers

    tif = tmp_path / "well\\b2.tif"
    tifffile.imwrite(tif, image.astype(np.uint16) * 100, imagej=True, resolution=(4.0, 2.0))
    out = tmp_path / "labels.zarr"
    assert main(["segment", str(tif), "-o", str(out), "--blockwise", *BLOCKWISE, *BASE]) == 1
    err = capsys.readouterr().err
    command = err[err.index("pixel size: ") + len("pixel size: ") :].splitlines()[0]
    assert main(shlex.split(command)[1:]) == 0  # as the shell would split it
    converted = tmp_path / "well\\b2.zarr"
    assert converted.is_dir()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # (no "may hold labels" question)
        [(data, kwargs, kind)] = read_layers(converted)
    assert kind == "image" and kwargs["scale"] == (0.5, 0.25)
