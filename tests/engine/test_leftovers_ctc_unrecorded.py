"""A CTC merge that left no record of the names it added (Export before writes recorded
their merges) cannot be undone, but recovery must not advise what loses masks: it named the
``.old`` folder, which holds only the earlier result's files moved aside so far, as "the
earlier 01_RES ... rename it to put it back" (renaming it over the folder would lose the
folder's other files and the earlier masks not yet moved). Now it says the folder may hold
files of both and to move ``.old``'s files back into it."""

from __future__ import annotations

from tessella.engine.io._leftovers import _host, recover_leftovers
from tests.engine._leftovers_common import _dead_pid


def test_an_unrecorded_merge_is_kept_with_advice_that_loses_nothing(tmp_path):
    res = tmp_path / "01_RES"
    res.mkdir()
    for name in ("mask000.tif", "mask001.tif", "notes.txt"):  # (new, earlier, theirs)
        (res / name).write_text(name)
    stem = f".01_RES.{_host()}-{_dead_pid()}-0123abcd"
    old = tmp_path / f"{stem}.old"
    old.mkdir()
    (old / "mask000.tif").write_text("earlier mask000")
    (tmp_path / f"{stem}.lock").write_text("")
    line = recover_leftovers(res, warn=False)
    assert line is not None and old.name in line
    assert "rename it" not in line and "move them back into it" in line
    assert (old / "mask000.tif").read_text() == "earlier mask000"
    assert sorted(p.name for p in res.iterdir()) == ["mask000.tif", "mask001.tif", "notes.txt"]


def test_a_whole_folder_moved_aside_is_still_named_to_rename_back(tmp_path):
    out = tmp_path / "labels.zarr"
    out.mkdir()
    (out / "zarr.json").write_text("{}")
    stem = f".labels.zarr.{_host()}-{_dead_pid()}-0123abcd"
    old = tmp_path / f"{stem}.old"
    old.mkdir()
    (old / "zarr.json").write_text("{}")
    (tmp_path / f"{stem}.lock").write_text("")
    line = recover_leftovers(out, warn=False)
    assert line is not None and "rename it to put it back" in line


def test_an_older_write_ctc_staging_folder_is_named(tmp_path):
    """write_ctc staged its files in ``.DIR.partial-PID`` before it took a token: one a kill
    left stayed for good, unnamed. It is now named as an older version's."""
    from tessella.engine.io import find_leftovers

    res = tmp_path / "01_RES"
    res.mkdir()
    partial = tmp_path / ".01_RES.partial-4242"
    partial.mkdir()
    (partial / "mask000.tif").write_text("half")
    line = recover_leftovers(res, warn=False)
    assert line is not None and partial.name in line and "older version" in line
    assert find_leftovers(tmp_path) == [(partial, "older version")]
    assert partial.exists()
