"""Blockwise (out-of-core) segmentation: stitching on known answers, the methods against their
in-memory results on real images, resuming, cancelling and bad input."""

from __future__ import annotations

import errno
import json
import os

import numpy as np
import pytest
import tifffile
import zarr
from scipy import ndimage

from tessella.engine import blockwise, metrics
from tessella.engine.blockwise import (
    SUPPORT,
    BlockwiseSupport,
    FunctionSegmenter,
    label_blocks_steps,
    open_executor,
    segment_blockwise,
    segment_blockwise_steps,
    work_dir,
)
from tessella.engine.io import read_image
from tessella.engine.methods import Prediction
from tessella.engine.methods import boundary as boundary_method
from tessella.engine.pipeline import run_steps, segment
from tests.conftest import write_ome_zarr

ISBI = "em_membranes_isbi2012"


def same_partition(a, b) -> bool:
    """True when ``a`` and ``b`` are the same labels up to renumbering (0 stays 0)."""
    a, b = np.asarray(a).reshape(-1), np.asarray(b).reshape(-1)
    if not np.array_equal(a == 0, b == 0):
        return False
    pairs = np.unique(np.stack([a[a > 0], b[b > 0]]), axis=1)
    return pairs.shape[1] == np.unique(a[a > 0]).size == np.unique(b[b > 0]).size


def write_zarr(path, array, chunks):
    stored = zarr.create_array(str(path), shape=array.shape, dtype=array.dtype, chunks=chunks)
    stored[...] = array
    return path


# --- segmenters for known answers (module level: workers import them) ---------------------------


def crop_scrambled(image, axes, origin):
    """The 'perfect segmenter' of a label image: the crop itself, renumbered per block."""
    labels = np.asarray(image, np.int64)
    ids = np.unique(labels[labels > 0])
    shuffled = np.random.default_rng(sum(origin)).permutation(ids.size) + 7
    lut = np.zeros(int(labels.max()) + 1, np.int64)
    lut[ids] = shuffled
    return lut[labels]


def components(image, axes, origin):
    return ndimage.label(image > 0)[0]


def components_full(image, axes, origin):
    return ndimage.label(image > 0, np.ones((3,) * image.ndim))[0]


CALLS: list = []


def counted_components(image, axes, origin):
    CALLS.append(origin)
    return components(image, axes, origin)


BOUNDARY_PARAMS = boundary_method.Params(min_size=30, beta=0.4)


def boundary_prediction(image, axes):
    """The map as the boundary method's prediction (ZYX: sections 5x coarser than pixels)."""
    meta = {"spacing": (5.0, 1.0, 1.0)} if axes == "ZYX" else {}
    return Prediction({"boundary": image[None].astype(np.float32)}, axes, meta)


def boundary_from_map(image, axes, origin):
    """The boundary method's real post-processing, in memory."""
    return boundary_method.postprocess(boundary_prediction(image, axes), BOUNDARY_PARAMS)


def boundary_graph_from_map(image, axes, origin):
    """A block's superpixel graph, as the model segmenter gives it for "graph" stitching."""
    return boundary_method.block_graph(boundary_prediction(image, axes), BOUNDARY_PARAMS)


def boundary_objects(edges, mean_p, size, pixels, fg_sum):
    return boundary_method.objects_from_graph(edges, mean_p, size, pixels, fg_sum, BOUNDARY_PARAMS)


@pytest.fixture
def objects_across_faces():
    """Labels with objects cut by faces, spanning 3 blocks, a 2x2 corner, long thin ones, and
    two different objects touching exactly at a face (blocks of 32)."""
    labels = np.zeros((100, 90), np.int32)
    labels[20:44, 20:44] = 1  # across the face at 32 in both axes: 4 blocks (corner)
    labels[50:60, 5:85] = 2  # a bar through 3 block columns
    labels[70:96, 60:66] = 3  # across the face at 64 (rows) ... and at 64 (columns)
    labels[5:15, 34:40] = 4  # two objects close to the face x = 32, on either side
    labels[5:15, 26:32] = 5
    labels[75:85, 20:32] = 6  # ends at the face x = 32 ...
    labels[75:85, 32:44] = 7  # ... and 7 starts there: two objects touching across the face
    yy, xx = np.mgrid[:100, :90]
    labels[(yy - 64) ** 2 + (xx - 32) ** 2 < 36] = 8  # a disc on a block corner
    return labels


# --- stitching on known answers ------------------------------------------------------------------


@pytest.mark.parametrize("block,halo", [(32, 16), (32, 4), (17, 9)])
def test_overlap_stitching_recovers_every_object(tmp_path, objects_across_faces, block, halo):
    labels = objects_across_faces
    source = write_zarr(tmp_path / "labels_in.zarr", labels.astype(np.uint16), (32, 32))
    out = tmp_path / "out.zarr"
    result = run_steps(
        label_blocks_steps(source, out, FunctionSegmenter(crop_scrambled), block=block, halo=halo)
    )
    stitched = zarr.open(str(out))[...]
    assert stitched.dtype == np.uint32 and stitched.shape == labels.shape
    assert same_partition(labels, stitched)  # objects 6 and 7 touch but stay two
    assert result.n_objects == 8 and set(np.unique(stitched)) == set(range(9))
    assert not work_dir(out).exists()


@pytest.mark.parametrize(
    "segmenter,structure,connectivity",
    [(components, None, 1), (components_full, np.ones((3, 3)), 2)],
)
def test_touch_stitching_equals_connected_components(tmp_path, segmenter, structure, connectivity):
    rng = np.random.default_rng(3)
    mask = ndimage.gaussian_filter(rng.normal(size=(120, 100)), 2.5) > 0.05
    mask[60, :] = True  # one object crossing every block column
    expected, n = ndimage.label(mask, structure)
    out = tmp_path / "cc.zarr"
    support = BlockwiseSupport(0, "touch", connectivity)
    steps = label_blocks_steps(
        mask.astype(np.uint8), out, FunctionSegmenter(segmenter), block=16, halo=0, support=support
    )
    result = run_steps(steps)
    assert result.n_objects == n > 20
    assert same_partition(expected, zarr.open(str(out))[...])


def test_touch_stitching_in_3d_through_edges_and_corners(tmp_path):
    mask = np.zeros((24, 24, 24), np.uint8)
    for i in range(24):  # a diagonal chain of voxels: connected through 3D corners only
        mask[i, i, i] = 1
    mask[2:6, 14:20, 3:9] = 1  # a box across one face
    expected, n = ndimage.label(mask, np.ones((3, 3, 3)))
    out = tmp_path / "cc3d.zarr"
    support = BlockwiseSupport(0, "touch", connectivity=3)
    steps = label_blocks_steps(
        mask, out, FunctionSegmenter(components_full), "ZYX", block=8, halo=0, support=support
    )
    assert run_steps(steps).n_objects == n == 2
    assert same_partition(expected, zarr.open(str(out))[...])


