"""Score a time-lapse model on Cell Tracking Challenge sequences and record it in its card.

    python tools/score_ctc.py MODEL_DIR \\
        --seq ../shared/data/ctc_Fluo-N2DH-GOWT1/01:39:48 \\
        --seq ../shared/data/ctc_Fluo-N2DH-SIM+/01:52:65 [--tta] [--keep runs/eval] [--record]

For each ``SEQUENCE:A:B`` it runs ``tessella segment SEQUENCE --ctc RES`` on the whole movie
(linking needs every frame), then ``tessella evaluate RES SEQUENCE_GT --ctc --frames A:B``
(the held-out frames ``A .. B-1``: SEG on their annotated cells, links ending in them) and
once more over all frames (links through the whole movie; its SEG includes training frames).
The scores are printed; with ``--record`` they, the commands and the date go into
``MODEL_DIR/card.json`` under "validation": ``command`` (this call for the sequence, the paths
as seen from the repository root; add ``--record`` to write it) and ``commands`` (the two
tessella steps, OUT an existing folder of your choosing). A sequence's entry replaces the
card's entry of that sequence (and TTA or not) only; notes written by hand in it are kept.
"""

from __future__ import annotations

import argparse
import datetime
import json
import shlex
import sys
import tempfile
from pathlib import Path

from tessella.cli import model_dir

sys.path.insert(0, str(Path(__file__).resolve().parent))
from score_model import merged, run, shown_model, shown_path  # the same logged `tessella` call


def _scores(res: Path, gt: Path, frames: str | None, tmp: Path) -> tuple[dict, list[str]]:
    out = tmp / "scores.json"
    command = ["evaluate", str(res), str(gt), "--ctc", "--json", str(out), "-q"]
    command += ["--frames", frames] if frames else []
    run(command)
    scores = json.loads(out.read_text())
    rounded = {k: round(v, 4) if isinstance(v, float) else v for k, v in scores.items()}
    return rounded, command


def score(model: Path, spec: str, tta: bool, keep: Path | None, shown: str = "") -> dict:
    sequence, start, stop = spec.rsplit(":", 2)
    sequence = Path(sequence)
    gt = sequence.parent / f"{sequence.name}_GT"
    name = f"{sequence.parent.name}_{sequence.name}"
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        where = keep or tmp
        where.mkdir(parents=True, exist_ok=True)
        suffix = "_tta" if tta else ""
        labels, res = where / f"{name}{suffix}.tif", where / f"{name}{suffix}_RES"
        segment = ["segment", str(sequence), "-o", str(labels), "--model", str(model)]
        segment += ["--ctc", str(res), "--overwrite", "-q", "--tta" if tta else "--no-tta"]
        seconds = run(segment)
        held_out, evaluate = _scores(res, gt, f"{start}:{stop}", tmp)
        whole, _ = _scores(res, gt, None, tmp)
    call = ["python", "tools/score_ctc.py", shown or str(model)]
    call += ["--seq", f"{shown_path(sequence)}:{start}:{stop}"] + (["--tta"] if tta else [])
    segment[1], segment[segment.index("--model") + 1] = shown_path(sequence), shown or str(model)
    return {
        "sequence": shown_path(sequence),
        "held_out_frames": f"{start}:{stop}",
        "tta": tta,
        "held_out": held_out,
        "all_frames": {
            k: whole[k] for k in whole if k.startswith(("link", "links", "repro", "div"))
        },
        "segment_seconds": round(seconds, 1),
        "command": shlex.join(call),
        "commands": [
            "tessella " + shlex.join(segment).replace(str(where), "OUT"),
            "tessella "
            + shlex.join([evaluate[0], evaluate[1], shown_path(evaluate[2]), *evaluate[3:]])
            .replace(str(where), "OUT")
            .replace(str(tmp), "."),
        ],
        "date": datetime.date.today().isoformat(),
    }


def build_parser() -> argparse.ArgumentParser:
    """The command line (the stored ``command`` of a card's sequence parses with it)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "model", type=lambda text: (text, model_dir(text)), help="model name or directory"
    )
    parser.add_argument(
        "--seq",
        action="append",
        required=True,
        metavar="SEQUENCE:A:B",
        help="a CTC sequence folder (its ground truth beside it, SEQUENCE_GT) and the held-out "
        "frames A to B - 1 (repeatable)",
    )
    parser.add_argument("--tta", action="store_true", help="also score with TTA")
    parser.add_argument("--keep", type=Path, help="keep the labels and CTC results here")
    parser.add_argument(
        "--record",
        action="store_true",
        help="write the scores into the card's validation (the sequences scored replaced, "
        "their notes kept)",
    )
    return parser


def main() -> None:
    args = build_parser().parse_args()
    text, model = args.model
    card_path = model / "card.json"
    card = json.loads(card_path.read_text())
    results = [score(model, spec, False, args.keep, shown_model(text)) for spec in args.seq]
    if args.tta:
        results += [score(model, spec, True, args.keep, shown_model(text)) for spec in args.seq]
    print(json.dumps({"sequences": results}, indent=2))
    if args.record:
        # each sequence's entry in place of the card's of that sequence (and TTA or not), its
        # notes kept; the card's other sequences kept
        prior = (card.get("validation") or {}).get("sequences") or []
        keyed = {(e.get("sequence"), e.get("tta")): e for e in prior if isinstance(e, dict)}
        for result in results:
            old = keyed.get((result["sequence"], result["tta"]))
            keyed[(result["sequence"], result["tta"])] = merged(old, result, True)[0]
        card["validation"] = {**(card.get("validation") or {}), "sequences": list(keyed.values())}
        partial = card_path.with_name(card_path.name + ".partial")
        partial.write_text(json.dumps(card, indent=2, ensure_ascii=False) + "\n")
        partial.replace(card_path)


if __name__ == "__main__":
    main()
