"""The one entry point the CLI, the widgets and blockwise segmentation call.

model (from the registry) -> ``predict`` (tiling, TTA, the network) -> ``postprocess``.
:func:`segment_steps` is the generator form: it yields :class:`~tessella.engine.progress.Progress`
once per window so a caller can show progress and cancel (by closing the generator).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..axes import spatial_of
from ..device import resolve_device
from ..memory import retain_freed_memory
from ..methods import Prediction, get_method
from ..params import make_params, params_to_dict
from ..progress import Progress, run_steps, warn_at_caller
from ..registry import LoadedModel
from ._frames import (
    chosen_frames,
    frames_context,
    number_frame,
    number_frames,
    postprocess,
    postprocess_with_lineage,
    predicted_frames,
    series_without_blank_frames,
    without_blank_parts,
)
from ._inputs import (
    DEFAULT_MODEL,
    TooBigForMemory,
    _as_model,
    _check_call,
    _check_fits_memory,
    _check_image,
    _check_options,
    _image_and_metadata,
    default_model,
    missing_voxel_size,
    window_of,
)
from ._predict import _predict_steps, model_runner, predict_model_input, prediction_meta

__all__ = [
    "DEFAULT_MODEL",
    "chosen_frames",
    "frames_context",
    "predicted_frames",
    "default_model",
    "SegmentResult",
    "TooBigForMemory",
    "UnknownZSpacingWarning",
    "resolve_params",
    "predict_steps",
    "model_runner",
    "predict_model_input",
    "prediction_meta",
    "postprocess",
    "postprocess_with_lineage",
    "segment_steps",
    "missing_voxel_size",
    "window_of",
    "series_without_blank_frames",
    "number_frame",
    "number_frames",
    "without_blank_parts",
    "segment",
    "run_steps",
]


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

    def instances(self) -> np.ndarray:
        """The objects as an ``(N, Y, X)`` bool stack, overlaps kept (object ``k + 1`` of
        :attr:`labels` is ``instances()[k]``): what ``tessella segment --stack`` writes, for
        methods whose objects may overlap (``patches``: ``worms2d``'s crossing worms, of which
        :attr:`labels` shows one where they cross).

        Raises
        ------
        ValueError
            For a model whose objects do not overlap (its labels say it all), or a result of
            several frames.
        """
        method = get_method(self.model.card.method)
        if not hasattr(method, "instances"):
            raise ValueError(
                f"model {self.model.card.name!r} ({self.model.card.method}) makes objects that "
                "do not overlap: its labels say it all"
            )
        if len(self.predictions) != 1:
            raise ValueError(
                f"an instance stack is of one 2D image; this result has {len(self.predictions)} "
                "frames: segment them one by one"
            )
        return np.asarray(method.instances(self.predictions[0], self.params), bool)

    def with_params(self, params: Any = None, **overrides) -> SegmentResult:
        """This result post-processed again with other parameters, the network not run again:
        a new :class:`SegmentResult` with the same :attr:`predictions`, new :attr:`labels`
        (and lineage) and the new parameters in its :meth:`recipe`, as the Tune panel
        re-tunes. ``params`` (a dict, or the method's ``Params``) and the keywords (last)
        change this result's parameters; those not named keep this result's values. Names and
        values are checked as :func:`segment` checks them (the same ``ValueError``). A movie
        or a volume segmented slice by slice is post-processed part by part, as
        :func:`segment_steps` does, so ``result.with_params(beta=0.5).labels`` equals what
        segmenting with ``beta=0.5`` gives.

        Examples
        --------
        >>> import numpy as np
        >>> from tessella.engine.pipeline import run_steps, segment_steps
        >>> image = np.zeros((64, 64), np.uint16)
        >>> image[10:20, 10:20] = image[40:52, 30:44] = 1000
        >>> result = run_steps(segment_steps(image, "nuclei2d", tta=False, device="cpu"))
        >>> fewer = result.with_params(min_size=130)  # the 10x10 square is too small now
        >>> int(result.labels.max()), int(fewer.labels.max()), fewer.recipe()["params"]["min_size"]
        (2, 1, 130)
        """
        if params is None or isinstance(params, dict):
            params = {**params_to_dict(self.params), **(params or {})}
        resolved = resolve_params(self.model, params, **overrides)
        labels, lineage = _labels_of(self.model, self.predictions, resolved, self.axes)
        return dataclasses.replace(
            self,
            labels=labels,
            predictions=list(self.predictions),
            params=resolved,
            options=dict(self.options),
            lineage=lineage,
        )

    def __repr__(self) -> str:
        """A summary, not the arrays: model, labels' dtype, shape and axes, objects, parameters."""
        labels = np.asarray(self.labels)
        ids = np.unique(labels)
        objects = int(np.count_nonzero(ids))
        parts = len(self.predictions)
        shown = [
            f"model={self.model.card.name!r} ({self.model.card.method})",
            f"labels={labels.dtype} {labels.shape} {self.axes}",
            f"{objects} object{'s' * (objects != 1)}",
            f"predictions={parts} part{'s' * (parts != 1)}",
        ]
        if self.lineage is not None:
            shown.append(f"lineage={len(self.lineage)} tracks with a parent")
        shown.append(f"params={params_to_dict(self.params)}")
        return f"SegmentResult({', '.join(shown)})"

    @property
    def frame_numbers(self) -> list[int] | None:
        """The frame number of each frame of :attr:`labels`, where they are known: the
        movie's (a folder ``t052.tif ...`` read by :func:`~tessella.engine.io.read_image`:
        52, ...), or the frames ``frames=`` picked (``frames="10:20"`` of a movie file:
        10 to 19); None otherwise (0, 1, ...). :func:`tessella.write_ctc` names the masks
        by them."""
        numbers = self.options.get("frame_numbers")
        return None if numbers is None else list(numbers)

    def recipe(self) -> dict:
        """What reproduces this result: model, its hash, parameters and options (``axes``,
        ``tta``, ``tile``, ``device``; ``spacing`` where a voxel size was used, and its
        ``unit`` where it is the pixel size of a file read by ``read_image`` that has one, as
        ``tessella segment`` records it: a replay on an image without a pixel size writes
        the labels in it; ``invert`` where given; ``frame_numbers``: :attr:`frame_numbers`,
        where known); ``tessella_revision``: the git revision of the code, where it runs
        from a checkout (:func:`~tessella.engine.revision.tessella_revision`)."""
        from ... import __version__
        from ..registry import model_reference
        from ..revision import with_revision

        return with_revision(
            {
                "tessella_version": __version__,
                **model_reference(self.model),
                "method": self.model.card.method,
                "params": params_to_dict(self.params),
                **self.options,
            }
        )


def _labels_of(model: LoadedModel, predictions: list[Prediction], params: Any, axes: str):
    """``(labels, lineage)`` of ``predictions`` post-processed with ``params``, the labels
    with the result's ``axes`` (a movie of one frame keeps its T axis)."""
    labels, lineage = postprocess_with_lineage(model, predictions, params)
    if "T" in axes and labels.ndim == len(axes) - 1:
        labels = labels[None]
    return labels, lineage


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
    frames: range | None = None,
    context: int = 0,
) -> Generator[Progress, None, list[Prediction]]:
    """Network outputs for every time point of ``image`` (one :class:`Prediction` each).

    ``frames``: those frames (indices along T) alone, each from its window of the whole
    movie; ``context``: as many frames on either side predicted too, their foreground kept
    in the first and last predictions (:func:`~tessella.engine.methods.temporal.
    smooth_foreground` reads it).

    A 2D model of a method with ``SLICEWISE_3D`` predicts a ZYX volume slice by slice and
    returns one 3D prediction per time point. ``spacing`` (the voxel size along the
    prediction's spatial axes) goes into the predictions' ``meta`` for post-processing.
    ``invert`` (None: as the model's card says) inverts the image's intensities before the
    network (True) or keeps them (False): for a polarity the card's rule gets wrong.
    """
    with retain_freed_memory():  # no page faults for each window's feature maps
        return (
            yield from _predict_steps(
                image, model, axes, tta, tile, device, name, spacing, invert, frames, context
            )
        )


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
    frames: Any = None,
) -> Generator[Progress, None, SegmentResult]:
    """Segment ``image``; yields progress, returns a :class:`SegmentResult`.

    ``image`` is an array (numpy, dask, zarr) or what :func:`~tessella.engine.io.read_image`
    returns (an :class:`~tessella.engine.io.ImageData`), whose axes, pixel size (as
    ``spacing``) and file name (in messages) are used where ``axes``, ``spacing`` and ``name``
    are not given: the arguments win. Parameters are validated before the network runs, so a
    bad value fails at once. ``spacing`` is the voxel size along the spatial axes (anisotropic
    volumes), or a dict of sizes by axis as ``read_image`` gives ``pixel_size`` (used when it
    names every spatial axis, as ``tessella segment`` uses a file's). ``invert``: see
    :func:`predict_steps` (the recipe records it when given). A lazy array (dask, zarr) too
    big to segment in memory is refused before it is read (:class:`TooBigForMemory`, naming
    :func:`~tessella.engine.blockwise.segment_blockwise`).

    ``frames`` segments part of a time-lapse: ``"A:B"`` (frames A to B - 1, as ``tessella
    segment --frames``), ``"A"``, an int, or a ``range``/``slice``, by frame number: the
    numbers of a folder of frames read by ``read_image`` (``t052.tif``: 52), else 0, 1, ...
    (:func:`chosen_frames`; frames outside the movie are a ValueError naming its frames).
    The result's :attr:`SegmentResult.frame_numbers` are theirs. A time-lapse model reads
    the movie's frames around them as the whole movie's run does (its window, and the
    frames its smoothing along time reaches: ``ceil(4 * temporal_sigma)`` on either side,
    predicted too), so that each frame is segmented as in the whole movie; its tracks are
    linked within the frames picked.

    Closing the generator cancels at the next window; driven to its end, it returns the
    result as ``StopIteration.value`` (:func:`~tessella.engine.progress.run_steps` does that).

    Examples
    --------
    >>> import numpy as np
    >>> from tessella.engine.pipeline import run_steps, segment_steps
    >>> image = np.zeros((64, 64), np.uint16)
    >>> image[20:30, 20:30] = 1000
    >>> steps = segment_steps(image, "nuclei2d", tta=False, device="cpu")
    >>> next(steps)
    Progress(stage='predict', done=0, total=1)
    >>> result = run_steps(steps)  # the rest, and the result
    >>> result.axes, result.labels.shape, int(result.labels.max())
    ('YX', (64, 64), 1)
    """
    unknown = _missing_spacing(image)  # (what lacks a voxel size: the file, the call)
    # the unit of a spacing that is the file's pixel size (read_image's), for the recipe
    unit = _file_unit(image) if spacing is None else None
    numbers = getattr(image, "frame_numbers", None)  # (read_image's of a folder of frames)
    image, axes, spacing, name = _image_and_metadata(image, axes, spacing, name)
    _check_call(image, tta=tta, invert=invert)
    spacing = _check_options(axes, tile, spacing, name)
    _check_fits_memory(image, axes, name)
    model = _as_model(model)
    resolved = resolve_params(model, params)
    axes = _check_image(image, axes, model, name)
    picked, numbers, context = _frames_picked(frames, image, axes, numbers, model, resolved, name)
    if isinstance(spacing, dict):  # read_image's pixel_size: used when it has every axis
        sizes = {str(k).upper(): v for k, v in spacing.items()}
        missing = [a for a in spatial_of(axes) if a not in sizes]
        known = not missing
        if sizes and missing:  # (an empty dict, a file without pixel size, says nothing)
            warn_at_caller(
                f"{name}: spacing {spacing} names no size for {', '.join(missing)} of the "
                f"spatial axes {spatial_of(axes)}: ignored, the image is taken as isotropic"
            )
            # (and the unknown Z spacing, if due, says so: not "no spacing given", t5 #10;
            # a file's Z spacing without a pixel size: not "no Z spacing", t8 #3)
            if "Z" in missing:
                unknown = f"spacing {spacing} names no Z size"
            elif unknown == "no spacing given":
                unknown = f"spacing {spacing} names no size for {', '.join(missing)}"
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
    # a 2D boundary model on a stack of unknown voxel size joins objects across slices: said
    # here, once per input, for every caller (the CLI and the napari panel reword it)
    unknown_z = _unknown_z_spacing(name, model, axes, spacing, unknown)
    if unknown_z is not None:
        if unknown not in ("no spacing given", "no Z spacing in the file"):
            unknown_z.missing = unknown  # (a caller's rewording keeps what its metadata lack)
        warn_at_caller(unknown_z)
    predictions = yield from predict_steps(
        image, model, axes, tta, tile, device, name, spacing, invert, picked, context
    )
    yield Progress("postprocess", 0, len(predictions))
    out_axes = axes.replace("C", "")
    labels, lineage = _labels_of(model, predictions, resolved, out_axes)
    yield Progress("postprocess", len(predictions), len(predictions))
    defaults = model.card.defaults
    options = {
        "axes": axes,
        "tta": bool(defaults.get("tta", False)) if tta is None else bool(tta),
        "tile": int(tile or defaults.get("tile", 1024)),
        "device": resolve_device(device),
    }
    if spacing is not None:
        options["spacing"] = [float(s) for s in spacing]
        if unit is not None:  # (as tessella segment records it: a replay writes labels in it)
            options["unit"] = unit
    if invert is not None:
        options["invert"] = bool(invert)
    if numbers is not None:
        options["frame_numbers"] = list(numbers)
    return SegmentResult(labels, out_axes, predictions, resolved, model, options, lineage)


