"""The input statistic of the bundled models' training images, and the check's false alarms.

For each bundled model: the 10th/50th/90th percentiles of the normalised network input
(``tessella.engine.pipeline._input_check``) over its training images, written into its card as
``input_statistics`` with ``--write``; then the check run on every validation image of the
model's dataset (it should warn of none) and on images of another kind (it should warn).

    python tools/input_stats.py [--data ../shared/data] [--write] [--models worms2d,nuclei2d]

Training and validation images (as the cards' commands and the README split them):
nuclei2d: nuclei2d_dsb2018/train and /val; worms2d: worms_bbbc010/gfp (the brightfield images
in this copy) but the validation wells D06-E04 / those wells; em-mito2d: the slices of
em_mito_lucchipp/train/image.tif / of val/image.tif; em-mito3d: slabs of 20 slices of the same
volumes, each normalised as a whole (the whole val volume for validation); em-membranes2d:
ISBI slices 0-15 / 16-19; cells2dt: the frames of CTC SIM+ 01 and GOWT1 01 but the hold-out
frames (SIM+ 52-64, GOWT1 39-47) / those frames.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import tifffile

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from tessella.engine.io import read_image
from tessella.engine.pipeline._input_check import (
    input_quantiles,
    input_range,
    unfamiliar_input,
)
from tessella.engine.pipeline._inputs import _model_input
from tessella.engine.registry import read_card

BUNDLED = Path(__file__).resolve().parents[1] / "src" / "tessella" / "bundled"
WORMS_VAL = ("D06", "D07", "D08", "D10", "D12", "D17", "D20", "D21", "E03", "E04")
MODELS = ("nuclei2d", "worms2d", "em-mito2d", "em-mito3d", "em-membranes2d", "cells2dt")


def _files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.tif"))


def _image_input(path: Path, card) -> np.ndarray:
    image = read_image(path)
    return _model_input(np.asarray(image.data), image.axes, card, str(path))


def _slices(volume: np.ndarray, card, name: str) -> Iterator[tuple[str, np.ndarray]]:
    for z in range(len(volume)):
        yield f"{name}[z={z}]", _model_input(volume[z], "YX", card, name)


def _slabs(volume: np.ndarray, card, name: str, depth: int = 20) -> Iterator:
    for z in range(0, len(volume) - depth + 1, depth):
        yield f"{name}[z={z}:{z + depth}]", _model_input(volume[z : z + depth], "ZYX", card, name)


def _frames(folder: Path, card, keep) -> Iterator[tuple[str, np.ndarray]]:
    for i, path in enumerate(_files(folder)):
        if keep(i):
            yield str(path), _model_input(tifffile.imread(path), "YX", card, str(path))


def inputs(model: str, data: Path, card, split: str) -> Iterator[tuple[str, np.ndarray]]:
    """(name, normalised input) of ``model``'s ``split`` ("train" or "val") images."""
    val = split == "val"
    if model == "nuclei2d":
        for path in _files(data / "nuclei2d_dsb2018" / split / "images"):
            yield str(path), _image_input(path, card)
    elif model == "worms2d":
        for path in _files(data / "worms_bbbc010" / "gfp"):
            if (path.stem in WORMS_VAL) == val:
                yield str(path), _image_input(path, card)
    elif model in ("em-mito2d", "em-mito3d"):
        path = data / "em_mito_lucchipp" / split / "image.tif"
        volume = tifffile.imread(path)
        if model == "em-mito2d":
            yield from _slices(volume, card, str(path))
        elif val:
            yield str(path), _model_input(volume, "ZYX", card, str(path))
        else:
            yield from _slabs(volume, card, str(path))
    elif model == "em-membranes2d":
        for path in _files(data / "em_membranes_isbi2012" / "images"):
            if (int(path.stem) >= 16) == val:
                yield str(path), _image_input(path, card)
    elif model == "cells2dt":
        for folder, held in (("ctc_Fluo-N2DH-SIM+", (52, 65)), ("ctc_Fluo-N2DH-GOWT1", (39, 48))):
            yield from _frames(
                data / folder / "01", card, lambda t, h=held: (h[0] <= t < h[1]) == val
            )
    else:
        raise SystemExit(f"no data known for model {model!r}")


