"""Export's outputs: what each adds to the base path, where they go (``Save as``, the
folder made for them) and the recipe written beside the labels (the choosing of
:class:`.export.ExportWidget`, a mixin)."""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from qtpy.QtWidgets import QFileDialog

from . import _results
from ._object_stack import _Stack
from .segment import RECIPE_KEY

__all__ = [
    "EDITED_NOTE",
    "FIRST_FRAME_TIP",
    "Hashed",
    "InputSource",
    "OUTPUT_SUFFIXES",
    "ExportOutputs",
    "base_path",
    "file_name",
    "folder_to_make",
    "names_a_folder",
    "proposed_name",
    "output_base_name",
    "renaming",
]

#: what a recipe file says when replaying it does not give the exported labels
EDITED_NOTE = (
    "The labels were changed after segmentation (edited by hand, or a Tune preview of one "
    "slice or frame not applied to all); replaying this recipe gives them as they were before."
)

#: what each output adds to the base path
OUTPUT_SUFFIXES = {
    "tiff": ".tif",
    "stack": ".stack.tif",  # (N, Y, X) 0/1 masks, as `tessella segment --stack` writes
    "zarr": ".zarr",  # a zarr array with Tessella's attributes
    "ome_zarr": ".ome.zarr",  # a standalone OME-Zarr (NGFF 0.4) labels image
    "csv": ".csv",
    "recipe": ".recipe.json",
    "ctc": "_RES",  # a folder: maskTTT.tif + res_track.txt
}


#: what a file name made from a layer name cannot hold: path separators (a layer named
#: "DAPI/GFP" or "../x" names no folder), and what Windows forbids, so that an export
#: folder can be shared
NOT_IN_FILE_NAMES = frozenset('/\\<>:"|?*' + "".join(map(chr, range(32))) + "\x7f")


#: names Windows keeps for devices, whatever follows a dot (``nul.tif`` is the device
#: NUL): a file named after a layer "CON" or "nul" could not be written or copied there
WINDOWS_DEVICES = frozenset(
    ["CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"]
    + [f"{port}{n}" for port in ("COM", "LPT") for n in "123456789\u00b9\u00b2\u00b3"]
)  # (COM¹ .. LPT³: superscript digits, as Windows and Python's ntpath.isreserved list them)


def _windows_device(name: str) -> bool:
    """Whether outputs named ``name`` + a suffix name a Windows device (:data:`WINDOWS_DEVICES`:
    the part before the first dot, spaces at its end ignored, in any case)."""
    return name.split(".", 1)[0].rstrip(" ").upper() in WINDOWS_DEVICES


def file_name(name: str) -> str:
    """The file name that outputs named after the layer ``name`` get (before their
    suffixes): one name, never a path, each character a file name cannot hold
    (:data:`NOT_IN_FILE_NAMES`) and each leading ``.`` (``..`` names the folder above; a
    name starting with ``.`` is hidden) replaced by ``_``; a Windows device name
    (:data:`WINDOWS_DEVICES`) gets a ``_`` after it.

    >>> file_name("DAPI/GFP"), file_name("../up"), file_name("day 1/well A"), file_name("a:b*c?")
    ('DAPI_GFP', '___up', 'day 1_well A', 'a_b_c_')
    >>> file_name("CON"), file_name("nul.v2"), file_name("com1 "), file_name("CONTROL")
    ('CON_', 'nul_.v2', 'com1_ ', 'CONTROL')
    """
    safe = "".join("_" if char in NOT_IN_FILE_NAMES else char for char in name)
    dots = len(safe) - len(safe.lstrip("."))
    safe = "_" * dots + safe[dots:] or "labels"
    if _windows_device(safe):
        device = safe.split(".", 1)[0].rstrip(" ")
        safe = device + "_" + safe[len(device) :]
    return safe


def _plain(char: str) -> bool:
    """Whether a proposed file name keeps ``char`` (:func:`proposed_name`): a letter or digit
    of any script (with its accents), ``_``, ``-``, ``.`` or ``+``; not a space, a bracket
    or other punctuation that a shell command or a Fiji macro would need quoted."""
    return char.isalnum() or char in "_-.+" or unicodedata.category(char).startswith("M")


