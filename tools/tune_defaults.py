"""Choose a model's default post-processing parameters on its training hold-out.

    python tools/tune_defaults.py MODEL_DIR --data TRAIN_DIR [--fraction 0.05 --seed 0]
    python tools/tune_defaults.py MODEL_DIR --data ISBI_DIR --holdout 14,15 --exclude 16,17,18,19
    python tools/tune_defaults.py MODEL_DIR --ctc SIM+/01:40:52 --ctc GOWT1/01:27:35
    python tools/tune_defaults.py MODEL_DIR --data D --tta --grid threshold=0.3,0.4,0.5 --dry-run

The hold-out is the one ``tessella train`` used for model selection (the same seeded split, or
the files named by ``--holdout``), never the validation split the card reports. The network
runs once per image; a grid of parameters is then scored with post-processing only, and the
best (by the method's training score: AP(0.5) then avS for embedding, V_rand for boundary) is
written to ``card.json`` under ``defaults.params`` with a note of how it was chosen.
"""

from __future__ import annotations

import argparse
import itertools
import json
import re
from pathlib import Path

import numpy as np
from scipy import ndimage

from tessella.cli import model_dir
from tessella.engine import metrics
from tessella.engine.methods import Prediction, get_method
from tessella.engine.pipeline import predict_steps, run_steps
from tessella.engine.registry import load_model
from tessella.engine.train._selectors import HeldOutEverything
from tessella.engine.train.data import Sample, load_folder_pairs, orientations, split_holdout

GRIDS = {
    "embedding": {
        "seed_thresh": (0.6, 0.7, 0.8, 0.85, 0.9, 0.95),
        "fg_thresh": (0.4, 0.5, 0.6),
        "min_size": (10, 25, 36, 50),
    },
    "boundary": {
        "boundary_thresh": (0.3, 0.4, 0.5, 0.6),
        "sigma_seeds": (1.0, 2.0, 3.0),
        "beta": (0.3, 0.4, 0.5, 0.6, 0.7),
    },
    "semantic": {
        "threshold": (0.4, 0.5, 0.6),
        "z_median": (0, 3, 5),
        "radius": (0, 1, 2),
    },
    "temporal": {
        "threshold": (0.4, 0.5, 0.6),
        "seed_threshold": (0.3, 0.5, 0.7),
        "temporal_sigma": (0.0, 0.5, 1.0),
        "min_size": (100, 300),
    },
    "patches": {
        "patch_threshold": (0.2, 0.3, 0.4, 0.5),
        "affinity_threshold": (0.1, 0.2, 0.3, 0.4),
        "cover_threshold": (0.7, 0.9, 0.95, 0.98),
        "mutex": (True, False),
        "min_size": (100, 300),
    },
}


def _scores(method: str, pairs) -> tuple[float, float]:
    """(primary, secondary) score of ``pairs``: higher is better."""
    if method == "semantic":
        truth = np.concatenate([t.ravel() > 0 for t, _ in pairs])
        pred = np.concatenate([p.ravel() > 0 for _, p in pairs])
        ap = metrics.average_precision_scores(pairs, (0.5,))["ap"][0.5]
        return metrics.foreground_iou(truth, pred), ap
    if method == "boundary":
        values = [metrics.rand_voi(t, p) for t, p in pairs]
        vrand = sum(v["vrand"] for v in values) / len(values)
        return vrand, -sum(v["voi"] for v in values) / len(values)
    if method == "patches":  # overlapping masks; avS is the target, then AP(0.5)
        scores = metrics.stack_average_precision_scores(pairs)
        return scores["avs"], scores["ap"][0.5]
    scores = metrics.average_precision_scores(pairs)
    return scores["ap"][0.5], scores["avs"]


def _ctc_frames(specs: list[str], model):
    """Time-lapse models: (truth, prediction index) pairs and the predictions of the frames
    ``A .. B-1`` of each CTC sequence ``SEQ:A:B`` (training frames, not the scored ones)."""
    import tifffile

    movies, pairs = [], []
    for spec in specs:
        sequence, start, stop = spec.rsplit(":", 2)
        sequence = Path(sequence)
        frames = range(int(start), int(stop))
        movie = np.stack([tifffile.imread(sequence / f"t{t:03d}.tif") for t in frames])
        predictions = run_steps(predict_steps(movie, model, "TYX"))
        seg = sequence.parent / f"{sequence.name}_GT" / "SEG"
        for i, t in enumerate(frames):
            path = seg / f"man_seg{t:03d}.tif"
            if path.is_file():
                pairs.append((tifffile.imread(path), len(movies), i))
        movies.append(predictions)
    return movies, pairs


