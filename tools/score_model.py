"""Score a model on a validation split with our own commands and record it in its card.

    python tools/score_model.py MODEL --images VAL/images --masks VAL/masks [--tta] --record
    python tools/score_model.py MODEL --images VAL/image.tif --masks VAL/mito.tif --metric iou \\
        --gt-binary
    python tools/score_model.py MODEL --images ISBI/images --masks ISBI/boundaries \\
        --names 16,17,18,19 --metric vrand --gt-boundaries --stack-spacing 50,4,4
    python tools/score_model.py MODEL --images BBBC010/gfp --masks BBBC010/worm_masks \\
        --names D06,D07,... --overlapping

Runs ``tessella segment`` on every validation image (or only the files named by ``--names``;
``--images`` and ``--masks`` are two folders whose files are paired by name, or one image file
and its mask file), then ``tessella evaluate`` against the ground truth, and prints the scores,
each image's too. With ``--record`` it also writes them into ``MODEL/card.json`` under
"validation": the mean scores, each image's main scores (``per_image``), ``images_sha256`` (a
checksum of the images' names and of their image and mask files: which split was scored),
``command`` (this call, with the paths as seen from the repository root, that reproduces the
entry when run from there; add ``--record`` to write it), ``commands`` (the two tessella steps
it ran, where they run as written: whole folders or one file pair; PRED is an output of your
choosing) and the date.

Recording merges into the card's entry: the parts scored now (the plain scores, ``with_tta``,
``as_3d_stack``, ``orientations``) replace their old selves, the other parts are kept where
they were measured on the same images, and notes written by hand (``note`` and any other key
this tool does not write) are always kept. The scores are compared with the card's and the
differences printed. The first record on a card, or a record on other images than its entry's
(another split, a subset), must name what the images are with ``--dataset``; otherwise it is
refused before anything is scored.

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
import hashlib
import json
import os
import shlex
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import tifffile

from tessella.cli import main as tessella
from tessella.cli import model_dir
from tessella.engine.evaluation import image_stem
from tessella.engine.io import list_images
from tessella.engine.registry import sha256_file

#: the repository root: the stored commands' paths are relative to it
REPO = Path(__file__).resolve().parents[1]

#: the keys of a validation entry (and of its parts) that this tool writes; any other key of
#: the card's entry (``note``, ``remeasured``...) was written by hand and is kept on --record
MEASURED = (
    "dataset",
    "tta",
    "n_images",
    "scores",
    "segment_seconds",
    "command",
    "commands",
    "images_sha256",
    "per_image",
    "date",
)
#: the parts of an entry scored on its images besides the plain scores
PARTS = ("with_tta", "as_3d_stack", "orientations")


def run(args: list[str]) -> float:
    print("$ tessella " + shlex.join(args), flush=True)
    started = time.perf_counter()
    code = tessella(args)
    if code:
        sys.exit(code)
    return time.perf_counter() - started


def shown_path(path: str | Path) -> str:
    """``path`` as seen from the repository root (``../shared/data/...``), as stored commands
    name it so that they run from there; absolute where it lies outside the repository's
    folder (symbolic links are kept, not followed)."""
    absolute = Path(os.path.abspath(path))
    relative = Path(os.path.relpath(absolute, REPO))
    return relative.as_posix() if relative.parts[:2].count("..") < 2 else absolute.as_posix()


def shown_model(text: str) -> str:
    """The model as the command line gave it: a name stays a name, a folder is shown from
    the repository root (not the absolute path :func:`model_dir` resolves it to)."""
    return shown_path(text) if Path(text).is_dir() else text


def pairs_of(images: Path, masks: Path, names: tuple[str, ...]) -> list[tuple[str, Path, Path]]:
    """(name, image file, mask file) of each image scored: ``images`` and ``masks`` both one
    file, or both folders whose files are paired by name without the suffix (only the
    ``names`` if given, in their order). Exits with one line naming what cannot be paired."""
    if images.is_file() and masks.is_file():
        if names:
            sys.exit(f"--names picks files of a folder; --images {images} is one file")
        return [(image_stem(images) or images.stem, images, masks)]
    if not (images.is_dir() and masks.is_dir()):
        sys.exit(
            f"--images {images} and --masks {masks} must both be folders (paired by name) or "
            "both one file"
        )
    files = {image_stem(p) or p.stem: p for p in list_images(images)}
    truths = {image_stem(p): p for p in sorted(masks.iterdir()) if image_stem(p)}
    unknown = [n for n in names if n not in files]
    if unknown:
        sys.exit(f"{images}: no image named {', '.join(unknown)} (--names)")
    chosen = list(names) or list(files)
    lacking = [n for n in chosen if n not in truths]
    if lacking:
        sys.exit(f"{masks}: no mask for {', '.join(lacking[:5])} (paired by name)")
    return [(n, files[n], truths[n]) for n in chosen]


def images_sha256(pairs: list[tuple[str, Path, Path]]) -> str:
    """One checksum of which images were scored: each image's name with its image and mask
    files' sha256, so the same split is recognised wherever its files lie."""
    lines = sorted(f"{n}\t{sha256_file(i)}\t{sha256_file(m)}\n" for n, i, m in pairs)
    return hashlib.sha256("".join(lines).encode()).hexdigest()


