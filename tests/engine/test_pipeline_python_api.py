"""What a notebook user met in the pipeline (acceptance test t1): ``segment(read_image(p))``
was refused, so the default Python call on an anisotropic volume gave other labels than the
command line; a lazy array bigger than memory was loaded (MemoryError after 17 s) instead of
being refused with the way to segment it; worms2d's overlapping objects had no Python route."""

from __future__ import annotations

import time

import numpy as np
import pytest
import tifffile

from tessella.engine.io import read_image
from tessella.engine.pipeline import run_steps, segment, segment_steps


@pytest.fixture(scope="module")
def em_volume_file(data_dir, tmp_path_factory):
    """3 ISBI sections (160²) as an ImageJ ZYX stack: 0.05 um slices, 0.004 um pixels."""
    root = data_dir / "em_membranes_isbi2012" / "images"
    stack = np.stack([tifffile.imread(root / f"0{i}.tif")[:160, :160] for i in range(3)])
    path = tmp_path_factory.mktemp("em") / "em.tif"
    tifffile.imwrite(
        path,
        stack,
        imagej=True,
        resolution=(250.0, 250.0),
        metadata={"axes": "ZYX", "spacing": 0.05, "unit": "um"},
    )
    return path


def test_segment_takes_read_image_s_result_with_its_axes_and_voxel_size(em_volume_file):
    volume = read_image(em_volume_file)
    by_hand = segment(volume.data, "em-membranes2d", volume.axes, spacing=volume.pixel_size)
    isotropic = segment(volume.data, "em-membranes2d", volume.axes)
    assert not np.array_equal(by_hand, isotropic)  # the voxel size matters on this stack
    # the file's axes and voxel size come with it, as the command line takes them
    assert np.array_equal(segment(volume, "em-membranes2d"), by_hand)
    result = run_steps(segment_steps(volume, "em-membranes2d"))
    assert np.array_equal(result.labels, by_hand)
    assert result.axes == "ZYX"
    assert result.options["spacing"] == pytest.approx([0.05, 0.004, 0.004])
    # arguments given win over the file's
    assert np.array_equal(segment(volume, "em-membranes2d", spacing=(1, 1, 1)), isotropic)


def test_an_image_read_from_a_file_is_named_by_its_path_in_errors(tmp_path):
    path = tmp_path / "blank.tif"
    tifffile.imwrite(path, np.full((64, 64), 7, np.uint16))
    with pytest.raises(ValueError, match=f"{path}.*constant") as info:
        segment(read_image(path), "nuclei2d")
    assert "\n" not in str(info.value)
    with pytest.raises(TypeError, match=r"tessella.read_image\(path\)"):
        segment(str(path), "nuclei2d")


def _refused(image, **options):
    from tessella.engine.pipeline import TooBigForMemory

    start = time.perf_counter()
    with pytest.raises(TooBigForMemory) as info:
        segment(image, "nuclei2d", **options)
    with pytest.raises(TooBigForMemory):
        next(segment_steps(image, "nuclei2d", **options))
    assert time.perf_counter() - start < 30  # refused before any of it is read
    message = str(info.value)
    assert "\n" not in message and "tessella.segment_blockwise(" in message, message
    assert isinstance(info.value, MemoryError) and isinstance(info.value, ValueError)
    return message


def test_a_lazy_array_bigger_than_memory_is_refused_before_it_is_read():
    """Nothing of these arrays is ever allocated: the old code went on to read them."""
    import dask.array as da
    import zarr

    message = _refused(da.zeros((1_000_000, 1_000_000), dtype=np.uint16, chunks=4096))
    assert "image: dask.Array of shape (1000000, 1000000) (1862.6 GiB) needs about" in message
    assert "is available" in message
    array = zarr.create_array(
        zarr.storage.MemoryStore(), shape=(1_000_000, 1_000_000), chunks=(4096, 4096), dtype="u2"
    )
    assert "image: zarr.Array of shape (1000000, 1000000)" in _refused(array)


def test_the_memory_refusal_is_for_lazy_arrays_the_size_that_memory_cannot_hold(monkeypatch):
    """100 bytes a pixel of the labels (channels not counted), against the memory available;
    an array in memory already is segmented."""
    import dask.array as da

    from tessella.engine.pipeline import _inputs

    image = np.zeros((128, 128), np.uint16)
    image[20:30, 20:30] = 1000
    monkeypatch.setattr(_inputs, "available_memory", lambda: 128 * 128 * 100 - 1)
    message = _refused(da.from_array(image))
    assert "(128, 128) (0.0 MiB) needs about 1.6 MiB" in message, message
    assert "and 1.6 MiB is available" in message
    assert segment(image, "nuclei2d", tta=False).max() == 1  # numpy: in memory already
    monkeypatch.setattr(_inputs, "available_memory", lambda: 128 * 128 * 100)
    assert segment(da.from_array(image), "nuclei2d", tta=False).max() == 1
    # 3 channels of the same: 128 * 128 labels, not 3 times as many pixels
    colour = da.from_array(np.stack([image] * 3, axis=-1))
    assert segment(colour, "nuclei2d", "YXC", tta=False).max() == 1


@pytest.fixture(scope="module")
def worms_crop(data_dir):
    """A 256² crop of a BBBC010 well where two worms cross."""
    return tifffile.imread(data_dir / "worms_bbbc010" / "brightfield" / "B15.tif")[130:386, 220:476]


def test_the_overlapping_objects_of_worms2d_come_with_the_result(worms_crop):
    result = run_steps(segment_steps(worms_crop, "worms2d", "YX"))
    stack = result.instances()
    assert stack.dtype == bool and stack.shape == (result.labels.max(), 256, 256)
    for k, mask in enumerate(stack):  # object k + 1 of the labels is mask k, where it shows
        assert mask[result.labels == k + 1].all()
    assert (stack.sum(axis=0) > 1).any()  # the crossing: pixels of two worms, one shown
    assert stack.sum() > np.count_nonzero(result.labels)


def test_a_model_whose_objects_do_not_overlap_has_no_instance_stack(nuclei_sample):
    result = run_steps(segment_steps(nuclei_sample[0][:64, :64], "nuclei2d", tta=False))
    with pytest.raises(ValueError, match="do not overlap: its labels say it all"):
        result.instances()
