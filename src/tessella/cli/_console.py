"""What every command shares on the terminal: the one-line error, short lists of
paths, progress bars, and a standard output whose reader went away."""

from __future__ import annotations

import contextlib
import os
import sys

__all__ = ["CliError", "_few", "_progress_bar", "_advance", "_stdout_gone", "_drop_stdout"]


class CliError(Exception):
    """A one-line error for the user; exit code 1."""


def _few(paths, count: int = 5) -> str:
    names = [str(p) for p in paths]
    more = f" and {len(names) - count} more" if len(names) > count else ""
    return ", ".join(names[:count]) + more


#: a bar before it has timed anything: no rate (nor time left) until there is one, rather
#: than tqdm's "?tile/s" (:func:`_advance` gives it tqdm's own format once it has moved)
UNTIMED = "{l_bar}{bar}| {n_fmt}/{total_fmt} [{elapsed}{postfix}]"


#: where stderr is a file or a pipe (a log), not a terminal: a bar's state is written as a
#: line at most this often (seconds), and at every tenth of its total
PLAIN_EVERY = 60.0


def _plain_stream(stream) -> bool:
    """Whether ``stream`` is a file or a pipe rather than a terminal (a batch run's log):
    False for a terminal and for a stream without a file descriptor (pytest's capture)."""
    try:
        return not os.isatty(stream.fileno())
    except (AttributeError, OSError, ValueError):
        return False


class _Lines:
    """A log's stream for a bar: each drawing of it becomes a line of its own (tqdm redraws
    a terminal's line with ``\r``; a log kept every frame on one endless line), and the
    clearing of a bar (blank) writes nothing."""

    def __init__(self, stream):
        self.stream = stream

    def write(self, text: str) -> None:
        line = text.replace("\r", "").rstrip()
        if line:
            self.stream.write(line + "\n")

    def flush(self) -> None:
        self.stream.flush()


def _throttled(bar, every: float) -> None:
    """Let ``bar`` draw itself (its :meth:`refresh`, which the commands call at each unit or
    tile) only every ``every`` s of its clock, at every tenth of its total and at its end."""
    refresh = bar.refresh
    last: list = [None, -1]  # (time, tenth) of the last drawing

    def drawn(*args, **kwargs):
        now = bar._time()
        tenth = int(10 * bar.n / bar.total) if bar.total else 0
        if last[0] is None or now - last[0] >= every or tenth != last[1]:
            last[0], last[1] = now, tenth
            return refresh(*args, **kwargs)
        return None

    bar.refresh = drawn


def _progress_bar(total: int, description: str, quiet: bool, unit="tile", initial=0):
    """A bar of ``total`` ``unit``s; ``initial`` of them done before it starts (resumed): the
    rate counts only those done since, not the resumed ones as done at once, and is shown
    from the first one it times on (:func:`_advance`); before that, no rate (:data:`UNTIMED`).
    Where stderr is a file or a pipe (a log, :func:`_plain_stream`), the bar is written as a
    line every :data:`PLAIN_EVERY` s and at each tenth of its total, not at every tile (a
    12288² convert wrote 909 frames, a blockwise run one a tile: s32/t9)."""
    from tqdm import tqdm

    plain = not quiet and _plain_stream(sys.stderr)
    bar = tqdm(
        total=total,
        desc=description,
        disable=quiet,
        unit=unit,
        initial=initial,
        leave=False,
        bar_format=UNTIMED,
        **({"file": _Lines(sys.stderr), "mininterval": PLAIN_EVERY} if plain else {}),
    )
    if plain:
        _throttled(bar, PLAIN_EVERY)
    return bar


def _advance(bar, done: int) -> None:
    """Show ``done`` units done on ``bar`` (:func:`_progress_bar`'s); from its first unit done
    after it started, with tqdm's format and so its rate."""
    if done > bar.n:
        bar.bar_format = None
        bar.update(done - bar.n)
        bar.refresh()  # (update draws at most every 0.1 s; each unit is shown)


def _stdout_gone() -> bool:
    """Whether stdout is a pipe whose reader has gone (`| head` has all it wanted): a broken
    pipe of stdout, not of a worker's connection or of an output file."""
    import select

    try:
        poll = select.poll()
        poll.register(sys.stdout.fileno(), select.POLLOUT)
        return any(event & (select.POLLERR | select.POLLHUP) for _, event in poll.poll(0))
    except (OSError, ValueError, AttributeError):  # no real stdout (pytest's capture)
        return False


def _drop_stdout() -> None:
    """Send what is left of stdout nowhere: Python would otherwise report the broken pipe
    again when it flushes stdout at exit."""
    with contextlib.suppress(OSError, ValueError, AttributeError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
