"""Shared fixtures: the real datasets beside the project, and small trained models."""

from __future__ import annotations

import gc
import os
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("TESSELLA_DATA", ROOT.parent / "shared" / "data"))
SAMPLES = ROOT / "src" / "tessella" / "samples"


def pytest_configure(config):
    # napari and Qt must keep their settings out of the user's home during tests
    for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
        if var not in os.environ:
            os.environ[var] = str(Path(config.rootpath) / ".pytest_cache" / var.lower())
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    if worker:
        # `make test` runs the suite in one process per core (pytest-xdist): each keeps its
        # napari settings apart, and uses one torch thread so that the processes do not
        # oversubscribe the cores (subprocesses the tests start inherit OMP_NUM_THREADS)
        for var in ("XDG_CONFIG_HOME", "XDG_CACHE_HOME", "XDG_DATA_HOME"):
            os.environ[var] = str(Path(os.environ[var]) / worker)
        os.environ["OMP_NUM_THREADS"] = "1"
        import torch

        torch.set_num_threads(1)


#: test modules between two full collections (see ``_long_lived_objects_frozen``)
MODULES_PER_FULL_COLLECTION = 8
_modules_frozen = [0]


@pytest.fixture(scope="module", autouse=True)
def _long_lived_objects_frozen():
    """Each test module starts with the objects alive then (imports, session fixtures, the
    models they loaded) moved out of the garbage collector's sight (``gc.freeze``), the
    garbage of the modules before collected first.

    napari collects all generations at each layer removal and viewer close (its canvas's
    ``_clean_and_update_scenegraph``): with torch, napari and the suite's modules loaded a
    process holds over half a million objects, and those full collections took ~40% of the
    widget tests' CPU time (97 of them 33 s of 82 s for test_correct_widget.py and
    test_export_widget.py; for 82 tests of 8 files 21 s of 94 s, 8 s of 77 s frozen).
    Frozen objects are still freed when their last reference goes; only a reference cycle
    among them is not collected while they are frozen. What a test makes is collected as
    before, so checks that something was freed (weak references, ResourceWarnings after
    ``gc.collect()``) are unchanged.

    The collection at a module's start looks only at what was made since the last freeze
    (the module before's objects), not at the frozen ones: a full collection of everything
    cost ~0.2-0.3 s of CPU, once per module of ~440. Every
    :data:`MODULES_PER_FULL_COLLECTION` modules the frozen objects are given back to the
    collector (``gc.unfreeze``) at a module's end, so that a reference cycle among them that
    has become garbage since (a leak of an earlier module, a file held in one) is collected,
    and its finalizer runs, at the next module's start rather than never: frozen sets do not
    build up, and such garbage waits at most that many modules."""
    gc.collect()
    gc.freeze()
    yield
    _modules_frozen[0] += 1
    if _modules_frozen[0] % MODULES_PER_FULL_COLLECTION == 0:
        gc.unfreeze()


@pytest.fixture(autouse=True)
def _plenty_of_free_memory(monkeypatch):
    """The Segment panel's default tile is the model card's, whatever the machine's free
    memory is at that moment.

    The panel shrinks the card's tile where free memory is short (``suggest_tile``, from
    ``device.free_memory``: MemFree on Linux until session 33 (MemAvailable now), which the
    page cache eats up on a machine that has read and written GBs of files, as a test run
    does): below about 1.4 GiB free the 2D
    models' tile shrank from 1024, and below ~390 MiB a 512² image was cut into several
    tiles, so that a panel's labels no longer equalled ``segment()``'s at the card's tile
    (test_intensities_choice_reaches_the_network_and_the_recipe failed, 2.5% of pixels
    differing, with MemFree 200 MiB simulated). Tests of the shrinking set the free memory
    they need (test_default_tile_shrinks_when_free_memory_is_short)."""
    from tessella.engine import device

    monkeypatch.setattr(device, "free_memory", lambda device="auto": 64 * 2**30)


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.skip(f"the shared datasets are not at {DATA} (set TESSELLA_DATA)")
    return DATA


