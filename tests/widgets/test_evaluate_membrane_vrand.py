"""The Evaluate panel on an EM user's ISBI 2012 membrane-map stack (user test t4, problems 1
and 2): the tester's 6 x 256 x 256 boundaries against a label volume of their shape are
guessed a boundary map (they were taken as overlapping masks, every score 0.000), the line
under "Ground truth is" follows a choice made by hand (it kept saying "so taken as ..."), and
the scores include V_rand and VOI with their split and merge parts (the panel had none), in a
table above AP, as `tessella evaluate --metric vrand --gt-boundaries` gives them, also when
scored in a worker with progress and Cancel."""

from __future__ import annotations

import threading
from functools import wraps

import numpy as np
import pytest
import tifffile

from tessella._widgets import _evaluate_run
from tessella.cli import evaluate_paths
from tessella.engine import metrics
from tests.engine.test_evaluate_mistakes import write_stack
from tests.engine.test_evaluation_membrane_stack_kind import _cells
from tests.widgets.test_evaluate_widget import choose


@pytest.fixture
def isbi_pair(data_dir):
    """ISBI boundaries 14-19 (top-left 256 x 256, the tester's isbi_bnd.tif) and a label
    volume of their cells, two cells joined and one section's cells cut (not perfect)."""
    folder = data_dir / "em_membranes_isbi2012" / "boundaries"
    maps = np.stack([tifffile.imread(folder / f"{n}.tif")[:256, :256] for n in range(14, 20)])
    maps = maps.astype(np.uint8)
    cells = _cells(maps)
    cells[cells == 5] = 6
    cells[2, :, :128][cells[2, :, :128] > 0] += 10_000
    return maps, cells.astype(np.uint16)  # (as an ImageJ stack holds them)


def _docked(make_napari_viewer, maps, cells):
    viewer = make_napari_viewer()
    viewer.add_labels(cells, name="isbi labels")
    viewer.add_labels(maps, name="isbi_bnd")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    choose(widget.pred_combo, "isbi labels")
    choose(widget.truth_combo, "isbi_bnd")
    return viewer, widget


def _table(widget) -> list[list[str]]:
    table = widget.vrand_table
    return [
        [table.item(row, column).text() for column in range(table.columnCount())]
        for row in range(table.rowCount())
    ]


def test_a_membrane_stack_is_scored_as_a_boundary_map_with_vrand_and_voi(
    make_napari_viewer, isbi_pair, tmp_path
):
    maps, cells = isbi_pair
    _viewer, widget = _docked(make_napari_viewer, maps, cells)
    guessed = (
        "'isbi_bnd': only 0 and 1, in thin lines between regions: a membrane map, so taken as "
        "boundary map."
    )
    assert widget.truth_kind == "boundaries"
    assert widget.kind_label.text() == guessed
    assert not widget.vrand_table.isVisibleTo(widget)

    widget.evaluate_button.click()

    write_stack(tmp_path / "pred.tif", cells)
    write_stack(tmp_path / "gt.tif", maps)
    reference = evaluate_paths(
        str(tmp_path / "pred.tif"), str(tmp_path / "gt.tif"), ("ap", "iou", "vrand"), True
    )
    scores = widget.last_scores
    assert reference.pop("sections") == {"files": 1, "sections": 6}  # (the CLI's count)
    said = reference.pop("scored_as")  # (the CLI's words: the panel's status says them)
    assert said.startswith("scored section by section: the 6 2D sections of gt.tif")
    assert "Scored section by section: the 6 2D sections of " in widget.status_label.text()
    assert scores == reference
    assert 0.5 < scores["vrand"] < 1.0 and scores["voi_split"] > 0 and scores["voi_merge"] > 0
    assert widget.vrand_table.isVisibleTo(widget) and widget.vrand_label.isVisibleTo(widget)
    assert _table(widget) == [
        [f"{scores[key + part]:.3f}" for part in ("", "_split", "_merge")]
        for key in ("vrand", "voi")
    ]
    # the headline is a membrane map's: V_rand and VOI (its unit said), as the CLI's --metric
    # vrand; no avS or foreground IoU (the share of cell inside), which mean little for a
    # segmentation tiling every pixel (user test s35/t20 #9: "avS 0.222" beside V_rand 0.936)
    headline = widget.status_label.text().splitlines()[0]
    assert f"(boundary map): V_rand {scores['vrand']:.3f}, VOI {scores['voi']:.3f} nats (" in (
        headline
    )
    assert "avS" not in headline and "IoU" not in headline, headline
    assert scores["ap"]["0.5"] > 0.8  # the cells themselves, mostly right, still matched

    # a kind chosen by hand: the line says so, and what was guessed; the guess's line again
    index = widget.kind_combo.findData("overlapping")
    widget.kind_combo.setCurrentIndex(index)
    widget.kind_combo.activated.emit(index)  # as a choice by hand signals it
    assert widget.kind_label.text() == (
        "'isbi_bnd' taken as overlapping masks, as chosen; guessed boundary map: only 0 and 1, "
        "in thin lines between regions: a membrane map."
    )
    widget.evaluate_button.click()  # (no V_rand of overlapping masks: the table hidden)
    assert "vrand" not in widget.last_scores and not widget.vrand_table.isVisibleTo(widget)
    index = widget.kind_combo.findData("boundaries")
    widget.kind_combo.setCurrentIndex(index)
    widget.kind_combo.activated.emit(index)
    assert widget.kind_label.text() == guessed


def test_vrand_in_a_worker_counts_sections_and_cancels(
    make_napari_viewer, isbi_pair, monkeypatch, qtbot
):
    """Scored in a thread worker: the same scores, the bar counting sections; Cancel in the
    third section stops there (V_rand computed for at most one more), nothing shown."""
    maps, cells = isbi_pair
    _viewer, widget = _docked(make_napari_viewer, maps, cells)
    widget.evaluate_button.click()
    expected = widget.last_scores
    monkeypatch.setattr(_evaluate_run, "SYNC_MAX_PIXELS", 0)  # in a thread worker
    formats: list[str] = []
    original_progress = widget._on_progress

    def progress(step):
        original_progress(step)
        formats.append(widget.progress_bar.format())

    monkeypatch.setattr(widget, "_on_progress", progress)
    widget.last_scores = None
    with qtbot.waitSignal(widget.evaluation_finished, timeout=60_000):
        widget.evaluate_button.click()
    assert widget.last_scores == expected
    assert "scored: section %v of %m" in formats

    count, reached, go_on = [0], threading.Event(), threading.Event()
    rand_voi = metrics.rand_voi

    @wraps(rand_voi)
    def held(*args, **kwargs):
        count[0] += 1
        if count[0] == 3:
            reached.set()
            assert go_on.wait(20)
        return rand_voi(*args, **kwargs)

    monkeypatch.setattr(metrics, "rand_voi", held)
    widget.last_scores = None
    with qtbot.waitSignal(widget.evaluation_finished, timeout=60_000):
        widget.evaluate_button.click()
        assert reached.wait(20)
        widget.cancel_button.click()
        go_on.set()
    assert count[0] <= 4 and widget.last_scores is None
    assert widget.status_label.text().startswith("Cancelled: 'isbi labels' against 'isbi_bnd'")
    assert widget.evaluate_button.isEnabled() and widget.kind_combo.isEnabled()
