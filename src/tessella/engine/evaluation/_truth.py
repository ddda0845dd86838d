"""What a ground truth holds: its objects as ``tessella evaluate`` scores them
(:func:`truth_objects`, :func:`membrane_map_objects`, :func:`mask_stack_objects`), the images
a pair is scored as, and predictions cut to sparse annotations (:func:`without_ignored`,
:func:`stack_without_ignored`)."""

from __future__ import annotations

import numpy as np

from .. import metrics
from ._mistakes import ground_truth_note, mask_pieces, membrane_map_labels_note
from ._sparse import check_places

__all__ = [
    "ignore_label_clash",
    "mask_stack_objects",
    "membrane_map_objects",
    "scored_images",
    "stack_without_ignored",
    "truth_objects",
    "unannotated_left_out",
    "without_ignored",
]


def truth_objects(
    labels_true,
    kind: str = "labels",
    ignore_label: int | None = None,
    name: str = "ground truth",
    flags: bool = True,
    notes: bool = True,
) -> tuple[np.ndarray, np.ndarray | None, str | None]:
    """``(objects, unannotated, note)``: the objects a ground truth of ``kind`` holds, as
    ``tessella evaluate`` and :func:`evaluate_labels` score them.

    ``kind``: ``"labels"`` (instance labels, the objects as they are), ``"binary"`` (a mask
    whose connected pieces are the objects, pixels touching at a corner in one piece,
    :func:`mask_pieces`, ``--gt-binary``), ``"boundaries"`` (a membrane
    map, 1 = membrane, whose insides are the objects; a map of more than 2 axes was annotated
    section by section, so its cells are found per 2D plane, ``--gt-boundaries``) or
    ``"boundaries3d"`` (cells connected in 3D, ``--gt-boundaries-3d``). ``unannotated``: the
    pixels of ``ignore_label`` (not annotated; background in ``objects``), or None without
    a label. ``note``: why the ground truth may not be what it is taken for
    (:func:`ground_truth_note`, and ``boundary_map_note`` for membrane maps), or None; its
    hints name the ``tessella evaluate`` flags with ``flags``, else ``kind``; None without
    ``notes`` for instance labels (looked at by the caller: some frames of them only).

    >>> objects, unannotated, note = truth_objects(np.array([[1, 1, 0, 0, 1, 9]]), "binary", 9)
    >>> objects.tolist(), unannotated.tolist(), note
    ([[1, 1, 0, 0, 2, 0]], [[False, False, False, False, False, True]], None)
    """
    if kind not in ("labels", "binary", "boundaries", "boundaries3d"):
        raise ValueError(
            f"ground truth kind {kind!r}: choose labels, binary, boundaries or boundaries3d"
        )
    raw = np.asarray(labels_true)
    unannotated = None if ignore_label is None else raw == ignore_label
    known = raw if unannotated is None else np.where(unannotated, 0, raw)
    note = None
    if kind in ("boundaries", "boundaries3d"):  # EM membranes: the regions inside them
        from ..train.data import boundary_map_note

        # (a label image first: the arguments swapped, else "inverted" would be its note)
        note = membrane_map_labels_note(raw, name, ignore_label, flags) or boundary_map_note(
            raw, name, ignore_label
        )
        per_section = kind == "boundaries" and raw.ndim > 2
        objects = membrane_map_objects(raw, ignore_label, name, per_section)[0]
        kind = "boundaries3d" if kind == "boundaries3d" and raw.ndim > 2 else "boundaries"
    elif kind == "binary":  # semantic masks: the objects are the connected pieces, pixels
        objects = mask_pieces(known > 0)[0]  # touching at a corner in one (as training counts)
    else:
        objects = known
    # soft, or mostly membrane (the polarity inverted?); else a kind forgotten or wrong
    if notes or kind != "labels":
        note = note or ground_truth_note(raw, name, objects, kind, ignore_label, flags)
    return objects, unannotated, note


