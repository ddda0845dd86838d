"""A guess at what a ground truth is (:func:`ground_truth_kind`): instance labels, a binary
mask, a membrane map or a stack of overlapping object masks; a large or lazy one judged from
samples of it (:mod:`._samples`)."""

from __future__ import annotations

import math

import numpy as np

from ._mistakes import _membrane_cells, _two_values, mask_pieces, mask_stack_reason
from ._samples import sample_planes, wider_look

__all__ = ["ground_truth_kind"]

#: above this many pixels, the connected pieces of a mask are not counted for
#: :func:`ground_truth_kind`'s words (a full 3D labelling takes about 0.1 s per 20 Mpx)
_COUNT_PIXELS = 2**22


def ground_truth_kind(
    truth, prediction_shape: tuple, prediction=None, sample_pixels: int | None = None
) -> tuple[str, str]:
    """``(kind, why)``: what the ground truth ``truth`` most likely is for a prediction of
    ``prediction_shape``, a key of :data:`GROUND_TRUTH_KINDS`, and why in a few words.

    ``"overlapping"``: an ``(N, Y, X)`` array against a ``(Y, X)`` prediction, one that looks
    like a stack of object masks (:func:`mask_stack_reason`; not a membrane map's sections)
    against a prediction of its shape whose planes hold one object each, or against an
    ``(M, Y, X)`` prediction of the same image size that looks like a mask stack too
    (``prediction``, its data, when at hand; else its shape alone is taken: a label volume of
    many objects per plane is no mask stack's prediction);
    ``"boundaries"``: 0 and one value in thin lines around many regions; ``"binary"``: 0 and
    one value otherwise; else ``"labels"``. Quick enough to call at every change of a pair:
    a few sections are looked at, and the pieces of a mask over 4 Mpx are not counted.

    ``sample_pixels``: a larger ``truth`` (and ``prediction``), lazy ones included, is judged
    from samples of about that many of its pixels in all, the rest never read; ``why`` then
    ends by saying which. Half of them are :func:`sample_planes` (9 windows of a 2D image,
    16 planes' central windows of a volume). When that shows only 0, 0 and one value (a
    binary mask?) or a stack of object masks, the other half takes a wider look
    (:func:`wider_look`: small windows between the first windows of a 2D image, or on up to
    32 planes spread over the depth and over each plane of a volume; then one large window
    around the fullest), as annotation kept to some planes or to one part of them, or a
    membrane map whose cells are larger than the first windows, looks empty, like a binary
    mask or (a membrane map in two of the planes sampled) like a stack of object masks from
    the first sample alone. Neither look reads everything, so annotation is sure to be seen
    only where it reaches what they read. With Evaluate's ``sample_pixels`` (2**22) over a
    100 x 1024 x 1024 volume: annotation over 13 or more neighbouring planes that reaches
    into their central 362 x 362 pixels (the first look's 8 pairs of planes are 14 apart),
    or over 29 or more planes with a part at least 190 pixels wide each way anywhere in them
    (the wider look's windows, 221 x 222 on a 3 x 3 grid, are 3 or 4 planes apart, 9 planes
    going round the grid); of a 2D image, a part wider than the spaces left between all the
    windows (about 310 pixels of a 4096 x 4096 one). Sparser annotation may be missed: of a
    binary mask in planes 60-62 of that volume, within their central 512 x 512, nothing is
    read, and it is taken as ``"labels"``, ``why`` saying "only 0 in the sample" (the kind
    must then be told). A mask stack against
    a stack of another count is judged from :func:`sample_planes` alone. The choice between
    ``"overlapping"`` and the others by shape alone reads no pixel.

    >>> ground_truth_kind(np.array([[0, 1, 1, 0, 1]]), (1, 5))
    ('binary', 'only 0 and 1 (2 connected pieces): probably a binary mask')
    >>> ground_truth_kind(np.array([[0, 1, 1, 0, 2]]), (1, 5))[0]
    'labels'
    >>> volume = np.zeros((200, 256, 256), np.uint8)  # annotated in planes 120-129 only
    >>> volume[120:130, 30:230, 30:230] = 1
    >>> kind, why = ground_truth_kind(volume, volume.shape, None, 2**18)
    >>> kind, why[why.index("; then") :]  # (none of the first sample's 16 planes held any)
    ('binary', '; then 32 small windows over 32 planes and 128 x 128 of planes 121-122 ...')
    >>> image = np.zeros((2048, 2048), np.uint8)  # annotated between the first windows only
    >>> image[400:600, 400:600] = 1
    >>> kind, why = ground_truth_kind(image, image.shape, None, 2**20)
    >>> kind, why[why.index("9 windows") :]  # (the first 9, 241 x 241, held none of it)
    ('binary', '9 windows of 241 x 241 ...; then 40 small windows between them and 362 x 362 ...')
    """
    if sample_pixels is None:
        return _judged(truth, prediction_shape, prediction)
    return _sampled(truth, prediction_shape, prediction, sample_pixels)


