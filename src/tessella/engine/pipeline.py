"""The one entry point the CLI, the widgets and blockwise segmentation call.

model (from the registry) -> ``predict`` (tiling, TTA, the network) -> ``postprocess``.
:func:`segment_steps` is the generator form: it yields :class:`~tessella.engine.progress.Progress`
once per window so a caller can show progress and cancel (by closing the generator).
"""

from __future__ import annotations

import warnings
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np

from .axes import check_axes, guess_axes, spatial_of, to_model_layout
from .device import execution_plan, resolve_device
from .inference import NetworkRunner, prepare_network
from .io import as_array
from .memory import retain_freed_memory
from .methods import Prediction, get_method
from .normalize import check_finite_and_varied, normalize
from .params import make_params, params_to_dict
from .progress import Progress
from .registry import LoadedModel, load_model
from .tiling import tile_grid

__all__ = [
    "DEFAULT_MODEL",
    "SegmentResult",
    "resolve_params",
    "predict_steps",
    "postprocess",
    "postprocess_with_lineage",
    "segment_steps",
    "window_of",
    "series_without_blank_frames",
    "number_frame",
    "number_frames",
    "without_blank_parts",
    "segment",
    "run_steps",
]

DEFAULT_MODEL = "nuclei2d"


@dataclass
class SegmentResult:
    labels: np.ndarray  # the input's axes without C, e.g. YX, ZYX, TYX
    axes: str
    predictions: list[Prediction]  # one per time point
    params: Any
    model: LoadedModel
    options: dict = field(default_factory=dict)
    #: time-lapse methods that link frames: ``{child track: parent track}`` (divisions)
    lineage: dict[int, int] | None = None

    def recipe(self) -> dict:
        """What reproduces this result: model, its hash, parameters and options."""
        from .. import __version__
        from .registry import model_reference

        return {
            "tessella_version": __version__,
            **model_reference(self.model),
            "method": self.model.card.method,
            "params": params_to_dict(self.params),
            **self.options,
        }


_Result = TypeVar("_Result")


def run_steps(generator: Generator[Any, Any, _Result]) -> _Result:
    """Drive a step generator to the end and return its value (no progress shown)."""
    while True:
        try:
            next(generator)
        except StopIteration as stop:
            return stop.value


def _as_model(model: str | LoadedModel | None) -> LoadedModel:
    import os

    if isinstance(model, LoadedModel):
        return model
    if model is not None and not isinstance(model, str | os.PathLike):
        raise TypeError(
            "model must be a model name, a model folder or a .zip package (a path), or a "
            f"loaded model, not {type(model).__name__}"
        )
    return load_model(model or DEFAULT_MODEL)


def resolve_params(model: LoadedModel, params: Any = None, **overrides):
    """The model's default parameters, then ``params`` (a Params or a dict), then overrides."""
    method = get_method(model.card.method)
    base = make_params(method.Params, **model.card.defaults.get("params", {}))
    if isinstance(params, method.Params):
        base = params
    elif params is not None and not isinstance(params, dict):
        raise TypeError(
            f"params must be a dict of parameter values (or {method.Params.__name__}), not "
            f"{type(params).__name__}: e.g. params={{'min_size': 20}}"
        )
    elif params:
        base = make_params(method.Params, base, **params)
    return make_params(method.Params, base, **overrides) if overrides else base


_RUNNERS: dict[tuple, Any] = {}


def _runner(model: LoadedModel, device: str, tta: bool) -> NetworkRunner:
    method = get_method(model.card.method)
    plan = execution_plan(device)
    key = (id(model.network), model.card.sha256, plan)
    if key not in _RUNNERS:
        _RUNNERS.clear()  # keep one prepared network: they can be large
        _RUNNERS[key] = prepare_network(model.network, plan)
    ndim = len(model.card.spatial_axes)
    return NetworkRunner(
        _RUNNERS[key],
        plan,
        lambda raw: method.activate(raw, ndim),
        method.OUTPUT_KINDS,
        ndim,
        tta=tta,
    )


