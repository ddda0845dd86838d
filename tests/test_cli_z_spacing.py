"""A 2D boundary model (em-membranes2d) on a ZYX stack whose file has no voxel size is run
with 3D superpixels and agglomeration as if the sections were as thin as a pixel is wide; on
6 ISBI 2012 slices (50 nm sections, 4 nm pixels) that joined cells across sections (83
objects in all against 93-110 per slice, V_rand 0.49 against 0.96 with the voxel size), and
nothing said so. ``tessella segment`` now warns once, naming the file and how to give the
voxel size or segment the slices one by one; not for a stack whose file has a Z spacing,
nor for one slice, nor for the slices segmented separately (--axes TYX)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile

from tessella.cli import main


@pytest.fixture(scope="module")
def slices(data_dir):
    images = data_dir / "em_membranes_isbi2012" / "images"  # 5: 3 or 4 read as planar RGB
    return np.stack([tifffile.imread(images / f"{i:02d}.tif")[:64, :64] for i in range(15, 20)])


def _warnings(tmp_path, capsys, name: str, *options: str) -> list[str]:
    out = tmp_path / f"{name}_labels.{'zarr' if '--blockwise' in options else 'tif'}"
    args = ["segment", str(tmp_path / name), "-o", str(out), "--model", "em-membranes2d"]
    assert main([*args, "-q", "--device", "cpu", *options]) == 0
    return [line for line in capsys.readouterr().err.splitlines() if "Z spacing" in line]


def test_a_stack_without_z_spacing_is_warned_of(tmp_path, capsys, slices):
    tifffile.imwrite(tmp_path / "plain.tif", slices)  # no metadata: read as ZYX, no pixel size
    [line] = _warnings(tmp_path, capsys, "plain.tif")
    assert line.startswith("warning: ") and str(tmp_path / "plain.tif") in line
    assert "em-membranes2d joins objects across slices" in line
    assert "50 x 4 x 4 nm" in line and "--axes TYX" in line and '"spacing"' in line
    assert _warnings(tmp_path, capsys, "plain.tif", "--axes", "TYX", "--overwrite") == []


def test_no_warning_with_a_z_spacing_or_for_one_slice(tmp_path, capsys, slices):
    tifffile.imwrite(
        tmp_path / "spaced.tif",
        slices,
        imagej=True,
        resolution=(250.0, 250.0),  # 4 nm pixels, 50 nm sections
        metadata={"axes": "ZYX", "spacing": 0.05, "unit": "um"},
    )
    assert _warnings(tmp_path, capsys, "spaced.tif") == []
    recipe = (tmp_path / "spaced.tif_labels.recipe.json").read_text()
    assert '"spacing"' in recipe  # (the file's voxel size was used)
    tifffile.imwrite(tmp_path / "slice.tif", slices[0])
    assert _warnings(tmp_path, capsys, "slice.tif") == []


def test_blockwise_says_it_once_with_its_options(tmp_path, capsys, slices):
    """--blockwise: the engine's warning (once, not per block) in the command line's words,
    not the Python API's (spacing=, axes="TYX")."""
    import zarr

    zarr.create_array(str(tmp_path / "plain.zarr"), data=slices, chunks=(5, 32, 32))
    [line] = _warnings(tmp_path, capsys, "plain.zarr", "--blockwise", "--workers", "0", "--no-tta")
    assert line.startswith(f"warning: {tmp_path / 'plain.zarr'}: no Z spacing in the file")
    assert "the OME-Zarr's scale" in line and '"spacing"' in line and "--axes TYX" in line
    assert "spacing=(" not in line and 'axes="TYX"' not in line
