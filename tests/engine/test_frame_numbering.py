"""A movie segmented frame by frame (TYX, TZYX; methods that do not link frames, and the
time-lapse method with ``link`` off) numbers its objects across the movie: one ID is one
object. In memory as blockwise: frame by frame, each frame's objects in the order of the
method's IDs, after all objects of the frames before. With one block per frame the two label
images are identical; cut into several blocks per frame, equal up to renumbering (as for one
image)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
import zarr

from tessella.engine.blockwise import segment_blockwise
from tessella.engine.pipeline import number_frame, number_frames, run_steps, segment_steps
from tests.engine.test_blockwise import same_partition

ISBI = "em_membranes_isbi2012"


def ids_per_frame(labels) -> list[set[int]]:
    return [set(np.unique(frame[frame > 0]).tolist()) for frame in labels]


def no_id_in_two_frames(labels) -> bool:
    found = ids_per_frame(labels)
    return sum(len(ids) for ids in found) == len(set().union(*found))


# --- movies of real data (three frames each, never written into the repository) ----------------


def nuclei_movie(data_dir, nuclei_sample):
    image, _ = nuclei_sample
    return np.stack([image[y : y + 160, x : x + 160] for y, x in ((0, 0), (24, 16), (48, 40))])


def membranes_movie(data_dir, nuclei_sample):
    path = data_dir / ISBI / "images"
    return np.stack([tifffile.imread(path / f"{n:02d}.tif")[:192, :192] for n in range(3)])


def mito_movie(data_dir, nuclei_sample):
    volume = tifffile.imread(data_dir / "em_mito_lucchipp" / "val" / "image.tif")
    return np.ascontiguousarray(volume[:3, 64:256, 256:448])


def worms_movie(data_dir, nuclei_sample):
    path = data_dir / "worms_bbbc010" / "gfp"  # the brightfield images (README, Models)
    return np.stack(
        [tifffile.imread(path / f"{w}.tif")[200:456, 300:556] for w in ("A03", "A05", "A01")]
    )


def cells_movie(data_dir, nuclei_sample):
    files = sorted((data_dir / "ctc_Fluo-N2DH-SIM+" / "01").glob("*.tif"))[:3]
    return np.stack([tifffile.imread(f)[:256, :256] for f in files])


CASES = {  # model -> (movie, parameters)
    "nuclei2d": (nuclei_movie, {}),  # embedding
    "em-membranes2d": (membranes_movie, {}),  # boundary (graph stitching blockwise)
    "em-mito2d": (mito_movie, {}),  # semantic
    "worms2d": (worms_movie, {}),  # patches
    "cells2dt": (cells_movie, {"link": False}),  # temporal, not linked
}


def blockwise_labels(tmp_path, movie, model, axes, block, params=None):
    source = zarr.create_array(
        str(tmp_path / "movie.zarr"), shape=movie.shape, dtype=movie.dtype,
        chunks=(1, *movie.shape[1:]),
    )  # fmt: skip
    source[...] = movie
    out = tmp_path / "labels.zarr"
    segment_blockwise(str(tmp_path / "movie.zarr"), out, model, axes, params, block=block,
                      device="cpu")  # fmt: skip
    return np.asarray(zarr.open(str(out))[...])


@pytest.mark.parametrize("model", list(CASES))
def test_in_memory_ids_equal_blockwise_ids_on_a_real_movie(
    tmp_path, data_dir, nuclei_sample, model
):
    """Each method on three real frames: in memory, every object of the movie has its own ID
    (they restarted at 1 in each frame) and the labels are those of ``--blockwise``, ID for
    ID, when each frame is one block; each frame alone is the frame segmented on its own,
    renumbered."""
    make, params = CASES[model]
    movie = make(data_dir, nuclei_sample)
    result = run_steps(segment_steps(movie, model, "TYX", params=params, device="cpu"))
    labels = result.labels
    counts = [len(ids) for ids in ids_per_frame(labels)]
    assert min(counts) >= 2, counts  # several objects in every frame
    assert no_id_in_two_frames(labels)
    assert labels.max() == sum(counts)  # 1..n over the movie, frame after frame
    assert max(ids_per_frame(labels)[0]) < min(ids_per_frame(labels)[1])
    blockwise = blockwise_labels(tmp_path, movie, model, "TYX", 512, params)
    np.testing.assert_array_equal(labels, blockwise)
    if model == "nuclei2d":  # a frame alone: the same objects, in the same order
        alone = run_steps(segment_steps(movie[2], model, "YX", device="cpu")).labels
        assert alone.max() == counts[2]
        np.testing.assert_array_equal(labels[2], np.where(alone > 0, alone + sum(counts[:2]), 0))


def test_several_blocks_per_frame_equal_in_memory_up_to_renumbering(tmp_path, nuclei_sample):
    """Frames cut into 2x2 blocks: the blockwise labels of the whole movie are the in-memory
    ones up to renumbering (an ID in two frames would be one object in one and two in the
    other, and the movie would not be one partition)."""
    movie = nuclei_movie(None, nuclei_sample)
    labels = run_steps(segment_steps(movie, "nuclei2d", "TYX", device="cpu")).labels
    blockwise = blockwise_labels(tmp_path, movie, "nuclei2d", "TYX", 96)
    assert no_id_in_two_frames(labels) and no_id_in_two_frames(blockwise)
    assert same_partition(labels, blockwise)


def test_a_movie_of_volumes_is_numbered_across_frames_as_blockwise(tmp_path, data_dir):
    """TZYX (the 2D boundary model slice by slice, 3D agglomeration per frame): IDs go on
    from frame to frame, equal to blockwise."""
    path = data_dir / ISBI / "images"
    sections = np.stack([tifffile.imread(path / f"{n:02d}.tif") for n in range(6)])
    movie = np.stack([sections[0:3, :128, :128], sections[3:6, 20:148, 30:158]])
    labels = run_steps(segment_steps(movie, "em-membranes2d", "TZYX", device="cpu")).labels
    assert labels.shape == movie.shape
    assert min(len(ids) for ids in ids_per_frame(labels)) > 5 and no_id_in_two_frames(labels)
    np.testing.assert_array_equal(labels, blockwise_labels(tmp_path, movie, "em-membranes2d",
                                                           "TZYX", 512))  # fmt: skip


def test_a_blank_frame_takes_no_ids(nuclei_sample):
    """A blank frame has no objects and uses up no IDs: the next frame goes on from the one
    before it, as blockwise drops objects wholly in blank frames."""
    image, _ = nuclei_sample
    movie = np.stack([image[:128, :128], np.zeros((128, 128), image.dtype), image[128:256, :128]])
    labels = run_steps(segment_steps(movie, "nuclei2d", "TYX", device="cpu")).labels
    first, blank, last = ids_per_frame(labels)
    assert not blank and first and last
    assert min(last) == max(first) + 1 and labels.max() == len(first) + len(last)


def test_number_frames_keeps_each_frames_order_and_leaves_no_gaps():
    frames = np.array([
        [[0, 4, 4], [9, 0, 2]],  # 2, 4, 9 -> 1, 2, 3
        [[0, 0, 0], [0, 0, 0]],  # empty: takes no IDs
        [[1, 1, 0], [0, 0, 0]],  # -> 4
        [[7, 0, 5], [0, 5, 7]],  # 5, 7 -> 5, 6
    ], np.int32)  # fmt: skip
    numbered = number_frames(frames)
    assert numbered.dtype == np.int32
    assert numbered.tolist() == [
        [[0, 2, 2], [3, 0, 1]],
        [[0, 0, 0], [0, 0, 0]],
        [[4, 4, 0], [0, 0, 0]],
        [[6, 0, 5], [0, 5, 6]],
    ]
    # far-apart IDs (no lookup table) and a count past the frame's dtype
    sparse, last = number_frame(np.array([[0, 2**40], [3, 2**40]], np.int64), after=5)
    assert sparse.tolist() == [[0, 7], [6, 7]] and last == 7
    wide, last = number_frame(np.array([[1, 2]], np.uint8), after=254)
    assert wide.tolist() == [[255, 256]] and wide.dtype == np.int64 and last == 256
    with pytest.raises(TypeError, match="integers"):
        number_frame(np.zeros((2, 2), np.float32))
