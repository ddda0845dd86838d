"""What ``tessella segment`` reads: its (input, output) jobs, each image with its axes,
and its pixel spacing."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ._console import CliError, _few
from ._write import _recipe_path

__all__ = ["_segment_jobs", "_say_not_images", "_read_input", "_is_frame_folder", "_spacing"]


def _segment_jobs(inputs: list[str], output: str) -> list[tuple[Path, Path]]:
    from ..engine.io import TIFF_SUFFIXES, is_zarr_path, list_images

    sources: list[Path] = []
    for item in inputs:
        path = Path(item)
        if not path.exists():
            raise CliError(f"{path}: no such file or folder")
        if path.is_dir() and not is_zarr_path(path):
            sources.extend(list_images(path))
        else:
            sources.append(path)
    out = Path(output)
    first = Path(inputs[0])
    single = len(inputs) == 1 and (not first.is_dir() or is_zarr_path(first))
    if single:
        if is_zarr_path(sources[0]) and out.suffix.lower() != ".zarr":
            raise CliError(f"{out}: zarr input needs a .zarr output")
        if not is_zarr_path(sources[0]) and out.suffix.lower() not in TIFF_SUFFIXES:
            raise CliError(f"{out}: the output of one image must be a .tif/.tiff file")
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
    jobs = [(s, out / s.name) for s in sources]
    recipes: dict[Path, Path] = {}
    for source, target in jobs:  # a.tif and a.tiff would share a.recipe.json
        other = recipes.setdefault(_recipe_path(target), source)
        if other != source:
            raise CliError(
                f"{other} and {source.name} would share the recipe "
                f"{_recipe_path(target).name}; rename one of them"
            )
    return jobs


def _say_not_images(inputs: list[str]) -> None:
    """Name, on stderr, what the input folders hold that is not segmented: files that are not
    TIFF and folders (a zarr store in a folder too), but not hidden files (``.DS_Store``)."""
    from ..engine.io import TIFF_SUFFIXES, is_zarr_path

    for item in inputs:
        folder = Path(item)
        if not folder.is_dir() or is_zarr_path(folder):
            continue
        names, zarrs = [], False
        for path in sorted(folder.iterdir()):
            if path.name.startswith(".") or (
                path.suffix.lower() in TIFF_SUFFIXES and not path.is_dir()
            ):
                continue
            zarrs = zarrs or is_zarr_path(path)
            names.append(path.name + ("/" if path.is_dir() else ""))
        if names:
            zarr_hint = "; give a zarr store as an input of its own" if zarrs else ""
            print(f"{folder}: skipped {_few(names)} (not TIFF{zarr_hint})", file=sys.stderr)


def _read_input(source: Path, args, recipe: dict):
    """An input read with the axes forced on it, checked against the axes its metadata states
    (an RGB tag, ImageJ, OME or OME-Zarr axes). ``--axes`` is applied as given, with a
    warning naming the file and both axes where they contradict (``read_image``'s). A
    recipe's axes (without ``--axes``) are applied only where they fit: a file whose metadata
    states other axes, or with another number of axes, is refused with the ``--axes`` that
    reads it (a recipe tuned on a stack, replayed over a folder, would cut a colour image
    into 3-pixel-wide slices)."""
    import dataclasses
    import warnings

    from ..engine.axes import axes_contradict, check_axes
    from ..engine.io import AxesContradictionWarning, is_zarr_path, read_image

    wanted = args.axes or recipe.get("axes")
    if args.axes or not wanted:
        return read_image(source, wanted)
    if is_zarr_path(source):  # read with the recipe's axes (its singleton axes dropped so)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AxesContradictionWarning)
            image = read_image(source, wanted)
        if axes_contradict(image.axes, image.stated_axes):
            raise CliError(
                f"{source}: the recipe's axes {image.axes} contradict its {image.stated_by}, "
                f"which say {image.stated_axes}; segment it on its own with --axes "
                f"{image.stated_axes} (or --axes {image.axes} to read it as the recipe does)"
            )
        return image
    wanted = wanted.upper()
    image = read_image(source)  # its own axes (the same pixels whichever axes are given)
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


def _is_frame_folder(inputs: list[str]) -> bool:
    from ..engine.io import is_zarr_path

    path = Path(inputs[0])
    return len(inputs) == 1 and path.is_dir() and not is_zarr_path(path)


def _spacing(image, spatial: list[str], recipe: dict, recipe_path) -> tuple | None:
    """The voxel size post-processing uses: the file's pixel size, else the recipe's (a
    volume segmented in napari with a scale its file lacks); a difference is said."""
    recorded = recipe.get("spacing")
    if not isinstance(recorded, list) or len(recorded) != len(spatial):
        recorded = None
    if all(a in image.pixel_size for a in spatial):
        spacing = tuple(float(image.pixel_size[a]) for a in spatial)
        relative = np.asarray(spacing) / min(spacing)  # what post-processing uses
        if recorded is not None and not np.allclose(relative, np.asarray(recorded) / min(recorded)):
            print(
                f"warning: {image.path} has voxel size {spacing}; {recipe_path} was made with "
                f"{tuple(recorded)}, so objects may differ",
                file=sys.stderr,
            )
        return spacing
    return None if recorded is None else tuple(float(v) for v in recorded)
