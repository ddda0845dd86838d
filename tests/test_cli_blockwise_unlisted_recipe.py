"""``tessella segment --blockwise --overwrite`` into an OME-Zarr image's labels group that
cannot list the new labels (its attributes unreadable): the labels are written, and so is
their recipe file. The run stopped at the listing and left the replaced labels' recipe beside
the new ones (another block size), which ``--skip-existing`` would take for theirs."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import tifffile

from tests.conftest import SAMPLES, write_ome_zarr

ROOT = Path(__file__).resolve().parents[1]


def _segment(image, *extra):
    command = ["segment", str(image), "--model", "nuclei2d", "--no-tta", "--device", "cpu"]
    command += ["-q", "-o", str(image / "labels" / "nuc"), "--blockwise", "--workers", "0"]
    return subprocess.run(
        [sys.executable, "-m", "tessella.cli", *command, *extra],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_labels_not_listed_get_their_own_recipe(tmp_path):
    nuclei = tifffile.imread(SAMPLES / "nuclei.tif")[:64, :64]
    image = write_ome_zarr(
        tmp_path / "img.zarr", nuclei[None, None], "czyx", [1, 1, 0.5, 0.5], (1, 1, 32, 32)
    )
    first = _segment(image, "--block", "64")
    assert first.returncode == 0, first.stderr
    recipe = image / "labels" / "nuc.recipe.json"
    assert json.loads(recipe.read_text())["blockwise"]["block"] == [64, 64]
    group = image / "labels" / ".zattrs"
    group.unlink()
    group.mkdir()  # (the labels group's attributes cannot be read)
    second = _segment(image, "--block", "32", "--overwrite")
    assert second.returncode == 1
    [line] = second.stderr.strip().splitlines()
    assert f"{image / 'labels'}: cannot list nuc among the labels of {image}" in line
    assert line.endswith("; the labels are written")
    labels = json.loads((image / "labels" / "nuc" / ".zattrs").read_text())["tessella"]
    assert labels["blockwise"]["block"] == [32, 32]  # the new labels
    written = json.loads(recipe.read_text())
    assert written["blockwise"] == labels["blockwise"]  # and their recipe, not the first's
