"""The top-level functions of ``tessella`` that are more than a name for an engine function:
:func:`evaluate` (labels or overlapping masks, as ``tessella evaluate``) and :func:`train`
(as ``tessella train``). Heavy modules are imported when they are called."""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .engine.evaluation import Evaluation

__all__ = ["evaluate", "train"]


def evaluate(
    labels_true,
    labels_pred,
    threshold: float = 0.5,
    *,
    kind: str = "labels",
    metrics_wanted: Iterable[str] = ("ap",),
    frame_axis: int | None = None,
    ignore_label: int | None = None,
) -> Evaluation:
    """Score predicted labels against the ground truth, as ``tessella evaluate PRED GT`` does
    (the ground truth comes first here, as in scikit-image's metrics).

    Parameters
    ----------
    labels_true, labels_pred : array_like
        Integer label images of one shape (any number of axes; a time-lapse is one volume
        unless ``frame_axis`` is given).
    threshold : float
        The IoU at which the counts (``tp``, ``fp``, ``fn``) and the error map are taken.
    kind : str
        What ``labels_true`` is: ``"labels"``, ``"binary"`` (a mask: its connected pieces
        are the objects), ``"boundaries"``/``"boundaries3d"`` (a membrane map, 1 =
        membrane) or ``"overlapping"`` (``(N, Y, X)`` stacks of object masks, which may
        overlap, on both sides: worms2d's :meth:`SegmentResult.instances
        <tessella.engine.pipeline.SegmentResult.instances>`), as ``tessella evaluate``'s
        ``--gt-binary``, ``--gt-boundaries``, ``--gt-boundaries-3d`` and ``--overlapping``.
    metrics_wanted : iterable of str
        Any of ``"ap"``, ``"seg"``, ``"iou"``, ``"vrand"`` (``--metric``); overlapping
        masks are scored by AP only.
    frame_axis : int, optional
        The T axis of a time-lapse: every frame is scored as an image of its own.
    ignore_label : int, optional
        Ground-truth pixels of this value were not annotated and are left out.

    Returns
    -------
    Evaluation
        ``scores`` (``scores["ap"]["0.5"]``, ``scores["avs"]``, ``scores["seg"]``, ... as
        ``tessella evaluate --json`` gives them), the counts at ``threshold``, ``errors``
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

    if kind not in GROUND_TRUTH_KINDS:
        raise ValueError(f"unknown kind {kind!r}; choose from {', '.join(GROUND_TRUTH_KINDS)}")
    if kind != "overlapping":
        return evaluate_labels(
            labels_true,
            labels_pred,
            threshold,
            frame_axis,
            ignore_label,
            kind=kind,
            metrics_wanted=metrics_wanted,
        )
    unsupported = sorted(set(metrics_wanted) - {"ap"})
    if unsupported or frame_axis is not None:
        what = f"metrics {', '.join(unsupported)}" if unsupported else "frame_axis"
        raise ValueError(f"overlapping masks are scored by AP of one 2D image; {what} is not")
    return evaluate_masks(labels_true, labels_pred, threshold, ignore_label)


def train(method: str, data, out: str | os.PathLike, **options: Any) -> Path:
    """Train a model of ``method`` on the folder ``data`` into the model folder ``out``, as
    ``tessella train METHOD --data DATA --out OUT`` does, and return ``out``; ``out`` is then
    a model for :func:`tessella.segment` (``model=out``) and the napari panels.

    ``data`` holds ``images/`` and ``masks/`` (instance labels or binary masks) or
    ``boundaries/`` (membrane maps) of the same file names, as ``--data`` (a list of
    folders: the sequences of a time-lapse);
    ``options`` are the fields of :class:`tessella.engine.train.TrainConfig` (``base`` to
    fine-tune a model, ``epochs``, ``patch``, ``val_data``, ``device``...). For progress and
    cancel, drive :func:`tessella.engine.train.train_steps` yourself.

    Examples
    --------
    >>> import tessella
    >>> model = tessella.train("embedding", "my_data", "my_model", base="nuclei2d",
    ...                        epochs=5)  # doctest: +SKIP
    >>> labels = tessella.segment(image, model)  # doctest: +SKIP
    """
    from .engine.train import TrainConfig
    from .engine.train import train as run_training

    folders = tuple(map(os.fspath, data)) if isinstance(data, list | tuple) else os.fspath(data)
    return run_training(TrainConfig(method, folders, os.fspath(out), **options))
