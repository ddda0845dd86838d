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


def _progress_bar(total: int, description: str, quiet: bool, unit="tile", initial=0):
    """A bar of ``total`` ``unit``s; ``initial`` of them done before it starts (resumed): the
    rate counts only those done since, not the resumed ones as done at once, and is shown
    from the first one it times on (:func:`_advance`); before that, no rate (:data:`UNTIMED`)."""
    from tqdm import tqdm

    return tqdm(
        total=total,
        desc=description,
        disable=quiet,
        unit=unit,
        initial=initial,
        leave=False,
        bar_format=UNTIMED,
    )


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
