""":func:`write_ctc`, the public form of :func:`tessella.engine.tracking.write_ctc`: a
tracked time-lapse (a :class:`~tessella.engine.pipeline.SegmentResult` of a time-lapse model,
or labels and their lineage) as a Cell Tracking Challenge result folder, as ``tessella
segment --ctc DIR`` writes it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

__all__ = ["write_ctc"]


def write_ctc(
    result: Any,
    directory: str | os.PathLike,
    *,
    lineage: dict[int, int] | None = None,
    frame_numbers=None,
    pixel_size: dict[str, float] | None = None,
    unit: str | None = None,
    overwrite: bool = False,
) -> list[Path]:
    """Write a tracked movie into ``directory`` in the Cell Tracking Challenge format, as
    ``tessella segment MOVIE --ctc DIR`` does: ``maskTTT.tif`` (uint16) per frame and
    ``res_track.txt`` (``L B E P``: each track, its first and last frame and its parent).

    Parameters
    ----------
    result : SegmentResult or array_like
        What :func:`tessella.segment_steps` gives of a time-lapse model (``cells2dt``): its
        labels, its divisions (``result.lineage``), its frame numbers
        (``result.frame_numbers``: a folder ``t052.tif ...`` read by ``read_image``, or
        the frames ``frames="A:B"`` picked) and its pixel size (the file's, where it has
        one); or tracked TYX labels (one ID per cell through the movie).
    directory : str or path
        The result folder (``01_RES``); refused where it holds a result unless ``overwrite``.
    lineage : dict, optional
        ``{daughter track: mother track}``: the result's where not given.
    frame_numbers : sequence of int, optional
        The number of each frame (``mask052.tif`` for frame 52): the result's where not
        given, else 0, 1, ...
    pixel_size, unit : optional
        The pixel size (``{"Y": ..., "X": ...}``) written into every mask as the CTC's
        files carry it (resolution tags), so that the masks reopened lie on their movie:
        the result's (its ``spacing`` and ``unit``) where not given.
    overwrite : bool
        Replace a result in ``directory`` (its masks of any frames and its track file;
        other files kept).

    Returns
    -------
    list of Path
        The files written.

    Raises
    ------
    ValueError
        Labels without a T axis, a result of a model that does not link frames into tracks
        (it segments frame by frame), a track ID over 65,535, frame numbers that do not fit.
        A track that skips frames is split at the gap, as the format requires (a
        UserWarning says so).

    Examples
    --------
    >>> import tessella
    >>> movie = tessella.read_image("01")  # doctest: +SKIP
    >>> result = tessella.run_steps(tessella.segment_steps(movie, "cells2dt", frames="40:50"))
    ... # doctest: +SKIP
    >>> tessella.write_ctc(result, "01_RES")  # mask040.tif ... mask049.tif  # doctest: +SKIP
    """
    from .engine.pipeline import SegmentResult
    from .engine.tracking import write_ctc as write

    labels = result
    if isinstance(result, SegmentResult):
        if result.lineage is None:
            raise ValueError(
                f"model {result.model.card.name!r} ({result.model.card.method}) segments frame "
                "by frame: its objects are no tracks (use a time-lapse model, e.g. cells2dt)"
            )
        if result.options.get("spacing") is not None and "unit" in result.options:
            spatial = [a for a in result.axes if a in "ZYX"]
            sizes = dict(zip(spatial, result.options["spacing"]))
            pixel_size = sizes if pixel_size is None else pixel_size
            unit = result.options["unit"] if unit is None else unit
        labels = result.labels
        lineage = result.lineage if lineage is None else lineage
        frame_numbers = result.frame_numbers if frame_numbers is None else frame_numbers
    if getattr(labels, "ndim", 3) < 3:
        raise ValueError(f"CTC output needs a TYX movie; the labels have shape {labels.shape}")
    return write(
        labels,
        lineage,
        directory,
        overwrite=overwrite,
        frame_numbers=frame_numbers,
        pixel_size=pixel_size,
        unit="µm" if unit is None else unit,
    )
