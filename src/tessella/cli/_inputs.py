"""What ``tessella segment`` reads: its (input, output) jobs, each image with its axes,
and its pixel spacing."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ._console import CliError, _few

__all__ = [
    "_segment_jobs",
    "_say_not_images",
    "_read_input",
    "_chosen_part",
    "_movie_frames",
    "_part_said",
    "_is_frame_folder",
    "_spacing",
    "_chosen_spacing",
    "_same_spacing",
    "_input_spacing",
]


def _segment_jobs(inputs: list[str], output: str, csv: bool = True) -> list[tuple[Path, Path]]:
    """The ``(input, output)`` of each image ``tessella segment`` segments, refused before
    any work where two would collide: one output file (``a.png`` and ``a.tif``: both
    ``a.tif``), or, with ``csv`` (``--csv``), one CSV (``a.tif`` and ``a.tiff``: both
    ``a.csv``). Their recipes do not collide: each labels file keeps its own
    (:func:`~tessella.engine.io._kept_recipe.recipe_to_write`: ``a.recipe.json`` and
    ``a.tiff.recipe.json``)."""
    from ..engine.io import TIFF_SUFFIXES, is_zarr_path, list_images
    from ..engine.io._zarr import ome_image_of_labels

    sources: list[Path] = []
    for item in inputs:
        path = Path(item)
        if not path.exists():
            raise CliError(f"{path}: no such file or folder")
        if path.is_dir() and not is_zarr_path(path):
            sources.extend(list_images(path, pictures=True))  # (PNG/JPEG/BMP too)
        else:
            sources.append(path)
    out = Path(output)
    first = Path(inputs[0])
    single = len(inputs) == 1 and (not first.is_dir() or is_zarr_path(first))
    if single:
        # (OME-NGFF names labels in an image's labels group without .zarr: img.zarr/labels/x)
        zarr_out = out.suffix.lower() == ".zarr" or ome_image_of_labels(out) is not None
        if is_zarr_path(sources[0]) and not zarr_out:
            raise CliError(f"{out}: zarr input needs a .zarr output")
        tiff_out = out.suffix.lower() in TIFF_SUFFIXES
        ome_zarr = out.name.lower().endswith(".ome.zarr")  # OME-Zarr labels of the image
        if not is_zarr_path(sources[0]) and not (tiff_out or ome_zarr):
            raise CliError(
                f"{out}: the output of one image must be a .tif/.tiff file (or a .ome.zarr)"
            )
        return [(sources[0], out)]
    if out.suffix.lower() in TIFF_SUFFIXES:
        raise CliError(f"{out}: several inputs need an output folder, not a file")
    if out.suffix.lower() == ".zarr":
        raise CliError(
            f"{out}: several inputs are written into a folder (each output named after its "
            "input), which a .zarr name would pass off as one zarr store; name it without .zarr"
        )
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise CliError("two inputs share a file name; their outputs would collide")
    from ..engine.io import PICTURE_SUFFIXES

    # (a picture's labels are a TIFF: a.png -> a.tif)
    jobs = [
        (s, out / (s.stem + ".tif" if s.suffix.lower() in PICTURE_SUFFIXES else s.name))
        for s in sources
    ]
    written: dict[Path, Path] = {}
    for source, target in jobs:  # a.png and a.tif would both be a.tif
        other = written.setdefault(target, source)
        if other != source:
            raise CliError(
                f"{other} and {source.name} would both be written as {target.name}; rename "
                "one of them"
            )
    if csv:
        from ._measure_csv import csv_path

        tables: dict[Path, Path] = {}
        for source, target in jobs:  # a.tif and a.tiff: both measured into a.csv
            other = tables.setdefault(csv_path(target), source)
            if other != source:
                raise CliError(
                    f"{other} and {source.name} would both be measured into "
                    f"{csv_path(target).name} (--csv); rename one of them"
                )
    return jobs


def _say_not_images(inputs: list[str]) -> None:
    """Name, on stderr, what the input folders hold that is not segmented: files that are not
    TIFF nor a PNG/JPEG/BMP picture, and folders (a zarr store in a folder too), but not
    hidden files (``.DS_Store``)."""
    from ..engine.io import PICTURE_SUFFIXES, TIFF_SUFFIXES, is_zarr_path

    for item in inputs:
        folder = Path(item)
        if not folder.is_dir() or is_zarr_path(folder):
            continue
        names, zarrs = [], False
        for path in sorted(folder.iterdir()):
            if path.name.startswith(".") or (
                path.suffix.lower() in TIFF_SUFFIXES + PICTURE_SUFFIXES and not path.is_dir()
            ):
                continue
            zarrs = zarrs or is_zarr_path(path)
            names.append(path.name + ("/" if path.is_dir() else ""))
        if names:
            zarr_hint = "; give a zarr store as an input of its own" if zarrs else ""
            print(
                f"{folder}: skipped {_few(names)} (not TIFF nor PNG/JPEG/BMP{zarr_hint})",
                file=sys.stderr,
            )


def _read_input(source: Path, args, recipe: dict):
    """An input read with the axes forced on it, checked against the axes its metadata states
    (an RGB tag, ImageJ, OME or OME-Zarr axes). ``--axes`` is applied as given, with a
    warning naming the file and both axes where they contradict (``read_image``'s). A
    recipe's axes (without ``--axes``) are applied only where they fit: a file whose metadata
    states other axes, or with another number of axes, is refused with the ``--axes`` that
    reads it (a recipe tuned on a stack, replayed over a folder, would cut a colour image
    into 3-pixel-wide slices). A channel or series the image lacks is refused naming where
    it was chosen: ``--channel``, or the recipe (:func:`_part_said`)."""
    part = _chosen_part(args, recipe)
    try:
        return _read_with_axes(source, args, recipe, part)
    except ValueError as exc:  # a channel or series the image lacks: which one, from where
        raise _part_refused(exc, args, part) from None


def _read_with_axes(source: Path, args, recipe: dict, part: dict):
    """:func:`_read_input` of ``part`` (its channel and series)."""
    import dataclasses
    import warnings

    from ..engine.axes import axes_contradict, check_axes
    from ..engine.io import AxesContradictionWarning, is_zarr_path, read_image

    if args.axes:
        ignore = bool(getattr(args, "ignore_axes_metadata", False))
        return read_image(source, args.axes, **part, ignore_axes_metadata=ignore)
    if recipe.get("stored_axes"):  # the axes it was read with, as stored
        ignore = recipe.get("ignore_axes_metadata") is True
        return _read_as_recorded(source, recipe["stored_axes"].upper(), part, ignore)
    # a recipe from before stored_axes were recorded: its axes, the engine's order
    wanted = recipe.get("axes")
    if not wanted:
        return read_image(source, **part)
    if is_zarr_path(source):  # read with the recipe's axes (its singleton axes dropped so)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AxesContradictionWarning)
            image = read_image(source, wanted, **part)
        if axes_contradict(image.axes, image.stated_axes):
            raise CliError(
                f"{source}: the recipe's axes {image.axes} contradict its {image.stated_by}, "
                f"which say {image.stated_axes}; segment it on its own with --axes "
                f"{image.stated_axes} (or --axes {image.axes} to read it as the recipe does)"
            )
        return image
    wanted = wanted.upper()
    image = read_image(source, **part)  # its own axes (the same pixels whichever are given)
    if wanted == image.axes:
        return image
    own = f"segment it on its own with --axes {image.axes}"
    if len(wanted) != image.data.ndim:
        raise CliError(
            f"{source}: the recipe's axes {wanted} name {len(wanted)} axes but the image has "
            f"{image.data.ndim} ({image.axes}); {own}"
        )
    if axes_contradict(wanted, image.stated_axes):
        raise CliError(
            f"{source}: the recipe's axes {wanted} contradict its {image.stated_by}, which say "
            f"{image.stated_axes}; {own} (or --axes {wanted} to read it as the recipe does)"
        )
    return dataclasses.replace(image, axes=check_axes(wanted, image.data.ndim, str(source)))


def _read_as_recorded(source: Path, stored: str, part: dict, ignore: bool = False):
    """``source`` read with a recipe's ``stored_axes`` (the axes its image was read with, in
    the order its file stores them: ``--axes ZCYX``'s, not the CZYX they are read as), where
    they fit: a file whose metadata state other axes, or of another number of axes, is
    refused with the ``--axes`` that reads it; ``ignore``: the recipe was made with
    ``--ignore-axes-metadata``, so are they (metadata against them are said, not refused)."""
    import warnings

    from ..engine.axes import axes_contradict
    from ..engine.io import AxesContradictionWarning, read_image

    image, refusal = None, ""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore" if not ignore else "default", AxesContradictionWarning)
            image = read_image(source, stored, **part, ignore_axes_metadata=ignore)
    except ValueError as exc:
        if _names_part(str(exc), part):  # the channel or series, not the axes
            raise
        refusal = str(exc)
    if image is not None and (ignore or not axes_contradict(image.axes, image.stated_axes)):
        return image
    try:  # its own axes, for the advice
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            own = read_image(source, **part).stored_axes
    except ValueError:
        own = None
    advice = f"segment it on its own with --axes {own}" if own else "segment it on its own"
    if image is None:
        if own and len(own) != len(stored):
            raise CliError(
                f"{source}: the recipe's axes {stored} name {len(stored)} axes but the image "
                f"has {len(own)} ({own}); {advice}"
            )
        raise CliError(f"{refusal} (the recipe's axes); {advice}")
    said = own or image.stated_axes
    raise CliError(
        f"{source}: the recipe's axes {stored} contradict its {image.stated_by}, which say "
        f"{said}; {advice} (or --axes {stored} to read it as the recipe does)"
    )


def _chosen_part(args, recipe: dict) -> dict:
    """``read_image``'s ``channel`` and ``series`` for this run: ``--channel``/``--series``,
    else the recipe's (a replay reads the channel and series its recipe was made from);
    only those chosen. ``--frames`` (the frames of a movie) is checked here too: it picks
    part of the input in memory, where --skip-existing and --blockwise cannot follow it."""
    _check_frames_usage(args)
    part = {}
    for key in ("channel", "series"):
        value = getattr(args, key, None)
        value = recipe.get(key) if value is None else value
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            said = _part_said(args, key)
            raise CliError(f"{said} must be a number from 0, got {value!r}")
        part[key] = value
    return part


def _check_frames_usage(args) -> None:
    """Refuse ``--frames`` with the options that cannot honour it, before any work."""
    if not getattr(args, "frames", None):
        return
    if getattr(args, "blockwise", False):
        raise CliError(
            "--frames segments part of a movie in memory; --blockwise reads the whole zarr "
            "(leave one out)"
        )
    if getattr(args, "skip_existing", False):
        raise CliError(
            "--skip-existing keeps an existing output whatever frames it holds; with --frames "
            "run without it (--overwrite replaces the output)"
        )


def _movie_frames(args, image, source: Path, movie: bool, first: int | None):
    """``(numbers, frames)`` of a run of ``tessella segment`` on ``image`` (read from
    ``source``): the frame numbers of the labels (a folder's ``t052.tif ...``, where
    ``movie``; ``--first-frame``'s; None: 0, 1, ..., not recorded) and the frames
    ``--frames A:B`` picks (a range of indices along T, for ``segment_steps``; None: all),
    by those numbers (:func:`~tessella.engine.pipeline.chosen_frames`), whose numbers are
    then the labels'. An image without T, or frames outside its own, are refused in one
    line naming it and its frames."""
    from ..engine.pipeline import chosen_frames
    from ._segment import _frame_numbers

    numbers = _frame_numbers(source, warn=bool(args.ctc)) if movie else None
    count = image.data.shape[image.axes.index("T")] if "T" in image.axes else None
    if first is not None and count is not None:  # a movie file's, as --first-frame gives them
        numbers = list(range(first, first + count))
    frames = getattr(args, "frames", None)
    if not frames:
        return numbers, None
    if count is None:
        hint = (
            f": if its first axis is time, give --axes {image.axes.replace('Z', 'T')}"
            if "Z" in image.axes
            else ""
        )
        raise CliError(
            f"{source}: --frames picks frames of a time-lapse (axes with T), got {image.axes}"
            + hint
        )
    try:
        picked, numbers = chosen_frames(frames, count, numbers, str(source))
    except ValueError as exc:  # (in the option's words)
        raise CliError(str(exc).replace(": frames expects", ": --frames expects", 1)) from None
    return numbers, picked


def _part_said(args, key: str, value=None) -> str:
    """The channel or series (``value``, where given) as the user chose it: ``--channel 3``
    where typed, else ``the recipe R.json's channel 3`` (a replay reads the recipe's; the
    user typed no ``--channel`` that a message could blame)."""
    shown = "" if value is None else f" {value!r}"
    if getattr(args, key, None) is not None:
        return f"--{key}{shown}"
    return f"the recipe {getattr(args, 'recipe', None)}'s {key}{shown}"


def _names_part(message: str, part: dict) -> bool:
    """Whether ``message`` is read_image's refusal of a channel or series of ``part`` that
    the image lacks ("PATH: no channel 3: it has 2 channels (0 to 1)")."""
    return any(f": no {key} {value}: " in message for key, value in part.items())


def _part_refused(exc: ValueError, args, part: dict) -> Exception:
    """``exc``, read_image's refusal of a channel or series the image lacks, saying where the
    recipe chose it (``PATH: the recipe R.json's channel 3 is not there: it has 2 channels
    (0 to 1); give --channel to read another``); other errors as they are."""
    message = str(exc)
    for key, value in part.items():
        said = f": no {key} {value}: "
        if said in message and getattr(args, key, None) is None:
            chosen = _part_said(args, key, value)
            message = message.replace(said, f": {chosen} is not there: ", 1)
            return CliError(f"{message}; give --{key} to read another")
    return exc


def _is_frame_folder(inputs: list[str]) -> bool:
    from ..engine.io import is_zarr_path

    path = Path(inputs[0])
    return len(inputs) == 1 and path.is_dir() and not is_zarr_path(path)


def _chosen_spacing(pixel_size: dict, spatial, recipe: dict) -> tuple:
    """``(spacing, recorded)``: the voxel size post-processing uses, the file's pixel size
    (``pixel_size``, per axis) where it has every spatial axis, else the recipe's (a volume
    segmented in napari with a scale its file lacks), else None; and the recipe's, where it
    gives one per spatial axis (None otherwise). The one rule, in memory, blockwise and for
    ``--skip-existing``.

    >>> _chosen_spacing({}, "ZYX", {"spacing": [4, 1, 1]})
    ((4.0, 1.0, 1.0), (4.0, 1.0, 1.0))
    >>> _chosen_spacing({"Z": 2, "Y": 1, "X": 1}, "ZYX", {})
    ((2.0, 1.0, 1.0), None)
    """
    recorded = recipe.get("spacing")
    if not isinstance(recorded, list) or len(recorded) != len(spatial):
        recorded = None
    else:
        recorded = tuple(float(v) for v in recorded)
    if all(a in pixel_size for a in spatial):
        return tuple(float(pixel_size[a]) for a in spatial), recorded
    return recorded, recorded


def _same_spacing(a, b) -> bool:
    """Whether two voxel sizes are the same to post-processing, which uses them relative to
    their smallest (0.02 x 0.005 x 0.005 µm is 4 x 1 x 1 px)."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return a.shape == b.shape and np.allclose(a / a.min(), b / b.min())


