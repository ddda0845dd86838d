"""Freed memory is kept while networks run (glibc Linux): big blocks come from the heap.

How many page faults and how much time that saves is measured in ``benchmarks/bench_segment.py``
(fresh processes): a test of it here depended on what the test worker had run before (CI measured
43k faults for glibc's defaults where the test expected over twice the retained 22k)."""

from __future__ import annotations

import platform

import numpy as np
import pytest
import tifffile

from tessella.engine import memory
from tessella.engine.memory import retain_freed_memory, retaining
from tessella.engine.pipeline import predict_steps

glibc = pytest.mark.skipif(
    platform.system() != "Linux" or platform.libc_ver()[0] != "glibc",
    reason="mallopt is glibc's",
)


@pytest.fixture(autouse=True)
def _switch_on(monkeypatch):
    monkeypatch.delenv("TESSELLA_RETAIN_MEMORY", raising=False)


def _image(data_dir) -> np.ndarray:
    return np.tile(tifffile.imread(data_dir / "fixtures" / "img2d.tif"), (2, 2))  # 1024²


def _mallinfo2():
    import ctypes

    class MallInfo2(ctypes.Structure):
        _fields_ = [
            (name, ctypes.c_size_t)
            for name in (
                "arena ordblks smblks hblks hblkhd usmblks fsmblks uordblks fordblks keepcost"
            ).split()
        ]

    libc = ctypes.CDLL("libc.so.6")
    libc.mallinfo2.restype = MallInfo2
    return libc.mallinfo2()


@glibc
def test_big_blocks_come_from_the_heap_while_retained_and_are_mapped_after():
    def mapped_while_held(nbytes: int) -> int:
        """How many more blocks glibc has mapped while one of ``nbytes`` is held."""
        before = _mallinfo2().hblks
        block = np.empty(nbytes, np.uint8)  # address space only: nothing is touched
        during = _mallinfo2().hblks
        del block
        return during - before

    def bigger_than_the_heaps_free_space() -> int:  # no free chunk can serve it
        return int(_mallinfo2().fordblks) + 64 * 2**20

    assert not retaining()
    assert mapped_while_held(bigger_than_the_heaps_free_space()) == 1
    with retain_freed_memory():
        assert mapped_while_held(bigger_than_the_heaps_free_space()) == 0  # from the heap
        assert mapped_while_held(40 * 2**20) == 0
    assert mapped_while_held(bigger_than_the_heaps_free_space()) == 1  # mapped again after
    assert mapped_while_held(16 * 2**20) == 0  # blocks up to 32 MiB: from the heap


@glibc
def test_nesting_and_errors_restore_the_defaults():
    assert not retaining()
    with retain_freed_memory():
        assert retaining()
        with retain_freed_memory():
            assert retaining()
        assert retaining()  # the outer user is still running
    assert not retaining()
    with pytest.raises(RuntimeError), retain_freed_memory():
        raise RuntimeError("a failing network")
    assert not retaining()


@glibc
def test_a_cancelled_prediction_gives_the_memory_back(data_dir):
    steps = predict_steps(np.tile(_image(data_dir), (2, 2)), "nuclei2d", "YX", tile=512)
    next(steps)
    next(steps)
    assert retaining()  # while the windows run
    steps.close()  # Cancel
    assert not retaining()
    assert memory._users == 0
