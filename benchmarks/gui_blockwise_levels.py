"""How long napari takes to draw a big 2D blockwise result at middle zoom, and its memory, by
the levels the result layer has (not part of ``python -m benchmarks``: it needs a display).

The result is a labels zarr as blockwise writes it (uint32, one chunk a block): the shipped
nuclei sample's labels tiled, each tile's IDs their own. Each variant runs in a fresh process
with a shown viewer: ``two`` is the layer before middle levels ([zarr, every Nth pixel in
memory], N = :func:`tessella._widgets._blockwise.overview_stride`); ``middle`` adds
:func:`~tessella._widgets._blockwise.middle_levels` (the reader's lazy computed levels);
``written`` instead adds levels written beforehand to zarrs chunk by chunk (what writing
them in the worker would give). The camera is then put at zooms where napari wants every
2nd, 4th, ... pixel, centred and then panned; each draw (camera change to painted canvas)
is timed, with the level napari drew and the peak resident memory.

xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python -m benchmarks.gui_blockwise_levels \
    [--size 12000] [--block 2048] [--folder /tmp/levels]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from ._common import SAMPLES

VARIANTS = ("two", "middle", "written")


def make_labels(path: Path, size: int, block: int) -> None:
    """A ``size``² uint32 labels zarr in chunks of ``block``, the real nuclei labels tiled."""
    import tifffile
    import zarr

    tile = tifffile.imread(SAMPLES / "nuclei_labels.tif").astype(np.uint32)
    th, tw = tile.shape
    top = int(tile.max())
    array = zarr.create_array(
        str(path), shape=(size, size), chunks=(block, block), dtype="uint32", fill_value=0
    )
    for y in range(0, size, block):  # a row of chunks at a time: never the whole array
        rows = np.zeros((min(block, size - y), size), np.uint32)
        for r in range(rows.shape[0]):
            i = (y + r) // th
            line = tile[(y + r) % th]
            for j in range(-(-size // tw)):
                seg = np.where(line > 0, line + (i * 1000 + j) * top, 0)[: size - j * tw]
                rows[r, j * tw : j * tw + seg.size] = seg
        array[y : y + rows.shape[0]] = rows


def write_levels(folder: Path) -> None:
    """Every 2nd, 4th, ... pixel (finer than the overview) of ``folder/labels.zarr`` written
    to ``folder/levelF.zarr`` one chunk of it at a time."""
    import zarr

    from tessella._widgets._blockwise import overview_stride

    labels = zarr.open_array(str(folder / "labels.zarr"), mode="r")
    stride, factor = overview_stride(labels.shape), 2
    levels = []
    while factor < stride:
        shape = tuple(-(-n // factor) for n in labels.shape)
        levels.append((factor, zarr.create_array(
            str(folder / f"level{factor}.zarr"), shape=shape, chunks=(1024, 1024),
            dtype="uint32", fill_value=0, overwrite=True,
        )))  # fmt: skip
        factor *= 2
    (cy, cx), (h, w) = labels.chunks, labels.shape
    for y in range(0, h, cy):
        for x in range(0, w, cx):
            part = np.asarray(labels[y : y + cy, x : x + cx])
            for factor, level in levels:  # (chunk starts are multiples of the factors)
                tile = part[::factor, ::factor]
                level[y // factor : y // factor + tile.shape[0],
                      x // factor : x // factor + tile.shape[1]] = tile  # fmt: skip


def written_levels(folder: Path) -> list:
    import zarr

    found = sorted(folder.glob("level*.zarr"), key=lambda p: int(p.stem[5:]))
    return [zarr.open_array(str(path), mode="r") for path in found]


def measure(variant: str, folder: Path) -> dict:
    import napari
    import zarr
    from qtpy.QtWidgets import QApplication

    from tessella._widgets._blockwise import _overview_of, middle_levels, overview_stride

    labels = zarr.open_array(str(folder / "labels.zarr"), mode="r")
    stride = overview_stride(labels.shape)
    final = _overview_of(labels, stride)  # (the worker reads it)
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1500, 950)
    app = QApplication.instance()

    def draw() -> float:
        start = time.perf_counter()
        app.processEvents()
        viewer.window._qt_viewer.canvas.native.repaint()
        app.processEvents()
        return time.perf_counter() - start

    draw()
    start = time.perf_counter()
    middle = {"two": [], "middle": middle_levels(labels, stride)}.get(variant)
    if middle is None:
        middle = written_levels(folder)
    layer = viewer.add_labels([labels, *middle, final], multiscale=True, name="result")
    layer.editable = False
    added = time.perf_counter() - start + draw()
    rss_added = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    canvas = viewer.window._qt_viewer.canvas.native
    width = min(canvas.width(), canvas.height())
    rows = []
    for factor in (8, 4, 2):  # from the overview, zoomed in to where napari wants 1/factor
        if labels.shape[0] / factor <= width:
            continue
        viewer.reset_view()
        draw()
        for dy in (0, 1):  # centred, then panned by most of the view
            with viewer.scene.camera.events.blocker():
                viewer.scene.camera.zoom = 1.0 / (factor * 1.1)  # screen pixels a data pixel
                viewer.scene.camera.center = (labels.shape[0] / 2 + dy * width * factor * 1.2,) * 2
            viewer.scene.camera.events.zoom()  # (one draw for both)
            seconds = draw()
            level = int(layer.data_level)
            rss = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
            rows.append({"factor": factor, "pan": dy, "s": round(seconds, 2), "level": level,
                         "peak_mb": rss})  # fmt: skip
    viewer.close()
    return {
        "variant": variant,
        "levels": [tuple(int(n) for n in lev.shape) for lev in layer.data],
        "add_s": round(added, 2),
        "rss_after_add_mb": round(rss_added),
        "draws": rows,
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gui_blockwise_levels")
    parser.add_argument("--size", type=int, default=12000)
    parser.add_argument("--block", type=int, default=2048)
    parser.add_argument("--folder", type=Path)
    parser.add_argument("--variant", choices=VARIANTS)  # (one, in this process)
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="tessella_levels_"))
    if args.variant:
        print(json.dumps(measure(args.variant, folder)))
        return
    if not (folder / "labels.zarr").exists():
        start = time.perf_counter()
        make_labels(folder / "labels.zarr", args.size, args.block)
        print(f"labels {args.size}² in {time.perf_counter() - start:.1f} s: {folder}")
    if not list(folder.glob("level*.zarr")):
        start = time.perf_counter()
        write_levels(folder)
        print(f"levels written in {time.perf_counter() - start:.1f} s")
    for variant in VARIANTS:
        command = [sys.executable, "-m", "benchmarks.gui_blockwise_levels", "--folder"]
        done = subprocess.run(
            [*command, str(folder), "--variant", variant], capture_output=True, text=True
        )
        print(done.stdout.strip().splitlines()[-1] if done.returncode == 0 else done.stderr)


if __name__ == "__main__":
    main()
