"""``tessella evaluate``: labels, overlapping masks and CTC tracking results against
their ground truth: the arguments, the printout and ``--json``. Files are paired, read and
scored by the engine (:func:`tessella.engine.evaluation.score_paths`); ``evaluate_paths`` is
that with its notes on stderr and its errors as CliError."""

from __future__ import annotations

import sys
from pathlib import Path

from ._console import CliError, _few
from ._pairing import _file_pairs

__all__ = ["evaluate_paths", "_cmd_evaluate"]


def _say(note: str) -> None:
    """A note on an input (:func:`~tessella.engine.evaluation.score_paths`'s ``warn``): one
    line on stderr."""
    print(f"warning: {note}", file=sys.stderr)


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
    axes: str | None = None,
) -> dict:
    """:func:`tessella.engine.evaluation.score_paths` (the scores of the label image(s) at
    ``pred`` against ``gt``, files or folders paired by name) with its notes on stderr and
    its errors as CliError: what ``tessella evaluate PRED GT`` scores (``axes``: ``--axes``,
    the axes of files that name none)."""
    from ..engine.evaluation import EvaluationInputError, score_paths

    try:
        return score_paths(
            pred,
            gt,
            metrics_wanted,
            gt_boundaries=gt_boundaries,
            gt_binary=gt_binary,
            ignore_label=ignore_label,
            skipped=skipped,
            boundaries_3d=boundaries_3d,
            annotated_only=annotated_only,
            per_image=per_image,
            warn=_say,
            axes=axes,
        )
    except EvaluationInputError as exc:  # (the engine's one-line errors)
        raise CliError(str(exc)) from None


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


def _write_scores(path: str | None, scores: dict) -> str:
    """Write ``scores`` to ``--json`` ``path`` before the table is printed (a reader of the
    printout that stops early, ``| head``, ends the command at its next line: the file is
    written all the same), and say why it could not be: the one line of the CliError that
    :func:`_refuse_unwritten` raises after the table is printed, so that the scores are not
    lost either ("" when written, or not asked for)."""
    from ..engine.io import write_json

    if not path:
        return ""
    try:
        write_json(path, scores)
    except OSError as exc:
        return f"cannot write {path} ({exc.strerror or exc})"
    return ""


def _refuse_unwritten(why: str) -> None:
    """CliError ``why`` (:func:`_write_scores`'s), after the printout, where ``--json``'s
    file could not be written."""
    if why:
        raise CliError(why)


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
    # (an image with nothing to score has None: left out)
    scored = [(v, row["name"], row) for row in rows if (v := value(row)) is not None]
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


def _ctc_hint(pred: str, gt: str) -> str:
    """A hint to add ``--ctc`` where ``tessella evaluate PRED GT`` was given a Cell Tracking
    Challenge result folder (or its ground truth ``NN_GT`` against a folder) without it:
    label images paired by name cannot score them ("" otherwise)."""
    from ..engine.tracking._evaluate import ctc_result_folder, ctc_truth_folder, ctc_truth_part

    pred_path, gt_path = Path(pred), Path(gt)
    if ctc_truth_folder(pred_path) and (
        ctc_result_folder(gt_path) or not ctc_truth_folder(gt_path)
    ):
        pred_path, gt_path = gt_path, pred_path  # (swapped too)
        swapped = ", the result first"
    elif ctc_result_folder(pred_path) or (ctc_truth_folder(gt_path) and pred_path.is_dir()):
        swapped = ""
    else:
        return ""
    truth = gt_path.parent if ctc_truth_part(gt_path) else gt_path
    return (
        f"; a CTC result folder (maskTTT.tif, res_track.txt) is scored against its ground "
        f"truth NN_GT with --ctc{swapped}: tessella evaluate {pred_path} {truth} --ctc"
    )


def _cmd_evaluate_ctc(args) -> int:
    from ..engine.tracking import evaluate_ctc

    if args.frames and not args.ctc:
        raise CliError(
            "--frames needs --ctc: it picks frames of a CTC result folder (tessella evaluate "
            "RES NN_GT --ctc --frames A:B; RES written by tessella segment FRAMES --ctc RES)"
        )
    _check_json_target(args.json)
    # (folders given the wrong way, swapped or GT NN_GT/SEG, are told how to give them by
    # evaluate_ctc: tracking._evaluate.ctc_folders_misgiven)
    scores = evaluate_ctc(args.pred, args.gt, _parse_frames(args.frames))
    if scores.get("links") == 0:  # nothing to reproduce: no accuracy (JSON has no NaN)
        scores["link_accuracy"] = None
    unwritten = _write_scores(args.json, scores)
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
                f"({scores['link_accuracy']:.4f}); division links: "
                f"{scores['divisions_reproduced']} of {scores['division_links']}"
            )
        elif "links_not_scored" in scores:
            print(f"links: not scored ({scores['links_not_scored']})")
        _say_worst_images(scores, args.json, "SEG frames")
    _refuse_unwritten(unwritten)
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
    unwritten = _write_scores(args.json, scores)
    if not args.quiet:
        print(f"images: {scores['n_images']} (overlapping objects)")
        _say_skipped(skipped, args.pred)
        print("IoU threshold  " + "  ".join(f"{k:>6}" for k in scores["ap"]))
        for key in ("ap", "precision", "recall", "f1"):
            print(f"{key:<13}  " + "  ".join(f"{v:6.3f}" for v in scores[key].values()))
        print(f"avS (mean AP over 0.5..0.9): {scores['avs']:.4f}")
        _say_images_left_out(scores["ap_images"], scores["n_images"])
        _say_worst_images(scores, args.json)
    _refuse_unwritten(unwritten)
    return 0