def _check_call(image, **flags) -> None:
    """Refuse what the Python API cannot take, with a TypeError saying what it takes: an
    image that is no array (a path, a list) and switches that are not True, False or None."""
    import os

    if isinstance(image, str | os.PathLike):
        raise TypeError(
            f"segment takes an array, not the path {str(image)!r}: read the file with "
            "tessella.engine.io.read_image(path).data (its .axes says the axes)"
        )
    if not (hasattr(image, "dtype") and hasattr(image, "shape")):
        raise TypeError(f"segment takes an array (numpy, dask or zarr), not {type(image).__name__}")
    if not isinstance(getattr(image.dtype, "kind", None), str):  # a torch tensor, say
        raise TypeError(
            f"segment takes an array (numpy, dask or zarr), not {type(image).__name__}"
            + (": pass tensor.cpu().numpy()" if type(image).__module__.startswith("torch") else "")
        )
    for flag, value in flags.items():
        if value is not None and not isinstance(value, bool | np.bool_):
            raise TypeError(f"{flag} must be True, False or None, not {value!r}")


def _check_options(axes, tile, spacing, name: str):
    """Refuse option values of the wrong kind with a TypeError or ValueError saying what each
    takes; returns ``spacing`` as floats (a dict as it is)."""
    if axes is not None and not isinstance(axes, str):
        raise TypeError(f"axes must be a string such as 'YX' or 'ZYX', not {axes!r}")
    if tile is not None and (
        isinstance(tile, bool) or not isinstance(tile, int | np.integer) or tile <= 0
    ):
        raise ValueError(f"tile must be a positive number of pixels, not {tile!r}")
    if spacing is None or isinstance(spacing, dict):
        return spacing  # a dict is matched to the image's axes in segment_steps
    try:
        values = tuple(float(v) for v in spacing)
    except (TypeError, ValueError):
        raise TypeError(
            f"{name}: spacing must be the voxel size per spatial axis (numbers), not {spacing!r}"
        ) from None
    if not all(np.isfinite(v) and v > 0 for v in values):
        raise ValueError(f"{name}: spacing must be positive numbers, got {list(values)}")
    return values


def _check_image(image: np.ndarray, axes: str | None, model: LoadedModel, name: str) -> str:
    image_kind = getattr(image, "dtype", np.dtype(object)).kind
    if image_kind not in "biuf":
        raise ValueError(f"{name}: unsupported pixel type {image.dtype}")
    axes = check_axes(axes or guess_axes(image.shape), image.ndim, name)
    if "C" in axes and model.card.channels == 1:
        n = image.shape[axes.index("C")]
        if n not in (1, 3, 4):
            raise ValueError(
                f"{name}: {n} channels (axes {axes}); model {model.card.name!r} reads one: "
                "segment the channel you want alone (or give axes without C)"
            )

    expected = model.card.spatial_axes
    if _slicewise(axes, model):
        return axes
    if window_of(model.card) > 1 and spatial_of(axes) == "ZYX" and "T" not in axes:
        raise ValueError(
            f"{name}: model {model.card.name!r} segments time-lapses of 2D frames (TYX); the "
            f"image has axes {axes}: if its first axis is time, give axes TYX"
        )
    if spatial_of(axes) != expected:
        hint = (
            "; for a stack of 2D images use axes TYX (CYX if its planes are channels)"
            if axes == "ZYX"
            else ""
        )
        raise ValueError(
            f"{name}: axes {axes} do not fit model {model.card.name!r}, which segments "
            f"{expected} images{hint}"
        )
    return axes


def _slicewise(axes: str, model: LoadedModel) -> bool:
    """True when a 2D model segments a volume slice by slice with 3D post-processing (methods
    with ``SLICEWISE_3D``, e.g. boundary prediction on anisotropic EM stacks)."""
    method = get_method(model.card.method)
    return (
        getattr(method, "SLICEWISE_3D", False)
        and model.card.spatial_axes == "YX"
        and spatial_of(axes) == "ZYX"
    )


