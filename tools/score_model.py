"""Score a model on a validation split with our own commands and record it in its card.

    python tools/score_model.py MODEL_DIR --images VAL/images --masks VAL/masks [--tta] --record
    python tools/score_model.py MODEL_DIR --images ISBI/images --masks ISBI/boundaries \\
        --names 16,17,18,19 --metric vrand --gt-boundaries --stack-spacing 50,4,4
    python tools/score_model.py MODEL_DIR --images runs/bbbc010/images \\
        --masks runs/bbbc010/masks --names D06,D07,... --overlapping

Runs ``tessella segment`` on every validation image (or only the files named by ``--names``),
then ``tessella evaluate`` against the ground truth, and prints the scores; with ``--record`` it
also writes them, the commands and the date into ``MODEL_DIR/card.json`` under "validation".
With ``--stack-spacing Z,Y,X`` the same images are also segmented as one anisotropic ZYX
stack (2D prediction per slice, 3D post-processing) and each slice of the 3D result is
scored. With ``--orientations`` every image and its masks are also flipped and transposed
into the other 7 dihedral orientations (in Y and X; Z and colour axes kept) and scored again,
plain: a model and its assembly are not exactly equivariant, so the mean over the 8 orientations
is a less noisy figure than the one orientation the split comes in. Weights are not touched.
Recording is opt-in, so scoring other slices for a diagnosis never rewrites a card.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

from tessella.cli import main as tessella
from tessella.cli import model_dir
from tessella.engine.io import list_images


def run(args: list[str]) -> float:
    print("$ tessella " + shlex.join(args), flush=True)
    started = time.perf_counter()
    code = tessella(args)
    if code:
        sys.exit(code)
    return time.perf_counter() - started


def _select(folder: Path, names: tuple[str, ...], into: Path) -> Path:
    """``folder`` itself, or a folder of links to its files named ``names`` (no copies)."""
    if not names:
        return folder
    into.mkdir()
    for name in names:
        [path] = [p for p in list_images(folder) if p.stem == name]
        (into / path.name).symlink_to(path.resolve())
    return into


def _summary(scores: dict, metric: str) -> dict:
    if metric == "iou":
        return {
            "foreground_iou": round(scores["foreground_iou"], 4),
            "ap50": round(scores["ap"]["0.5"], 4),
            "avs": round(scores["avs"], 4),
        }
    if metric == "vrand":
        keys = ("vrand", "vrand_split", "vrand_merge", "voi", "voi_split", "voi_merge")
        return {k: round(scores[k], 4) for k in keys}
    return {
        "ap50": round(scores["ap"]["0.5"], 4),
        "avs": round(scores["avs"], 4),
        "ap": {k: round(v, 4) for k, v in scores["ap"].items()},
        "precision50": round(scores["precision"]["0.5"], 4),
        "recall50": round(scores["recall"]["0.5"], 4),
    }


def score(model: Path, images: Path, masks: Path, args, tta: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        images = _select(images, args.names, tmp / "images")
        masks = _select(masks, args.names, tmp / "masks")
        predictions, scores_file = tmp / "pred", tmp / "scores.json"
        segment = ["segment", str(images), "-o", str(predictions), "--model", str(model), "-q"]
        segment.append("--tta" if tta else "--no-tta")
        segment += ["--stack"] if args.overlapping else []
        seconds = run(segment)
        evaluate = ["evaluate", str(predictions), str(masks), "--json", str(scores_file)]
        evaluate += ["--overlapping"] if args.overlapping else ["--metric", args.metric]
        if args.metric == "iou":  # semantic models: foreground IoU and instance AP
            evaluate += ["--metric", "ap"]
        evaluate += ["--gt-boundaries"] if args.gt_boundaries else []
        evaluate += ["--gt-binary"] if args.gt_binary else []
        run(evaluate)
        scores = json.loads(scores_file.read_text())
    shown = f"{args.images} (files {','.join(args.names)})" if args.names else str(args.images)
    return {
        "dataset": args.dataset,
        "tta": tta,
        "n_images": scores["n_images"],
        "scores": _summary(scores, args.metric),
        "segment_seconds": round(seconds, 1),
        "commands": [
            "tessella "
            + shlex.join(segment).replace(str(predictions), "PRED").replace(str(images), shown),
            "tessella "
            + shlex.join(evaluate[:1] + ["PRED", str(args.masks)] + evaluate[3:]).replace(
                str(scores_file), "SCORES.json"
            ),
        ],
        "date": datetime.date.today().isoformat(),
    }


PRIMARY = {"iou": "foreground_iou", "vrand": "vrand", "ap": "avs"}


def _orient(array: np.ndarray, transform, axes: str) -> np.ndarray:
    """``array`` (laid out as ``axes``) turned by a 2D dihedral ``transform`` in Y and X."""
    from tessella.engine.tta import transform_image

    y, x = axes.index("Y"), axes.index("X")
    moved = np.moveaxis(array, (y, x), (-2, -1))
    return np.moveaxis(transform_image(moved, transform), (-2, -1), (y, x))


def orientable_images(args) -> tuple[list[Path], list]:
    """The chosen image files and their images, checked before anything is scored: the turned
    copies are written without metadata, so each must read back as it was."""
    from tessella.engine.axes import guess_axes
    from tessella.engine.io import read_image

    files = [p for p in list_images(args.images) if not args.names or p.stem in args.names]
    images = [read_image(p) for p in files]  # the project's axes (metadata, else the shape)
    for image in images:
        if image.pixel_size or guess_axes(image.data.shape) != image.axes:
            sys.exit(
                f"{image.path}: --orientations needs images without a pixel size whose axes "
                f"({image.axes}) follow from their shape"
            )
    return files, images


def score_orientations(model: Path, args, plain: dict, files: list[Path], images: list) -> dict:
    """The plain scores again for the 7 other orientations of every image (and its masks)."""
    from tessella.engine.tta import dihedral_transforms

    key = PRIMARY[args.metric]
    scores = [plain["scores"][key]]
    for transform in dihedral_transforms(2)[1:]:
        with tempfile.TemporaryDirectory() as tmp:
            turned_images, masks = Path(tmp) / "images", Path(tmp) / "masks"
            turned_images.mkdir(), masks.mkdir()
            for path, image in zip(files, images):
                data = np.asarray(image.data)
                tifffile.imwrite(turned_images / path.name, _orient(data, transform, image.axes))
                mask = tifffile.imread(Path(args.masks) / path.name)
                mask_axes = "." * (mask.ndim - 2) + "YX"  # labels, or an (N, Y, X) stack
                tifffile.imwrite(masks / path.name, _orient(mask, transform, mask_axes))
            turned = argparse.Namespace(**{**vars(args), "names": ()})
            scores.append(score(model, turned_images, masks, turned, False)["scores"][key])
    return {
        "what": f"{key} without TTA in the 8 dihedral orientations of the images (Y and X "
        "flipped and transposed), the first as given",
        "per_orientation": scores,
        "mean": round(float(np.mean(scores)), 4),
        "min": round(float(np.min(scores)), 4),
        "max": round(float(np.max(scores)), 4),
    }


def score_stack(model: Path, args) -> dict:
    """Segment the chosen images as one ZYX stack with a voxel size; score every slice."""
    from scipy import ndimage

    from tessella.engine import metrics

    spacing = [float(s) for s in args.stack_spacing.split(",")]
    files = [p for p in list_images(args.images) if not args.names or p.stem in args.names]
    stack = np.stack([tifffile.imread(p) for p in files])
    with tempfile.TemporaryDirectory() as tmp:
        source, out = Path(tmp) / "stack.tif", Path(tmp) / "labels.tif"
        # an ImageJ stack in micrometres: the CLI reads the voxel size from it
        tifffile.imwrite(
            source,
            stack,
            imagej=True,
            resolution=(1000 / spacing[2], 1000 / spacing[1]),
            metadata={"axes": "ZYX", "spacing": spacing[0] / 1000, "unit": "micron"},
        )
        segment = ["segment", str(source), "-o", str(out), "--model", str(model), "-q"]
        seconds = run(segment)
        labels = tifffile.imread(out)
    per_slice = []
    for path, predicted in zip(files, labels):
        truth = tifffile.imread(Path(args.masks) / path.name)
        if args.gt_boundaries:
            truth = ndimage.label(truth == 0)[0]
        per_slice.append(metrics.rand_voi(truth, predicted))
    # how many objects continue from one slice into the next (3D agglomeration at work)
    shared = [
        len(np.intersect1d(np.unique(a[a > 0]), np.unique(b[b > 0])))
        for a, b in zip(labels[:-1], labels[1:])
    ]
    return {
        "what": f"{len(files)} slices as one ZYX stack, voxel size {spacing} nm, "
        "2D prediction per slice and 3D post-processing; each slice of the 3D result scored",
        "vrand_per_slice": [round(v["vrand"], 4) for v in per_slice],
        "vrand": round(float(np.mean([v["vrand"] for v in per_slice])), 4),
        "voi": round(float(np.mean([v["voi"] for v in per_slice])), 4),
        "objects": int(len(np.unique(labels[labels > 0]))),
        "objects_continuing_into_next_slice": shared,
        "segment_seconds": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", type=model_dir, help="model name or directory")
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--masks", type=Path, required=True)
    parser.add_argument("--names", type=lambda t: tuple(t.split(",")), default=())
    parser.add_argument("--metric", default="ap", choices=["ap", "vrand", "iou"])
    parser.add_argument("--gt-boundaries", action="store_true")
    parser.add_argument("--gt-binary", action="store_true")
    parser.add_argument(
        "--overlapping", action="store_true", help="objects overlap: --stack and --overlapping"
    )
    parser.add_argument("--stack-spacing", help="Z,Y,X voxel size: also score as a 3D stack")
    parser.add_argument("--dataset", default="validation split")
    parser.add_argument("--tta", action="store_true", help="also score with TTA")
    parser.add_argument(
        "--orientations",
        action="store_true",
        help="also score the 7 other dihedral orientations of the images (plain); report the mean",
    )
    parser.add_argument(
        "--record", action="store_true", help="write the scores into the card's validation"
    )
    args = parser.parse_args()
    card_path = args.model / "card.json"
    card = json.loads(card_path.read_text())
    # refused before the (long) plain scoring, not after it
    oriented = orientable_images(args) if args.orientations else None
    validation = score(args.model, args.images, args.masks, args, False)
    if args.tta:
        validation["with_tta"] = score(args.model, args.images, args.masks, args, True)
    if args.stack_spacing:
        validation["as_3d_stack"] = score_stack(args.model, args)
    if oriented is not None:
        validation["orientations"] = score_orientations(args.model, args, validation, *oriented)
    if args.record:
        card["validation"] = validation
        card_path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(validation, indent=2))


if __name__ == "__main__":
    main()
