"""`tessella segment IMG.zarr -o IMG.zarr/labels/NAME`: the name OME-NGFF gives labels in an
image's labels group has no ``.zarr``; such an output is written as that image's labels
(listed as NAME, read back by Tessella and zarr), while any other output of a zarr input
without ``.zarr`` is still refused."""

from __future__ import annotations

import json

import numpy as np
import zarr

from tessella.cli import main
from tessella.engine.io import read_image
from tests.conftest import write_ome_zarr


def test_labels_named_without_zarr_in_the_images_labels_group(
    tmp_path, nuclei_sample, tiny_model_dir, capsys
):
    """`-o img.zarr/labels/nuclei` was refused ("zarr input needs a .zarr output") though it
    is how OME-NGFF names an image's labels; now it writes them there, listed as "nuclei"."""
    image = nuclei_sample[0][:96, :96]
    source = write_ome_zarr(
        tmp_path / "img.zarr", image[None, None], "czyx", [1.0, 1.0, 0.5, 0.25], (1, 1, 48, 48)
    )
    out = source / "labels" / "nuclei"
    model = ["--model", str(tiny_model_dir), "-q"]
    assert main(["segment", str(source), "-o", str(out), *model]) == 0
    assert json.loads((source / "labels" / ".zattrs").read_text())["labels"] == ["nuclei"]
    attrs = json.loads((out / ".zattrs").read_text())
    assert attrs["image-label"]["source"]["image"] == "../../"
    assert attrs["multiscales"][0]["name"] == "nuclei"
    assert (source / "labels" / "nuclei.recipe.json").is_file()

    back = read_image(out)
    assert back.labels and back.axes == "YX" and back.data.shape == image.shape
    assert back.pixel_size == {"Y": 0.5, "X": 0.25}
    stored = zarr.open_group(str(out), mode="r")["0"][...]
    assert stored.shape == image.shape
    np.testing.assert_array_equal(np.asarray(back.data), stored)
    same = source / "labels" / "same.zarr"  # the labels as the .zarr name gives them
    assert main(["segment", str(source), "-o", str(same), *model]) == 0
    np.testing.assert_array_equal(zarr.open_group(str(same), mode="r")["0"][...], stored)
    [theirs] = json.loads((same / ".zattrs").read_text())["multiscales"]
    assert {**theirs, "name": "nuclei"} == attrs["multiscales"][0]

    capsys.readouterr()  # a rerun with --overwrite replaces them, still listed once
    assert main(["segment", str(source), "-o", str(out), *model, "--overwrite"]) == 0
    listed = json.loads((source / "labels" / ".zattrs").read_text())["labels"]
    assert listed == ["nuclei", "same.zarr"]
    np.testing.assert_array_equal(zarr.open_group(str(out), mode="r")["0"][...], stored)
    capsys.readouterr()  # and a rerun with --skip-existing keeps them
    assert main(["segment", str(source), "-o", str(out), *model[:2], "--skip-existing"]) == 0
    said = capsys.readouterr()
    assert "skipped img.zarr" in said.out + said.err


def test_other_zarr_outputs_without_zarr_still_refused(
    tmp_path, nuclei_sample, tiny_model_dir, capsys
):
    """Without ``.zarr`` and outside an OME-Zarr image's labels group (a plain folder name,
    a labels group of a folder that is no OME-Zarr image), a zarr input's output is refused
    before any work, with the same one-line message, and nothing is written."""
    image = nuclei_sample[0][:96, :96]
    source = write_ome_zarr(
        tmp_path / "img.zarr", image[None, None], "czyx", [1.0, 1.0, 0.5, 0.25], (1, 1, 48, 48)
    )
    plain = tmp_path / "plain"
    plain.mkdir()
    model = ["--model", str(tiny_model_dir), "-q"]
    for out in (tmp_path / "seg", plain / "labels" / "nuclei", tmp_path / "labels" / "x"):
        capsys.readouterr()
        assert main(["segment", str(source), "-o", str(out), *model]) == 1
        err = capsys.readouterr().err.strip()
        assert f"{out}: zarr input needs a .zarr output" in err and len(err.splitlines()) == 1
        assert not out.exists()
