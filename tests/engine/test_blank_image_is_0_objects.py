"""A blank image (an empty well of a screen, a frame with nothing imaged) is a result, 0
objects, warned of, not an error (user test t16): in memory, on lazy data and whatever the
blank parts' values."""

from __future__ import annotations

import numpy as np
import pytest

from tessella.engine.pipeline import segment


def test_a_movie_of_blank_frames_of_their_own_values_is_0_objects(nuclei2d):
    """Each frame constant at a value of its own: the image is not constant, but nothing can
    be segmented in any frame; warned of as blank, labels of the movie's shape, all 0."""
    movie = np.stack([np.zeros((64, 48), np.uint16), np.full((64, 48), 300, np.uint16)])
    with pytest.warns(UserWarning, match=r"^image is blank \(each of its frames.*: nothing to"):
        labels = segment(movie, nuclei2d, "TYX", device="cpu")
    assert labels.shape == movie.shape and not labels.any()


def test_a_constant_lazy_image_is_0_objects_with_its_value(nuclei2d):
    """Lazy data (dask) is judged part by part, as it is read: a constant one is said with its
    value, as in memory, once."""
    da = pytest.importorskip("dask.array")
    image = da.full((64, 48), 3, dtype=np.uint8, chunks=32)
    with pytest.warns(UserWarning) as warned:
        labels = segment(image, nuclei2d, "YX", device="cpu")
    said = [str(w.message) for w in warned]
    assert said == ["image is constant (every pixel is 3): nothing to segment, 0 objects"]
    assert labels.shape == (64, 48) and not np.asarray(labels).any()
