"""Train records a Folder typed relative to napari's working folder as its absolute path
(review A, finding 6): the card said "mydata", which a napari started elsewhere could not
resume on (it looked for "mydata" there). The loaders read the absolute folder too."""

from __future__ import annotations

import json
from pathlib import Path

import tessella._widgets._train_starting as starting_module
import tessella.engine.train.data as data_module
from tessella._widgets.train import NEW
from tests.widgets.helpers import choose_base, train_panel
from tests.widgets.test_train_resume_data import _folder, _recording
from tests.widgets.test_train_run_feedback import _disks, _scored_zero, _stopped_run


def test_a_relative_folder_is_recorded_and_read_in_full(
    viewer_models, qtbot, monkeypatch, tmp_path, nuclei_sample
):
    _scored_zero(monkeypatch)
    viewer, models = viewer_models
    work = tmp_path / "work"
    folder = _folder(work / "mydata", nuclei_sample, [(0, 0), (0, 200), (200, 0)])
    monkeypatch.chdir(work)
    read: list = []
    load_folder_pairs = data_module.load_folder_pairs

    def recorded_load(root, *args, **kwargs):
        read.append(root)
        return load_folder_pairs(root, *args, **kwargs)

    monkeypatch.setattr(data_module, "load_folder_pairs", recorded_load)
    configs: list = []
    monkeypatch.setattr(starting_module, "_train", _recording(configs))
    train = train_panel(viewer)
    choose_base(train, NEW + "embedding")
    train.folder_edit.setText("mydata")  # typed relative to napari's working folder
    train.name_edit.setText("rel")
    with qtbot.waitSignal(train.run_finished, timeout=30_000):
        assert train.start(), train.status_label.text()
    config = configs[-1][0]
    assert config.data == str(folder.resolve())
    assert f" --data {folder.resolve()} " in config.command, config.command
    assert [Path(root) for root in read] == [folder.resolve()]

    # a run recorded so resumes on its folder from a napari started in another folder
    from tessella.engine.train.data import load_pairs

    image, labels = _disks()
    _stopped_run(models / "rel", load_pairs([image], [labels], "YX", 1, {"low": 1.0, "high": 99.8}))
    card = json.loads((models / "rel" / "card.json").read_text())
    card["training"]["config"]["data"] = config.data  # what the panel recorded
    (models / "rel" / "card.json").write_text(json.dumps(card))
    monkeypatch.chdir(tmp_path)
    _dock, again = viewer.window.add_plugin_dock_widget("tessella", "Train")
    again.name_edit.setText("rel")
    with qtbot.waitSignal(again.run_finished, timeout=30_000):
        assert again.resume(), again.status_label.text()
    assert again.folder_edit.text() == str(folder.resolve())
    assert configs[-1][0].resume and configs[-1][0].data == str(folder.resolve())
    assert [Path(root) for root in read[1:]] == [folder.resolve()]
