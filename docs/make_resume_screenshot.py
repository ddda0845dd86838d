"""Screenshot of Segment resuming a blockwise run cancelled in an earlier napari session (not
a test): a 3072x3072 zarr mosaic of real nuclei images, run in 1024-px blocks into an output
of the user's choosing and cancelled after 3 blocks; a new viewer opens the image again, the
panel offers the unfinished run (its output and block size), and Run shows the 3 kept blocks
at once, the status saying "resuming: 3 of 9 blocks already done".

xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_resume_screenshot.py [OUT]
"""

import shutil
import sys
import tempfile
import time
from pathlib import Path

import napari
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _segment_shot import settle, wait
from benchmarks.bench_blockwise import write_mosaic

from tessella.engine.blockwise import work_dir

out = Path(
    sys.argv[1]
    if len(sys.argv) > 1
    else Path(__file__).parent / "screenshots" / "blockwise_resumed.png"
)
folder = Path(tempfile.mkdtemp())
write_mosaic(folder / "slide.zarr", 3072, 1024)
labels = folder / "slide_run1.zarr"  # not the default output's name, nor its block size


def open_slide():
    viewer = napari.Viewer(show=True)
    viewer.window._qt_window.resize(1500, 900)
    viewer.open(str(folder / "slide.zarr"), plugin="tessella", contrast_limits=(0, 120))
    _dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    segment.layer_combo.setCurrentIndex(segment.layer_combo.findText("slide"))
    return viewer, segment


# the first session: 3 blocks, then Cancel
viewer, segment = open_slide()
segment.blockwise_checkbox.setChecked(True)
segment.blockwise_edit.setText(str(labels))
segment.block_spin.setValue(1024)
segment.tta_checkbox.setChecked(False)
done = []
segment.run_finished.connect(lambda: done.append(True))
segment.run_button.click()
wait(lambda: len(list(work_dir(labels).glob("blocks/*.npz"))) >= 3, 900)
segment.cancel_button.click()
wait(lambda: done, 300)
print("cancelled:", segment.status_label.text())
viewer.close()
settle(1)

# a new session: the image opened again
viewer, segment = open_slide()
settle(1)
print("offered:", segment.status_label.text(), segment.blockwise_edit.text(),
      segment.block_spin.value())  # fmt: skip
segment.run_button.click()
start = time.time()
wait(lambda: "resuming:" in segment.status_label.text(), 300)
settle(0.5)  # drawn (a block of this run takes several seconds)
print("status:", segment.status_label.text(), "| layers:", [lay.name for lay in viewer.layers])
viewer.screenshot(str(out), canvas_only=False)
Image.open(out).convert("RGB").quantize(256, dither=Image.Dither.NONE).save(out, optimize=True)
segment.cancel_button.click()
settle(5)
viewer.close()
shutil.rmtree(folder, ignore_errors=True)
