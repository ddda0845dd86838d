"""``segment --skip-existing``: outputs that a run with the same settings finished are
skipped, incomplete ones redone, and ones with other settings refuse the run."""

from __future__ import annotations

import sys
from pathlib import Path

from ._console import CliError, _few
from ._write import (
    _check_writable,
    _found_recipe_path,
    _outputs_of,
    _recover_staging,
    _staging,
    _there,
)

__all__ = [
    "_run_settings",
    "_skip_existing",
    "_say_skipped_existing",
    "with_read_attributes",
]

#: a setting its caller does not give to :func:`_run_settings`: not compared
_NOT_COMPARED = object()


def _run_settings(
    model,
    params,
    tta,
    tile,
    invert,
    axes,
    stack,
    part=None,
    stored: bool = False,
    first_frame=_NOT_COMPARED,
    voxel_size=_NOT_COMPARED,
    voxel_unit: str | None = None,
) -> dict:
    """What of this run's settings a recipe records, as it records them (JSON): compared
    with an existing output's recipe by ``--skip-existing``. ``axes`` only where this run
    forces them (``--axes``, a recipe's); ``stored``: they are in the order the file stores
    its dimensions (``--axes``, a recipe's ``stored_axes``; not an older recipe's ``axes``,
    the engine's order), compared with a recipe's ``stored_axes`` and, in the engine's
    order (a channel chosen: without C), with the ``axes`` of a recipe that lacks them;
    ``part``: the ``channel`` and ``series`` read
    (none: the whole image, its default series); the device and the version are not
    compared (a device gives the same labels up to rounding). ``first_frame``: this run's
    ``--first-frame`` (None: not given, frames from 0), compared with the first of the
    recipe's ``frame_numbers`` (:func:`_first_frame_differences`: the masks a later Export
    or ``--ctc`` numbers by them); ``voxel_size``: this run's ``--voxel-size`` (or its
    recipe's; None: none given), so that one is compared even with an output whose recipe
    records no voxel size (:func:`_spacing_differences`); ``voxel_unit``: the unit it gave
    them in (``50nm,4nm,4nm``: "nm"; None: plain numbers, in the input's unit, µm where it
    names none), compared with the recipe's ``unit`` (:func:`_unit_differences`). Either left
    out: not compared."""
    import json

    from ..engine.io import _json_safe
    from ..engine.params import params_to_dict

    defaults = model.card.defaults
    settings = {
        "model_sha256": model.card.sha256,
        "params": params_to_dict(params),
        "tta": bool(defaults.get("tta", False)) if tta is None else bool(tta),
        "tile": int(tile or defaults.get("tile", 1024)),
        "invert": None if invert is None else bool(invert),
        "stack": bool(stack),
        "channel": (part or {}).get("channel"),
        "series": (part or {}).get("series"),
    }
    if first_frame is not _NOT_COMPARED:
        settings["first_frame"] = None if first_frame is None else int(first_frame)
    if voxel_size is not _NOT_COMPARED:
        settings["voxel_size"] = None if voxel_size is None else [float(v) for v in voxel_size]
        if voxel_size is not None:
            settings["voxel_unit"] = voxel_unit
    if axes and stored:
        from ..engine.axes import supported_order

        kept = axes.upper().replace("C", "") if settings["channel"] is not None else axes.upper()
        settings["stored_axes"] = axes.upper()
        settings["axes"] = supported_order(kept) or kept
    elif axes:
        settings["axes"] = axes.upper()
    return json.loads(json.dumps(_json_safe(settings), default=str))


