"""napari reader and writers: TIFF and zarr with axes and pixel size. No Qt here.

The reader opens what :func:`tessella.engine.io.read_image` reads (TIFF with ImageJ/OME
metadata, zarr arrays and OME-Zarr) as layers scaled by the pixel size, with the axes in the
layer's ``metadata["axes"]`` for the Segment widget (with ``metadata["axes_guessed"]`` when the
file names none and they are only a guess from the shape). Labels that Segment made (a
blockwise zarr, or a file with its ``.recipe.json`` beside it) carry their recipe, as the
layers Segment adds do, so Export writes it; a recipe that does not reproduce them is said on
open (:class:`LabelsChangedWarning`). A mask stack (``segment --stack``'s, Export's) opens as
its objects' labels and their overlaps layer. The writers save a labels layer with its scale
as pixel size, so Fiji and the reader see the same physical size.
"""

from __future__ import annotations

import os
import re
import uuid
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = [
    "AXES_GUESSED_KEY",
    "COMPANIONS_KEY",
    "COMPANION_OF_KEY",
    "LabelsChangedWarning",
    "axes_named",
    "get_reader",
    "read_layers",
    "write_labels_tiff",
    "write_labels_zarr",
    "labels_axes",
    "pixel_size_of",
]

RECIPE_KEY = "tessella_recipe"  # the Segment widget's recipe in a labels layer's metadata
#: layer metadata: True when ``metadata["axes"]`` is the reader's guess from the shape (a
#: plain TIFF stack or zarr array names no axes), not axes the file named
AXES_GUESSED_KEY = "axes_guessed"
# an integer TIFF named like labels opens as labels: "nuclei_labels", "LabelImage",
# "labelmap", "cellmask", "mask000", "labelled", ground truth ("gt_cc", "mito_gt", "GT01",
# "ground-truth"); not "Masked_image", "masking", "unlabelled", "labeling", "label-free", nor
# "gt" inside a word ("length", "weight")
_LABELS_NAME = re.compile(
    r"(?<!un)(?:labell?ed|label(?!ing|[-_ ]?free)|mask(?!ed|ing))"
    r"|(?<![a-z])gt(?![a-z])|ground[-_ ]?truth",
    re.I,
)
# ... and so does an integer file in a folder of such files (DSB2018's "masks/<id>.tif")
_LABELS_FOLDERS = {"mask", "masks", "label", "labels", "gt", "ground_truth", "groundtruth"}
#: the zarr attribute in which a blockwise run (the Segment panel's or ``tessella segment``'s)
#: keeps the recipe of the labels it wrote
ZARR_RECIPE_ATTR = "tessella"
#: labels layer metadata ``{kind: token}``, and the ``token`` in the metadata of the layer the
#: reader opened beside them (``COMPANION_OF_KEY``: a mask stack's "overlaps"): napari adds
#: the two, and the widgets take that layer as the labels' companion
COMPANIONS_KEY = "tessella_companions"
COMPANION_OF_KEY = "tessella_companion_of"
_MICRON = ("µm", "μm", "um", "micron", "microns", "micrometer", "micrometers", "µ")
_NO_UNIT = ("", "pixel", "pixels", "px")

PathOrPaths = str | os.PathLike | Sequence[str | os.PathLike]


# --- reading --------------------------------------------------------------------------------


def get_reader(path: PathOrPaths):
    """The reader for a ``.tif``/``.tiff`` file or a zarr folder, else None."""
    from tessella.engine.io import TIFF_SUFFIXES, is_zarr_path

    if not isinstance(path, (str, os.PathLike)):
        return None  # a list of files: napari offers them one by one or to another reader
    path = Path(path)
    if path.suffix.lower() in TIFF_SUFFIXES or is_zarr_path(path):
        return read_layers
    return None


def read_layers(path: PathOrPaths) -> list[tuple]:
    """Layer data tuples for one file (or several); raises ValueError naming a bad file."""
    paths = [path] if isinstance(path, (str, os.PathLike)) else list(path)
    layers: list[tuple] = []
    for one in paths:
        layers += _layers_of(Path(one))
    return layers


