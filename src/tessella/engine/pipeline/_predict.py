"""The network over every frame (and slice) of an image, window by window: its predictions."""

from __future__ import annotations

from collections.abc import Generator
from functools import partial
from typing import Any

import numpy as np

from ..axes import alpha_left_out
from ..device import execution_plan
from ..inference import NetworkRunner, prepare_network
from ..io import as_array
from ..methods import Prediction, get_method
from ..normalize import blank_slices, check_finite_and_varied, is_blank
from ..progress import Progress, warn_at_caller
from ..registry import LoadedModel
from ..tiling import tile_grid
from ._frames import predicted_frames
from ._input_check import PartsJudge
from ._inputs import (
    _as_model,
    _check_image,
    _model_channels,
    _model_input,
    _slicewise,
    window_of,
)

__all__ = [
    "_predict_steps",
    "channels_averaged",
    "constant_words",
    "model_runner",
    "predict_model_input",
    "prediction_meta",
]


_RUNNERS: dict[tuple, Any] = {}


def model_runner(
    model: LoadedModel, device: str, tta: bool | None = None, keep: bool = True
) -> NetworkRunner:
    """The runner Segment calls ``model``'s network through on ``device``: prepared as
    :func:`~tessella.engine.inference.prepare_network` prepares it (BatchNorm folded, the
    device's precision and memory layout), with the card's TTA where ``tta`` is None.
    ``keep``: the prepared network is kept for the next call with the same model (Segment's);
    False prepares a fresh copy and keeps nothing (a network whose weights change between
    calls, as training's validation scores one epoch after another)."""
    method = get_method(model.card.method)
    plan = execution_plan(device)
    tta = bool(model.card.defaults.get("tta", False)) if tta is None else tta
    if keep:
        key = (id(model.network), model.card.sha256, plan)
        if key not in _RUNNERS:
            _RUNNERS.clear()  # keep one prepared network: they can be large
            _RUNNERS[key] = prepare_network(model.network, plan)
        network = _RUNNERS[key]
    else:
        network = prepare_network(model.network, plan)
    ndim = len(model.card.spatial_axes)
    return NetworkRunner(
        network,
        plan,
        lambda raw: method.activate(raw, ndim),
        method.OUTPUT_KINDS,
        ndim,
        tta=tta,
    )


def predict_model_input(
    runner: NetworkRunner, data: np.ndarray, model: LoadedModel, tile: int | None = None
) -> Generator[Progress, None, dict[str, np.ndarray]]:
    """The network outputs of ``data`` as Segment predicts them: ``data`` is one frame (for
    a time-lapse model, its window of frames along the channels) in the model's layout
    ``(C, *spatial)``, normalised; it is padded by the card's halo on every side in the
    card's pad mode and run window by window (``tile``: the card's tile edge by default).
    Yields progress per window (see :func:`~tessella.engine.tiling.predict_tiled`)."""
    card = model.card
    ndim = len(card.spatial_axes)
    tile = int(tile or card.defaults.get("tile", 1024))
    halo = int(card.defaults.get("halo", 32))
    pad_mode = str(card.defaults.get("pad", "reflect"))
    multiple = getattr(model.network, "multiple", 1)
    return (yield from runner.predict(data, (tile,) * ndim, (halo,) * ndim, multiple, pad_mode))


def prediction_meta(model: LoadedModel) -> dict:
    """What post-processing reads of ``model`` besides the network outputs: the card's
    ``method_args`` and, for the patches method, the codes' decoder."""
    meta = dict(model.card.method_args)
    if hasattr(model.network, "decoder_weights"):  # patches: the codes' decoder
        meta["decoder"] = model.network.decoder_weights()
    return meta


def _predict_frame(runner, frames, frame_axes, model, tile, name, invert=None, look=None, blank=()):
    """One frame's network outputs, as a generator of tile progress (done, total).

    ``frames`` is one frame, or for a time-lapse model the window of frames (stacked along
    channels, each normalised on its own, as in training). ``look``, if given, is called
    with the normalised network input first (the check that the image looks like the
    model's training images), and the ``blank`` slices. ``blank``: the blank Z slices of a
    volume a 3D model reads, left out of its normalisation
    (:func:`~tessella.engine.normalize.normalize`) and of that check."""
    card = model.card
    if isinstance(frames, list):
        data = np.concatenate([_model_input(f, frame_axes, card, name, invert) for f in frames])
    else:
        data = _model_input(frames, frame_axes, card, name, invert, blank)
    if look is not None:
        look(data, blank)
    return (yield from predict_model_input(runner, data, model, tile))


