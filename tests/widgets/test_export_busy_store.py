"""A write into the zarr store of labels on disk while Export reads them, seen between two
outputs or after the last: nothing is written. While Export reads labels on disk, their
zarr store is marked read (:mod:`tessella._widgets._busy_stores`), for a writer (Correct's
Write back) to see before it writes; the mark goes when the export ends, however it ends
(written, refused because the store changed, cancelled)."""

from __future__ import annotations

import numpy as np
import pytest
import zarr

import tessella.engine.measure as engine_measure
from tessella._widgets._busy_stores import busy_stores, is_busy, reading
from tessella._widgets._export_outputs import _Output
from tessella._widgets._export_write import _export_steps, _Plan


def _plan(store, out) -> _Plan:
    return _Plan(
        name="l",
        outputs=[_Output("zarr", out / "l.zarr"), _Output("csv", out / "l.csv")],
        overwrite=False,
        make_folder=None,
        data=zarr.open_array(str(store), mode="r"),
        axes="YX",
        pixel_size=None,
        unit="pixel",
        stack=None,
        image=None,
        result=None,
        numbers=None,
        lineage={},
        recipe=None,
    )


def _run(plan):
    steps = _export_steps(plan)
    try:
        while True:
            next(steps)
    except StopIteration as stop:
        return stop.value


@pytest.fixture
def store(tmp_path):
    labels = np.zeros((256, 256), np.uint16)
    labels[10:100, 10:100] = 7
    labels[150:200, 150:250] = 9
    stored = zarr.create_array(
        str(tmp_path / "l.zarr"), shape=labels.shape, dtype=labels.dtype, chunks=(64, 64)
    )
    stored[...] = labels
    return tmp_path / "l.zarr"


def test_the_store_is_busy_while_exported_and_not_after(tmp_path, store, monkeypatch):
    real = engine_measure.measure_objects
    seen: list[bool] = []

    def spied(*args, **kwargs):
        seen.append(is_busy(store))
        return real(*args, **kwargs)

    monkeypatch.setattr(engine_measure, "measure_objects", spied)
    (tmp_path / "a").mkdir()
    done = _run(_plan(store, tmp_path / "a"))
    assert seen == [True] and done.written and done.changed is None
    assert not is_busy(store) and not busy_stores()

    def written_meanwhile(*args, **kwargs):
        table = real(*args, **kwargs)
        zarr.open_array(str(store), mode="r+")[150:200, 150:250] = 0
        return table

    monkeypatch.setattr(engine_measure, "measure_objects", written_meanwhile)
    (tmp_path / "b").mkdir()
    done = _run(_plan(store, tmp_path / "b"))
    assert done.written == [] and done.changed == store
    assert list((tmp_path / "b").iterdir()) == []
    assert not busy_stores()

    # written while the last output (the CSV) is: seen before the files are put in place
    monkeypatch.setattr(engine_measure, "measure_objects", real)
    real_csv = engine_measure.write_csv

    def csv_then_written(*args, **kwargs):
        found = real_csv(*args, **kwargs)
        zarr.open_array(str(store), mode="r+")[10:100, 10:100] = 0
        return found

    monkeypatch.setattr(engine_measure, "write_csv", csv_then_written)
    (tmp_path / "c").mkdir()
    done = _run(_plan(store, tmp_path / "c"))
    assert done.written == [] and done.changed == store
    assert list((tmp_path / "c").iterdir()) == []
    assert not busy_stores()

    plan = _plan(store, tmp_path / "a")
    steps = _export_steps(plan)
    next(steps)
    assert is_busy(store)
    steps.close()  # (the panel closed: the worker's generator closed)
    assert not busy_stores()


def test_readers_are_counted():
    with reading("/x/a.zarr"), reading("/x/a.zarr"):
        pass
    with reading("/x/a.zarr"):
        with reading("/x/a.zarr"):
            assert is_busy("/x/a.zarr")
        assert is_busy("/x/a.zarr")
    assert not is_busy("/x/a.zarr") and not busy_stores()
