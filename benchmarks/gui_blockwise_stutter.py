"""How much the viewer stutters while the Segment panel runs blockwise (not part of
``python -m benchmarks``: it needs a display, a model and minutes of CPU).

A ``size``² mosaic of Fluo-N2DH-GOWT1 frames (``$TESSELLA_DATA``, 1024² each) is written as a
zarr in 1024² chunks (or ``--image`` is used), opened with Tessella's reader as a napari user
opens it, and segmented from the Segment panel in blockwise mode (nuclei2d, no TTA, blocks of
``--block`` px) in a shown viewer. A 50 ms QTimer on the GUI thread, as user tester s34/t15
measured it, gives the gaps between its ticks; each gap over 250 ms is a freeze. For each
freeze the GUI thread's ``/proc/self/task/TID/schedstat`` is read before and after, which
splits it into time the GUI thread ran (its own work), waited for a CPU (the machine's other
threads: the run's torch threads, other processes) and slept (blocked: on Python's GIL held by
the worker thread, or idle), and a watchdog thread samples the GUI thread's Python stack while
a tick is late, so that GUI-thread work is named. Prints the longest freeze, the count over
250 ms and over 1 s, and where the frozen time went.

Session 34 (4096² in 1024² blocks, 16 blocks, 2 busy cores, load 9-11, one run each): with the
preview read from the provisional zarr by napari, longest freeze 4.3 s and 5.6 s, 12 and 8
over 1 s, 122 and 21 over 250 ms (59.5 s and 22.5 s frozen; the GUI thread waiting on zarr's
reads was 9.3 s of the second run's samples); with the preview a copy in memory that the worker
pastes each block into (no zarr read on the GUI thread), 2.0 s, 2 over 1 s, 36 over 250 ms
(15.9 s frozen: 0.9 s ran, 7.8 s waited for a CPU, 7.1 s slept, mostly while the worker ran
the network's Python code between torch kernels, holding the GIL). The load varies a lot
between runs: compare runs made one after the other. Run back to back (before from a worktree
of the parent commit): before, 7.3 s longest, 12 over 1 s, 26 over 250 ms, 27.4 s frozen (18.6 s
of it slept; 97 samples of the GUI thread in zarr's reads); after, 2.5 s, 1, 15, 8.0 s.

xvfb-run -a -s "-screen 0 1500x950x24" nice -n 10 .venv/bin/python \
    -m benchmarks.gui_blockwise_stutter [--size 4096] [--block 1024] [--image PATH]
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np


def make_mosaic(path: Path, size: int) -> None:
    """A ``size``² uint16 zarr of GOWT1 frames laid out 1024² each, in 1024² chunks."""
    import tifffile
    import zarr

    data = Path(os.environ.get("TESSELLA_DATA", "data")) / "ctc_Fluo-N2DH-GOWT1" / "01"
    array = zarr.create_array(str(path), shape=(size, size), dtype="uint16", chunks=(1024, 1024))
    side = size // 1024
    for k in range(side * side):
        frame = tifffile.imread(data / f"t{k:03d}.tif")
        r, c = divmod(k, side)
        array[r * 1024 : (r + 1) * 1024, c * 1024 : (c + 1) * 1024] = frame
    array.attrs.update({"tessella_axes": "YX", "pixel_size": {"Y": 0.24, "X": 0.24}, "unit": "µm"})


def _schedstat(tid: int) -> tuple[float, float]:
    """Seconds the thread ``tid`` ran and waited for a CPU, so far."""
    ran, waited, _ = open(f"/proc/self/task/{tid}/schedstat").read().split()
    return int(ran) / 1e9, int(waited) / 1e9


class Monitor:
    """The GUI thread's timer gaps, their split and the stacks sampled while it is late."""

    def __init__(self, interval: float = 0.05):
        from qtpy.QtCore import QTimer

        self.interval = interval
        self.tid = threading.get_native_id()
        self.main = threading.main_thread().ident
        self.gaps: list[float] = []
        self.split = np.zeros(3)  # frozen time: ran, waited for a CPU, slept
        self.stacks: collections.Counter = collections.Counter()
        self.others: collections.Counter = collections.Counter()  # the other threads'
        self.last = time.perf_counter()
        self.last_stat = _schedstat(self.tid)
        self.timer = QTimer()
        self.timer.setInterval(int(interval * 1000))
        self.timer.timeout.connect(self.tick)
        self.timer.start()
        self.running = True
        threading.Thread(target=self._watch, daemon=True).start()

    def reset(self) -> None:
        self.gaps.clear()
        self.split[:] = 0
        self.stacks.clear()
        self.others.clear()
        self.last = time.perf_counter()
        self.last_stat = _schedstat(self.tid)

    def tick(self) -> None:
        now, stat = time.perf_counter(), _schedstat(self.tid)
        gap = now - self.last
        self.gaps.append(gap)
        if gap > 0.25:
            ran, waited = stat[0] - self.last_stat[0], stat[1] - self.last_stat[1]
            self.split += (ran, waited, max(gap - ran - waited, 0.0))
        self.last, self.last_stat = now, stat

    def _watch(self) -> None:
        while self.running:
            time.sleep(0.1)
            if time.perf_counter() - self.last < 0.2:
                continue
            frames = sys._current_frames()
            me = threading.get_ident()
            for ident, frame in frames.items():
                if ident == me:
                    continue
                names = []
                while frame is not None and len(names) < (6 if ident == self.main else 4):
                    code = frame.f_code
                    names.append(f"{Path(code.co_filename).name}:{code.co_name}")
                    frame = frame.f_back
                stacks = self.stacks if ident == self.main else self.others
                stacks[" < ".join(names)] += 1

    def report(self, tag: str) -> dict:
        gaps = np.array(self.gaps or [0.0])
        frozen = gaps[gaps > 0.25]
        result = {
            "tag": tag,
            "ticks": len(self.gaps),
            "longest_s": round(float(gaps.max()), 2),
            "p99_ms": round(float(np.percentile(gaps, 99)) * 1000),
            "over_250ms": int(len(frozen)),
            "over_1s": int((gaps > 1).sum()),
            "frozen_s": round(float(frozen.sum()), 1),
            "frozen_ran_waited_slept_s": [round(float(v), 1) for v in self.split],
        }
        print(result, flush=True)
        print("the GUI thread while late (samples of 0.1 s):", flush=True)
        for stack, count in self.stacks.most_common(8):
            print(f"  {count:4d} x {stack}", flush=True)
        print("the other threads then (the run's worker holds the GIL in one of these):")
        for stack, count in self.others.most_common(12):
            print(f"  {count:4d} x {stack}", flush=True)
        return result


