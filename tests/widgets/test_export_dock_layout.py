"""A long Export status in a dock area shared by three panels is shown whole."""

from __future__ import annotations

from tests.widgets.test_dock_layout import _check_key_controls, _dock, _settle, _viewer


def test_a_long_export_status_below_segment_and_evaluate_is_shown_whole(make_napari_viewer, qtbot):
    """Segment, Evaluate and Export docked in a 1600x1000 window: a status of four wrapped
    lines (what Export says after writing a stack, a CSV and a recipe into a new folder) is
    shown whole, and the Export button covers none of the options above it (the status was
    cut at its first and last lines, the Save as box hidden under the button: the footer was
    squeezed below the height its wrapped text needs); a short status gives the height back."""
    viewer = _viewer(make_napari_viewer, qtbot, (1600, 1000))
    _segment, _evaluate, export = _dock(viewer, "Segment", "Evaluate", "Export")
    _settle(qtbot)
    folder = "/tmp/acceptance/worms/exp_new"
    export.status_label.setText(
        f"Wrote E03 labels.tif, E03 labels.stack.tif (14 whole objects: the network's "
        f"instances), E03 labels.csv (14 objects), E03 labels.recipe.json to {folder} (a new "
        "folder); the scale (Y 1.2, X 1.2) has no unit: written as µm (set the layer's units "
        "to say otherwise)."
    )
    _settle(qtbot)

    from qtpy.QtWidgets import QScrollArea

    _check_key_controls(export, "export_button", "status_label")
    label = export.status_label
    assert label.height() >= label.heightForWidth(label.width())  # no line cut off
    body = export.findChild(QScrollArea)
    footer = export.export_button.parentWidget()
    assert body.geometry().bottom() < footer.geometry().top()  # nothing under the button
    tall = footer.height()
    label.setText("Ready")  # a short status again: the footer gives the height back
    _settle(qtbot)
    assert footer.height() < tall
