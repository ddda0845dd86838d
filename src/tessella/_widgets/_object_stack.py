"""The objects of a 2D labels layer whole, overlaps kept (e.g. crossing worms): as Export
writes its mask stack and Evaluate scores a prediction against overlapping masks, and
measured whole (:func:`measure_stack`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from napari.layers import Labels

from . import _results

__all__ = [
    "follow_overlaps",
    "hidden_objects",
    "measure_stack",
    "network_instances",
    "network_stack",
    "object_stack",
    "overlaps_layer",
    "read_stack",
    "has_read_stack",
    "sync_overlaps",
    "uncovered",
]


@dataclass(frozen=True)
class _Stack:
    """A 2D labels layer's objects whole, overlaps kept: ``masks[n]`` is object ``ids[n]``."""

    masks: np.ndarray  # (N, Y, X) bool
    ids: np.ndarray  # (N,) label IDs
    source: str  # where the whole objects came from, for the status line
    #: ``boxes[n]``: a box (slices) outside which ``masks[n]`` is empty, where known
    boxes: tuple | None = None


def overlaps_layer(viewer, layer: Labels) -> Labels | None:
    """The "overlaps" layer Segment or Tune placed beside ``layer`` (objects hidden in part,
    each painted whole), when it fits them."""
    overlaps = _results.companion_layer(viewer, layer, "overlaps")
    if not isinstance(overlaps, Labels) or overlaps.data.shape != layer.data.shape:
        return None
    return overlaps


def network_instances(layer: Labels):
    """``(method, result)`` when ``layer`` holds a result whose method keeps overlapping
    objects (``instances``: patches) of one 2D image, else None."""
    from tessella.engine.methods import get_method

    result = _results.get(layer)
    if result is None or len(result.predictions) != 1 or result.labels.ndim != 2:
        return None
    name = getattr(getattr(result.model, "card", None), "method", None)
    try:
        method = get_method(name) if isinstance(name, str) else None
    except (KeyError, ValueError):
        return None
    return (method, result) if hasattr(method, "instances") and result.params is not None else None


def object_stack(
    viewer, layer: Labels, labels: np.ndarray, hidden: np.ndarray | None = None
) -> _Stack:
    """The objects of the 2D ``labels`` (of ``layer``) whole, overlaps kept, as Export writes
    its mask stack and Evaluate scores them against overlapping masks.

    * Labels as the network's result made them (after Tune too): its instances, what
      ``tessella segment --stack`` writes.
    * Labels edited since: each object of the labels as it is now, with the parts of it
      that other objects hid taken from the network (an object erased is left out, a
      part erased stays out, one painted in is taken as painted).
    * Whatever the source: no object lies where the labels show background (a pixel
      erased, or left empty where a deleted object lay on another, is background for every
      object), so the labels, the overlaps layer and Export always agree; Correct's
      Delete and napari's fill with 0 of the object on top show the one under it there
      instead (:func:`uncovered`, :func:`_show_gap`).
    * Labels read from a mask stack (the reader's ``tessella_read_stack``): that stack's
      objects, as for the network's result above (edited: with the hidden parts from it).
    * No network result or stack behind them (any more): each object of the labels with its
      hidden part from the "overlaps" layer beside them (where two hidden objects overlap
      each other, that layer shows one of them only; an object it alone shows, perhaps
      erased from the labels, is left out). ``hidden``: that layer's data as Segment or
      Tune wrote it with the user's own edits of it, where :func:`follow_overlaps` has
      redrawn the layer since.
    * Whatever the source: pixels painted into the "overlaps" layer by hand (the brush, the
      eraser, napari's fill there) count as shown: on such a pixel an object of the labels
      lies with the object painted there hidden under it, and no other
      (:func:`_with_hand_paint`), as for labels without a network result, whose hidden parts
      all come from that layer.
    """
    found = network_instances(layer)
    if found is not None:
        stack = network_stack(layer, labels, *found)
        if stack is not None:
            return _with_hand_paint(viewer, layer, labels, stack)
    stack = read_stack(layer, labels)
    if stack is not None:
        return _with_hand_paint(viewer, layer, labels, stack)
    if hidden is None or hidden.shape != labels.shape:
        overlaps = overlaps_layer(viewer, layer)
        hidden = None if overlaps is None else np.asarray(overlaps.data)
    under = set() if hidden is None else set(np.unique(hidden).tolist())
    ids = np.unique(labels[labels > 0])
    masks = np.zeros((ids.size, *labels.shape), bool)
    labelled = labels > 0  # (background in the labels is background for every object)
    for n, label in enumerate(ids.tolist()):
        masks[n] = labels == label
        if label in under:
            masks[n] |= (hidden == label) & labelled
    source = "the labels with their overlaps layer" if hidden is not None else "the labels"
    return _Stack(masks, ids, source)


def _with_hand_paint(viewer, layer: Labels, labels: np.ndarray, stack: _Stack) -> _Stack:
    """``stack`` (from a network result or a mask stack read) with what the user painted by
    hand into the "overlaps" layer beside ``layer`` since Segment or Tune wrote it
    (:class:`_OverlapsBase` keeps those pixels): on each such pixel the labels show, the
    object shown there and the object painted (none: erased) lie there, and no other
    object of the stack (the layer shows one hidden object a pixel). Pixels painted where
    the labels show background stay background for every object; an ID painted that is no
    object of the stack is left out. ``stack`` itself where nothing was painted by hand."""
    from ._result_cache import _key

    base = _OVERLAP_BASES.get(_key(layer))
    overlaps = overlaps_layer(viewer, layer)
    if base is None or overlaps is None or not isinstance(overlaps.data, np.ndarray):
        return stack
    base.follow(overlaps)  # (paint since the labels last changed)
    if isinstance(layer.data, np.ndarray) and layer.data.shape == labels.shape:
        base.renamed(np.asarray(layer.data))  # (IDs changed since: a hidden layer's undo)
    handed, hand = base.handed, overlaps.data
    if handed is None or handed.shape != labels.shape or hand.shape != labels.shape:
        return stack
    at = handed & (labels > 0)
    if not at.any():
        return stack
    rows, cols = np.nonzero(at)
    pages = {int(label): n for n, label in enumerate(stack.ids.tolist())}

    def page(values: np.ndarray) -> np.ndarray:  # (object ID -> its page; -1: none)
        return np.fromiter((pages.get(int(v), -1) for v in values.tolist()), np.int64, values.size)

    shown, painted = page(labels[rows, cols]), page(hand[rows, cols])
    masks = stack.masks
    if not (masks.flags.writeable and masks.flags.owndata):
        masks = np.array(masks)
    touched = np.unique(np.nonzero(masks[:, rows, cols])[0])
    masks[:, rows, cols] = False
    keep = shown >= 0
    masks[shown[keep], rows[keep], cols[keep]] = True
    gets = (painted >= 0) & (painted != shown)
    masks[painted[gets], rows[gets], cols[gets]] = True
    boxes = stack.boxes
    if boxes is not None:
        region = (
            slice(int(rows.min()), int(rows.max()) + 1),
            slice(int(cols.min()), int(cols.max()) + 1),
        )
        gained = set(painted[gets].tolist())
        boxes = tuple(_union([box, region]) if n in gained else box for n, box in enumerate(boxes))
    present = np.ones(len(masks), bool)  # (an object hidden whole, erased whole by hand: out)
    present[touched] = masks[touched].any(axis=(1, 2))
    source = f"{stack.source}, with {rows.size} px of its overlaps layer painted by hand"
    if present.all():
        return _Stack(masks, stack.ids, source, boxes)
    kept_boxes = None if boxes is None else tuple(b for b, k in zip(boxes, present) if k)
    return _Stack(masks[present], stack.ids[present], source, kept_boxes)


