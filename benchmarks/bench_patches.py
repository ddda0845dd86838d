"""PatchPerPix assembly time on a 520 x 696 BBBC010 well (the issue: a laptop CPU, no CUDA).

Runs the bundled ``worms2d`` network once on a validation well, then times the assembly from
its prediction: cold (decoding the candidate patches, the consensus score), and a change of
``cover_threshold`` or ``min_size`` (cached candidates). Needs ``../shared/data``.
"""

from __future__ import annotations

import os
from pathlib import Path

from ._common import median_time, row

DATA = Path(
    os.environ.get("TESSELLA_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
# the brightfield images of this copy of BBBC010 are the files in gfp/ (dark worms on a bright
# field, aligned with worm_masks/); brightfield/ holds the GFP channel
WELL = DATA / "worms_bbbc010" / "gfp" / "E03.tif"


def run(repeats: int = 3) -> None:
    import tifffile

    from tessella.engine.methods import patches
    from tessella.engine.pipeline import predict_steps, run_steps
    from tessella.engine.registry import ModelError, load_model

    if not WELL.is_file():
        print(f"  skipped: BBBC010 is not at {WELL.parent.parent} (set TESSELLA_DATA)")
        return
    try:
        model = load_model("worms2d")
    except ModelError as exc:
        print(f"  skipped: {exc}")
        return
    image = tifffile.imread(WELL)
    [prediction] = run_steps(predict_steps(image, model, "YX"))
    params = patches.Params(**model.card.defaults.get("params", {}))

    def cold():
        patches._CACHE.clear()
        patches.instances(prediction, params)

    shape = "x".join(map(str, image.shape))
    row(f"assembly {shape}, cold (decode + consensus + cover + graph)", median_time(cold, repeats))
    found = patches._candidates(prediction, params)
    print(f"  ({len(found.coords)} candidate patches of {found.patches.shape[1]}²)")
    changed = patches.Params(**{**params.__dict__, "cover_threshold": 0.6})

    def cover_change():
        # the candidates keep their last assemblies (by cover_threshold, ...): forget them, so
        # each call assembles anew as a change to a new value does, not a cache hit
        found.assembled.clear()
        patches.instances(prediction, changed)

    warm = median_time(cover_change, repeats)
    row("assembly after a cover_threshold change (cached candidates)", warm)
