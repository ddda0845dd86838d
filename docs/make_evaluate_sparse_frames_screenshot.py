"""Screenshot of the Evaluate panel scoring cells2dt's labels of Fluo-N2DH-GOWT1 frames 39-44
against their SEG ground truth, which annotates only a few nuclei in some of those frames: SEG
first, and in a sparse frame every nucleus the annotation leaves out yellow (not annotated) in
the errors layer, the counts' Yellow column and the short status saying so (not a test).

The six frames and their SEG files are linked into a temporary folder in the Cell Tracking
Challenge's layout (01/t000.tif ..., 01_GT/SEG/man_seg000.tif ...), opened by Tessella's reader
and segmented with Segment as a user would (a few minutes on CPU).

xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python \
    docs/make_evaluate_sparse_frames_screenshot.py [OUT]
"""

import os
import sys
import tempfile
from pathlib import Path

import napari
import numpy as np
from _segment_shot import segment_with, settle, wait

from tessella._widgets._segment_outputs import OUTPUT_KEY

data = Path(os.environ.get("TESSELLA_DATA", "/work/shared/data")) / "ctc_Fluo-N2DH-GOWT1"
default = Path(__file__).parent / "screenshots" / "evaluate_sparse_within_frames.png"
out = sys.argv[1] if len(sys.argv) > 1 else str(default)
first, last = 39, 44

folder = Path(tempfile.mkdtemp(prefix="gowt_")) / "gowt"
(folder / "01").mkdir(parents=True)
(folder / "01_GT" / "SEG").mkdir(parents=True)
for t in range(first, last + 1):
    (folder / "01" / f"t{t - first:03d}.tif").symlink_to(data / "01" / f"t{t:03d}.tif")
    seg = data / "01_GT" / "SEG" / f"man_seg{t:03d}.tif"
    if seg.exists():
        (folder / "01_GT" / "SEG" / f"man_seg{t - first:03d}.tif").symlink_to(seg)

viewer = napari.Viewer(show=True)
viewer.window._qt_window.resize(1500, 950)
viewer.open(str(folder / "01"), plugin="tessella")
segment_with(viewer, "cells2dt", axes="TYX")
labels = next(
    layer
    for layer in viewer.layers
    if (layer.metadata.get(OUTPUT_KEY) or {}).get("kind") == "labels"
)
viewer.open(str(folder / "01_GT" / "SEG"), plugin="tessella")
truth = viewer.layers[-1]
gt = np.asarray(truth.data)
# a sparse frame: annotated, with the fewest annotated nuclei
annotated = [t for t in range(gt.shape[0]) if gt[t].any()]
sparse = min(annotated, key=lambda t: len(np.unique(gt[t])))
print("annotated frames", annotated, "shown", sparse, len(np.unique(gt[sparse])) - 1, "nuclei")

_dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
widget.pred_combo.setCurrentText(labels.name)
widget.truth_combo.setCurrentText(truth.name)
widget.errors_checkbox.setChecked(True)
print("prediction:", widget.pred_combo.currentText(), "truth:", widget.truth_combo.currentText())
widget.evaluate_button.click()
settle(1)
wait(widget.evaluate_button.isEnabled, 300)
settle(1)
viewer.dims.set_point(0, sparse)
settle(2)
print("status:", widget.status_label.text())
print("tooltip:", widget.status_label.toolTip())
viewer.screenshot(out, canvas_only=False)
print("wrote", out)
viewer.close()
