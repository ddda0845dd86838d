"""The blockwise status line's time estimate and progress inside a block (user test t2,
items 12 and 3): the first block's time included loading the model and adding the preview
('1 of 100 (94 s a block, about 2.6 h left)' where blocks took 16-19 s), and a 256^3 block
of a 2D model ran for minutes with 'segment, 0 of 24' and nothing moving."""

from __future__ import annotations

from types import SimpleNamespace

from tessella.engine.blockwise import BlockProgress
from tessella.engine.progress import Progress


def _clock(monkeypatch):
    from tessella._widgets import _segment_blockwise

    now = [1000.0]
    monkeypatch.setattr(_segment_blockwise.time, "perf_counter", lambda: now[0])
    return now


def test_the_estimate_leaves_out_the_set_up_in_the_first_block(segment_widget, monkeypatch):
    _viewer, widget = segment_widget
    now = _clock(monkeypatch)
    region = (slice(0, 2048), slice(0, 2048))
    widget._run, widget._stage_clock = SimpleNamespace(name="mosaic"), None
    try:
        assert widget._blockwise_status(BlockProgress("segment", 0, 100)) == (
            "'mosaic': segment, 0 of 100"
        )
        now[0] += 94  # the model loaded, the preview added, then the block: no rate yet
        said = widget._blockwise_status(BlockProgress("segment", 1, 100, region))
        assert said == "'mosaic': segment, 1 of 100"
        now[0] += 18
        said = widget._blockwise_status(BlockProgress("segment", 2, 100, region))
        assert said == "'mosaic': segment, 2 of 100 (18 s a block, about 29 min left)"
        now[0] += 16
        said = widget._blockwise_status(BlockProgress("segment", 3, 100, region))
        assert said == "'mosaic': segment, 3 of 100 (17 s a block, about 27 min left)"
    finally:
        widget._run = None


def test_the_status_says_how_far_the_block_is_and_for_how_long(segment_widget, monkeypatch):
    _viewer, widget = segment_widget
    now = _clock(monkeypatch)
    widget._run, widget._stage_clock = SimpleNamespace(name="em400"), None
    try:
        assert widget._blockwise_status(BlockProgress("segment", 0, 24)) == (
            "'em400': segment, 0 of 24"
        )
        inside = BlockProgress("segment", 0, 24, None, Progress("slice", 0, 288), 0)
        assert widget._blockwise_status(inside) == (
            "'em400': segment, 0 of 24; block 1: slice 0 of 288 (0 s on it)"
        )
        now[0] += 150
        inside = BlockProgress("segment", 0, 24, None, Progress("slice", 37, 288), 0)
        assert widget._blockwise_status(inside) == (
            "'em400': segment, 0 of 24; block 1: slice 37 of 288 (2 min on it)"
        )
        now[0] += 1000
        done = BlockProgress("segment", 1, 24, (slice(0, 256),) * 3)
        assert widget._blockwise_status(done) == "'em400': segment, 1 of 24"
        now[0] += 5  # the next block (no count inside it yet: which one, and how long)
        assert widget._blockwise_status(BlockProgress("segment", 1, 24, None, None, 1)) == (
            "'em400': segment, 1 of 24; working on block 2 (0 s on it)"
        )
        now[0] += 42
        inside = BlockProgress("segment", 1, 24, None, Progress("tile", 3, 9), 1)
        assert widget._blockwise_status(inside) == (
            "'em400': segment, 1 of 24; block 2: tile 3 of 9 (42 s on it)"
        )
    finally:
        widget._run = None
