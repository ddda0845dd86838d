"""Random training crops with their targets: :class:`CropDataset`, medoid maps."""

from __future__ import annotations

import warnings
from collections.abc import Callable

import numpy as np
from scipy import ndimage

from ._augment import augment, deform, deform_margin
from ._samples import Sample

__all__ = ["CropDataset", "medoid_map", "labels_and_medoids"]


def medoid_map(labels: np.ndarray, rng: np.random.Generator, sample: int = 256) -> np.ndarray:
    """True at each instance's medoid pixel (the pixel with the least summed distance to the
    others, estimated against a random subset of ``sample`` pixels for large objects)."""
    centres = np.zeros(labels.shape, bool)
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        coords = np.argwhere(labels[box] == index)
        subset = coords if len(coords) <= sample else coords[rng.choice(len(coords), sample, False)]
        distances = np.sqrt(((coords[:, None, :] - subset[None, :, :]) ** 2).sum(-1)).sum(1)
        best = coords[np.argmin(distances)]
        centres[tuple(b.start + c for b, c in zip(box, best))] = True
    return centres


class CropDataset:
    """Random ``patch`` crops (half of them centred on an object), augmented, with targets.

    ``targets(labels, boundary, rng)`` makes the method's training targets from a crop's
    instance labels (and boundary map, when the data have one); by default the labels and
    their medoids (the embedding method). Index ``i`` is deterministic given ``seed`` so runs
    and workers are reproducible.

    ``border`` is the fraction of crops that reach past the image's edge along one axis by up
    to a third of the crop, padded (image and labels) with numpy's ``border_mode`` as tiled
    inference pads an image: a 3D network otherwise never sees the padded context it gets at a
    volume's first and last slices, where it then does worst.

    ``colour_weight`` draws each colour image (:attr:`Sample.colour`) that many times as often
    as a single-channel one: for a mix where colour images are rare (DSB2018: 99 of 600).
    """

    def __init__(
        self,
        samples: list[Sample],
        patch: tuple[int, ...],
        length: int,
        seed: int = 0,
        targets: Callable[..., tuple] | None = None,
        relabel: bool = True,
        elastic: bool = False,
        border: float = 0.0,
        border_mode: str = "reflect",
        colour_weight: float = 1.0,
    ):
        self.border_mode = border_mode
        if not colour_weight > 0:
            raise ValueError(f"colour weight {colour_weight}: must be above 0")
        colour = [s.colour for s in samples]
        if colour_weight != 1.0 and (all(colour) or not any(colour)):
            raise ValueError(
                f"colour weight {colour_weight}: "
                + ("every" if all(colour) else "none of the")
                + f" {len(samples)} training images is in colour; nothing to weigh"
            )
        weights = np.where(colour, colour_weight, 1.0)
        # None: uniform draws, as before the option (runs stay reproducible)
        self.draw_p = None if np.all(weights == weights[0]) else weights / weights.sum()
        if not 0.0 <= border <= 1.0:
            raise ValueError(f"border crops {border}: a fraction in [0, 1]")
        self.border = border
        self.samples = samples
        self.patch = patch
        small = [s for s in samples if any(p > n for p, n in zip(patch, s.labels.shape))]
        if small:  # padded to fit: mirrored image, left out of the loss there
            warnings.warn(
                f"{len(small)} of {len(samples)} training images are smaller than the patch "
                f"{'x'.join(map(str, patch))} (e.g. {small[0].name}, "
                f"{'x'.join(map(str, small[0].labels.shape))}): their crops are mirrored to "
                "fit and the mirrored part is left out of the loss, so part of every such "
                "crop teaches nothing. Choose a patch no larger than the smallest image.",
                stacklevel=2,
            )
        self.elastic = elastic  # rotation + elastic deformation + blur (:func:`deform`)
        # every crop carries an ignore mask (all False where nothing is ignored) if any crop
        # is padded (elastic crops read a margin beyond the patch) or any sample has one, so
        # that a batch's targets have one structure
        read = self.read_size()
        self.with_ignore = any(s.ignore is not None for s in samples) or any(
            any(r > n for r, n in zip(read, s.labels.shape)) for s in samples
        )
        self.length = length
        self.seed = seed
        self.epoch = 0
        self.targets: Callable[..., tuple] = targets or labels_and_medoids
        self.relabel = relabel  # bitmask labels (overlapping objects) must stay as they are

    def __len__(self) -> int:
        return self.length

    def read_size(self) -> tuple[int, ...]:
        """The size of the crop read from an image: the patch, plus the margin elastic
        deformation needs on each side of the last two axes."""
        if not self.elastic:
            return tuple(self.patch)
        margin = [0] * (len(self.patch) - 2) + [deform_margin(p) for p in self.patch[-2:]]
        return tuple(p + 2 * m for p, m in zip(self.patch, margin))

    def _crop(self, sample: Sample, rng: np.random.Generator, patch=None):
        """(image, labels, boundary or None, ignore or None) of one random ``patch`` crop."""
        patch = patch or self.patch
        spatial = sample.labels.shape
        image, labels = sample.image, sample.labels
        extras = [sample.boundary, sample.ignore]
        if self.with_ignore and extras[1] is None:
            extras[1] = np.zeros(spatial, bool)
        pads = [max(0, p - s) for p, s in zip(patch, spatial)]
        if any(pads):  # pad small images: image by reflection, left out of the loss there
            image = np.pad(image, [(0, 0)] + [(0, p) for p in pads], mode="reflect")
            labels = np.pad(labels, [(0, p) for p in pads])
            widths = [(0, p) for p in pads]
            ignore = extras[1]
            assert ignore is not None  # with_ignore is set whenever an image is this small
            extras = [
                None if extras[0] is None else np.pad(extras[0], widths, mode="reflect"),
                np.pad(ignore, widths, constant_values=True),
            ]
            spatial = labels.shape
        if rng.random() < 0.5 and labels.any():
            foreground = np.flatnonzero(labels)
            centre = np.unravel_index(foreground[rng.integers(len(foreground))], spatial)
            starts = [
                int(np.clip(c - p // 2 + rng.integers(-p // 4, p // 4 + 1), 0, s - p))
                for c, p, s in zip(centre, patch, spatial)
            ]
        else:
            starts = [int(rng.integers(0, s - p + 1)) for p, s in zip(patch, spatial)]
        widths = [(0, 0)] * len(patch)
        if self.border and rng.random() < self.border:  # past one edge, padded
            axis = int(rng.integers(len(patch)))
            reach = int(rng.integers(1, max(1, patch[axis] // 3) + 1))
            if rng.random() < 0.5:
                starts[axis], widths[axis] = 0, (reach, 0)
            else:
                starts[axis], widths[axis] = spatial[axis] - patch[axis] + reach, (0, reach)
        box = tuple(
            slice(s, s + p - before - after) for s, p, (before, after) in zip(starts, patch, widths)
        )
        channel_box = (slice(None), *box)
        crops = [image[channel_box], labels[box], *(None if e is None else e[box] for e in extras)]
        if any(widths):
            from ..tiling import pad_array

            crops = [
                None
                if c is None
                else pad_array(c, [(0, 0)] * (c.ndim - len(patch)) + widths, self.border_mode)
                for c in crops
            ]
        return tuple(crops)

    def draw(self, rng: np.random.Generator) -> Sample:
        """The sample a crop comes from (uniform, or weighted by ``colour_weight``)."""
        if self.draw_p is None:
            return self.samples[int(rng.integers(len(self.samples)))]
        return self.samples[int(rng.choice(len(self.samples), p=self.draw_p))]

    def __getitem__(self, index: int):
        rng = np.random.default_rng([self.seed, self.epoch, index])
        sample = self.draw(rng)
        if self.elastic:
            image, labels, boundary, ignore = self._crop(sample, rng, self.read_size())
            present = [e for e in (boundary, ignore) if e is not None]
            image, (labels, *present) = deform(image, [labels, *present], rng, self.patch)
            boundary = present[0] if boundary is not None else None
            ignore = present[-1] if ignore is not None else None
        else:
            image, labels, boundary, ignore = self._crop(sample, rng)
        present = [e for e in (boundary, ignore) if e is not None]
        image, labels, *present = augment(image, labels, rng, *present)
        if boundary is not None:
            boundary = present.pop(0)
        if self.relabel:
            labels, _, _ = _relabel(labels)
        if ignore is None:
            return (image, *self.targets(labels, boundary, rng))
        return (image, *self.targets(labels, boundary, rng, ignore=present.pop(0).astype(bool)))


def labels_and_medoids(labels, boundary, rng, ignore=None):
    """The embedding method's targets: instance labels (-1 on ``ignore``d pixels, which the
    loss leaves out) and a medoid map."""
    labels = labels.astype(np.int64)
    centres = medoid_map(labels, rng)
    if ignore is not None:
        labels[ignore] = -1
        centres[ignore] = False
    return labels, centres


def _relabel(labels: np.ndarray):
    from skimage.segmentation import relabel_sequential

    return relabel_sequential(labels)
