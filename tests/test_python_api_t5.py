"""The Python API as a notebook analyst scripts it (user test t5): labels that are not
integers are refused by ``write_labels`` as ``evaluate`` refuses them, warnings point at the
user's call and come once per input under Python's default filters, a metric may be one
string, ``segment_blockwise`` takes parameters as keywords, recipes replay from Python,
``measure_objects`` takes ``read_image``'s empty pixel size."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import tessella


def test_write_labels_refuses_float_labels_it_would_truncate(tmp_path):
    """1.2 and 1.7 were both written as 1 (one object), 0.6 as background, silently; NaN
    failed in numpy's words, naming no file."""
    labels = np.zeros((8, 8), np.float32)
    labels[1:3, 1:3], labels[4:6, 4:6], labels[6, 6] = 1.2, 1.7, 0.6
    out = tmp_path / "float.tif"
    with pytest.raises(ValueError, match=r"float\.tif: labels must be integers.*fractions"):
        tessella.write_labels(out, labels, "YX")
    labels[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"float\.tif: labels must be integers.*NaN"):
        tessella.write_labels(out, labels, "YX")
    # whole numbers in a float array: refused too, as evaluate refuses them
    whole = np.round(np.nan_to_num(labels))
    with pytest.raises(ValueError, match=r"float\.tif: .*astype"):
        tessella.write_labels(out, whole, "YX")
    with pytest.raises(TypeError, match="integer label image"):
        tessella.evaluate(whole.astype(int), whole)
    assert not out.exists()
    tessella.write_labels(out, whole.astype(np.uint16), "YX")  # integers are written
    np.testing.assert_array_equal(tessella.read_image(out).data, whole)


@pytest.fixture(scope="module")
def isbi_stack(data_dir):
    """4 ISBI 2012 sections (50 nm of 4 nm pixels), 64x64 crops: a ZYX stack."""
    import tifffile

    images = data_dir / "em_membranes_isbi2012" / "images"
    return np.stack([tifffile.imread(images / f"{i:02d}.tif")[:64, :64] for i in range(15, 19)])


def test_warnings_name_the_user_s_line_and_come_for_each_input(isbi_stack):
    """Tessella's warnings named its own lines (progress.py, in ``next(generator)``), so
    Python's default filter (once per location and text) showed the UnknownZSpacingWarning
    for the first volume only: a second volume was segmented without spacing unwarned."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("default")  # Python's default action, as in a notebook
        for volume in (isbi_stack[:2], isbi_stack[2:]):  # two volumes, one line
            steps = tessella.segment_steps(volume, "em-membranes2d", "ZYX", tta=False)
            next(steps)  # (the warning comes before the network)
            steps.close()
        # a spacing without Z: ignored, and the second warning says so, not "no spacing"
        steps = tessella.segment_steps(
            isbi_stack, "em-membranes2d", "ZYX", tta=False, spacing={"Y": 4, "X": 4}
        )
        next(steps)
        steps.close()
    said = [w for w in caught if issubclass(w.category, tessella.UnknownZSpacingWarning)]
    assert len(said) == 3
    assert {w.filename for w in caught} == {__file__}  # this file's lines, not Tessella's
    assert str(said[0].message).startswith("image: no spacing given; em-membranes2d joins")
    assert str(said[2].message).startswith(
        "image: spacing {'Y': 4, 'X': 4} names no Z size; em-membranes2d joins"
    )


def test_one_metric_may_be_a_string(tmp_path):
    """``metrics_wanted="seg"`` was read letter by letter: 'unknown metric(s) e, g, s'."""
    truth = np.zeros((16, 16), np.uint16)
    truth[2:8, 2:8], truth[9:15, 9:15] = 1, 2
    pred = truth.copy()
    pred[9:15, 9:11] = 0  # object 2: 2/3 of it found
    scored = tessella.evaluate(truth, pred, metrics_wanted="seg")
    assert scored.scores["seg"] == pytest.approx((1 + 2 / 3) / 2)
    tessella.write_labels(tmp_path / "gt.tif", truth)
    tessella.write_labels(tmp_path / "pred.tif", pred)
    by_path = tessella.evaluate_paths(tmp_path / "pred.tif", tmp_path / "gt.tif", "seg")
    assert by_path["seg"] == pytest.approx((1 + 2 / 3) / 2)


def test_segment_blockwise_takes_parameters_as_keywords(tmp_path, nuclei_sample):
    """As ``tessella.segment``: ``seed_thresh=0.8`` failed with 'segment_blockwise_steps()
    got an unexpected keyword argument', naming an internal function."""
    image = nuclei_sample[0][:96, :96]
    result = tessella.segment_blockwise(
        image, tmp_path / "a.zarr", "nuclei2d", "YX", {"min_size": 5}, seed_thresh=0.8, tta=False
    )
    assert result.recipe["params"]["seed_thresh"] == 0.8
    assert result.recipe["params"]["min_size"] == 5  # params' too, the keywords last
    with pytest.raises(ValueError, match=r"segment_blockwise: unknown keyword 'seed_tresh'.*block"):
        tessella.segment_blockwise(image, tmp_path / "b.zarr", "nuclei2d", seed_tresh=0.8)
    assert not (tmp_path / "b.zarr").exists()


