"""Correct's status line after a napari brush, eraser or fill stroke says the labels changed
outside the panel, not the panel's last edit as if it were the latest (user test s34/t17 #7:
"merge 72, 101 into 72 ... 26 px changed" stayed after a brush stroke); the panel's own edits
still say what they did."""

from __future__ import annotations

import numpy as np


def test_status_line_follows_a_brush_and_a_fill(make_napari_viewer, nuclei_sample):
    labels = nuclei_sample[1][:160, :160].astype(np.int32)
    a, b = (int(i) for i in np.unique(labels)[1:3])
    viewer = make_napari_viewer()
    layer = viewer.add_labels(labels.copy(), name="nuclei")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    widget.set_selection([a, b])
    widget.merge_button.click()
    assert widget.status_label.text().startswith("merge"), widget.status_label.text()

    layer.brush_size = 5
    layer.mode = "paint"
    layer._begin_stroke()
    layer.paint((80, 80), 999, refresh=False)
    layer._commit_stroke()
    painted = int((layer.data == 999).sum())
    assert widget.status_label.text() == (
        f"'nuclei' changed outside this panel (a brush, eraser or fill stroke): {painted} px; "
        "Undo takes it back"
    )
    layer.fill((80, 80), 998)
    assert "changed outside this panel" in widget.status_label.text()
    assert f": {painted} px" in widget.status_label.text()  # (the object refilled)

    widget.set_selection([998])
    widget.delete_button.click()  # the panel's own edit says what it did
    assert widget.status_label.text().startswith("delete 998 on 'nuclei'")
