"""`tessella segment --csv`'s files as outputs of their own (s34 f3 #1, #2): a CSV that exists
is refused without --overwrite, as labels are, naming it and writing nothing (labels written
as an OME-Zarr after a TIFF share `NAME.csv`; a folder run's table `measurements.csv` in a folder
another batch wrote); `--skip-existing --csv` measures labels kept without their CSV as they
are on disk (s34 r11 #1: it segmented them again, undoing hand corrections) and refuses a
folder whose table holds another plate's images (r11 #2: they were dropped from it); and the
CSV of a model with a seed map has Export's
`mean_confidence` column (the same columns and values as Export's CSV of labels made by
Segment). Real DSB2018 crops (two nuclei images, 128 x 160 px) segmented by nuclei2d on CPU."""

from __future__ import annotations

import csv
import json

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


def test_skip_existing_with_another_plates_table_is_refused(tmp_path, crops, capsys):
    """--skip-existing --csv of a second plate into the first plate's folder rebuilt
    measurements.csv from the second plate's images only (the first's rows gone, rc 0). Now
    refused before any work, as without --skip-existing, naming the images it would drop."""
    out = tmp_path / "out"
    first = _plate(tmp_path / "plate1", crops[:1])
    assert main(["segment", str(first), "-o", str(out), "--csv", *BASE]) == 0
    combined = out / "measurements.csv"
    before = combined.read_bytes()
    second = _plate(tmp_path / "plate2", [("other", crops[1][1])])
    capsys.readouterr()
    args = ["segment", str(second), "-o", str(out), "--csv", "--skip-existing", *BASE]
    assert main(args) != 0
    err = capsys.readouterr().err
    assert f"{combined} holds the measurements of {crops[0][0]}.tif" in err, err
    assert "folder of their own" in err
    assert combined.read_bytes() == before
    assert not (out / "other.tif").exists() and not (out / "other.csv").exists()


def test_skip_existing_measures_kept_labels_as_they_are(tmp_path, crops, fresh, capsys):
    """A plate segmented without --csv, one object then deleted by hand from one image's
    labels, then --skip-existing --csv: the labels were segmented again (the object back,
    the correction lost). Now the kept labels are measured as they are on disk: the object
    stays deleted and has no row, the other image's rows are a fresh --csv run's (but for
    mean_confidence, empty: the network was not run for them, said once), and a third run
    changes nothing. Fails before the fix (the deleted object is back)."""
    plate = _plate(tmp_path / "plate", crops)
    out = tmp_path / "out"
    assert main(["segment", str(plate), "-o", str(out), *BASE]) == 0
    edited, other = sorted(name for name, _ in crops)
    with tifffile.TiffFile(out / f"{edited}.tif") as tif:
        labels = tif.asarray()
    gone = int(np.unique(labels[labels > 0])[1])  # the user deletes one object
    labels[labels == gone] = 0
    tifffile.imwrite(out / f"{edited}.tif", labels)
    kept = {name: tifffile.imread(out / f"{name}.tif") for name in (edited, other)}
    capsys.readouterr()
    assert main(["segment", str(plate), "-o", str(out), "--csv", "--skip-existing", *BASE]) == 0
    err = capsys.readouterr().err
    assert "redoing" not in err, err
    assert (
        f"measured the 2 kept labels without a CSV as they are ({edited}.tif, {other}.tif): "
        "their mean_confidence is empty (the network was not run for them)" in err
    ), err
    assert (tifffile.imread(out / f"{edited}.tif") == gone).sum() == 0  # the edit is kept
    combined = _rows(out / "measurements.csv")
    for name in (edited, other):
        np.testing.assert_array_equal(tifffile.imread(out / f"{name}.tif"), kept[name])
        rows = _rows(out / f"{name}.csv")
        assert [int(r["label"]) for r in rows] == sorted(set(np.unique(kept[name])) - {0})
        assert all(r["mean_confidence"] == "" for r in rows)
        assert len([r for r in combined if r["image"] == f"{name}.tif"]) == len(rows)
    assert gone not in [int(r["label"]) for r in _rows(out / f"{edited}.csv")]
    # the unedited image: a fresh --csv run's columns and values, but for mean_confidence
    assert fresh["name"] == other
    rows, reference = _rows(out / f"{other}.csv"), fresh["rows"]
    assert list(rows[0]) == list(reference[0])
    for column in reference[0]:
        if column != "mean_confidence":
            np.testing.assert_allclose(
                [float(r[column]) for r in rows], [float(r[column]) for r in reference], rtol=1e-5
            )
    stamps = {p.name: p.stat().st_mtime_ns for p in out.iterdir()}
    capsys.readouterr()
    assert main(["segment", str(plate), "-o", str(out), "--csv", "--skip-existing", *BASE]) == 0
    err = capsys.readouterr().err
    assert "redoing" not in err and "measured" not in err, err
    tables = ("measurements.csv", "images.csv")  # (the folder's tables: made again)
    assert {p.name: p.stat().st_mtime_ns for p in out.iterdir() if p.name not in tables} == {
        k: v for k, v in stamps.items() if k not in tables
    }


