"""Axes guessed from an array's shape when no metadata names them."""

import pytest

from tessella.engine.axes import guess_axes


@pytest.mark.parametrize(
    ("shape", "rgb", "axes"),
    [
        ((520, 512), None, "YX"),
        ((520, 512, 3), None, "YXC"),
        ((520, 512, 3), False, "YXC"),  # not shown as colour, still three channels
        ((520, 512, 5), None, "YXC"),  # a few channels last, not a 5-pixel-wide volume
        ((520, 512, 2), False, "YXC"),
        ((5, 64, 64), None, "ZYX"),  # a few planes first
        ((12, 16, 8), None, "ZYX"),  # too small to tell: the planes come first
        ((10, 64, 64, 3), None, "ZYXC"),
        ((10, 5, 64, 64), None, "TZYX"),
    ],
)
def test_axes_are_guessed_from_the_shape(shape, rgb, axes):
    assert guess_axes(shape, rgb) == axes