def _layer_name(path: Path) -> str:
    name = path.name
    for suffix in (".ome.tiff", ".ome.tif", ".ome.zarr", ".tiff", ".tif", ".zarr"):
        if name.lower().endswith(suffix):
            return name[: -len(suffix)] or name
    return name


def _valid_unit(unit: str) -> bool:
    """Whether napari (pint) understands ``unit``."""
    import pint

    try:
        pint.get_application_registry().Unit(unit)
    except Exception:
        return False
    return True


def axes_named(metadata: dict) -> bool:
    """Whether a layer's ``metadata["axes"]`` are axes its file named (not the reader's guess
    from the shape, nor absent)."""
    return isinstance(metadata.get("axes"), str) and not metadata.get(AXES_GUESSED_KEY)


def _axes_guessed(path: Path, ndim: int) -> bool:
    """Whether :func:`~tessella.engine.io.read_image` guessed the axes of ``path`` from its
    shape: a TIFF whose axes tifffile does not know (``Q``: a stack written without axes,
    ``I``: a plain multi-page file), a zarr array without ``tessella_axes``. ImageJ, OME and
    tifffile's shaped metadata with axes, and OME-Zarr, name them; so does a 2D TIFF (YX) or
    a colour one (its samples)."""
    from tessella.engine.io import is_zarr_path

    try:
        if is_zarr_path(path):
            import zarr

            node = zarr.open(str(path), mode="r")
            return not isinstance(node, zarr.Group) and "tessella_axes" not in node.attrs
        import tifffile

        with tifffile.TiffFile(path) as tif:
            series = tif.series[0]
            kept = [a for a, n in zip(series.axes, series.shape) if n != 1 or a in "YX"]
    except Exception:  # read_image has read it: no reason to fail, but a guess is a guess
        return True
    return len(kept) != ndim or any(letter in "QI" for letter in kept)


def _layers_of(path: Path) -> list[tuple]:
    from tessella.engine.io import read_image

    try:
        image = read_image(path)
    except ValueError:
        raise  # read_image names the file
    except Exception as exc:
        raise ValueError(f"{path}: cannot read ({exc})") from exc
    data, axes = image.data, image.axes
    sizes, unit = dict(image.pixel_size), image.unit
    attrs = getattr(data, "attrs", None)  # a zarr array written by tessella keeps its pixel size
    if not sizes and attrs is not None and isinstance(attrs.get("pixel_size"), dict):
        sizes = {str(k).upper(): float(v) for k, v in attrs["pixel_size"].items()}
        unit = str(attrs.get("unit", unit)) if sizes else unit
    unit = "µm" if unit in _MICRON else unit

    name = _layer_name(path)
    layer_axes = axes.replace("C", "")
    metadata: dict[str, Any] = {"axes": layer_axes, "path": str(path)}
    if _axes_guessed(path, data.ndim):
        metadata[AXES_GUESSED_KEY] = True  # Segment reads a stack as frames for a movie model
    if sizes:
        metadata.update(pixel_size=sizes, unit=unit)
    kwargs: dict[str, Any] = {
        "name": name,
        "scale": tuple(sizes.get(axis, 1.0) for axis in layer_axes),
        "axis_labels": tuple(axis.lower() for axis in layer_axes),
    }
    if sizes and unit not in _NO_UNIT and _valid_unit(unit):
        kwargs["units"] = tuple(unit if axis in sizes else "pixel" for axis in layer_axes)

    named = _LABELS_NAME.search(path.name) is not None
    folder = path.parent.name.lower().replace("-", "_").replace(" ", "_")
    named = named or folder in _LABELS_FOLDERS
    if data.dtype.kind in "iu" and "C" not in axes:
        # a recipe written beside labels says they are labels, though the file lost our tag
        # (re-saved by Fiji or a script) and its name says nothing ("out/cells.tif")
        found = _recipe_beside(path)
        stack = _mask_stack_layers(path, data, kwargs, metadata, found)
        if stack is not None:
            return stack
        if image.labels or named or _binary(data) or _made_beside_labels(found, path):
            labels = np.asarray(data)
            metadata = _with_recipe(metadata, path, labels, found)
            return [(labels, {**kwargs, "metadata": metadata}, "labels")]
    if "C" not in axes:
        return [(data, {**kwargs, "metadata": metadata}, "image")]
    channels = data.shape[axes.index("C")]
    if axes.endswith("C") and channels in (3, 4):
        # the layer keeps the colour axis, so its axes do too (as the Segment widget expects)
        return [(data, {**kwargs, "metadata": {**metadata, "axes": axes}, "rgb": True}, "image")]
    # napari splits the channels into layers; per-layer values go as one entry per channel
    split = {key: [value] * channels for key, value in kwargs.items() if key != "name"}
    split["name"] = [f"{name} c{c}" for c in range(channels)]
    split["metadata"] = [dict(metadata, channel=c) for c in range(channels)]
    return [(data, {**split, "channel_axis": axes.index("C")}, "image")]