def test_global_size_filter_sees_whole_objects(tmp_path):
    mask = np.zeros((64, 64), np.uint8)
    mask[10:14, 10:40] = 1  # 120 px, cut into pieces of 24 and 96 by the face at 16
    mask[40:44, 40:44] = 1  # 16 px
    out = tmp_path / "sized.zarr"
    support = BlockwiseSupport(0, "touch")
    steps = label_blocks_steps(
        mask, out, FunctionSegmenter(components), block=16, halo=0, support=support, min_size=50
    )
    assert run_steps(steps).n_objects == 1
    stitched = zarr.open(str(out))[...]
    assert np.array_equal(stitched > 0, ndimage.label(mask)[0] == 1)


def test_time_frames_are_never_stitched(tmp_path):
    movie = np.zeros((2, 40, 40), np.uint8)
    movie[:, 10:30, 10:30] = 1  # the same square in both frames, across block faces
    out = tmp_path / "movie.zarr"
    support = BlockwiseSupport(0, "touch")
    steps = label_blocks_steps(
        movie, out, FunctionSegmenter(components), "TYX", block=16, halo=0, support=support
    )
    assert run_steps(steps).n_objects == 2
    stitched = zarr.open(str(out))[...]
    assert len(np.unique(stitched[0])) == len(np.unique(stitched[1])) == 2
    assert stitched[0, 20, 20] != stitched[1, 20, 20]


# --- the methods against their in-memory results, on real images --------------------------------


def test_embedding_blockwise_matches_in_memory_on_real_nuclei(tmp_path, nuclei_sample, nuclei2d):
    image, _ = nuclei_sample  # 520 x 512: blocks of 256 -> 3 x 2 blocks, the last 8 rows thin
    expected = segment(image, nuclei2d, "YX", device="cpu")
    source = write_zarr(tmp_path / "nuclei.zarr", image, (128, 128))
    progress = []
    steps = segment_blockwise_steps(
        source, tmp_path / "out.zarr", nuclei2d, block=256, device="cpu"
    )
    while True:
        try:
            progress.append(next(steps))
        except StopIteration as stop:
            result = stop.value
            break
    labels = zarr.open(str(tmp_path / "out.zarr"))[...]
    assert labels.shape == image.shape and labels.dtype == np.uint32
    assert result.n_objects == labels.max() == len(np.unique(labels)) - 1
    assert metrics.matching(expected, labels, 0.5).ap >= 0.99
    assert abs(int(expected.max()) - result.n_objects) <= 2
    finished = [p for p in progress if p.stage == "segment" and p.region is not None]
    assert [p.done for p in finished] == list(range(1, 7)) and result.n_blocks == 6
    assert {p.stage for p in progress} == {"scan", "segment", "stitch", "relabel", "digest"}
    assert result.recipe["model"] == "nuclei2d" and result.recipe["blockwise"]["block"] == [
        256,
        256,
    ]


def test_scan_reproduces_the_pipeline_normalisation():
    rng = np.random.default_rng(0)
    data = rng.integers(0, 4000, size=(300, 300)).astype(np.uint16)
    values, counts = np.unique(data, return_counts=True)
    got = blockwise._scan._percentiles_from_counts(values, counts, (1.0, 99.8))
    assert got == list(np.percentile(data.reshape(-1), (1.0, 99.8)))


def isbi_boundary_map(data_dir, names, noise):
    """A boundary probability map from real ISBI membrane labels (blurred; optionally with
    uneven, noisy membranes as a network would give them); ZYX for several sections."""
    maps = []
    for k, name in enumerate(names):
        membranes = tifffile.imread(data_dir / ISBI / "boundaries" / f"{name}.tif") > 0
        boundary = ndimage.gaussian_filter(membranes.astype(np.float32), 1.5)
        boundary /= boundary.max()
        if noise:
            rng = np.random.default_rng(k)
            boundary = boundary * rng.uniform(0.4, 1.0, boundary.shape)
            boundary = ndimage.gaussian_filter(boundary + rng.normal(0, noise, boundary.shape), 1)
        maps.append(np.clip(boundary, 0, 1).astype(np.float32))
    return maps[0] if len(maps) == 1 else np.stack(maps)


@pytest.mark.parametrize(
    "names,noise,block",
    [(["00"], 0.0, 128), (["05"], 0.0, 128), (["00"], 0.15, 128), (["03"], 0.3, 96),
     (["00", "01", "02", "03"], 0.15, (2, 160, 160))],
)  # fmt: skip
def test_boundary_blockwise_equals_in_memory_on_isbi_membranes(
    tmp_path, data_dir, names, noise, block
):
    """The boundary method (superpixels, one agglomeration over the graph of all blocks) on
    real ISBI membrane maps, clean and noisy, 2D and an anisotropic 4-section stack cut along Z
    too: the labels equal the in-memory ones up to renumbering."""
    boundary = isbi_boundary_map(data_dir, names, noise)
    axes = "ZYX" if boundary.ndim == 3 else "YX"
    expected = boundary_from_map(boundary, axes, (0,) * boundary.ndim)
    out = tmp_path / "cells.zarr"
    segmenter = FunctionSegmenter(boundary_graph_from_map, objects=boundary_objects)
    halo = 64 if axes == "YX" else (1, 64, 64)
    steps = label_blocks_steps(
        boundary, out, segmenter, axes, block=block, halo=halo, support=SUPPORT["boundary"]
    )
    result = run_steps(steps)
    labels = zarr.open(str(out))[...]
    assert result.n_objects == np.unique(expected[expected > 0]).size > 20
    assert same_partition(expected, labels)


def test_graph_stitching_needs_the_objects_step(tmp_path):
    segmenter = FunctionSegmenter(boundary_graph_from_map)
    image = np.zeros((64, 64), np.float32)
    steps = label_blocks_steps(
        image, tmp_path / "x.zarr", segmenter, block=32, halo=8, support=SUPPORT["boundary"]
    )
    with pytest.raises(ValueError, match="objects"):
        run_steps(steps)


def semantic_from_map(image, axes, origin, params=None):
    from tessella.engine.methods import semantic

    prediction = Prediction({"foreground": image[None].astype(np.float32)}, axes)
    return semantic.postprocess(prediction, params)


