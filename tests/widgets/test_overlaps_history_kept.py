"""What you paint into the "overlaps" layer yourself keeps its undo history through edits
elsewhere (README; review r4, finding 5): a Delete at a crossing rewrites the overlaps
layer's hidden pixels there, which cleared its whole undo history, the dab painted far away
included. It starts over only where a rewritten pixel lies in a step of it."""

from __future__ import annotations

import numpy as np

from tests.widgets.test_correct_crossing_gaps import _crossing, worms  # noqa: F401


def test_a_dab_far_away_keeps_its_undo(worms):  # noqa: F811
    from tessella._widgets._correct_edits import _history

    viewer, correct, layer, overlaps, instances = worms
    both, top, under = _crossing(layer, overlaps, instances)
    assert not both[:20, :20].any() and not overlaps.data[:20, :20].any()
    overlaps.paint((3, 3), 99)
    steps = len(_history(overlaps, "undo"))
    assert steps >= 1 and overlaps.data[3, 3] == 99
    correct.set_selection([top])
    assert correct.delete()  # the worm under it shows there: nothing hidden at the crossing
    assert not np.asarray(overlaps.data)[both].any()
    assert overlaps.data[3, 3] == 99 and len(_history(overlaps, "undo")) == steps
    overlaps.undo()
    assert overlaps.data[3, 3] == 0 and not np.asarray(overlaps.data)[both].any()
