"""A Tune control moved while Segment runs again on the same image: the new result replaces
the layer's labels and Tune goes back to the run's parameters; its status line says so. The
slider went back without a word (user test s29/t1 P7)."""

from __future__ import annotations

from tests.widgets.test_segment_widget import choose_layer


def test_a_tune_change_during_a_segment_run_is_said_to_be_replaced(
    segment_widget, nuclei_image, run_to_end, qtbot
):
    viewer, segment = segment_widget
    _dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    viewer.add_image(nuclei_image[:256, :256], name="nuclei")
    choose_layer(segment, "nuclei")
    run_to_end(segment)
    layer = tune.labels_layer
    assert layer is not None and tune.controls
    ran = tune.params.min_size
    assert tune.status_label.text().endswith(": move a control to update.")

    # Run again; while it runs, min_size is moved in Tune (a preview of the labels on screen)
    with qtbot.waitSignal(segment.run_finished, timeout=120_000):
        segment.run_button.click()
        assert tune.set_param("min_size", ran + 200)
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)

    assert tune.labels_layer is layer  # the same layer, with the new result
    assert tune.params.min_size == ran  # the run's parameters, as before
    said = tune.status_label.text()
    assert said.startswith(f"'{layer.name}': the new result from Segment replaced your tuning")
    assert f"(min_size={ran + 200}); parameters reset to the run's (min_size={ran})" in said

    # a run with nothing tuned meanwhile says nothing of the kind
    run_to_end(segment)
    qtbot.waitUntil(lambda: not tune.busy, timeout=30_000)
    assert "replaced your tuning" not in tune.status_label.text()
