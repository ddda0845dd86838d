"""Every unit is written into an ImageJ TIFF (labels, mask stack) in ASCII, as ImageJ itself
writes it: "micron" for the micrometre, any other character as ``\\uXXXX`` (ImageJ's
``FileSaver.appendEscapedLine``), which Fiji decodes (``java.util.Properties``), so an
angstrom pixel size is shown as Å. Before: "angstrom"/"Å" were spelled "Å" and tifffile's
ImageJ writer raised UnicodeEncodeError after segmenting; any other non-ASCII unit too."""

from __future__ import annotations

import re

import numpy as np
import pytest
import tifffile

from tessella.engine.io import read_image, write_labels, write_mask_stack
from tessella.engine.io._write import unit_for
from tests.conftest import crossing_rods


def _as_fiji_reads(value: str) -> str:
    """A value of an ImageJ description as java.util.Properties decodes it."""
    text = re.sub(r"\\u([0-9A-Fa-f]{4})", lambda m: chr(int(m.group(1), 16)), value)
    return text.encode("utf-16", "surrogatepass").decode("utf-16")


@pytest.mark.parametrize(
    ("given", "fiji"),
    [
        ("Å", "Å"),  # U+00C5
        ("\u212b", "Å"),  # the angstrom sign
        ("A\u030a", "Å"),  # A and a combining ring
        ("angstrom", "Å"),  # (was written as "angstrom" before c62dc81, then crashed)
        ("Angstroms", "Å"),
        ("\\u00C5", "Å"),  # as Fiji writes it, read back from one of its files
        ("µm", "micron"),
        ("μm", "micron"),
        ("um", "micron"),
        ("micrometre", "micron"),
        ("nm", "nm"),
        ("Ω·m", "Ω·m"),  # no unit of ours: kept, escaped
        ("au\\x", "au\\x"),  # a backslash, which Properties would read as an escape
    ],
)
def test_imagej_tiffs_take_any_unit_in_ascii_as_fiji_reads_it(tmp_path, given, fiji):
    rods = crossing_rods()
    size = {"Y": 0.3, "X": 0.2}
    labels = write_labels(tmp_path / "labels.tif", rods[0].astype(np.uint16), "YX", size, given)
    stack = write_mask_stack(tmp_path / "rods.tif", rods, pixel_size=size, unit=given)
    for path in (labels, stack):
        with tifffile.TiffFile(path) as tif:
            written = tif.imagej_metadata["unit"]
            assert tif.pages[0].description.isascii(), path
        assert _as_fiji_reads(written) == fiji, (path, written)
        back = read_image(path)
        assert back.pixel_size == pytest.approx(size), path
        # what is read back is written on as the same unit (an OME-Zarr's UDUNITS name)
        assert unit_for(back.unit, "ome-zarr") == unit_for(given, "ome-zarr"), path
