"""Foreground IoU of em-mito3d on a slab of a volume for several (tile, halo) settings
(the rule: docs/experiments/em-mito3d-tile-rule.txt).

    python tools/em_mito3d_tiles.py --image ../shared/data/em_mito_lucchipp/train/image.tif \
        --mask ../shared/data/em_mito_lucchipp/train/mito.tif --z 80:100 \
        --setting 128,16 --setting 256,32 [--tta] [--model em-mito3d]
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import time

import tifffile

from tessella.engine import metrics
from tessella.engine.pipeline import run_steps, segment_steps
from tessella.engine.registry import load_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--image", required=True)
    parser.add_argument("--mask", required=True)
    parser.add_argument("--z", default=":", help="the slab, start:stop")
    parser.add_argument("--setting", action="append", required=True, help="TILE,HALO")
    parser.add_argument("--model", default="em-mito3d")
    parser.add_argument("--tta", action="store_true")
    args = parser.parse_args()
    start, stop = (int(v) if v else None for v in args.z.split(":"))
    image = tifffile.imread(args.image)[start:stop]
    mask = tifffile.imread(args.mask)[start:stop] > 0
    base = load_model(args.model)
    for setting in args.setting:
        tile, halo = (int(v) for v in setting.split(","))
        card = copy.deepcopy(base.card)
        card.defaults["halo"] = halo
        model = dataclasses.replace(base, card=card)
        began = time.perf_counter()
        result = run_steps(
            segment_steps(image, model, "ZYX", tta=args.tta, tile=tile, device="cpu")
        )
        seconds = time.perf_counter() - began
        iou = metrics.foreground_iou(mask, result.labels > 0)
        row = {"tile": tile, "halo": halo, "tta": args.tta, "iou": round(iou, 4)}
        print(json.dumps({**row, "seconds": round(seconds, 1)}), flush=True)


if __name__ == "__main__":
    main()
