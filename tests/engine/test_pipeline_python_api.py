"""What a notebook user met in the pipeline (acceptance test t1): ``segment(read_image(p))``
was refused, so the default Python call on an anisotropic volume gave other labels than the
command line; a lazy array bigger than memory was loaded (MemoryError after 17 s) instead of
being refused with the way to segment it; worms2d's overlapping objects had no Python route."""

from __future__ import annotations

import re
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
    with pytest.warns(UserWarning, match=f"{re.escape(str(path))}.*constant") as said:
        result = segment(read_image(path), "nuclei2d")  # (a blank image: 0 objects, f76d42c)
    assert not np.asarray(result).any()
    assert all("\n" not in str(w.message) for w in said)
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


GiB = 2**30


def _fake_linux(monkeypatch, files: dict[str, str]) -> None:
    """The memory files of a Linux machine as ``files`` gives them (one absent: not there),
    whatever machine runs the test: a container's cgroup files simulated."""
    import pathlib

    read_text = pathlib.Path.read_text

    def fake(path, *args, **kwargs):
        name = str(path)
        if name in files:
            return files[name]
        if name.startswith(("/sys/fs/cgroup", "/proc/self/cgroup", "/proc/meminfo")):
            raise FileNotFoundError(name)
        return read_text(path, *args, **kwargs)

    monkeypatch.setattr(pathlib.Path, "read_text", fake)


def test_a_container_s_page_cache_counts_as_available_memory(monkeypatch):
    """A 16 GiB container that has read 12 GiB of files: memory.current is near the limit,
    10 GiB of it page cache the kernel drops when asked (inactive_file). The old code took
    16 - 15.9 GiB as available and refused even a 2048² dask array (review 2, F3)."""
    import dask.array as da

    from tessella.engine.pipeline import _inputs

    meminfo = f"MemTotal: {64 * 2**20} kB\nMemAvailable: {40 * 2**20} kB\n"
    container = {
        "/proc/meminfo": meminfo,
        "/proc/self/cgroup": "0::/\n",  # a container's own namespace: its limit at the root
        "/sys/fs/cgroup/memory.max": f"{16 * GiB}\n",
        "/sys/fs/cgroup/memory.current": f"{int(15.9 * GiB)}\n",
        "/sys/fs/cgroup/memory.stat": f"anon {int(3.9 * GiB)}\nfile {12 * GiB}\n"
        f"active_file {2 * GiB}\ninactive_file {10 * GiB}\n",
    }
    _fake_linux(monkeypatch, container)
    assert _inputs.available_memory() == 16 * GiB - (int(15.9 * GiB) - 10 * GiB)
    image = da.zeros((2048, 2048), np.uint16, chunks=512)
    _inputs._check_fits_memory(image, "YX", "image")  # 400 MiB of 10.1 GiB: not refused
    # what is not page cache is used: a container at its limit without cache is full
    _fake_linux(monkeypatch, {**container, "/sys/fs/cgroup/memory.stat": "anon 1\n"})
    assert _inputs.available_memory() == 16 * GiB - int(15.9 * GiB)
    with pytest.raises(_inputs.TooBigForMemory, match="and 102.4 MiB is available"):
        _inputs._check_fits_memory(image, "YX", "image")


def test_the_limit_of_the_process_s_own_cgroup_is_seen(monkeypatch):
    """A Slurm job or ``systemd-run -p MemoryMax=2G``: the limit is on the process's own
    group (named in /proc/self/cgroup), not on the root the old code read; the least of the
    groups above it counts."""
    from tessella.engine.pipeline import _inputs

    job = "/sys/fs/cgroup/system.slice/job.scope"
    files = {
        "/proc/meminfo": f"MemAvailable: {40 * 2**20} kB\n",
        "/proc/self/cgroup": "0::/system.slice/job.scope\n",
        "/sys/fs/cgroup/system.slice/memory.max": "max\n",
        f"{job}/memory.max": f"{2 * GiB}\n",
        f"{job}/memory.current": f"{int(1.5 * GiB)}\n",
        f"{job}/memory.stat": f"inactive_file {GiB // 2}\n",
    }
    _fake_linux(monkeypatch, files)
    assert _inputs.available_memory() == GiB
    _fake_linux(monkeypatch, {k: v for k, v in files.items() if not k.startswith(job)})
    assert _inputs.available_memory() == 40 * GiB  # no limit anywhere: MemAvailable


