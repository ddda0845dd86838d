"""Time-lapse post-processing and linking on the real Fluo-N2DH-SIM+ movie (65 x 690 x 628),
and the cells2dt network per frame.

The maps are the SIM+ ground truth made network-like (foreground and each cell's centre map,
blurred with sigma 1, pixel noise sd 0.1), so the figures are those of a movie with real cell
counts, sizes, motion and divisions. Needs ``../shared/data`` (or ``TESSELLA_DATA``).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import numpy as np

from ._common import median_time, row

DATA = Path(
    os.environ.get("TESSELLA_DATA", Path(__file__).resolve().parents[2] / "shared" / "data")
)
SIM = DATA / "ctc_Fluo-N2DH-SIM+"
GOWT1 = DATA / "ctc_Fluo-N2DH-GOWT1" / "01"


def _maps(labels: np.ndarray, rng) -> dict:
    from scipy import ndimage

    from tessella.engine.train.methods import centre_map

    maps = {}
    for key, target in (
        ("foreground", (labels > 0).astype(np.float32)),
        ("centre", centre_map(labels)),
    ):
        blurred = ndimage.gaussian_filter(target, 1.0)
        maps[key] = np.clip(blurred + rng.normal(0, 0.1, labels.shape), 0, 1)[None]
    return maps


def run(repeats: int = 3) -> None:
    import tifffile

    from tessella.engine.methods import Prediction
    from tessella.engine.methods import temporal as method
    from tessella.engine.tracking import link, link_accuracy, read_ctc_tracks

    gt = SIM / "01_GT"
    if not gt.is_dir():
        print(f"  skipped: the SIM+ data are not at {SIM} (set TESSELLA_DATA)")
        return
    count = len(list((gt / "SEG").glob("man_seg*.tif")))
    seg = np.stack([tifffile.imread(gt / "SEG" / f"man_seg{t:03d}.tif") for t in range(count)])
    markers = np.stack(
        [tifffile.imread(gt / "TRA" / f"man_track{t:03d}.tif") for t in range(count)]
    )
    rng = np.random.default_rng(0)
    predictions = [Prediction(_maps(frame, rng), "YX") for frame in seg]
    params = method.Params()
    shape = "x".join(map(str, seg.shape))
    one = median_time(lambda: method.postprocess_frame(predictions, 30, params), repeats)
    row(f"one frame ({seg.shape[1]}x{seg.shape[2]}), as Tune previews it", one * 1000, "ms")
    frames = None

    def series():
        nonlocal frames
        frames = method.postprocess_series(predictions, method.Params(link=False))[0]

    whole = median_time(series, repeats, warmup=0)
    row(f"every frame of {shape}, no linking", whole, "s")
    linking = median_time(lambda: link(frames), repeats, warmup=0)
    row(f"linking {count} frames ({int(frames.max())} objects per frame at most)", linking, "s")
    tracked, lineage = link(frames)
    scores = link_accuracy(markers, read_ctc_tracks(gt / "TRA" / "man_track.txt"), tracked, lineage)
    row("links reproduced (GT-like maps, default parameters)", scores["link_accuracy"], "")

    try:
        from tessella.engine.registry import load_model

        model = load_model("cells2dt")
    except Exception as exc:  # not bundled yet
        print(f"  network: skipped ({exc})")
        return
    from tessella.engine.pipeline import predict_steps, run_steps

    movie = np.stack([tifffile.imread(GOWT1 / f"t{t:03d}.tif") for t in range(4)])
    for tta in (False, True):
        start = time.perf_counter()
        run_steps(predict_steps(movie, model, "TYX", tta=tta))
        per_frame = (time.perf_counter() - start) / len(movie)
        label = f"cells2dt network per {movie.shape[1]}x{movie.shape[2]} frame (window 3)"
        row(label + (", 8x TTA" if tta else ""), per_frame, "s")
