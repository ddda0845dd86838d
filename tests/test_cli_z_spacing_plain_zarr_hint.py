"""``tessella segment --blockwise`` on a plain zarr stack of unknown Z spacing: the hint
names what gives a plain zarr its voxel size (its ``pixel_size`` attribute), not only "the
OME-Zarr's scale", which it has none of (review r1), and that attribute indeed silences it."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tessella.cli import main


@pytest.fixture(scope="module")
def slices(data_dir):
    images = data_dir / "em_membranes_isbi2012" / "images"
    return np.stack([tifffile.imread(images / f"{i:02d}.tif")[:64, :64] for i in range(15, 20)])


def _z_warnings(tmp_path, capsys, name: str) -> list[str]:
    args = ["segment", str(tmp_path / name), "-o", str(tmp_path / f"{name}_labels.zarr")]
    options = ["--model", "em-membranes2d", "-q", "--device", "cpu", "--blockwise"]
    assert main([*args, *options, "--workers", "0", "--no-tta"]) == 0
    return [line for line in capsys.readouterr().err.splitlines() if "Z spacing" in line]


def test_the_hint_for_a_plain_zarr_names_its_pixel_size_attribute_which_works(
    tmp_path, capsys, slices
):
    import zarr

    zarr.create_array(str(tmp_path / "plain.zarr"), data=slices, chunks=(5, 32, 32))
    [line] = _z_warnings(tmp_path, capsys, "plain.zarr")
    assert 'a plain zarr\'s attribute pixel_size, {"Z": ..., "Y": ..., "X": ...}' in line
    assert "the OME-Zarr's scale for an OME-Zarr" in line
    # what it says to do: the attribute (in nm here) gives the stack its voxel size
    sized = zarr.create_array(str(tmp_path / "sized.zarr"), data=slices, chunks=(5, 32, 32))
    sized.attrs.update({"tessella_axes": "ZYX", "pixel_size": {"Z": 50, "Y": 4, "X": 4}})
    assert _z_warnings(tmp_path, capsys, "sized.zarr") == []
