"""Score a model on a validation folder with our own commands and record it in its card.

    python tools/score_model.py MODEL_DIR --images VAL/images --masks VAL/masks [--tta]

Runs ``tessella segment`` on every validation image, then ``tessella evaluate`` against the
masks, and writes the scores, the two commands and the date into ``MODEL_DIR/card.json`` under
"validation". The weights (and their sha256) are not touched.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import sys
import tempfile
from pathlib import Path

from tessella.cli import main as tessella


def run(args: list[str]) -> None:
    print("$ tessella " + shlex.join(args), flush=True)
    code = tessella(args)
    if code:
        sys.exit(code)


def score(model: Path, images: Path, masks: Path, tta: bool, dataset: str) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        predictions, scores_file = Path(tmp) / "pred", Path(tmp) / "scores.json"
        segment = ["segment", str(images), "-o", str(predictions), "--model", str(model), "-q"]
        segment.append("--tta" if tta else "--no-tta")
        run(segment)
        evaluate = ["evaluate", str(predictions), str(masks), "--json", str(scores_file)]
        run(evaluate)
        scores = json.loads(scores_file.read_text())
    return {
        "dataset": dataset,
        "tta": tta,
        "n_images": scores["n_images"],
        "scores": {
            "ap50": round(scores["ap"]["0.5"], 4),
            "avs": round(scores["avs"], 4),
            "ap": {k: round(v, 4) for k, v in scores["ap"].items()},
            "precision50": round(scores["precision"]["0.5"], 4),
            "recall50": round(scores["recall"]["0.5"], 4),
        },
        "commands": [
            "tessella " + shlex.join(segment).replace(str(predictions), "PRED"),
            "tessella evaluate PRED " + str(masks),
        ],
        "date": datetime.date.today().isoformat(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("model", type=Path)
    parser.add_argument("--images", type=Path, required=True)
    parser.add_argument("--masks", type=Path, required=True)
    parser.add_argument("--dataset", default="validation split")
    parser.add_argument("--tta", action="store_true", help="also score with TTA")
    args = parser.parse_args()
    card_path = args.model / "card.json"
    card = json.loads(card_path.read_text())
    validation = score(args.model, args.images, args.masks, False, args.dataset)
    if args.tta:
        validation["with_tta"] = score(args.model, args.images, args.masks, True, args.dataset)
    card["validation"] = validation
    card_path.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    print(json.dumps(validation, indent=2))


if __name__ == "__main__":
    main()
