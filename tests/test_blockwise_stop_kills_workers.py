"""A blockwise run stopped (Ctrl-C, SIGTERM, an error) on dask workers keeps no block that a
worker finishes after the stop (user test s34/t15, finding 3: the CLI said "3 of 12 blocks are
segmented and kept ... (the block under way is redone)", and the next run resumed 4: closing the
cluster let the worker finish its block for up to 4 s, and its record was written then)."""

from __future__ import annotations

import time

import pytest


def test_the_block_under_way_is_not_written_after_a_stop(tmp_path):
    pytest.importorskip("distributed")
    from tessella.engine.blockwise import open_executor

    record = tmp_path / "blocks" / "3.npz"

    def block(path: str = str(record)) -> int:  # (pickled by value for the worker)
        import pathlib
        import time

        time.sleep(3.5)  # segmenting
        pathlib.Path(path).parent.mkdir(parents=True, exist_ok=True)
        pathlib.Path(path).write_bytes(b"the block's record")
        return 3

    with pytest.raises(KeyboardInterrupt):
        with open_executor(workers=1) as executor:
            future = executor.submit(block)
            time.sleep(1.0)  # the worker is segmenting the block
            assert not future.done()
            stopped = time.perf_counter()
            raise KeyboardInterrupt  # (the CLI has said: the block under way is redone)
    closed = time.perf_counter() - stopped
    time.sleep(max(0.0, 4.0 - closed))  # past the time the block would have been done
    assert not record.exists()  # (the cluster's close waits up to 4 s for a worker's task)
