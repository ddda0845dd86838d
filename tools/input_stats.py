"""The input statistic of the bundled models' training images, and the check's false alarms.

For each bundled model: the range of the 10th/50th/90th percentiles of the normalised network
input (``tessella.engine.pipeline._input_check``) over its training images, each whole and each
of its 256x256 crops normalised on its own (as Segment normalises a user's crop; nuclei2d's
whole images alone, see WHOLE_ONLY), written into its card as ``input_statistics`` with
``--write``; then the check run on every validation image
of the model's dataset and its crops (it should warn of none) and on images of another kind
(it should warn).

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


TILE = 256  # the crops' edge: a user's crop is normalised on its own, as Segment does
#: models whose range is that of their whole training images alone: DSB2018's mix of
#: fluorescence, brightfield and H&E, cropped, spans nearly all of 0-1 (no check left), while
#: whole images give 1 false alarm in the 161 crops of its validation images
WHOLE_ONLY = ("nuclei2d",)


def _image(path: Path) -> tuple[np.ndarray, str]:
    image = read_image(path)
    return np.asarray(image.data), image.axes


def _tiles(array: np.ndarray, axes: str) -> Iterator[tuple[str, np.ndarray]]:
    """The TILE x TILE crops of ``array`` (in Y and X; none under TILE / 2 in either)."""
    y, x = axes.index("Y"), axes.index("X")
    for top in range(0, array.shape[y] - TILE // 2, TILE):
        for left in range(0, array.shape[x] - TILE // 2, TILE):
            index = [slice(None)] * array.ndim
            index[y], index[x] = slice(top, top + TILE), slice(left, left + TILE)
            yield f"[y={top},x={left}]", array[tuple(index)]


def _raw(model: str, data: Path, split: str) -> Iterator[tuple[str, np.ndarray, str]]:
    """(name, array, axes) of ``model``'s ``split`` ("train" or "val") images, as read."""
    val = split == "val"
    if model == "nuclei2d":
        for path in _files(data / "nuclei2d_dsb2018" / split / "images"):
            yield (str(path), *_image(path))
    elif model == "worms2d":
        for path in _files(data / "worms_bbbc010" / "gfp"):
            if (path.stem in WORMS_VAL) == val:
                yield (str(path), *_image(path))
    elif model in ("em-mito2d", "em-mito3d"):
        path = data / "em_mito_lucchipp" / split / "image.tif"
        volume = tifffile.imread(path)
        if model == "em-mito2d":
            for z in range(len(volume)):
                yield f"{path}[z={z}]", volume[z], "YX"
        elif val:
            yield str(path), volume, "ZYX"
        else:
            for z in range(0, len(volume) - 19, 20):
                yield f"{path}[z={z}:{z + 20}]", volume[z : z + 20], "ZYX"
    elif model == "em-membranes2d":
        for path in _files(data / "em_membranes_isbi2012" / "images"):
            if (int(path.stem) >= 16) == val:
                yield (str(path), *_image(path))
    elif model == "cells2dt":
        for folder, (first, end) in (
            ("ctc_Fluo-N2DH-SIM+", (52, 65)),
            ("ctc_Fluo-N2DH-GOWT1", (39, 48)),
        ):
            for t, path in enumerate(_files(data / folder / "01")):
                if (first <= t < end) == val:
                    yield str(path), tifffile.imread(path), "YX"
    else:
        raise SystemExit(f"no data known for model {model!r}")


def inputs(
    model: str, data: Path, card, split: str, tiles: bool = True
) -> Iterator[tuple[str, np.ndarray]]:
    """(name, normalised input) of ``model``'s ``split`` ("train" or "val") images, each
    whole and (``tiles``) each of its TILE x TILE crops normalised on its own."""
    for name, array, axes in _raw(model, data, split):
        yield name, _model_input(array, axes, card, name)
        if tiles:
            for where, crop in _tiles(array, axes):
                yield name + where, _model_input(crop, axes, card, name + where)


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
            train = inputs(model, data, card, "train", tiles=model not in WHOLE_ONLY)
            values = [input_quantiles(x) for _, x in train]
            how = "python tools/input_stats.py --write: the training images whole" + (
                ""
                if model in WHOLE_ONLY
                else " and their 256x256 crops, each normalised on its own"
            )
            stats = input_range([v for v in values if v is not None], how)
            card.raw["input_statistics"] = computed[model] = stats
            print(model, "training", stats["n"], "low", stats["low"], "high", stats["high"])
            if args.write:
                raw = json.loads(card_path.read_text())
                raw["input_statistics"] = stats
                card_path.write_text(json.dumps(raw, indent=2, ensure_ascii=False) + "\n")
        counts = {False: [0, 0], True: [0, 0]}  # crop or not: [warned, total]
        for name, x in inputs(model, data, card, "val"):
            count = counts["[y=" in name]
            count[1] += 1
            said = unfamiliar_input(input_quantiles(x), card, name)
            if said:
                count[0] += 1
                print("  false alarm:", said)
        rows.append((model, "validation images", *counts[False]))
        rows.append((model, f"their {TILE}x{TILE} crops", *counts[True]))
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