def _mask_stack_layers(
    path: Path, data, kwargs: dict, metadata: dict, found: dict | None
) -> list[tuple] | None:
    """The layers of a mask stack (``tessella segment --stack``'s, Export's): the ``(N, Y, X)``
    0/1 masks of objects that may overlap, as Segment shows such objects: their labels
    (object ``n + 1`` is frame ``n``) and, where some hide part of others, an "overlaps"
    layer beside them, which Export and Evaluate take as the labels' (so Export writes
    the stack and measures each object whole). The labels get the recipe beside the file,
    checked against the stack it says it wrote. None when ``path`` holds no mask stack: the
    recipe beside it says ``stack``, or the file's ImageJ ``Info`` is
    :data:`~tessella.engine.io.MASK_STACK_INFO` (so an ImageJ hyperstack, TYX, or a stack
    saved again by a script without that metadata, ZYX, is not a movie or one 3D object)."""
    from tessella.engine.io import mask_stack_labels

    if not isinstance(data, np.ndarray) or data.ndim != 3 or not _zeros_and_ones(data):
        return None
    said = found is not None and found.get("stack") is True
    if not (said or _marked_mask_stack(path)):
        return None
    labels, overlaps = mask_stack_labels(data)
    name = kwargs["name"]
    placed = {key: value[-2:] for key, value in kwargs.items() if key != "name"}
    placed["axis_labels"] = ("y", "x")
    meta: dict[str, Any] = {k: v for k, v in metadata.items() if k != AXES_GUESSED_KEY}
    meta["axes"] = "YX"
    if isinstance(meta.get("pixel_size"), dict):
        meta["pixel_size"] = {k: v for k, v in meta["pixel_size"].items() if k in "YX"}
    # the recipe without ``stack``: it makes these labels (replayed, labels, not a stack)
    recipe = None if found is None else {k: v for k, v in found.items() if k != "stack"}
    labels_meta = _with_recipe(meta, path, labels, recipe, written=data)
    if not overlaps.any():
        return [(labels, {**placed, "name": name, "metadata": labels_meta}, "labels")]
    token = uuid.uuid4().hex  # pairs the two layers (_companions.companion_layer)
    labels_meta[COMPANIONS_KEY] = {"overlaps": token}
    beside = {**meta, COMPANION_OF_KEY: token}
    return [
        (labels, {**placed, "name": name, "metadata": labels_meta}, "labels"),
        (
            overlaps,
            {**placed, "name": f"{name} overlaps", "metadata": beside, "opacity": 0.6},
            "labels",
        ),
    ]


def _zeros_and_ones(data: np.ndarray) -> bool:
    """Whether integer ``data`` holds no value but 0 and 1."""
    return data.dtype.kind in "iu" and bool(data.min() >= 0 and data.max() <= 1)


def _marked_mask_stack(path: Path) -> bool:
    """Whether the TIFF ``path`` says in its ImageJ metadata that it is a mask stack."""
    from tessella.engine.io import MASK_STACK_INFO, is_zarr_path

    if is_zarr_path(path):
        return False
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            info = (tif.imagej_metadata or {}).get("Info")
    except Exception:  # read_image has read it; the mark is a bonus
        return False
    return info == MASK_STACK_INFO


