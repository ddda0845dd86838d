"""The ``tessella`` command line: models, segment, evaluate, train.

Exit codes: 0 ok, 1 failed (bad input, a model that cannot be loaded, ...), 2 bad usage.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import os
import sys
from pathlib import Path

import numpy as np

__all__ = ["main", "model_dir"]


def model_dir(name_or_path: str) -> Path:
    """argparse type for a model given by name (bundled or user) or by folder: its folder.
    The maintainer scripts in ``tools/`` take their model with it."""
    from .engine.registry import ModelError, find_model

    try:
        return find_model(name_or_path)
    except ModelError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


EPILOG_SEGMENT = """examples:
  tessella segment img.tif -o labels.tif --model nuclei2d
  tessella segment images/ -o labels/ --model nuclei2d --set seed_thresh=0.8 --tta
  tessella segment images/ -o labels/ --model nuclei2d --skip-existing  # go on after a stop
  tessella segment stack.tif -o labels.tif --model nuclei2d --axes TYX
  tessella segment img.tif -o labels.tif --recipe labels_old.recipe.json
  tessella segment big.zarr -o labels.zarr --model nuclei2d --blockwise --block 2048
  tessella segment big.zarr -o labels.zarr --blockwise --scheduler tcp://10.0.0.5:8786

blockwise (bigger than memory, zarr/OME-Zarr in and out): blocks of --block pixels are
segmented with a halo of context, on a local dask cluster (one worker per core by default;
--workers 0: in this process) or on --scheduler's cluster; labels are stitched across blocks
into consistent IDs. Interrupted? Run the same command again: finished blocks are kept.
--recipe of a blockwise run replays it blockwise (its blocks and halo) where the input is one
zarr and the output a .zarr (else in memory, with a warning); --no-blockwise: in memory.
"""

EPILOG_EVALUATE = """examples:
  tessella evaluate labels.tif gt.tif
  tessella evaluate predictions/ ground_truth/ --metric ap --json scores.json
  # EM membrane maps (1 = membrane); a ZYX stack of them is scored per 2D section:
  tessella evaluate stack_labels.tif membranes.tif --metric vrand --gt-boundaries
"""

EPILOG_TRAIN = """examples:
  tessella train embedding --data ../shared/data/nuclei2d_dsb2018/train --out my_model
  tessella train embedding --data corrected/ --out finetuned --base nuclei2d --epochs 5
  tessella train boundary --data isbi2012 --out membranes --exclude 16,17,18,19 --holdout 14,15
  # a 2D semantic model on the slices of a volume (symlinks, no copies):
  ln -s $PWD/../shared/data/em_mito_lucchipp/train/image.tif lucchi/images/lucchi.tif
  ln -s $PWD/../shared/data/em_mito_lucchipp/train/mito.tif lucchi/masks/lucchi.tif
  tessella train semantic --data lucchi --holdout "lucchi[z=90:100]" --out mito2d
