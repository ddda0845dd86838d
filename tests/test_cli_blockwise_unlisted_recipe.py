"""``tessella segment --blockwise --overwrite`` into an OME-Zarr image's labels group that
cannot list the new labels (its attributes unreadable): the labels are written, and so is
their recipe file. The run stopped at the listing and left the replaced labels' recipe beside
the new ones (another block size), which ``--skip-existing`` would take for theirs."""

from __future__ import annotations

import json

import tifffile

from tessella.cli import main
from tests.conftest import SAMPLES, write_ome_zarr


def _segment(image, capsys, *extra):
    """The command line in this process (a subprocess paid for Python's and torch's start
    twice): its exit status and what it wrote to stderr."""
    command = ["segment", str(image), "--model", "nuclei2d", "--no-tta", "--device", "cpu"]
    command += ["-q", "-o", str(image / "labels" / "nuc"), "--blockwise", "--workers", "0"]
    capsys.readouterr()
    code = main([*command, *extra])
    return code, capsys.readouterr().err


def test_labels_not_listed_get_their_own_recipe(tmp_path, capsys):
    nuclei = tifffile.imread(SAMPLES / "nuclei.tif")[:64, :64]
    image = write_ome_zarr(
        tmp_path / "img.zarr", nuclei[None, None], "czyx", [1, 1, 0.5, 0.5], (1, 1, 32, 32)
    )
    code, err = _segment(image, capsys, "--block", "64")
    assert code == 0, err
    recipe = image / "labels" / "nuc.recipe.json"
    assert json.loads(recipe.read_text())["blockwise"]["block"] == [64, 64]
    group = image / "labels" / ".zattrs"
    group.unlink()
    group.mkdir()  # (the labels group's attributes cannot be read)
    code, err = _segment(image, capsys, "--block", "32", "--overwrite")
    assert code == 1
    [line] = err.strip().splitlines()
    assert f"{image / 'labels'}: cannot list nuc among the labels of {image}" in line
    assert line.endswith("; the labels are written")
    labels = json.loads((image / "labels" / "nuc" / ".zattrs").read_text())["tessella"]
    assert labels["blockwise"]["block"] == [32, 32]  # the new labels
    written = json.loads(recipe.read_text())
    assert written["blockwise"] == labels["blockwise"]  # and their recipe, not the first's
