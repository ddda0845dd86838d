"""Correct's *Next suspicious* on a labels layer with fewer (or more) axes than the viewer
(user test s34/t17 #1: a 2D image beside a movie raised IndexError in step_suspicious, which
aborted a plain script): it moves the slider and the camera to the object, whatever the
layers beside it, their translate and scale, and the 2D or 3D view; and a Correct button
whose handler fails says so on the status line instead of raising out of the Qt slot."""

from __future__ import annotations

import numpy as np
import pytest

SCALE = (0.5, 0.25)
TRANSLATE = (10.0, -4.0)


@pytest.fixture(scope="module")
def labels(nuclei_sample):
    crop = nuclei_sample[1][:160, :200].astype(np.int32)
    crop[100:104, 150:155] = crop.max() + 1  # a 20-pixel speck: small, so suspicious
    return crop


def _centre_on_screen(viewer, layer, suspect):
    """Where the suspicious object's centre is, in the viewer's world coordinates."""
    world = np.asarray(layer.data_to_world(suspect.centroid), float)
    return world


def _dock(viewer, layer):
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findText(layer.name))
    return widget


@pytest.mark.parametrize(("other", "ndisplay"), [("movie", 2), ("volume4d", 3)])
def test_next_suspicious_on_2d_labels_beside_more_axes(make_napari_viewer, labels, other, ndisplay):
    viewer = make_napari_viewer()
    shape = (5, 64, 64) if other == "movie" else (3, 4, 32, 32)
    viewer.add_labels(np.zeros(shape, np.int32), name=other)
    layer = viewer.add_labels(labels.copy(), name="nuclei", scale=SCALE, translate=TRANSLATE)
    viewer.dims.ndisplay = ndisplay
    widget = _dock(viewer, layer)
    before = viewer.dims.point[: viewer.dims.ndim - 2]

    widget.next_button.click()  # (an error raised out of the slot fails the test)
    suspect = widget.suspects()[widget._suspect_index]
    assert widget.suspect_label.text().startswith(f"1 of {len(widget.suspects())}: label")
    assert widget.selected_ids() == [suspect.label]
    world = _centre_on_screen(viewer, layer, suspect)
    centre = np.asarray(viewer.scene.camera.center, float)[-2:]
    np.testing.assert_allclose(centre, world, atol=1e-6)
    # the other layer's axes were left where they were
    np.testing.assert_allclose(viewer.dims.point[: viewer.dims.ndim - 2], before)
    step = widget.step_suspicious(+1)
    np.testing.assert_allclose(
        np.asarray(viewer.scene.camera.center, float)[-2:],
        _centre_on_screen(viewer, layer, step),
        atol=1e-6,
    )


def test_next_suspicious_on_a_movie_beside_a_2d_image(make_napari_viewer, labels):
    viewer = make_napari_viewer()
    viewer.add_labels(labels.copy(), name="still")
    movie = np.zeros((4, *labels.shape), np.int32)
    movie[:] = labels
    speck = int(labels.max()) + 5
    movie[2, 20:24, 30:35] = speck  # a speck in frame 2 only
    layer = viewer.add_labels(movie, name="movie", scale=(1.0, *SCALE), translate=(0, 3, 7))
    layer.metadata = {**layer.metadata, "axes": "TYX"}
    widget = _dock(viewer, layer)

    for ndisplay in (2, 3):
        viewer.dims.ndisplay = ndisplay
        viewer.dims.set_point(0, 0)
        index = next(i for i, s in enumerate(widget.suspects()) if s.label == speck)
        widget._suspect_index = index - 1
        widget.next_button.click()
        suspect = widget.suspects()[widget._suspect_index]
        assert suspect.label == speck
        assert widget.suspect_label.text().startswith(f"{index + 1} of ")
        world = np.asarray(layer.data_to_world(suspect.centroid), float)
        centre = np.asarray(viewer.scene.camera.center, float)
        if ndisplay == 2:
            assert viewer.dims.point[0] == pytest.approx(2)  # the slider moved to frame 2
            np.testing.assert_allclose(centre[-2:], world[1:], atol=1e-6)
        else:
            np.testing.assert_allclose(centre, world, atol=1e-6)


def test_a_failing_correct_button_says_so(make_napari_viewer, labels, monkeypatch):
    viewer = make_napari_viewer()
    layer = viewer.add_labels(labels.copy(), name="nuclei")
    widget = _dock(viewer, layer)

    def broken(*_args, **_kwargs):
        raise IndexError("index 2 is out of bounds for axis 0 with size 2")

    monkeypatch.setattr(layer, "data_to_world", broken)
    widget.next_button.click()  # not raised out of the Qt slot
    text = widget.status_label.text()
    assert text.startswith("Next suspicious on 'nuclei' failed: IndexError: index 2")
    assert "please report it" in text


def test_a_failing_lineage_button_says_so(make_napari_viewer, labels, monkeypatch):
    """The tracks' buttons (connected by their own mixin) are guarded the same way."""
    viewer = make_napari_viewer()
    movie = np.stack([labels, labels])
    layer = viewer.add_labels(movie, name="movie", metadata={"axes": "TYX"})
    widget = _dock(viewer, layer)
    widget.set_selection([int(labels.max())])

    calls = []

    def broken(*_args, **_kwargs):
        calls.append(1)
        raise KeyError("lost")

    monkeypatch.setattr(widget, "_begin", broken)
    widget.break_track_button.click()
    assert calls == [1]  # (once: the mixin's own connection was replaced, not doubled)
    assert widget.status_label.text().startswith(
        "Break track here on 'movie' failed: KeyError: 'lost'"
    )
