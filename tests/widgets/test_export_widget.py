"""The Export dock widget: files written, read back equal; refusing to overwrite; errors."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import numpy as np
import pytest
import zarr
from scipy import ndimage as ndi

from tessella._widgets import _export_write, _results
from tessella._widgets.export import ExportWidget, base_path
from tessella.engine.digest import labels_digest
from tessella.engine.io import read_image
from tessella.engine.methods import Prediction
from tessella.engine.pipeline import SegmentResult
from tests.widgets.helpers import choose_model

RECIPE = {
    "tessella_version": "0.1.0",
    "model": "nuclei2d",
    "model_sha256": "ab" * 32,
    "method": "embedding",
    "params": {"seed_thresh": 0.8, "min_size": 20},
    "axes": "YX",
    "tta": False,
    "tile": 512,
    "device": "cpu",
}


def combo_items(combo) -> list[str]:
    return [combo.itemText(i) for i in range(combo.count())]


def read_rows(path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@pytest.fixture
def errors(monkeypatch) -> list[str]:
    shown: list[str] = []
    monkeypatch.setattr(_export_write, "show_error", shown.append)
    return shown


@pytest.fixture
def exporter(make_napari_viewer, nuclei_sample):
    """A viewer with the nuclei image and its labels at 0.5 µm, as Segment leaves them."""
    image, labels = nuclei_sample
    viewer = make_napari_viewer()
    source = viewer.add_image(image, name="nuclei", scale=(0.5, 0.5))
    metadata = {"tessella_source": "nuclei", "tessella_source_id": source.unique_id}
    layer = viewer.add_labels(
        labels,
        name="nuclei labels",
        scale=(0.5, 0.5),
        metadata={**metadata, "tessella_recipe": RECIPE},
    )
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    assert isinstance(widget, ExportWidget)
    return viewer, widget, layer


def choose_all(widget, base) -> dict[str, object]:
    widget.path_edit.setText(str(base))
    for checkbox in (
        widget.tiff_checkbox,
        widget.zarr_checkbox,
        widget.csv_checkbox,
        widget.recipe_checkbox,
    ):
        checkbox.setChecked(True)
    return {
        "tif": base.with_name(base.name + ".tif"),
        "zarr": base.with_name(base.name + ".zarr"),
        "csv": base.with_name(base.name + ".csv"),
        "recipe": base.with_name(base.name + ".recipe.json"),
    }


def test_layer_lists_follow_the_viewer(exporter):
    viewer, widget, _layer = exporter
    assert combo_items(widget.labels_combo) == ["nuclei labels"]
    assert combo_items(widget.image_combo) == ["none", "nuclei"]
    assert widget.image_layer.name == "nuclei"  # the labels' source image is offered

    viewer.add_labels(np.zeros((8, 8), np.uint8), name="other")
    viewer.layers["nuclei"].name = "raw"
    assert combo_items(widget.labels_combo) == ["nuclei labels", "other"]
    assert combo_items(widget.image_combo) == ["none", "raw"]
    assert widget.image_combo.currentText() == "raw"  # a rename keeps the choice

    widget.labels_combo.setCurrentText("other")  # 8x8: "raw" cannot be measured with it
    assert widget.image_layer is None
    viewer.add_image(np.ones((8, 8)), name="small")  # an image of its shape is offered
    widget.labels_combo.setCurrentText("nuclei labels")
    assert widget.image_combo.currentText() == "raw"
    widget.labels_combo.setCurrentText("other")
    assert widget.image_combo.currentText() == "small"
    widget.labels_combo.setCurrentText("nuclei labels")
    viewer.layers.remove("small")
    # an image of the same shape is never taken for the source of labels Segment made
    viewer.add_image(np.ones((520, 512)), name="nuclei")  # the source's old name, too
    widget.labels_combo.setCurrentText("other")
    widget.labels_combo.setCurrentText("nuclei labels")
    assert widget.image_combo.currentText() == "raw"
    viewer.layers.remove("raw")
    widget.labels_combo.setCurrentText("other")
    widget.labels_combo.setCurrentText("nuclei labels")
    assert widget.image_layer is None  # its source is gone: none, not the look-alike
    viewer.layers.remove("nuclei")
    viewer.add_image(np.ones((520, 512)), name="raw")

    viewer.layers.remove("raw")
    assert combo_items(widget.image_combo) == ["none"]
    assert widget.image_layer is None
    viewer.layers.remove("nuclei labels")
    assert combo_items(widget.labels_combo) == ["other"]


def test_export_round_trip(exporter, tmp_path, nuclei_sample, errors):
    _viewer, widget, layer = exporter
    image, labels = nuclei_sample
    (tmp_path / "out").mkdir()
    paths = choose_all(widget, tmp_path / "out" / "nuclei")

    widget.export_button.click()

    assert errors == []
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == sorted(
        p.name for p in paths.values()
    )
    tif = read_image(paths["tif"])
    np.testing.assert_array_equal(tif.data, labels)
    assert tif.axes == "YX" and tif.unit == "µm"
    assert tif.pixel_size == pytest.approx({"Y": 0.5, "X": 0.5})
    store = zarr.open_array(str(paths["zarr"]), mode="r")
    np.testing.assert_array_equal(store[...], labels)
    assert store.attrs["pixel_size"] == {"Y": 0.5, "X": 0.5}
    recipe = json.loads(paths["recipe"].read_text())
    assert recipe.pop("exported") == {
        "tiff": "nuclei.tif",
        "zarr": "nuclei.zarr",
        "csv": "nuclei.csv",
    }
    assert recipe.pop("labels_digest") == labels_digest(labels)  # the reader checks it
    assert recipe == layer.metadata["tessella_recipe"]  # the rest: the layer's recipe

    rows = read_rows(paths["csv"])
    ids = np.unique(labels[labels > 0])
    assert [int(row["label"]) for row in rows] == ids.tolist()
    areas = ndi.sum(np.ones_like(labels), labels, ids)
    assert [int(row["area_px"]) for row in rows] == areas.astype(int).tolist()
    np.testing.assert_allclose([float(row["area_um2"]) for row in rows], areas * 0.25)
    means = ndi.mean(image.astype(np.float64), labels, ids)
    np.testing.assert_allclose([float(row["mean_intensity"]) for row in rows], means)
    assert "mean_confidence" not in rows[0]  # no network output behind these labels

    status = widget.status_label.text()
    for path in paths.values():
        assert path.name in status
    assert f"({len(ids)} objects; mean intensity of 'nuclei')" in status


def test_existing_files_are_left_alone_unless_overwrite_is_ticked(exporter, tmp_path, errors):
    _viewer, widget, _layer = exporter
    paths = choose_all(widget, tmp_path / "nuclei")
    paths["tif"].write_bytes(b"an older TIFF")
    paths["csv"].write_bytes(b"label,area_px\n1,5\n")

    assert widget.export() == []

    assert len(errors) == 1
    assert str(paths["tif"]) in errors[0] and str(paths["csv"]) in errors[0]
    assert paths["tif"].read_bytes() == b"an older TIFF"
    assert paths["csv"].read_bytes() == b"label,area_px\n1,5\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nuclei.csv", "nuclei.tif"]
    assert "nothing written" in widget.status_label.text()

    widget.overwrite_checkbox.setChecked(True)
    written = widget.export()

    assert sorted(written) == sorted(paths.values())
    assert len(errors) == 1
    assert read_image(paths["tif"]).data.max() > 0
    assert read_rows(paths["csv"])[0].keys() >= {"label", "area_px", "area_um2"}


@pytest.mark.parametrize(
    ("save_as", "reason"),
    [
        ("a file/nuclei", "'{tmp}/a file' is a file, not a folder"),
        ("a file/sub/nuclei", "'{tmp}/a file' is a file, not a folder"),
        (
            "typo/sub/nuclei",
            "folder '{tmp}/typo' does not exist; create it first, or choose another",
        ),
        ("typo/new/", "folder '{tmp}/typo' does not exist; create it first, or choose another"),
        ("bad\0name", "the path has a character that cannot be in a file name (a NUL byte)"),
    ],
)
def test_a_path_the_outputs_cannot_go_to_is_refused_saying_why(
    exporter, tmp_path, errors, save_as, reason
):
    """A folder of Save as that is a file, or that does not exist (a typo: it is not made,
    nor any folder above it), and a NUL byte are refused in words, before anything is
    written, and the widget stays usable."""
    _viewer, widget, _layer = exporter
    (tmp_path / "a file").write_text("not a folder")
    choose_all(widget, tmp_path)
    widget.path_edit.setText(f"{tmp_path}/{save_as}")

    assert widget.export() == []

    reason = reason.format(
        tmp=tmp_path, MISSING="does not exist; create it first, or choose another"
    )
    assert errors == [f"Export: nothing written; {reason}."]
    assert widget.status_label.text() == f"Nothing written: {reason}."
    assert [p.name for p in tmp_path.iterdir()] == ["a file"]
    assert widget.export_button.isEnabled()
    paths = choose_all(widget, tmp_path / "fine")
    assert sorted(widget.export()) == sorted(paths.values())


def test_a_path_ending_in_a_slash_makes_that_one_folder(exporter, tmp_path, errors):
    """As the README says: Save as 'new/' in an existing folder makes 'new', says so, and
    names the files after the layer; a failed export removes it again."""
    _viewer, widget, _layer = exporter
    choose_all(widget, tmp_path)
    widget.path_edit.setText(f"{tmp_path}/new/")

    written = widget.export()

    assert {p.parent for p in written} == {tmp_path / "new"} and len(written) == 4
    assert widget.status_label.text().startswith("Wrote nuclei_labels.tif")
    assert f"to {tmp_path / 'new'} (a new folder)" in widget.status_label.text()
    assert errors == []

    widget.path_edit.setText(f"{tmp_path}/other/")
    widget.image_combo.setCurrentIndex(0)
    with pytest.MonkeyPatch.context() as patch:  # the CSV fails after the TIFF is written
        patch.setattr("tessella.engine.measure.write_csv", _disk_full)
        assert widget.export() == []
    assert len(errors) == 1 and "No space left on device" in errors[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["new"]


def _disk_full(*args, **kwargs):
    import errno

    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


@pytest.mark.skipif(not Path("/proc/self").is_dir(), reason="needs Linux's /proc")
def test_a_write_that_fails_names_the_file_not_its_temporary(exporter, errors):
    """/proc takes no new files: the TIFF's temporary file cannot be made. The message
    names the file asked for, never the temporary file beside it, and nothing is written."""
    _viewer, widget, _layer = exporter
    choose_all(widget, Path("/proc/nuclei"))

    assert widget.export() == []

    assert errors == ["Export: cannot write /proc/nuclei.tif: '/proc' takes no new files"]
    assert "Failed on /proc/nuclei.tif; nothing else written" in widget.status_label.text()
    assert not any(Path("/proc").glob("nuclei*"))


def test_labels_without_recipe_export_the_rest(exporter, tmp_path, nuclei_sample, errors):
    viewer, widget, _layer = exporter
    _image, labels = nuclei_sample
    viewer.add_labels(labels, name="drawn")
    widget.labels_combo.setCurrentIndex(widget.labels_combo.findText("drawn"))
    assert not widget.recipe_checkbox.isEnabled()
    paths = choose_all(widget, tmp_path / "drawn")

    written = widget.export()

    assert sorted(written) == sorted([paths["tif"], paths["zarr"], paths["csv"]])
    assert not paths["recipe"].exists()
    assert "no recipe" in widget.status_label.text()
    assert read_image(paths["tif"]).pixel_size == {}  # a layer without scale has no pixel size
    assert "area_um2" not in read_rows(paths["csv"])[0]

    widget.labels_combo.setCurrentIndex(widget.labels_combo.findText("nuclei labels"))
    assert widget.recipe_checkbox.isEnabled()


def test_confidence_comes_from_the_seed_map_behind_the_labels(
    exporter, tmp_path, nuclei_sample, errors
):
    _viewer, widget, layer = exporter
    image, labels = nuclei_sample
    seed = (image.astype(np.float32) / image.max())[None]
    result = SegmentResult(labels, "YX", [Prediction({"seed": seed}, "YX")], None, None)
    _results.register(layer, result)
    try:
        paths = choose_all(widget, tmp_path / "scored")
        widget.image_combo.setCurrentIndex(0)  # "none": no intensity column
        widget.export()
    finally:
        _results.discard(layer)

    rows = read_rows(paths["csv"])
    assert "mean_intensity" not in rows[0]
    ids = np.unique(labels[labels > 0])
    np.testing.assert_allclose(
        [float(row["mean_confidence"]) for row in rows], ndi.mean(seed[0], labels, ids), rtol=1e-6
    )


def test_an_intensity_image_of_another_shape_writes_nothing(exporter, tmp_path, errors):
    viewer, widget, _layer = exporter
    viewer.add_image(np.zeros((64, 64), np.float32), name="small")
    paths = choose_all(widget, tmp_path / "nuclei")
    widget.image_combo.setCurrentIndex(widget.image_combo.findText("small"))

    assert widget.export() == []

    assert len(errors) == 1 and "image shape (64, 64) differs" in errors[0]
    assert not any(path.exists() for path in paths.values())


def test_time_series_labels_are_written_with_their_axes(
    make_napari_viewer, tmp_path, nuclei_sample
):
    _image, labels = nuclei_sample
    stack = np.stack([labels, labels[::-1]])
    viewer = make_napari_viewer()
    viewer.add_labels(stack, name="movie", scale=(1.0, 0.2, 0.2), metadata={"axes": "TYX"})
    widget = ExportWidget(viewer)
    widget.path_edit.setText(str(tmp_path / "movie.tif"))  # an extension is dropped
    widget.zarr_checkbox.setChecked(False)

    assert sorted(p.name for p in widget.export()) == ["movie.csv", "movie.tif"]

    back = read_image(tmp_path / "movie.tif")
    assert back.axes == "TYX" and back.pixel_size == pytest.approx({"Y": 0.2, "X": 0.2})
    np.testing.assert_array_equal(back.data, stack)
    rows = read_rows(tmp_path / "movie.csv")
    n = len(np.unique(labels)) - 1
    assert [row["t"] for row in rows] == ["0"] * n + ["1"] * n


def test_base_path_drops_an_output_suffix(tmp_path):
    assert base_path("  ") is None
    assert base_path(str(tmp_path / "a.recipe.json")) == tmp_path / "a"
    assert base_path(str(tmp_path / "a.tiff")) == tmp_path / "a"
    assert base_path(str(tmp_path / "a.b")) == tmp_path / "a.b"
    # a folder holds the outputs, named after the layer (they are not written beside it)
    (tmp_path / "exports").mkdir()
    assert base_path(str(tmp_path / "exports"), "cells") == tmp_path / "exports" / "cells"
    assert base_path(str(tmp_path / "new") + "/", "cells") == tmp_path / "new" / "cells"
    assert base_path(str(tmp_path / "exports.tif"), "cells") == tmp_path / "exports"


def test_export_into_a_folder_names_the_files_after_the_layer(exporter, tmp_path):
    """Into a folder, the files take the name Export proposes for scripts (27407cb):
    'nuclei labels' gives nuclei_labels.tif, .zarr, .csv and .recipe.json."""
    _viewer, widget, _layer = exporter
    folder = tmp_path / "results"
    folder.mkdir()
    choose_all(widget, folder)
    written = widget.export()
    assert sorted(p.name for p in written) == sorted(
        f"nuclei_labels{s}" for s in (".tif", ".zarr", ".csv", ".recipe.json")
    )
    assert all(p.parent == folder for p in written)


def _scale_and_units(layer) -> tuple:
    return tuple(float(s) for s in layer.scale), tuple(str(u) for u in layer.units)


def _export_and_reopen(viewer, widget, layer, base) -> dict[str, tuple]:
    """Export ``layer`` as TIFF and zarr, open both with our reader: ``{suffix: (scale,
    units)}``."""
    widget.labels_combo.setCurrentIndex(widget.labels_combo.findData(layer.unique_id))
    widget.path_edit.setText(str(base))
    for checkbox, on in (
        (widget.tiff_checkbox, True),
        (widget.zarr_checkbox, True),
        (widget.csv_checkbox, True),
        (widget.recipe_checkbox, False),
    ):
        checkbox.setChecked(on)
    written = widget.export()
    assert [p.suffix for p in written] == [".tif", ".zarr", ".csv"]
    back = {}
    for path in written[:2]:
        (opened,) = viewer.open(str(path), plugin="tessella")
        back[path.suffix] = _scale_and_units(opened)
        viewer.layers.remove(opened)
    return back


@pytest.mark.parametrize(
    ("case", "pixel_size", "unit", "dtype"),
    [
        ("micrometres", {"Y": 0.5, "X": 0.5}, "µm", np.uint16),  # an ImageJ TIFF
        ("nanometres", {"Y": 40.0, "X": 40.0}, "nm", np.uint16),
        ("micrometres, OME", {"Y": 0.5, "X": 0.5}, "µm", np.uint32),  # over 65,535 labels
        ("no unit", {"Y": 0.5, "X": 0.25}, "pixel", np.uint16),  # a size, but no unit
        ("no unit, OME", {"Y": 0.5, "X": 0.25}, "pixel", np.uint32),
    ],
)
def test_a_file_s_pixel_size_and_unit_round_trip(
    make_napari_viewer, tmp_path, case, pixel_size, unit, dtype
):
    """Labels opened from a file with a pixel size are exported with that size in the file's
    own unit (none: "pixel", never taken for µm), and read back the same."""
    from tessella.engine.io import write_labels

    labels = np.zeros((32, 48), dtype)
    labels[4:10, 5:12], labels[20:30, 30:40] = 1, 2
    labels[0, 0] = 70_000 if dtype == np.uint32 else 3
    write_labels(tmp_path / "cells_labels.tif", labels, "YX", pixel_size, unit)
    viewer = make_napari_viewer()
    (layer,) = viewer.open(str(tmp_path / "cells_labels.tif"), plugin="tessella")
    expected = _scale_and_units(layer)
    assert expected[0] == (pixel_size["Y"], pixel_size["X"])
    widget = ExportWidget(viewer)

    (tmp_path / "out").mkdir()
    back = _export_and_reopen(viewer, widget, layer, tmp_path / "out" / "cells")

    assert back == {".tif": expected, ".zarr": expected}, case
    assert "has no unit" not in widget.status_label.text()
    rows = read_rows(tmp_path / "out" / "cells.csv")
    physical = [name for name in rows[0] if name.startswith("area_") and name != "area_px"]
    assert physical == ([] if unit == "pixel" else [f"area_{'um' if unit == 'µm' else unit}2"])


def test_labels_without_a_pixel_size_export_none_and_a_hand_set_scale_says_its_unit(
    make_napari_viewer, tmp_path
):
    """A scale never set (1, napari's default unit "pixel") writes no pixel size and reads
    back so; Segment's labels of an image whose file has a size but no unit keep that size
    without a unit; a scale set by hand without a unit is written as µm, and the status line
    says so."""
    import tifffile

    labels = np.zeros((32, 48), np.uint16)
    labels[4:10, 5:12] = 1
    viewer = make_napari_viewer()
    widget = ExportWidget(viewer)
    never = viewer.add_labels(labels, name="drawn")
    assert _export_and_reopen(viewer, widget, never, tmp_path / "drawn") == {
        ".tif": ((1.0, 1.0), ("pixel", "pixel")),
        ".zarr": ((1.0, 1.0), ("pixel", "pixel")),
    }
    assert read_image(tmp_path / "drawn.tif").pixel_size == {}
    assert "has no unit" not in widget.status_label.text()

    image_path = tmp_path / "cells.tif"  # an ImageJ image with a resolution and no unit
    tifffile.imwrite(image_path, labels * 100, imagej=True, resolution=(2.0, 4.0))
    (image,) = viewer.open(str(image_path), plugin="tessella")
    segmented = viewer.add_labels(
        labels,
        name="cells labels",
        scale=image.scale,
        units=image.units,
        metadata={"tessella_source": image.name, "tessella_source_id": image.unique_id},
    )  # as Segment places them (the image's scale and units, not its metadata)
    same = ((0.25, 0.5), ("pixel", "pixel"))
    assert _export_and_reopen(viewer, widget, segmented, tmp_path / "segmented") == {
        ".tif": same,
        ".zarr": same,
    }

    by_hand = viewer.add_labels(labels, name="scaled", scale=(0.3, 0.3))
    back = _export_and_reopen(viewer, widget, by_hand, tmp_path / "scaled")
    assert back[".tif"] == back[".zarr"] == ((0.3, 0.3), ("micrometer", "micrometer"))
    assert "the scale (Y 0.3, X 0.3) has no unit: written as µm" in widget.status_label.text()


def test_an_anisotropic_scale_without_a_unit_is_named_axis_by_axis(make_napari_viewer, tmp_path):
    """A volume's scale set by hand, (0.02, 0.005, 0.005) without a unit: the status line
    names each axis's size (it showed "(0.02, 0.005)", the repeated size dropped, as if the
    scale had two axes), and the file has them."""
    labels = np.zeros((4, 24, 32), np.uint16)
    labels[1:3, 4:10, 5:12] = 1
    viewer = make_napari_viewer()
    layer = viewer.add_labels(labels, name="mito labels", scale=(0.02, 0.005, 0.005))
    widget = ExportWidget(viewer)

    back = _export_and_reopen(viewer, widget, layer, tmp_path / "mito")

    assert back[".tif"][0] == pytest.approx((0.02, 0.005, 0.005))
    note = "the scale (Z 0.02, Y 0.005, X 0.005) has no unit: written as µm"
    assert note in widget.status_label.text()


# --- objects that overlap: the mask stack ---------------------------------------------------


def _whole(mask: np.ndarray, image: np.ndarray) -> dict[str, float]:
    """What the CSV says of one object measured whole."""
    ys, xs = np.nonzero(mask)
    return {
        "area_px": int(mask.sum()),
        "centroid_y": ys.mean(),
        "centroid_x": xs.mean(),
        "bbox_min_y": ys.min(),
        "bbox_max_x": xs.max(),
        "mean_intensity": image[mask].mean(),
    }


def test_crossing_worms_export_their_mask_stack_and_measure_them_whole(
    make_napari_viewer, data_dir, run_to_end, tmp_path, errors
):
    """BBBC010 A06 segmented in the Segment widget with worms2d: Export writes, beside the
    flat labels, the (N, Y, X) stack `tessella segment --stack` writes, and the CSV measures
    each worm whole (worms partly hidden under others were 15-22% short); after an edit the
    stack comes from the labels and their overlaps layer."""
    from tessella.cli import main
    from tessella.engine.io import read_mask_stack

    well = data_dir / "worms_bbbc010" / "gfp" / "A06.tif"
    image = np.asarray(read_image(well).data)
    viewer = make_napari_viewer()
    viewer.add_image(image, name="A06")
    _dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    choose_model(segment, "worms2d")
    run_to_end(segment)
    layer = viewer.layers["A06 labels (worms2d)"]
    assert "A06 labels (worms2d) overlaps" in [lyr.name for lyr in viewer.layers]
    widget.labels_combo.setCurrentIndex(widget.labels_combo.findText("A06 labels (worms2d)"))
    assert widget.stack_checkbox.isEnabled() and widget.stack_checkbox.isChecked()
    widget.path_edit.setText(str(tmp_path / "w"))

    written = widget.export()  # the defaults, stack included

    assert errors == []
    assert [p.name for p in written] == ["w.tif", "w.stack.tif", "w.csv", "w.recipe.json"]
    np.testing.assert_array_equal(read_image(tmp_path / "w.tif").data, layer.data)  # kept
    assert main(["segment", str(well), "-o", str(tmp_path / "cli.tif"), "--model", "worms2d",
                 "--stack", "-q"]) == 0  # fmt: skip
    expected = read_mask_stack(tmp_path / "cli.tif")
    stack = read_mask_stack(tmp_path / "w.stack.tif")
    np.testing.assert_array_equal(stack, expected)  # the CLI's stack, its format too
    rows = read_rows(tmp_path / "w.csv")
    assert [int(row["label"]) for row in rows] == list(range(1, len(expected) + 1))
    hidden = 0
    for row, mask in zip(rows, expected):
        whole = _whole(mask, image)
        assert int(row["area_px"]) == whole["area_px"]
        for name in ("centroid_y", "centroid_x", "bbox_min_y", "bbox_max_x", "mean_intensity"):
            assert float(row[name]) == pytest.approx(whole[name])
        hidden += whole["area_px"] > int((layer.data == int(row["label"])).sum())
    assert hidden >= 2  # worms partly under others, measured whole
    status = widget.status_label.text()
    assert f"w.stack.tif ({len(expected)} whole objects: the network's instances)" in status
    for name in ("w.stack.tif", "cli.tif"):  # evaluate --overlapping reads it alike
        out = tmp_path / f"{name}.json"
        gt = data_dir / "worms_bbbc010" / "worm_masks" / "A06.tif"
        assert main(["evaluate", str(tmp_path / name), str(gt), "--overlapping", "-q",
                     "--json", str(out)]) == 0  # fmt: skip
    assert json.loads((tmp_path / "w.stack.tif.json").read_text()) == json.loads(
        (tmp_path / "cli.tif.json").read_text()
    )

    # edited labels (a worm erased): the others are still whole, hidden parts included
    overlaps = viewer.layers["A06 labels (worms2d) overlaps"]
    under = set(np.unique(overlaps.data).tolist())
    erased = next(k for k in range(1, len(expected) + 1) if k not in under)  # not hidden
    layer.fill(tuple(np.argwhere(layer.data == erased)[0]), 0)
    widget.overwrite_checkbox.setChecked(True)
    assert widget.export()
    status = widget.status_label.text()
    assert f"({len(expected) - 1} whole objects: the edited labels, hidden parts from" in status
    stack = read_mask_stack(tmp_path / "w.stack.tif")
    rows = read_rows(tmp_path / "w.csv")
    kept = [k for k in range(1, len(expected) + 1) if k != erased]
    assert [int(row["label"]) for row in rows] == kept  # page n of the stack is row n
    np.testing.assert_array_equal(stack, expected[np.array(kept) - 1])
    assert [int(row["area_px"]) for row in rows] == stack.sum(axis=(1, 2)).tolist()

    # no network result behind the labels: their overlaps layer gives the hidden parts
    _results.discard(layer)
    assert widget.export()
    assert "whole objects: the labels with their overlaps layer" in widget.status_label.text()
    stack = read_mask_stack(tmp_path / "w.stack.tif")
    for mask, label in zip(stack, kept):
        whole = (layer.data == label) | (overlaps.data == label)
        np.testing.assert_array_equal(mask, whole)
        assert mask.sum() > (layer.data == label).sum() or label not in under

    # the stack left out: the flat labels are measured, as before
    widget.stack_checkbox.setChecked(False)
    assert [p.name for p in widget.export()] == ["w.tif", "w.csv", "w.recipe.json"]
    rows = read_rows(tmp_path / "w.csv")
    assert [int(r["area_px"]) for r in rows] == [int((layer.data == k).sum()) for k in kept]


def test_the_stack_is_offered_only_where_objects_may_overlap(exporter):
    viewer, widget, _layer = exporter  # nuclei labels: no overlaps layer, no patches result
    assert not widget.stack_checkbox.isEnabled()
    assert all(o.kind != "stack" for o in widget.outputs())
    assert base_path("/x/w.stack.tif") == base_path("/x/w.tif") == Path("/x/w")


# --- time-lapses: the Cell Tracking Challenge format ----------------------------------------


def test_a_cell_erased_from_one_frame_exports_ctc_with_its_track_split(
    make_napari_viewer, data_dir, run_to_end, tmp_path, errors
):
    """Fluo-N2DH-SIM+ frames 56-61 (a 256x256 crop) tracked by cells2dt in the Segment
    widget, one cell erased from frame 2: the CTC folder splits its track there (the piece
    after the gap a new track, its parent the piece before) instead of refusing after the
    TIFF, CSV and recipe were written; an output that cannot be made writes nothing."""
    from tessella.engine.tracking import read_ctc_tracks

    folder = data_dir / "ctc_Fluo-N2DH-SIM+" / "01"
    movie = np.stack([read_image(folder / f"t{t:03d}.tif").data for t in range(56, 62)])
    viewer = make_napari_viewer()
    viewer.add_image(np.asarray(movie)[:, :256, :256], name="movie")
    _dock, segment = viewer.window.add_plugin_dock_widget("tessella", "Segment")
    choose_model(segment, "cells2dt")
    run_to_end(segment)
    layer = viewer.layers["movie labels (cells2dt)"]
    tracked = np.asarray(layer.data).copy()
    track = next(k for k in np.unique(tracked[2])[1:] if all((tracked == k).any(axis=(1, 2))))
    layer.fill(tuple([2, *np.argwhere(tracked[2] == track)[0]]), 0)
    assert not (layer.data[2] == track).any()
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    widget.labels_combo.setCurrentIndex(widget.labels_combo.findText("movie labels (cells2dt)"))
    widget.path_edit.setText(str(tmp_path / "movie"))
    widget.ctc_checkbox.setChecked(True)

    written = widget.export()

    assert errors == []
    names = ["movie.tif", "movie.csv", "movie.recipe.json", "movie_RES"]
    assert [p.name for p in written] == names
    table = {k.id: k for k in read_ctc_tracks(tmp_path / "movie_RES" / "res_track.txt")}
    new = int(tracked.max()) + 1
    assert (table[track].start, table[track].end) == (0, 1)
    assert (table[new].start, table[new].end, table[new].parent) == (3, 5, track)
    masks = np.stack([read_image(p).data for p in sorted((tmp_path / "movie_RES").glob("m*"))])
    expected = np.asarray(layer.data).copy()
    expected[3:][expected[3:] == track] = new
    np.testing.assert_array_equal(masks, expected)
    status = widget.status_label.text()
    assert f"track {track} is missing from frame 2): split at each gap" in status

    # a track ID CTC cannot hold (uint16): nothing written at all, the folder said once
    layer.fill(tuple([0, *np.argwhere(layer.data[0] == track)[0]]), 70_000)
    widget.path_edit.setText(str(tmp_path / "big"))
    assert widget.export() == []
    assert len(errors) == 1 and "uint16" in errors[0] and "track 70000" in errors[0]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(names)
    assert "Nothing written" in widget.status_label.text()
