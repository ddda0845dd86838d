"""Export's Intensity image for labels Segment did not make (user test t3, finding 1): labels
written by ``tessella segment`` got the mean intensities of another open image that only had
their shape, and nothing said so. Now the image their recipe names (its ``input``, its
``input_identity``) is taken, none where it is not open; labels that name none get the only
image of their shape, said to be a guess, and none where several have it; the status line
names the image measured, or says why none was."""

from __future__ import annotations

import csv
import os
import shutil

import numpy as np
import tifffile
from scipy import ndimage as ndi

from tessella._widgets.export import ExportWidget
from tessella.engine.digest import DIGEST_KEY, labels_digest
from tessella.engine.input_record import INPUT_KEY, input_identity
from tessella.engine.io import write_json
from tests.conftest import DATA, SEGMENT_RECIPE


def _rows(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def _csv_only(widget: ExportWidget, base) -> None:
    widget.path_edit.setText(str(base))
    widget.tiff_checkbox.setChecked(False)
    widget.csv_checkbox.setChecked(True)
    widget.recipe_checkbox.setChecked(False)


def test_labels_of_tessella_segment_are_measured_on_the_image_their_recipe_names(
    make_napari_viewer, tmp_path
):
    """As ``tessella segment imgs/a.tif -o out/a.tif`` leaves them, reopened beside another
    image of the same shape (and the same file size: both uncompressed uint16)."""
    (tmp_path / "imgs").mkdir()
    (tmp_path / "out").mkdir()
    image_path = tmp_path / "imgs" / "a.tif"
    shutil.copyfile(DATA / "fixtures" / "img2d.tif", image_path)
    image = tifffile.imread(image_path)
    other_path = tmp_path / "imgs" / "b.tif"
    tifffile.imwrite(other_path, (image.max() - image).astype(image.dtype))
    mask = tifffile.imread(DATA / "fixtures" / "mask2d.tif")
    tifffile.imwrite(tmp_path / "out" / "a.tif", mask)
    recipe = {
        **SEGMENT_RECIPE,
        "input": "imgs/a.tif",  # (as typed, relative to where it ran)
        INPUT_KEY: input_identity(image_path),
        DIGEST_KEY: labels_digest(mask),
    }
    write_json(tmp_path / "out" / "a.recipe.json", recipe)
    stat = image_path.stat()  # copied since without -p: the time is not the recorded one
    os.utime(image_path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))

    viewer = make_napari_viewer()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    assert isinstance(widget, ExportWidget)
    [other] = viewer.open(str(other_path), plugin="tessella")
    [labels] = viewer.open(str(tmp_path / "out" / "a.tif"), plugin="tessella")
    assert labels._type_string == "labels" and other.data.shape == labels.data.shape
    widget.labels_combo.setCurrentIndex(widget.labels_combo.findData(labels.unique_id))
    assert widget.image_layer is None  # never the look-alike 'b'
    assert "the image their recipe names (imgs/a.tif) is not open" in widget.image_combo.toolTip()
    _csv_only(widget, tmp_path / "none")
    widget.export()
    assert "mean_intensity" not in _rows(tmp_path / "none.csv")[0]
    assert (
        "none.csv (125 objects; no mean intensity: the image their recipe names (imgs/a.tif) "
        "is not open (open it, or choose one under Intensity))"
    ) in widget.status_label.text()

    [source] = viewer.open(str(image_path), plugin="tessella")  # opened after the labels
    assert widget.image_layer is source
    _csv_only(widget, tmp_path / "m")
    assert [p.name for p in widget.export()] == ["m.csv"]
    rows = _rows(tmp_path / "m.csv")
    ids = [int(row["label"]) for row in rows]
    np.testing.assert_allclose(
        [float(row["mean_intensity"]) for row in rows], ndi.mean(image, mask, ids), rtol=1e-5
    )
    assert (
        f"m.csv (125 objects; mean intensity of '{source.name}', the image their recipe "
        "names (imgs/a.tif))"
    ) in widget.status_label.text()

    widget.image_combo.setCurrentIndex(widget.image_combo.findData(other.unique_id))
    _csv_only(widget, tmp_path / "b")
    widget.export()  # chosen by hand: named, no reason given
    assert f"b.csv (125 objects; mean intensity of '{other.name}') to " in (
        widget.status_label.text()
    )


def test_labels_that_name_no_image_get_one_only_where_one_fits(make_napari_viewer, tmp_path):
    viewer = make_napari_viewer()
    labels = np.zeros((24, 32), np.uint16)
    labels[2:8, 3:9] = 1
    layer = viewer.add_labels(labels, name="drawn")
    viewer.add_image(np.full((24, 32), 7.0, np.float32), name="first")
    second = viewer.add_image(np.full((24, 32), 9.0, np.float32), name="second")
    viewer.add_image(np.zeros((10, 10), np.float32), name="small")
    widget = ExportWidget(viewer)
    widget.labels_combo.setCurrentIndex(widget.labels_combo.findData(layer.unique_id))
    assert widget.image_layer is None  # two fit: no guess
    _csv_only(widget, tmp_path / "two")
    widget.export()
    assert "mean_intensity" not in _rows(tmp_path / "two.csv")[0]
    assert (
        "two.csv (1 object; no mean intensity: 2 open images have the labels' shape ('first', "
        "'second') and the labels name none of them: choose one under Intensity)"
    ) in widget.status_label.text()

    viewer.layers.remove("first")  # one fits: taken, and said to be a guess
    assert widget.image_layer is second
    _csv_only(widget, tmp_path / "one")
    widget.export()
    assert [row["mean_intensity"] for row in _rows(tmp_path / "one.csv")] == ["9.0"]
    assert (
        "one.csv (1 object; mean intensity of 'second', a guess: the only open image of the "
        "labels' shape (they name none they were made from))"
    ) in widget.status_label.text()