"""


class CliError(Exception):
    """A one-line error for the user; exit code 1."""


def _build_parser() -> argparse.ArgumentParser:
    from . import __version__

    parser = argparse.ArgumentParser(
        prog="tessella", description="Deep-learning instance segmentation for microscopy."
    )
    parser.add_argument("--version", action="version", version=f"tessella {__version__}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    models = sub.add_parser("models", help="list bundled and user models")
    models.add_argument("--json", action="store_true", help="print the model cards as JSON")

    segment = sub.add_parser(
        "segment",
        help="segment images",
        epilog=EPILOG_SEGMENT,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    segment.add_argument("inputs", nargs="+", metavar="IN", help="TIFF file(s), a folder, or zarr")
    segment.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="OUT",
        help="output TIFF (or folder for several inputs; zarr for zarr input)",
    )
    segment.add_argument("--model", default=None, help="model name or directory (default nuclei2d)")
    segment.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="set a post-processing parameter (repeatable)",
    )
    segment.add_argument("--recipe", metavar="FILE", help="replay a recipe JSON written earlier")
    segment.add_argument("--axes", help="axes of the input, e.g. YX, YXC, CYX, ZYX, TYX, TZYX")
    segment.add_argument("--tile", type=int, help="tile edge in pixels (default from the model)")
    segment.add_argument(
        "--invert",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="invert the image's intensities before the network (dark objects on a bright "
        "field for a model trained on bright ones), or --no-invert to keep them. Default: as "
        "the model's card says (nuclei2d inverts bright-background images itself)",
    )
    segment.add_argument(
        "--tta",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="test-time augmentation (8 transforms in 2D, 16 in 3D)",
    )
    segment.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    existing = segment.add_mutually_exclusive_group()
    existing.add_argument("--overwrite", action="store_true", help="replace existing outputs")
    existing.add_argument(
        "--skip-existing",
        action="store_true",
        help="keep each output whose labels and recipe are both there (an interrupted run, or "
        "images added to the folder since) and segment the others; an output whose recipe "
        "records other settings (model, parameters, axes, TTA, tile, inversion, --stack) is "
        "refused before any work: --overwrite redoes them all",
    )
    segment.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="no progress bar or summary (errors and warnings still print)",
    )
    segment.add_argument(
        "--stack",
        action="store_true",
        help="methods that keep overlapping objects (patches): write OUT as an (N, Y, X) stack "
        "of 0/1 masks, one per object, instead of a label image",
    )
    segment.add_argument(
        "--ctc",
        metavar="DIR",
        help="time-lapse models: also write the tracked cells in the Cell Tracking Challenge "
        "format (DIR/maskTTT.tif + DIR/res_track.txt; with --blockwise, frame by frame)",
    )
    segment.add_argument(
        "--blockwise",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="segment a zarr bigger than memory block by block (resumable); default: as the "
        "--recipe replayed was run, else in memory",
    )
    segment.add_argument(
        "--scheduler", metavar="ADDRESS", help="with --blockwise: a dask scheduler to run on"
    )
    segment.add_argument(
        "--workers",
        type=int,
        metavar="N",
        help="with --blockwise: local worker processes (default: one per core; 0: this process)",
    )
    segment.add_argument(
        "--block",
        metavar="N[,N...]",
        help="with --blockwise: block edge in pixels, or one per spatial axis (default 2048 in "
        "2D, 256 in 3D)",
    )

    evaluate = sub.add_parser(
        "evaluate",
        help="score labels against ground truth",
        epilog=EPILOG_EVALUATE,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    evaluate.add_argument("pred", help="predicted labels: a TIFF or a folder of TIFFs")
    evaluate.add_argument("gt", help="ground-truth labels: a TIFF or a folder with the same names")
    evaluate.add_argument(
        "--metric",
        action="append",
        choices=["ap", "seg", "iou", "vrand"],
        help="metrics to report (repeatable; default ap)",
    )
    evaluate.add_argument(
        "--gt-boundaries",
        action="store_true",
        help="GT files are boundary maps (1 = membrane): objects are their connected insides; "
        "a stack (ZYX, TYX) was annotated section by section, so each 2D section is scored as "
        "an image of its own",
    )
    evaluate.add_argument(
        "--gt-boundaries-3d",
        action="store_true",
        help="GT files are 3D boundary maps: objects are insides connected in 3D, and each "
        "volume is scored as one",
    )
    evaluate.add_argument(
        "--gt-binary",
        action="store_true",
        help="GT files are binary masks: objects are their connected components (3D in volumes)",
    )
    evaluate.add_argument(
        "--overlapping",
        action="store_true",
        help="objects may overlap: PRED and GT files are (N, Y, X) mask stacks (label images "
        "are read as stacks); each GT mask is matched one-to-one against predicted masks",
    )
    evaluate.add_argument(
        "--ctc",
        action="store_true",
        help="PRED is a Cell Tracking Challenge result folder (maskTTT.tif + res_track.txt) and "
        "GT its NN_GT folder: reports SEG and the fraction of TRA links reproduced",
    )
    evaluate.add_argument(
        "--frames", metavar="A:B", help="with --ctc: score frames A to B - 1 only"
    )
    evaluate.add_argument(
        "--ignore-label",
        type=int,
        metavar="N",
        help="sparse ground truth: GT pixels of value N were not annotated (also in membrane "
        "maps, binary masks and, with --overlapping, any plane of a mask stack); predictions "
        "there are not scored (objects lying mostly there "
        "are left out unless they overlap an annotated one; all are cut at its edge), as "
        "`tessella train --ignore-label` validates",
    )
    evaluate.add_argument("--json", metavar="FILE", help="also write the scores as JSON")
    evaluate.add_argument("-q", "--quiet", action="store_true")

    train = sub.add_parser(
        "train",
        help="train or fine-tune a model",
        epilog=EPILOG_TRAIN,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    train.add_argument(
        "method", choices=["embedding", "boundary", "semantic", "temporal", "patches"]
    )
    train.add_argument(
        "--data",
        required=True,
        action="append",
        help="folder with images/ and masks/ (instance labels or binary masks) or boundaries/ "
        "(boundary maps); files may be symlinks; with --ndim 2 a ZYX volume is cut into slices. "
        "temporal: a Cell Tracking Challenge sequence folder (NN, with NN_GT next to it) or "
        "images/ + masks/ of TYX stacks; repeat --data to train on several",
    )
    train.add_argument("--out", required=True, help="model directory to write")
    train.add_argument("--val-data", help="validation folder (default: hold out part of --data)")
    train.add_argument("--base", help="start from this model (fine-tuning)")
    train.add_argument("--name", help="model name in the card (default: the folder name)")
    train.add_argument("--ndim", type=int, choices=[2, 3], default=2, help="2D or 3D model")
    train.add_argument("--epochs", type=int, default=50, help="default: %(default)s")
    train.add_argument("--steps-per-epoch", type=int, default=100, help="default: %(default)s")
    train.add_argument("--batch-size", type=int, default=8, help="default: %(default)s")
    train.add_argument("--accumulate", type=int, default=1, help="gradient accumulation steps")
    train.add_argument(
        "--patch", type=int, default=256, help="training crop edge in pixels (default: %(default)s)"
    )
    train.add_argument(
        "--window", type=int, default=3, help="temporal: frames per window (odd; centred)"
    )
    train.add_argument(
        "--patch-size", type=int, default=41, help="patches: shape patch edge in pixels (odd)"
    )
    train.add_argument(
        "--code", type=int, default=32, help="patches: channels of the per-pixel shape code"
    )
    train.add_argument(
        "--features",
        help="U-Net channels per level, comma-separated (default 16,32,64,128,256)",
    )
    train.add_argument(
        "--one-decoder",
        action="store_true",
        help="embedding: one decoder for offsets, sigmas and seeds instead of two (about a "
        "third less work per pixel, so faster segmentation); with --base, a two-decoder base is "
        "merged: its encoder and offset decoder are kept and the seed output starts from a "
        "least-squares fit to the base's seed map (add --distil to follow the base closely)",
    )
    train.add_argument(
        "--distil",
        type=float,
        default=0.0,
        metavar="WEIGHT",
        help="also pull the outputs towards the --base model's on the same crops (mean squared "
        "difference of the activated outputs, times WEIGHT): knowledge distillation, e.g. to "
        "teach a --one-decoder model its base's seed map quickly. Default 0: none",
    )
    train.add_argument(
        "--fg-dice",
        type=float,
        default=0.0,
        metavar="WEIGHT",
        help="patches: add WEIGHT x a soft Dice loss of the predicted foreground (1+ "
        "instances) to the cross-entropy, which averages over mostly background and leaves "
        "the edges of thin objects a pixel off. Default 0: none",
    )
    train.add_argument(
        "--elastic",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="random rotation, elastic deformation and blur of the crops (default: on for "
        "boundary, off for the others)",
    )
    train.add_argument(
        "--lr", type=float, default=5e-4, help="learning rate (default: %(default)s)"
    )
    train.add_argument(
        "--border-crops",
        type=float,
        default=0.0,
        metavar="FRACTION",
        help="this fraction of the crops reaches past the image's edge (along one axis, up to "
        "a third of the crop), padded as inference pads (the base card's defaults.pad, else "
        "mirrored): for 3D models, whose first and last slices otherwise do worst. Default 0",
    )
    train.add_argument(
        "--colour-weight",
        type=float,
        default=1.0,
        metavar="W",
        help="draw each colour (RGB) training image W times as often as a single-channel one, "
        "for a mix where colour images are rare. Default 1",
    )
    train.add_argument(
        "--ignore-label",
        type=int,
        default=None,
        metavar="N",
        help="sparse annotations: mask pixels of value N mark where nothing was annotated; "
        "they are left out of the loss and of validation (objects there are not taught as "
        "background). Paint them over the unannotated parts. Default: none (every unlabelled "
        "pixel is background). For the patches method, pixels of N in any plane of a mask "
        "stack are the unannotated part",
    )
    train.add_argument(
        "--invert-bright-background",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="invert each image whose background is bright (brightfield, H&E: its normalised "
        "median above 0.3) so that every image reaches the network with bright objects on a "
        "dark background, in training and, through the card, at inference. Default: as the "
        "--base model's card says (off for a new model)",
    )
    train.add_argument(
        "--ema",
        type=float,
        default=0.0,
        metavar="DECAY",
        help="validate, keep and write an exponential moving average of the weights with this "
        "decay per step (e.g. 0.998: about the last 500 steps); steadier epoch to epoch. "
        "Default 0: the raw weights",
    )
    train.add_argument("--workers", type=int, default=0, help="data loader processes")
    train.add_argument("--val-fraction", type=float, default=0.1)
    train.add_argument(
        "--holdout",
        help="comma-separated file stems held out for model selection (e.g. 14,15), or slices "
        "of a volume as STEM[z=N] / STEM[z=A:B] (B excluded)",
    )
    train.add_argument(
        "--exclude", help="comma-separated file stems never used (e.g. test slices 16,17,18,19)"
    )
    train.add_argument("--max-val-images", type=int, default=64)
    train.add_argument(
        "--val-orientations",
        action="store_true",
        help="score each hold-out image in all its dihedral orientations (8 in 2D, 16 in 3D): "
        "a less noisy choice of epoch, at 8x or 16x the validation time",
    )
    train.add_argument("--data-citation", default="", help="citation of the training data")
    train.add_argument("--data-license", default="", help="licence of the training data")
    train.add_argument("--time-budget", type=float, help="stop after this many seconds")
    train.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt")
    train.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda", "mps"])
    train.add_argument("--seed", type=int, default=0)
    train.add_argument("-q", "--quiet", action="store_true")

    export = sub.add_parser(
        "export-bioimageio",
        help="write a model as a bioimage.io package (.zip) and validate it",
        description="Write MODEL as a bioimage.io model package (format 0.5: PyTorch state dict, "
        "our U-Net source, percentile preprocessing, test tensors, card attached), validated "
        "with bioimageio.spec. `tessella segment --model OUT.zip` opens it again.",
    )
    export.add_argument("model", help="a model name or folder")
    export.add_argument("out", help="the package to write (.zip)")
    export.add_argument("--overwrite", action="store_true", help="replace an existing OUT")
    export.add_argument(
        "--test-image",
        metavar="FILE",
        help="the package's test input: an image of the kind the model segments (a central "
        "crop; a 2D model takes a volume's middle plane). Default: the shipped nuclei sample, "
        "on which a model of other images may find nothing, which bioimage.io refuses",
    )
    return parser


def _stems(text: str | None) -> tuple[str, ...]:
    return tuple(s.strip() for s in text.split(",") if s.strip()) if text else ()


def _cmd_train(args) -> int:
    from .engine.train import TrainConfig, train_steps

    if len(args.data) > 1 and args.method != "temporal":
        raise ValueError(f"the {args.method} method trains on one --data folder")
    extra: dict = {}
    if args.features:
        try:
            extra["features"] = tuple(int(v) for v in _stems(args.features))
        except ValueError:
            raise CliError(
                f"--features {args.features}: the channels of each level, whole numbers "
                "separated by commas (e.g. 16,32,64,128,256)"
            ) from None
    from .engine.train.data import refuse_wrong_axes

    for option in ("holdout", "exclude"):  # the wrong axis, before any data is read
        refuse_wrong_axes(_stems(getattr(args, option)), (), f"--{option}", args.method)
    config = TrainConfig(
        method=args.method,
        data=args.data[0] if len(args.data) == 1 else tuple(args.data),
        window=args.window,
        patch_size=args.patch_size,
        code=args.code,
        elastic=args.elastic,
        one_decoder=args.one_decoder,
        distil=args.distil,
        fg_dice=args.fg_dice,
        **extra,
        out=args.out,
        val_data=args.val_data,
        base=args.base,
        name=args.name,
        ndim=args.ndim,
        epochs=args.epochs,
        steps_per_epoch=args.steps_per_epoch,
        batch_size=args.batch_size,
        accumulate=args.accumulate,
        patch=args.patch,
        lr=args.lr,
        ema=args.ema,
        border_crops=args.border_crops,
        colour_weight=args.colour_weight,
        ignore_label=args.ignore_label,
        invert_bright_background=args.invert_bright_background,
        workers=args.workers,
        val_fraction=args.val_fraction,
        holdout=_stems(args.holdout),
        exclude=_stems(args.exclude),
        max_val_images=args.max_val_images,
        val_orientations=args.val_orientations,
        time_budget=args.time_budget,
        data_citation=args.data_citation,
        data_license=args.data_license,
        resume=args.resume,
        device=args.device,
        seed=args.seed,
    )
    _train_with_progress(args, config, train_steps)  # SIGTERM stops it as Ctrl-C (main)
    from .engine.registry import CARD, WEIGHTS

    missing = [n for n in (CARD, WEIGHTS) if not (Path(args.out) / n).is_file()]
    if missing:  # said only of a model that is there
        raise CliError(
            f"training ended without writing a model to {args.out} (no {', '.join(missing)}); "
            f"see {Path(args.out) / 'train.log'}"
        )
    kept = _base_kept(Path(args.out)) if args.base else None
    if kept is None:
        print(f"model written to {args.out}")
    else:  # as the Train panel says it
        print(
            f"model written to {args.out}: no epoch beat the base model's validation score "
            f"{kept:.3f}, so its weights are the base's ({args.base}) unchanged (more epochs "
            "or another learning rate?)"
        )
    return 0


def _base_kept(out: Path) -> float | None:
    """The base's validation score when a fine-tune into ``out`` kept the base's weights (no
    epoch beat it, as its ``train.log`` says), else None."""
    import json

    entries = []
    try:
        lines = (out / "train.log").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        with contextlib.suppress(ValueError):
            entry = json.loads(line)
            if isinstance(entry, dict):
                entries.append(entry)
    bases = [e for e in entries if e.get("epoch") == 0 and "base" in e]
    if not bases:
        return None
    keys = [k for k, v in bases[-1].items() if k not in ("epoch", "base")]
    if len(keys) != 1 or not isinstance(bases[-1][keys[0]], int | float):
        return None
    key, base = keys[0], bases[-1][keys[0]]
    scores = [
        e[key] for e in entries if e.get("epoch", 0) >= 1 and isinstance(e.get(key), int | float)
    ]
    if not scores or max(scores) > base:
        return None
    return float(base)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised in the main thread as Ctrl-C raises KeyboardInterrupt."""