def _model_input(frame, frame_axes, card, name, invert=None) -> np.ndarray:
    """One frame in the model's layout ``(C, *spatial)``, normalised (``invert``: see
    :func:`~tessella.engine.normalize.normalize`). A constant frame (a blank frame or slice
    of a stack that is not blank as a whole) becomes zeros; its labels are cleared after
    (:func:`without_blank_parts`)."""
    if np.issubdtype(frame.dtype, np.floating) and not np.isfinite(frame).all():
        raise ValueError(f"{name} contains NaN or infinite values")
    data = to_model_layout(
        frame, frame_axes, card.spatial_axes, card.channels, card.input.get("rgb", "mean")
    )
    return normalize(data, card.normalization, invert)


def window_of(card) -> int:
    """Frames a time-lapse model reads per prediction (1 for every other model)."""
    return int(card.input.get("window", 1))


def _predict_frame(runner, frames, frame_axes, card, tile, halo, multiple, name, invert=None):
    """One frame's network outputs, as a generator of tile progress (done, total).

    ``frames`` is one frame, or for a time-lapse model the window of frames (stacked along
    channels, each normalised on its own, as in training)."""
    if isinstance(frames, list):
        data = np.concatenate([_model_input(f, frame_axes, card, name, invert) for f in frames])
    else:
        data = _model_input(frames, frame_axes, card, name, invert)
    ndim = len(card.spatial_axes)
    pad_mode = str(card.defaults.get("pad", "reflect"))
    return (yield from runner.predict(data, (tile,) * ndim, (halo,) * ndim, multiple, pad_mode))


def predict_steps(
    image: np.ndarray,
    model: str | LoadedModel | None = None,
    axes: str | None = None,
    tta: bool | None = None,
    tile: int | None = None,
    device: str = "auto",
    name: str = "image",
    spacing: tuple[float, ...] | None = None,
    invert: bool | None = None,
) -> Generator[Progress, None, list[Prediction]]:
    """Network outputs for every time point of ``image`` (one :class:`Prediction` each).

    A 2D model of a method with ``SLICEWISE_3D`` predicts a ZYX volume slice by slice and
    returns one 3D prediction per time point. ``spacing`` (the voxel size along the
    prediction's spatial axes) goes into the predictions' ``meta`` for post-processing.
    ``invert`` (None: as the model's card says) inverts the image's intensities before the
    network (True) or keeps them (False): for a polarity the card's rule gets wrong.
    """
    with retain_freed_memory():  # no page faults for each window's feature maps
        return (
            yield from _predict_steps(image, model, axes, tta, tile, device, name, spacing, invert)
        )


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
) -> Generator[Progress, None, list[Prediction]]:
    model = _as_model(model)
    axes = _check_image(image, axes, model, name)
    card = model.card
    if "C" in axes and card.channels == 1 and image.shape[axes.index("C")] > 1:
        if not axes.endswith("C"):  # channels first: separate stains, not a colour photo?
            # (or frames of a time-lapse, or slices of a stack a slice-by-slice model takes,
            # that a TIFF's tags called planar RGB, as a plain tifffile.imwrite of 3-4 planes does)
            hint = "if they are separate stains, segment the channel you want alone"
            if window_of(card) > 1 and axes.startswith("C"):
                hint = f"if these are frames, use --axes T{axes[1:]} (Axes in the Segment panel)"
            elif axes == "CYX" and _slicewise("ZYX", model):
                hint = (
                    "if these are slices of a stack, use --axes ZYX (Axes in the Segment "
                    f"panel), which {card.name!r} segments slice by slice; or {hint}"
                )
            warnings.warn(
                f"{name}: its {image.shape[axes.index('C')]} channels (axes {axes}) are "
                f"averaged into the one channel model {card.name!r} reads, as for a colour "
                f"image; {hint}",
                stacklevel=2,
            )
    tta = bool(card.defaults.get("tta", False)) if tta is None else tta
    ndim = len(card.spatial_axes)
    tile = int(tile or card.defaults.get("tile", 1024))
    halo = int(card.defaults.get("halo", 32))
    frames = image.shape[axes.index("T")] if "T" in axes else 1
    frame_axes = axes.replace("T", "")
    slicewise = _slicewise(axes, model)
    slices = image.shape[axes.index("Z")] if slicewise else 1
    slice_axes = frame_axes.replace("Z", "") if slicewise else frame_axes
    runner = _runner(model, device, tta)
    multiple = getattr(model.network, "multiple", 1)
    spatial_shape = tuple(image.shape[axes.index(a)] for a in card.spatial_axes)
    grid = tile_grid(spatial_shape, (tile,) * ndim, (halo,) * ndim, multiple)
    total = frames * slices * grid.n_tiles
    meta = dict(card.method_args)
    if hasattr(model.network, "decoder_weights"):  # patches: the codes' decoder
        meta["decoder"] = model.network.decoder_weights()
    if spacing is not None:
        meta["spacing"] = tuple(float(s) for s in spacing)
    predictions = []
    window = window_of(card)

    def frame_at(t):
        if "T" not in axes:
            return as_array(image, name)
        return as_array(image, name, f"frame {t}", (slice(None),) * axes.index("T") + (t,))

    if isinstance(image, np.ndarray):  # the whole image at once; a part may be blank
        check_finite_and_varied(image, name)
    blank_parts = 0  # lazy data (dask, zarr) is read frame by frame: counted as it comes
    yield Progress("predict", 0, total)
    for t in range(frames):
        frame = frame_at(t)
        own = frame  # the frame itself, not the window around it
        frame_meta = dict(meta)
        if slicewise:
            z_axis = frame_axes.index("Z")
            blank = [z for z in range(slices) if _is_constant(np.take(own, z, axis=z_axis))]
            if blank:
                frame_meta["blank_slices"] = blank
            blank_parts += len(blank)
        elif _is_constant(own):
            frame_meta["blank"] = True
            blank_parts += 1
        if blank_parts == frames * slices:  # every part so far, and this was the last
            check_finite_and_varied(np.asarray(own), name)
        if window > 1:  # the window around frame t, edges repeated (as in training)
            from .train.timelapse import window_indices

            target = card.input.get("target", "centre")
            frame = [frame_at(i) for i in window_indices(t, frames, window, target)]
        parts = []
        for z in range(slices):
            part = np.take(frame, z, axis=frame_axes.index("Z")) if slicewise else frame
            label = name + (f" (frame {t})" if "T" in axes else "")
            label += f" (slice {z})" if slicewise else ""
            steps = _predict_frame(
                runner, part, slice_axes, card, tile, halo, multiple, label, invert
            )
            done_before = (t * slices + z) * grid.n_tiles
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
    return predictions


