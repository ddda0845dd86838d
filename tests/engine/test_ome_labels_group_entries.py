"""Labels written into an OME-Zarr image's labels group (``-o IMAGE.zarr/labels/NAME``, in
memory and blockwise) leave nothing there but the group's metadata and the labels: the lock
that registration holds around its read-modify-write of the group's ``labels`` list
(``.tessella-labels.lock``) is removed by its holder. Other OME-Zarr readers list the group's
entries; before, the lock file stayed there for good. Runs registering at once:
tests/engine/test_ome_labels_register_race.py."""

from __future__ import annotations

import json
import os

import numpy as np

from tessella.cli import main
from tessella.engine.io import read_image
from tests.conftest import write_ome_zarr
from tests.engine.test_blockwise_zarr_out import _label


def test_labels_in_an_ome_zarr_image_leave_no_lock_file_in_its_labels_group(
    tmp_path, nuclei_sample, capsys
):
    image = nuclei_sample[0][:64, :64]
    source = write_ome_zarr(
        tmp_path / "img.zarr", image[None, None], "czyx", [1.0, 1.0, 0.5, 0.5], (1, 1, 32, 32)
    )
    group = source / "labels"
    _label(source, group / "blobs")  # blockwise
    assert sorted(os.listdir(group)) == [".zattrs", ".zgroup", "blobs"]
    (group / ".tessella-labels.lock").write_text("")  # as an earlier version left it
    args = ["segment", str(source), "-o", str(group / "nuclei"), "--model", "nuclei2d"]
    assert main([*args, "--no-tta", "--device", "cpu", "-q"]) == 0, capsys.readouterr().err
    written = [".zattrs", ".zgroup", "blobs", "nuclei", "nuclei.recipe.json"]  # (the recipe
    assert sorted(os.listdir(group)) == written  # that `tessella segment` writes beside labels)
    assert json.loads((group / ".zattrs").read_text())["labels"] == ["blobs", "nuclei"]
    for name in ("blobs", "nuclei"):  # each still reads as labels of the image
        labels = read_image(group / name)
        assert labels.data.shape == (64, 64) and int(np.asarray(labels.data).max()) >= 3
