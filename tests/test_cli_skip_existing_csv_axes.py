"""`tessella segment --skip-existing --csv` of volumes and time-lapses (s35 f5 #2): the labels
it keeps are measured as they are on disk, and their CSV must be a fresh --csv run's (but for
mean_confidence, empty: the network is not run for them), which was only checked in 2D.

- A movie file numbered by --first-frame (TYX): a fresh run's CSV had no `frame` column,
  while Export's CSV of the same labels reopened in napari has one (the numbers the recipe
  records, by which its CTC masks are named); now both runs, fresh and kept, write it, with
  the columns and values of Export's own writer.
- A ZYX volume with a voxel size in nm (em-mito3d, Lucchi++ crop): kept and fresh already
  agreed (volume_nm3, Z in the centroid and bounding box); kept here as a guard.

Real data: Fluo-N2DH-SIM+ frames (nuclei2d) and a Lucchi++ crop (em-mito3d), on CPU."""

from __future__ import annotations

import csv

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tests.conftest import DATA

SIM = DATA / "ctc_Fluo-N2DH-SIM+" / "01"
LUCCHI = DATA / "em_mito_lucchipp" / "val" / "image.tif"


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _fresh_and_kept(source, tmp_path, base):
    """The CSV of a fresh --csv run, and the one --skip-existing --csv makes of the same
    labels kept (written by a run without --csv), and the fresh run's SegmentResult."""
    import tessella.engine.pipeline as pipeline

    made = []
    steps_of = pipeline.segment_steps

    def recorded(*args, **kwargs):
        made.append((yield from steps_of(*args, **kwargs)))
        return made[-1]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(pipeline, "segment_steps", recorded)
        assert (
            main(["segment", str(source), "-o", str(tmp_path / "fresh.tif"), "--csv", *base]) == 0
        )
    kept = ["segment", str(source), "-o", str(tmp_path / "kept.tif"), *base]
    assert main(kept) == 0
    assert main([*kept, "--csv", "--skip-existing"]) == 0
    np.testing.assert_array_equal(
        tifffile.imread(tmp_path / "fresh.tif"), tifffile.imread(tmp_path / "kept.tif")
    )
    return _rows(tmp_path / "fresh.csv"), _rows(tmp_path / "kept.csv"), made[0]


def _same_but_confidence(fresh, kept):
    assert list(kept[0]) == list(fresh[0])
    assert len(kept) == len(fresh)
    for column in fresh[0]:
        if column == "mean_confidence":
            assert all(r[column] == "" for r in kept)
            assert all(0 < float(r[column]) <= 1 for r in fresh)
        else:
            assert [r[column] for r in kept] == [r[column] for r in fresh], column


def test_a_numbered_movies_csv_has_exports_frame_column_fresh_and_kept(tmp_path, capsys):
    if not SIM.is_dir():
        pytest.skip(f"{SIM} not found")
    frames = [tifffile.imread(SIM / f"t{t:03d}.tif")[:96, :128] for t in range(3)]
    movie = np.stack(frames)
    source = tmp_path / "movie.tif"
    tifffile.imwrite(source, movie, imagej=True, metadata={"axes": "TYX"})
    base = ["--model", "nuclei2d", "--device", "cpu", "--no-tta", "-q", "--first-frame", "52"]
    fresh, kept, result = _fresh_and_kept(source, tmp_path, base)
    assert "measured the 1 kept labels without a CSV" in capsys.readouterr().err
    assert list(fresh[0])[:3] == ["t", "frame", "label"]
    assert {int(r["t"]) for r in fresh} == {0, 2}  # (nuclei2d finds none in frame 1 of this crop)
    assert all(int(r["frame"]) == 52 + int(r["t"]) for r in fresh)
    _same_but_confidence(fresh, kept)
    # Export's CSV of the same result, the movie numbered from 52 as the reader numbers the
    # labels reopened (their recipe's frame_numbers): the same columns and values
    from tessella._widgets._export_outputs import _Output
    from tessella._widgets._export_write import _export_steps, _Plan

    path = tmp_path / "export.csv"
    plan = _Plan(
        name="labels",
        outputs=[_Output("csv", path)],
        overwrite=False,
        make_folder=None,
        data=result.labels,
        axes="TYX",
        pixel_size=None,
        unit="pixel",
        stack=None,
        image=movie,
        result=result,
        numbers=None,
        lineage={},
        recipe=None,
        length=True,
        frames=[52, 53, 54],
    )
    steps = _export_steps(plan)
    while True:
        try:
            next(steps)
        except StopIteration as stop:
            assert stop.value.written == [path], stop.value
            break
    export = _rows(path)
    assert list(export[0]) == list(fresh[0])
    for column in export[0]:
        np.testing.assert_allclose(
            [float(r[column]) for r in fresh], [float(r[column]) for r in export], rtol=1e-6
        )


def test_a_kept_volume_is_measured_as_a_fresh_run_measures_it(tmp_path, capsys):
    if not LUCCHI.is_file():
        pytest.skip(f"{LUCCHI} not found")
    volume = tifffile.imread(LUCCHI)[:8, 192:288, 256:352]  # two mitochondria
    source = tmp_path / "volume.tif"
    metadata = {"axes": "ZYX", "spacing": 30, "unit": "nm"}
    tifffile.imwrite(source, volume, imagej=True, resolution=(1 / 5, 1 / 5), metadata=metadata)
    base = ["--model", "em-mito3d", "--device", "cpu", "-q"]
    fresh, kept, _ = _fresh_and_kept(source, tmp_path, base)
    assert len(fresh) >= 2
    assert list(fresh[0])[:3] == ["label", "volume_px", "volume_nm3"]
    for row in fresh:  # a voxel of 30 x 5 x 5 nm
        assert float(row["volume_nm3"]) == pytest.approx(int(row["volume_px"]) * 750)
        assert 0 <= int(row["bbox_min_z"]) <= int(row["bbox_max_z"]) <= 7  # (inclusive)
    _same_but_confidence(fresh, kept)
