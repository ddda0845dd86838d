"""``write_labels_in_strips`` writes, from labels handed a band of rows at a time, the file
``write_labels`` writes of them whole: byte for byte (an OME-TIFF's random UUID aside),
ImageJ hyperstacks (uint16) and OME-TIFFs (uint32) alike, whatever the bands' heights; the
same refusals; an exception from the bands (Export's Cancel) stops it. Export writes labels
on disk to TIFF so (session 33, f3), never reading them whole."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import tifffile

from tessella.engine.io import write_labels
from tessella.engine.io._write import tiff_strip_rows, write_labels_in_strips


def _bands(labels: np.ndarray, rows: int):
    """``labels`` a page at a time, each in bands of ``rows`` rows (the last one shorter)."""
    for page in labels.reshape(-1, *labels.shape[-2:]):
        for start in range(0, page.shape[0], rows):
            yield page[start : start + rows]


def _bytes(path) -> bytes:
    return re.sub(rb'UUID="urn:uuid:[^"]*"', b"", path.read_bytes())


@pytest.mark.parametrize(
    ("shape", "top", "axes", "pixel_size"),
    [
        ((300, 257), 500, "YX", {"Y": 0.5, "X": 0.25}),  # ImageJ, uint16
        ((3, 301, 257), 70_000, "TYX", {"Y": 0.5, "X": 0.5}),  # OME-TIFF, uint32
        ((2, 3, 100, 2000), 400, "TZYX", {"Z": 2.0, "Y": 0.5, "X": 0.5}),  # ImageJ hyperstack
        ((50, 40), 0, "YX", None),  # empty, no pixel size
    ],
)
@pytest.mark.parametrize("rows", [7, 64, 1000])
def test_the_file_of_the_labels_written_whole(tmp_path, shape, top, axes, pixel_size, rows):
    labels = np.random.default_rng(0).integers(0, top + 1, shape).astype(np.uint32)
    write_labels(tmp_path / "whole.tif", labels, axes, pixel_size, "µm")
    ends = (int(labels.min()), int(labels.max()))
    written = write_labels_in_strips(
        tmp_path / "bands.tif", _bands(labels, rows), shape, ends, axes, pixel_size, "µm"
    )
    assert written == tmp_path / "bands.tif"
    assert _bytes(tmp_path / "bands.tif") == _bytes(tmp_path / "whole.tif")
    np.testing.assert_array_equal(tifffile.imread(tmp_path / "bands.tif"), labels)


def test_strips_of_about_256_kb_as_tifffile_cuts_them():
    assert tiff_strip_rows(12288, 4, 12288) == 5
    assert tiff_strip_rows(512, 2, 520) == 256
    assert tiff_strip_rows(100_000, 4, 3) == 1
    assert tiff_strip_rows(10, 2, 3) == 3


def test_the_refusals_of_write_labels(tmp_path):
    def bands():
        yield np.zeros((4, 4), np.uint64)

    with pytest.raises(ValueError, match="above 4,294,967,295"):
        write_labels_in_strips(tmp_path / "a.tif", bands(), (4, 4), (0, 2**32 + 5))
    with pytest.raises(ValueError, match="must not be negative"):
        write_labels_in_strips(tmp_path / "a.tif", bands(), (4, 4), (-1, 5))
    with warnings.catch_warnings(record=True) as caught:  # (a pixel size without X: none)
        warnings.simplefilter("always")
        write_labels_in_strips(tmp_path / "z.tif", bands(), (4, 4), (0, 0), "YX", {"Z": 2.0})
    assert ["written without a pixel size" in str(w.message) for w in caught] == [True]
    assert caught[0].filename == __file__  # (said where it was called, as write_labels says)


def test_an_exception_from_the_bands_stops_the_write(tmp_path):
    class Stop(Exception):
        pass

    def bands():
        yield np.ones((64, 300), np.uint16)
        raise Stop

    with pytest.raises(Stop):
        write_labels_in_strips(tmp_path / "a.tif", bands(), (256, 300), (0, 1))
