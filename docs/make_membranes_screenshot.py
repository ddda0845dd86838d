"""Screenshot: em-membranes2d on the 20-slice ISBI 2012 stack as an anisotropic 3D volume (2D
prediction per slice, 3D agglomeration), with Tune showing the boundary parameters (not a test).

xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_membranes_screenshot.py \
    ../shared/data/em_membranes_isbi2012 [OUT]
"""

import sys
import time
from pathlib import Path

import napari
import numpy as np
import tifffile
from qtpy.QtWidgets import QApplication

from tessella._widgets._segment_outputs import result_name

data = Path(sys.argv[1])
default = Path(__file__).parent / "screenshots" / "em_membranes_3d.png"
out = sys.argv[2] if len(sys.argv) > 2 else str(default)

stack = np.stack([tifffile.imread(data / "images" / f"{i:02d}.tif") for i in range(20)])
viewer = napari.Viewer(show=True)
viewer.window._qt_window.resize(1500, 950)
viewer.add_image(stack, name="ISBI 2012 stack", scale=(0.05, 0.004, 0.004))
for layer in viewer.layers:
    layer.units = ("µm", "µm", "µm")
_dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
index = next(
    i
    for i in range(segment.model_combo.count())
    if "em-membranes2d" in segment.model_combo.itemText(i)
)
segment.model_combo.setCurrentIndex(index)
done = []
segment.run_finished.connect(lambda: done.append(True))
segment.run_button.click()
start = time.time()
while not done and time.time() - start < 900:
    QApplication.processEvents()
    time.sleep(0.05)
print("segment:", segment.status_label.text())
_dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
viewer.dims.set_point(0, 17 * 0.05)  # a validation slice
labels = viewer.layers[result_name("ISBI 2012 stack", "labels", "em-membranes2d")]
labels.opacity = 0.45
for _ in range(40):
    QApplication.processEvents()
    time.sleep(0.02)
viewer.screenshot(out, canvas_only=False)
print("wrote", out)
viewer.close()
