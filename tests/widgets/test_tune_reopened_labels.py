"""Tune with labels opened from a file: a file keeps the labels and their recipe, not the
network's output Tune works on, so nothing is listed; the status line said only "Run
Segment first", which left a user who reopened yesterday's result guessing. It now names the
layer, the model to segment with, and Load recipe to go on from its parameters."""

from __future__ import annotations

import json

import numpy as np

from tessella.engine.digest import labels_digest
from tessella.engine.io import write_labels
from tests.conftest import SEGMENT_RECIPE


def test_tune_says_how_to_go_on_with_labels_opened_from_a_file(make_napari_viewer, tmp_path):
    labels = np.zeros((40, 50), np.uint16)
    labels[5:15, 5:15], labels[20:30, 25:40] = 1, 2
    path = tmp_path / "cells.tif"
    write_labels(path, labels, "YX")
    recipe = {**SEGMENT_RECIPE, "labels_digest": labels_digest(labels)}
    (tmp_path / "cells.recipe.json").write_text(json.dumps(recipe))
    viewer = make_napari_viewer()
    _dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    assert tune.status_label.text() == "Run Segment first: its labels layers are listed here."

    viewer.open(str(path), plugin="tessella")

    assert tune.layer_combo.count() == 0  # (no result to tune)
    text = tune.status_label.text()
    assert text.startswith("Run Segment first: its labels layers are listed here. 'cells' was")
    assert f"segment its image with {SEGMENT_RECIPE['model']}, then Load recipe" in text

    viewer.layers.remove("cells")
    viewer.add_labels(labels, name="painted")  # no recipe: nothing more to say
    assert tune.status_label.text() == "Run Segment first: its labels layers are listed here."
