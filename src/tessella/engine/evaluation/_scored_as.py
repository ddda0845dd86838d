"""How a label image of more than 2 axes is scored: a time-lapse frame by frame (its T axis
known from its axes; a frame of more than 2 axes, ``TZYX``, a volume), a membrane map
annotated section by section a 2D section at a time, anything else as one volume.
:func:`time_axis` finds the T axis of a pair read from files, as the Evaluate panel takes it
from its layers (the prediction's axes first); :func:`scored_as_text` says in words how the
images were scored, for ``tessella evaluate``'s printout and ``"scored_as"`` in its ``--json``
(:func:`scored_as_arrays`: for a pair of arrays, :func:`tessella.evaluate`'s ``scores`` and
the Evaluate panel's status)."""

from __future__ import annotations

import numpy as np

__all__ = [
    "FRAMES_HINT_ARRAYS",
    "FRAMES_HINT_KEYWORDS",
    "FRAMES_HINT_PATHS",
    "scored_as_arrays",
    "scored_as_text",
    "time_axis",
]

#: how to have a time-lapse of unknown axes scored frame by frame: files, ``tessella
#: evaluate``'s words
FRAMES_HINT_PATHS = (
    "a time-lapse is scored frame by frame where its file names its T axis (ImageJ axes "
    "TYX, as tessella segment and tessella.write_labels(path, labels, axes='TYX') write "
    "them) or the recipe beside it does, with --axes TYX, or with --annotated-only frames "
    "each frame holding a ground-truth object"
)
#: the same in the words of :func:`tessella.evaluate_paths`
FRAMES_HINT_KEYWORDS = (
    "a time-lapse is scored frame by frame where its file names its T axis (ImageJ axes "
    "TYX, as tessella.write_labels(path, labels, axes='TYX') writes them) or the recipe "
    "beside it does, with axes='TYX', or with annotated_only='frames' each frame holding a "
    "ground-truth object"
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


def _frames_said(frames: int, whose: str, how: str, frame_axes: str, panel: bool = False) -> str:
    """The words on ``frames`` frames of ``whose`` scored one by one (``frame_axes``: the
    axes of each, ``ZYX`` a volume whose objects are matched in 3D); ``panel``: as the
    Evaluate panel says it (not "as the Evaluate panel scores a time-lapse")."""
    each = (
        "each an image"
        if len(frame_axes) <= 2
        else f"each a volume ({frame_axes}) whose objects are matched in {len(frame_axes)}D"
    )
    text = f"scored frame by frame: the {frames} frames of {whose}{how}, {each}"
    return text if panel else f"{text}, as the Evaluate panel scores a time-lapse"


def scored_as_text(
    movies: list[tuple],
    volumes: list[tuple[str, str, bool]],
    hint: str = FRAMES_HINT_PATHS,
    sections: list[tuple[str, int]] | None = None,
    section_hint: str = "--gt-boundaries-3d",
) -> str:
    """How the images of more than 2 axes were scored, in words: ``movies`` (``(name,
    frames, how)`` or ``(name, frames, how, frame_axes)`` each: a time-lapse scored frame by
    frame, ``how`` what names its T axis, :func:`time_axis`; ``frame_axes`` those of a
    frame, ``"ZYX"`` for a time-lapse of volumes), ``volumes`` (``(name, axes, known)``
    each: an nD image scored as one, ``known`` whether its axes are known, not read as a
    guess) and ``sections`` (``(name, count)`` each: a membrane-map stack scored a 2D section
    at a time, as it was annotated; ``section_hint`` says how to score it whole); "" where
    there is none of them (2D images). Where a volume's axes are not known, ``hint`` says how
    to score a time-lapse frame by frame ("" for a membrane map: a 3D one has no TYX frames).

    >>> print(scored_as_text([("sim.tif", 3, "the ImageJ metadata of sim.tif")], []))
    ... # doctest: +NORMALIZE_WHITESPACE
    scored frame by frame: the 3 frames of sim.tif (T axis: the ImageJ metadata of sim.tif),
    each an image, as the Evaluate panel scores a time-lapse
    >>> print(scored_as_text([("cells.tif", 2, "its ImageJ tags", "ZYX")], []))
    ... # doctest: +NORMALIZE_WHITESPACE
    scored frame by frame: the 2 frames of cells.tif (T axis: its ImageJ tags), each a volume
    (ZYX) whose objects are matched in 3D, as the Evaluate panel scores a time-lapse
    >>> print(scored_as_text([], [("mito.tif", "ZYX", True)]))
    scored as one volume: mito.tif (axes ZYX), its objects matched in 3D
    >>> print(scored_as_text([], [("a.tif", "ZYX", False)], hint="HINT"))
    ... # doctest: +NORMALIZE_WHITESPACE
    scored as one volume: a.tif, whose axes are not known (read as ZYX), its objects matched
    in 3D; HINT
    >>> print(scored_as_text([], [], sections=[("membranes.tif", 20)]))
    ... # doctest: +NORMALIZE_WHITESPACE
    scored section by section: the 20 2D sections of membranes.tif, each an image (a
    membrane map annotated section by section, as ISBI 2012 scores it); --gt-boundaries-3d
    scores it as one volume, its cells connected in 3D
    """
    parts = []
    if movies:
        frames = sum(movie[1] for movie in movies)
        whose = movies[0][0] if len(movies) == 1 else f"{len(movies)} time-lapses"
        how = f" (T axis: {movies[0][2]})" if len(movies) == 1 else ""
        frame_axes = {movie[3] if len(movie) > 3 else "YX" for movie in movies}
        axes = frame_axes.pop() if len(frame_axes) == 1 else "YX"
        parts.append(_frames_said(frames, whose, how, axes))
    if sections:
        count = sum(n for _, n in sections)
        whose = sections[0][0] if len(sections) == 1 else f"{len(sections)} stacks"
        it = "it" if len(sections) == 1 else "each"
        parts.append(
            f"scored section by section: the {count} 2D sections of {whose}, each an image "
            "(a membrane map annotated section by section, as ISBI 2012 scores it); "
            f"{section_hint} scores {it} as one volume, its cells connected in 3D"
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
            dims = sorted({len(axes) for _, axes, _ in volumes})
            text = (
                f"scored as one volume each: {len(volumes)} images{some}, their objects "
                f"matched in {' or '.join(f'{d}D' for d in dims)}"
            )
        if unknown and hint:
            text += f"; {hint}"
        parts.append(text)
    return "; ".join(parts)


def scored_as_arrays(
    shape: tuple[int, ...],
    kind: str,
    frame_axis: int | None = None,
    how: str = "",
    name: str = "",
    hint: str = FRAMES_HINT_ARRAYS,
    section_hint: str = "kind='boundaries3d'",
    panel: bool = False,
) -> str:
    """How a pair of arrays of ``shape`` scored as ``kind`` was scored, in the words of
    :func:`scored_as_text` ("" for 2D): frame by frame along ``frame_axis`` (``how``: what
    gives it), a membrane map (``"boundaries"``) a 2D section at a time, else as one
    volume. ``name``: what the pair is called (``"'pred' against 'gt'"``), the labels' shape
    without; ``hint``: how to score a time-lapse frame by frame ("" to say none);
    ``section_hint``: how to score a membrane map whole; ``panel``: as the Evaluate panel
    says it.

    >>> print(scored_as_arrays((3, 8, 8), "labels", hint="HINT"))
    scored as one volume: labels of shape (3, 8, 8), their objects matched in 3D; HINT
    >>> print(scored_as_arrays((2, 3, 8, 8), "labels", 0, "frame_axis=0"))
    ... # doctest: +NORMALIZE_WHITESPACE
    scored frame by frame: the 2 frames of the labels (T axis: frame_axis=0), each a volume
    (ZYX) whose objects are matched in 3D, as the Evaluate panel scores a time-lapse
    >>> print(scored_as_arrays((4, 8, 8), "boundaries", section_hint="kind='boundaries3d'"))
    ... # doctest: +NORMALIZE_WHITESPACE
    scored section by section: the 4 2D sections of the labels, each an image (a membrane
    map annotated section by section, as ISBI 2012 scores it); kind='boundaries3d' scores
    it as one volume, its cells connected in 3D
    >>> print(scored_as_arrays((4, 8, 8), "boundaries3d", name="'cells'"))
    scored as one volume: 'cells' (ZYX), its objects matched in 3D
    """
    shape = tuple(int(n) for n in shape)
    if len(shape) <= 2:
        return ""
    whose = name or "the labels"
    if kind == "boundaries":  # (a 2D section at a time, as it was annotated)
        sections = int(np.prod(shape[:-2]))
        return scored_as_text([], [], sections=[(whose, sections)], section_hint=section_hint)
    if frame_axis is not None and -len(shape) <= frame_axis < len(shape):
        frame_axis %= len(shape)
        frame = shape[:frame_axis] + shape[frame_axis + 1 :]
        axes = "ZYX"[-len(frame) :] if len(frame) <= 3 else f"{len(frame)}D"
        how = f" (T axis: {how})" if how else ""
        return _frames_said(shape[frame_axis], whose, how, axes, panel)
    axes = "ZYX" if len(shape) == 3 else ""
    said = f"{name} ({axes})" if name and axes else name or f"labels of shape {shape}"
    matched = "its objects" if name else "their objects"
    text = f"scored as one volume: {said}, {matched} matched in {len(shape)}D"
    return text + (f"; {hint}" if hint and kind != "boundaries3d" else "")