def _linked(pairs: list[tuple[str, Path, Path]], into: Path) -> tuple[Path, Path]:
    """Folders of links to the chosen images and masks (no copies), each named as its image."""
    images, masks = into / "images", into / "masks"
    images.mkdir(), masks.mkdir()
    for name, image, mask in pairs:
        (images / f"{name}.tif").symlink_to(image.resolve())
        (masks / f"{name}.tif").symlink_to(mask.resolve())
    return images, masks


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


def _rounded(value):
    return None if value is None else round(value, 4)


def _image_scores(row: dict, metric: str) -> dict:
    """An image's main scores, from a row of ``tessella evaluate --json``'s ``"images"``."""
    if metric == "vrand":
        return {k: _rounded(row[k]) for k in ("vrand", "voi")}
    main = {"foreground_iou": _rounded(row["foreground_iou"])} if metric == "iou" else {}
    return main | {"ap50": _rounded(row["ap"]["0.5"]), "avs": _rounded(row["avs"])}


def score(model: Path, pairs: list, args, tta: bool, whole: bool = False) -> dict:
    """The scores of ``pairs`` (:func:`pairs_of`); ``whole``: they are every file of
    ``args.images`` and ``args.masks``, segmented and scored as those folders (or files)."""
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        single = whole and args.images.is_file()
        if whole:
            images, masks = args.images, args.masks
        else:
            images, masks = _linked(pairs, tmp)
        predictions = tmp / ("pred.tif" if single else "pred")
        scores_file = tmp / "scores.json"
        options = ["--model", str(model), "-q", "--tta" if tta else "--no-tta"]
        options += ["--stack"] if args.overlapping else []
        seconds = run(["segment", str(images), "-o", str(predictions), *options])
        checks = ["--json", str(scores_file)]
        checks += ["--overlapping"] if args.overlapping else ["--metric", args.metric]
        if args.metric == "iou":  # semantic models: foreground IoU and instance AP
            checks += ["--metric", "ap"]
        checks += ["--gt-boundaries"] if args.gt_boundaries else []
        checks += ["--gt-binary"] if args.gt_binary else []
        run(["evaluate", str(predictions), str(masks), *checks])
        scores = json.loads(scores_file.read_text())
    rows = scores.get("images") or []
    by_stem = {image_stem(Path(row["name"])): row for row in rows}
    if len(pairs) == 1 and len(rows) == 1:
        by_stem = {pairs[0][0]: rows[0]}
    entry = {
        "dataset": args.dataset,
        "tta": tta,
        "n_images": scores["n_images"],
        "scores": _summary(scores, args.metric),
        "per_image": {name: _image_scores(by_stem[name], args.metric) for name, _, _ in pairs},
        "segment_seconds": round(seconds, 1),
        "command": args.command,
    }
    if whole:  # the two steps run as written from the repository root
        pred = "PRED.tif" if single else "PRED"
        stored = ["--model", args.shown_model, *options[2:]]
        checks[1] = "SCORES.json"
        entry["commands"] = [
            "tessella " + shlex.join(["segment", shown_path(images), "-o", pred, *stored]),
            "tessella " + shlex.join(["evaluate", pred, shown_path(masks), *checks]),
        ]
    entry["date"] = datetime.date.today().isoformat()
    return entry


PRIMARY = {"iou": "foreground_iou", "vrand": "vrand", "ap": "avs"}


def _orient(array: np.ndarray, transform, axes: str) -> np.ndarray:
    """``array`` (laid out as ``axes``) turned by a 2D dihedral ``transform`` in Y and X."""
    from tessella.engine.tta import transform_image

    y, x = axes.index("Y"), axes.index("X")
    moved = np.moveaxis(array, (y, x), (-2, -1))
    return np.moveaxis(transform_image(moved, transform), (-2, -1), (y, x))


