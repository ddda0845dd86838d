"""``warn_at_caller`` from a thread that runs Tessella's function itself (an executor's
``submit(tessella.measure_objects, ...)``, ``Thread(target=...)``): the warning names the
line of the Tessella function the thread ran, in its module (so that a filter by module
``tessella`` matches it), not ``concurrent/futures/thread.py`` (review r1, finding 7). A
function of the user's run on a thread still gets the user's line, and category filters
apply."""

from __future__ import annotations

import concurrent.futures
import os
import threading
import warnings

import numpy as np

import tessella

_PACKAGE = os.path.dirname(os.path.abspath(tessella.__file__)) + os.sep
_LABELS = np.ones((2, 4, 4), np.uint8)
_NO_Z = {"Y": 0.5, "X": 0.5}  # (measure_objects warns: no size for axis Z)


def _caught(run) -> list[warnings.WarningMessage]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run()
    return [w for w in caught if "no size for axis Z" in str(w.message)]


def _in_executor():
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        pool.submit(tessella.measure_objects, _LABELS, spacing=_NO_Z).result()


def _in_thread():
    thread = threading.Thread(
        target=tessella.measure_objects, args=(_LABELS,), kwargs={"spacing": _NO_Z}
    )
    thread.start()
    thread.join()


def test_a_thread_that_runs_tessella_itself_names_tessella_s_line():
    for run in (_in_executor, _in_thread):
        [said] = _caught(run)
        assert said.filename == os.path.join(_PACKAGE, "engine", "measure.py"), said.filename
        assert "concurrent" not in said.filename and "threading" not in said.filename


def test_a_filter_by_module_tessella_matches_it_there_and_by_category_everywhere():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", module="tessella")
        _in_executor()
    assert not [w for w in caught if "no size for axis Z" in str(w.message)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", category=UserWarning, message="spacing .* no size")
        _in_executor()
        tessella.measure_objects(_LABELS, spacing=_NO_Z)
    assert not [w for w in caught if "no size for axis Z" in str(w.message)]


def test_a_user_s_function_on_a_thread_gets_the_user_s_line():
    def mine():
        tessella.measure_objects(_LABELS, spacing=_NO_Z)

    def run():
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            pool.submit(mine).result()

    [said] = _caught(run)
    assert said.filename == __file__
