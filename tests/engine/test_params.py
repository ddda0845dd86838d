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
