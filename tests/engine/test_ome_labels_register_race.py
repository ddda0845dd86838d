"""Runs that write labels into one OME-Zarr image's labels group at once (a job array, a
nuclei and a cells model in parallel) all find their names listed in ``labels``
(``register_ome_labels`` holds a lock around its read-modify-write). Before: each read the
list, added its name and wrote it back, so that most names were lost (33 of 60 in review)."""

from __future__ import annotations

import json
import multiprocessing

import numpy as np
import pytest
import zarr

from tessella.engine.io._zarr import register_ome_labels
from tests.conftest import write_ome_zarr

RUNS = 8


def _register(barrier, target) -> None:
    barrier.wait()  # all at once
    assert register_ome_labels(target)


def _image(path, form: int):
    if form == 2:
        write_ome_zarr(path, np.zeros((1, 8, 8), np.uint8), "cyx", [1, 1, 1], (1, 8, 8))
        return
    image = zarr.open_group(str(path), mode="w", zarr_format=3)
    image.create_array("0", shape=(8, 8), dtype="uint8")
    axes = [{"name": n, "type": "space"} for n in "yx"]
    datasets = [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1]}]}]
    image.attrs["ome"] = {"version": "0.5", "multiscales": [{"axes": axes, "datasets": datasets}]}


def _listed(path, form: int) -> list[str]:
    if form == 2:
        return json.loads((path / "labels" / ".zattrs").read_text())["labels"]
    meta = json.loads((path / "labels" / "zarr.json").read_text())
    return meta["attributes"]["ome"]["labels"]


@pytest.mark.parametrize("form", [2, 3])
def test_labels_registered_at_once_are_all_listed(tmp_path, form):
    context = multiprocessing.get_context("fork")
    for trial in range(3):
        image = tmp_path / f"img{trial}.zarr"
        _image(image, form)
        barrier = context.Barrier(RUNS)
        names = [f"run{i}" for i in range(RUNS)]
        runs = [
            context.Process(target=_register, args=(barrier, image / "labels" / name))
            for name in names
        ]
        for run in runs:
            run.start()
        for run in runs:
            run.join(60)
        assert [run.exitcode for run in runs] == [0] * RUNS
        assert sorted(_listed(image, form)) == names, trial