def _spacing(image, spatial, recipe: dict, recipe_path, name=None) -> tuple | None:
    """The voxel size post-processing uses (:func:`_chosen_spacing`: the file's pixel size,
    else the recipe's); a difference between the file's and the recipe's is said.
    ``image``: anything with a ``pixel_size`` (read_image's ImageData, the blockwise input),
    named ``name`` (default: its ``path``)."""
    spacing, recorded = _chosen_spacing(image.pixel_size, spatial, recipe)
    if spacing is not None and recorded is not None and not _same_spacing(spacing, recorded):
        print(
            f"warning: {image.path if name is None else name} has voxel size {spacing}; "
            f"{recipe_path} was made with {recorded}, so objects may differ",
            file=sys.stderr,
        )
    return spacing


def _input_spacing(
    source: Path, axes: str | None, recipe: dict, recorded: dict, series: int | None = None
):
    """``(spacing, own)``: the voxel size a run (in memory, with ``axes`` forced or not, and
    ``recipe``) would use on ``source`` (:func:`_chosen_spacing`) and whether it is the
    file's own pixel size (or none at all, with no recipe's to take), read from the file's
    metadata only (a TIFF's pixels are not read); None where that cannot be told cheaply (a
    file that is not read here, axes not known). ``--skip-existing`` compares it with an
    existing output's recipe ``recorded``, whose axes stand for the file's where the run
    forces none; ``series``: the series of a TIFF read (default: the one read_image picks)."""
    import warnings

    from ..engine.axes import supported_order
    from ..engine.io import TIFF_SUFFIXES, is_zarr_path, read_image

    axes = axes or recorded.get("stored_axes") or recorded.get("axes")
    if not isinstance(axes, str):
        return None
    spatial = [a for a in (supported_order(axes) or axes.upper()) if a in "ZYX"]
    try:
        if is_zarr_path(source):  # (its metadata: the array is not read)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                image = read_image(source, axes)
            spatial = [a for a in image.axes if a in "ZYX"]
            pixel_size = image.pixel_size
        elif source.suffix.lower() in TIFF_SUFFIXES and source.is_file():
            import tifffile

            from ..engine.io._tiff import _pick_series, _tiff_pixel_size  # as read_image

            with tifffile.TiffFile(source) as tif, warnings.catch_warnings():
                warnings.simplefilter("ignore")  # (reading it says which series it reads)
                pixel_size = _tiff_pixel_size(tif, _pick_series(source, tif.series, series))[0]
        else:
            return None
    except Exception:  # unreadable: segmenting it says why
        return None
    spacing, _ = _chosen_spacing(pixel_size, spatial, recipe)
    own = spacing is None or all(a in pixel_size for a in spatial)
    return spacing, own