@pytest.mark.parametrize(
    "axes,options",
    [
        ("YX", {"min_size": 50}),
        ("YX", {"radius": 2, "fill_holes": True, "min_size": 50}),
        ("YX", {"split": True, "min_distance": 6, "radius": 1, "min_size": 30}),
        ("ZYX", {"radius": 1, "z_median": 3, "min_size": 50}),
    ],
)
def test_semantic_blockwise_equals_in_memory_on_lucchi_mitochondria(
    tmp_path, data_dir, axes, options
):
    """The semantic method's post-processing on a probability map made from the real Lucchi++
    mitochondria (blurred, with noise): without ``split``, touch stitching gives exactly the
    in-memory components and the global ``min_size``; with ``split``, overlap stitching."""
    import dataclasses
    import functools

    semantic = pytest.importorskip("tessella.engine.methods.semantic")
    mito = tifffile.imread(data_dir / "em_mito_lucchipp" / "val" / "mito.tif")[:8] > 0
    rng = np.random.default_rng(0)
    probability = ndimage.gaussian_filter(mito.astype(np.float32), 2)
    probability += rng.normal(0, 0.1, mito.shape).astype(np.float32)
    if axes == "YX":
        probability, block = probability[4], 128
    else:
        probability, block = probability[:, :384, :512], (4, 128, 128)
    params = semantic.Params(**options)
    expected = semantic_from_map(probability, axes, None, params)
    support = blockwise.blockwise_support("semantic", params)
    assert support.stitch == ("overlap" if params.split else "touch")
    per_block = dataclasses.replace(params, min_size=0)
    segmenter = FunctionSegmenter(functools.partial(semantic_from_map, params=per_block))
    out = tmp_path / "mito.zarr"
    steps = label_blocks_steps(
        probability, out, segmenter, axes, block=block, halo=support.context, support=support,
        min_size=params.min_size,
    )  # fmt: skip
    result = run_steps(steps)
    assert result.n_objects == expected.max() >= 4
    assert same_partition(expected, zarr.open(str(out))[...])


# --- resuming, cancelling, failing --------------------------------------------------------------


def _blobs(tmp_path):
    rng = np.random.default_rng(1)
    mask = (ndimage.gaussian_filter(rng.normal(size=(96, 96)), 2) > 0.1).astype(np.uint8)
    return write_zarr(tmp_path / "blobs.zarr", mask, (32, 32)), ndimage.label(mask)[0]


def _touch_steps(source, out, segmenter=counted_components, **options):
    support = BlockwiseSupport(0, "touch")
    return label_blocks_steps(
        source, out, FunctionSegmenter(segmenter), block=32, halo=2, support=support, **options
    )


def test_cancel_keeps_finished_blocks_and_a_rerun_does_only_the_rest(tmp_path):
    source, expected = _blobs(tmp_path)
    out = tmp_path / "resumed.zarr"
    CALLS.clear()
    steps = _touch_steps(source, out)
    finished = 0
    for progress in steps:
        finished += progress.stage == "segment" and progress.region is not None
        if finished == 4:
            break
    steps.close()  # cancel, as a widget does
    assert not out.exists() and len(list((work_dir(out) / "blocks").glob("*.npz"))) == 4
    # lose one finished block (as if it had failed while writing): it is redone too
    (work_dir(out) / "blocks" / "0.npz").unlink()
    CALLS.clear()
    result = run_steps(_touch_steps(source, out))
    assert len(CALLS) == 9 - 4 + 1 and result.resumed == 3
    assert (0, 0) in CALLS  # block 0 (origin 0, 0) was segmented again
    assert same_partition(expected, zarr.open(str(out))[...])
    assert not work_dir(out).exists()


def _cancel_after(steps, blocks: int) -> None:
    """Run ``steps`` until ``blocks`` blocks are segmented, then cancel (as a widget does)."""
    finished = 0
    for progress in steps:
        finished += progress.stage == "segment" and progress.region is not None
        if finished == blocks:
            break
    steps.close()


@pytest.mark.parametrize("form", ["path", "from_zarr"])
def test_the_chunk_file_scan_of_a_zarr_input_yields_a_cancel_point(tmp_path, monkeypatch, form):
    """A zarr input's chunk files (a path, or a dask array over them) are stat'ed
    FILES_PER_STEP at a time, each step a progress and a cancel point: the scan ran whole
    before the first yield, so Cancel waited for it (minutes for many files on a network
    file system). Closed at the first step, the run leaves nothing; run on, its labels are
    those of the whole image."""
    import dask.array as da

    from tessella.engine.blockwise import BlockProgress, _identity

    monkeypatch.setattr(_identity, "FILES_PER_STEP", 10)
    mask = np.asarray(zarr.open(str(_blobs(tmp_path)[0])))
    source = write_zarr(tmp_path / "raw.zarr", mask, (8, 8))  # 12 x 12 chunks
    n_files = sum(path.is_file() for path in (source / "c").rglob("*"))
    assert 100 < n_files <= 144  # (a chunk of zeros only, the fill value, has no file)

    def image():
        return source if form == "path" else da.from_zarr(str(source))

    out = tmp_path / "labels.zarr"
    steps = _touch_steps(image(), out, components)
    assert next(steps) == BlockProgress("fingerprint", 10, 144)  # 10 of the files
    steps.close()  # Cancel
    assert not out.exists() and not work_dir(out).exists()

    progress: list = []
    steps = _touch_steps(image(), out, components)
    while True:
        try:
            progress.append(next(steps))
        except StopIteration as stop:
            result = stop.value
            break
    scan = [BlockProgress("fingerprint", done, 144) for done in range(10, n_files + 1, 10)]
    assert progress[: len(scan)] == scan
    # then (a9c8ff8) the judgement of a zarr path's chunks without a file, as an inner stage
    after = progress[len(scan) :]
    absent = [p for p in after if p.stage == "fingerprint"]
    assert all(p.inner.stage == "absent chunks" for p in absent)
    assert bool(absent) == (form == "path")  # (a dask array over a zarr is not judged)
    assert after[len(absent)].stage != "fingerprint"
    assert result.n_blocks == 9
    assert same_partition(ndimage.label(mask)[0], zarr.open(str(out))[...])


def test_an_in_memory_array_resumes_on_the_same_pixels_only(tmp_path):
    """An array input (a napari layer read into memory) resumes as a zarr input does: the
    plan holds its pixels' sha256, so the same pixels (another array object) resume. Other
    pixels cannot resume: the run starts again, saying so (it was refused, and the Segment
    panel has no overwrite to pass); other settings are still refused."""
    source, expected = _blobs(tmp_path)
    image = np.asarray(zarr.open(str(source)))
    out = tmp_path / "array.zarr"
    _cancel_after(_touch_steps(image, out), 4)
    CALLS.clear()
    result = run_steps(_touch_steps(image.copy(), out))
    assert result.resumed == 4 and len(CALLS) == 9 - 4
    assert same_partition(expected, zarr.open(str(out))[...])

    out = tmp_path / "edited.zarr"
    _cancel_after(_touch_steps(image, out), 4)
    edited = image.copy()
    edited[95, 95] = 1 - edited[95, 95]  # one pixel of the last block
    said = "min_size: 0 in the unfinished run, 5 now; the input's pixels: other than the unfinished"
    with pytest.raises(ValueError, match=f"other settings \\({said} run's\\) is in "):
        run_steps(_touch_steps(edited, out, min_size=5))  # not the pixels only: refused
    assert len(list((work_dir(out) / "blocks").glob("*.npz"))) == 4  # kept
    CALLS.clear()
    with pytest.warns(
        blockwise.StartedAgainWarning,
        match="the input's pixels changed since the unfinished run: starting again",
    ):
        result = run_steps(_touch_steps(edited, out))
    assert result.resumed == 0 and len(CALLS) == 9
    assert same_partition(ndimage.label(edited)[0], zarr.open(str(out))[...])