@contextlib.contextmanager
def _sigterm_as_interrupt():
    """SIGTERM (``kill``, ``timeout``, a batch system's time limit) raises :class:`Terminated`
    in the main thread, so that a command stops as on Ctrl-C: ``segment`` leaves no partial
    output and puts back what ``--overwrite`` was replacing, ``--blockwise`` shuts its
    workers down and keeps its finished blocks, a fine-tune writes the best model so far. A
    further SIGTERM meanwhile is ignored. The previous handler is restored after. A SIGTERM
    ignored before (inherited SIG_IGN) stays ignored; off the main thread (where Python
    cannot set handlers) nothing changes."""
    import signal
    import threading

    if (
        threading.current_thread() is not threading.main_thread()
        or signal.getsignal(signal.SIGTERM) is signal.SIG_IGN
    ):
        yield
        return

    def terminated(signum, frame):
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # the run is stopping already
        raise Terminated

    previous = signal.signal(signal.SIGTERM, terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL if previous is None else previous)


def _train_with_progress(args, config, train_steps) -> None:
    bar = None
    for progress in train_steps(config):
        if progress.message:
            if bar is not None:
                bar.close()
                bar = None
            if not args.quiet:
                print(progress.message, flush=True)
            continue
        if bar is None:
            bar = _progress_bar(config.steps_per_epoch, f"epoch {progress.epoch}", args.quiet)
            bar.unit = "step"
        bar.update(1)
        bar.set_postfix(loss=f"{progress.loss:.3f}")
    if bar is not None:
        bar.close()


def _progress_bar(total: int, description: str, quiet: bool):
    from tqdm import tqdm

    return tqdm(total=total, desc=description, disable=quiet, unit="tile", leave=False)


def _cmd_models(args) -> int:
    import json

    from .engine.registry import list_models

    models = list_models()
    if args.json:
        print(
            json.dumps(
                [card.raw | {"path": str(path), "origin": origin} for card, path, origin in models],
                indent=2,
            )
        )
        return 0
    if not models:
        print("no models found")
        return 0
    rows = [("NAME", "METHOD", "AXES", "ORIGIN", "VALIDATION", "PATH")]
    for card, path, origin in models:
        scores = _validation_summary(card.raw.get("validation", {}), card.raw.get("defaults"))
        scores = scores or _holdout_summary(card.raw)
        rows.append((card.name, card.method, card.spatial_axes, origin, scores or "-", str(path)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]) - 1)]
    for row in rows:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths)) + "  " + row[-1])
    return 0


def _validation_summary(validation, defaults=None) -> str:
    """A card's validation scores on one line, of the model as it segments by default: of
    the entry (``validation`` or one inside it, such as ``with_tta``) whose ``tta`` is the
    card's ``defaults.tta``, said with or without TTA; time-lapse cards score several
    sequences. Display only: a user card's odd ``validation`` gives "" rather than stopping
    the list."""
    try:
        tta = bool(defaults.get("tta", False)) if isinstance(defaults, dict) else False
        entries = [validation] + [v for v in validation.values() if isinstance(v, dict)]
        said = [e for e in entries if isinstance(e.get("tta"), bool) and _scores_line(e)]
        chosen = next((e for e in said if e["tta"] == tta), validation)
        line = _scores_line(chosen)
        if not line or not isinstance(chosen.get("tta"), bool) and "sequences" not in chosen:
            return line
        used = {e.get("tta") for e in chosen.get("sequences", [chosen]) if isinstance(e, dict)}
        if used == {tta}:
            return f"{line} ({'with' if tta else 'without'} TTA, its default)"
        if len(used) == 1 and isinstance(next(iter(used)), bool):
            done = "with" if next(iter(used)) else "without"
            return f"{line} ({done} TTA; by default it {'uses' if tta else 'does not use'} TTA)"
        return line
    except (AttributeError, KeyError, TypeError):
        return ""


def _holdout_summary(card: dict) -> str:
    """A card without validation scores: its training hold-out's best score, as ``train``
    (the command or the Train panel) records it in ``training.best_val_*``, said to be one
    (it chose the epoch, so it flatters the model); a stopped run says so."""
    training = card.get("training")
    if not isinstance(training, dict):
        return ""
    best = [
        f"{key[len('best_val_') :]}={value}"
        for key, value in training.items()
        if key.startswith("best_val_") and isinstance(value, int | float)
    ]
    if not best:
        return ""
    stopped = training.get("stopped")
    note = " (stopped)" if isinstance(stopped, dict) else ""
    return "hold-out " + ", ".join(best) + note


def _scores_line(validation: dict) -> str:
    if "sequences" in validation:
        parts = []
        for entry in validation["sequences"]:
            name = Path(entry["sequence"]).parent.name.replace("ctc_", "")
            held = entry.get("held_out", {})
            if "seg" in held:
                parts.append(f"{name} SEG={held['seg']}")
            links = entry.get("all_frames", {}).get("link_accuracy")
            if links is not None:
                parts.append(f"{name} links={links}")
        return ", ".join(parts)
    return ", ".join(  # numbers only: AP per threshold, say, is in `tessella models --json`
        f"{k}={v}"
        for k, v in validation.get("scores", {}).items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    )


def _parse_sets(pairs: list[str]) -> dict[str, str]:
    values = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or not name.strip():
            raise CliError(f"--set expects NAME=VALUE, got {pair!r}")
        values[name.strip()] = value.strip()
    return values


def _run_params(model, recipe_params: dict | None, sets: dict[str, str], recipe_path):
    """The model's default parameters, then the recipe's, then ``--set``'s, checked once all
    are in: a ``--set`` replaces a recipe's bad value before it is checked, so a hand-edited
    recipe can be fixed from the command line. A bad value left is named with where it came
    from: ``--set`` or the recipe file."""
    from .engine.methods import get_method
    from .engine.params import make_params
    from .engine.pipeline import resolve_params

    try:
        make_params(get_method(model.card.method).Params, **sets)
    except ValueError as exc:
        raise CliError(f"--set: {exc}") from None
    kept = {name: v for name, v in (recipe_params or {}).items() if name not in sets}
    if not kept:
        return resolve_params(model, None, **sets)
    try:  # a hand-edited recipe's parameters: the error names the recipe
        return resolve_params(model, {**kept, **sets})
    except (ValueError, TypeError) as exc:
        raise CliError(f"{recipe_path}: {exc}") from None


def _segment_jobs(inputs: list[str], output: str) -> list[tuple[Path, Path]]:
    from .engine.io import TIFF_SUFFIXES, is_zarr_path, list_images

    sources: list[Path] = []
    for item in inputs:
        path = Path(item)
        if not path.exists():
            raise CliError(f"{path}: no such file or folder")
        if path.is_dir() and not is_zarr_path(path):
            sources.extend(list_images(path))
        else:
            sources.append(path)
    out = Path(output)
    first = Path(inputs[0])
    single = len(inputs) == 1 and (not first.is_dir() or is_zarr_path(first))
    if single:
        if is_zarr_path(sources[0]) and out.suffix.lower() != ".zarr":
            raise CliError(f"{out}: zarr input needs a .zarr output")
        if not is_zarr_path(sources[0]) and out.suffix.lower() not in TIFF_SUFFIXES:
            raise CliError(f"{out}: the output of one image must be a .tif/.tiff file")
        return [(sources[0], out)]
    if out.suffix.lower() in TIFF_SUFFIXES:
        raise CliError(f"{out}: several inputs need an output folder, not a file")
    if out.suffix.lower() == ".zarr":
        raise CliError(
            f"{out}: several inputs are written into a folder (each output named after its "
            "input), which a .zarr name would pass off as one zarr store; name it without .zarr"
        )
    names = [s.name for s in sources]
    if len(set(names)) != len(names):
        raise CliError("two inputs share a file name; their outputs would collide")
    jobs = [(s, out / s.name) for s in sources]
    recipes: dict[Path, Path] = {}
    for source, target in jobs:  # a.tif and a.tiff would share a.recipe.json
        other = recipes.setdefault(_recipe_path(target), source)
        if other != source:
            raise CliError(
                f"{other} and {source.name} would share the recipe "
                f"{_recipe_path(target).name}; rename one of them"
            )
    return jobs


def _say_not_images(inputs: list[str]) -> None:
    """Name, on stderr, what the input folders hold that is not segmented: files that are not
    TIFF and folders (a zarr store in a folder too), but not hidden files (``.DS_Store``)."""
    from .engine.io import TIFF_SUFFIXES, is_zarr_path

    for item in inputs:
        folder = Path(item)
        if not folder.is_dir() or is_zarr_path(folder):
            continue
        names, zarrs = [], False
        for path in sorted(folder.iterdir()):
            if path.name.startswith(".") or (
                path.suffix.lower() in TIFF_SUFFIXES and not path.is_dir()
            ):
                continue
            zarrs = zarrs or is_zarr_path(path)
            names.append(path.name + ("/" if path.is_dir() else ""))
        if names:
            zarr_hint = "; give a zarr store as an input of its own" if zarrs else ""
            print(f"{folder}: skipped {_few(names)} (not TIFF{zarr_hint})", file=sys.stderr)


