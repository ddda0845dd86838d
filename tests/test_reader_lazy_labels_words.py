"""What the reader says of labels it opens lazily (on disk, read-only): it said "Export reads
them whole when run" after Export came to write zarr, OME-Zarr and CSV a piece at a time, and
named only the environment variable for editing them, after Correct came to edit a region of
2D labels on disk ('Edit the region in view', then 'Write back'). Labels that Correct cannot
edit by region (a volume) are not offered it."""

from __future__ import annotations

import numpy as np
import pytest

from tessella._io import LAZY_LABELS_ENV, LazyLabelsWarning, read_layers
from tessella.engine.io import write_zarr_labels


def _said(path, monkeypatch) -> str:
    monkeypatch.setenv(LAZY_LABELS_ENV, "0")  # every labels zarr lazily
    with pytest.warns(LazyLabelsWarning) as said:
        read_layers(path)
    [message] = [str(w.message) for w in said if w.category is LazyLabelsWarning]
    return message


def test_2d_labels_on_disk_are_offered_correct_s_region_and_export_s_pieces(tmp_path, monkeypatch):
    labels = np.zeros((64, 96), np.uint32)
    labels[8:20, 8:30], labels[30:50, 40:90] = 1, 2
    path = write_zarr_labels(tmp_path / "cells.zarr", labels, "YX", chunks=32)
    message = _said(path, monkeypatch)
    assert message.startswith(f"{path}: opened lazily (12 KiB of labels, 0 pixels or more)")
    assert "whole when run" not in message
    assert "Export writes TIFF, zarr, OME-Zarr, CSV and CTC masks from them a piece" in message
    assert "(a mask stack is not offered for them)" in message
    assert "reads them whole" not in message
    assert "To edit them: Correct's 'Edit the region in view', then 'Write back'; or " in message
    assert message.endswith(
        f"set the environment variable {LAZY_LABELS_ENV} to 6,145 or more and open the file again."
    )


def test_a_volume_on_disk_is_offered_only_a_copy_in_memory(tmp_path, monkeypatch):
    labels = np.zeros((4, 32, 48), np.uint16)
    labels[1:3, 4:20, 4:30] = 5
    path = write_zarr_labels(tmp_path / "vol.zarr", labels, "ZYX")
    message = _said(path, monkeypatch)
    assert "Edit the region in view" not in message
    assert "To edit them: an in-memory copy (about twice their size to read): set the " in (message)
    assert f"{LAZY_LABELS_ENV} to 6,145 or more and open the file again." in message
