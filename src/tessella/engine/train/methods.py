"""What training needs from each method family: targets, loss, head start and validation score.

The loop in :mod:`.loop` is method-agnostic; a :class:`MethodTraining` supplies the rest.
Targets are computed per augmented crop (numpy, in the data-loader workers); the loss runs
on the batch (torch).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy import ndimage

from .. import evaluation, metrics
from .data import labels_and_medoids

__all__ = [
    "MethodTraining",
    "get_training",
    "score_in_words",
    "trainable_methods",
    "boundary_weight_map",
    "centre_map",
    "semantic_loss",
]


@dataclass(frozen=True)
class MethodTraining:
    #: (instance labels, boundary map or None, rng, ignore=None) -> target arrays for the
    #: loss; ``ignore`` (bool, like the labels) marks pixels the loss must leave out
    targets: Callable[..., tuple]
    #: (raw network output, target tensors, ndim) -> scalar loss
    loss: Callable
    #: (network, ndim) -> None: set the output head's starting weights
    init_head: Callable
    #: name of the validation score in logs and cards ("ap50", "vrand", "iou")
    score_name: str
    #: [(true labels, predicted labels)] -> score, higher is better
    score: Callable[[list], float]
    #: (config) -> the targets callable for that configuration (e.g. the patch size)
    configure: Callable | None = None
    #: the loss needs the network (``loss(raw, targets, ndim, network=...)``)
    loss_needs_network: bool = False
    #: labels are bitmasks of overlapping objects: crops keep them as they are (no relabelling)
    overlapping: bool = False
    #: (method, prediction, sample labels, params, unannotated pixels or None, the
    #: sample's shared bits) -> (truth, predicted) for ``score``
    validation_pair: Callable | None = None
    #: crops are rotated, elastically deformed and blurred by default (``data.deform``)
    elastic: bool = False
    #: (raw network output, target tensors) -> soft Dice loss of the predicted foreground,
    #: for ``--fg-dice``; None: the method has no foreground output to sharpen this way
    foreground_dice: Callable | None = None
    #: the score is a mean of per-image scores that are undefined (NaN) for an image without
    #: an object (V_rand): every hold-out image must have one
    scores_each_image: bool = False
    #: the labels are objects, one ID each (a binary mask is refused); False: a foreground
    #: mask (semantic), 0 and 1 being what it takes
    objects: bool = True


# --- embedding ------------------------------------------------------------------------------


def _embedding_loss(raw, targets, ndim):
    from .losses import embedding_loss

    labels, centres = targets
    return embedding_loss(raw, labels, centres, (1 / 1024,) * ndim)[0]


def _embedding_head(network, ndim):
    import torch

    head = network.decoders[0].head
    with torch.no_grad():  # offsets start at 0 and sigmas at 1, as EmbedSeg does
        head.weight.zero_()
        head.bias[:ndim] = 0.0
        head.bias[ndim:] = 1.0


def _ap50(pairs) -> float:
    return float(metrics.average_precision_scores(pairs, (0.5,))["ap"][0.5])


# --- boundary -------------------------------------------------------------------------------


def boundary_weight_map(
    labels: np.ndarray, boundary: np.ndarray, w0: float = 10.0, sigma: float = 5.0
) -> np.ndarray:
    """U-Net border weights: ``1 + w0 * exp(-(d1 + d2)^2 / (2 sigma^2))`` on boundary pixels.

    ``d1``/``d2`` are the distances to the nearest and second-nearest object, computed in a
    window of 3 sigma around each object (farther objects contribute a negligible weight).
    """
    reach = int(np.ceil(3 * sigma))
    nearest = np.full(labels.shape, np.inf, np.float32)
    second = np.full(labels.shape, np.inf, np.float32)
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        grown = tuple(
            slice(max(s.start - reach, 0), min(s.stop + reach, n))
            for s, n in zip(box, labels.shape)
        )
        distance = ndimage.distance_transform_edt(labels[grown] != index).astype(np.float32)
        near, sec = nearest[grown], second[grown]
        closer = distance < near
        sec[:] = np.where(closer, near, np.minimum(sec, distance))
        near[:] = np.where(closer, distance, near)
    weights = np.ones(labels.shape, np.float32)
    edge = boundary.astype(bool) & np.isfinite(second)
    weights[edge] += w0 * np.exp(-((nearest[edge] + second[edge]) ** 2) / (2 * sigma**2))
    return weights


def _boundary_targets(labels, boundary, rng, ignore=None):
    from skimage.segmentation import find_boundaries

    if ignore is not None and ignore.any() and not ignore.all():
        # ignored pixels take the nearest known label: an object that reaches them has no
        # edge there (the mirrored image shows it going on), and its edge weights stay true
        nearest = ndimage.distance_transform_edt(
            ignore, return_distances=False, return_indices=True
        )
        labels = labels[tuple(nearest)]
    if boundary is None:  # instance labels: thick edges are the boundaries
        edges = find_boundaries(labels, mode="thick")
        foreground = (labels > 0) | edges
    else:  # a boundary map (EM membranes): everything is tissue
        edges = boundary > 0
        foreground = np.ones(labels.shape, bool)
    weights = boundary_weight_map(labels, edges)
    if ignore is not None:  # 0 marks the ignored pixels for every term of the loss
        weights[ignore] = 0.0
    return edges.astype(np.float32), foreground.astype(np.float32), weights


def _boundary_loss(raw, targets, ndim):
    """Weighted BCE + Dice on the boundary channel, BCE on the foreground channel; pixels
    of weight 0 (ignored) take part in none of them."""
    import torch.nn.functional as F

    edges, foreground, weights = targets
    raw = raw.float()
    logit_b, logit_f = raw[:, 0], raw[:, 1]
    bce = F.binary_cross_entropy_with_logits(logit_b, edges, weight=weights)
    valid = (weights > 0).float()
    prob, edges_known = logit_b.sigmoid() * valid, edges * valid
    dims = tuple(range(1, prob.dim()))
    dice = 1 - (2 * (prob * edges_known).sum(dims) + 1) / (
        prob.sum(dims) + edges_known.sum(dims) + 1
    )
    fg = F.binary_cross_entropy_with_logits(logit_f, foreground, weight=valid)
    return bce + dice.mean() + 0.5 * fg


def _no_head_change(network, ndim):
    return None


def _vrand(pairs) -> float:
    return float(np.mean([metrics.rand_voi(truth, pred)["vrand"] for truth, pred in pairs]))


# --- semantic -------------------------------------------------------------------------------


def _semantic_targets(labels, boundary, rng, ignore=None):
    """The foreground (float32 0/1): every labelled pixel; with ``ignore``, also a weight
    per pixel (0 on the ignored ones)."""
    foreground = (labels > 0).astype(np.float32)
    if ignore is None:
        return (foreground,)
    return foreground, (~ignore).astype(np.float32)


def semantic_loss(raw, targets, ndim):
    """0.5 BCE + 0.5 soft Dice on the foreground logit, as EM_Image_Segmentation trains.

    The Dice is taken over the whole batch, not per crop: a crop without foreground would
    otherwise score a Dice loss near 1 whatever the network predicts. A second target, when
    given, weighs each pixel (0: left out of both terms).
    """
    import torch.nn.functional as F

    foreground, *weights = targets
    logit = raw.float()[:, 0]
    if weights:
        (weight,) = weights
        bce = F.binary_cross_entropy_with_logits(
            logit, foreground, weight=weight, reduction="sum"
        ) / weight.sum().clamp(min=1.0)
        prob = logit.sigmoid() * weight
    else:
        bce = F.binary_cross_entropy_with_logits(logit, foreground)
        prob = logit.sigmoid()
    dice = 1 - (2 * (prob * foreground).sum() + 1) / (prob.sum() + foreground.sum() + 1)
    return 0.5 * bce + 0.5 * dice


def _foreground_iou(pairs) -> float:
    """Foreground IoU over the pixels of all pairs together (``tessella evaluate --metric
    iou``), not a mean over images."""
    return float(evaluation.score_pairs(pairs, ("iou",))["foreground_iou"])


# --- temporal -------------------------------------------------------------------------------


def centre_map(labels: np.ndarray) -> np.ndarray:
    """Each object's distance to its own border over its largest one: 1 at its centre, 0
    at its border and where objects touch (float32)."""
    out = np.zeros(labels.shape, np.float32)
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        grown = tuple(slice(max(s.start - 1, 0), s.stop + 1) for s in box)
        inside = labels[grown] == index
        distance = ndimage.distance_transform_edt(inside)
        out[grown][inside] = distance[inside] / distance.max()
    return out


def _temporal_targets(labels, boundary, rng, ignore=None):
    """Foreground, centre map and per-pixel loss weights: 1, 0 on ignored pixels
    (unannotated cells)."""
    weights = np.ones(labels.shape, np.float32)
    if ignore is not None:
        weights[ignore] = 0.0
    return (labels > 0).astype(np.float32), centre_map(labels), weights


def _temporal_loss(raw, targets, ndim):
    """Masked BCE + Dice on the foreground; masked BCE on the centre map (soft targets),
    counted inside cells twice as much as outside."""
    import torch.nn.functional as F

    foreground, centre, weights = targets
    raw = raw.float()
    fg_logit, centre_logit = raw[:, 0], raw[:, 1]
    bce = F.binary_cross_entropy_with_logits(fg_logit, foreground, weight=weights)
    prob = fg_logit.sigmoid() * weights
    dice = 1 - (2 * (prob * foreground).sum() + 1) / (prob.sum() + foreground.sum() + 1)
    centre_weight = weights * (1 + foreground)
    centre_bce = F.binary_cross_entropy_with_logits(centre_logit, centre, weight=centre_weight)
    return bce + dice + 2 * centre_bce


def _seg(pairs) -> float:
    """Cell Tracking Challenge SEG pooled over every ground-truth cell of the pairs."""
    return float(metrics.seg_scores(pairs)["seg"])


# --- patches (PatchPerPix) ------------------------------------------------------------------

#: patch samples per crop (pixels whose patch is decoded and compared with the truth)
PATCH_SAMPLES = 96


def _patch_targets(labels, boundary, rng, patch=41, ignore=None):
    """Number of instances (0, 1, 2+; -100, which the cross-entropy skips, on ``ignore``d
    pixels) per pixel; ``PATCH_SAMPLES`` pixels lying in exactly one object (half of them near
    overlaps, when there are any, as PatchPerPix oversamples them) with that object's mask in
    the ``patch`` x ``patch`` window around them; a validity mask for the window parts inside
    the crop and not ignored; a weight per sample."""
    bits = labels.astype(np.int64)
    count = np.zeros(bits.shape, np.int64)
    for k in range(63):
        count += (bits >> k) & 1
    numinst = np.minimum(count, 2)
    single = np.argwhere(count == 1)
    coords = np.zeros((PATCH_SAMPLES, 2), np.int64)
    weights = np.zeros(PATCH_SAMPLES, np.float32)
    if len(single):
        choice = rng.integers(len(single), size=PATCH_SAMPLES)
        overlap = count >= 2
        if overlap.any():
            near = ndimage.binary_dilation(overlap, iterations=10)[single[:, 0], single[:, 1]]
            if near.any():
                near_idx = np.flatnonzero(near)
                half_n = PATCH_SAMPLES // 2
                choice[:half_n] = near_idx[rng.integers(len(near_idx), size=half_n)]
        coords = single[choice]
        weights[:] = 1.0
    half = patch // 2
    padded = np.pad(bits, half, constant_values=0)
    known = np.ones(bits.shape, np.float32) if ignore is None else (~ignore).astype(np.float32)
    inside = np.pad(known, half)
    targets = np.zeros((PATCH_SAMPLES, patch, patch), np.float32)
    valid = np.zeros((PATCH_SAMPLES, patch, patch), np.float32)
    for i, (y, x) in enumerate(coords):
        window = padded[y : y + patch, x : x + patch]
        targets[i] = (window & bits[y, x]) != 0
        valid[i] = inside[y : y + patch, x : x + patch]
    if ignore is not None:
        numinst[ignore] = -100
    return numinst, coords, targets, valid * weights[:, None, None]


def _configure_patches(config):
    from functools import partial

    return partial(_patch_targets, patch=config.patch_size)


def _patch_loss(raw, targets, ndim, network):
    """Cross-entropy on the number of instances (2+ weighted up: overlaps are rare) plus
    masked BCE of the decoded patches at the sampled pixels."""
    import torch
    import torch.nn.functional as F

    numinst, coords, patch_targets, valid = targets
    raw = raw.float()
    weight = torch.tensor([1.0, 1.0, 5.0], device=raw.device)
    if bool((numinst != -100).any()):
        classes = F.cross_entropy(raw[:, :3], numinst, weight=weight, ignore_index=-100)
    else:  # every pixel left out (an unannotated crop): its mean would be 0 / 0 = NaN
        classes = raw[:, :3].sum() * 0.0
    batch = torch.arange(raw.shape[0], device=raw.device).repeat_interleave(coords.shape[1])
    ys, xs = coords[..., 0].reshape(-1), coords[..., 1].reshape(-1)
    codes = raw[batch, 3:, ys, xs]
    logits = network.decode(codes).reshape(patch_targets.shape)
    bce = F.binary_cross_entropy_with_logits(logits, patch_targets, reduction="none")
    patches = (bce * valid).sum() / valid.sum().clamp(min=1.0)
    return classes + patches


def soft_dice_loss(probability, truth, eps: float = 1.0):
    """1 - the soft Dice coefficient of a probability map and a binary truth over the whole
    batch (``eps`` keeps crops without any foreground defined).

    Examples
    --------
    >>> import torch
    >>> truth = torch.tensor([[0.0, 1.0, 1.0, 0.0]])
    >>> float(soft_dice_loss(truth, truth))
    0.0
    >>> round(float(soft_dice_loss(1 - truth, truth)), 3)  # no overlap: 1 - eps / (4 + eps)
    0.8
    """
    inter = (probability * truth).sum()
    return 1 - (2 * inter + eps) / (probability.sum() + truth.sum() + eps)


def _patch_foreground_dice(raw, targets):
    """Soft Dice loss of P(1+ instances) against the pixels inside any object: the
    cross-entropy averages over a crop that is mostly background, so on thin objects (worms)
    it leaves the foreground's edge a pixel off; Dice weighs the objects' own pixels."""
    import torch

    numinst = targets[0]
    probability = 1 - torch.softmax(raw[:, :3].float(), dim=1)[:, 0]
    known = (numinst >= 0).float()  # -100: ignored
    return soft_dice_loss(probability * known, (numinst > 0).float())


def _patch_validation_pair(method, prediction, labels, params, ignore=None, shared=0):
    """(true masks, predicted masks) of bitmask ``labels`` (``shared``: the bits several
    objects share); with ``ignore`` (unannotated pixels), predictions there are not scored
    (:func:`~tessella.engine.evaluation.stack_without_ignored`)."""
    from ..evaluation import stack_without_ignored
    from .overlapping import bitmask_to_stack

    truth = bitmask_to_stack(labels, shared)
    return truth, stack_without_ignored(method.instances(prediction, params), ignore, truth)


def _stack_avs(pairs) -> float:
    return float(metrics.stack_average_precision_scores(pairs)["avs"])


#: the validation scores (``score_name``) as the panels and the model lists name them
SCORE_WORDS = {"ap50": "AP(0.5)", "vrand": "V_rand", "iou": "IoU", "seg": "SEG", "avs": "avS"}


def score_in_words(method: str) -> str:
    """The validation score of ``method``'s training, as the Train panel names it.

    >>> score_in_words("embedding"), score_in_words("boundary")
    ('AP(0.5)', 'V_rand')
    """
    name = get_training(method).score_name
    return SCORE_WORDS.get(name, name)


_TRAINING = {
    "embedding": MethodTraining(
        labels_and_medoids, _embedding_loss, _embedding_head, "ap50", _ap50
    ),
    "boundary": MethodTraining(
        _boundary_targets,
        _boundary_loss,
        _no_head_change,
        "vrand",
        _vrand,
        elastic=True,
        scores_each_image=True,
    ),
    "semantic": MethodTraining(
        _semantic_targets, semantic_loss, _no_head_change, "iou", _foreground_iou, objects=False
    ),
    "temporal": MethodTraining(_temporal_targets, _temporal_loss, _no_head_change, "seg", _seg),
    "patches": MethodTraining(
        _patch_targets,
        _patch_loss,
        _no_head_change,
        "avs",
        _stack_avs,
        configure=_configure_patches,
        loss_needs_network=True,
        overlapping=True,
        validation_pair=_patch_validation_pair,
        foreground_dice=_patch_foreground_dice,
    ),
}


def get_training(method: str) -> MethodTraining:
    if method not in _TRAINING:
        raise ValueError(
            f"training for method {method!r} is not available; trainable: {', '.join(_TRAINING)}"
        )
    return _TRAINING[method]


def trainable_methods() -> tuple[str, ...]:
    """The method families that can be trained."""
    return tuple(_TRAINING)