def scored_images(
    objects: np.ndarray,
    labels_pred: np.ndarray,
    unannotated: np.ndarray | None = None,
    kind: str = "labels",
    frame_axis: int | None = None,
    annotated: list[tuple[int, ...]] | None = None,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray | None]]:
    """``[(truth, predicted, unannotated), ...]``: the images a pair of one shape is scored
    as, the ground truth's ``objects`` (:func:`truth_objects`) against ``labels_pred``.

    A boundary map (``kind="boundaries"``) of more than 2 axes gives every 2D section (an
    image each, as it was annotated); else ``frame_axis`` (the T axis of a time-lapse) every
    frame; else the pair is one image. ``annotated`` (ground truth annotating some frames
    or slices, :func:`ctc_annotated`): only the places it lists, ``(t,)`` a frame, ``(t, z)``
    a 2D slice (of the prediction too, as the CTC's SEG scores a slice), each an image.
    Where ``unannotated`` pixels are marked, the prediction is cut as :func:`without_ignored`
    does. A binary mask's objects (``kind="binary"``) scored as several images (frames,
    places) are its pieces in each image (:func:`mask_pieces`): two cells of a frame are
    not one object because a cell of the next frame touches both; scored as one image (a
    volume) they are its pieces in 3D, as ``objects`` holds them. So are a 3D membrane map's
    cells (``kind="boundaries3d"``) in each frame of a time-lapse (``TZYX``): its insides
    connected in 3D within a time point, not through the time points before and after.

    >>> volume = np.zeros((3, 4, 4), int)
    >>> len(scored_images(volume, volume)), len(scored_images(volume, volume, kind="boundaries"))
    (1, 3)
    >>> linked = np.array([[[1, 0, 1]], [[1, 1, 1]]])  # frame 0: 2 cells, linked in frame 1
    >>> [t.tolist() for t, _p, _u in scored_images(linked, linked, kind="binary", frame_axis=0)]
    [[[1, 0, 2]], [[1, 1, 1]]]
    """
    images: list  # the truth's images and the prediction's
    if annotated is not None:  # only where there is ground truth
        check_places(annotated, objects.shape)
        places = [tuple(place) for place in annotated]
        images = [[objects[p] for p in places], [labels_pred[p] for p in places]]
        ignored = None if unannotated is None else [unannotated[p] for p in places]
    elif kind == "boundaries" and objects.ndim > 2:  # annotated section by section
        plane = objects.shape[-2:]
        images = [objects.reshape(-1, *plane), labels_pred.reshape(-1, *plane)]
        ignored = None if unannotated is None else list(unannotated.reshape(-1, *plane))
    elif frame_axis is None:
        images = [objects[None], labels_pred[None]]
        ignored = None if unannotated is None else [unannotated]
    else:
        images = [np.moveaxis(objects, frame_axis, 0), np.moveaxis(labels_pred, frame_axis, 0)]
        ignored = None if unannotated is None else list(np.moveaxis(unannotated, frame_axis, 0))
    if kind == "binary" and (annotated is not None or frame_axis is not None):
        images[0] = [mask_pieces(np.asarray(t) > 0)[0] for t in images[0]]
    elif kind == "boundaries3d" and annotated is None and frame_axis is not None:
        from scipy import ndimage  # (the insides, cells connected as membrane_map_objects's)

        images[0] = [ndimage.label(np.asarray(t) > 0)[0] for t in images[0]]
    if ignored is None:
        return [(t, p, None) for t, p in zip(*images)]
    return [(t, without_ignored(p, u, t), u) for t, p, u in zip(*images, ignored)]


def without_ignored(
    labels: np.ndarray, ignore: np.ndarray | None, truth: np.ndarray | None = None
) -> np.ndarray:
    """Predicted ``labels`` scored against sparse annotations: the unannotated (``ignore``)
    pixels cleared, and predicted objects lying mostly there removed unless they overlap an
    annotated object of ``truth`` (one that crosses the edge of the annotated area is then cut
    at it, as its annotation is), since the truth there is unknown rather than background.

    >>> pred = np.array([[1, 1, 2, 2, 2]]); ignore = np.array([[0, 0, 0, 1, 1]], bool)
    >>> without_ignored(pred, ignore).tolist()
    [[1, 1, 0, 0, 0]]
    >>> without_ignored(pred, ignore, truth=np.array([[0, 0, 5, 0, 0]])).tolist()
    [[1, 1, 2, 0, 0]]
    """
    if ignore is None or not ignore.any():
        return labels
    ids, index = np.unique(labels, return_inverse=True)  # any label values, compactly
    index = index.reshape(labels.shape)
    inside = np.bincount(index[ignore], minlength=len(ids))
    mostly = 2 * inside > np.bincount(index.ravel(), minlength=len(ids))
    if truth is not None:
        mostly[np.unique(index[(truth > 0) & ~ignore])] = False
    mostly[ids == 0] = False
    return np.where(mostly[index] | ignore, 0, labels)


