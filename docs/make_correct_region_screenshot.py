"""Screenshot of Correct editing a region of a big result on disk (not a test).

A 2048² mosaic of the nuclei sample and its real masks (IDs made unique per tile), written as
a blockwise run writes its result (uint32 zarr in 512² chunks with the recipe, digest and
files stamp in its attributes) and opened lazily as a big result is (the lazy and pyramid
limits lowered to 1,000,000 pixels); Correct's 'Edit the region in view' loads the part on
screen into an editable layer over it, and two objects are merged there (not yet written back).

xvfb-run -a -s "-screen 0 1600x1000x24" \
    .venv/bin/python docs/make_correct_region_screenshot.py [OUT]
"""

import os
import sys
import tempfile
import time
from pathlib import Path

os.environ["TESSELLA_LAZY_LABELS_PIXELS"] = "1,000,000"
os.environ["TESSELLA_PYRAMID_PIXELS"] = "1,000,000"

import napari
import numpy as np
import tifffile
import zarr
from qtpy.QtWidgets import QApplication

from tessella.engine.digest import labels_digest, stored_files_stamp

default = Path(__file__).parent / "screenshots" / "correct_region.png"
out = sys.argv[1] if len(sys.argv) > 1 else str(default)
samples = Path(__file__).parent.parent / "src" / "tessella" / "samples"


def settle(seconds: float = 0.6) -> None:
    end = time.time() + seconds
    while time.time() < end:
        QApplication.processEvents()
        time.sleep(0.02)


image = tifffile.imread(samples / "nuclei.tif")[:512, :512]
masks = tifffile.imread(samples / "nuclei_labels.tif")[:512, :512].astype(np.uint32)
step = int(masks.max()) + 1
big_image = np.zeros((2048, 2048), image.dtype)
big_labels = np.zeros((2048, 2048), np.uint32)
for i in range(4):
    for j in range(4):
        flip = (slice(None, None, -1 if (i + j) % 2 else 1), slice(None, None, -1 if i % 2 else 1))
        at = (slice(512 * i, 512 * (i + 1)), slice(512 * j, 512 * (j + 1)))
        big_image[at] = image[flip]
        tile = masks[flip]
        big_labels[at] = np.where(tile > 0, tile + step * (4 * i + j), 0)

folder = Path(tempfile.mkdtemp())
image_path = folder / "mosaic.tif"
tifffile.imwrite(image_path, big_image)
path = folder / "mosaic_labels_nuclei2d.zarr"
array = zarr.create_array(str(path), shape=big_labels.shape, dtype="uint32", chunks=(512, 512))
array[...] = big_labels
array.attrs.update({"tessella_axes": "YX", "pixel_size": {}, "unit": "pixel"})
recipe = {
    "model": "nuclei2d",
    "method": "embedding",
    "params": {"fg_thresh": 0.4, "seed_thresh": 0.9, "min_size": 10},
    "axes": "YX",
    "stored_axes": "YX",
    "blockwise": {"block": [1024, 1024], "halo": [96, 96], "stitch": "overlap"},
    "labels_digest": labels_digest(big_labels),
    "labels_digest_files": stored_files_stamp(path),
}
array.attrs["tessella"] = recipe

viewer = napari.Viewer(show=True)
viewer.window._qt_window.resize(1500, 950)
viewer.open(str(image_path), plugin="tessella")
[lazy] = viewer.open(str(path), plugin="tessella")
_dock, correct = viewer.window.add_plugin_dock_widget("tessella", "Correct")
correct.layer_combo.setCurrentIndex(correct.layer_combo.findData(lazy.unique_id))
settle(1.0)
camera = viewer.scene.camera if hasattr(viewer, "scene") else viewer.camera
camera.center = (700, 820)
camera.zoom = 2.2
settle(1.0)
correct.region_button.click()
start = time.time()
while correct._region_worker is not None and time.time() - start < 60:
    settle(0.05)
edit = correct.labels_layer
print("region:", correct.status_label.text())
region = np.asarray(edit.data)
# two touching objects (a false split to merge) nearest the middle of the region
left, right = region[:, :-1], region[:, 1:]
touch = (left != right) & (left > 0) & (right > 0)
ys, xs = np.nonzero(touch)
middle = np.array(region.shape) / 2
nearest = int(np.argmin(np.hypot(ys - middle[0], xs - middle[1])))
big = [int(left[ys[nearest], xs[nearest]]), int(right[ys[nearest], xs[nearest]])]
correct.set_selection(big)
correct.merge()
print("merge:", correct.status_label.text())
correct.write_button.setFocus()
settle(1.5)
viewer.screenshot(out, canvas_only=False)
print("wrote", out)
viewer.close()
