"""A call's arguments checked (the model, the image and its axes, the options) and a frame in
the model's input layout."""

from __future__ import annotations

import numpy as np

from ..axes import check_axes, guess_axes, spatial_of, to_model_layout
from ..methods import get_method
from ..normalize import normalize, not_finite_words
from ..registry import LoadedModel, load_model

__all__ = [
    "DEFAULT_MODEL",
    "default_model",
    "IN_MEMORY_BYTES_PER_PIXEL",
    "KEPT_BYTES_PER_FRAME_PIXEL",
    "TooBigForMemory",
    "available_memory",
    "window_of",
    "missing_voxel_size",
    "_as_model",
    "_image_and_metadata",
    "_check_fits_memory",
    "_check_call",
    "_check_options",
    "_check_image",
    "_slicewise",
    "_model_input",
    "_model_channels",
]


DEFAULT_MODEL = "nuclei2d"
#: what segmenting in memory takes per pixel of the labels (the image, normalised copies, the
#: network's outputs, post-processing): 26 GiB for 16384² (README, "Bigger than memory"). The
#: napari panel's Blockwise default (``_widgets._blockwise.LARGE_PIXELS``, 8192² pixels, about
#: 6.5 GiB) comes from the same figure
IN_MEMORY_BYTES_PER_PIXEL = 100
#: what each further frame of a time-lapse costs per pixel: the frames are predicted a window
#: at a time, and what stays till the end is every frame's predictions and labels. Measured
#: with cells2dt on Fluo-N2DH-SIM+ 01 (690x628 frames, cpu, no TTA), the peak of tracemalloc
#: (numpy's allocations) over one ``tessella.segment`` call after a warm-up call: 85.1 MB for
#: 8 frames, 334.8 MB for 32, so 24.0 bytes per pixel of a further frame (the peak RSS rose
#: 9.3 bytes; untouched pages of zeroed arrays are not resident). The embedding method keeps
#: about as many float maps per frame (offsets, sigmas, seeds: 5 x 4 bytes, and the labels)
KEPT_BYTES_PER_FRAME_PIXEL = 24


def _as_model(model: str | LoadedModel | None) -> LoadedModel:
    import os

    if isinstance(model, LoadedModel):
        return model
    if model is not None and not isinstance(model, str | os.PathLike):
        raise TypeError(
            "model must be a model name, a model folder or a .zip package (a path), or a "
            f"loaded model, not {type(model).__name__}"
        )
    return load_model(model or default_model())


def default_model() -> str:
    """The folder of the bundled :data:`DEFAULT_MODEL`, which a run that names no model uses:
    by folder, not by name, so that a user model also called ``nuclei2d`` does not make such a
    run ambiguous (a name two models share is refused; see ``registry.find_model``)."""
    from ..registry import bundled_dir

    return str(bundled_dir() / DEFAULT_MODEL)


class TooBigForMemory(MemoryError, ValueError):
    """A lazy image too big to segment in memory: a MemoryError, and a ValueError so that
    the command line and the napari panel say it in one line as they say bad input."""


def missing_voxel_size(pixel_size, source: str = "the file") -> str:
    """What a volume's ``pixel_size`` (sizes by axis, as ``read_image`` gives them, from
    ``source``) lacks of its voxel size, in the words of
    :func:`~tessella.engine.methods.boundary.unknown_z_spacing_note`'s ``missing``: no Z
    spacing, or a Z spacing without the pixel size in Y and X (an ImageJ TIFF with a
    spacing but no resolution), which is no voxel size either: the volume is taken as
    isotropic all the same (user test s31/t8, finding 3: it was said to have no Z spacing).

    >>> missing_voxel_size({}), missing_voxel_size({"Y": 0.004, "X": 0.004})
    ('no Z spacing in the file', 'no Z spacing in the file')
    >>> missing_voxel_size({"Z": 50.0}).split(", so ")
    ['the file gives a Z spacing (50) but no pixel size in Y and X', \
'its voxel size is unknown and it is taken as isotropic']
    >>> missing_voxel_size({"Z": 0.05, "X": 0.004}, "the layer's scale").split(", so")[0]
    "the layer's scale gives a Z spacing (0.05) but no pixel size in Y"
    """
    sizes = {str(k).upper(): v for k, v in dict(pixel_size or {}).items()}
    lacking = [a for a in "YX" if a not in sizes]
    if "Z" not in sizes or not lacking:
        return f"no Z spacing in {source}"
    return (
        f"{source} gives a Z spacing ({sizes['Z']:g}) but no pixel size in "
        f"{' and '.join(lacking)}, so its voxel size is unknown and it is taken as isotropic"
    )


