"""`tessella train --holdout/--exclude` of the wrong axis is refused before any data is read,
by the engine's check (``refuse_wrong_axes``) in the engine's words: the command had a check
of its own, worded otherwise."""

from __future__ import annotations

import pytest

from tessella.cli import main
from tessella.engine.train.data import refuse_wrong_axes


@pytest.mark.parametrize(
    ("method", "option", "selector", "message"),
    [
        (
            "semantic",
            "--holdout",
            "lucchi[t=1:3]",
            "axis 't' selects frames of a movie, but the semantic method takes slices of a "
            "volume: select them as lucchi[z=N] or lucchi[z=A:B] (B excluded)",
        ),
        (
            "temporal",
            "--exclude",
            "movie.tif[z=4]",
            "axis 'z' selects slices of a volume, but the temporal method takes frames of a "
            "movie: select them as movie[t=N] or movie[t=A:B] (B excluded)",
        ),
        (
            "embedding",
            "--holdout",
            "a[q=1]",
            "unknown axis 'q'; the embedding method takes slices of a volume: select them as "
            "a[z=N] or a[z=A:B] (B excluded)",
        ),
    ],
)
def test_a_selector_of_the_wrong_axis_is_refused_in_the_engine_s_words(
    tmp_path, capsys, method, option, selector, message
):
    data = tmp_path / "not_there"  # nothing is read: the folder need not even exist
    out = tmp_path / "model"
    args = ["train", method, "--data", str(data), "--out", str(out), option, selector]
    assert main(args) == 1
    assert capsys.readouterr().err == f"tessella train: error: {option} {selector}: {message}\n"
    assert not out.exists()
    with pytest.raises(ValueError) as engine:  # the Python API's check, given the method
        refuse_wrong_axes([selector], [], option, method)
    assert str(engine.value) == f"{option} {selector}: {message}"


def test_a_selector_of_the_method_s_axis_passes_the_early_check(tmp_path, capsys):
    """slices for a 2D model, frames for a time-lapse model: refused later only because the
    data folder does not exist, not for the axis."""
    for method, selector in (("semantic", "lucchi[z=90:100]"), ("temporal", "movie[t=3]")):
        args = ["train", method, "--data", str(tmp_path / "none"), "--out", str(tmp_path / "m")]
        assert main([*args, "--holdout", selector]) == 1
        err = capsys.readouterr().err
        assert str(tmp_path / "none") in err and "axis" not in err, err