def averaged_channels(shape, axes: str, card) -> int:
    """How many channels of an image of ``shape`` and ``axes`` the one-channel model of
    ``card`` averages into one; 0 where none are (no C axis, one channel, a model of several).

    >>> from types import SimpleNamespace
    >>> averaged_channels((64, 64, 3), "YXC", SimpleNamespace(channels=1))
    3
    """
    if "C" not in axes or len(shape) != len(axes) or card.channels != 1:
        return 0
    count = int(shape[axes.index("C")])
    return count if count > 1 else 0


def averaged_words(count: int, card, axes: str = "") -> str:
    """The words both the warning and the Segment panel's status line say of ``count``
    channels (axes ``axes``) averaged for ``card``'s one-channel model: of 4 channels last
    (RGBA) the 4th, the transparency, is left out (:func:`~tessella.engine.axes.alpha_left_out`).

    >>> from types import SimpleNamespace
    >>> print(averaged_words(4, SimpleNamespace(name="nuclei2d"), "YXC"))
    ... # doctest: +NORMALIZE_WHITESPACE
    its 4th channel is read as transparency (alpha, as in an RGBA image) and left out; its 3
    colour channels are averaged into the one channel model 'nuclei2d' reads
    """
    if alpha_left_out(axes, count):
        return (
            "its 4th channel is read as transparency (alpha, as in an RGBA image) and left "
            f"out; its 3 colour channels are averaged into the one channel model {card.name!r} "
            "reads"
        )
    return f"its {count} channels are averaged into the one channel model {card.name!r} reads"


def channels_averaged(shape, dtype, axes: str, model: LoadedModel, name: str) -> str:
    """The warning (one line, naming ``name``) for an image of ``shape``, ``dtype`` and
    ``axes`` whose several channels ``model`` (of one input channel) averages: separate
    stains, frames or slices more likely than a colour photo; "" where none is due (one
    channel, a model of several, an 8-bit YXC photo averaged as its card says). The one
    rule, in memory and blockwise (which warns once, not per block)."""
    card = model.card
    if not averaged_channels(shape, axes, card):
        return ""
    if not axes.endswith("C"):  # channels first: separate stains, not a colour photo?
        # (or frames of a time-lapse, or slices of a stack a slice-by-slice model takes,
        # that a TIFF's tags called planar RGB, as a plain tifffile.imwrite of 3-4 planes does)
        hint = (
            "if they are separate stains, choose one (read_image's channel= in Python, "
            "--channel on the command line)"
        )
        if window_of(card) > 1 and axes.startswith("C"):
            hint = f"if these are frames, use --axes T{axes[1:]} (Axes in the Segment panel)"
        elif axes == "CYX" and _slicewise("ZYX", model):
            hint = (
                "if these are slices of a stack, use --axes ZYX (Axes in the Segment "
                f"panel), which {card.name!r} segments slice by slice; or {hint}"
            )
        return (
            f"{name}: its {shape[axes.index('C')]} channels (axes {axes}) are "
            f"averaged into the one channel model {card.name!r} reads, as for a colour "
            f"image; {hint}"
        )
    count = shape[-1]
    if np.dtype(dtype) == np.uint8 and card.input.get("rgb", "mean") == "mean":
        if alpha_left_out(axes, count):  # an 8-bit RGBA photo: its alpha is not averaged
            return f"{name}: {averaged_words(count, card, axes)}"
        return ""  # an 8-bit colour photo, averaged as the card says
    # channels last but no 8-bit colour photo averaged as the card says: separate
    # stains most likely (a uint16 (Y, X, 3) TIFF, which tifffile tags RGB)
    which = (
        ": the 4th is read as transparency (alpha, as in an RGBA image) and left out, the "
        "first 3 are averaged"
        if alpha_left_out(axes, count)
        else " are averaged"
    )
    return (
        f"{name}: its {count} channels (axes {axes}, {np.dtype(dtype)}){which} into "
        f"the one channel model {card.name!r} reads; if they are separate stains, "
        f"choose one (read_image's channel= in Python, --channel N on the command "
        f"line: 0 to {count - 1})"
    )


