"""Screenshot of the Segment widget after a run on the nuclei sample (not a test).

xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_screenshots.py [MODEL] [OUT]
"""

import sys
import time
from pathlib import Path

import napari
from qtpy.QtWidgets import QApplication

model = sys.argv[1] if len(sys.argv) > 1 else None
out = (
    sys.argv[2]
    if len(sys.argv) > 2
    else str(Path(__file__).parent / "screenshots" / "segment_widget.png")
)
viewer = napari.Viewer(show=True)
viewer.window._qt_window.resize(1500, 900)
viewer.open_sample("tessella", "nuclei")
_dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Segment")
if model:
    assert widget.add_model(model)
print("model:", widget.model_combo.currentText())
done = []
widget.run_finished.connect(lambda: done.append(True))
widget.run_button.click()
start = time.time()
while not done and time.time() - start < 300:
    QApplication.processEvents()
    time.sleep(0.02)
for _ in range(30):
    QApplication.processEvents()
    time.sleep(0.02)
print("status:", widget.status_label.text())
viewer.screenshot(out, canvas_only=False)
viewer.close()
