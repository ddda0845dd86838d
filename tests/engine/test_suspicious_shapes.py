"""*Next suspicious* on worms: two worms merged where they cross (an X of about median area)
are flagged by their shape (s35 t21 #7: worms2d merges BBBC010 D17's ground-truth worms 5
and 8 into one object; merged B12 worms 2 and 9 are of median size), single worms are not,
and round objects get no shape cue at all. Over BBBC010's 100 annotated wells, the 70 pairs
of worms crossing in 50 px or more, merged: the size rule flags 63, the shape 66, either 69;
the shape flags 1 of the 713 single worms (C12's worm 15)."""

from __future__ import annotations

import numpy as np
import pytest

from tessella.engine.edit import suspicious_objects
from tessella.engine.io import mask_stack_labels


def _masks(data_dir, well: str) -> np.ndarray:
    import tifffile

    path = data_dir / "worms_bbbc010" / "worm_masks" / f"{well}.tif"
    if not path.exists():
        pytest.skip(f"{path} is not there")
    return tifffile.imread(path).astype(bool)  # (N, 520, 696): worm n is page n - 1


def _shaped(suspects) -> dict[int, str]:
    return {s.label: s.reason for s in suspects if "arms" in s.reason or "long" in s.reason}


def _merged(masks: np.ndarray, first: int, second: int) -> np.ndarray:
    """The well's labels (smaller worm on top) with worm ``second`` merged into ``first``."""
    merged = masks[[n for n in range(len(masks)) if n != second - 1]]
    merged[first - 1] |= masks[second - 1]
    return mask_stack_labels(merged)[0]


@pytest.mark.parametrize(
    ("well", "first", "second", "by_size"),
    [("D17", 5, 8, True), ("B12", 2, 9, False)],
    ids=["D17 5+8 (worms2d's label 8)", "B12 2+9 (of median size)"],
)
def test_two_crossing_worms_merged_are_flagged_by_their_shape(
    data_dir, well, first, second, by_size
):
    masks = _masks(data_dir, well)
    assert (masks[first - 1] & masks[second - 1]).sum() > 100  # they cross
    labels = _merged(masks, first, second)
    sized = {s.label for s in suspicious_objects(labels, shapes=False)}
    assert (first in sized) == by_size  # B12's: the size rule alone misses it
    shaped = _shaped(suspicious_objects(labels))
    assert list(shaped) == [first], shaped  # it alone: no single worm of the well
    assert "branched into 3 long arms" in shaped[first], shaped
    single = mask_stack_labels(masks)[0]  # the well's worms as annotated: none flagged
    assert not _shaped(suspicious_objects(single))


def test_round_objects_get_no_shape_cue(nuclei_sample):
    labels = nuclei_sample[1].astype(np.int32)
    found = suspicious_objects(labels)
    assert not _shaped(found)
    assert [(s.label, s.reason) for s in found] == [
        (s.label, s.reason) for s in suspicious_objects(labels, shapes=False)
    ]
