"""The bundled em-membranes2d model on ISBI 2012 slices it never saw (16-19)."""

import numpy as np
import pytest
import tifffile
from scipy import ndimage

from tessella.engine import metrics
from tessella.engine.pipeline import run_steps, segment_steps
from tessella.engine.registry import load_model

ISBI = "em_membranes_isbi2012"


@pytest.fixture(scope="module")
def model():
    return load_model("em-membranes2d")


def cells(data_dir, index: int) -> np.ndarray:
    membranes = tifffile.imread(data_dir / ISBI / "boundaries" / f"{index:02d}.tif")
    return ndimage.label(membranes == 0)[0]


def test_card_reports_measured_validation_scores_and_its_commands(model):
    card = model.card.raw
    assert card["method"] == "boundary" and model.card.spatial_axes == "YX"
    scores = card["validation"]["scores"]
    assert 0 < scores["vrand"] <= 1 and scores["voi"] > 0
    assert card["validation"]["as_3d_stack"]["vrand"] > 0
    command = card["training"]["command"]
    assert command.startswith("tessella train boundary") and "--exclude 16,17,18,19" in command


def test_segments_an_unseen_slice(model, data_dir):
    image = tifffile.imread(data_dir / ISBI / "images" / "16.tif")
    labels = run_steps(segment_steps(image, model, "YX")).labels
    score = metrics.rand_voi(cells(data_dir, 16), labels)
    assert score["vrand"] > 0.85, score


def test_a_stack_is_agglomerated_in_3d_with_its_voxel_size(model, data_dir):
    stack = np.stack([tifffile.imread(data_dir / ISBI / "images" / f"{i}.tif") for i in (16, 17)])
    result = run_steps(segment_steps(stack, model, "ZYX", spacing=(50.0, 4.0, 4.0)))
    assert result.labels.shape == stack.shape
    shared = np.intersect1d(np.unique(result.labels[0]), np.unique(result.labels[1]))
    assert len(shared[shared > 0]) > 30  # cells continue from one section into the next
    for z, index in enumerate((16, 17)):
        assert metrics.rand_voi(cells(data_dir, index), result.labels[z])["vrand"] > 0.85