#: (model, image, what it is): the cases the check should warn of
OTHER_KIND = (
    ("worms2d", "worms_bbbc010/brightfield/{well}.tif", "GFP channel (brightfield/)"),
    ("nuclei2d", "em_membranes_isbi2012/images/{isbi}.tif", "EM slice (ISBI)"),
    ("nuclei2d", "em_mito_lucchipp/val/image.tif[z=0]", "EM slice (Lucchi++)"),
    ("em-mito2d", "nuclei2d_dsb2018/val/images/{dsb}.tif", "DSB nuclei image"),
    ("em-membranes2d", "nuclei2d_dsb2018/val/images/{dsb}.tif", "DSB nuclei image"),
    ("em-mito2d", "em_mito_lucchipp/val/image.tif[z=0]:inverted", "inverted EM slice"),
    ("worms2d", "worms_bbbc010/gfp/{well}.tif:inverted", "inverted brightfield"),
)


def _other_kind(data: Path, model: str, spec: str, card) -> Iterator[tuple[str, np.ndarray]]:
    invert = spec.endswith(":inverted")
    spec = spec.removesuffix(":inverted")
    if "{well}" in spec:
        paths = [data / spec.format(well=p.stem) for p in _files(data / "worms_bbbc010" / "gfp")]
    elif "{isbi}" in spec:
        paths = _files(data / "em_membranes_isbi2012" / "images")
    elif "{dsb}" in spec:
        paths = _files(data / "nuclei2d_dsb2018" / "val" / "images")
    else:
        paths = [data / spec]
    for path in paths:
        if str(path).endswith("[z=0]"):
            real = Path(str(path)[: -len("[z=0]")])
            array, axes = tifffile.imread(real)[0], "YX"
        else:
            image = read_image(path)
            array, axes = np.asarray(image.data), image.axes
        if invert:
            array = array.max() - array
        yield str(path), _model_input(array, axes, card, str(path))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared/data"))
    parser.add_argument(
        "--models", default="nuclei2d,worms2d,em-mito2d,em-mito3d,em-membranes2d,cells2dt"
    )
    parser.add_argument(
        "--write", action="store_true", help="write input_statistics into the cards"
    )
    parser.add_argument(
        "--check-only", action="store_true", help="use the cards' ranges as they are"
    )
    args = parser.parse_args(argv)
    data = Path(args.data)
    rows = []
    computed: dict[str, dict] = {}
    for model in args.models.split(","):
        card_path = BUNDLED / model / "card.json"
        card = read_card(BUNDLED / model)
        if not args.check_only:
            values = [input_quantiles(x) for _, x in inputs(model, data, card, "train")]
            stats = input_range(
                [v for v in values if v is not None],
                "python tools/input_stats.py --write (its docstring names the images)",
            )
            card.raw["input_statistics"] = computed[model] = stats
            print(model, "training", stats["n"], "low", stats["low"], "high", stats["high"])
            if args.write:
                raw = json.loads(card_path.read_text())
                raw["input_statistics"] = stats
                card_path.write_text(json.dumps(raw, indent=2, ensure_ascii=False) + "\n")
        warned = total = 0
        for name, x in inputs(model, data, card, "val"):
            total += 1
            said = unfamiliar_input(input_quantiles(x), card, name)
            if said:
                warned += 1
                print("  false alarm:", said)
        rows.append((model, "validation images", warned, total))
    for model, spec, what in OTHER_KIND:
        if model not in args.models.split(","):
            continue
        card = read_card(BUNDLED / model)
        if model in computed:
            card.raw["input_statistics"] = computed[model]
        warned = total = 0
        for name, x in _other_kind(data, model, spec, card):
            total += 1
            said = unfamiliar_input(input_quantiles(x), card, name)
            warned += bool(said)
            if total == 1 and said:
                print("  e.g.", said)
        rows.append((model, what, warned, total))
    print("| model | images | warned |")
    print("|---|---|---|")
    for model, what, warned, total in rows:
        print(f"| {model} | {what} | {warned} of {total} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