def _hidden_parts(
    labels: np.ndarray,
    hidden: np.ndarray,
    label: int,
    box: tuple,
    sizes,
    then: np.ndarray | None = None,
) -> dict:
    """The hidden part of object ``label`` of ``labels`` that ``hidden`` (the "overlaps"
    layer: objects hidden in part painted whole) gives it, in ``box`` (which holds
    ``hidden == label``): ``{object: pixels it gets in box}``. ``then``: the labels when
    ``hidden`` was written (by Segment or Tune): an object of the labels lying wholly where
    ``hidden`` paints ``label``, on pixels that were ``label``'s then (mostly), is a piece
    of it (Correct split it off, or a new ID was painted over it), not an object over it:
    its pixels are not ``label``'s, and the pixels other objects hide go to the piece they
    continue (flooded through ``label``'s whole mask from its pieces as shown, as Correct's
    split and Export's stack of a result do: :func:`_share_hidden`). Without ``then``, no
    object is taken for a piece. Background in the labels is background for every object.
    ``sizes(object)``: its number of pixels in ``labels`` (:class:`_Sizes`)."""
    whole = hidden[box] == label
    here = labels[box]
    shown = here == label
    hid = whole & (here > 0) & ~shown
    if not hid.any():
        return {}
    pieces = []
    if then is not None and then.shape == labels.shape:
        was = then[box] == label
        inside, on_mask = np.unique(here[hid], return_counts=True)
        for other, count in zip(inside.tolist(), on_mask.tolist()):
            if count != sizes(int(other)):  # (not wholly on ``label``'s mask)
                continue
            if 2 * np.count_nonzero(was & (here == other)) > count:  # (``label``'s then)
                pieces.append(int(other))
    if not pieces:
        return {label: hid}
    hid &= ~np.isin(here, pieces)
    if not shown.any():
        return {pieces[0]: hid} if len(pieces) == 1 else _flooded(here, whole, pieces, hid)
    return _flooded(here, whole, [label, *pieces], hid)


class _Sizes:
    """The number of pixels of each object of integer ``labels``, counted over the image
    once, the first time one is asked for (only where an object has a hidden part)."""

    def __init__(self, labels: np.ndarray) -> None:
        self.labels = labels
        self.counts: dict[int, int] | None = None

    def __call__(self, label: int) -> int:
        if self.counts is None:
            flat = self.labels.ravel()
            low, high = int(flat.min(initial=0)), int(flat.max(initial=0))
            if low >= 0 and high <= 4 * flat.size + 65536:  # (a bincount: ~1 ms a megapixel)
                counts = np.bincount(flat)
                ids = np.flatnonzero(counts)
                self.counts = dict(zip(ids.tolist(), counts[ids].tolist()))
            else:
                ids, counts = np.unique(flat, return_counts=True)
                self.counts = dict(zip(ids.tolist(), counts.tolist()))
        return self.counts.get(label, 0)


def _flooded(here: np.ndarray, whole: np.ndarray, pieces: list, hid: np.ndarray) -> dict:
    """``{piece: the pixels of hid it reaches first}``, flooding ``whole`` (and the pieces)
    from each of ``pieces`` as ``here`` shows them; pixels none reaches go to the first."""
    from skimage.segmentation import watershed

    markers = np.zeros(here.shape, np.int32)
    for n, piece in enumerate(pieces, start=1):
        markers[here == piece] = n
    flooded = watershed(np.zeros(here.shape, np.uint8), markers, mask=whole | (markers > 0))
    out = {}
    for n, piece in enumerate(pieces, start=1):
        gets = hid & ((flooded == n) | ((flooded == 0) & (n == 1)))
        if gets.any():
            out[piece] = gets
    return out


def network_stack(layer, labels: np.ndarray, method, result) -> _Stack | None:
    """:func:`object_stack` from ``method.instances`` of ``result``, with the parameters
    of the labels on screen; None when these labels are not (edits of) that result's."""
    from tessella.engine.params import make_params

    recipe, _reproduces = _results.recipe_on_screen(layer)
    params = result.params
    recorded = recipe.get("params") if isinstance(recipe, dict) else None
    if isinstance(recorded, dict):
        try:
            params = make_params(method.Params, **recorded)
        except (TypeError, ValueError):
            return None
    prediction = result.predictions[0]
    masks = np.asarray(method.instances(prediction, params), bool)
    if masks.ndim != 3 or masks.shape[1:] != labels.shape or labels.dtype.kind not in "iu":
        return None
    labelled = labels > 0
    rows, cols = np.nonzero(labelled)
    ids = labels[rows, cols].astype(np.int64)
    fits = ids <= len(masks)
    if fits.all() and np.array_equal(masks.any(axis=0), labelled):
        if masks[ids - 1, rows, cols].all():  # object k in mask k - 1: the result itself
            return _Stack(masks, np.arange(1, len(masks) + 1), "the network's instances")
    # edited: what the labels were (object k where it showed), to tell the hidden parts
    before = np.asarray(method.postprocess(prediction, params))
    return _edited_stack(labels, masks, before, "the network")


def has_read_stack(layer) -> bool:
    """Whether ``layer`` holds labels the reader opened from a mask stack it keeps (their
    objects may overlap, whether or not the "overlaps" layer is still in the viewer)."""
    from tessella._io import READ_STACK_KEY
    from tessella.engine.io import MaskCrops

    kept = layer.metadata.get(READ_STACK_KEY)
    return isinstance(kept, MaskCrops) and kept.shape[1:] == tuple(layer.data.shape)


def read_stack(layer, labels: np.ndarray) -> _Stack | None:
    """:func:`object_stack` of labels the reader opened from a mask stack, from that stack:
    the stack itself while the labels are as read, else each object as the labels hold it
    with its hidden parts from the stack; None when the layer was not read from a stack,
    or its labels are no longer (edits of) the stack's."""
    from tessella._io import READ_STACK_KEY
    from tessella.engine.io import MaskCrops, mask_stack_labels, masks_from_crops

    kept = layer.metadata.get(READ_STACK_KEY)
    if not isinstance(kept, MaskCrops) or kept.shape[1:] != labels.shape:
        return None
    masks = masks_from_crops(kept)
    before = mask_stack_labels(masks)[0]
    if np.array_equal(before, labels):
        return _Stack(masks, np.arange(1, len(masks) + 1), "the mask stack it was read from")
    return _edited_stack(labels, masks, before, "the mask stack it was read from")


