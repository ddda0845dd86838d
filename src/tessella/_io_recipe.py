"""The recipe that labels reopened by the reader carry: found beside them (a blockwise zarr's
attribute, or the ``.recipe.json`` beside the file) and checked against them, saying on open
when it does not reproduce them (:class:`LabelsChangedWarning`). Part of :mod:`tessella._io`,
which re-exports every name. No Qt here. Also a recipe file read and its fields checked
(:func:`read_recipe`, :func:`edited_words`): what ``tessella segment --recipe``
(``tessella.cli._recipe`` re-exports them), the napari panels and :func:`tessella.replay`
read.
"""

from __future__ import annotations

import os
import re
import warnings
from pathlib import Path
from typing import Any

import numpy as np

# the zarr attribute in which a blockwise run keeps the recipe of the labels it wrote, and the
# end of the name (before ``.tif``) of the mask stack Export writes beside the labels
from tessella.engine.io._kept_recipe import STACK_STEM as STACK_STEM
from tessella.engine.io._kept_recipe import ZARR_RECIPE_ATTR as ZARR_RECIPE_ATTR
from tessella.engine.io._kept_recipe import sidecar_recipe as _sidecar_recipe

RECIPE_KEY = "tessella_recipe"  # the Segment widget's recipe in a labels layer's metadata

