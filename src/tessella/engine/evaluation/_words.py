"""The options of scoring files in the words of each front end that gives them: the command
line's (``flags``: ``--axes TYX``, ``--ignore-label 5``) or the Python function's
(:func:`tessella.evaluate_paths`: ``axes='TYX'``, ``ignore_label=5``), so that a refusal
names the option as its caller gave it, as the notes on inputs take ``flags`` (``_mistakes``)."""

from __future__ import annotations

import re

__all__ = ["in_keywords", "option", "set_to"]

#: the command line's name of each keyword of :func:`tessella.evaluate_paths` a message names
_FLAGS = {
    "axes": "--axes",
    "ignore_label": "--ignore-label",
    "annotated_only": "--annotated-only",
    "gt_boundaries": "--gt-boundaries",
    "gt_boundaries_3d": "--gt-boundaries-3d",
    "gt_binary": "--gt-binary",
}


def option(name: str, flags: bool = True) -> str:
    """The option ``name`` (a keyword of :func:`tessella.evaluate_paths`) as the command line
    (``flags``) or Python calls it.

    >>> option("ignore_label"), option("ignore_label", flags=False)
    ('--ignore-label', 'ignore_label')
    """
    return _FLAGS[name] if flags else name


def set_to(name: str, value, flags: bool = True) -> str:
    """The option ``name`` given ``value``, as the command line (``flags``) or Python gives it.

    >>> set_to("axes", "TYX"), set_to("axes", "TYX", flags=False)
    ('--axes TYX', "axes='TYX'")
    >>> set_to("gt_boundaries_3d", True), set_to("gt_boundaries_3d", True, flags=False)
    ('--gt-boundaries-3d', 'gt_boundaries_3d=True')
    """
    if flags:
        return _FLAGS[name] if value is True else f"{_FLAGS[name]} {value}"
    return f"{name}={value!r}"


#: the command line's options that notes on inputs name (``_mistakes``, ``flags``), and what
#: :func:`tessella.evaluate_paths` calls them (the longer first: ``--gt-boundaries-3d``)
_KEYWORDS = (
    ("--gt-boundaries-3d", "gt_boundaries_3d=True"),
    ("--gt-boundaries", "gt_boundaries=True"),
    ("--gt-binary", "gt_binary=True"),
    ("--metric seg", "metrics_wanted='seg'"),
    ("--overlapping", "tessella.evaluate(..., kind='overlapping')"),
)


def in_keywords(note: str) -> str:
    """A note on an input worded for the command line (its options: ``pass --gt-binary``)
    in the words of :func:`tessella.evaluate_paths` (``pass gt_binary=True``); what only the
    command does (``--ctc``) is left as it is.

    >>> in_keywords("pass --gt-binary to score each piece; without --gt-boundaries-3d ...")
    'pass gt_binary=True to score each piece; without gt_boundaries_3d=True ...'
    """
    for flag, keyword in _KEYWORDS:
        note = re.sub(re.escape(flag) + r"(?![\w-])", keyword, note)
    return note