def _tune_temporal(model, method, grid, args) -> list:
    movies, pairs = _ctc_frames(args.ctc, model)
    results = []
    for values in itertools.product(*grid.values()):
        changes = dict(zip(grid, values))
        params = method.Params(**{**method.Params().__dict__, **changes, "link": False})
        labels = [method.postprocess_series(m, params)[0] for m in movies]
        scored = [(truth, labels[m][i]) for truth, m, i in pairs]
        seg = metrics.seg_scores(scored)["seg"]
        results.append((seg, -sum(int(p.max()) for _t, p in scored), changes))
    return results


def _names(text: str | None) -> tuple[str, ...]:
    return tuple(n.strip() for n in text.split(",") if n.strip()) if text else ()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", type=model_dir, help="model name or directory")
    parser.add_argument("--data", type=Path, help="training folder (not for time-lapses)")
    parser.add_argument(
        "--ctc", action="append", metavar="SEQ:A:B", help="time-lapse: CTC training frames"
    )
    parser.add_argument("--fraction", type=float, default=0.05)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--holdout", help="file stems of the hold-out (as given to train)")
    parser.add_argument("--exclude", help="file stems never used (as given to train)")
    parser.add_argument(
        "--tta",
        action="store_true",
        help="tune for test-time augmented predictions and make TTA the model's default",
    )
    parser.add_argument(
        "--grid",
        action="append",
        default=[],
        metavar="NAME=V1,V2",
        help="replace (or add) one parameter's grid values",
    )
    parser.add_argument(
        "--orientations",
        action="store_true",
        help="score each hold-out image in all its dihedral orientations (8 in 2D, 16 in 3D): "
        "a less noisy choice on a small hold-out",
    )
    parser.add_argument("--dry-run", action="store_true", help="print; leave card.json alone")
    args = parser.parse_args()
    model = load_model(args.model)
    method_name = model.card.method
    method, grid = get_method(method_name), dict(GRIDS[method_name])
    for item in args.grid:
        name, _, values = item.partition("=")
        if not hasattr(method.Params(), name) or not values:
            parser.error(f"--grid {item}: expected NAME=V1,V2 with a {method_name} parameter")
        kind = type(getattr(method.Params(), name))
        if kind is bool:
            grid[name] = tuple(v.strip().lower() in ("1", "true", "yes") for v in values.split(","))
        else:
            grid[name] = tuple(kind(v) for v in values.split(","))
    spatial = model.card.spatial_axes
    normalization = {"low": 1.0, "high": 99.8}
    if method_name == "temporal":
        if not args.ctc:
            parser.error("a time-lapse model is tuned on --ctc SEQ:A:B training frames")
        results = _tune_temporal(model, method, grid, args)
        _write(args, method, grid, results, f"the training frames {args.ctc}", ("seg", "objects"))
        return
    if args.data is None:
        parser.error("--data is required")
    if method_name == "patches":  # objects overlap: mask stacks carried as bitmasks
        from tessella.engine.train.overlapping import bitmask_to_stack, load_overlapping_pairs

        samples = load_overlapping_pairs(args.data, normalization, _names(args.exclude))
    else:  # a 3D model's hold-out range is a slab of the volume, as in training
        samples = load_folder_pairs(
            args.data, spatial, 1, normalization, _names(args.exclude), _names(args.holdout)
        )
    try:
        _, holdout = split_holdout(samples, args.fraction, args.seed, _names(args.holdout))
    except HeldOutEverything:  # training refuses it; tuning scores the hold-out alone
        holdout = samples
    if method_name == "semantic" and spatial == "ZYX":  # instances are 3D components
        holdout = [Sample(s.image, ndimage.label(s.labels > 0)[0], s.name) for s in holdout]
    n_images = len(holdout)
    if args.orientations:  # NAME[o=K]: each image turned into its K-th dihedral orientation
        holdout = orientations(holdout)
    predictions = []
    for sample in holdout:
        # the samples are already normalised; normalising again is the identity up to scale
        predictions.append(
            run_steps(predict_steps(sample.image[0], model, spatial, tta=args.tta))[0]
        )
    if method_name == "semantic" and spatial == "YX" and all("[z=" in s.name for s in holdout):
        # consecutive slices of a volume: post-process them as the stack they are (z-median),
        # one stack per orientation
        groups: dict[str, list] = {}
        for sample, prediction in zip(holdout, predictions):
            turned = re.search(r"\[o=\d+\]$", sample.name)
            groups.setdefault(turned.group(0) if turned else "", []).append((sample, prediction))
        holdout, predictions = [], []
        for suffix, members in groups.items():
            predictions.append(
                Prediction(
                    {
                        k: np.stack([p.arrays[k] for _, p in members], axis=1)
                        for k in members[0][1].arrays
                    },
                    "ZYX",
                    dict(members[0][1].meta),
                )
            )
            stacked = ndimage.label(np.stack([s.labels for s, _ in members]) > 0)[0]
            holdout.append(Sample(members[0][0].image, stacked, "hold-out stack" + suffix))
    base = method.Params(**model.card.defaults.get("params", {}))
    results = []
    for values in itertools.product(*grid.values()):
        changes = dict(zip(grid, values))
        params = method.Params(**{**base.__dict__, **changes})
        if method_name == "patches":
            pairs = [
                (bitmask_to_stack(s.labels), method.instances(p, params))
                for s, p in zip(holdout, predictions)
            ]
        else:
            pairs = [
                (s.labels, method.postprocess(p, params)) for s, p in zip(holdout, predictions)
            ]
        results.append((*_scores(method_name, pairs), changes))
    names = {
        "boundary": ("vrand", "voi"),
        "semantic": ("foreground_iou", "ap50"),
        "patches": ("avs", "ap50"),
    }.get(method_name, ("ap50", "avs"))
    which = (
        f"files {args.holdout}" if args.holdout else f"fraction {args.fraction}, seed {args.seed}"
    )
    if args.orientations:
        which += ", each image in its dihedral orientations"
    _write(args, method, grid, results, f"the {n_images}-image training hold-out ({which})", names)


