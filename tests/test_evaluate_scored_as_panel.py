"""The Evaluate panel says how it scored a pair of more than 2 axes, in the words
``tessella evaluate`` prints (s35 f2): a 3D binary mask as one volume (its objects matched
in 3D), a TZYX time-lapse a time point at a time (each a volume, a 3D membrane map's too),
a membrane-map stack a 2D section at a time. Before, its status said none of it: only the
command and :func:`tessella.evaluate` said how (``"scored_as"``); a TZYX membrane map was
one 4D volume, its cells connected through time."""

from __future__ import annotations

import numpy as np
import tifffile
from scipy import ndimage

from tests.conftest import DATA


def _status(widget, name: str, kind: str) -> str:
    """The status after scoring the layers ``name`` (prediction) and ``name gt``."""
    widget.pred_combo.setCurrentIndex(widget.pred_combo.findText(name))
    widget.truth_combo.setCurrentIndex(widget.truth_combo.findText(f"{name} gt"))
    widget.kind_combo.setCurrentIndex(widget.kind_combo.findText(kind))
    widget.evaluate_button.click()
    assert widget.last_evaluation is not None, widget.status_label.text()
    return widget.status_label.text()


def test_panel_says_a_volume_a_time_lapse_and_sections(make_napari_viewer, mito_3d):
    from tessella._widgets.evaluate import EvaluateWidget

    mask = mito_3d[:12] > 0  # (Lucchi++ mitochondria, 12 sections; 3D instances)
    labels, count = ndimage.label(mask)
    assert count >= 3
    volume = tifffile.imread(DATA / "fixtures" / "mask3d.tif")[:12]
    truth = np.stack([volume, np.roll(volume, 3, axis=2)])
    pred = truth.copy()
    pred[1][pred[1] % 2 == 0] = 0
    maps = np.stack(
        [tifffile.imread(DATA / "em_membranes_isbi2012" / "boundaries" / f"{z:02d}.tif")
         for z in range(2)]
    )[:, :128, :128]  # fmt: skip
    cells = np.stack([ndimage.label(plane == 0)[0] for plane in maps])
    viewer = make_napari_viewer()
    viewer.add_labels(mask.astype(np.uint8), name="mito gt")
    viewer.add_labels(labels, name="mito")
    movie = {"axis_labels": ("t", "z", "y", "x")}
    viewer.add_labels(truth, name="movie gt", **movie)
    viewer.add_labels(pred, name="movie", **movie)
    viewer.add_labels(maps, name="cells gt")
    viewer.add_labels(cells, name="cells")
    widget = EvaluateWidget(viewer)

    status = _status(widget, "mito", "binary mask")
    assert widget.last_evaluation.n_true == widget.last_evaluation.tp == count
    assert widget.last_scores["ap"]["0.5"] == 1.0
    assert (
        "\nScored as one volume: 'mito' against 'mito gt' (ZYX), its objects matched in 3D; a "
        "time-lapse is scored frame by frame where a layer's axes name T" in status
    )

    viewer.layers["mito"].axis_labels = ("z", "y", "x")  # (its axes known: no hint)
    status = _status(widget, "mito", "binary mask")
    assert status.endswith(
        "\nScored as one volume: 'mito' against 'mito gt' (ZYX), its objects matched in 3D."
    )

    status = _status(widget, "movie", "instances (labels)")
    assert widget.last_scores["n_images"] == 2 and widget.last_scores["ap"]["0.5"] < 1.0
    assert (
        "\nScored frame by frame: the 2 frames of 'movie' against 'movie gt' (T axis: the axes "
        "of 'movie', TZYX), each a volume (ZYX) whose objects are matched in 3D." in status
    )

    # a TZYX membrane map (the two sections twice, cells connected in 3D each time point)
    movie = {"axis_labels": ("t", "z", "y", "x")}
    viewer.add_labels(np.stack([maps, maps]), name="cells4d gt", **movie)
    cells3d = ndimage.label(maps == 0)[0]
    viewer.add_labels(np.stack([cells3d, cells3d]), name="cells4d", **movie)
    status = _status(widget, "cells4d", "boundary map, 3D")
    assert widget.last_scores["n_images"] == 2 and widget.last_scores["vrand"] == 1.0
    assert "each a volume (ZYX) whose objects are matched in 3D." in status

    status = _status(widget, "cells", "boundary map")
    assert (
        "\nScored section by section: the 2 2D sections of 'cells' against 'cells gt', each an "
        "image (a membrane map annotated section by section, as ISBI 2012 scores it); Ground "
        "truth is: boundary map, 3D scores it as one volume, its cells connected in 3D." in status
    )
