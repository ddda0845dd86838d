"""Training data whose objects overlap (crossing worms): one binary mask per object.

The layout is ``images/NAME.tif`` with ``masks/NAME.tif``: an ``(N, H, W)`` stack of object
masks (BBBC010's ``worm_masks`` are such stacks) or an ordinary label image (objects then do
not overlap). The files may be symbolic links.

The objects of a sample travel as one integer *bitmask* image: bit ``k`` is set where object
``k`` is, so random crops and flips apply to it as to any label image; an image with more than
:data:`MAX_OBJECTS` objects (a crowded nuclei image) lets objects far apart share a bit, and
:attr:`~.data.Sample.shared` says which bits are shared. :func:`bitmask_to_stack` gives the
masks back: one object per bit, however far apart its pieces lie, except that a shared bit is
split into the objects sharing it.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np

from ..evaluation import COLLAPSED_FRACTION, mask_stack_objects
from ..io import read_image
from ..normalize import normalize
from ._folders import _few, left_out_files, painted_label, tiff_files, warn_once, warn_painted
from .data import Sample, check_finite, refuse_negative, refuse_unknown_exclusions, selects

__all__ = [
    "MAX_OBJECTS",
    "SHARED_GAP",
    "as_overlapping",
    "encode_labels",
    "encode_stack",
    "labels_to_bitmask",
    "stack_to_bitmask",
    "bitmask_to_stack",
    "load_overlapping_pairs",
    "painted_plane",
]

MAX_OBJECTS = 62
#: pixels between the bounding boxes of two objects that share a bit (images with more than
#: MAX_OBJECTS objects): far more than half a shape patch, so no patch sees both
SHARED_GAP = 64


def _parts(plane: np.ndarray) -> tuple[np.ndarray, int]:
    """The groups of the pixels of ``plane`` (one bit) that lie less than about
    :data:`SHARED_GAP` pixels apart: the objects of a shared bit (they lie further apart)."""
    from scipy import ndimage

    reach = ndimage.maximum_filter(plane, size=SHARED_GAP - 1)  # half the gap, less 1
    return ndimage.label(reach)


def _scattered(mask: np.ndarray) -> bool:
    """Whether an object (``mask`` cropped to its bounding box) has pieces so far apart that
    :func:`_parts` would part them: such an object gets a bit of its own."""
    from scipy import ndimage

    if ndimage.label(mask)[1] <= 1:  # one piece (almost every object): no filter needed
        return False
    return _parts(np.pad(mask, SHARED_GAP // 2))[1] > 1


def _bits_for(boxes: list, ndim: int, name: str, scattered=lambda index: False) -> list[int]:
    """A bit per object (``boxes``: its bounding box as slices, or None when empty): its
    index when there are at most :data:`MAX_OBJECTS`; otherwise the lowest bit that no object
    within :data:`SHARED_GAP` pixels (bounding boxes) has, and a bit that no other object has
    for an object whose pieces lie far apart (``scattered(index)``, asked only then), since
    the parts of a shared bit are taken for different objects."""
    if len(boxes) <= MAX_OBJECTS:
        return list(range(len(boxes)))
    lo = np.array([[s.start for s in b] if b else [0] * ndim for b in boxes])
    hi = np.array([[s.stop for s in b] if b else [0] * ndim for b in boxes])
    bits = np.full(len(boxes), -1)
    alone = [i for i, box in enumerate(boxes) if box is not None and scattered(i)]
    if len(alone) >= MAX_OBJECTS:
        raise ValueError(
            f"{name}: {len(alone)} objects whose pieces lie {SHARED_GAP} pixels or more apart, "
            f"more than {MAX_OBJECTS - 1}; crop the image into smaller tiles"
        )
    bits[alone] = np.arange(len(alone))
    for i in range(len(boxes)):
        if bits[i] >= 0:
            continue
        near = np.all((lo < hi[i] + SHARED_GAP) & (lo[i] < hi + SHARED_GAP), axis=1)
        taken = set(bits[near & (bits >= 0)].tolist())
        free = [k for k in range(len(alone), MAX_OBJECTS) if k not in taken]
        if not free:
            raise ValueError(
                f"{name}: {len(boxes)} objects, more than {MAX_OBJECTS} of them within "
                f"{SHARED_GAP} pixels of one object; crop the image into smaller tiles"
            )
        bits[i] = free[0]
    return bits.tolist()


def _shared(bits: list[int]) -> int:
    """The bits (as an integer's bits) that more than one object has."""
    values, counts = np.unique(np.asarray(bits, np.int64), return_counts=True)
    return int(sum(1 << int(k) for k in values[counts > 1]))


def encode_stack(masks: np.ndarray, name: str = "masks") -> tuple[np.ndarray, int]:
    """``(N, H, W)`` masks -> (int64 bitmask image, shared bits). Beyond
    :data:`MAX_OBJECTS` objects, objects at least :data:`SHARED_GAP` pixels apart share bits
    (crowded nuclei images), and ``shared`` has those bits set (for
    :func:`bitmask_to_stack`); ValueError naming ``name`` if that is not enough."""
    from scipy import ndimage

    masks = np.asarray(masks) > 0
    boxes = [(ndimage.find_objects(m.view(np.uint8)) or [None])[0] for m in masks]
    assigned = _bits_for(boxes, masks.ndim - 1, name, lambda i: _scattered(masks[i][boxes[i]]))
    bits = np.zeros(masks.shape[1:], np.int64)
    for k, mask in zip(assigned, masks):
        bits[mask] |= np.int64(1) << k
    return bits, _shared([k for k, box in zip(assigned, boxes) if box is not None])


def stack_to_bitmask(masks: np.ndarray, name: str = "masks") -> np.ndarray:
    """The bitmask image of :func:`encode_stack`."""
    return encode_stack(masks, name)[0]


def encode_labels(labels: np.ndarray, name: str = "labels") -> tuple[np.ndarray, int]:
    """A label image (objects that do not overlap) as :func:`encode_stack` codes it, without
    a stack of masks."""
    from scipy import ndimage

    labels = np.asarray(labels)
    ids = np.unique(labels)
    ids = ids[ids != 0]
    compact = np.searchsorted(ids, labels) + 1  # 1..len(ids) on objects
    compact[labels == 0] = 0
    boxes = ndimage.find_objects(compact)
    assigned = _bits_for(boxes, labels.ndim, name, lambda i: _scattered(compact[boxes[i]] == i + 1))
    table = np.zeros(len(ids) + 1, np.int64)
    table[1:] = np.int64(1) << np.array(assigned, np.int64)
    return table[compact], _shared(assigned)


def labels_to_bitmask(labels: np.ndarray, name: str = "labels") -> np.ndarray:
    """The bitmask image of :func:`encode_labels`."""
    return encode_labels(labels, name)[0]


def bitmask_to_stack(bits: np.ndarray, shared: int = 0) -> np.ndarray:
    """int64 bitmask image -> ``(N, H, W)`` bool masks of the objects present (in bit order):
    one per bit, however far apart its pieces lie, except that a bit set in ``shared`` (of
    :func:`encode_stack` or :func:`encode_labels`, or :attr:`~.data.Sample.shared`) is
    split into the objects sharing it (its parts :data:`SHARED_GAP` pixels or more apart)."""
    present = int(np.bitwise_or.reduce(bits.ravel())) if bits.size else 0
    masks = []
    for k in range(MAX_OBJECTS):
        if not (present >> k) & 1:
            continue
        plane = (bits >> k) & 1 == 1
        if not (shared >> k) & 1:
            masks.append(plane)
            continue
        parts, n = _parts(plane)
        if n == 1:
            masks.append(plane)
        else:
            masks.extend(plane & (parts == j) for j in range(1, n + 1))
    return np.stack(masks) if masks else np.zeros((0, *bits.shape), bool)


def _as_bits(data: np.ndarray, image_shape, name: str, ignore_label=None):
    """The bitmask image, its shared bits and the unannotated pixels (or None) of a masks
    file."""
    if data.shape[-len(image_shape) :] != tuple(image_shape) or data.ndim > len(image_shape) + 1:
        raise ValueError(
            f"{name}: expected an (N, H, W) stack of object masks or a label image matching "
            f"the image {tuple(image_shape)}, got shape {data.shape}"
        )
    if data.ndim == len(image_shape) and data.dtype.kind in "iu":  # no stack of masks needed
        if ignore_label == 0:
            raise ValueError("ignore label 0: 0 is background; mark unannotated parts with another")
        refuse_negative(data, name, ignore_label)  # encode_labels would take them for objects
        unannotated = None if ignore_label is None else data == ignore_label
        known = data if unannotated is None else np.where(unannotated, 0, data)
        return (*encode_labels(known, name), unannotated)
    masks, unannotated = mask_stack_objects(data, len(image_shape), ignore_label, name)
    return (*encode_stack(masks, name), unannotated)


def as_overlapping(samples: list[Sample]) -> list[Sample]:
    """Samples with label images (objects that do not overlap, e.g. napari labels layers) as
    the patches method trains on them: their labels as bitmask images."""
    out = []
    for sample in samples:
        bits, shared = encode_labels(sample.labels, sample.name)
        out.append(replace(sample, labels=bits, shared=shared))
    return out


def painted_plane(stack) -> tuple[int, float, int, bool] | None:
    """``(value, fraction, objects, own)`` when a plane of the ``(N, H, W)`` stack of object
    masks covers :data:`~tessella.engine.evaluation.COLLAPSED_FRACTION` or more of the pixels
    (the plane covering most), as a plane added over a region left unannotated does, else
    None. ``value``: what that plane holds most; ``objects``: the planes that hold anything;
    ``own``: whether no other plane holds ``value`` (then ``--ignore-label value`` leaves the
    region out and keeps the objects).

    >>> stack = np.zeros((3, 8, 8), np.uint8); stack[0, 1, 1] = stack[1, 5, 5] = 1
    >>> stack[2, :, :4] = 255
    >>> painted_plane(stack)
    (255, 0.5, 3, True)
    >>> painted_plane(stack // 255 + (stack == 1))
    (1, 0.5, 3, False)
    """
    stack = np.asarray(stack)
    if stack.ndim < 3 or not stack.size:
        return None
    planes = stack.reshape(len(stack), -1)
    cover = np.count_nonzero(planes, axis=1)
    k = int(np.argmax(cover))
    fraction = float(cover[k] / planes.shape[1])
    if fraction < COLLAPSED_FRACTION:
        return None
    values, counts = np.unique(planes[k][planes[k] != 0], return_counts=True)
    value = int(values[np.argmax(counts)])
    others = np.delete(planes, k, axis=0)
    return value, fraction, int(np.count_nonzero(cover)), not (others == value).any()


def _painted_planes_note(mask_dir: Path, painted: list[tuple[str, int, float, int]]) -> str:
    """One line on the stacks whose largest plane, holding a value other planes' objects
    have too, covers much of the image (:func:`painted_plane`): ``--ignore-label`` with that
    value would take every object for unannotated."""
    values = sorted({value for _, value, _, _ in painted})
    theirs = f"{', '.join(map(str, values))} {'is' if len(values) == 1 else 'are'} theirs"
    fractions = [fraction for _, _, fraction, _ in painted]
    low, high = f"{min(fractions):.0%}", f"{max(fractions):.0%}"
    share = low if low == high else f"{low} to {high}"
    return (
        f"{mask_dir}: {_few(name for name, *_ in painted)}: one object mask covers {share} of "
        f"the pixels: unannotated parts painted as an object? Without an ignore label they are "
        f"learnt as one object; paint that plane a value no object mask has ({theirs}) "
        "and pass it as --ignore-label (the Train panel's Unannotated label) to leave "
        "them out of the loss"
    )


def load_overlapping_pairs(
    directory,
    normalization=None,
    exclude=(),
    ignore_label: int | None = None,
    warned: set[str] | None = None,
) -> list[Sample]:
    """Samples whose ``labels`` are bitmask images (see the module docstring). With
    ``ignore_label``, pixels of that value (in any plane of a stack) are not annotated: left
    out of every object and marked in :attr:`Sample.ignore`.

    Warned (one line each, as :func:`~.data.load_folder_pairs` does): files left out
    (:func:`~._folders.left_out_files`) and, without ``ignore_label``, masks where one label
    covers much of the image (:func:`~._folders.painted_label`) or, in a stack, one plane does
    (:func:`painted_plane`): a mask of that one object alone only when others have its value
    beside objects. A line already in ``warned`` is not said again (see
    :func:`~._folders.warn_once`)."""
    directory = Path(directory)
    normalization = normalization or {"low": 1.0, "high": 99.8}
    image_dir, mask_dir = directory / "images", directory / "masks"
    if not image_dir.is_dir() or not mask_dir.is_dir():
        raise ValueError(
            f"{directory} must hold images/ and masks/ (an (N, H, W) stack of object masks, "
            "or a label image, per image)"
        )
    unused = left_out_files(image_dir, mask_dir)
    if unused:
        warn_once(f"{directory}: {unused}", warned, stacklevel=2)
    painted = []  # (mask file, label, fraction, objects): unannotated parts, no ignore label?
    # the same, of stacks whose painted plane holds their objects' value
    painted_as_objects: list[tuple[str, int, float, int]] = []
    samples = []
    files = tiff_files(image_dir)
    refuse_unknown_exclusions(exclude, [p.name for p in files], image_dir)
    for path in files:
        if any(selects(e, path.name) for e in exclude):
            continue
        mask_path = mask_dir / path.name
        if not mask_path.is_file():
            raise ValueError(f"{path}: no matching masks file {mask_path}")
        image = np.asarray(read_image(path).data)
        if image.ndim != 2:
            raise ValueError(f"{path}: expected a 2D image, got shape {image.shape}")
        check_finite(image, str(path))
        data = np.asarray(read_image(mask_path).data)
        bits, shared, unannotated = _as_bits(data, image.shape, str(mask_path), ignore_label)
        if ignore_label is None and data.ndim == image.ndim and data.dtype.kind in "iu":
            found = painted_label(data)  # a label image
            if found:
                painted.append((mask_path.name, *found))
        elif ignore_label is None and data.ndim == image.ndim + 1:  # one object per plane
            plane = painted_plane(data)
            if plane:
                value, fraction, objects, own = plane
                found_in = painted if own else painted_as_objects
                found_in.append((mask_path.name, value, fraction, objects))
        normalized = normalize(image[None], normalization)
        ignore = unannotated if unannotated is not None and unannotated.any() else None
        samples.append(Sample(normalized, bits, path.name, ignore=ignore, shared=shared))
    if not samples:
        left_out = f" (after excluding {', '.join(map(str, exclude))})" if exclude else ""
        raise ValueError(f"{image_dir} holds no TIFF files{left_out}")
    warn_painted(mask_dir, painted, stacklevel=2, warned=warned)
    if painted_as_objects:  # beside other planes: no single mask of a binary method
        warn_once(_painted_planes_note(mask_dir, painted_as_objects), warned, stacklevel=2)
    return samples
