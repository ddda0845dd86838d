"""``--help`` says what ``segment --csv`` writes and in what unit ``evaluate`` gives VOI
(s35 f14, #1): the help named only OUT.csv and OUT/measurements.csv (not OUT/images.csv, the
movie's frame column nor how --blockwise measures), and VOI's unit nowhere, though it is in
nats (natural logarithms), 1.443 times smaller than skimage's bits."""

from __future__ import annotations

import argparse
import math

import numpy as np

from tessella.cli._images_csv import IMAGES_COLUMNS, IMAGES_NAME
from tessella.cli._parser import _build_parser
from tessella.engine.metrics import rand_voi


def _help(command: str, dest: str) -> str:
    commands = next(
        a for a in _build_parser()._actions if isinstance(a, argparse._SubParsersAction)
    )
    action = next(a for a in commands.choices[command]._actions if a.dest == dest)
    return " ".join(str(action.help).split())


def test_segment_csv_help_names_images_csv_frames_and_blockwise():
    said = _help("segment", "csv")
    assert f"OUT/{IMAGES_NAME}, one row per image" in said
    status, n_objects, warning = IMAGES_COLUMNS[1:4]
    assert f"{status} ok/empty/failed, {n_objects}, {warning}" in said
    assert all(column in said for column in IMAGES_COLUMNS[1:])
    assert "with a frame column of the movie's frame numbers" in said
    assert "with --blockwise, the finished labels zarr is measured piece by piece" in said
    assert "mean_confidence empty: no confidence map is kept" in said


def test_evaluate_metric_help_gives_voi_in_nats_as_computed():
    said = _help("evaluate", "metric")
    assert "VOI, in nats (natural logarithms; skimage gives bits" in said
    # one object split in halves: VOI = H(pred | true) = ln 2 nats (1 bit)
    voi = rand_voi(np.array([[1, 1, 1, 1]]), np.array([[2, 2, 3, 3]]))["voi"]
    assert math.isclose(voi, math.log(2)) and f"{1 / math.log(2):.3f} times as large" in said
