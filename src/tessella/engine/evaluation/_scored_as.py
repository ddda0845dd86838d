"""How a label image of more than 2 axes is scored: a time-lapse frame by frame (its T axis
known from its axes), anything else as one volume. :func:`time_axis` finds the T axis of a
pair read from files, as the Evaluate panel takes it from its layers (the prediction's axes
first); :func:`scored_as_text` says in words how the images were scored, for ``tessella
evaluate``'s printout and ``"scored_as"`` in its ``--json`` (and :func:`tessella.evaluate`'s
``scores``)."""

from __future__ import annotations

__all__ = ["FRAMES_HINT_PATHS", "FRAMES_HINT_ARRAYS", "scored_as_text", "time_axis"]

#: how to have a time-lapse of unknown axes scored frame by frame: files (``tessella
#: evaluate`` and :func:`tessella.evaluate_paths`)
FRAMES_HINT_PATHS = (
    "a time-lapse is scored frame by frame where its file names its T axis (ImageJ axes "
    "TYX, as tessella.write_labels(path, labels, axes='TYX') writes them) or the recipe "
    "beside it does, with --axes TYX on the command line, or with --annotated-only frames "
    "(annotated_only='frames') each frame holding a ground-truth object"
)
#: the same for arrays (:func:`tessella.evaluate`)
FRAMES_HINT_ARRAYS = (
    "a time-lapse is scored frame by frame with frame_axis= (its T axis), or given as "
    "tessella.read_image returns a file that names its T axis"
)


def time_axis(*images, hows: tuple[str, ...] = ()) -> tuple[int | None, str]:
    """``(axis, how)``: the T axis of the first of ``images`` (what
    :func:`~tessella.engine.io.read_image` returns, or None) whose axes hold one, and what
    says so in words (``"the ImageJ metadata of pred.tif"``); ``(None, "")`` where none has
    a T axis. The Evaluate panel takes the prediction's axes first, then the ground truth's
    (:func:`tessella._io.recorded_axes`: the axes a file names, else those the reader
    guessed from its shape): give them in that order. ``hows``: what gives each image its
    axes where its file does not (``"--axes TYX"``, ``"the recipe beside a.tif
    (a.recipe.json)"``; "" where its file names them or they are a guess), said instead.

    >>> import numpy as np
    >>> from tessella.engine.io import ImageData
    >>> movie = ImageData(np.zeros((3, 4, 4)), "TYX", stated_axes="TYX", stated_by="ImageJ tags")
    >>> time_axis(ImageData(np.zeros((3, 4, 4)), "ZYX"), movie)
    (0, 'its ImageJ tags')
    >>> time_axis(ImageData(np.zeros((2, 3, 4, 4)), "TZYX"))
    (0, 'its axes TZYX (given, or guessed from its shape)')
    """
    for k, image in enumerate(images):
        axes = getattr(image, "axes", None)
        shape = getattr(getattr(image, "data", None), "shape", None)
        if not isinstance(axes, str) or shape is None or len(axes) != len(shape):
            continue
        if "T" not in axes:
            continue
        path = getattr(image, "path", None)
        stated, by = getattr(image, "stated_axes", None), getattr(image, "stated_by", "")
        given = hows[k] if k < len(hows) else ""
        if given:
            how = given
        elif stated and "T" in stated and by:
            how = f"the {by} of {path.name}" if path is not None else f"its {by}"
        else:
            whose = f"the axes {axes} of {path.name}" if path is not None else f"its axes {axes}"
            how = f"{whose} (given, or guessed from its shape)"
        return axes.index("T"), how
    return None, ""


def scored_as_text(
    movies: list[tuple[str, int, str]],
    volumes: list[tuple[str, str, bool]],
    hint: str = FRAMES_HINT_PATHS,
) -> str:
    """How the images of more than 2 axes were scored, in words: ``movies`` (``(name,
    frames, how)`` each: a time-lapse scored frame by frame, ``how`` what names its T axis,
    :func:`time_axis`) and ``volumes`` (``(name, axes, known)`` each: an nD image scored as
    one, ``known`` whether its axes are known, not read as a guess); "" where there is
    neither (2D images). Where a volume's axes are not known, ``hint`` says how to score a
    time-lapse frame by frame.

    >>> print(scored_as_text([("sim.tif", 3, "the ImageJ metadata of sim.tif")], []))
    ... # doctest: +NORMALIZE_WHITESPACE
    scored frame by frame: the 3 frames of sim.tif (T axis: the ImageJ metadata of sim.tif),
    each an image, as the Evaluate panel scores a time-lapse
    >>> print(scored_as_text([], [("mito.tif", "ZYX", True)]))
    scored as one volume: mito.tif (axes ZYX), its objects matched in 3D
    >>> print(scored_as_text([], [("a.tif", "ZYX", False)], hint="HINT"))
    ... # doctest: +NORMALIZE_WHITESPACE
    scored as one volume: a.tif, whose axes are not known (read as ZYX), its objects matched
    in 3D; HINT
    """
    parts = []
    if movies:
        frames = sum(n for _, n, _ in movies)
        whose = movies[0][0] if len(movies) == 1 else f"{len(movies)} time-lapses"
        how = f" (T axis: {movies[0][2]})" if len(movies) == 1 else ""
        parts.append(
            f"scored frame by frame: the {frames} frames of {whose}{how}, each an image, "
            "as the Evaluate panel scores a time-lapse"
        )
    if volumes:
        unknown = sum(1 for _, _, known in volumes if not known)
        if len(volumes) == 1:
            name, axes, _ = volumes[0]
            said = f"{name}, whose axes are not known (read as {axes})" if unknown else name
            said += "" if unknown else f" (axes {axes})"
            text = f"scored as one volume: {said}, its objects matched in {len(axes)}D"
        else:
            some = f" ({unknown} of them of axes not known)" if unknown else ""
            text = (
                f"scored as one volume each: {len(volumes)} images{some}, their objects "
                "matched in 3D (4D)"
            )
        if unknown:
            text += f"; {hint}"
        parts.append(text)
    return "; ".join(parts)
