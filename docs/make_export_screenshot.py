"""Screenshot of the Export widget after exporting Segment's labels of the nuclei sample (not a
test): no nuclei overlap, so the mask stack option is off and greyed out. The files go to a
temporary folder.

xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_export_screenshot.py [OUT]
"""

import sys
import tempfile
from pathlib import Path

import napari
from _segment_shot import settle, wait

from tessella._widgets._segment_outputs import result_name

default = Path(__file__).parent / "screenshots" / "export_widget.png"
out = sys.argv[1] if len(sys.argv) > 1 else str(default)


viewer = napari.Viewer(show=True)
viewer.window._qt_window.resize(1500, 950)
viewer.open_sample("tessella", "nuclei")
viewer.layers["nuclei"].scale = (0.5, 0.5)  # as if read from a file with a 0.5 µm pixel size
viewer.layers["nuclei ground truth"].scale = (0.5, 0.5)
dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
segment.layer_combo.setCurrentIndex(segment.layer_combo.findText("nuclei"))
done = []
segment.run_finished.connect(lambda: done.append(True))
segment.run_button.click()
wait(lambda: bool(done))
print("segment:", segment.status_label.text())
viewer.window.remove_dock_widget(dock)  # the Export panel whole: its mask stack greyed out

_dock, export = viewer.window.add_plugin_dock_widget("tessella", "Export")
index = export.labels_combo.findText(result_name("nuclei", "labels", "nuclei2d"))
assert index >= 0, "no nuclei2d labels to export"
export.labels_combo.setCurrentIndex(index)
export.path_edit.setText(str(Path(tempfile.mkdtemp(prefix="tessella_export_")) / "nuclei"))
for checkbox in (export.zarr_checkbox, export.csv_checkbox, export.recipe_checkbox):
    checkbox.setChecked(True)
export.export_button.click()
viewer.reset_view()
settle(0.6)
print("export:", export.status_label.text())
viewer.screenshot(out, canvas_only=False)
viewer.close()
