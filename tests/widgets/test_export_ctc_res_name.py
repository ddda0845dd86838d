"""A Cell Tracking Challenge result folder reopened (``01_labels_cells2dt_RES``, the layer
named after it) and exported as CTC again is written to ``01_labels_cells2dt_RES``, not
``01_labels_cells2dt_RES_RES`` (f8's finding): the name Export proposes drops an output
suffix the layer's name ends in, in any case (``_without_suffix`` compared the name in lower
case with the upper-case "_RES", so it never matched), and the status line says so."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import tifffile

from tessella.engine.tracking import read_ctc_tracks, write_ctc
from tests.widgets.helpers import choose_text

SIM = "ctc_Fluo-N2DH-SIM+"
NUMBERS = list(range(8, 13))


def _result(data_dir, folder: Path) -> Path:
    """A CTC result of SIM+ 01's TRA markers of frames 8-12 (two cells divide at 10)."""
    root = data_dir / SIM / "01_GT" / "TRA"
    markers = np.stack([tifffile.imread(root / f"man_track{t:03d}.tif") for t in NUMBERS])
    present = set(np.unique(markers).tolist())
    lineage = {
        k.id: k.parent
        for k in read_ctc_tracks(root / "man_track.txt")
        if k.parent and {k.id, k.parent} <= present
    }
    assert lineage
    write_ctc(markers.astype(np.uint16), lineage, folder, frame_numbers=NUMBERS)
    return folder


def test_a_reopened_ctc_result_exports_to_one_res_folder(make_napari_viewer, data_dir, tmp_path):
    folder = _result(data_dir, tmp_path / "01_labels_cells2dt_RES")
    viewer = make_napari_viewer()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        labels, _tracks = viewer.open(str(folder), plugin="tessella")
    assert labels.name == "01_labels_cells2dt_RES"

    export = viewer.window.add_plugin_dock_widget("tessella", "Export")[1]
    choose_text(export.labels_combo, labels.name)
    # the Browse dialog's proposal: the layer's name less its "_RES"
    assert Path(export._default_base()) == Path.home() / "01_labels_cells2dt"
    out = tmp_path / "again"
    out.mkdir()
    export.path_edit.setText(f"{out}/")  # (a folder: the outputs named after the layer)
    for box in ("tiff", "zarr", "csv", "recipe", "ctc"):
        getattr(export, f"{box}_checkbox").setChecked(box in ("tiff", "ctc"))
    assert [o.path.name for o in export.outputs()] == [
        "01_labels_cells2dt.tif",
        "01_labels_cells2dt_RES",
    ]
    written = export.export()
    assert sorted(p.name for p in written) == ["01_labels_cells2dt.tif", "01_labels_cells2dt_RES"]
    assert sorted(p.name for p in out.iterdir()) == [
        "01_labels_cells2dt.tif",
        "01_labels_cells2dt_RES",
    ]
    again = out / "01_labels_cells2dt_RES"
    assert (again / "res_track.txt").read_text() == (folder / "res_track.txt").read_text()
    assert "'_RES' dropped" in export.status_label.text(), export.status_label.text()

    # a name typed with "_res" in lower case is the user's own name (test_panel_messages'
    # "nuc_res"), kept; the CTC folder's "_RES" is dropped as CTC writes it
    export.path_edit.setText(str(out / "typed_res"))
    assert [o.path.name for o in export.outputs()] == ["typed_res.tif", "typed_res_RES"]
    export.path_edit.setText(str(out / "typed_RES"))
    assert [o.path.name for o in export.outputs()] == ["typed.tif", "typed_RES"]
