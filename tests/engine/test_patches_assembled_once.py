"""The patches method keeps its last assemblies: the labels and then the stack of one
prediction with the same parameters (the pipeline's postprocess, then a caller's instances)
assemble once, and what callers get stays theirs."""

from __future__ import annotations

import numpy as np

from tessella.engine.methods import patches
from tests.conftest import crossing_rods, perfect_patch_prediction


def _counting(monkeypatch) -> list:
    calls: list = []
    original = patches._assemble_sparse
    monkeypatch.setattr(patches, "_assemble_sparse", lambda *a: calls.append(1) or original(*a))
    return calls


def test_labels_then_the_stack_assemble_once_and_equal_a_fresh_assembly(monkeypatch):
    rods = crossing_rods()
    prediction = perfect_patch_prediction(rods)
    params = patches.Params(min_size=20)
    fresh_labels, fresh_stack = patches.labels_and_instances(perfect_patch_prediction(rods), params)
    assembled = _counting(monkeypatch)

    labels = patches.postprocess(prediction, params)
    stack = patches.instances(prediction, params)

    assert len(assembled) == 1  # (two before: postprocess and instances each assembled)
    np.testing.assert_array_equal(labels, fresh_labels)
    np.testing.assert_array_equal(stack, fresh_stack)
    assert len(stack) == 3 and (stack.sum(0) > 1).any()  # the crossing rods overlap
    # a caller's arrays are its own: changing them changes nothing the next caller gets
    labels[:] = 0
    stack[:] = False
    np.testing.assert_array_equal(patches.postprocess(prediction, params), fresh_labels)
    np.testing.assert_array_equal(patches.assemble(prediction, params), fresh_stack)
    assert len(assembled) == 1


def test_other_parameters_or_another_prediction_assemble_again(monkeypatch):
    rods = crossing_rods()
    prediction = perfect_patch_prediction(rods)
    params = patches.Params(min_size=20)
    assembled = _counting(monkeypatch)
    merged = patches.Params(min_size=20, mutex=False, affinity_threshold=0.05)

    patches.postprocess(prediction, params)
    components = patches.instances(prediction, merged)  # steps 4-6 differ: assembled
    assert len(assembled) == 2 and len(components) == 2  # the crossing rods as one
    assert len(patches.instances(prediction, params)) == 3  # the setting before: kept
    assert len(assembled) == 2
    # the same values in another prediction: no assembly of an object it is not
    patches.postprocess(perfect_patch_prediction(rods), params)
    assert len(assembled) == 3
