"""How long the GUI freezes at the end of a big 2D blockwise run, when the preview becomes the
result (:meth:`tessella._widgets._blockwise.BlockwisePreview.finish`), and its first draw (not
part of ``python -m benchmarks``: it needs a display).

The result is a ``size``² uint32 labels zarr of blocky objects (48 px squares, a third of them
background) in 1024² chunks. Each run is a fresh process with a shown viewer: a preview is
opened and refreshed as two finished blocks refresh it, the final overview and the middle
levels are computed as the run's worker computes them, then ``finish`` is timed (the preview
layer given the result's levels, scale and metadata) and the first ``processEvents`` after it
(the first draw of the result). With ``--profile`` the 25 most costly calls of ``finish`` are
printed too. Session 33 (fcab105) measured finish 1.8-4.1 s before (the preview removed and a
new layer added) and 0.3-0.6 s after, at 8192² on 2 busy cores.

xvfb-run -a -s "-screen 0 1500x950x24" .venv/bin/python -m benchmarks.gui_blockwise_finish \
    [--size 8192] [--runs 3] [--folder /tmp/finish] [--profile]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_labels(path: Path, size: int) -> None:
    """A ``size``² uint32 labels zarr of 48-px squares in 1024² chunks, a row of chunks at a
    time (never the whole array in memory)."""
    import zarr

    array = zarr.create_array(str(path), shape=(size, size), dtype="uint32", chunks=(1024, 1024))
    xx = np.arange(size)[None, :] // 48
    for y in range(0, size, 1024):
        yy = np.arange(y, min(y + 1024, size))[:, None] // 48
        ids = (yy * (size // 48 + 1) + xx + 1).astype("uint32")
        array[y : y + yy.shape[0], :] = ids * ((xx + yy) % 3 > 0)


def measure(folder: Path, profile: bool) -> dict:
    import cProfile
    import gc
    import pstats

    import napari
    from qtpy.QtWidgets import QApplication

    from tessella._widgets import _blockwise

    out = folder / "labels.zarr"
    labels = _blockwise._open_labels(out)
    side = labels.shape[0]
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1500, 950)
    app = QApplication.instance()

    def pump(turns: int = 20) -> None:
        for _ in range(turns):
            app.processEvents()
            time.sleep(0.01)

    viewer.add_image(np.zeros((side // 8, side // 8), np.uint8), scale=(8, 8), name="image")
    preview = _blockwise.BlockwisePreview(
        viewer, out, "image labels (nuclei2d)", {}, shape=labels.shape
    )
    stride = preview.overview.stride
    preview._copy = _blockwise._overview_of(labels, stride)
    for _ in range(2):  # two blocks finished: the preview opened, then refreshed
        preview.block_done()
        pump()
    # what the run's worker computes before finish (_blockwise.BlockwisePreview.take)
    preview.overview.final = _blockwise._overview_of(labels, stride)
    preview.overview.middle = _blockwise.middle_levels(labels, stride)
    gc.collect()
    pump()
    profiler = cProfile.Profile() if profile else None
    start = time.perf_counter()
    if profiler is not None:
        profiler.enable()
    layer = preview.finish({"tessella_source": "image"})
    finished = time.perf_counter()
    app.processEvents()  # the first draw of the result
    drawn = time.perf_counter()
    if profiler is not None:
        profiler.disable()
        pstats.Stats(profiler, stream=sys.stderr).sort_stats("cumulative").print_stats(25)
    result = {
        "size": side,
        "stride": stride,
        "finish_s": round(finished - start, 3),
        "first_draw_s": round(drawn - finished, 3),
        "levels": len(layer.data),
        "same_layer": layer is preview.layer,
    }
    viewer.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gui_blockwise_finish")
    parser.add_argument("--size", type=int, default=8192)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--folder", type=Path)
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)  # (a run)
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="tessella_finish_"))
    if args.one:
        print(json.dumps(measure(folder, args.profile)))
        return
    if not (folder / "labels.zarr").exists():
        start = time.perf_counter()
        make_labels(folder / "labels.zarr", args.size)
        print(f"labels {args.size}² in {time.perf_counter() - start:.1f} s: {folder}")
    command = [sys.executable, "-m", "benchmarks.gui_blockwise_finish", "--folder", str(folder)]
    command += ["--one"] + (["--profile"] if args.profile else [])
    for _ in range(args.runs):  # each in a fresh process
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            print(done.stderr)
            continue
        if args.profile:
            print(done.stderr)
        print(done.stdout.strip().splitlines()[-1])


if __name__ == "__main__":
    main()
