"""Export's Cell Tracking Challenge folder numbers the masks as the frames the movie was read
from, as ``tessella segment --ctc`` does (eda3e69): a folder ``t052.tif ...`` opened by the
reader records its frame numbers in the layer's metadata (``frame_numbers``), Segment's result
takes them from its image, and Export writes ``mask052.tif ...`` with ``res_track.txt``
numbered the same (it wrote ``mask000.tif ...``, so ``evaluate --ctc`` scored them against
frames 0-3 of the ground truth). Labels without them are numbered from 0; labels whose
frames are not those recorded too, with a warning naming the layer."""

from __future__ import annotations

import numpy as np
import tifffile

from tessella.engine.io import read_image
from tessella.engine.tracking import read_ctc_tracks
from tests.widgets.helpers import choose_model, choose_text

SIM = "ctc_Fluo-N2DH-SIM+"


def _frames(data_dir, folder, numbers) -> None:
    """SIM+ 01's frames ``numbers`` (a 192x192 crop) as ``folder/tNNN.tif``."""
    folder.mkdir()
    for t in numbers:
        frame = read_image(data_dir / SIM / "01" / f"t{t:03d}.tif").data[120:312, 120:312]
        tifffile.imwrite(folder / f"t{t:03d}.tif", np.asarray(frame))


def _export_ctc(viewer, name: str, base):
    """Export only the CTC folder of layer ``name`` to ``base``_RES; the files written."""
    export = viewer.window.add_plugin_dock_widget("tessella", "Export")[1]
    choose_text(export.labels_combo, name)
    export.path_edit.setText(str(base))
    for box in ("tiff", "zarr", "csv", "recipe"):
        getattr(export, f"{box}_checkbox").setChecked(False)
    export.ctc_checkbox.setChecked(True)
    assert export.ctc_checkbox.isEnabled(), export.ctc_checkbox.toolTip()
    return export, export.export()


def _masks(folder) -> list[str]:
    return sorted(p.name for p in folder.glob("mask*.tif"))


def _frames_of_tracks(folder) -> tuple[int, int]:
    tracks = read_ctc_tracks(folder / "res_track.txt")
    assert tracks
    return min(k.start for k in tracks), max(k.end for k in tracks)


def test_segment_result_of_a_frame_folder_exports_ctc_masks_by_frame_number(
    make_napari_viewer, data_dir, run_to_end, tmp_path
):
    """A folder t052-t055 opened in napari, cells2dt run in Segment, the result exported as
    CTC: mask052.tif ... mask055.tif, res_track.txt frames 52-55; each track's rows say the
    masks its ID is in. The same labels in a layer without frame numbers: mask000.tif ..."""
    from napari.utils import notifications

    folder = tmp_path / "01"
    _frames(data_dir, folder, range(52, 56))
    viewer = make_napari_viewer()
    [image] = viewer.open(str(folder), plugin="tessella")
    assert image.metadata["frame_numbers"] == [52, 53, 54, 55]
    _dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    choose_text(segment.layer_combo, image.name)
    choose_model(segment, "cells2dt")
    run_to_end(segment)
    result = viewer.layers["01 labels (cells2dt)"]
    assert result.metadata["frame_numbers"] == [52, 53, 54, 55]
    labels = np.asarray(result.data).copy()
    assert labels.shape[0] == 4 and labels.max() > 0

    export, written = _export_ctc(viewer, result.name, tmp_path / "seg")
    res = tmp_path / "seg_RES"
    assert [p.name for p in written] == ["seg_RES"]
    assert _masks(res) == ["mask052.tif", "mask053.tif", "mask054.tif", "mask055.tif"]
    np.testing.assert_array_equal(tifffile.imread(res / "mask053.tif"), labels[1])
    assert _frames_of_tracks(res) == (52, 55)
    for k in read_ctc_tracks(res / "res_track.txt")[:10]:
        present = [t for t in range(52, 56) if (labels[t - 52] == k.id).any()]
        assert present == list(range(k.start, k.end + 1)), k
    assert "CTC masks numbered from 52" in export.status_label.text()

    # the same labels, not read from numbered frames: from 0, as before
    viewer.add_labels(labels, name="plain", axis_labels=("t", "y", "x"))
    _export_ctc(viewer, "plain", tmp_path / "plain")
    assert _masks(tmp_path / "plain_RES") == [f"mask00{t}.tif" for t in range(4)]
    assert _frames_of_tracks(tmp_path / "plain_RES") == (0, 3)

    # numbers recorded for 4 frames on 3 frames (cut since): from 0, said naming the layer
    shown: list[str] = []
    notifications.notification_manager.notification_ready.connect(
        lambda n: shown.append(str(n.message))
    )
    viewer.add_labels(
        labels[1:],
        name="cut",
        axis_labels=("t", "y", "x"),
        metadata={"frame_numbers": [52, 53, 54, 55]},
    )
    export, _written = _export_ctc(viewer, "cut", tmp_path / "cut")
    assert _masks(tmp_path / "cut_RES") == ["mask000.tif", "mask001.tif", "mask002.tif"]
    said = "the CTC masks of 'cut' are numbered from 0: its metadata records the numbers of 4"
    assert said in export.status_label.text()
    assert any(said in message for message in shown), shown


def test_frames_that_skip_a_number_export_masks_named_by_their_frames(
    make_napari_viewer, data_dir, tmp_path
):
    """A folder t052, t053, t055 records [52, 53, 55]; labels with those numbers export as
    mask052, mask053 and mask055 (no mask054.tif: the frame is not in the input; they were
    numbered on from 52, so mask054.tif held frame 55), res_track.txt in frame numbers with
    the tracks across the gap split (the part after it a new track whose parent is the
    part before), and the status line says frame 54 is missing (s29/t1 P1)."""
    folder = tmp_path / "gap"
    _frames(data_dir, folder, (52, 53, 55))
    viewer = make_napari_viewer()
    [image] = viewer.open(str(folder), plugin="tessella")
    assert image.metadata["frame_numbers"] == [52, 53, 55]
    labels = np.zeros((3, 16, 16), np.uint16)
    labels[:, 2:6, 2:6] = 1
    labels[1:, 9:12, 9:12] = 2
    viewer.add_labels(
        labels,
        name="gap labels",
        axis_labels=("t", "y", "x"),
        metadata={"frame_numbers": image.metadata["frame_numbers"]},
    )
    export, _written = _export_ctc(viewer, "gap labels", tmp_path / "gap_out")
    res = tmp_path / "gap_out_RES"
    assert _masks(res) == ["mask052.tif", "mask053.tif", "mask055.tif"]
    tracks = [(k.id, k.start, k.end, k.parent) for k in read_ctc_tracks(res / "res_track.txt")]
    assert tracks == [(1, 52, 53, 0), (2, 53, 53, 0), (3, 55, 55, 1), (4, 55, 55, 2)]
    last = tifffile.imread(res / "mask055.tif")
    assert last[3, 3] == 3 and last[10, 10] == 4
    status = export.status_label.text()
    assert "frame 54 is missing from the input: the CTC export writes no mask054.tif" in status
    assert "is not its frame's" not in status
