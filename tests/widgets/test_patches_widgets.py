"""Overlapping objects (patches method) in napari: an "overlaps" layer beside the labels."""

from __future__ import annotations

import numpy as np
from napari.layers import Labels

from tessella._widgets import _results
from tests.widgets.conftest import rods_labels_and_hidden


def test_segment_runs_a_patches_model(
    make_napari_viewer, tiny_patches_dir, nuclei_image, run_to_end
):
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    viewer.add_image(nuclei_image[:128, :128], name="nuclei")
    assert widget.add_model(tiny_patches_dir)
    widget.tta_checkbox.setChecked(True)  # patches are averaged in patch space

    run_to_end(widget)

    layer = viewer.layers["nuclei labels (tiny_patches)"]
    assert layer.data.shape == (128, 128)
    assert layer.metadata["tessella_recipe"]["tta"] is True
    assert widget.run_button.isEnabled()


def test_overlaps_layer_shows_hidden_objects_and_follows_tune(
    make_napari_viewer, rods_result, qtbot
):
    from tessella.engine.methods import patches

    rods, result = rods_result
    prediction, params, labels = result.predictions[0], result.params, result.labels

    viewer = make_napari_viewer()
    layer = viewer.add_labels(labels, name="rods labels")
    _results.register(layer, result, viewer.layers)
    hidden = _results.overlap_labels(patches, prediction, params, labels)
    overlaps = _results.show_overlaps(viewer, layer, hidden)
    assert isinstance(overlaps, Labels) and overlaps.name == "rods labels overlaps"
    crossing = rods[0] & rods[1]
    # the label image shows one rod at the crossing; the overlaps layer has the other, whole
    shown = set(np.unique(labels[crossing]))
    assert len(shown) == 1
    under = set(np.unique(overlaps.data[crossing])) - {0}
    assert len(under) == 1 and under != shown
    rod_under = (
        rods[0]
        if (overlaps.data == under.pop()).sum() > 0
        and ((overlaps.data > 0) & rods[0]).sum() > ((overlaps.data > 0) & rods[1]).sum()
        else rods[1]
    )
    assert ((overlaps.data > 0) & rod_under).sum() >= 0.95 * rod_under.sum()

    _dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    tune.layer_combo.setCurrentIndex(tune.layer_combo.findData(layer.unique_id))
    assert "mutex" in tune.controls and "cover_threshold" in tune.controls
    # components with a loose threshold merge the crossing rods: nothing overlaps any more
    with qtbot.waitSignal(tune.update_finished, timeout=30_000):
        tune.set_param("mutex", False)
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    with qtbot.waitSignal(tune.update_finished, timeout=30_000):
        tune.set_param("affinity_threshold", 0.05)
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    assert len(np.unique(layer.data)) - 1 == 2
    # the overlaps layer stays, empty (it was removed, its display settings lost)
    assert _results.companion_layer(viewer, layer, "overlaps") is overlaps
    assert overlaps in viewer.layers and not overlaps.data.any()
    # back to the defaults (mutex watershed): the overlaps layer fills again
    with qtbot.waitSignal(tune.update_finished, timeout=30_000):
        tune.set_param("mutex", True)
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    with qtbot.waitSignal(tune.update_finished, timeout=30_000):
        tune.set_param("affinity_threshold", 0.5)
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    assert len(np.unique(layer.data)) - 1 == 3
    assert _results.companion_layer(viewer, layer, "overlaps") is overlaps
    assert overlaps.data.any()


def test_labels_segmented_again_after_a_removal_take_over_their_overlaps_layer(
    make_napari_viewer,
):
    rods, labels, hidden = rods_labels_and_hidden()
    viewer = make_napari_viewer()
    layer = viewer.add_labels(labels, name="rods labels")
    overlaps = _results.show_overlaps(viewer, layer, hidden)

    viewer.layers.remove(layer)
    assert not overlaps.visible  # the overlaps of labels that are gone are not drawn
    again = viewer.add_labels(labels.copy(), name="rods labels")
    fewer = np.zeros_like(hidden)
    fewer[rods[0] & rods[1]] = 2
    assert _results.show_overlaps(viewer, again, fewer) is overlaps
    assert overlaps.visible
    overlaps.visible = False  # the user hides it: another update leaves it hidden
    _results.show_overlaps(viewer, again, fewer)
    assert not overlaps.visible

    assert [lyr.name for lyr in viewer.layers] == ["rods labels", "rods labels overlaps"]
    assert _results.companion_layer(viewer, again, "overlaps") is overlaps
    np.testing.assert_array_equal(overlaps.data, fewer)
    # another labels layer's name takes over nothing
    viewer.layers.remove(again)
    other = viewer.add_labels(labels.copy(), name="worms labels")
    assert _results.show_overlaps(viewer, other, fewer) is not overlaps


def test_the_overlaps_layer_takes_the_units_and_axes_of_its_labels(make_napari_viewer):
    """Labels in µm: their overlaps layer lies where they do in the same units and axis
    labels (it had napari's "pixel", and napari then dropped the units of every layer:
    "Inconsistent units across layers"); labels made again at another pixel size move it."""
    rods, labels, hidden = rods_labels_and_hidden()
    viewer = make_napari_viewer()
    layer = viewer.add_labels(
        labels, name="rods labels", scale=(1.2, 1.2), units=("µm", "µm"), axis_labels=("y", "x")
    )

    overlaps = _results.show_overlaps(viewer, layer, hidden)

    assert tuple(overlaps.units) == tuple(layer.units)
    assert tuple(overlaps.axis_labels) == ("y", "x")
    assert tuple(overlaps.scale) == (1.2, 1.2)
    assert viewer.layers.extent.units is not None  # (None: the warning, no units drawn)
    layer.scale, layer.units = (0.3, 0.3), ("nm", "nm")
    assert _results.show_overlaps(viewer, layer, hidden) is overlaps
    assert tuple(overlaps.scale) == (0.3, 0.3)
    assert tuple(overlaps.units) == tuple(layer.units)
    assert viewer.layers.extent.units is not None
