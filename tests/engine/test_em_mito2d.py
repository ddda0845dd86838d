"""The bundled em-mito2d model on the Lucchi++ validation volume it never saw."""

import numpy as np
import tifffile

from tessella.engine import metrics
from tessella.engine.pipeline import run_steps, segment_steps
from tessella.engine.registry import load_model


def test_card_and_a_validation_stack(data_dir):
    model = load_model("em-mito2d")
    card = model.card.raw
    assert card["method"] == "semantic" and model.card.spatial_axes == "YX"
    assert card["training"]["command"].startswith("tessella train semantic")
    assert 0 < card["validation"]["scores"]["foreground_iou"] <= 1
    root = data_dir / "em_mito_lucchipp" / "val"
    image = tifffile.imread(root / "image.tif")[:6, 200:456, 300:556]
    truth = tifffile.imread(root / "mito.tif")[:6, 200:456, 300:556] > 0
    result = run_steps(segment_steps(image, model, "ZYX"))
    assert result.labels.shape == image.shape
    assert metrics.foreground_iou(truth.ravel(), result.labels.ravel() > 0) > 0.6
    # objects are 3D components: one mitochondrion keeps one label through the slices
    shared = np.intersect1d(np.unique(result.labels[0]), np.unique(result.labels[1]))
    assert len(shared[shared > 0]) > 0
