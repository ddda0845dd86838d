"""Train's Compare of a 2D boundary model (em-membranes2d, or a model trained from it) on a ZYX
layer: it ran the models without the layer's scale, so a layer whose scale gives the voxel
size (50 nm sections of 4 nm pixels) was agglomerated as if the sections were as thin as a
pixel is wide, unlike Segment's run of the same layer, and the engine's warning came once per
model, in the Python API's words ("image: no spacing given ... spacing=(Z, Y, X) ...
axes="TYX""), for a scaled layer too. Now Compare runs the models with the layer's scale, as
Segment does in memory, and only a layer without a scale gets one warning, naming it and its
scale."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import tifffile
from skimage.measure import label

from tessella._widgets import train as train_module
from tests.widgets.helpers import said, train_panel

SLICES = (15, 16, 17)
SCALE = (0.05, 0.004, 0.004)  # ISBI 2012: 50 nm sections, 4 nm pixels (µm)


@pytest.fixture(scope="module")
def pair(data_dir):
    """Slices 15-17 of ISBI 2012 (64x64 crops) and their cells (the regions between the
    membranes of its boundary masks), as labels."""
    root = data_dir / "em_membranes_isbi2012"
    image = np.stack([tifffile.imread(root / "images" / f"{i}.tif")[:64, :64] for i in SLICES])
    walls = [tifffile.imread(root / "boundaries" / f"{i}.tif")[:64, :64] for i in SLICES]
    return image, np.stack([label(w == 0) for w in walls]).astype(np.int32)


def _compare(train, qtbot, pair, name: str, **layer):
    """Compare em-membranes2d (as a trained model's base) with itself (as the trained model)
    on layer ``name`` of the pair: the labels of the second."""
    image, cells = pair
    viewer = train.viewer
    image_layer = viewer.add_image(image, name=name, **layer)
    labels_layer = viewer.add_labels(cells, name=f"{name} cells", **layer)
    train.last_pairs = ((image_layer.unique_id, labels_layer.unique_id),)
    with qtbot.waitSignal(train.compare_finished, timeout=300_000):
        assert train.compare()
    assert train.status_label.text().startswith(f"Against '{name} cells' on '{name}'")
    return viewer.layers[f"{name} by {train.last_model.name}"].data


def test_compare_warns_once_of_a_layer_without_scale_and_uses_a_scale(
    make_napari_viewer, qtbot, monkeypatch, pair
):
    import tessella
    from tessella.engine.registry import models_named

    found = models_named("em-membranes2d")
    if not found:
        pytest.skip("the bundled em-membranes2d model is not installed")
    train = train_panel(make_napari_viewer())
    # a model trained from em-membranes2d, compared with it (both 2D boundary models)
    train.last_model, train.last_base = Path(found[0][1]), "em-membranes2d"
    train.last_temporal = False
    warned = said(monkeypatch, train_module, "show_warning")
    plain = _compare(train, qtbot, pair, "em")
    [line] = [w for w in warned if "across slices" in w]  # (not once per model)
    assert line.startswith(
        "Compare: 'em': the layer has no Z scale; em-membranes2d joins objects across slices"
    )
    assert "viewer.layers['em'].scale = (50, 4, 4)" in line and "Compare again" in line
    assert "spacing=(" not in line and 'axes="TYX"' not in line

    warned.clear()
    train.last_base = None  # (the trained model alone, the scale's effect)
    compared = _compare(train, qtbot, pair, "em scaled", scale=SCALE)
    assert not [w for w in warned if "across slices" in w], warned
    # what Segment gives for the layer (its scale as the spacing), not the unscaled run's
    segmented = tessella.segment(pair[0], "em-membranes2d", axes="ZYX", spacing=SCALE)
    np.testing.assert_array_equal(compared, segmented)
    assert not np.array_equal(compared, plain)  # (the scale matters on these slices)
