"""The CLI's blockwise bar timed its rate and time left from the stage's start, so the first
block's set-up (the model loaded, the workers started) weighed on them for many blocks: a
first block of 94 s and then blocks of 18 s read about 40 s/block. The rate is now timed from
the first finished block on, as the panel's estimate is (3828876); the bar and tqdm's own
clock are real, the clock's readings are given."""

from __future__ import annotations

from tessella.cli._blockwise import _advance_blocks
from tessella.cli._console import _progress_bar


def _bar_after(capsys, finished: list[float], initial: int = 0) -> str:
    """The bar's last line after blocks finished at the times ``finished`` (seconds after the
    stage's start)."""
    now = [0.0]
    bar = _progress_bar(100, "em.zarr: segment", quiet=False, unit="block", initial=initial)
    bar._time = lambda: now[0]
    bar.start_t = bar.last_print_t = 0.0
    for done, at in enumerate(finished, initial + 1):
        now[0] = at
        _advance_blocks(bar, done)
    last = capsys.readouterr().err.split("\r")[-1]
    bar.close()
    return last


def test_the_rate_leaves_out_the_first_blocks_set_up(capsys):
    assert "s/block" not in _bar_after(capsys, [94.0])  # one block: no rate yet
    line = _bar_after(capsys, [94.0, 112.0, 130.0])
    assert "3/100" in line and "18.00s/block" in line, line
    assert "02:10<29:06" in line, line  # elapsed from the start; 97 blocks of 18 s left


def test_a_resumed_bar_times_this_runs_blocks_only(capsys):
    line = _bar_after(capsys, [60.0, 80.0], initial=40)
    assert "42/100" in line and "20.00s/block" in line and "01:20<19:20" in line, line