class _CountedReads:
    """An array-like that counts the pixels read from it (what dask reads for a lazy image)."""

    def __init__(self, array):
        self.array, self.shape, self.dtype, self.ndim = array, array.shape, array.dtype, array.ndim
        self.read = 0

    def __getitem__(self, index):
        block = self.array[index]
        self.read += block.size
        return block


def test_a_dask_array_is_known_by_its_name_and_never_read_to_fingerprint(tmp_path):
    """A lazy (dask) input not backed by a zarr path: no pixel is read before segmenting (it
    was read whole and hashed at every run and resume); the same dask array resumes, another
    one (another name) starts again, and an array that is neither numpy nor dask (a zarr array
    in memory) is never resumed."""
    import dask.array as da

    source, expected = _blobs(tmp_path)
    image = np.asarray(zarr.open(str(source)))
    lazy = _CountedReads(image)
    dask_image = da.from_array(lazy, chunks=32)
    out = tmp_path / "dask.zarr"
    steps = _touch_steps(dask_image, out)
    first = next(steps)
    assert first.stage == "segment" and lazy.read == 0
    _cancel_after(steps, 4)
    CALLS.clear()
    result = run_steps(_touch_steps(dask_image, out))
    assert result.resumed == 4 and len(CALLS) == 9 - 4
    assert same_partition(expected, zarr.open(str(out))[...])

    out = tmp_path / "other.zarr"
    _cancel_after(_touch_steps(dask_image, out), 4)
    with pytest.warns(blockwise.StartedAgainWarning, match="pixels changed"):
        result = run_steps(_touch_steps(da.from_array(image[::-1].copy(), chunks=32), out))
    assert result.resumed == 0

    out = tmp_path / "memory.zarr"
    in_memory = zarr.create_array(zarr.storage.MemoryStore(), data=image, chunks=(32, 32))
    _cancel_after(_touch_steps(in_memory, out), 4)
    CALLS.clear()
    with pytest.warns(blockwise.StartedAgainWarning, match="neither numpy, dask nor a zarr folder"):
        result = run_steps(_touch_steps(in_memory, out))
    assert result.resumed == 0 and len(CALLS) == 9


def _rewrite_last_chunk(path) -> np.ndarray:
    """Flip one pixel of the last 32x32 chunk of the zarr array at ``path`` in place (zarr
    writes that chunk's file again; the others are untouched); returns the new pixels."""
    stored = zarr.open_array(str(path), mode="r+")
    stored[95, 95] = 1 - stored[95, 95]
    return stored[...]


@pytest.mark.parametrize("form", ["path", "from_zarr"])
def test_a_zarr_input_rewritten_in_place_starts_again(tmp_path, form):
    """A zarr input (a path, or a dask array over it) whose chunk files were written since its
    unfinished run starts again, naming the chunk files: it resumed, mixing blocks of the old
    pixels with blocks of the new ones, because the plan held only the store's path (and the
    dask name, which from_zarr derives from the path). Untouched, it still resumes. The chunks
    are stored uncompressed, so the rewritten chunk keeps its size: its time tells."""
    import dask.array as da

    mask = np.asarray(zarr.open(str(_blobs(tmp_path)[0])))
    source = tmp_path / "raw.zarr"
    zarr.create_array(str(source), data=mask, chunks=(32, 32), compressors=None)

    def image():
        return source if form == "path" else da.from_zarr(str(source))

    out = tmp_path / "resumed.zarr"
    _cancel_after(_touch_steps(image(), out), 4)
    CALLS.clear()
    result = run_steps(_touch_steps(image(), out))
    assert result.resumed == 4 and len(CALLS) == 9 - 4

    out = tmp_path / "rewritten.zarr"
    _cancel_after(_touch_steps(image(), out), 4)
    name, sizes = (
        da.from_zarr(str(source)).name,
        sorted(p.stat().st_size for p in source.rglob("c/*/*")),
    )
    edited = _rewrite_last_chunk(source)
    assert da.from_zarr(str(source)).name == name  # what the plan held is the same
    assert sorted(p.stat().st_size for p in source.rglob("c/*/*")) == sizes
    CALLS.clear()
    with pytest.warns(blockwise.StartedAgainWarning) as warned:
        result = run_steps(_touch_steps(image(), out))
    assert str(warned[0].message) == (
        f"{out}: the input's pixels changed since the unfinished run (chunk files of "
        f"{source.resolve()}): starting again"
    )
    assert result.resumed == 0 and len(CALLS) == 9
    assert same_partition(ndimage.label(edited)[0], zarr.open(str(out))[...])


def test_an_ome_zarr_input_rewritten_in_place_starts_again(tmp_path):
    """The same for an OME-Zarr image: its level-0 array's chunk files are checked, not the
    group's other members (labels written beside it change nothing)."""
    mask = np.asarray(zarr.open(str(_blobs(tmp_path)[0])))
    source = write_ome_zarr(tmp_path / "image.ome.zarr", mask, "yx", [1.0, 1.0], (32, 32))
    out = tmp_path / "o.ome.zarr"
    _cancel_after(_touch_steps(source, out), 4)
    zarr.open_group(str(source), mode="r+").create_group("labels")  # not the image's pixels
    CALLS.clear()
    assert run_steps(_touch_steps(source, out)).resumed == 4

    out = tmp_path / "rewritten.ome.zarr"
    _cancel_after(_touch_steps(source, out), 4)
    edited = _rewrite_last_chunk(source / "0")
    with pytest.warns(blockwise.StartedAgainWarning, match="chunk files of .*image.ome.zarr/0"):
        result = run_steps(_touch_steps(source, out))
    assert result.resumed == 0
    assert same_partition(ndimage.label(edited)[0], np.asarray(read_image(out).data))


def test_rerun_with_other_settings_is_refused_unless_overwrite(tmp_path):
    source, _ = _blobs(tmp_path)
    out = tmp_path / "o.zarr"
    steps = _touch_steps(source, out)
    next(steps), next(steps)
    steps.close()
    with pytest.raises(ValueError, match="other settings.*block.*overwrite"):
        next(label_blocks_steps(source, out, FunctionSegmenter(components), block=48, halo=2))
    result = run_steps(_touch_steps(source, out, overwrite=True))
    assert result.n_objects > 5
    with pytest.raises(FileExistsError, match="overwrite"):
        run_steps(_touch_steps(source, out))


