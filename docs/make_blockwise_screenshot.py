"""Screenshot of Segment's blockwise mode part-way through a 6144x6144 zarr mosaic of real
nuclei images (not a test): the finished blocks' labels already on screen in the preview
("blocks so far", a downsampled overview), progress in blocks and, in the status line, the
tiles done in the block that runs ("block N: tile k of n").

xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_blockwise_screenshot.py [OUT]
"""

import os
import re
import shutil
import sys
import tempfile
import time
from pathlib import Path

import napari
import zarr
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from _segment_shot import settle
from benchmarks.bench_blockwise import write_mosaic

from tessella.engine.blockwise import work_dir

out = Path(
    sys.argv[1] if len(sys.argv) > 1 else Path(__file__).parent / "screenshots" / "blockwise.png"
)
folder = Path(tempfile.mkdtemp())
os.chdir(folder)  # an in-memory array's output goes to the working folder: the panel's own name
write_mosaic(folder / "slide.zarr", 6144, 2048)
viewer = napari.Viewer(show=True)
viewer.window._qt_window.resize(1500, 900)
viewer.add_image(zarr.open_array(str(folder / "slide.zarr"), mode="r"), name="slide",
                 contrast_limits=(0, 120))  # fmt: skip
_dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
segment.layer_combo.setCurrentIndex(segment.layer_combo.findText("slide"))
print("blockwise by default:", segment.blockwise_checkbox.isChecked())
segment.blockwise_checkbox.setChecked(True)  # (38 MB: small enough for memory by default)
labels = Path(segment.blockwise_edit.text())
assert labels == folder / "slide_labels_nuclei2d.zarr", labels
segment.block_spin.setValue(2048)
segment.run_button.click()
start = time.time()


def caught() -> bool:
    """Two blocks finished and a few of the next one's tiles counted in the status line."""
    done = len(list(work_dir(labels).glob("blocks/*.npz")))
    tiles = re.search(r": tile (\d+) of", segment.status_label.text())
    return done >= 2 and tiles is not None and 3 <= int(tiles.group(1)) <= 6


while not caught() and time.time() - start < 1200:
    settle(0.1)
print("status:", segment.status_label.text(), "progress:", segment.progress_bar.text())
viewer.screenshot(str(out), canvas_only=False)
# 256 colours: the mosaic's noise makes a full-colour PNG 700 KB, this one under 300 KB
Image.open(out).convert("RGB").quantize(256, dither=Image.Dither.NONE).save(out, optimize=True)
segment.cancel_button.click()
settle(5)
viewer.close()
shutil.rmtree(folder, ignore_errors=True)
