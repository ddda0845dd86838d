"""How the panels name a frame of a movie or a slice of a volume, one way everywhere.

napari's slider shows a frame's (or slice's) index along its axis, from 0: a panel names a
frame by that index, so that "frame 1" is the frame the slider shows as 1. Where the reader
recorded the movie's own frame numbers (a folder ``t052.tif ...``: the layer's metadata
:data:`~tessella._io_folder.FRAME_NUMBERS_KEY`), the number follows: "frame 1 (t053)". A
count of frames is a count ("2 of 6"), never a frame's name (user test s31/t7, finding 5:
"frame 2" meant the second frame, the slider's 2 and file t055's number in three panels).
"""

from __future__ import annotations

from collections.abc import Sequence

from .._io_folder import FRAME_NUMBERS_KEY

__all__ = ["frame_name", "part_name", "recorded_frame_numbers"]


def recorded_frame_numbers(layer, n_frames: int | None = None) -> tuple[int, ...]:
    """The movie's own frame numbers the reader recorded for ``layer`` (its metadata
    :data:`~tessella._io_folder.FRAME_NUMBERS_KEY`, one a frame), or () where it records
    none, they are not whole numbers, or not ``n_frames`` of them (a layer cropped or
    replaced since).

    >>> from types import SimpleNamespace as Layer
    >>> recorded_frame_numbers(Layer(metadata={"frame_numbers": [52, 53]}), 2)
    (52, 53)
    >>> recorded_frame_numbers(Layer(metadata={"frame_numbers": [52, 53]}), 3)
    ()
    >>> recorded_frame_numbers(Layer(metadata={}))
    ()
    """
    metadata = getattr(layer, "metadata", None)
    numbers = metadata.get(FRAME_NUMBERS_KEY) if isinstance(metadata, dict) else None
    if not isinstance(numbers, list | tuple) or not numbers:
        return ()
    if n_frames is not None and len(numbers) != n_frames:
        return ()
    try:
        whole = tuple(int(n) for n in numbers)
    except (TypeError, ValueError):
        return ()
    return whole if all(w == n for w, n in zip(whole, numbers)) else ()


def frame_name(index: int, numbers: Sequence[int] = (), unit: str = "frame") -> str:
    """Frame (or ``unit``: "slice") ``index``, as napari's slider shows it (from 0), with the
    movie's own number where ``numbers`` (:func:`recorded_frame_numbers`) give one.

    >>> frame_name(1, (52, 53, 54)), frame_name(1), frame_name(4, unit="slice")
    ('frame 1 (t053)', 'frame 1', 'slice 4')
    >>> frame_name(5, (52, 53))  # (numbers that do not reach the frame: none said)
    'frame 5'
    """
    name = f"{unit} {index}"
    if unit == "frame" and 0 <= index < len(numbers):
        name += f" (t{int(numbers[index]):03d})"
    return name


def part_name(index: int, numbers: Sequence[int] = (), unit: str = "frame", slices: int = 0) -> str:
    """Part ``index`` of a run over a movie's frames or a volume's slices, counted in the
    order they are predicted (a movie of volumes segmented slice by slice: frame by frame,
    ``slices`` a frame), named as napari's sliders show it: "frame 1 (t053)", "slice 4",
    "frame 1 (t053) slice 2".

    >>> part_name(1, (52, 53)), part_name(4, unit="slice")
    ('frame 1 (t053)', 'slice 4')
    >>> part_name(6, (52, 53), "slice", slices=4)
    'frame 1 (t053) slice 2'
    """
    if unit == "slice" and slices > 0:
        t, z = divmod(index, slices)
        return f"{frame_name(t, numbers)} {frame_name(z, unit='slice')}"
    return frame_name(index, numbers, unit)