def _image_and_metadata(image, axes, spacing, name: str):
    """``(array, axes, spacing, name)`` of ``image``: an
    :class:`~tessella.engine.io.ImageData` (what ``read_image`` returns) gives its array, and
    its axes, pixel size and file name where the call gives none; anything else is as given."""
    from ..io import ImageData

    if not isinstance(image, ImageData):
        return image, axes, spacing, name
    if name == "image" and image.path is not None:
        name = str(image.path)
    return (
        image.data,
        image.axes if axes is None else axes,
        image.pixel_size if spacing is None else spacing,
        name,
    )


#: where Linux says what memory there is: read through these names so that a test can give
#: a container's files (a cgroup's limit, its page cache) on a machine that has none
MEMINFO = "/proc/meminfo"
CGROUP_ROOT = "/sys/fs/cgroup"
CGROUP_OF_PROCESS = "/proc/self/cgroup"


def available_memory() -> int | None:
    """Bytes of memory this process can still take (Linux: ``MemAvailable``, less where a
    cgroup's limit leaves less; elsewhere the free pages), or None when unknown."""
    import os
    from pathlib import Path

    found = None
    try:
        for line in Path(MEMINFO).read_text().splitlines():
            if line.startswith("MemAvailable:"):
                found = int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    if found is None:
        try:
            found = os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
        except (ValueError, OSError, AttributeError):
            return None
    limited = _cgroup_available()
    return found if limited is None else min(found, limited)


def _cgroup_available() -> int | None:
    """What the cgroup-v2 limits over this process leave (the least of its own group's and
    every group above it), or None without a limit. The page cache a container has filled is
    not counted as used where the kernel can drop it (``inactive_file`` of ``memory.stat``):
    ``memory.current`` counts it, and after reading a few GB of images it reaches the limit,
    which refused every lazy input, even a 2048² one (review 2, F3)."""
    from pathlib import Path

    root = Path(CGROUP_ROOT)
    own = ""
    try:  # "0::/user.slice/job.scope" (cgroup v2); "0::/" inside a container's namespace
        for line in Path(CGROUP_OF_PROCESS).read_text().splitlines():
            if line.startswith("0::"):
                own = line[3:].strip().strip("/")
    except OSError:
        pass
    groups = [root.joinpath(*own.split("/")[:depth]) for depth in range(own.count("/") + 2)]
    least = None
    for group in groups if own else [root]:
        try:
            limit = (group / "memory.max").read_text().strip()
            if limit == "max":
                continue
            used = int((group / "memory.current").read_text())
        except (OSError, ValueError):
            continue
        try:
            stat = dict(line.split() for line in (group / "memory.stat").read_text().splitlines())
            used -= int(stat.get("inactive_file", 0))
        except (OSError, ValueError):
            pass
        left = max(int(limit) - max(used, 0), 0)
        least = left if least is None else min(least, left)
    return least


def _gib(size: float) -> str:
    return f"{size / 2**30:.1f} GiB" if size >= 2**30 else f"{size / 2**20:.1f} MiB"


def _check_fits_memory(image, axes: str | None, name: str) -> None:
    """Refuse a lazy array (dask, zarr) that segmenting in memory would need more memory for
    than there is (:data:`IN_MEMORY_BYTES_PER_PIXEL` per pixel of its labels; of a
    time-lapse, of one frame's and :data:`KEPT_BYTES_PER_FRAME_PIXEL` of every other frame's),
    before any of it is read; a numpy array is in memory already and is not refused."""
    if isinstance(image, np.ndarray) or not hasattr(image, "shape"):
        return
    shape = tuple(int(n) for n in image.shape)
    try:
        axes = check_axes(axes if isinstance(axes, str) else guess_axes(shape), len(shape), name)
    except (TypeError, ValueError):  # said by _check_options and _check_image
        axes = ""
    pixels = int(np.prod([n for a, n in zip(axes, shape) if a != "C"] if axes else shape))
    frames = shape[axes.index("T")] if "T" in axes else 1
    # a time-lapse is segmented a window at a time: one frame's worth of the whole cost, and
    # what every frame keeps till the end (its predictions and labels)
    frame = pixels // max(frames, 1)
    needed = frame * IN_MEMORY_BYTES_PER_PIXEL + (pixels - frame) * KEPT_BYTES_PER_FRAME_PIXEL
    free = available_memory()
    if free is None or needed <= free:
        return
    size = int(np.prod(shape)) * np.dtype(image.dtype).itemsize
    kind = f"{type(image).__module__.split('.')[0]}.{type(image).__name__}"  # dask.Array
    raise TooBigForMemory(
        f"{name}: {kind} of shape {shape} ({_gib(size)}) needs about "
        f"{_gib(needed)} to segment in memory and {_gib(free)} is available: segment it block "
        "by block with tessella.segment_blockwise(image, 'labels.zarr', model) (a zarr path "
        "or array; tessella segment --blockwise), or crop it"
    )


