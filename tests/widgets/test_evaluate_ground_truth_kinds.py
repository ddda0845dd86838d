"""The Evaluate panel on the ground truth EM and worm users have: a binary mitochondria mask
(Lucchi++) and an (N, Y, X) stack of overlapping worm masks (BBBC010). "Ground truth is" is
chosen from the data, the numbers equal ``tessella evaluate`` with the matching flag, a
result's "overlaps" layer is never its ground truth by default, and the errors layer keeps the
prediction's units."""

from __future__ import annotations

import json

import numpy as np
import tifffile
from scipy import ndimage

from tessella.cli import evaluate_paths, main
from tests.widgets.helpers import choose_model
from tests.widgets.test_evaluate_widget import choose, error_layers


def test_binary_mito_mask_is_scored_as_gt_binary_with_foreground_iou(
    make_napari_viewer, data_dir, tmp_path
):
    """A Lucchi++ mitochondria crop (0/1, ZYX at 20 x 5 x 5 nm): taken as a binary mask, said
    why, and scored as `tessella evaluate --gt-binary --metric iou` scores it (AP was 0 with
    every prediction a false positive); the errors layer has the prediction's units."""
    mito = tifffile.imread(data_dir / "em_mito_lucchipp" / "val" / "mito.tif")[:8, 128:384, 128:384]
    # a plausible prediction: each mitochondrion a little larger, the smallest one missed
    pieces, count = ndimage.label(mito)
    sizes = ndimage.sum_labels(np.ones_like(pieces), pieces, range(1, count + 1))
    grown = ndimage.binary_dilation(mito > 0, np.ones((1, 3, 3), bool))
    grown[pieces == 1 + int(np.argmin(sizes))] = False
    prediction = ndimage.label(grown)[0].astype(np.uint16)
    viewer = make_napari_viewer()
    placed = {"scale": (0.02, 0.005, 0.005), "units": ("µm", "µm", "µm")}
    viewer.add_labels(mito, name="mito", **placed)
    viewer.add_labels(prediction, name="lucchi labels", **placed)
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    assert (widget.pred_combo.currentText(), widget.truth_combo.currentText()) == (
        "lucchi labels",
        "mito",
    )
    assert widget.truth_kind == "binary"
    assert widget.kind_label.text() == (
        f"'mito': only 0 and 1 ({count} connected pieces): probably a binary mask, so taken as "
        "binary mask."
    )
    widget.errors_checkbox.setChecked(True)

    widget.evaluate_button.click()

    tifffile.imwrite(tmp_path / "pred.tif", prediction, photometric="minisblack")
    tifffile.imwrite(tmp_path / "gt.tif", mito, photometric="minisblack")
    reference = evaluate_paths(
        str(tmp_path / "pred.tif"), str(tmp_path / "gt.tif"), ("ap", "iou"), gt_binary=True
    )
    assert reference.pop("scored_as").startswith("scored as one volume")  # (the command's)
    reference.pop("volumes")
    assert widget.last_scores == reference
    assert reference["ap"]["0.5"] > 0.5 and 0.5 < reference["foreground_iou"] < 1
    iou = f"{reference['foreground_iou']:.3f}"
    assert widget.iou_label.text() == f"Foreground IoU: {iou}"
    assert f"(binary mask): avS {reference['avs']:.3f}, foreground IoU {iou}" in (
        widget.status_label.text()
    )
    assert "Warning" not in widget.status_label.text()
    [errors] = error_layers(viewer)
    assert tuple(errors.scale) == placed["scale"]
    assert [str(unit) for unit in errors.units] == ["micrometer"] * 3  # (was "pixel")
    assert errors.axis_labels == viewer.layers["lucchi labels"].axis_labels

    choose(widget.kind_combo, "instances (labels)")  # as before: every piece one object
    widget.evaluate_button.click()
    assert widget.last_scores["ap"]["0.5"] == 0.0
    assert "choose Ground truth is: binary mask to score each connected piece" in (
        widget.status_label.text()
    )


