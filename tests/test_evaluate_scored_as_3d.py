"""3D inputs to ``tessella evaluate``, :func:`tessella.evaluate_paths` and
:func:`tessella.evaluate` (s35 f2): each scored as its axes say, and each front end saying so
in one sentence (``"scored_as"``), the same sentence where they score the same thing.

1. A Lucchi++ mitochondria ZYX binary mask against 3D labels: its connected pieces in 3D are
   its objects (a prediction of 2D pieces slice by slice matches none), one volume, said.
2. An ISBI 2012 membrane-map stack: ``gt_boundaries`` scores each 2D section on its own and
   ``"scored_as"`` said nothing (the command line's "images:" line alone said it);
   ``gt_boundaries_3d`` said one volume but added how to score a *time-lapse* frame by
   frame (a TYX one), which a 3D membrane map is not; a TZYX membrane map was one 4D
   volume, its cells connected through time.
3. A TZYX time-lapse of volumes (the stardist 3D nuclei fixture at 3 time points, a third of
   the objects lost at t=1): scored a time point at a time, each a volume matched in 3D, AP
   the mean of the three; ``"scored_as"`` said "each an image", and the printout listed
   its lowest "1 of 3 images".
4. Refusals named the command line's options from Python: ``evaluate_paths(axes='TYX')``
   said "--axes TYX", ``ignore_label=0`` "--ignore-label 0"; so did notes on the inputs
   ("pass --gt-binary").
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import tifffile
from scipy import ndimage

import tessella
from tessella.cli import main
from tests.conftest import DATA

FIXTURE_3D = DATA / "fixtures" / "mask3d.tif"
ISBI = DATA / "em_membranes_isbi2012" / "boundaries"


@pytest.fixture(scope="module")
def movie(tmp_path_factory):
    """``(pred, gt)`` paths: 3 time points of the 3D nuclei fixture (51 nuclei, 31 x 61 x
    57) written with ImageJ axes TZYX, the prediction missing every third nucleus at t=1."""
    folder = tmp_path_factory.mktemp("tzyx")
    volume = tifffile.imread(FIXTURE_3D).astype(np.uint16)
    truth = np.stack([np.roll(volume, 2 * t, axis=2) for t in range(3)])
    pred = truth.copy()
    pred[1][pred[1] % 3 == 0] = 0
    paths = folder / "pred.tif", folder / "gt.tif"
    tessella.write_labels(paths[0], pred, axes="TZYX")
    tessella.write_labels(paths[1], truth, axes="TZYX")
    return paths


def _ap50(truth: np.ndarray, pred: np.ndarray) -> float:
    """AP(0.5) of one volume whose predicted objects are its true ones or none: TP / n_true."""
    n_true = len(np.unique(truth)) - 1
    return (len(np.unique(pred)) - 1) / n_true


def test_a_tzyx_time_lapse_is_scored_volume_by_volume_and_says_so(movie, tmp_path, capsys):
    pred_path, gt_path = movie
    truth, pred = tifffile.imread(gt_path), tifffile.imread(pred_path)
    per_volume = [_ap50(t, p) for t, p in zip(truth, pred)]
    assert per_volume[0] == per_volume[2] == 1.0 and per_volume[1] < 0.7
    out = tmp_path / "s.json"
    assert main(["evaluate", str(pred_path), str(gt_path), "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    cli = json.loads(out.read_text())
    assert cli["n_images"] == 3 and cli["movies"] == {"files": 1, "frames": 3}
    assert [row["ap"]["0.5"] for row in cli["images"]] == pytest.approx(per_volume)
    assert [row["n_true"] for row in cli["images"]] == [51, 51, 51]  # (3D objects)
    assert cli["ap"]["0.5"] == pytest.approx(np.mean(per_volume))
    said = cli["scored_as"]
    assert said.startswith(
        "scored frame by frame: the 3 frames of gt.tif (T axis: the ImageJ metadata of "
        "pred.tif), each a volume (ZYX) whose objects are matched in 3D"
    )
    assert said in printed and "gt.tif[1]" in printed  # (its lowest time point listed)
    assert "lowest AP(0.5): 1 of 3 frames (each image's scores: " in printed
    assert tessella.evaluate_paths(pred_path, gt_path)["scored_as"] == said
    arrays = tessella.evaluate(tessella.read_image(gt_path), tessella.read_image(pred_path))
    assert arrays.scores["ap"]["0.5"] == pytest.approx(np.mean(per_volume))
    assert "each a volume (ZYX) whose objects are matched in 3D" in arrays.scores["scored_as"]


def test_a_binary_mito_volume_is_matched_in_3d_and_says_so(tmp_path):
    mask = tifffile.imread(DATA / "em_mito_lucchipp" / "val" / "mito.tif")[:12, :384, :512]
    labels, count = ndimage.label(mask > 0)
    slices = np.zeros(labels.shape, np.uint32)  # the same pixels, in 2D pieces slice by slice
    for z, plane in enumerate(mask > 0):
        pieces, n = ndimage.label(plane)
        slices[z] = np.where(pieces > 0, pieces + slices.max(), 0)
    assert 0 < count < len(np.unique(slices)) - 1
    tifffile.imwrite(tmp_path / "mito.tif", mask)
    tifffile.imwrite(tmp_path / "pred3d.tif", labels.astype(np.uint32))
    tifffile.imwrite(tmp_path / "pred2d.tif", slices)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # (a plain stack: read as ZYX, said)
        whole = tessella.evaluate_paths(
            tmp_path / "pred3d.tif", tmp_path / "mito.tif", ("ap", "iou"), gt_binary=True
        )
        pieces = tessella.evaluate_paths(
            tmp_path / "pred2d.tif", tmp_path / "mito.tif", ("ap", "iou"), gt_binary=True
        )
    assert whole["ap"]["0.5"] == 1.0 and whole["foreground_iou"] == 1.0
    assert pieces["ap"]["0.5"] == 0.0 and pieces["foreground_iou"] == 1.0
    assert whole["scored_as"].startswith(
        "scored as one volume: mito.tif, whose axes are not known (read as ZYX), its objects "
        "matched in 3D; a time-lapse is scored frame by frame where"
    )
    arrays = tessella.evaluate(mask, slices, kind="binary", metrics_wanted=("ap", "iou"))
    assert arrays.scores["ap"]["0.5"] == 0.0 and arrays.fn == count
    assert arrays.scores["scored_as"].startswith(
        "scored as one volume: labels of shape (12, 384, 512), their objects matched in 3D"
    )


def test_a_membrane_stack_says_section_by_section_or_one_volume(tmp_path, capsys):
    maps = np.stack([tifffile.imread(ISBI / f"{z:02d}.tif")[:160, :160] for z in range(3)])
    cells = np.zeros(maps.shape, np.uint32)
    for z, plane in enumerate(maps):
        pieces, _ = ndimage.label(plane == 0)
        cells[z] = np.where(pieces > 0, pieces + cells.max(), 0)
    tifffile.imwrite(tmp_path / "gt.tif", maps, photometric="minisblack")
    tifffile.imwrite(tmp_path / "pred.tif", cells, photometric="minisblack")
    pred, gt = tmp_path / "pred.tif", tmp_path / "gt.tif"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        sections = tessella.evaluate_paths(pred, gt, "vrand", gt_boundaries=True)
        volume = tessella.evaluate_paths(pred, gt, "vrand", gt_boundaries_3d=True)
    assert sections["vrand"] == 1.0 and sections["sections"] == {"files": 1, "sections": 3}
    assert sections["scored_as"] == (
        "scored section by section: the 3 2D sections of gt.tif, each an image (a membrane "
        "map annotated section by section, as ISBI 2012 scores it); gt_boundaries_3d=True "
        "scores it as one volume, its cells connected in 3D"
    )
    assert volume["vrand"] < 0.5  # (its cells joined across sections: 2D cells split)
    assert volume["scored_as"] == (
        "scored as one volume: gt.tif, whose axes are not known (read as ZYX), its objects "
        "matched in 3D"
    )  # (no word on TYX time-lapses: a 3D membrane map has no 2D frames)
    out = tmp_path / "s.json"
    assert main(["evaluate", str(pred), str(gt), "--gt-boundaries", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert json.loads(out.read_text())["scored_as"] == sections["scored_as"].replace(
        "gt_boundaries_3d=True", "--gt-boundaries-3d"
    )
    assert "images: 3 (the 2D sections of 1 membrane-map stack" in printed
    assert "scored section by section" not in printed  # (the "images:" line says it)
    arrays = tessella.evaluate(maps, cells, kind="boundaries", metrics_wanted="vrand")
    assert arrays.scores["scored_as"].startswith("scored section by section: the 3 2D sections")


def test_a_tzyx_membrane_map_is_scored_a_time_point_at_a_time(tmp_path):
    """A 3D membrane map of two time points (ISBI 2012 sections 0-1 and 2-3 as TZYX): its
    cells connected in 3D within each time point; before, connected through time too (4D),
    where 14 cells were 2 objects, AP(0.5) 0.1."""
    sections = [tifffile.imread(ISBI / f"{z:02d}.tif")[:96, :96] for z in range(4)]
    maps = np.stack(sections).reshape(2, 2, 96, 96)
    cells = np.stack([ndimage.label(volume == 0)[0] for volume in maps]).astype(np.uint32)
    assert [len(np.unique(c)) - 1 for c in cells] == [5, 9]
    assert ndimage.label(maps == 0)[1] == 2  # (connected through time: 2 objects)
    tessella.write_labels(tmp_path / "gt.tif", maps, axes="TZYX")
    tessella.write_labels(tmp_path / "pred.tif", cells, axes="TZYX")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        scores = tessella.evaluate_paths(
            tmp_path / "pred.tif", tmp_path / "gt.tif", ("ap", "vrand"), gt_boundaries_3d=True
        )
        arrays = tessella.evaluate(
            tessella.read_image(tmp_path / "gt.tif"),
            tessella.read_image(tmp_path / "pred.tif"),
            kind="boundaries3d",
            metrics_wanted=("ap", "vrand"),
        )
    for result in (scores, arrays.scores):
        assert result["n_images"] == 2 and result["ap"]["0.5"] == 1.0 and result["vrand"] == 1.0
        assert "2 frames of " in result["scored_as"]
        assert "each a volume (ZYX) whose objects are matched in 3D" in result["scored_as"]


def test_refusals_name_the_option_as_the_caller_gave_it(tmp_path, capsys):
    volume = tifffile.imread(FIXTURE_3D)[:4]
    path = tmp_path / "zyx.tif"
    tessella.write_labels(path, volume, axes="ZYX")
    with pytest.raises(ValueError) as python:
        tessella.evaluate_paths(path, path, axes="TYX")
    assert str(python.value) == (
        f"{path}: its ImageJ metadata name the axes ZYX, not TYX (axes='TYX'); axes= gives the "
        "axes of files that name none: leave it out to score this file by its own, or score "
        "the files apart"
    )
    assert main(["evaluate", str(path), str(path), "--axes", "TYX"]) == 1
    err = capsys.readouterr().err
    assert "not TYX (--axes TYX); --axes gives the axes" in err
    for keywords, said in (
        ({"ignore_label": 0}, "ignore_label=0: 0 is background"),
        ({"ignore_label": 77}, "ignore_label=77: no ground-truth pixel has it"),
        ({"annotated_only": "all"}, "annotated_only='all': choose 'frames', 'slices' or 'off'"),
        ({"annotated_only": "frames", "gt_boundaries": True}, "annotated_only scores labels or"),
    ):
        with pytest.raises(ValueError) as refused:
            tessella.evaluate_paths(path, path, **keywords)
        assert str(refused.value).startswith(said) and "--" not in str(refused.value)
    assert main(["evaluate", str(path), str(path), "--ignore-label", "77"]) == 1
    assert "--ignore-label 77: no ground-truth pixel has it" in capsys.readouterr().err
    # a note on an input: a binary mask given as labels (its pieces one object, ID 1)
    tifffile.imwrite(tmp_path / "mask.tif", (volume > 0).astype(np.uint8))
    with pytest.warns(UserWarning) as noted:
        tessella.evaluate_paths(path, tmp_path / "mask.tif")
    said = [str(note.message) for note in noted if "separate pieces" in str(note.message)]
    assert len(said) == 1 and said[0].endswith(
        "pass gt_binary=True to score each connected piece as an object"
    )
    assert main(["evaluate", str(path), str(tmp_path / "mask.tif")]) == 0
    assert "pass --gt-binary to score each connected piece" in capsys.readouterr().err