def test_a_recipe_replays_from_python_and_its_model_weights_are_checked(tmp_path, nuclei_sample):
    """Python had no counterpart of ``tessella segment --recipe``: ``segment(image,
    **recipe)`` failed ('unknown parameter 'method''), and a replay by hand had to know that
    ``tile`` matters and never checked ``model_sha256``."""
    import json

    from tessella.engine.pipeline import segment_steps

    # (4 tiles of 144 px, 36 of 112 px, 1 of the default: the tile matters, labels differ)
    image = nuclei_sample[0][:128, :128]
    made = tessella.run_steps(segment_steps(image, "nuclei2d", tta=False, tile=144))
    made = made.with_params(seed_thresh=0.8)
    path = tmp_path / "nuclei.recipe.json"
    path.write_text(json.dumps(made.recipe()))
    np.testing.assert_array_equal(tessella.replay(path, image), made.labels)
    other = {**made.recipe(), "model_sha256": "0" * 64}
    with pytest.raises(ValueError, match=r"^recipe: made with model 'nuclei2d' of sha256 0{12}"):
        tessella.replay(other, image)
    with pytest.raises(ValueError, match=r"nuclei\.recipe\.json: recipe field 'tile'"):
        path.write_text(json.dumps({**made.recipe(), "tile": "144"}))
        tessella.replay(path, image)


def test_measure_objects_takes_read_image_s_pixel_size_as_it_is(tmp_path):
    """``measure_objects(labels, spacing=image.pixel_size)`` failed for a file without a
    pixel size (``{}``: 'spacing gives no size for axis Y, X'), and lower-case axis names
    were refused although ``segment`` and ``segment_blockwise`` take them."""
    labels = np.zeros((6, 8), np.uint16)
    labels[1:3, 1:5] = 4
    plain = tessella.measure_objects(labels, spacing={})
    assert "area_um2" not in plain and list(plain["area_px"]) == [8]
    sized = tessella.measure_objects(labels, spacing={"y": 0.5, "x": 0.25})
    assert list(sized["area_um2"]) == [1.0]
    with pytest.raises(ValueError, match="no size for axis X"):
        tessella.measure_objects(labels, spacing={"Y": 0.5})


def test_a_prediction_folder_covering_part_of_the_ground_truth_says_what_to_do(tmp_path):
    """The refusal named the images without a prediction but not how to score the others."""
    labels = np.zeros((8, 8), np.uint16)
    labels[2:5, 2:5] = 1
    for folder, names in (("gt", ("a", "b")), ("pred", ("a",))):
        (tmp_path / folder).mkdir()
        for name in names:
            tessella.write_labels(tmp_path / folder / f"{name}.tif", labels)
    with pytest.raises(ValueError, match=r"no prediction for 1 of the 2 .*folder of just theirs"):
        tessella.evaluate_paths(tmp_path / "pred", tmp_path / "gt")
