"""The Train dock widget: trains on layers in the background, saves a user model that Segment
lists at once, keeps the best model on cancel, compares with the base model."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

from tessella._widgets.train import NEW, REGION_LAYER, TrainWidget


@pytest.fixture
def trainer(make_napari_viewer, nuclei_sample, tmp_path, monkeypatch):
    """A viewer with the nuclei sample and its labels, Segment and Train docked, and the user
    model folder in a temporary directory."""
    monkeypatch.setenv("TESSELLA_MODELS", str(tmp_path / "models"))
    viewer = make_napari_viewer()
    image, labels = nuclei_sample
    image_layer = viewer.add_image(image, name="nuclei")
    labels_layer = viewer.add_labels(labels, name="corrected")
    _dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    _dock, train = viewer.window.add_plugin_dock_widget("tessella", "Train")
    assert isinstance(train, TrainWidget)
    train.add_pair(image_layer, labels_layer)
    train.patch_spin.setValue(96)
    train.device_combo.setCurrentText("cpu")
    return viewer, segment, train, tmp_path / "models"


def choose_base(train, data: str) -> None:
    index = next(
        i for i in range(train.base_combo.count()) if train.base_combo.itemData(i).endswith(data)
    )
    train.base_combo.setCurrentIndex(index)


def test_fine_tunes_saves_a_user_model_segment_lists_and_compare_scores(trainer, qtbot):
    viewer, segment, train, models = trainer
    assert train.base_combo.currentData().endswith("nuclei2d")  # the default model, first
    choose_base(train, "nuclei2d")
    assert train.name_edit.text() == "nuclei2d-finetuned"
    assert train.lr_spin.value() == pytest.approx(3e-4)
    train.epochs_spin.setValue(2)
    train.steps_spin.setValue(2)
    with qtbot.waitSignal(train.run_finished, timeout=300_000):
        assert train.start()
        assert not train.train_button.isEnabled() and train.cancel_button.isEnabled()

    out = models / "nuclei2d-finetuned"
    card = json.loads((out / "card.json").read_text())
    assert (out / "model.safetensors").is_file()
    assert card["method"] == "embedding" and card["name"] == "nuclei2d-finetuned"
    command = card["training"]["command"]  # the layers, and the command for them as files
    assert command.startswith("napari Train widget on layers nuclei + corrected; "), command
    log = [json.loads(x) for x in (out / "train.log").read_text().splitlines()]
    assert [entry["epoch"] for entry in log] == [0, 1, 2]  # the base is scored first
    assert "Saved" in train.status_label.text()
    assert len(train._losses) == 4 and len(train._scores) == 3
    assert train.plot.series["loss"] == train._losses
    # the new model is in Segment's list at once, without a restart
    listed = [segment.model_combo.itemData(i) for i in range(segment.model_combo.count())]
    assert str(out.resolve()) in listed
    assert train.train_button.isEnabled() and train.compare_button.isEnabled()

    viewer.layers["nuclei"].units = ("µm", "µm")  # the compared labels take them too
    with qtbot.waitSignal(train.compare_finished, timeout=300_000):
        assert train.compare()
    assert set(train.comparison) == {"nuclei2d", "nuclei2d-finetuned"}
    assert {str(u) for u in viewer.layers["nuclei by nuclei2d"].units} == {"micrometer"}
    from tessella.engine.evaluation import score_pairs

    for name, scores in train.comparison.items():
        layer = viewer.layers[f"nuclei by {name}"]
        assert scores == score_pairs([(viewer.layers["corrected"].data, layer.data)])
    assert "nuclei2d-finetuned: AP(0.5)" in train.status_label.text()

    # within a drawn region only, placed where it was cut from
    train.draw_region()
    region = viewer.layers[REGION_LAYER]
    assert region.mode == "add_rectangle"
    region.add_rectangles(np.array([[100, 60], [300, 260]]))  # world = data: unscaled sample
    with qtbot.waitSignal(train.compare_finished, timeout=300_000):
        assert train.compare()
    layer = viewer.layers["nuclei by nuclei2d-finetuned"]
    assert layer.data.shape == (200, 200)
    np.testing.assert_allclose(layer.translate, (100, 60))
    truth = viewer.layers["corrected"].data[100:300, 60:260]
    assert train.comparison["nuclei2d-finetuned"] == score_pairs([(truth, layer.data)])


def test_sparse_annotations_train_and_compare_on_the_annotated_part(trainer, qtbot):
    """A labels layer whose left half is painted with the 'Unannotated label' trains with that
    half left out, and Compare scores the annotated half only; a label nobody painted is
    refused before anything starts."""
    from tessella.engine.evaluation import score_pairs, without_ignored

    viewer, _segment, train, models = trainer
    sparse = np.asarray(viewer.layers["corrected"].data).astype(np.int32)
    sparse[:, :256] = 999
    train.pairs = []
    train.add_pair(viewer.layers["nuclei"], viewer.add_labels(sparse, name="half done"))
    choose_base(train, "nuclei2d")
    train.epochs_spin.setValue(1)
    train.steps_spin.setValue(1)
    assert train.ignore_spin.specialValueText() == "none" and train.ignore_spin.value() == 0
    train.ignore_spin.setValue(60000)
    assert not train.start()
    assert "ignore label 60000: no pixel" in train.status_label.text()
    assert train._run is None and train.train_button.isEnabled()

    train.ignore_spin.setValue(999)
    with qtbot.waitSignal(train.run_finished, timeout=300_000):
        assert train.start()
        assert not train.ignore_spin.isEnabled()
    out = models / "nuclei2d-finetuned"
    card = json.loads((out / "card.json").read_text())
    assert card["training"]["config"]["ignore_label"] == 999
    assert train.ignore_spin.isEnabled()

    with qtbot.waitSignal(train.compare_finished, timeout=300_000):
        assert train.compare()
    unannotated = sparse == 999
    truth = np.where(unannotated, 0, sparse)
    for name, scores in train.comparison.items():
        found = viewer.layers[f"nuclei by {name}"].data
        assert scores == score_pairs([(truth, without_ignored(found, unannotated, truth))])
    # the bundled model is judged on the half that was annotated, not penalised for the rest
    assert train.comparison["nuclei2d"]["ap"]["0.5"] > 0.8
    assert score_pairs([(sparse, viewer.layers["nuclei by nuclei2d"].data)])["ap"]["0.5"] < 0.6


def test_cancel_keeps_the_best_model_or_nothing(trainer, qtbot):
    viewer, _segment, train, models = trainer
    choose_base(train, NEW + "embedding")
    assert train.name_edit.text() == "my-embedding"
    train.epochs_spin.setValue(50)
    train.steps_spin.setValue(2)
    # cancel after the first validation: the best model so far stays
    with qtbot.waitSignal(train.run_finished, timeout=300_000):
        train.start()
        qtbot.waitUntil(lambda: bool(train._scores), timeout=300_000)
        train.cancel_button.click()
    assert (models / "my-embedding" / "card.json").is_file()
    assert "Cancelled; kept the best model so far" in train.status_label.text()

    # cancel inside the first epoch: nothing is left behind
    train.name_edit.setText("too-early")
    train.steps_spin.setValue(500)
    with qtbot.waitSignal(train.run_finished, timeout=300_000):
        train.start()
        qtbot.waitUntil(lambda: bool(train._losses), timeout=300_000)
        train.cancel_button.click()
    assert not (models / "too-early").exists()
    assert "nothing saved" in train.status_label.text()
    assert train.train_button.isEnabled()
    # the cancelled run's generator was closed, not left suspended: its log is closed and the
    # engine's retained memory given back
    import inspect

    from tessella.engine.memory import retaining

    assert inspect.getgeneratorstate(train.worker._gen) == inspect.GEN_CLOSED
    assert not retaining()


def test_bad_requests_are_refused_by_name(trainer, qtbot):
    viewer, _segment, train, models = trainer
    small = viewer.add_labels(np.zeros((64, 64), np.uint16), name="wrong size")
    train.pairs = []
    train.add_pair(viewer.layers["nuclei"], small)
    assert not train.start()
    assert "labels 'wrong size' (64, 64) do not match image 'nuclei'" in (train.status_label.text())
    empty = viewer.add_labels(np.zeros((520, 512), np.uint16), name="empty")
    train.pairs = []
    train.add_pair(viewer.layers["nuclei"], empty)
    assert not train.start()
    assert "no objects" in train.status_label.text()
    # negative IDs and NaN pixels are refused before a run starts, naming the layer
    negative = np.asarray(viewer.layers["corrected"].data).astype(np.int32)
    negative[negative == 3] = -3
    train.pairs = []
    train.add_pair(viewer.layers["nuclei"], viewer.add_labels(negative, name="negative"))
    assert not train.start()
    assert "labels 'negative' hold negative values (down to -3)" in train.status_label.text()
    holes = np.asarray(viewer.layers["nuclei"].data).astype(np.float32)
    holes[10, 10] = np.nan
    train.pairs = []
    train.add_pair(viewer.add_image(holes, name="holes"), viewer.layers["corrected"])
    assert not train.start()
    assert "image 'holes': the image holds NaN or infinite values" in train.status_label.text()
    # a movie is for a time-lapse model, and says so
    movie = viewer.add_image(np.stack([viewer.layers["nuclei"].data] * 3), name="movie")
    movie.metadata["axes"] = "TYX"
    movie_labels = viewer.add_labels(np.stack([viewer.layers["corrected"].data] * 3))
    train.pairs = []
    train.add_pair(movie, movie_labels)
    assert not train.start()
    assert "a time-lapse model (cells2dt, or a new temporal model)" in train.status_label.text()
    assert not (models / "nuclei2d-finetuned").exists()
    (models / "taken").mkdir(parents=True)
    train.pairs = []
    train.add_pair(viewer.layers["nuclei"], viewer.layers["corrected"])
    train.name_edit.setText("taken")
    assert not train.start()
    assert "a model 'taken' exists" in train.status_label.text()
    assert train.train_button.isEnabled() and train._run is None


def test_trains_on_a_folder_of_files(trainer, qtbot, tmp_path, nuclei_sample):
    import tifffile

    viewer, _segment, train, models = trainer
    folder = tmp_path / "data"
    for sub in ("images", "masks"):
        (folder / sub).mkdir(parents=True)
    image, labels = nuclei_sample
    for i, rows in enumerate((slice(0, 256), slice(256, 512))):
        tifffile.imwrite(folder / "images" / f"{i}.tif", image[rows])
        tifffile.imwrite(folder / "masks" / f"{i}.tif", labels[rows])
    choose_base(train, NEW + "embedding")
    train.name_edit.setText("from-folder")
    train.folder_edit.setText(str(folder))
    train.epochs_spin.setValue(1)
    train.steps_spin.setValue(2)
    train.average_check.setChecked(True)  # a moving average of the weights is what is saved
    with qtbot.waitSignal(train.run_finished, timeout=300_000):
        assert train.start()
        assert not train.average_check.isEnabled()
    card = json.loads((models / "from-folder" / "card.json").read_text())
    command = card["training"]["command"]  # the command that runs the same way
    assert command.startswith("tessella train ") and f" --data {folder} " in command, command
    assert card["training"]["config"]["ema"] == pytest.approx(0.9)  # 2 steps: the shortest span
    import torch

    state = torch.load(models / "from-folder" / "checkpoint.pt", weights_only=True)
    assert int(state["averaged"]["n_averaged"]) == 2
    assert train.average_check.isEnabled()
    train.folder_edit.setText(str(tmp_path / "nowhere"))
    train.name_edit.setText("other")
    assert not train.start()
    assert "must hold images/ and masks/" in train.status_label.text()


def test_a_patch_bigger_than_the_layers_is_shown_as_a_warning(
    make_napari_viewer, nuclei_sample, tmp_path, monkeypatch, qtbot
):
    """The engine's warning that crops are padded (left out of the loss there) reaches the user from
    the training thread as a napari notification, and the run still completes."""
    import tessella._widgets.train as train_module

    monkeypatch.setenv("TESSELLA_MODELS", str(tmp_path / "models"))
    shown: list[str] = []
    monkeypatch.setattr(train_module, "show_warning", shown.append)
    viewer = make_napari_viewer()
    image, labels = nuclei_sample
    image_layer = viewer.add_image(image[:80, :120], name="small")
    labels_layer = viewer.add_labels(labels[:80, :120], name="small labels")
    _dock, train = viewer.window.add_plugin_dock_widget("tessella", "Train")
    train.add_pair(image_layer, labels_layer)
    train.patch_spin.setValue(96)
    train.device_combo.setCurrentText("cpu")
    choose_base(train, "nuclei2d")
    train.epochs_spin.setValue(1)
    train.steps_spin.setValue(1)
    with qtbot.waitSignal(train.run_finished, timeout=300_000):
        assert train.start()
    assert any("smaller than the patch 96x96" in text and "80x120" in text for text in shown)
    assert "Saved" in train.status_label.text()


def test_invert_box_follows_the_base_and_training_inverts_as_its_card_says(
    trainer, qtbot, monkeypatch
):
    """A base whose card inverts bright-background images checks the box; the layers are
    then normalised for training as the new card will have them normalised in use."""
    from tessella._widgets import _train_starting as starting_module  # start() runs its _train
    from tessella.engine.normalize import percentile_normalize
    from tessella.engine.registry import bundled_dir

    viewer, _segment, train, models = trainer
    for name, invert in (("dark-nuclei", True), ("plain-nuclei", False)):
        shutil.copytree(bundled_dir() / "nuclei2d", models / name)
        card = json.loads((models / name / "card.json").read_text())
        card["normalization"]["invert_bright_background"] = invert
        card["name"] = name
        (models / name / "card.json").write_text(json.dumps(card))
    train._fill_bases()
    choose_base(train, "plain-nuclei")
    assert not train.invert_check.isChecked()
    choose_base(train, "dark-nuclei")
    assert train.invert_check.isChecked()
    choose_base(train, NEW + "embedding")
    assert not train.invert_check.isChecked()
    choose_base(train, "dark-nuclei")

    image = viewer.layers["nuclei"].data
    bright = viewer.add_image(image.max() - image, name="brightfield")  # dark nuclei
    train.pairs = []
    train.add_pair(bright, viewer.layers["corrected"])
    train.epochs_spin.setValue(1)
    train.steps_spin.setValue(1)
    seen = []
    trained = starting_module._train

    def spy(config, samples, held):  # the hold-out is split before the worker starts
        seen.append(samples)
        return (yield from trained(config, samples, held))

    monkeypatch.setattr(starting_module, "_train", spy)
    with qtbot.waitSignal(train.run_finished, timeout=300_000):
        assert train.start()
        assert not train.invert_check.isEnabled()
    plain = percentile_normalize(np.asarray(bright.data, np.float32)[None])
    np.testing.assert_allclose(seen[0][0].image, 1 - plain, atol=1e-6)
    saved = json.loads((models / "dark-nuclei-finetuned" / "card.json").read_text())
    assert saved["normalization"]["invert_bright_background"] is True
    assert train.invert_check.isEnabled()


def test_one_decoder_box_merges_a_two_decoder_base_and_follows_the_base(trainer, qtbot):
    viewer, segment, train, models = trainer
    choose_base(train, NEW + "boundary")
    assert not train.one_decoder_check.isEnabled()  # one output branch already
    choose_base(train, "nuclei2d")  # one decoder since session 12: ticked, nothing to choose
    assert train.one_decoder_check.isChecked() and not train.one_decoder_check.isEnabled()
    choose_base(train, NEW + "embedding")
    assert train.one_decoder_check.isEnabled() and not train.one_decoder_check.isChecked()
    train.name_edit.setText("two")  # EmbedSeg's branched design: a decoder for the seeds
    train.epochs_spin.setValue(1)
    train.steps_spin.setValue(1)
    with qtbot.waitSignal(train.run_finished, timeout=300_000):
        assert train.start()
    assert json.loads((models / "two" / "card.json").read_text())["architecture"]["args"][
        "out_channels"
    ] == [4, 1]
    train._fill_bases()
    choose_base(train, "two")
    assert train.one_decoder_check.isEnabled() and not train.one_decoder_check.isChecked()
    train.one_decoder_check.setChecked(True)
    train.name_edit.setText("fast-nuclei")
    train.steps_spin.setValue(2)
    with qtbot.waitSignal(train.run_finished, timeout=300_000):
        assert train.start()
        assert not train.one_decoder_check.isEnabled()
    card = json.loads((models / "fast-nuclei" / "card.json").read_text())
    assert card["architecture"]["args"]["out_channels"] == [5]
    assert card["training"]["config"]["one_decoder"] is True
    assert card["training"]["config"]["distil"] == 10.0
    assert train.one_decoder_check.isEnabled()
    train._fill_bases()
    choose_base(train, "fast-nuclei")
    assert train.one_decoder_check.isChecked() and not train.one_decoder_check.isEnabled()
    from tessella.engine.registry import load_model

    assert len(load_model(str(models / "fast-nuclei")).network.decoders) == 1


def test_patches_models_train_on_labels_layers_and_sparse_mask_stacks(
    trainer, qtbot, tmp_path, data_dir
):
    """worms2d (the patches method, whose training targets are overlapping masks) fine-tunes
    on a labels layer, read as objects rather than as bit patterns, and on a folder of
    (N, H, W) mask stacks whose last plane marks the unannotated part. Epoch 0 scores the
    bundled model on the pair itself, so it must score as worms2d does on a well."""
    import tifffile

    viewer, _segment, train, models = trainer
    root = data_dir / "worms_bbbc010"
    image = tifffile.imread(root / "gfp" / "E03.tif")  # the brightfield images (README)
    worms = tifffile.imread(root / "worm_masks" / "E03.tif") > 0
    labels = np.zeros(worms.shape[1:], np.int32)
    for k, mask in enumerate(worms, 1):  # as a labels layer keeps them: overlaps flattened
        labels[mask] = k
    train.pairs = []
    train.add_pair(viewer.add_image(image, name="well"), viewer.add_labels(labels, name="worms"))
    choose_base(train, "worms2d")
    train.epochs_spin.setValue(1)
    train.steps_spin.setValue(1)
    with qtbot.waitSignal(train.run_finished, timeout=300_000):
        assert train.start()
    log = [json.loads(x) for x in (models / "worms2d-finetuned" / "train.log").open()]
    assert log[0]["val_avs"] > 0.6, log[0]

    folder = tmp_path / "worms"
    for sub in ("images", "masks"):
        (folder / sub).mkdir(parents=True)
    half = worms.shape[2] // 2
    kept = worms[[m[:, half:].sum() > m[:, :half].sum() for m in worms]]
    mark = np.zeros(worms.shape[1:], np.uint16)
    mark[:, :half] = 999
    mark[kept.any(axis=0)] = 0
    tifffile.imwrite(folder / "images" / "E03.tif", image)
    tifffile.imwrite(folder / "masks" / "E03.tif", np.concatenate([kept, mark[None]]))
    train.folder_edit.setText(str(folder))
    train.name_edit.setText("worms-sparse")
    train.ignore_spin.setValue(998)
    assert not train.start()
    assert "ignore label 998: no pixel" in train.status_label.text()
    train.ignore_spin.setValue(999)
    with qtbot.waitSignal(train.run_finished, timeout=300_000):
        assert train.start()
    card = json.loads((models / "worms-sparse" / "card.json").read_text())
    assert card["training"]["config"]["ignore_label"] == 999
    log = [json.loads(x) for x in (models / "worms-sparse" / "train.log").open()]
    assert log[0]["val_avs"] > 0.6, log[0]


def test_closing_the_panel_stops_training(trainer, qtbot):
    """The panel's "x" mid-run stops training as Cancel does (the best model so far is kept)
    rather than leaving it running unseen."""
    viewer, _segment, train, models = trainer
    choose_base(train, NEW + "embedding")
    train.epochs_spin.setValue(50)
    train.steps_spin.setValue(2)
    with qtbot.waitSignal(train.run_finished, timeout=300_000):
        train.start()
        qtbot.waitUntil(lambda: bool(train._scores), timeout=300_000)
        viewer.window.remove_dock_widget(train)
    assert train.worker.abort_requested and len(train._scores) < 50
    assert (models / "my-embedding" / "card.json").is_file()
    assert train._run is None


def test_a_failed_compare_says_why(trainer, qtbot, tmp_path):
    """Compare whose model cannot run (here a model folder deleted since training) shows the
    reason in the status line, after the scores it did get, and stays usable."""
    _viewer, _segment, train, _models = trainer
    gone = tmp_path / "deleted-model"
    train.last_model, train.last_base = gone, "nuclei2d"
    with qtbot.waitSignal(train.compare_finished, timeout=300_000):
        assert train.compare()
    text = train.status_label.text()
    assert text.startswith("Against 'corrected' on 'nuclei': nuclei2d: AP(0.5)")
    assert "Compare failed:" in text and "deleted-model" in text
    assert train.compare_button.isEnabled()


def test_plot_ticks_are_round_and_never_minus_zero():
    from tessella._widgets._plot import _ticks

    assert _ticks(-0.5, 10) == [0.0, 2.5, 5.0, 7.5, 10.0]
    assert [f"{v:g}" for v in _ticks(-0.3, 10)][0] == "0"
    assert _ticks(3, 3) == [3]


def test_a_fine_tune_that_beats_nothing_says_the_base_was_kept(trainer, qtbot, monkeypatch):
    """When no epoch beats the base on the validation pairs, the saved model is the base's
    weights, and the status says so rather than announcing a trained model."""
    import tessella.engine.train.loop as loop

    scores = iter([0.9, 0.4, 0.5])
    monkeypatch.setattr(loop, "_validate", lambda *args, **kwargs: next(scores))
    _viewer, _segment, train, models = trainer
    choose_base(train, "nuclei2d")
    train.epochs_spin.setValue(2)
    train.steps_spin.setValue(1)
    with qtbot.waitSignal(train.run_finished, timeout=300_000):
        assert train.start()
    text = train.status_label.text()
    assert "no epoch beat the base model's validation score 0.900" in text
    base = json.loads((train.last_model / "card.json").read_text())
    from tessella.engine.registry import load_model

    assert base["sha256"] == load_model("nuclei2d").card.sha256


def test_cancel_or_close_after_an_epoch_that_beat_nothing_keeps_the_base(
    trainer, qtbot, monkeypatch
):
    """A fine-tune cancelled (or its panel closed) once an epoch has been scored, none beating
    the base: the base's weights are kept as a model, as a finished run keeps them, and the
    status says so (not "nothing saved")."""
    import tessella.engine.train.loop as loop
    from tessella.engine.registry import load_model

    scores = iter(())
    monkeypatch.setattr(loop, "_validate", lambda *args, **kwargs: next(scores))
    viewer, _segment, train, models = trainer
    choose_base(train, "nuclei2d")
    train.epochs_spin.setValue(50)
    train.steps_spin.setValue(1)
    base_sha = load_model("nuclei2d").card.sha256
    for name, stop in (("cancelled", train.cancel_button.click), ("closed", None)):
        scores = iter([0.9] + [0.1] * 60)  # the base, then every epoch worse
        train.name_edit.setText(name)
        with qtbot.waitSignal(train.run_finished, timeout=300_000):
            assert train.start()
            qtbot.waitUntil(lambda: len(train._scores) >= 2, timeout=300_000)
            if stop is not None:
                stop()
            else:
                viewer.window.remove_dock_widget(train)
        assert len(train._scores) < 50
        card = json.loads((models / name / "card.json").read_text())
        assert card["sha256"] == base_sha
        text = train.status_label.text()
        assert "Cancelled; kept the best model so far" in text, text
        assert "no epoch beat the base model's validation score 0.900" in text, text
        assert train.last_model == models / name


def test_time_lapse_models_train_on_movie_layers(trainer, qtbot):
    """cells2dt (and a new temporal model) train on a TYX movie and its labels as `tessella
    train temporal` does on a folder of TYX stacks; a stack without axes metadata is taken
    for a movie (as Segment takes it for such a model), a 2D image for a one-frame movie."""
    from tessella._widgets.train import layer_samples
    from tests.conftest import cell_movie

    viewer, _segment, train, models = trainer
    image, labels, _tracks = cell_movie(frames=6, shape=(96, 96))
    movie = viewer.add_image(image, name="movie", metadata={"axes": "TYX"})
    movie_labels = viewer.add_labels(labels, name="movie labels")
    train.pairs = []
    train.add_pair(movie, movie_labels)
    choose_base(train, "cells2dt")
    train.epochs_spin.setValue(1)
    train.steps_spin.setValue(1)
    train.patch_spin.setValue(64)
    with qtbot.waitSignal(train.run_finished, timeout=300_000):
        assert train.start()
    assert "Saved" in train.status_label.text(), train.status_label.text()
    card = json.loads((models / "cells2dt-finetuned" / "card.json").read_text())
    assert card["method"] == "temporal" and card["input"]["window"] == 3

    # what the engine's folder reader makes of the same movie: a window of 3 per frame
    samples = layer_samples([(movie, movie_labels)], 2, None, window=3)
    assert [s.image.shape for s in samples] == [(3, 96, 96)] * 6
    np.testing.assert_array_equal(samples[2].labels, labels[2])
    plain = viewer.add_image(image, name="no axes")  # a ZYX guess: a movie for this model
    assert len(layer_samples([(plain, movie_labels)], 2, None, window=3)) == 6
    from tessella._widgets.train import training_axes

    named = viewer.add_image(image, name="volume", metadata={"axes": "ZYX"})
    assert training_axes(named, True) == "ZYX"  # named a volume: one, as Segment takes it
    frame = viewer.add_image(image[0], name="frame")
    (one,) = layer_samples([(frame, viewer.add_labels(labels[0]))], 2, None, window=3)
    assert one.image.shape == (3, 96, 96)
    with pytest.raises(ValueError, match="do not match"):
        layer_samples([(frame, movie_labels)], 2, None, window=3)

    # Compare scores a movie frame by frame (a track is not one object)
    with qtbot.waitSignal(train.compare_finished, timeout=300_000):
        assert train.compare()
    assert set(train.comparison) == {"cells2dt", "cells2dt-finetuned"}
    assert all(scores["n_images"] == 6 for scores in train.comparison.values())


def test_a_plain_stack_opened_by_the_reader_trains_a_time_lapse_model_as_frames(
    make_napari_viewer, tmp_path
):
    """A 3D TIFF that names no axes, opened with Tessella's reader (which guesses ZYX and
    says it guessed), is a movie (TYX) for a time-lapse model, as Segment takes it; a TIFF
    that names its axes ZYX stays a volume."""
    import tifffile

    from tessella._widgets.train import layer_samples, training_axes
    from tests.conftest import cell_movie

    image, labels, _tracks = cell_movie(frames=6, shape=(96, 96))
    tifffile.imwrite(tmp_path / "movie.tif", image)  # no axes in the file
    tifffile.imwrite(tmp_path / "volume.tif", image, imagej=True, metadata={"axes": "ZYX"})
    viewer = make_napari_viewer()
    [movie] = viewer.open(str(tmp_path / "movie.tif"), plugin="tessella")
    [volume] = viewer.open(str(tmp_path / "volume.tif"), plugin="tessella")
    assert movie.metadata.get("axes") == "ZYX"  # the reader's guess, said to be one
    movie_labels = viewer.add_labels(labels, name="movie labels")

    assert training_axes(movie, True) == "TYX"
    assert training_axes(movie, False) == "ZYX"  # a 3D model: the guess stands
    assert training_axes(volume, True) == "ZYX"  # named a volume: one
    samples = layer_samples([(movie, movie_labels)], 2, None, window=3)
    assert [s.image.shape for s in samples] == [(3, 96, 96)] * 6
    np.testing.assert_array_equal(samples[2].labels, labels[2])
