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
        # (the engine's estimate, timed from slice 37 of block 1 since 5108b71: 251 slices
        # of 288 in 1000 s)
        assert widget._blockwise_status(done) == (
            "'em400': segment, 1 of 24 (1147 s a block, about 7.3 h left)"
        )
        now[0] += 5  # the next block (no count inside it yet: which one, and how long)
        assert widget._blockwise_status(BlockProgress("segment", 1, 24, None, None, 1)) == (
            "'em400': segment, 1 of 24 (1153 s a block, about 7.4 h left); working on block 2 "
            "(0 s on it)"
        )
        now[0] += 42
        inside = BlockProgress("segment", 1, 24, None, Progress("tile", 3, 9), 1)
        # since 4fe4488 block 2's three tiles count too (all done after the timing began):
        # 251 + 96 slices in 1047 s -> 869 s a block of 288
        assert widget._blockwise_status(inside) == (
            "'em400': segment, 1 of 24 (869 s a block, about 5.5 h left); block 2: tile 3 of 9 "
            "(42 s on it)"
        )
    finally:
        widget._run = None


def test_the_time_left_holds_steady_within_blocks_and_counts_edge_blocks_as_smaller(
    segment_widget, monkeypatch
):
    """A 20000² run in 2048 px blocks (user test s30/t6): 10x10 blocks, those of the last row
    and column 1568 px on a side, with 6 tiles of 1024 px (the corner 4) where a whole block
    has 9; each tile takes 2 s, the first block 60 s more (the set-up). The estimate was
    timed per finished block, counting the time in the block under way but not its work
    (it swung up to 2x within a block) and the edge blocks as whole ones (up to 1.5x too
    long near the end); now it holds steady, inside blocks too, within
    a few percent of the time really left until the last row of blocks."""
    from tessella._widgets import _segment_blockwise

    _viewer, widget = segment_widget
    now = _clock(monkeypatch)
    told: list[tuple[float, float]] = []  # (estimated, real) seconds left

    def recorded(seconds):
        told.append((seconds, real[0]))
        return f"about {seconds:.0f} s left"

    monkeypatch.setattr(_segment_blockwise, "time_left", recorded)
    real = [0.0]
    blocks = [(r, c) for r in range(10) for c in range(10)]
    side = [2048] * 9 + [1568]
    tiles = [(3 if side[r] == 2048 else 2) * (3 if side[c] == 2048 else 2) for r, c in blocks]
    end = 1000.0 + 60 + 2 * sum(tiles)
    widget._run, widget._stage_clock = SimpleNamespace(name="mosaic"), None
    widget._label_shape = (20000, 20000)
    try:
        widget._blockwise_status(BlockProgress("segment", 0, 100))
        now[0] += 60  # the set-up, in the first block
        for k, ((r, c), n) in enumerate(zip(blocks, tiles)):
            for t in range(n):
                real[0] = end - now[0]
                widget._blockwise_status(
                    BlockProgress("segment", k, 100, None, Progress("tile", t, n), k)
                )
                now[0] += 2
            core = (slice(2048 * r, 2048 * r + side[r]), slice(2048 * c, 2048 * c + side[c]))
            real[0] = end - now[0]
            widget._blockwise_status(BlockProgress("segment", k + 1, 100, core))
    finally:
        widget._run = None
        widget._label_shape = None
    assert len(told) > 800  # (an estimate at every tile from the third block on)
    ratios = [estimated / real for estimated, real in told if real > 0]
    # steady: from one tile to the next it moves by a few percent at most (it was 2x)
    jumps = [abs(b - a) / a for a, b in zip(ratios, ratios[1:])]
    assert max(jumps) < 0.05, max(jumps)
    # the edge blocks' pixels (1568x2048: 77% of a whole block's) tell their tiles (67%)
    # roughly: a few percent too long until the last row of them, up to 29% in the corner
    last_row = 2 * sum(tiles[90:])
    steady = [estimated / real for estimated, real in told if real > last_row]
    assert 0.98 < min(steady) and max(steady) < 1.16, (min(steady), max(steady))
    assert max(ratios) < 1.3, max(ratios)


def test_the_time_left_is_said_before_the_first_block_ends(segment_widget, monkeypatch):
    """User test s32/t9, finding 4: em-mito3d on a CPU, 48 blocks of 32 tiles of ~12 s: for
    the 6.5 min of the first block the status said only 'block 1: tile 3 of 32'; the
    engine's estimate (5108b71) counts the tiles done, and the panel says it."""
    _viewer, widget = segment_widget
    now = _clock(monkeypatch)
    widget._run, widget._stage_clock = SimpleNamespace(name="em"), None
    widget._label_shape = (128, 1536, 2048)
    try:
        widget._blockwise_status(BlockProgress("segment", 0, 48))
        now[0] += 30  # the set-up: the model loaded
        said = []
        for tile in range(4):
            now[0] += 12
            inside = BlockProgress("segment", 0, 48, None, Progress("tile", tile, 32), 0)
            said.append(widget._blockwise_status(inside))
    finally:
        widget._run = None
        widget._label_shape = None
    assert said[0] == "'em': segment, 0 of 48; block 1: tile 0 of 32 (0 s on it)"
    assert said[3] == (
        "'em': segment, 0 of 48 (384 s a block, about 5.1 h left); block 1: tile 3 of 32 "
        "(36 s on it)"
    )
