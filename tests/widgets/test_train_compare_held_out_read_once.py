"""Compare after a run on a folder, clicked again (review s32/r7, finding 2): each click added
another copy of the held-out mask ('n1 mask', 'n1 mask [1]', 'n1 mask [2]'), the mask being
added without a file napari knew it by, and the image and mask were read on the GUI thread,
though Compare reads what it compares in its worker. Now the files are read once, in a
worker, and their layers (marked with their files) are found again at the next Compare."""

from __future__ import annotations

import threading

import numpy as np

import tessella._widgets._train_comparing as comparing_module
import tessella.engine.io as engine_io
from tests.widgets.test_train_compare_folder_run import _folder_run


def test_compare_thrice_after_a_folder_run_reads_its_held_out_files_once_off_the_gui_thread(
    viewer_models, qtbot, monkeypatch, tmp_path
):
    viewer, _models = viewer_models
    folder, model = _folder_run(tmp_path)
    _dock, train = viewer.window.add_plugin_dock_widget("tessella", "Train")
    train.last_model, train.last_base, train.last_pairs = model, None, ()
    read_on: list[tuple[str, bool]] = []  # (file name, read on the GUI thread)
    read_image = engine_io.read_image

    def recorded(path, *args, **kwargs):
        read_on.append((str(path), threading.current_thread() is threading.main_thread()))
        return read_image(path, *args, **kwargs)

    monkeypatch.setattr(engine_io, "read_image", recorded)

    def scored(image, labels, index, axes, models, ignore_label=None, **run):
        for name in models:
            yield name, np.asarray(labels), {"ap": {"0.5": 1.0}, "avs": 0.9}

    monkeypatch.setattr(comparing_module, "_read_and_compare", scored)
    for _ in range(3):
        with qtbot.waitSignal(train.compare_finished, timeout=30_000):
            assert train.compare(), train.status_label.text()
        text = train.status_label.text()
        assert text.startswith("Against 'n1 mask' on 'n1' (held out of training):"), text
    names = [layer.name for layer in viewer.layers]
    assert names == ["n1", "n1 mask", "n1 by folder-run"], names
    image_file, mask_file = folder / "images" / "n1.tif", folder / "masks" / "n1.tif"
    read = [path for path, _on_gui in read_on]
    assert sorted(read) == sorted([str(image_file), str(mask_file)]), read_on  # once each
    assert not any(on_gui for _path, on_gui in read_on), read_on
    assert viewer.layers["n1"].source.path == str(image_file)
    assert viewer.layers["n1 mask"].metadata[comparing_module.HELD_OUT_KEY] == str(mask_file)
    assert viewer.layers["n1 mask"].data.max() == 3


def test_compare_reads_a_held_out_image_of_channels_as_open_adds_it(
    viewer_models, qtbot, monkeypatch, tmp_path
):
    """The held-out image is added as napari's Open adds it with tessella's reader: a file of
    two channels as one layer per channel ('n1 c0', 'n1 c1'), each with the file as its
    source; Compare takes the first."""
    import tifffile

    viewer, _models = viewer_models
    folder, model = _folder_run(tmp_path)
    image = tifffile.imread(folder / "images" / "n1.tif")
    tifffile.imwrite(
        folder / "images" / "n1.tif",
        np.stack([image, image]),
        imagej=True,
        metadata={"axes": "CYX"},
    )
    _dock, train = viewer.window.add_plugin_dock_widget("tessella", "Train")
    train.last_model, train.last_base, train.last_pairs = model, None, ()

    def scored(image, labels, index, axes, models, ignore_label=None, **run):
        for name in models:
            yield name, np.asarray(labels), {"ap": {"0.5": 1.0}, "avs": 0.9}

    monkeypatch.setattr(comparing_module, "_read_and_compare", scored)
    for _ in range(2):
        with qtbot.waitSignal(train.compare_finished, timeout=30_000):
            assert train.compare(), train.status_label.text()
        text = train.status_label.text()
        assert text.startswith("Against 'n1 mask' on 'n1 c0' (held out of training):"), text
    names = [layer.name for layer in viewer.layers]
    assert names == ["n1 c0", "n1 c1", "n1 mask", "n1 c0 by folder-run"], names
    assert viewer.layers["n1 c1"].source.path == str(folder / "images" / "n1.tif")


def test_compare_says_when_a_held_out_file_cannot_be_read(
    viewer_models, qtbot, monkeypatch, tmp_path
):
    """A held-out mask that cannot be read is said on the status line, Compare is given
    back, and compare_finished is emitted (nothing compared)."""
    viewer, _models = viewer_models
    folder, model = _folder_run(tmp_path)
    (folder / "masks" / "n1.tif").write_bytes(b"not a tiff")
    _dock, train = viewer.window.add_plugin_dock_widget("tessella", "Train")
    train.last_model, train.last_base, train.last_pairs = model, None, ()
    with qtbot.waitSignal(train.compare_finished, timeout=30_000):
        assert train.compare(), train.status_label.text()
    text = train.status_label.text()
    assert text.startswith("Not compared: cannot open the held-out 'n1.tif' or its mask:"), text
    assert train.compare_button.isEnabled()
    assert "n1 mask" not in [layer.name for layer in viewer.layers]
