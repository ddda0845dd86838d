"""A binary mask paired from code (``add_pair``, not the *Add pair* button) or chosen in the
Image and Labels lists without *Add pair* is refused when Train is pressed, in the words *Add
pair* refuses it with, naming the layer: it started a run that failed as "Training failed:
..." (session 32's note). A crop of the shipped DSB2018 nuclei sample, its labels made binary."""

from __future__ import annotations

import numpy as np
import pytest

import tessella._widgets.train as train_module
from tessella._widgets.train import NEW
from tests.widgets.helpers import said
from tests.widgets.test_train_add_pair_refusals import _choose, _panel


@pytest.fixture
def nuclei(nuclei_sample):
    image, labels = nuclei_sample
    return image[:128, :128], labels[:128, :128].astype(np.int32)


def _refused_at_train(train, monkeypatch, layer: str) -> None:
    errors = said(monkeypatch, train_module)
    train.device_combo.setCurrentText("cpu")
    assert train.start() is False
    text = train.status_label.text()
    assert text.startswith(f"Not started: the labels of '{layer}' hold only 0 and 1"), text
    assert "a binary mask, which the embedding method would learn as one object" in text, text
    assert errors and errors[-1].startswith(f"Train: the labels of '{layer}'"), errors
    assert train._run is None


def test_a_binary_pair_added_from_code_is_refused_at_train(viewer_models, monkeypatch, nuclei):
    viewer, _models = viewer_models
    image, labels = nuclei
    train = _panel(viewer, NEW + "embedding")
    picture = viewer.add_image(image, name="nuclei")
    train.add_pair(picture, viewer.add_labels(labels, name="nuclei gt"))
    train.add_pair(picture, viewer.add_labels((labels > 0).astype(np.int32), name="binary_B"))
    assert len(train.pairs) == 2  # from code: not checked
    _refused_at_train(train, monkeypatch, "binary_B")


def test_a_binary_mask_chosen_without_add_pair_is_refused_at_train(
    viewer_models, monkeypatch, nuclei
):
    viewer, _models = viewer_models
    image, labels = nuclei
    viewer.add_image(image, name="nuclei")
    viewer.add_labels((labels > 0).astype(np.int32), name="binary_C")
    train = _panel(viewer, NEW + "embedding")
    _choose(train, "nuclei", "binary_C")
    assert train.pairs == []
    _refused_at_train(train, monkeypatch, "binary_C")