def orientable_images(pairs: list) -> list:
    """The chosen images, checked before anything is scored: the turned copies are written
    without metadata, so each must read back as it was."""
    from tessella.engine.axes import guess_axes
    from tessella.engine.io import read_image

    images = [read_image(image) for _, image, _ in pairs]  # the project's axes
    for image in images:
        if image.pixel_size or guess_axes(image.data.shape) != image.axes:
            sys.exit(
                f"{image.path}: --orientations needs images without a pixel size whose axes "
                f"({image.axes}) follow from their shape"
            )
    return images


def score_orientations(model: Path, args, plain: dict, pairs: list, images: list) -> dict:
    """The plain scores again for the 7 other orientations of every image (and its masks)."""
    from tessella.engine.tta import dihedral_transforms

    key = PRIMARY[args.metric]
    scores = [plain["scores"][key]]
    for transform in dihedral_transforms(2)[1:]:
        with tempfile.TemporaryDirectory() as tmp:
            turned_images, masks = Path(tmp) / "images", Path(tmp) / "masks"
            turned_images.mkdir(), masks.mkdir()
            turned_pairs = []
            for (name, _, mask_path), image in zip(pairs, images):
                data = np.asarray(image.data)
                target = turned_images / f"{name}.tif"
                tifffile.imwrite(target, _orient(data, transform, image.axes))
                mask = tifffile.imread(mask_path)
                mask_axes = "." * (mask.ndim - 2) + "YX"  # labels, or an (N, Y, X) stack
                tifffile.imwrite(masks / f"{name}.tif", _orient(mask, transform, mask_axes))
                turned_pairs.append((name, target, masks / f"{name}.tif"))
            scores.append(score(model, turned_pairs, args, False)["scores"][key])
    return {
        "what": f"{key} without TTA in the 8 dihedral orientations of the images (Y and X "
        "flipped and transposed), the first as given",
        "per_orientation": scores,
        "mean": round(float(np.mean(scores)), 4),
        "min": round(float(np.min(scores)), 4),
        "max": round(float(np.max(scores)), 4),
        "command": args.command,
        "date": datetime.date.today().isoformat(),
    }


def score_stack(model: Path, args, pairs: list) -> dict:
    """Segment the chosen images as one ZYX stack with a voxel size; score every slice."""
    from scipy import ndimage

    from tessella.engine import metrics

    spacing = [float(s) for s in args.stack_spacing.split(",")]
    stack = np.stack([tifffile.imread(image) for _, image, _ in pairs])
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
    for (_, _, mask), predicted in zip(pairs, labels):
        truth = tifffile.imread(mask)
        if args.gt_boundaries:
            truth = ndimage.label(truth == 0)[0]
        per_slice.append(metrics.rand_voi(truth, predicted))
    # how many objects continue from one slice into the next (3D agglomeration at work)
    shared = [
        len(np.intersect1d(np.unique(a[a > 0]), np.unique(b[b > 0])))
        for a, b in zip(labels[:-1], labels[1:])
    ]
    return {
        "what": f"{len(pairs)} slices as one ZYX stack, voxel size {spacing} nm, "
        "2D prediction per slice and 3D post-processing; each slice of the 3D result scored",
        "vrand_per_slice": [round(v["vrand"], 4) for v in per_slice],
        "vrand": round(float(np.mean([v["vrand"] for v in per_slice])), 4),
        "voi": round(float(np.mean([v["voi"] for v in per_slice])), 4),
        "objects": int(len(np.unique(labels[labels > 0]))),
        "objects_continuing_into_next_slice": shared,
        "segment_seconds": round(seconds, 1),
        "command": args.command,
        "date": datetime.date.today().isoformat(),
    }


def stored_command(args, model_text: str) -> str:
    """This call as the card stores it: the paths as seen from the repository root, without
    ``--record`` and ``--dataset`` (which change what is written, not the scores)."""
    words = ["python", "tools/score_model.py", shown_model(model_text)]
    words += ["--images", shown_path(args.images), "--masks", shown_path(args.masks)]
    words += ["--names", ",".join(args.names)] if args.names else []
    words += ["--metric", args.metric] if args.metric != "ap" else []
    for flag in ("gt_boundaries", "gt_binary", "overlapping", "tta", "orientations"):
        words += ["--" + flag.replace("_", "-")] if getattr(args, flag) else []
    words += ["--stack-spacing", args.stack_spacing] if args.stack_spacing else []
    return shlex.join(words)