def proposed_name(name: str) -> str:
    """The file name Export proposes for outputs named after the layer ``name`` (before
    their suffixes), one that a shell script or a Fiji macro takes unquoted: each run of
    other characters than :func:`_plain` ones (spaces, brackets, commas, path separators,
    what Windows forbids) becomes one ``_``, with no ``_`` nor ``.`` at either end (``..``
    names the folder above; a name starting with ``.`` is hidden) and no ``-`` at its start
    (a shell command takes such a name for an option), and the rules of
    :func:`file_name` (a Windows device name gets a ``_`` after it). A name the user types
    in *Save as* is never changed (:func:`base_path`).

    >>> proposed_name("E03 labels (worms2d)"), proposed_name("stack labels (nuclei2d, TYX)")
    ('E03_labels_worms2d', 'stack_labels_nuclei2d_TYX')
    >>> proposed_name("../up"), proposed_name("Zellkerne (Wurzel ü)"), proposed_name("a:b*c?")
    ('up', 'Zellkerne_Wurzel_ü', 'a_b_c')
    >>> proposed_name("CON"), proposed_name("nul.v2"), proposed_name(" ( ) "), proposed_name("x.")
    ('CON_', 'nul_.v2', 'labels', 'x')
    >>> proposed_name("-rf labels (x)"), proposed_name("--- -"), proposed_name("a-b-")
    ('rf_labels_x', 'labels', 'a-b-')
    """
    return file_name(_for_scripts(name))


def _for_scripts(name: str) -> str:
    """``name`` with each run of characters not :func:`_plain` one ``_``, no ``_`` nor ``.``
    at either end and no ``-`` at its start (``"labels"`` when nothing is left)."""
    return _underscored(name).lstrip("._-").rstrip("._") or "labels"


def _underscored(name: str) -> str:
    """``name`` with each run of characters not :func:`_plain` one ``_``."""
    return re.sub(r"_+", "_", "".join(char if _plain(char) else "_" for char in name))


def renaming(name: str) -> str:
    """What the status line says when outputs named after the layer ``name`` are named
    otherwise (:func:`proposed_name`); "" when they have its name.

    >>> renaming("cells/v2")
    "named 'cells_v2' after the layer 'cells/v2' (a file name cannot hold '/')"
    >>> renaming("E03 (worms)")
    "named 'E03_worms' after the layer 'E03 (worms)' (' ', '(', ')' made '_' for scripts)"
    >>> renaming("nuclei")
    ''
    >>> renaming("-rf")
    "named 'rf' after the layer '-rf' (a leading '-' dropped for scripts)"
    """
    safe = output_base_name(name)
    if safe == name:
        return ""
    if not name:
        return f"named '{safe}' (the layer has no name)"
    held = sorted({char for char in name if char in NOT_IN_FILE_NAMES})
    cannot = [f"hold {', '.join(repr(char) for char in held)}"] if held else []
    if name.startswith("."):
        cannot.append("start with '.'")
    plain = _for_scripts(name)
    if _windows_device(plain):  # ("conout$" gives "conout": no device)
        cannot.append(f"be the Windows device {plain.split('.', 1)[0].upper()}")
    why = [f"a file name cannot {' nor '.join(cannot)}"] if cannot else []
    quoted = sorted({char for char in name if not _plain(char) and char not in held})
    if quoted:
        why.append(f"{', '.join(repr(char) for char in quoted)} made '_' for scripts")
    if _underscored(name).lstrip("._").startswith("-"):
        why.append("a leading '-' dropped for scripts")
    plain_name = proposed_name(name)
    if safe != plain_name:  # ("01_RES": the CTC folder adds "_RES" again)
        dropped = plain_name[len(_without_suffix(plain_name)) :]
        why.append(f"'{dropped}' dropped: the outputs add their own")
    if not why:  # ("_x_", "x.": only the ends trimmed, "a__b": a run of "_" made one)
        why.append("trimmed for scripts")
    return f"named '{safe}' after the layer '{name}' ({'; '.join(why)})"


def names_a_folder(text: str) -> bool:
    """Whether *Save as* ``text`` names the folder that holds the outputs (an existing one,
    or text ending in a slash; they are then named after the layer), not their base name."""
    text = text.strip()
    if not text:
        return False
    if text.endswith(("/", os.sep)):
        return True
    path = Path(text).expanduser()
    return _without_suffix(path.name) == path.name and path.is_dir()  # ("x.tif": a base)


def _without_suffix(stem: str) -> str:
    """``stem`` without an output suffix (".stack.tif" before ".tif", "_RES"), if it ends in
    one: a file extension in any case, the CTC folder's "_RES" only as CTC writes it (a base
    typed "nuc_res" is the user's name, not a result folder's).

    >>> _without_suffix("01_cells_RES"), _without_suffix("a.OME.ZARR"), _without_suffix("_RES")
    ('01_cells', 'a', '_RES')
    >>> _without_suffix("nuc_res")
    'nuc_res'
    """
    suffixes = (*OUTPUT_SUFFIXES.values(), ".tiff", ".json")
    for suffix in sorted(suffixes, key=len, reverse=True):
        ends = (
            stem.lower().endswith(suffix.lower())
            if suffix.startswith(".")
            else (stem.endswith(suffix))
        )
        if ends and len(stem) > len(suffix):
            return stem[: -len(suffix)]
    return stem