def _binary(data) -> bool:
    """Whether an integer image holds only 0 and 1, both: a binary mask (ground truth such as
    Lucchi++'s ``mito.tif``), which as an image looks black. An 8-bit image (EM) holds more
    values, so it stays an image; a zarr array is not read whole to find out."""
    if not isinstance(data, np.ndarray) or data.dtype.kind not in "iu":
        return False
    return bool(data.max() == 1 and data.min() == 0)


def _made_beside_labels(recipe: dict | None, path: Path) -> bool:
    """Whether ``recipe`` (:func:`_recipe_beside` of ``path``) was written beside labels, so
    that an integer file ``path`` holds labels whatever its name and tags: Export names the
    files it wrote beside it (``exported``), ``tessella segment`` and Export record the labels'
    ``labels_digest``; an older recipe without either counts unless its ``input`` is a file of
    this name (the recipe of the image it was made from, saved beside that image).

    >>> recipe = {"model": "nuclei2d", "params": {}, "input": "raw/cells.tif"}
    >>> _made_beside_labels(recipe, Path("out/cells.tif"))
    False
    >>> _made_beside_labels({**recipe, "labels_digest": {}}, Path("out/cells.tif"))
    True
    >>> _made_beside_labels(recipe, Path("out/cells_labels.tif"))
    True
    """
    from tessella.engine.digest import DIGEST_KEY

    if recipe is None:
        return False
    if "exported" in recipe or DIGEST_KEY in recipe:
        return True
    source = recipe.get("input")
    return not isinstance(source, str) or Path(source).name != path.name


def _recipe_beside(path: Path) -> dict | None:
    """The recipe Segment kept with the labels in ``path``: a blockwise zarr's
    :data:`ZARR_RECIPE_ATTR` attribute, else the ``name.recipe.json`` that ``tessella segment``
    and Export write beside ``name.tif``/``name.zarr`` (one written by Export only when its
    ``exported`` names this file). None when there is none, or it is no Segment recipe."""
    import json

    from tessella.engine.io import is_zarr_path

    found = None
    if is_zarr_path(path):
        import zarr

        try:
            found = zarr.open(str(path), mode="r").attrs.get(ZARR_RECIPE_ATTR)
        except Exception:  # read_image has read it; the recipe is a bonus
            found = None
    sidecar = path.with_name(path.name.rsplit(".", 1)[0] + ".recipe.json")
    if not isinstance(found, dict) and sidecar.is_file():
        try:
            found = json.loads(sidecar.read_text())
        except (OSError, ValueError):
            return None
        exported = found.get("exported") if isinstance(found, dict) else None
        if isinstance(exported, dict) and path.name not in exported.values():
            return None  # Export wrote it for other files of this name
    if not isinstance(found, dict) or not isinstance(found.get("model"), str):
        return None
    return found if isinstance(found.get("params"), dict) else None


#: recipe keys that say what one export wrote (Export's ``_recipe_to_write``, and the
#: labels' digest ``tessella segment`` records too), not how the labels were made: a later
#: export of the reopened labels says its own
EXPORT_ONLY_KEYS = (
    "exported",
    "stack_objects",
    "stack_from",
    "labels_edited",
    "note",
    "labels_digest",
)
#: the note a reopened recipe gets when its labels file no longer holds the labels it was
#: written beside (its ``labels_digest`` differs); Export writes it in the recipe it writes
LABELS_CHANGED_NOTE = (
    "The labels file changed after this recipe was written beside it (edited or replaced "
    "outside Tessella); replaying this recipe does not give these labels."
)
#: the note a reopened recipe gets when its ``labels_digest`` is no digest (edited by hand,
#: cut short): it cannot say whether the labels beside it are still the ones it made
DIGEST_DAMAGED_NOTE = (
    "This recipe's labels_digest is damaged (edited or cut short), so it cannot vouch for "
    "the labels beside it; replaying this recipe may not give them."
)


