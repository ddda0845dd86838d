"""The stamp of a zarr's files that a blockwise result records with its labels_digest
(``labels_digest_files``) covers the attributes by which the reader lays out the pixels
(review r1 finding 4): ``tessella_axes`` edited from "YX" to "XY" reopened the labels
transposed while the stamp still vouched for the digest (no read, no LabelsChangedWarning).
Other attribute edits (the pixel size) keep the stamp; a stamp recorded before (without the
layout) no longer matches, so the digest is checked reading the labels, which still hold."""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import numpy as np
import pytest
import zarr

from tessella._io_recipe import LABELS_CHANGED_NOTE, RECIPE_KEY
from tessella.engine.digest import DIGEST_KEY, FILES_KEY, labels_digest, stored_files_stamp
from tests.test_blockwise_result_digest import _reopen as reopen_counting


def _old_stamp(folder: Path) -> str:
    """stored_files_stamp as it was before the layout attributes counted (7138532)."""
    hashed = hashlib.sha256()
    for current, _dirs, files in sorted(os.walk(folder)):
        relative = Path(current).relative_to(folder).as_posix()
        for name in sorted(files):
            path = Path(current) / name
            if name in ("zarr.json", ".zarray", ".zattrs", ".zgroup", ".zmetadata"):
                if name in (".zattrs", ".zgroup", ".zmetadata"):
                    continue
                metadata = json.loads(path.read_bytes())
                metadata.pop("attributes", None)
                hashed.update(
                    f"{relative}/{name}\0{json.dumps(metadata, sort_keys=True)}\n".encode()
                )
            elif not name.startswith("."):
                stat = path.stat()
                hashed.update(f"{relative}/{name}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return hashed.hexdigest()


def _result(folder: Path, zarr_format: int, old: bool = False) -> tuple[Path, np.ndarray]:
    """A labels zarr as a blockwise run leaves it: axes and pixel size in its attributes, then
    its recipe with the digest and the stamp of its files (square: "XY" keeps the shape)."""
    labels = np.zeros((96, 96), np.uint16)
    labels[5:20, 30:60] = 1
    labels[50:90, 10:25] = 2
    path = folder / "out.zarr"
    array = zarr.create_array(
        str(path), shape=labels.shape, dtype=labels.dtype, chunks=(48, 48), zarr_format=zarr_format
    )
    array[...] = labels
    array.attrs.update({"tessella_axes": "YX", "pixel_size": {"Y": 0.5, "X": 0.5}, "unit": "µm"})
    stamp = _old_stamp(path) if old else stored_files_stamp(path)
    recipe = {
        "model": "nuclei2d",
        "params": {},
        DIGEST_KEY: labels_digest(labels),
        FILES_KEY: stamp,
    }
    array.attrs["tessella"] = recipe  # (written after the stamp, as the run writes it)
    return path, labels


def _reopen(path, monkeypatch):
    return reopen_counting(path, monkeypatch, "1,000")  # lazily, as a big result


@pytest.mark.parametrize("zarr_format", [2, 3])
def test_an_axes_attribute_edited_is_noticed_other_attributes_are_not(
    tmp_path, monkeypatch, zarr_format
):
    path, labels = _result(tmp_path, zarr_format)
    shown, metadata, said, read = _reopen(path, monkeypatch)
    assert read == [] and said == [] and np.array_equal(shown, labels)  # trusted, unread
    zarr.open_array(str(path), mode="r+").attrs["pixel_size"] = {"Y": 0.25, "X": 0.25}
    assert _reopen(path, monkeypatch)[3] == []  # (no pixel laid out otherwise: still trusted)
    zarr.open_array(str(path), mode="r+").attrs["tessella_axes"] = "XY"  # by hand
    shown, metadata, said, read = _reopen(path, monkeypatch)
    assert np.array_equal(shown, labels.T)  # (what the reader shows now)
    assert read  # the stamp no longer vouches: the digest is checked reading the labels
    assert metadata[RECIPE_KEY]["note"] == LABELS_CHANGED_NOTE
    assert len(said) == 1 and said[0].startswith(f"{path}: the file changed after ")


def test_a_stamp_recorded_before_the_layout_counted_means_reading_the_labels(tmp_path, monkeypatch):
    path, labels = _result(tmp_path, 3, old=True)
    shown, metadata, said, read = _reopen(path, monkeypatch)
    assert read  # not vouched for by the stamp: checked reading them
    assert said == [] and np.array_equal(shown, labels)  # and they hold: read as before
    assert "note" not in metadata[RECIPE_KEY]


def test_an_old_stamp_is_renewed_once_the_labels_are_read_and_hold(tmp_path, monkeypatch):
    """A result whose stamp predates the layout attributes (4b8d77e) was read on every open;
    once read and found to hold, its stamp is renewed, and the next open reads nothing."""
    path, labels = _result(tmp_path, 3, old=True)
    assert _reopen(path, monkeypatch)[3]  # read once, found to hold
    stored = zarr.open(str(path), mode="r").attrs["tessella"]
    assert stored[FILES_KEY] == stored_files_stamp(path)
    shown, metadata, said, read = _reopen(path, monkeypatch)
    assert read == [] and said == [] and np.array_equal(shown, labels)
    # labels edited by hand still tell (the renewed stamp no longer vouches)
    zarr.open_array(str(path), mode="r+")[0, 0] = 7
    shown, metadata, said, read = _reopen(path, monkeypatch)
    assert read and metadata[RECIPE_KEY]["note"] == LABELS_CHANGED_NOTE