def _write(args, method, grid, results, where: str, names: tuple[str, str]) -> None:
    """Put the best parameters into the card with a note of how they were chosen."""
    results.sort(key=lambda r: (r[0], r[1]), reverse=True)
    primary, secondary, best = results[0]
    method_defaults = {k: getattr(method.Params(), k) for k in grid}
    default = next((r for r in results if r[2] == method_defaults), None)
    card_path = args.model / "card.json"
    card = json.loads(card_path.read_text())
    card_before = dict(card.get("defaults", {}).get("params", {}))
    card.setdefault("defaults", {})["params"] = {**card["defaults"].get("params", {}), **best}
    tta = getattr(args, "tta", False)
    card["defaults"]["tta"] = tta  # the parameters are tuned for this kind of prediction
    predictions = "test-time augmented predictions" if tta else "plain predictions"
    card["defaults"]["params_tuning"] = {
        "how": f"grid search over {grid} on {where} ({predictions}), maximising mean "
        f"{names[0]} then {names[1]}",
        f"holdout_{names[0]}": round(primary, 4),
        f"holdout_{names[1]}": round(abs(secondary), 4),
    }
    if default is not None:
        card["defaults"]["params_tuning"][f"holdout_{names[0]}_with_method_defaults"] = round(
            default[0], 4
        )
    current = {k: v for k, v in card_before.items() if k in grid}
    before = next((r for r in results if r[2] == current), None)
    if before is not None and len(current) == len(grid):  # the card's parameters, as scored
        card["defaults"]["params_tuning"][f"holdout_{names[0]}_with_previous_params"] = round(
            before[0], 4
        )
    if not args.dry_run:
        card_path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(card["defaults"], indent=2))
    print("top 5:", *[(round(a, 4), round(s, 4), p) for a, s, p in results[:5]], sep="\n")


if __name__ == "__main__":
    main()
