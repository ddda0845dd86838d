"""Train's data: the starting model's card, the pairs of image and labels layers as training
samples (2D, volumes, movies) and their default hold-out; the names the base combo and the
Compare region use (helpers of :class:`.train.TrainWidget`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from napari.layers import Image, Labels

from .._io import axes_named
from ._layers import full_resolution
from .segment import guess_layer_axes

__all__ = [
    "NEW",
    "REGION_LAYER",
    "INVERT",
    "HOLDOUT_FRACTION",
    "one_decoder_choice",
    "training_axes",
    "layer_samples",
    "default_holdout",
    "pair_mismatch",
    "binary_labels_refusal",
]

#: the most pixels of a labels layer *Add pair* looks at for a binary mask (a larger one, or
#: one on disk, is checked when Train reads it)
BINARY_CHECK_PIXELS = 16 * 1024 * 1024


NEW = "new:"  # base-combo data prefix for a model trained from scratch
REGION_LAYER = "compare region"  # a Shapes layer whose last rectangle bounds the comparison
INVERT = "invert_bright_background"  # the card's normalization key the invert box sets
#: the share of 2D images held out at random to score each epoch (``--val-fraction``)
HOLDOUT_FRACTION = 0.2


def _base_card(base: str) -> dict:
    """The raw card in directory ``base`` ({} when it cannot be read: training then reports
    the problem)."""
    from tessella.engine.registry import ModelError, read_card

    try:
        return read_card(Path(base)).raw
    except ModelError:
        return {}


def _base_kind(base: str) -> tuple[str, int, bool]:
    """(method, spatial dimensions, whether time-lapse) of a model trained from ``base``."""
    from tessella.engine.methods import get_method

    if base.startswith(NEW):
        method, ndim = base[len(NEW) :], 2
    else:
        card = _base_card(base)
        method = str(card.get("method", ""))
        model_input = card.get("input", {})
        ndim = len(model_input.get("axes", "YX")) if isinstance(model_input, dict) else 2
    try:
        temporal = bool(getattr(get_method(method), "TEMPORAL", False))
    except ValueError:
        temporal = False
    return method, ndim, temporal


def _base_normalization(base: str) -> dict:
    """The ``normalization`` of the card in directory ``base`` ({} when it cannot be read)."""
    return _base_card(base).get("normalization", {})


def one_decoder_choice(base: str) -> tuple[bool, bool]:
    """(whether the one-decoder box can be changed, whether it is ticked) for starting point
    ``base``: a new embedding model or a two-decoder embedding base can have one decoder; a
    one-decoder base already has it; other methods have one decoder per output anyway."""
    if base.startswith(NEW):
        return base[len(NEW) :] == "embedding", False
    card = _base_card(base)
    if card.get("method") != "embedding":
        return False, False
    branches = len(card.get("architecture", {}).get("args", {}).get("out_channels", ()))
    return branches > 1, branches == 1


def training_axes(image_layer: Image, temporal: bool) -> str:
    """The axes an image layer is trained (and compared) with: its guessed axes, except that
    for a time-lapse model a 3D stack without a T axis is a movie (TYX), as Segment takes it
    (unless the layer's file named its axes: a volume named ZYX stays one; the reader's guess
    from the shape alone does not count)."""
    axes = guess_layer_axes(image_layer)
    if temporal and not axes_named(image_layer.metadata) and "T" not in axes and axes[:1] == "Z":
        return "T" + axes[1:]
    return axes


def _pair_arrays(image_layer: Image, labels_layer: Labels) -> tuple[np.ndarray, np.ndarray]:
    """The image and labels of a training pair in memory, refused by layer name when the
    labels cannot be instance labels or the image holds NaN or infinite values."""
    from tessella.engine.train.data import check_finite

    image = np.asarray(full_resolution(image_layer))
    target = np.asarray(full_resolution(labels_layer))  # a blockwise result's level 0
    _check_labels(labels_layer, target)
    check_finite(image, f"image '{image_layer.name}'")
    return image, target


def _check_labels(labels_layer: Labels, target: np.ndarray) -> None:
    """Refuse labels that cannot be instance labels, naming the layer."""
    if not np.issubdtype(target.dtype, np.integer):
        raise ValueError(f"labels '{labels_layer.name}' must be integers, not {target.dtype}")
    if target.size and target.min() < 0:
        raise ValueError(
            f"labels '{labels_layer.name}' hold negative values (down to {target.min()}): "
            "label IDs are 0 (background) or positive"
        )


def pair_mismatch(image_layer: Image, labels_layer: Labels, temporal: bool) -> str | None:
    """Why ``labels_layer`` does not fit ``image_layer`` for a model (a time-lapse one where
    ``temporal``), in the words Train refuses the pair with, or None: the labels must have the
    image's spatial shape (a movie's: its frames, TYX; a 2D image is one frame). Read from the
    layers' shapes alone, so *Add pair* can say it at once. None too for a pair that Train
    refuses for another reason (a movie for a model that is not time-lapse, an odd layer)."""
    from tessella.engine.axes import spatial_of

    shape = tuple(full_resolution(image_layer).shape)
    target = tuple(full_resolution(labels_layer).shape)
    if temporal:
        axes = training_axes(image_layer, temporal=True)
        if "T" not in axes and spatial_of(axes) == "YX":  # one frame: a one-frame movie
            axes, shape, target = "T" + axes, (1, *shape), (1, *target)
        if "T" not in axes or spatial_of(axes) != "YX" or len(axes) != len(shape):
            return None
        expected = tuple(shape[axes.index(a)] for a in "TYX")
        if target != expected:
            return (
                f"labels '{labels_layer.name}' {target} do not match image "
                f"'{image_layer.name}' {expected} (TYX)"
            )
        return None
    axes = guess_layer_axes(image_layer)
    if not axes or "T" in axes or len(axes) != len(shape):
        return None
    expected = tuple(shape[axes.index(a)] for a in spatial_of(axes))
    if target != expected:
        return (
            f"labels '{labels_layer.name}' {target} do not match image "
            f"'{image_layer.name}' {expected}"
        )
    return None


def binary_labels_refusal(
    labels_layer: Labels, method: str, pixels: int | None = BINARY_CHECK_PIXELS
) -> str | None:
    """Why *Add pair* refuses ``labels_layer`` for a model of ``method``: an intensity image
    given as the labels (a grey image in a Labels layer: its values change from pixel to
    pixel, or, for an instance method, each lies in many pieces), or an instance method
    given a binary mask (only 0 and one value, in separate pieces), in the words the run
    refuses it with (:func:`~tessella.engine.train._intensity_labels._refuse_intensity_labels`,
    :func:`~tessella.engine.train._binary_labels._refuse_binary_masks`), naming the layer;
    None otherwise, or where the layer has more than ``pixels`` (None: any size; a layer on
    disk is then read, as Train reads it) or is no integer labels (Train says)."""
    return binary_layers_refusal([labels_layer], method, pixels)


def binary_layers_refusal(
    labels_layers, method: str, pixels: int | None = BINARY_CHECK_PIXELS
) -> str | None:
    """Why Train refuses ``labels_layers`` (a run's, each once) for a model of ``method``:
    some look like intensity images (for any method: a semantic model's foreground mask is
    no grey image either), or some are binary masks for an instance method, each judged
    alone as *Add pair* judges it (a mask beside layers of labels is refused too), the
    refusal naming every such layer at once, in :func:`binary_labels_refusal`'s words; None
    otherwise. Layers over ``pixels``, of no integer labels or empty are not looked at."""
    import warnings

    from tessella.engine.train._binary_labels import _refuse_binary_masks
    from tessella.engine.train._intensity_labels import _refuse_intensity_labels
    from tessella.engine.train.data import Sample
    from tessella.engine.train.methods import get_training

    try:
        objects: bool | None = get_training(method).objects
    except (KeyError, ValueError):
        objects = None  # (not known: only what holds for any labels is asked)
    samples = []
    for labels_layer in dict.fromkeys(labels_layers):
        data = full_resolution(labels_layer)
        if pixels is not None and (not isinstance(data, np.ndarray) or data.size > pixels):
            continue  # (a labels zarr would be read from disk here, on the GUI thread)
        target = np.asarray(data)
        if not np.issubdtype(target.dtype, np.integer) or not target.any():
            continue
        samples.append(Sample(None, target, labels_layer.name))
    try:  # an image given as the labels: all of them named in one refusal
        _refuse_intensity_labels(samples, "", bool(objects))
    except ValueError as exc:
        return str(exc)
    if not objects:
        return None
    binary = []
    with warnings.catch_warnings():  # (one piece: Train warns of it when it runs)
        warnings.simplefilter("ignore")
        for sample in samples:
            try:
                _refuse_binary_masks([sample], method, "")
            except ValueError:
                binary.append(sample)
        try:  # all together: one refusal naming them all
            _refuse_binary_masks(binary, method, "")
        except ValueError as exc:
            return str(exc)
    return None


def _nothing_to_learn(pairs) -> str:
    """The refusal of labels layers that hold no object, naming them."""
    names = [f"'{labels.name}'" for _image, labels in pairs]
    listed = ", ".join(names[:3]) + (f" and {len(names) - 3} more" if len(names) > 3 else "")
    if len(names) == 1:
        return f"the labels layer {listed} holds no objects to learn from"
    return f"the labels layers {listed} hold no objects to learn from"


def layer_samples(
    pairs,
    ndim: int,
    normalization: dict | None = None,
    window: int | None = None,
    holdout=(),
) -> list:
    """Training samples from ``(image layer, labels layer)`` pairs, normalised as
    ``normalization`` (a card's; default percentiles 1-99.8) says; a volume pair gives one
    sample per labelled slice for a 2D model (named ``LABELS[z=N]``), a 3D model one per slab
    between the z ranges that the ``holdout`` selectors (``LABELS[z=A:B]``) cut, as ``tessella
    train`` cuts a volume file. ``window``: a time-lapse model's frames per window; a movie
    (TYX) pair gives one sample per labelled frame (``LABELS[t=N]``), as ``tessella train
    temporal`` reads an ``images/`` + ``masks/`` folder. Raises ValueError naming a
    mismatched pair."""
    from tessella.engine.axes import spatial_of, to_model_layout
    from tessella.engine.train.data import load_pairs, slab_bounds

    normalization = normalization or {"low": 1.0, "high": 99.8}
    if window is not None:
        return _movie_samples(pairs, window, normalization)
    images, labels, names, parts = [], [], [], []  # parts: (image layer, its part's suffix)
    for image_layer, labels_layer in pairs:
        image, target = _pair_arrays(image_layer, labels_layer)
        axes = guess_layer_axes(image_layer)
        if "T" in axes:
            raise ValueError(
                f"image '{image_layer.name}' is a time-lapse (axes {axes}): a time-lapse model "
                "(cells2dt, or a new temporal model) trains on it; other models on 2D images "
                "or volumes"
            )
        if not axes:
            raise ValueError(f"image '{image_layer.name}': train on 2D or 3D images")
        mismatch = pair_mismatch(image_layer, labels_layer, temporal=False)
        if mismatch:
            raise ValueError(mismatch)
        spatial = spatial_of(axes)
        data = to_model_layout(image, axes, spatial, 1)  # (1, *spatial), channels averaged
        if len(spatial) == 3 and ndim == 2:  # slices of a volume for a 2D model
            for z in range(target.shape[0]):
                if target[z].any():
                    images.append(data[0, z])
                    labels.append(target[z])
                    names.append(f"{labels_layer.name}[z={z}]")
                    parts.append((image_layer.name, f"[z={z}]"))
        elif len(spatial) == 3 and ndim == 3:  # slabs cut where a hold-out range starts/ends
            slabs = slab_bounds(holdout, labels_layer.name, target.shape[0])
            for start, stop in slabs:
                images.append(data[0, start:stop])
                labels.append(target[start:stop])
                part = "" if len(slabs) == 1 else f"[z={start}:{stop}]"
                names.append(labels_layer.name + part)
                parts.append((image_layer.name, part))
        elif len(spatial) == ndim:
            images.append(data[0])
            labels.append(target)
            names.append(labels_layer.name)
            parts.append((image_layer.name, ""))
        else:
            raise ValueError(f"image '{image_layer.name}' is {spatial}; the model is {ndim}D")
    if not images or not any(label.any() for label in labels):
        raise ValueError(_nothing_to_learn(pairs))
    spatial_axes = "ZYX" if ndim == 3 else "YX"
    # what its errors name: each layer by its kind ("labels 'X' ... of the image 'Y'")
    sources = [
        (f"'{image}{part}'", f"labels '{name}'") for (image, part), name in zip(parts, names)
    ]
    return load_pairs(images, labels, spatial_axes, 1, normalization, names, sources)


def _movie_samples(pairs, window: int, normalization: dict) -> list:
    """A time-lapse model's samples: each labelled frame's labels with the window of frames
    around it (frames beyond an end repeat it), each frame normalised alone. A 2D image is a
    one-frame movie."""
    from tessella.engine.axes import spatial_of, to_model_layout
    from tessella.engine.train.data import Sample
    from tessella.engine.train.timelapse import stack_window, window_indices

    samples = []
    for image_layer, labels_layer in pairs:
        image, target = _pair_arrays(image_layer, labels_layer)
        axes = training_axes(image_layer, temporal=True)
        if "T" not in axes and spatial_of(axes) == "YX":  # one frame: a one-frame movie
            axes, image, target = "T" + axes, image[None], target[None]
        if "T" not in axes or spatial_of(axes) != "YX":
            raise ValueError(
                f"image '{image_layer.name}' (axes {axes or '?'}): a time-lapse model trains "
                "on a movie (TYX) or a 2D image"
            )
        mismatch = pair_mismatch(image_layer, labels_layer, temporal=True)
        if mismatch:
            raise ValueError(mismatch)
        frame_axes = axes.replace("T", "")
        frames = np.moveaxis(image, axes.index("T"), 0)
        layout = [to_model_layout(f, frame_axes, "YX", 1) for f in frames]
        for t in range(len(frames)):
            if target[t].any():
                stacked = stack_window(
                    [layout[i] for i in window_indices(t, len(frames), window)], normalization
                )
                name = f"{labels_layer.name}[t={t}]"
                samples.append(Sample(stacked, target[t].astype(np.int32), name))
    if not samples:
        raise ValueError(_nothing_to_learn(pairs))
    return samples


def default_holdout(pairs, ndim: int, temporal: bool) -> list[str]:
    """The hold-out the panel proposes for ``pairs``: for each volume (or movie, for a
    time-lapse model) the last fifth of its labelled slices (frames), at least one, as one
    contiguous range in ``--holdout``'s syntax, ``LABELS[z=A:B]`` (``[t=A:B]``); a slice's
    neighbours are near copies of it, so a random set of them would score the model on what it
    learnt. Nothing for 2D images: a random fifth of them is held out."""
    selectors = []
    for image_layer, labels_layer in pairs:
        axes = training_axes(image_layer, temporal)
        axis = "t" if temporal and "T" in axes else "z" if "Z" in axes else None
        target = full_resolution(labels_layer)
        if axis is None or len(target.shape) != 3:
            continue
        labelled = [i for i in range(target.shape[0]) if np.any(target[i])]
        if len(labelled) < 2:
            continue
        first = labelled[-max(1, round(len(labelled) * HOLDOUT_FRACTION))]
        selectors.append(f"{labels_layer.name}[{axis}={first}:{target.shape[0]}]")
    return selectors


def _selectors(text: str) -> tuple[str, ...]:
    """The comma-separated hold-out selectors of the Hold out field."""
    return tuple(s.strip() for s in text.split(",") if s.strip())
