"""SIM+ 01's frames t050-t055 (a 192 x 192 crop, one TIFF per frame as in the CTC folder)
segmented and linked by cells2dt in the Segment panel, for the lineage tests of Correct, Tune
and Export (test_correct_lineage_export_segmented, test_tune_lineage_undo).

The network runs once per test session: :func:`segmented_sim` runs the Segment panel as a
user does (Run, its worker, the placement of the labels, the Tracks layer and the result
behind them for Tune), with the engine's run of these frames answered from the first one, as
a fresh :class:`SegmentResult` each time (its own labels and lineage: edits of one test never
reach another; a second Run in a test is a new result placed into the layer, as a re-run is).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import tifffile

from tests.widgets.helpers import choose_model, choose_text

SIM = "ctc_Fluo-N2DH-SIM+"
FRAMES = list(range(50, 56))
CROP = (slice(60, 252), slice(170, 362))

#: the engine's result of the frames above by cells2dt (run once, the first time it is asked)
_RUN: dict = {}


def _cached_steps(real):
    """A stand-in for ``segment._segment_steps``: the real run the first time (for these
    frames), a fresh copy of its result afterwards."""

    def steps(image, **options):
        key = (np.asarray(image).tobytes(), options.get("model"), repr(options.get("params")))
        if key not in _RUN:
            _RUN[key] = yield from real(image, **options)
        result = _RUN[key]
        lineage = None if result.lineage is None else dict(result.lineage)
        return dataclasses.replace(result, labels=result.labels.copy(), lineage=lineage)

    return steps


def segmented_sim(make_napari_viewer, data_dir, run_to_end, tmp_path, monkeypatch):
    """``(viewer, segment panel, labels layer)``: the frames above opened from a folder of
    TIFFs and segmented with cells2dt in the Segment panel."""
    from tessella._widgets import segment as segment_module

    folder = data_dir / SIM / "01"
    if not folder.is_dir():
        pytest.skip("SIM+ 01 not in the shared data")
    frames = tmp_path / "01"
    frames.mkdir()
    for t in FRAMES:
        tifffile.imwrite(frames / f"t{t:03d}.tif", tifffile.imread(folder / f"t{t:03d}.tif")[CROP])
    monkeypatch.setattr(
        segment_module, "_segment_steps", _cached_steps(segment_module._segment_steps)
    )
    viewer = make_napari_viewer()
    [image] = viewer.open(str(frames), plugin="tessella")
    _dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    choose_text(segment.layer_combo, image.name)
    choose_model(segment, "cells2dt")
    run_to_end(segment)
    [layer] = [lay for lay in viewer.layers if lay.name.endswith("labels (cells2dt)")]
    return viewer, segment, layer