def _judged(
    truth,
    prediction_shape: tuple,
    prediction=None,
    sample_pixels: int | None = None,
    pieces: bool = True,
) -> tuple[str, str]:
    """:func:`ground_truth_kind` of ``truth``, whole or (``sample_pixels``) from
    :func:`sample_planes` alone; ``pieces``: the connected pieces of a binary mask read whole
    are counted in ``why`` (a sample's pieces are not the array's)."""
    truth_shape, shape = tuple(np.shape(truth)), tuple(prediction_shape)
    if len(truth_shape) == len(shape) + 1 == 3 and truth_shape[1:] == shape:
        return "overlapping", (
            f"a stack of {truth_shape[0]} (Y, X) planes against a (Y, X) prediction: one object "
            "mask per plane"
        )

    def read(array):  # the whole array, or a sample of it
        if sample_pixels is None:
            return np.asarray(array), ""
        return sample_planes(array, sample_pixels)

    truth, sampled = read(truth)
    sample = f" (guessed from a sample: {sampled})" if sampled else ""
    stacks = len(truth_shape) == len(shape) == 3 and truth_shape[1:] == shape[1:]
    reason = mask_stack_reason(truth) if stacks else None
    if reason and (
        prediction is None
        or (truth_shape == shape and _one_object_planes(read(prediction)[0]))
        or mask_stack_reason(read(prediction)[0]) is not None
    ):
        against = "" if truth_shape == shape else f" against a stack of {shape[0]} object masks"
        return "overlapping", f"a stack of object masks: {reason}{against}{sample}"
    value = _two_values(truth)
    if value is None:
        return "labels", f"many object IDs: instance labels{sample}"
    if _membrane_cells(truth != 0, 4):
        return "boundaries", (
            f"only 0 and {value}, in thin lines between regions: a membrane map{sample}"
        )
    counted = ""
    if pieces and truth.size <= _COUNT_PIXELS and not sampled:  # (a sample's are not the array's)
        count = mask_pieces(truth)[1]  # (the objects --gt-binary scores)
        counted = f" ({count} connected piece{'s' if count != 1 else ''})"
    return "binary", f"only 0 and {value}{counted}: probably a binary mask{sample}"


def _one_object_planes(array) -> bool:
    """Whether every non-empty plane of up to 16 spread over the ``(N, Y, X)`` ``array``
    holds 0 and one value (an object mask each, as a mask stack's prediction has), not the
    many objects of a label volume's sections.

    >>> _one_object_planes(np.array([[[0, 1]], [[2, 0]]])), _one_object_planes(np.array([[[1, 2]]]))
    (True, False)
    """
    array = np.asarray(array)
    if array.ndim != 3:
        return False
    planes = [plane for plane in array if plane.any()]
    picked = np.unique(np.linspace(0, len(planes) - 1, min(16, len(planes))).astype(int))
    return bool(planes) and all(_two_values(planes[k]) is not None for k in picked)


def _sampled(truth, prediction_shape: tuple, prediction, budget: int) -> tuple[str, str]:
    """:func:`ground_truth_kind` of ``truth`` with ``sample_pixels`` ``budget``: from the
    first and, where that shows little, the wider look (see there)."""
    truth_shape = tuple(int(size) for size in np.shape(truth))
    shape = tuple(int(size) for size in prediction_shape)
    small = math.prod(truth_shape) <= budget and math.prod(shape) <= budget
    by_shape = len(truth_shape) == len(shape) + 1 == 3 and truth_shape[1:] == shape
    stacks = len(truth_shape) == len(shape) == 3 and truth_shape[1:] == shape[1:]
    if small or by_shape or (stacks and truth_shape != shape):  # (one sample, if any)
        return _judged(truth, shape, prediction, budget)
    sample, words = sample_planes(truth, budget // 2)
    # a prediction of the ground truth's shape, sampled alike; else no shape to compare
    kind, why = _judged(sample, sample.shape if stacks else (), None, pieces=not words)
    if not words:  # (the whole ground truth, under half the budget)
        return kind, why
    if kind == "boundaries" or (kind == "labels" and sample.any()):
        return kind, f"{why} (guessed from a sample: {words})"
    # nothing seen: mostly more places to look; else a closer look where most is
    half = budget - budget // 2
    probe_pixels = half // 4 if sample.any() else half * 3 // 4
    probe, close, more = wider_look(truth, probe_pixels, half - probe_pixels, budget // 2)
    said = f" (guessed from a sample: {words}; {more})"
    if kind == "overlapping":  # (a membrane map in a few of the planes sampled looks alike)
        closer = _judged(close, (), None, pieces=False) if close.any() else ("", "")
        if closer[0] == "boundaries":
            return "boundaries", closer[1] + said
        return kind, f"{why} (guessed from a sample: {words})"
    values = np.unique(np.concatenate([part[part != 0] for part in (sample, probe, close)]))
    if not values.size:
        return "labels", f"only 0 in the sample: nothing annotated to tell what it is{said}"
    if len(values) > 1:
        return "labels", f"many object IDs: instance labels{said}"
    if close.any():
        kind, why = _judged(close, (), None, pieces=False)
    elif kind != "binary":  # (annotation only in the probe's windows)
        kind, why = _judged(probe, (), None, pieces=False)
    return kind, why + said