def refusal(prior, digest: str, pairs: list) -> str | None:
    """Why ``--record`` without ``--dataset`` is refused (None where it is not): the images
    must be the ones the card's entry was scored on, known by its ``images_sha256``."""
    count = f"{len(pairs)} image{'s' if len(pairs) != 1 else ''}"
    if not isinstance(prior, dict):
        return (
            f"the card has no validation entry yet: say what the images given ({count}) are with "
            "--dataset (e.g. --dataset 'validation split', or 'slices 16-19')"
        )
    if not prior.get("images_sha256"):
        return (
            "the card's validation entry does not record which images it scored "
            f"(no images_sha256), so whether the images given ({count}) are its "
            f"{prior.get('n_images', '?')} cannot be told: say what they are with --dataset "
            f"(its own words, --dataset {shlex.quote(str(prior.get('dataset')))}, if they are "
            "its images)"
        )
    if prior["images_sha256"] != digest:
        return (
            f"the images given ({count}) are not the {prior.get('n_images', '?')} the card's "
            f"validation entry was scored on ({prior.get('dataset')!r}; images_sha256 differs): "
            "score those "
            f"({prior.get('command') or 'its command'}), or say what these are with --dataset"
        )
    return None


def merged(prior, fresh: dict, same: bool) -> tuple[dict, list[str], list[str]]:
    """The card's new entry: ``prior`` with what was scored now (``fresh``) in place of its
    old self; its parts not scored now kept if scored on the ``same`` images, else dropped;
    its other keys (notes) kept. Also the names of the parts dropped and the notes kept."""
    if not isinstance(prior, dict):
        return fresh, [], []
    entry, dropped, notes = {}, [], []
    for key, value in prior.items():
        if key in fresh or key in MEASURED:
            continue  # (a measured key not written now, such as a subset's commands: stale)
        if key in PARTS and not same:
            dropped.append(key)
            continue
        entry[key] = value
        notes += [] if key in PARTS else [key]
    # the fresh keys in the prior's order, then the new ones
    order = [k for k in prior if k in fresh or k in entry] + [k for k in fresh if k not in prior]
    return {k: fresh.get(k, entry.get(k)) for k in order}, dropped, notes


def _numbers(value, at: str = "") -> dict[str, float]:
    """The scores in ``value`` by where they are (timings, dates and words left out)."""
    if isinstance(value, dict):
        found = {}
        for key, inner in value.items():
            if key not in ("segment_seconds", "n_images", "tta"):
                found |= _numbers(inner, f"{at}.{key}" if at else str(key))
        return found
    if isinstance(value, list):
        found = {}
        for i, inner in enumerate(value):
            found |= _numbers(inner, f"{at}[{i}]")
        return found
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return {at: value}
    return {}


def compared(prior, fresh: dict) -> list[str]:
    """Lines saying how the scores now differ from those the card's entry holds."""
    if not isinstance(prior, dict):
        return []
    lines = []
    for part in ("", *PARTS):
        old = prior.get(part) if part else {k: prior.get(k) for k in ("scores", "per_image")}
        new = fresh.get(part) if part else {k: fresh.get(k) for k in ("scores", "per_image")}
        if not isinstance(old, dict) or not isinstance(new, dict):
            continue
        before, after = _numbers(old), _numbers(new)
        changed = [k for k in after if k in before and before[k] != after[k]]
        where = part or "scores"
        if changed:
            shown = ", ".join(f"{k} {before[k]} -> {after[k]}" for k in changed[:8])
            more = f" and {len(changed) - 8} more" if len(changed) > 8 else ""
            lines.append(f"{where}: differs from the card: {shown}{more}")
        elif set(before) & set(after):
            lines.append(f"{where}: the card's {len(set(before) & set(after))} figures reproduced")
    return lines


def card_text(card: dict) -> str:
    """The card as JSON, indented, each image's scores of ``per_image`` on one line."""
    rows: dict[str, str] = {}

    def marked(value):
        if isinstance(value, dict):
            out = {}
            for key, inner in value.items():
                if key == "per_image" and isinstance(inner, dict):
                    out[key] = {}
                    for name, row in inner.items():
                        token = f"@@row{len(rows)}@@"
                        rows[token] = json.dumps(row, ensure_ascii=False)
                        out[key][name] = token
                else:
                    out[key] = marked(inner)
            return out
        return [marked(v) for v in value] if isinstance(value, list) else value

    text = json.dumps(marked(card), indent=2, ensure_ascii=False)
    for token, row in rows.items():
        text = text.replace(f'"{token}"', row)
    return text + "\n"


