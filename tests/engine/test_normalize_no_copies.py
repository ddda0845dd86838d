"""Percentile normalisation copies no channel: a channel whose pixels are not contiguous (a
transposed stack, a channel-last image) was copied whole to take its percentiles
(``reshape(-1)``), and 64-bit input was scaled through a float64 copy of each channel. The
output is bit for bit the same as before (the reference below is the former code)."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pytest

from tessella.engine import normalize as normalization
from tessella.engine.normalize import _SAMPLE, normalize, percentile_normalize, percentile_scale


def _former(image, low=1.0, high=99.8, channel_axis=0):
    """percentile_normalize as it was (session 27, before this change)."""
    image = np.asarray(image)
    if image.dtype == bool:
        image = image.view(np.uint8)
    if channel_axis is None:
        return _former(image[None], low, high, 0)[0]
    moved = np.moveaxis(image, channel_axis, 0)
    out = np.empty(moved.shape, dtype=np.float32)
    for c, channel in enumerate(moved):
        flat = channel.reshape(-1)
        step = max(1, flat.size // _SAMPLE)
        lo, hi = np.percentile(flat[::step], (low, high))
        scale = percentile_scale(lo, hi, flat.min(), flat.max())
        if channel.dtype.itemsize > 4:
            out[c] = (channel - np.float64(lo)) / scale
        else:
            np.subtract(channel, lo, out=out[c], casting="unsafe")
            out[c] /= scale
    return np.moveaxis(out, 0, channel_axis)


def _inputs():
    rng = np.random.default_rng(7)
    big = rng.integers(0, 4096, (2, 1500, 1500, 2), dtype=np.uint16)  # > 2 * _SAMPLE a channel
    stack = rng.gamma(2.0, 100.0, (12, 70, 90)).astype(np.float32)
    nan = rng.normal(size=(2, 40, 50))
    nan[1, 3, 4] = np.nan
    wide = rng.normal(0, 1e300, (3, 30, 40))  # beyond float32: scaled in float64
    return {
        "uint16 2D, channels last, sampled": (big[0], -1),
        "uint16 3D transposed, sampled": (big.transpose(3, 0, 2, 1), 0),
        "float32 3D stack, one channel": (stack, None),
        "float32 3D stack transposed": (stack.transpose(2, 0, 1), None),
        "float32 strided": (stack[::2, 1::3, ::-2], 0),
        "float64 with NaN, transposed": (nan.transpose(0, 2, 1), 0),
        "float64 beyond float32": (wide, 0),
        "float64 beyond float32 channels last": (wide.transpose(1, 2, 0), 2),
        "int64 transposed": (rng.integers(-(2**40), 2**40, (50, 60, 2)).transpose(2, 1, 0), 0),
        "uint8 Fortran order": (np.asfortranarray(rng.integers(0, 255, (3, 64, 48), np.uint8)), 0),
        "bool, channels last": (rng.random((40, 30, 2)) > 0.7, 2),
        "mostly one value": (np.pad(np.ones((1, 4, 4)), ((0, 0), (30, 30), (30, 30))).T, -1),
    }


NAMES = [
    "uint16 2D, channels last, sampled",
    "uint16 3D transposed, sampled",
    "float32 3D stack, one channel",
    "float32 3D stack transposed",
    "float32 strided",
    "float64 with NaN, transposed",
    "float64 beyond float32",
    "float64 beyond float32 channels last",
    "int64 transposed",
    "uint8 Fortran order",
    "bool, channels last",
    "mostly one value",
]


@pytest.fixture(scope="module")
def inputs():
    made = _inputs()
    assert list(made) == NAMES
    return made


@pytest.mark.parametrize("name", NAMES)
def test_the_output_is_bit_for_bit_the_former_one(inputs, name, monkeypatch):
    image, axis = inputs[name]
    with np.errstate(invalid="ignore"):
        expected = _former(image, 1.0, 99.8, axis)
        got = percentile_normalize(image, 1.0, 99.8, axis)
    assert got.dtype == np.float32 and got.shape == expected.shape
    np.testing.assert_array_equal(got, expected)
    if axis != 0:
        return
    card = {"low": 3.0, "high": 99.0, "invert_bright_background": True}  # a model card's
    for invert in (None, True, False):
        with np.errstate(invalid="ignore"):
            got = normalize(image, card, invert)
            with monkeypatch.context() as patched:
                patched.setattr(normalization, "percentile_normalize", _former)
                expected = normalize(image, card, invert)
        np.testing.assert_array_equal(got, expected)


def _peak(image) -> tuple[int, int]:
    """(the peak of memory allocated while normalising ``image``, the output's size)."""
    tracemalloc.start()
    try:
        base = tracemalloc.get_traced_memory()[0]
        out = percentile_normalize(image, 1.0, 99.8, None)
        return tracemalloc.get_traced_memory()[1] - base, out.nbytes
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("kind", ["float32 transposed", "float64 beyond float32"])
def test_no_copy_of_the_image_is_held(kind):
    """The output (float32) and a sample: a transposed 64 MiB image took 64 MiB more (its
    copy), a 128 MiB float64 one 128 MiB more (its float64 temporary); now the output and at
    most some 40 MiB (a sample of 2 M pixels, a 32 MiB slab of float64): below output and
    half the input, a wide margin both ways."""
    if kind == "float32 transposed":
        image = np.arange(1 << 24, dtype=np.float32).reshape(4096, 4096).T
    else:
        image = np.linspace(0.0, 1e300, 1 << 24).reshape(4096, 4096)
    peak, out = _peak(image)
    assert peak < out + image.nbytes // 2, (peak >> 20, out >> 20, image.nbytes >> 20)
