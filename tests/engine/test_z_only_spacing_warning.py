"""A stack whose file gives a Z spacing but no pixel size in Y and X (an ImageJ TIFF with a
spacing and no resolution) is warned of for what it lacks, not as having no Z spacing (user
test s31/t8, finding 3)."""

from __future__ import annotations

import warnings

import numpy as np
import tifffile

import tessella
from tessella.engine.methods.boundary import UnknownZSpacingWarning
from tessella.engine.pipeline import segment_steps


def _said(image) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        steps = segment_steps(image, "em-membranes2d", tta=False, device="cpu")
        next(steps)  # (the warnings come before the network)
        steps.close()
    return [w.message for w in caught if issubclass(w.category, UnknownZSpacingWarning)]


def test_a_z_spacing_without_a_pixel_size_is_said_so(tmp_path):
    stack = np.random.default_rng(0).integers(0, 255, (3, 32, 32), np.uint8)
    path = tmp_path / "zonly.tif"
    tifffile.imwrite(path, stack, imagej=True, metadata={"axes": "ZYX", "spacing": 50})
    image = tessella.read_image(path)
    assert image.pixel_size == {"Z": 50.0}
    (warning,) = _said(image)
    expected = (
        f"{path}: the file gives a Z spacing (50) but no pixel size in Y and X, so its voxel "
        "size is unknown and it is taken as isotropic; em-membranes2d joins objects"
    )
    assert str(warning).startswith(expected)
    assert warning.reworded("use --axes TYX").startswith(expected)  # (a caller's words)
    plain = tmp_path / "plain.tif"
    tifffile.imwrite(plain, stack, imagej=True, metadata={"axes": "ZYX"})
    (warning,) = _said(tessella.read_image(plain))
    assert str(warning).startswith(f"{plain}: no Z spacing in the file; em-membranes2d joins")
    assert warning.reworded("use --axes TYX").startswith(f"{plain}: no Z spacing in the file")
