"""The steps of evaluate_labels_steps count the images from the start, and ground truth
annotated at some places is read there only, a place at a time: a lazy (dask) stack, as the
reader opens a large CTC SEG folder, scores as the same stack in memory."""

from __future__ import annotations

import numpy as np

from tessella.engine.evaluation import evaluate_labels, evaluate_labels_steps
from tessella.engine.progress import Progress, run_steps


def _sparse(nuclei_labels: np.ndarray):
    """Real nuclei labels (DSB2018) as 8 frames of 128 x 128, 3 of them annotated, and a
    prediction missing some objects: ``(truth, prediction, places)``."""
    frames = np.stack([nuclei_labels[:128, k * 48 :][:, :128] for k in range(8)])
    places = [(1,), (4,), (6,)]
    truth = np.zeros_like(frames)
    for place in places:
        truth[place] = frames[place]
    prediction = np.where(np.isin(frames, np.unique(frames)[1:6]), 0, frames)
    return truth, prediction, places


def test_annotated_steps_count_the_places_from_the_start(nuclei_sample):
    truth, prediction, places = _sparse(nuclei_sample[1])
    steps = evaluate_labels_steps(truth, prediction, annotated=places)
    assert [next(steps) for _ in range(3)] == [
        Progress("match", 0, 3),  # before any work: a progress bar counts from the start
        Progress("objects", 1, 1),
        Progress("match", 1, 3),
    ]
    movie = evaluate_labels_steps(truth, prediction, frame_axis=0)
    assert next(movie) == Progress("match", 0, 8)
    single = evaluate_labels_steps(truth[1], prediction[1])
    assert next(single) == Progress("objects", 1, 1)  # one image: as before


def test_a_lazy_stack_scores_as_in_memory_read_at_its_places(nuclei_sample):
    da = __import__("pytest").importorskip("dask.array")
    truth, prediction, places = _sparse(nuclei_sample[1])
    read: list = []
    lazy = da.from_array(truth, chunks=(1, 128, 128))
    lazy = lazy.map_blocks(
        lambda block, block_info=None: read.append(block_info[0]["chunk-location"][0]) or block,
        dtype=truth.dtype,
    )
    result = run_steps(evaluate_labels_steps(lazy, prediction, annotated=places))
    expected = evaluate_labels(truth, prediction, annotated=places)
    assert sorted(set(read)) == [1, 4, 6]  # the annotated frames only
    assert result.scores == expected.scores and result.notes == expected.notes
    assert (result.tp, result.fp, result.fn) == (expected.tp, expected.fp, expected.fn)
    assert np.array_equal(result.errors, expected.errors) and expected.fn > 0