def _frames_picked(frames, image, axes: str, numbers, model: LoadedModel, params, name: str):
    """``(indices, numbers, context)`` of a run of ``frames`` (:func:`chosen_frames`) of
    ``image``: the indices along T (None: all), the frame numbers of the labels (None where
    neither the image nor ``frames`` gives them) and how many frames on either side a
    time-lapse method reads beyond its window (its ``context_frames``: the smoothing along
    time)."""
    count = image.shape[axes.index("T")] if "T" in axes else None
    if numbers is not None and (count is None or len(numbers) != count):
        numbers = None  # (not this image's frames: read with other axes)
    if frames is None:
        return None, numbers, 0
    if count is None:
        raise ValueError(
            f"{name}: frames={frames!r} picks frames of a time-lapse (axes with T); its axes "
            f"are {axes}"
        )
    picked, numbers = chosen_frames(frames, count, numbers, name)
    return picked, numbers, frames_context(model.card, params)


def _unknown_z_spacing(name: str, model: LoadedModel, axes: str, spacing, missing: str):
    """The :class:`UnknownZSpacingWarning` due for this run, or None: asked of the model's
    method (the boundary method's ``unknown_z_spacing_warning``; other methods have none)."""
    method = get_method(model.card.method)
    due = getattr(method, "unknown_z_spacing_warning", None)
    return None if due is None else due(name, model.card, axes, spacing, missing)


