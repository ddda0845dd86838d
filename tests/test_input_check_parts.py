"""The check that an image looks like the model's training images judges a movie or a stack
by several of its parts (the first that is not blank, the middle, the last), not by its first
alone: a dim first frame (the sample not yet in view: noise and 5 % of the signal) no longer
warns of a movie whose other frames are fine; where most parts judged are off, the warning
names them. And its sample of the input does not alias with the row length (review B,
findings 15 and 16)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tifffile

from tessella.engine.pipeline import run_steps, segment_steps
from tessella.engine.pipeline._input_check import QUANTILES, input_quantiles
from tessella.engine.pipeline._inputs import _model_input
from tessella.engine.registry import load_model
from tests.conftest import DATA, SAMPLES


def _nuclei() -> np.ndarray:
    return tifffile.imread(SAMPLES / "nuclei.tif").astype(np.float32)[:256, :256]


def _dim(image: np.ndarray, seed: int) -> np.ndarray:
    """``image`` as a frame before the sample is in view: 5 % of it under camera noise."""
    rng = np.random.default_rng(seed)
    return (rng.normal(5, 2, image.shape) + image * 0.05).astype(np.float32)


def _said(stack: np.ndarray, axes: str, name: str) -> tuple[list[str], np.ndarray]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = run_steps(
            segment_steps(stack, "nuclei2d", axes, tta=False, device="cpu", name=name)
        )
    return [str(w.message) for w in caught if "looks unlike" in str(w.message)], result.labels


def test_a_dim_first_frame_does_not_warn_of_the_movie():
    image = _nuclei()
    said, labels = _said(np.stack([_dim(image, 0), image, image]), "TYX", "movie.tif")
    assert said == []
    assert all(len(np.unique(labels[t])) > 20 for t in (1, 2))  # the frames in view segment


def test_most_frames_off_warn_naming_them():
    image = _nuclei()
    stack = np.stack([_dim(image, 0), _dim(image, 1), image, _dim(image, 2), _dim(image, 3)])
    said, _ = _said(stack, "TYX", "movie.tif")
    assert len(said) == 1 and "\n" not in said[0]
    # judged: frame 0 (the first), frame 2 (the middle, fine), frame 4 (the last)
    assert said[0].startswith(
        "movie.tif (frame 0 and frame 4: 2 of the 3 frames judged, first, middle and last) "
        "looks unlike the images model 'nuclei2d' was trained on"
    )


def test_a_stack_sliced_names_its_slices():
    """em-membranes2d segments a ZYX stack slice by slice: three real ISBI 2012 sections, the
    first and the last cut at the block's edge (tissue in their right 72 columns, black
    resin elsewhere), judged slice by slice."""
    sections = []
    for i in range(3):
        path = DATA / "em_membranes_isbi2012" / "images" / f"{i:02d}.tif"
        if not path.is_file():
            pytest.fail(f"{path} is missing (the shared ISBI 2012 data)")
        sections.append(tifffile.imread(path).astype(np.float32)[:192, :192])
    edge = np.arange(192)[None, :] < 120
    stack = np.stack([np.where(edge, 0, sections[0]), sections[1], np.where(edge, 0, sections[2])])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_steps(
            segment_steps(stack, "em-membranes2d", "ZYX", tta=False, device="cpu", name="stack.tif")
        )
    said = [str(w.message) for w in caught if "looks unlike" in str(w.message)]
    assert len(said) == 1
    assert said[0].startswith("stack.tif (slice 0 and slice 2: 2 of the 3 slices judged")


def test_every_frame_off_warns_of_the_image():
    image = _nuclei()
    said, _ = _said(np.stack([_dim(image, s) for s in range(3)]), "TYX", "movie.tif")
    assert len(said) == 1
    assert said[0].startswith("movie.tif looks unlike the images model 'nuclei2d'")
    assert _said(np.stack([image, image]), "TYX", "movie.tif")[0] == []


def test_the_sample_does_not_alias_with_the_row_length():
    """Two real channels of one BBBC010 well (brightfield, GFP) interleaved column by column,
    as a line-alternating acquisition stores them: 723,840 values, so a flat stride of 2 over
    1,392-wide rows took the even columns alone, one channel. The sample's percentiles are
    those of the whole input."""
    wells = []
    for folder in ("gfp", "brightfield"):
        path = DATA / "worms_bbbc010" / folder / "E03.tif"
        if not path.is_file():
            pytest.fail(f"{path} is missing (the shared BBBC010 data)")
        wells.append(tifffile.imread(path))
    interleaved = np.empty((wells[0].shape[0], 2 * wells[0].shape[1]), wells[0].dtype)
    interleaved[:, 0::2], interleaved[:, 1::2] = wells
    card = load_model("worms2d").card
    data = _model_input(interleaved, "YX", card, "E03 interleaved", None)
    assert data.size > 500_000  # (more than the sample: it is sampled)
    whole = np.quantile(data.astype(np.float64), QUANTILES)
    sampled = input_quantiles(data)
    assert sampled is not None
    np.testing.assert_allclose(sampled, whole, atol=0.01)