def _recipe_differences(recorded: dict, settings: dict, model) -> list[str]:
    """How an existing output's recipe differs from this run's ``settings`` (see
    :func:`_run_settings`; a blockwise run adds its ``blockwise`` block size and halo, see
    :func:`_block_differences`), one phrase per setting: ``seed_thresh=0.5 (this run: 0.8)``."""

    missing = object()

    def show(value, key: str = "") -> str:
        if value is missing:
            return "not recorded"
        if value is None and key in ("channel", "series"):
            return "all" if key == "channel" else "the default"
        return "as the model says" if key == "invert" and value is None else str(value)

    differences = []
    if recorded.get("model_sha256") != settings["model_sha256"]:
        sha = recorded.get("model_sha256")
        there = f"{recorded.get('model')!r}" + (f" {str(sha)[:12]}…" if sha else "")
        differences.append(
            f"model {there} (this run: {model.card.name!r} {model.card.sha256[:12]}…)"
        )
    there_params = recorded.get("params")
    if not isinstance(there_params, dict):
        differences.append("no parameters recorded")
    else:
        here_params = settings["params"]
        for name in sorted(set(there_params) | set(here_params)):
            there, here = there_params.get(name, missing), here_params.get(name, missing)
            if there != here:
                differences.append(f"{name}={show(there)} (this run: {show(here)})")
    # recorded only where given
    defaults = {"invert": None, "stack": False, "channel": None, "series": None}
    for key, here in settings.items():
        if key == "blockwise":
            differences += _block_differences(recorded.get("blockwise"), here)
        if key in (
            "model_sha256",
            "params",
            "blockwise",
            "first_frame",
            "voxel_size",
            "voxel_unit",
        ):
            continue  # (first_frame, voxel_size: by _skip_existing, which knows the input)
        # axes as the file stores them where both record them, else in the engine's order
        if key == "stored_axes" and "stored_axes" not in recorded:
            continue
        if key == "axes" and "stored_axes" in settings and "stored_axes" in recorded:
            continue
        there = recorded.get(key, defaults.get(key, missing))
        if key in ("axes", "stored_axes") and isinstance(there, str):
            there = there.upper()
        if there != here:
            name = f"--{key}" if key in ("stack", "channel", "series") else key
            name = "--axes" if key == "stored_axes" else name
            differences.append(f"{name}={show(there, key)} (this run: {show(here, key)})")
    return differences


def _block_differences(recorded, here: dict) -> list[str]:
    """How a blockwise output's block size and halo (its recipe's ``blockwise`` entry,
    ``recorded``) differ from this run's (``here``, per spatial axis): ``block=512x512 (this
    run: 2048x2048)``. Labels made in memory (no ``blockwise`` entry) have no seams to
    differ at: none."""
    if not isinstance(recorded, dict):
        return []

    def edges(value) -> str:
        if value is None:
            return "not recorded"
        return "x".join(map(str, value)) if isinstance(value, list) else str(value)

    return [
        f"{key}={edges(recorded.get(key))} (this run: {edges(here[key])})"
        for key in ("block", "halo")
        if recorded.get(key) != here[key]
    ]


def _unreadable_labels(target, recorded: dict) -> str:
    """Why the labels ``target`` cannot be taken as complete ("" where they can), cheaply:
    a TIFF opens, its pages' data lie within the file (a copy cut short, a disk error) and
    its shape is the one the recipe's ``labels_digest`` records; a zarr's array metadata
    opens with that shape. The pixels are not read."""
    from ..engine.io import is_zarr_path

    digest = recorded.get("labels_digest")
    want = digest.get("shape") if isinstance(digest, dict) else None
    try:
        if is_zarr_path(target):
            import zarr

            node = zarr.open(str(target), mode="r")
            if isinstance(node, zarr.Group):  # OME-Zarr labels: their full resolution
                node = node["0"]
            shape = tuple(node.shape)
        else:
            import tifffile

            with tifffile.TiffFile(target) as tif:
                size = target.stat().st_size
                for page in tif.pages:
                    ends = [o + n for o, n in zip(page.dataoffsets, page.databytecounts)]
                    if max(ends, default=0) > size:
                        return "labels file cut short"
                shape = tuple(tif.series[0].shape)
    except Exception:  # any reader's error: not readable
        return "labels file unreadable"
    if isinstance(want, list):
        squeezed = [n for n in shape if n != 1]
        if squeezed != [n for n in want if n != 1]:
            return "labels file not of its recipe's shape"
    return ""