def test_a_lock_file_that_no_process_holds_is_taken_over(tmp_path):
    """A run's lock is its lock file locked (flock), not the ``HOST PID`` it names: a lock
    file left behind naming a process that runs (a pid reused since, or a version without
    the lock's) holds no run, and a run goes ahead. A live run refusing a second:
    tests/engine/test_blockwise_lock.py."""
    import socket
    import subprocess
    import sys

    source, expected = _blobs(tmp_path)
    out = tmp_path / "locked.zarr"
    steps = _touch_steps(source, out, segmenter=components)
    next(steps), next(steps)
    steps.close()  # cancelled: the lock is released, the work kept
    assert not (work_dir(out) / "lock").exists()
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        (work_dir(out) / "lock").write_text(f"{socket.gethostname()} {other.pid}\n")
        result = run_steps(_touch_steps(source, out, segmenter=components))
    finally:
        other.kill()
        other.wait()
    assert same_partition(expected, zarr.open(str(out))[...]) and result.n_blocks == 9


def test_full_disk_names_the_output_and_a_rerun_resumes(tmp_path, monkeypatch):
    from zarr.storage import LocalStore

    source, expected = _blobs(tmp_path)
    out = tmp_path / "full.zarr"
    original = LocalStore.set
    written = []

    async def fill_up(self, key, value):
        if "provisional" in str(self.root) and key.startswith("c"):
            written.append(key)
            if len(written) == 5:
                raise OSError(errno.ENOSPC, "No space left on device")
        return await original(self, key, value)

    monkeypatch.setattr(LocalStore, "set", fill_up)
    with pytest.raises(OSError) as info:
        run_steps(_touch_steps(source, out, segmenter=components))
    message = str(info.value)
    assert str(out) in message and "disk full" in message and "resume" in message
    assert "\n" not in message and not out.exists()
    monkeypatch.setattr(LocalStore, "set", original)
    result = run_steps(_touch_steps(source, out, segmenter=components))
    assert result.resumed == 4
    assert same_partition(expected, zarr.open(str(out))[...])


def test_blocks_run_on_worker_processes(tmp_path):
    source, expected = _blobs(tmp_path)
    out = tmp_path / "workers.zarr"
    with open_executor(workers=1) as executor:
        result = run_steps(_touch_steps(source, out, segmenter=components, executor=executor))
    assert result.n_blocks == 9
    assert same_partition(expected, zarr.open(str(out))[...])


# --- input and output formats, bad input ---------------------------------------------------------


def test_ome_zarr_in_gives_ome_zarr_labels_out(tmp_path, objects_across_faces):
    labels = objects_across_faces.astype(np.uint16)
    group = zarr.open_group(str(tmp_path / "image.ome.zarr"), mode="w", zarr_format=2)
    group.create_array("0", shape=labels.shape, dtype=labels.dtype, chunks=(32, 32))[...] = labels
    axes = [{"name": "y", "type": "space", "unit": "micrometer"}, {"name": "x", "type": "space"}]
    transforms = [{"type": "scale", "scale": [0.5, 0.25]}]
    multiscale = {"version": "0.4", "axes": axes, "datasets": [
        {"path": "0", "coordinateTransformations": transforms}]}  # fmt: skip
    group.attrs["multiscales"] = [multiscale]
    out = tmp_path / "labels.ome.zarr"
    segmenter = FunctionSegmenter(crop_scrambled)
    run_steps(label_blocks_steps(tmp_path / "image.ome.zarr", out, segmenter, block=32, halo=8))
    written = zarr.open_group(str(out), mode="r")
    assert "image-label" in written.attrs and written.attrs["multiscales"][0]["axes"] == axes
    read = read_image(out)
    assert read.pixel_size == {"Y": 0.5, "X": 0.25} and read.axes == "YX"
    assert same_partition(labels, np.asarray(read.data))


@pytest.mark.parametrize(
    "shape,names,axes",
    [((1, 1, 1, 80, 80), "tczyx", "YX"), ((2, 1, 1, 80, 80), "tczyx", "TYX"),
     ((1, 3, 80, 80), "czyx", "ZYX")],
)  # fmt: skip
def test_ome_zarr_singleton_axes_are_left_out_as_in_memory(
    tmp_path, objects_across_faces, shape, names, axes
):
    """An OME-Zarr that keeps its singleton axes, e.g. (1, 1, 1, Y, X) for a 2D image (axes
    t, c, z, y, x): blockwise reads it as reading it in memory does (YX), and writes labels
    of those axes (here OME-Zarr labels y, x with the image's scale)."""
    labels = np.broadcast_to(objects_across_faces[:80, :80].astype(np.uint16), shape)
    scale = [1.0] * (len(shape) - 2) + [0.5, 0.25]
    chunks = (1,) * (len(shape) - 2) + (40, 40)
    source = write_ome_zarr(tmp_path / "image.ome.zarr", labels, names, scale, chunks)
    image = read_image(source)
    assert image.axes == axes
    out = tmp_path / "labels.ome.zarr"
    segmenter = FunctionSegmenter(crop_scrambled)
    result = run_steps(label_blocks_steps(source, out, segmenter, block=32, halo=8))
    assert result.axes == axes and result.shape == image.data.shape
    read = read_image(out)
    assert read.axes == axes and read.pixel_size == image.pixel_size
    written = zarr.open_group(str(out), mode="r").attrs["multiscales"][0]
    assert [a["name"] for a in written["axes"]] == [n for n in names if n.upper() in axes]
    expected = np.asarray(image.data)
    found = np.asarray(read.data)
    if "T" in axes:  # frames are never stitched: each frame is its own partition
        assert all(same_partition(e, f) for e, f in zip(expected, found))
    else:
        assert same_partition(expected, found)


def test_tiff_input_is_refused_with_advice(tmp_path, nuclei2d):
    tifffile.imwrite(tmp_path / "big.tif", np.zeros((64, 64), np.uint8))
    with pytest.raises(ValueError, match="chunked zarr.*convert it first"):
        next(segment_blockwise_steps(tmp_path / "big.tif", tmp_path / "o.zarr", nuclei2d))


def test_single_chunk_zarr_warns_and_a_huge_chunk_is_refused(tmp_path, monkeypatch):
    mask = np.zeros((64, 64), np.uint8)
    mask[10:50, 20:24] = 1
    source = write_zarr(tmp_path / "one_chunk.zarr", mask, (64, 64))
    with pytest.warns(UserWarning, match="one chunk.*rechunk"):
        result = run_steps(_touch_steps(source, tmp_path / "a.zarr", segmenter=components))
    assert result.n_objects == 1
    monkeypatch.setattr(blockwise._store, "MAX_CHUNK_BYTES", 1000)
    with pytest.raises(ValueError, match="every block would decode it whole; rechunk"):
        run_steps(_touch_steps(source, tmp_path / "b.zarr", segmenter=components))