def test_kept_overlapping_objects_without_a_stack_are_refused(tmp_path):
    """worms2d's objects overlap: plain labels kept without their CSV hide parts of them and
    cannot be measured whole as a run measures them. Refused before any work, naming the
    outputs and the ways on; labels written with --stack (a mask stack) are measured."""
    from types import SimpleNamespace

    from tessella.cli._console import CliError
    from tessella.cli._measure_csv import check_kept_csv

    worms = SimpleNamespace(card=SimpleNamespace(name="worms2d", method="patches"))
    flat, stacked = tmp_path / "A01.tif", tmp_path / "B12.tif"
    for target, stack in ((flat, False), (stacked, True)):
        target.write_bytes(b"")
        target.with_name(target.stem + ".recipe.json").write_text(json.dumps({"stack": stack}))
    jobs = [(tmp_path / "in" / "A01.tif", flat), (tmp_path / "in" / "B12.tif", stacked)]
    with pytest.raises(CliError) as raised:
        check_kept_csv(jobs, worms, None, jobs)
    said = str(raised.value)
    assert "A01.tif kept without their CSV are labels of worms2d" in said, said
    assert "B12.tif" not in said and "--overwrite --csv" in said
    check_kept_csv(jobs[1:], worms, None, jobs)  # a mask stack: measured whole


@pytest.fixture(scope="module")
def fresh(tmp_path_factory, crops):
    """One image segmented by `tessella segment --csv` (the network run once): its CSV's rows
    and the SegmentResult the CLI made them from (taken from the engine's steps)."""
    import tessella.engine.pipeline as pipeline

    folder = tmp_path_factory.mktemp("fresh")
    name, image = sorted(crops)[1]
    source = folder / f"{name}.tif"
    tifffile.imwrite(source, image)
    made = []
    steps_of = pipeline.segment_steps

    def recorded(*args, **kwargs):
        made.append((yield from steps_of(*args, **kwargs)))
        return made[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "segment_steps", recorded)  # (the CLI imports it in the run)
        args = ["segment", str(source), "-o", str(folder / "labels.tif"), "--csv", *BASE]
        assert main(args) == 0
    [result] = made
    return {
        "name": name,
        "image": image,
        "rows": _rows(folder / "labels.csv"),
        "labels": tifffile.imread(folder / "labels.tif"),
        "result": result,
    }


def test_csv_has_exports_mean_confidence(tmp_path, fresh):
    """nuclei2d (an embedding model) has a seed map: Export's CSV of its labels has each
    object's mean_confidence, the CLI's had none. The CLI's columns and values are those of
    the CSV Export's own writer (_export_steps, what the panel's worker runs) writes of the
    same Segment result, with the length along the skeleton ticked (as --csv measures 2D
    objects)."""
    from tessella._widgets._export_outputs import _Output
    from tessella._widgets._export_write import _export_steps, _Plan

    result = fresh["result"]
    np.testing.assert_array_equal(result.labels, fresh["labels"])
    path = tmp_path / "export.csv"
    plan = _Plan(
        name="labels",
        outputs=[_Output("csv", path)],
        overwrite=False,
        make_folder=None,
        data=result.labels,
        axes="YX",
        pixel_size=None,
        unit="pixel",
        stack=None,
        image=fresh["image"],
        result=result,
        numbers=None,
        lineage={},
        recipe=None,
        length=True,
    )
    steps = _export_steps(plan)
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            done = stop.value
            break
    assert done.written == [path] and not done.refused, done
    export, rows = _rows(path), fresh["rows"]
    assert list(rows[0]) == list(export[0])  # the same columns, in the same order
    assert "mean_confidence" in rows[0]
    for column in export[0]:
        np.testing.assert_allclose(
            [float(r[column]) for r in rows], [float(r[column]) for r in export], rtol=1e-5
        )
    assert all(0.3 < float(r["mean_confidence"]) <= 1 for r in rows)
