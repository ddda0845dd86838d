"""Widget test fixtures: a docked Segment widget with a model to run, a docked Tune widget, and
real images.

napari's settings and caches already go to temporary folders: ``tests/conftest.py`` sets
``XDG_CONFIG_HOME``/``XDG_CACHE_HOME`` before napari is imported when the Makefile has not.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

FIXTURE_IMAGE = "fixtures/img2d.tif"  # a real 512x512 nuclei image in ../shared/data


@pytest.fixture(scope="session")
def segment_model_dir(request) -> Path:
    """The bundled nuclei2d model when it is installed, else a tiny model trained for two
    steps: the widget tests check behaviour, never segmentation quality."""
    from tessella.engine.registry import list_models

    for card, directory, _origin in list_models():
        if card.name == "nuclei2d":
            return directory
    return request.getfixturevalue("tiny_model_dir")


@pytest.fixture(scope="session")
def nuclei_image(nuclei_sample) -> np.ndarray:
    """A real 512x512 fluorescence nuclei image (the shipped sample's top when the shared
    data are absent)."""
    from tests.conftest import DATA

    path = DATA / FIXTURE_IMAGE
    if path.is_file():
        import tifffile

        return tifffile.imread(path)
    return nuclei_sample[0][:512]


@pytest.fixture
def segment_widget(make_napari_viewer, segment_model_dir):
    """A viewer and its Segment widget, docked through the manifest, with the test model."""
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    assert widget.add_model(segment_model_dir)
    return viewer, widget


@pytest.fixture
def viewer_models(make_napari_viewer, tmp_path, monkeypatch):
    """A viewer and the user models folder ($TESSELLA_MODELS, empty) a Train panel saves in."""
    monkeypatch.setenv("TESSELLA_MODELS", str(tmp_path / "models"))
    return make_napari_viewer(), tmp_path / "models"


@pytest.fixture
def docked_tune(make_napari_viewer):
    """A viewer and its Tune widget, docked through the manifest: ``(viewer, widget)``."""
    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Tune")
    return viewer, widget


@pytest.fixture
def run_to_end(qtbot):
    """Click Run and wait until the widget is usable again (done, failed or cancelled)."""

    def run(widget, timeout: int = 120_000) -> None:
        with qtbot.waitSignal(widget.run_finished, timeout=timeout):
            widget.run_button.click()

    return run


@pytest.fixture(scope="module")
def result_2d(nuclei_image, segment_model_dir):
    """A real Segment result (network run once per module) on a 512x512 nuclei image."""
    from tessella.engine.pipeline import run_steps, segment_steps

    return run_steps(segment_steps(nuclei_image, str(segment_model_dir), "YX"))


@pytest.fixture(scope="module")
def result_tyx(nuclei_image, segment_model_dir):
    """A 3-frame time-lapse made of three different 192x192 crops of the nuclei image."""
    from tessella.engine.pipeline import run_steps, segment_steps

    frames = [nuclei_image[y : y + 192, x : x + 192] for y, x in ((0, 0), (160, 200), (300, 300))]
    return run_steps(segment_steps(np.stack(frames), str(segment_model_dir), "TYX"))


def rods_labels_and_hidden():
    """Three crossing rods (``tests.conftest.crossing_rods``) as a label image (rod k is
    ``k + 1``, later rods painted over earlier ones) and the overlaps layer's data that shows
    rod 1 where rod 2 hides it: ``(rods, labels, hidden)``."""
    from tests.conftest import crossing_rods

    rods = crossing_rods()
    labels = np.zeros(rods.shape[1:], np.int32)
    for k, rod in enumerate(rods):
        labels[rod] = k + 1
    hidden = np.where(rods[0] & rods[1], 1, 0).astype(np.int32)
    return rods, labels, hidden


@pytest.fixture
def rods_result(tiny_patches_dir):
    """A patches result on crossing rods whose prediction is perfect (the tiny model's run,
    its prediction replaced): ``(rods, result)``, ``result.labels`` its assembled labels."""
    from dataclasses import replace

    from tessella.engine.methods import patches
    from tessella.engine.pipeline import run_steps, segment_steps
    from tests.conftest import crossing_rods, perfect_patch_prediction

    rods = crossing_rods()
    image = rods.any(0) * 200.0 + np.random.default_rng(0).normal(20, 5, rods.shape[1:])
    result = run_steps(segment_steps(image, str(tiny_patches_dir), "YX"))
    prediction = perfect_patch_prediction(rods)
    params = patches.Params(min_size=20)
    labels = patches.postprocess(prediction, params)
    return rods, replace(result, predictions=[prediction], params=params, labels=labels)


@pytest.fixture
def lazy_nuclei(tmp_path, nuclei_sample):
    """The real 520x512 nuclei sample as a chunked zarr array (what a big file would be)."""
    import zarr

    image = nuclei_sample[0]
    array = zarr.create_array(
        str(tmp_path / "nuclei.zarr"), shape=image.shape, dtype=image.dtype, chunks=(256, 256)
    )
    array[...] = image
    return zarr.open_array(str(tmp_path / "nuclei.zarr"), mode="r")


#: the 256² crop of BBBC010 B15 where worm 4 lies over worm 7 (94 px)
WORMS_CROP = (slice(130, 386), slice(220, 476))


@pytest.fixture(scope="session")
def worms_result(data_dir):
    """worms2d's result of :data:`WORMS_CROP` of BBBC010 B15 (its ``gfp/`` image is the
    brightfield one), run once."""
    import tifffile

    from tessella.engine.pipeline import run_steps, segment_steps

    image = tifffile.imread(data_dir / "worms_bbbc010" / "gfp" / "B15.tif")[WORMS_CROP]
    return run_steps(segment_steps(image, "worms2d", "YX"))


def worms_in_viewer(make_napari_viewer, result):
    """``(viewer, correct, labels layer, overlaps layer, instances)``: ``result``'s worms as
    Segment shows them (labels with their recipe, the overlaps layer), Correct docked on them."""
    from tessella._io import RECIPE_KEY
    from tessella._widgets import _results
    from tessella.engine.methods import get_method

    method = get_method(result.model.card.method)
    prediction, params = result.predictions[0], result.params
    viewer = make_napari_viewer()
    layer = viewer.add_labels(result.labels.copy(), name="B15 labels (worms2d)")
    layer.metadata[RECIPE_KEY] = result.recipe()
    _results.note_labels_state(layer, result.recipe()["params"], None)
    _results.register(layer, result, viewer.layers)
    hidden = _results.overlap_labels(method, prediction, params, result.labels)
    overlaps = _results.show_overlaps(viewer, layer, hidden)
    instances = np.asarray(method.instances(prediction, params), bool)
    _dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
    correct.layer_combo.setCurrentIndex(correct.layer_combo.findData(layer.unique_id))
    return viewer, correct, layer, overlaps, instances