def test_unreachable_scheduler_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(blockwise._run, "SCHEDULER_TIMEOUT", 1.0)
    with (
        pytest.raises(ValueError, match=r"tcp://127\.0\.0\.1:9"),
        open_executor("tcp://127.0.0.1:9"),
    ):
        pass


def test_constant_input_is_0_objects_and_model_mismatch_fails_before_any_block(tmp_path, nuclei2d):
    """A constant input (the empty well of a plate) is a result, not an error: warned of with
    its name and value, as in memory, and written as labels of 0 objects, the input's shape."""
    flat = write_zarr(tmp_path / "flat.zarr", np.full((64, 64), 5, np.uint8), (32, 32))
    with pytest.warns(UserWarning, match=r"flat\.zarr is constant \(every pixel is 5\): nothing"):
        result = segment_blockwise(flat, tmp_path / "o.zarr", nuclei2d, block=32, device="cpu")
    assert result.n_objects == 0
    labels = zarr.open(str(tmp_path / "o.zarr"), mode="r")
    assert labels.shape == (64, 64) and not np.asarray(labels[:]).any()
    # a chunk that cannot be decoded: named with the block, nothing left behind
    image = write_zarr(
        tmp_path / "bad.zarr", np.arange(64 * 64, dtype=np.uint16).reshape(64, 64), (32, 32)
    )
    chunk = next(
        p for p in sorted((tmp_path / "bad.zarr").rglob("*")) if p.is_file() and p.name == "1"
    )
    chunk.write_bytes(b"not a chunk")
    with pytest.raises(ValueError, match="bad.zarr: cannot read block"):
        segment_blockwise(image, tmp_path / "b.zarr", nuclei2d, block=32, device="cpu")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.zarr", "flat.zarr", "o.zarr"]
    volume = write_zarr(tmp_path / "vol.zarr", np.zeros((4, 64, 64), np.uint8), (4, 32, 32))
    with pytest.raises(ValueError, match="do not fit model 'nuclei2d'"):
        segment_blockwise(volume, tmp_path / "v.zarr", nuclei2d, "ZYX")


def test_a_binary_image_is_segmented_as_its_zeros_and_ones(tmp_path, nuclei_sample, nuclei2d):
    """A bool image (a thresholded channel, a mask opened as an image) is the image of 0s and
    1s, in memory and blockwise, rather than an error from numpy's percentiles."""
    from skimage.filters import threshold_otsu

    from tessella.engine.pipeline import segment

    image = nuclei_sample[0][:256, :256]
    binary = image > threshold_otsu(image)
    labels = segment(binary, nuclei2d, "YX", device="cpu")
    np.testing.assert_array_equal(
        labels, segment(binary.astype(np.uint8), nuclei2d, "YX", device="cpu")
    )
    assert labels.max() > 10
    for name, data in (("bool", binary), ("uint8", binary.astype(np.uint8))):
        source = write_zarr(tmp_path / f"{name}.zarr", data, (128, 128))
        segment_blockwise(
            source, tmp_path / f"{name} labels.zarr", nuclei2d, block=128, device="cpu"
        )
    np.testing.assert_array_equal(
        zarr.open(str(tmp_path / "bool labels.zarr"))[...],
        zarr.open(str(tmp_path / "uint8 labels.zarr"))[...],
    )


def test_a_blank_frame_gets_no_labels_blockwise_as_in_memory(tmp_path, nuclei_sample, nuclei2d):
    from tessella.engine.pipeline import segment

    image = nuclei_sample[0][:256, :256]
    movie = np.stack([np.zeros_like(image), image])
    source = write_zarr(tmp_path / "movie.zarr", movie, (1, 128, 128))
    result = segment_blockwise(
        source, tmp_path / "labels.zarr", nuclei2d, "TYX", block=128, device="cpu"
    )
    labels = zarr.open(str(result.path))[...]
    assert not labels[0].any() and labels[1].max() > 10
    in_memory = segment(movie, nuclei2d, "TYX", device="cpu")
    assert metrics.matching(in_memory[1], labels[1], 0.5).f1 >= 0.99
    blank = write_zarr(tmp_path / "blank.zarr", np.zeros_like(movie), (1, 128, 128))
    with pytest.warns(UserWarning, match=r"blank\.zarr is constant \(every pixel is 0\)"):
        result = segment_blockwise(blank, tmp_path / "none.zarr", nuclei2d, "TYX", block=128)
    assert result.n_objects == 0 and not zarr.open(str(result.path))[...].any()


def test_model_run_cancelled_and_resumed_equals_an_uninterrupted_one(
    tmp_path, nuclei_sample, nuclei2d
):
    image = nuclei_sample[0][:256, :256]
    source = write_zarr(tmp_path / "crop.zarr", image, (128, 128))
    whole = segment_blockwise(source, tmp_path / "whole.zarr", nuclei2d, block=128, device="cpu")
    out = tmp_path / "resumed.zarr"
    steps = segment_blockwise_steps(source, out, nuclei2d, block=128, device="cpu")
    while not (next(steps).stage == "segment" and len(list(work_dir(out).glob("blocks/*"))) == 2):
        pass
    steps.close()
    assert (work_dir(out) / "ranges.json").exists() and not out.exists()
    result = segment_blockwise(source, out, nuclei2d, block=128, device="cpu")
    assert result.resumed == 2 and result.n_objects == whole.n_objects > 10
    assert np.array_equal(zarr.open(str(out))[...], zarr.open(str(whole.path))[...])


# --- the command line ----------------------------------------------------------------------------


def test_cli_blockwise_round_trip(tmp_path, nuclei_sample, nuclei2d, capsys):
    from tessella.cli import main

    image, _ = nuclei_sample
    source = write_zarr(tmp_path / "in.zarr", image, (128, 128))
    out = tmp_path / "out.zarr"
    args = ["segment", str(source), "-o", str(out), "--model", "nuclei2d", "--blockwise"]
    args += ["--workers", "0", "--block", "256", "--device", "cpu"]
    assert main(args) == 0
    assert "6 blocks" in capsys.readouterr().out
    labels = read_image(out)
    assert labels.data.shape == image.shape and labels.data.dtype == np.uint32
    expected = segment(image, nuclei2d, "YX", device="cpu")
    assert metrics.matching(expected, np.asarray(labels.data), 0.5).ap >= 0.99
    recipe = json.loads((tmp_path / "out.recipe.json").read_text())
    assert recipe["blockwise"]["block"] == [256, 256] and recipe["model"] == "nuclei2d"
    assert main(args) == 1 and "--overwrite" in capsys.readouterr().err