@pytest.fixture
def mito_3d(data_dir):
    """Lucchi++ val mitochondria (FIB-SEM, 24 sections, every 3rd pixel of 480 x 600) as 3D
    instances (connected components): 24 x 160 x 200, uint32 (the deep-chunk Export tests)."""
    import tifffile
    from scipy import ndimage

    mask = tifffile.imread(data_dir / "em_mito_lucchipp" / "val" / "mito.tif")
    labels, count = ndimage.label(mask[:24, :480:3, :600:3] > 0)
    assert count == 6
    return labels.astype(np.uint32)


@pytest.fixture(scope="session")
def nuclei_sample():
    """A real 520x512 fluorescence nuclei image (DSB2018, CC0, shipped) and its labels."""
    import tifffile

    return tifffile.imread(SAMPLES / "nuclei.tif"), tifffile.imread(SAMPLES / "nuclei_labels.tif")


@pytest.fixture(scope="session")
def nuclei2d():
    """The bundled nuclei2d model."""
    from tessella.engine.registry import load_model

    return load_model("nuclei2d")


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, nuclei_sample) -> Path:
    """A tiny embedding model trained for two steps (fast; its quality does not matter)."""
    import tifffile

    from tessella.engine.train import TrainConfig, train

    root = tmp_path_factory.mktemp("tiny_data")
    for sub in ("images", "masks"):
        (root / sub).mkdir()
    image, labels = nuclei_sample
    for i, (ys, xs) in enumerate(
        ((slice(0, 256), slice(0, 256)), (slice(256, 512), slice(0, 256)))
    ):
        tifffile.imwrite(root / "images" / f"{i}.tif", image[ys, xs])
        tifffile.imwrite(root / "masks" / f"{i}.tif", labels[ys, xs])
    out = tmp_path_factory.mktemp("models") / "tiny"
    train(
        TrainConfig(
            "embedding",
            str(root),
            str(out),
            epochs=1,
            steps_per_epoch=2,
            batch_size=2,
            patch=128,
            features=(8, 16, 32),
            max_val_images=1,
            device="cpu",
        )
    )
    return out


def blobs_image(shape=(256, 256), n=30, radius=8, seed=0):
    """Bright discs on a dark noisy background, and their labels."""
    rng = np.random.default_rng(seed)
    grids = np.ogrid[tuple(slice(0, s) for s in shape)]
    labels = np.zeros(shape, np.int32)
    for index in range(1, n + 1):
        centre = [rng.integers(radius, s - radius) for s in shape]
        dist2 = sum((g - c) ** 2 for g, c in zip(grids, centre))
        labels[(dist2 <= radius**2) & (labels == 0)] = index
    image = (labels > 0) * 200.0 + rng.normal(20, 5, shape)
    return image.astype(np.float32), labels


def nuclei_folder(folder: Path, nuclei_sample, count: int = 2) -> Path:
    """A training folder (``images/`` + ``masks/``) of ``count`` 128² crops of the nuclei
    sample, one under the other."""
    import tifffile

    image, labels = nuclei_sample
    for sub in ("images", "masks"):
        (folder / sub).mkdir(parents=True)
    for i in range(count):
        rows = slice(128 * i, 128 * (i + 1))
        tifffile.imwrite(folder / "images" / f"{i}.tif", image[rows, :128])
        tifffile.imwrite(folder / "masks" / f"{i}.tif", labels[rows, :128].astype(np.uint16))
    return folder


def warnings_of_loading(config) -> list:
    """The warnings a training run of ``config`` gives while it reads its data (before its
    first step, where it is stopped: no training)."""
    import warnings

    from tessella.engine.train.loop import train_steps

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        steps = train_steps(config)
        next(steps)
        steps.close()
    return list(caught)


def train_tiny(method: str, data, out, **options) -> Path:
    """Train a tiny ``method`` model for two steps of 64² crops (fast; quality irrelevant)."""
    from tessella.engine.train import TrainConfig, train

    settings = dict(epochs=1, steps_per_epoch=2, batch_size=2, patch=64, features=(8, 16))
    settings.update(max_val_images=1, device="cpu", **options)
    train(TrainConfig(method, str(data), str(out), **settings))
    return out


