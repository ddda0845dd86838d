"""Segment and Export of a patches result (objects that overlap) assemble its objects once."""

from __future__ import annotations

import numpy as np

from tessella.engine.io import read_mask_stack
from tests.widgets.helpers import result_name


def test_segment_then_export_with_a_mask_stack_assemble_the_objects_once(
    make_napari_viewer, tiny_patches_dir, nuclei_image, run_to_end, tmp_path, monkeypatch
):
    """Segment's labels, its overlaps layer, Export's offer of the mask stack and the stack
    it writes: one assembly of the same prediction and parameters (there were four: the
    pipeline's postprocess, then instances for the overlaps layer, the offer and the stack)."""
    from tessella.engine.methods import patches

    assembled: list = []
    original = patches._assemble_sparse
    monkeypatch.setattr(patches, "_assemble_sparse", lambda *a: assembled.append(1) or original(*a))
    viewer = make_napari_viewer()
    viewer.add_image(nuclei_image[:128, :128], name="nuclei")
    _dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    _dock, export = viewer.window.add_plugin_dock_widget("tessella", "Export")
    assert segment.add_model(tiny_patches_dir)
    run_to_end(segment)
    layer = viewer.layers[result_name(segment, "nuclei")]
    export.labels_combo.setCurrentIndex(export.labels_combo.findText(layer.name))
    assert export.stack_checkbox.isEnabled()  # a result whose objects may overlap
    export.stack_checkbox.setChecked(True)
    export.path_edit.setText(str(tmp_path / "n"))

    written = export.export()

    assert [p.name for p in written][:2] == ["n.tif", "n.stack.tif"]
    assert len(assembled) == 1
    stack = read_mask_stack(tmp_path / "n.stack.tif")
    labels = np.asarray(layer.data)
    assert (
        labels.max() > 0 and len(stack) == labels.max()
    )  # the stack's objects are the labels' (object k is k + 1)
    for k, mask in enumerate(stack):
        assert mask[labels == k + 1].all()