def output_base_name(name: str) -> str:
    """The base name Export proposes for outputs named after the layer ``name``: its
    :func:`proposed_name` less an output suffix it ends in (a CTC result folder reopened,
    ``01_RES``, exports as ``01``: its CTC folder is ``01_RES`` again, not ``01_RES_RES``),
    with no ``_`` left at its end.

    >>> output_base_name("01_labels_cells2dt_RES"), output_base_name("cells (v2).tif")
    ('01_labels_cells2dt', 'cells_v2')
    """
    return proposed_name(_without_suffix(proposed_name(name)))  # (no "_" left at its end)


def base_path(text: str, name: str = "labels") -> Path | None:
    """The base the outputs are named after: ``~`` expanded, an output suffix dropped; a
    folder (one that exists, or text ending in a slash) holds them, named after the layer
    ``name`` made a single file name (:func:`output_base_name`), so they never go elsewhere; a
    base name typed is kept as typed.

    >>> base_path("/data/exports/", "../cells/v2").name, base_path("/data/a (b).tif").name
    ('cells_v2', 'a (b)')
    """
    text = text.strip()
    if not text:
        return None
    path = Path(text).expanduser()
    if names_a_folder(text):
        return path / output_base_name(name)
    stem = _without_suffix(path.name)
    return path.with_name(stem) if stem != path.name else path


def folder_to_make(text: str, base: Path) -> Path | None:
    """The folder Export makes to hold the outputs named after ``base`` (None when it
    exists); ValueError, saying why, when they cannot go there. Only the folder that a
    *Save as* ``text`` ending in a slash names is made, and only inside an existing folder:
    a typo in a parent folder is refused, never made into a new tree of folders.

    >>> folder_to_make("/no_such_folder/sub/name", Path("/no_such_folder/sub/name"))
    Traceback (most recent call last):
    ...
    ValueError: folder '/no_such_folder' does not exist; create it first, or choose another
    """
    if "\0" in text:
        raise ValueError("the path has a character that cannot be in a file name (a NUL byte)")
    folder = base.parent
    if folder.is_dir():
        return None
    chain = [folder, *folder.parents]
    found = next((n for n, path in enumerate(chain) if path.exists()), len(chain) - 1)
    if chain[found].exists() and not chain[found].is_dir():
        raise ValueError(f"'{chain[found]}' is a file, not a folder")
    missing = chain[max(found - 1, 0)]  # the first folder of the path that does not exist
    if missing == folder and text.strip().endswith(("/", os.sep)):
        return folder
    raise ValueError(f"folder '{missing}' does not exist; create it first, or choose another")


@dataclass(frozen=True)
class _Output:
    kind: str  # a key of OUTPUT_SUFFIXES
    path: Path


@dataclass(frozen=True)
class InputSource:
    """The file an image layer was read from, whose identity Export's recipe records."""

    path: str  # absolute
    as_read: dict | None  # its size and time when read (the reader's READ_KEY), if recorded
    written: tuple[str, ...]  # the outputs left out of a folder's identity
    # the image layer's name: not compared (renamed while the file is hashed, it is the
    # same file; the hash is not done again)
    layer: str = field(compare=False)


@dataclass(frozen=True)
class Hashed:
    """What Export's worker found of ``source``: its identity, or None and why."""

    source: InputSource
    identity: dict | None
    why: str = ""
    # the labels as they were when Export was clicked (a copy; labels on disk: their array,
    # not read), which are written: edits made while the file is hashed are not (None:
    # taken when written, nothing was hashed)
    labels: Any = field(default=None, compare=False, repr=False)
    labels_of: str = field(default="", compare=False)  # the labels layer's unique_id


def _layer_file(layer) -> str | None:
    """The file (or zarr, or folder) ``layer`` was read from: napari's ``source.path``, else
    the path Tessella's reader records in its metadata; None for a layer made in memory."""
    path = getattr(getattr(layer, "source", None), "path", None) or layer.metadata.get("path")
    if not isinstance(path, str | os.PathLike) or not str(path):
        return None
    return os.path.abspath(os.path.expanduser(path))


def recorded_input(recipe) -> tuple[str, dict | None]:
    """``(input, identity)``: the input a recipe says its labels were made from, as typed on
    the command line (``tessella segment``'s ``input``: absolute, or relative to where it
    ran; "" where it records none) and its ``input_identity`` (None where none)."""
    from tessella.engine.input_record import INPUT_KEY

    if not isinstance(recipe, dict):
        return "", None
    named, identity = recipe.get("input"), recipe.get(INPUT_KEY)
    return (
        named if isinstance(named, str) else "",
        identity if isinstance(identity, dict) else None,
    )