def _is_constant(array: np.ndarray) -> bool:
    return bool(array.size) and array.min() == array.max()


def series_without_blank_frames(
    labels: np.ndarray, lineage, predictions: list[Prediction], linked: bool = True
):
    """A movie's ``(labels, lineage)`` with its blank frames cleared
    (:func:`without_blank_parts`) and, when ``linked``, each track that crossed one split
    there, the piece after it continuing the one before
    (:func:`~tessella.engine.tracking.split_at_gaps`). Unlinked, the frames are numbered
    across the movie (:func:`number_frames`): every object its own ID, no tracks, so
    nothing is split."""
    from .tracking import split_at_gaps

    labels = np.stack([without_blank_parts(f, p) for f, p in zip(labels, predictions)])
    if not linked:
        return number_frames(labels), lineage
    if any(p.meta.get("blank") for p in predictions):
        labels, lineage = split_at_gaps(labels, lineage)
        present = set(np.unique(labels).tolist())  # a track only in blank frames is gone
        lineage = {c: p for c, p in lineage.items() if c in present and p in present}
    return labels, lineage


def number_frame(labels: np.ndarray, after: int = 0) -> tuple[np.ndarray, int]:
    """One frame's ``labels`` renumbered ``after + 1 .. after + n`` in the order of their
    IDs (0 stays 0); returns them and ``after + n``, where the next frame's IDs start.

    Examples
    --------
    >>> frame, last = number_frame(np.array([[0, 7], [3, 7]]), after=10)
    >>> frame.tolist(), last
    ([[0, 12], [11, 12]], 12)
    """
    labels = np.asarray(labels)
    if labels.dtype.kind not in "iu":
        raise TypeError(f"labels must be integers, not {labels.dtype}")
    ids = np.unique(labels)
    ids = ids[ids > 0]
    last = after + int(ids.size)
    dtype = labels.dtype
    if last > np.iinfo(dtype).max:
        dtype = np.dtype(np.int64)
    if ids.size == 0:
        return np.zeros(labels.shape, dtype), last
    if ids[-1] <= 4 * labels.size:  # a lookup table: one pass over the pixels
        table = np.zeros(int(ids[-1]) + 1, dtype)
        table[ids] = np.arange(after + 1, last + 1)
        return table[labels], last
    position = np.searchsorted(ids, labels)
    found = np.minimum(position, ids.size - 1)
    numbered = np.where(ids[found] == labels, position + after + 1, 0)
    return numbered.astype(dtype, copy=False), last


