"""A colour palette PNG is read as a label mask's IDs only where its indices are piecewise
constant, as a mask's are; a photo saved with a palette (an H&E crop quantized to 64 colours)
is read as its colours, RGB, as napari's reader and the RGB PNG of it are (review r12, H1:
since a4dc3ed it was segmented as its palette indices, 3 objects against 10, no warning)."""

from __future__ import annotations

import numpy as np
import pytest
import tifffile
from PIL import Image

from tessella.engine.io import read_image
from tests.conftest import DATA

VAL = DATA / "nuclei2d_dsb2018" / "val"
HE = "1e488c42"  # an H&E image of the validation split


@pytest.fixture(scope="module")
def he_crop() -> tuple[np.ndarray, np.ndarray]:
    [path] = sorted((VAL / "images").glob(f"{HE}*.tif"))
    rgb = np.asarray(tifffile.imread(path))[:256, :256, :3].astype(np.uint8)
    mask = np.asarray(tifffile.imread(VAL / "masks" / path.name))[:256, :256]
    return rgb, mask


def test_a_photo_saved_with_a_palette_is_read_as_its_colours(he_crop, tmp_path):
    rgb, _mask = he_crop
    picture = Image.fromarray(rgb).quantize(64)
    picture.save(tmp_path / "he_pal.png")
    palette = np.asarray(picture.getpalette(), np.uint8).reshape(-1, 3)
    expected = palette[np.asarray(picture)]
    image = read_image(tmp_path / "he_pal.png")
    assert image.axes == "YXC" and image.data.shape == (256, 256, 3)
    np.testing.assert_array_equal(image.data, expected)


def test_a_label_mask_saved_with_a_colour_palette_keeps_its_ids(he_crop, tmp_path):
    _rgb, mask = he_crop
    ids = np.unique(mask[mask > 0])
    assert 5 <= ids.size < 256
    compact = np.searchsorted(np.concatenate([[0], ids]), mask).astype(np.uint8)
    picture = Image.fromarray(compact, mode="L").convert("P")
    colours = np.random.default_rng(0).integers(0, 256, (256, 3), dtype=np.uint8)
    picture.putpalette(colours.ravel().tolist())
    picture.save(tmp_path / "mask_pal.png")
    image = read_image(tmp_path / "mask_pal.png")
    assert image.axes == "YX"
    np.testing.assert_array_equal(image.data, compact)