def is_recorded_input(image, named: str, identity: dict | None) -> bool:
    """Whether the image layer ``image`` was read from the input a recipe records
    (:func:`recorded_input`), with no pixel read: a file of the identity's size and
    modification time is it (a file of another size never is: another file, or one
    changed since); else one whose path is the recipe's ``input`` (absolute), or ends with
    it (relative to a folder the recipe does not say: ``newimgs/new01.tif`` matches
    ``/data/newimgs/new01.tif``)."""
    from tessella.engine.input_record import file_as_read

    path = _layer_file(image)
    if path is None:
        return False
    if identity is not None and identity.get("kind") == "file":
        now = file_as_read(path)
        if now is not None:
            if now["size"] != identity.get("size"):
                return False
            if now["mtime_ns"] == identity.get("mtime_ns"):
                return True
    if not named:
        return False
    typed = Path(os.path.normpath(os.path.expanduser(named)))
    if typed.is_absolute():
        return os.path.normpath(path) == str(typed)
    parts = tuple(part for part in typed.parts if part not in (".", ".."))
    return bool(parts) and Path(path).parts[-len(parts) :] == parts


def _written_into(output: _Output, image: str) -> bool:
    """Whether ``output``, inside the folder ``image`` was read from, would change that
    image: anything inside a zarr store (or another folder that is not a folder of TIFF
    frames), or a file of a folder of frames that it reads (:func:`_replaces_a_frame`)."""
    from tessella.engine.io import is_zarr_path

    folder = Path(image)
    if is_zarr_path(folder) or not folder.is_dir():
        return True
    return _replaces_a_frame(output.path, folder)


def _replaces_a_frame(path: Path, folder: Path) -> bool:
    """Whether ``path`` is an image file of the folder of frames ``folder`` that the reader
    takes as the image's (a TIFF of it that is not labels by name or Tessella's tag, which
    the reader opens apart): new files, and labels, in it are no frames of it."""
    from tessella.engine.io import TIFF_SUFFIXES

    from .._io_folder import _header, _marked_labels

    if path.parent.resolve() != folder.resolve() or path.suffix.lower() not in TIFF_SUFFIXES:
        return False
    if not path.is_file():
        return False
    try:
        return not _marked_labels(path, *_header(path))
    except ValueError:
        return True  # (unreadable: it may be a frame, so it is refused)


def _ctc_writes(output: _Output, image: str) -> bool:
    """Whether the CTC folder ``output`` writes (or replaces) the file ``image`` directly in
    it: ``maskTTT.tif`` and ``res_track.txt`` (:func:`~tessella.engine.tracking.write_ctc`
    removes masks of an earlier result with other numbers)."""
    path = Path(image)
    if path.parent.resolve() != output.path.resolve():
        return False
    return (
        path.name == "res_track.txt"
        or re.fullmatch(r"mask[0-9]+\.tiff?", path.name, re.I) is not None
    )


def _over_image(how: str, output: Path, layer: str, image: str) -> str:
    """What Export says when writing ``output`` would replace (``how``: :func:`path_overlap`)
    the image ``layer`` read from ``image``: one line, naming both."""
    keep = "even with Overwrite ticked; choose another name"
    if how == "same":
        return f"the image '{layer}' was read from {output}: the labels would replace it ({keep})"
    if how == "holds":
        return f"{output} holds {image}, the image '{layer}': the labels would replace it ({keep})"
    return f"{output} is in {image}, the image '{layer}': the labels would change it ({keep})"


