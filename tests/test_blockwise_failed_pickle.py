"""A block's task that fails on a worker returns its error (458080a) as its result, which a
process worker pickles back to the main process. An exception that cannot make that trip
(unpicklable state, an ``__init__`` with other arguments than its ``args``: a codec's,
torch's, a plugin model's) gave "Could not serialize object of type _Failed" or a TypeError
from its ``__init__`` instead of the block's error (s32/r5 finding 4). Now the returned
error always pickles, and the main process raises the real message."""

from __future__ import annotations

import pickle
import threading
from types import SimpleNamespace

import pytest

from tessella.engine.blockwise._run import _run_task


class HoldsALock(Exception):
    """An exception with unpicklable state (as some third-party errors carry)."""

    def __init__(self, message):
        super().__init__(message)
        self.lock = threading.Lock()


class TwoArgs(Exception):
    """An exception whose ``__init__`` takes two arguments but passes one message on."""

    def __init__(self, path, why):
        super().__init__(f"{path}: {why}")


def _run(tmp_path, error):
    def task(run, index):
        yield None
        raise error

    grid = SimpleNamespace(linear=lambda index: 0)
    run = SimpleNamespace(segmenter=None, axes="YX", grid=grid, work=str(tmp_path))
    return _run_task(task, run, (0, 0), "segment")


@pytest.mark.parametrize(
    ("error", "said"),
    [
        (HoldsALock("cannot read block [0:64] (corrupt)"), "cannot read block [0:64] (corrupt)"),
        (TwoArgs("x.zarr", "cannot read"), "x.zarr: cannot read"),
    ],
)
def test_an_error_that_cannot_be_pickled_comes_back_with_its_message(tmp_path, error, said):
    failed = _run(tmp_path, error)
    back = pickle.loads(pickle.dumps(failed))  # what a process worker does with a result
    raised = back.raised()
    assert isinstance(raised, Exception)
    if type(raised) is type(error):
        # once distributed is imported (other tests, and every process worker) it installs
        # tblib's exception pickling, which rebuilds an exception without calling its
        # ``__init__``: TwoArgs then makes the trip itself, its message intact
        assert str(raised) == said
    else:
        assert str(raised) == f"{type(error).__qualname__}: {said}"
    assert "on the worker:" in "".join(getattr(raised, "__notes__", []))
    assert type(error).__name__ in back.where  # the worker's traceback, as text


def test_an_error_that_pickles_comes_back_as_itself(tmp_path):
    back = pickle.loads(pickle.dumps(_run(tmp_path, OSError(5, "input/output error"))))
    raised = back.raised()
    assert type(raised) is OSError and raised.errno == 5
    assert str(raised) == "[Errno 5] input/output error"