def _read_input(source: Path, args, recipe: dict):
    """An input read with the axes forced on it, checked against the axes its metadata states
    (an RGB tag, ImageJ, OME or OME-Zarr axes). ``--axes`` is applied as given, with a
    warning naming the file and both axes where they contradict (``read_image``'s). A
    recipe's axes (without ``--axes``) are applied only where they fit: a file whose metadata
    states other axes, or with another number of axes, is refused with the ``--axes`` that
    reads it (a recipe tuned on a stack, replayed over a folder, would cut a colour image
    into 3-pixel-wide slices)."""
    import dataclasses
    import warnings

    from .engine.axes import axes_contradict, check_axes
    from .engine.io import AxesContradictionWarning, is_zarr_path, read_image

    wanted = args.axes or recipe.get("axes")
    if args.axes or not wanted:
        return read_image(source, wanted)
    if is_zarr_path(source):  # read with the recipe's axes (its singleton axes dropped so)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", AxesContradictionWarning)
            image = read_image(source, wanted)
        if axes_contradict(image.axes, image.stated_axes):
            raise CliError(
                f"{source}: the recipe's axes {image.axes} contradict its {image.stated_by}, "
                f"which say {image.stated_axes}; segment it on its own with --axes "
                f"{image.stated_axes} (or --axes {image.axes} to read it as the recipe does)"
            )
        return image
    wanted = wanted.upper()
    image = read_image(source)  # its own axes (the same pixels whichever axes are given)
    if wanted == image.axes:
        return image
    own = f"segment it on its own with --axes {image.axes}"
    if len(wanted) != image.data.ndim:
        raise CliError(
            f"{source}: the recipe's axes {wanted} name {len(wanted)} axes but the image has "
            f"{image.data.ndim} ({image.axes}); {own}"
        )
    if axes_contradict(wanted, image.stated_axes):
        raise CliError(
            f"{source}: the recipe's axes {wanted} contradict its {image.stated_by}, which say "
            f"{image.stated_axes}; {own} (or --axes {wanted} to read it as the recipe does)"
        )
    return dataclasses.replace(image, axes=check_axes(wanted, image.data.ndim, str(source)))


def _recipe_path(output: Path) -> Path:
    return output.with_name(output.name.rsplit(".", 1)[0] + ".recipe.json")


def _check_writable(path: Path) -> None:
    """CliError unless ``path``'s folder can be made: its nearest existing ancestor must be a
    folder (mkdir would say only "[Errno 17] File exists")."""
    for parent in path.parents:
        if parent.exists():
            if not parent.is_dir():
                raise CliError(f"{parent} is a file, not a folder; cannot write {path}")
            return


def _check_outputs(jobs, overwrite: bool, zarr_ok: bool = True, replace=frozenset()) -> None:
    """Refuse before any work what the writes would fail on or replace unasked: an output or
    its recipe that exists (without --overwrite; ``replace``: the targets whose incomplete
    outputs --skip-existing redoes), that is a folder where a file goes, or whose folder
    would be inside a file. So labels and recipe are written both or neither."""
    from .engine.io import is_zarr_path

    for _source, target in jobs:
        recipe = _recipe_path(target)
        _check_writable(target)
        _recover_staging(target)  # what a killed run left: before looking at the outputs
        if target.is_dir() and not (zarr_ok and is_zarr_path(target)):
            raise CliError(f"{target} is a folder; name the output file")
        if recipe.is_dir():
            raise CliError(f"{recipe} is a folder; the recipe of {target.name} goes there")
        for path in (target, recipe):
            if path.exists() and not (overwrite or target in replace):
                raise CliError(f"{path} exists; pass --overwrite to replace it")


def _run_settings(model, params, tta, tile, invert, axes, stack) -> dict:
    """What of this run's settings a recipe records, as it records them (JSON): compared
    with an existing output's recipe by ``--skip-existing``. ``axes`` only where this run
    forces them (``--axes``, a recipe's); the device and the version are not compared (a
    device gives the same labels up to rounding)."""
    import json

    from .engine.io import _json_safe
    from .engine.params import params_to_dict

    defaults = model.card.defaults
    settings = {
        "model_sha256": model.card.sha256,
        "params": params_to_dict(params),
        "tta": bool(defaults.get("tta", False)) if tta is None else bool(tta),
        "tile": int(tile or defaults.get("tile", 1024)),
        "invert": None if invert is None else bool(invert),
        "stack": bool(stack),
    }
    if axes:
        settings["axes"] = axes.upper()
    return json.loads(json.dumps(_json_safe(settings), default=str))


def _recipe_differences(recorded: dict, settings: dict, model) -> list[str]:
    """How an existing output's recipe differs from this run's ``settings`` (see
    :func:`_run_settings`), one phrase per setting: ``seed_thresh=0.5 (this run: 0.8)``."""

    missing = object()

    def show(value, key: str = "") -> str:
        if value is missing:
            return "not recorded"
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
    defaults = {"invert": None, "stack": False}  # recorded only where given
    for key, here in settings.items():
        if key in ("model_sha256", "params"):
            continue
        there = recorded.get(key, defaults.get(key, missing))
        if key == "axes" and isinstance(there, str):
            there = there.upper()
        if there != here:
            name = "--stack" if key == "stack" else key
            differences.append(f"{name}={show(there, key)} (this run: {show(here, key)})")
    return differences


def _skip_existing(jobs, settings: dict, model) -> tuple[list, list, set]:
    """``--skip-existing``: (jobs to run, sources skipped, targets to redo). An output is
    complete, and its job skipped, when its labels and its recipe (a JSON object) are both
    there and no staging folder of a killed write is beside them; the others are segmented,
    and those of them that left something (labels without a recipe, a recipe without labels,
    a killed write, put back first) are replaced (the targets to redo). A complete output
    whose recipe records other settings than this run's is refused before any work, naming
    it and each difference: keeping it would leave stale labels beside new ones."""
    import json

    from .engine.io import is_zarr_path

    todo, skipped, redo, stale = [], [], set(), []
    for source, target in jobs:
        recipe_path = _recipe_path(target)
        _check_writable(target)
        killed = _there(_staging(target))
        _recover_staging(target)  # (says so) what it put back is not taken as complete
        labels = target.is_file() or (target.is_dir() and is_zarr_path(target))
        recorded = None
        if recipe_path.is_file():
            with contextlib.suppress(OSError, ValueError):
                recorded = json.loads(recipe_path.read_text())
        if killed or not labels or not isinstance(recorded, dict):
            todo.append((source, target))
            if killed or _there(target) or _there(recipe_path):
                redo.add(target)
            continue
        differences = _recipe_differences(recorded, settings, model)
        if differences:
            stale.append((target, differences))
        else:
            skipped.append(source)
    if stale:
        target, differences = stale[0]
        others = [t.name for t, _ in stale[1:]]
        plural = "s" if len(others) > 1 else ""
        more = f" (and {len(others)} more output{plural} so: {_few(others)})" if others else ""
        raise CliError(
            f"--skip-existing: {target} was made with other settings than this run's: "
            f"{', '.join(differences)}{more}; pass --overwrite to segment every image again "
            f"with this run's settings, or --recipe {_recipe_path(target)} to go on with its"
        )
    return todo, skipped, redo


def _say_skipped_existing(skipped: list, redo: set, total: int) -> None:
    """``--skip-existing``'s one line: how many images were skipped (named when few) and
    which incomplete outputs are redone; nothing where neither."""
    if not skipped and not redo:
        return
    line = f"skipped {len(skipped)} of {total} images whose labels and recipe are there"
    if skipped:
        line += f" ({_few([s.name for s in skipped])})"
    if redo:
        line += f"; redoing incomplete {_few(sorted(t.name for t in redo))}"
    print(line, file=sys.stderr, flush=True)


def _reason(exc: BaseException) -> str:
    """An OSError's reason without its paths (the message names them), else its text."""
    return (getattr(exc, "strerror", None) or str(exc) or type(exc).__name__).rstrip(".")


def _remove(path: Path) -> None:
    import shutil

    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink()


def _there(path: Path) -> bool:
    """``path`` exists, or is a symbolic link (a dangling one too)."""
    return path.exists() or path.is_symlink()


def _staging(target: Path) -> Path:
    """The folder where ``target`` and its recipe are staged: a fixed name beside it (the
    renames stay on one file system), so the next run finds what a killed one left."""
    return target.with_name(f".{target.name}.tessella-staging")


def _lock(fd: int) -> bool | None:
    """Lock the open file ``fd`` until it is closed or this process ends, however it ends:
    True; False where another process holds it; None where this cannot be told."""
    try:
        import fcntl
    except ImportError:  # Windows
        try:
            import msvcrt
        except ImportError:
            return None
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError as exc:
            return False if exc.errno in (errno.EACCES, errno.EDEADLK) else None
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    except OSError:  # a file system without locks
        return None
    return True


def _alive(pid: int | None) -> bool:
    """Whether process ``pid`` runs (on POSIX; elsewhere, and without a pid, False)."""
    if pid is None or os.name != "posix":
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # another user's
        return True
    return True


