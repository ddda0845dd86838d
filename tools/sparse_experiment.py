"""How much sparse annotations cost, and what ``--ignore-label`` recovers: fine-tune a model on
training images where part of the objects were left unannotated, once with those objects as
background (what an unlabelled pixel means without the option) and once painted with the
ignore label, and score the fully annotated hold-out after every epoch.

    python tools/sparse_experiment.py nuclei2d --data ../shared/data/nuclei2d_dsb2018/train \
        --images 150 --hide 0.5 --steps 100 --epochs 3 --out runs/sparse-experiment

Each training image keeps a random ``--hide`` fraction of its objects out of the annotation;
the "marked" variant paints those objects, grown by ``--margin`` pixels (a quick brush), with
the ignore label, as a user would. "full" (every object annotated) is the reference. The
hold-out is the one ``tessella train`` uses (fraction 0.05, seed 0), never the validation
split. Prints and writes ``OUT/summary.json``.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace
from pathlib import Path

import numpy as np
from scipy import ndimage

from tessella.cli import model_dir
from tessella.engine.pipeline import run_steps
from tessella.engine.registry import load_model
from tessella.engine.train import TrainConfig
from tessella.engine.train.data import load_folder_pairs, split_holdout
from tessella.engine.train.loop import train_steps, training_normalization

UNANNOTATED = 2**31 - 1


def hide_objects(labels: np.ndarray, fraction: float, margin: int, rng) -> tuple:
    """(labels with the hidden objects as background, labels with them painted UNANNOTATED)."""
    ids = np.unique(labels)
    ids = ids[ids > 0]
    hidden = rng.choice(ids, int(round(fraction * len(ids))), replace=False) if len(ids) else ids
    mask = np.isin(labels, hidden)
    naive = np.where(mask, 0, labels)
    painted = ndimage.binary_dilation(mask, iterations=margin) & ((labels == 0) | mask)
    return naive, np.where(painted, UNANNOTATED, labels)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", type=model_dir, help="the model to fine-tune (embedding)")
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--images", type=int, default=150, help="training images used")
    parser.add_argument("--hide", type=float, default=0.5, help="fraction of objects hidden")
    parser.add_argument("--margin", type=int, default=2, help="brush margin of the painting")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--steps", type=int, default=100, help="steps per epoch")
    parser.add_argument("--lr", type=float, default=3e-4)
    parser.add_argument("--variants", default="full,naive,marked")
    args = parser.parse_args()
    model = load_model(args.model)
    normalization = training_normalization(model.card.raw, None)
    samples = load_folder_pairs(args.data, "YX", 1, normalization)
    train, holdout = split_holdout(samples, 0.05, 0)
    rng = np.random.default_rng(0)
    train = [train[i] for i in sorted(rng.choice(len(train), args.images, replace=False))]
    hidden = [hide_objects(s.labels, args.hide, args.margin, rng) for s in train]
    variants = {
        "full": (train, None),
        "naive": ([replace(s, labels=h[0]) for s, h in zip(train, hidden)], None),
        "marked": ([replace(s, labels=h[1]) for s, h in zip(train, hidden)], UNANNOTATED),
    }
    summary = {"model": str(args.model), "images": args.images, "hide": args.hide}
    for name in args.variants.split(","):
        chosen, ignore_label = variants[name]
        config = TrainConfig(
            method=model.card.method,
            data=f"{args.data} ({args.images} images, {name})",
            out=str(args.out / name),
            base=str(args.model),
            epochs=args.epochs,
            steps_per_epoch=args.steps,
            batch_size=8,
            patch=256,
            lr=args.lr,
            device="cpu",
            ignore_label=ignore_label,
            command="python " + " ".join(__import__("sys").argv),
        )
        run_steps(train_steps(config, chosen, holdout))
        log = [json.loads(x) for x in (args.out / name / "train.log").read_text().splitlines()]
        summary[name] = [round(entry["val_ap50"], 4) for entry in log]
        print(name, "hold-out AP(0.5) by epoch (0: the base):", summary[name], flush=True)
    (args.out / "summary.json").write_text(json.dumps(summary, indent=1))


if __name__ == "__main__":
    main()
