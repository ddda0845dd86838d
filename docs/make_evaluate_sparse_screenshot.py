"""Screenshots of the Evaluate panel scoring Fluo-N2DH-GOWT1's sparse SEG ground truth (30 of 92
frames annotated, opened from its folder by Tessella's reader) against a prediction made from
it (some cells missed, some shrunk): one mid-run (progress bar, Cancel), one at the end (not
a test).

xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_evaluate_sparse_screenshot.py \
    docs/screenshots/evaluate_sparse.png   # also writes evaluate_sparse_running.png
"""

import os
import sys
import time
from pathlib import Path

import napari
import numpy as np
from qtpy.QtWidgets import QApplication
from scipy import ndimage

data = Path(os.environ.get("TESSELLA_DATA", "/work/shared/data")) / "ctc_Fluo-N2DH-GOWT1"
out = sys.argv[1]
viewer = napari.Viewer(show=True)
viewer.window._qt_window.resize(1500, 900)
viewer.open(str(data / "01"), plugin="tessella")
viewer.open(str(data / "01_GT" / "SEG"), plugin="tessella")
truth = viewer.layers[-1]
gt = np.asarray(truth.data)
annotated = [t for t in range(gt.shape[0]) if gt[t].any()]
pred = np.zeros(gt.shape, np.int32)
for t in range(gt.shape[0]):
    near = min(annotated, key=lambda a: abs(a - t))
    frame = gt[near]
    for k, i in enumerate(np.unique(frame[frame > 0])):
        if k % 9 == 4:
            continue
        mask = (
            ndimage.binary_erosion(frame == i, iterations=2 if k % 2 else 0)
            if k % 2
            else frame == i
        )
        pred[t][mask] = i
viewer.add_labels(pred, name="prediction", scale=truth.scale, units=truth.units)
viewer.layers["prediction"].contour = 2
best = max(annotated, key=lambda t: len(np.unique(gt[t])))
print("frame", best, len(np.unique(gt[best])) - 1)
viewer.dims.set_point(0, best)
truth.contour = 0
truth.visible = False
_dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
widget.errors_checkbox.setChecked(True)
widget.pred_combo.setCurrentText("prediction")
print("prediction:", widget.pred_combo.currentText(), "truth:", widget.truth_combo.currentText())
widget.evaluate_button.click()
shot = False
start = time.time()
while time.time() - start < 120:
    QApplication.processEvents()
    time.sleep(0.01)
    if not shot and widget.progress_bar.isVisible() and time.time() - start > 0.8:
        viewer.screenshot(out.replace(".png", "_running.png"), canvas_only=False)
        shot = True
    if widget.evaluate_button.isEnabled() and time.time() - start > 2:
        break  # the run is over
for _ in range(50):
    QApplication.processEvents()
    time.sleep(0.02)
print("status:", widget.status_label.text())
viewer.screenshot(out, canvas_only=False)
viewer.close()