def _check_call(image, **flags) -> None:
    """Refuse what the Python API cannot take, with a TypeError saying what it takes: an
    image that is no array (a path, a list) and switches that are not True, False or None."""
    import os

    if isinstance(image, str | os.PathLike):
        raise TypeError(
            f"segment takes an array, not the path {str(image)!r}: read the file with "
            "tessella.read_image(path) and pass what it returns (its axes and pixel size come "
            "with it)"
        )
    if not (hasattr(image, "dtype") and hasattr(image, "shape")):
        raise TypeError(
            "segment takes an array (numpy, dask or zarr) or what tessella.read_image returns, "
            f"not {type(image).__name__}"
        )
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
                "choose one (read_image's channel= in Python, --channel on the command "
                "line), or give axes without C"
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
        raise ValueError(
            f"{name}: axes {axes} do not fit model {model.card.name!r}, which segments "
            f"{expected} images{_axes_hint(axes, expected)}"
        )
    return axes


#: what each supported axes order is, in words, for :func:`_axes_hint`
_AXES_WORDS = {
    "TYX": "a time-lapse of 2D frames",
    "TYXC": "a time-lapse of colour (RGB) frames",
    "TZYX": "a time-lapse of volumes",
    "ZYX": "a volume",
    "ZYXC": "a volume of colour planes",
    "CZYX": "a volume of channels",
    "CYX": "one image of channels",
    "YXC": "one colour image",
}


def _axes_hint(axes: str, expected: str) -> str:
    """The hint of the error for ``axes`` that do not fit a model of ``expected`` spatial
    axes: the axes of as many dimensions that would fit it, and what they mean; else the
    part to segment at a time. "" where there is nothing to say.

    >>> _axes_hint("ZYX", "YX")
    '; for a stack of 2D images use axes TYX (CYX if its planes are channels)'
    >>> print(_axes_hint("TZYX", "YX"))  # doctest: +NORMALIZE_WHITESPACE
    ; if the image is a time-lapse of colour (RGB) frames give axes TYXC (axes= in Python,
    --axes on the command line); a volume or a time-lapse of volumes needs a model that
    segments ZYX images, or segment one 2D plane at a time (image[t, z],
    read_image(path).data[t, z])
    """
    from ..axes import SUPPORTED_AXES

    if axes == "ZYX":
        return "; for a stack of 2D images use axes TYX (CYX if its planes are channels)"
    fitting = [a for a in SUPPORTED_AXES if len(a) == len(axes) and spatial_of(a) == expected]
    said = " or ".join(f"{_AXES_WORDS[a]} give axes {a}" for a in fitting if a in _AXES_WORDS)
    hint = f"; if the image is {said} (axes= in Python, --axes on the command line)" if said else ""
    if "Z" in axes and expected == "YX":
        index = ", ".join(a.lower() for a in axes if a not in "YXC")
        hint += (
            "; a volume or a time-lapse of volumes needs a model that segments ZYX images, or "
            f"segment one 2D plane at a time (image[{index}], read_image(path).data[{index}])"
        )
    return hint


def _slicewise(axes: str, model: LoadedModel) -> bool:
    """True when a 2D model segments a volume slice by slice with 3D post-processing (methods
    with ``SLICEWISE_3D``, e.g. boundary prediction on anisotropic EM stacks)."""
    method = get_method(model.card.method)
    return (
        getattr(method, "SLICEWISE_3D", False)
        and model.card.spatial_axes == "YX"
        and spatial_of(axes) == "ZYX"
    )


def _model_input(frame, frame_axes, card, name, invert=None, blank=()) -> np.ndarray:
    """One frame in the model's layout ``(C, *spatial)``, normalised (``invert``, ``blank``:
    see :func:`~tessella.engine.normalize.normalize`). A constant frame (a blank frame or
    slice of a stack that is not blank as a whole) becomes zeros; its labels are cleared
    after (:func:`without_blank_parts`)."""
    if np.issubdtype(frame.dtype, np.floating) and not np.isfinite(frame).all():
        raise ValueError(not_finite_words(frame, name))
    data = to_model_layout(
        frame, frame_axes, card.spatial_axes, card.channels, card.input.get("rgb", "mean")
    )
    return normalize(data, card.normalization, invert, blank)


def _model_channels(part, part_axes: str, card) -> np.ndarray:
    """``part`` (a frame, or a Z slice of one; no T axis) as ``(C, *spatial)`` with the
    channels the model of ``card`` reads (averaged, alpha left out, as :func:`_model_input`
    arranges them), not normalised: what :func:`~tessella.engine.normalize.is_blank` judges,
    as a blockwise scan judges the same channels (a view where nothing is averaged)."""
    rgb = card.input.get("rgb", "mean")
    return to_model_layout(part, part_axes, spatial_of(part_axes), card.channels, rgb)


def window_of(card) -> int:
    """Frames a time-lapse model reads per prediction (1 for every other model)."""
    return card.window
