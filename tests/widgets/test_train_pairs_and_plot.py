"""Train panel: *Add pair* refuses labels of another shape at once (as Train would), a Folder
holding a small plain Z stack trains a 2D model on its slices with its last slice held out, and
the plot keeps one colour per series whichever comes first."""

from __future__ import annotations

import json

import numpy as np
import tifffile

from tessella._widgets.train import NEW
from tests.widgets.helpers import choose_base, train_panel

LUCCHI = "em_mito_lucchipp"


def test_add_pair_refuses_labels_of_another_shape_as_train_would(viewer_models, nuclei_sample):
    viewer, models = viewer_models
    image, labels = nuclei_sample
    train = train_panel(viewer, epochs=1)
    img = viewer.add_image(image[:160, :160], name="img")
    small = viewer.add_labels(labels[:100, :100], name="small_labels")
    train.image_combo.setCurrentText("img")
    train.labels_combo.setCurrentText("small_labels")
    train.add_pair_button.click()
    said = "labels 'small_labels' (100, 100) do not match image 'img' (160, 160)"
    assert train.pairs == [] and train.pair_list.count() == 0
    assert train.status_label.text() == f"Not added: {said}."
    # the same words Train refuses such a pair with (added without the button)
    train.add_pair(img, small)
    assert not train.start()
    assert said in train.status_label.text()
    # a pair that fits is added
    train.pairs = []
    viewer.add_labels(labels[:160, :160], name="fits")
    train.labels_combo.setCurrentText("fits")
    train.add_pair_button.click()
    assert train.pair_list.count() == 1
    # for a time-lapse model, a movie's labels must be its frames (TYX)
    choose_base(train, NEW + "temporal")
    movie = viewer.add_image(np.stack([image[:64, :64]] * 3), name="movie")
    movie.metadata["axes"] = "TYX"
    viewer.add_labels(np.stack([labels[:64, :64]] * 2), name="two frames")
    train.image_combo.setCurrentText("movie")
    train.labels_combo.setCurrentText("two frames")
    train.add_pair_button.click()
    assert train.pair_list.count() == 1
    assert train.status_label.text() == (
        "Not added: labels 'two frames' (2, 64, 64) do not match image 'movie' (3, 64, 64) (TYX)."
    )
    assert not models.exists() or not any(models.iterdir())


def test_a_folder_of_a_4_plane_stack_trains_on_its_slices_and_holds_out_the_last(
    viewer_models, qtbot, data_dir, tmp_path, monkeypatch
):
    """4 slices of Lucchi++ written with a plain imwrite (tagged planar RGB) with their masks:
    a 2D semantic model trains on the slices, holding out the last (not a random middle one)."""
    import tessella.engine.train.loop as loop

    monkeypatch.setattr(loop, "_validate", lambda *args, **kwargs: 0.5)  # scoring: not tested
    viewer, models = viewer_models
    pages = range(4)
    image = tifffile.imread(data_dir / LUCCHI / "train" / "image.tif", key=pages)[:, :96, 288:384]
    mito = tifffile.imread(data_dir / LUCCHI / "train" / "mito.tif", key=pages)[:, :96, 288:384]
    folder = tmp_path / "mito"
    for sub, array in (("images", image), ("masks", mito)):
        (folder / sub).mkdir(parents=True)
        # what a plain imwrite of 4 planes writes (tifffile warns it will change that)
        tifffile.imwrite(folder / sub / "a.tif", array, photometric="rgb", planarconfig="separate")
    train = train_panel(viewer, epochs=1)
    choose_base(train, NEW + "semantic")
    train.folder_edit.setText(str(folder))
    assert train.holdout_edit.text() == ""
    with qtbot.waitSignal(train.run_finished, timeout=300_000):
        assert train.start(), train.status_label.text()
        assert "on 3 slices, holding out 1 slice: a.tif[z=003]" in train.status_label.text()
    config = json.loads((models / "my-semantic" / "card.json").read_text())["training"]["config"]
    assert config["holdout"] == ["a.tif[z=003]"]


def _render(plot) -> np.ndarray:
    from qtpy.QtWidgets import QApplication

    QApplication.processEvents()  # the dock's layout settles the plot's size first
    picture = plot.grab().toImage()
    width, height = picture.width(), picture.height()
    bits = picture.constBits()
    bits.setsize(picture.sizeInBytes())
    rows = np.frombuffer(bits, np.uint8).reshape(height, picture.bytesPerLine())
    return rows[:, : width * 4].copy()


def test_each_training_curve_keeps_its_colour_whichever_comes_first(viewer_models):
    """A new model's first point is a loss; a fine-tune's is its base's score (step 0): the
    plot is drawn the same either way."""
    viewer, _models = viewer_models
    train = train_panel(viewer, epochs=1)
    train.plot.setVisible(True)
    train.plot.setFixedSize(320, 200)  # the same picture size for both
    losses, scores = [(1, 0.9), (2, 0.6), (3, 0.5)], [(0, 0.2), (3, 0.4)]
    train.plot.set_series("loss", losses)
    train.plot.set_series("validation score", scores)
    loss_first = _render(train.plot)
    train.plot.clear()
    train.plot.set_series("validation score", scores)
    train.plot.set_series("loss", losses)
    score_first = _render(train.plot)
    assert loss_first.shape == score_first.shape
    assert np.array_equal(loss_first, score_first)
    # and the loss is the first colour, as it was in a new model's run
    from tessella._widgets._plot import COLORS

    assert [color for _name, color in train.plot.drawn()] == [COLORS[0], COLORS[1]]