def _input_changed(source, target, recorded: dict) -> str:
    """Why the input ``source`` is not the one its labels ``target`` were made from ("" where
    it is): its recipe's ``input_identity`` (size, time and sha256 of a file; metadata and
    chunk files of a zarr, see :mod:`tessella.engine.input_record`, and the attributes that
    say how a zarr is read, ``read_attributes_sha256`` in
    :mod:`tessella.engine.blockwise._identity`) compared with the input now, naming the
    input and what changed. A recipe without it (written before it was
    recorded) falls back to modification times: a file modified after its labels were
    written; folders (zarr) are not compared then (rewriting a chunk leaves the folder's
    time as it was)."""
    from ..engine.input_record import INPUT_KEY, input_changes

    record = recorded.get(INPUT_KEY)
    changed = input_changes(record, source, _outputs_of(target))
    if changed == "":
        changed = _attributes_changed(record, source)  # (same pixels, read otherwise)
    if changed == "":
        _note_same_content(record, source, target)
    if changed is None:
        try:
            newer = source.is_file() and source.stat().st_mtime_ns > target.stat().st_mtime_ns
        except OSError:
            newer = False
        return "input changed since" if newer else ""
    return f"input {source} changed since: {changed}" if changed else ""


def with_read_attributes(identity: dict | None, source) -> dict | None:
    """``identity`` (an input's ``input_identity``) with the digest of the attributes that
    say how ``source`` (a zarr input) is read (``read_attributes_sha256`` in
    :mod:`tessella.engine.blockwise._identity`) under its ``attributes_sha256``; as it is
    otherwise."""
    from ..engine.blockwise._identity import ATTRIBUTES_KEY, read_attributes_sha256

    if identity is None or identity.get("kind") != "folder":
        return identity
    digest = read_attributes_sha256(source)
    return identity if digest is None else {**identity, ATTRIBUTES_KEY: digest}


def _attributes_changed(record, source) -> str:
    """How the attributes of the zarr ``source`` that say how it is read differ from those
    its recipe's ``input_identity`` ``record`` recorded ("" where they do not, or where it
    recorded none: a recipe written before they were)."""
    from ..engine.blockwise._identity import ATTRIBUTES_KEY, read_attributes_sha256

    if not isinstance(record, dict) or not isinstance(record.get(ATTRIBUTES_KEY), str):
        return ""
    if read_attributes_sha256(source) == record[ATTRIBUTES_KEY]:
        return ""
    return (
        "the attributes that say how it is read (tessella_axes, pixel_size, unit, or "
        "OME-Zarr's multiscales: axes, datasets, scale) differ"
    )


def _note_same_content(record: dict, source, target) -> None:
    """Where the input file ``source`` has the bytes its labels ``target`` were made from but
    another modification time (copied without ``-p``, e.g. to a cluster's scratch), write
    its time into the recipe's record, so that the next run takes it by size and time
    without reading the whole file again (each rerun after a time limit re-read the whole
    dataset). The recipe is read again just before and written atomically
    (:func:`~tessella.engine.io.write_json`), and only where its record is still the one
    compared (a run that rewrote labels and recipe meanwhile keeps its own); nothing else of
    it changes, and one that cannot be written is left as it is."""
    import json

    from ..engine.input_record import INPUT_KEY
    from ..engine.io import write_json

    try:
        mtime = source.stat().st_mtime_ns
        if record.get("kind") != "file" or record.get("mtime_ns") == mtime:
            return
        recipe_path = _found_recipe_path(target)
        recipe = json.loads(recipe_path.read_text())
        if recipe.get(INPUT_KEY) != record:
            return
        recipe[INPUT_KEY] = {**record, "mtime_ns": mtime}
        write_json(recipe_path, recipe)
    except (OSError, ValueError, TypeError):
        return


def _first_frame_differences(recorded: dict, first) -> list[str]:
    """How the number of the first frame an existing output's recipe records (the first of
    its ``frame_numbers``, written by ``--first-frame``; none: frames from 0) differs from
    this run's ``first`` (``--first-frame``; None: not given). A later Export of the labels,
    and ``--ctc``, name the masks by them: labels kept from a run with another first frame
    would be numbered as that run's.

    >>> _first_frame_differences({"frame_numbers": [52, 53]}, 52)
    []
    >>> _first_frame_differences({}, 0)
    []
    >>> _first_frame_differences({"frame_numbers": [52, 53]}, None)
    ['--first-frame=52 (this run: not given, frames from 0)']
    >>> _first_frame_differences({}, 7)
    ['--first-frame=not given, frames from 0 (this run: 7)']
    """
    numbers = recorded.get("frame_numbers")
    there = None
    if isinstance(numbers, list) and numbers:
        there = numbers[0]
        if isinstance(there, bool) or not isinstance(there, int):  # a hand-edited recipe's
            there = str(numbers[0])

    def show(value) -> str:
        return "not given, frames from 0" if value is None else str(value)

    if (there or 0) == (first or 0):
        return []
    return [f"--first-frame={show(there)} (this run: {show(first)})"]