#: the recipe key in which Export records :func:`~tessella.engine.digest.labels_digest` of the
#: mask stack it wrote (``labels_digest`` names the labels file written beside it)
STACK_DIGEST_KEY = "stack_digest"


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
    ``exported`` names this file; Export's mask stack ``name.stack.tif`` shares the
    ``name.recipe.json`` of its export). None when there is none, or it is no Segment recipe
    (:func:`tessella.engine.io._kept_recipe.kept_recipe`, which ``tessella evaluate`` asks
    too)."""
    from tessella.engine.io._kept_recipe import kept_recipe

    found = kept_recipe(path)
    return None if found is None else found[0]


def _exported_stack(found: dict | None, path: Path) -> bool:
    """Whether ``found`` is the recipe of an Export that wrote ``path`` as its mask stack."""
    exported = None if found is None else found.get("exported")
    return isinstance(exported, dict) and exported.get("stack") == path.name


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
    "labels_digest_files",
    STACK_DIGEST_KEY,
    "frame_numbers",  # (the reader puts them in the layer's metadata: recipe_frame_numbers)
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
    beside = _sidecar_recipe(path)
    return beside[0].name if beside is not None else "the recipe in its zarr attributes"


class UnclearRecipeWarning(UserWarning):
    """Labels opened beside a ``NAME.recipe.json`` an older Tessella wrote, which could be
    the recipe of another labels file of that name as well (``NAME.tif`` and ``NAME.zarr``
    shared it): it is attached to none of them; napari shows it as a notification."""


def _say_whose_recipe(path: Path) -> None:
    """Warn where labels ``path`` open without a recipe because the ``NAME.recipe.json``
    beside them could be another labels file's as well
    (:func:`~tessella.engine.io._kept_recipe.shared_recipe_claimants`), saying how to give
    it to one of them: renamed to that file's own recipe name."""
    from tessella.engine.io._kept_recipe import own_recipe_path, shared_recipe_claimants
    from tessella.engine.io._zarr import labels_recipe_path

    others = shared_recipe_claimants(path)
    if not others:
        return
    shared = labels_recipe_path(path).name
    files = [path.name, *others]
    warnings.warn(
        f"{path}: opened without a recipe: {shared}, written by an older Tessella, could be "
        f"the recipe of {' or '.join(files)} (it names no file); rename it to "
        f"{' or '.join(own_recipe_path(name).name for name in files)} to give it to that "
        "file",
        UnclearRecipeWarning,
        stacklevel=3,
    )


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
    labels: np.ndarray | Any,
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
    ``labels`` may be on disk (zarr, dask: large labels the reader opens lazily): the digest
    is then checked reading them piece by piece (:func:`~tessella.engine.digest.digest_matches`),
    never whole, unless the recipe records the stamp of the store's files its digest was
    computed on and they are unchanged (:func:`_files_vouch`: a blockwise result, reopened
    without reading it), and they get no labels state (nor do labels over 256 MiB).

    Labels the recipe does not reproduce are said on open, in a
    :class:`LabelsChangedWarning` naming the file and why (napari shows it).

    The frame numbers the recipe records (:func:`recipe_frame_numbers`: a movie read from
    ``t052.tif ...``) go to the metadata (:data:`~tessella._io_folder.FRAME_NUMBERS_KEY`),
    as Segment's live result keeps them, so Export names the CTC masks by them (and says so
    where they are not one per frame), not from 0; not to a mask stack's (``written``).
    """
    if found is None:
        found = _recipe_beside(path)
    if found is None:
        _say_whose_recipe(path)
        return metadata if written is not None else _with_labels_record(metadata, path, labels)
    from tessella._widgets import _results  # (no Qt: it records labels states)
    from tessella.engine.digest import DIGEST_KEY, digest_matches

    recipe = {k: v for k, v in found.items() if k not in EXPORT_ONLY_KEYS}
    numbers = recipe_frame_numbers(found) if written is None else None
    if numbers is not None:  # the movie's frame numbers: Export's CTC masks keep them
        from ._io_folder import FRAME_NUMBERS_KEY

        metadata = {**metadata, FRAME_NUMBERS_KEY: numbers}
    edited = bool(found.get("labels_edited"))
    held = labels if written is None else written
    changed = False
    if DIGEST_KEY in found and not _files_vouch(found, path, held):
        stamp = _stamp_to_renew(found, path, held)  # (before the read: files changed during
        changed = not digest_matches(found[DIGEST_KEY], held)  # it are not vouched for)
        if not changed and stamp is not None:
            _renew_stamp(path, found, stamp)
    if changed:
        damaged = not _is_digest(found[DIGEST_KEY])
        # (Export writes it instead of its own, and says why on its status line)
        recipe["note"] = DIGEST_DAMAGED_NOTE if damaged else LABELS_CHANGED_NOTE
        edited = True
    # the divisions recorded with the labels file, while it holds them (a file changed outside
    # Tessella is an edit: Export then takes them as it takes a live result's after edits)
    lineage = None if changed else recipe_lineage(found)
    fingerprint = _results._fingerprint(labels)
    if fingerprint is None and edited:  # no state to say so (labels over 256 MiB): the
        recipe["labels_edited"] = True  # recipe does (Export's recipe_on_screen reads it)
        if "note" not in recipe and "note" in found:
            recipe["note"] = found["note"]
    if edited:
        _say_not_reproduced(path, recipe, found)
    metadata = {**metadata, RECIPE_KEY: recipe}
    if fingerprint is not None:
        state = {"fingerprint": fingerprint, "recipe": recipe, "lineage": lineage, "edited": edited}
        metadata[_results.STATES_KEY] = [state]
    return metadata


#: the ``note`` of the file napari's File > Save writes beside time-lapse labels that have
#: no Segment recipe (a reopened CTC result, labels drawn by hand) but divisions or frame
#: numbers (:func:`labels_record`): what the reader puts back, with nothing to replay
LABELS_RECORD_NOTE = (
    "no Segment recipe: the divisions and frame numbers of these labels, saved with them by "
    "napari's File > Save and put back by Tessella's reader; nothing to replay"
)


def labels_record(path: Path) -> tuple[Path, dict] | None:
    """``(file, record)``: the file beside labels ``path`` that keeps their divisions
    (``lineage``) and frame numbers (``frame_numbers``) without a Segment recipe (no
    ``model`` nor ``params``: :data:`LABELS_RECORD_NOTE`, as File > Save writes it for a
    reopened CTC result), where one is there and names this file (as a recipe does:
    :func:`~tessella.engine.io._kept_recipe.sidecar_recipe`); else None."""
    from tessella.engine.io._kept_recipe import sidecar_recipe

    found = sidecar_recipe(path)
    if found is None:
        return None
    record = found[1]
    if not isinstance(record, dict) or "model" in record or "params" in record:
        return None
    if recipe_lineage(record) is None and recipe_frame_numbers(record) is None:
        return None
    return found


def _with_labels_record(metadata: dict, path: Path, labels: Any) -> dict:
    """``metadata`` of labels read from ``path`` that have no recipe, with what the record
    beside them keeps (:func:`labels_record`), as a CTC folder's track file gives them: the
    frame numbers (:data:`~tessella._io_folder.FRAME_NUMBERS_KEY`, one per frame) and, while
    the file still holds the labels the record's ``labels_digest`` names, the divisions, in
    the labels' recorded state (``recipe`` {}: no Segment run; Export writes them back,
    :func:`tessella._io_tracks.with_recorded_tracks` draws their Tracks layer), or kept with
    labels too large for a state (:data:`~tessella._widgets._tracks_layer.LINEAGE_KEY`).
    A file changed since the record was written is said (:class:`LabelsChangedWarning`):
    its divisions are not taken."""
    if not str(metadata.get("axes", "")).startswith("T"):
        return metadata  # (no movie: nothing of a record to put back)
    found = labels_record(path)
    if found is None:
        return metadata
    sidecar, record = found
    from tessella.engine.digest import DIGEST_KEY, digest_matches

    numbers = recipe_frame_numbers(record)
    if numbers is not None and len(numbers) == labels.shape[0]:
        from ._io_folder import FRAME_NUMBERS_KEY

        metadata = {**metadata, FRAME_NUMBERS_KEY: numbers}
    lineage = recipe_lineage(record)
    if lineage is None:
        return metadata
    if DIGEST_KEY in record and (
        not _is_digest(record[DIGEST_KEY]) or not digest_matches(record[DIGEST_KEY], labels)
    ):
        count = f"{len(lineage)} division{'s' if len(lineage) != 1 else ''}"
        warnings.warn(
            f"{path}: the file changed after {sidecar.name} was written beside it (edited or "
            f"replaced outside Tessella), so its {count} are not taken; its frame numbers are",
            LabelsChangedWarning,
            stacklevel=3,
        )
        return metadata
    from tessella._widgets import _results  # (no Qt: it records labels states)

    fingerprint = _results._fingerprint(labels)
    if fingerprint is None:  # (Correct and Export read them there: kept_lineage)
        from tessella._widgets._tracks_layer import LINEAGE_KEY

        return {**metadata, LINEAGE_KEY: lineage}
    state = {"fingerprint": fingerprint, "recipe": {}, "lineage": lineage, "edited": False}
    return {**metadata, _results.STATES_KEY: [state]}


def _files_vouch(found: dict, path: Path, labels: Any) -> bool:
    """Whether the labels on disk ``labels`` of the zarr ``path`` are, without reading them,
    those of ``found``'s ``labels_digest``: the recipe records the
    :func:`~tessella.engine.digest.stored_files_stamp` of the store its digest was computed
    on (a blockwise run writes both), and the store's files are still those (none rewritten
    since, by Tessella or by hand, nor an attribute by which the reader lays out the pixels,
    such as ``tessella_axes``), with the digest's shape. Else the digest is checked reading
    the labels (:func:`~tessella.engine.digest.digest_matches`): for a 20000² uint32 result
    in 2048² chunks that read took 2.3-2.7 s of File > Open on the GUI thread, the stamp
    0.01 s (2 busy cores). So is a stamp recorded before the layout attributes counted (a
    result with any: all blockwise results), read correctly, more slowly."""
    from tessella.engine.digest import (
        DIGEST_KEY,
        FILES_KEY,
        _is_digest_of_shape,
        stored_files_stamp,
    )

    recorded = found.get(FILES_KEY)
    if isinstance(labels, np.ndarray) or not isinstance(recorded, str) or not path.is_dir():
        return False
    if not _is_digest(found.get(DIGEST_KEY)) or not _is_digest_of_shape(found[DIGEST_KEY], labels):
        return False
    return stored_files_stamp(path) == recorded


def _stamp_to_renew(found: dict, path: Path, labels: Any) -> str | None:
    """The :func:`~tessella.engine.digest.stored_files_stamp` of the zarr ``path`` now,
    where its labels on disk (``labels``) are about to be read for ``found``'s digest
    because the stamp ``found`` records no longer matches (a result written before the stamp
    covered the layout attributes, 4b8d77e; a copy that did not keep the files' times), and
    ``found`` is the recipe in the zarr's own attribute: the stamp to record once the read
    shows the labels hold (:func:`_renew_stamp`). None otherwise."""
    from tessella.engine.digest import FILES_KEY, stored_files_stamp

    if isinstance(labels, np.ndarray) or not isinstance(found.get(FILES_KEY), str):
        return None
    if not path.is_dir():
        return None
    try:
        import zarr

        if zarr.open(str(path), mode="r").attrs.get(ZARR_RECIPE_ATTR) != found:
            return None  # (a recipe beside the labels, not theirs: left as it is)
    except Exception:
        return None
    return stored_files_stamp(path)


def _renew_stamp(path: Path, found: dict, stamp: str) -> None:
    """Record ``stamp`` in the recipe attribute of the zarr ``path`` (its labels just read
    and found to be ``found``'s digest's), so that the next open trusts them unread again:
    once, where the store's files are still ``stamp`` (none written during the read) and the
    recipe is still ``found``. Attributes are not in the stamp (but the layout's, unchanged
    here). Nothing is said where it cannot be written (a read-only store): the labels are
    then read on each open, as before."""
    from tessella.engine.digest import FILES_KEY, stored_files_stamp

    try:
        import zarr

        node = zarr.open(str(path), mode="r+")
        if stored_files_stamp(path) != stamp or node.attrs.get(ZARR_RECIPE_ATTR) != found:
            return
        node.attrs[ZARR_RECIPE_ATTR] = {**found, FILES_KEY: stamp}
    except Exception:
        return


def recipe_lineage(recipe) -> dict[int, int] | None:
    """The divisions ``{child track: parent track}`` a recipe records for the labels written
    beside it (``lineage``: ``[[child, parent], ...]``, as a blockwise run of a time-lapse
    model and Export of linked labels write it); None when it records none, or not in that
    form (a recipe edited by hand: its divisions are not guessed at).

    >>> recipe_lineage({"lineage": [[8, 3], [9, 3]]})
    {8: 3, 9: 3}
    >>> recipe_lineage({"lineage": []}), recipe_lineage({"lineage": [[8]]}), recipe_lineage({})
    ({}, None, None)
    """
    found = recipe.get("lineage") if isinstance(recipe, dict) else None
    if not isinstance(found, list):
        return None
    pairs = [pair for pair in found if isinstance(pair, list | tuple) and len(pair) == 2]
    ints = [
        (child, parent)
        for child, parent in pairs
        if all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in (child, parent))
    ]
    return {int(child): int(parent) for child, parent in ints} if len(ints) == len(found) else None


def recipe_frame_numbers(recipe) -> list[int] | None:
    """The numbers of the frames of the movie the labels beside a recipe were segmented from
    (``frame_numbers``: ``t052.tif ...`` read as frames 52, ...; ``tessella segment`` of a
    folder of frames and Export record them), which the reader puts back in the reopened
    labels' metadata (:data:`~tessella._io_folder.FRAME_NUMBERS_KEY`) so that Export names
    their CTC masks as the live result's; None where it records none, or not as whole
    numbers of 0 and more (edited by hand). Export checks that they are one per frame.

    >>> recipe_frame_numbers({"frame_numbers": [52, 53, 55]})
    [52, 53, 55]
    >>> recipe_frame_numbers({"frame_numbers": [52, "53"]}), recipe_frame_numbers({})
    (None, None)
    """
    found = recipe.get("frame_numbers") if isinstance(recipe, dict) else None
    if not isinstance(found, list) or not found:
        return None
    if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in found):
        return None
    return [int(n) for n in found]


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


#: the type each recipe field must have (a hand-edited recipe is checked before use)
_RECIPE_TYPES = {
    "model": str,
    "model_sha256": str,
    "model_path": str,
    "model_package": str,
    "model_package_sha256": str,
    "params": dict,
    "axes": str,
    "stored_axes": str,
    "ignore_axes_metadata": bool,
    "tta": bool,
    "tile": int,
    "invert": bool,
    "spacing": list,
    "stack": bool,
    "blockwise": dict,
}


#: every top-level field a recipe written by Tessella holds, or has held: ``SegmentResult.
#: recipe()`` (the API, the Segment panel's layer), ``tessella segment`` (``input``, its
#: ``input_identity``, ``channel``, ``series``, ``voxel_size``, ``unit``, ``lineage`` and
#: ``frame_numbers`` of a movie, the labels' digest), Tune's and Export's (``exported``,
#: ``labels_edited``, ``note``, the mask stack's), and blockwise runs' (``blockwise``); a
#: recipe with any other is refused (:func:`_unknown_fields`): a misspelt field ("parms",
#: "Tile") was replayed with the defaults without a word
RECIPE_FIELDS = frozenset(
    {
        *_RECIPE_TYPES,
        *EXPORT_ONLY_KEYS,
        "tessella_version",
        "tessella_revision",
        "method",
        "device",
        "unit",
        "voxel_size",
        "input",
        "input_identity",
        "channel",
        "series",
        "lineage",
    }
)


def _unknown_fields(recipe: dict) -> str | None:
    """Why ``recipe`` is refused for top-level fields no Tessella recipe holds
    (:data:`RECIPE_FIELDS`), naming each and the field it is nearest (difflib), or saying
    that a parameter of a method goes in ``params``; None where it has none.

    >>> print(_unknown_fields({"model": "nuclei2d", "parms": {"seed_thresh": 0.5}}))
    ... # doctest: +NORMALIZE_WHITESPACE
    unknown field 'parms' (did you mean 'params'?); it would be replayed with the defaults in
    its place. A recipe's fields: axes, blockwise, channel, device, ...
    >>> print(_unknown_fields({"method": "embedding", "seed_thresh": 0.5, "TTA": True}))
    ... # doctest: +NORMALIZE_WHITESPACE +ELLIPSIS
    unknown fields 'seed_thresh' (a parameter of the embedding method: write it in "params",
    e.g. "params": {"seed_thresh": 0.5}), 'TTA' (did you mean 'tta'?); ...
    """
    import difflib
    import json

    unknown = [key for key in recipe if key not in RECIPE_FIELDS]
    if not unknown:
        return None
    said = []
    for key in unknown:
        text = str(key)
        method = _method_of_parameter(text, recipe.get("method"))
        near = [f for f in RECIPE_FIELDS if f == text.lower()] or difflib.get_close_matches(
            text.lower(), sorted(RECIPE_FIELDS), n=1, cutoff=0.6
        )
        if method is not None:
            value = json.dumps(recipe[key])
            hint = (
                f' (a parameter of the {method} method: write it in "params", e.g. '
                f'"params": {{"{text}": {value}}})'
            )
        elif near:
            hint = f" (did you mean {near[0]!r}?)"
        else:
            hint = ""
        said.append(f"{text!r}{hint}")
    return (
        f"unknown field{'s' if len(unknown) > 1 else ''} {', '.join(said)}; it would be "
        f"replayed with the defaults in its place. A recipe's fields: "
        f"{', '.join(sorted(RECIPE_FIELDS))}"
    )


def _method_of_parameter(name: str, method) -> str | None:
    """The method (the recipe's, else any) of which ``name`` is a parameter; None if none."""
    import dataclasses

    from .engine.methods import METHOD_NAMES, get_method

    names = [method] if isinstance(method, str) and method in METHOD_NAMES else METHOD_NAMES
    for candidate in names:
        params = getattr(get_method(candidate), "Params", None)
        if params is not None and name in {f.name for f in dataclasses.fields(params)}:
            return candidate
    return None


def read_recipe(path: str | Path) -> dict:
    """A recipe JSON (or the recipe a zarr keeps in its attributes: :func:`_zarr_recipe`)
    read and its fields checked: what ``--recipe``, Tune's Load recipe and
    Segment's *Parameters* "From recipe file…" read. OSError when the file cannot be read;
    ValueError saying what is wrong (the file is not named: callers name it).

    >>> read_recipe("nuclei labels.recipe.json")["params"]["seed_thresh"]  # doctest: +SKIP
    0.55
    """
    import json

    from .engine.io import is_zarr_path

    if is_zarr_path(Path(path)) and Path(path).is_dir():
        recipe = _zarr_recipe(Path(path))
        return _checked_recipe(recipe, path)
    try:
        recipe = json.loads(Path(path).read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON (line {exc.lineno}, column {exc.colno}: {exc.msg})") from None
    except UnicodeDecodeError:
        raise ValueError("not JSON (not a text file)") from None
    return _checked_recipe(recipe, path)


def _zarr_recipe(path: Path) -> dict:
    """The recipe a zarr keeps in its attributes (``"tessella"``: an OME-Zarr that ``tessella
    segment -o NAME.ome.zarr`` or Export wrote, a blockwise zarr); ValueError where it keeps
    none."""
    import zarr

    try:
        found = zarr.open(str(path), mode="r").attrs.get(ZARR_RECIPE_ATTR)
    except Exception as exc:
        raise ValueError(f"cannot read its zarr attributes ({exc})") from None
    if not isinstance(found, dict):
        raise ValueError(
            f"a zarr that keeps no recipe in its attributes (no {ZARR_RECIPE_ATTR!r} key); "
            "give the recipe JSON written beside it"
        )
    return found


def _this_version() -> str:
    from tessella import __version__

    return __version__


def _newer_version(version: object) -> str | None:
    """``version`` (a recipe's ``tessella_version``) where it is a version newer than this
    Tessella's, else None (older, the same, missing or not a version number: its unknown
    fields are then misspellings or hand edits, and refused).

    >>> _newer_version("999.0"), _newer_version("0.0.1"), _newer_version("soon")
    ('999.0', None, None)
    """
    from packaging.version import InvalidVersion, Version

    if not isinstance(version, str):
        return None
    try:
        newer = Version(version) > Version(_this_version())
    except InvalidVersion:
        return None
    return version if newer else None


def _without_newer_fields(recipe: dict, newer: str, where) -> dict:
    """``recipe``, written by Tessella ``newer`` (newer than this one), without the fields
    this version does not know (:data:`RECIPE_FIELDS`) and the parameters its method's
    ``Params`` do not have (a parameter added since), which a :class:`NewerRecipeWarning`
    names with both versions and the recipe (``where``); ``recipe`` itself where it has
    none."""
    import dataclasses

    from .engine.methods import METHOD_NAMES, get_method

    fields = [key for key in recipe if key not in RECIPE_FIELDS]
    params, method = recipe.get("params"), recipe.get("method")
    dropped: list = []
    if isinstance(params, dict) and isinstance(method, str) and method in METHOD_NAMES:
        known = {f.name for f in dataclasses.fields(get_method(method).Params)}
        dropped = [name for name in params if name not in known]
    if not fields and not dropped:
        return recipe
    said = []
    for what, names in (("field", fields), (f"{method} parameter", dropped)):
        if names:
            plural = "s" if len(names) > 1 else ""
            said.append(f"{what}{plural} {', '.join(repr(str(n)) for n in names)}")
    many = len(fields) + len(dropped) > 1
    warnings.warn(
        f"{where or 'recipe'}: written by Tessella {newer}, newer than this one "
        f"({_this_version()}), it holds {' and '.join(said)} that this version does not "
        "know and ignores; replaying it may not give the same labels as Tessella "
        f"{newer} does (update Tessella to apply {'them' if many else 'it'})",
        NewerRecipeWarning,
        stacklevel=4,
    )
    kept = {key: value for key, value in recipe.items() if key not in fields}
    if dropped:
        kept["params"] = {k: v for k, v in params.items() if k not in dropped}
    return kept


class NewerRecipeWarning(UserWarning):
    """A recipe written by a newer Tessella holds fields this version does not know: they
    are ignored (named, with both versions), where a recipe of this version or an older one
    with such a field is refused (a misspelling would be replayed as the default)."""


def _checked_recipe(recipe, where: str | os.PathLike | None = None) -> dict:
    """``recipe`` read, its fields checked (:func:`read_recipe`: a field no Tessella recipe
    holds is refused, :func:`_unknown_fields`, unless the recipe was written by a newer
    Tessella (its ``tessella_version``): those fields are then left out, with a
    :class:`NewerRecipeWarning` naming them, the recipe (``where``) and both versions, so
    that recipes shared from a newer version still replay); its ``unit`` read by SI's
    case rules (:func:`~tessella.engine.io._write.unit_symbol`: "NM", "µM" as nm, µm), as
    ``--voxel-size`` reads one: a capital prefix of its own (``"Mm"``, megametres) is
    refused, naming the symbol meant, rather than read as mm or written as megametres."""
    from .engine.io._write import capital_prefix_misread, unit_symbol

    if not isinstance(recipe, dict):
        raise ValueError(f"a recipe is a JSON object, got {type(recipe).__name__}")
    if recipe.get("note") == LABELS_RECORD_NOTE and not {"model", "params"} & set(recipe):
        raise ValueError(
            "no Segment recipe: it keeps the divisions and frame numbers of the labels saved "
            "beside it by napari's File > Save, which were not made by Segment; nothing to replay"
        )
    unknown = _unknown_fields(recipe)
    newer = _newer_version(recipe.get("tessella_version"))
    if unknown is not None and newer is None:  # (a misspelt field would be replayed as the
        raise ValueError(unknown)  # default)
    if newer is not None:  # (written by a newer Tessella: what this one cannot apply)
        recipe = _without_newer_fields(recipe, newer, where)
    unit = recipe.get("unit")
    misread = capital_prefix_misread(unit.strip()) if isinstance(unit, str) else None
    if misread is not None:
        reads, meant, symbol = misread
        raise ValueError(
            f'its "unit" {unit!r} reads as {reads}; for {meant} write "unit": "{symbol}"'
        )
    if isinstance(unit, str):  # (its symbol, which the labels and the new recipe record)
        recipe["unit"] = unit_symbol(unit)
    for key, kind in _RECIPE_TYPES.items():
        value = recipe.get(key)
        if value is not None and (
            not isinstance(value, kind) or (kind is int and isinstance(value, bool))
        ):
            wanted = {
                str: "text",
                dict: "an object",
                bool: "true or false",
                int: "a whole number",
                list: "a list",
            }
            raise ValueError(f"recipe field {key!r} must be {wanted[kind]}, got {value!r}")
    spacing = recipe.get("spacing")
    if spacing is not None and not all(
        isinstance(v, int | float) and not isinstance(v, bool) and v > 0 for v in spacing
    ):
        raise ValueError(f"recipe field 'spacing' must hold positive numbers, got {spacing}")
    if recipe.get("tile") is not None and recipe["tile"] <= 0:
        raise ValueError(f"recipe field 'tile' must be positive, got {recipe['tile']}")
    return recipe


def edited_words(recipe: dict, path: str | Path) -> str:
    """What a replay says of the recipe at ``path`` of labels changed after segmentation
    (``labels_edited``): it gives them as they were before, and the edited labels are the
    file it was exported with, named where the recipe records it (``exported``); the same
    words for ``tessella segment --recipe`` and the Segment panel's "From recipe file…".

    >>> print(edited_words({"labels_edited": True, "exported": {"tiff": "a_fixed.tif"}},
    ...     "out/a_fixed.recipe.json"))  # doctest: +NORMALIZE_WHITESPACE
    it records labels changed after segmentation (edited by hand, or a Tune preview of part
    of them): replaying it gives the labels as they were before those changes; the edited
    labels are the file exported with it, out/a_fixed.tif
    """
    exported = recipe.get("exported")
    names = []
    if isinstance(exported, dict):
        names = [
            str(Path(path).parent / exported[kind])
            for kind in ("tiff", "ome_zarr", "zarr")
            if isinstance(exported.get(kind), str)
        ]
    where = (
        f"the file exported with it, {' or '.join(names)}"
        if names
        else "the file exported with it, not this replay"
    )
    return (
        "it records labels changed after segmentation (edited by hand, or a Tune preview of "
        "part of them): replaying it gives the labels as they were before those changes; "
        f"the edited labels are {where}"
    )