def _check_whole(image: np.ndarray, name: str) -> bool:
    """Refuse an empty image or one with NaN/inf (:func:`check_finite_and_varied`); warn of a
    constant one and say so (True): it is segmented as it is, its parts all blank and given no
    labels. A blank image (the empty well of a plate) is a result, 0 objects, not an error."""
    floating = np.issubdtype(image.dtype, np.floating)
    if image.size and image.min() == image.max() and not (floating and np.isinf(image.flat[0])):
        warn_at_caller(constant_words(name, image.flat[0]))
        return True
    check_finite_and_varied(image, name)
    return False


def constant_words(name: str, value=None) -> str:
    """The warning of a constant (blank) image, the same in memory and blockwise: ``value``
    its one pixel value, or None where its parts (frames, slices, the channels the model
    reads) are each constant at a value of their own."""
    if value is None:
        said = "blank (each of its frames, slices and channels the model reads is constant)"
    else:
        said = f"constant (every pixel is {value})"
    return f"{name} is {said}: nothing to segment, 0 objects"


def _predict_steps(
    image: np.ndarray,
    model: str | LoadedModel | None,
    axes: str | None,
    tta: bool | None,
    tile: int | None,
    device: str,
    name: str,
    spacing: tuple[float, ...] | None,
    invert: bool | None = None,
    frames: range | None = None,
    context: int = 0,
) -> Generator[Progress, None, list[Prediction]]:
    """The predictions of every frame of ``image`` (``frames``: of those indices alone, each
    from its window of the whole movie; ``context``: the foreground of as many frames on
    either side predicted too, kept in the first and last predictions' ``meta``, for the
    smoothing along time of :mod:`~tessella.engine.methods.temporal`)."""
    model = _as_model(model)
    axes = _check_image(image, axes, model, name)
    card = model.card
    averaged = channels_averaged(image.shape, image.dtype, axes, model, name)
    if averaged:
        warn_at_caller(averaged)
    tta = bool(card.defaults.get("tta", False)) if tta is None else tta
    ndim = len(card.spatial_axes)
    tile = int(tile or card.defaults.get("tile", 1024))
    halo = int(card.defaults.get("halo", 32))
    movie_frames = image.shape[axes.index("T")] if "T" in axes else 1
    wanted = range(movie_frames) if frames is None else frames
    # the frames predicted: those wanted and their context, within the movie
    done = predicted_frames(wanted, movie_frames, context)
    count = len(done)  # frames predicted
    frame_axes = axes.replace("T", "")
    slicewise = _slicewise(axes, model)
    slices = image.shape[axes.index("Z")] if slicewise else 1
    slice_axes = frame_axes.replace("Z", "") if slicewise else frame_axes
    runner = model_runner(model, device, tta)
    multiple = getattr(model.network, "multiple", 1)
    spatial_shape = tuple(image.shape[axes.index(a)] for a in card.spatial_axes)
    grid = tile_grid(spatial_shape, (tile,) * ndim, (halo,) * ndim, multiple)
    total = count * slices * grid.n_tiles
    meta = prediction_meta(model)
    if spacing is not None:
        meta["spacing"] = tuple(float(s) for s in spacing)
    predictions = []
    window = window_of(card)
    # (an image whose channels were averaged has been warned of already: one line is enough)
    kind = "slices" if slicewise and count == 1 else "frames" if not slicewise else "parts"
    judge = None if averaged else PartsJudge(card, name, count * slices, kind)

    def frame_at(t):
        if "T" not in axes:
            return as_array(image, name)
        return as_array(image, name, f"frame {t}", (slice(None),) * axes.index("T") + (t,))

    # the whole image at once where it is in memory; a part may be blank
    warned = isinstance(image, np.ndarray) and _check_whole(image, name)
    blank_parts = 0  # lazy data (dask, zarr) is read frame by frame: counted as it comes
    yield Progress("predict", 0, total)
    for t in done:
        frame = frame_at(t)
        own = frame  # the frame itself, not the window around it
        frame_meta = dict(meta)
        blank: list[int] = []
        # blank: every channel the model reads constant (normalize.is_blank, as blockwise)
        if slicewise:
            z_axis = frame_axes.index("Z")
            blank = [
                z
                for z in range(slices)
                if is_blank(_model_channels(np.take(own, z, axis=z_axis), slice_axes, card))
            ]
            if blank:
                frame_meta["blank_slices"] = blank
            blank_parts += len(blank)
        else:
            channels = _model_channels(own, frame_axes, card)
            if is_blank(channels):
                frame_meta["blank"] = True
                blank_parts += 1
            elif "Z" in frame_axes and window == 1:
                # a 3D model: its blank slices are left out of the normalisation and of the
                # input check, post-processed around (walls) and get no labels, as a
                # slice-wise model's (:func:`~tessella.engine.methods._base.in_blank_free_runs`)
                blank = blank_slices(channels)
                if blank:
                    frame_meta["blank_slices"] = blank
            del channels
        if blank_parts == count * slices and not warned:  # every part, this the last
            # one part: its value where constant (lazy data); else blank part by part
            if not (count * slices == 1 and _check_whole(np.asarray(own), name)):
                warn_at_caller(constant_words(name))
        if window > 1:  # the window around frame t, edges repeated (as in training)
            from ..train.timelapse import window_indices

            target = card.input.get("target", "centre")
            frame = [frame_at(i) for i in window_indices(t, movie_frames, window, target)]
        parts = []
        for z in range(slices):
            part = np.take(frame, z, axis=frame_axes.index("Z")) if slicewise else frame
            label = name + (f" (frame {t})" if "T" in axes else "")
            label += f" (slice {z})" if slicewise else ""
            where = ([f"frame {t}"] if "T" in axes else []) + ([f"slice {z}"] if slicewise else [])
            index = (t - done.start) * slices + z
            look = None if judge is None else partial(judge.see, index, ", ".join(where))
            steps = _predict_frame(
                runner,
                part,
                slice_axes,
                model,
                tile,
                label,
                invert,
                look,
                () if slicewise else blank,
            )
            done_before = index * grid.n_tiles
            while True:
                try:
                    progress = next(steps)
                except StopIteration as stop:
                    parts.append(stop.value)
                    break
                if progress.done:
                    yield Progress("predict", done_before + progress.done, total)
        if slicewise:  # (C, Y, X) per slice -> (C, Z, Y, X)
            outputs = {k: np.stack([p[k] for p in parts], axis=1) for k in parts[0]}
            spatial = "Z" + card.spatial_axes
        else:
            outputs, spatial = parts[0], card.spatial_axes
        predictions.append(Prediction(outputs, spatial, frame_meta))
    said = "" if judge is None else judge.verdict()
    if said:  # where the network input looks unlike the model's training images
        warn_at_caller(said)
    if done == wanted:
        return predictions
    return _with_context(predictions, wanted.start - done.start, done.stop - wanted.stop)


def _with_context(predictions: list[Prediction], before: int, after: int) -> list[Prediction]:
    """The predictions of the frames wanted, the ``before`` first and ``after`` last of
    ``predictions`` (context frames) left out but for their foreground maps, kept in the
    ``meta`` of the first and the last that are left (:data:`~tessella.engine.methods.temporal.
    CONTEXT_BEFORE` and ``CONTEXT_AFTER``), which smoothing along time reads."""
    from ..methods.temporal import CONTEXT_AFTER, CONTEXT_BEFORE

    kept = predictions[before : len(predictions) - after]
    if before:
        context = [p.arrays["foreground"] for p in predictions[:before]]
        kept[0] = Prediction(
            kept[0].arrays, kept[0].spatial_axes, kept[0].meta | {CONTEXT_BEFORE: context}
        )
    if after:
        context = [p.arrays["foreground"] for p in predictions[len(predictions) - after :]]
        last = kept[-1]
        kept[-1] = Prediction(last.arrays, last.spatial_axes, last.meta | {CONTEXT_AFTER: context})
    return kept