def build_parser() -> argparse.ArgumentParser:
    """The command line (the stored ``command`` of a card's entry parses with it)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "model",
        type=lambda text: (text, model_dir(text)),
        help="model name (bundled or user) or model folder",
    )
    parser.add_argument(
        "--images",
        type=Path,
        required=True,
        help="folder of validation images (TIFF), paired with --masks by name; or one image file",
    )
    parser.add_argument(
        "--masks",
        type=Path,
        required=True,
        help="folder of ground-truth files named as the images (labels, or what --gt-boundaries,"
        " --gt-binary or --overlapping say); or the one image's file",
    )
    parser.add_argument(
        "--names",
        type=lambda t: tuple(t.split(",")),
        default=(),
        help="score only these images of the folders, by name without the suffix: 16,17,18,19",
    )
    parser.add_argument(
        "--metric",
        default="ap",
        choices=["ap", "vrand", "iou"],
        help="ap: instance AP and avS (default); vrand: V_rand and VOI (EM membranes); "
        "iou: foreground IoU, AP and avS (semantic models)",
    )
    parser.add_argument(
        "--gt-boundaries", action="store_true", help="masks are membrane maps (1 = membrane)"
    )
    parser.add_argument(
        "--gt-binary",
        action="store_true",
        help="masks are binary: objects are their connected components",
    )
    parser.add_argument(
        "--overlapping",
        action="store_true",
        help="objects overlap (masks are (N, Y, X) stacks): segment --stack, evaluate "
        "--overlapping",
    )
    parser.add_argument(
        "--stack-spacing",
        metavar="Z,Y,X",
        help="also segment the images as one ZYX stack of this voxel size (nm) and score "
        "each slice of the 3D result",
    )
    parser.add_argument(
        "--dataset",
        help="what the images are, as the card records it (e.g. 'ISBI 2012 slices 16-19'); "
        "needed with --record on a card without a validation entry or on other images than "
        "its entry's; without it the entry's own words are kept",
    )
    parser.add_argument("--tta", action="store_true", help="also score with TTA")
    parser.add_argument(
        "--orientations",
        action="store_true",
        help="also score the 7 other dihedral orientations of the images (plain); report the mean",
    )
    parser.add_argument(
        "--record",
        action="store_true",
        help="merge the scores into the card's validation entry (notes and parts not scored "
        "now are kept)",
    )
    return parser


def main() -> None:
    args = build_parser().parse_args()
    model_text, model = args.model
    args.shown_model = shown_model(model_text)
    args.command = stored_command(args, model_text)
    card_path = model / "card.json"
    card = json.loads(card_path.read_text())
    pairs = pairs_of(args.images, args.masks, args.names)
    whole = not args.names
    if args.stack_spacing and len(pairs) < 2:
        sys.exit("--stack-spacing stacks two or more 2D images of a folder")
    # refused before the (long) plain scoring, not after it
    prior = card.get("validation")
    digest = images_sha256(pairs)
    same = isinstance(prior, dict) and prior.get("images_sha256") == digest
    if isinstance(prior, dict) and not prior.get("images_sha256"):
        # an entry from before images_sha256: its own words and image count say it is
        same = args.dataset == prior.get("dataset") and prior.get("n_images") == len(pairs)
    if args.record and not args.dataset:
        why = refusal(prior, digest, pairs)
        if why:
            sys.exit(f"{card_path}: --record refused: {why}")
    if not args.dataset and same:
        args.dataset = prior["dataset"]
    oriented = orientable_images(pairs) if args.orientations else None
    validation = score(model, pairs, args, False, whole)
    validation["images_sha256"] = digest
    if args.tta:
        validation["with_tta"] = score(model, pairs, args, True, whole)
    if args.stack_spacing:
        validation["as_3d_stack"] = score_stack(model, args, pairs)
    if oriented is not None:
        validation["orientations"] = score_orientations(model, args, validation, pairs, oriented)
    print(json.dumps(validation, indent=2))
    legacy = isinstance(prior, dict) and not prior.get("images_sha256")
    comparable = same or legacy and prior.get("n_images") == len(pairs)
    for line in compared(prior if comparable else None, validation):
        print(line)
    if args.record:
        entry, dropped, notes = merged(prior, validation, same)
        card["validation"] = entry
        text = card_text(card)
        partial = card_path.with_name(card_path.name + ".partial")
        partial.write_text(text)
        partial.replace(card_path)  # never a half-written card
        print(f"recorded in {card_path}")
        if notes:
            print(f"kept, written by hand (check they still hold): {', '.join(notes)}")
        if dropped:
            print(f"dropped, scored on other images than these: {', '.join(dropped)}")


if __name__ == "__main__":
    main()
