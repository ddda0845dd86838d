"""Training data: image/label pairs from folders, random crops, augmentation, medoid centres."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy import ndimage

from ..axes import guess_axes, to_model_layout
from ..io import read_image
from ..normalize import percentile_normalize

__all__ = [
    "Sample",
    "load_pairs",
    "load_folder_pairs",
    "split_holdout",
    "CropDataset",
    "medoid_map",
    "augment",
]


@dataclass
class Sample:
    image: np.ndarray  # (C, *spatial) float32, normalised
    labels: np.ndarray  # (*spatial) int32
    name: str


def load_pairs(images, labels_list, spatial_axes, channels, normalization, names=None):
    """Normalise image/label arrays into :class:`Sample` objects (validated)."""
    samples = []
    for i, (image, labels) in enumerate(zip(images, labels_list)):
        name = names[i] if names else f"pair {i}"
        image = np.asarray(image)
        labels = np.asarray(labels)
        axes = guess_axes(image.shape) if image.ndim != len(spatial_axes) else spatial_axes
        data = to_model_layout(image, axes, spatial_axes, channels)
        if data.shape[1:] != labels.shape:
            raise ValueError(
                f"{name}: labels of shape {labels.shape} do not match the image's spatial "
                f"shape {data.shape[1:]}"
            )
        if not np.issubdtype(labels.dtype, np.integer):
            raise ValueError(f"{name}: labels must be integers, got {labels.dtype}")
        normalized = percentile_normalize(
            data, normalization.get("low", 1.0), normalization.get("high", 99.8)
        )
        samples.append(Sample(normalized, labels.astype(np.int32), name))
    return samples


def load_folder_pairs(directory, spatial_axes, channels, normalization) -> list[Sample]:
    """Pairs from ``directory/images/NAME.tif`` and ``directory/masks/NAME.tif``."""
    directory = Path(directory)
    image_dir, mask_dir = directory / "images", directory / "masks"
    if not image_dir.is_dir() or not mask_dir.is_dir():
        raise ValueError(f"{directory} must hold images/ and masks/ folders of TIFFs")
    image_files = sorted(p for p in image_dir.iterdir() if p.suffix.lower() in (".tif", ".tiff"))
    if not image_files:
        raise ValueError(f"{image_dir} holds no TIFF files")
    images, labels, names = [], [], []
    for path in image_files:
        mask_path = mask_dir / path.name
        if not mask_path.is_file():
            raise ValueError(f"{path.name}: no matching labels file {mask_path}")
        images.append(read_image(path).data)
        labels.append(read_image(mask_path).data)
        names.append(path.name)
    return load_pairs(images, labels, spatial_axes, channels, normalization, names)


def split_holdout(samples: list[Sample], fraction: float, seed: int = 0):
    """(train, holdout): a seeded random ``fraction`` of the samples is held out for model
    selection (at least one; with a single sample it serves as both)."""
    if len(samples) < 2:
        return samples, samples[:1]
    order = np.random.default_rng(seed).permutation(len(samples))
    n_holdout = max(1, int(round(len(samples) * fraction)))
    return [samples[i] for i in order[n_holdout:]], [samples[i] for i in order[:n_holdout]]


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


def augment(image: np.ndarray, labels: np.ndarray, rng: np.random.Generator):
    """Random dihedral transform (z kept in 3D), intensity scale/shift/gamma and noise."""
    ndim = labels.ndim
    first = ndim - 2
    if rng.random() < 0.5:
        image = np.swapaxes(image, first + 1, first + 2)
        labels = np.swapaxes(labels, first, first + 1)
    for axis in range(ndim):
        if rng.random() < 0.5:
            image = np.flip(image, axis + 1)
            labels = np.flip(labels, axis)
    image = image * rng.uniform(0.7, 1.4) + rng.uniform(-0.15, 0.15)
    if rng.random() < 0.3:
        lo = image.min()
        image = lo + np.abs(image - lo) ** rng.uniform(0.7, 1.4)
    if rng.random() < 0.3:
        image = image + rng.normal(0, rng.uniform(0.005, 0.05), image.shape)
    return np.ascontiguousarray(image, np.float32), np.ascontiguousarray(labels)


class CropDataset:
    """Random ``patch`` crops (half of them centred on an object), augmented, with medoids.

    Index ``i`` is deterministic given ``seed`` so runs and workers are reproducible.
    """

    def __init__(self, samples: list[Sample], patch: tuple[int, ...], length: int, seed: int = 0):
        self.samples = samples
        self.patch = patch
        self.length = length
        self.seed = seed
        self.epoch = 0

    def __len__(self) -> int:
        return self.length

    def _crop(self, sample: Sample, rng: np.random.Generator):
        spatial = sample.labels.shape
        image, labels = sample.image, sample.labels
        pads = [max(0, p - s) for p, s in zip(self.patch, spatial)]
        if any(pads):  # pad small images: image by reflection, labels with background
            image = np.pad(image, [(0, 0)] + [(0, p) for p in pads], mode="reflect")
            labels = np.pad(labels, [(0, p) for p in pads])
            spatial = labels.shape
        if rng.random() < 0.5 and labels.any():
            foreground = np.flatnonzero(labels)
            centre = np.unravel_index(foreground[rng.integers(len(foreground))], spatial)
            starts = [
                int(np.clip(c - p // 2 + rng.integers(-p // 4, p // 4 + 1), 0, s - p))
                for c, p, s in zip(centre, self.patch, spatial)
            ]
        else:
            starts = [int(rng.integers(0, s - p + 1)) for p, s in zip(self.patch, spatial)]
        box = tuple(slice(s, s + p) for s, p in zip(starts, self.patch))
        return image[(slice(None), *box)], labels[box]

    def __getitem__(self, index: int):
        rng = np.random.default_rng([self.seed, self.epoch, index])
        sample = self.samples[int(rng.integers(len(self.samples)))]
        image, labels = self._crop(sample, rng)
        image, labels = augment(image, labels, rng)
        labels, _, _ = _relabel(labels)
        return image, labels.astype(np.int64), medoid_map(labels, rng)


def _relabel(labels: np.ndarray):
    from skimage.segmentation import relabel_sequential

    return relabel_sequential(labels)
