"""The recipe Export writes beside labels that Segment made from an image read from a file
records that file's ``input_identity``, as ``tessella segment`` does, so that ``tessella
segment --skip-existing`` knows the input by its content for panel-made outputs too (it
used to fall back to modification times: an input touched or copied without ``-p`` was
redone, another one of the same size copied in with ``-p`` and an older time was kept). An
image layer not read from a file records none."""

from __future__ import annotations

import os

import numpy as np
import pytest
import tifffile

from tessella._widgets.segment import RECIPE_KEY, SOURCE_ID_KEY, SOURCE_KEY
from tessella.cli._skip_existing import _input_changed
from tessella.engine.input_record import INPUT_KEY, input_identity
from tests.conftest import SEGMENT_RECIPE
from tests.widgets.helpers import export_tiff_and_recipe

#: what Segment records in the labels layer (no ``input``: a layer, not a file)
PANEL_RECIPE = {k: v for k, v in SEGMENT_RECIPE.items() if k != "input"}


def _segmented(viewer, image_layer, labels):
    """The labels layer Segment adds for ``image_layer``: its recipe and its source."""
    metadata = {
        RECIPE_KEY: PANEL_RECIPE,
        SOURCE_KEY: image_layer.name,
        SOURCE_ID_KEY: image_layer.unique_id,
    }
    return viewer.add_labels(labels, name=f"{image_layer.name} labels", metadata=metadata)


@pytest.fixture
def cells(tmp_path, nuclei_sample):
    """A real nuclei image as a TIFF file, and its labels."""
    image, labels = (np.ascontiguousarray(a[:256, :256]) for a in nuclei_sample)
    path = tmp_path / "cells.tif"
    tifffile.imwrite(path, image)
    return path, labels


def test_labels_of_an_image_read_from_a_file_record_its_identity(
    make_napari_viewer, tmp_path, cells, qtbot
):
    """The recipe's input_identity is the file's (size, time, sha256), and --skip-existing
    takes it by content: the same bytes touched later are the same input; other bytes of the
    same size copied in with an older time are not."""
    path, labels = cells
    viewer = make_napari_viewer()
    [image] = viewer.open(str(path), plugin="tessella")
    assert image.source.path == str(path)
    made = _segmented(viewer, image, labels)
    (tmp_path / "out").mkdir()
    target = tmp_path / "out" / "cells.tif"
    recipe = export_tiff_and_recipe(viewer, made, target.with_suffix(""), qtbot)
    assert recipe[INPUT_KEY] == input_identity(path)
    assert recipe[INPUT_KEY]["kind"] == "file"

    then = path.stat()
    os.utime(path, ns=(then.st_atime_ns, target.stat().st_mtime_ns + 10**9))  # touched later
    assert _input_changed(path, target, recipe) == ""  # (no record: "input changed since")
    other = tifffile.imread(path)
    other[:8, :8] = other.max()  # same size, other pixels, older than the labels (`cp -p`)
    tifffile.imwrite(path, other)
    os.utime(path, ns=(then.st_atime_ns, then.st_mtime_ns - 10**9))
    assert os.path.getsize(path) == then.st_size
    changed = _input_changed(path, target, recipe)  # (no record: "", older than the labels)
    assert changed.startswith(f"input {path} changed since: other content of the same size")


def test_labels_of_an_image_not_read_from_a_file_record_none(
    make_napari_viewer, tmp_path, cells, qtbot
):
    """An image layer made from an array (no source path): no input_identity, and the
    export says nothing of it."""
    path, labels = cells
    viewer = make_napari_viewer()
    image = viewer.add_image(tifffile.imread(path), name="cells")
    made = _segmented(viewer, image, labels)
    recipe = export_tiff_and_recipe(viewer, made, tmp_path / "cells_labels", qtbot)
    assert INPUT_KEY not in recipe
    assert recipe["params"] == PANEL_RECIPE["params"]
