"""Screenshot of em-membranes2d on one ISBI 2012 slice with "Show network outputs" ticked (not a
test): the labels on top, readable, and the network's boundary map translucent below them.

xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python \
    docs/make_membranes_outputs_screenshot.py ../shared/data/em_membranes_isbi2012 [OUT]
"""

import sys
import time
from pathlib import Path

import napari
import tifffile
from _segment_shot import settle
from qtpy.QtWidgets import QApplication

data = Path(sys.argv[1])
default = Path(__file__).parent / "screenshots" / "em_membranes_outputs.png"
out = sys.argv[2] if len(sys.argv) > 2 else str(default)

viewer = napari.Viewer(show=True)
viewer.window._qt_window.resize(1500, 950)
viewer.add_image(tifffile.imread(data / "images" / "17.tif"), name="ISBI slice 17")
_dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
names = [segment.model_combo.itemText(i) for i in range(segment.model_combo.count())]
segment.model_combo.setCurrentIndex(next(i for i, n in enumerate(names) if "em-membranes2d" in n))
segment.outputs_checkbox.setChecked(True)
done = []
segment.run_finished.connect(lambda: done.append(True))
segment.run_button.click()
start = time.time()
while not done and time.time() - start < 600:
    QApplication.processEvents()
    time.sleep(0.05)
print("segment:", segment.status_label.text())
print("layers (bottom to top):", [(la.name, la.opacity, la.visible) for la in viewer.layers])
viewer.reset_view()
viewer.camera.zoom *= 2  # a quarter of the slice: the boundary map visible between the labels
viewer.camera.center = (0, 160, 160)
settle(1.5)
viewer.screenshot(out, canvas_only=False)
print("wrote", out)
viewer.close()