def ignore_label_clash(
    largest_id: int, ignore_label: int | None, name: str = "labels"
) -> str | None:
    """A warning when ``ignore_label`` lies inside the range of object IDs (some object has a
    larger ID), where an object of that ID would be taken for unannotated; else None.

    >>> print(ignore_label_clash(120, 5, "gt.tif")[:58])
    gt.tif: unannotated label 5 is among its object IDs (up to
    >>> ignore_label_clash(120, 999) is None
    True
    """
    if ignore_label is None or largest_id <= ignore_label:
        return None
    return (
        f"{name}: unannotated label {ignore_label} is among its object IDs (up to "
        f"{largest_id}): an object with ID {ignore_label} would be left out; a value above "
        f"every ID (e.g. {largest_id + 1}) is safe"
    )


def unannotated_left_out(truth: np.ndarray, predicted: np.ndarray, ignore_label: int | None):
    """``(truth, predicted, marked)`` for scoring sparse ground truth: ``truth``'s pixels of
    ``ignore_label`` (not annotated) become background and ``predicted`` is cut as
    :func:`without_ignored` does; ``marked`` says whether any pixel had the label. ``None``:
    the pair as it is."""
    if ignore_label is None:
        return truth, predicted, False
    ignore = truth == ignore_label
    truth = np.where(ignore, 0, truth)
    return truth, without_ignored(predicted, ignore, truth), bool(ignore.any())


def membrane_map_objects(
    data: np.ndarray,
    ignore_label: int | None = None,
    name: str = "map",
    per_section: bool = False,
):
    """``(objects, membrane, unannotated)`` of a membrane map (positive = membrane, as ISBI
    2012 gives them): the cells are the connected regions of zeros; pixels of
    ``ignore_label`` (not annotated) are neither membrane nor cell. ValueError if
    ``ignore_label`` is the map's membrane value (no membrane would be left).

    ``per_section``: a map of more than 2 axes was annotated section by section (every 2D
    plane of the last two axes on its own, as most EM ground truth is): the cells are the
    connected regions of each plane, with IDs unique across planes. Otherwise they are
    connected in all axes (a 3D map).

    >>> objects, membrane, unannotated = membrane_map_objects(np.array([[0, 1, 0, 9]]), 9)
    >>> objects.tolist(), membrane.tolist(), unannotated.tolist()
    ([[1, 0, 2, 0]], [[False, True, False, False]], [[False, False, False, True]])
    >>> stack = np.array([[[0, 1, 0]], [[0, 1, 0]]])
    >>> membrane_map_objects(stack)[0].tolist()
    [[[1, 0, 2]], [[1, 0, 2]]]
    >>> membrane_map_objects(stack, per_section=True)[0].tolist()
    [[[1, 0, 2]], [[3, 0, 4]]]
    """
    from scipy import ndimage

    data = np.asarray(data)
    unannotated = np.zeros(data.shape, bool) if ignore_label is None else data == ignore_label
    membrane = (data > 0) & ~unannotated
    if unannotated.any() and not membrane.any():
        raise ValueError(
            f"{name}: ignore label {ignore_label} is its membrane value (no membrane would be "
            "left); paint the unannotated parts with a value of their own"
        )
    inside = data == 0
    if not per_section or data.ndim <= 2:
        return ndimage.label(inside)[0], membrane, unannotated
    planes = inside.reshape(-1, *inside.shape[-2:])
    objects = np.zeros(planes.shape, np.int32)
    offset = 0
    for plane, out in zip(planes, objects):
        count = ndimage.label(plane, output=out)
        out[out > 0] += offset  # IDs unique across sections
        offset += count
    return objects.reshape(inside.shape), membrane, unannotated