class LabelsChangedWarning(UserWarning):
    """Labels opened with a recipe that does not reproduce them (the file changed after the
    recipe was written beside it, its digest is damaged, or an Export marked them edited);
    napari shows it as a notification."""


def _recipe_place(path: Path) -> str:
    """Where the recipe of ``path`` is kept, for a message."""
    sidecar = path.with_name(path.name.rsplit(".", 1)[0] + ".recipe.json")
    return sidecar.name if sidecar.is_file() else "the recipe in its zarr attributes"


def _say_not_reproduced(path: Path, recipe: dict, found: dict) -> None:
    """Warn that the recipe reattached to the labels of ``path`` does not reproduce them."""
    place = _recipe_place(path)
    note = recipe.get("note", found.get("note"))
    if note == DIGEST_DAMAGED_NOTE:
        why = (
            f"the labels_digest of {place} is damaged (edited by hand or cut short), so it "
            "cannot say whether these are the labels it made; replaying it may not give them"
        )
    elif note == LABELS_CHANGED_NOTE:
        why = (
            f"the file changed after {place} was written beside it (edited or replaced "
            "outside Tessella), so replaying that recipe does not give these labels"
        )
    else:
        why = f"{place} does not reproduce these labels: they were edited after its run"
    warnings.warn(
        f"{path}: {why}; Export writes the recipe saying so.", LabelsChangedWarning, stacklevel=2
    )


def _with_recipe(
    metadata: dict,
    path: Path,
    labels: np.ndarray,
    found: dict | None = None,
    written: np.ndarray | None = None,
) -> dict:
    """``metadata`` of labels read from ``path``, with the recipe that made them (as the
    layers Segment adds carry it, without the keys of the export that wrote it:
    :data:`EXPORT_ONLY_KEYS`), and these labels as the state the recipe makes, or, when the
    recipe says ``labels_edited``, as a state edited after it: Export then writes the recipe,
    and says it does not reproduce the labels once they differ from the recipe's or were
    edited before.

    A recipe that records the ``labels_digest`` of the labels written beside it
    (``tessella segment`` and Export write one) vouches for those labels only: when the file
    holds others (edited in Fiji, or replaced, after the recipe was written) the labels are a
    state edited after the recipe, which gets :data:`LABELS_CHANGED_NOTE`. The recipe stays:
    it is likely what the labels were made from before the change, and Export writes it
    saying it does not reproduce them. An older recipe without a digest is taken as it says;
    one whose digest is damaged vouches for nothing (:data:`DIGEST_DAMAGED_NOTE`). ``found``
    is :func:`_recipe_beside` of ``path`` when the caller has read it; ``written`` what the
    file holds when that is not ``labels`` (a mask stack: its digest names the stack).

    Labels the recipe does not reproduce are said on open, in a
    :class:`LabelsChangedWarning` naming the file and why (napari shows it).
    """
    if found is None:
        found = _recipe_beside(path)
    if found is None:
        return metadata
    from tessella._widgets import _results  # (no Qt: it records labels states)
    from tessella.engine.digest import DIGEST_KEY, digest_matches

    recipe = {k: v for k, v in found.items() if k not in EXPORT_ONLY_KEYS}
    edited = bool(found.get("labels_edited"))
    held = labels if written is None else written
    if DIGEST_KEY in found and not digest_matches(found[DIGEST_KEY], held):
        damaged = not _is_digest(found[DIGEST_KEY])
        # (Export writes it instead of its own, and says why on its status line)
        recipe["note"] = DIGEST_DAMAGED_NOTE if damaged else LABELS_CHANGED_NOTE
        edited = True
    fingerprint = _results._fingerprint(labels)
    if fingerprint is None and edited:  # no state to say so (labels over 256 MiB): the
        recipe["labels_edited"] = True  # recipe does (Export's recipe_on_screen reads it)
        if "note" not in recipe and "note" in found:
            recipe["note"] = found["note"]
    if edited:
        _say_not_reproduced(path, recipe, found)
    metadata = {**metadata, RECIPE_KEY: recipe}
    if fingerprint is not None:
        state = {"fingerprint": fingerprint, "recipe": recipe, "lineage": None, "edited": edited}
        metadata[_results.STATES_KEY] = [state]
    return metadata


