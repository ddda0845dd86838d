"""``tessella segment`` records the digest of the labels it writes in the recipe beside them,
so the napari reader reattaches that recipe as reproducing these labels only."""

import json
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import tifffile

from tessella._io import LABELS_CHANGED_NOTE, LabelsChangedWarning, get_reader
from tessella._widgets._results import recipe_on_screen
from tessella.cli import main
from tessella.engine.digest import labels_digest
from tessella.engine.io import read_image


def _reopened(path):
    [(data, kwargs, kind)] = get_reader(str(path))(str(path))
    assert kind == "labels"
    return recipe_on_screen(SimpleNamespace(data=data, metadata=kwargs["metadata"]))


def test_segment_records_the_labels_digest_the_reader_checks(tmp_path, nuclei_sample):
    image = tmp_path / "nuclei.tif"
    tifffile.imwrite(image, nuclei_sample[0][:192, :192])
    out = tmp_path / "nuclei_labels.tif"
    assert main(["segment", str(image), "-o", str(out), "--model", "nuclei2d", "-q"]) == 0
    labels = np.asarray(read_image(out).data)
    recipe = json.loads((tmp_path / "nuclei_labels.recipe.json").read_text())
    assert recipe["labels_digest"] == labels_digest(labels) and labels.max() > 1
    with warnings.catch_warnings():  # labels their recipe reproduces say nothing on open
        warnings.simplefilter("error", LabelsChangedWarning)
        made, reproduces = _reopened(out)
    assert reproduces and made["params"] == recipe["params"] and "labels_digest" not in made

    labels[labels == labels.max()] = 0  # a cell erased in Fiji, saved over the labels
    tifffile.imwrite(out, labels)
    with pytest.warns(
        LabelsChangedWarning, match="the file changed after nuclei_labels.recipe.json"
    ):
        made, reproduces = _reopened(out)
    assert not reproduces and made["note"] == LABELS_CHANGED_NOTE
