"""The bundled nuclei2d model on real images it was not trained on."""

import numpy as np
import pytest

from tessella.engine import metrics
from tessella.engine.pipeline import run_steps, segment_steps


def _segment(model, image, **options):
    return run_steps(segment_steps(image, model, "YX", **options))


def test_card_reports_measured_validation_scores(nuclei2d):
    card = nuclei2d.card.raw
    scores = card["validation"]["scores"]
    assert 0 < scores["ap50"] <= 1 and 0 < scores["avs"] <= scores["ap50"]
    assert card["training"]["command"].startswith("tessella train embedding")
    assert card["training"]["data_license"] == "CC0"


def test_segments_the_held_out_sample_well(nuclei2d, nuclei_sample):
    image, truth = nuclei_sample
    labels = _segment(nuclei2d, image).labels
    score = metrics.matching(truth, labels, 0.5)
    assert score.ap > 0.75, score


def test_tiles_are_blended_before_clustering_so_seams_cut_no_object(nuclei2d, nuclei_sample):
    image, truth = nuclei_sample
    whole = _segment(nuclei2d, image, tile=1024).labels
    tiled = _segment(nuclei2d, image, tile=160).labels  # 16 windows, seams every ~64 px
    agreement = metrics.matching(whole, tiled, 0.5)
    assert agreement.ap > 0.95, agreement
    assert (
        abs(metrics.matching(truth, tiled, 0.5).ap - metrics.matching(truth, whole, 0.5).ap) < 0.03
    )


def test_rgb_input_is_handled_as_the_card_says(nuclei2d, nuclei_sample):
    image, truth = nuclei_sample
    rgb = np.repeat(image[..., None], 3, axis=2)
    result = run_steps(segment_steps(rgb, nuclei2d, "YXC"))
    assert result.labels.shape == image.shape
    assert metrics.matching(truth, result.labels, 0.5).ap > 0.75


@pytest.mark.slow
def test_test_time_augmentation_agrees_with_plain_prediction(nuclei2d, nuclei_sample):
    image, truth = nuclei_sample
    plain = _segment(nuclei2d, image).labels
    augmented = _segment(nuclei2d, image, tta=True).labels
    assert metrics.matching(plain, augmented, 0.5).ap > 0.85
    assert metrics.matching(truth, augmented, 0.5).ap > 0.75