def _edited_stack(
    labels: np.ndarray, masks: np.ndarray, before: np.ndarray, origin: str
) -> _Stack | None:
    """The objects of ``labels``, edits of ``before`` (object k where ``masks[k - 1]``
    showed), whole: each as the labels hold it, with the parts of it that other objects hid
    in ``before`` from ``masks`` (an object erased is left out, a part erased stays out, one
    painted in is taken as painted); an object ``before`` hid whole, which no edit could
    reach, stays whole where the labels cover it. Background in the labels is background
    for every object, those hidden there too, so the labels show no gap over a hidden one:
    pixels erased from an object, and those of an object erased whole (Correct's Delete and
    napari's fill with 0 show the objects under it there instead, :func:`uncovered`,
    :func:`_show_gap`, so background there is an object shown, then erased). None when most
    pixels differ from ``before``.

    Each object of ``before`` is followed to the object of the labels most of its pixels
    are now (its own ID while that object is mostly its pixels): renumbered (Relabel 1..N)
    it keeps its hidden parts under its new ID; merged into another, that one gets them;
    deleted or erased (mostly background now), they go.

    Painting one object over another where ``masks`` hold both (a crossing: object j
    painted where k showed, and ``masks`` had j there too) only chooses which shows on top:
    k keeps those pixels, now hidden. Painted where ``masks`` did not have j (a real
    repaint, or a new ID), or erased, k loses them."""
    if before.shape != labels.shape:
        return None
    n = len(masks)
    labelled = labels > 0
    dest = _followed(labels, before, masks)  # object k of ``before`` is now dest[k]
    valid = (before > 0) & (before <= n)
    now_ids = labels[labelled].astype(np.int64)
    was = np.where(valid, before, 0)[labelled].astype(np.int64)
    if 2 * np.count_nonzero(dest[was] == now_ids) < now_ids.size:
        return None  # not these labels' result (most pixels differ)
    shown = np.zeros(n + 1, bool)
    shown[np.unique(before[valid])] = True
    present = set(np.unique(now_ids).tolist())
    taken = set(dest[1:][shown[1:]].tolist())
    top = max(max(present, default=0), n)
    for k in range(1, n + 1):  # hidden whole: its own ID, a new one where it names another
        if not shown[k] and masks[k - 1].any():
            if k in present and k in taken:  # (renumbered: k is another object's ID now)
                top += 1
                dest[k] = top
            else:
                dest[k] = k
    found = np.union1d(np.fromiter(present, np.int64, len(present)), dest[dest > 0])
    # pixels where object j now shows over object k that showed there, both in ``masks``
    rows, cols = np.nonzero(labelled & valid & (labels != before))
    now = labels[rows, cols].astype(np.int64)
    was = before[rows, cols].astype(np.int64)
    covered = np.zeros(now.shape, bool)  # j (an object of ``masks`` it now is) there too
    for source in (np.flatnonzero(dest[1:]) + 1).tolist():
        at = now == dest[source]
        covered[at] |= masks[source - 1, rows[at], cols[at]]
    covered &= masks[was - 1, rows, cols] & (dest[was] > 0) & (dest[was] != now)
    kept = np.zeros(labels.shape, np.int64)  # the object that keeps a pixel, hidden there
    kept[rows[covered], cols[covered]] = dest[was[covered]]
    # each object in its box only (the union of its boxes in the labels, in ``kept`` and
    # in the masks it takes its hidden parts from): not the whole image per object
    own = _label_boxes(labels, found)
    hid = _label_boxes(kept, found)
    in_masks = _mask_boxes(masks)
    stack = np.zeros((found.size, *labels.shape), bool)
    boxes: list = []
    whole = np.zeros(found.size, bool)  # (a hidden object erased whole: out)
    for i, label in enumerate(found.tolist()):
        sources = (np.flatnonzero(dest[1:] == label) + 1).tolist()
        box = _union([own[i], hid[i], *(in_masks[source - 1] for source in sources)])
        boxes.append(box)
        if box is None:
            continue
        plane = stack[i][box]  # (a view)
        plane[...] = (labels[box] == label) | (kept[box] == label)
        for source in sources:
            plane |= masks[source - 1][box] & (before[box] != source) & labelled[box]
        whole[i] = plane.any()
    _share_hidden(stack, boxes, found, labels, masks, before, dest, shown, in_masks)
    if not whole.all():
        stack = stack[whole]
    kept_boxes = tuple(box for box, keep in zip(boxes, whole) if keep)
    source = f"the edited labels, hidden parts from {origin}"
    return _Stack(stack, found[whole], source, kept_boxes)


def _share_hidden(
    stack: np.ndarray,
    boxes: list,
    found: np.ndarray,
    labels: np.ndarray,
    masks: np.ndarray,
    before: np.ndarray,
    dest: np.ndarray,
    shown: np.ndarray,
    in_masks: list,
) -> None:
    """An object of ``before`` split into pieces since (Correct's split gives its shown
    pixels new IDs): its hidden pixels (those of ``masks`` others hid) go to the piece they
    continue, flooded through its whole mask from the pieces as shown, the rule the split
    itself follows for a part apart, not all to the piece that kept its ID (hidden pixels
    no piece reaches through the mask stay with it). In place, ``boxes[n]`` (the box of
    ``stack[n]``) widened where a piece gets pixels outside it; ``in_masks``: the box of each
    of ``masks`` (:func:`_mask_boxes`), so an object without hidden pixels costs its box."""
    from skimage.segmentation import watershed

    row = {int(label): i for i, label in enumerate(found.tolist())}
    others = {int(d) for d in dest[1:][shown[1:]].tolist()}
    for source in (np.flatnonzero(shown[1:]) + 1).tolist():
        keeper = int(dest[source])
        own = in_masks[source - 1]
        if keeper <= 0 or keeper not in row or own is None:
            continue
        hidden_here = (
            masks[source - 1][own]
            & (before[own] != source)
            & (labels[own] > 0)
            & stack[row[keeper]][own]
        )
        if not hidden_here.any():
            continue
        mask = masks[source - 1]
        hidden = np.zeros(mask.shape, bool)
        hidden[own] = hidden_here
        at = before == source
        pieces = [
            int(v)
            for v in np.unique(labels[at]).tolist()
            if v > 0 and (v == keeper or v not in others) and int(v) in row
        ]
        if len(pieces) < 2:
            continue
        box = _union(_mask_boxes(mask[None]) + _mask_boxes(at[None]))
        markers = np.zeros(mask[box].shape, np.int32)
        for n, piece in enumerate(pieces, start=1):
            markers[at[box] & (labels[box] == piece)] = n
        flooded = watershed(np.zeros(markers.shape, np.uint8), markers, mask=mask[box] | at[box])
        share = hidden[box]
        for n, piece in enumerate(pieces, start=1):
            if piece == keeper:
                continue
            given = share & (flooded == n)
            if given.any():
                stack[row[keeper]][box][given] = False
                stack[row[piece]][box][given] = True
                boxes[row[piece]] = _union([boxes[row[piece]], box])


