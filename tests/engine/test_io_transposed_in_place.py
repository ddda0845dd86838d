"""A TIFF whose axes are stored in another order than the engine reads them (ImageJ's ZCYX
read as CZYX, OME's TCYX as TYXC) is rearranged in the memory of the array read: the stack
is held once, not twice (``np.ascontiguousarray`` of the transposed view made a full second
copy while the first was held), and the result is still C-contiguous with the same
pixels."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest
import tifffile

from tessella.engine.io import read_image


def _stack(nuclei_sample, first: int) -> np.ndarray:
    """``first`` planes x 2 channels (the nuclei and their inverse) of 256 x 256 crops of the
    shipped nuclei image, uint16: a real hyperstack stored with C second."""
    image = nuclei_sample[0].astype(np.uint16)
    planes = [image[8 * i : 8 * i + 256, 4 * i : 4 * i + 256] for i in range(first)]
    return np.stack([np.stack([p, p.max() - p]) for p in planes])


@pytest.mark.parametrize(
    "stored, read, kept",
    [("ZCYX", "CZYX", 256 * 256 * 2), ("TCYX", "TYXC", 2 * 256 * 256 * 2)],
    ids=["imagej-zcyx", "tcyx"],
)
def test_a_stack_stored_in_another_order_is_read_holding_it_once(
    tmp_path, nuclei_sample, stored, read, kept
):
    """The peak of read_image (tracemalloc) is the stack and one plane (ZCYX) or one frame
    (TCYX) held aside, not two stacks; the pixels are the file's, transposed."""
    stack = _stack(nuclei_sample, 24)
    path = tmp_path / f"{stored}.tif"
    tifffile.imwrite(path, stack, imagej=True, metadata={"axes": stored})
    tracemalloc.start()
    try:
        image = read_image(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert image.axes == read and image.stored_axes == stored
    assert np.array_equal(image.data, np.transpose(stack, [stored.index(a) for a in read]))
    assert image.data.flags.c_contiguous
    # 24 x 2 x 256 x 256 uint16: 6 MiB; a second copy made the peak 12 MiB
    assert peak < stack.nbytes + kept + 2**20, f"peak {peak} for a stack of {stack.nbytes}"


def test_a_chosen_channel_of_a_stack_is_not_transposed(tmp_path, nuclei_sample):
    """channel= takes the channel from the array read (ZYX stays ZYX): the same pixels as
    the whole read's channel."""
    stack = _stack(nuclei_sample, 6)
    path = tmp_path / "zcyx.tif"
    tifffile.imwrite(path, stack, imagej=True, metadata={"axes": "ZCYX"})
    one = read_image(path, channel=1)
    assert one.axes == "ZYX" and np.array_equal(one.data, stack[:, 1])
    assert np.array_equal(read_image(path).data[1], one.data)
