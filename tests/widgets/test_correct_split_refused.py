"""A split the engine refuses because it would leave pixels of the object in no piece (its
guard against erasing part of an object, 'a bug: nothing was changed') is said in the Correct
panel's status line as a refusal, with the labels and their history as they were; it reached
the user as napari's exception notice before, the edit half done in the panel's eyes. The
panel splits again afterwards.

The data: worms2d's result of BBBC010 B12, where worm 6 is shown in parts either side of worm
14 (test_correct_split_crossing); the guard is made to trip as the split of t13 finding 1 did
(the stretch past the crossing left in no piece) by taking their piece from the parts apart."""

from __future__ import annotations

import numpy as np
from scipy import ndimage as ndi

from tessella.engine import _edit_splits
from tests.widgets.test_correct_split_crossing import b12, b12_result  # noqa: F401


def test_a_split_refused_by_the_engine_is_said_and_changes_nothing(b12, monkeypatch):  # noqa: F811
    viewer, correct, layer, _instances, original = b12
    undo_steps = len(layer._undo_history)
    joined = _edit_splits._join_apart

    def stranded(pieces, region):  # the parts of worm 6 away from its main part: no piece
        pieces, parts, px = joined(pieces, region)
        apart, _count = ndi.label(region, np.ones((3, 3), bool))
        main = np.argmax(np.bincount(apart.ravel())[1:]) + 1
        return np.where(apart == main, pieces, 0), parts, px

    monkeypatch.setattr(_edit_splits, "_join_apart", stranded)
    correct.set_selection([6])
    correct.pieces_spin.setValue(2)
    correct.split_seeds_button.click()  # (an exception here fails the test: pytest-qt)
    status = correct.status_label.text()
    assert status.startswith(f"Split by watershed on layer '{layer.name}': refused: "), status
    assert "313 px of label 6 in no piece" in status and "the labels are as they were" in status
    np.testing.assert_array_equal(layer.data, original)
    assert len(layer._undo_history) == undo_steps
    assert correct.selected_ids() == [6]

    monkeypatch.undo()  # the panel goes on: the same split, done
    correct.split_seeds_button.click()
    assert correct.status_label.text().startswith("split 6 into 2 by watershed (new: 15)")
    assert set(np.unique(np.asarray(layer.data)[original == 6]).tolist()) == {6, 15}
    correct.undo_button.click()
    np.testing.assert_array_equal(layer.data, original)
