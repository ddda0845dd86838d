"""A training run's refusals and warnings in the words of each front end: the Python API's
(keywords: ``base='nuclei2d'``, ``resume=True``), the command line's (options: ``--base
nuclei2d``, ``--resume``) and the Train panel's (its controls: ``Start from``, ``Resume``).
One message source: each is written once, as a function of the caller (:meth:`Refused.worded`);
``tessella train`` says :attr:`Refused.cli`, the panel :attr:`Refused.panel`, Python ``str``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

__all__ = ["CALLERS", "Refused", "WordedWarning", "in_words", "option", "set_to"]

#: the front ends a run's messages are worded for
CALLERS = ("python", "cli", "panel")

#: what each front end calls the options its messages name: (Python, command line, panel)
OPTIONS = {
    "base": ("base", "--base", "Start from"),
    "resume": ("resume=True", "--resume", "Resume"),
    "distil": ("distil", "--distil", "One decoder's distillation"),
    "one_decoder": ("one_decoder=True", "--one-decoder", "One decoder"),
    "ndim": ("ndim", "--ndim", "the model's dimension"),
    "val_data": ("val_data", "--val-data", "Hold-out folder"),
    "out": ("out", "--out", "Save as"),
}


def option(name: str, caller: str) -> str:
    """Option ``name`` as ``caller`` calls it.

    >>> [option("base", c) for c in CALLERS]
    ['base', '--base', 'Start from']
    """
    return OPTIONS[name][CALLERS.index(caller)]


def set_to(name: str, value, caller: str) -> str:
    """Option ``name`` set to ``value`` as ``caller`` gives it: ``base='nuclei2d'``,
    ``--base nuclei2d``, ``Start from 'nuclei2d'`` (a folder: its name, as the panel lists
    it).

    >>> [set_to("base", "/m/nuclei2d", c) for c in CALLERS]
    ["base='/m/nuclei2d'", '--base /m/nuclei2d', "Start from 'nuclei2d'"]
    """
    word = option(name, caller)
    if caller == "python":
        return f"{word}={value!r}"
    if caller == "panel":
        shown = Path(str(value)).name if name == "base" else value
        return f"{word} '{shown}'"
    return f"{word} {value}"


class Refused(ValueError):
    """A run refused (one line) in the words of each caller: ``str`` the Python API's,
    :attr:`cli` the command line's, :attr:`panel` the Train panel's."""

    def __init__(self, python: str, cli: str, panel: str):
        super().__init__(python)
        self.cli, self.panel = cli, panel

    @classmethod
    def worded(cls, words: Callable[[str], str]):
        """The refusal whose message for each caller is ``words(caller)``."""
        return cls(*(words(caller) for caller in CALLERS))


class WordedWarning(UserWarning):
    """A warning of a run in the words of each caller, as :class:`Refused` (``str``: the
    Python API's)."""

    def __init__(self, python: str, cli: str, panel: str):
        super().__init__(python)
        self.cli, self.panel = cli, panel

    @classmethod
    def worded(cls, words: Callable[[str], str]):
        """The warning whose message for each caller is ``words(caller)``."""
        return cls(*(words(caller) for caller in CALLERS))


def in_words(message, caller: str) -> str:
    """``message`` (an exception, a warning or a str) in ``caller``'s words: its
    :class:`Refused` or :class:`WordedWarning` wording, else itself.

    >>> in_words(Refused("p", "c", "g"), "panel"), in_words(ValueError("v"), "cli")
    ('g', 'v')
    """
    if caller != "python" and isinstance(message, Refused | WordedWarning):
        return str(getattr(message, caller))
    return str(message)
