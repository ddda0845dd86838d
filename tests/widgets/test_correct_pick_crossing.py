"""*Pick* at a crossing of worms (worms2d's worms 4, on top, and 7 of the ``worms_result``
crop of BBBC010 B15): the worm on top is picked, and the status line names the worm hidden
under it there, whose colour the overlaps layer shows (s35 t21, finding 5)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from tests.widgets.conftest import worms_in_viewer


def _click(layer, y: int, x: int):
    world = layer.data_to_world((y, x))
    return SimpleNamespace(
        type="mouse_press", position=tuple(world), view_direction=None, dims_displayed=[0, 1]
    )


def test_pick_at_a_crossing_names_the_worm_hidden_there(make_napari_viewer, worms_result):
    viewer, correct, layer, overlaps, instances = worms_in_viewer(make_napari_viewer, worms_result)
    both = instances[3] & instances[6]
    y, x = (int(v) for v in np.argwhere(both)[both.sum() // 2])
    assert layer.data[y, x] == 4 and overlaps.data[y, x] == 7
    correct.pick_button.setChecked(True)
    correct._pick(layer, _click(layer, y, x))
    assert correct.selected_ids() == [4]
    said = correct.status_label.text()
    assert "selected 4, on top here" in said and "hidden: 7" in said, said
    # away from the crossing nothing is hidden: nothing said of it
    ys, xs = np.nonzero(instances[3] & ~instances[6])
    correct.set_selection([])
    correct._pick(layer, _click(layer, int(ys[0]), int(xs[0])))
    assert correct.selected_ids() == [4]
    assert "hidden" not in correct.status_label.text()
