"""Shared fixtures: the real datasets beside the project, and small trained models."""

from __future__ import annotations

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


@pytest.fixture(scope="session")
def data_dir() -> Path:
    if not DATA.is_dir():
        pytest.skip(f"the shared datasets are not at {DATA} (set TESSELLA_DATA)")
    return DATA


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
