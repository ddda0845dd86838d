"""Training data: image/label pairs from folders, random crops, augmentation, medoid centres.

A 2D model can train on volumes: :func:`load_folder_pairs` cuts every ZYX file into its
slices, named ``FILE[z=NNN]`` (e.g. ``lucchi.tif[z=012]``). Files and slices are selected (to
hold out or exclude) by :func:`selects`: ``STEM`` is a whole file (all its slices), ``STEM[z=N]``
one slice and ``STEM[z=A:B]`` slices ``A`` to ``B - 1``.
"""

from __future__ import annotations

from ._augment import augment, deform, deform_margin
from ._crops import CropDataset, labels_and_medoids, medoid_map
from ._folders import load_folder_pairs
from ._samples import (
    Sample,
    apply_ignore_label,
    as_int32_labels,
    boundary_map_note,
    check_finite,
    load_pairs,
    orientations,
    refuse_negative,
)
from ._selectors import (
    refuse_unknown_exclusions,
    refuse_wrong_axes,
    selects,
    slab_bounds,
    split_holdout,
)

__all__ = [
    "Sample",
    "apply_ignore_label",
    "as_int32_labels",
    "boundary_map_note",
    "check_finite",
    "refuse_negative",
    "refuse_unknown_exclusions",
    "refuse_wrong_axes",
    "load_pairs",
    "load_folder_pairs",
    "split_holdout",
    "orientations",
    "selects",
    "slab_bounds",
    "CropDataset",
    "medoid_map",
    "augment",
    "deform",
    "deform_margin",
    "labels_and_medoids",
]