def mask_stack_objects(
    data: np.ndarray, ndim: int = 2, ignore_label: int | None = None, name: str = "masks"
):
    """``(objects, unannotated)`` of overlapping-object masks: an ``(N, *spatial)`` stack of
    object masks or a label image of ``ndim`` axes, as bool ``(N, *spatial)`` masks and the
    bool map of pixels of ``ignore_label`` (not annotated; None without a label).

    Empty planes are no objects. Pixels of ``ignore_label`` in any plane of a stack (or in the
    label image) are left out of every object; a plane holding nothing else marks only them.
    ValueError for a shape that is neither, and when ``ignore_label`` is a stack's object
    value (every plane holds only it, so no object would be left).

    >>> stack = np.array([[[1, 1, 0, 0]], [[0, 1, 1, 0]], [[0, 0, 9, 9]]])
    >>> objects, unannotated = mask_stack_objects(stack, 2, 9)
    >>> objects.astype(int).tolist(), unannotated.tolist()
    ([[[1, 1, 0, 0]], [[0, 1, 0, 0]]], [[False, False, True, True]])
    """
    data = np.asarray(data)
    if data.dtype.kind not in "biu":
        raise ValueError(f"{name}: masks must be integers or booleans, got {data.dtype}")
    if ignore_label == 0:
        raise ValueError("ignore label 0: 0 is background; mark unannotated parts with another")
    if data.dtype.kind == "i" and data.size:  # would be objects, or background in a stack
        negative = data[(data < 0) & (data != ignore_label)]
        if negative.size:
            raise ValueError(f"{name}: masks must not be negative (found {int(negative.min())})")
    if data.ndim == ndim:
        unannotated = None if ignore_label is None else data == ignore_label
        kept = data if unannotated is None else np.where(unannotated, 0, data)
        return metrics.labels_to_stack(kept), unannotated
    if data.ndim != ndim + 1:
        raise ValueError(
            f"{name}: expected {ndim}D labels or an (N, ...) stack of object masks, got shape "
            f"{data.shape}"
        )
    if ignore_label is None:  # an empty plane is no object (it could only count as missed)
        objects = data > 0
        return objects[objects.any(axis=tuple(range(1, objects.ndim)))], None  # N may be 0
    marks = data == ignore_label
    unannotated = marks.any(axis=0)
    planes = [plane for plane, mark in zip(data, marks) if (plane[~mark] != 0).any()]
    if unannotated.any() and not planes:
        raise ValueError(
            f"{name}: ignore label {ignore_label} is the value of every object mask (no object "
            "would be left); paint the unannotated parts with a value of their own"
        )
    objects = (
        np.stack([(plane > 0) & ~unannotated for plane in planes])
        if planes
        else (np.zeros((0, *data.shape[1:]), bool))
    )
    return objects, unannotated


def stack_without_ignored(
    stack: np.ndarray, ignore: np.ndarray | None, truth: np.ndarray | None = None
) -> np.ndarray:
    """:func:`without_ignored` for predicted object masks that may overlap ``(N, *spatial)``:
    each mask is cut at the unannotated (``ignore``) pixels, and dropped when it lay mostly
    there and overlaps no annotated object of ``truth`` (an ``(M, *spatial)`` stack).

    >>> pred = np.array([[[1, 1, 1, 0, 0]], [[0, 0, 1, 1, 1]]], bool)
    >>> ignore = np.array([[0, 0, 0, 1, 1]], bool)
    >>> stack_without_ignored(pred, ignore).astype(int).tolist()
    [[[1, 1, 1, 0, 0]]]
    >>> truth = np.array([[[0, 0, 1, 0, 0]]], bool)
    >>> stack_without_ignored(pred, ignore, truth).astype(int).tolist()
    [[[1, 1, 1, 0, 0]], [[0, 0, 1, 0, 0]]]
    """
    stack = np.asarray(stack, bool)
    if ignore is None or not ignore.any() or not len(stack):
        return stack
    flat = stack.reshape(len(stack), -1)
    inside = (flat & ignore.ravel()).sum(axis=1)
    mostly = 2 * inside > flat.sum(axis=1)
    if truth is not None and len(truth):
        annotated = np.asarray(truth, bool).any(axis=0) & ~ignore
        mostly &= ~(flat & annotated.ravel()).any(axis=1)
    kept = stack[~mostly] & ~ignore
    return kept[kept.any(axis=tuple(range(1, kept.ndim)))]
