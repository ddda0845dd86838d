"""The Python API as a notebook analyst scripts it (user test t5): labels that are not
integers are refused by ``write_labels`` as ``evaluate`` refuses them, warnings point at the
user's call and come once per input under Python's default filters, a metric may be one
string, ``segment_blockwise`` takes parameters as keywords, recipes replay from Python,
``measure_objects`` takes ``read_image``'s empty pixel size."""

from __future__ import annotations

import numpy as np
import pytest

import tessella


def test_write_labels_refuses_float_labels_it_would_truncate(tmp_path):
    """1.2 and 1.7 were both written as 1 (one object), 0.6 as background, silently; NaN
    failed in numpy's words, naming no file."""
    labels = np.zeros((8, 8), np.float32)
    labels[1:3, 1:3], labels[4:6, 4:6], labels[6, 6] = 1.2, 1.7, 0.6
    out = tmp_path / "float.tif"
    with pytest.raises(ValueError, match=r"float\.tif: labels must be integers.*fractions"):
        tessella.write_labels(out, labels, "YX")
    labels[0, 0] = np.nan
    with pytest.raises(ValueError, match=r"float\.tif: labels must be integers.*NaN"):
        tessella.write_labels(out, labels, "YX")
    # whole numbers in a float array: refused too, as evaluate refuses them
    whole = np.round(np.nan_to_num(labels))
    with pytest.raises(ValueError, match=r"float\.tif: .*astype"):
        tessella.write_labels(out, whole, "YX")
    with pytest.raises(TypeError, match="integer label image"):
        tessella.evaluate(whole.astype(int), whole)
    assert not out.exists()
    tessella.write_labels(out, whole.astype(np.uint16), "YX")  # integers are written
    np.testing.assert_array_equal(tessella.read_image(out).data, whole)
