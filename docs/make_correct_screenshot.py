"""Screenshot of the Correct widget reviewing Segment's labels of the nuclei sample (not a test).

xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_correct_screenshot.py [OUT]
"""

import sys
import time
from pathlib import Path

import napari
from qtpy.QtWidgets import QApplication

from tessella._widgets._segment_outputs import result_name

default = Path(__file__).parent / "screenshots" / "correct_widget.png"
out = sys.argv[1] if len(sys.argv) > 1 else str(default)


def settle(seconds: float = 0.6) -> None:
    end = time.time() + seconds
    while time.time() < end:
        QApplication.processEvents()
        time.sleep(0.02)


viewer = napari.Viewer(show=True)
viewer.window._qt_window.resize(1500, 950)
viewer.open_sample("tessella", "nuclei")
_dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
done = []
segment.run_finished.connect(lambda: done.append(True))
segment.run_button.click()
start = time.time()
while not done and time.time() - start < 300:
    settle(0.05)
print("segment:", segment.status_label.text())

_dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
index = correct.layer_combo.findText(result_name("nuclei", "labels", "nuclei2d"))
assert index >= 0, "no nuclei2d labels to correct"
correct.layer_combo.setCurrentIndex(index)
# step to the most unusual object away from the image border (border ones are cut-off nuclei)
for _ in correct.suspects():
    suspect = correct.step_suspicious()
    if all(60 < c < 450 for c in suspect.centroid):
        break
print("suspect:", correct.suspect_label.text())
correct.merge_button.setFocus()
settle()
viewer.screenshot(out, canvas_only=False)
print("wrote", out)
viewer.close()
