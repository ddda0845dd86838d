"""Export into a folder names the files after the layer: a layer name is one file name there,
never a path (one with a '/', '..' or a leading '/' writes nowhere else), and every refusal
says why in the status line too."""

from __future__ import annotations

import doctest
from pathlib import Path

import pytest

from tessella._widgets import _export_outputs, _export_write
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
        ("../escaped", "/", "___escaped", "hold '/' nor start with '.'"),
        ("../escaped", "", "___escaped", "hold '/' nor start with '.'"),
        ("{tmp}/abs_escaped", "/", "{tmp_}_abs_escaped", "hold '/'"),
        ("{tmp}/abs_escaped", "", "{tmp_}_abs_escaped", "hold '/'"),
        ("cells/v2", "/", "cells_v2", "hold '/'"),  # no folder "cells" made
        ("deep/er/x", "", "deep_er_x", "hold '/'"),  # no refusal about a folder "deep"
        ("day 1/well A", "/", "day 1_well A", "hold '/'"),
        (
            'a:b*c?<d>|"e"\\f',
            "",
            "a_b_c__d___e__f",
            "hold '\"', '*', ':', '<', '>', '?', '\\\\', '|'",
        ),
        ("tab\tname", "/", "tab_name", "hold '\\t'"),
        (".hidden", "", "_hidden", "start with '.'"),
        ("CON", "/", "CON_", "be the Windows device CON"),  # no file on Windows
        ("nul.v2", "", "nul_.v2", "be the Windows device NUL"),
        ("com\u00b9", "/", "com\u00b9_", "be the Windows device COM\u00b9"),
        ("conout$", "", "conout$_", "be the Windows device CONOUT$"),
    ],
)
def test_a_layer_name_is_one_file_name_inside_the_chosen_folder(
    exporter, tmp_path, errors, nuclei_sample, layer_name, file_name, why, slash
):
    """Save as an existing folder (typed with or without the slash): the files are named
    after the layer, each character a file name cannot hold (a path separator, one Windows
    forbids, a control character) and a leading '.' made '_', always in that folder, and
    the status line says which name the files got."""
    _viewer, widget, layer = exporter
    layer_name = layer_name.format(tmp=tmp_path)
    file_name = file_name.format(tmp_=str(tmp_path).replace("/", "_"))
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
    assert f"(a file name cannot {why})" in status


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

    layer.name = "nuclei [1]"
    widget.path_edit.setText(f"{tmp_path}/")
    assert [p.name for p in widget.export()] == ["nuclei [1].tif", "nuclei [1].csv"]
    assert f"to {tmp_path}; named" not in widget.status_label.text()
    assert errors == []


def test_browse_proposes_a_file_in_the_home_folder(exporter, monkeypatch):
    """Browse's first proposal (Save as empty) is the layer's name in the home folder, made
    a file name there: never a path above it or elsewhere."""
    _viewer, widget, layer = exporter
    proposed = proposed_save_names(monkeypatch, _export_outputs)
    for name in ("../../etc/cells", "/tmp/cells", "DAPI/GFP"):
        layer.name = name
        widget.browse_button.click()
    home = Path.home()
    assert proposed == [
        str(home / "___.._etc_cells"),
        str(home / "_tmp_cells"),
        str(home / "DAPI_GFP"),
    ]
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
