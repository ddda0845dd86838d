"""tessella segment --csv (t13 #3): each image's measurements beside its labels, as Export's
CSV (worms of an overlapping model each whole, with their length along the skeleton), and
for a folder one table of all images with an ``image`` column (OUT/measurements.csv), on
real BBBC010 wells (cropped) segmented by worms2d on CPU."""

from __future__ import annotations

import csv

import numpy as np
import tifffile

from tessella import measure_objects
from tessella.cli import main
from tests.conftest import DATA

WELLS = DATA / "worms_bbbc010" / "gfp"  # (the brightfield images in this copy)


def _plate(folder, wells=("E03", "B12")):
    """Two real wells cropped to 260 x 348 px (several worms each), without a pixel size."""
    folder.mkdir()
    for well in wells:
        image = tifffile.imread(WELLS / f"{well}.tif")
        tifffile.imwrite(folder / f"{well}.tif", image[130:390, 174:522])
    return folder


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _segment(*argv):
    assert main(["segment", *argv, "--model", "worms2d", "--device", "cpu", "--no-tta"]) == 0


def test_a_folder_gets_a_csv_per_image_and_one_table(tmp_path, capsys):
    plate = _plate(tmp_path / "plate")
    out = tmp_path / "out"
    _segment(str(plate), "-o", str(out), "--stack", "--csv")
    said = capsys.readouterr().out
    assert "measurements of 2 images" in said, said
    combined = _rows(out / "measurements.csv")
    for well in ("E03", "B12"):
        rows = _rows(out / f"{well}.csv")
        masks = tifffile.imread(out / f"{well}.tif")  # (N, Y, X): one worm a page
        assert len(rows) == len(masks) > 1
        # each worm whole: row n is page n, its hidden pixels included
        assert [int(r["label"]) for r in rows] == list(range(1, len(masks) + 1))
        assert [int(r["area_px"]) for r in rows] == [int(m.sum()) for m in masks]
        expected = measure_objects(masks, instances=True, length=True)
        np.testing.assert_allclose([float(r["length_px"]) for r in rows], expected["length_px"])
        assert all(float(r["length_px"]) > 20 for r in rows)  # worms, not dots
        image = tifffile.imread(plate / f"{well}.tif")
        np.testing.assert_allclose(
            [float(r["mean_intensity"]) for r in rows],
            [image[m > 0].mean() for m in masks],
        )
        # the plate's table: the same rows, named by their image
        mine = [r for r in combined if r["image"] == f"{well}.tif"]
        assert [{k: v for k, v in r.items() if k != "image"} for r in mine] == rows
    assert list(combined[0])[:3] == ["image", "label", "area_px"]


def test_one_image_labels_csv_measures_hidden_worms_whole(tmp_path):
    plate = _plate(tmp_path / "plate", wells=("B12",))
    target = tmp_path / "B12_labels.tif"
    _segment(str(plate / "B12.tif"), "-o", str(target), "--csv")
    labels = tifffile.imread(target)
    rows = _rows(tmp_path / "B12_labels.csv")
    assert not (tmp_path / "measurements.csv").exists()  # (one image: no plate table)
    assert [int(r["label"]) for r in rows] == list(range(1, int(labels.max()) + 1))
    # whole worms: never smaller than what the label image shows of them
    shown = np.bincount(labels.ravel(), minlength=len(rows) + 1)[1:]
    assert all(int(r["area_px"]) >= n for r, n in zip(rows, shown))
