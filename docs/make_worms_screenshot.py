"""Screenshot: worms2d on a BBBC010 well: labels, the "overlaps" layer holding the worms the
label image hides where they cross, and Tune with the PatchPerPix parameters (not a test).

xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_worms_screenshot.py \
    ../shared/data/worms_bbbc010/gfp/E03.tif [OUT] [MODEL]

(the brightfield images of this copy of BBBC010 are the files in gfp/)
"""

import sys
from pathlib import Path

import napari
import tifffile
from _segment_shot import segment_with, settle

well = Path(sys.argv[1])
default = Path(__file__).parent / "screenshots" / "worms_overlaps.png"
out = sys.argv[2] if len(sys.argv) > 2 else str(default)
model = sys.argv[3] if len(sys.argv) > 3 else "worms2d"

viewer = napari.Viewer(show=True)
viewer.window._qt_window.resize(1500, 950)
viewer.add_image(tifffile.imread(well), name=f"BBBC010 {well.stem}")
segment_with(viewer, model, timeout=600)
settle(1.2)
viewer.screenshot(out, canvas_only=False)
print("wrote", out)
viewer.close()
