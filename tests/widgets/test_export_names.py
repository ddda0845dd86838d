"""Export into a folder names the files after the layer: a layer name is one file name there,
never a path (one with a '/', '..' or a leading '/' writes nowhere else), and one that a shell
script or a Fiji macro takes unquoted (no spaces nor brackets: Segment's "nuclei labels
(nuclei2d)" gives nuclei_labels_nuclei2d.tif); a name typed in Save as is kept as typed; every
refusal says why in the status line too."""

from __future__ import annotations

import doctest
import json
from pathlib import Path

import pytest

from tessella._widgets import _export_outputs, _export_write
from tessella._widgets._segment_outputs import result_name
from tessella._widgets.export import ExportWidget
from tessella.engine.io import read_image
from tests.widgets.helpers import proposed_save_names, said


@pytest.fixture
def exporter(make_napari_viewer, nuclei_sample):
    """A viewer with the nuclei labels at 0.5 µm and the Export dock."""
    _image, labels = nuclei_sample
    viewer = make_napari_viewer()
    layer = viewer.add_labels(labels, name="nuclei labels", scale=(0.5, 0.5))
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    assert isinstance(widget, ExportWidget)
    widget.tiff_checkbox.setChecked(True)
    widget.csv_checkbox.setChecked(True)
    return viewer, widget, layer


@pytest.fixture
def errors(monkeypatch) -> list[str]:
    return said(monkeypatch, _export_write)


def _files(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


@pytest.mark.parametrize(
    ("layer_name", "slash", "file_name", "why"),
    [
        ("../escaped", "/", "escaped", "a file name cannot hold '/' nor start with '.'"),
        ("../escaped", "", "escaped", "a file name cannot hold '/' nor start with '.'"),
        ("{tmp}/abs_escaped", "/", "{tmp_}_abs_escaped", "a file name cannot hold '/'"),
        ("{tmp}/abs_escaped", "", "{tmp_}_abs_escaped", "a file name cannot hold '/'"),
        ("cells/v2", "/", "cells_v2", "a file name cannot hold '/'"),  # no folder "cells"
        ("deep/er/x", "", "deep_er_x", "a file name cannot hold '/'"),  # no folder "deep"
        (
            "day 1/well A",
            "/",
            "day_1_well_A",
            "a file name cannot hold '/'; ' ' made '_' for scripts",
        ),
        (
            'a:b*c?<d>|"e"\\f',
            "",
            "a_b_c_d_e_f",
            "a file name cannot hold '\"', '*', ':', '<', '>', '?', '\\\\', '|'",
        ),
        ("tab\tname", "/", "tab_name", "a file name cannot hold '\\t'"),
        (".hidden", "", "hidden", "a file name cannot start with '.'"),
        ("CON", "/", "CON_", "a file name cannot be the Windows device CON"),  # no file there
        ("nul.v2", "", "nul_.v2", "a file name cannot be the Windows device NUL"),
        ("com\u00b9", "/", "com\u00b9_", "a file name cannot be the Windows device COM\u00b9"),
        ("conout$", "", "conout", "'$' made '_' for scripts"),  # (no longer a device name)
        ("E03 labels (worms2d)", "/", "E03_labels_worms2d", "' ', '(', ')' made '_' for scripts"),
        (
            "stack labels (nuclei2d, TYX)",
            "",
            "stack_labels_nuclei2d_TYX",
            "' ', '(', ')', ',' made '_' for scripts",
        ),
        ("Zellkerne (Wölfe)", "/", "Zellkerne_Wölfe", "' ', '(', ')' made '_' for scripts"),
        ("_x__y.", "", "x_y", "trimmed for scripts"),
        (
            "-rf labels (x)",
            "/",
            "rf_labels_x",
            "' ', '(', ')' made '_' for scripts; a leading '-' dropped for scripts",
        ),
        ("--x-y", "", "x-y", "a leading '-' dropped for scripts"),  # (not an option)
    ],
)
def test_a_layer_name_is_one_file_name_inside_the_chosen_folder(
    exporter, tmp_path, errors, nuclei_sample, layer_name, file_name, why, slash
):
    """Save as an existing folder (typed with or without the slash): the files are named
    after the layer, each run of characters a file name cannot hold (a path separator, one
    Windows forbids, a control character) or a script would need quoted (spaces, brackets,
    other punctuation) made one '_', none at either end nor a leading '.', letters of any
    script kept, always in that folder, and the status line says which name the files got
    and why."""
    _viewer, widget, layer = exporter
    layer_name = layer_name.format(tmp=tmp_path)
    file_name = file_name.format(tmp_=str(tmp_path).replace("/", "_").lstrip("_"))
    layer.name = layer_name
    folder = tmp_path / "exp" / "inner"
    folder.mkdir(parents=True)
    widget.path_edit.setText(f"{folder}{slash}")

    written = widget.export()

    assert errors == []
    assert _files(tmp_path) == sorted(
        ["exp", "exp/inner", f"exp/inner/{file_name}.csv", f"exp/inner/{file_name}.tif"]
    )
    assert written == [folder / f"{file_name}.tif", folder / f"{file_name}.csv"]
    assert (read_image(written[0]).data == nuclei_sample[1]).all()
    status = widget.status_label.text()
    assert status.startswith(f"Wrote {file_name}.tif, {file_name}.csv (")
    assert f"to {folder}; named '{file_name}' after the layer '{layer_name}' " in status
    assert f"'{layer_name}' ({why})" in status


def test_a_base_name_typed_in_save_as_is_kept_and_a_plain_layer_name_not_noted(
    exporter, tmp_path, errors
):
    """Only names made from the layer's are changed: a base name the user types (its
    folders included) is taken as typed, and a layer name that is a file name as it is
    adds no note."""
    _viewer, widget, layer = exporter
    layer.name = "cells/v2"
    widget.path_edit.setText(f"{tmp_path}/a:b")
    assert widget.export() == [tmp_path / "a:b.tif", tmp_path / "a:b.csv"]
    assert f"to {tmp_path}; named" not in widget.status_label.text()

    widget.path_edit.setText(f"{tmp_path}/E03 labels (worms2d)")  # typed: kept so
    assert widget.export() == [
        tmp_path / "E03 labels (worms2d).tif",
        tmp_path / "E03 labels (worms2d).csv",
    ]
    assert f"to {tmp_path}; named" not in widget.status_label.text()

    layer.name = "Zellkerne_ü-v2.1+"
    widget.path_edit.setText(f"{tmp_path}/")
    assert [p.name for p in widget.export()] == ["Zellkerne_ü-v2.1+.tif", "Zellkerne_ü-v2.1+.csv"]
    assert f"to {tmp_path}; named" not in widget.status_label.text()
    assert errors == []


def test_segment_s_result_exports_into_a_folder_under_a_name_for_scripts(
    make_napari_viewer, nuclei_sample, tmp_path, errors, monkeypatch
):
    """Segment's result "nuclei labels (nuclei2d)" (its recipe in its metadata, as Segment
    leaves it) exported into a folder: every file is named nuclei_labels_nuclei2d.*, which a
    shell script or a Fiji macro takes unquoted, the recipe lists them so, the labels read
    back equal, and Browse proposes the same name in the home folder."""
    image, labels = nuclei_sample
    viewer = make_napari_viewer()
    source = viewer.add_image(image, name="nuclei", scale=(0.5, 0.5))
    name = result_name("nuclei", "labels", "nuclei2d")
    recipe = {"model": "nuclei2d", "params": {"min_size": 20}, "axes": "YX"}
    metadata = {"tessella_source": "nuclei", "tessella_source_id": source.unique_id}
    viewer.add_labels(
        labels, name=name, scale=(0.5, 0.5), metadata={**metadata, "tessella_recipe": recipe}
    )
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    widget.labels_combo.setCurrentIndex(widget.labels_combo.findText(name))
    for box in (widget.tiff_checkbox, widget.zarr_checkbox, widget.csv_checkbox):
        box.setChecked(True)
    assert widget.recipe_checkbox.isEnabled() and widget.recipe_checkbox.isChecked()
    proposed = proposed_save_names(monkeypatch, _export_outputs)
    widget.browse_button.click()
    assert proposed == [str(Path.home() / "nuclei_labels_nuclei2d")]

    widget.path_edit.setText(f"{tmp_path}/")
    written = widget.export()

    assert errors == []
    stem = "nuclei_labels_nuclei2d"
    suffixes = [".tif", ".zarr", ".csv", ".recipe.json"]
    assert written == [tmp_path / f"{stem}{suffix}" for suffix in suffixes]
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in written)
    assert (read_image(tmp_path / f"{stem}.tif").data == labels).all()
    exported = json.loads((tmp_path / f"{stem}.recipe.json").read_text())["exported"]
    assert exported == {"tiff": f"{stem}.tif", "zarr": f"{stem}.zarr", "csv": f"{stem}.csv"}
    status = widget.status_label.text()
    assert status.startswith(f"Wrote {stem}.tif, {stem}.zarr, {stem}.csv (")
    assert f"; named '{stem}' after the layer '{name}' (' ', '(', ')' made '_'" in status


