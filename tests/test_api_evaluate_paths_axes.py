"""``tessella.evaluate_paths(..., axes="TYX")`` scores a plain 3D movie (a TIFF saved without
axes) frame by frame, as ``tessella evaluate --axes TYX`` does (f14's 8ad35bb gave the command
the option; the Python function had no way to say it)."""

from __future__ import annotations

import pytest

import tessella
from tests.test_evaluate_axes_recipe_png import plain_clip  # noqa: F401  (a fixture)
from tests.test_evaluate_timelapse_cli_api import _frame_ap50


def test_evaluate_paths_takes_the_axes_of_files_that_name_none(plain_clip):  # noqa: F811
    pred, gt = plain_clip
    whole = tessella.evaluate_paths(pred, gt)
    assert whole["n_images"] == 1 and whole["ap"]["0.5"] == pytest.approx(1.0)
    frames = tessella.evaluate_paths(pred, gt, axes="TYX")
    assert frames["n_images"] == 3
    assert frames["ap"]["0.5"] == pytest.approx(_frame_ap50())
    assert "frame by frame" in frames["scored_as"]
