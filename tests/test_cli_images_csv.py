"""`tessella segment --csv`'s table of images (s35 f5 #1): measurements.csv has a row an
object, so a blank well (0 objects: Tessella warns and writes labels of 0 objects) and a well
that failed had no row at all, and a screening user who joins the table by image lost them
silently. A folder run now writes OUT/images.csv beside it, a row an image of the run (its
status, count of objects, warnings or error, labels, model, recipe), made again with
--skip-existing (the warnings said when a kept image was segmented kept). Real DSB2018 crop,
a blank image and an image of NaN, segmented by nuclei2d on CPU."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tests.conftest import DATA

VAL = DATA / "nuclei2d_dsb2018" / "val" / "images"
BASE = ["--model", "nuclei2d", "--device", "cpu", "--no-tta", "-q"]


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def plate(tmp_path):
    """A01: a real DSB2018 crop of several nuclei; A02: blank (every pixel 0, an empty
    well); A03: every pixel NaN (fails)."""
    image = next((i for i in map(tifffile.imread, sorted(VAL.glob("*.tif"))) if i.ndim == 2), None)
    if image is None:
        pytest.skip(f"no 2D DSB2018 val image in {VAL}")
    image = image[:128, :160]
    folder = tmp_path / "plate"
    folder.mkdir()
    tifffile.imwrite(folder / "A01.tif", image)
    tifffile.imwrite(folder / "A02.tif", np.zeros_like(image))
    tifffile.imwrite(folder / "A03.tif", np.full(image.shape, np.nan, np.float32))
    return folder


def test_blank_and_failed_wells_have_a_row_in_images_csv(plate, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["segment", str(plate), "-o", str(out), "--csv", *BASE]) == 1  # (A03 failed)
    err = capsys.readouterr().err
    assert "A02.tif is constant (every pixel is 0): nothing to segment, 0 objects" in err, err
    objects = _rows(out / "measurements.csv")
    assert {r["image"] for r in objects} == {"A01.tif"}  # a row an object: none of A02, A03
    images = _rows(out / "images.csv")
    assert list(images[0]) == [
        "image",
        "status",
        "n_objects",
        "warning",
        "labels",
        "model",
        "recipe",
    ]
    ok, blank, failed = images
    labels = tifffile.imread(out / "A01.tif")
    assert ok["image"] == "A01.tif" and ok["status"] == "ok" and ok["warning"] == ""
    assert int(ok["n_objects"]) == len(np.unique(labels[labels > 0])) == len(objects) > 3
    assert (ok["labels"], ok["model"], ok["recipe"]) == ("A01.tif", "nuclei2d", "A01.recipe.json")
    assert blank["image"] == "A02.tif" and blank["status"] == "empty"
    assert blank["n_objects"] == "0" and (out / blank["labels"]).is_file()
    assert "A02.tif is constant (every pixel is 0): nothing to segment" in blank["warning"]
    assert failed["image"] == "A03.tif" and failed["status"] == "failed"
    assert failed["n_objects"] == "" and failed["labels"] == "" and failed["recipe"] == ""
    assert "NaN" in failed["warning"]
    assert not (out / "A03.tif").exists()
    # a rerun keeps A01 and A02 (the blank well's warning with it) and fails A03 again
    assert main(["segment", str(plate), "-o", str(out), "--csv", "--skip-existing", *BASE]) == 1
    assert _rows(out / "images.csv") == images
    assert _rows(out / "measurements.csv") == objects


def test_an_image_named_images_is_refused_with_csv(plate, tmp_path, capsys):
    """An image images.tif would write its CSV over the folder's table of images."""
    (plate / "A01.tif").rename(plate / "images.tif")
    out = tmp_path / "out"
    assert main(["segment", str(plate), "-o", str(out), "--csv", *BASE]) == 1
    err = capsys.readouterr().err
    assert "its measurements (images.csv) would be the folder's table of images" in err, err
    assert not out.exists() or not any(out.iterdir())  # refused before any work
