"""A recipe records the axes an input was read with in the order its file stores them
(``stored_axes``; its ``axes`` are the engine's order, after the transpose and without a
channel chosen): ``--recipe`` reads the file with them again, and ``--skip-existing``
compares a rerun's ``--axes`` with them. Before, a replay fed the engine's order back as
the file's: a plain ZCYX file read with ``--axes ZCYX`` was replayed as CZYX (Z and C
swapped without a word), a zarr whose axes were transposed or a channel chosen was refused,
and a rerun of the same command with ``--skip-existing`` was refused."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
import zarr

from tessella.cli import main
from tessella.engine.io import read_image


@pytest.fixture
def stored(nuclei_sample) -> np.ndarray:
    """(3, 3, 64, 64) uint16, stored as (Z or T, C, Y, X): the nuclei in channel 1, moved
    down 8 rows per plane; channels 0 and 2 dark. Averaging its channels (the truth) and
    averaging its planes (the first two axes swapped) give other images."""
    crop = nuclei_sample[0][:64, :64].astype(np.uint16)
    data = np.zeros((3, 3, 64, 64), np.uint16)
    for z in range(3):
        data[z, 1] = np.roll(crop, 8 * z, axis=0)
    return data


def _plain_zarr(path, data, attrs=None):
    array = zarr.open_array(str(path), mode="w", shape=data.shape, dtype=data.dtype)
    array[...] = data
    array.attrs.update(attrs or {})
    return path


def _inputs(tmp_path, data, axes):
    """The same stored pixels as a plain TIFF (no axes metadata) and a plain zarr array,
    read with --axes ``axes``, and a zarr array whose tessella_axes say ``axes``."""
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, data, photometric="minisblack")
    return [
        (plain, ["--axes", axes]),
        (_plain_zarr(tmp_path / "plain.zarr", data), ["--axes", axes]),
        (_plain_zarr(tmp_path / "named.zarr", data, {"tessella_axes": axes}), []),
    ]


def _segment(*args, model="nuclei2d"):
    return main(["segment", *map(str, args), "--model", model, "--no-tta", "-q"])


def _output(source, tmp_path, name):
    return tmp_path / (name + (".zarr" if source.suffix == ".zarr" else ".tif"))


def test_a_recipe_replays_the_axes_as_the_file_stores_them(tmp_path, stored, capsys):
    """Each input read as TCYX (given, or its tessella_axes) is read as TYXC; the recipe
    replayed gives the same labels (before: the plain TIFF and plain zarr replayed with T
    and C swapped, 0 objects, the named zarr refused)."""
    for source, axes in _inputs(tmp_path, stored, "TCYX"):
        first = _output(source, tmp_path, source.name.replace(".", "_") + "_first")
        assert _segment(source, "-o", first, *axes) == 0
        recipe = first.with_suffix(".recipe.json")
        again = _output(source, tmp_path, source.name.replace(".", "_") + "_again")
        assert _segment(source, "-o", again, "--recipe", recipe) == 0, capsys.readouterr().err
        expected = read_image(first).data[...]
        assert all(frame.max() > 5 for frame in expected)  # the nuclei in every frame
        np.testing.assert_array_equal(read_image(again).data[...], expected)
        recorded = json.loads(recipe.read_text())
        assert (recorded["axes"], recorded["stored_axes"]) == ("TYXC", "TCYX")


def test_a_zcyx_recipe_reads_z_and_c_as_they_were_read(tmp_path, stored, capsys):
    """A volume's ZCYX (the reviewer's case): what --recipe reads is the image the first
    run read (CZYX, its channels the stored C), for the TIFF and both zarrs."""
    from argparse import Namespace

    from tessella.cli._inputs import _read_input

    for source, axes in _inputs(tmp_path, stored, "ZCYX"):
        first = _output(source, tmp_path, source.name.replace(".", "_") + "_first")
        assert _segment(source, "-o", first, *axes, model="em-mito2d") == 0
        recipe = json.loads(first.with_suffix(".recipe.json").read_text())
        replay = _read_input(source, Namespace(axes=None, channel=None, series=None), recipe)
        assert replay.axes == "CZYX"
        np.testing.assert_array_equal(np.asarray(replay.data), stored.transpose(1, 0, 2, 3))
        assert (recipe["axes"], recipe["stored_axes"]) == ("CZYX", "ZCYX")


def test_a_rerun_with_skip_existing_keeps_outputs_of_transposed_axes(tmp_path, stored, capsys):
    """The very same command again with --skip-existing skips its outputs (before: refused,
    'axes=TYXC (this run: TCYX)'); other axes given are still a difference."""
    folder = tmp_path / "in"
    folder.mkdir()
    tifffile.imwrite(folder / "a.tif", stored, photometric="minisblack")
    out = tmp_path / "out"
    assert _segment(folder, "-o", out, "--axes", "TCYX") == 0
    written = (out / "a.tif").stat().st_mtime_ns
    capsys.readouterr()
    assert _segment(folder, "-o", out, "--axes", "TCYX", "--skip-existing") == 0
    assert capsys.readouterr().err == ""
    assert (out / "a.tif").stat().st_mtime_ns == written
    assert _segment(folder, "-o", out, "--axes", "CTYX", "--skip-existing") == 1
    assert "--axes=TCYX (this run: CTYX)" in capsys.readouterr().err


def test_a_channel_chosen_on_a_zarr_replays_and_reruns(tmp_path, nuclei_sample, capsys):
    """--axes CYX --channel 1 on a plain zarr: the recipe (axes YX) replays the same channel
    (before: 'axes 'YX' name 2 axes but the array has 3') and the same command with
    --skip-existing keeps the labels (before: 'axes=YX (this run: CYX)')."""
    crop = nuclei_sample[0][:128, :128].astype(np.uint16)
    source = _plain_zarr(tmp_path / "two.zarr", np.stack([crop[::-1] // 3, crop]))
    args = ["segment", str(source), "--model", "nuclei2d", "--no-tta", "-q", "-o"]
    first = tmp_path / "first.zarr"
    assert main([*args, str(first), "--axes", "CYX", "--channel", "1"]) == 0
    recipe = tmp_path / "first.recipe.json"
    again = tmp_path / "again.zarr"
    assert main([*args, str(again), "--recipe", str(recipe)]) == 0, capsys.readouterr().err
    expected = read_image(first).data[...]
    assert expected.max() > 5
    np.testing.assert_array_equal(read_image(again).data[...], expected)
    recorded = json.loads(recipe.read_text())
    assert (recorded["axes"], recorded["stored_axes"], recorded["channel"]) == ("YX", "CYX", 1)
    skip = ["--axes", "CYX", "--channel", "1", "--skip-existing"]
    assert main([*args, str(first), *skip]) == 0, capsys.readouterr().err


def test_wrong_metadata_are_overridden_only_when_asked(tmp_path, stored, capsys):
    """A script wrote CZYX data as an ImageJ ZCYX hyperstack (wrong metadata): --axes CZYX
    was refused with no way out. It is still refused (a Fiji ZCYX stack read as CZYX is the
    silent swap of Z and C), now naming --ignore-axes-metadata; with it the file is read as
    given, with a warning naming both, recorded, and --recipe reads it so again."""
    from argparse import Namespace

    from tessella.cli._inputs import _read_input

    czyx = stored.transpose(1, 0, 2, 3)  # the truth: C, Z, Y, X
    path = tmp_path / "wrong.tif"
    tifffile.imwrite(path, czyx, imagej=True, metadata={"axes": "ZCYX"})
    with pytest.raises(ValueError, match="--ignore-axes-metadata on the command line"):
        read_image(path, "CZYX")
    with pytest.warns(UserWarning, match=r"read as CZYX \(as given\), not as ZCYX"):
        image = read_image(path, "CZYX", ignore_axes_metadata=True)
    np.testing.assert_array_equal(image.data, czyx)
    args = [path, "-o", tmp_path / "out.tif", "--axes", "CZYX"]
    assert _segment(*args, model="em-mito2d") == 1
    assert "put C, Z where its ImageJ metadata do not" in capsys.readouterr().err
    assert _segment(*args, "--ignore-axes-metadata", model="em-mito2d") == 0
    assert "read as CZYX (as given), not as ZCYX" in capsys.readouterr().err
    recipe = json.loads((tmp_path / "out.recipe.json").read_text())
    assert recipe["stored_axes"] == "CZYX" and recipe["ignore_axes_metadata"] is True
    with pytest.warns(UserWarning, match="not as ZCYX from its ImageJ metadata"):
        replay = _read_input(path, Namespace(axes=None, channel=None, series=None), recipe)
    np.testing.assert_array_equal(np.asarray(replay.data), czyx)
    assert _segment(path, "-o", tmp_path / "o.tif", "--ignore-axes-metadata") == 1
    assert "--ignore-axes-metadata reads an image with --axes as given: give --axes" in (
        capsys.readouterr().err
    )
