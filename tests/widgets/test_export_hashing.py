"""Export's hashing of the input file for the recipe (review A, finding 8): the image renamed
while its file is hashed is the same file (it was hashed again, whole); an unchanged file is
not hashed again at the next export (each export re-read it: some 10 s for 4 GB); labels
edited while the file is hashed are not written as they are at the end without a word
(those of the click and the recipe of the labels now would disagree): nothing is written,
and the status line says so."""

from __future__ import annotations

import json
import os
import threading

import numpy as np
import tifffile

import tessella._widgets._export_write as export_write
import tessella.engine.input_record as input_record
from tessella.engine.input_record import INPUT_KEY, input_identity
from tests.widgets.test_export_identity_as_read import _widget, opened  # noqa: F401


def _held_hashing(monkeypatch):
    """identity_as_read made to wait after its first step until ``release`` is set; its calls
    counted."""
    real = input_record.identity_as_read
    release = threading.Event()
    calls: list = []

    def held(*args, **kwargs):
        calls.append(args[0])
        steps = real(*args, **kwargs)
        try:
            first = next(steps)
        except StopIteration as end:  # (nothing read: the file is not the one read)
            return end.value
        yield first
        release.wait(10)
        return (yield from steps)

    monkeypatch.setattr(input_record, "identity_as_read", held)
    monkeypatch.setattr(export_write, "_IDENTITIES", {})  # (none from other tests)
    return release, calls


def test_the_image_renamed_while_hashed_is_not_hashed_again(opened, tmp_path, qtbot, monkeypatch):  # noqa: F811
    viewer, image, labels, path = opened
    release, calls = _held_hashing(monkeypatch)
    base = tmp_path / "renamed"
    widget = _widget(viewer, labels, base)
    assert widget.export() == []
    qtbot.waitUntil(lambda: "of 524,544 bytes" in widget.status_label.text())
    image.name = "nuclei (renamed)"
    with qtbot.waitSignal(widget.exported, timeout=30_000) as blocker:
        release.set()
    assert [p.name for p in blocker.args[0]] == ["renamed.tif", "renamed.recipe.json"]
    assert calls == [str(path)]  # once
    assert json.loads(base.with_name("renamed.recipe.json").read_text())[INPUT_KEY] == (
        input_identity(path)
    )


def test_an_unchanged_file_is_not_hashed_again(opened, tmp_path, qtbot, monkeypatch):  # noqa: F811
    viewer, _image, labels, path = opened
    release, calls = _held_hashing(monkeypatch)
    release.set()
    base = tmp_path / "again"
    widget = _widget(viewer, labels, base)
    widget.overwrite_checkbox.setChecked(True)
    with qtbot.waitSignal(widget.exported, timeout=30_000):
        assert widget.export() == []  # hashed in the worker
    assert calls == [str(path)]
    first = json.loads(base.with_name("again.recipe.json").read_text())

    written = widget.export()  # at once, from what was hashed
    assert [p.name for p in written] == ["again.tif", "again.recipe.json"]
    assert calls == [str(path)]
    assert json.loads(base.with_name("again.recipe.json").read_text()) == first
    assert first[INPUT_KEY] == input_identity(path)

    # the file touched since it was read: not the file read, hashed (and refused) again
    stat = path.stat()
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    with qtbot.waitSignal(widget.exported, timeout=30_000):
        assert widget.export() == []
    assert calls == [str(path)] * 2
    assert INPUT_KEY not in json.loads(base.with_name("again.recipe.json").read_text())


def test_labels_edited_while_hashed_are_not_written_unsaid(opened, tmp_path, qtbot, monkeypatch):  # noqa: F811
    viewer, _image, labels, path = opened
    release, calls = _held_hashing(monkeypatch)
    base = tmp_path / "edited"
    widget = _widget(viewer, labels, base)
    clicked = labels.data.copy()
    assert widget.export() == []
    qtbot.waitUntil(lambda: "of 524,544 bytes" in widget.status_label.text())
    labels.paint((5, 5), int(clicked.max()) + 1)  # a brush stroke meanwhile
    assert not np.array_equal(labels.data, clicked)
    with qtbot.waitSignal(widget.exported, timeout=30_000) as blocker:
        release.set()
    assert blocker.args[0] == []
    assert list(tmp_path.glob("edited*")) == []
    assert widget.status_label.text() == (
        f"Nothing written: 'img2d labels' was edited while {path} was read for the recipe; "
        "Export again to write it as it is now (that file is not read again)."
    )
    assert widget.export_button.text() == "Export" and widget.path_edit.isEnabled()

    written = widget.export()  # at once: the file is not read again
    assert [p.name for p in written] == ["edited.tif", "edited.recipe.json"]
    assert calls == [str(path)]
    np.testing.assert_array_equal(tifffile.imread(base.with_name("edited.tif")), labels.data)
