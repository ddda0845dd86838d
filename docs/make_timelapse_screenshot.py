"""Screenshot: cells2dt on a Fluo-N2DH-SIM+ time-lapse: labels with one ID per cell, the Tracks
layer, and Tune showing the temporal parameters (not a test).

xvfb-run -a -s "-screen 0 1600x1000x24" .venv/bin/python docs/make_timelapse_screenshot.py \
    ../shared/data/ctc_Fluo-N2DH-SIM+/01 [OUT] [MODEL]
"""

import sys
from pathlib import Path

import napari
import numpy as np
import tifffile
from _segment_shot import segment_with, settle

from tessella._widgets._segment_outputs import OUTPUT_KEY

sequence = Path(sys.argv[1])
default = Path(__file__).parent / "screenshots" / "timelapse_tracks.png"
out = sys.argv[2] if len(sys.argv) > 2 else str(default)
model = sys.argv[3] if len(sys.argv) > 3 else "cells2dt"


frames = np.stack([tifffile.imread(sequence / f"t{t:03d}.tif") for t in range(30, 50)])
viewer = napari.Viewer(show=True)
viewer.window._qt_window.resize(1500, 950)
viewer.add_image(frames, name="SIM+ t030-049", metadata={"axes": "TYX"})
segment_with(viewer, model, axes="TYX")
viewer.dims.set_point(0, 12)
# the labels Segment made (named after the model, which may be a folder given by path)
labels = next(
    layer
    for layer in viewer.layers
    if (layer.metadata.get(OUTPUT_KEY) or {}).get("kind") == "labels"
)
labels.opacity = 0.5
settle(2)
viewer.screenshot(out, canvas_only=False)
print("wrote", out)
viewer.close()