def test_with_worker_processes_torch_stays_out_of_the_main_process(
    tmp_path, nuclei_sample, nuclei2d
):
    """The main process only plans, scans and stitches: the network lives in the workers,
    so its memory is not paid twice (measured: about 0.25 GB of RSS)."""
    import subprocess
    import sys

    image, _ = nuclei_sample
    source = write_zarr(tmp_path / "in.zarr", image, (128, 128))
    out = tmp_path / "out.zarr"
    script = (
        "import sys\n"
        "from tessella.engine.blockwise import open_executor, segment_blockwise\n"
        "with open_executor(workers=1) as executor:\n"
        f"    r = segment_blockwise({str(source)!r}, {str(out)!r}, 'nuclei2d', block=256,\n"
        "                          device='cpu', executor=executor)\n"
        "print(r.n_blocks, 'torch' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["6", "False"]
    expected = segment(image, nuclei2d, "YX", device="cpu")
    assert metrics.matching(expected, zarr.open(str(out))[...], 0.5).ap >= 0.99


def test_ctrl_c_with_worker_processes_is_one_line(tmp_path, nuclei_sample):
    """Ctrl-C in a terminal reaches the whole process group; the worker processes leave it
    to the main one, which stops them and says 'interrupted', with no worker tracebacks.
    The finished blocks stay for a resume."""
    import signal
    import subprocess
    import sys
    import time

    source = write_zarr(tmp_path / "in.zarr", np.tile(nuclei_sample[0], (4, 4)), (256, 256))
    out = tmp_path / "out.zarr"
    command = [sys.executable, "-c", "import sys; from tessella.cli import main; sys.exit(main())"]
    command += ["segment", str(source), "-o", str(out), "--blockwise", "--workers", "1"]
    command += ["--block", "256", "--device", "cpu", "-q"]
    process = subprocess.Popen(  # as a terminal starts it: its own group, Ctrl-C heard
        command,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    deadline = time.monotonic() + 240
    while not list(work_dir(out).glob("blocks/*")) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert process.poll() is None, process.stderr.read()
    os.killpg(process.pid, signal.SIGINT)
    _out, err = process.communicate(timeout=120)
    assert process.returncode == 130
    assert err.strip() == "tessella segment: interrupted"
    assert not out.exists() and list(work_dir(out).glob("blocks/*"))


@pytest.mark.parametrize(
    "extra,message",
    [
        (["--workers", "2"], "--workers needs --blockwise"),
        (["--blockwise", "--scheduler", "tcp://127.0.0.1:9"], "tcp://127.0.0.1:9"),
        (["--blockwise", "--block", "0"], "--block values must be positive"),
        (["--blockwise", "--workers", "1", "--scheduler", "x:1"], "not both"),
        (["--blockwise", "--ctc", "res"], "--ctc needs a time-lapse model"),
    ],
)
def test_cli_blockwise_bad_usage_is_one_line(tmp_path, monkeypatch, capsys, extra, message):
    from tessella.cli import main

    monkeypatch.setattr(blockwise._run, "SCHEDULER_TIMEOUT", 1.0)
    source = write_zarr(
        tmp_path / "in.zarr", np.arange(4096, dtype=np.uint16).reshape(64, 64), (32, 32)
    )
    out = tmp_path / "never.zarr"
    assert main(["segment", str(source), "-o", str(out), *extra]) == 1
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert not out.exists() and not work_dir(out).exists()


def test_cli_blockwise_refuses_a_tiff(tmp_path, capsys):
    from tessella.cli import main

    tifffile.imwrite(tmp_path / "big.tif", np.zeros((64, 64), np.uint8))
    out = tmp_path / "o.zarr"
    assert main(["segment", str(tmp_path / "big.tif"), "-o", str(out), "--blockwise"]) == 1
    assert "convert it first" in capsys.readouterr().err


def test_em_membranes2d_blockwise_equals_in_memory_on_an_isbi_stack(tmp_path, data_dir):
    """The bundled boundary model end to end on 3 real ISBI sections (ZYX: 2D prediction per
    slice, 3D agglomeration), cut into 2x2 blocks per section and 2 blocks along Z: the labels
    equal the in-memory segmentation up to renumbering."""
    from tessella.engine.registry import load_model

    model = load_model("em-membranes2d")
    stack = np.stack([
        tifffile.imread(data_dir / ISBI / "images" / f"{name}.tif") for name in ("16", "17", "18")
    ])  # fmt: skip
    expected = segment(stack, model, axes="ZYX", device="cpu", tta=False)
    source = write_zarr(tmp_path / "stack.zarr", stack, (2, 256, 256))
    result = segment_blockwise(
        source, tmp_path / "cells.zarr", model, axes="ZYX", block=(2, 256, 256), device="cpu",
        tta=False,
    )  # fmt: skip
    labels = zarr.open(str(result.path))[...]
    assert result.recipe["blockwise"]["stitch"] == "graph"
    assert result.n_objects == np.unique(expected[expected > 0]).size > 30
    assert same_partition(expected, labels)


@pytest.mark.parametrize("axes", ["ZYX", "TYX"])
def test_em_membranes2d_blockwise_clears_a_blank_slice_or_frame_as_in_memory(
    tmp_path, data_dir, axes
):
    """A blank (all-zero) section between two real ISBI sections, as a slice of a stack
    (3D agglomeration through it, as in memory) or as a frame of a movie: the boundary
    model's graph stitching gives it no labels and the rest equals the in-memory labels."""
    from tessella.engine.registry import load_model

    model = load_model("em-membranes2d")
    sections = [
        tifffile.imread(data_dir / ISBI / "images" / f"{name}.tif")[:256, :256]
        for name in ("16", "17")
    ]
    stack = np.stack([sections[0], np.zeros_like(sections[0]), sections[1]])
    expected = segment(stack, model, axes=axes, device="cpu", tta=False)
    source = write_zarr(tmp_path / "stack.zarr", stack, (1, 128, 128))
    block = (2, 128, 128) if axes == "ZYX" else 128  # a block holds the blank slice and one more
    result = segment_blockwise(
        source, tmp_path / "cells.zarr", model, axes, block=block, device="cpu", tta=False
    )
    labels = zarr.open(str(result.path))[...]
    assert not expected[1].any() and not labels[1].any()
    if axes == "ZYX":
        assert result.n_objects == np.unique(expected[expected > 0]).size > 30
        assert same_partition(expected, labels)
    else:  # IDs go on across frames, in memory as blockwise
        counts = [np.unique(frame[frame > 0]).size for frame in expected]
        assert result.n_objects == sum(counts) and min(counts[0], counts[2]) > 10
        assert all(same_partition(e, f) for e, f in zip(expected, labels))


def test_cells2dt_blockwise_a_blank_frame_splits_tracks_as_in_memory(tmp_path, data_dir):
    """A blank (all-zero) frame in a real Fluo-N2DH-SIM+ movie: no cells there, and a cell
    seen before and after it goes on as a new track whose parent is the track before the
    gap, as in memory (linked first, then the blank frame cleared)."""
    from tessella.engine.pipeline import segment_steps
    from tessella.engine.registry import load_model

    model = load_model("cells2dt")
    files = sorted((data_dir / "ctc_Fluo-N2DH-SIM+" / "01").glob("*.tif"))[20:24]
    movie = np.stack([tifffile.imread(f)[:256, :256] for f in files])
    movie[1] = 0
    expected = run_steps(segment_steps(movie, model, "TYX", device="cpu"))
    source = write_zarr(tmp_path / "movie.zarr", movie, (1, 128, 128))
    result = segment_blockwise(
        source, tmp_path / "tracks.zarr", model, "TYX", block=128, device="cpu"
    )
    labels = zarr.open(str(result.path))[...]
    assert not expected.labels[1].any() and not labels[1].any()
    assert result.n_objects == np.unique(expected.labels[expected.labels > 0]).size > 5
    assert labels.max() == result.n_objects  # consecutive track IDs
    assert same_partition(expected.labels, labels)
    to_blockwise = dict(zip(expected.labels.reshape(-1), labels.reshape(-1)))
    gaps = {(to_blockwise[c], to_blockwise[p]) for c, p in expected.lineage.items()}
    assert gaps and {tuple(pair) for pair in result.recipe["lineage"]} == gaps


def test_cells2dt_blockwise_tracks_equal_in_memory_on_a_real_movie(tmp_path, data_dir, monkeypatch):
    """The time-lapse model blockwise (network on each block's window of frames, smoothing
    along time from the stored maps, per-frame cells stitched, then one linking over the
    movie): the same tracks and divisions as in memory, on 6 real Fluo-N2DH-SIM+ frames
    (a 288x352 crop with 21 cells and 3 divisions; the smoothing along time reaches past both
    ends of the movie) cut into 2x2 blocks of 176 per frame, so tracks cross both block seams
    (7 of them). A 448x448 crop in blocks of 224 cost twice the CPU time."""
    import inspect

    from tessella.engine.blockwise import _run
    from tessella.engine.pipeline import segment_steps
    from tessella.engine.registry import load_model

    read = _run._Run.read

    def read_outside_segment(self, region):  # the segment stage uses the stored maps only
        assert "_segment_task" not in {f.function for f in inspect.stack()[1:4]}
        return read(self, region)

    monkeypatch.setattr(_run._Run, "read", read_outside_segment)

    model = load_model("cells2dt")
    files = sorted((data_dir / "ctc_Fluo-N2DH-SIM+" / "01").glob("*.tif"))[20:26]
    movie = np.stack([tifffile.imread(f)[224:512, :352] for f in files])
    params = {"temporal_sigma": 1.0}
    expected = run_steps(segment_steps(movie, model, "TYX", params, device="cpu"))
    source = write_zarr(tmp_path / "movie.zarr", movie, (1, 176, 176))
    steps = segment_blockwise_steps(
        source, tmp_path / "tracks.zarr", model, "TYX", params, block=176, device="cpu"
    )
    stages = set()
    while True:
        try:
            stages.add(next(steps).stage)
        except StopIteration as stop:
            result = stop.value
            break
    assert {"scan", "predict", "segment", "stitch", "link", "relabel"} <= stages
    labels = zarr.open(str(result.path))[...]
    assert result.n_objects == np.unique(expected.labels[expected.labels > 0]).size > 20
    assert same_partition(expected.labels, labels)  # one ID per cell through the movie
    to_blockwise = dict(zip(expected.labels.reshape(-1), labels.reshape(-1)))
    divisions = {(to_blockwise[c], to_blockwise[p]) for c, p in expected.lineage.items()}
    assert divisions and {tuple(pair) for pair in result.recipe["lineage"]} == divisions

    # CTC export frame by frame from the zarr: the same files as from the in-memory result
    from tessella.engine.tracking import read_ctc_tracks, write_ctc

    lineage = dict(result.recipe["lineage"])
    write_ctc(zarr.open(str(result.path), mode="r"), lineage, tmp_path / "blockwise_RES")
    write_ctc(expected.labels, expected.lineage, tmp_path / "memory_RES")
    for t in (0, 3, 5):
        name = f"mask{t:03d}.tif"
        np.testing.assert_array_equal(tifffile.imread(tmp_path / "blockwise_RES" / name), labels[t])
    table = read_ctc_tracks(tmp_path / "blockwise_RES" / "res_track.txt")
    renamed = {
        (to_blockwise[k.id], k.start, k.end, to_blockwise.get(k.parent, 0))
        for k in read_ctc_tracks(tmp_path / "memory_RES" / "res_track.txt")
    }
    assert {(k.id, k.start, k.end, k.parent) for k in table} == renamed


def test_cli_blockwise_time_lapse_writes_ctc(tmp_path, data_dir, capsys):
    from tessella.cli import main
    from tessella.engine.tracking import read_ctc_tracks, track_table

    files = sorted((data_dir / "ctc_Fluo-N2DH-SIM+" / "01").glob("*.tif"))[20:25]
    movie = np.stack([tifffile.imread(f)[:384, :384] for f in files])
    source = write_zarr(tmp_path / "movie.zarr", movie, (1, 192, 192))
    out, ctc = tmp_path / "tracks.zarr", tmp_path / "01_RES"
    args = ["segment", str(source), "-o", str(out), "--model", "cells2dt", "--axes", "TYX"]
    args += ["--blockwise", "--block", "192", "--workers", "0", "--device", "cpu"]
    assert main([*args, "--ctc", str(ctc), "-q"]) == 0
    tracked = zarr.open(str(out))[...]
    masks = sorted(p.name for p in ctc.glob("mask*.tif"))
    assert masks == [f"mask{t:03d}.tif" for t in range(len(files))]
    for t in range(len(files)):
        np.testing.assert_array_equal(tifffile.imread(ctc / masks[t]), tracked[t])
    lineage = json.loads((tmp_path / "tracks.recipe.json").read_text())["lineage"]
    table = read_ctc_tracks(ctc / "res_track.txt")
    assert len(table) >= 5 and table == track_table(tracked, dict(lineage))
    # the CTC folder is protected before any work is done
    assert main([*args, "-o", str(tmp_path / "other.zarr"), "--ctc", str(ctc)]) == 1
    assert "mask000.tif exists" in capsys.readouterr().err
    assert not (tmp_path / "other.zarr").exists()


def test_an_ignored_ctrl_c_stays_ignored_while_workers_start():
    """A run started with SIGINT ignored (a background job of a non-interactive shell) got a
    recording handler during worker start-up, so a SIGINT then stopped it."""
    import os
    import signal

    from tessella.engine.blockwise._run import _hold_ctrl_c

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with _hold_ctrl_c():
            os.kill(os.getpid(), signal.SIGINT)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, previous)
