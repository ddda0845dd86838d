"""Label corrections on the real nuclei sample's ground truth."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage as ndi

from tessella.engine import edit
from tessella.engine.metrics import matching


@pytest.fixture
def labels(nuclei_sample) -> np.ndarray:
    return nuclei_sample[1].copy()


def contacts(labels: np.ndarray) -> dict[tuple[int, int], int]:
    """Touching pairs of objects and the length of their contact."""
    found: dict[tuple[int, int], int] = {}
    for a, b in ((labels[:, :-1], labels[:, 1:]), (labels[:-1], labels[1:])):
        touching = (a != b) & (a > 0) & (b > 0)
        for x, y in zip(a[touching], b[touching]):
            key = (int(min(x, y)), int(max(x, y)))
            found[key] = found.get(key, 0) + 1
    return found


def touching_pair(labels: np.ndarray) -> tuple[int, int]:
    return max(contacts(labels).items(), key=lambda kv: kv[1])[0]


def applied(labels: np.ndarray, change: edit.Edit) -> np.ndarray:
    out = labels.copy()
    change.apply(out)
    return out


def test_merge_joins_two_touching_nuclei_and_touches_nothing_else(labels):
    a, b = touching_pair(labels)
    merged = applied(labels, edit.merge(labels, [b, a]))
    assert not (merged == b).any()
    assert (merged == a).sum() >= (labels == a).sum() + (labels == b).sum()
    assert ndi.label(merged == a)[1] == 1  # one connected object
    others = ~np.isin(labels, [a, b])
    # other objects keep every pixel; only background may join the merged object
    assert np.array_equal(merged[others & (labels > 0)], labels[others & (labels > 0)])
    assert set(np.unique(merged[others & (merged != labels)])) <= {a}


def test_merge_needs_two_existing_labels(labels):
    with pytest.raises(ValueError, match="at least two"):
        edit.merge(labels, [5])
    with pytest.raises(ValueError, match="no object with label 999"):
        edit.merge(labels, [5, 999])


def test_delete_removes_only_the_chosen_objects(labels):
    deleted = applied(labels, edit.delete(labels, [3, 9]))
    assert not np.isin(deleted, [3, 9]).any()
    keep = ~np.isin(labels, [3, 9])
    assert np.array_equal(deleted[keep], labels[keep])


def test_fill_holes_restores_a_punched_object_and_keeps_an_island(labels):
    sizes = np.bincount(labels.ravel())
    big = int(np.argmax(sizes[1:]) + 1)
    cy, cx = (int(round(c)) for c in ndi.center_of_mass(labels == big))
    holed = labels.copy()
    holed[cy - 3 : cy + 4, cx - 3 : cx + 4] = 0  # a 7x7 hole
    holed[cy, cx] = 500  # with another object inside it
    change = edit.fill_holes(holed)
    filled = applied(holed, change)
    assert change.size == 48
    assert filled[cy, cx] == 500
    expected = labels.copy()
    expected[cy, cx] = 500
    assert np.array_equal(filled, expected)


def test_remove_small_matches_an_independent_count(labels):
    sizes = np.bincount(labels.ravel())
    small = [i for i in range(1, sizes.size) if 0 < sizes[i] < 150]
    assert small  # the real sample has small objects
    cleaned = applied(labels, edit.remove_small(labels, 150))
    assert set(np.unique(cleaned)) == set(np.unique(labels)) - set(small)


def test_remove_small_works_per_frame(labels):
    sizes = np.bincount(labels.ravel())
    label = int(np.argmax(sizes[1:]) + 1)
    frame0 = labels.copy()
    rows, cols = np.nonzero(labels == label)
    frame0[labels == label] = 0
    frame0[rows[0], cols[0]] = label
    movie = np.stack([frame0, labels])  # the object is one pixel in frame 0, whole in frame 1
    cleaned = applied(movie, edit.remove_small(movie, 20, axes="TYX"))
    assert not (cleaned[0] == label).any()
    assert np.array_equal(cleaned[1], labels)


def test_relabel_sequential_keeps_the_partition(labels):
    gappy = labels * 3
    relabelled = applied(gappy, edit.relabel_sequential(gappy))
    assert np.array_equal(np.unique(relabelled), np.arange(relabelled.max() + 1))
    # one-to-one: every old object maps to exactly one new one and back
    pairs = np.unique(np.stack([gappy.ravel(), relabelled.ravel()]), axis=1)
    assert len(np.unique(pairs[0])) == len(np.unique(pairs[1])) == pairs.shape[1]


def test_split_by_watershed_recovers_two_merged_nuclei(labels):
    a, b = touching_pair(labels)
    merged = applied(labels, edit.merge(labels, [a, b]))
    seeds = np.array([ndi.center_of_mass(labels == a), ndi.center_of_mass(labels == b)])
    for change in (edit.split_seeds(merged, a, seeds=seeds), edit.split_seeds(merged, a)):
        split = applied(merged, change)
        new = int(split.max())
        assert new == labels.max() + 1
        pieces = {int(i) for i in np.unique(split[merged == a])}
        assert pieces == {a, new}
        # the pieces are the two original nuclei, up to the merge's filled crack
        truth = np.where(np.isin(labels, [a, b]), labels, 0)
        pred = np.where(np.isin(split, [a, new]), split, 0)
        assert matching(truth, pred, 0.8).tp == 2


def test_split_by_watershed_does_not_depend_on_where_in_each_nucleus_a_seed_is(labels):
    """Seeds near the far edge of each nucleus (on the slope of the distance map, not at its
    peak) still give the two nuclei, not a sliver and the rest."""
    a, b = touching_pair(labels)
    merged = applied(labels, edit.merge(labels, [a, b]))
    centres = [np.array(ndi.center_of_mass(labels == i)) for i in (a, b)]
    away = (centres[1] - centres[0]) / np.linalg.norm(centres[1] - centres[0])
    truth = np.where(np.isin(labels, [a, b]), labels, 0)
    for fraction in (0.5, 0.8):
        seeds = []
        for centre, sign, label in zip(centres, (-1, 1), (a, b)):
            far = centre.copy()  # walk from the centre to the far edge, away from the other
            while labels[tuple(np.round(far + sign * away).astype(int))] == label:
                far += sign * away
            seeds.append(centre + fraction * (far - centre))
        split = applied(merged, edit.split_seeds(merged, a, seeds=np.array(seeds)))
        pred = np.where(np.isin(split, [a, split.max()]), split, 0)
        assert matching(truth, pred, 0.8).tp == 2, fraction


def test_split_by_seeds_needs_two_seeds_inside(labels):
    with pytest.raises(ValueError, match="at least two seed points inside label 5"):
        edit.split_seeds(labels, 5, seeds=np.array([[0.0, 0.0], [1.0, 1.0]]))


def test_split_line_cuts_an_object_into_its_two_sides(labels):
    sizes = np.bincount(labels.ravel())
    label = int(np.argmax(sizes[1:]) + 1)
    rows, cols = np.nonzero(labels == label)
    cx = int(np.median(cols))
    line = np.array([[rows.min() - 2, cx], [rows.max() + 2, cx]], float)
    split = applied(labels, edit.split_line(labels, label, line))
    new = int(split.max())
    both = np.isin(split, [label, new])
    assert np.array_equal(both, labels == label)  # the same pixels, now two objects
    left, right = (split == label), (split == new)
    assert ndi.label(left)[1] == ndi.label(right)[1] == 1
    # the pieces lie on either side of the line (the line's own column may go either way)
    sides = [set(np.sign(np.nonzero(piece)[1] - cx)) - {0} for piece in (left, right)]
    assert sorted(map(sorted, sides)) == [[-1], [1]]


def test_split_line_in_a_volume_cuts_only_the_displayed_slice(labels):
    sizes = np.bincount(labels.ravel())
    label = int(np.argmax(sizes[1:]) + 1)
    volume = np.stack([labels, labels, labels])
    rows, cols = np.nonzero(labels == label)
    cx = int(np.median(cols))
    line = np.array([[1, rows.min() - 2, cx], [1, rows.max() + 2, cx]], float)
    split = applied(volume, edit.split_line(volume, label, line))
    assert np.array_equal(split[0], labels) and np.array_equal(split[2], labels)
    assert len(np.unique(split[1][labels == label])) == 2


def test_split_line_that_misses_is_refused(labels):
    with pytest.raises(ValueError, match="does not cut label 5"):
        edit.split_line(labels, 5, np.array([[0.0, 0.0], [0.0, 3.0]]))


def test_suspicious_objects_finds_planted_oddities(labels):
    odd = labels.copy()
    a, b = touching_pair(labels)
    odd[odd == b] = a
    for label, _ in sorted(contacts(odd).items(), key=lambda kv: -kv[1])[:6]:
        odd[np.isin(odd, label)] = a  # a giant clump
    odd[0:2, 0:2] = 400  # a 4-pixel speck
    confidence = np.full(odd.shape, 0.95)
    confidence[odd == 7] = 0.2
    found = {s.label: s for s in edit.suspicious_objects(odd, confidence)}
    assert found[400].reason == "small"
    assert found[a].reason == "large"
    assert found[7].reason == "low confidence"
    assert found[7].confidence == pytest.approx(0.2)
    assert found[400].centroid == pytest.approx((0.5, 0.5))
    ordered = edit.suspicious_objects(odd, confidence)
    assert [s.severity for s in ordered] == sorted((s.severity for s in ordered), reverse=True)
    assert all("confidence" not in s.reason for s in edit.suspicious_objects(odd))


def test_split_line_without_a_label_splits_the_object_it_crosses(labels):
    sizes = np.bincount(labels.ravel())
    label = int(np.argmax(sizes[1:]) + 1)
    rows, cols = np.nonzero(labels == label)
    cx = int(np.median(cols))
    line = np.array([[rows.min() - 1, cx], [rows.max() + 1, cx]], float)
    change = edit.split_line(labels, None, line)
    assert change.description.startswith(f"split {label} into 2")
    with pytest.raises(ValueError, match="crosses no object"):
        edit.split_line(np.zeros_like(labels), None, line)


def test_a_split_of_full_uint8_labels_gives_new_ids_in_a_wider_type_and_never_wraps(labels):
    """uint8 labels whose largest ID is 255: the new piece is 256, in a type that holds it
    (it was refused: "label 256 does not fit in uint8"); writing it into the uint8 labels is
    refused rather than wrapped around to 0 (background), into wider labels it is written."""
    sizes = np.bincount(labels.ravel())
    label = int(np.argmax(sizes[1:]) + 1)
    narrow = np.where(labels == label, 255, labels).astype(np.uint8)
    assert narrow.max() == 255 and np.array_equal(narrow > 0, labels > 0)
    rows, cols = np.nonzero(narrow == 255)
    cx = int(np.median(cols))
    line = np.array([[rows.min() - 2, cx], [rows.max() + 2, cx]], float)

    change = edit.split_line(narrow, 255, line)

    assert change.values.dtype == np.uint16 and set(np.unique(change.values)) == {256}
    assert change.description == "split 255 into 2 by line (new: 256)"
    kept = narrow.copy()
    with pytest.raises(ValueError, match="label 256 does not fit in uint8: widen the labels"):
        change.apply(kept)
    assert np.array_equal(kept, narrow)
    wide = narrow.astype(np.int32)
    change.apply(wide)
    assert set(np.unique(wide[narrow == 255])) == {255, 256}
    assert np.array_equal(wide[narrow != 255], narrow[narrow != 255])
    # labels of a type that holds the new ID keep it: no wider values than needed
    assert edit.split_line(narrow.astype(np.uint16), 255, line).values.dtype == np.uint16
