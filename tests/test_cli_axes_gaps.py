"""`tessella segment` on folders whose files do not all have the axes forced on them (``--axes``
or a recipe's ``axes``), on stacks that TIFF tags call planar RGB, and on folders holding files
that are not TIFF."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine.io import read_image
from tests.conftest import DATA


@pytest.fixture
def mixed_folder(tmp_path, nuclei_sample):
    """A folder as a user has it: a colour photo (TIFF tags: RGB, YXC), an ImageJ ZYX stack,
    an ImageJ TYX movie, a 3-frame stack written without axes (tagged planar RGB) and a 2D
    image."""
    image = nuclei_sample[0][:64, :64]
    planes = np.stack([image, image[::-1], image[:, ::-1]])
    folder = tmp_path / "in"
    folder.mkdir()
    tifffile.imwrite(folder / "rgb.tif", np.stack([image[:12]] * 3, axis=-1), photometric="rgb")
    tifffile.imwrite(folder / "volume.tif", planes, imagej=True, metadata={"axes": "ZYX"})
    tifffile.imwrite(folder / "movie.tif", planes, imagej=True, metadata={"axes": "TYX"})
    # (what a plain tifffile.imwrite of 3 or 4 planes writes)
    tifffile.imwrite(folder / "plain.tif", planes, photometric="rgb", planarconfig="separate")
    tifffile.imwrite(folder / "flat.tif", image)
    return folder


def test_a_recipe_s_axes_are_refused_where_the_file_states_other_axes(
    tmp_path, mixed_folder, tiny_model_dir, capsys
):
    """A recipe made on a movie (axes TYX) replayed over a folder: the colour photo was cut
    into 64 'frames' 3 pixels wide without a word. Now the files whose metadata say other
    axes (RGB tags, ImageJ ZYX) or that have another number of axes are refused, each with
    the --axes that reads it; the others are read with the recipe's axes."""
    recipe = tmp_path / "movie.recipe.json"
    recipe.write_text(json.dumps({"axes": "TYX", "tta": False}))
    out = tmp_path / "out"
    args = ["segment", str(mixed_folder), "-o", str(out), "--model", str(tiny_model_dir)]
    code = main([*args, "--recipe", str(recipe), "-q"])
    err = capsys.readouterr().err
    assert code == 1
    assert (
        "rgb.tif: the recipe's axes TYX contradict its TIFF tags (RGB), which say YXC; "
        "segment it on its own with --axes YXC" in err
    )
    assert "volume.tif: the recipe's axes TYX contradict its ImageJ metadata, which say ZYX" in err
    assert "flat.tif: the recipe's axes TYX name 3 axes but the image has 2 (YX)" in err
    assert "3 of 5 images failed: flat.tif, rgb.tif, volume.tif" in err
    assert not (out / "rgb.tif").exists()
    for name in ("movie.tif", "plain.tif"):  # no axes of their own against TYX: read as TYX
        labels = read_image(out / name)
        assert labels.axes == "TYX" and labels.data.shape == (3, 64, 64)
        assert json.loads((out / name).with_suffix(".recipe.json").read_text())["axes"] == "TYX"


def test_explicit_axes_that_contradict_a_file_s_metadata_are_said(
    tmp_path, mixed_folder, tiny_model_dir, capsys
):
    """--axes is applied as given (it overrides the metadata, as the README says), but a file
    whose metadata say other axes gets a one-line warning naming it and both axes."""
    for name in ("flat.tif", "volume.tif"):
        (mixed_folder / name).unlink()
    out = tmp_path / "out"
    args = ["segment", str(mixed_folder), "-o", str(out), "--model", str(tiny_model_dir)]
    assert main([*args, "--axes", "TYX", "--no-tta", "-q"]) == 0
    warnings = [line for line in capsys.readouterr().err.splitlines() if "warning" in line]
    assert warnings == [
        f"warning: {mixed_folder / 'rgb.tif'}: read as TYX (as given), not as YXC "
        "from its TIFF tags (RGB)"
    ]
    assert read_image(out / "rgb.tif").data.shape == (12, 64, 3)  # as --axes said


