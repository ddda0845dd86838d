"""``tessella evaluate``: labels, overlapping masks and CTC tracking results against
their ground truth; ``evaluate_paths`` for Python."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from ._console import CliError, _few
from ._pairing import _file_pairs

__all__ = ["evaluate_paths", "_cmd_evaluate"]


def _label_pairs(
    pred: str,
    gt: str,
    gt_boundaries: bool = False,
    gt_binary: bool = False,
    ignore_label: int | None = None,
    skipped: list | None = None,
    boundaries_3d: bool = False,
    sections: list | None = None,
    annotated_only: str | None = None,
    summaries: list | None = None,
):
    """``(name, truth, predicted, unannotated)`` per image of each pair of files, the
    prediction cut at the unannotated pixels: what ``evaluation.truth_objects`` and
    ``evaluation.scored_images`` make of them, as the Evaluate panel's ``evaluate_labels``
    does. ``unannotated``: GT pixels of ``ignore_label`` or None. A boundary map of more than
    2 axes (unless ``boundaries_3d``) gives one pair per 2D section, its number added to
    ``sections``. A ground truth or prediction that does not look like what it is taken for
    is warned about on stderr (``evaluation.ground_truth_note``). Ground truth annotating
    some frames or slices only is scored there only (:func:`_annotated_places`: a Cell
    Tracking Challenge ``SEG`` folder, or ``annotated_only``), each place an image, its
    :func:`evaluation.annotated_summary` and how it is known added to ``summaries``."""
    from ..engine.evaluation import (
        annotated_summary,
        annotated_with_objects,
        ctc_annotated,
        prediction_note,
        scored_images,
        truth_objects,
    )
    from ..engine.io import as_array, read_image

    gt_boundaries = gt_boundaries or boundaries_3d
    kind = (
        ("boundaries3d" if boundaries_3d else "boundaries")
        if gt_boundaries
        else "binary"
        if gt_binary
        else "labels"
    )
    seg = _ctc_seg_folder(pred, gt)
    if seg is not None and (one := _one_file_for_one_image(seg, Path(pred))) is not None:
        seg, gt = None, str(one)  # a one-file SEG folder against one 2D image: that file
    pairs = [(seg, Path(pred))] if seg is not None else _file_pairs(pred, gt, skipped)
    for gt_file, pred_file in pairs:
        predicted = read_image(pred_file).data
        truth = (
            _ctc_truth(gt_file, np.shape(predicted), pred_file)
            if gt_file is seg
            else read_image(gt_file).data
        )
        checked = [(pred_file, predicted)] + (
            [] if gt_boundaries or gt_binary else [(gt_file, truth)]
        )
        for path, array in checked:  # maps and masks become integer objects below
            if array.dtype.kind not in "biu":
                raise CliError(f"{path}: labels must be integers, got {array.dtype}")
        raw, predicted = as_array(truth, gt_file), as_array(predicted, pred_file)
        for path, array, unmarked in ((pred_file, predicted, None), (gt_file, raw, ignore_label)):
            _refuse_negative(path, array, unmarked)
        note = prediction_note(predicted, str(pred_file))
        if note:  # the raw image instead of labels?
            print(f"warning: {note}", file=sys.stderr)
        truth, unannotated, note = truth_objects(raw, kind, ignore_label, str(gt_file))
        if note:
            print(f"warning: {note}", file=sys.stderr)
        if truth.shape != predicted.shape:
            raise CliError(
                f"{pred_file}: shape {predicted.shape} differs from ground truth "
                f"{gt_file} {truth.shape}"
            )
        places, how = None, ""
        if gt_file is seg and annotated_only != "off":
            places, how = ctc_annotated(seg), f"the files of {seg.name}, by their names"
        elif annotated_only in ("frames", "slices"):
            try:
                places = annotated_with_objects(truth, annotated_only == "slices")
            except ValueError as exc:
                raise CliError(f"{gt_file}: --annotated-only: {exc}") from None
            how = f"the {annotated_only} of the first axis holding a ground-truth object"
            if not places:
                raise CliError(f"{gt_file}: --annotated-only: no ground-truth object anywhere")
        if places is not None:
            try:
                images = scored_images(truth, predicted, unannotated, kind, annotated=places)
            except ValueError as exc:
                raise CliError(f"{gt_file}: {exc}") from None
            if summaries is not None:
                summaries.append((annotated_summary(places, truth.shape), how))
            for place, image in zip(places, images):
                yield f"{gt_file.name}[{','.join(map(str, place))}]", *image
            continue
        images = scored_images(truth, predicted, unannotated, kind)
        if not (kind == "boundaries" and truth.ndim > 2):
            yield gt_file.name, *images[0]
            continue
        if sections is not None:  # annotated section by section: each scored as an image
            sections.append(len(images))
        for z, image in enumerate(images):
            yield f"{gt_file.name}[{z}]", *image


def _ctc_seg_folder(pred: str, gt: str) -> Path | None:
    """The Cell Tracking Challenge ``SEG`` folder ``gt`` is (or ``gt/SEG``, ``gt`` being
    ``NN_GT``): ``man_segTTT.tif`` (``man_seg_TTT_ZZZ.tif``) files annotating some frames
    (slices) of a movie, scored against the labels stack ``pred``; None otherwise, and for
    a folder ``pred`` (its files are paired with the folder's by name, as before)."""
    from ..engine.evaluation import ctc_annotated
    from ..engine.io import is_zarr_path

    gt_path = Path(gt)
    seg = next(
        (f for f in (gt_path, gt_path / "SEG") if f.is_dir() and ctc_annotated(f)),
        None,
    )
    if seg is None:
        return None
    pred_path = Path(pred)
    if not pred_path.exists():
        raise CliError(f"{pred_path}: no such file or folder")
    if pred_path.is_dir() and not is_zarr_path(pred_path):
        return None  # file by file, paired by name (a CTC result folder: --ctc)
    return seg


def _one_file_for_one_image(seg: Path, pred: Path) -> Path | None:
    """The one file of the SEG folder ``seg`` where the prediction ``pred`` is one 2D image
    (YX, read from its header) and ``seg`` annotates one 2D frame: they are scored as a pair
    of files, as the Evaluate panel scores the layer of such a folder; else None."""
    from ..engine.evaluation import ctc_annotated_files
    from ..engine.io import read_image

    placed = ctc_annotated_files(seg) or []
    if len(placed) != 1 or len(placed[0][0]) != 1 or pred.is_dir():
        return None
    try:
        if read_image(pred).axes != "YX":
            return None
    except (OSError, ValueError):
        return None  # said where the pair is read
    return placed[0][1]


def _ctc_truth(seg: Path, shape: tuple[int, ...], pred_file: Path) -> np.ndarray:
    """The CTC ground truth ``seg`` as labels of the prediction's ``shape`` (T first): each
    file at its frame (slice) as the reader places it (:func:`ctc_annotated_files`: counted
    from the movie beside it, or from 0), the rest 0. A SEG folder of one file, one without
    its movie beside it, and a prediction of another length are scored so too. CliError
    naming ``seg`` where a place lies outside the prediction, or its file's image is not the
    prediction's there (YX; ZYX for a whole 3D frame)."""
    from ..engine.evaluation import ctc_annotated_files, places_misfit
    from ..engine.io import as_array, read_image

    placed = ctc_annotated_files(seg) or []
    truth: np.ndarray | None = None
    for place, path in placed:
        try:
            image = as_array(read_image(path).data, path)
        except (OSError, ValueError) as exc:
            raise CliError(f"{path}: {exc}") from None
        misfit = places_misfit([place], [image.shape], shape, f"the prediction {pred_file.name}")
        if misfit:
            raise CliError(f"{seg}: {path.name} {misfit}")
        if truth is None:
            truth = np.zeros(shape, image.dtype)
        elif image.dtype != truth.dtype:
            truth = truth.astype(np.result_type(truth.dtype, image.dtype))
        truth[place] = image
    if truth is None:
        raise CliError(f"{seg}: no man_seg file to score")
    return truth


def _refuse_negative(path, array: np.ndarray, ignore_label: int | None = None) -> None:
    """CliError naming ``path`` for a negative label (other than ``ignore_label``, the value of
    unannotated pixels, which may be negative)."""
    if array.dtype.kind != "i" or not array.size:
        return
    negative = (
        array[(array < 0) & (array != ignore_label)]
        if ignore_label is not None
        else array[array < 0]
    )
    if negative.size:
        raise CliError(f"{path}: labels must not be negative (found {int(negative.min())})")


def evaluate_paths(
    pred: str,
    gt: str,
    metrics_wanted=("ap",),
    gt_boundaries: bool = False,
    gt_binary=False,
    ignore_label: int | None = None,
    skipped: list | None = None,
    boundaries_3d: bool = False,
    annotated_only: str | None = None,
    per_image: bool = False,
) -> dict:
    """Scores of the label image(s) at ``pred`` against ``gt`` (files or folders; paired by
    name without the suffix); GT pixels of ``ignore_label`` (not annotated) are left out, as
    training validates sparse labels. Predictions without ground truth are not scored; they
    are added to ``skipped``. Boundary maps of more than 2 axes are scored section by section
    (each 2D section an image, as ISBI 2012 scores) unless ``boundaries_3d``: then
    ``"sections"`` is ``{"files": stacks, "sections": images}``. Ground truth annotating
    some frames or slices of a movie only is scored there only, each an image: a Cell
    Tracking Challenge ``SEG`` folder (``gt``, or ``gt/SEG``; its files say where) against
    a labels stack ``pred``, unless ``annotated_only`` is ``"off"`` (then the whole stack,
    as one image), or with ``annotated_only`` ``"frames"`` (``"slices"``) the frames (2D
    slices) of a stack, first axis T, that hold a ground-truth object (a frame annotated
    as holding none is left out too); ``"annotated"`` then says how many
    (:func:`~tessella.engine.evaluation.annotated_summary`, summed over files, with
    ``"how"``). With ``per_image`` (as ``--json`` writes them) ``"images"`` holds each
    image's scores, in the order scored
    (:func:`~tessella.engine.evaluation.image_rows`: ``"name"``, the ground truth's file
    name, with ``[t]`` for a frame, slice or section; ``"n_true"``, ``"n_pred"``, and
    per metric ``"ap"``, ``"tp"``, ``"fp"``, ``"fn"`` at each IoU threshold, ``"avs"``,
    ``"seg"``, ``"foreground_iou"``, ``"vrand"`` ...)."""
    from ..engine.evaluation import ignore_label_clash, score_pairs

    if ignore_label == 0:
        raise CliError("--ignore-label 0: 0 is background; mark unannotated parts with another")
    pairs, marked = [], False
    sections: list[int] = []
    if annotated_only not in (None, "frames", "slices", "off"):
        raise CliError(f"--annotated-only {annotated_only}: choose frames, slices or off")
    if annotated_only in ("frames", "slices") and (gt_boundaries or boundaries_3d):
        raise CliError("--annotated-only scores labels or --gt-binary, not membrane maps")
    summaries: list[tuple[dict, str]] = []
    names: list[str] = []
    for _name, truth, predicted, unannotated in _label_pairs(
        pred,
        gt,
        gt_boundaries,
        gt_binary,
        ignore_label,
        skipped,
        boundaries_3d,
        sections,
        annotated_only,
        summaries,
    ):
        if unannotated is not None:  # (the prediction is cut there already)
            marked |= bool(unannotated.any())
            clash = ignore_label_clash(int(np.max(truth, initial=0)), ignore_label, _name)
            if unannotated.any() and clash:
                print(f"warning: {clash}", file=sys.stderr)
        pairs.append((truth, predicted))
        names.append(_name)
    if ignore_label is not None and not marked:
        raise CliError(f"--ignore-label {ignore_label}: no ground-truth pixel has it")
    scores = score_pairs(pairs, metrics_wanted, names if per_image else None)
    if sections:
        scores["sections"] = {"files": len(sections), "sections": sum(sections)}
    if summaries:
        scores["annotated"] = {
            key: sum(summary[key] for summary, _how in summaries) for key in summaries[0][0]
        }
        scores["annotated"]["how"] = summaries[0][1]
    return scores


def _check_json_target(path: str | None) -> None:
    """CliError, before any scoring, where ``--json`` cannot name a file to write: an
    existing folder, or a file in a folder that does not exist (not created: a mistyped path
    would make folders unasked)."""
    if not path:
        return
    target = Path(path)
    if target.is_dir():
        raise CliError(
            f"--json {path}: is a folder; name the file to write, e.g. {target / 'scores.json'}"
        )
    folder = target.parent
    if not folder.exists():
        raise CliError(f"--json {path}: the folder {folder} does not exist; create it first")
    if not folder.is_dir():
        raise CliError(f"--json {path}: {folder} is not a folder")


def _write_scores(path: str | None, scores: dict) -> None:
    """Write ``scores`` to ``--json`` ``path`` (after the table is printed, so that the scores
    are not lost where the file cannot be written): CliError in one line naming ``path``."""
    from ..engine.io import write_json

    if not path:
        return
    try:
        write_json(path, scores)
    except OSError as exc:
        raise CliError(f"cannot write {path} ({exc.strerror or exc})") from None


#: how many of the lowest-scoring images the printed summary lists
WORST_SHOWN = 5

#: the per-image scores the printed summary lists: (key of the dataset score, heading,
#: the value of an image's row; None where the image has nothing to score)
_IMAGE_COLUMNS = (
    ("ap", "AP(0.5)", lambda r: r["ap"]["0.5"] if r["n_true"] or r["n_pred"] else None),
    ("avs", "avS", lambda r: r["avs"] if r["n_true"] or r["n_pred"] else None),
    ("seg", "SEG", lambda r: r["seg"]),
    ("foreground_iou", "fg IoU", lambda r: r["foreground_iou"]),
    ("vrand", "vrand", lambda r: r["vrand"]),
)


def _say_worst_images(scores: dict, json_path: str | None, what: str = "images") -> None:
    """Print the images of lowest score (:data:`WORST_SHOWN` at most, below 1.0) where more
    than one is scored: by AP at IoU 0.5 (else SEG, foreground IoU, vrand, the first
    scored), a row each with the image's other scores, its objects and its name. Every
    image's scores are in ``--json``'s ``"images"``."""
    rows = scores.get("images") or []
    columns = [(label, value) for key, label, value in _IMAGE_COLUMNS if key in scores]
    if len(rows) < 2 or not columns:
        return
    label, value = columns[0]
    scored = [(value(row), row["name"], row) for row in rows]
    scored = [item for item in scored if item[0] is not None]
    worst = [item for item in sorted(scored, key=lambda item: item[:2]) if item[0] < 1.0]
    if not worst:
        return
    where = f'"images" in {json_path}' if json_path else "--json FILE"
    print(
        f"lowest {label}: {min(len(worst), WORST_SHOWN)} of {len(scored)} {what} "
        f"(each image's scores: {where})"
    )
    print("  " + "".join(f"{heading:>8}" for heading, _ in columns) + "  n_true  n_pred  image")
    for _v, name, row in worst[:WORST_SHOWN]:
        values = [column(row) for _, column in columns]
        cells = "".join("       -" if v is None else f"{v:8.3f}" for v in values)
        print(f"  {cells}  {row['n_true']:6d}  {row['n_pred']:6d}  {name}")


def _parse_frames(text: str | None) -> range | None:
    if not text:
        return None
    start, sep, stop = text.partition(":")
    try:
        return range(int(start), int(stop)) if sep else range(int(start), int(start) + 1)
    except ValueError:
        raise CliError(f"--frames expects A:B (B excluded), got {text!r}") from None


def _cmd_evaluate_ctc(args) -> int:
    from ..engine.tracking import evaluate_ctc

    if args.frames and not args.ctc:
        raise CliError("--frames needs --ctc")
    _check_json_target(args.json)
    scores = evaluate_ctc(args.pred, args.gt, _parse_frames(args.frames))
    if scores.get("links") == 0:  # nothing to reproduce: no accuracy (JSON has no NaN)
        scores["link_accuracy"] = None
    if not args.quiet:
        if scores.get("seg_frames"):
            print(
                f"SEG: {scores['seg']:.4f} over {scores['n_objects']} cells in "
                f"{scores['seg_frames']} frames"
            )
        else:
            print("SEG: no annotated (SEG) frame in these frames")
        if scores.get("links") == 0:
            print("links: none in these frames")
        elif "link_accuracy" in scores:
            print(
                f"links reproduced: {scores['reproduced']} of {scores['links']} "
                f"({scores['link_accuracy']:.4f}); divisions: "
                f"{scores['divisions_reproduced']} of {scores['division_links']}"
            )
        elif "links_not_scored" in scores:
            print(f"links: not scored ({scores['links_not_scored']})")
        _say_worst_images(scores, args.json, "SEG frames")
    _write_scores(args.json, scores)
    return 0


def _cmd_evaluate_overlapping(args) -> int:
    from ..engine.evaluation import score_mask_pairs, stack_without_ignored
    from ..engine.io import read_mask_stack, read_masks

    if args.metric and set(args.metric) != {"ap"}:
        raise CliError("--overlapping scores AP only (objects may overlap)")
    if args.ignore_label == 0:
        raise CliError("--ignore-label 0: 0 is background; mark unannotated parts with another")
    _check_json_target(args.json)
    pairs, marked = [], False
    skipped: list[Path] = []
    names: list[str] = []
    for gt_file, pred_file in _file_pairs(args.pred, args.gt, skipped):
        predicted = read_mask_stack(pred_file)
        truth, unannotated = read_masks(gt_file, 2, args.ignore_label)
        if truth.shape[1:] != predicted.shape[1:]:
            raise CliError(
                f"{pred_file}: image shape {predicted.shape[1:]} differs from ground truth "
                f"{gt_file} {truth.shape[1:]}"
            )
        if unannotated is not None and unannotated.any():
            marked = True
            predicted = stack_without_ignored(predicted, unannotated, truth)
        pairs.append((truth, predicted))
        names.append(gt_file.name)
    if args.ignore_label is not None and not marked:
        raise CliError(f"--ignore-label {args.ignore_label}: no ground-truth pixel has it")
    # as the Evaluate panel's evaluate_masks scores them, and each image's scores
    scores = score_mask_pairs(pairs, names)
    if not args.quiet:
        print(f"images: {scores['n_images']} (overlapping objects)")
        _say_skipped(skipped, args.pred)
        print("IoU threshold  " + "  ".join(f"{k:>6}" for k in scores["ap"]))
        for key in ("ap", "precision", "recall", "f1"):
            print(f"{key:<13}  " + "  ".join(f"{v:6.3f}" for v in scores[key].values()))
        print(f"avS (mean AP over 0.5..0.9): {scores['avs']:.4f}")
        _say_images_left_out(scores["ap_images"], scores["n_images"])
        _say_worst_images(scores, args.json)
    _write_scores(args.json, scores)
    return 0


def _say_skipped(skipped: list, pred) -> None:
    if skipped:
        print(
            f"skipped: {len(skipped)} prediction{'s' if len(skipped) > 1 else ''} in {pred} "
            f"without ground truth ({_few(p.name for p in skipped)})"
        )


def _say_images_left_out(scored: int, n_images: int) -> None:
    if scored < n_images:
        print(
            f"AP, precision, recall, F1 and avS: means over the {scored} of {n_images} images "
            "with an object in the ground truth or the prediction (the others have nothing "
            "to score)" + ("; with no object anywhere every score is 1.0" if not scored else "")
        )


def _cmd_evaluate(args) -> int:
    if args.metric:  # VOI comes with V_rand (one computation): --metric voi is --metric vrand
        args.metric = list(dict.fromkeys("vrand" if m == "voi" else m for m in args.metric))
    if (args.gt_boundaries or args.gt_boundaries_3d) and args.gt_binary:
        flag = "--gt-boundaries" if args.gt_boundaries else "--gt-boundaries-3d"
        raise CliError(f"{flag} and --gt-binary describe the ground truth two ways; give one")
    if args.ignore_label is not None and (args.ctc or args.frames):
        raise CliError(
            "--ignore-label scores label images and mask stacks; it does not apply to --ctc "
            "or --frames"
        )
    if args.ctc or args.frames:
        return _cmd_evaluate_ctc(args)
    if args.overlapping:
        return _cmd_evaluate_overlapping(args)
    _check_json_target(args.json)
    skipped: list[Path] = []
    scores = evaluate_paths(
        args.pred,
        args.gt,
        tuple(args.metric or ["ap"]),
        gt_boundaries=args.gt_boundaries,
        gt_binary=args.gt_binary,
        ignore_label=args.ignore_label,
        skipped=skipped,
        boundaries_3d=args.gt_boundaries_3d,
        annotated_only=getattr(args, "annotated_only", None),
        per_image=True,
    )
    if not args.quiet:
        stacks = scores.get("sections")
        print(
            f"images: {scores['n_images']}"
            + (
                f" (the 2D sections of {stacks['files']} membrane-map stack"
                f"{'s' if stacks['files'] > 1 else ''}, each scored on its own; "
                "--gt-boundaries-3d scores a 3D map as one volume)"
                if stacks
                else ""
            )
        )
        _say_skipped(skipped, args.pred)
        if "annotated" in scores:
            from ..engine.evaluation import annotated_text

            print(annotated_text(scores["annotated"], scores["annotated"]["how"]))
        if "ap" in scores:
            print("IoU threshold  " + "  ".join(f"{k:>6}" for k in scores["ap"]))
            for key in ("ap", "precision", "recall", "f1"):
                print(f"{key:<13}  " + "  ".join(f"{v:6.3f}" for v in scores[key].values()))
            print(f"avS (mean AP over 0.5..0.9): {scores['avs']:.4f}")
            _say_images_left_out(scores["ap_images"], scores["n_images"])
        for key in (
            "seg",
            "foreground_iou",
            "vrand",
            "vrand_split",
            "vrand_merge",
            "voi",
            "voi_split",
            "voi_merge",
        ):
            if key in scores and scores[key] is None:
                why = "no ground-truth object" if key == "seg" else "no ground-truth foreground"
                print(f"{key}: undefined ({why})")
            elif key in scores:
                print(f"{key}: {scores[key]:.4f}")
        scored = scores.get("vrand_images", scores["n_images"])
        if 0 < scored < scores["n_images"]:
            print(
                f"vrand and voi: means over the {scored} of {scores['n_images']} images with "
                "ground-truth foreground (the others have nothing to score)"
            )
        _say_worst_images(scores, args.json)
    _write_scores(args.json, scores)
    return 0
