"""Screenshot of the Export panel while its worker writes a big labels layer read from a zarr
on disk (as a blockwise result is): the progress bar counting the steps and Cancel enabled
(not a test). The labels are the nuclei fixture's 512x512 labels tiled 16x16 (8192x8192,
32,000 objects) into a temporary zarr; the files go to a temporary folder.

xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python \
    docs/make_export_running_screenshot.py ../shared/data [OUT]
"""

import shutil
import sys
import tempfile
from pathlib import Path

import napari
import numpy as np
import tifffile
import zarr
from _segment_shot import settle, wait

data = Path(sys.argv[1])
default = Path(__file__).parent / "screenshots" / "export_running.png"
out = sys.argv[2] if len(sys.argv) > 2 else str(default)

folder = Path(tempfile.mkdtemp(prefix="tessella_export_shot_"))
mask = tifffile.imread(data / "fixtures" / "mask2d.tif").astype(np.uint32)
n, side = 16, mask.shape[0]
labels = zarr.open_array(str(folder / "big_labels.zarr"), mode="w", shape=(n * side, n * side),
                         chunks=(1024, 1024), dtype=np.uint32)  # fmt: skip
top = int(mask.max())
for i in range(n):
    row = np.concatenate(
        [np.where(mask > 0, mask + (i * n + j) * top, 0) for j in range(n)], axis=1
    )
    labels[i * side : (i + 1) * side] = row
viewer = napari.Viewer(show=True)
viewer.window._qt_window.resize(1500, 950)
viewer.add_labels(zarr.open_array(str(folder / "big_labels.zarr"), mode="r"), name="big labels")
_dock, export = viewer.window.add_plugin_dock_widget("tessella", "Export")
export.labels_combo.setCurrentIndex(export.labels_combo.findText("big labels"))
export.path_edit.setText(str(folder / "big"))
for checkbox in (export.zarr_checkbox, export.csv_checkbox):
    checkbox.setChecked(True)
viewer.reset_view()
viewer.camera.zoom *= 6  # a corner of the labels: nuclei, not noise
viewer.camera.center = (0, 700, 700)
settle(1)
export.export_button.click()
wait(lambda: export.cancel_button.isEnabled() and export.progress_bar.value() >= 1, 120)
settle(0.3)
print("running:", export.progress_bar.text(), "|", export.status_label.text())
viewer.screenshot(out, canvas_only=False)
print("wrote", out)
wait(lambda: not export.cancel_button.isEnabled(), 300)
print("export:", export.status_label.text())
viewer.close()
shutil.rmtree(folder)
