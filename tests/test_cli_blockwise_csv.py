"""``tessella segment --blockwise --csv`` (s35 f10; refused before: "--csv measures labels in
memory; with --blockwise measure the labels zarr with tessella.measure_objects"): the labels
zarr is measured piece by piece once it is complete, into the CSV an in-memory ``--csv`` run
writes (the same columns; the same rows for the same objects; ``mean_confidence`` empty: a
blockwise run keeps no confidence map), also from kept labels (``--skip-existing``), with
nothing half-written when the measuring is cut short. Also: a zarr input's ``--csv`` in
memory wrote the folder-run tables ``measurements.csv`` and ``images.csv`` inside the labels
zarr (a zarr input is a folder on disk, taken for a folder of images).

Real data: a 128x128 crop of the DSB2018 fixture (nuclei2d), SIM+ frames (cells2dt); CPU."""

from __future__ import annotations

import csv
import shutil

import numpy as np
import pytest
import zarr

from tessella.cli import main
from tessella.engine.io import read_image
from tessella.engine.measure import measure_objects
from tests.conftest import DATA

IMG2D = DATA / "fixtures" / "img2d.tif"
SIM = DATA / "ctc_Fluo-N2DH-SIM+" / "01"
RUN = ["--model", "nuclei2d", "--device", "cpu", "--no-tta", "-q", "--csv"]
BLOCKWISE = ["--blockwise", "--workers", "0"]


def _rows(path):
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _zarr(path, array, chunks, axes):
    out = zarr.open(str(path), mode="w", shape=array.shape, chunks=chunks, dtype=array.dtype)
    out[...] = array
    out.attrs["tessella_axes"] = axes
    return path


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """A 128x128 crop as a zarr of 64x64 chunks, segmented in memory and blockwise (blocks of
    64: four, objects cut by the seams stitched), both with --csv."""
    if not IMG2D.is_file():
        pytest.fail(f"the fixture image is not at {IMG2D} (set TESSELLA_DATA)")
    folder = tmp_path_factory.mktemp("blockwise_csv")
    image = np.asarray(read_image(IMG2D).data)[:128, 128:256]
    source = _zarr(folder / "crop.zarr", image, (64, 64), "YX")
    assert main(["segment", str(source), "-o", str(folder / "mem.zarr"), *RUN]) == 0
    out = folder / "bw.zarr"
    assert main(["segment", str(source), "-o", str(out), *RUN, *BLOCKWISE, "--block", "64"]) == 0
    return folder, image


def test_a_blockwise_csv_is_an_in_memory_csv_of_the_same_objects(runs):
    folder, image = runs
    memory, blockwise = _rows(folder / "mem.csv"), _rows(folder / "bw.csv")
    assert list(blockwise[0]) == list(memory[0])  # the same columns, in the same order
    assert "mean_intensity" in blockwise[0] and "length_px" in blockwise[0]
    assert all(r["mean_confidence"] == "" for r in blockwise)  # (no confidence map kept)
    assert all(0 < float(r["mean_confidence"]) <= 1 for r in memory)
    # the objects of both runs matched by their pixels (blockwise numbers them its own way)
    mem_labels = np.asarray(zarr.open(str(folder / "mem.zarr"), mode="r")[...])
    bw_labels = np.asarray(zarr.open(str(folder / "bw.zarr"), mode="r")[...])
    by_label = {r["label"]: r for r in memory}
    matched = 0
    for row in blockwise:
        mask = bw_labels == int(row["label"])
        ids = np.unique(mem_labels[mask])
        if ids.size != 1 or not np.array_equal(mem_labels == ids[0], mask):
            continue  # (an object the seams changed)
        matched += 1
        other = by_label[str(ids[0])]
        for column in row:
            if column not in ("label", "mean_confidence"):
                assert float(row[column]) == pytest.approx(float(other[column])), column
    assert matched >= 0.8 * len(memory) and matched >= 4
    # and every row is the one of the blockwise labels measured whole in memory
    whole = measure_objects(bw_labels, image, length=True)
    assert [int(r["label"]) for r in blockwise] == whole["label"].tolist()
    for column, values in whole.items():
        np.testing.assert_allclose([float(r[column]) for r in blockwise], values, rtol=1e-12)


