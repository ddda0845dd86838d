"""A hold-out that is (partly) the training data: the folder of ``--data`` given as
``--val-data`` too, a ``--val-data`` folder holding copies of training images, or a folder of
one image, trained on and scored on. Validation scores then measure how well the model fits
what it learns from, and the epoch kept as the best is chosen on that: said in one warning
(the training loop's, once the run starts), a folder's in each caller's words (``val_data``,
``--val-data``, the Train panel's Hold-out folder: :mod:`._worded`)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ._samples import Sample
from ._worded import WordedWarning, option, set_to

__all__ = ["_scored_on_given_samples", "_scored_on_training_data"]


def _folders(data) -> set[Path]:
    paths = [data] if isinstance(data, str | Path) else list(data)
    return {Path(p).resolve() for p in paths}


def _also_trained_on(val_samples: list[Sample], samples: list[Sample]) -> list[Sample]:
    """The samples of ``val_samples`` that are training samples too: the same object (a
    hold-out of one image), or the same name and pixels (one file read from two folders).
    Only samples of one name are compared, so this costs no more than reading them did."""
    by_name: dict[str, list[Sample]] = {}
    for sample in samples:
        by_name.setdefault(sample.name, []).append(sample)
    return [
        v
        for v in val_samples
        if any(
            v is s
            or (
                v.image.shape == s.image.shape
                and np.array_equal(v.image, s.image)
                and np.array_equal(v.labels, s.labels)
            )
            for s in by_name.get(v.name, ())
        )
    ]


def _scored_on_training_data(
    samples: list[Sample], val_samples: list[Sample], data, val_data, score_key: str
) -> WordedWarning | None:
    """The warning, where the images scored after each epoch, ``val_samples`` (read from the
    folder ``val_data``, or held out of ``data`` where it is None), are images trained on,
    ``samples``: which, what it means and what to do, in each caller's words (the options
    and controls it names: ``val_data``, ``--val-data``, the Train panel's Hold-out folder);
    None where none is."""
    both = _also_trained_on(val_samples, samples)
    if not both:
        return None
    means = (
        f"{score_key} and the epoch kept as the best then tell how well the model fits the "
        "images it learns from, not how it does on new ones"
    )
    names = ", ".join(s.name for s in both[:5]) + (
        f" and {len(both) - 5} more" if len(both) > 5 else ""
    )

    def hold_out(caller: str) -> str:
        """The options that hold images of the data out, as ``caller`` names them."""
        if caller == "panel":
            return option("holdout", caller)
        return f"{option('val_fraction', caller)}, {option('holdout', caller)}"

    def give(caller: str) -> str:
        """What to give the hold-out folder's option, as ``caller`` names it."""
        folder = option("val_data", caller)
        return f"Give {'the ' if caller == 'panel' else ''}{folder} a folder of other images"

    if val_data is None:  # held out of one image: the image itself
        where = ", ".join(map(str, [data] if isinstance(data, str | Path) else data))
        return WordedWarning.worded(
            lambda caller: (
                f"{where} holds one image ({names}): it is trained on and scored on; {means}. "
                f"{give(caller)}, or add images to hold one out ({hold_out(caller)})"
            )
        )
    inside = _folders(val_data) <= _folders(data)
    scored = (
        f"every image the model is scored on ({names}) is one it trains on"
        if len(both) == len(val_samples)
        else f"{len(both)} of the {len(val_samples)} images the model is scored on "
        f"({names}) {'is one' if len(both) == 1 else 'are ones'} it trains on"
    )

    def words(caller: str) -> str:
        panel = caller == "panel"
        given = set_to("val_data", val_data, caller)
        if panel:  # (the folder in full: the panel's field may hold it so)
            given = f"{option('val_data', caller)} '{val_data}'"
        data_is = ("the " if panel else "") + option("data", caller)  # the panel's Folder
        what = (
            f"{given} is the {option('data', caller)}{'' if panel else ' folder'}"
            if inside
            else f"{given} holds images of {data_is} (the same name and pixels)"
        )
        leave = "leave it empty" if panel else "leave it out"
        return (
            f"{what}: {scored}; {means}. {give(caller)}, or {leave} to hold some of {data_is} "
            f"out ({hold_out(caller)})"
        )

    return WordedWarning.worded(words)


def _scored_on_given_samples(
    samples: list[Sample], val_samples: list[Sample], score_key: str
) -> str:
    """The warning where samples given in memory (the Train panel's layers, a Python
    caller's) are scored on what they train on: one image, trained on and scored on, as
    :func:`_scored_on_training_data` says of a folder of one image; "" where none is.

    >>> one = Sample(None, np.ones((4, 4), np.int32), "gt")
    >>> _scored_on_given_samples([one], [one], "val_ap50")  # doctest: +ELLIPSIS
    "'gt' is trained on and scored on (nothing else to hold out): val_ap50 and ... pair)"
    """
    both = _also_trained_on(val_samples, samples)
    if not both:
        return ""
    names = ", ".join(f"'{s.name}'" for s in both[:5]) + (
        f" and {len(both) - 5} more" if len(both) > 5 else ""
    )
    every = len(both) == len(val_samples)
    what = (
        f"{names} {'is' if len(both) == 1 else 'are'} trained on and scored on (nothing else "
        "to hold out)"
        if every
        else f"{len(both)} of the {len(val_samples)} images scored on ({names}) "
        + ("is" if len(both) == 1 else "are")
        + " trained on"
    )
    return (
        f"{what}: {score_key} and the epoch kept as the best then tell how well the model "
        "fits the images it learns from, not how it does on new ones; add another image to "
        "hold one out (the Train panel: another pair)"
    )