def _is_digest(digest) -> bool:
    """Whether ``digest`` has the form of a ``labels_digest`` (whatever labels it names).

    >>> _is_digest({"shape": [2, 3], "dtype": "uint16", "sha256": "0f" * 32})
    True
    >>> _is_digest({"shape": [2, 3], "dtype": "uint16", "sha256": "abc"})
    False
    """
    if not isinstance(digest, dict):
        return False
    shape, dtype, sha256 = digest.get("shape"), digest.get("dtype"), digest.get("sha256")
    return (
        isinstance(shape, list)
        and all(isinstance(n, int) and n >= 0 for n in shape)
        and isinstance(dtype, str)
        and isinstance(sha256, str)
        and re.fullmatch(r"[0-9a-f]{64}", sha256) is not None
    )


# --- writing --------------------------------------------------------------------------------


def recorded_axes(
    ndim: int, metadata: dict | None = None, axis_labels: Sequence | None = None
) -> str | None:
    """The axes a labels layer records, best evidence first; None when none fits ``ndim``:

    1. ``metadata["axes"]`` its file named (the reader found them in the file);
    2. the axes of the recipe of the image Segment made it from (without C): how Segment
       read that image, e.g. a plain 3D TIFF as frames (TYX) for a time-lapse model;
    3. what its ``axis_labels`` (napari's dimension names) say, e.g. "t", "y", "x" given by
       the user or a script;
    4. ``metadata["axes"]`` the reader only guessed from the shape (``axes_guessed``: a plain
       3D TIFF is ZYX, though it may be a time-lapse).

    >>> guessed = {"axes": "ZYX", "axes_guessed": True}
    >>> recorded_axes(3, guessed), recorded_axes(3, guessed, ("t", "y", "x"))
    ('ZYX', 'TYX')
    >>> recorded_axes(3, {"axes": "ZYX"}, ("t", "y", "x"))  # the file named them
    'ZYX'
    """
    from tessella.engine.axes import SUPPORTED_AXES

    metadata = metadata or {}
    recipe = metadata.get(RECIPE_KEY)
    guessed = bool(metadata.get(AXES_GUESSED_KEY))
    candidates = [
        None if guessed else metadata.get("axes"),
        recipe.get("axes") if isinstance(recipe, dict) else None,
        named_axes(axis_labels, ndim),
        metadata.get("axes") if guessed else None,
    ]
    for axes in candidates:
        if isinstance(axes, str):
            axes = axes.upper().replace("C", "")
            if len(axes) == ndim and axes in SUPPORTED_AXES:
                return axes
    return None


_AXIS_NAMES = {"t": "T", "time": "T", "z": "Z", "y": "Y", "x": "X"}


def named_axes(axis_labels: Sequence | None, ndim: int) -> str | None:
    """The axes a layer's ``axis_labels`` name ("t", "y", "x" -> TYX); None when they don't."""
    from tessella.engine.axes import SUPPORTED_AXES

    if axis_labels is None or len(axis_labels) != ndim:
        return None
    axes = "".join(_AXIS_NAMES.get(str(label).strip().lower(), "?") for label in axis_labels)
    return axes if axes in SUPPORTED_AXES else None


def labels_axes(
    ndim: int, metadata: dict | None = None, axis_labels: Sequence | None = None
) -> str:
    """The axes of a labels layer: :func:`recorded_axes` (its file's, its recipe's, its
    ``axis_labels``', the reader's guess, in that order), else YX, ZYX or TZYX by ``ndim``."""
    from tessella.engine.measure import labels_axes_for

    return recorded_axes(ndim, metadata, axis_labels) or labels_axes_for(ndim)


def _unit_text(unit) -> str:
    """A unit (string or pint Unit) as text: "µm", "nm", "pixel"."""
    if unit is None:
        return ""
    if isinstance(unit, str):
        text = unit.strip()
    else:
        text = str(unit) if str(unit) in ("micron", "pixel") else f"{unit:~}"
    return "µm" if text in _MICRON else text