def _file_unit(image) -> str | None:
    """The unit of length of the pixel size of ``image``, what
    :func:`~tessella.engine.io.read_image` returns (``"µm"``), or None: an array, or an image
    whose pixel size is in pixels (no unit)."""
    from ..io import ImageData

    unit = image.unit if isinstance(image, ImageData) else None
    if not isinstance(unit, str) or unit.strip().lower() in ("", "pixel", "pixels", "px"):
        return None
    return unit


def _missing_spacing(image) -> str:
    """What lacks the voxel size of ``image`` in :class:`UnknownZSpacingWarning`'s words: a
    file read by ``read_image``, or the call (an array)."""
    from ..io import ImageData

    if isinstance(image, ImageData) and image.path is not None:
        return missing_voxel_size(image.pixel_size)  # (none, or a Z spacing alone: t8 #3)
    return "no spacing given"


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
    frames: Any = None,
    **overrides,
) -> np.ndarray:
    """Segment ``image`` and return its labels; ``params`` (a dict) and keyword arguments set
    parameters, the keywords last (``invert``: see :func:`predict_steps`).

    ``image`` is an array (numpy, dask, zarr) or what :func:`tessella.read_image` returns,
    whose axes and pixel size are then used as ``axes`` and ``spacing`` unless these are
    given (the arguments win): a file's voxel size reaches post-processing as it does in
    ``tessella segment``. ``spacing`` is the voxel size along the image's spatial axes, or a
    ``pixel_size`` dict by axis (see :func:`segment_steps`): without it a volume is taken as
    isotropic. A lazy array too big to segment in memory is refused before it is read
    (:class:`TooBigForMemory`): :func:`tessella.segment_blockwise` segments it. For the
    recipe, progress or the overlapping objects of ``worms2d``, use :func:`segment_steps`;
    to try other parameters without running the network again, its result's
    :meth:`SegmentResult.with_params`. ``frames`` (``"A:B"``: frames A to B - 1 of a
    time-lapse, by frame number) segments part of a movie as the whole movie's run segments
    it (see :func:`segment_steps`): the labels have those frames alone.

    Examples
    --------
    >>> import numpy as np, tessella
    >>> image = np.zeros((64, 64), np.uint16)
    >>> image[10:20, 10:20] = image[40:52, 30:44] = 1000
    >>> labels = tessella.segment(image, model="nuclei2d", tta=False, seed_thresh=0.8)
    >>> labels.shape, int(labels.max())
    ((64, 64), 2)

    A file, with its axes and pixel size (``volume.tif`` being an anisotropic stack):

    >>> volume = tessella.read_image("volume.tif")  # doctest: +SKIP
    >>> labels = tessella.segment(volume, "em-membranes2d", min_size=100)  # doctest: +SKIP
    """
    given = image  # (segment_steps is given it: a file's warnings say "in the file")
    image, axes, spacing, name = _image_and_metadata(image, axes, spacing, "image")
    _check_call(image, tta=tta, invert=invert)
    model = _as_model(model)  # (segment_steps checks that the image fits memory: once)
    if overrides:  # validated against the model's method, then the keywords win
        params = {**params_to_dict(resolve_params(model, params)), **overrides}
    result = run_steps(
        segment_steps(
            given,
            model,
            axes,
            params,
            tta,
            tile,
            device,
            name,
            spacing=spacing,
            invert=invert,
            frames=frames,
        )
    )
    return result.labels


def __getattr__(name: str):
    """:class:`~tessella.engine.methods.boundary.UnknownZSpacingWarning`, imported when asked
    for (the boundary method imports scikit-image)."""
    if name == "UnknownZSpacingWarning":
        from ..methods.boundary import UnknownZSpacingWarning

        return UnknownZSpacingWarning
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
