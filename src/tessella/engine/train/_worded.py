"""A training run's refusals and warnings in the words of each front end: the Python API's
(keywords: ``base='nuclei2d'``, ``resume=True``), the command line's (options: ``--base
nuclei2d``, ``--resume``) and the Train panel's (its controls: ``Start from``, ``Resume``).
One message source: each is written once, as a function of the caller (:meth:`Refused.worded`);
``tessella train`` says :attr:`Refused.cli`, the panel :attr:`Refused.panel`, Python ``str``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

__all__ = [
    "CALLERS",
    "Refused",
    "WordedText",
    "WordedWarning",
    "caller_of",
    "in_words",
    "option",
    "set_to",
]

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
    "data": ("data", "--data", "Folder"),
    "holdout": ("holdout", "--holdout", "Hold out"),
    "val_fraction": ("val_fraction", "--val-fraction", "the hold-out fraction"),
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


class WordedText(str):
    """A message of a run (a :class:`~._config.TrainProgress` line) in the words of each
    caller, as :class:`Refused`: the str itself is the Python API's."""

    cli: str
    panel: str

    def __new__(cls, python: str, cli: str, panel: str):
        text = super().__new__(cls, python)
        text.cli, text.panel = cli, panel
        return text

    @classmethod
    def worded(cls, words: Callable[[str], str]):
        """The message whose words for each caller are ``words(caller)``."""
        return cls(*(words(caller) for caller in CALLERS))


def in_words(message, caller: str) -> str:
    """``message`` (an exception, a warning or a str) in ``caller``'s words: its
    :class:`Refused`, :class:`WordedWarning` or :class:`WordedText` wording, else itself.

    >>> in_words(Refused("p", "c", "g"), "panel"), in_words(ValueError("v"), "cli")
    ('g', 'v')
    >>> in_words(WordedText("p", "c", "g"), "cli"), in_words(WordedText("p", "c", "g"), "python")
    ('c', 'p')
    """
    if caller != "python" and isinstance(message, Refused | WordedWarning | WordedText):
        return str(getattr(message, caller))
    return str(message)


def caller_of(command: str | None) -> str:
    """Which front end ran the training whose card records ``command``: ``tessella.train``
    ("tessella.train(...)", :func:`tessella._api._python_call`), the Train panel on layers
    ("napari Train widget on layers ..."), else the command line (``tessella train ...``,
    which the panel records for a run on a folder too). A card records what its run was
    warned of in that caller's words.

    >>> [caller_of(c) for c in ("tessella.train('embedding', 'd', 'm')", "napari Train widget "
    ...  "on layers 'gt'", "tessella train embedding --data d --out m", None)]
    ['python', 'panel', 'cli', 'cli']
    """
    command = command or ""
    if command.startswith("tessella.train("):
        return "python"
    if command.startswith("napari Train widget"):
        return "panel"
    return "cli"
