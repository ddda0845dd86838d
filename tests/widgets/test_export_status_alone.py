"""Export docked alone: a long status after a big export is shown whole at once (t6 finding 4)."""

from __future__ import annotations

from tests.widgets.test_dock_layout import _dock, _settle, _viewer

#: what Export said while writing, then after writing, the t6 tester's 20000² result
T6_WRITING = (
    "Exporting 'mosaic_labels_nuclei2d' (Cancel stops it after the step it is in: nothing is "
    "written, existing files stay as they are)…"
)
T6_WROTE = (
    "Wrote mosaic.ome.zarr, mosaic.csv (129940 objects; mean intensity of 'mosaic', the image "
    "their recipe names (/tmp/s30/t6/mosaic.zarr)), mosaic.recipe.json to /tmp/s30/t6/export."
)


def test_a_longer_status_is_shown_whole_as_soon_as_it_is_set(make_napari_viewer, qtbot):
    """Export alone in the right dock area of a 1500x950 window: the status after writing,
    a line longer than the one while writing, fits its label, and the options above it are
    not squeezed, before the event loop turns again (the tester's screenshot, taken as the
    worker finished, showed the label at the height of the text before: its first line
    half hidden at the top, its last word cut off, empty space below the panel)."""
    from qtpy.QtWidgets import QScrollArea

    viewer = _viewer(make_napari_viewer, qtbot, (1500, 950))
    [export] = _dock(viewer, "Export")
    label = export.status_label
    label.setText(T6_WRITING)
    _settle(qtbot)
    before = label.height()
    label.setText(T6_WROTE)  # (nothing else runs before the checks)
    needed = label.heightForWidth(label.width())
    assert needed > before  # (a line more, as the tester's)
    assert label.height() >= needed, (label.height(), needed)
    body = export.findChild(QScrollArea)
    assert body.verticalScrollBar().maximum() == 0  # every option still shown
    footer = label.parentWidget()
    assert body.geometry().bottom() < footer.geometry().top()
    assert footer.geometry().bottom() <= export.rect().bottom()
    _settle(qtbot)  # and so it stays
    assert label.height() >= label.heightForWidth(label.width())
