"""Recovery tells a target the user removed from one a kill left missing. A write killed
between its two renames leaves its new output in ``.tmp`` beside the earlier one in
``.old``, the target missing: the earlier one is put back. But Export puts every output in
place before it removes what they replaced, so a kill there leaves ``.old`` beside a new
target and no ``.tmp``; were that target removed since (by the user, on purpose), recovery
put the earlier file back, as if the kill had come between the renames. Now an ``.old``
whose write left no ``.tmp`` (its output was put in place) is kept and named, not put back,
where the write was another process's. write_zarr_labels interrupted between its renames
(Ctrl+C) puts the earlier labels back at once."""

from __future__ import annotations

import os

import numpy as np
import pytest
import zarr

from tessella.engine.io import write_zarr_labels
from tessella.engine.io._leftovers import _host, recover_leftovers
from tests.engine._leftovers_common import LABELS, _dead_pid, _hidden


def test_an_output_removed_after_a_kill_is_not_brought_back(tmp_path):
    out = tmp_path / "cells.tif"
    stem = f".cells.tif.{_host()}-{_dead_pid()}-0123abcd"
    old = tmp_path / f"{stem}.old"
    old.write_text("earlier")
    (tmp_path / f"{stem}.lock").write_text("")
    line = recover_leftovers(out, warn=False)
    assert not out.exists()  # (removed on purpose: not brought back)
    assert old.read_text() == "earlier"
    assert line is not None and old.name in line and "rename it" in line


def test_killed_between_the_renames_is_still_put_back(tmp_path):
    out = tmp_path / "cells.tif"
    stem = f".cells.tif.{_host()}-{_dead_pid()}-0123abcd"
    (tmp_path / f"{stem}.old").write_text("earlier")
    (tmp_path / f"{stem}.tmp").write_text("half")
    (tmp_path / f"{stem}.lock").write_text("")
    line = recover_leftovers(out, warn=False)
    assert out.read_text() == "earlier"
    assert line is not None and "put the earlier cells.tif back" in line
    assert _hidden(tmp_path) == []


def test_zarr_write_interrupted_between_its_renames_puts_the_earlier_back(tmp_path, monkeypatch):
    out = tmp_path / "labels.zarr"
    write_zarr_labels(out, LABELS)
    real = os.rename

    def rename(src, dst):
        real(src, dst)
        if str(dst).endswith(".old"):  # (Ctrl+C right after the first rename)
            raise KeyboardInterrupt

    monkeypatch.setattr(os, "rename", rename)
    with pytest.raises(KeyboardInterrupt):
        write_zarr_labels(out, LABELS * 2)
    monkeypatch.undo()
    np.testing.assert_array_equal(zarr.open_array(str(out))[:], LABELS)
    assert _hidden(tmp_path) == []
