"""Evaluate against a Cell Tracking Challenge ground truth (user test s33/t12 #4 and #9), on
real Fluo-N2DH-SIM+ frames laid out as the CTC ships them (``01``, ``01_GT/SEG``,
``01_GT/TRA``, linked or cropped into ``tmp_path``):

- a SEG folder annotating every frame (SIM+'s) gets "Score annotated frames only" ticked by
  itself and SEG shown, as a sparse one (GOWT1's) did already; before, only sparse folders
  did, and a SIM+ user got avS but not the CTC's headline number;
- a tracked prediction (a cells2dt result in the Segment panel, a CTC result folder reopened
  by the reader) gets "links reproduced: N of M; division links: K of D" too, the figures of
  ``tessella evaluate RES 01_GT --ctc`` on the same labels exported; without a TRA folder
  the panel says how to get one."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine.metrics import seg_scores
from tests.widgets.helpers import choose_model

SIM = "ctc_Fluo-N2DH-SIM+"


def _sim(data_dir) -> Path:
    folder = data_dir / SIM
    if not (folder / "01_GT" / "TRA" / "man_track.txt").is_file():
        pytest.skip("SIM+ 01 and 01_GT not in the shared data")
    return folder


def _layout(data_dir, root: Path, frames, crop=None, tra: bool = True) -> Path:
    """SIM+ 01 frames ``frames`` as a CTC layout under ``root`` (``01``, ``01_GT/SEG``,
    ``01_GT/TRA`` with the whole ``man_track.txt``): links to the shared files, or their
    ``crop`` (a tuple of slices) written there. Returns ``root``."""
    sim = _sim(data_dir)
    parts = [("01", "t", "01"), ("01_GT/SEG", "man_seg", "01_GT/SEG")]
    if tra:
        parts.append(("01_GT/TRA", "man_track", "01_GT/TRA"))
        (root / "01_GT" / "TRA").mkdir(parents=True)
        (root / "01_GT/TRA/man_track.txt").symlink_to(sim / "01_GT/TRA/man_track.txt")
    for folder, prefix, source in parts:
        (root / folder).mkdir(parents=True, exist_ok=True)
        for t in frames:
            name = f"{prefix}{t:03d}.tif"
            if crop is None:
                (root / folder / name).symlink_to(sim / source / name)
            else:
                tifffile.imwrite(root / folder / name, tifffile.imread(sim / source / name)[crop])
    return root


def _evaluate(viewer, pred_name: str):
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    widget.pred_combo.setCurrentIndex(widget.pred_combo.findText(pred_name))
    return widget


def _cli_links(capsys, res: Path, gt: Path, frames: str) -> tuple[str, str]:
    """``(links, divisions)`` as ``tessella evaluate RES GT --ctc --frames A:B`` prints them:
    ``("573 of 585", "6 of 13")``."""
    capsys.readouterr()
    assert main(["evaluate", str(res), str(gt), "--ctc", "--frames", frames]) == 0
    out = capsys.readouterr().out
    found = re.search(
        r"links reproduced: (\d+ of \d+) \([0-9.]+\); division links: (\d+ of \d+)", out
    )
    assert found, out
    return found[1], found[2]


def _panel_links(widget) -> tuple[str, str]:
    text = widget.iou_label.text()
    found = re.search(
        r"Links reproduced: (\d+ of \d+) \([0-9.]+\); division links: (\d+ of \d+)", text
    )
    assert found, text
    assert found[0].lower() in widget.status_label.text().lower()
    return found[1], found[2]


def _eroded(labels: np.ndarray, size: int = 5) -> np.ndarray:
    """Each object of ``labels`` (TYX) shrunk by its border (a prediction a little small)."""
    from scipy import ndimage

    low = ndimage.minimum_filter(labels, size=(1, size, size))
    high = ndimage.maximum_filter(labels, size=(1, size, size))
    return np.where(low == high, labels, 0).astype(labels.dtype)


def test_a_seg_folder_of_every_frame_shows_seg(make_napari_viewer, data_dir, tmp_path, capsys):
    """SIM+ frames 52-55, every one annotated in 01_GT/SEG, opened by the reader: the box is
    ticked by itself, its tooltip says why, and the scores hold SEG, the number
    ``tessella evaluate PRED 01_GT/SEG --metric seg`` prints; AP as without the box (every
    frame is annotated: nothing left out)."""
    from tessella._widgets.evaluate import EvaluateWidget

    frames = range(52, 56)
    root = _layout(data_dir, tmp_path, frames, tra=False)
    seg = root / "01_GT" / "SEG"
    truth = np.stack([tifffile.imread(seg / f"man_seg{t:03d}.tif") for t in frames])
    pred = _eroded(truth)
    pred[0][np.isin(pred[0], [3, 7])] = 0  # two cells missed in the first frame
    viewer = make_napari_viewer()
    [layer] = viewer.open(str(seg), plugin="tessella")
    viewer.add_labels(pred, name="prediction", axis_labels=("t", "y", "x"))
    widget = EvaluateWidget(viewer)
    assert widget.truth_layer is layer
    assert widget.annotated_checkbox.isChecked()
    tip = widget.annotated_checkbox.toolTip()
    assert "or every frame (SIM+'s)" in tip and "all 4 frames annotated (its SEG files)" in tip
    widget.evaluate_button.click()
    scores = widget.last_scores
    expected = seg_scores(list(zip(truth, pred)))
    assert scores["seg"] == pytest.approx(expected["seg"]) and scores["seg"] < 0.95
    assert (
        widget.last_evaluation.n_true
        == expected["n_objects"]
        == int(sum(np.count_nonzero(np.unique(frame)) for frame in truth))
    )
    status = widget.status_label.text()
    assert f"SEG {scores['seg']:.3f} ({expected['n_objects']} cells); avS" in status, status
    assert "all 4 frames annotated (by the SEG files of 'SEG'); all are scored" in status
    assert widget.iou_label.text().startswith(f"SEG: {scores['seg']:.3f} (Cell Tracking")
    tifffile.imwrite(tmp_path / "pred.tif", pred, imagej=True, metadata={"axes": "TYX"})
    capsys.readouterr()
    assert main(["evaluate", str(tmp_path / "pred.tif"), str(seg), "--metric", "seg"]) == 0
    assert f"seg: {scores['seg']:.4f}" in capsys.readouterr().out

    widget.annotated_checkbox.setChecked(False)  # every frame scored either way: same AP
    ap = scores["ap"]
    widget.evaluate_button.click()
    assert "seg" not in widget.last_scores and widget.last_scores["ap"] == pytest.approx(ap)


def _mistracked(data_dir, frames, crop=None) -> tuple[np.ndarray, dict[int, int]]:
    """SIM+'s ground-truth tracks (its TRA masks are its whole cells) in ``frames`` as a
    tracker gets some wrong, and its divisions ``{child: parent}``: daughter 81 carries on
    as its mother 23 (a link, no division), 79 and 80 have no mother (4's division lost),
    daughter 87 of 16 is missed in the last frame (its division link lost)."""
    from tessella.engine.tracking import read_ctc_tracks

    sim = _sim(data_dir)
    crop = crop or (slice(None), slice(None))
    labels = np.stack(
        [tifffile.imread(sim / f"01_GT/TRA/man_track{t:03d}.tif")[crop] for t in frames]
    )
    present = set(np.unique(labels).tolist())
    lineage = {
        k.id: k.parent
        for k in read_ctc_tracks(sim / "01_GT/TRA/man_track.txt")
        if k.parent and {k.id, k.parent} <= present
    }
    labels[labels == 81] = 23
    lineage.pop(81, None)
    lineage.pop(79, None)
    lineage.pop(80, None)
    labels[-1][labels[-1] == 87] = 0
    return labels, lineage


def test_a_reopened_ctc_result_scores_links_as_the_cli(
    make_napari_viewer, data_dir, tmp_path, capsys, qtbot, monkeypatch
):
    """A CTC result folder (mask051-055 and res_track.txt, SIM+ tracks as a tracker gets
    some wrong) reopened by the reader, against the SEG folder beside TRA: the panel says
    the links and divisions the CLI counts on that folder, with the same engine function
    (here 5 division links of 10 reproduced: 94's and 27's daughters and 16's 88; the
    daughter 82 that write_ctc leaves without a parent, as 23 goes on, is none). A pair
    scored in a thread worker (a large one) has them scored there, not on the GUI thread."""
    import threading

    from tessella._widgets import _evaluate_run
    from tessella.engine.tracking import _evaluate as engine
    from tessella.engine.tracking import write_ctc

    frames = range(51, 56)
    root = _layout(data_dir, tmp_path / "sim", frames)
    labels, lineage = _mistracked(data_dir, frames)
    res = tmp_path / "sim" / "01_RES"
    write_ctc(labels, lineage, res, frame_numbers=list(frames))
    links, divisions = _cli_links(capsys, res, _sim(data_dir) / "01_GT", "51:56")
    assert divisions == "5 of 10" and links.split(" of ")[0] != links.split(" of ")[1]

    viewer = make_napari_viewer()
    viewer.open(str(root / "01_GT" / "SEG"), plugin="tessella")
    [pred] = [
        layer
        for layer in viewer.open(str(res), plugin="tessella")
        if layer.__class__.__name__ == "Labels"
    ]
    widget = _evaluate(viewer, pred.name)
    assert widget.prediction_layer is pred and widget.truth_layer.name == "SEG"
    widget.evaluate_button.click()
    assert _panel_links(widget) == (links, divisions)
    scores = widget.last_scores
    assert f"{scores['reproduced']} of {scores['links']}" == links
    assert scores["links_against"] == str(root / "01_GT" / "TRA")
    assert "seg" in scores  # (SEG as well: every frame of SIM+ annotated)

    threads = []
    original = engine.frame_links

    def recorded(*args, **kwargs):
        threads.append(threading.current_thread())
        return original(*args, **kwargs)

    monkeypatch.setattr(engine, "frame_links", recorded)
    monkeypatch.setattr(_evaluate_run, "SYNC_MAX_PIXELS", 0)  # in a thread worker
    with qtbot.waitSignal(widget.evaluation_finished, timeout=60_000):
        widget.evaluate_button.click()
    assert _panel_links(widget) == (links, divisions)
    assert len(threads) == 1 and threads[0] is not threading.main_thread()
    monkeypatch.undo()

    # the TRA folder opened itself as the ground truth: the same links
    viewer.open(str(root / "01_GT" / "TRA"), plugin="tessella")
    truth = next(layer for layer in viewer.layers if layer.name == "TRA")
    widget.pred_combo.setCurrentIndex(widget.pred_combo.findData(pred.unique_id))
    widget.truth_combo.setCurrentIndex(widget.truth_combo.findData(truth.unique_id))
    widget.evaluate_button.click()
    assert _panel_links(widget) == (links, divisions)


def test_without_tra_the_panel_says_how_to_score_links(make_napari_viewer, data_dir, tmp_path):
    """The same tracked labels against a SEG folder with no TRA beside it: no link scores,
    and the panel says where the TRA folder goes or to open it; a prediction without tracks
    (each frame segmented alone) gets no such line."""
    from tessella._widgets import _results

    frames = range(51, 54)
    root = _layout(data_dir, tmp_path, frames, tra=False)
    labels, lineage = _mistracked(data_dir, frames)
    viewer = make_napari_viewer()
    [seg] = viewer.open(str(root / "01_GT" / "SEG"), plugin="tessella")
    layer = viewer.add_labels(labels, name="tracked", metadata={"axes": "TYX"}, scale=seg.scale)
    _results.show_tracks(viewer, layer, labels, lineage, linked=True)
    widget = _evaluate(viewer, "tracked")
    widget.evaluate_button.click()
    said = widget.status_label.text()
    assert "Links and divisions not scored: no TRA folder (man_track.txt" in said, said
    assert str(root / "01_GT" / "TRA") in said and "open the movie's NN_GT/TRA folder" in said
    assert "links" not in widget.last_scores and "Links and divisions" in widget.iou_label.text()

    viewer.add_labels(labels, name="frames alone", metadata={"axes": "TYX"}, scale=seg.scale)
    widget.pred_combo.setCurrentIndex(widget.pred_combo.findText("frames alone"))
    widget.evaluate_button.click()
    assert "inks" not in widget.status_label.text() and "inks" not in widget.iou_label.text()


@pytest.mark.slow
def test_a_cells2dt_result_scores_links_as_the_cli(
    make_napari_viewer, data_dir, run_to_end, tmp_path, capsys
):
    """cells2dt run in the Segment panel on SIM+ frames 52-55 (a 192 x 224 crop where cells
    23 and 94 divide, its CTC layout cropped alike): Evaluate against 01_GT/SEG (TRA beside
    it) gives the links and divisions ``tessella evaluate`` gives for the result exported
    as a CTC folder (its labels and divisions as the panel holds them)."""
    from tessella._widgets._tracks_layer import current_lineage
    from tessella.engine.tracking import write_ctc

    frames = range(52, 56)
    crop = (slice(90, 282), slice(190, 414))
    root = _layout(data_dir, tmp_path / "sim", frames, crop=crop)
    viewer = make_napari_viewer()
    [movie] = viewer.open(str(root / "01"), plugin="tessella")
    _dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    choose_model(segment, "cells2dt")
    run_to_end(segment)
    pred = next(layer for layer in viewer.layers if layer.name.startswith("01 labels"))
    lineage = current_lineage(viewer, pred)
    write_ctc(np.asarray(pred.data), lineage, tmp_path / "RES", frame_numbers=list(frames))
    links, divisions = _cli_links(capsys, tmp_path / "RES", root / "01_GT", "52:56")

    viewer.open(str(root / "01_GT" / "SEG"), plugin="tessella")
    widget = _evaluate(viewer, pred.name)
    assert widget.truth_layer.name == "SEG"
    widget.evaluate_button.click()
    assert _panel_links(widget) == (links, divisions)
    assert int(links.split(" of ")[1]) > 15 and divisions.endswith(" of 4"), (links, divisions)