class ExportOutputs:
    """Mixin for :class:`.export.ExportWidget`: the files the current settings write and the
    recipe among them (uses the widget's ``viewer``, ``labels_layer``, ``path_edit`` and
    checkboxes)."""

    def _recipe(self) -> dict | None:
        layer = self.labels_layer
        recipe = None if layer is None else layer.metadata.get(RECIPE_KEY)
        return recipe if isinstance(recipe, dict) else None

    def _lineage(self) -> dict[int, int]:
        """The divisions ``{child: parent}`` of the chosen labels, those the user sees and
        edited (:func:`._tracks_layer.current_lineage`): recorded with the labels on screen
        (a result, a Tune update, reopened labels while they are those of the file: after
        Ctrl+Z too), else those their Tracks layer was drawn from, else those kept with the
        labels since the Segment result behind them was placed (set by hand, their Tracks
        layer deleted since; a CTC folder opened lazily), else that result's, else those
        their recipe records (reopened labels edited since); divisions whose ends are gone
        are left to :func:`ctc_tracks`. Correct's lineage edits undone or redone since last
        looked at (Ctrl+Z on a hidden layer, which napari refreshes nothing for) are
        followed first. Export's writing (ExportWriting) takes its divisions from here,
        not from Segment's result, which misses those set by hand after it."""
        from tessella._io import recipe_lineage

        from ._tracks_layer import current_lineage, follow_lineage_steps

        layer = self.labels_layer
        if layer is None:
            return recipe_lineage(self._recipe()) or {}
        follow_lineage_steps(self.viewer, layer)  # (Ctrl+Z on a hidden layer)
        return current_lineage(self.viewer, layer)

    def _recipe_to_write(
        self,
        outputs: Sequence[_Output] = (),
        stack: _Stack | None = None,
        labels: np.ndarray | None = None,
        hashed: Hashed | None = None,
    ) -> tuple[dict, bool]:
        """The recipe of the labels on screen (after Ctrl+Z, the parameters that made them),
        and whether it reproduces them: :meth:`_recipe_maker`'s, made at once."""
        return self._recipe_maker(outputs, hashed)(stack, labels)

    def _recipe_maker(
        self, outputs: Sequence[_Output] = (), hashed: Hashed | None = None
    ) -> Callable[..., tuple[dict, bool]]:
        """What makes the recipe of the labels on screen (after Ctrl+Z, the parameters that
        made them) and says whether it reproduces them, given the mask stack and the labels
        written: what it needs of the panel and the viewer is taken now (on the GUI thread),
        the labels are read only when it is called (in Export's worker). When the recipe does
        not reproduce them (hand edits, a Tune preview of one slice or frame, a labels file
        changed after its recipe), the file says so (``digest``: the labels' digest where
        it was computed already). It names the files this export writes
        beside it (``exported``: output kind -> file name), with the ``labels_digest`` of
        ``labels`` when they are among them (the reader checks that the file still holds
        them), and, with a mask stack, how many objects it holds and where they came from
        (``stack_objects``, ``stack_from``) and its own digest (``stack_digest``), so the
        stack reopens with this recipe. Labels with tracks (the CTC format is offered) get
        their divisions (``lineage``: ``[[child, parent], ...]``, those whose ends are both in
        ``labels``), so that reopened they export the same tracks; other labels none (a
        recipe's ``lineage`` says the labels are linked), and the numbers of their frames
        where they were read from numbered frames (``frame_numbers``:
        :meth:`_frame_numbers_to_record`). Labels segmented from an image
        layer read from a file get its ``input_identity`` as it was read, ``hashed`` by
        Export's worker (:meth:`_input_source`), as ``tessella segment`` records it; none
        where that file changed or is gone since it was read (``hashed`` without one)."""
        from tessella._io import STACK_DIGEST_KEY
        from tessella.engine.digest import DIGEST_KEY, labels_digest
        from tessella.engine.input_record import INPUT_KEY

        found, reproduces = _results.recipe_on_screen(self.labels_layer)
        base = found or {}  # (only asked for labels that have one)
        if not reproduces:  # (the reader's note, when the labels file changed)
            base = {**base, "labels_edited": True, "note": base.get("note", EDITED_NOTE)}
        base = {k: v for k, v in base.items() if k not in ("lineage", "frame_numbers")}
        unit = self._spacing_unit(base)
        if unit is not None:  # (a replay on an image without a pixel size writes it)
            base["unit"] = unit
        lineage = self._lineage() if self.ctc_checkbox.isEnabled() else None
        numbers = self._frame_numbers_to_record()
        exported = {o.kind: o.path.name for o in outputs if o.kind != "recipe"}

        def make(
            stack: _Stack | None, labels: np.ndarray | None, digest: dict | None = None
        ) -> tuple[dict, bool]:
            recipe = dict(base)
            if numbers:  # (the reader puts them back: reopened, the CTC masks keep them)
                recipe["frame_numbers"] = numbers
            if lineage is not None:
                wanted = {*lineage, *lineage.values()}
                present = None if labels is None else _present(labels, wanted)
                kept = {c: p for c, p in lineage.items() if present is None or {c, p} <= present}
                recipe["lineage"] = sorted([int(c), int(p)] for c, p in kept.items())
            if exported:
                recipe["exported"] = exported
            if labels is not None and {"tiff", "zarr", "ome_zarr"} & set(exported):
                # (labels on disk: hashed by Export as their range was found, ``digest``)
                recipe[DIGEST_KEY] = labels_digest(labels) if digest is None else digest
            if hashed is not None:  # never a wrong one: none where the file read is not there
                recipe.pop(INPUT_KEY, None)
                if hashed.identity is not None:
                    recipe[INPUT_KEY] = hashed.identity
            if stack is not None and "stack" in exported:
                recipe.update(
                    stack_objects=len(stack.ids),
                    stack_from=stack.source,
                    **{STACK_DIGEST_KEY: labels_digest(stack.masks)},  # (the reader checks it)
                )
            return recipe, reproduces

        return make

    def _spacing_unit(self, recipe: dict) -> str | None:
        """The unit of the recipe's ``spacing`` where it names none (Segment's recipe, made
        from a layer's scale, has none): the unit Export writes the labels' pixel size in
        (their layer's units; a scale set without one: µm, as the status line says), as
        ``tessella segment``'s recipe records its ``unit``, so that a replay on an image
        without a pixel size writes the labels in it (t11: nm labels replayed as "pixel").
        Only where that pixel size is the recipe's spacing (else which unit it is in is not
        known); None where the recipe names a unit, has no spacing, or the layer's scale
        has no physical unit."""
        from tessella._io import labels_axes
        from tessella.engine.io._write import unit_for

        from ._export_write import _pixel_size

        spacing, layer = recipe.get("spacing"), self.labels_layer
        if not isinstance(spacing, list) or isinstance(recipe.get("unit"), str) or layer is None:
            return None
        try:
            axes = labels_axes(layer.ndim, layer.metadata, layer.axis_labels)
            sizes, unit, _note = _pixel_size(self.viewer, layer, axes)
        except ValueError:
            return None
        symbol = unit_for(unit, "zarr")
        if not sizes or symbol is None or symbol.lower() in ("", "pixel", "pixels", "px"):
            return None
        spatial = [float(sizes[a]) for a in "ZYX" if a in sizes]
        if len(spatial) != len(spacing) or not np.allclose(spatial, spacing, rtol=1e-6):
            return None
        return symbol

    def _frame_numbers_to_record(self) -> list[int] | None:
        """The frame numbers of the labels over time (a movie read from ``t052.tif ...``:
        :data:`~tessella._io_folder.FRAME_NUMBERS_KEY` in their metadata), one per frame,
        which the recipe records (``frame_numbers``) as ``tessella segment`` does, so that
        the labels reopened export their CTC masks by them; else those *First frame number*
        gives them (:meth:`_first_frame_numbers`); None where there are none."""
        from ._export_write import _ctc_numbering
        from ._layers import full_resolution

        layer = self.labels_layer
        if layer is None or not self._is_time_lapse():
            return None
        n_frames = full_resolution(layer).shape[0]
        numbers, _caution = _ctc_numbering(layer, n_frames)
        return numbers or self._first_frame_numbers(n_frames)

    def _input_source(self, outputs: Sequence[_Output] = ()) -> InputSource | None:
        """The file (or zarr, or folder of frames) that napari read the image layer these
        labels were segmented from (Segment's ``tessella_source_id``; its ``source.path``,
        else the path the reader records), whose ``input_identity`` the recipe records, as
        ``tessella segment`` does (``--skip-existing`` compares it by content, as with the
        labels it wrote itself); with the size and time the reader recorded when it read it
        (:data:`~tessella.engine.input_record.READ_KEY`) and the labels and recipe written
        (left out of a folder's, as the command line leaves them out). Nothing is read here:
        Export hashes it in its worker
        (:func:`~tessella.engine.input_record.identity_as_read`). None where that layer is
        gone or was not read from a file (an array made in Python, a layer pasted): the
        recipe then records none, and reopened labels keep the one their recipe has."""
        from tessella.engine.input_record import READ_KEY

        from ._layers import find_layer
        from .segment import SOURCE_ID_KEY

        layer = self.labels_layer
        image = (
            None if layer is None else find_layer(self.viewer, layer.metadata.get(SOURCE_ID_KEY))
        )
        if image is None:
            return None
        path = getattr(getattr(image, "source", None), "path", None) or image.metadata.get("path")
        if not isinstance(path, str | os.PathLike) or not str(path):
            return None
        path = os.path.abspath(path)
        as_read = image.metadata.get(READ_KEY)
        read_path = image.metadata.get("path")
        if not isinstance(read_path, str) or os.path.abspath(read_path) != path:
            as_read = None  # (recorded for another path: not this one's)
        labels_kinds = ("tiff", "zarr", "ome_zarr", "recipe")
        written = tuple(str(o.path) for o in outputs if o.kind in labels_kinds)
        return InputSource(
            path, as_read if isinstance(as_read, dict) else None, written, image.name
        )

    def _replaced_image(self, outputs: Sequence[_Output]) -> str:
        """Why writing ``outputs`` would replace, or write into, an image read from a file
        that is open in the viewer (the one these labels were segmented from, or any other),
        in one line naming the output, the layer and its file; "" where none would. Refused
        even with Overwrite ticked, as ``tessella segment`` refuses an output that would
        replace its input: the image would be lost (an OME-Zarr image's folder is replaced
        whole). The labels' own file is theirs to replace (a save of the edited labels over
        the file they were opened from), unless an image was read from it too. Inside a
        folder of frames, only its frames are refused (labels written into the movie's folder
        are not frames of it: :func:`_replaces_a_frame`). A CTC folder that is the image's
        (a folder of frames) is refused; one holding the image only where the image is a
        file it writes directly in it (``maskTTT.tif``, ``res_track.txt``)."""
        from napari.layers import Labels

        from tessella.engine.io._paths import path_overlap

        labels = self.labels_layer
        own = _layer_file(labels) if labels is not None else None
        images = [
            (layer, path)
            for layer in self.viewer.layers
            if not isinstance(layer, Labels) and (path := _layer_file(layer)) is not None
        ]
        for output in outputs:
            saved_over_own = own is not None and path_overlap(output.path, own) == "same"
            for layer, path in images:
                how = path_overlap(output.path, path)
                if how == "inside" and (saved_over_own or not _written_into(output, path)):
                    continue
                if how == "holds" and output.kind == "ctc" and not _ctc_writes(output, path):
                    continue
                if how:
                    return _over_image(how, output.path, layer.name, path)
        return ""

    def _update_recipe_checkbox(self) -> None:
        has_recipe = self._recipe() is not None
        self.recipe_checkbox.setEnabled(has_recipe)
        self.recipe_checkbox.setToolTip(
            "How the labels were made: model, its checksum, parameters"
            if has_recipe
            else "This labels layer was not made by Segment, so it has no recipe"
        )

    # --- paths ------------------------------------------------------------------------------

    def _on_browse_clicked(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self,
            "Export as (the extension is added for each output)",
            self.path_edit.text() or self._default_base(),
            "All files (*)",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            self._follow_typed_suffix(path)
            self.path_edit.setText(str(base_path(path)))

    def _follow_typed_suffix(self, text: str) -> None:
        """A *Save as* name typed (or chosen) ending in ``.ome.zarr`` asks for OME-Zarr labels:
        their option is ticked (the name less the suffix is the base of every output)."""
        if text.strip().lower().endswith(OUTPUT_SUFFIXES["ome_zarr"]):
            self.ome_zarr_checkbox.setChecked(True)

    def _default_base(self) -> str:
        layer = self.labels_layer
        home = Path.home()  # (a layer name is never a path: output_base_name)
        return str(home / output_base_name(layer.name)) if layer is not None else str(home)

    def outputs(self) -> list[_Output]:
        """The files the current settings write (the recipe only when the layer has one)."""
        layer = self.labels_layer
        base = base_path(self.path_edit.text(), layer.name if layer is not None else "labels")
        if base is None:
            return []
        chosen = {
            "tiff": self.tiff_checkbox.isChecked(),
            "stack": self.stack_checkbox.isChecked() and self._can_stack(),
            "zarr": self.zarr_checkbox.isChecked(),
            "ome_zarr": self.ome_zarr_checkbox.isChecked(),
            "csv": self.csv_checkbox.isChecked(),
            "recipe": self.recipe_checkbox.isChecked() and self._recipe() is not None,
            "ctc": self.ctc_checkbox.isChecked() and self.ctc_checkbox.isEnabled(),
        }
        return [
            _Output(kind, base.with_name(base.name + suffix))
            for kind, suffix in OUTPUT_SUFFIXES.items()
            if chosen[kind]
        ]

    def _is_time_lapse(self) -> bool:
        from tessella._io import labels_axes

        layer = self.labels_layer
        if layer is None:
            return False
        try:
            return "T" in labels_axes(layer.ndim, layer.metadata, layer.axis_labels)
        except ValueError:
            return False

    # --- tracks (CTC) ----------------------------------------------------------------------

    def _ctc_offer(self) -> tuple[bool, str]:
        """``(possible, tooltip)``: whether the chosen labels can go to the Cell Tracking
        Challenge format, and what the option's tooltip says (why it is off, where it is).

        They need 2D frames over time (TYX) whose IDs are tracks, as ``tessella segment
        --ctc`` does: labels a model segmented frame by frame, or made with ``link`` off,
        have no tracks (each object of each frame its own ID), unless their IDs were linked
        by hand since (Correct's Merge, or painting with an object's ID in another frame:
        some ID in two frames). Labels not made by Segment are taken as they are (a
        tracking ground truth, another tool's tracks)."""
        from tessella._io import labels_axes

        layer = self.labels_layer
        if layer is None:
            return False, "Choose a labels layer"
        name = layer.name
        try:
            axes = labels_axes(layer.ndim, layer.metadata, layer.axis_labels)
        except ValueError as exc:
            return False, f"'{name}': {exc}"
        if axes != "TYX":
            why = f"'{name}' is {axes}: the CTC format holds 2D frames over time (TYX)"
            if "T" not in axes and layer.ndim == 3:
                why += "; if these are frames, name the axes t, y, x (layer.axis_labels)"
            return False, why
        found, reproduces = _results.recipe_on_screen(layer)
        unlinked = _unlinked(found, _results.get(layer))
        if unlinked:
            linked_by_hand = None if reproduces else _shared_id(layer.data)
            if linked_by_hand is None:
                return False, (
                    f"'{name}' {unlinked}, so its objects are no tracks: each object of each "
                    "frame has its own ID (tessella segment --ctc refuses them too). Segment "
                    "the movie with a time-lapse model (cells2dt) with link on, or link IDs by "
                    "hand (Correct's Merge with 'All frames (whole track)' ticked)"
                )
            track, frames = linked_by_hand
            return True, (
                f"{CTC_TIP}. '{name}' {unlinked}, but its IDs were linked by hand since (e.g. "
                f"ID {track} is in frames {frames[0]} and {frames[1]}): each ID is written as "
                "a track, the others one frame long"
            )
        return True, CTC_TIP

    def _update_ctc_checkbox(self) -> None:
        """Offer the CTC format for labels whose IDs are tracks; the tooltip says why not."""
        possible, tip = self._ctc_offer()
        self.ctc_checkbox.setEnabled(possible)
        self.ctc_checkbox.setToolTip(tip)
        self._update_first_frame()

    def _first_frame_offered(self) -> bool:
        """Whether *First frame number* is offered: the CTC folder is written (ticked, and
        possible) of labels that record no frame numbers
        (:data:`~tessella._io_folder.FRAME_NUMBERS_KEY`: a TYX stack, labels not read from
        ``t052.tif ...``), whose masks are else named from 0."""
        from tessella._io_folder import FRAME_NUMBERS_KEY

        layer = self.labels_layer
        return (
            layer is not None
            and self.ctc_checkbox.isChecked()
            and self.ctc_checkbox.isEnabled()
            and FRAME_NUMBERS_KEY not in layer.metadata
        )

    def _update_first_frame(self, *_args) -> None:
        self._first_frame_row.setVisible(self._first_frame_offered())

    def _first_frame_numbers(self, n_frames: int) -> list[int] | None:
        """The frame numbers *First frame number* gives ``n_frames`` frames (N, N+1, ...),
        as ``tessella segment --first-frame N`` does; None where it is not offered or 0."""
        first = self.first_frame_spin.value()
        if not first or not self._first_frame_offered():
            return None
        return list(range(first, first + n_frames))


def _present(labels: np.ndarray, ids: set[int]) -> set[int]:
    """Those of ``ids`` that are in ``labels`` (one pass over the labels: a lookup table up to
    the largest of ``ids``, not a sort of the whole movie).

    Labels on disk (a blockwise result) are read a piece at a time, never whole.

    >>> sorted(_present(np.array([[0, 3], [5, 3]]), {3, 4, 5, 70}))
    [3, 5]
    """
    if not ids:
        return set()
    from tessella.engine.measure import _on_disk, chunks_of, piece_slices

    if _on_disk(labels):
        found_all: set[int] = set()
        for index in piece_slices(tuple(labels.shape), chunks_of(labels)):
            found_all |= _present(np.asarray(labels[index]), ids)
        return found_all
    table = np.zeros(max(ids) + 1, bool)
    table[sorted(ids)] = True
    flat = np.asarray(labels).ravel()
    found = flat[(flat <= max(ids)) & table[np.minimum(flat, max(ids))]]
    return set(np.unique(found).tolist())


#: the CTC option's tooltip where it is offered
CTC_TIP = (
    "Time-lapses: maskTTT.tif per frame and res_track.txt (label, first and last frame, "
    "parent) in a folder NAME_RES"
)

#: what *First frame number* says (offered for labels that record no frame numbers)
FIRST_FRAME_TIP = (
    "The movie's number of its first frame (52 for frames t052.tif ...): the CTC masks are "
    "named from it (mask052.tif ..., res_track.txt in those frames), as tessella segment "
    "--first-frame does; the CSV's frame column and the recipe record the same numbers. "
    "These labels record no frame numbers (not read from numbered frames): else from 0"
)


def _unlinked(found: dict | None, result) -> str:
    """Why labels are not linked over time, as the recipe of the labels on screen ``found``
    (or Segment's ``result`` behind them) says: made by a model that segments frame by frame,
    or with ``link`` off; "" when linked, or not known to be unlinked."""
    if isinstance(found, dict):
        model, method = found.get("model", "its model"), found.get("method")
    elif result is not None:  # (a result placed without a recipe: by a script)
        found = result.recipe()
        model, method = found.get("model"), found.get("method")
    else:
        return ""  # not made by Segment: its IDs are what they are
    if isinstance(method, str) and not _links(method):
        return f"was segmented frame by frame by {model} (not a time-lapse model)"
    if not _results.is_linked(found):
        return f"was made by {model} with link off"
    return ""


def _links(method: str) -> bool:
    """Whether the method family ``method`` links a movie's frames (an unknown one: taken
    as it may)."""
    from tessella.engine.methods import get_method

    try:
        return hasattr(get_method(method), "postprocess_series")
    except (ValueError, ImportError):
        return True


def _shared_id(data) -> tuple[int, tuple[int, int]] | None:
    """An ID of in-memory TYX labels ``data`` found in two frames, and the first two frames
    it is in (IDs linked by hand); None when every ID is in one frame only, and for lazy
    labels (not read whole for a tooltip).

    >>> _shared_id(np.array([[[1, 2]], [[3, 0]], [[2, 4]]]))
    (2, (0, 2))
    """
    if not isinstance(data, np.ndarray):
        return None
    seen: dict[int, int] = {}
    for t in range(data.shape[0]):
        ids = np.unique(data[t])
        for track in ids[ids > 0].tolist():
            first = seen.setdefault(int(track), t)
            if first != t:
                return int(track), (first, t)
    return None