def test_a_zarr_input_in_memory_writes_no_folder_tables_into_its_labels(runs):
    folder, _ = runs
    for labels in ("mem.zarr", "bw.zarr"):
        assert not (folder / labels / "measurements.csv").exists()
        assert not (folder / labels / "images.csv").exists()
    assert not (folder / "measurements.csv").exists()


def test_kept_blockwise_labels_without_their_csv_are_measured_as_they_are(runs, tmp_path, capsys):
    folder, _ = runs
    for name in ("bw.zarr", "bw.recipe.json"):
        copy = shutil.copytree if name.endswith(".zarr") else shutil.copy
        copy(folder / name, tmp_path / name)
    source, out = folder / "crop.zarr", tmp_path / "bw.zarr"
    capsys.readouterr()
    args = ["segment", str(source), "-o", str(out), *RUN, *BLOCKWISE, "--block", "64"]
    import tessella.engine.measure as measure

    def full(*_, **__):
        raise OSError(28, "No space left on device")

    with pytest.MonkeyPatch.context() as patch:  # (a kept zarr that cannot be measured)
        patch.setattr(measure, "_piece_sums", full)
        assert main([*args, "--skip-existing"]) == 1
    assert "bw.zarr: the kept labels could not be measured (No space left on device); " in (
        capsys.readouterr().err
    )
    assert not (tmp_path / "bw.csv").exists()
    assert main([*args, "--skip-existing"]) == 0
    assert _rows(tmp_path / "bw.csv") == _rows(folder / "bw.csv")
    assert "measured the 1 kept labels without a CSV as they are (bw.zarr)" in (
        capsys.readouterr().err
    )
    # now that it is there: nothing to do, and without --skip-existing: refused before any
    # work (the labels exist too), the CSV as it was
    before = (tmp_path / "bw.csv").read_bytes()
    assert main([*args, "--skip-existing"]) == 0
    shutil.rmtree(out)
    (tmp_path / "bw.recipe.json").unlink()
    assert main(args) == 1
    assert "bw.csv exists; pass --overwrite" in capsys.readouterr().err
    assert not out.exists() and (tmp_path / "bw.csv").read_bytes() == before


@pytest.mark.parametrize("cut", [KeyboardInterrupt, OSError(28, "No space left on device")])
def test_measuring_cut_short_leaves_no_csv_and_says_the_way_on(runs, tmp_path, cut, capsys):
    import tessella.engine.measure as measure

    folder, _ = runs
    out = tmp_path / "bw.zarr"
    args = ["segment", str(folder / "crop.zarr"), "-o", str(out), *RUN, *BLOCKWISE]
    # an earlier run's labels and CSV there, replaced (--overwrite): its CSV must not stay
    # beside the new labels as theirs
    shutil.copytree(folder / "bw.zarr", out)
    shutil.copy(folder / "bw.recipe.json", tmp_path / "bw.recipe.json")
    shutil.copy(folder / "bw.csv", tmp_path / "bw.csv")

    def cut_short(*_, **__):
        raise cut

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(measure, "_piece_sums", cut_short)  # (mid-measure: the labels written)
        assert main([*args, "--overwrite"]) == (130 if cut is KeyboardInterrupt else 1)
    err = capsys.readouterr().err  # (Ctrl-C: 130)
    assert "the earlier run's bw.csv was removed" in err
    assert out.is_dir() and (tmp_path / "bw.recipe.json").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bw.recipe.json", "bw.zarr"]
    assert "the labels are complete" in err and "with --skip-existing to measure bw.zarr" in err
    if cut is not KeyboardInterrupt:
        assert "No space left on device" in err
    assert main([*args, "--skip-existing"]) == 0  # the way on it says
    assert len(_rows(tmp_path / "bw.csv")) == len(_rows(folder / "bw.csv"))