def test_browse_proposes_a_file_in_the_home_folder(exporter, monkeypatch):
    """Browse's first proposal (Save as empty) is the layer's name in the home folder, made
    a file name there: never a path above it or elsewhere."""
    _viewer, widget, layer = exporter
    proposed = proposed_save_names(monkeypatch, _export_outputs)
    for name in ("../../etc/cells", "/tmp/cells", "DAPI/GFP"):
        layer.name = name
        widget.browse_button.click()
    home = Path.home()
    assert proposed == [str(home / "etc_cells"), str(home / "tmp_cells"), str(home / "DAPI_GFP")]
    assert widget.path_edit.text() == ""  # (the dialog was cancelled)


def test_every_refusal_says_why_in_the_status_line(exporter, tmp_path, monkeypatch, errors):
    """After a refusal with a message in the status line, an empty Save as, and then no
    labels layer, are refused with their own message there (not the one before, about a
    path no longer in the box)."""
    viewer, widget, layer = exporter
    infos: list[str] = []
    monkeypatch.setattr(_export_write, "show_info", infos.append)
    (tmp_path / "nuc.tif").write_bytes(b"")
    widget.path_edit.setText(f"{tmp_path}/nuc.tif/x")
    assert widget.export() == []
    assert (
        widget.status_label.text()
        == f"Nothing written: '{tmp_path}/nuc.tif' is a file, not a folder."
    )

    widget.path_edit.setText("  ")
    assert widget.export() == []
    empty = "Export: choose where to save (the 'Save as' path) first."
    assert infos == [empty]
    assert widget.status_label.text() == empty

    widget.path_edit.setText(f"{tmp_path}/nuc.tif/x")
    assert widget.export() == []
    viewer.layers.remove(layer)
    assert widget.export() == []
    assert infos == [empty, "Export: add a labels layer first."]
    assert widget.status_label.text() == "Export: add a labels layer first."
    assert _files(tmp_path) == ["nuc.tif"]


def test_the_examples_in_export_s_docstrings_run():
    for module in (_export_outputs, _export_write):
        assert doctest.testmod(module).failed == 0