def test_a_plain_stack_tagged_planar_rgb_is_segmented_as_slices(tmp_path, capsys):
    """A 4-slice EM stack saved with a plain tifffile.imwrite is tagged planar RGB: em-mito2d
    averaged it into one plane, and the warning spoke only of stains; a later fix hinted at
    --axes ZYX. The reader now reads tifffile's planar RGB of 3 or 4 planes as a stack (ZYX),
    saying so (P4), and em-mito2d segments it slice by slice; --axes ZYX reads it so without
    a word. The slices are Lucchi++ EM, what em-mito2d is for."""
    volume = tifffile.imread(DATA / "em_mito_lucchipp" / "val" / "image.tif")
    path = tmp_path / "stack.tif"
    planes = np.ascontiguousarray(volume[:4, 300:364, 400:464])
    tifffile.imwrite(path, planes, photometric="rgb", planarconfig="separate")
    args = ["segment", str(path), "--model", "em-mito2d", "--no-tta", "-q", "-o"]
    assert main([*args, str(tmp_path / "guessed.tif")]) == 0
    [warning] = capsys.readouterr().err.strip().splitlines()
    assert "its TIFF tags say 4 planes of colour (planar RGBA)" in warning
    assert "read as a stack of 4 slices (ZYX)" in warning
    assert read_image(tmp_path / "guessed.tif").data.shape == (4, 64, 64)
    assert main([*args, str(tmp_path / "slices.tif"), "--axes", "ZYX"]) == 0
    assert capsys.readouterr().err == ""
    assert read_image(tmp_path / "slices.tif").data.shape == (4, 64, 64)


def test_files_of_a_folder_that_are_not_tiff_are_named(
    tmp_path, nuclei_sample, tiny_model_dir, capsys
):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    tifffile.imwrite(folder / "a.tif", nuclei_sample[0][:64, :64])
    (folder / "i_gif.gif").write_bytes(b"GIF89a")  # (PNG/JPEG/BMP are read since s34)
    (folder / "notes.txt").write_text("notes")
    (folder / ".DS_Store").write_bytes(b"\0")
    args = ["segment", str(folder), "--model", str(tiny_model_dir), "--no-tta", "-o"]
    assert main([*args, str(tmp_path / "out")]) == 0
    err = capsys.readouterr().err
    assert f"{folder}: skipped i_gif.gif, notes.txt, sub/ (not TIFF nor PNG/JPEG/BMP)\n" in err
    assert ".DS_Store" not in err
    assert main([*args, str(tmp_path / "out_quiet"), "-q"]) == 0
    assert capsys.readouterr().err == ""


def test_axes_that_contradict_a_zarr_s_metadata_are_said_or_refused(
    tmp_path, nuclei_sample, tiny_model_dir, capsys
):
    """An OME-Zarr image whose axes metadata say ZYX (a volume): --axes TYX read it as a movie
    without a word, as --axes did for TIFFs before; now it warns as for a TIFF (the engine's
    read_image says it, in memory and --blockwise alike). A recipe's axes that contradict it
    are refused, as for a TIFF, with the --axes that reads it."""
    from tests.conftest import write_ome_zarr

    planes = np.stack([nuclei_sample[0][:64, :64]] * 3)
    source = write_ome_zarr(
        tmp_path / "volume.zarr", planes[None], "tzyx", [1, 2.0, 0.5, 0.5], (1, 3, 64, 64)
    )
    args = ["segment", str(source), "--model", str(tiny_model_dir), "--no-tta", "-q"]
    said = f"warning: {source}: read as TYX (as given), not as ZYX from its OME-Zarr axes"
    assert main([*args, "-o", str(tmp_path / "movie.zarr"), "--axes", "TYX"]) == 0
    assert capsys.readouterr().err.splitlines() == [said]
    assert read_image(tmp_path / "movie.zarr").data.shape == (3, 64, 64)
    blockwise = ["--blockwise", "--workers", "0", "--block", "64", "--axes", "TYX"]
    assert main([*args[:-1], "-o", str(tmp_path / "blocks.zarr"), *blockwise]) == 0
    assert said in capsys.readouterr().err.splitlines()

    recipe = tmp_path / "movie.recipe.json"  # recorded TYX, replayed on the volume
    replay = ["segment", str(source), "--recipe", str(recipe), "-q", "-o"]
    assert main([*replay, str(tmp_path / "replayed.zarr")]) == 1
    err = capsys.readouterr().err
    assert (
        f"{source}: the recipe's axes TYX contradict its OME-Zarr axes, which say ZYX; "
        "segment it on its own with --axes ZYX (or --axes TYX to read it as the recipe does)" in err
    )
    assert "warning" not in err and not (tmp_path / "replayed.zarr").exists()