def test_worm_mask_stack_against_a_worms2d_result(
    make_napari_viewer, data_dir, run_to_end, tmp_path
):
    """A BBBC010 well crop segmented with worms2d: the ground truth is the worms' (N, Y, X)
    mask stack, not the result's own "overlaps" layer; it is scored as overlapping masks
    (it was refused: shapes must be equal) with the network's whole worms, equal to
    `tessella evaluate STACK GT --overlapping` on the stack `tessella segment --stack` writes."""
    from tessella._widgets import _results
    from tessella.engine.methods import patches

    crop = (slice(320, 520), slice(150, 430))  # crossing worms
    root = data_dir / "worms_bbbc010"
    image = tifffile.imread(root / "gfp" / "E03.tif")[crop]
    truth = tifffile.imread(root / "worm_masks" / "E03.tif")[(slice(None), *crop)]
    viewer = make_napari_viewer()
    viewer.add_image(image, name="E03")
    _dock, evaluate = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    _dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    choose_model(segment, "worms2d")
    run_to_end(segment)
    assert [layer.name for layer in viewer.layers] == [
        "E03",
        "E03 labels (worms2d)",
        "E03 labels (worms2d) overlaps",
    ]
    assert evaluate.pred_combo.currentText() == "E03 labels (worms2d)"
    assert evaluate.truth_combo.currentText() != "E03 labels (worms2d) overlaps"  # its own part

    viewer.add_labels(truth, name="E03_worm_masks")
    assert evaluate.pred_combo.currentText() == "E03 labels (worms2d)"
    assert evaluate.truth_combo.currentText() == "E03_worm_masks"
    assert evaluate.truth_kind == "overlapping"
    assert "14 (Y, X) planes against a (Y, X) prediction: one object mask per plane" in (
        evaluate.kind_label.text()
    )
    evaluate.errors_checkbox.setChecked(True)

    evaluate.evaluate_button.click()

    result = _results.get(viewer.layers["E03 labels (worms2d)"])
    stack = patches.instances(result.predictions[0], result.params).astype(np.uint8)
    tifffile.imwrite(tmp_path / "pred.tif", stack)  # as `tessella segment --stack` writes
    tifffile.imwrite(tmp_path / "gt.tif", truth)
    assert main(["evaluate", str(tmp_path / "pred.tif"), str(tmp_path / "gt.tif"),
                 "--overlapping", "-q", "--json", str(tmp_path / "s.json")]) == 0  # fmt: skip
    reference = json.loads((tmp_path / "s.json").read_text())
    assert [row["name"] for row in reference.pop("images")] == ["gt.tif"]  # (the CLI's rows)
    assert json.loads(json.dumps(evaluate.last_scores)) == reference
    assert reference["ap"]["0.5"] > 0.5
    status = evaluate.status_label.text()
    assert (
        f"(overlapping masks): avS {reference['avs']:.3f}; the prediction's {len(stack)} "
        "objects whole from the network's instances"
    ) in status
    assert "Warning" not in status
    counts = evaluate.last_evaluation
    assert (counts.n_pred, counts.n_true) == (len(stack), int(truth.any(axis=(1, 2)).sum()))
    [errors] = error_layers(viewer)
    assert errors.data.shape == image.shape


def test_a_mask_stack_file_against_worm_masks_of_another_count(
    make_napari_viewer, data_dir, tmp_path
):
    """The stack `tessella segment --stack` and Export write (`write_mask_stack`, an ImageJ
    TYX hyperstack the reader opens as the worms' labels and overlaps), holding fewer worms
    than BBBC010's masks of the same crop: taken as overlapping masks and scored as
    `tessella evaluate --overlapping` scores the two files (it was taken as a binary mask and
    refused, shapes differing, and refused as overlapping masks too)."""
    from tessella.engine.io import write_mask_stack

    crop = (slice(None), slice(320, 520), slice(150, 430))  # crossing worms
    truth = tifffile.imread(data_dir / "worms_bbbc010" / "worm_masks" / "E03.tif")[crop]
    worms = truth[truth.any(axis=(1, 2))] > 0
    # a plausible prediction: each worm found a pixel wider, but the first two missed
    found = ndimage.binary_dilation(worms[2:], np.ones((1, 3, 3), bool))
    assert len(found) != len(truth)
    write_mask_stack(tmp_path / "E03_pred.stack.tif", found)
    tifffile.imwrite(tmp_path / "gt.tif", truth)
    viewer = make_napari_viewer()
    # the worms found (labels and their overlaps), as Segment shows them
    predicted, _overlaps = viewer.open(str(tmp_path / "E03_pred.stack.tif"), plugin="tessella")
    assert predicted.data.shape == found.shape[1:]
    viewer.add_labels(truth, name="E03_worm_masks")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    assert widget.pred_combo.currentText() == predicted.name
    assert widget.truth_combo.currentText() == "E03_worm_masks"
    assert widget.truth_kind == "overlapping"
    assert widget.kind_label.text().endswith(
        f"a stack of {len(truth)} (Y, X) planes against a (Y, X) prediction: one object mask "
        "per plane, so taken as overlapping masks."
    )

    widget.evaluate_button.click()

    command = ["evaluate", str(tmp_path / "E03_pred.stack.tif"), str(tmp_path / "gt.tif")]
    assert main([*command, "--overlapping", "-q", "--json", str(tmp_path / "s.json")]) == 0
    reference = json.loads((tmp_path / "s.json").read_text())
    assert [row["name"] for row in reference.pop("images")] == ["gt.tif"]  # (the CLI's rows)
    assert json.loads(json.dumps(widget.last_scores)) == reference
    assert 0 < reference["ap"]["0.5"] < 1
    result = widget.last_evaluation
    assert (result.n_pred, result.n_true, result.fn) == (len(found), len(worms), 2)
    assert f"(overlapping masks): avS {reference['avs']:.3f}" in widget.status_label.text()


