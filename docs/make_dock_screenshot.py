"""Screenshot of what ``make run`` docks, at 1366x768 (not a test): its two tab groups,
Segment (in front) and Train above Tune (in front), Correct, Export and Evaluate, after a
Run of Segment on the nuclei sample.

xvfb-run -a -s "-screen 0 1366x768x24" .venv/bin/python docs/make_dock_screenshot.py [OUT]
"""

import sys
from pathlib import Path

import napari
from _segment_shot import settle, wait

from tessella.launch import fit_to_screen, set_up

default = Path(__file__).parent / "screenshots" / "dock_segment_tune.png"
out = sys.argv[1] if len(sys.argv) > 1 else str(default)

viewer = napari.Viewer(show=True)
fit_to_screen(viewer)  # as make run does
widgets = set_up(viewer)
settle(2)
segment = widgets["Segment"]
done = []
segment.run_finished.connect(lambda: done.append(True))
segment.run_button.click()
wait(lambda: bool(done))
settle(2)
window = viewer.window._qt_window
print("window:", window.width(), "x", window.height())
print("segment:", segment.status_label.text())
print("tune:", widgets["Tune"].status_label.text())
viewer.screenshot(out, canvas_only=False)
print("wrote", out)
viewer.close()
