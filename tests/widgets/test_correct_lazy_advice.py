"""Correct's refusal of labels that are not in memory gives the limit in force and the
number to set (review r2, finding 2): it said "Tessella reads labels of up to 8192² pixels
into memory" whatever TESSELLA_LAZY_LABELS_PIXELS was, and its advice (open the .zarr with
File > Open) gave the same lazy layer again, the number needed unsaid."""

from __future__ import annotations

import numpy as np
import pytest

from tessella._io import LazyLabelsWarning
from tessella.engine.io import write_zarr_labels


def _choose(correct, layer) -> None:
    correct.layer_combo.setCurrentIndex(correct.layer_combo.findData(layer.unique_id))


def test_advice_names_the_limit_in_force_and_works(
    make_napari_viewer, nuclei_sample, tmp_path, monkeypatch
):
    labels = nuclei_sample[1][:256, :256]  # 65,536 pixels
    write_zarr_labels(tmp_path / "cells.zarr", labels)
    monkeypatch.setenv("TESSELLA_LAZY_LABELS_PIXELS", "50,000")
    viewer = make_napari_viewer()
    with pytest.warns(LazyLabelsWarning, match="to 65,537 or more"):  # (the reader's words)
        [lazy] = viewer.open(str(tmp_path / "cells.zarr"), plugin="tessella")
    assert not isinstance(lazy.data, np.ndarray)
    _dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    _choose(correct, lazy)

    advice = (
        "open its .zarr with File > Open with the environment variable "
        "TESSELLA_LAZY_LABELS_PIXELS set to 65,537 or more (Tessella reads labels of fewer "
        "than 50,000 pixels into memory: set it before starting napari, or with os.environ in "
        "its console)"
    )
    correct.relabel_button.click()
    said = correct.status_label.text()
    assert "8192" not in said
    assert f"to edit a copy, {advice}, then Export the result" in said
    correct.next_button.click()
    said = correct.status_label.text()
    assert said.startswith("Next suspicious: layer 'cells' is not in memory")
    assert said.endswith(f"to review a copy, {advice}")

    # what it says works: with that value, the same File > Open gives an editable copy
    monkeypatch.setenv("TESSELLA_LAZY_LABELS_PIXELS", "65,537")
    [copy] = viewer.open(str(tmp_path / "cells.zarr"), plugin="tessella")
    assert isinstance(copy.data, np.ndarray)
    _choose(correct, copy)
    correct.relabel_button.click()
    assert "not in memory" not in correct.status_label.text()


def test_below_the_limit_the_advice_is_to_open_it(make_napari_viewer, nuclei_sample, monkeypatch):
    """Labels lazy though within the limit (a script's dask array, the limit raised since
    they were opened): File > Open alone reads them into memory, and the words say so."""
    import dask.array as da

    monkeypatch.setenv("TESSELLA_LAZY_LABELS_PIXELS", "1_000_000")
    viewer = make_napari_viewer()
    lazy = viewer.add_labels(da.from_array(nuclei_sample[1][:200, :300], chunks=100), name="lazy")
    _dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    _choose(correct, lazy)
    correct.relabel_button.click()
    assert correct.status_label.text().endswith(
        "to edit a copy, open its .zarr with File > Open (Tessella reads labels of fewer "
        "than 1,000,000 pixels into memory), then Export the result"
    )
