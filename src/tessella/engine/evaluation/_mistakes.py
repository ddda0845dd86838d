"""Plausible mistakes: ground truth or predictions that score 0 (or 1) for no real reason
(an intensity image, a mask taken for labels, a membrane map, a stack of object masks, a
label painted on the background), each noted in one line with the way to score it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from ._scores import GROUND_TRUTH_KINDS

__all__ = [
    "COLLAPSED_FRACTION",
    "binary_mask_pieces",
    "ground_truth_note",
    "mask_pieces",
    "mask_stack_reason",
    "membrane_map_labels_note",
    "prediction_note",
]

#: a ground-truth object covering at least this fraction of the pixels is warned about
COLLAPSED_FRACTION = 0.5
#: at most this many pixels are looked at to tell labels from intensities
_SAMPLE_PIXELS = 4_000_000


def _rows(array: np.ndarray) -> np.ndarray:
    """Rows along the last axis of ``array`` (every k-th row of a large one)."""
    rows = array.reshape(-1, array.shape[-1])
    return rows[:: max(1, rows.size // _SAMPLE_PIXELS)]


def _intensities(array: np.ndarray) -> str | None:
    """Why ``array`` looks like an image rather than labels (many distinct values on most
    pixels, equal neighbours rare where objects are solid), or None."""
    if array.ndim < 2 or array.size < 64:
        return None
    rows = _rows(array)
    nonzero = rows != 0
    if nonzero.mean() < 0.1:
        return None
    neighbours = nonzero[:, 1:]
    same = int(np.count_nonzero((rows[:, 1:] == rows[:, :-1]) & neighbours))
    pairs = max(int(np.count_nonzero(neighbours)), 1)
    run = 1.0 / max(1.0 - same / pairs, 1e-9)  # mean length of a run of one value
    if run >= 1 / 0.3:  # label objects: runs of equal values, mostly several pixels long
        return None
    distinct = np.unique(rows[nonzero]).size
    if distinct < 20:
        return None
    return (
        f"looks like an image, not labels: {distinct} distinct values on {nonzero.mean():.0%} "
        f"of its pixels, where one value runs {run:.1f} pixels on average (objects a pixel or "
        "two wide)"
    )


def _two_values(array: np.ndarray) -> int | None:
    """The one non-zero value of an array holding only 0 and it, else None."""
    if array.dtype.kind not in "biu" or not array.size:
        return None
    top = array.max()
    if top <= 0 or np.any((array != 0) & (array != top)):
        return None
    return int(top)


def mask_pieces(mask) -> tuple[np.ndarray, int]:
    """``(pieces, count)``: the connected pieces of the non-zero pixels of ``mask``, labelled
    1 to ``count``. Pixels that touch only at a corner are one piece (full connectivity: 8
    neighbours in 2D, 26 in 3D), so a thin object drawn diagonally, as a worm often is, is one
    object. The one rule for the pieces of a binary mask: the objects ``tessella evaluate
    --gt-binary`` (and the Evaluate panel's "binary mask") scores, and the pieces that
    :func:`binary_mask_pieces` counts for its notes and for the training's refusal of binary
    masks.

    >>> pieces, count = mask_pieces(np.array([[1, 0, 0, 1], [0, 1, 0, 1]]))  # a diagonal, a bar
    >>> pieces.tolist(), count
    ([[1, 0, 0, 2], [0, 1, 0, 2]], 2)
    """
    from scipy import ndimage

    on = np.asarray(mask) != 0
    pieces, count = ndimage.label(on, np.ones((3,) * on.ndim, bool))
    return pieces, int(count)


def binary_mask_pieces(labels, speck: float = 0.0) -> tuple[int, int] | None:
    """``(value, pieces)`` of labels holding only 0 and one value ``value`` (a binary mask
    taken for labels?), ``pieces`` the connected pieces of its non-zero pixels, else None.
    ``tessella evaluate`` notes such ground truth; the training of an instance method refuses
    such labels, which would teach every piece as part of one object.

    Pixels that touch only at a corner are one piece (:func:`mask_pieces`: full
    connectivity, as ``--gt-binary`` scores the pieces), so a thin object drawn diagonally,
    as a worm often is, is not counted as several. Pieces smaller than ``speck`` times the
    largest piece (a stray pixel of the annotation) are not counted.

    >>> binary_mask_pieces(np.array([[0, 1, 1, 0, 1]]))
    (1, 2)
    >>> binary_mask_pieces(np.array([[0, 1, 1, 0, 2]])) is None
    True
    >>> binary_mask_pieces(np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1]]))  # one diagonal line
    (1, 1)
    """
    labels = np.asarray(labels)
    value = _two_values(labels)
    if value is None:
        return None
    pieces, count = mask_pieces(labels)
    if speck and count > 1:
        sizes = np.bincount(pieces.ravel())[1:]
        count = int(np.count_nonzero(sizes >= speck * sizes.max()))
    return value, int(count)


def _sections(array: np.ndarray, count: int = 16) -> np.ndarray:
    """Up to ``count`` evenly spaced 2D planes (the last two axes) of ``array``."""
    planes = array.reshape(-1, *array.shape[-2:])
    return planes[np.unique(np.linspace(0, len(planes) - 1, min(count, len(planes))).astype(int))]


def _largest(objects: np.ndarray, counted: np.ndarray | None = None) -> tuple[int, int, float]:
    """``(n_objects, largest_id, its fraction of the counted pixels)`` of a label image."""
    values = objects if counted is None else objects[counted]
    values = np.asarray(values).ravel()
    if not values.size:
        return 0, 0, 0.0
    ids, sizes = np.unique(values, return_counts=True)
    sizes, ids = sizes[ids != 0], ids[ids != 0]
    if not ids.size:
        return 0, 0, 0.0
    k = int(np.argmax(sizes))
    return int(ids.size), int(ids[k]), float(sizes[k] / values.size)


def _hint(kind: str, what: str, flags: bool) -> str:
    """Advice to score the ground truth as ``kind`` (a key of :data:`GROUND_TRUTH_KINDS`):
    its ``tessella evaluate`` flag with ``flags``, else the ``kind`` and the flag."""
    flag = GROUND_TRUTH_KINDS[kind]
    if flags:
        return f"pass {flag} to {what}"
    return f"take it as kind={kind!r} to {what} (`tessella evaluate {flag}`)"


def mask_stack_reason(array) -> str | None:
    """Why an ``(N, Y, X)`` array looks like a stack of object masks (objects that may
    overlap, one per plane, as BBBC010's worm ground truth and ``tessella segment --stack``
    give them) rather than a volume or a time-lapse, or None.

    Each non-empty plane holds 0 and one value, in one or a few pieces, not in thin lines
    around many regions of 0 (a membrane map's sections: ISBI 2012's network is one piece per
    section, and thin membranes 50 nm apart hardly overlap either), and neighbouring planes
    hardly overlap (in a volume or a movie they mostly do).

    >>> stack = np.zeros((3, 8, 8), np.uint8)
    >>> stack[0, :2] = stack[1, 3:5] = stack[2, :, 6:] = 1
    >>> mask_stack_reason(stack)
    '3 planes, each holding one object (0 and one value) where its neighbours have none'
    >>> mask_stack_reason(np.ones((3, 8, 8), np.uint8)) is None  # a solid volume
    True
    """
    array = np.asarray(array)
    if array.ndim != 3 or array.dtype.kind not in "biu" or len(array) < 2:
        return None
    filled = [k for k, plane in enumerate(array) if plane.any()]
    return stack_reason_of(lambda k: array[k], filled, lambda k: _two_values(array[k]) is not None)


def stack_reason_of(
    plane: Callable[[int], np.ndarray],
    filled: Sequence[int],
    two_valued: Callable[[int], bool],
) -> str | None:
    """:func:`mask_stack_reason` of a 3D integer array (of 2 planes or more) given by its
    planes: ``plane(k)``, the ``k``-th (read only where the rest of the reasons need it),
    ``filled``, the planes holding a non-zero pixel, and ``two_valued(k)``, whether plane
    ``k`` holds only 0 and one positive value (a lazy stack's, tallied a piece at a time)."""
    from scipy import ndimage

    if len(filled) < 2:
        return None
    picked = np.unique(np.linspace(0, len(filled) - 1, min(16, len(filled))).astype(int))
    for k in picked:
        if not two_valued(filled[k]):  # (negative values, or two objects)
            return None
    cache: dict[int, np.ndarray] = {}

    def at(k: int) -> np.ndarray:
        if k not in cache:
            cache[k] = np.asarray(plane(filled[k]))
        return cache[k]

    planes = _Planes(at, len(filled))
    if np.median([ndimage.label(planes[k])[1] for k in picked]) > 3:
        return None
    if _membrane_cells(np.stack([planes[k] != 0 for k in picked])):
        return None  # thin lines around many regions in each plane: a membrane map's sections
    overlaps = []
    for k in np.unique(np.minimum(picked, len(planes) - 2)):
        a, b = planes[k] != 0, planes[k + 1] != 0
        overlaps.append(np.count_nonzero(a & b) / np.count_nonzero(a | b))
    if np.median(overlaps) >= 0.2:
        return None
    return (
        f"{len(planes)} planes, each holding one object (0 and one value) where its "
        "neighbours have none"
    )


class _Planes:
    """The non-empty planes of a stack, ``planes[k]`` read as asked for (``at(k)``)."""

    def __init__(self, at: Callable[[int], np.ndarray], count: int) -> None:
        self.at, self.count = at, count

    def __getitem__(self, k) -> np.ndarray:
        return self.at(int(k))

    def __len__(self) -> int:
        return self.count


def _mask_stack_note(array: np.ndarray, name: str, flags: bool) -> str | None:
    return mask_stack_words(mask_stack_reason(array), name, flags)


def mask_stack_words(reason: str | None, name: str, flags: bool) -> str | None:
    """The note on a side that looks like a stack of object masks for ``reason``
    (:func:`mask_stack_reason`'s), or None."""
    if reason is None:
        return None
    return (
        f"{name}: looks like an (N, Y, X) stack of object masks ({reason}): scored as "
        "labels (one volume, or frame by frame where its axes name T: each mask then only "
        "against the other side's frame of its index), its objects cannot match; "
        + _hint("overlapping", "score each plane as one object, overlaps allowed", flags)
    )


def membrane_map_labels_note(
    truth, name: str, ignore_label: int | None = None, flags: bool = True
) -> str | None:
    """Why the membrane map ``truth`` (taken as ``--gt-boundaries``: 0 = cell inside, one
    membrane value) looks like a label image instead (one line starting with ``name``), or
    None: integers of 3 or more distinct non-zero values (pixels of ``ignore_label`` not
    counted). A map without 0 has no cell to score: every score of it is undefined (or 0),
    as the prediction given as ground truth (the arguments swapped) scores.

    >>> labels = np.kron(np.arange(1, 17).reshape(4, 4), np.ones((8, 8), int))
    >>> note = membrane_map_labels_note(labels, "gt.tif")
    >>> "16 distinct values and no 0 (no cell to score): a label image? Are PRED and GT" in note
    True
    >>> membrane = np.zeros((64, 64), np.uint8); membrane[::8] = 255
    >>> membrane_map_labels_note(membrane, "gt.tif") is None
    True
    """
    truth = np.asarray(truth)
    if truth.dtype.kind not in "biu" or not truth.size:
        return None
    rows = _rows(truth)
    known = rows if ignore_label is None else rows[rows != ignore_label]
    values = np.unique(known)
    distinct = int(np.count_nonzero(values))
    if distinct < 3:
        return None
    zero = np.count_nonzero(known == 0) / max(known.size, 1)
    zeros = " and no 0 (no cell to score)" if not zero else f" ({zero:.0%} of its pixels 0)"
    if flags:
        hint = (
            "Are PRED and GT swapped (tessella evaluate PRED GT: the prediction first)? A "
            "label ground truth is scored without --gt-boundaries"
        )
    else:
        hint = (
            "Are the prediction and the ground truth swapped? Take it as kind='labels' to "
            "score its labels (`tessella evaluate` without --gt-boundaries)"
        )
    return (
        f"{name}: a membrane map holds 0 (the cells' insides) and one membrane value, but "
        f"this holds {distinct} distinct values{zeros}: a label image? {hint}"
    )


def ground_truth_note(
    truth,
    name: str,
    objects=None,
    kind: str = "labels",
    ignore_label: int | None = None,
    flags: bool = True,
) -> str | None:
    """Why the ground truth ``truth`` may not be what it was taken for (one line starting with
    ``name``), or None: scores of it would mean little.

    ``kind`` is what it was taken for: ``"labels"`` (instance labels), ``"binary"`` (a mask
    whose connected pieces are the objects), ``"boundaries"`` (a membrane map whose insides
    are the objects, per 2D section) or ``"boundaries3d"`` (insides connected in 3D);
    ``objects`` the objects made of it (``truth`` itself for labels). Pixels of
    ``ignore_label`` are not counted. Hints name the ``tessella evaluate`` options with
    ``flags`` (the command line), else the ``kind`` to take it as (of
    :func:`evaluate_labels` and :func:`evaluate_masks`) and its flag. Noted: an intensity image;
    labels holding only 0 and one value in a membrane-like network (``--gt-boundaries``) or
    in separate pieces (``--gt-binary``); a binary mask with many values (a label image?);
    and objects whose largest covers :data:`COLLAPSED_FRACTION` of the pixels.

    >>> membrane = np.zeros((64, 64), np.uint8); membrane[::8] = 1; membrane[:, ::8] = 1
    >>> print(ground_truth_note(membrane, "gt.tif")[:70])
    gt.tif: holds only 0 and 1, like a membrane map (1 in thin lines betwe
    >>> ground_truth_note(np.kron(np.arange(16).reshape(4, 4), np.ones((8, 8), int)), "gt.tif")
    """
    truth = np.asarray(truth)
    counted = None if ignore_label is None else truth != ignore_label
    known = truth if counted is None else np.where(counted, truth, 0)
    image = _intensities(known)
    if image:
        swapped = "are PRED and GT swapped?" if flags else "is it the image?"
        return f"{name}: the ground truth {image}: {swapped}"
    if kind in ("labels", "binary"):
        note = _mask_stack_note(known, name, flags)
        if note:
            return note
    if kind == "binary":
        note = many_values_note(np.unique(_rows(known)).size, name, flags)
        if note:
            return note
    elif kind == "labels":
        note = _two_valued_truth(known, name, flags)
        if note:
            return note
    objects = known if objects is None else np.asarray(objects)
    return collapsed_note(name, *_largest(objects, counted), kind, flags)


def many_values_note(distinct: int, name: str, flags: bool) -> str | None:
    """:func:`ground_truth_note`'s note on a binary mask holding ``distinct`` values (0
    counted) on the rows it judges: None for two or fewer, else a label image given as a
    mask? (``flags``: the hint names ``tessella evaluate``'s options).

    >>> many_values_note(2, "gt.tif", True)
    >>> print(many_values_note(4, "gt.tif", True)[:60])
    gt.tif: a binary mask with 3 distinct object values: a label
    """
    if distinct <= 2:
        return None
    labels = (
        "drop --gt-binary to score its labels"
        if flags
        else "take it as kind='labels' to score its labels (`tessella evaluate` "
        "without --gt-binary)"
    )
    return (
        f"{name}: a binary mask with {distinct - 1} distinct object values: a label "
        f"image? As a mask, objects that touch are joined into one; {labels}"
    )


def collapsed_note(
    name: str, count: int, largest: int, fraction: float, kind: str, flags: bool
) -> str | None:
    """:func:`ground_truth_note`'s note on objects (``count`` of them, as ``kind`` makes
    them) whose largest, ID ``largest``, covers ``fraction`` of the pixels: None below
    :data:`COLLAPSED_FRACTION`."""
    if fraction < COLLAPSED_FRACTION:
        return None
    size = (
        f"{count} object{'s' if count != 1 else ''}, the largest covering {fraction:.0%} of the "
        "pixels"
    )
    if kind == "boundaries3d":
        sections = (
            "without --gt-boundaries-3d each 2D section is scored on its own"
            if flags
            else _hint("boundaries", "score each 2D section on its own", flags)
        )
        return (
            f"{name}: the insides of the membrane map, connected in 3D, are {size}: in a map "
            "annotated section by section (as most EM ground truth) they join across sections; "
            + sections
        )
    if kind == "boundaries":
        return (
            f"{name}: the insides of the membrane map are {size}: is the membrane broken (gaps "
            "join the cells) or its polarity inverted (1 = membrane, 0 = inside)?"
        )
    if kind == "binary":
        return (
            f"{name}: the connected pieces of the mask are {size}: is it inverted (0 is "
            "background)? Objects that touch join in a mask; a label image keeps them apart"
        )
    return (
        f"{name}: the ground truth is {size} (ID {largest}): a label painted on the background? "
        "0 is background"
    )


def _membrane_cells(on: np.ndarray, sections: int = 16) -> float:
    """The mean number of regions of 0 per 2D section (of up to ``sections`` of them) when
    the foreground ``on`` is thin lines between many of them (a membrane map), else 0."""
    from scipy import ndimage

    planes = _sections(on, sections)  # cells of a membrane map are counted per 2D section
    cells = np.mean([ndimage.label(~plane)[1] for plane in planes])
    lines = np.mean([ndimage.label(plane)[1] for plane in planes])
    return membrane_cells_of(cells, lines)


def _two_valued_truth(known: np.ndarray, name: str, flags: bool) -> str | None:
    """The note on label ground truth holding only 0 and one value (see
    :func:`ground_truth_note`), or None."""
    binary = binary_mask_pieces(known)
    if binary is None:
        return None
    value, pieces = binary
    on = known != 0
    return two_valued_words(
        name, value, pieces, _membrane_cells(on), float(on.mean()), known.ndim, flags
    )


def two_valued_words(
    name: str, value: int, pieces: int, cells: float, on: float, ndim: int, flags: bool
) -> str | None:
    """:func:`_two_valued_truth`'s note on ground truth holding only 0 and ``value``, in
    ``pieces`` pieces (8 neighbours), with ``cells`` regions of 0 per section where it looks
    like a membrane map (:func:`_membrane_cells`, else 0), ``on`` the fraction of its pixels
    not 0, of ``ndim`` axes; or None."""
    if cells:
        per = " per section" if ndim > 2 else ""
        return (
            f"{name}: holds only 0 and {value}, like a membrane map ({value} in thin lines "
            f"between {cells:.0f} regions of 0{per}): as labels, its membrane is one object; "
            + _hint("boundaries", "score the regions between the lines as the objects", flags)
        )
    if pieces < 2:
        return None
    mostly = (
        f" (mostly {value} with lines of 0: a membrane map with 0 = membrane, whose pieces "
        "are its cells?)"
        if on > 0.5
        else ""
    )
    return (
        f"{name}: holds only 0 and {value}, in {pieces} separate pieces: a binary mask{mostly}? "
        f"As labels, every piece is one object (ID {value}); "
        + _hint("binary", "score each connected piece as an object", flags)
    )


def membrane_cells_of(cells: int, lines: int) -> float:
    """:func:`_membrane_cells` of a 2D foreground of ``lines`` pieces (4 neighbours) around
    ``cells`` regions of 0 (4 neighbours)."""
    return float(cells) if cells >= 10 and cells >= 5 * lines else 0.0


def prediction_note(predicted, name: str, flags: bool = True) -> str | None:
    """Why the prediction ``predicted`` does not look like labels (one line starting with
    ``name``), or None: an intensity image (the raw image given instead of its labels), an
    ``(N, Y, X)`` stack of object masks (:func:`mask_stack_reason`; ``flags``: the hint names
    ``--overlapping``, else ``kind='overlapping'`` and the flag), or a binary mask in 3 or
    more pieces (every piece one object of one ID).

    >>> rng = np.random.default_rng(0)
    >>> print(prediction_note(rng.integers(0, 4000, (64, 64)), "pred.tif")[:52])
    pred.tif: looks like an image, not labels: 2598 dist
    >>> prediction_note(np.kron(np.arange(16).reshape(4, 4), np.ones((8, 8), int)), "p") is None
    True
    """
    predicted = np.asarray(predicted)
    image = _intensities(predicted)
    if image:
        return f"{name}: {image}: segment the image and score its labels"
    stack = _mask_stack_note(predicted, name, flags)
    if stack:
        return stack
    binary = binary_mask_pieces(predicted)
    if binary is None:
        return None
    return binary_prediction_words(name, *binary)


def binary_prediction_words(name: str, value: int, pieces: int) -> str | None:
    """:func:`prediction_note`'s note on a prediction holding only 0 and ``value`` in
    ``pieces`` pieces (8 neighbours): None for fewer than 3."""
    if pieces < 3:
        return None
    return (
        f"{name}: holds only 0 and {value}, in {pieces} separate pieces: a binary mask, not "
        f"labels? Every piece counts as one object of ID {value}; give each its own ID (e.g. "
        "scipy.ndimage.label)"
    )
