"""A mask stack (``tessella segment --stack``) spells the micrometre as an ImageJ TIFF must,
whichever spelling it was given, as the labels TIFF does (one rule: ``unit_for``)."""

from __future__ import annotations

import pytest
import tifffile

from tessella.engine.io import read_image, write_labels, write_mask_stack
from tests.conftest import crossing_rods


@pytest.mark.parametrize(
    ("given", "written", "read"),
    [
        ("μm", "micron", "µm"),  # Greek mu: a UnicodeEncodeError (ImageJ's metadata is ASCII)
        ("micrometer", "micron", "µm"),  # was written as is
        ("micrometre", "micron", "µm"),
        ("µm", "micron", "µm"),
        ("um", "micron", "µm"),
        ("nanometer", "nm", "nm"),
    ],
)
def test_a_mask_stack_spells_the_unit_as_imagej_and_the_labels_do(tmp_path, given, written, read):
    rods = crossing_rods()
    size = {"Y": 0.3, "X": 0.2}
    path = write_mask_stack(tmp_path / "rods.tif", rods, pixel_size=size, unit=given)
    labels = write_labels(tmp_path / "labels.tif", rods[0].astype("uint16"), "YX", size, given)
    for each in (path, labels):
        with tifffile.TiffFile(each) as tif:
            assert tif.imagej_metadata["unit"] == written, each
        back = read_image(each)
        assert back.unit == read and back.pixel_size == pytest.approx(size), each
