"""`tessella segment --csv`'s files as outputs of their own (s34 f3 #1, #2): a CSV that exists
is refused without --overwrite, as labels are, naming it and writing nothing (labels written
as an OME-Zarr after a TIFF share `NAME.csv`; a folder run's table `measurements.csv` in a folder
another batch wrote); `--skip-existing --csv` redoes labels kept without their CSV instead
of leaving the batch without them; and the CSV of a model with a seed map has Export's
`mean_confidence` column (the same columns and values as Export's CSV of labels made by
Segment). Real DSB2018 crops (two nuclei images, 128 x 160 px) segmented by nuclei2d on CPU."""

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


@pytest.fixture(scope="module")
def crops():
    """Two real DSB2018 fluorescence crops with several nuclei each."""
    names = sorted(VAL.glob("*.tif"))
    found = []
    for path in names:
        image = tifffile.imread(path)
        if image.ndim == 2 and image.shape[0] >= 128 and image.shape[1] >= 160:
            found.append((path.stem[:8], image[:128, :160]))
        if len(found) == 2:
            return found
    pytest.skip("no two 2D DSB2018 val images of 128 x 160 px")


def _plate(folder, crops):
    folder.mkdir()
    for name, image in crops:
        tifffile.imwrite(folder / f"{name}.tif", image)
    return folder


def test_an_existing_csv_is_refused_without_overwrite(tmp_path, crops, capsys):
    """Labels written as out.tif, then as out.ome.zarr: both measure into out.csv, which the
    second run replaced unasked (its labels are new). Now refused before any work, naming
    the CSV; --overwrite replaces it."""
    name, image = crops[0]
    source = tmp_path / f"{name}.tif"
    tifffile.imwrite(source, image)
    assert main(["segment", str(source), "-o", str(tmp_path / "out.tif"), "--csv", *BASE]) == 0
    table = tmp_path / "out.csv"
    before = table.read_bytes()
    assert len(_rows(table)) > 3
    capsys.readouterr()
    args = ["segment", str(source), "-o", str(tmp_path / "out.ome.zarr"), "--csv", *BASE]
    assert main(args) != 0
    err = capsys.readouterr().err
    assert f"{table} exists; pass --overwrite to replace it" in err, err
    assert not (tmp_path / "out.ome.zarr").exists()  # nothing written
    assert table.read_bytes() == before
    assert main([*args, "--overwrite"]) == 0
    assert (tmp_path / "out.ome.zarr").is_dir() and table.read_bytes() == before  # (same)


def test_a_folder_runs_table_is_refused_without_overwrite(tmp_path, crops, capsys):
    """A second plate written into the folder of a first: its images' labels and CSVs are
    new, but the folder's table measurements.csv is the first plate's."""
    out = tmp_path / "out"
    first = _plate(tmp_path / "plate1", crops[:1])
    assert main(["segment", str(first), "-o", str(out), "--csv", *BASE]) == 0
    combined = out / "measurements.csv"
    before = combined.read_bytes()
    second = _plate(tmp_path / "plate2", [("other", crops[1][1])])
    capsys.readouterr()
    assert main(["segment", str(second), "-o", str(out), "--csv", *BASE]) != 0
    err = capsys.readouterr().err
    assert f"{combined} exists; pass --overwrite to replace it" in err, err
    assert combined.read_bytes() == before
    assert not (out / "other.tif").exists() and not (out / "other.csv").exists()


def test_skip_existing_redoes_labels_kept_without_their_csv(tmp_path, crops, capsys):
    """A plate segmented without --csv, then again with --skip-existing --csv: the labels
    there were skipped and their measurements never made (a warning at the end said so).
    Now each is redone, saying why, and every image has its CSV and a row in the table;
    a third run skips them all."""
    plate = _plate(tmp_path / "plate", crops)
    out = tmp_path / "out"
    assert main(["segment", str(plate), "-o", str(out), *BASE]) == 0
    labels = {name: tifffile.imread(out / f"{name}.tif") for name, _ in crops}
    capsys.readouterr()
    assert main(["segment", str(plate), "-o", str(out), "--csv", "--skip-existing", *BASE]) == 0
    err = capsys.readouterr().err
    first, second = sorted(name for name, _ in crops)
    assert f"redoing {first}.tif, {second}.tif: CSV of measurements missing (--csv)" in err, err
    assert "no measurements of" not in err
    combined = _rows(out / "measurements.csv")
    for name, _ in crops:
        rows = _rows(out / f"{name}.csv")
        # the same labels again (the run is repeatable), measured
        np.testing.assert_array_equal(tifffile.imread(out / f"{name}.tif"), labels[name])
        assert [int(r["label"]) for r in rows] == sorted(set(np.unique(labels[name])) - {0})
        assert len([r for r in combined if r["image"] == f"{name}.tif"]) == len(rows)
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    capsys.readouterr()
    assert main(["segment", str(plate), "-o", str(out), "--csv", "--skip-existing", *BASE]) == 0
    assert "redoing" not in capsys.readouterr().err  # (-q: the images skipped unsaid)
    assert {
        p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name != "measurements.csv"
    } == {k: v for k, v in stamps.items() if k != "measurements.csv"}


def test_csv_has_exports_mean_confidence(tmp_path, crops):
    """nuclei2d (an embedding model) has a seed map: Export's CSV of its labels has each
    object's mean_confidence, the CLI's had none. The CLI's columns and values are now those
    of Export's measurement (the engine's measure_objects given the panel's confidence map
    of the same result, with the length along the skeleton, as --csv measures 2D objects)."""
    from tessella._widgets._result_cache import confidence_map
    from tessella.engine.measure import measure_objects
    from tessella.engine.pipeline import segment_steps
    from tessella.engine.progress import run_steps

    name, image = crops[0]
    source = tmp_path / f"{name}.tif"
    tifffile.imwrite(source, image)
    assert main(["segment", str(source), "-o", str(tmp_path / "labels.tif"), "--csv", *BASE]) == 0
    rows = _rows(tmp_path / "labels.csv")
    result = run_steps(segment_steps(image, "nuclei2d", "YX", tta=False, device="cpu"))
    np.testing.assert_array_equal(result.labels, tifffile.imread(tmp_path / "labels.tif"))
    confidence = confidence_map(result, result.labels.shape)
    assert confidence is not None
    export = measure_objects(
        result.labels, image=image, confidence=confidence, axes="YX", length=True
    )
    assert list(rows[0]) == list(export)  # the same columns, in the same order
    assert "mean_confidence" in rows[0]
    for column in export:
        np.testing.assert_allclose(
            [float(r[column]) for r in rows], np.asarray(export[column], float), rtol=1e-5
        )
    assert all(0.3 < float(r["mean_confidence"]) <= 1 for r in rows)
