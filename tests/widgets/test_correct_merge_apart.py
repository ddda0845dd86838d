"""Correct's *Merge* of objects that do not touch says so: the merged object's pieces and
the gap between them (s35 t19 #11: two cells 17 px apart merged into one label of two pieces
without a word, which Export CTC then wrote); a merge of touching objects says nothing of it."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi
from scipy.spatial.distance import cdist


def _pairs(labels: np.ndarray):
    """``(touching, apart, gap)``: two touching nuclei; two apart, ``gap`` px between centres
    of their nearest pixels."""
    right = (labels[:, :-1] != labels[:, 1:]) & (labels[:, :-1] > 0) & (labels[:, 1:] > 0)
    ys, xs = np.nonzero(right)
    touching = (int(labels[ys[0], xs[0]]), int(labels[ys[0], xs[0] + 1]))
    ids = [k for k in np.unique(labels[labels > 0]).tolist() if k not in touching]
    first = ids[0]
    near = ndi.distance_transform_edt(labels != first)
    others = [(float(near[labels == k].min()), k) for k in ids[1:]]
    gap, second = min(o for o in others if o[0] > 3)
    points = [np.argwhere(labels == k) for k in (first, second)]
    assert cdist(*points).min() == gap  # (the same gap, counted another way)
    return touching, (first, second), gap


def _correct(make_napari_viewer, data, **options):
    viewer = make_napari_viewer()
    layer = viewer.add_labels(data.copy(), name="cells", **options)
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(layer.unique_id))
    return viewer, widget, layer


def test_merging_objects_apart_names_the_pieces_and_the_gap(make_napari_viewer, nuclei_sample):
    labels = nuclei_sample[1].astype(np.int32)
    touching, apart, gap = _pairs(labels)
    viewer, widget, layer = _correct(make_napari_viewer, labels)
    widget.set_selection(list(apart))
    assert widget.merge()
    said = widget.status_label.text()
    merged = min(apart)
    assert f"{merged} is now 2 pieces that do not touch, {gap:.0f} px apart" in said, said
    assert "Export writes them as one object" in said, said
    widget.undo_button.click()
    widget.set_selection(list(touching))
    assert widget.merge()
    assert "do not touch" not in widget.status_label.text()


def test_in_a_movie_frame_too(make_napari_viewer, nuclei_sample):
    labels = nuclei_sample[1].astype(np.int32)
    _touching, apart, gap = _pairs(labels)
    movie = np.stack([labels] * 3)
    viewer, widget, layer = _correct(make_napari_viewer, movie, metadata={"axes": "TYX"})
    viewer.dims.set_current_step(0, 1)
    widget.set_selection(list(apart))
    assert widget.merge()
    said = widget.status_label.text()
    assert "in frame 1" in said, said
    assert f"{apart[0]} is now 2 pieces that do not touch, {gap:.0f} px apart" in said, said