def cell_movie(frames=8, shape=(128, 160), seed=0):
    """A synthetic fluorescence time-lapse: discs drifting a few pixels per frame, two of
    them touching, one dividing at frame ``frames // 2`` (the CTC way: the mother's track
    ends, two daughters start). Returns ``(image TYX float32, labels TYX, tracks)`` with
    ``tracks`` a list of ``(id, start, end, parent)``; label values are track IDs."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    split = frames // 2
    # id: (start, end, parent, y0, x0, vy, vx, radius)
    cells = {
        1: (0, frames - 1, 0, 30, 30, 1.0, 2.0, 11),
        2: (0, frames - 1, 0, 90, 40, -1.0, 1.5, 12),
        3: (0, frames - 1, 0, 90, 63, -1.0, 1.5, 11),  # touches 2 (centres 23 px apart)
        4: (0, split - 1, 0, 40, 110, 0.5, -1.0, 12),  # divides
        5: (split, frames - 1, 4, 0, 0, -3.0, -1.0, 9),
        6: (split, frames - 1, 4, 0, 0, 3.0, 1.0, 9),
    }
    labels = np.zeros((frames, *shape), np.int32)
    mother_end = (40 + 0.5 * (split - 1), 110 - 1.0 * (split - 1))
    for cell, (start, end, parent, y0, x0, vy, vx, radius) in cells.items():
        for t in range(start, end + 1):
            if parent:
                k = t - split + 1
                y, x = mother_end[0] + np.sign(vy) * (7 + 3 * k), mother_end[1] + vx * k
            else:
                y, x = y0 + vy * t, x0 + vx * t
            disc = (yy - y) ** 2 + (xx - x) ** 2 <= radius**2
            labels[t][disc & (labels[t] == 0)] = cell
    texture = rng.normal(1.0, 0.15, labels.shape)
    image = (labels > 0) * 150.0 * texture + rng.normal(30, 6, labels.shape)
    # touching cells are dimmer at their contact, as nuclei are at their rims
    from scipy import ndimage

    edge = ndimage.morphological_gradient(labels, size=(1, 3, 3)) > 0
    image[edge & (labels > 0)] *= 0.6
    tracks = [(c, s, e, p) for c, (s, e, p, *_rest) in cells.items()]
    return image.astype(np.float32), labels, tracks


def write_ctc_sequence(root, image, labels, tracks, seg_frames=None):
    """A Cell Tracking Challenge layout under ``root``: ``01/tTTT.tif``, ``01_GT/SEG`` (the
    frames in ``seg_frames``, default all) and ``01_GT/TRA`` (eroded markers + man_track.txt).
    Returns the sequence folder."""
    import tifffile
    from scipy import ndimage

    seq, seg, tra = root / "01", root / "01_GT" / "SEG", root / "01_GT" / "TRA"
    for folder in (seq, seg, tra):
        folder.mkdir(parents=True, exist_ok=True)
    for t in range(image.shape[0]):
        tifffile.imwrite(seq / f"t{t:03d}.tif", image[t].astype(np.uint16))
        markers = np.where(ndimage.binary_erosion(labels[t] > 0, iterations=3), labels[t], 0)
        tifffile.imwrite(tra / f"man_track{t:03d}.tif", markers.astype(np.uint16))
        if seg_frames is None or t in seg_frames:
            tifffile.imwrite(seg / f"man_seg{t:03d}.tif", labels[t].astype(np.uint16))
    (tra / "man_track.txt").write_text("".join(f"{i} {s} {e} {p}\n" for i, s, e, p in tracks))
    return seq


@pytest.fixture(scope="session")
def tiny_temporal_dir(tmp_path_factory) -> Path:
    """A tiny temporal model trained for two steps on a synthetic CTC sequence."""
    image, labels, tracks = cell_movie()
    seq = write_ctc_sequence(tmp_path_factory.mktemp("ctc"), image, labels, tracks)
    out = tmp_path_factory.mktemp("models") / "tiny_temporal"
    return train_tiny("temporal", seq, out, window=3)


def crossing_rods(shape=(96, 128), width=7.0):
    """Three thin rods, two of them crossing (overlap kept): ``(N, H, W)`` bool masks."""
    yy, xx = np.mgrid[: shape[0], : shape[1]]
    masks = []
    for y0, x0, y1, x1 in ((20, 10, 80, 110), (80, 20, 15, 100), (85, 60, 88, 125)):
        length = np.hypot(y1 - y0, x1 - x0)
        distance = np.abs((y1 - y0) * xx - (x1 - x0) * yy + x1 * y0 - y1 * x0) / length
        along = ((xx - x0) * (x1 - x0) + (yy - y0) * (y1 - y0)) / length**2
        masks.append((distance <= width / 2) & (along >= 0) & (along <= 1))
    return np.stack(masks)


def perfect_patch_prediction(masks, patch=25):
    """What a perfect PatchPerPix network predicts for ``masks``: the number of instances,
    and per single-instance pixel its object's patch as the code, with an identity decoder
    (code = the patch's logits, +-8)."""
    from tessella.engine.methods import Prediction

    count = masks.sum(0)
    numinst = np.stack([count == 0, count == 1, count >= 2]).astype(np.float32)
    half = patch // 2
    owner = np.argmax(masks, 0)
    padded = np.pad(masks, ((0, 0), (half, half), (half, half)))
    code = np.full((patch * patch, *masks.shape[1:]), -8.0, np.float32)
    for y, x in np.argwhere(count == 1):
        window = padded[owner[y, x], y : y + patch, x : x + patch]
        code[:, y, x] = np.where(window.ravel(), 8.0, -8.0)
    eye = np.eye(patch * patch, dtype=np.float32)
    decoder = {
        "w1": eye,
        "b1": np.full(patch * patch, 10, np.float32),
        "w2": eye,
        "b2": np.full(patch * patch, -10, np.float32),
        "patch": patch,
    }
    return Prediction({"numinst": numinst, "code": code}, "YX", {"decoder": decoder})


@pytest.fixture(scope="session")
def tiny_patches_dir(tmp_path_factory, nuclei_sample) -> Path:
    """A tiny PatchPerPix model trained for two steps on real nuclei (DSB2018 crops): the
    method is general, not only for worms."""
    import tifffile

    root = tmp_path_factory.mktemp("tiny_patch_data")
    for sub in ("images", "masks"):
        (root / sub).mkdir()
    image, labels = nuclei_sample
    for i, rows in enumerate((slice(0, 128), slice(128, 256))):
        tifffile.imwrite(root / "images" / f"{i}.tif", image[rows, :128])
        tifffile.imwrite(root / "masks" / f"{i}.tif", labels[rows, :128])
    out = tmp_path_factory.mktemp("models") / "tiny_patches"
    return train_tiny("patches", root, out, patch_size=9, code=8)


def write_ome_zarr(path, array, names, scale, chunks):
    """An OME-Zarr 0.4 image as many tools write it: every axis kept, singletons included."""
    import zarr

    group = zarr.open_group(str(path), mode="w", zarr_format=2)
    group.create_array("0", shape=array.shape, dtype=array.dtype, chunks=chunks)[...] = array
    kinds = {"t": "time", "c": "channel"}
    axes = [{"name": n, "type": kinds.get(n, "space")} for n in names]
    for axis in axes[-2:]:
        axis["unit"] = "micrometer"
    transforms = [{"type": "scale", "scale": scale}]
    group.attrs["multiscales"] = [{"version": "0.4", "axes": axes, "datasets": [
        {"path": "0", "coordinateTransformations": transforms}]}]  # fmt: skip
    return path


SEGMENT_RECIPE = {  # what ``tessella segment`` writes beside its labels
    "tessella_version": "0.1.0",
    "model": "nuclei2d",
    "model_sha256": "ab" * 32,
    "method": "embedding",
    "params": {"fg_thresh": 0.4, "seed_thresh": 0.9, "min_size": 10},
    "axes": "YX",
    "tta": False,
    "tile": 1024,
    "device": "cpu",
    "input": "nuclei.tif",
}
