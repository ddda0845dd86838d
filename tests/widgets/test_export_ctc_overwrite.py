"""Export's CTC folder, written again with Overwrite, holds the new result only (review 1,
B2): labels of frames 0-3 exported as ``x_RES``, then labels read from frames 52-54 exported
over it, left mask000-mask003 beside mask052-mask054 and one res_track.txt of the second
(``evaluate --ctc`` then failed on 'mask003.tif is missing'); labels of fewer frames from the
same first frame left the earlier export's last masks, scored with the new ones."""

from __future__ import annotations

import numpy as np
import tifffile

from tessella._widgets.export import ExportWidget
from tessella.engine.tracking import read_ctc_tracks

SIM = "ctc_Fluo-N2DH-SIM+"


def _markers(data_dir, numbers) -> np.ndarray:
    """SIM+ 01's tracking ground truth of frames ``numbers`` (a 192x192 crop): real tracks."""
    return np.stack(
        [
            tifffile.imread(data_dir / SIM / "01_GT" / "TRA" / f"man_track{t:03d}.tif")[
                120:312, 120:312
            ]
            for t in numbers
        ]
    ).astype(np.uint16)


def _masks(folder) -> list[str]:
    return sorted(p.name for p in folder.glob("mask*.tif"))


def test_export_ctc_over_an_earlier_export_replaces_it_whole(
    make_napari_viewer, data_dir, tmp_path
):
    viewer = make_napari_viewer()
    _dock, export = viewer.window.add_plugin_dock_widget("tessella", "Export")
    assert isinstance(export, ExportWidget)
    export.path_edit.setText(str(tmp_path / "cells"))
    for box in ("tiff", "zarr", "csv", "recipe"):
        getattr(export, f"{box}_checkbox").setChecked(False)
    res = tmp_path / "cells_RES"

    def export_ctc(name: str, movie: np.ndarray, numbers=None):
        metadata = {} if numbers is None else {"frame_numbers": list(numbers)}
        layer = viewer.add_labels(movie, name=name, axis_labels=("t", "y", "x"), metadata=metadata)
        export.labels_combo.setCurrentIndex(export.labels_combo.findData(layer.unique_id))
        export.ctc_checkbox.setChecked(True)
        assert export.ctc_checkbox.isEnabled(), export.ctc_checkbox.toolTip()
        written = export.export()
        assert written == [res], export.status_label.text()

    export_ctc("first", _markers(data_dir, range(4)))
    assert _masks(res) == [f"mask00{t}.tif" for t in range(4)]

    export.overwrite_checkbox.setChecked(True)
    later = _markers(data_dir, range(52, 55))
    export_ctc("later", later, range(52, 55))
    assert _masks(res) == ["mask052.tif", "mask053.tif", "mask054.tif"]
    assert sorted(p.name for p in res.iterdir()) == [*_masks(res), "res_track.txt"]
    np.testing.assert_array_equal(tifffile.imread(res / "mask053.tif"), later[1])
    tracks = read_ctc_tracks(res / "res_track.txt")
    assert min(k.start for k in tracks) == 52 and max(k.end for k in tracks) == 54

    export_ctc("shorter", later[:2], range(52, 54))  # fewer frames, the same first
    assert _masks(res) == ["mask052.tif", "mask053.tif"]
    assert max(k.end for k in read_ctc_tracks(res / "res_track.txt")) == 53