def test_a_3d_membrane_map_is_scored_as_gt_boundaries_3d(make_napari_viewer, data_dir, tmp_path):
    """ "boundary map, 3D" scores an ISBI stack as one volume, as `tessella evaluate
    --gt-boundaries-3d` does (the panel had no such choice), and the warning that its insides
    join across sections names the panel's choice for section by section, with its flag."""
    from tests.engine.test_evaluate_mistakes import agglomerated_3d, write_stack

    maps = np.stack(
        [
            tifffile.imread(data_dir / "em_membranes_isbi2012" / "boundaries" / f"{n}.tif")
            for n in (16, 17)
        ]
    )[:, :256, :256]
    prediction = agglomerated_3d(maps)
    viewer = make_napari_viewer()
    viewer.add_labels(maps, name="isbi gt")
    viewer.add_labels(prediction, name="isbi labels")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    assert widget.truth_kind == "boundaries"  # (section by section, as most EM ground truth)
    choose(widget.kind_combo, "boundary map, 3D")

    widget.evaluate_button.click()

    write_stack(tmp_path / "pred.tif", prediction)
    write_stack(tmp_path / "gt.tif", maps)
    reference = evaluate_paths(
        str(tmp_path / "pred.tif"),
        str(tmp_path / "gt.tif"),
        ("ap", "iou", "vrand"),  # (V_rand and VOI too, as the panel scores a boundary map)
        boundaries_3d=True,
    )
    assert reference.pop("scored_as").startswith("scored as one volume")  # (the command's)
    reference.pop("volumes")
    assert widget.last_scores == reference
    scores = widget.last_scores
    assert (
        f"(boundary map, 3D): V_rand {scores['vrand']:.3f}, VOI {scores['voi']:.3f} nats ("
        in widget.status_label.text()
    )
    assert widget.status_label.text().endswith(
        "join across sections; choose Ground truth is: boundary map to score each 2D section "
        "on its own (as `tessella evaluate --gt-boundaries`)"
    )


def test_a_lazy_ground_truth_is_guessed_from_a_sample_in_a_worker(
    make_napari_viewer, data_dir, qtbot
):
    """Lucchi++ mitochondria as a dask array (25 x 768 x 1024, read chunk by chunk): "Ground
    truth is" becomes binary mask, guessed in a thread worker (instances meanwhile, saying so)
    from a sample the line names, a part of the volume read (every lazy layer was taken as
    instances without a look)."""
    import dask.array as da

    from tessella._widgets import evaluate as evaluate_module
    from tests.engine.test_evaluate_mistakes import ReadCounter

    mito = tifffile.imread(data_dir / "em_mito_lucchipp" / "val" / "mito.tif")
    source = ReadCounter(mito)
    viewer = make_napari_viewer()
    viewer.add_labels(
        da.zeros(mito.shape, dtype=np.uint16, chunks=(1, 128, 128)), name="mito labels"
    )
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")

    with qtbot.waitSignal(widget.kind_guessed, timeout=30_000):
        viewer.add_labels(da.from_array(source, chunks=(1, 128, 128), name=False), name="mito")
        assert widget.truth_combo.currentText() == "mito"
        assert widget.kind_worker is not None  # not on the GUI thread
        assert widget.truth_kind == "labels"
        assert widget.kind_label.text() == (
            "'mito' is lazy (read from disk): guessing what it is in the background; taken as "
            "instances meanwhile"
        )

    assert widget.truth_kind == "binary"
    assert widget.kind_label.text() == (
        "'mito': only 0 and 1: probably a binary mask (guessed from a sample: 16 of its 25 "
        "planes, each its central 362 x 362 of 768 x 1024; then 25 small windows over 25 planes "
        "and 768 x 1024 of planes 3-4 around the fullest), so taken as binary mask."
    )
    # the samples (about GUESS_SAMPLE_PIXELS in all) and the plane napari shows, not the volume
    assert evaluate_module.GUESS_SAMPLE_PIXELS <= source.read < mito.size / 3


def test_a_kind_chosen_while_the_guess_runs_is_kept(
    make_napari_viewer, nuclei_sample, qtbot, monkeypatch
):
    """Choosing "Ground truth is" by hand while a lazy ground truth is being looked at keeps
    the choice: the guess, once done, is dropped (it would have reset the choice)."""
    import threading

    import dask.array as da

    from tessella._widgets import _evaluate_kinds

    release = threading.Event()
    guess = _evaluate_kinds._guess

    def held_back(*args):  # the worker's guess waits until the kind has been chosen
        release.wait(20)
        return guess(*args)

    monkeypatch.setattr(_evaluate_kinds, "_guess", held_back)
    labels = np.asarray(nuclei_sample[1])
    viewer = make_napari_viewer()
    viewer.add_labels(labels, name="labels")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    viewer.add_labels(da.from_array(labels, chunks=128), name="ground truth")
    worker = widget.kind_worker
    assert worker is not None and widget.truth_kind == "labels"
    index = widget.kind_combo.findData("binary")
    widget.kind_combo.setCurrentIndex(index)
    widget.kind_combo.activated.emit(index)  # as a choice by hand signals it
    with qtbot.waitSignal(worker.finished, timeout=30_000):
        release.set()

    assert widget.kind_worker is None
    assert widget.truth_kind == "binary"  # (the guess, instances, was not applied)
    assert widget.kind_label.text() == (
        "'ground truth' taken as binary mask, as chosen (before the guess from a sample was done)"
    )
