"""Export's recipe records the ``input_identity`` of the image file *as it was read*, hashed in
Export's worker, never on the GUI thread (a 4 GB file took napari some 10 s to hash there).
The reader records the file's size and modification time; a file changed or gone since it
was read gets no identity (the one of another file would tell ``tessella segment
--skip-existing`` that the labels were made from it), and Export says so, naming the file."""

from __future__ import annotations

import builtins
import json
import os
import shutil
import threading

import numpy as np
import pytest
import tifffile
from qtpy.QtCore import Qt

import tessella.engine.input_record as input_record
from tessella._widgets.export import ExportWidget
from tessella._widgets.segment import RECIPE_KEY, SOURCE_ID_KEY, SOURCE_KEY
from tessella.engine.input_record import INPUT_KEY, READ_KEY, input_identity
from tests.conftest import DATA, SEGMENT_RECIPE

#: what Segment records in the labels layer (no ``input``: a layer, not a file)
PANEL_RECIPE = {k: v for k, v in SEGMENT_RECIPE.items() if k != "input"}


@pytest.fixture
def opened(make_napari_viewer, tmp_path):
    """A real nuclei image copied from the shared fixtures, opened by the tessella reader,
    and labels Segment made from it (the fixture's mask, with Segment's recipe and source)."""
    path = tmp_path / "img2d.tif"
    shutil.copyfile(DATA / "fixtures" / "img2d.tif", path)
    viewer = make_napari_viewer()
    [image] = viewer.open(str(path), plugin="tessella")
    mask = tifffile.imread(DATA / "fixtures" / "mask2d.tif")
    metadata = {RECIPE_KEY: PANEL_RECIPE, SOURCE_KEY: image.name, SOURCE_ID_KEY: image.unique_id}
    labels = viewer.add_labels(mask, name="img2d labels", metadata=metadata)
    return viewer, image, labels, path


def _widget(viewer, labels, base) -> ExportWidget:
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Export")
    assert isinstance(widget, ExportWidget)
    widget.labels_combo.setCurrentIndex(widget.labels_combo.findData(labels.unique_id))
    widget.path_edit.setText(str(base))
    widget.tiff_checkbox.setChecked(True)
    widget.csv_checkbox.setChecked(False)
    widget.recipe_checkbox.setChecked(True)
    return widget


def _done(widget, recipe) -> bool:
    """Whether the export has ended (its worker, if any, gone) with its recipe written."""
    return recipe.exists() and getattr(widget, "worker", None) is None


def test_the_input_file_is_hashed_in_exports_worker(opened, tmp_path, qtbot, monkeypatch):
    """Every read of the input file for the recipe happens off the GUI thread, and the
    recipe's identity is the file's, as ``tessella segment`` records it."""
    viewer, image, labels, path = opened
    stat = path.stat()
    assert image.metadata[READ_KEY] == {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    base = tmp_path / "out" / "img2d"
    base.parent.mkdir()
    widget = _widget(viewer, labels, base)
    reads: list[threading.Thread] = []
    real_open = builtins.open

    def spy(file, *args, **kwargs):
        if isinstance(file, str | os.PathLike) and os.path.abspath(file) == str(path):
            reads.append(threading.current_thread())
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", spy)
    widget.export()
    recipe = base.with_name("img2d.recipe.json")
    qtbot.waitUntil(lambda: _done(widget, recipe), timeout=30_000)
    monkeypatch.undo()
    assert reads, "the input file was never read for the recipe"
    main = threading.main_thread()
    assert all(thread is not main for thread in reads), [t.name for t in reads]
    assert json.loads(recipe.read_text())[INPUT_KEY] == input_identity(path)
    assert widget.export_button.text() == "Export" and widget.export_button.isEnabled()
    assert widget.status_label.text().startswith("Wrote img2d.tif, img2d.recipe.json to ")


def _rewrite(path):
    """Other pixels, the same size: only the modification time tells (set one second later)."""
    before = path.stat()
    pixels = tifffile.imread(path)
    pixels[:16, :16] = pixels.max()
    tifffile.imwrite(path, pixels)
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns + 10**9))
    assert path.stat().st_size == before.st_size


