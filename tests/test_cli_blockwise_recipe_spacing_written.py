"""`tessella segment --blockwise --recipe R` on a zarr without a pixel size, R giving a plain
`spacing` (as the napari panel records a layer's scale) and its `unit`: the labels are
written with that voxel size as their pixel size, in R's unit, as the in-memory run writes
them (blockwise wrote none: the labels of the two runs opened at different scales)."""

from __future__ import annotations

import json

import zarr

from tessella.cli import main
from tessella.engine.io import read_image

BASE = ["--device", "cpu", "-q"]


def test_a_recipes_spacing_is_the_blockwise_labels_pixel_size_as_in_memory(tmp_path, nuclei_sample):
    image = nuclei_sample[0][:128, :128]
    source = tmp_path / "in.zarr"  # no pixel size (a dask.array.to_zarr copy of a TIFF)
    array = zarr.open(
        str(source), mode="w", shape=image.shape, chunks=(128, 128), dtype=image.dtype
    )
    array[...] = image
    recipe = tmp_path / "panel.recipe.json"
    recipe.write_text(
        json.dumps(
            {
                "model": "nuclei2d",
                "axes": "YX",
                "spacing": [2.0, 1.0],
                "unit": "µm",
                "tta": False,
                "blockwise": {"block": [128, 128]},
            }
        )
    )
    run = ["segment", str(source), "--recipe", str(recipe), *BASE]
    assert main([*run, "-o", str(tmp_path / "memory.zarr"), "--no-blockwise"]) == 0
    assert main([*run, "-o", str(tmp_path / "blocks.zarr"), "--workers", "0"]) == 0
    memory, blocks = read_image(tmp_path / "memory.zarr"), read_image(tmp_path / "blocks.zarr")
    assert memory.pixel_size == {"Y": 2.0, "X": 1.0} and memory.unit == "µm"
    assert blocks.pixel_size == memory.pixel_size and blocks.unit == memory.unit
    recorded = json.loads((tmp_path / "blocks.recipe.json").read_text())
    assert recorded["spacing"] == [2.0, 1.0] and recorded["unit"] == "µm"
    assert "voxel_size" not in recorded  # (not replayed as --voxel-size: the file's wins)
