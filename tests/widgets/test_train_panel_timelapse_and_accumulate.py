"""The Train panel reads a time-lapse folder with its Unannotated label (no "painted" warning
when the label is set), and draws one loss point per optimiser step, the mean of its
micro-batches, as the checkpoint keeps them (``accumulate``)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

import tessella._widgets.train as train_module
from tessella._widgets.train import NEW, TrainWidget
from tests.conftest import cell_movie, nuclei_folder

UNANNOTATED = 999


@pytest.fixture
def train(make_napari_viewer, tmp_path, monkeypatch) -> TrainWidget:
    """A viewer with the Train panel docked, the user model folder in a temporary directory."""
    monkeypatch.setenv("TESSELLA_MODELS", str(tmp_path / "models"))
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Train")
    assert isinstance(widget, TrainWidget)
    widget.device_combo.setCurrentText("cpu")
    return widget


def _refused_with_warnings(train: TrainWidget, monkeypatch) -> list[str]:
    """The warnings the panel shows ("Train: ...") when a refused start reads the folder
    (they went to the console before: the panel now says them)."""
    shown: list[str] = []
    monkeypatch.setattr(train_module, "show_warning", shown.append)
    assert not train.start()
    # held out: every frame, so the panel refuses after reading the folder, before training
    assert "leaving none to train on; hold out fewer" in train.status_label.text(), (
        train.status_label.text()
    )
    return shown


def test_a_time_lapse_folder_is_read_with_the_unannotated_label(train, tmp_path, monkeypatch):
    """A folder of TYX stacks whose masks have their left 4/5 painted 999: with the panel's
    Unannotated label 999 nothing is said (it said "label 999 covers ...", as the label was
    not passed to the loader); with none, the painted masks are named."""
    image, labels, _tracks = cell_movie(frames=4, shape=(64, 80))
    masks = labels.astype(np.uint16)
    masks[:, :, :64][masks[:, :, :64] == 0] = UNANNOTATED
    folder = tmp_path / "movies"
    for sub, data in (("images", image.astype(np.uint16)), ("masks", masks)):
        (folder / sub).mkdir(parents=True)
        tifffile.imwrite(folder / sub / "m.tif", data, photometric="minisblack")
    index = train.base_combo.findData(NEW + "temporal")
    assert index >= 0
    train.base_combo.setCurrentIndex(index)
    train.name_edit.setText("movie")
    train.folder_edit.setText(str(folder))
    train.holdout_edit.setText("m")

    train.ignore_spin.setValue(UNANNOTATED)
    said = _refused_with_warnings(train, monkeypatch)
    assert not [line for line in said if "covers" in line], said

    train.ignore_spin.setValue(0)  # none: the check that was wrongly made above
    said = _refused_with_warnings(train, monkeypatch)
    painted = [line for line in said if "covers" in line]
    # in the panel's words: its control, not the command's option
    assert len(painted) == 1 and "; Unannotated label 999 leaves them out" in painted[0], said
    assert "--ignore-label" not in painted[0]
    assert painted[0].startswith("Train: ")
    assert f"Warned: {painted[0][len('Train: ') :]}" in train.status_label.text()


def test_the_loss_curve_has_one_point_per_optimiser_step(train, tmp_path, nuclei_sample):
    """A real tiny run with accumulate 2 (3 steps of 2 micro-batches per epoch, 2 epochs), its
    progress drawn by the panel: 6 points, at steps 1..6, each the mean of its step's two
    micro-batch losses, the checkpoint's step_losses exactly. It drew 12, each one
    micro-batch's loss, two at each step number (and one at step 0)."""
    import torch

    from tessella.engine.train.loop import CHECKPOINT, TrainConfig, checkpoint_losses, train_steps

    folder = nuclei_folder(tmp_path / "data", nuclei_sample)
    config = TrainConfig(
        "embedding",
        str(folder),
        str(tmp_path / "out"),
        epochs=2,
        steps_per_epoch=3,
        accumulate=2,
        batch_size=1,
        patch=64,
        features=(8, 16),
        max_val_images=1,
        device="cpu",
    )
    train.steps_spin.setValue(config.steps_per_epoch)  # as the panel starts a run
    micro_batches = 0
    for progress in train_steps(config):
        micro_batches += not progress.message
        train._on_progress(progress)
    assert micro_batches == 12
    state = torch.load(tmp_path / "out" / CHECKPOINT, weights_only=True)
    kept = checkpoint_losses(state)
    assert [step for step, _ in kept] == [1, 2, 3, 4, 5, 6]
    assert train._losses == kept
