"""``Evaluation``'s repr is a summary (user test s28/t4, problem 7: ``repr`` of
``tessella.evaluate(...)`` printed the whole error map after the scores)."""

from __future__ import annotations

import numpy as np


def test_an_evaluation_s_repr_gives_counts_and_scores_not_the_error_map(nuclei_sample):
    import tessella

    truth = np.asarray(nuclei_sample[1])  # the real ground truth of the shipped sample
    predicted = np.where(truth % 3 == 0, 0, truth)  # a third of the objects missed
    scored = tessella.evaluate(truth, predicted, metrics_wanted=("ap", "seg", "vrand"))
    shown = repr(scored)
    assert "array(" not in shown and "\n" not in shown and len(shown) < 300, shown
    assert shown.startswith(
        f"Evaluation(threshold=0.5, n_true={scored.n_true}, n_pred={scored.n_pred}, "
        f"tp={scored.tp}, fp={scored.fp}, fn={scored.fn}, "
    )
    assert f"ap@0.5={scored.scores['ap']['0.5']:.3g}" in shown
    assert f"vrand={scored.scores['vrand']:.3g}" in shown and "voi=" in shown
    assert f"errors=uint8 {truth.shape}" in shown
