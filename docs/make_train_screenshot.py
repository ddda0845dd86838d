"""Screenshot of the Train widget after fine-tuning nuclei2d on the sample's labels and
comparing (not a test). The model goes to a temporary user-model folder.

xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_train_screenshot.py [OUT]
... make_train_screenshot.py --sparse [OUT]: the labels' left half painted "not annotated"
(label 999, the widget's Unannotated label), as a user who labelled only part of an image
"""

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ["TESSELLA_MODELS"] = tempfile.mkdtemp()

import napari
from qtpy.QtWidgets import QApplication

SPARSE = "--sparse" in sys.argv
args = [a for a in sys.argv[1:] if a != "--sparse"]
default = (
    Path(__file__).parent / "screenshots" / ("train_sparse.png" if SPARSE else "train_widget.png")
)
out = args[0] if args else str(default)


def wait(flag: list, seconds: float = 900) -> None:
    start = time.time()
    while not flag and time.time() - start < seconds:
        QApplication.processEvents()
        time.sleep(0.02)


viewer = napari.Viewer(show=True)
viewer.window._qt_window.resize(1500, 1000)
viewer.open_sample("tessella", "nuclei")
viewer.layers["nuclei ground truth"].visible = True
_dock, train = viewer.window.add_plugin_dock_widget("tessella", "Train")
truth = viewer.layers["nuclei ground truth"]
if SPARSE:
    import numpy as np

    data = np.asarray(truth.data).astype(np.int32)
    data[:, : data.shape[1] // 2] = 999
    truth = viewer.add_labels(data, name="labelled right half", opacity=0.5)
    viewer.layers["nuclei ground truth"].visible = False
    train.ignore_spin.setValue(999)
train.add_pair(viewer.layers["nuclei"], truth)
bases = [train.base_combo.itemText(i) for i in range(train.base_combo.count())]
index = next(i for i, text in enumerate(bases) if text.startswith("nuclei2d"))
train.base_combo.setCurrentIndex(index)
train.epochs_spin.setValue(4)
train.steps_spin.setValue(10)
train.patch_spin.setValue(128)
train.average_check.setChecked(True)
done = []
train.run_finished.connect(lambda: done.append(True))
train.start()
wait(done)
compared = []
train.compare_finished.connect(lambda: compared.append(True))
train.compare()
wait(compared)
viewer.layers["nuclei ground truth"].visible = False
if SPARSE:
    truth.visible = True
print("status:", train.status_label.text())
for _ in range(30):
    QApplication.processEvents()
    time.sleep(0.02)
viewer.screenshot(out, canvas_only=False)
viewer.close()
