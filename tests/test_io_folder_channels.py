"""A folder holding a multichannel image opens (File > Open of the folder), each channel a
layer: the reader's look for a Tracks layer to add beside time-lapse labels
(:func:`tessella._io_tracks.with_recorded_tracks`) skips image layers, whose metadata is then
one dict per channel (s35 f11: it read it as one dict and raised ValueError)."""

from __future__ import annotations

import numpy as np
import tifffile

from tessella._io import read_layers
from tests.conftest import DATA

MOVIE = DATA / "ctc_Fluo-N2DH-SIM+" / "01"


def test_a_folder_of_one_multichannel_image_opens(tmp_path):
    frame = tifffile.imread(MOVIE / "t000.tif")[:128, :128] if MOVIE.is_dir() else None
    if frame is None:
        frame = np.random.default_rng(0).integers(0, 255, (128, 128), np.uint16)
    two = np.stack([frame, frame[::-1]])
    tifffile.imwrite(tmp_path / "two.tif", two, imagej=True, metadata={"axes": "CYX"})
    alone = read_layers(tmp_path / "two.tif")
    [(data, kwargs, kind)] = read_layers(tmp_path)  # (the folder: as the file alone)
    assert kind == "image" == alone[0][2]
    assert kwargs["name"] == alone[0][1]["name"] and len(kwargs["metadata"]) == 2
    np.testing.assert_array_equal(np.asarray(data), two)
