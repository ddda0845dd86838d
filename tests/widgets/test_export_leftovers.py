"""An export killed while it puts its files in place (a power cut, kill -9) leaves hidden
files beside them: the earlier TIFF moved aside to ``.NAME.TOKEN.old`` with no TIFF in its
place, and the other outputs' ``.NAME.TOKEN.tmp``. The next Export of those files puts the
earlier TIFF back (it is the user's data), removes the temporaries of the killed export
(never a running one's: its lock is held) and says so in a notification and the status line.
Before, they stayed hidden for good and the TIFF was missing. The kill is simulated by an
exception no handler takes inside the renames (the token carrying a pid that has ended),
then the export's lock files let go, as the system does when its process dies."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest
import tifffile

import tessella.engine.io._leftovers as leftovers
from tessella._widgets import _export_write
from tessella._widgets.export import ExportWidget

FIRST = np.zeros((16, 16), np.uint16)
FIRST[2:6, 2:6], FIRST[9:14, 8:13] = 1, 2


class Killed(BaseException):
    """Stands for kill -9: nothing catches it, nothing is undone."""


@pytest.fixture
def killed_export(make_napari_viewer, tmp_path, monkeypatch):
    """``cells.tif`` and ``cells.csv`` exported from FIRST; then an Overwrite export of other
    labels killed between moving the earlier TIFF aside and renaming the new one in."""
    viewer = make_napari_viewer()
    viewer.add_labels(FIRST, name="cells")
    widget = ExportWidget(viewer)
    widget.path_edit.setText(str(tmp_path / "cells"))
    widget.zarr_checkbox.setChecked(False)
    assert sorted(p.name for p in widget.export()) == ["cells.csv", "cells.tif"]
    earlier = (tmp_path / "cells.tif").read_bytes()
    viewer.layers["cells"].data = FIRST * 3

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()  # (a pid that has ended: the killed process's)
    token = f"{leftovers._host()}-{child.pid}-0badf00d"
    claims = []
    real_claim = leftovers.claim

    def claim(target, given=None):  # Export's (one token for its outputs), not a writer's
        if given is None:
            return real_claim(target)
        claims.append(real_claim(target, token))
        return claims[-1]

    def place(item, overwrite, _token):  # the TIFF moved aside, then the process dies
        os.replace(item.output.path, item.claim.path("old"))
        raise Killed

    with monkeypatch.context() as patched:
        patched.setattr(leftovers, "claim", claim)
        patched.setattr(_export_write, "_place", place)
        widget.overwrite_checkbox.setChecked(True)
        with pytest.raises(Killed):
            widget.export()
    for held in claims:  # (the system unlocks them when the process dies)
        os.close(held.fd)
    notes: list[str] = []
    monkeypatch.setattr(_export_write, "show_warning", notes.append)
    return widget, tmp_path, token, earlier, notes


def test_the_next_export_puts_the_earlier_file_back_and_says_so(killed_export):
    widget, folder, token, earlier, notes = killed_export
    hidden = sorted(p.name for p in folder.iterdir() if p.name.startswith("."))
    assert hidden == sorted(
        f".cells.{suffix}.{token}.{kind}"
        for suffix, kinds in (("tif", ("old", "tmp", "lock")), ("csv", ("tmp", "lock")))
        for kind in kinds
    )
    assert not (folder / "cells.tif").exists()

    widget.overwrite_checkbox.setChecked(False)
    assert widget.export() == []  # the TIFF is back: it is there, and not overwritten

    assert (folder / "cells.tif").read_bytes() == earlier
    assert sorted(p.name for p in folder.iterdir()) == ["cells.csv", "cells.tif"]
    assert notes[0] == (
        f"Export: {folder / 'cells.tif'}: a write killed before it finished left files beside "
        f"it; put the earlier cells.tif back from .cells.tif.{token}.old; removed "
        f".cells.tif.{token}.tmp."
    )
    assert notes[1].startswith(f"Export: {folder / 'cells.csv'}: a write killed before it")
    assert "already exist" in widget.status_label.text()


def test_a_successful_export_after_it_says_what_it_recovered(killed_export):
    widget, folder, token, _earlier, notes = killed_export
    widget.overwrite_checkbox.setChecked(True)

    assert sorted(p.name for p in widget.export()) == ["cells.csv", "cells.tif"]

    assert sorted(p.name for p in folder.iterdir()) == ["cells.csv", "cells.tif"]
    assert tifffile.imread(folder / "cells.tif").max() == 6
    status = widget.status_label.text()
    assert status.startswith("Wrote cells.tif, cells.csv (2 objects) to ")
    assert f". Before it: {folder / 'cells.tif'}: a write killed before it finished" in status
    assert f"removed .cells.csv.{token}.tmp" in status
    assert len(notes) == 2


def test_a_running_export_s_files_are_left_alone(make_napari_viewer, tmp_path, monkeypatch):
    """Hidden files of an export of this same process (another panel's, still writing) are
    never touched by the next."""
    viewer = make_napari_viewer()
    viewer.add_labels(FIRST, name="cells")
    widget = ExportWidget(viewer)
    widget.path_edit.setText(str(tmp_path / "cells"))
    widget.zarr_checkbox.setChecked(False)
    running = leftovers.claim(tmp_path / "cells.tif")
    try:
        running.path("tmp").write_bytes(b"being written")
        notes: list[str] = []
        monkeypatch.setattr(_export_write, "show_warning", notes.append)
        assert sorted(p.name for p in widget.export()) == ["cells.csv", "cells.tif"]
        assert notes == [] and running.path("tmp").read_bytes() == b"being written"
    finally:
        running.path("tmp").unlink()
        running.release()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cells.csv", "cells.tif"]
