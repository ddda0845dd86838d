"""The warning of chunks without a file (ac9e386, s32/t9 finding 5) is said only where the
chunk looks lost: zarr 3 leaves out every chunk that is all fill value, so a real image with
a blank margin or a blank frame has chunks without a file, and the warning cried wolf there
(it was printed in 9 tests of tests/engine/test_blockwise.py). An absent chunk is suspect
where an existing neighbouring chunk has signal up to the border they share (its one-pixel
face, read: an interrupted copy), not where the surroundings are blank too."""

from __future__ import annotations

import os
import warnings

import numpy as np
import pytest
import tifffile
import zarr

from tessella.engine.blockwise import BlockwiseSupport, FunctionSegmenter, label_blocks_steps


@pytest.fixture(scope="module")
def nuclei(data_dir):
    """A real DSB2018 nuclei image, 512 x 512 (its background is not 0)."""
    return tifffile.imread(data_dir / "fixtures" / "img2d.tif")


def _threshold(image, axes, origin):
    return (np.asarray(image) > 100).astype(np.uint32)


def _warned(path, tmp_path, axes=None) -> list[str]:
    """The 'no file' warnings of a blockwise run of ``path``, up to its first block (the
    chunk files are scanned first, for the run's fingerprint)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        steps = label_blocks_steps(
            path, tmp_path / "out.zarr", FunctionSegmenter(_threshold), block=128, halo=0,
            support=BlockwiseSupport(0, "touch"), axes=axes,
        )  # fmt: skip
        for step in steps:
            if step.stage != "fingerprint":
                break
        steps.close()
    return [str(w.message) for w in caught if "no file" in str(w.message)]


def _chunk_files(path) -> set[str]:
    return {str(p.relative_to(path)) for p in (path / "c").rglob("*") if p.is_file()}


def test_a_lost_inner_chunk_of_a_real_image_is_warned_of(tmp_path, nuclei):
    path = tmp_path / "nuclei.zarr"
    zarr.create_array(str(path), data=nuclei, chunks=(128, 128))
    assert len(_chunk_files(path)) == 16
    os.remove(path / "c" / "1" / "2")  # as an interrupted copy leaves it
    said = _warned(path, tmp_path)
    assert len(said) == 1, said
    assert said[0].startswith(
        f"{path}: 1 chunk has no file in {path.resolve()}: [128:256, 256:384]"
    )


def test_a_blank_margin_that_zarr_left_out_is_not_warned_of(tmp_path, nuclei):
    """The image beside a margin of 300 zero columns: zarr writes no file for the chunks
    wholly in it (columns 0-255), as all fill value; the chunks beside them begin in the
    margin."""
    image = np.zeros((512, 812), nuclei.dtype)
    image[:, 300:] = nuclei
    path = tmp_path / "margin.zarr"
    zarr.create_array(str(path), data=image, chunks=(128, 128))
    assert not any(name.endswith(("/0", "/1")) for name in _chunk_files(path))  # left out
    assert _warned(path, tmp_path) == []


def test_a_lost_chunk_beside_the_margin_is_still_warned_of(tmp_path, nuclei):
    """A group of absent chunks (the margin's and a lost one beside it) is judged as one:
    the lost chunk's neighbours have signal, so the group is warned of."""
    image = np.zeros((512, 812), nuclei.dtype)
    image[:, 300:] = nuclei
    path = tmp_path / "margin.zarr"
    zarr.create_array(str(path), data=image, chunks=(128, 128))
    os.remove(path / "c" / "2" / "3")
    said = _warned(path, tmp_path)
    assert len(said) == 1 and "1 chunk has no file" in said[0], said
    assert "[256:384, 384:512];" in said[0]


def test_a_blank_frame_is_not_warned_of(tmp_path, nuclei):
    """A movie's blank frame (a shutter closed): every chunk of it left out by zarr, its
    neighbours along T full of signal; a blank frame or slice among others is legitimate."""
    movie = np.stack([nuclei, np.zeros_like(nuclei), nuclei])
    path = tmp_path / "movie.zarr"
    zarr.create_array(str(path), data=movie, chunks=(1, 256, 256))
    assert not any(name.startswith("1/") for name in _chunk_files(path))
    assert _warned(path, tmp_path, axes="TYX") == []


def test_a_lost_block_of_chunks_is_counted_whole(tmp_path, nuclei):
    """3 x 3 chunks lost: the middle one touches no existing chunk, and is counted with the
    eight around it, whose neighbours have signal."""
    path = tmp_path / "nuclei.zarr"
    zarr.create_array(str(path), data=nuclei, chunks=(64, 64))
    for y in (2, 3, 4):
        for x in (3, 4, 5):
            os.remove(path / "c" / str(y) / str(x))
    said = _warned(path, tmp_path)
    assert len(said) == 1 and "9 chunks have no file" in said[0], said


def test_labels_whose_empty_chunks_zarr_left_out_are_not_warned_of(tmp_path, data_dir):
    """A real instance mask (background 0, the fill value): 46 chunks of 32 x 32 empty,
    left out by zarr; objects end at some of their borders, not on most of them."""
    mask = tifffile.imread(data_dir / "fixtures" / "mask2d.tif")
    path = tmp_path / "mask.zarr"
    zarr.create_array(str(path), data=mask, chunks=(32, 32))
    assert len(_chunk_files(path)) == 256 - 46
    assert _warned(path, tmp_path) == []


def test_a_lost_chunk_touching_the_margin_is_warned_of_alone(tmp_path, nuclei):
    """The lost chunk touches the margin's absent chunks: those are judged on their own
    (blank beside them), not counted with it."""
    image = np.zeros((512, 812), nuclei.dtype)
    image[:, 300:] = nuclei
    path = tmp_path / "margin.zarr"
    zarr.create_array(str(path), data=image, chunks=(128, 128))
    os.remove(path / "c" / "2" / "2")  # columns 256-383: 44 of margin, 84 of the image
    said = _warned(path, tmp_path)
    assert len(said) == 1 and "1 chunk has no file" in said[0], said
    assert "[256:384, 256:384];" in said[0]
