"""tests/conftest.py's module fixture freezes the objects alive at each test module's start
(``gc.freeze``, for speed). Review s32/r7, finding 7: it never unfroze them, so the frozen
sets built up and a reference cycle alive at one module's start that became garbage later
was never collected (nor its finalizer run: a file held in such a cycle stayed open). Now
they are unfrozen at the end of every ``MODULES_PER_FULL_COLLECTION``-th module and collected
at the next module's start (not at every module's: that full collection of ~half a million
objects cost ~0.2-0.3 s of CPU per module)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import MODULES_PER_FULL_COLLECTION

ROOT = Path(__file__).resolve().parents[1]

MODULES = {
    "conftest.py": "from tests.conftest import _long_lived_objects_frozen  # noqa: F401\n",
    # a cycle made in the first module, alive (held) at the second module's start: frozen then
    "test_a.py": (
        "import weakref\n"
        "HELD, FREED = [], []\n"
        "class Node:\n"
        "    pass\n"
        "def test_make_a_cycle():\n"
        "    a, b = Node(), Node()\n"
        "    a.other, b.other = b, a\n"
        "    weakref.finalize(a, FREED.append, 'freed')\n"
        "    HELD.append(a)\n"
    ),
    "test_b.py": (
        "import sys\ndef test_let_the_cycle_go():\n    sys.modules['test_a'].HELD.clear()\n"
    ),
    "test_c.py": (
        "import gc, sys\n"
        "def test_the_cycle_was_collected():\n"
        "    gc.collect()\n"
        "    assert sys.modules['test_a'].FREED == ['freed']\n"
    ),
}


def test_a_cycle_frozen_at_a_modules_start_is_collected_once_it_is_garbage(tmp_path):
    for name, text in MODULES.items():
        (tmp_path / name).write_text(text)
    # modules between b (the 2nd) and c, so that c is module MODULES_PER_FULL_COLLECTION + 1:
    # the first to start after the frozen objects are given back to the collector
    fillers = max(MODULES_PER_FULL_COLLECTION - 2, 0)
    for k in range(fillers):
        (tmp_path / f"test_b_filler_{k:02d}.py").write_text("def test_nothing():\n    pass\n")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
    run = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert f"{3 + fillers} passed" in run.stdout, run.stdout