def _fsync(path: Path) -> None:
    """Flush a file, or a folder's entries (POSIX), to disk where this can be done, so that
    after a power cut a renamed file is whole. (Not the chunks inside a zarr folder.)"""
    if path.is_symlink() or (path.is_dir() and os.name != "posix"):
        return
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _roll_back(stage: Path, finals) -> list[str] | None:
    """Put back the outputs (``finals``) that the write staged in ``stage`` had replaced, and
    take away those it had made: a failed or killed write undone, which can be done again
    if it is itself cut short. None where the write had not begun to replace any (or had
    replaced them all: it was done), else the names of the outputs there before it.

    The stage holds ``new/`` (the new outputs), ``previous/`` (each output there before,
    moved or hard-linked there before it is replaced) and, from just before the first
    replacement until the last is done, ``replacing`` (the names of those outputs)."""
    import json

    manifest = stage / "replacing"
    if not manifest.exists():
        return None
    had = json.loads(manifest.read_text())
    for final in reversed(finals):
        staged, backup = stage / "new" / final.name, stage / "previous" / final.name
        if final.name in had:
            if not _there(backup):  # neither moved nor replaced yet
                continue
            if _there(final):
                if os.path.samestat(os.lstat(final), os.lstat(backup)):  # a link, not replaced
                    continue
                if final.is_dir() and not final.is_symlink():  # cannot be replaced in one go
                    os.replace(final, staged)
            os.replace(backup, final)
        elif _there(final) and not _there(staged):  # the write's, where there was none
            os.replace(final, staged)
    manifest.unlink()
    return had


def _close_and_remove(stage: Path, owner: int | None) -> None:
    with contextlib.suppress(OSError):
        _remove(stage)  # the lock held while it goes, where an open file can be removed
    if owner is not None:
        os.close(owner)
    if _there(stage):
        with contextlib.suppress(OSError):
            _remove(stage)


def _recover_staging(target: Path) -> None:
    """Undo what a write of ``target`` left when it was killed (SIGKILL, the OOM killer, a
    power cut) before it had finished: its staging folder is removed, and where it had
    begun replacing the outputs, the previous labels and recipe are put back first. Said in
    one line. CliError while another run is writing ``target`` (its folder is locked)."""
    stage = _staging(target)
    if not _there(stage):
        return
    if stage.is_symlink() or not stage.is_dir():
        raise CliError(f"{stage} is in the way of writing {target}; remove it")
    owner = stage / "owner"
    pid = None
    with contextlib.suppress(OSError, ValueError):
        pid = int(owner.read_text())
    fd = None
    try:
        with contextlib.suppress(FileNotFoundError):  # killed before it was made
            fd = os.open(owner, os.O_RDONLY)
        locked = _lock(fd) if fd is not None else None
        if locked is False or (locked is None and pid != os.getpid() and _alive(pid)):
            by = f" (pid {pid})" if pid is not None else ""
            raise CliError(
                f"{target} is being written by another run{by}; if none is, remove {stage}"
            )
        had = _roll_back(stage, (_recipe_path(target), target))
    except (OSError, ValueError) as exc:
        if fd is not None:
            os.close(fd)
        raise CliError(
            f"{target}: a write killed before it finished left {stage}, which could not be "
            f"undone ({_reason(exc)}); the previous outputs are in {stage / 'previous'}"
        ) from None
    except BaseException:
        if fd is not None:
            os.close(fd)
        raise
    _close_and_remove(stage, fd)
    by = f" (pid {pid})" if pid is not None else ""
    if had is None:  # killed before replacing anything, or after replacing all
        message = f"removed {stage.name}, left by a run killed while writing it{by}"
    else:
        outputs = (("labels", target), ("recipe", _recipe_path(target)))
        back = [what for what, path in outputs if path.name in had]
        message = f"a write killed before it finished{by} was undone; " + (
            f"the previous {' and '.join(back)} {'is' if len(back) == 1 else 'are'} back"
            if back
            else "what it had written was removed"
        )
    print(f"warning: {target}: {message}", file=sys.stderr, flush=True)


def _write_labels_and_recipe(target: Path, write, recipe: dict, overwrite: bool) -> None:
    """Labels (``write(path)`` writes them to ``path``) and their recipe, both or neither.

    Both are written to ``new/`` in a staging folder beside ``target`` (see ``_staging``);
    then each output already there (with ``overwrite``) is hard-linked into ``previous/``
    (or, where the file system has no hard links, and for a zarr folder, moved there just
    before its replacement), and the new ones renamed into place, back to back. So a file
    path always holds its old or its new file, the recipe and the labels differ between
    two renames only, and the path of a zarr folder is empty between two renames only.

    A failure at any point (a recipe that cannot be written or replaced, a full disk,
    Ctrl-C) puts back what was there and removes the staging folder, so the previous labels
    and recipe are left exactly as they were. A kill (which no handler sees) leaves the
    staging folder, and the next run writing ``target`` does the same (``_recover_staging``)."""
    import json

    from .engine.io import write_json

    recipe_path = _recipe_path(target)
    finals = (recipe_path, target)  # the recipe first: an immutable one fails before the labels
    target.parent.mkdir(parents=True, exist_ok=True)
    _recover_staging(target)
    there = [what for what, p in (("labels", target), ("recipe", recipe_path)) if _there(p)]
    verb = "is" if there == ["recipe"] else "are"
    kept = (
        f"the previous {' and '.join(there)} {verb} unchanged" if there else "nothing was written"
    )
    stage = _staging(target)
    try:
        stage.mkdir()
    except FileExistsError:  # made since _recover_staging looked
        raise CliError(
            f"{target} is being written by another run; if none is, remove {stage}"
        ) from None
    except OSError as exc:
        raise CliError(f"{target}: cannot write the labels ({_reason(exc)}); {kept}") from None
    owner = None
    new, previous = stage / "new", stage / "previous"
    try:
        try:
            owner = os.open(stage / "owner", os.O_RDWR | os.O_CREAT, 0o644)
            _lock(owner)  # a run that finds it locked leaves the stage alone
            os.write(owner, str(os.getpid()).encode())
            new.mkdir()
            previous.mkdir()
            write(new / target.name)
        except OSError as exc:
            raise CliError(f"{target}: cannot write the labels ({_reason(exc)}); {kept}") from None
        try:
            write_json(new / recipe_path.name, recipe)
        except OSError as exc:
            raise CliError(
                f"{recipe_path}: cannot write the recipe of {target.name} ({_reason(exc)}); {kept}"
            ) from None
        had = [final.name for final in finals if _there(final)]
        for final in finals:
            if _there(final) and not overwrite:  # made since the check before the work
                raise CliError(f"{final} exists; pass --overwrite to replace it")
            _fsync(new / final.name)
        listed = stage / "replacing.tmp"
        listed.write_text(json.dumps(had))
        os.replace(listed, stage / "replacing")  # from here a kill is undone by the next run
        linked = set()
        for final in finals:  # a hard link keeps a file in place until it is replaced
            if final.name in had and (final.is_symlink() or not final.is_dir()):
                with contextlib.suppress(OSError, NotImplementedError):
                    os.link(final, previous / final.name, follow_symlinks=False)
                    linked.add(final.name)
        for final in finals:  # the renames, back to back
            if final.name in had and final.name not in linked:
                try:
                    os.replace(final, previous / final.name)
                except OSError as exc:
                    raise CliError(f"{final}: cannot replace it ({_reason(exc)}); {kept}") from None
            try:
                os.replace(new / final.name, final)
            except OSError as exc:
                did = "replace" if final.name in had else "write"
                raise CliError(f"{final}: cannot {did} it ({_reason(exc)}); {kept}") from None
        _fsync(target.parent)
        os.remove(stage / "replacing")  # done: the stage holds only what was replaced
    except BaseException:
        try:
            _roll_back(stage, finals)
        except (OSError, ValueError) as exc:  # the stage is kept: the next run tries again
            if owner is not None:
                os.close(owner)
            raise CliError(
                f"{target}: writing failed and the previous outputs could not be put back "
                f"({_reason(exc)}); they are in {previous}, and the next run writing "
                f"{target.name} puts them back"
            ) from None
        _close_and_remove(stage, owner)
        raise
    _close_and_remove(stage, owner)


def _probe_recipe(recipe_path: Path, target: Path) -> None:
    """CliError unless ``recipe_path`` can be written, checked before a long (blockwise) run
    rather than after it: a file can be made in its folder (or the nearest existing one),
    and a recipe already there can be replaced. The recipe is never moved (a kill or Ctrl-C
    cannot leave it hidden): where the file system makes hard links, one to it is made and
    removed (Linux refuses it for an immutable or append-only file, as the rename would be),
    and in a sticky folder (/tmp) another user's recipe is refused, as the rename would be."""
    import stat
    import tempfile

    folder = next(p for p in recipe_path.parents if p.exists())
    probe = None
    try:
        try:
            fd, probe = tempfile.mkstemp(prefix=f".{recipe_path.name}.", suffix=".tmp", dir=folder)
            os.close(fd)
            if _there(recipe_path):
                link = f"{probe}.link"
                try:  # can this file system make hard links (of a link itself) at all?
                    os.link(probe, link, follow_symlinks=False)
                except (OSError, NotImplementedError):
                    pass
                else:
                    os.remove(link)
                    os.link(recipe_path, link, follow_symlinks=False)
                    os.remove(link)
                mode, owner = os.stat(folder).st_mode, os.stat(folder).st_uid
                if mode & stat.S_ISVTX and hasattr(os, "geteuid"):
                    user = os.geteuid()
                    if user not in (0, owner, os.lstat(recipe_path).st_uid):
                        raise PermissionError(errno.EPERM, os.strerror(errno.EPERM))
        finally:
            if probe is not None:
                for path in (probe, f"{probe}.link"):
                    with contextlib.suppress(OSError):
                        os.remove(path)
    except OSError as exc:
        raise CliError(
            f"{recipe_path}: the recipe of {target.name} cannot be written there "
            f"({_reason(exc)}); nothing was done"
        ) from None


