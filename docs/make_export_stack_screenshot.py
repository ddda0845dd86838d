"""Screenshot of the Export widget after exporting worms2d's labels of BBBC010 well A06: the
crossing worms' mask stack (.stack.tif) beside the flat labels, the CSV measuring each worm
whole (not a test). The files go to a temporary folder.

xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_export_stack_screenshot.py [OUT]
"""

import sys
import tempfile
from pathlib import Path

import napari
import numpy as np
from _segment_shot import settle, wait

from tessella._widgets._segment_outputs import result_name
from tessella.engine.io import read_image

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
default = Path(__file__).parent / "screenshots" / "export_stack.png"
out = sys.argv[1] if len(sys.argv) > 1 else str(default)


viewer = napari.Viewer(show=True)
viewer.window._qt_window.resize(1500, 950)
# (in this copy of BBBC010 the gfp/ files are the brightfield images worms2d reads)
viewer.add_image(
    np.asarray(read_image(DATA / "worms_bbbc010" / "gfp" / "A06.tif").data), name="A06"
)
dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
segment.model_combo.setCurrentIndex(
    next(
        i
        for i in range(segment.model_combo.count())
        if segment.model_combo.itemText(i).startswith("worms2d")
    )
)
done = []
segment.run_finished.connect(lambda: done.append(True))
segment.run_button.click()
wait(lambda: bool(done))
print("segment:", segment.status_label.text())
viewer.window.remove_dock_widget(dock)

_dock, export = viewer.window.add_plugin_dock_widget("tessella", "Export")
index = export.labels_combo.findText(result_name("A06", "labels", "worms2d"))
assert index >= 0, "no worms2d labels to export"
export.labels_combo.setCurrentIndex(index)
export.path_edit.setText(str(Path(tempfile.mkdtemp(prefix="tessella_export_")) / "A06"))
export.export_button.click()  # the defaults: labels, mask stack, CSV, recipe
viewer.reset_view()
settle(0.6)
print("export:", export.status_label.text())
viewer.screenshot(out, canvas_only=False)
viewer.close()
