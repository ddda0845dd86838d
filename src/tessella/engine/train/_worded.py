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
    "resume_of",
    "set_to",
]

#: the front ends a run's messages are worded for
CALLERS = ("python", "cli", "panel")

#: what each front end calls the options its messages name: (Python, command line, panel). A
#: panel word with a capital names the Train panel's control (the text of its label, button or
#: check box, tests/widgets/test_train_option_words.py); one in lower case ("the seed")
#: describes a setting the panel has no control for
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
    "seed": ("seed", "--seed", "the seed"),
    "exclude": ("exclude", "--exclude", "the files left out"),
    "max_val_images": ("max_val_images", "--max-val-images", "the hold-out images scored"),
    "val_orientations": ("val_orientations", "--val-orientations", "the orientations scored"),
    "ema": ("ema", "--ema", "Average the weights"),
    "ignore_label": ("ignore_label", "--ignore-label", "Unannotated label"),
    "features": ("features", "--features", "the network's features"),
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
    it); a setting the panel has no control for as ``the seed: 3``; on or off (a bool) as
    ``--val-orientations`` / ``no --val-orientations`` (panel: ``...: no``).

    >>> [set_to("base", "/m/nuclei2d", c) for c in CALLERS]
    ["base='/m/nuclei2d'", '--base /m/nuclei2d', "Start from 'nuclei2d'"]
    >>> [set_to("max_val_images", 2, c) for c in CALLERS]
    ['max_val_images=2', '--max-val-images 2', 'the hold-out images scored: 2']
    >>> [set_to("val_orientations", False, c) for c in CALLERS]
    ['val_orientations=False', 'no --val-orientations', 'the orientations scored: no']
    """
    word = option(name, caller)
    if caller == "python":
        return f"{word}={value!r}"
    if isinstance(value, bool):
        return word if value else f"no {word}" if caller == "cli" else f"{word}: no"
    if caller == "panel":
        if word[:1].islower():  # no control: described
            return f"{word}: {value}"
        shown = Path(str(value)).name if name == "base" else value
        return f"{word} '{shown}'"
    return f"{word} {value}"


def resume_of(out, caller: str) -> str:
    """How ``caller`` names the resume of the run in ``out``: ``resume=True into 'OUT'``,
    ``--resume OUT``, ``Resume of 'NAME'`` (the start of its refusals).

    >>> [resume_of("/m/run", c) for c in CALLERS]
    ["resume=True into '/m/run'", '--resume /m/run', "Resume of 'run'"]
    """
    word = option("resume", caller)
    if caller == "python":
        return f"{word} into {str(out)!r}"
    return f"{word} of '{Path(out).name}'" if caller == "panel" else f"{word} {out}"


class _Worded:
    """A message in the words of each caller: ``str`` the Python API's, :attr:`cli` the
    command line's, :attr:`panel` the Train panel's (the body of :class:`Refused` and
    :class:`WordedWarning`)."""

    cli: str
    panel: str

    def __init__(self, python: str, cli: str, panel: str):
        super().__init__(python)  # type: ignore[call-arg]  # (the exception's, after it)
        self.cli, self.panel = cli, panel

    @classmethod
    def worded(cls, words: Callable[[str], str]):
        """The message whose words for each caller are ``words(caller)``."""
        return cls(*(words(caller) for caller in CALLERS))


class Refused(_Worded, ValueError):
    """A run refused (one line) in the words of each caller: ``str`` the Python API's,
    :attr:`cli` the command line's, :attr:`panel` the Train panel's."""


class WordedWarning(_Worded, UserWarning):
    """A warning of a run in the words of each caller, as :class:`Refused` (``str``: the
    Python API's)."""


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