def number_frames(frames) -> np.ndarray:
    """A movie's labels (frames along the first axis) with one ID per object of the whole
    movie, as blockwise segmentation numbers them: frame by frame, each frame's objects
    1..n in the order of their IDs, after all objects of the frames before it. For labels
    whose frames were segmented each on its own (nothing linked them): the same ID in two
    frames would claim one object where there are two.

    Examples
    --------
    >>> number_frames(np.array([[[1, 0, 2]], [[0, 1, 1]], [[0, 0, 0]], [[5, 0, 3]]]))[:, 0].tolist()
    [[1, 0, 2], [0, 3, 3], [0, 0, 0], [5, 0, 4]]
    """
    numbered, after = [], 0
    for frame in frames:
        frame, after = number_frame(frame, after)
        numbered.append(frame)
    dtype = np.result_type(*(f.dtype for f in numbered))
    return np.stack([f.astype(dtype, copy=False) for f in numbered])


def without_blank_parts(labels: np.ndarray, prediction: Prediction, plane: int | None = None):
    """``labels`` post-processed from ``prediction`` with those of a blank (constant) frame,
    or of its blank Z slices, cleared: whatever the network makes of nothing is not kept.
    ``plane``: ``labels`` are that Z slice alone."""
    slices = prediction.meta.get("blank_slices") or ()
    if prediction.meta.get("blank") or (plane is not None and plane in slices):
        return np.zeros_like(labels)
    if slices and plane is None:
        labels = labels.copy()
        labels[list(slices)] = 0
    return labels


def postprocess(model: LoadedModel, predictions: list[Prediction], params) -> np.ndarray:
    """Labels for every time point, stacked along T when there are several."""
    return postprocess_with_lineage(model, predictions, params)[0]


def postprocess_with_lineage(model: LoadedModel, predictions: list[Prediction], params):
    """``(labels, lineage)``: time-lapse methods (``postprocess_series``) smooth along time
    and link the frames; the lineage is ``None`` for every other method.

    Several time points not linked into tracks (every other method, or ``link`` off) are
    numbered across the movie (:func:`number_frames`), as blockwise segmentation numbers
    them: one ID is one object, never two cells in two frames."""
    method = get_method(model.card.method)
    if hasattr(method, "postprocess_series"):
        labels, lineage = method.postprocess_series(predictions, params)
        linked = bool(getattr(params, "link", True))
        labels, lineage = series_without_blank_frames(labels, lineage, predictions, linked)
        return (labels[0] if len(labels) == 1 else labels), lineage
    labels = [without_blank_parts(method.postprocess(p, params), p) for p in predictions]
    return (labels[0] if len(labels) == 1 else number_frames(labels)), None