def _label_boxes(labels: np.ndarray, ids: np.ndarray) -> list:
    """The box (slices) of each of ``ids`` in ``labels`` (None: not there)."""
    from scipy import ndimage

    top = int(ids.max(initial=0))
    if top < 1 or labels.dtype.kind not in "iu":
        return [None] * len(ids)
    if top > 4 * labels.size + 65536:  # (IDs too large to index boxes by: the whole image)
        full = tuple(slice(0, n) for n in labels.shape)
        return [full] * len(ids)
    found = ndimage.find_objects(labels, max_label=top)  # (IDs above top: not looked at)
    return [found[k - 1] if k >= 1 else None for k in ids.tolist()]


def _mask_boxes(masks: np.ndarray) -> list:
    """The box (slices) of each of the 2D ``masks`` (None: empty)."""
    rows = np.asarray(masks.any(axis=2))
    cols = np.asarray(masks.any(axis=1))
    boxes: list = []
    for r, c in zip(rows, cols):
        ys, xs = np.flatnonzero(r), np.flatnonzero(c)
        boxes.append(
            (slice(int(ys[0]), int(ys[-1]) + 1), slice(int(xs[0]), int(xs[-1]) + 1))
            if ys.size
            else None
        )
    return boxes


def _union(boxes: list):
    """The smallest box holding ``boxes`` (those not None), or None."""
    boxes = [box for box in boxes if box is not None]
    if not boxes:
        return None
    return tuple(
        slice(min(b[a].start for b in boxes), max(b[a].stop for b in boxes))
        for a in range(len(boxes[0]))
    )


