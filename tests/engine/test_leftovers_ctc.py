"""A Cell Tracking Challenge result written over an earlier one in the same folder
(``write_ctc(..., overwrite=True)``, Export's CTC folder with Overwrite) is merged in: the
earlier result's files (``maskTTT.tif`` of any numbers, ``res_track.txt``) are moved aside
into ``.DIR.TOKEN.old`` and the new ones put in, the folder's other files kept. A kill in
the middle of that left the folder half merged (masks of both results), and the advice
recovery printed ("remove it, or rename it to put it back") would lose masks: renaming
``.old``, which holds only the files moved aside so far, over the folder loses the folder's
other files and the earlier masks not yet moved. Now the write records which names it adds
(``.DIR.TOKEN.merge``), and the next write of the folder (or recover_leftovers) puts the
earlier result back whole: the added files removed, the moved ones put back."""

from __future__ import annotations

import os
import subprocess
import sys
import types
import warnings

import numpy as np
import pytest

from tessella.engine.io._leftovers import _forget, claim, new_token, recover_leftovers
from tessella.engine.tracking import write_ctc

EARLIER = np.zeros((3, 8, 8), np.uint16)
EARLIER[:, 2:5, 2:5] = 1
NEW = np.zeros((4, 8, 8), np.uint16)
NEW[:, 1:3, 1:3] = 5


def _hidden(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


def _earlier_result(res):
    write_ctc(EARLIER, None, res)
    (res / "notes.txt").write_text("mine")
    return {p.name: p.read_bytes() for p in res.iterdir()}


KILL_AT_THIRD_FILE_IN = """
import os, signal, sys
import numpy as np
from tessella.engine.tracking import write_ctc
folder = sys.argv[1]
real = os.replace
count = [0]
def replace(src, dst):
    if os.path.dirname(os.path.abspath(dst)) == folder:  # a file put into the folder
        count[0] += 1
        if count[0] == 3:
            os.kill(os.getpid(), signal.SIGKILL)
    return real(src, dst)
os.replace = replace
new = np.zeros((4, 8, 8), np.uint16)
new[:, 1:3, 1:3] = 5
write_ctc(new, None, folder, overwrite=True)
"""


@pytest.mark.skipif(os.name != "posix", reason="kill -9")
def test_write_ctc_killed_while_merging_is_rolled_back_by_the_next_write(tmp_path):
    res = tmp_path / "01_RES"
    res.mkdir()
    before = _earlier_result(res)
    killed = subprocess.run([sys.executable, "-c", KILL_AT_THIRD_FILE_IN, str(res)], timeout=120)
    assert killed.returncode == -9
    with pytest.warns(UserWarning) as said:
        with pytest.raises(FileExistsError):  # (the earlier result is there again)
            write_ctc(NEW, None, res, overwrite=False)
    line = " ".join(str(w.message) for w in said)
    assert "put back" in line, line
    assert {p.name: p.read_bytes() for p in res.iterdir()} == before
    assert _hidden(tmp_path) == []


def test_export_killed_while_merging_a_ctc_folder_is_rolled_back(tmp_path, monkeypatch):
    """Export's own merge (``_place`` of the panel's writer), interrupted by what no handler
    sees (a BaseException here; a kill), the lock then let go as a dead process's is."""
    from tessella._widgets import _export_write

    res = tmp_path / "01_RES"
    res.mkdir()
    before = _earlier_result(res)
    token = new_token()
    writing = claim(res, token)
    write_ctc(NEW, None, writing.path("tmp"), True)
    item = _export_write._Staged(
        types.SimpleNamespace(path=res, kind="ctc"), writing.path("tmp"), writing
    )
    real = os.replace
    count = [0]

    def replace(src, dst):
        if os.path.dirname(os.path.abspath(dst)) == str(res):
            count[0] += 1
            if count[0] == 3:
                raise KeyboardInterrupt  # (killed: nothing undone)
        return real(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    with pytest.raises(KeyboardInterrupt):
        _export_write._place(item, True, token)
    monkeypatch.setattr(os, "replace", real)
    os.close(writing.fd)  # (the process ends: its lock let go, its claim over)
    writing.fd = None
    _forget(token)
    assert {p.name: p.read_bytes() for p in res.iterdir()} != before  # (half merged)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        line = recover_leftovers(res, warn=False)
    assert line is not None and "put back" in line, line
    assert "rename it" not in line
    assert {p.name: p.read_bytes() for p in res.iterdir()} == before
    assert _hidden(tmp_path) == []


KILL_AT = """
import os, signal, sys
import numpy as np
from tessella.engine.tracking import write_ctc
folder, where = sys.argv[1], sys.argv[2]
real_replace, real_rename = os.replace, os.rename
def hook(dst):
    aside = os.path.basename(os.path.dirname(str(dst))).endswith(".old")
    if (where == "aside" and aside) or (where == "del" and str(dst).endswith(".del")):
        os.kill(os.getpid(), signal.SIGKILL)
def replace(src, dst):
    hook(dst)
    return real_replace(src, dst)
def rename(src, dst):
    hook(dst)
    return real_rename(src, dst)
os.replace, os.rename = replace, rename
new = np.zeros((2, 8, 8), np.uint16)
new[:, 1:3, 1:3] = 5
write_ctc(new, None, folder, overwrite=True)
"""


@pytest.mark.skipif(os.name != "posix", reason="kill -9")
@pytest.mark.parametrize("where", ["aside", "del"])
def test_write_ctc_killed_before_or_after_its_files_went_in_is_rolled_back(tmp_path, where):
    """Killed as it moved the first earlier file aside, or once every new file was in (as
    the earlier ones were to be removed): the folder is the earlier result again."""
    res = tmp_path / "01_RES"
    res.mkdir()
    before = _earlier_result(res)
    killed = subprocess.run([sys.executable, "-c", KILL_AT, str(res), where], timeout=120)
    assert killed.returncode == -9
    line = recover_leftovers(res, warn=False)
    assert line is not None and f"{res.name} is as it was" in line, line
    assert {p.name: p.read_bytes() for p in res.iterdir()} == before
    assert _hidden(tmp_path) == []
