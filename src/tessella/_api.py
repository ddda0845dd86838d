"""The top-level functions of ``tessella`` that are more than a name for an engine function:
:func:`evaluate` (labels or overlapping masks, as ``tessella evaluate``),
:func:`write_labels` (the engine's, refusing a name it does not write),
:func:`evaluate_paths` (files or folders, as ``tessella evaluate PRED GT``) and :func:`train`
(as ``tessella train``), :func:`replay` (as ``tessella segment --recipe``) and
:func:`segment_blockwise_steps` (the engine's, with parameters as keywords too). Heavy
modules are imported when they are called."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import numpy as np

    from .engine.evaluation import Evaluation

__all__ = [
    "evaluate",
    "evaluate_paths",
    "replay",
    "segment_blockwise_steps",
    "train",
    "write_labels",
]


def evaluate(
    labels_true,
    labels_pred,
    threshold: float = 0.5,
    *,
    kind: str = "labels",
    metrics_wanted: str | Iterable[str] = ("ap",),
    frame_axis: int | None = None,
    ignore_label: int | None = None,
) -> Evaluation:
    """Score predicted labels against the ground truth, as ``tessella evaluate PRED GT`` does
    (the ground truth comes first here, as in scikit-image's metrics).

    Parameters
    ----------
    labels_true, labels_pred : array_like or ImageData
        Integer label images of one shape (any number of axes), or what
        :func:`tessella.read_image` returns. What ``read_image`` gives of a time-lapse (its
        ``axes`` hold T: a file that names its T axis, ImageJ axes ``TYX``) is scored frame
        by frame, as the Evaluate panel and ``tessella evaluate`` score it; an array of more
        than 2 axes is one volume, its objects matched in nD, unless ``frame_axis`` is given
        (``scores["scored_as"]`` says which).
    threshold : float
        The IoU at which the counts (``tp``, ``fp``, ``fn``) and the error map are taken.
    kind : str
        What ``labels_true`` is: ``"labels"``, ``"binary"`` (a mask: its connected pieces
        are the objects), ``"boundaries"``/``"boundaries3d"`` (a membrane map, 1 =
        membrane) or ``"overlapping"`` (``(N, Y, X)`` stacks of object masks, which may
        overlap, on both sides: worms2d's :meth:`SegmentResult.instances
        <tessella.engine.pipeline.SegmentResult.instances>`), as ``tessella evaluate``'s
        ``--gt-binary``, ``--gt-boundaries``, ``--gt-boundaries-3d`` and ``--overlapping``.
    metrics_wanted : str or iterable of str
        Any of ``"ap"``, ``"seg"``, ``"iou"``, ``"vrand"`` (``--metric``; ``"voi"`` is
        taken as ``"vrand"``, which gives V_rand and VOI), or one of them as a string;
        overlapping masks are scored by AP only.
    frame_axis : int, optional
        The T axis of a time-lapse: every frame is scored as an image of its own (AP a mean
        over frames; a track is not one object). Found from the axes of an ImageData (the
        prediction's first, as the Evaluate panel); to score a time-lapse as one volume,
        give its arrays (``image.data``).
    ignore_label : int, optional
        Ground-truth pixels of this value were not annotated and are left out.

    Returns
    -------
    Evaluation
        ``scores`` (``scores["ap"]["0.5"]``, ``scores["avs"]``, ``scores["seg"]``, ... as
        ``tessella evaluate --json`` gives them; for images of more than 2 axes
        ``"scored_as"``: frame by frame or as one volume, in words), the counts at
        ``threshold``, ``errors``
        (1: false positive, 2: false negative pixels) and ``notes`` (warnings on inputs
        that score little for no real reason).

    Examples
    --------
    >>> import numpy as np, tessella
    >>> truth = np.array([[1, 1, 0, 2, 2, 0, 0]])
    >>> labels = np.array([[3, 3, 0, 0, 0, 0, 4]])
    >>> result = tessella.evaluate(truth, labels, metrics_wanted=("ap", "seg"))
    >>> result.tp, result.fp, result.fn, round(result.scores["ap"]["0.5"], 3)
    (1, 1, 1, 0.333)
    >>> result.scores["seg"]
    0.5
    """
    from .engine.evaluation import GROUND_TRUTH_KINDS, evaluate_labels, evaluate_masks
    from .engine.io import ImageData

    metrics_wanted = _metric_names(metrics_wanted)
    if kind not in GROUND_TRUTH_KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose from {', '.join(GROUND_TRUTH_KINDS)}")
    how = f"frame_axis={frame_axis}" if frame_axis is not None else ""
    timed = kind in ("labels", "binary") or (kind == "boundaries3d" and _ndim(labels_true) > 3)
    if frame_axis is None and timed:
        # a time-lapse read_image gave: frame by frame, as the panel and the command score it
        # (a TZYX membrane map too: each time point a volume)
        from .engine.evaluation import time_axis

        frame_axis, how = time_axis(labels_pred, labels_true)
    # what read_image returns, for either side, as segment takes it (review 2, F11)
    labels_true, labels_pred = (
        image.data if isinstance(image, ImageData) else image
        for image in (labels_true, labels_pred)
    )
    if kind != "overlapping":
        result = evaluate_labels(
            labels_true,
            labels_pred,
            threshold,
            frame_axis,
            ignore_label,
            kind=kind,
            metrics_wanted=metrics_wanted,
        )
        scored_as = _scored_as(result.errors.shape, kind, frame_axis, how)
        if scored_as:
            result.scores["scored_as"] = scored_as
        return result
    unsupported = sorted(set(metrics_wanted) - {"ap"})
    if unsupported or frame_axis is not None:
        what = f"metrics {', '.join(unsupported)}" if unsupported else "frame_axis"
        raise ValueError(f"overlapping masks are scored by AP of one 2D image; {what} is not")
    return evaluate_masks(labels_true, labels_pred, threshold, ignore_label)


def _ndim(image) -> int:
    """The number of axes of an array or of what :func:`tessella.read_image` returns."""
    import numpy as np

    return len(np.shape(getattr(image, "data", image)))


def _scored_as(shape: tuple[int, ...], kind: str, frame_axis: int | None, how: str) -> str:
    """How :func:`evaluate` scored a pair of ``shape`` (more than 2 axes; "" for 2D), in the
    words of ``tessella evaluate``
    (:func:`~tessella.engine.evaluation.scored_as_arrays`, as the Evaluate panel says it).

    >>> print(_scored_as((3, 8, 8), "labels", None, ""))  # doctest: +ELLIPSIS
    scored as one volume: labels of shape (3, 8, 8), their objects matched in 3D; a time-lapse ...
    >>> _scored_as((3, 8, 8), "labels", 0, "frame_axis=0")  # doctest: +ELLIPSIS
    'scored frame by frame: the 3 frames of the labels (T axis: frame_axis=0), each an image, ...'
    """
    from .engine.evaluation import scored_as_arrays

    return scored_as_arrays(shape, kind, frame_axis, how)


def evaluate_paths(
    pred: str | os.PathLike,
    gt: str | os.PathLike,
    metrics_wanted: str | Iterable[str] = ("ap",),
    *,
    gt_binary: bool = False,
    gt_boundaries: bool = False,
    gt_boundaries_3d: bool = False,
    ignore_label: int | None = None,
    annotated_only: str | None = None,
    per_image: bool = False,
    skipped: list | None = None,
    axes: str | None = None,
) -> dict:
    """Score label files against ground-truth files, as ``tessella evaluate PRED GT`` does:
    the dict its ``--json`` writes.

    Parameters
    ----------
    pred, gt : str or path
        A labels file and its ground truth, or two folders whose files are paired by name
        without the suffix (a prediction without ground truth is not scored, and appended to
        ``skipped``; a ground truth without a prediction is refused, naming them: to score
        part of a folder, give a ground-truth folder of just its images). ``gt`` may be
        a Cell Tracking Challenge ``SEG`` folder (or the ``NN_GT`` folder holding it) for a
        labels stack ``pred``: its annotated frames are scored, each an image. A CTC result
        *folder* (``maskTTT.tif`` + ``res_track.txt``) is scored by ``tessella evaluate
        --ctc``, not here.
    metrics_wanted : str or iterable of str
        Any of ``"ap"``, ``"seg"``, ``"iou"``, ``"vrand"`` (``--metric``; ``"voi"`` is taken
        as ``"vrand"``, which gives V_rand and VOI), or one of them as a string.
    gt_binary, gt_boundaries, gt_boundaries_3d : bool
        What the ground truth is, as ``--gt-binary`` (0/1 masks: their connected pieces are
        the objects), ``--gt-boundaries`` (membrane maps, 1 = membrane, scored 2D section by
        section) and ``--gt-boundaries-3d`` (membrane volumes scored whole).
    ignore_label : int, optional
        Ground-truth pixels of this value were not annotated and are left out
        (``--ignore-label``).
    annotated_only : {"frames", "slices", "off"}, optional
        ``--annotated-only``: score only the frames (2D slices) of a sparse labels stack
        that hold a ground-truth object, or (``"off"``) a SEG folder's stack whole.
    per_image : bool
        Add ``"images"``: each image's scores, in the order scored (``"name"``,
        ``"n_true"``, ``"n_pred"``, and each metric's), as ``--json`` writes them.
    skipped : list, optional
        Predictions that have no ground truth are appended to it (their paths).
    axes : str, optional
        ``--axes``: the axes of the files whose metadata (or recipe beside them) name none,
        e.g. ``"TYX"`` for a plain 3D movie, which is then scored frame by frame; a file
        naming other axes is refused.

    Returns
    -------
    dict
        With the keys of ``tessella evaluate --json``: ``"ap"`` (``{"0.5": ..., ...}``),
        ``"precision"``, ``"recall"``, ``"f1"`` per IoU threshold, ``"avs"``,
        ``"n_images"``, ``"ap_images"``, and ``"seg"``, ``"foreground_iou"``,
        ``"vrand"``/``"voi"`` ... per metric wanted; ``"sections"`` and ``"annotated"``
        where they apply (the counts ``"tp"``, ``"fp"``, ``"fn"`` are in each image's row
        of ``"images"``).

    Raises
    ------
    ValueError
        In one line naming the file and the problem: no pair to score, shapes that differ,
        labels that are not integers, options that contradict each other. A file or folder
        that is not there raises :class:`~tessella.engine.errors.MissingFileError`, a
        ``ValueError`` that is also a ``FileNotFoundError`` (``except OSError`` catches it
        too).

    Notes
    -----
    The engine's :func:`tessella.engine.evaluation.score_paths` scores them; notes on the
    inputs (a ground truth that does not look like what it is taken for...) are
    UserWarnings, one line each (``warnings.catch_warnings(record=True)`` collects
    them; ``tessella evaluate`` prints them on stderr as ``warning: ...`` lines).
    """
    from .engine.errors import MissingFileError
    from .engine.evaluation import EvaluationInputError, score_paths

    wanted = tuple(
        dict.fromkeys("vrand" if m == "voi" else m for m in _metric_names(metrics_wanted))
    )
    if (gt_boundaries or gt_boundaries_3d) and gt_binary:
        which = "gt_boundaries" if gt_boundaries else "gt_boundaries_3d"
        raise ValueError(f"{which} and gt_binary describe the ground truth two ways; give one")
    try:
        return score_paths(
            str(pred),
            str(gt),
            wanted,
            gt_boundaries=gt_boundaries,
            gt_binary=gt_binary,
            ignore_label=ignore_label,
            skipped=skipped,
            boundaries_3d=gt_boundaries_3d,
            annotated_only=annotated_only,
            per_image=per_image,
            axes=axes,
            flags=False,  # (its refusals name axes=, ignore_label=..., not --axes)
        )  # (notes on the inputs: UserWarnings, score_paths' default)
    except EvaluationInputError as exc:  # (one line naming the problem, a ValueError)
        if isinstance(exc, MissingFileError):  # (and an OSError: except either catches it)
            raise MissingFileError(str(exc), exc.filename) from None
        raise ValueError(str(exc)) from None


def segment_blockwise_steps(image, out, model=None, axes=None, params=None, **options):
    """:func:`tessella.engine.blockwise.segment_blockwise_steps`, the generator form of
    :func:`tessella.segment_blockwise`, taking what that takes: ``options`` are its keyword
    options (``block``, ``halo``, ``tta``, ``spacing``...) and the model's parameters
    (``seed_thresh=0.8``), which win over ``params``'s. A keyword that is neither is refused
    (ValueError naming both lists) when it is called, before a block is read.

    >>> steps = segment_blockwise_steps("big.zarr", "labels.zarr", "nuclei2d", block=1024,
    ...     seed_thresh=0.8)  # doctest: +SKIP
    >>> result = run_steps(steps)  # doctest: +SKIP
    """
    from .engine.blockwise import _driver

    overrides = {name: options.pop(name) for name in list(options) if name not in _driver._OPTIONS}
    if overrides:  # (as segment_blockwise: r1 finding 8, a TypeError for seed_thresh=0.8)
        try:
            params = _driver._with_overrides(model, params, overrides)
        except ValueError as exc:  # (its words name segment_blockwise: this is the steps form)
            said = str(exc)
            if said.startswith("segment_blockwise:"):
                raise ValueError("segment_blockwise_steps:" + said.split(":", 1)[1]) from None
            raise
    return _driver.segment_blockwise_steps(image, out, model, axes, params, **options)


def replay(
    recipe: str | os.PathLike | dict, image, *, model: Any = None, **params: Any
) -> np.ndarray:
    """Segment ``image`` as ``recipe`` says, as ``tessella segment IMAGE --recipe RECIPE`` does:
    the recipe's model, parameters, ``axes``, ``tta``, ``tile``, ``invert``, ``spacing``
    and ``voxel_size``; returns the labels, as :func:`tessella.segment`.

    Parameters
    ----------
    recipe : str, path or dict
        A recipe file (``NAME.recipe.json``, or a zarr that keeps its recipe: a blockwise
        run's labels), or the dict :meth:`SegmentResult.recipe
        <tessella.engine.pipeline.SegmentResult.recipe>` returns. Its fields are checked as
        ``--recipe`` checks them.
    image : array_like or ImageData
        The image to segment (the part of a file the recipe was made of: its channel,
        series or frame, as read). An :class:`~tessella.engine.io.ImageData` keeps its own
        axes (the recipe's where they name other axes: ``TYX`` for a ``ZYX`` stack) and its
        pixel size where it gives every spatial axis, else the recipe's ``spacing``; an
        array is read with the recipe's ``axes`` and ``spacing``. A recipe's ``voxel_size``
        (``tessella segment --voxel-size``) replaces the image's own pixel size, as
        ``--recipe`` replays it.
    model : str or path, optional
        Another model than the recipe's (as ``--model``); without it, the recipe's model,
        which must have the weights it records (``model_sha256``).
    **params
        Parameters that replace the recipe's (as ``--set NAME=VALUE``).

    Raises
    ------
    ValueError
        In one line naming the recipe: a field of the wrong type, no model named, or a model
        of that name whose weights differ from those the recipe records. A recipe file that
        is not there raises :class:`~tessella.engine.errors.MissingFileError`, a
        ``ValueError`` that is also a ``FileNotFoundError``, as :func:`tessella.read_image`
        and :func:`evaluate_paths` raise it for a missing file.

    Notes
    -----
    A recipe of labels edited after segmentation (``labels_edited``) gives them as they
    were before the edits (a UserWarning says so). A blockwise recipe is replayed in memory
    here; :func:`tessella.segment_blockwise` with ``params=recipe["params"]`` replays it
    block by block.

    Examples
    --------
    >>> import json, tessella
    >>> image = tessella.read_image("nuclei.tif")  # doctest: +SKIP
    >>> again = tessella.replay("nuclei_labels.recipe.json", image)  # doctest: +SKIP
    """
    import warnings

    from ._io_recipe import _checked_recipe, edited_words, read_recipe
    from .engine.io import ImageData
    from .engine.pipeline import segment
    from .engine.registry import load_model, recipe_model

    if isinstance(recipe, dict):
        where = "recipe"
        try:
            recipe = _checked_recipe(dict(recipe))
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    else:
        where = os.fspath(recipe)
        if not Path(where).exists():  # (a ValueError and a FileNotFoundError: either except)
            from .engine.errors import MissingFileError

            raise MissingFileError(f"{where}: no such recipe file", where)
        try:  # (a file that cannot be read: its OSError, which names it)
            recipe = read_recipe(where)
        except ValueError as exc:
            raise ValueError(f"{where}: {exc}") from None
    if recipe.get("labels_edited"):
        warnings.warn(f"{where}: {edited_words(recipe, where)}", UserWarning, stacklevel=2)
    axes = recipe.get("axes")
    if isinstance(image, ImageData) and axes is not None:
        # the file's axes, unless the recipe named others on purpose (TYX for a ZYX stack)
        same = len(axes) != len(image.axes) or set(axes) == set(image.axes)
        axes = None if same else axes
    spatial = [a for a in (axes or getattr(image, "axes", "")) if a in "ZYX"]
    spacing = recipe.get("spacing")
    # the voxel size --voxel-size gave (its voxel_size): over the image's own pixel size,
    # by the command's rule (checked as it checks it)
    voxel = _replayed_voxel_size(recipe, where, image, axes)
    if voxel is not None:
        image, spacing = voxel
    elif isinstance(image, ImageData) and all(a in image.pixel_size for a in spatial):
        spacing = None  # (segment takes the file's pixel size, as the command does)
    if model is None:
        if not recipe.get("model"):
            raise ValueError(f"{where}: the recipe names no model; give one with model=")
        model = load_model(recipe_model(recipe))
        wanted = recipe.get("model_sha256")
        if wanted and wanted != model.card.sha256:  # as `tessella segment --recipe` refuses
            raise ValueError(
                f"{where}: made with model {recipe.get('model')!r} of sha256 {wanted[:12]}…, "
                f"but {model.path} has other weights ({model.card.sha256[:12]}…); pass "
                "model= to replay it with a model anyway"
            )
    labels = segment(
        image,
        model,
        axes,
        tta=recipe.get("tta"),
        tile=recipe.get("tile"),
        invert=recipe.get("invert"),
        spacing=spacing,
        params=recipe.get("params"),
        **params,
    )
    source = getattr(image, "path", None)  # (an ImageData read from a file: its input)
    if source is not None:  # whether these are the labels the recipe records (t18 #4)
        from . import __version__
        from .engine.digest import DIGEST_KEY, labels_digest, replay_verdict
        from .engine.revision import with_revision

        now = with_revision({"tessella_version": __version__})
        now[DIGEST_KEY] = labels_digest(labels)
        verdict = replay_verdict(recipe, now, source, where)
        if verdict is not None and not verdict[0]:
            warnings.warn(verdict[1], UserWarning, stacklevel=2)
    return labels


def _replayed_voxel_size(recipe: dict, where: str, image, axes: str | None):
    """``(image, spacing)`` to segment where ``recipe`` records a ``voxel_size`` (made with
    ``tessella segment --voxel-size``), else None: as ``tessella segment --recipe`` replays
    it (:func:`tessella.cli._segment.recipe_voxel_size`), an ImageData's pixel size replaced
    by it (``spacing`` None: segment takes that), an array (or an image read with the
    recipe's other ``axes``) segmented with it as ``spacing``. ValueError naming the recipe
    where it is no voxel size, or does not fit the image's spatial axes."""
    from .cli._console import CliError
    from .cli._segment import recipe_voxel_size
    from .engine.io import ImageData

    said = "recipe's voxel_size" if where == "recipe" else f"the recipe {where}'s voxel_size"
    try:
        voxel = recipe_voxel_size(recipe, said)
        if voxel is None:
            return None
        if isinstance(image, ImageData) and axes is None:
            name = str(image.path) if image.path is not None else "image"
            return voxel.given_to(image, name), None
    except CliError as exc:
        raise ValueError(str(exc)) from None
    return image, list(voxel.sizes)


def write_labels(
    path: str | os.PathLike,
    labels,
    axes: str = "YX",
    pixel_size: dict[str, float] | None = None,
    unit: str = "µm",
    overwrite: bool = True,
    make_parents: bool = False,
) -> Path:
    """Write labels as a TIFF file with their axes and pixel size:
    :func:`tessella.engine.io.write_labels` (uint16 an ImageJ hyperstack, uint32 an
    OME-TIFF; atomic; integer labels only), for a path of a name it writes.

    ``path`` ends in ``.tif`` or ``.tiff`` (any case; ``.ome.tif`` too): any other name is
    refused (ValueError naming it, nothing written), since TIFF bytes named ``labels.zarr`` or
    ``labels.png`` could not be read back (:func:`tessella.read_image` would take them for a
    zarr or a picture); :func:`tessella.engine.io.write_zarr_labels` writes a zarr. The folder
    of ``path`` must exist unless ``make_parents``: a missing one raises
    :class:`~tessella.engine.errors.MissingFileError` naming it, a ``FileNotFoundError`` that
    is also a ``ValueError``, as :func:`tessella.read_image` raises for a missing file.

    Examples
    --------
    >>> import numpy as np, tessella
    >>> tessella.write_labels("labels.zarr", np.ones((8, 8), np.uint16))
    ... # doctest: +NORMALIZE_WHITESPACE
    Traceback (most recent call last):
    ...
    ValueError: labels.zarr: write_labels writes TIFF files (.tif or .tiff); for a zarr use
    tessella.engine.io.write_zarr_labels (an OME-Zarr: write_ome_zarr_labels in
    tessella.engine.io._write)
    """
    from .engine.errors import MissingFileError
    from .engine.io import write_labels as write

    target = Path(path)
    _check_tiff_name(target)
    try:
        return write(target, labels, axes, pixel_size, unit, overwrite, make_parents)
    except FileNotFoundError as exc:  # a missing folder: said as read_image says a file
        if isinstance(exc, MissingFileError) or target.parent.is_dir():
            raise
        raise MissingFileError(str(exc), str(target.parent)) from None


#: names of pictures and arrays that :func:`write_labels` suggests ``.tif`` for
_OTHER_FORMATS = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".npy", ".h5", ".hdf5", ".n5")


def _check_tiff_name(path: Path) -> None:
    """ValueError naming ``path`` where it does not end in ``.tif``/``.tiff`` (any case), with
    what to do instead.

    >>> _check_tiff_name(Path("a.ome.TIF")), _check_tiff_name(Path("b.tiff"))
    (None, None)
    >>> _check_tiff_name(Path("cells.png"))
    Traceback (most recent call last):
    ...
    ValueError: cells.png: write_labels writes TIFF files (.tif or .tiff); name it cells.tif
    >>> _check_tiff_name(Path("cells"))
    Traceback (most recent call last):
    ...
    ValueError: cells: write_labels writes TIFF files (.tif or .tiff); add .tif to its name
    """
    suffix = path.suffix.lower()
    if suffix in (".tif", ".tiff"):
        return
    if suffix == ".zarr":
        hint = (
            "for a zarr use tessella.engine.io.write_zarr_labels (an OME-Zarr: "
            "write_ome_zarr_labels in tessella.engine.io._write)"
        )
    elif suffix in _OTHER_FORMATS:
        hint = f"name it {path.with_suffix('.tif').name}"
    else:
        hint = "add .tif to its name"
    raise ValueError(f"{path}: write_labels writes TIFF files (.tif or .tiff); {hint}")


def _metric_names(metrics_wanted: str | Iterable[str]) -> tuple[str, ...]:
    """The metrics asked for: one name (``"seg"``) is that metric, not its letters (t5
    finding 3: ``metrics_wanted="seg"`` was refused as the metrics e, g, s)."""
    if isinstance(metrics_wanted, str):
        return (metrics_wanted,)
    return tuple(metrics_wanted)


def train(method: str, data, out: str | os.PathLike, **options: Any) -> Path:
    """Train a model of ``method`` on the folder ``data`` into the model folder ``out``, as
    ``tessella train METHOD --data DATA --out OUT`` does, and return ``out``; ``out`` is then
    a model for :func:`tessella.segment` (``model=out``) and the napari panels.

    ``data`` holds ``images/`` and ``masks/`` (instance labels or binary masks) or
    ``boundaries/`` (membrane maps) of the same file names, as ``--data`` (a list of
    folders: the sequences of a time-lapse);
    ``options`` are the fields of :class:`tessella.engine.train.TrainConfig` (``base`` to
    fine-tune a model, ``epochs``, ``patch``, ``val_data``, ``device``...). Paths (``data``,
    ``out``, ``base``, ``val_data``) are strings or :class:`os.PathLike`; ``holdout`` and
    ``exclude`` one file name, names separated by commas (as ``--holdout n1,n2``) or a list.
    ``lr`` defaults to the command's and the Train panel's learning rate: 3e-4 with ``base``,
    1e-3 for a new model. ``resume=True`` continues the stopped run in ``out`` with the
    settings it was started with (kept in its checkpoint: ``lr``, ``batch_size``, ``patch``,
    ``epochs``, the hold-out...) for every option not given, as ``--resume`` does; a given
    one that differs is warned about (UserWarning, naming both values), and one that asks
    for another network, ``ema`` or ``ignore_label``, another hold-out, or another
    ``max_val_images`` or ``val_orientations`` (the run's hold-out scored otherwise: its
    epochs' scores would not be comparable) is refused (ValueError, naming the setting), as
    is a checkpoint that cannot be read. The model's card
    records this call as its command. A name (``name``, else the folder's) that an installed
    model has already is warned about at the start (UserWarning), as ``tessella train`` and
    the Train panel warn; the run goes ahead.
    For progress and cancel, drive :func:`tessella.engine.train.train_steps` yourself.

    Examples
    --------
    >>> import tessella
    >>> model = tessella.train("embedding", "my_data", "my_model", base="nuclei2d",
    ...                        epochs=5)  # doctest: +SKIP
    >>> labels = tessella.segment(image, model)  # doctest: +SKIP
    """
    import warnings

    from .engine.registry import name_taken_note
    from .engine.train import TrainConfig
    from .engine.train import train as run_training
    from .engine.train._config import default_lr

    given = {"data": data, "out": out, **options}
    options = {name: _plain(name, value) for name, value in options.items()}
    if options.get("resume"):  # as `tessella train --resume`: the run's own settings
        options = _resumed(out, options)
    options.setdefault("command", _python_call(method, given))
    # as `tessella train` and the Train panel: 3e-4 for a fine-tune, 1e-3 for a new model
    if options.get("lr") is None:
        options["lr"] = default_lr(fine_tune=bool(options.get("base")))
    config = TrainConfig(method, _folders(data), os.fspath(out), **options)
    # said at the start, in the words `tessella train` and the Train panel say it
    taken = name_taken_note(config.name or Path(config.out).name, config.out)
    if taken:  # the run goes ahead
        warnings.warn(taken, UserWarning, stacklevel=2)
    return run_training(config)


#: the options that are paths (str or os.PathLike; ``val_data`` also a list of them)
_PATH_OPTIONS = ("base", "val_data")
#: the options that are lists of file stems: one name, names separated by commas (as the
#: command's ``--holdout n1,n2``) or a list of names
_STEM_OPTIONS = ("holdout", "exclude", "held_out")


def _resumed(out, options: dict[str, Any]) -> dict[str, Any]:
    """``options`` of a :func:`train` that resumes the run in ``out`` with the settings it
    was started with (kept in its checkpoint) for every option not given, as ``tessella train
    --resume`` takes them; a given option whose value differs from the checkpoint's is said
    (UserWarning), and the run refuses one that asks for another network or hold-out."""
    import warnings

    from .engine.train._checkpoint import resume_settings

    given = {n: v for n, v in options.items() if v is not None}  # (None: not given)
    taken, changed = resume_settings(out, given)
    if changed:
        said = ", ".join(f"{n} {was!r} -> {now!r}" for n, was, now in changed)
        warnings.warn(
            f"resume {os.fspath(out)}: this run changes the settings it was started with: "
            f"{said} (leave an option out to keep the checkpoint's)",
            UserWarning,
            stacklevel=3,
        )
    return {**given, **taken}


def _folders(value) -> str | tuple[str, ...]:
    """A folder or a list of folders as strings, as TrainConfig keeps them: a Path in a
    config crashes the checkpoint's JSON after the first epoch (review 2, F13)."""
    if isinstance(value, list | tuple):
        return tuple(map(os.fspath, value))
    return os.fspath(value)


def _plain(name: str, value: Any) -> Any:
    """``value`` of the TrainConfig field ``name`` as the config keeps it (strings, tuples)."""
    if value is None:
        return None
    if name in _PATH_OPTIONS:
        return _folders(value)
    if name in _STEM_OPTIONS:
        if isinstance(value, str | os.PathLike):  # not its characters (review 2, F2)
            return tuple(stem.strip() for stem in os.fspath(value).split(",") if stem.strip())
        return tuple(map(os.fspath, value))
    if name == "features" and isinstance(value, list):
        return tuple(value)
    return value


def _python_call(method: str, given: dict[str, Any]) -> str:
    """The call a card records as its command, as the command line records ``tessella train
    ...``: the process's own arguments would name a notebook's kernel file (review 2, F7)."""

    def shown(value: Any) -> str:
        if isinstance(value, list | tuple):
            return repr(type(value)(map(shown_value, value)))
        return repr(shown_value(value))

    def shown_value(value: Any) -> Any:
        return os.fspath(value) if isinstance(value, os.PathLike) else value

    arguments = [repr(method)] + [f"{name}={shown(value)}" for name, value in given.items()]
    return f"tessella.train({', '.join(arguments)})"