def pixel_size_of(
    axes: str, scale: Sequence[float] | None, units: Sequence | None = None
) -> tuple[dict[str, float] | None, str]:
    """``({axis: size}, unit)`` of the spatial axes from a layer's scale and units.

    ``(None, "pixel")`` when the scale is 1 and there is no unit; a scale without a unit is
    taken to be in µm, the microscopy default that Fiji also assumes.
    """
    scale = [1.0] * len(axes) if scale is None else [float(s) for s in scale]
    if len(scale) != len(axes):
        raise ValueError(f"the scale {tuple(scale)} does not fit axes {axes}")
    texts = [_unit_text(u) for u in units] if units is not None else [""] * len(axes)
    sizes = {axis: size for axis, size in zip(axes, scale) if axis in "ZYX"}
    named = [t for axis, t in zip(axes, texts) if axis in "ZYX" and t not in _NO_UNIT]
    if not named and all(size == 1.0 for size in sizes.values()):
        return None, "pixel"
    return sizes, named[0] if named else "µm"


def layer_pixel_size(
    axes: str, scale, units=None, metadata: Sequence = ()
) -> tuple[dict[str, float] | None, str, bool]:
    """``(sizes, unit, guessed)``: the pixel size to write for a layer, its unit, and whether
    the unit is µm by assumption.

    napari's default unit is "pixel", so a layer's units cannot tell "never set" from "a
    pixel size without a unit". A scale of 1 without a unit is no pixel size; a unit the layer
    names (the reader gives one where the file has one) is written; a scale that is the pixel
    size our reader recorded in one of ``metadata`` (layer metadata dicts) is written with that
    file's unit ("pixel" when it had none), so the file reads back the same; any other scale
    without a unit (set by hand) is taken to be in µm, as Fiji assumes (``guessed``)."""
    sizes, unit = pixel_size_of(axes, scale, units)
    texts = [_unit_text(u) for u in units] if units is not None else [""] * len(axes)
    if sizes is None or any(t not in _NO_UNIT for a, t in zip(axes, texts) if a in "ZYX"):
        return sizes, unit, False
    for meta in metadata:
        recorded, file_unit = meta.get("pixel_size"), meta.get("unit")
        if not isinstance(recorded, dict) or not isinstance(file_unit, str):
            continue
        try:
            same = set(recorded) >= set(sizes) and all(
                np.isclose(float(recorded[axis]), size) for axis, size in sizes.items()
            )
        except (TypeError, ValueError):
            continue
        if same:
            file_unit = file_unit.strip()
            return sizes, "pixel" if file_unit in _NO_UNIT else file_unit, False
    return sizes, unit, True


def _labels_of(data) -> np.ndarray:
    if isinstance(data, list):  # a multiscale layer: the full resolution
        data = data[0]
    return np.asarray(data)


def _write(path: str, data, meta: dict, write) -> list[str]:
    labels = _labels_of(data)
    axes = labels_axes(labels.ndim, meta.get("metadata"), meta.get("axis_labels"))
    metadata = meta.get("metadata")
    pixel_size, unit, _ = layer_pixel_size(
        axes, meta.get("scale"), meta.get("units"), [metadata] if isinstance(metadata, dict) else []
    )
    # napari's save dialog has already asked before replacing a file
    write(path, labels, axes, pixel_size, unit if pixel_size else "µm", overwrite=True)
    return [str(path)]


def write_labels_tiff(path: str, data, meta: dict) -> list[str]:
    """Save a labels layer as TIFF with its axes and pixel size (ImageJ, else OME)."""
    from tessella.engine.io import write_labels

    return _write(path, data, meta, write_labels)


def write_labels_zarr(path: str, data, meta: dict) -> list[str]:
    """Save a labels layer as a zarr array with its axes and pixel size in the attributes."""
    from tessella.engine.io import write_zarr_labels

    return _write(path, data, meta, write_zarr_labels)
