"""The bundled em-mito2d and em-mito3d models on the Lucchi++ validation volume they never saw."""

import numpy as np
import pytest
import tifffile

from tessella.engine import metrics
from tessella.engine.pipeline import run_steps, segment_steps
from tessella.engine.registry import load_model


@pytest.mark.parametrize("name,axes", [("em-mito2d", "YX"), ("em-mito3d", "ZYX")])
def test_card_and_a_validation_stack(data_dir, name, axes):
    model = load_model(name)
    card = model.card.raw
    assert card["method"] == "semantic" and model.card.spatial_axes == axes
    assert card["training"]["command"].startswith("tessella train semantic")
    assert 0 < card["validation"]["scores"]["foreground_iou"] <= 1
    root = data_dir / "em_mito_lucchipp" / "val"
    image = tifffile.imread(root / "image.tif")[:8, 200:456, 300:556]
    truth = tifffile.imread(root / "mito.tif")[:8, 200:456, 300:556] > 0
    result = run_steps(segment_steps(image, model, "ZYX"))
    assert result.labels.shape == image.shape
    assert metrics.foreground_iou(truth.ravel(), result.labels.ravel() > 0) > 0.6
    # objects are 3D components: one mitochondrion keeps one label through the slices
    shared = np.intersect1d(np.unique(result.labels[0]), np.unique(result.labels[1]))
    assert len(shared[shared > 0]) > 0
