"""Four channels for a one-channel model: given first (CYX: stains, slices or frames) all four
are averaged, as the warning says ("its 4 channels (axes CYX) are averaged"); before, only the
first three were, so a 4th channel was lost without a word (f3's note). Four channels last
(an RGBA image, as tifffile writes and napari shows it) leave out the 4th, the transparency,
and the warning says so."""

from __future__ import annotations

import warnings

import numpy as np

import tessella


def _segment(image, model, axes):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        labels = tessella.segment(image, model, axes=axes, tta=False)
    said = [str(w.message) for w in caught if "channel" in str(w.message)]
    return labels, said


def test_four_channels_first_are_all_averaged_as_said(nuclei_sample, nuclei2d):
    nuclei = nuclei_sample[0][:128, :128]
    dark = np.zeros_like(nuclei)
    # the nuclei only in the 4th channel: averaging the first three saw a blank image
    labels, said = _segment(np.stack([dark, dark, dark, nuclei]), nuclei2d, "CYX")
    alone = tessella.segment(nuclei, nuclei2d, tta=False)
    assert alone.max() > 5
    assert labels.max() > 0.5 * alone.max()
    assert len(said) == 1 and said[0].startswith("image: its 4 channels (axes CYX) are averaged")


def test_four_channels_last_leave_out_alpha_and_say_so(nuclei_sample, nuclei2d):
    nuclei = nuclei_sample[0][:128, :128]
    opaque = np.full_like(nuclei, 255)
    rgba = np.stack([nuclei, nuclei, nuclei, opaque], axis=-1).astype(np.uint8)
    labels, said = _segment(rgba, nuclei2d, "YXC")
    np.testing.assert_array_equal(labels, tessella.segment(rgba[..., :3], nuclei2d, tta=False))
    assert said == [
        "image: its 4th channel is read as transparency (alpha, as in an RGBA image) and "
        "left out; its 3 colour channels are averaged into the one channel model 'nuclei2d' reads"
    ]
