"""*Add pair* and Train refuse an intensity image given as the labels, naming the layer (user
test t14, finding 2): the grey values of a real DSB2018 H&E image in a Labels layer were added
("Added 'he_0121d675 ↔ oops'") and trained on, with nothing said but the one-pair warning. Its
real mask (86 nuclei) is still added, and a semantic model refuses the grey image too while
it takes the binary mask it learns from."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

import tessella._widgets.train as train_module
from tessella._widgets.train import NEW
from tests.widgets.helpers import said
from tests.widgets.test_train_add_pair_refusals import _choose, _panel

OOPS = "oops (the image as labels)"


@pytest.fixture(scope="module")
def he_pair(data_dir):
    folder = data_dir / "nuclei2d_dsb2018" / "train"
    path = next((folder / "images").glob("0121d675*.tif"))
    return tifffile.imread(path), tifffile.imread(folder / "masks" / path.name).astype(np.int32)


def _layers(viewer, he_pair):
    image, mask = he_pair
    viewer.add_image(image, name="he_0121d675", rgb=True)
    viewer.add_labels(image.mean(-1).astype(np.uint16), name=OOPS)
    viewer.add_labels(mask, name="he_0121d675 gt")
    viewer.add_labels((mask > 0).astype(np.int32), name="he_0121d675 foreground")


@pytest.mark.parametrize("method", ["embedding", "semantic"])
def test_add_pair_refuses_the_image_given_as_labels(viewer_models, monkeypatch, he_pair, method):
    viewer, _models = viewer_models
    _layers(viewer, he_pair)
    train = _panel(viewer, NEW + method)
    errors = said(monkeypatch, train_module)
    _choose(train, "he_0121d675", OOPS)
    train.add_pair_button.click()
    assert train.pairs == []
    text = train.status_label.text()
    assert text.startswith(
        f"Not added: the labels of '{OOPS}' change from pixel to pixel as an image's grey "
        "levels do (152 values; 15% of neighbouring labelled pixels equal"
    ), text
    assert "an intensity image, not labels?" in text, text
    assert errors and errors[-1].startswith(f"Train: the labels of '{OOPS}'"), errors
    # its real labels are added; for the semantic model, the foreground mask too
    for labels in ["he_0121d675 gt"] + (["he_0121d675 foreground"] if method == "semantic" else []):
        _choose(train, "he_0121d675", labels)
        train.add_pair_button.click()
        pair = (viewer.layers["he_0121d675"].unique_id, viewer.layers[labels].unique_id)
        assert pair in train.pairs, train.status_label.text()


def test_the_image_as_labels_paired_from_code_is_refused_at_train(
    viewer_models, monkeypatch, he_pair
):
    viewer, _models = viewer_models
    _layers(viewer, he_pair)
    train = _panel(viewer, NEW + "embedding")
    train.add_pair(viewer.layers["he_0121d675"], viewer.layers["he_0121d675 gt"])
    train.add_pair(viewer.layers["he_0121d675"], viewer.layers[OOPS])
    errors = said(monkeypatch, train_module)
    train.device_combo.setCurrentText("cpu")
    assert train.start() is False
    text = train.status_label.text()
    assert text.startswith(f"Not started: the labels of '{OOPS}' change from pixel to pixel"), text
    assert errors and errors[-1].startswith(f"Train: the labels of '{OOPS}'"), errors
    assert train._run is None
