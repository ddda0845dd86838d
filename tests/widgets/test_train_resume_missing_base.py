"""Resume in the Train panel, for a stopped run whose starting model is not installed any more:
it said nothing of that model (its entry missing from Start from, the panel kept the base
chosen there and resumed from that one, or failed on its network); now it names the model
(name, folder, sha256), says what to do and starts nothing, the run kept as it is."""

from __future__ import annotations

import json
from dataclasses import replace

import tessella._widgets.train as train_module
import tessella.engine.train.loop as loop
from tessella.engine.train import TrainConfig, train
from tests.conftest import nuclei_folder
from tests.engine.test_train_resume_base import renamed_model
from tests.widgets.helpers import said, train_panel


def test_resume_names_the_base_that_is_gone_and_starts_nothing(
    viewer_models, tmp_path, tiny_model_dir, nuclei_sample, monkeypatch
):
    viewer, models = viewer_models
    base = renamed_model(tiny_model_dir, models / "tinybase", "tinybase")
    out = models / "mine"
    data = nuclei_folder(tmp_path / "data", nuclei_sample)
    tiny = dict(steps_per_epoch=1, batch_size=1, patch=64, max_val_images=1, device="cpu")
    # started from the base's folder, as the panel starts it, and stopped after one epoch
    monkeypatch.setattr(loop, "_validate", lambda *args, **kwargs: 0.5)  # no predicting
    config = TrainConfig("embedding", str(data), str(out), base=str(base), epochs=3, **tiny)
    train(replace(config, time_budget=1e-6))
    card = json.loads((out / "card.json").read_text())
    assert card["training"]["stopped"]["why"] == "time budget reached"
    sha = card["training"]["config"]["base_sha256"]
    folder = base.resolve()
    base.rename(tmp_path / "away")  # the base is not installed any more
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}

    panel = train_panel(viewer)
    image, labels = nuclei_sample
    panel.add_pair(
        viewer.add_image(image[:128, :128], name="a"),
        viewer.add_labels(labels[:128, :128], name="a_gt"),
    )
    errors = said(monkeypatch, train_module, "show_error")
    panel.name_edit.setText("mine")
    assert panel.resume_button.isEnabled()  # a stopped run: offered
    assert not panel.resume()
    missing = (
        f"the model its run started from, 'tinybase' (folder {folder}, sha256 {sha[:12]}), is "
        "not installed any more; put it back (that folder, or a copy of it in a models "
        f"folder), then resume; the run and its checkpoint in {out} are kept as they are"
    )
    assert errors == [f"Train: cannot resume 'mine': {missing}"]
    assert panel.status_label.text() == f"Not resumed: {missing}."
    assert panel._run is None and panel.worker is None  # nothing started
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
