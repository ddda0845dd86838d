"""A writability probe's hidden file (the command line's check that a recipe can be
written, ``_probe_recipe``) was named as an older Tessella's temporaries were
(``.NAME.XXXXXXXX.tmp``, mkstemp's): one left by a kill during the probe was listed by
find_leftovers as an older version's and named on every write of that file, for the user
to remove by hand, never cleaned. Probes are now named with the write token,
``.NAME.HOST-PID-XXXXXXXX.probe``: one of a process that has ended is removed by the next
recovery; a running probe is not listed as a leftover."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tessella.engine.io._leftovers import find_leftovers, recover_leftovers

KILL_IN_PROBE = """
import os, signal, sys
from pathlib import Path
from tessella.cli._write import _probe_recipe
def link(*args, **kwargs):  # (killed in the middle of the probe)
    os.kill(os.getpid(), signal.SIGKILL)
os.link = link
recipe = Path(sys.argv[1])
_probe_recipe(recipe, recipe.with_name("cells.tif"))
"""


@pytest.mark.skipif(os.name != "posix", reason="kill -9")
def test_a_probe_killed_midway_is_cleaned_not_called_an_older_version(tmp_path):
    recipe = tmp_path / "cells.recipe.json"
    recipe.write_text("{}")
    killed = subprocess.run([sys.executable, "-c", KILL_IN_PROBE, str(recipe)], timeout=120)
    assert killed.returncode == -9
    left = find_leftovers(tmp_path)
    assert len(left) == 1 and left[0][1] == "killed", left
    line = recover_leftovers(recipe, warn=False)
    assert line is not None and "older version" not in line and "removed" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cells.recipe.json"]


def test_a_running_probe_is_not_listed(tmp_path, monkeypatch):
    from tessella.cli import _write

    recipe = tmp_path / "cells.recipe.json"
    recipe.write_text("{}")
    seen = []
    real = os.link

    def link(src, dst, **kwargs):
        seen.append(find_leftovers(tmp_path))
        return real(src, dst, **kwargs)

    monkeypatch.setattr(os, "link", link)
    _write._probe_recipe(recipe, tmp_path / "cells.tif")
    assert seen and all(found == [] for found in seen), seen
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cells.recipe.json"]
