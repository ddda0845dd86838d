import dataclasses

import pytest

from tessella.engine.methods.embedding import Params
from tessella.engine.params import make_params, param_specs


def test_specs_carry_ranges_and_help():
    specs = {spec.name: spec for spec in param_specs(Params)}
    assert set(specs) == {"fg_thresh", "seed_thresh", "min_size", "cutoff", "min_unclustered"}
    for spec in specs.values():
        assert spec.help and spec.low is not None and spec.high is not None
        assert spec.low <= spec.default <= spec.high
    assert specs["min_size"].kind is int


def test_make_params_coerces_strings_from_the_cli():
    params = make_params(Params, seed_thresh="0.8", min_size="12")
    assert params.seed_thresh == 0.8 and params.min_size == 12
    with pytest.raises(dataclasses.FrozenInstanceError):
        params.seed_thresh = 0.1


@pytest.mark.parametrize(
    "values,message",
    [
        ({"seed_thresh": 1.5}, "above its range"),
        ({"cutoff": 0.0}, "below its range"),
        ({"min_size": "3.5"}, "not a valid int"),
        ({"fg_thresh": "abc"}, "not a valid float"),
        ({"fg_thresh": "nan"}, "NaN"),
        ({"bogus": 1}, "unknown parameter 'bogus'"),
        ({"seed_thresh": True}, "True is not a valid float"),  # a recipe's true is no 1.0
        ({"min_size": False}, "False is not a valid int"),
    ],
)
def test_bad_values_are_named(values, message):
    with pytest.raises(ValueError, match=message):
        make_params(Params, **values)


@pytest.mark.parametrize("value", ["inf", "-inf", float("inf"), "1e400", "nan"])
def test_non_finite_values_are_refused_by_name(value):
    """`--set min_size=inf` (or Infinity in a recipe) raised OverflowError from int()."""
    for name in ("min_size", "seed_thresh"):
        with pytest.raises(ValueError, match=f"parameter {name!r}: .*(finite|NaN)"):
            make_params(Params, **{name: value})


# --- parameters that act only with a switch (``only_with``) -------------------------------------


def test_every_only_with_names_a_bool_switch_of_its_method():
    from tessella.engine.methods import METHOD_NAMES, get_method

    declared = {}
    for name in METHOD_NAMES:
        specs = {spec.name: spec for spec in param_specs(get_method(name).Params)}
        for spec in specs.values():
            if spec.only_with:
                assert specs[spec.only_with].kind is bool, (name, spec.name)
                declared[name, spec.name] = spec.only_with
    assert declared == {
        ("semantic", "min_distance"): "split",
        ("temporal", "seed_threshold"): "split",
        ("temporal", "min_iou"): "link",
        ("temporal", "max_distance"): "link",
        ("temporal", "divisions"): "link",
    }


def _series_labels(predictions, **values):
    from tessella.engine.methods import temporal

    labels, lineage = temporal.postprocess_series(
        predictions, make_params(temporal.Params, **values)
    )
    return labels, lineage


def test_a_parameter_does_nothing_while_its_switch_is_off_and_acts_when_on():
    """What the Tune panel greys out must really do nothing then (and act otherwise): two
    touching discs (radii 15 and 12) split or not by ``min_distance`` (semantic), and a
    synthetic cell movie whose split and links follow ``seed_threshold`` and the tracking
    parameters (temporal)."""
    import numpy as np
    from scipy import ndimage

    from tessella.engine.methods import Prediction, semantic
    from tests.conftest import cell_movie

    yy, xx = np.mgrid[:64, :96]
    discs = ((yy - 32) ** 2 + (xx - 30) ** 2 < 15**2) | ((yy - 32) ** 2 + (xx - 54) ** 2 < 12**2)
    probability = ndimage.gaussian_filter(discs.astype(np.float32), 1)
    prediction = Prediction({"foreground": probability[None]}, "YX")

    def semantic_labels(**values):
        return semantic.postprocess(prediction, make_params(semantic.Params, **values))

    assert semantic_labels(split=True, min_distance=5).max() == 2
    assert semantic_labels(split=True, min_distance=40).max() == 1
    for min_distance in (5, 40):
        assert semantic_labels(split=False, min_distance=min_distance).max() == 1

    _, truth, _ = cell_movie(frames=6)
    predictions = [
        Prediction(
            {"foreground": (frame > 0)[None].astype(np.float32), "centre": centre[None]}, "YX"
        )
        for frame, centre in zip(truth, _centre_maps(truth))
    ]
    base = dict(temporal_sigma=0.0, min_size=10)
    split_low, _ = _series_labels(predictions, **base, seed_threshold=0.3)
    split_high, _ = _series_labels(predictions, **base, seed_threshold=0.99)
    assert not np.array_equal(split_low, split_high)  # acts while split is on
    off = [
        _series_labels(predictions, **base, split=False, seed_threshold=t)[0] for t in (0.3, 0.99)
    ]
    np.testing.assert_array_equal(*off)

    linked = [
        _series_labels(predictions, **base, **values)
        for values in ({"min_iou": 0.2}, {"min_iou": 0.2, "divisions": False})
    ]
    assert linked[0][1] != linked[1][1]  # divisions: a lineage with, none without
    unlinked = [
        _series_labels(predictions, **base, link=False, **values)
        for values in (
            {"min_iou": 0.2, "max_distance": 40.0, "divisions": True},
            {"min_iou": 0.9, "max_distance": 0.0, "divisions": False},
        )
    ]
    np.testing.assert_array_equal(unlinked[0][0], unlinked[1][0])
    assert unlinked[0][1] == unlinked[1][1] == {}


def _centre_maps(labels):
    from tessella.engine.train.methods import centre_map

    return [centre_map(frame) for frame in labels]