def _frame_folder(source) -> bool:
    """Whether ``source`` is a folder of frames (numbered by its file names, which its
    recipe's ``frame_numbers`` record: ``--first-frame`` is refused for it), not a file or
    a zarr."""
    from ..engine.io import is_zarr_path

    return source.is_dir() and not is_zarr_path(source)


def _spacing_differences(recorded: dict, run, given: bool = False) -> list[str]:
    """How the voxel size an existing output was made with (its recipe's ``spacing``)
    differs from the one this run would use, ``run``: ``(spacing, own)`` (see
    :func:`~tessella.cli._inputs._input_spacing`; ``own``: the input's own pixel size, or
    none), or None where it is not known (nothing is compared). Compared as post-processing
    uses them, relative to their smallest (none at all is isotropic: 1 x 1 x 1). A recipe
    that records none (in memory: made without a voxel size; blockwise before it was
    recorded) differs only from a voxel size this run takes from ``--recipe``, or is
    ``given`` (``--voxel-size``, or a recipe's ``voxel_size``: compared as isotropic).

    >>> _spacing_differences({"spacing": [4, 1, 1]}, ((0.02, 0.005, 0.005), True))
    []
    >>> _spacing_differences({"spacing": [4, 1, 1]}, (None, True))
    ['spacing=[4, 1, 1] (this run: none, the input has no pixel size)']
    >>> _spacing_differences({"spacing": [0.5, 0.5]}, (None, True))
    []
    >>> _spacing_differences({}, ((4.0, 1.0, 1.0), False))
    ["spacing=not recorded (this run: [4.0, 1.0, 1.0], the recipe's)"]
    >>> _spacing_differences({}, ((1.0, 2.0), True), given=True)
    ['spacing=not recorded (this run: [1.0, 2.0], its voxel size)']
    >>> _spacing_differences({}, ((3.0, 3.0), True), given=True)
    []
    """
    from ._inputs import _same_spacing

    def same(a, b) -> bool:
        try:
            return _same_spacing(a, [1.0] * len(a) if b is None else b)
        except (TypeError, ValueError):  # a hand-edited recipe's
            return False

    if run is None:
        return []
    spacing, own = run
    there = recorded.get("spacing")
    if there is None:
        if spacing is None or (own and not given) or same(spacing, None):
            return []
        whose = "its voxel size" if given else "the recipe's"
        return [f"spacing=not recorded (this run: {list(spacing)}, {whose})"]
    if same(there, spacing):
        return []
    if spacing is None:
        return [f"spacing={there} (this run: none, the input has no pixel size)"]
    return [f"spacing={there} (this run: {list(spacing)})"]


#: units of length as powers of ten of a metre (the symbols ``unit_for`` spells)
_METRES = {"pm": -12, "Å": -10, "nm": -9, "µm": -6, "mm": -3, "cm": -2, "m": 0}


def _input_unit(source: Path) -> str | None:
    """The unit of length the input ``source`` names for its pixel size (its metadata only),
    None where it names none or cannot be read here."""
    import warnings

    from ..engine.io import TIFF_SUFFIXES, is_zarr_path, read_image

    try:
        if is_zarr_path(source):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                unit = read_image(source).unit
        elif source.suffix.lower() in TIFF_SUFFIXES and source.is_file():
            import tifffile

            from ..engine.io._tiff import _pick_series, _tiff_pixel_size

            with tifffile.TiffFile(source) as tif, warnings.catch_warnings():
                warnings.simplefilter("ignore")
                unit = _tiff_pixel_size(tif, _pick_series(source, tif.series, None))[1]
        else:
            return None
    except Exception:  # unreadable: segmenting it says why
        return None
    return unit


