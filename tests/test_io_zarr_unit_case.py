"""A zarr's unit 'Mm' (millimetres typed in the wrong case, read as megametres) is kept with
one warning naming the store, as a TIFF's is (10ef0f5): its ``unit`` attribute, or an
OME-Zarr axis's ``unit`` (s34 f11 #4). 'mm' and NGFF's 'micrometer' give none."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tifffile
import zarr

from tessella.engine.io import read_image
from tessella.engine.io._tiff import UnitCaseWarning


@pytest.fixture(scope="module")
def crop(data_dir) -> np.ndarray:
    """A real DSB2018 nucleus image, 64 x 64 (the shared fixtures' img2d)."""
    path = data_dir / "fixtures" / "img2d.tif"
    if not path.is_file():
        pytest.skip(f"{path} not found (see the data README)")
    return np.ascontiguousarray(tifffile.imread(path)[:64, :64])


def _plain(path, crop, unit):
    array = zarr.open_array(str(path), mode="w", shape=crop.shape, dtype=crop.dtype)
    array[:] = crop
    array.attrs.update({"tessella_axes": "YX", "pixel_size": {"Y": 0.0005, "X": 0.0005}})
    array.attrs["unit"] = unit
    return path


def _ome(path, crop, unit):
    group = zarr.open_group(str(path), mode="w")
    array = group.create_array("0", shape=crop.shape, dtype=crop.dtype)
    array[:] = crop
    group.attrs["ome"] = {
        "version": "0.5",
        "multiscales": [
            {
                "axes": [
                    {"name": "y", "type": "space", "unit": unit},
                    {"name": "x", "type": "space", "unit": unit},
                ],
                "datasets": [
                    {"path": "0", "coordinateTransformations": [
                        {"type": "scale", "scale": [0.0005, 0.0005]}
                    ]}
                ],
            }
        ],
    }  # fmt: skip
    return path


def _read(path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        image = read_image(path)
    said = [w for w in caught if issubclass(w.category, UnitCaseWarning)]
    return image, said


@pytest.mark.parametrize("kind", ["plain", "ome"])
def test_a_zarrs_megametres_are_kept_with_a_warning(tmp_path, crop, kind):
    write = _plain if kind == "plain" else _ome
    image, said = _read(write(tmp_path / "mega.zarr", crop, "Mm"))
    assert image.unit == "Mm" and image.pixel_size == {"Y": 0.0005, "X": 0.0005}  # as it says
    np.testing.assert_array_equal(np.asarray(image.data), crop)
    assert len(said) == 1, [str(w.message) for w in said]
    text = str(said[0].message)
    assert text.startswith(f"{tmp_path / 'mega.zarr'}: its unit 'Mm' reads as megametres"), text
    assert "(pixel size Y 0.0005, X 0.0005 Mm)" in text and "\n" not in text
    fix = {"plain": "its \"unit\" attribute to 'mm'", "ome": "its axes' \"unit\" to 'millimeter'"}[
        kind
    ]
    assert f"If millimetres are meant, set {fix}" in text, text
    assert said[0].filename == __file__  # (pointing at the caller, not into tessella)
    for unit in ("mm", "micrometer" if kind == "ome" else "µm"):
        image, said = _read(write(tmp_path / f"{unit}.zarr", crop, unit))
        assert said == [], [str(w.message) for w in said]
