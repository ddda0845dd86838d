"""Export of labels reopened from a file re-saved outside Tessella (no Tessella tag, a plain
name and folder) says why the recipe it writes does not reproduce them: the file changed
after the recipe was written, or the recipe's digest is damaged; not edits in napari."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile
from napari.layers import Labels

from tessella._io import DIGEST_DAMAGED_NOTE, LABELS_CHANGED_NOTE, LabelsChangedWarning
from tessella._widgets import _export_write
from tessella.engine.digest import labels_digest
from tests.conftest import SEGMENT_RECIPE


def test_export_of_labels_changed_outside_tessella_names_that_cause(
    make_napari_viewer, nuclei_sample, tmp_path, monkeypatch
):
    """``edited.tif`` (a cell erased, re-saved by a script) and ``garbled.tif`` (unchanged,
    its recipe's digest damaged) reopen as labels; Export's status line and warning said
    "The labels were changed after 'edited' was segmented (by hand, or a Tune preview not
    applied to all)" for both. Now each says what happened, as the recipe's note does."""
    labels = nuclei_sample[1][:128, :128]
    recipe = {**SEGMENT_RECIPE, "labels_digest": labels_digest(labels)}
    edited = labels.astype(np.uint32)
    edited[edited == edited.max()] = 0
    damaged = {**recipe, "labels_digest": {**recipe["labels_digest"], "sha256": "abc"}}
    folder = tmp_path / "analysis"
    folder.mkdir()
    for name, values, beside in (("edited", edited, recipe), ("garbled", labels, damaged)):
        tifffile.imwrite(folder / f"{name}.tif", values)
        (folder / f"{name}.recipe.json").write_text(json.dumps(beside))
    warned: list[str] = []
    monkeypatch.setattr(_export_write, "show_warning", warned.append)
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    widget.csv_checkbox.setChecked(False)

    on_open = {
        "edited": "the file changed after edited.recipe.json",
        "garbled": "labels_digest of garbled.recipe.json is damaged",
    }
    said = {
        "edited": (
            "'edited' was read from a labels file changed after its recipe was written beside "
            "it (edited or replaced outside Tessella): the recipe makes them as they were "
            "before.",
            LABELS_CHANGED_NOTE,
        ),
        "garbled": (
            "'garbled' was read from a file whose recipe has a damaged labels_digest (edited "
            "or cut short): the recipe cannot vouch for these labels, and replaying it may "
            "not give them.",
            DIGEST_DAMAGED_NOTE,
        ),
    }
    for name, (status, note) in said.items():
        with pytest.warns(LabelsChangedWarning, match=on_open[name]):
            [opened] = viewer.open(str(folder / f"{name}.tif"), plugin="tessella")
        assert isinstance(opened, Labels)
        widget.labels_combo.setCurrentIndex(widget.labels_combo.findData(opened.unique_id))
        widget.path_edit.setText(str(tmp_path / name))
        warned.clear()
        written = widget.export()
        assert [path.name for path in written] == [f"{name}.tif", f"{name}.recipe.json"]
        text = widget.status_label.text()
        assert text.endswith(status) and "by hand" not in text, text
        # the caution first (a pop-up shows its first words), then what was written
        caution = _export_write._recipe_caution(name, note)
        assert caution.startswith(
            f"the recipe may not make '{name}'"
            if name == "garbled"
            else f"the recipe makes '{name}' as it was before its file was changed"
        )
        assert warned == [f"Export: {caution}; wrote {name}.tif, {name}.recipe.json."]
        again = json.loads((tmp_path / f"{name}.recipe.json").read_text())
        assert again["labels_edited"] is True and again["note"] == note
