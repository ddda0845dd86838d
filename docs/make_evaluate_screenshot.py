"""Screenshot of the Evaluate widget scoring a perturbed prediction of the nuclei sample's ground
truth, with its errors shown (not a test).

xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_evaluate_screenshot.py [OUT]
"""

import sys
import time
from pathlib import Path

import napari
import numpy as np
from qtpy.QtWidgets import QApplication
from scipy import ndimage

default = Path(__file__).parent / "screenshots" / "evaluate_widget.png"
out = sys.argv[1] if len(sys.argv) > 1 else str(default)


def perturbed(truth: np.ndarray) -> np.ndarray:
    """A prediction with the usual faults: missed, merged, spurious and shrunken objects."""
    prediction = np.zeros(truth.shape, np.int32)
    ids = np.unique(truth[truth > 0])
    for k, i in enumerate(ids):
        if k % 25 == 3:  # missed
            continue
        mask = ndimage.binary_erosion(truth == i, iterations=k % 3) if k % 3 else truth == i
        prediction[mask] = k + 1
    # two touching objects as one
    left, right = truth[:, :-1], truth[:, 1:]
    touching = (left != right) & (left > 0) & (right > 0)
    prediction[np.isin(truth, (left[touching][0], right[touching][0]))] = len(ids) + 1
    prediction[250:264, 250:264] = len(ids) + 2  # spurious, on background
    return prediction


viewer = napari.Viewer(show=True)
viewer.window._qt_window.resize(1500, 900)
viewer.open_sample("tessella", "nuclei")
truth = viewer.layers["nuclei ground truth"].data
viewer.add_labels(perturbed(truth), name="prediction")
viewer.layers["prediction"].contour = 1  # outlines, so the errors show
_dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
widget.errors_checkbox.setChecked(True)
print("prediction:", widget.pred_combo.currentText(), "truth:", widget.truth_combo.currentText())
widget.evaluate_button.click()
start = time.time()
while time.time() - start < 1.5:
    QApplication.processEvents()
    time.sleep(0.02)
print("status:", widget.status_label.text())
viewer.screenshot(out, canvas_only=False)
viewer.close()
