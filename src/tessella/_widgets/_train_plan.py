"""The Train panel's *Run* line: how long the run it would start trains and what it holds out
to score each epoch, in words, with the ``tessella train`` options that say the same (the
panel's defaults are a short run, 10 epochs of 25 steps, holding out a fifth; the command's
are 50 of 100, a tenth: its ``--val-fraction`` default suits a folder of many images, the
panel's a few layers, where a tenth would leave nothing to hold out)."""

from __future__ import annotations

from ._train_data import HOLDOUT_FRACTION, _selectors

__all__ = ["plan_in_words"]

#: ``tessella train``'s defaults, said beside the panel's (cli/_parser.py's)
COMMAND_EPOCHS, COMMAND_STEPS, COMMAND_FRACTION = 50, 100, 0.1


def plan_in_words(
    epochs: int,
    steps: int,
    batch: int,
    holdout_text: str,
    folder: bool,
    time_budget: int = 0,
    val_folder: str = "",
) -> str:
    """What a run of ``epochs`` x ``steps`` steps of ``batch`` crops trains and holds out,
    given the Hold out field's ``holdout_text`` (empty: drawn, a fifth), whether it trains
    on a Folder and the Hold-out folder ``val_folder`` it scores on instead ("": none).

    >>> print(plan_in_words(10, 25, 8, "", folder=False))
    10 epochs x 25 steps = 250 steps of 8 crops; scored on a random fifth of the 2D images \
(at least one) and each volume's last fifth, held out: as --epochs 10 --steps-per-epoch 25 \
--val-fraction 0.2 (tessella train's defaults: 50 x 100, a tenth)
    >>> print(plan_in_words(4, 5, 2, "gt[z=8:10]", folder=False, time_budget=3))
    4 epochs x 5 steps = 20 steps of 2 crops, at most 3 min; scored on gt[z=8:10] (Hold \
out), held out: as --epochs 4 --steps-per-epoch 5 --holdout gt[z=8:10] (tessella train's \
defaults: 50 x 100, a tenth)
    >>> print(plan_in_words(4, 5, 2, "", folder=True, val_folder="/d/val"))
    4 epochs x 5 steps = 20 steps of 2 crops; scored on the files of /d/val (Hold-out \
folder), nothing held out: as --epochs 4 --steps-per-epoch 5 --val-data /d/val (tessella \
train's defaults: 50 x 100)
    """

    def n(count: int, what: str) -> str:
        return f"{count} {what}{'' if count == 1 else 's'}"

    words = (
        f"{n(epochs, 'epoch')} x {n(steps, 'step')} = {n(epochs * steps, 'step')} of "
        f"{n(batch, 'crop')}"
    )
    if time_budget:
        words += f", at most {time_budget} min"
    selectors = _selectors(holdout_text)
    options = f"--epochs {epochs} --steps-per-epoch {steps}"
    if val_folder:
        return (
            f"{words}; scored on the files of {val_folder} (Hold-out folder), nothing held "
            f"out: as {options} --val-data {val_folder} (tessella train's defaults: "
            f"{COMMAND_EPOCHS} x {COMMAND_STEPS})"
        )
    if selectors:
        held = f"scored on {', '.join(selectors)} (Hold out)"
        options += f" --holdout {','.join(selectors)}"
    else:
        what = "the folder's 2D images" if folder else "the 2D images"
        held = f"scored on a random fifth of {what} (at least one) and each volume's last fifth"
        options += f" --val-fraction {HOLDOUT_FRACTION:g}"
    return (
        f"{words}; {held}, held out: as {options} (tessella train's defaults: "
        f"{COMMAND_EPOCHS} x {COMMAND_STEPS}, a tenth)"
    )
