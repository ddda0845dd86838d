"""A corrupt chunk in a blockwise run's input (user test s32/t9, finding 6): the one-line
error naming the file and the block was preceded by the dask worker's log of the failed
task ("Compute Failed", Key, State, its traceback), which a worker writes for every task
that raises. The task now hands its error back as its value, and the run raises it in this
process: the same one-line error, and no task of the executor raises (nothing to log).

(Checked end to end on a busy machine with t9's crop4k_bad.zarr and 1 dask worker; a
distributed cluster takes too long to start for a unit test, so a thread pool stands in.)"""

from __future__ import annotations

import concurrent.futures
from types import SimpleNamespace

import pytest

from tessella.engine.blockwise._grid import block_grid
from tessella.engine.blockwise._run import _map, _run_task


class _Recording(concurrent.futures.ThreadPoolExecutor):
    def __init__(self):
        super().__init__(1)
        self.futures = []

    def submit(self, *args, **kwargs):
        future = super().submit(*args, **kwargs)
        self.futures.append(future)
        return future


def _task(run, index):
    if index == run.grid.indices()[1]:
        raise ValueError("bad.zarr: cannot read block [0:32, 32:64] (RuntimeError: Zstd error)")
    yield None
    return 1


def test_a_task_that_fails_on_a_worker_raises_here_and_not_there(tmp_path):
    grid = block_grid((64, 64), (32, 32), 0)
    run = SimpleNamespace(grid=grid, axes="YX", segmenter=None, work=str(tmp_path), name="o")
    results: dict = {}
    with _Recording() as executor:
        with pytest.raises(ValueError, match=r"^bad\.zarr: cannot read block \[0:32, 32:64\]"):
            list(_map(_task, run, grid.indices(), executor, "segment", 0, results))
    futures = [f for f in executor.futures if f.done() and not f.cancelled()]
    assert futures and all(f.exception() is None for f in futures)
    assert all(r == 1 for r in results.values())


def test_the_worker_s_traceback_is_kept_as_a_note(tmp_path):
    grid = block_grid((64, 64), (32, 32), 0)
    run = SimpleNamespace(grid=grid, axes="YX", segmenter=None, work=str(tmp_path), name="o")
    failed = _run_task(_task, run, grid.indices()[1], "segment")
    error = failed.raised()
    assert isinstance(error, ValueError)
    assert "Traceback" in "".join(getattr(error, "__notes__", []))
