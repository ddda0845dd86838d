"""The Evaluate dock widget: layer lists, numbers equal ``tessella evaluate``, the error layer,
shape mismatches, 3D, and scoring in a thread worker."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from napari.layers import Labels

from tessella._widgets import _evaluate_run
from tessella._widgets.evaluate import ERRORS_KEY, EvaluateWidget
from tessella.cli import evaluate_paths
from tests.engine.test_evaluation import perturb
from tests.widgets.helpers import said

THRESHOLDS = ("0.5", "0.6", "0.7", "0.8", "0.9")
#: what the panel reports: AP and foreground IoU (`tessella evaluate --metric ap --metric iou`)
PANEL_METRICS = ("ap", "iou")


def combo_items(combo) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def choose(combo, name: str) -> None:
    index = combo.findText(name)
    assert index >= 0, name
    combo.setCurrentIndex(index)


def cli_scores(tmp_path, truth: np.ndarray, prediction: np.ndarray) -> dict:
    """What ``tessella evaluate PRED GT --metric ap --metric iou`` reports for the arrays
    written as TIFFs."""
    tifffile.imwrite(tmp_path / "pred.tif", prediction, photometric="minisblack")
    tifffile.imwrite(tmp_path / "gt.tif", truth, photometric="minisblack")
    scores = evaluate_paths(str(tmp_path / "pred.tif"), str(tmp_path / "gt.tif"), PANEL_METRICS)
    for key in ("scored_as", "volumes"):  # (the command's words on a 3D pair scored whole)
        scores.pop(key, None)
    return scores


def error_layers(viewer) -> list[Labels]:
    return [layer for layer in viewer.layers if ERRORS_KEY in layer.metadata]


def table_text(table) -> list[list[str]]:
    return [
        [table.item(r, c).text() if table.item(r, c) else "" for c in range(table.columnCount())]
        for r in range(table.rowCount())
    ]


@pytest.fixture(scope="module")
def nuclei_pair(nuclei_sample):
    truth = nuclei_sample[1]
    return truth, perturb(truth)


@pytest.fixture
def evaluate_widget(make_napari_viewer, nuclei_pair):
    """A viewer with the nuclei ground truth and a perturbed prediction, and the Evaluate
    widget docked through the manifest."""
    truth, expected = nuclei_pair
    viewer = make_napari_viewer()
    placed = {"scale": (0.5, 0.5), "translate": (3, 4)}  # the same for both: no warning
    viewer.add_labels(truth, name="nuclei ground truth", **placed)
    viewer.add_labels(expected.prediction, name="prediction", **placed)
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    return viewer, widget


@pytest.fixture
def shown_errors(monkeypatch) -> list[str]:
    return said(monkeypatch, _evaluate_run)


def test_docks_and_lists_only_labels_layers(make_napari_viewer):
    viewer = make_napari_viewer()
    viewer.add_image(np.zeros((8, 8), np.float32), name="image")
    viewer.add_labels(np.zeros((8, 8), np.uint8), name="nuclei ground truth")
    viewer.add_labels(np.zeros((8, 8), np.uint16), name="segmentation")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    assert isinstance(widget, EvaluateWidget)
    assert combo_items(widget.pred_combo) == ["nuclei ground truth", "segmentation"]
    assert combo_items(widget.truth_combo) == ["nuclei ground truth", "segmentation"]
    # the active layer is the prediction; the truth is another layer, not the same one
    assert widget.pred_combo.currentText() == "segmentation"
    assert widget.truth_combo.currentText() == "nuclei ground truth"

    viewer.add_points(np.zeros((1, 2)), name="points")
    viewer.add_image(np.zeros((8, 8), np.uint16), name="integer image")
    assert combo_items(widget.pred_combo) == ["nuclei ground truth", "segmentation"]

    viewer.layers["segmentation"].name = "renamed"
    assert combo_items(widget.pred_combo) == ["nuclei ground truth", "renamed"]
    assert widget.pred_combo.currentText() == "renamed"  # a rename keeps the choice
    viewer.layers.remove("renamed")
    assert combo_items(widget.truth_combo) == ["nuclei ground truth"]
    assert widget.prediction_layer is widget.truth_layer is viewer.layers["nuclei ground truth"]
    viewer.layers.remove("nuclei ground truth")
    assert widget.prediction_layer is None and widget.truth_layer is None
    widget.evaluate_button.click()  # nothing to score: a message, no error
    assert widget.last_scores is None


def test_numbers_equal_tessella_evaluate(evaluate_widget, nuclei_pair, tmp_path):
    viewer, widget = evaluate_widget
    truth, expected = nuclei_pair
    assert widget.pred_combo.currentText() == "prediction"
    assert widget.truth_combo.currentText() == "nuclei ground truth"

    widget.evaluate_button.click()

    reference = cli_scores(tmp_path, truth, expected.prediction)
    assert widget.last_scores == reference
    rows = table_text(widget.scores_table)
    for row, key in enumerate(("ap", "precision", "recall", "f1")):
        assert rows[row] == [f"{reference[key][t]:.3f}" for t in THRESHOLDS]
    assert rows[4][0] == f"{reference['avs']:.3f}"
    n_true = np.unique(truth).size - 1
    counts = [expected.n_pred, n_true, expected.tp, expected.fp, expected.fn]
    assert table_text(widget.counts_table) == [[str(n) for n in counts]]
    assert widget.plot.points == [(float(t), reference["ap"][t]) for t in THRESHOLDS]
    assert error_layers(viewer) == []  # "Show errors" is off
    assert widget.evaluate_button.isEnabled()


def test_error_layer_shows_the_expected_errors_and_is_replaced(evaluate_widget, nuclei_pair):
    viewer, widget = evaluate_widget
    truth, expected = nuclei_pair
    widget.errors_checkbox.setChecked(True)

    widget.evaluate_button.click()

    [layer] = error_layers(viewer)
    assert layer.name == "prediction errors @0.5"
    np.testing.assert_array_equal(layer.data, expected.errors)
    np.testing.assert_allclose(layer.scale, (0.5, 0.5))
    np.testing.assert_allclose(layer.translate, (3, 4))
    false_positive, false_negative = (layer.colormap.map(np.array([v]))[0] for v in (1, 2))
    assert false_positive[0] > 0.8 > false_positive[2]  # red
    assert false_negative[0] < 0.2 < 0.8 < false_negative[2]  # cyan
    assert layer.colormap.map(np.array([0]))[0][3] == 0  # background transparent
    # error layers are not offered for scoring
    assert "prediction errors @0.5" not in combo_items(widget.pred_combo)

    widget.evaluate_button.click()  # again: the same layer
    assert error_layers(viewer) == [layer]
    widget.threshold_spin.setValue(0.7)
    widget.evaluate_button.click()  # another threshold: the same layer, renamed
    assert error_layers(viewer) == [layer]
    assert layer.name == "prediction errors @0.7"
    assert (layer.data > 0).sum() > (expected.errors > 0).sum()
    assert table_text(widget.counts_table)[0][2] == str(widget.last_evaluation.tp)
    assert widget.last_evaluation.fp + widget.last_evaluation.tp == expected.n_pred

    widget.errors_checkbox.setChecked(False)  # hides, never deletes
    assert error_layers(viewer) == [layer] and not layer.visible
    widget.errors_checkbox.setChecked(True)
    assert error_layers(viewer) == [layer] and layer.visible

    viewer.layers.remove(layer)  # a removed error layer is made again
    widget.evaluate_button.click()
    assert [e.name for e in error_layers(viewer)] == ["prediction errors @0.7"]


def test_shape_mismatch_names_both_layers_and_changes_nothing(
    evaluate_widget, nuclei_pair, shown_errors
):
    viewer, widget = evaluate_widget
    widget.errors_checkbox.setChecked(True)
    widget.evaluate_button.click()
    scores, tables = widget.last_scores, table_text(widget.scores_table)
    layers = list(viewer.layers)
    viewer.add_labels(np.zeros((256, 256), np.uint16), name="crop")
    layers.append(viewer.layers["crop"])
    choose(widget.pred_combo, "crop")

    widget.evaluate_button.click()

    [message] = shown_errors
    assert "'crop'" in message and "(256, 256)" in message
    assert "'nuclei ground truth'" in message and "(520, 512)" in message
    assert widget.last_scores is scores
    assert table_text(widget.scores_table) == tables
    assert list(viewer.layers) == layers
    assert widget.evaluate_button.isEnabled() and widget.pred_combo.isEnabled()

    choose(widget.pred_combo, "prediction")  # still usable
    widget.evaluate_button.click()
    assert widget.last_scores == scores
    assert len(shown_errors) == 1


def test_3d_pair(make_napari_viewer, nuclei_pair, tmp_path):
    truth, expected = nuclei_pair
    truth_3d = np.stack([truth[:200, :240]] * 3)
    pred_3d = np.stack([expected.prediction[:200, :240]] * 3)
    pred_3d[1, 50:60] = 0  # the planes differ
    viewer = make_napari_viewer()
    viewer.add_labels(truth_3d, name="gt", scale=(2, 1, 1))
    viewer.add_labels(pred_3d, name="pred", scale=(2, 1, 1))
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    widget.errors_checkbox.setChecked(True)
    assert (widget.pred_combo.currentText(), widget.truth_combo.currentText()) == ("pred", "gt")

    widget.evaluate_button.click()

    assert widget.last_scores == cli_scores(tmp_path, truth_3d, pred_3d)
    [layer] = error_layers(viewer)
    assert layer.data.shape == truth_3d.shape
    np.testing.assert_allclose(layer.scale, (2, 1, 1))
    false_negatives = np.unique(truth_3d[layer.data == 2])
    assert false_negatives.size == widget.last_evaluation.fn


def test_large_pairs_are_scored_in_a_worker(evaluate_widget, qtbot, monkeypatch, tmp_path):
    viewer, widget = evaluate_widget
    widget.evaluate_button.click()
    synchronous = widget.last_scores
    widget.last_scores = None
    monkeypatch.setattr(_evaluate_run, "SYNC_MAX_PIXELS", 0)
    widget.errors_checkbox.setChecked(True)

    with qtbot.waitSignal(widget.evaluation_finished, timeout=30_000):
        widget.evaluate_button.click()
        assert widget.worker is not None and not widget.evaluate_button.isEnabled()

    assert widget.last_scores == synchronous
    assert widget.worker is None and widget.evaluate_button.isEnabled()
    assert len(error_layers(viewer)) == 1


def test_worker_failure_is_reported(evaluate_widget, qtbot, monkeypatch, shown_errors):
    viewer, widget = evaluate_widget
    monkeypatch.setattr(_evaluate_run, "SYNC_MAX_PIXELS", 0)

    def out_of_memory(*args, **kwargs):
        raise RuntimeError("out of memory")

    from tessella.engine import evaluation

    monkeypatch.setattr(evaluation, "evaluate_labels_steps", out_of_memory)
    with qtbot.waitSignal(widget.evaluation_finished, timeout=30_000):
        widget.evaluate_button.click()

    [message] = shown_errors
    assert "out of memory" in message and "'prediction'" in message
    assert widget.last_scores is None and widget.evaluate_button.isEnabled()


def test_time_lapse_is_scored_frame_by_frame_like_a_folder(
    make_napari_viewer, nuclei_pair, tmp_path
):
    truth, expected = nuclei_pair
    frames_true = [truth[:256, :256], truth[256:512, 256:512]]
    frames_pred = [expected.prediction[:256, :256], expected.prediction[256:512, 256:512]]
    # untracked per-frame labels reuse IDs: as one volume the frames would be one object each
    frames_pred[1] = np.where(frames_pred[1] > 0, frames_pred[1] % 50 + 1, 0)
    viewer = make_napari_viewer()
    viewer.add_labels(np.stack(frames_true), name="gt", metadata={"axes": "TYX"})
    recipe = {"tessella_recipe": {"axes": "TYX"}}
    viewer.add_labels(np.stack(frames_pred), name="pred", metadata=recipe)
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    widget.errors_checkbox.setChecked(True)
    widget.evaluate_button.click()

    folder_pred, folder_gt = tmp_path / "pred", tmp_path / "gt"
    folder_pred.mkdir(), folder_gt.mkdir()
    for t, (p, g) in enumerate(zip(frames_pred, frames_true)):
        tifffile.imwrite(folder_pred / f"{t}.tif", p, photometric="minisblack")
        tifffile.imwrite(folder_gt / f"{t}.tif", g, photometric="minisblack")
    assert widget.last_scores == evaluate_paths(str(folder_pred), str(folder_gt), PANEL_METRICS)
    [layer] = error_layers(viewer)
    assert layer.data.shape == (2, 256, 256)
    n_true = sum(len(np.unique(f[f > 0])) for f in frames_true)
    assert widget.last_evaluation.n_true == n_true


def test_sparse_ground_truth_is_scored_on_its_annotated_part(
    evaluate_widget, nuclei_pair, tmp_path, shown_errors, monkeypatch
):
    """With an 'Unannotated label', the numbers are `tessella evaluate --ignore-label`'s and
    the error layer shows nothing where nothing was annotated; a label no pixel has is a
    one-line error and the widget stays usable."""
    viewer, widget = evaluate_widget
    truth, expected = nuclei_pair
    sparse = truth.astype(np.int32)
    sparse[:, :256] = 999
    placed = {"scale": (0.5, 0.5), "translate": (3, 4)}  # where the prediction lies
    viewer.add_labels(sparse, name="half annotated", **placed)
    choose(widget.truth_combo, "half annotated")
    choose(widget.pred_combo, "prediction")
    widget.ignore_spin.setValue(60000)
    widget.evaluate_button.click()
    [message] = shown_errors
    assert "unannotated label 60000: no ground-truth pixel has it" in message
    assert widget.last_scores is None and widget.evaluate_button.isEnabled()

    widget.ignore_spin.setValue(999)
    widget.errors_checkbox.setChecked(True)
    widget.evaluate_button.click()
    tifffile.imwrite(tmp_path / "pred.tif", expected.prediction, photometric="minisblack")
    tifffile.imwrite(tmp_path / "gt.tif", sparse, photometric="minisblack")
    reference = evaluate_paths(
        str(tmp_path / "pred.tif"), str(tmp_path / "gt.tif"), PANEL_METRICS, ignore_label=999
    )
    assert widget.last_scores == reference
    assert reference != cli_scores(tmp_path, sparse, expected.prediction)  # not the naive scores
    [errors] = error_layers(viewer)
    assert not errors.data[:, :256].any() and errors.data[:, 256:].any()

    warned: list[str] = []  # a label among the object IDs may be an object's: said
    monkeypatch.setattr(_evaluate_run, "show_warning", warned.append)
    among = truth.astype(np.int32)
    among[:, :256] = 2
    viewer.add_labels(among, name="marked with 2", **placed)
    choose(widget.truth_combo, "marked with 2")
    widget.ignore_spin.setValue(2)
    widget.evaluate_button.click()
    assert len(warned) == 1 and "unannotated label 2 is among its object IDs" in warned[0]


@pytest.mark.parametrize("first", ["nuc labels", "nuc ground truth"])
def test_a_layer_is_never_scored_against_itself(
    make_napari_viewer, nuclei_pair, shown_errors, first
):
    """With one labels layer open both sides show it; the next labels layer added (a
    segmentation after its ground truth, or the other way round) takes the other side, and
    scoring one layer against itself is refused rather than reported as perfect."""
    truth, expected = nuclei_pair
    data = {"nuc labels": expected.prediction, "nuc ground truth": truth}
    viewer = make_napari_viewer()
    viewer.add_labels(data[first], name=first)
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    assert widget.prediction_layer is widget.truth_layer
    widget.evaluate_button.click()
    assert widget.last_scores is None
    assert "is both the prediction and the ground truth" in shown_errors[-1]
    assert widget.evaluate_button.isEnabled()

    (second,) = set(data) - {first}
    viewer.add_labels(data[second], name=second)
    assert widget.pred_combo.currentText() == "nuc labels"
    assert widget.truth_combo.currentText() == "nuc ground truth"
    widget.evaluate_button.click()
    assert widget.last_scores is not None and widget.last_scores["avs"] < 1.0


def test_inputs_that_are_no_labels_are_warned_about(
    make_napari_viewer, data_dir, monkeypatch, qtbot
):
    """As `tessella evaluate` warns: an ISBI membrane map taken as instances (its membrane
    one object) and the raw EM image as the prediction, each named in a napari warning and in
    the status, the warning naming the panel's choice; a real prediction against its ground
    truth gives none. The membrane map is taken as a boundary map by default."""
    from scipy import ndimage

    warned: list[str] = []
    monkeypatch.setattr(_evaluate_run, "show_warning", warned.append)
    isbi = data_dir / "em_membranes_isbi2012"
    membranes = tifffile.imread(isbi / "boundaries" / "16.tif")
    cells = ndimage.label(membranes == 0)[0]
    viewer = make_napari_viewer()
    viewer.add_labels(membranes, name="membranes ground truth")
    viewer.add_labels(cells, name="cells")
    widget = EvaluateWidget(viewer)
    viewer.window.add_dock_widget(widget, name="Evaluate")
    choose(widget.pred_combo, "cells")
    choose(widget.truth_combo, "membranes ground truth")
    assert widget.truth_kind == "boundaries"  # guessed from the data, and said
    assert "in thin lines between regions: a membrane map" in widget.kind_label.text()
    widget.evaluate_button.click()
    assert widget.last_scores["ap"]["0.5"] == 1.0 and warned == []
    choose(widget.kind_combo, "instances (labels)")
    widget.evaluate_button.click()
    assert widget.last_scores["ap"]["0.5"] == 0.0
    [note] = warned
    assert note.startswith(
        "Evaluate: ground truth 'membranes ground truth': holds only 0 and 1, like a membrane map"
    )
    assert "choose Ground truth is: boundary map to score the regions between" in note
    assert note.removeprefix("Evaluate: ") in widget.status_label.text()

    warned.clear()
    viewer.add_labels(tifffile.imread(isbi / "images" / "16.tif"), name="EM image")
    viewer.add_labels(cells, name="cells truth")
    choose(widget.pred_combo, "EM image")
    choose(widget.truth_combo, "cells truth")
    widget.evaluate_button.click()
    [note] = warned
    assert note.startswith("Evaluate: prediction 'EM image': looks like an image, not labels")

    warned.clear()
    choose(widget.pred_combo, "cells")
    widget.evaluate_button.click()
    assert widget.last_scores["avs"] == 1.0 and warned == []
    assert "Warning" not in widget.status_label.text()


def test_layers_placed_differently_on_the_canvas_are_warned_about(
    make_napari_viewer, nuclei_pair, monkeypatch
):
    """Ground truth at scale 2 and a prediction at scale 1, of one shape: scored pixel by
    pixel as before, with a warning naming both layers and their scales and translates."""
    truth, expected = nuclei_pair
    warned: list[str] = []
    monkeypatch.setattr(_evaluate_run, "show_warning", warned.append)
    viewer = make_napari_viewer()
    viewer.add_labels(truth, name="GT", scale=(2, 2))
    viewer.add_labels(expected.prediction, name="pred", translate=(0, 5.5))
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    widget.evaluate_button.click()

    note = (
        "prediction 'pred' has scale (1, 1), translate (0, 5.5) but ground truth 'GT' has "
        "scale (2, 2), translate (0, 0): the scores compare their pixels one to one, not what "
        "the canvas shows"
    )
    assert warned == [f"Evaluate: {note}"]
    assert widget.status_label.text().endswith(f"\nWarning: {note}")
    assert widget.last_evaluation.tp == expected.tp  # the scores themselves are unchanged


@pytest.mark.parametrize(
    ("placed", "pred_words", "truth_words"),
    [
        ({"rotate": 30}, "rotate 30°", "rotate 0°"),
        ({"shear": [0.25]}, "shear (0.25)", "shear (0)"),
        (
            {"affine": [[0, -1, 300], [1, 0, 5.5], [0, 0, 1]]},
            "affine [[0, -1, 300], [1, 0, 5.5]]",
            "affine [[1, 0, 0], [0, 1, 0]]",
        ),
    ],
    ids=["rotate", "shear", "affine"],
)
def test_layers_rotated_sheared_or_moved_by_an_affine_are_warned_about(
    make_napari_viewer, nuclei_pair, monkeypatch, placed, pred_words, truth_words
):
    """The whole world transform is compared, not only scale and translate (the old panel
    scored a rotated, sheared or affine-moved prediction without a word): the warning names
    the layers, the part that differs and both values; the errors layer lies where its
    prediction does. The same placement, up to rounding, is not warned about."""
    truth, expected = nuclei_pair
    warned: list[str] = []
    monkeypatch.setattr(_evaluate_run, "show_warning", warned.append)
    viewer = make_napari_viewer()
    truth_layer = viewer.add_labels(truth, name="GT")
    pred_layer = viewer.add_labels(expected.prediction, name="pred", **placed)
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    widget.errors_checkbox.setChecked(True)
    widget.evaluate_button.click()

    note = (
        f"prediction 'pred' has {pred_words} but ground truth 'GT' has {truth_words}: the "
        "scores compare their pixels one to one, not what the canvas shows"
    )
    assert warned == [f"Evaluate: {note}"]
    assert widget.status_label.text().endswith(f"\nWarning: {note}")
    assert widget.last_evaluation.tp == expected.tp  # the scores themselves are unchanged
    [errors] = error_layers(viewer)
    for part in ("scale", "translate", "rotate", "shear"):
        np.testing.assert_allclose(getattr(errors, part), getattr(pred_layer, part))
    np.testing.assert_allclose(errors.affine.affine_matrix, pred_layer.affine.affine_matrix)

    warned.clear()
    for part, value in placed.items():  # the truth placed alike, but for float rounding
        setattr(truth_layer, part, np.asarray(value, float) + 1e-9)
    widget.evaluate_button.click()
    assert warned == []
    assert "Warning" not in widget.status_label.text()


@pytest.mark.parametrize(
    ("pred_placed", "truth_placed", "moved_note"),
    [
        (
            {"scale": (2, 2)},
            {"affine": np.diag([2.0, 2.0, 1.0])},
            "prediction 'pred' has scale (2, 2), translate (0, 0), affine [[1, 0, 0], "
            "[0, 1, 0]] but ground truth 'GT' has scale (1, 1), translate (0, 0.5), affine "
            "[[2, 0, 0], [0, 2, 0]]",
        ),
        (
            {"rotate": 90, "translate": (300, 5.5)},
            {"affine": [[0, -1, 300], [1, 0, 5.5], [0, 0, 1]]},
            "prediction 'pred' has translate (300, 5.5), rotate 90°, affine [[1, 0, 0], "
            "[0, 1, 0]] but ground truth 'GT' has translate (0, 0.5), rotate 0°, affine "
            "[[0, -1, 300], [1, 0, 5.5]]",
        ),
    ],
    ids=["scale-as-affine", "rotate-as-affine"],
)
def test_layers_placed_alike_by_other_parts_of_their_transform_are_not_warned_about(
    make_napari_viewer, nuclei_pair, monkeypatch, pred_placed, truth_placed, moved_note
):
    """A prediction scaled (or rotated and moved) by its scale, rotate and translate, and a
    ground truth by an affine that composes to the same world transform, lie exactly on each
    other: no warning (every differing part was warned about, with "not what the canvas
    shows"). Once the ground truth is moved by half a pixel they differ, and the warning
    names the parts that differ, as for any other placement (not scale (1, 1) on both)."""
    truth, expected = nuclei_pair
    warned: list[str] = []
    monkeypatch.setattr(_evaluate_run, "show_warning", warned.append)
    viewer = make_napari_viewer()
    truth_layer = viewer.add_labels(truth, name="GT", **truth_placed)
    pred_layer = viewer.add_labels(expected.prediction, name="pred", **pred_placed)
    np.testing.assert_allclose(  # (what napari draws them with)
        pred_layer._data_to_world.affine_matrix,
        truth_layer._data_to_world.affine_matrix,
        atol=1e-12,
    )
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    widget.evaluate_button.click()
    assert warned == []
    assert "Warning" not in widget.status_label.text()
    assert widget.last_evaluation.tp == expected.tp

    truth_layer.translate = (0, 0.5)  # half a pixel to the right (in its world units)
    widget.evaluate_button.click()
    assert warned == [
        f"Evaluate: {moved_note}: the scores compare their pixels one to one, not what the "
        "canvas shows"
    ]


def test_a_placement_that_differs_names_only_the_parts_that_differ():
    """Scale (2, 2) against an affine of diag(2, 2) moved by 3 in x: the composed transforms
    differ (by the move), and the warning names scale and affine with both layers' values;
    the translate, (0, 0) on both, is left out. So with scale 2 and a rotation of 10° against
    neither (acceptance 4, finding 9: "translate (0, 0)" on both sides was noise)."""
    from tessella._widgets._placement import placement_note

    labels = np.zeros((8, 8), np.uint16)
    pred = Labels(labels, name="pred", scale=(2, 2))
    truth = Labels(labels, name="GT", affine=[[2, 0, 0], [0, 2, 3], [0, 0, 1]])
    assert placement_note(pred, truth) == (
        "prediction 'pred' has scale (2, 2), affine [[1, 0, 0], [0, 1, 0]] but ground truth "
        "'GT' has scale (1, 1), affine [[2, 0, 0], [0, 2, 3]]: the scores compare their "
        "pixels one to one, not what the canvas shows"
    )
    assert placement_note(pred, Labels(labels, name="GT", affine=np.diag([2, 2, 1]))) == ""
    rotated = Labels(labels, name="pred", scale=(2, 2), rotate=10)
    assert placement_note(rotated, Labels(labels, name="GT")) == (
        "prediction 'pred' has scale (2, 2), rotate 10° but ground truth 'GT' has scale (1, 1), "
        "rotate 0°: the scores compare their pixels one to one, not what the canvas shows"
    )


@pytest.mark.filterwarnings("ignore:Non-orthogonal slicing")  # (napari: a volume tilted)
@pytest.mark.parametrize(
    ("rotate", "words"),
    [
        (45, "rotate 45° about z"),  # napari turns a 3D layer's one angle about z
        ((0, 0, 45), "rotate 45° about z"),
        ((0, -30, 0), "rotate -30° about y"),
        ((20, 0, 0), "rotate 20° about x"),
        ((0, 0, 180), "rotate 180° about z"),
        (
            (20, 10, 0),  # about no one axis: the matrix
            "rotate [[0.9254, -0.342, 0.1632], [0.3368, 0.9397, 0.05939], [-0.1736, 0, 0.9848]]",
        ),
    ],
    ids=["one-angle", "about-z", "about-y", "about-x", "half-turn", "tilted"],
)
def test_a_3d_rotation_about_one_axis_is_said_in_degrees(rotate, words):
    """A volume rotated about one of z, y, x is said as the angle napari was given about
    that axis ("rotate [[1, 0, 0], [0, 0.7071, -0.7071], [0, 0.7071, 0.7071]]" was opaque);
    the same about one axis of a (T, Z, Y, X) stack; a rotation about no one axis keeps
    its matrix. No rotation is rotate 0°."""
    from tessella._widgets._placement import placement_note

    stack = [] if words.startswith("rotate [[") else [(2, 3, 8, 8)]  # (a 4 x 4 matrix there)
    for shape in [(3, 8, 8), *stack]:
        volume = np.zeros(shape, np.uint16)
        note = placement_note(Labels(volume, name="pred", rotate=rotate), Labels(volume, name="GT"))
        assert note == (
            f"prediction 'pred' has {words} but ground truth 'GT' has rotate 0°: the scores "
            "compare their pixels one to one, not what the canvas shows"
        )


@pytest.mark.parametrize("removed", ["prediction", "nuclei ground truth"])
def test_a_layer_removed_during_the_run_gets_no_errors_layer(
    evaluate_widget, nuclei_pair, qtbot, monkeypatch, removed
):
    """As Segment does: the status says which layer was removed while the worker scored,
    the scores are labelled as those of the layers when the run started, and no errors
    layer is added for them (nor when Show errors is ticked again)."""
    viewer, widget = evaluate_widget
    _truth, expected = nuclei_pair
    monkeypatch.setattr(_evaluate_run, "SYNC_MAX_PIXELS", 0)
    widget.errors_checkbox.setChecked(True)

    with qtbot.waitSignal(widget.evaluation_finished, timeout=30_000):
        widget.evaluate_button.click()
        assert widget.worker is not None  # still scoring
        viewer.layers.remove(removed)

    assert (widget.last_evaluation.tp, widget.last_evaluation.fp) == (expected.tp, expected.fp)
    what = "the prediction" if removed == "prediction" else "the ground truth"
    status = widget.status_label.text()
    assert status.startswith("Scores of 'prediction' against 'nuclei ground truth' when the run")
    assert f"; {what} '{removed}' was removed during the run: no errors layer added" in status
    assert error_layers(viewer) == []
    widget.errors_checkbox.setChecked(False)
    widget.errors_checkbox.setChecked(True)
    assert error_layers(viewer) == []


def test_the_errors_layer_has_the_units_of_its_prediction(make_napari_viewer, nuclei_pair):
    """Errors of a prediction in µm are in µm, with its axis labels (in "pixel" they made
    napari drop every layer's units: "Inconsistent units across layers")."""
    truth, expected = nuclei_pair
    viewer = make_napari_viewer()
    placed = {"scale": (0.3, 0.3), "units": ("µm", "µm"), "axis_labels": ("y", "x")}
    viewer.add_labels(truth, name="nuclei ground truth", **placed)
    viewer.add_labels(expected.prediction, name="prediction", **placed)
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    widget.errors_checkbox.setChecked(True)
    widget.evaluate_button.click()
    [errors] = error_layers(viewer)
    prediction = viewer.layers["prediction"]
    assert (errors.units, errors.axis_labels) == (prediction.units, ("y", "x"))
    assert tuple(errors.scale) == (0.3, 0.3)


def test_negative_labels_are_named_as_the_layer_they_are_in(evaluate_widget, shown_errors):
    """The metrics name their arguments labels_true / labels_pred; the panel said "Not
    evaluated: labels_true contains negative labels" (robustness pass, session 25)."""
    viewer, widget = evaluate_widget
    truth = viewer.layers["nuclei ground truth"]
    data = truth.data.astype(np.int32)
    data[0, 0] = -1
    truth.data = data

    widget.evaluate_button.click()

    said = "the ground truth 'nuclei ground truth' contains negative labels"
    assert widget.status_label.text() == f"Not evaluated: {said}"
    assert shown_errors == [
        f"Evaluate failed on 'prediction' against 'nuclei ground truth': {said}"
    ]
