"""``tessella.train`` warns at the start when the model it writes takes a name an installed
model has, as ``tessella train`` and the Train panel do (it said nothing: a notebook user
found out only when the name was refused as ambiguous). The configuration only: no training."""

from __future__ import annotations

import warnings

import pytest

import tessella
from tessella.engine.registry import name_taken_note


@pytest.fixture
def configs(monkeypatch, tmp_path):
    """The configs ``tessella.train`` hands to the engine (which trains nothing here), with
    an empty user models folder."""
    import tessella.engine.train as training

    monkeypatch.setenv("TESSELLA_MODELS", str(tmp_path / "models"))
    given: list = []
    monkeypatch.setattr(training, "train", given.append)
    return given


def test_a_name_an_installed_model_has_is_warned_about(configs, tmp_path):
    out = tmp_path / "nuclei2d"  # named by its folder, as the bundled model is
    with pytest.warns(UserWarning, match="is taken already") as caught:
        tessella.train("embedding", tmp_path / "data", out, epochs=1)
    assert len(configs) == 1  # the run goes ahead
    taken = [str(w.message) for w in caught if "is taken already" in str(w.message)]
    # the command's and the panel's words, from one place
    assert taken == [name_taken_note("nuclei2d", out)]
    assert taken[0].startswith("the name 'nuclei2d' is taken already by bundled ")
    assert caught[0].filename == __file__  # the caller's line, not tessella's

    with pytest.warns(UserWarning, match="'em-membranes2d' is taken already"):
        tessella.train("boundary", tmp_path / "data", tmp_path / "mine", name="em-membranes2d")
    assert len(configs) == 2

    with warnings.catch_warnings():  # a free name: not a word
        warnings.simplefilter("error")
        tessella.train("embedding", tmp_path / "data", tmp_path / "my-nuclei", epochs=1)
    assert len(configs) == 3
