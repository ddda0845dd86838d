"""Screenshot of the Tune widget beside Segment after a run and a slider change (not a test).

xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_tune_screenshot.py [OUT]
"""

import sys
import time
from pathlib import Path

import napari
from _segment_shot import wait
from qtpy.QtWidgets import QApplication

default = Path(__file__).parent / "screenshots" / "tune_widget.png"
out = sys.argv[1] if len(sys.argv) > 1 else str(default)


viewer = napari.Viewer(show=True)
viewer.window._qt_window.resize(1500, 950)
viewer.open_sample("tessella", "nuclei")
_dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
_dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
done = []
segment.run_finished.connect(lambda: done.append(True))
segment.run_button.click()
wait(lambda: bool(done))
print("segment:", segment.status_label.text())
viewer.reset_view()  # fit the whole image to the canvas the docks left
tune.controls["min_size"].setValue(60)
wait(lambda: "drawing" in tune.status_label.text())  # the update and its drawing timed
for _ in range(30):
    QApplication.processEvents()
    time.sleep(0.02)
print("tune:", tune.status_label.text())
viewer.screenshot(out, canvas_only=False)
viewer.close()
