"""How much of a patches model's error is its foreground? Score it as it is, then with the
ground truth's foreground (and, optionally, overlaps) in place of its number-of-instances map.

    python tools/patches_oracle.py worms2d --images runs/bbbc010/images \\
        --masks runs/bbbc010/masks --names A05,B13,C09,D02 --orientations

Each image is predicted once (in each of its 8 dihedral orientations with ``--orientations``);
the assembly then runs three times (four with ``--foreground-model``) with the card's
parameters on the same network outputs:

- ``model``: as ``tessella segment`` would;
- ``true foreground``: pixels inside any true mask are foreground, with the network's own
  ratio of 2+ to 1+ instances there (so the overlaps it finds are kept), the rest background;
- ``true foreground + overlaps``: the true number of instances (0, 1, 2+) everywhere;
- with ``--foreground-model M`` (a ``semantic`` model), also ``foreground model``: M's
  foreground probability in place of the network's P(1+), the 2+/1+ ratio kept as above, to
  ask whether a separate foreground network would help before building one in.

The shape patches are the network's in every row, so the gap between the first two rows is
what a perfect foreground would add. Masks are ``(N, H, W)`` stacks, one per object
(BBBC010's ``worm_masks``), matched with overlaps kept. Diagnosis only: nothing is written.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import tifffile

from tessella.cli import model_dir
from tessella.engine.io import list_images
from tessella.engine.methods import Prediction, get_method
from tessella.engine.metrics import stack_average_precision_scores
from tessella.engine.pipeline import predict_steps, resolve_params, run_steps
from tessella.engine.registry import load_model
from tessella.engine.tta import dihedral_transforms, spatial


def with_foreground(prediction: Prediction, foreground: np.ndarray) -> Prediction:
    """``prediction`` with P(1+ instances) replaced by ``foreground`` (a probability map), the
    network's ratio of 2+ to 1+ instances kept."""
    _, one, more = np.asarray(prediction.arrays["numinst"], np.float32)
    share = more / np.maximum(one + more, 1e-6)
    numinst = np.stack([1 - foreground, foreground * (1 - share), foreground * share])
    return _replace_numinst(prediction, numinst)


def with_true_numinst(prediction: Prediction, masks: np.ndarray, overlaps: bool) -> Prediction:
    """``prediction`` with its number-of-instances map replaced from the true ``masks``."""
    count = masks.sum(0)
    if not overlaps:
        return with_foreground(prediction, (count > 0).astype(np.float32))
    return _replace_numinst(prediction, np.stack([count == 0, count == 1, count >= 2]))


def _replace_numinst(prediction: Prediction, numinst: np.ndarray) -> Prediction:
    numinst = numinst.astype(np.float32)
    return Prediction(
        {**prediction.arrays, "numinst": numinst}, prediction.spatial_axes, prediction.meta
    )


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("model", type=model_dir, help="a patches model's name or directory")
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--masks", type=Path, required=True, help="(N, H, W) mask stacks")
    parser.add_argument("--names", help="comma-separated file stems (default: all images)")
    parser.add_argument("--orientations", action="store_true", help="all 8 dihedral turns")
    parser.add_argument(
        "--foreground-model", type=model_dir, help="a semantic model whose foreground to try"
    )
    args = parser.parse_args(argv)
    model = load_model(args.model)
    if model.card.method != "patches":
        parser.error(f"{args.model}: a {model.card.method} model; this compares patches models")
    fg_model = load_model(args.foreground_model) if args.foreground_model else None
    if fg_model is not None and fg_model.card.method != "semantic":
        parser.error(f"{args.foreground_model}: a {fg_model.card.method} model, not semantic")
    method = get_method("patches")
    params = resolve_params(model, None)
    names = args.names.split(",") if args.names else None
    paths = [p for p in list_images(args.images) if names is None or p.stem in names]
    if names is not None and len(paths) != len(names):
        found = {p.stem for p in paths}
        parser.error(f"{args.images}: no image named {sorted(set(names) - found)}")
    transforms = dihedral_transforms(2) if args.orientations else dihedral_transforms(2)[:1]
    rows: dict[str, list] = {"model": [], "true foreground": [], "true foreground + overlaps": []}
    if fg_model is not None:
        rows["foreground model"] = []
    overlap = {key: np.zeros(2, np.int64) for key in rows}  # foreground intersection, union
    for path in paths:
        image = tifffile.imread(path)
        masks = tifffile.imread(args.masks / path.name) > 0
        for transform in transforms:
            turned, truth = spatial(image, transform), spatial(masks, transform)
            prediction = run_steps(predict_steps(np.ascontiguousarray(turned), model))[0]
            found = {
                "model": prediction,
                "true foreground": with_true_numinst(prediction, truth, overlaps=False),
                "true foreground + overlaps": with_true_numinst(prediction, truth, overlaps=True),
            }
            if fg_model is not None:
                fg_pred = run_steps(predict_steps(np.ascontiguousarray(turned), fg_model))[0]
                fg = np.asarray(fg_pred.arrays["foreground"], np.float32).reshape(truth.shape[1:])
                found["foreground model"] = with_foreground(prediction, fg)
            inside = truth.any(0)
            for key, pred in found.items():
                rows[key].append((truth, method.instances(pred, params)))
                numinst = np.asarray(pred.arrays["numinst"])
                kept = numinst[1] + numinst[2] > params.fg_threshold
                overlap[key] += np.array([(kept & inside).sum(), (kept | inside).sum()])
    scores = {}
    for key, pairs in rows.items():
        result = stack_average_precision_scores(pairs)
        fg_iou = round(float(overlap[key][0] / max(overlap[key][1], 1)), 4)
        scores[key] = {"avs": round(result["avs"], 4), "ap": result["ap"], "fg_iou": fg_iou}
        aps = " ".join(f"{t}: {v:.3f}" for t, v in result["ap"].items())
        print(
            f"{key:>28}: avS {result['avs']:.4f}  AP {aps}  foreground IoU {fg_iou:.3f}"
            f"  ({len(pairs)} images)"
        )
    return scores


if __name__ == "__main__":
    main()
