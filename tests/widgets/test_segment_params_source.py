"""Every Segment run names where its parameters came from, and the Parameters list shows,
before Run, that "As tuned on this image" gives the model's defaults on an image with no
result of its own while another image's result holds values tuned with the same model
(user test s33/t13 #6: a screener tuned well E03, clicked Run on D07 with the default
entry and got the card's values without a word, while a recipe run said its source)."""

from __future__ import annotations

import numpy as np

from tessella.engine.params import params_to_dict
from tests.widgets.helpers import choose_model
from tests.widgets.test_segment_parameters import (
    DEFAULTS,
    TUNED,
    choose,
    chosen,
    default_params,
    entries,
)
from tests.widgets.test_tune_widget import change


def test_a_run_names_its_parameters_and_another_image_s_tuning_is_offered_not_taken(
    segment_widget, nuclei_image, run_to_end, qtbot
):
    viewer, widget = segment_widget
    choose_model(widget, "nuclei2d")
    _dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    viewer.add_image(nuclei_image[:128, :128], name="E03")
    run_to_end(widget)
    assert widget.status_label.text().startswith("'E03': ")
    assert " s with nuclei2d's defaults, added 'E03 labels (nuclei2d)'" in (
        widget.status_label.text()
    )
    e03 = viewer.layers["E03 labels (nuclei2d)"]
    assert entries(widget)[0] == TUNED  # E03's own result: nothing tuned elsewhere
    change(qtbot, tune, min_size=150)  # tuned on E03
    assert e03.metadata["tessella_recipe"]["params"]["min_size"] == 150

    # the next well: no result of its own; E03's tuned values offered near the top
    d07 = viewer.add_image(nuclei_image[256:384, 256:384], name="D07")
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(d07.unique_id))
    assert entries(widget) == [
        "As tuned on this image (none yet: the model's defaults)",
        "As 'E03 labels (nuclei2d)'",
        DEFAULTS,
        "From recipe file…",
    ]
    assert chosen(widget) == "As tuned on this image (none yet: the model's defaults)"
    run_to_end(widget)  # not switched silently: the defaults, and the status says so
    layer = viewer.layers["D07 labels (nuclei2d)"]
    defaults = params_to_dict(default_params(widget))
    assert layer.metadata["tessella_recipe"]["params"] == defaults
    assert (
        " s with nuclei2d's defaults ('E03 labels (nuclei2d)' holds tuned values: see "
        "Parameters), added 'D07 labels (nuclei2d)'"
    ) in widget.status_label.text(), widget.status_label.text()
    # D07 has a result now, with the defaults: not tuned
    assert entries(widget)[:2] == [
        "As tuned on this image (not tuned: the model's defaults)",
        "As 'E03 labels (nuclei2d)'",
    ]

    choose(widget, "As 'E03 labels (nuclei2d)'")  # the user decides
    run_to_end(widget)
    assert layer.metadata["tessella_recipe"]["params"]["min_size"] == 150
    assert " s with the parameters of 'E03 labels (nuclei2d)', replaced 'D07 labels" in (
        widget.status_label.text()
    )
    # D07's own result holds tuned values now: the entry is this image's again
    assert entries(widget)[0] == TUNED
    choose(widget, TUNED)
    run_to_end(widget)
    assert " s with the parameters tuned before, replaced 'D07 labels" in (
        widget.status_label.text()
    )
    choose(widget, DEFAULTS)
    run_to_end(widget)
    assert " s with nuclei2d's defaults, replaced 'D07 labels (nuclei2d)'" in (
        widget.status_label.text()
    )
    assert np.asarray(layer.data).max() > 0

    # back on E03 (its own tuned result): the plain entry, E03's layer in its usual place
    e03_image = viewer.layers["E03"]
    widget.layer_combo.setCurrentIndex(widget.layer_combo.findData(e03_image.unique_id))
    assert entries(widget)[:2] == [TUNED, DEFAULTS]