def _unit_differences(recorded: dict, settings: dict, source: Path) -> list[str]:
    """How this run's ``--voxel-size`` (``settings``' ``voxel_size`` in its ``voxel_unit``;
    plain numbers: in the input ``source``'s unit, µm where it names none, as the run writes
    them) differs in length from the voxel size an existing output's recipe records (its
    ``voxel_size``, else its ``spacing``, in its ``unit``): ``50,4,4`` µm kept where this
    run says ``50nm,4nm,4nm`` would leave labels 1000 times too large (post-processing
    compares voxel sizes relative to their smallest: the same labels, another unit written).
    One phrase, or none where they are the same length (``0.05,0.004,0.004`` µm and
    ``50nm,4nm,4nm`` are), or the recipe records no unit (made before it did: not told).

    >>> rec = {"voxel_size": [50, 4, 4], "spacing": [50, 4, 4], "unit": "µm"}
    >>> _unit_differences(rec, {"voxel_size": [50.0, 4.0, 4.0], "voxel_unit": "nm"}, Path("x"))
    ['voxel size [50, 4, 4] µm (this run: [50.0, 4.0, 4.0] nm)']
    >>> _unit_differences(rec, {"voxel_size": [5e4, 4e3, 4e3], "voxel_unit": "nm"}, Path("x"))
    []
    >>> _unit_differences(rec, {"voxel_size": [0.05, 0.004, 0.004], "voxel_unit": "µm"}, Path("x"))
    ['voxel size [50, 4, 4] µm (this run: [0.05, 0.004, 0.004] µm)']
    """
    import math

    from ..engine.io._write import unit_for

    here = settings.get("voxel_size")
    there_unit = recorded.get("unit")
    there = recorded.get("voxel_size", recorded.get("spacing"))
    if not isinstance(here, list) or not isinstance(there_unit, str) or not isinstance(there, list):
        return []
    unit = settings.get("voxel_unit")
    if unit is None:  # plain numbers: in the input's unit, µm where it names none
        own = _input_unit(source)
        unit = own if own is not None and unit_for(own, "zarr") in _METRES else "µm"
    run_unit, old_unit = unit_for(unit, "zarr"), unit_for(there_unit, "zarr")
    if run_unit not in _METRES or old_unit not in _METRES:
        return []
    scale = 10.0 ** (_METRES[run_unit] - _METRES[old_unit])  # (this run's sizes in the old unit)
    try:
        if len(there) == len(here) and all(
            math.isclose(float(a), float(b) * scale, rel_tol=1e-6) for a, b in zip(there, here)
        ):
            return []
    except (TypeError, ValueError):  # a hand-edited recipe's
        pass
    return [f"voxel size {there} {old_unit} (this run: {here} {run_unit})"]


def _skip_existing(jobs, settings: dict, model, spacing_of=None) -> tuple[list, list, dict]:
    """``--skip-existing``: (jobs to run, sources skipped, targets to redo with why). An
    output is complete, and its job skipped, when its labels are there and readable (see
    :func:`_unreadable_labels`), its recipe (a JSON object) is there, no staging folder of a
    killed write is beside them, and its input is the one they were made from (see
    :func:`_input_changed`); the others are segmented, and those of them that left something
    (labels without a recipe, a recipe without labels, a killed write, put back first) are
    replaced (the targets to redo, each with its reason). Complete outputs whose recipes
    record other settings than this run's are refused before any work, naming them and each
    difference: keeping them would leave stale labels beside new ones.
    ``spacing_of(source, recorded)`` (None: not compared) is the voxel size this run would
    use on ``source`` (see :func:`_spacing_differences`), given the output's recipe
    ``recorded``; it is asked only of complete outputs. Complete labels are kept whatever
    else a run writes beside them is missing (``--csv``'s CSV: measured from the labels as
    they are, :func:`~tessella.cli._measure_csv.measure_kept`): they may have been
    corrected by hand, which segmenting them again would undo."""
    import json

    from ..engine.io import is_zarr_path

    todo, skipped, redo, stale = [], [], {}, []
    for source, target in jobs:
        recipe_path = _found_recipe_path(target)
        _check_writable(target)
        killed = _there(_staging(target))
        _recover_staging(target)  # (says so) what it put back is not taken as complete
        labels = target.is_file() or (target.is_dir() and is_zarr_path(target))
        recorded, why = None, ""
        if recipe_path.is_file():
            try:
                recorded = json.loads(recipe_path.read_text())
            except ValueError:
                why = "recipe unreadable (not JSON)"
            except OSError:
                why = "recipe unreadable"
            if not why and not isinstance(recorded, dict):
                why = "recipe unreadable (not a JSON object)"
        if killed:
            why = "write killed midway"
        elif labels and isinstance(recorded, dict):
            why = _unreadable_labels(target, recorded)
            if not why:
                why = _input_changed(Path(source), target, recorded)
        if killed or why or not labels or not isinstance(recorded, dict):
            todo.append((source, target))
            if killed or _there(target) or _there(recipe_path):
                redo[target] = why or "incomplete"
            continue
        differences = _recipe_differences(recorded, settings, model)
        if "first_frame" in settings and not _frame_folder(Path(source)):
            differences += _first_frame_differences(recorded, settings["first_frame"])
        if spacing_of is not None:
            given = settings.get("voxel_size") is not None
            run = spacing_of(Path(source), recorded)
            differences += _spacing_differences(recorded, run, given)
        if settings.get("voxel_size") is not None and not differences:
            differences += _unit_differences(recorded, settings, Path(source))
        if differences:
            stale.append((target, differences))
        else:
            skipped.append(source)
    if stale:
        raise CliError(_refusal(stale, skipped))
    return todo, skipped, redo