def segment_steps(
    image: np.ndarray,
    model: str | LoadedModel | None = None,
    axes: str | None = None,
    params: Any = None,
    tta: bool | None = None,
    tile: int | None = None,
    device: str = "auto",
    name: str = "image",
    spacing: tuple[float, ...] | None = None,
    invert: bool | None = None,
) -> Generator[Progress, None, SegmentResult]:
    """Segment ``image``; yields progress, returns a :class:`SegmentResult`.

    Parameters are validated before the network runs, so a bad value fails at once.
    ``spacing`` is the voxel size along the spatial axes (anisotropic volumes), or a dict of
    sizes by axis as :func:`~tessella.engine.io.read_image` gives ``pixel_size`` (used when it
    names every spatial axis, as ``tessella segment`` uses a file's). ``invert``: see
    :func:`predict_steps` (the recipe records it when given).
    """
    _check_call(image, tta=tta, invert=invert)
    spacing = _check_options(axes, tile, spacing, name)
    model = _as_model(model)
    resolved = resolve_params(model, params)
    axes = _check_image(image, axes, model, name)
    if isinstance(spacing, dict):  # read_image's pixel_size: used when it has every axis
        sizes = {str(k).upper(): v for k, v in spacing.items()}
        missing = [a for a in spatial_of(axes) if a not in sizes]
        known = not missing
        if sizes and missing:  # (an empty dict, a file without pixel size, says nothing)
            warnings.warn(
                f"{name}: spacing {spacing} names no size for {', '.join(missing)} of the "
                f"spatial axes {spatial_of(axes)}: ignored, the image is taken as isotropic",
                stacklevel=2,
            )
        spacing = (
            _check_options(None, None, [sizes[a] for a in spatial_of(axes)], name)
            if known
            else None
        )
    if spacing is not None and len(spacing) != len(spatial_of(axes)):
        raise ValueError(
            f"{name}: spacing {list(spacing)} gives {len(spacing)} sizes but the image has "
            f"{len(spatial_of(axes))} spatial axes ({spatial_of(axes)})"
        )
    predictions = yield from predict_steps(
        image, model, axes, tta, tile, device, name, spacing, invert
    )
    yield Progress("postprocess", 0, len(predictions))
    labels, lineage = postprocess_with_lineage(model, predictions, resolved)
    yield Progress("postprocess", len(predictions), len(predictions))
    out_axes = axes.replace("C", "")
    if "T" in axes and labels.ndim == len(out_axes) - 1:
        labels = labels[None]
    defaults = model.card.defaults
    options = {
        "axes": axes,
        "tta": bool(defaults.get("tta", False)) if tta is None else bool(tta),
        "tile": int(tile or defaults.get("tile", 1024)),
        "device": resolve_device(device),
    }
    if spacing is not None:
        options["spacing"] = [float(s) for s in spacing]
    if invert is not None:
        options["invert"] = bool(invert)
    return SegmentResult(labels, out_axes, predictions, resolved, model, options, lineage)


def segment(
    image: np.ndarray,
    model: str | LoadedModel | None = None,
    axes: str | None = None,
    *,
    tta: bool | None = None,
    tile: int | None = None,
    device: str = "auto",
    invert: bool | None = None,
    spacing: tuple[float, ...] | None = None,
    params: Any = None,
    **overrides,
) -> np.ndarray:
    """Segment ``image`` and return its labels; ``params`` (a dict) and keyword arguments set
    parameters, the keywords last (``invert``: see :func:`predict_steps`). ``spacing`` is
    the voxel size along the image's spatial axes, or :func:`~tessella.engine.io.read_image`'s
    ``pixel_size`` dict as it is (see :func:`segment_steps`): post-processing of anisotropic
    volumes uses it, as ``tessella segment`` does with a file's voxel size.

    Examples
    --------
    >>> import tessella
    >>> labels = tessella.segment(image, model="nuclei2d", seed_thresh=0.8)  # doctest: +SKIP
    >>> volume = tessella.engine.io.read_image("stack.tif")  # doctest: +SKIP
    >>> labels = tessella.segment(volume.data, spacing=volume.pixel_size)  # doctest: +SKIP
    """
    _check_call(image, tta=tta, invert=invert)
    model = _as_model(model)
    if overrides:  # validated against the model's method, then the keywords win
        params = {**params_to_dict(resolve_params(model, params)), **overrides}
    result = run_steps(
        segment_steps(image, model, axes, params, tta, tile, device, spacing=spacing, invert=invert)
    )
    return result.labels
