"""Export of labels reopened with their recipe: the recipe Export writes records a digest of
the labels written beside it, the reader checks it, and Export says "does not reproduce" for
labels changed after their recipe (a file edited outside Tessella; labels too big for a
labels state)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import tifffile
import zarr

from tessella._io import LABELS_CHANGED_NOTE, LabelsChangedWarning
from tessella._widgets import _labels_states, _results
from tessella._widgets.export import ExportWidget
from tessella.engine.digest import labels_digest
from tests.conftest import SEGMENT_RECIPE

NOT_REPRODUCED = "the recipe makes them as they were before"


def _export(widget: ExportWidget, layer, base, files: bool) -> dict:
    """Export ``layer`` to ``base`` (TIFF, zarr and recipe, or the recipe alone); the
    recipe written."""
    widget.labels_combo.setCurrentIndex(widget.labels_combo.findData(layer.unique_id))
    widget.path_edit.setText(str(base))
    for checkbox in (widget.tiff_checkbox, widget.zarr_checkbox):
        checkbox.setChecked(files)
    widget.csv_checkbox.setChecked(False)
    widget.recipe_checkbox.setChecked(True)
    assert widget.export()
    return json.loads(base.with_name(base.name + ".recipe.json").read_text())


def test_a_labels_file_changed_after_export_reopens_as_not_reproduced(
    make_napari_viewer, nuclei_sample, tmp_path
):
    """Export records the digest of the labels it writes; reopened unchanged, its TIFF and
    zarr reproduce from the recipe; after a cell is painted into each outside Tessella (Fiji,
    a script), the recipe reattaches but Export says it does not reproduce them, with the
    reader's note."""
    labels = nuclei_sample[1][:256, :256]
    viewer = make_napari_viewer()
    made = viewer.add_labels(labels, name="nuclei", metadata={"tessella_recipe": SEGMENT_RECIPE})
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    written = _export(widget, made, tmp_path / "nuclei_labels", files=True)
    assert written["labels_digest"] == labels_digest(labels)
    assert written["labels_digest"]["shape"] == list(labels.shape)

    tif, store = tmp_path / "nuclei_labels.tif", tmp_path / "nuclei_labels.zarr"
    for path in (tif, store):
        with warnings.catch_warnings():  # labels their recipe reproduces say nothing on open
            warnings.simplefilter("error", LabelsChangedWarning)
            [opened] = viewer.open(str(path), plugin="tessella")
        again = _export(widget, opened, tmp_path / f"{path.suffix[1:]}_as_read", files=False)
        assert "labels_edited" not in again and NOT_REPRODUCED not in widget.status_label.text()

    painted = labels.copy()
    painted[:12, :12] = labels.max() + 1  # a cell painted in a corner
    tifffile.imwrite(tif, painted)
    zarr.open_array(str(store), mode="r+")[:12, :12] = labels.max() + 1
    for path in (tif, store):
        with pytest.warns(
            LabelsChangedWarning, match="the file changed after nuclei_labels.recipe.json"
        ):
            [opened] = viewer.open(str(path), plugin="tessella")
        again = _export(widget, opened, tmp_path / f"{path.suffix[1:]}_changed", files=False)
        assert NOT_REPRODUCED in widget.status_label.text()
        assert again["labels_edited"] is True and again["note"] == LABELS_CHANGED_NOTE
        assert again["params"] == SEGMENT_RECIPE["params"] and "labels_digest" not in again


def test_reopened_edited_labels_over_the_fingerprint_limit_export_as_not_reproduced(
    make_napari_viewer, monkeypatch, tmp_path
):
    """Labels over ``MAX_FINGERPRINT_BYTES`` get no labels state when reopened; an export's
    ``labels_edited`` then stays in their recipe, and Export's warning shows for them as for
    smaller labels (it said nothing: their recipe was taken as reproducing them). The limit
    is lowered to keep the labels small; the code path is the real one."""
    labels = np.zeros((96, 96), np.uint16)
    labels[4:30, 4:30], labels[50:90, 40:70] = 1, 2
    monkeypatch.setattr(_labels_states, "MAX_FINGERPRINT_BYTES", labels.nbytes - 1)
    tifffile.imwrite(tmp_path / "cells_labels.tif", labels)
    edited = {**SEGMENT_RECIPE, "labels_edited": True, "note": "edited by hand"}
    (tmp_path / "cells_labels.recipe.json").write_text(json.dumps(edited))
    viewer = make_napari_viewer()
    with pytest.warns(LabelsChangedWarning, match="cells_labels.recipe.json does not reproduce"):
        [opened] = viewer.open(str(tmp_path / "cells_labels.tif"), plugin="tessella")
    assert _results.STATES_KEY not in opened.metadata  # too big for a labels state
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")

    again = _export(widget, opened, tmp_path / "again", files=True)
    assert NOT_REPRODUCED in widget.status_label.text()
    assert again["labels_edited"] is True and again["note"] == "edited by hand"
    assert again["labels_digest"] == labels_digest(labels)


def test_labels_with_a_length_1_axis_or_slices_reopen_as_exported(
    make_napari_viewer, nuclei_sample, tmp_path
):
    """Labels exported from a 1 x Y x X layer (a reader that keeps a length-1 axis, e.g. an
    OME-Zarr's) reopen from their TIFF as Y x X, and a Z x Y x X stack as itself: both still
    reproduce from the recipe Export wrote (the TIFF's 1 x Y x X labels were taken as changed
    outside Tessella, so Export said the recipe does not reproduce them)."""
    labels = nuclei_sample[1][:128, :128]
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    stacks = {"one_slice": labels[np.newaxis], "slices": np.stack([labels, labels.T, labels])}
    for name, stack in stacks.items():
        recipe = {**SEGMENT_RECIPE, "axes": "ZYX"}
        made = viewer.add_labels(stack, name=name, metadata={"tessella_recipe": recipe})
        written = _export(widget, made, tmp_path / name, files=True)
        assert written["labels_digest"]["shape"] == list(stack.shape)
        for path in (tmp_path / f"{name}.tif", tmp_path / f"{name}.zarr"):
            with warnings.catch_warnings():  # they match their recipe: nothing said on open
                warnings.simplefilter("error", LabelsChangedWarning)
                [opened] = viewer.open(str(path), plugin="tessella")
            assert opened.data.size == stack.size
            again = _export(widget, opened, tmp_path / f"{name}_{path.suffix[1:]}", files=False)
            assert NOT_REPRODUCED not in widget.status_label.text(), (name, path.suffix)
            assert "labels_edited" not in again and "note" not in again