def _refusal(stale: list, same: list) -> str:
    """The refusal of outputs made with other settings: with ``--recipe`` of one of them
    only where every existing output was made with the same settings (else that recipe is
    refused by the others in turn); where they disagree among themselves, how many differ
    and in which groups."""
    groups: dict[tuple, list] = {}
    for target, differences in stale:
        groups.setdefault(tuple(differences), []).append(target)
    advice = "pass --overwrite to segment every image again with this run's settings"
    if len(groups) == 1 and not same:
        [(differences, targets)] = groups.items()
        target, others = targets[0], [t.name for t in targets[1:]]
        many = len(others) > 1
        verb, plural = ("are", "s") if many else ("is", "")
        more = f" (as {verb} {len(others)} more output{plural}: {_few(others)})" if others else ""
        from ..engine.commands import shell_command

        words = ["--recipe", _found_recipe_path(target)]
        for said in differences:  # (a recipe does not replay --first-frame: said with it)
            first = said.partition("=")[2].partition(" ")[0]
            if said.startswith("--first-frame=") and first.isdigit():
                words += ["--first-frame", first]
        return (
            f"--skip-existing: {target} was made with other settings than this run's: "
            f"{', '.join(differences)}{more}; {advice}, or "
            f"{shell_command(*words)} to go on with its"
        )
    total = len(stale) + len(same)
    parts = [
        f"{len(targets)} with {', '.join(differences)} ({_few(t.name for t in targets)})"
        for differences, targets in sorted(groups.items(), key=lambda g: -len(g[1]))
    ]
    if same:
        parts.append(f"{len(same)} with this run's")
    folder = stale[0][0].parent
    return (
        f"--skip-existing: the {total} existing outputs in {folder} were made with "
        f"{len(parts)} different settings: {'; '.join(parts)}; no one run's settings go on "
        f"with them all: {advice}, or move aside the outputs you do not want to keep"
    )


def _say_skipped_existing(skipped: list, redo: dict, total: int) -> None:
    """``--skip-existing``'s one line: the images skipped, as many as there are ("skipped 2 of
    5 images whose labels and recipe are there (a.tif, b.tif)", "skipped all 5 images: their
    labels and recipe are there (…)", "skipped in.zarr: its labels and recipe are there"; none:
    not said), then the outputs redone and why ("redoing incomplete b.tif", "redoing c.tif:
    recipe unreadable (not JSON)", "…: input in/a.tif changed since: …"); nothing where
    neither."""
    parts = []
    names = _few([s.name for s in skipped])
    if skipped and len(skipped) == total == 1:
        parts.append(f"skipped {names}: its labels and recipe are there")
    elif skipped and len(skipped) == total:
        parts.append(f"skipped all {total} images: their labels and recipe are there ({names})")
    elif skipped:
        parts.append(
            f"skipped {len(skipped)} of {total} images whose labels and recipe are there ({names})"
        )
    reasons: dict[str, list] = {}
    for target in sorted(redo, key=lambda t: t.name):
        reasons.setdefault(redo[target], []).append(target.name)
    for why, redone in reasons.items():
        if why == "incomplete":
            parts.append(f"redoing incomplete {_few(redone)}")
        else:
            parts.append(f"redoing {_few(redone)}: {why}")
    if parts:
        print("; ".join(parts), file=sys.stderr, flush=True)