def run(image: Path, block: int, out: Path) -> dict:
    import napari
    from qtpy.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])

    def pump(seconds: float) -> None:
        end = time.perf_counter() + seconds
        while time.perf_counter() < end:
            app.processEvents()
            time.sleep(0.01)

    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1500, 950)
    layer = viewer.open(str(image), plugin="tessella")[0]
    _, panel = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    pump(1)
    panel.layer_combo.setCurrentIndex(panel.layer_combo.findText(layer.name))
    names = [panel.model_combo.itemText(i) for i in range(panel.model_combo.count())]
    panel.model_combo.setCurrentIndex(next(i for i, t in enumerate(names) if "nuclei2d" in t))
    panel.tta_checkbox.setChecked(False)
    panel.blockwise_checkbox.setChecked(True)
    panel.blockwise_edit.setText(str(out))
    panel.block_spin.setValue(block)
    pump(1)
    monitor = Monitor()
    monitor.reset()
    start = time.perf_counter()
    panel.run_button.click()
    while not panel.run_button.isEnabled():
        app.processEvents()
        time.sleep(0.01)
    wall = time.perf_counter() - start
    monitor.running = False
    print(f"run: {wall:.1f} s, {panel.status_label.text()[:160]}", flush=True)
    result = monitor.report(f"blockwise {image.name} blocks {block}")
    viewer.close()
    return result


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.gui_blockwise_stutter")
    parser.add_argument("--size", type=int, default=4096, help="mosaic side (1024 steps)")
    parser.add_argument("--block", type=int, default=1024)
    parser.add_argument("--image", type=Path, help="a 2D zarr instead of the mosaic")
    parser.add_argument("--folder", type=Path)
    args = parser.parse_args()
    folder = args.folder or Path(tempfile.mkdtemp(prefix="tessella_stutter_"))
    image = args.image
    if image is None:
        image = folder / f"mosaic{args.size}.zarr"
        if not image.exists():
            make_mosaic(image, args.size)
    out = folder / f"labels_{time.strftime('%H%M%S')}.zarr"
    run(image, args.block, out)


if __name__ == "__main__":
    main()