def _cmd_segment(args) -> int:
    import functools

    from .engine.io import (
        TIFF_SUFFIXES,
        is_zarr_path,
        labels_ome,
        read_frames,
        write_labels,
        write_zarr_labels,
    )
    from .engine.pipeline import DEFAULT_MODEL, segment_steps, window_of
    from .engine.progress import Progress
    from .engine.registry import load_model, recipe_model

    recipe = _read_recipe(args.recipe) if args.recipe else {}
    args.blockwise = _replays_blockwise(args, recipe)
    _check_blockwise_usage(args)
    if args.tile is not None and args.tile <= 0:
        raise CliError(f"--tile must be a positive number of pixels, got {args.tile}")
    if recipe and not args.model and not recipe.get("model"):
        raise CliError(f"{args.recipe}: the recipe names no model; give one with --model")
    if args.model or not recipe:
        model = load_model(args.model or DEFAULT_MODEL)
    else:  # the very model of the recipe: its folder, or one of its name with its weights
        model = load_model(_recipe_package(recipe, args.recipe) or recipe_model(recipe))
        if recipe.get("model_sha256") and recipe["model_sha256"] != model.card.sha256:
            raise CliError(
                f"{args.recipe}: made with model {recipe.get('model')!r} of sha256 "
                f"{recipe['model_sha256'][:12]}…, but {model.path} has other weights "
                f"({model.card.sha256[:12]}…); pass --model to replay it with a model anyway"
            )
    # a time-lapse model reads a folder of frames as one movie
    movie = window_of(model.card) > 1 and _is_frame_folder(args.inputs)
    if args.blockwise or movie:  # the engine checks the input (zarr) and the output
        jobs = [(Path(args.inputs[0]), Path(args.output))]
    else:
        jobs = _segment_jobs(args.inputs, args.output)
    if not args.blockwise and not args.quiet:
        _say_not_images(args.inputs)
    for source, target in jobs:  # even with --overwrite: the image would be lost
        if Path(source).resolve().is_relative_to(Path(target).resolve()):
            raise CliError(
                f"{target}: the output would replace the input {source}; choose another output"
            )
    if movie and jobs[0][1].suffix.lower() not in TIFF_SUFFIXES:
        raise CliError(f"{jobs[0][1]}: the labels of a time-lapse folder go into one .tif (TYX)")
    if args.ctc and window_of(model.card) == 1:  # its objects are no tracks
        raise CliError(
            f"--ctc needs a time-lapse model (it writes tracks); {model.card.name} segments "
            "frame by frame (without --ctc each object of the movie gets its own ID)"
        )
    if recipe.get("stack") and not args.stack:  # the recipe wrote an (N, Y, X) mask stack:
        why = _stack_refused(args, model, jobs)  # so does its replay, where one can be written
        if why:
            print(
                f"warning: {args.recipe} wrote a mask stack; {why}: writing labels", file=sys.stderr
            )
        args.stack = not why
    _check_stack_usage(args, model, jobs)
    if (
        recipe.get("model_sha256") and recipe["model_sha256"] != model.card.sha256
    ):  # --model chose another model on purpose: said even with -q
        print(
            f"warning: {args.recipe} was made with another model than {model.path}", file=sys.stderr
        )
    params = _run_params(model, recipe.get("params"), _parse_sets(args.set), args.recipe)
    tta = args.tta if args.tta is not None else recipe.get("tta")
    tile = args.tile or recipe.get("tile")
    invert = args.invert if args.invert is not None else recipe.get("invert")
    _check_ctc_dir(args)
    if args.ctc and getattr(params, "link", True) is False:
        raise CliError(
            "--ctc writes tracks, and with link=false no object is followed from frame to "
            "frame (each gets its own ID): leave link on for --ctc"
        )
    package = _package_reference(args.model, recipe, model)
    if args.skip_existing and args.ctc:
        raise CliError(
            "--skip-existing cannot tell whether the files --ctc wrote are complete; run "
            "without it (--overwrite replaces the labels and the CTC files)"
        )
    settings = None
    if args.skip_existing:  # what an existing output's recipe must record to be kept
        forced = None if movie else (args.axes or recipe.get("axes"))
        settings = _run_settings(model, params, tta, tile, invert, forced, args.stack)
    if args.blockwise:
        return _segment_blockwise(
            args, jobs, model, params, tta, tile, recipe, invert, package, settings
        )
    redo: set = set()
    if settings is not None:
        total = len(jobs)
        jobs, skipped, redo = _skip_existing(jobs, settings, model)
        if not args.quiet:
            _say_skipped_existing(skipped, redo, total)
    _check_outputs(jobs, args.overwrite, replace=redo)
    if args.ctc and len(jobs) > 1:
        raise CliError("--ctc writes one time-lapse; give one input")
    failed: list[str] = []
    for source, target in jobs:
        try:
            if movie:
                image = read_frames(source)
            else:
                image = _read_input(source, args, recipe)
            if args.ctc and "T" not in image.axes:
                raise CliError(
                    f"{source}: --ctc needs a time-lapse (axes with T), got {image.axes}"
                )
            spatial = [a for a in image.axes if a in "ZYX"]
            spacing = _spacing(image, spatial, recipe, args.recipe)
            steps = segment_steps(
                image.data,
                model,
                image.axes,
                params,
                tta,
                tile,
                args.device,
                name=str(source),
                spacing=spacing,
                invert=invert,
            )
            bar = None
            try:
                while True:
                    try:
                        progress: Progress = next(steps)
                    except StopIteration as stop:
                        result = stop.value
                        break
                    if progress.stage == "predict":
                        if bar is None:
                            bar = _progress_bar(progress.total, source.name, args.quiet)
                        bar.n = progress.done
                        bar.refresh()
            finally:  # (Ctrl-C, SIGTERM: the one-line message not after the bar)
                if bar is not None:
                    bar.close()
            pixel_size = {a: s for a, s in image.pixel_size.items() if a in result.axes}
            recorded = result.recipe() | package | {"input": str(source)}
            if args.stack:
                recorded["stack"] = True
                write = _stack_writer(target, result, pixel_size, image.unit)
            else:
                from .engine.digest import DIGEST_KEY, labels_digest  # the reader checks it

                recorded[DIGEST_KEY] = labels_digest(result.labels)
                # OME-Zarr input: OME-Zarr labels (its version, axes and scale), as --blockwise
                ome = labels_ome(image, result.axes) if is_zarr_path(target) else None
                write = functools.partial(
                    write_zarr_labels if is_zarr_path(target) else write_labels,
                    labels=result.labels,
                    axes=result.axes,
                    pixel_size=pixel_size,
                    unit=image.unit,
                    **({"ome": ome} if ome else {}),
                )
            ctc_plan = None
            if args.ctc:  # what cannot be written as CTC is refused before any file is
                from .engine.tracking import ctc_tracks, write_ctc

                ctc_plan = ctc_tracks(result.labels, result.lineage)
            # labels and their recipe: both or neither, and the previous ones kept on failure
            _write_labels_and_recipe(target, write, recorded, args.overwrite or target in redo)
            if args.ctc:
                write_ctc(
                    result.labels,
                    result.lineage,
                    args.ctc,
                    overwrite=args.overwrite,
                    tracks=ctc_plan,
                )
            if not args.quiet:
                linked = result.lineage is not None and getattr(result.params, "link", True)
                what = "tracks" if linked else "objects"  # (link=false: no object followed)
                print(f"{source} -> {target}: {int(result.labels.max())} {what}")
        except (CliError, ValueError, OSError) as exc:
            if isinstance(exc, BrokenPipeError) and _stdout_gone():
                raise  # stdout's reader is gone (`| head`): not this image's fault
            if len(jobs) == 1:
                raise
            failed.append(source.name)  # the other images of a folder go on
            print(f"tessella segment: error: {exc} (skipped)", file=sys.stderr)
    if failed:
        raise CliError(f"{len(failed)} of {len(jobs)} images failed: {', '.join(failed)}")
    return 0


def _package_reference(model_arg: str | None, recipe: dict, model) -> dict:
    """How a recipe names the bioimage.io package (.zip) a model was imported from: its
    path and sha256 (``model_path`` is then only the import's cache folder, which may go):
    the package given as ``--model``, or the one of the recipe replayed; {} for another
    model."""
    from .engine.registry import sha256_file

    if model_arg and Path(model_arg).suffix.lower() == ".zip" and Path(model_arg).is_file():
        package = Path(model_arg).resolve()
        return {"model_package": str(package), "model_package_sha256": sha256_file(package)}
    origin = model.card.raw.get("imported_from")
    if not model_arg and recipe.get("model_package") and isinstance(origin, dict):
        return {k: recipe[k] for k in ("model_package", "model_package_sha256") if k in recipe}
    return {}


def _recipe_package(recipe: dict, recipe_path) -> str | None:
    """The bioimage.io package a recipe's model is loaded from again (it is imported anew)
    when the recipe's ``model_path`` (the import's cache folder) is gone; None when that
    folder is there or the model was no package. CliError naming the package when it is
    gone too or holds another file, or (a recipe from before packages were recorded) naming
    the lost cache folder."""
    from .engine.registry import sha256_file

    path = recipe.get("model_path")
    if isinstance(path, str) and Path(path).is_dir():
        return None
    package = recipe.get("model_package")
    if package is None:
        folder = Path(path) if isinstance(path, str) else None
        if folder is not None and folder.parent.parts[-2:] == ("tessella", "bioimageio"):
            raise CliError(
                f"{recipe_path}: made with a model imported from a bioimage.io package into "
                f"{folder}, which is gone (the recipe does not say which package); pass "
                "--model with the package (.zip) to replay it"
            )
        return None
    if not Path(package).is_file():
        where = f" (and its import {path} is gone)" if path else ""
        raise CliError(
            f"{recipe_path}: made with the bioimage.io package {package}, which is not there "
            f"any more{where}; pass --model with the package (or another model) to replay it"
        )
    wanted = recipe.get("model_package_sha256")
    if wanted and sha256_file(Path(package)) != wanted:
        raise CliError(
            f"{recipe_path}: made with the bioimage.io package {package} of sha256 "
            f"{wanted[:12]}…, but the file there now differs; pass --model {package} to replay "
            "it with that package anyway"
        )
    return str(package)