def test_a_blockwise_movie_csv_has_its_frame_column_as_in_memory(tmp_path):
    if not (SIM / "t052.tif").is_file():
        pytest.fail(f"the SIM+ sequence is not at {SIM} (set TESSELLA_DATA)")
    frames = np.stack(
        [np.asarray(read_image(SIM / f"t{t:03d}.tif").data[166:230, 166:230]) for t in (52, 53)]
    )
    source = _zarr(tmp_path / "movie.zarr", frames, (1, 64, 64), "TYX")
    base = ["--model", "cells2dt", "--device", "cpu", "-q", "--csv", "--first-frame", "52"]
    assert main(["segment", str(source), "-o", str(tmp_path / "mem.zarr"), *base]) == 0
    out = str(tmp_path / "bw.zarr")
    assert main(["segment", str(source), "-o", out, *base, *BLOCKWISE]) == 0
    memory, blockwise = _rows(tmp_path / "mem.csv"), _rows(tmp_path / "bw.csv")
    assert list(blockwise[0])[:3] == ["t", "frame", "label"]
    assert list(blockwise[0]) == list(memory[0]) and len(blockwise) == len(memory) > 0
    for column in memory[0]:  # (each frame one block: the same labels, the same rows)
        if column != "mean_confidence":
            assert [r[column] for r in blockwise] == [r[column] for r in memory], column


def test_blockwise_csv_of_overlapping_objects_is_refused_before_any_work(tmp_path, capsys):
    source = _zarr(tmp_path / "w.zarr", np.zeros((64, 64), np.uint16), (64, 64), "YX")
    out = tmp_path / "w_labels.zarr"
    args = ["segment", str(source), "-o", str(out), "--model", "worms2d", "--device", "cpu"]
    assert main([*args, "--csv", *BLOCKWISE]) == 1
    err = capsys.readouterr().err
    assert "worms2d whole" in err and "segment without --blockwise for --csv" in err
    assert not out.exists()


def test_the_measuring_is_shown_a_piece_at_a_time(runs, tmp_path, capsys):
    """Without -q: a bar of the reads (the pieces, then the squares of the lengths), and the
    CSV said with its count of objects and why mean_confidence is empty."""
    from tessella.cli._blockwise import _intensities_of, _measure_zarr
    from tessella.engine.registry import load_model

    folder, _ = runs
    shutil.copytree(folder / "bw.zarr", tmp_path / "bw.zarr")
    model = load_model("nuclei2d")
    _measure_zarr(
        folder / "crop.zarr", tmp_path / "bw.zarr", model, _intensities_of(None, None), False
    )
    err = capsys.readouterr().err
    assert "bw.zarr: measuring" in err and "2/2" in err  # (1 piece, 1 square of lengths)
    n = len(_rows(folder / "bw.csv"))
    assert f"measurements of {n} objects -> {tmp_path / 'bw.csv'} (mean_confidence empty" in err
    assert _rows(tmp_path / "bw.csv") == _rows(folder / "bw.csv")


def test_the_measuring_bar_counts_the_reads_it_makes(runs, tmp_path, monkeypatch):
    """The bar's total is the pieces and then the reads of the lengths
    (``engine.measure.length_reads``: one per square where objects' boxes start), told
    before those reads: it counted every square of the plane (16 here, in squares of 32 px)
    and raised its total where objects read alone passed it, so it never ended at its own
    total (s35 r13 #3)."""
    import tessella.cli._blockwise as blockwise
    import tessella.engine.measure as measure
    from tessella.engine.registry import load_model

    folder, _ = runs
    shutil.copytree(folder / "bw.zarr", tmp_path / "bw.zarr")
    made = []

    def bar(*args, **kwargs):
        made.append(blockwise_bar(*args, **kwargs))
        return made[-1]

    blockwise_bar = blockwise._progress_bar
    monkeypatch.setattr(blockwise, "_progress_bar", bar)
    monkeypatch.setattr(measure, "_REGION_SIDE", 32)
    monkeypatch.setattr(measure, "_REGION_MARGIN", 8)
    blockwise._measure_zarr(
        folder / "crop.zarr",
        tmp_path / "bw.zarr",
        load_model("nuclei2d"),
        blockwise._intensities_of(None, None),
        False,
    )
    rows = _rows(tmp_path / "bw.csv")
    boxes = [[int(r[f"bbox_{e}_{a}"]) for e in ("min", "max") for a in "yx"] for r in rows]
    reads = measure.length_reads(np.array(boxes), (128, 128))
    assert 1 < reads < 16
    [bar_made] = made
    assert bar_made.n == bar_made.total == 1 + reads  # (1 piece of 128², then the lengths)
