"""A unit an ImageJ TIFF holds as ``\\uXXXX`` escapes (how ImageJ writes a character outside
ASCII: Fiji's Å is ``\\u00C5``; write_labels writes it so since 90f9b95) reads back as the
characters, as Fiji reads them. Before: read_image gave the text ``\\u00C5``."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tessella.engine.io import read_image, write_labels
from tests.conftest import crossing_rods


@pytest.mark.parametrize(
    ("given", "read"),
    [
        ("Å", "Å"),
        ("\u212b", "Å"),  # the angstrom sign, written as Å
        ("Ω·m", "Ω·m"),  # no unit of ours: kept as given
        ("au\\x", "au\\x"),  # a backslash (written \u005C)
        ("µm", "µm"),
    ],
)
def test_labels_written_with_a_unit_read_back_with_it(tmp_path, given, read):
    rods = crossing_rods()[0].astype(np.uint16)
    path = write_labels(tmp_path / "labels.tif", rods, "YX", {"Y": 0.3, "X": 0.2}, given)
    back = read_image(path)
    assert back.unit == read
    assert back.pixel_size == pytest.approx({"Y": 0.3, "X": 0.2})


def test_a_fiji_tiff_in_angstrom_reads_as_angstrom(tmp_path):
    # as Fiji saves it: the unit escaped in the ImageJ description
    path = tmp_path / "fiji.tif"
    tifffile.imwrite(
        path,
        np.zeros((2, 8, 8), np.uint8),
        imagej=True,
        resolution=(1 / 0.5, 1 / 0.5),
        metadata={"axes": "ZYX", "unit": "\\u00C5", "spacing": 2.0},
    )
    with tifffile.TiffFile(path) as tif:
        assert tif.imagej_metadata["unit"] == "\\u00C5"  # (what the file holds)
    image = read_image(path)
    assert image.unit == "Å"
    assert image.pixel_size == pytest.approx({"Z": 2.0, "Y": 0.5, "X": 0.5})
