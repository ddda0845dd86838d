"""Splitting a worm that another crosses (t13 finding 1, 1b): worms2d on BBBC010 well B12
(its ``gfp/`` image is the brightfield one) shows worm 6 in three parts, 677 + 312 + 1 px,
worm 14 lying on it over 126 px. A split never erases part of the object (the pieces
partition it), the parts shown apart go with the piece they continue, and a split line
makes the line's two sides, not one object per part and shard."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from tessella.engine._edit_splits import _split_pieces
from tessella.engine.edit import split_line, split_seeds


@pytest.fixture(scope="module")
def b12(data_dir):
    """``(labels, instances)``: worms2d's labels of B12 and its whole worms (run once)."""
    import tifffile

    from tessella.engine.methods import get_method
    from tessella.engine.pipeline import run_steps, segment_steps

    image = tifffile.imread(data_dir / "worms_bbbc010" / "gfp" / "B12.tif")
    result = run_steps(segment_steps(image, "worms2d", "YX"))
    method = get_method(result.model.card.method)
    instances = np.asarray(method.instances(result.predictions[0], result.params), bool)
    labels = result.labels
    parts, _count = ndi.label(labels == 6)
    # the case as t13 measured it; the test is built on it
    assert sorted(np.bincount(parts.ravel())[1:].tolist()) == [1, 312, 677]
    assert int(instances[5].sum()) == 1116 and int((instances[5] & instances[13]).sum()) == 126
    return labels, instances


def _after(labels: np.ndarray, change) -> np.ndarray:
    out = labels.copy()
    change.apply(out)
    return out


def _partition(labels: np.ndarray, out: np.ndarray, label: int) -> dict[int, int]:
    """``{id: px}`` of the pieces of ``label``; asserts they hold all its pixels and that
    nothing else changed."""
    was = labels == label
    assert not (out[was] == 0).any(), f"{int((out[was] == 0).sum())} px of {label} erased"
    np.testing.assert_array_equal(out[~was], labels[~was])
    ids, counts = np.unique(out[was], return_counts=True)
    return dict(zip(ids.tolist(), counts.tolist()))


def _main_parts(labels: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Worm 6's two large parts (677 px, 312 px) as masks."""
    parts, _count = ndi.label(labels == 6)
    sizes = np.bincount(parts.ravel())
    order = np.argsort(-sizes[1:]) + 1
    return parts == order[0], parts == order[1]


@pytest.mark.parametrize("whole", [False, True], ids=["labels only", "with whole worm"])
def test_watershed_split_of_a_crossed_worm_loses_no_pixel(b12, whole):
    labels, instances = b12
    extent = {"whole": instances[5]} if whole else {}  # (the worm whole, as Correct gives it)
    change = split_seeds(labels, 6, pieces=2, **extent)
    out = _after(labels, change)
    pieces = _partition(labels, out, 6)
    assert set(pieces) == {6, 15} and sum(pieces.values()) == 990
    assert change.description.startswith("split 6 into 2 by watershed (new: 15)")
    how = "it continues under the objects over it" if whole else "nearest it"
    assert f"part of 6 apart from the rest (313 px) joined the piece {how}" in (change.description)
    main, beyond = _main_parts(labels)
    assert len(np.unique(out[beyond])) == 1  # the stretch past the crossing: one piece
    if whole:  # it goes with the piece of the main part at the crossing, under worm 14
        crossing = instances[5] & instances[13]
        ring = ndi.binary_dilation(crossing, iterations=2) & main
        assert set(np.unique(out[ring]).tolist()) == set(np.unique(out[beyond]).tolist())


@pytest.mark.parametrize("whole", [False, True], ids=["labels only", "with whole worm"])
def test_split_line_across_a_crossed_worm_gives_its_two_sides(b12, whole):
    labels, instances = b12
    main, beyond = _main_parts(labels)
    ys, xs = np.nonzero(main)
    k = np.argsort(xs, kind="stable")[len(xs) // 5]  # t13's line, a fifth along the worm
    y, x = ys[k], xs[k]
    line = np.array([[y - 12, x - 12], [y + 12, x + 12]], float)
    extent = {"whole": instances[5]} if whole else {}
    change = split_line(labels, 6, line, **extent)
    out = _after(labels, change)
    pieces = _partition(labels, out, 6)
    assert len(pieces) == 2, pieces  # the line's two sides (6 pieces before)
    assert min(pieces.values()) > 4  # no shard the line's rasterisation cut off
    assert change.description.startswith("split 6 into 2 by line (new: 15)")
    how = "it continues under the objects over it" if whole else "nearest it"
    assert f"part of 6 apart from the rest (313 px) joined the piece {how}" in (change.description)
    # the stretch past the crossing stays with the side of the line that leads to it
    assert set(np.unique(out[beyond]).tolist()) == {6}
    for piece in pieces:  # each side one connected piece of the worm (whole)
        _parts, count = ndi.label((out == piece) & main)
        assert count == 1


def test_a_split_that_would_erase_pixels_fails_loudly(b12):
    labels, _instances = b12
    box = ndi.find_objects((labels == 6).astype(np.uint8))[0]
    region = labels[box] == 6
    main = ndi.label(region)[0] == np.argmax(np.bincount(ndi.label(region)[0].ravel())[1:]) + 1
    pieces = np.where(main, 1, 0)
    pieces[np.nonzero(main)[0][0], np.nonzero(main)[1][0]] = 2  # two pieces, 313 px in none
    with pytest.raises(RuntimeError, match="313 px of label 6 in no piece"):
        _split_pieces(labels, 6, box, pieces, "watershed")