def _grow(path):
    tifffile.imwrite(path, np.tile(tifffile.imread(path), (1, 2)))


@pytest.mark.parametrize(
    ("change", "why"),
    [
        (_rewrite, "the same size, but modified since (another modification time)"),
        (_grow, "size 524,544 bytes then, 1,048,832 bytes now"),
        (lambda path: path.unlink(), "cannot be read now (No such file or directory)"),
    ],
    ids=["rewritten", "grown", "gone"],
)
def test_a_file_changed_or_gone_since_it_was_read_gets_no_identity(
    opened, tmp_path, qtbot, change, why
):
    """The labels were made from the file as read; one changed or removed since records no
    identity, and the status line says why in one sentence naming the file; the labels and
    the rest of the recipe are written."""
    viewer, _image, labels, path = opened
    change(path)
    base = tmp_path / "img2d_labels"
    widget = _widget(viewer, labels, base)
    widget.export()
    recipe_path = base.with_name("img2d_labels.recipe.json")
    qtbot.waitUntil(lambda: _done(widget, recipe_path), timeout=30_000)
    recipe = json.loads(recipe_path.read_text())
    assert INPUT_KEY not in recipe
    assert recipe["params"] == PANEL_RECIPE["params"]
    assert np.array_equal(tifffile.imread(base.with_name("img2d_labels.tif")), labels.data)
    status = widget.status_label.text()
    sentence = (
        f". The recipe records no input_identity: {path} (read as 'img2d') is not the file "
        f"that was read, {why}."
    )
    assert status.endswith(sentence), status


def test_cancel_while_the_input_is_hashed_writes_nothing(opened, tmp_path, qtbot, monkeypatch):
    """While the input is hashed the Export button is Cancel and the choices are locked;
    Cancel stops the worker, nothing is written, and the panel exports again afterwards."""
    viewer, _image, labels, path = opened
    real = input_record.identity_as_read
    release = threading.Event()
    threads: list[threading.Thread] = []

    def held(*args, **kwargs):
        threads.append(threading.current_thread())
        steps = real(*args, **kwargs)
        yield next(steps)  # one step read, then wait for the test
        release.wait(10)
        return (yield from steps)

    monkeypatch.setattr(input_record, "identity_as_read", held)
    base = tmp_path / "img2d_labels"
    widget = _widget(viewer, labels, base)
    assert widget.export() == []  # (at once: the rest once the file is hashed)
    qtbot.waitUntil(lambda: "524,544 bytes of 524,544 bytes" in widget.status_label.text())
    assert widget.export_button.text() == "Cancel"
    assert not widget.path_edit.isEnabled() and not widget.recipe_checkbox.isEnabled()
    assert widget.export() == []  # a second press of a script's export: nothing more
    qtbot.mouseClick(widget.export_button, Qt.MouseButton.LeftButton)
    release.set()
    qtbot.waitUntil(lambda: widget.worker is None, timeout=10_000)
    assert widget.status_label.text() == (
        f"Cancelled: nothing written (reading {path} for the recipe was stopped)."
    )
    assert list(tmp_path.glob("img2d_labels*")) == []
    assert threads and threads[0] is not threading.main_thread()
    assert widget.path_edit.isEnabled() and widget.export_button.text() == "Export"

    monkeypatch.undo()
    with qtbot.waitSignal(widget.exported, timeout=30_000) as blocker:
        widget.export()
    assert [p.name for p in blocker.args[0]] == ["img2d_labels.tif", "img2d_labels.recipe.json"]
    recipe = json.loads(base.with_name("img2d_labels.recipe.json").read_text())
    assert recipe[INPUT_KEY] == input_identity(path)
