"""The Segment panel names a blockwise run's last stage, "digest" (its finished labels read
for their recipe's labels_digest, piece by piece: review r1, finding 5), in words, on its
bar and status line, as it names the input's fingerprint ("checking the input")."""

from __future__ import annotations

from types import SimpleNamespace

from tessella._widgets._blockwise import bar_format
from tessella._widgets._segment_blockwise import SegmentBlockwise
from tessella.engine.blockwise._run import BlockProgress


def test_the_panel_says_it_is_checking_the_result():
    assert bar_format("digest") == "checking the result: %v / %m"
    panel = SimpleNamespace(_run=SimpleNamespace(name="mosaic"), _stage_clock=None)
    for done in (0, 3, 10):  # (pieces, no block: no time a block)
        said = SegmentBlockwise._blockwise_status(panel, BlockProgress("digest", done, 10))
        assert said == f"'mosaic': checking the result, {done} of 10 pieces"