def _stack_refused(args, model, jobs) -> str:
    """Why ``--stack`` cannot be written for this run ("" when it can)."""
    from .engine.io import TIFF_SUFFIXES
    from .engine.methods import get_method

    if not hasattr(get_method(model.card.method), "instances"):
        return (
            f"model {model.card.name!r} ({model.card.method}) makes objects that do not "
            "overlap; its label image says it all"
        )
    if args.blockwise:
        return "it is not available with --blockwise"
    for _source, target in jobs:
        if Path(target).suffix.lower() not in TIFF_SUFFIXES:
            return f"{target}: a stack is written as a TIFF"
    return ""


def _check_stack_usage(args, model, jobs) -> None:
    """Refuse ``--stack`` before any work where it cannot be written."""
    why = _stack_refused(args, model, jobs) if args.stack else ""
    if why:
        raise CliError(f"--stack: {why}")


def _stack_writer(target: Path, result, pixel_size: dict[str, float], unit: str):
    """``write(path)`` of the ``(N, Y, X)`` mask stack of ``result`` with the input's pixel
    size (as its labels would have), checked first."""
    from .engine.io import TIFF_SUFFIXES, write_mask_stack
    from .engine.methods import get_method

    if target.suffix.lower() not in TIFF_SUFFIXES:
        raise CliError(f"{target}: --stack writes a TIFF")
    if len(result.predictions) != 1:
        raise CliError("--stack writes one 2D image's objects; the input has several frames")
    method = get_method(result.model.card.method)
    masks = method.instances(result.predictions[0], result.params)
    return lambda path: write_mask_stack(path, masks, pixel_size=pixel_size, unit=unit)


def _is_frame_folder(inputs: list[str]) -> bool:
    from .engine.io import is_zarr_path

    path = Path(inputs[0])
    return len(inputs) == 1 and path.is_dir() and not is_zarr_path(path)


def _replays_blockwise(args, recipe: dict) -> bool:
    """Whether to segment blockwise: as ``--blockwise``/``--no-blockwise`` say, else as the
    recipe replayed was run (a blockwise run's recipe holds its blocks and halo, which
    ``_segment_blockwise`` replays). An image that needed blocks is likely too big to load
    whole, so a blockwise recipe replays blockwise where it can (one zarr input; zarr input
    writes zarr either way), and says so; where it cannot (a TIFF, several inputs), the
    warning says that the image is loaded whole."""
    from .engine.io import is_zarr_path

    replay = recipe.get("blockwise")
    if args.blockwise is not None or not replay:
        return bool(args.blockwise)
    block = replay.get("block")
    size = "x".join(map(str, block)) if isinstance(block, list) else str(block or "default")
    made = f"{args.recipe} was run blockwise (blocks of {size} px)"
    if len(args.inputs) != 1 or not is_zarr_path(Path(args.inputs[0])):
        print(
            f"warning: {made}; blockwise segmentation reads one zarr input (convert a big TIFF "
            "to zarr: see --help): segmenting in memory, the whole image at once",
            file=sys.stderr,
        )
        return False
    if not args.quiet:
        print(f"{made}: replaying it blockwise (--no-blockwise: in memory)", file=sys.stderr)
    return True


def _check_blockwise_usage(args) -> None:
    given = [f"--{name}" for name in ("scheduler", "workers", "block") if getattr(args, name)]
    given += ["--workers"] if args.workers == 0 else []
    if given and not args.blockwise:
        raise CliError(f"{given[0]} needs --blockwise")
    if not args.blockwise:
        return
    if args.scheduler and args.workers is not None:
        raise CliError("give --scheduler or --workers, not both")
    if args.workers is not None and args.workers < 0:
        raise CliError(f"--workers must be 0 or more, got {args.workers}")
    if len(args.inputs) != 1:
        raise CliError("--blockwise segments one zarr input at a time")


def _parse_block(text: str | None):
    if not text:
        return None
    try:
        values = [int(v) for v in text.split(",")]
    except ValueError:
        raise CliError(f"--block expects N or N,N[,N], got {text!r}") from None
    if any(v < 1 for v in values):
        raise CliError(f"--block values must be positive, got {text!r}")
    return values[0] if len(values) == 1 else values


def _check_ctc_dir(args) -> None:
    """Refuse before any work when ``--ctc DIR`` holds CTC files and no ``--overwrite``."""
    ctc_dir = Path(args.ctc) if args.ctc else None
    if ctc_dir and ctc_dir.exists() and not ctc_dir.is_dir():
        raise CliError(f"{ctc_dir} is a file; --ctc needs a folder")
    if ctc_dir:
        _check_writable(ctc_dir)
    if ctc_dir and ctc_dir.is_dir() and not args.overwrite:
        taken = sorted(ctc_dir.glob("mask*.tif")) + sorted(ctc_dir.glob("res_track.txt"))
        if taken:
            raise CliError(f"{taken[0]} exists; pass --overwrite to replace it")


def _segment_blockwise(
    args, jobs, model, params, tta, tile, recipe, invert=None, package=None, settings=None
) -> int:
    """``settings`` (``--skip-existing``, see :func:`_run_settings`): finished labels with
    their recipe, made with these settings, are kept and nothing is done; an unfinished run
    resumes as always (its finished blocks are the engine's to keep), and labels left
    without their recipe are segmented again."""
    import warnings

    from .engine.blockwise import open_executor, segment_blockwise_steps, work_dir
    from .engine.io import write_json

    [(source, target)] = jobs
    if target.suffix != ".zarr":
        raise CliError(f"{target}: --blockwise writes zarr; name the output .zarr")
    overwrite = args.overwrite
    if settings is not None:
        todo, skipped, redo = _skip_existing(jobs, settings, model)
        if not args.quiet:
            _say_skipped_existing(skipped, redo, 1)
        if not todo:
            return 0
        overwrite = target in redo
    recipe_path = _recipe_path(target)  # the engine checks the output (and resumes)
    _check_writable(target)
    _recover_staging(target)  # a killed run's write of these labels (not --blockwise's)
    if recipe_path.is_dir():
        raise CliError(f"{recipe_path} is a folder; the recipe of {target.name} goes there")
    for path in (target, recipe_path):  # (a finished run's labels: the engine refuses too)
        if (path.exists() or path.is_symlink()) and not overwrite:
            raise CliError(f"{path} exists; pass --overwrite to replace it")
    _probe_recipe(recipe_path, target)  # before the long run, not after it
    replay = recipe.get("blockwise", {})  # a recipe replays the same blocks and halo
    block = _parse_block(args.block) or replay.get("block")
    bar, stage = None, None
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", UserWarning)
        shown = 0
        try:
            with open_executor(args.scheduler, args.workers) as executor:
                steps = segment_blockwise_steps(
                    source,
                    target,
                    model,
                    args.axes or recipe.get("axes"),
                    params,
                    block=block,
                    halo=replay.get("halo"),
                    tta=tta,
                    tile=tile,
                    device=args.device,
                    executor=executor,
                    overwrite=overwrite,
                    invert=invert,
                )
                while True:
                    try:
                        progress = next(steps)
                    except StopIteration as stop:
                        result = stop.value
                        break
                    for warning in caught[shown:]:
                        if not args.quiet:
                            print(f"warning: {warning.message}", file=sys.stderr)
                    shown = len(caught)
                    if progress.stage != stage:
                        if bar is not None:
                            bar.close()
                        stage = progress.stage
                        bar = _progress_bar(progress.total, f"{source.name}: {stage}", args.quiet)
                        bar.unit = "block"
                    bar.n = progress.done
                    bar.refresh()
        except KeyboardInterrupt:
            if work_dir(target).exists() and not args.quiet:
                print(f"finished blocks are kept in {work_dir(target)}", file=sys.stderr)
            raise
        except RuntimeError as exc:  # a worker died
            raise CliError(str(exc)) from None
        except (ValueError, FileExistsError) as exc:  # the engine's advice, as the CLI says it
            said = str(exc).replace("overwrite=True (--overwrite)", "--overwrite")
            raise CliError(said) from None
        finally:
            if bar is not None:
                bar.close()
    try:
        write_json(recipe_path, {**result.recipe, **(package or {})})
    except OSError as exc:  # the labels are kept: deleting a large output seems worse
        stale = recipe_path.exists() or recipe_path.is_symlink()
        if stale:  # a recipe of the labels just replaced: it would pass for theirs
            with contextlib.suppress(OSError):
                recipe_path.unlink()
        still = stale and (recipe_path.exists() or recipe_path.is_symlink())
        raise CliError(
            f"{target}: the labels were written, but their recipe could not be written to "
            f"{recipe_path} ({_reason(exc)})"
            + (
                "; the recipe there is an earlier run's"
                if still
                else "; the earlier run's recipe there was removed"
                if stale
                else ""
            )
            + "; the labels' zarr attributes ('tessella') hold their recipe"
        ) from None
    if args.ctc:  # frame by frame from the zarr: the movie is never held whole
        import zarr

        from .engine.tracking import write_ctc

        lineage = {int(c): int(p) for c, p in result.recipe.get("lineage", [])}
        write_ctc(zarr.open(str(result.path), mode="r"), lineage, args.ctc, args.overwrite)
    if not args.quiet:
        resumed = f", {result.resumed} resumed" if result.resumed else ""
        print(
            f"{source} -> {target}: {result.n_objects} "
            f"{'tracks' if 'lineage' in result.recipe else 'objects'} "
            f"({result.n_blocks} blocks{resumed})"
        )
    return 0


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
    from .engine.evaluation import prediction_note, scored_images, truth_objects
    from .engine.io import as_array, read_image

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
    from .engine.evaluation import ignore_label_clash, score_pairs

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
    from .engine.io import write_json
    from .engine.tracking import evaluate_ctc

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


