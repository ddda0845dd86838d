"""``tessella convert`` of a TIFF closes the file once its chunks are written: the zarr store
tifffile opened on it was left to the garbage collector ("ResourceWarning: unclosed file")."""

from __future__ import annotations

import gc
import warnings

import numpy as np
import tifffile

from tessella.engine.blockwise import to_chunked_zarr
from tessella.engine.io import read_image


def test_converting_a_tiff_leaves_no_file_open(tmp_path, nuclei_sample):
    image = nuclei_sample[0]
    tifffile.imwrite(tmp_path / "nuclei.tif", image)
    gc.collect()  # (earlier tests' leftovers: not this one's)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        out = to_chunked_zarr(tmp_path / "nuclei.tif", tmp_path / "nuclei.zarr")
        gc.collect()
    unclosed = [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)]
    assert not [said for said in unclosed if "nuclei.tif" in said], unclosed
    np.testing.assert_array_equal(read_image(out).data[...], image)
