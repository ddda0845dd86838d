"""The Train panel's Start from list says what each model's card says it is, as Segment's
model list does (s35 f3 #3): it had no tooltips, so four fine-tunes of nuclei2d (one kept its
base's weights, one was stopped early) could not be told apart when choosing what to start
from. Each entry's tooltip is now Segment's for that model (the same code:
``_segment_models.model_summaries``), the closed list's the chosen one's, and a new model's
entry says it starts from random weights."""

from __future__ import annotations

from pathlib import Path

from qtpy.QtCore import Qt

from tessella._widgets._segment_models import model_summaries, summary_tooltip
from tessella._widgets.train import NEW
from tessella.engine.registry import bundled_dir, list_models
from tests.widgets.test_segment_model_info import _models

TIP = Qt.ItemDataRole.ToolTipRole


def _index(combo, folder: str) -> int:
    """The entry of the model in ``folder`` (however its path is written)."""
    return next(
        i
        for i in range(combo.count())
        if not str(combo.itemData(i)).startswith(NEW)
        and Path(combo.itemData(i)).resolve() == Path(folder).resolve()
    )


def test_start_from_shows_each_models_card_as_segment_does(
    make_napari_viewer, tmp_path, monkeypatch
):
    models = tmp_path / "models"
    my_he, he_ema = _models(models)
    monkeypatch.setenv("TESSELLA_MODELS", str(models))
    viewer = make_napari_viewer()
    _dock, train = viewer.window.add_plugin_dock_widget("tessella", "Train")
    bases = train.base_combo
    nuclei2d = str((bundled_dir() / "nuclei2d").resolve())
    # Segment's tooltips (tests/widgets/test_segment_model_info.py checks its list's)
    listed = [(card, str(folder), origin) for card, folder, origin in list_models()]
    segments = {Path(k).resolve(): summary_tooltip(v) for k, v in model_summaries(listed).items()}
    for folder in (my_he, he_ema, nuclei2d):
        tip = bases.itemData(_index(bases, folder), TIP)
        assert tip and tip == segments[Path(folder).resolve()], (folder, tip)
    tip = bases.itemData(_index(bases, my_he), TIP)
    assert "<b>Weights:</b> the same as nuclei2d's (kept: no epoch beat them)" in tip, tip
    assert "<b>Hold-out ap50 by epoch:</b> 0.833 (base), 0.767, 0.594, 0.645" in tip, tip
    tip = bases.itemData(_index(bases, he_ema), TIP)
    assert "<b>Scored on:</b> the folder /tmp/s34/t14/val" in tip, tip
    assert "<b>Stopped early:</b> after epoch 1 of 3 (terminated)" in tip, tip
    assert "<b>Scores:</b> validation (64 images): ap50=0.8457" in bases.itemData(
        _index(bases, nuclei2d), TIP
    )

    # the closed list's tooltip is the chosen model's, and follows the choice
    assert bases.toolTip() == bases.itemData(bases.currentIndex(), TIP)
    assert bases.toolTip().startswith(f"bundled model in {nuclei2d}")  # the default
    bases.setCurrentIndex(_index(bases, he_ema))
    assert bases.toolTip() == bases.itemData(_index(bases, he_ema), TIP)
    bases.setCurrentIndex(bases.findData(NEW + "embedding"))
    assert bases.toolTip().startswith("A new embedding model, trained from random weights")
    # every entry says what it is
    assert all(bases.itemData(i, TIP) for i in range(bases.count()))
