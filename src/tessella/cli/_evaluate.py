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
):
    """``(name, truth, predicted, unannotated)`` per image of each pair of files, the
    prediction cut at the unannotated pixels: what ``evaluation.truth_objects`` and
    ``evaluation.scored_images`` make of them, as the Evaluate panel's ``evaluate_labels``
    does. ``unannotated``: GT pixels of ``ignore_label`` or None. A boundary map of more than
    2 axes (unless ``boundaries_3d``) gives one pair per 2D section, its number added to
    ``sections``. A ground truth or prediction that does not look like what it is taken for
    is warned about on stderr (``evaluation.ground_truth_note``)."""
    from ..engine.evaluation import prediction_note, scored_images, truth_objects
    from ..engine.io import as_array, read_image

    gt_boundaries = gt_boundaries or boundaries_3d
    kind = (
        ("boundaries3d" if boundaries_3d else "boundaries")
        if gt_boundaries
        else "binary"
        if gt_binary
        else "labels"
    )
    pairs = _file_pairs(pred, gt, skipped)
    for gt_file, pred_file in pairs:
        truth, predicted = read_image(gt_file).data, read_image(pred_file).data
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
        images = scored_images(truth, predicted, unannotated, kind)
        if not (kind == "boundaries" and truth.ndim > 2):
            yield gt_file.name, *images[0]
            continue
        if sections is not None:  # annotated section by section: each scored as an image
            sections.append(len(images))
        for z, image in enumerate(images):
            yield f"{gt_file.name}[{z}]", *image


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
) -> dict:
    """Scores of the label image(s) at ``pred`` against ``gt`` (files or folders; paired by
    name without the suffix); GT pixels of ``ignore_label`` (not annotated) are left out, as
    training validates sparse labels. Predictions without ground truth are not scored; they
    are added to ``skipped``. Boundary maps of more than 2 axes are scored section by section
    (each 2D section an image, as ISBI 2012 scores) unless ``boundaries_3d``: then
    ``"sections"`` is ``{"files": stacks, "sections": images}``."""
    from ..engine.evaluation import ignore_label_clash, score_pairs

    if ignore_label == 0:
        raise CliError("--ignore-label 0: 0 is background; mark unannotated parts with another")
    pairs, marked = [], False
    sections: list[int] = []
    for _name, truth, predicted, unannotated in _label_pairs(
        pred, gt, gt_boundaries, gt_binary, ignore_label, skipped, boundaries_3d, sections
    ):
        if unannotated is not None:  # (the prediction is cut there already)
            marked |= bool(unannotated.any())
            clash = ignore_label_clash(int(np.max(truth, initial=0)), ignore_label, _name)
            if unannotated.any() and clash:
                print(f"warning: {clash}", file=sys.stderr)
        pairs.append((truth, predicted))
    if ignore_label is not None and not marked:
        raise CliError(f"--ignore-label {ignore_label}: no ground-truth pixel has it")
    scores = score_pairs(pairs, metrics_wanted)
    if sections:
        scores["sections"] = {"files": len(sections), "sections": sum(sections)}
    return scores


def _parse_frames(text: str | None) -> range | None:
    if not text:
        return None
    start, sep, stop = text.partition(":")
    try:
        return range(int(start), int(stop)) if sep else range(int(start), int(start) + 1)
    except ValueError:
        raise CliError(f"--frames expects A:B (B excluded), got {text!r}") from None


def _cmd_evaluate_ctc(args) -> int:
    from ..engine.io import write_json
    from ..engine.tracking import evaluate_ctc

    if args.frames and not args.ctc:
        raise CliError("--frames needs --ctc")
    scores = evaluate_ctc(args.pred, args.gt, _parse_frames(args.frames))
    if scores.get("links") == 0:  # nothing to reproduce: no accuracy (JSON has no NaN)
        scores["link_accuracy"] = None
    if args.json:
        write_json(args.json, scores)
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
    return 0


def _cmd_evaluate_overlapping(args) -> int:
    from ..engine.evaluation import score_mask_pairs, stack_without_ignored
    from ..engine.io import read_mask_stack, read_masks, write_json

    if args.metric and set(args.metric) != {"ap"}:
        raise CliError("--overlapping scores AP only (objects may overlap)")
    if args.ignore_label == 0:
        raise CliError("--ignore-label 0: 0 is background; mark unannotated parts with another")
    pairs, marked = [], False
    skipped: list[Path] = []
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
    if args.ignore_label is not None and not marked:
        raise CliError(f"--ignore-label {args.ignore_label}: no ground-truth pixel has it")
    scores = score_mask_pairs(pairs)  # as the Evaluate panel's evaluate_masks scores them
    if args.json:
        write_json(args.json, scores)
    if not args.quiet:
        print(f"images: {scores['n_images']} (overlapping objects)")
        _say_skipped(skipped, args.pred)
        print("IoU threshold  " + "  ".join(f"{k:>6}" for k in scores["ap"]))
        for key in ("ap", "precision", "recall", "f1"):
            print(f"{key:<13}  " + "  ".join(f"{v:6.3f}" for v in scores[key].values()))
        print(f"avS (mean AP over 0.5..0.9): {scores['avs']:.4f}")
        _say_images_left_out(scores["ap_images"], scores["n_images"])
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

    from ..engine.io import write_json

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
    )
    if args.json:
        write_json(args.json, scores)
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
    return 0