#: suffixes a label image's stem is taken without, longest first (``a.ome.tif`` is ``a``)
_IMAGE_SUFFIXES = (".ome.tiff", ".ome.tif", ".ome.zarr", ".tiff", ".tif", ".zarr")


def _image_stem(path: Path) -> str | None:
    """The name of an image file (TIFF or zarr) without its suffix; None for other files.

    >>> _image_stem(Path("a.ome.tif")), _image_stem(Path("a.TIFF")), _image_stem(Path("a.png"))
    ('a', 'a', None)
    """
    name = path.name
    for suffix in _IMAGE_SUFFIXES:
        if name.lower().endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return None


def _images_by_stem(folder: Path) -> dict[str, list[Path]]:
    """The TIFF and zarr images of ``folder`` by stem (:func:`_image_stem`)."""
    stems: dict[str, list[Path]] = {}
    for path in sorted(folder.iterdir()):
        stem = _image_stem(path)
        if stem is not None and not path.name.startswith("."):
            stems.setdefault(stem, []).append(path)
    return stems


def _few(paths, count: int = 5) -> str:
    names = [str(p) for p in paths]
    more = f" and {len(names) - count} more" if len(names) > count else ""
    return ", ".join(names[:count]) + more


def _file_pairs(pred: str, gt: str, skipped: list | None = None) -> list[tuple[Path, Path]]:
    """(GT file, PRED file) pairs: two files, or the images (TIFF or zarr) of the GT folder
    each with the prediction of its stem (``P/a.tiff`` predicts ``G/a.tif``, as ``tessella
    segment`` keeps each input's suffix). CliError for a stem two files of a folder share
    and for ground truth without a prediction (all of them named in one line); predictions
    without ground truth are skipped (added to ``skipped``, for the printout to say)."""
    pred_path, gt_path = Path(pred), Path(gt)
    for path in (pred_path, gt_path):
        if not path.exists():
            raise CliError(f"{path}: no such file or folder")
    from .engine.io import is_zarr_path

    folders = [p.is_dir() and not is_zarr_path(p) for p in (pred_path, gt_path)]  # zarr: a file
    if folders[0] != folders[1]:
        raise CliError(
            f"PRED {pred_path} and GT {gt_path} must both be images (TIFF or zarr) or both "
            "folders of them"
        )
    if not folders[0]:
        return [(gt_path, pred_path)]
    truths, predictions = _images_by_stem(gt_path), _images_by_stem(pred_path)
    if not truths:
        raise CliError(f"{gt_path}: the folder holds no .tif/.tiff/.zarr images")
    for stems, folder in ((truths, gt_path), (predictions, pred_path)):
        shared = [paths for stem, paths in stems.items() if len(paths) > 1 and stem in truths]
        if shared:
            raise CliError(
                f"{folder}: {' and '.join(p.name for p in shared[0])} share the name "
                f"{_image_stem(shared[0][0])!r}, so which is paired with which is unclear"
                + (f" ({len(shared) - 1} more names alike)" if len(shared) > 1 else "")
                + "; rename or move one of them"
            )
    missing = [paths[0] for stem, paths in truths.items() if stem not in predictions]
    if missing:
        raise CliError(
            f"{pred_path}: no prediction for {len(missing)} of the {len(truths)} ground-truth "
            f"images of {gt_path} (predictions are paired by name, without the suffix): "
            + _few(p.name for p in missing)
        )
    if skipped is not None:
        skipped.extend(paths[0] for stem, paths in predictions.items() if stem not in truths)
    return [(paths[0], predictions[stem][0]) for stem, paths in truths.items()]


def _spacing(image, spatial: list[str], recipe: dict, recipe_path) -> tuple | None:
    """The voxel size post-processing uses: the file's pixel size, else the recipe's (a
    volume segmented in napari with a scale its file lacks); a difference is said."""
    recorded = recipe.get("spacing")
    if not isinstance(recorded, list) or len(recorded) != len(spatial):
        recorded = None
    if all(a in image.pixel_size for a in spatial):
        spacing = tuple(float(image.pixel_size[a]) for a in spatial)
        relative = np.asarray(spacing) / min(spacing)  # what post-processing uses
        if recorded is not None and not np.allclose(relative, np.asarray(recorded) / min(recorded)):
            print(
                f"warning: {image.path} has voxel size {spacing}; {recipe_path} was made with "
                f"{tuple(recorded)}, so objects may differ",
                file=sys.stderr,
            )
        return spacing
    return None if recorded is None else tuple(float(v) for v in recorded)


#: the type each recipe field must have (a hand-edited recipe is checked before use)
_RECIPE_TYPES = {
    "model": str,
    "model_sha256": str,
    "model_path": str,
    "model_package": str,
    "model_package_sha256": str,
    "params": dict,
    "axes": str,
    "tta": bool,
    "tile": int,
    "invert": bool,
    "spacing": list,
    "stack": bool,
    "blockwise": dict,
}


def _read_recipe(path: str) -> dict:
    """A recipe JSON, its fields checked; CliError naming the file and the field."""
    import json

    try:
        recipe = json.loads(Path(path).read_text())
    except (OSError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise CliError(f"{path}: cannot read recipe ({exc})") from None
    if not isinstance(recipe, dict):
        raise CliError(f"{path}: a recipe is a JSON object, got {type(recipe).__name__}")
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
            raise CliError(f"{path}: recipe field {key!r} must be {wanted[kind]}, got {value!r}")
    spacing = recipe.get("spacing")
    if spacing is not None and not all(
        isinstance(v, int | float) and not isinstance(v, bool) and v > 0 for v in spacing
    ):
        raise CliError(f"{path}: recipe field 'spacing' must hold positive numbers, got {spacing}")
    if recipe.get("tile") is not None and recipe["tile"] <= 0:
        raise CliError(f"{path}: recipe field 'tile' must be positive, got {recipe['tile']}")
    return recipe


def _cmd_evaluate_overlapping(args) -> int:
    from .engine.evaluation import score_mask_pairs, stack_without_ignored
    from .engine.io import read_mask_stack, read_masks, write_json

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

    from .engine.io import write_json

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


def _cmd_export_bioimageio(args) -> int:
    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise CliError(f"{out} exists; pass --overwrite to replace it")
    try:
        from .engine.bioimageio import INVERT_NOTE, export_bioimageio, inverts
    except ImportError as exc:  # pragma: no cover - bioimageio.spec is a dependency
        raise CliError(f"bioimageio.spec is needed to export ({exc})") from None
    from .engine.registry import checked_card

    export_bioimageio(args.model, out, test_image=args.test_image)
    print(f"wrote {out} (bioimage.io model 0.5, validated by bioimageio.spec)")
    if inverts(checked_card(args.model, verify=False)[0]):
        print(f"note: {INVERT_NOTE} The package's README and input description say so.")
    return 0


def _stdout_gone() -> bool:
    """Whether stdout is a pipe whose reader has gone (`| head` has all it wanted): a broken
    pipe of stdout, not of a worker's connection or of an output file."""
    import select

    try:
        poll = select.poll()
        poll.register(sys.stdout.fileno(), select.POLLOUT)
        return any(event & (select.POLLERR | select.POLLHUP) for _, event in poll.poll(0))
    except (OSError, ValueError, AttributeError):  # no real stdout (pytest's capture)
        return False


def _drop_stdout() -> None:
    """Send what is left of stdout nowhere: Python would otherwise report the broken pipe
    again when it flushes stdout at exit."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)


def main(argv: list[str] | None = None) -> int:
    parser = _build_parser()
    args = parser.parse_args(argv)
    handlers = {
        "models": _cmd_models,
        "segment": _cmd_segment,
        "evaluate": _cmd_evaluate,
        "train": _cmd_train,
        "export-bioimageio": _cmd_export_bioimageio,
    }
    import warnings

    def show(message, category, *_args, **_kwargs) -> None:  # one line, no source excerpt
        print(f"warning: {message}", file=sys.stderr, flush=True)

    try:
        # the engine's warnings, as one line each; `kill`, `timeout`, a batch system's time
        # limit: stop as Ctrl-C does
        with warnings.catch_warnings(), _sigterm_as_interrupt():
            warnings.showwarning = show
            warnings.simplefilter("always", UserWarning)
            code = handlers[args.command](args)
            sys.stdout.flush()  # here, where a reader gone away is seen (below)
            return code
    except (CliError, ValueError, FileExistsError, OSError) as exc:
        if isinstance(exc, BrokenPipeError) and _stdout_gone():
            # `tessella models --json | head`: the reader has all it wanted
            _drop_stdout()
            return 141  # 128 + SIGPIPE, as a shell reports a Unix tool that SIGPIPE ended
        print(f"tessella {args.command}: error: {exc}", file=sys.stderr)
        return 1
    except Terminated:
        print(f"tessella {args.command}: terminated", file=sys.stderr)
        return 143  # 128 + SIGTERM, as a shell reports a process that SIGTERM ended
    except KeyboardInterrupt:
        print(f"tessella {args.command}: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