def _followed(labels: np.ndarray, before: np.ndarray, masks: np.ndarray) -> np.ndarray:
    """``dest``: object k (1..n) of ``before`` is object ``dest[k]`` of ``labels`` (0: gone,
    mostly background now, or not shown in ``before``): its own ID where the labels' object
    k is mostly where k was, else the value most of its pixels hold now (an object of
    ``masks`` that lay under k there only shows: not counted)."""
    n = len(masks)
    rows, cols = np.nonzero((before > 0) & (before <= n))
    was = before[rows, cols].astype(np.int64)
    now = labels[rows, cols].astype(np.int64)
    dest = np.zeros(n + 1, np.int64)
    if not was.size:
        return dest
    # the value most pixels of each object of ``before`` hold now, but an object under it
    inside = (now > 0) & (now <= n) & (now != was)
    under = np.zeros(now.shape, bool)
    under[inside] = masks[now[inside] - 1, rows[inside], cols[inside]]
    span = int(now.max()) + 1
    keys, counts = np.unique(was[~under] * span + now[~under], return_counts=True)
    if not keys.size:
        return dest
    order = np.lexsort((-counts, keys // span))
    first = np.r_[True, np.diff(keys[order] // span) > 0]
    best = order[first]
    dest[keys[best] // span] = keys[best] % span
    # where most of object k of the labels was k before, k is still k (painted over in part)
    mine = (now == was) & (now > 0)
    same = np.bincount(now[mine], minlength=n + 1)[: n + 1]
    labelled = now > 0
    total = np.bincount(now[labelled], minlength=n + 1)[: n + 1]
    own = (2 * same > total) & (total > 0)
    own[0] = False
    dest[own] = np.flatnonzero(own)
    return dest


def hidden_objects(stack: _Stack, labels: np.ndarray, dtype=None) -> np.ndarray:
    """What the "overlaps" layer beside ``labels`` shows for the objects ``stack`` holds
    whole: each object the labels hide in part painted whole with its ID (the smaller on
    top where two cross), as :func:`._companions.overlap_labels` paints a network's result;
    zeros when none is hidden."""
    out = np.zeros(labels.shape, labels.dtype if dtype is None else dtype)
    boxes: list | tuple | None = stack.boxes
    if boxes is None or len(boxes) != len(stack.masks) or labels.ndim != 2:
        boxes = _mask_boxes(stack.masks) if labels.ndim == 2 else [Ellipsis] * len(stack.ids)
    sizes = [
        0 if box is None else int(np.count_nonzero(m[box])) for m, box in zip(stack.masks, boxes)
    ]
    for n in np.argsort(np.asarray(sizes, np.int64), kind="stable"):  # (each in its box)
        box, label = boxes[n], int(stack.ids[n])
        if box is None:
            continue
        mask = stack.masks[n][box]
        if (mask & (labels[box] != label)).any():
            region = out[box]  # (a view)
            region[mask & (region == 0)] = label
    return out


def uncovered(viewer, layer: Labels, indices: tuple, values: np.ndarray) -> np.ndarray:
    """The ``values`` an edit writes at ``indices`` of 2D labels (of ``layer``, before the
    edit), with each background pixel it writes where another object of the labels' stack
    (:func:`object_stack`, what Export writes) lies under the one it removes given to the
    top one of those objects instead: deleting the worm on top of a crossing shows the worm
    under it there, not a gap. Top as Segment paints them: the smaller object whole over the
    larger (ties: the later). Objects the edit removes from the labels entirely (deleted,
    removed as small) are never shown again; an object kept hidden whole is. ``values``
    unchanged where the labels have no overlapping objects (or are not 2D)."""
    labels = layer.data
    values = np.asarray(values)
    zero = values == 0
    if not isinstance(labels, np.ndarray) or labels.ndim != 2 or not zero.any():
        return values
    if (
        network_instances(layer) is None
        and not has_read_stack(layer)
        and overlaps_layer(viewer, layer) is None
    ):
        return values
    overlaps = overlaps_layer(viewer, layer)
    hidden = None if overlaps is None else np.asarray(overlaps.data)
    if hidden is not None and _in_boxes(layer, labels, hidden):
        return _uncovered_by(labels, hidden, indices, values, zero)
    stack = object_stack(viewer, layer, labels)
    if not len(stack.ids):
        return values
    after = labels.copy()
    after[indices] = values
    gone = np.setdiff1d(np.unique(labels[labels > 0]), np.unique(after[after > 0]))
    rows, cols = (np.asarray(i)[zero] for i in indices)
    was = labels[rows, cols]
    out = values.copy()
    shown = np.zeros(rows.shape, out.dtype)
    sizes = stack.masks.reshape(len(stack.masks), -1).sum(axis=1)
    for n in np.argsort(-sizes, kind="stable"):  # larger first: the smaller ends on top
        label = int(stack.ids[n])
        if label in gone:
            continue
        under = stack.masks[n][rows, cols] & (was != label)
        shown[under] = label
    out[zero] = shown
    return out


def _uncovered_by(
    labels: np.ndarray, hidden: np.ndarray, indices: tuple, values: np.ndarray, zero
) -> np.ndarray:
    """:func:`uncovered` of labels whose objects have their hidden parts from ``hidden``
    (no network result, no mask stack): on each pixel at most one object lies under the one
    shown, the one ``hidden`` holds, so no stack of the objects is built."""
    rows, cols = (np.asarray(i)[zero] for i in indices)
    was = labels[rows, cols]
    under = hidden[rows, cols]
    under = np.where(under != was, under, 0)
    after = labels.copy()
    after[indices] = values
    # shown: an object of the labels before the edit that the edit leaves in them
    shown = [
        v
        for v in np.unique(under[under > 0]).tolist()
        if np.any(labels == v) and np.any(after == v)
    ]
    out = values.copy()
    out[zero] = np.where(np.isin(under, shown), under, 0).astype(out.dtype)
    return out


def _checksum(data: np.ndarray) -> int:
    """A cheap fingerprint of in-memory labels (about 1 ms for a 520x696 worm image)."""
    import zlib

    return zlib.crc32(memoryview(np.ascontiguousarray(data)).cast("B")) ^ hash(data.shape)


#: labels layer key -> the callable that redraws its "overlaps" layer if its labels changed
_OVERLAP_FOLLOWERS: dict = {}
#: labels layer key -> its follower's :class:`_OverlapsBase` (what was painted there by hand)
_OVERLAP_BASES: dict = {}


def follow_overlaps(viewer, labels_layer: Labels) -> None:
    """Redraw the "overlaps" layer beside 2D labels after every change of them that no tool
    drew the overlaps of: Correct's edits, painting, filling and erasing on the canvas,
    Ctrl+Z and Shift+Ctrl+Z, Correct's Undo and Redo. The layer then shows the hidden parts
    of each object as Export writes its stack and Evaluate scores it (:func:`object_stack`):
    a deleted object leaves it, merged objects show as one, an undo brings them back.
    Segment and Tune draw the overlaps of the labels they write (new data, or a step
    written by :func:`._labels_states.write_labels`): left to them. Nothing while the
    labels are unchanged (a checksum, looked at when napari announces a new step, a redraw
    as after an undo, or the layer shown again); a redraw rewrites the layer's pixels only
    where the hidden objects changed, so the user's own edits of the layer elsewhere and its
    undo history stay (:class:`_OverlapsBase`). Connecting twice connects once."""
    from ._labels_states import tool_is_writing
    from ._result_cache import _key

    if _key(labels_layer) in _OVERLAP_FOLLOWERS or labels_layer.ndim != 2:
        return
    if overlaps_layer(viewer, labels_layer) is None:
        return

    def checksum() -> int | None:
        data = labels_layer.data
        return _checksum(data) if isinstance(data, np.ndarray) and data.ndim == 2 else None

    seen = [checksum()]
    pending = [False]  # a step announced before napari wrote it (a paint outside a stroke)
    announced: list = [None]  # the last step napari announced (events.paint's value)
    # the overlaps layer as Segment or Tune last wrote it with the user's own edits of it
    # since (what labels without a network result take their hidden parts from)
    base = _OverlapsBase(labels_layer)
    base.take(overlaps_layer(viewer, labels_layer))

    def look(step: bool = False) -> bool:
        now = checksum()
        if now is None or now == seen[0]:
            return False
        seen[0] = now
        if not tool_is_writing(labels_layer.unique_id):  # (Segment and Tune draw their own)
            redraw(step)
        return True

    def redraw(step: bool = False) -> None:
        shown = overlaps_layer(viewer, labels_layer)
        if shown is None or not isinstance(shown.data, np.ndarray):
            return
        labels = np.asarray(labels_layer.data)
        kept = base.follow(shown)  # (the user's edits of the layer since taken into it)
        base.renamed(labels)  # (what was painted there by hand follows its objects' IDs)
        made = announced[0] if step else None  # (the step napari's paint event carried)
        if made is not None and _erased_whole(labels_layer, made):  # (a worm erased whole)
            if _in_boxes(labels_layer, labels, kept):
                # what the layer shows for the labels before the step (their edits taken in:
                # a worm split since shows its pieces), as Correct's Delete reads it
                # (:func:`uncovered`), not ``kept``, the layer as the tool wrote it (s35: a
                # fill deleting the worm over a split one showed the split one unsplit)
                gap = _show_gap(labels_layer, made, None, np.asarray(shown.data))
            else:  # (the stack of the labels before the step: what lay under it there)
                gap = _show_gap(
                    labels_layer,
                    made,
                    lambda before: object_stack(viewer, labels_layer, before, kept),
                )
            if gap:
                seen[0] = checksum()
                labels_layer.refresh()  # (seen: not taken for another change)
                labels = np.asarray(labels_layer.data)
        dtype = np.promote_types(shown.data.dtype, labels.dtype)
        hidden = _hidden_now(viewer, labels_layer, labels, kept, dtype, base.boxes, base.then)
        base.redrawn(shown, hidden)

    def on_paint(event=None) -> None:  # a new step: Correct, a brush stroke, a fill
        announced[0] = getattr(event, "value", None)  # (napari 0.9: the step, a list of atoms)
        pending[0] = not look(step=True)

    def on_labels_update(event=None) -> None:  # napari wrote a step it announced before
        if pending[0]:
            pending[0] = not look(step=True)

    def on_new_data(event=None) -> None:  # Segment, Tune: they show the overlaps themselves
        seen[0] = checksum()
        pending[0] = False

    def refreshed(event=None) -> None:  # an undo or redo; a layer shown again
        if look(step=pending[0]):  # (or the redraw of a step announced before, a fill's)
            pending[0] = False

    events = labels_layer.events
    labels_update = getattr(events, "labels_update", None)
    connected = [(events.paint, on_paint), (events.data, on_new_data)]
    connected += [(events.set_data, refreshed), (events.visible, refreshed)]
    if labels_update is not None:
        connected.append((labels_update, on_labels_update))

    def forget(event) -> None:  # the labels left the viewer: let go of them
        if getattr(event.value, "unique_id", None) != labels_layer.unique_id:
            return
        _OVERLAP_FOLLOWERS.pop(_key(labels_layer), None)
        _OVERLAP_BASES.pop(_key(labels_layer), None)
        base.release()
        for emitter, callback in connected:
            emitter.disconnect(callback)
        viewer.layers.events.removed.disconnect(forget)

    for emitter, callback in connected:
        emitter.connect(callback)
    viewer.layers.events.removed.connect(forget)
    _OVERLAP_FOLLOWERS[_key(labels_layer)] = refreshed
    _OVERLAP_BASES[_key(labels_layer)] = base


def _hidden_now(
    viewer, layer: Labels, labels: np.ndarray, kept: np.ndarray, dtype, boxes=None, then=None
) -> np.ndarray:
    """``hidden_objects(object_stack(viewer, layer, labels, hidden=kept), labels, dtype)``:
    what the overlaps layer shows now. Labels without a network result or mask stack behind
    them (each object of the labels with its hidden part from ``kept``) are done object by
    object in the box of each that ``kept`` holds, never a stack of every object over the
    whole image (review r2, finding 4: 307 ms and 139 MB an edit for 128 worms on 1024²).
    ``then``: the labels when ``kept`` was written (the pieces of a split object hidden in
    part get the hidden pixels they continue: :func:`_hidden_parts`)."""
    if _in_boxes(layer, labels, kept):
        out = _hidden_in_boxes(labels, kept, dtype, boxes, then)
        if out is not None:
            return out
    stack = object_stack(viewer, layer, labels, hidden=kept)
    return hidden_objects(stack, labels, dtype)


def _in_boxes(layer: Labels, labels: np.ndarray, hidden: np.ndarray) -> bool:
    """Whether the objects of ``labels`` (of ``layer``) are those of the labels with their
    hidden parts from ``hidden`` (neither a network result nor a mask stack behind them),
    integer IDs: what the follower can work out object by object, or pixel by pixel."""
    return (
        network_instances(layer) is None
        and not has_read_stack(layer)
        and hidden.shape == labels.shape
        and labels.dtype.kind in "iu"
        and hidden.dtype.kind in "iu"
    )


def _hidden_in_boxes(
    labels: np.ndarray,
    hidden: np.ndarray,
    dtype,
    boxes: tuple | None = None,
    then: np.ndarray | None = None,
) -> np.ndarray | None:
    """:func:`hidden_objects` of the objects of ``labels`` each with its hidden part from
    ``hidden`` (:func:`object_stack` without a network result), object by object in its box:
    only the objects ``hidden`` holds can be hidden in part. None where the IDs are too large
    for boxes indexed by ID (``scipy.ndimage.find_objects``). ``boxes``: a pair of
    :class:`_Boxes` that keep the boxes of ``labels`` and ``hidden`` between calls (found
    again only where the arrays changed since), else each is looked for over the image.
    ``then``: the labels when ``hidden`` was written, to tell the pieces Correct split off an
    object hidden in part (:func:`_hidden_parts`)."""
    from scipy import ndimage

    out = np.zeros(labels.shape, dtype)
    top = int(hidden.max(initial=0))
    if top < 1:
        return out
    if top > 4 * hidden.size + 65536 or int(hidden.min(initial=0)) < 0:
        return None
    in_hidden = None if boxes is None else boxes[1].of(hidden)
    if in_hidden is None:
        in_hidden = ndimage.find_objects(hidden)
    candidates = [k + 1 for k, box in enumerate(in_hidden) if box is not None]
    top_labels = min(int(labels.max(initial=0)), top)
    if top_labels < 1:
        return out
    if int(labels.min(initial=0)) < 0:
        return None
    in_labels = None if boxes is None else boxes[0].of(labels)
    if in_labels is None:
        in_labels = ndimage.find_objects(labels, max_label=top_labels)
    drawn = []  # (size, label, box, mask): the objects hidden in part
    sizes = _Sizes(labels)
    for label in candidates:
        own = in_labels[label - 1] if label <= min(top_labels, len(in_labels)) else None
        if own is None:  # (not in the labels: left out)
            continue
        box = tuple(
            slice(min(a.start, b.start), max(a.stop, b.stop))
            for a, b in zip(own, in_hidden[label - 1])
        )
        # (a piece split off it gets the hidden pixels it continues: _hidden_parts)
        for part, gets in _hidden_parts(labels, hidden, label, box, sizes, then).items():
            if not gets.any():
                continue
            mask = (labels[box] == part) | gets
            # (its size whole, as object_stack's mask: it has no pixel outside these boxes)
            drawn.append((int(np.count_nonzero(mask)), part, box, mask))
    drawn.sort(key=lambda item: (item[0], item[1]))  # smaller first: on top; ties by ID
    for _size, label, box, mask in drawn:
        region = out[box]
        region[mask & (region == 0)] = label
    return out


class _Boxes:
    """The boxes of the objects of an integer image (as ``scipy.ndimage.find_objects`` gives
    them: ``boxes[k - 1]`` for ID k, None where absent), kept between calls: the image is
    compared with a copy of it as last seen, and only the IDs on the pixels that changed are
    looked for again, each in its old box and the changed pixels' box (the overlaps follower
    after a brush dab: not a pass of find_objects over the whole image)."""

    def __init__(self) -> None:
        self.seen: np.ndarray | None = None
        self.boxes: list = []

    def of(self, image: np.ndarray) -> list | None:
        """The boxes of ``image``'s objects now; None where an ID is negative or too large
        to index boxes by (left to the caller)."""
        from scipy import ndimage

        seen = self.seen
        if int(image.max(initial=0)) > 4 * image.size + 65536 or int(image.min(initial=0)) < 0:
            self.seen = None
            return None
        if seen is None or seen.shape != image.shape or seen.dtype != image.dtype:
            self.boxes = list(ndimage.find_objects(image))
            self.seen = np.array(image)
            return self.boxes
        changed = image != seen
        rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
        if not rows.size:
            return self.boxes
        window = (slice(int(rows[0]), int(rows[-1]) + 1), slice(int(cols[0]), int(cols[-1]) + 1))
        inside = changed[window]
        ids = np.union1d(seen[window][inside], image[window][inside])
        ids = ids[ids > 0].tolist()
        if ids and ids[-1] > len(self.boxes):
            self.boxes.extend([None] * (int(ids[-1]) - len(self.boxes)))
        for label in ids:
            region = _union([self.boxes[label - 1], window])
            here = image[region] == label
            ys, xs = np.flatnonzero(here.any(axis=1)), np.flatnonzero(here.any(axis=0))
            if ys.size:
                y0, x0 = region[0].start, region[1].start
                self.boxes[label - 1] = (
                    slice(y0 + int(ys[0]), y0 + int(ys[-1]) + 1),
                    slice(x0 + int(xs[0]), x0 + int(xs[-1]) + 1),
                )
            else:
                self.boxes[label - 1] = None
        while self.boxes and self.boxes[-1] is None:  # (as find_objects: up to the top ID)
            self.boxes.pop()
        seen[window][inside] = image[window][inside]
        return self.boxes


def _erased_whole(layer: Labels, step) -> bool:
    """Whether napari's history ``step`` (the value of the paint event that announced it)
    took an object off ``layer``'s labels whole (what :func:`_show_gap` looks at): counted
    on the pixels the step changed only. True where that step cannot be read (left to
    :func:`_show_gap`, which says so)."""
    labels = layer.data
    if not isinstance(labels, np.ndarray) or labels.ndim != 2:
        return False
    old = _step_old_values(step) if isinstance(step, list) else None
    if old is None:
        return True
    for label in np.unique(old[old > 0]).tolist():
        # gone whole: none of it left in the labels (it had pixels only where the step wrote)
        if not np.any(labels == label):
            return True
    return False


def _step_old_values(step: list) -> np.ndarray | None:
    """The values napari's history ``step`` took off the labels (those of the pixels it
    wrote), or None where an atom is of a kind not known here (:func:`_before_step`)."""
    old = [np.zeros(0, np.int64)]
    for atom in step:
        if hasattr(atom, "slice_key") and hasattr(atom, "old_values"):  # a masked paint
            old.append(np.asarray(atom.old_values).ravel())
        elif type(atom) is tuple and len(atom) == 3:  # data_setitem's
            old.append(np.asarray(atom[1]).ravel())
        else:
            return None
    return np.concatenate(old)


class _OverlapsBase:
    """What :func:`follow_overlaps` redraws the "overlaps" layer from and against: ``kept``,
    the layer as Segment or Tune last wrote it (``layer.data = ...``) with each edit the user
    made to it since taken in (labels without a network result take their hidden parts from
    it); ``shown``, the layer's pixels as last seen here; ``hidden``, what the follower last
    computed for it. A redraw writes only the pixels whose computed value changed since, so
    the user's own edits of the layer elsewhere stay, and so does its undo history.
    ``then``: the labels of ``labels_layer`` when the tool wrote the layer (a copy), which
    tell a piece Correct split off a worm hidden in part from a worm over it. ``handed``:
    the pixels the user painted into the layer since the tool wrote it (and no redraw
    wrote since: they show what was painted, :func:`_with_hand_paint`)."""

    def __init__(self, labels_layer: Labels | None = None) -> None:
        self.labels_layer = labels_layer
        self.then: np.ndarray | None = None
        self.handed: np.ndarray | None = None
        #: the labels as last seen by :meth:`renamed` (what the painted IDs name)
        self.labels_seen: np.ndarray | None = None
        self.layer: Labels | None = None
        self.kept: np.ndarray | None = None
        self.shown: np.ndarray | None = None
        self.hidden: np.ndarray | None = None
        self.writing = False
        #: the boxes of the labels' objects and of the kept overlaps' (:func:`_hidden_in_boxes`)
        self.boxes = (_Boxes(), _Boxes())

    def take(self, layer: Labels | None) -> None:
        """Start over from ``layer``'s pixels now (new data written by a tool)."""
        if layer is not self.layer:
            self.release()
            if layer is not None:
                layer.events.data.connect(self._new_data)
            self.layer = layer
        data = None if layer is None else layer.data
        self.handed = None  # (new data: nothing painted by hand in them yet)
        if isinstance(data, np.ndarray):
            self.kept = np.array(data)
            self.shown, self.hidden = self.kept.copy(), self.kept.copy()
        else:
            self.kept = self.shown = self.hidden = None
        labels = None if self.labels_layer is None else self.labels_layer.data
        fits = isinstance(labels, np.ndarray) and self.kept is not None
        self.then = np.array(labels) if fits and labels.shape == self.kept.shape else None
        self.labels_seen = self.then

    def _new_data(self, event=None) -> None:
        if not self.writing:
            self.take(self.layer)

    def release(self) -> None:
        self.then = None
        if self.layer is not None:
            try:
                self.layer.events.data.disconnect(self._new_data)
            except (TypeError, ValueError, RuntimeError):  # (already gone)
                pass
        self.layer = None

    def follow(self, layer: Labels) -> np.ndarray:
        """``kept`` with the user's edits of ``layer`` since it was last seen taken in."""
        data = layer.data
        if (
            layer is not self.layer
            or self.kept is None
            or self.shown is None
            or self.kept.shape != data.shape
        ):
            self.take(layer)
        assert self.kept is not None
        edited = data != self.shown
        if edited.any():
            if not np.can_cast(data.dtype, self.kept.dtype):
                self.kept = self.kept.astype(np.promote_types(data.dtype, self.kept.dtype))
            self.kept[edited] = data[edited]
            self.shown = np.array(data)
            if self.handed is None or self.handed.shape != data.shape:
                self.handed = np.zeros(data.shape, bool)
            self.handed |= edited
        return self.kept

    def redrawn(self, layer: Labels, hidden: np.ndarray) -> bool:
        """Write into ``layer`` the pixels of ``hidden`` (what it should show now) that
        changed since the last redraw; its undo history starts over only where a pixel
        written lies in a step of it (:func:`_history_touches`: a dab painted elsewhere keeps
        its Undo) or its data were replaced (a wider type). Whether any were written."""
        from ._labels_states import _restart_history

        data = layer.data
        changed = hidden != self.hidden if self.hidden is not None else np.ones(hidden.shape, bool)
        self.hidden = hidden
        if hidden.dtype != data.dtype and data.dtype.kind in "iu" and hidden.size:
            info = np.iinfo(data.dtype)
            if info.min <= hidden.min() and hidden.max() <= info.max:
                hidden = hidden.astype(data.dtype)  # (fits: the layer keeps its type)
        if hidden.dtype != data.dtype:  # (IDs its type cannot hold)
            new = data.astype(hidden.dtype)
            new[changed] = hidden[changed]
            self.writing = True
            try:
                layer.data = new
            finally:
                self.writing = False
            self._overwritten(changed)
        else:
            write = changed & (data != hidden)
            if not write.any():
                return False
            data[write] = hidden[write]
            self._overwritten(write)
            layer.refresh()
            self.shown = np.array(layer.data)
            if _history_touches(layer, write):  # (such a step would undo into other objects)
                _restart_history(layer)
            return True
        self.shown = np.array(layer.data)
        _restart_history(layer)  # (new data: a step painted before would undo into others)
        return True

    def renamed(self, labels: np.ndarray) -> None:
        """The pixels painted by hand (``handed``) follow the objects they name to their IDs
        in ``labels`` now (Relabel 1..N, a Merge, their Undo): each ID painted becomes the
        one most of that object's pixels in the labels last seen hold now; kept where those
        are mostly its own still, or background (deleted, perhaps to come back)."""
        seen, layer = self.labels_seen, self.layer
        if seen is not None and seen.shape == labels.shape and np.array_equal(seen, labels):
            return
        self.labels_seen = np.array(labels)
        data = None if layer is None else layer.data
        if seen is None or seen.shape != labels.shape or self.handed is None:
            return
        if not isinstance(data, np.ndarray) or data.shape != labels.shape:
            return
        rows, cols = np.nonzero(self.handed)
        values = data[rows, cols]
        new = values.copy()
        for label in np.unique(values[values > 0]).tolist():
            now = labels[seen == label]
            if not now.size:
                continue
            ids, counts = np.unique(now, return_counts=True)
            best = int(ids[np.argmax(counts)])
            if best > 0 and best != label and np.can_cast(np.min_scalar_type(best), data.dtype):
                new[values == label] = best
        change = new != values
        if not change.any():
            return
        data[rows[change], cols[change]] = new[change]
        if self.kept is not None and self.kept.shape == data.shape:
            self.kept[rows[change], cols[change]] = new[change]
        self.shown = np.array(data)  # (the follower's write, not the user's)
        layer.refresh()

    def _overwritten(self, written: np.ndarray) -> None:
        """Pixels a redraw wrote are no longer the user's paint."""
        if self.handed is not None and self.handed.shape == written.shape:
            self.handed &= ~written


def _history_touches(layer: Labels, written: np.ndarray) -> bool:
    """Whether a step of ``layer``'s undo or redo history wrote any pixel of ``written``
    (a boolean array of its shape): undone or redone, it would put back values taken since.
    True where a history cannot be read or holds a step of a kind not known here."""
    from ._correct_edits import _history

    steps = []
    for which in ("undo", "redo"):
        history = _history(layer, which)
        if history is None:
            return True
        steps.extend(history)
    covered = np.zeros(written.shape, bool)
    for step in steps:
        if not isinstance(step, list):
            return True
        for atom in step:
            if hasattr(atom, "slice_key") and hasattr(atom, "old_values"):  # a masked paint
                if atom.mask is None:
                    covered[atom.slice_key] = True
                else:
                    region = covered[atom.slice_key]  # (a view)
                    region[atom.mask] = True
            elif type(atom) is tuple and len(atom) == 3:  # data_setitem's
                covered[atom[0]] = True
            else:
                return True
    return bool((covered & written).any())


def _show_gap(layer: Labels, step, stack_of, hidden: np.ndarray | None = None) -> bool:
    """After napari's new history ``step`` (the value of the paint event that announced it)
    took an object off ``layer``'s labels whole (napari's fill or eraser over the worm on
    top of a crossing: a Delete), show on each pixel the step took from it the top object
    there of ``stack_of(labels before the step)`` (an :func:`object_stack`; the smaller, as
    :func:`uncovered` does) that the step left in the labels, written as part of that step,
    so one Undo takes back both. ``stack_of`` None: the objects of the labels with their
    hidden parts from ``hidden`` (:func:`object_stack` without a network result), looked at
    on those pixels only. Pixels erased from an object still there stay background. Whether
    anything was written.

    napari has no public way to add to a step it recorded (``block_history`` groups only
    edits made inside it; a step of our own would need two Undos): the pixels shown are
    appended to ``step`` as the atom ``data_setitem`` records, where ``step`` is the last
    one of napari 0.9's private undo history (:func:`._correct_edits._history`). Where this
    napari's step or history is not what is known here (a napari upgrade), nothing is
    written, with a warning that the labels show a gap there (so do Export's stack and the
    overlaps layer, which take background as background); tests/widgets/
    test_napari_history_contract.py fails on such a napari."""
    from ._correct_edits import _history

    labels = layer.data
    if not isinstance(labels, np.ndarray) or labels.ndim != 2:
        return False
    if stack_of is None and (hidden is None or hidden.shape != labels.shape):
        return False
    old = _step_old_values(step) if isinstance(step, list) else None
    before = None if old is None else _before_step(labels, step)
    if old is None or before is None:
        _cannot_show(layer, "napari's paint event did not carry a step of known atoms")
        return False
    gone = [v for v in np.unique(old[old > 0]).tolist() if not np.any(labels == v)]
    if not gone:
        return False
    rows, cols = np.nonzero((labels == 0) & np.isin(before, gone))
    values = np.zeros(rows.shape, labels.dtype)
    if stack_of is not None:
        stack = stack_of(before)
        sizes = stack.masks.reshape(len(stack.masks), -1).sum(axis=1)
        for n in np.argsort(-sizes, kind="stable"):  # larger first: the smaller ends on top
            if int(stack.ids[n]) not in gone:
                values[stack.masks[n][rows, cols]] = stack.ids[n]
    elif hidden is not None:  # (one object there at most: the one the overlaps hold)
        under = hidden[rows, cols]
        present = [v for v in np.unique(under[under > 0]).tolist() if np.any(labels == v)]
        values[:] = np.where(np.isin(under, present), under, 0)
    keep = values != 0
    if not keep.any():
        return False
    history = _history(layer, "undo")
    try:
        last = history[-1] if history is not None else None
    except (IndexError, KeyError, TypeError):
        last = None
    if last is not step:  # (the step announced is not the one Undo takes back next)
        _cannot_show(layer, "its undo history does not end with the step it announced")
        return False
    rows, cols, values = rows[keep], cols[keep], values[keep]
    step.append(((rows, cols), labels[rows, cols], values))  # (as data_setitem records)
    labels[rows, cols] = values
    return True


def _cannot_show(layer: Labels, why: str) -> None:
    """Warn that the object under one erased whole is not shown there (:func:`_show_gap`)."""
    import warnings

    import napari

    warnings.warn(
        f"'{layer.name}': an object erased whole lay on another, which Tessella could not "
        f"show there: {why} (napari {napari.__version__}; Tessella knows napari 0.9's). The "
        "labels, the overlaps layer and Export show a gap there; Ctrl+Z, then Correct's "
        "Delete of that object shows the one under it.",
        stacklevel=2,
    )


def _before_step(labels: np.ndarray, step: list) -> np.ndarray | None:
    """``labels`` as they were before napari's history ``step`` (its atoms undone on a
    copy), or None where an atom is of a kind not known here."""
    before = labels.copy()
    for atom in reversed(step):
        if hasattr(atom, "slice_key") and hasattr(atom, "old_values"):  # a masked paint
            if atom.mask is None:
                before[atom.slice_key] = atom.old_values
            else:
                region = before[atom.slice_key]  # (a view)
                region[atom.mask] = atom.old_values
        elif type(atom) is tuple and len(atom) == 3:  # data_setitem's
            before[atom[0]] = atom[1]
        else:
            return None
    return before


def sync_overlaps(labels_layer: Labels) -> None:
    """Bring the "overlaps" layer beside ``labels_layer`` up to date with its labels now
    (after an undo or redo, which a hidden layer does not announce)."""
    from ._result_cache import _key

    follower = _OVERLAP_FOLLOWERS.get(_key(labels_layer))
    if follower is not None:
        follower()


def measure_stack(masks: np.ndarray, ids, **options) -> dict[str, np.ndarray]:
    """:func:`~tessella.engine.measure.measure_objects` of objects that may overlap, each
    measured whole (``instances=True``: the engine spreads them over as few label images as
    keep them apart): ``masks[n]`` (an ``(N, Y, X)`` stack) is object ``ids[n]``;
    ``options`` go to ``measure_objects`` (``length=True`` too). Rows are sorted by label.

    >>> masks = np.zeros((2, 4, 6), bool)
    >>> masks[0, :, :4] = masks[1, 1:3, 2:] = True  # crossing: both cover 4 pixels
    >>> measure_stack(masks, [1, 2])["area_px"].tolist()
    [16, 8]
    """
    from tessella.engine.measure import measure_objects

    masks = np.asarray(masks, bool)
    ids = np.asarray(ids, np.int64)
    if masks.ndim < 3 or len(ids) != len(masks):
        raise ValueError(f"a mask stack of {len(ids)} objects, got shape {masks.shape}")
    table = measure_objects(masks, instances=True, **options)  # page n: object n + 1
    table["label"] = ids[table["label"] - 1] if len(ids) else table["label"].astype(np.int64)
    order = np.argsort(table["label"], kind="stable")
    return {name: values[order] for name, values in table.items()}
