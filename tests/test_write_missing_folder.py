"""The engine's writers do not invent folders: writing into a folder that is not there (a
mistyped ``/data/typo_folder/x.tif``) made it silently, and left it behind, empty, where the
write then failed. Now: one FileNotFoundError naming the folder, and nothing made, unless
``make_parents=True``, whose folders are taken away again where the write fails. The CLI
still makes the output folder it is asked for (``-o newdir/``), and removes it again where
the write fails.

Every writer whose refusal says "(or pass make_parents=True)" takes it: the mask stack and
the measurements' CSV did not (a TypeError for whoever followed the advice)."""

from __future__ import annotations

import errno
import json

import numpy as np
import pytest
import tifffile

import tessella
from tessella import cli
from tessella.cli import CliError, main
from tessella.engine.io import read_image, write_json, write_zarr_labels
from tessella.engine.io._masks import read_mask_stack, write_mask_stack
from tessella.engine.io._write import write_ome_zarr_labels
from tessella.engine.measure import measure_objects, write_csv
from tests.conftest import DATA

DSB = DATA / "nuclei2d_dsb2018" / "val"


@pytest.fixture(scope="module")
def dsb_labels():
    """The ground-truth labels of a real DSB2018 validation image."""
    if not DSB.is_dir():
        pytest.skip(f"the shared datasets are not at {DATA} (set TESSELLA_DATA)")
    return tifffile.imread(sorted((DSB / "masks").glob("*.tif"))[0])


WRITERS = {
    "tiff": lambda path, labels, **kw: tessella.write_labels(path / "x.tif", labels, **kw),
    "zarr": lambda path, labels, **kw: write_zarr_labels(path / "x.zarr", labels, **kw),
    "ome-zarr": lambda path, labels, **kw: write_ome_zarr_labels(path / "x.ome.zarr", labels, **kw),
    "recipe": lambda path, labels, **kw: write_json(path / "x.recipe.json", {"n": 1}, **kw),
    "mask stack": lambda path, labels, **kw: write_mask_stack(
        path / "x.tif", (labels[None] == 1).astype(np.uint8), **kw
    ),
    "csv": lambda path, labels, **kw: write_csv(path / "x.csv", measure_objects(labels), **kw),
}


@pytest.mark.parametrize("kind", list(WRITERS))
def test_a_missing_folder_is_said_and_not_made(tmp_path, dsb_labels, kind):
    folder = tmp_path / "typo_folder" / "sub"
    with pytest.raises(FileNotFoundError) as caught:
        WRITERS[kind](folder, dsb_labels)
    message = str(caught.value)
    assert "\n" not in message and str(folder) in message and "does not exist" in message
    assert caught.value.errno == errno.ENOENT
    assert list(tmp_path.iterdir()) == []  # neither typo_folder nor anything in it


@pytest.mark.parametrize("kind", list(WRITERS))
def test_make_parents_makes_the_folders(tmp_path, dsb_labels, kind):
    folder = tmp_path / "new" / "deeper"
    with pytest.raises(FileNotFoundError, match=r"\(or pass make_parents=True\)"):
        WRITERS[kind](folder, dsb_labels)
    written = WRITERS[kind](folder, dsb_labels, make_parents=True)  # as the message says
    assert written.exists() and written.parent == folder
    if kind in ("tiff", "zarr", "ome-zarr"):
        assert np.array_equal(np.asarray(read_image(written).data), dsb_labels)
    elif kind == "mask stack":
        assert np.array_equal(read_mask_stack(written), dsb_labels[None] == 1)
    elif kind == "csv":
        rows = written.read_text().splitlines()
        assert rows[0].startswith("label,") and len(rows) == len(np.unique(dsb_labels))


def test_a_folder_in_the_way_is_said(tmp_path, dsb_labels):
    (tmp_path / "afile").write_text("")
    with pytest.raises(NotADirectoryError, match="afile is a file, not a folder"):
        tessella.write_labels(tmp_path / "afile" / "x.tif", dsb_labels)


@pytest.mark.parametrize("kind", ["tiff", "zarr", "mask stack", "csv"])
def test_a_failed_write_takes_away_the_folders_it_made(tmp_path, dsb_labels, monkeypatch, kind):
    """A disk that fills up midway: the folders make_parents made are removed again."""
    import csv

    import zarr

    def full(*_args, **_kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    if kind in ("tiff", "mask stack"):
        monkeypatch.setattr(tifffile, "imwrite", full)
    elif kind == "csv":
        monkeypatch.setattr(csv, "writer", full)
    else:
        monkeypatch.setattr(zarr, "create_array", full)
    (tmp_path / "kept").mkdir()  # a folder that was there stays
    with pytest.raises(OSError, match="No space left"):
        WRITERS[kind](tmp_path / "kept" / "new" / "deeper", dsb_labels, make_parents=True)
    assert [p.name for p in tmp_path.iterdir()] == ["kept"]
    assert list((tmp_path / "kept").iterdir()) == []


def test_the_cli_removes_the_output_folder_it_made_when_the_write_fails(tmp_path):
    target = tmp_path / "newdir" / "sub" / "x.tif"

    def full(path):
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(CliError, match="No space left on device"):
        cli._write_labels_and_recipe(target, full, {"model": "m"}, overwrite=False)
    assert list(tmp_path.iterdir()) == []

    def labels(path):
        tessella.write_labels(path, np.eye(4, dtype=np.uint16))

    cli._write_labels_and_recipe(target, labels, {"model": "m"}, overwrite=False)
    assert sorted(p.name for p in target.parent.iterdir()) == ["x.recipe.json", "x.tif"]
    assert json.loads((target.parent / "x.recipe.json").read_text()) == {
        "model": "m",
        "exported": {"tiff": "x.tif"},
    }


def test_the_cli_still_makes_the_output_folder_asked_for(tmp_path, dsb_labels):
    """``tessella segment IMAGES -o newdir/deeper`` makes the folder, as before."""
    images = tmp_path / "in"
    images.mkdir()
    image = sorted((DSB / "images").glob("*.tif"))[0]
    tifffile.imwrite(images / "a.tif", tifffile.imread(image))
    tifffile.imwrite(images / "b.tif", tifffile.imread(image)[:128, :128])
    out = tmp_path / "newdir" / "deeper"
    assert main(["segment", str(images), "-o", str(out), "--device", "cpu", "-q"]) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == ["a.recipe.json", "a.tif", "b.recipe.json", "b.tif"]
    assert read_image(out / "a.tif").data.max() > 10  # nuclei found
