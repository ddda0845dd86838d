"""``tessella segment --recipe R.json`` reads the channel and series the recipe records; where
the image lacks them (or the recipe's value is no number, or the run cannot read one
channel), the one-line error names the recipe as where the value came from, not a
``--channel`` the user never typed, nor the recipe's axes."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from tessella.cli import main


@pytest.fixture
def two_channels(tmp_path, nuclei_sample):
    """A real 2-channel ImageJ CYX TIFF (nuclei and their inverse), 128 x 128."""
    nuclei = np.ascontiguousarray(nuclei_sample[0][:128, :128])
    path = tmp_path / "two.tif"
    tifffile.imwrite(
        path, np.stack([nuclei, nuclei.max() - nuclei]), imagej=True, metadata={"axes": "CYX"}
    )
    return path


def _recipe(tmp_path, **chosen) -> str:
    """A recipe as ``tessella segment`` writes it for a channel or series, of the shipped
    nuclei2d model."""
    path = tmp_path / "R.json"
    recipe = {"model": "nuclei2d", "method": "embedding", "params": {}, "axes": "YX"}
    path.write_text(json.dumps(recipe | chosen))
    return str(path)


def _segment(capsys, *args) -> tuple[int, str]:
    code = main(["segment", *map(str, args), "--device", "cpu", "-q"])
    return code, capsys.readouterr().err.strip()


@pytest.mark.parametrize("stored", [{"stored_axes": "CYX"}, {}], ids=["stored_axes", "older"])
def test_a_recipe_channel_the_image_lacks_is_said_as_the_recipes(
    tmp_path, two_channels, capsys, stored
):
    """Channel 3 of a 2-channel image, from the recipe (one that records the axes as stored,
    and an older one without): the recipe's channel is named, and how to choose another; it
    used to read as the file's own refusal (with stored axes: blamed on the recipe's axes)."""
    recipe = _recipe(tmp_path, channel=3, **stored)
    code, err = _segment(capsys, two_channels, "-o", tmp_path / "out.tif", "--recipe", recipe)
    assert code == 1
    assert err == (
        f"tessella segment: error: {two_channels}: the recipe {recipe}'s channel 3 is not "
        "there: it has 2 channels (0 to 1); give --channel to read another"
    )
    assert not (tmp_path / "out.tif").exists()


def test_a_recipe_series_the_file_lacks_and_a_recipe_channel_no_number(
    tmp_path, two_channels, capsys
):
    recipe = _recipe(tmp_path, series=4, stored_axes="CYX")
    code, err = _segment(capsys, two_channels, "-o", tmp_path / "out.tif", "--recipe", recipe)
    assert (code, err) == (
        1,
        f"tessella segment: error: {two_channels}: the recipe {recipe}'s series 4 is not "
        "there: it holds 1 series (0 to 0); give --series to read another",
    )
    recipe = _recipe(tmp_path, channel=-1)
    code, err = _segment(capsys, two_channels, "-o", tmp_path / "out.tif", "--recipe", recipe)
    assert (code, err) == (
        1,
        f"tessella segment: error: the recipe {recipe}'s channel must be a number from 0, got -1",
    )


def test_a_recipe_series_with_blockwise_names_the_recipe(tmp_path, two_channels, capsys):
    """A recipe's series with --blockwise (a zarr holds one series; a channel is taken
    since 3eede58): refused naming the recipe as where the series came from."""
    recipe = _recipe(tmp_path, series=1)
    code, err = _segment(
        capsys, two_channels, "-o", tmp_path / "out.zarr", "--recipe", recipe, "--blockwise"
    )
    assert code == 1
    assert err.startswith(
        f"tessella segment: error: the recipe {recipe}'s series 1 reads one image's series; "
        "--blockwise reads the whole input"
    )


def test_a_typed_channel_is_not_blamed_on_the_recipe(tmp_path, two_channels, capsys):
    """--channel typed over a recipe's channel: the refusal is the file's own, and names no
    recipe (the value was the user's)."""
    recipe = _recipe(tmp_path, channel=0, stored_axes="CYX")
    code, err = _segment(
        capsys, two_channels, "-o", tmp_path / "out.tif", "--recipe", recipe, "--channel", 3
    )
    assert (code, err) == (
        1,
        f"tessella segment: error: {two_channels}: no channel 3: it has 2 channels (0 to 1)",
    )
