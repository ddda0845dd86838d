"""``tessella convert`` of Fiji hyperstacks (ImageJ ZCYX, TCYX): the zarr keeps the axes in
the order the TIFF stores them (``tessella_axes``), so it reads back as the TIFF does and
``segment --blockwise`` segments it as the TIFF in memory; a movie is chunked one frame at a
time, every channel in a chunk.

Before: axes the engine reads in another order were dropped (no ``tessella_axes``), the zarr
read back as TZYX (channels taken for slices), and the chunks held the whole movie."""

from __future__ import annotations

import numpy as np
import tifffile
import zarr

from tessella.cli import main
from tessella.engine import metrics
from tessella.engine.io import read_image


def _imagej(path, data, axes):
    tifffile.imwrite(
        path, data, imagej=True, resolution=(1 / 0.5, 1 / 0.5),
        metadata={"axes": axes, "unit": "um", "spacing": 2.0},
    )  # fmt: skip
    return path


def test_an_imagej_zcyx_stack_converts_with_its_axes(tmp_path, nuclei_sample):
    rng = np.random.default_rng(0)
    data = rng.integers(0, 4000, (5, 2, 40, 48), dtype=np.uint16)
    tif = _imagej(tmp_path / "zc.tif", data, "ZCYX")
    out = tmp_path / "zc.zarr"
    assert main(["convert", str(tif), str(out), "-q"]) == 0
    memory, converted = read_image(tif), read_image(out)
    assert memory.axes == converted.axes == "CZYX"
    assert converted.stored_axes == "ZCYX"
    assert converted.pixel_size == memory.pixel_size == {"X": 0.5, "Y": 0.5, "Z": 2.0}
    np.testing.assert_array_equal(np.asarray(converted.data), np.asarray(memory.data))


def test_an_imagej_tcyx_movie_converts_by_frame_and_segments_blockwise_as_in_memory(
    tmp_path, nuclei_sample
):
    crop = nuclei_sample[0][:64, :64].astype(np.uint16)
    data = np.zeros((2, 2, 64, 64), np.uint16)
    for t in range(2):
        data[t, 1] = np.roll(crop, 8 * t, axis=0)
        data[t, 0] = 7  # a dark, flat channel 0
    tif = _imagej(tmp_path / "tc.tif", data, "TCYX")
    out = tmp_path / "tc.zarr"
    assert main(["convert", str(tif), str(out), "--chunk", "32", "-q"]) == 0
    memory, converted = read_image(tif), read_image(out)
    assert memory.axes == converted.axes == "TYXC"
    assert converted.data.shape == memory.data.shape == (2, 64, 64, 2)
    np.testing.assert_array_equal(np.asarray(converted.data), np.asarray(memory.data))
    assert zarr.open(str(out), mode="r").chunks == (1, 2, 32, 32)  # one frame, every channel

    common = ["--model", "nuclei2d", "--no-tta", "--device", "cpu", "--channel", "1", "-q"]
    assert main(["segment", str(tif), "-o", str(tmp_path / "mem.tif"), *common]) == 0
    blockwise = ["--blockwise", "--workers", "0", "--block", "32"]
    assert main(["segment", str(out), "-o", str(tmp_path / "bw.zarr"), *common, *blockwise]) == 0
    expected = np.asarray(read_image(tmp_path / "mem.tif").data)
    got = np.asarray(read_image(tmp_path / "bw.zarr").data)
    assert got.shape == expected.shape == (2, 64, 64)
    for t in range(2):
        assert expected[t].max() >= 5  # the nuclei in every frame
        assert metrics.matching(expected[t], got[t], 0.5).ap >= 0.99