def _mask_stacks(args) -> list[str]:
    """The files of ``tessella evaluate PRED GT`` (without ``--overlapping``) that are mask
    stacks by their own word (:func:`~tessella.engine.evaluation.marked_mask_stack`:
    ``segment --stack``'s, Export's), where the options given allow scoring them as
    ``--overlapping`` (AP of instances: no other metric, ground-truth kind or axes); [] where
    none is, or the options ask for another scoring (the engine then refuses the stack in one
    line naming ``--overlapping``)."""
    from ..engine.evaluation import marked_mask_stack

    others = (args.metric and set(args.metric) != {"ap"}) or args.gt_binary
    others = others or args.gt_boundaries or args.gt_boundaries_3d
    others = others or getattr(args, "annotated_only", None) or getattr(args, "axes", None)
    if others:
        return []
    try:
        pairs = _file_pairs(args.pred, args.gt, [])
    except CliError:  # (no pair: the scoring says why)
        return []
    stacks = (path for pair in pairs for path in pair if marked_mask_stack(path))
    return list(dict.fromkeys(path.name for path in stacks))


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
    axes = getattr(args, "axes", None)
    if axes and (args.ctc or args.frames or args.overlapping):
        flag = "--overlapping" if args.overlapping else "--ctc"
        raise CliError(
            f"--axes scores label images and their ground truth; it does not apply to {flag} "
            "(a CTC folder's files are 2D frames, a mask stack's first axis its masks)"
        )
    if args.ctc or args.frames:
        return _cmd_evaluate_ctc(args)
    if args.overlapping:
        return _cmd_evaluate_overlapping(args)
    stacks = _mask_stacks(args)
    if stacks:  # (Tessella's own --stack output: overlapping masks, said so)
        what = "a mask stack" if len(stacks) == 1 else "mask stacks"
        _say(
            f"{_few(stacks)}: {what} (tessella segment --stack, Export's stack: frame n is "
            "object n, objects may overlap): scored as --overlapping"
        )
        return _cmd_evaluate_overlapping(args)
    _check_json_target(args.json)
    skipped: list[Path] = []
    try:
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
            axes=axes,
        )
    except CliError as exc:  # a CTC result or ground truth given without --ctc: say so
        hint = _ctc_hint(args.pred, args.gt)
        if not hint:
            raise
        raise CliError(f"{exc}{hint}") from None
    unwritten = _write_scores(args.json, scores)
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
            # (VOI in nats, not skimage's bits: said on its lines, and in --json's voi_unit)
            label = f"{key} ({scores.get('voi_unit', 'nats')})" if key.startswith("voi") else key
            if key in scores and scores[key] is None:
                print(f"{label}: undefined ({_undefined_why(key, args)})")
            elif key in scores:
                print(f"{label}: {scores[key]:.4f}")
        scored = scores.get("vrand_images", scores["n_images"])
        if 0 < scored < scores["n_images"]:
            print(
                f"vrand and voi: means over the {scored} of {scores['n_images']} images with "
                "ground-truth foreground (the others have nothing to score)"
            )
        if "scored_as" in scores and not stacks:  # a time-lapse frame by frame, a volume
            # whole: said (after the scores: the lines of a printout read by a script keep
            # their places; a membrane map's sections are said on the "images:" line)
            print(scores["scored_as"])
        # (what each image is: a time-lapse's frames, a membrane stack's sections)
        what = (
            "sections"
            if stacks
            else "frames"
            if set(scores) & {"movies", "volumes"} == {"movies"}
            else "images"
        )
        _say_worst_images(scores, args.json, what)
    _refuse_unwritten(unwritten)
    _refuse_all_undefined(scores, args)
    return 0


#: the dataset scores :func:`_cmd_evaluate` reports, each None where undefined (not "ap":
#: always defined, 0 without a ground-truth object)
_HEADLINES = ("ap", "seg", "foreground_iou", "vrand")


def _undefined_why(key: str, args) -> str:
    """Why the score ``key`` is undefined, in words: its ground truth has nothing to score."""
    if key == "seg":
        return "no ground-truth object"
    if args.gt_boundaries or args.gt_boundaries_3d:
        return "no cell in the membrane map: no region of 0 between its membranes"
    return "no ground-truth foreground"


def _refuse_all_undefined(scores: dict, args) -> None:
    """CliError (exit 1) where every score asked for is undefined though the prediction has
    objects: nothing was scored (a ground truth without an object, or a membrane map without
    a cell, as a label image given as the map is, the arguments swapped), which exit 0 let
    pass for a result. Neither holding an object (a blank pair) is said in a warning, exit 0.
    The scores are printed and written to ``--json`` first."""
    asked = [key for key in _HEADLINES if key in scores]
    if not asked or any(scores[key] is not None for key in asked):
        return
    why = _undefined_why(asked[0], args)
    predicted = sum(row.get("n_pred", 0) for row in scores.get("images") or [])
    if not predicted:
        _say(
            f"nothing scored: every score is undefined ({why} in {args.gt}, and no object "
            f"in the prediction {args.pred} either)"
        )
        return
    hint = (
        "; is GT a membrane map (0 = inside, 1 = membrane)? Are PRED and GT swapped "
        "(tessella evaluate PRED GT: the prediction first)?"
        if args.gt_boundaries or args.gt_boundaries_3d
        else "; check the ground truth GT (are PRED and GT swapped?)"
    )
    raise CliError(
        f"nothing scored: every score is undefined ({why} in {args.gt}, {predicted} predicted "
        f"object{'s' if predicted != 1 else ''} unscored){hint}"
    )
