"""Screenshot: worms2d on a BBBC010 well: labels, the "overlaps" layer holding the worms the
label image hides where they cross, and Tune with the PatchPerPix parameters (not a test).

xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_worms_screenshot.py \
    ../shared/data/worms_bbbc010/gfp/E03.tif [OUT] [MODEL]

(the brightfield images of this copy of BBBC010 are the files in gfp/)
"""

import sys
import time
from pathlib import Path

import napari
import tifffile
from qtpy.QtWidgets import QApplication

well = Path(sys.argv[1])
default = Path(__file__).parent / "screenshots" / "worms_overlaps.png"
out = sys.argv[2] if len(sys.argv) > 2 else str(default)
model = sys.argv[3] if len(sys.argv) > 3 else "worms2d"

viewer = napari.Viewer(show=True)
viewer.window._qt_window.resize(1500, 950)
viewer.add_image(tifffile.imread(well), name=f"BBBC010 {well.stem}")
_dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
if Path(model).exists():  # a model folder, not a bundled name
    segment.add_model(model)
    model = Path(model).name
index = next(
    i for i in range(segment.model_combo.count()) if model in segment.model_combo.itemText(i)
)
segment.model_combo.setCurrentIndex(index)
done = []
segment.run_finished.connect(lambda: done.append(True))
segment.run_button.click()
start = time.time()
while not done and time.time() - start < 600:
    QApplication.processEvents()
    time.sleep(0.05)
print("segment:", segment.status_label.text())
_dock, tune = viewer.window.add_plugin_dock_widget("tessella", "Tune")
for _ in range(60):
    QApplication.processEvents()
    time.sleep(0.02)
viewer.screenshot(out, canvas_only=False)
print("wrote", out)
viewer.close()