def test_a_lazy_movie_is_charged_one_frame_in_full_and_what_the_others_keep(monkeypatch):
    """Segmenting a time-lapse keeps far less per further frame than one frame's whole cost
    (review 2, F10: every frame was charged 100 B/px, so a movie that fits was refused)."""
    import dask.array as da

    from tessella.engine.pipeline import _inputs

    frames, frame = 64, 690 * 628
    movie = da.zeros((frames, 690, 628), np.uint16, chunks=(1, 690, 628))
    monkeypatch.setattr(_inputs, "available_memory", lambda: frames * frame * 100 // 3)
    _inputs._check_fits_memory(movie, "TYX", "movie")  # a third of 100 B/px a pixel: enough
    needed = frame * 100 + (frames - 1) * frame * _inputs.KEPT_BYTES_PER_FRAME_PIXEL
    monkeypatch.setattr(_inputs, "available_memory", lambda: needed)
    _inputs._check_fits_memory(movie, "TYX", "movie")
    monkeypatch.setattr(_inputs, "available_memory", lambda: needed - 1)
    with pytest.raises(_inputs.TooBigForMemory, match="movie: dask.Array of shape .64, 690"):
        _inputs._check_fits_memory(movie, "TYX", "movie")
    # a volume (Z, not T) is one image: every pixel in full
    monkeypatch.setattr(_inputs, "available_memory", lambda: frames * frame * 100 - 1)
    with pytest.raises(_inputs.TooBigForMemory):
        _inputs._check_fits_memory(movie, "ZYX", "volume")


WORMS_CROP = (slice(130, 386), slice(220, 476))


@pytest.fixture(scope="module")
def worms_crop(data_dir):
    """A 256² crop of a BBBC010 well where worms cross, and its (11, 256, 256) worm masks.
    The brightfield images worms2d reads are the files in gfp/ in this copy of BBBC010
    (README, Models); brightfield/ holds the GFP channel, where worms2d finds 3 of 11."""
    worms = data_dir / "worms_bbbc010"
    masks = tifffile.imread(worms / "worm_masks" / "B15.tif")[(slice(None), *WORMS_CROP)]
    return tifffile.imread(worms / "gfp" / "B15.tif")[WORMS_CROP], masks[masks.any(axis=(1, 2))]


def test_the_overlapping_objects_of_worms2d_come_with_the_result(worms_crop):
    from tessella.engine.evaluation import evaluate_masks

    image, truth = worms_crop
    result = run_steps(segment_steps(image, "worms2d", "YX"))
    stack = result.instances()
    assert stack.dtype == bool and stack.shape == (result.labels.max(), 256, 256)
    for k, mask in enumerate(stack):  # object k + 1 of the labels is mask k, where it shows
        assert mask[result.labels == k + 1].all()
    assert stack.sum() > np.count_nonzero(result.labels)
    # the worms are found (8 of the 11, AP(0.5) 0.73 when measured; on the GFP channel 3, 0.0)
    assert 6 <= len(stack) <= 14, len(stack)
    scored = evaluate_masks(truth, stack)
    assert scored.scores["ap"]["0.5"] > 0.6, scored.scores["ap"]
    # the crossings: pixels of two masks lie mostly where two ground-truth worms overlap
    # (80 of 94 when measured)
    two = stack.sum(axis=0) > 1
    assert (two & ((truth != 0).sum(axis=0) > 1)).sum() > 0.6 * two.sum() > 0


def test_a_model_whose_objects_do_not_overlap_has_no_instance_stack(nuclei_sample):
    result = run_steps(segment_steps(nuclei_sample[0][:64, :64], "nuclei2d", tta=False))
    with pytest.raises(ValueError, match="do not overlap: its labels say it all"):
        result.instances()
