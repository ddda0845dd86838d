"""The options of a training run checked before anything is loaded or written: values out of
range, combinations that cannot work, an output folder that holds a model already."""

from __future__ import annotations

import warnings
from pathlib import Path

from ._checkpoint import CHECKPOINT
from ._config import TrainConfig, _temporal
from ._worded import Refused, WordedWarning, option, resume_of
from .methods import get_training
from .overlapping import SHARED_GAP

__all__ = ["_check_options", "_check_patch_fits"]


def _check_options(config: TrainConfig, data_given: bool = False) -> None:
    """Refuse ``config`` (ValueError, one line) where an option is out of range or does not go
    with the others, or where ``config.out`` holds a model that ``--resume`` does not continue;
    warn where ``--resume`` finds no checkpoint (training starts afresh). The warning points
    at :func:`~.loop.train_steps`' caller line, as it did when the check was written there.
    ``data_given``: the samples are given (the Train panel's layers), so ``config.data`` only
    describes them ("napari layers: img + gt, ..."): it is no folder to check."""
    for setting, value, least in (
        ("epochs", config.epochs, 1),
        ("steps per epoch", config.steps_per_epoch, 1),
        ("batch size", config.batch_size, 1),
        ("patch", config.patch, 16),
        ("accumulate", config.accumulate, 1),
    ):
        if value < least:
            raise ValueError(f"{setting} {value}: must be at least {least}")
    features = tuple(config.features)
    if not features or not all(int(f) == f and f >= 1 for f in features):
        raise ValueError(
            f"features {','.join(map(str, features))}: the channels of each level of the "
            "network, whole numbers of at least 1 (e.g. 16,32,64,128,256)"
        )
    if config.time_budget is not None and not config.time_budget > 0:
        raise ValueError(f"time budget {config.time_budget}: must be above 0 (none: no limit)")
    if get_training(config.method).overlapping and config.patch_size >= 2 * SHARED_GAP:
        raise ValueError(  # objects sharing a bit must lie beyond a shape patch's reach
            f"patch size {config.patch_size}: at most {2 * SHARED_GAP - 1} pixels"
        )
    out_dir = Path(config.out)
    made = [n for n in ("card.json", "model.safetensors", CHECKPOINT) if (out_dir / n).exists()]
    _refuse_output_folder(config, out_dir, bool(made), data_given)
    if made and not config.resume:
        raise _holds_a_model(out_dir, made)
    if config.resume and not (out_dir / CHECKPOINT).exists() and made:
        raise Refused.worded(
            lambda caller: (
                f"{resume_of(out_dir, caller)}: it holds a model but no checkpoint "
                "to continue from; "
                + {
                    "python": f"fine-tune it with base={str(out_dir)!r} into another out folder",
                    "cli": "fine-tune it with --base into another output folder",
                    "panel": "choose it in Start from to fine-tune it under another name",
                }[caller]
            )
        )
    if config.resume and not (out_dir / CHECKPOINT).exists():
        warnings.warn(  # 3: this function, _train_steps, then train_steps' line
            WordedWarning.worded(
                lambda caller: (
                    f"{option('resume', caller)}: {out_dir} has no checkpoint to "
                    "continue; training starts afresh"
                    if caller != "panel"
                    else f"Resume of '{out_dir.name}': it has no checkpoint to continue; training "
                    "starts afresh"
                )
            ),
            stacklevel=3,
        )
    if not 0.0 <= config.ema < 1.0:
        raise ValueError(f"ema {config.ema}: the decay must be in [0, 1) (0: no averaging)")
    if not 0.0 <= config.border_crops <= 1.0:
        raise ValueError(f"border crops {config.border_crops}: a fraction in [0, 1]")
    if not config.colour_weight > 0:
        raise ValueError(f"colour weight {config.colour_weight}: must be above 0 (1: no weighting)")
    if config.distil and not config.base:
        raise Refused.worded(
            lambda caller: (
                f"{option('distil', caller)} needs a "
                + (
                    f"model in {option('base', caller)}"
                    if caller == "panel"
                    else f"{option('base', caller)} model"
                )
                + " to learn from"
            )
        )
    if config.distil < 0:
        raise ValueError(f"distil {config.distil}: the weight must be 0 or more (0: none)")
    if config.fg_dice < 0:
        raise ValueError(f"fg dice {config.fg_dice}: the weight must be 0 or more (0: none)")
    if config.fg_dice and get_training(config.method).foreground_dice is None:
        raise ValueError(
            f"fg dice: the {config.method} method's loss has no foreground term to add it to "
            "(patches only)"
        )
    if config.one_decoder and config.method != "embedding":
        raise ValueError(
            f"one decoder: the {config.method} method's network has one decoder already"
        )
    if config.val_orientations and _temporal(config):
        raise ValueError(
            f"val orientations: the {config.method} method's hold-out is scored as a time-lapse, "
            "in the orientation it comes in"
        )


def _holds_a_model(out: Path, made: list[str]) -> Refused:
    """The refusal of a new run into ``out``, which holds a model's files ``made``."""
    files = ", ".join(made)
    return Refused(
        f"{out} holds a model already ({files}); resume=True continues its training, or "
        "choose another out folder",
        f"{out} holds a model already ({files}); --resume continues its training, or choose "
        "another output folder",
        f"a model '{out.name}' is in {out.parent} already ({files}); Resume continues its "
        "run, or choose another name in Save as",
    )


#: what a run writes in its output folder (with temporary names beginning with them)
_RUN_FILES = ("card.json", "model.safetensors", CHECKPOINT, "train.log")


def _is_folder(path) -> bool:
    """Whether ``path`` is a folder; False where it cannot be checked (a name too long for
    the file system, a folder that cannot be read: OSError, which ``Path.is_dir`` raises
    for those in Python 3.11).

    >>> _is_folder("x" * 300)
    False
    """
    try:
        return Path(path).is_dir()
    except (OSError, ValueError):
        return False


def _refuse_output_folder(
    config: TrainConfig, out: Path, holds_model: bool = False, data_given: bool = False
) -> None:
    """Refuse (ValueError, one line) an output folder ``out`` that is a file or lies in one,
    that is a data folder of the run, or that holds files other than a run's (the model
    would be mixed in with them), unless it ``holds_model``: a model's folder is for
    :func:`_check_options` (``--resume`` or another folder), whatever else it holds; an
    empty one is taken. ``data_given``: ``config.data`` describes samples given (the Train
    panel's "napari layers: ..."), not a folder: it is not compared with ``out``.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as data:
    ...     _refuse_output_folder(TrainConfig("boundary", data, data), Path(data))
    Traceback (most recent call last):
    ...
    ValueError: output folder ...: it is the data folder; write the model to a folder of its own
    """
    blocking = next((p for p in (out, *out.parents) if p.exists() and not p.is_dir()), None)
    if blocking is not None:
        what = "a file, not a folder" if blocking == out else f"inside {blocking}, a file"
        raise ValueError(f"output folder {out}: {what}; choose a new or empty folder for the model")
    if not out.is_dir():
        return
    data = [config.data] if isinstance(config.data, str) else list(config.data)
    data = [] if data_given else data  # (a description of the samples given)
    data += [config.val_data] if config.val_data else []
    for folder in data:
        if _is_folder(folder) and Path(folder).resolve() == out.resolve():
            raise ValueError(
                f"output folder {out}: it is the data folder; write the model to a folder of "
                "its own"
            )
    if holds_model:
        return
    others = sorted(
        p.name
        for p in out.iterdir()
        if not p.name.startswith(".") and not p.name.startswith(_RUN_FILES)
    )
    if others:
        listed = ", ".join(others[:3]) + (", …" if len(others) > 3 else "")
        raise ValueError(
            f"output folder {out}: it holds other files ({listed}), which the model's would be "
            "mixed in with; write the model to a new or empty folder"
        )


def _check_patch_fits(config: TrainConfig, network) -> None:
    """Refuse (ValueError, one line) a patch that ``network``'s poolings shrink to one pixel
    when a batch holds one crop: batch normalisation needs more than one value per channel in
    training, and torch would stop the run at its first step (a fine-tune's after its base
    was scored). Said with the smallest patch that fits, before anything is read or scored.

    >>> from tessella.engine.models.unet import UNet
    >>> _check_patch_fits(TrainConfig("boundary", "d", "o", patch=16, batch_size=1), UNet(2, 1, 1))
    Traceback (most recent call last):
    ...
    ValueError: patch 16 with batch size 1: the network's 5 levels shrink it to under 2 pixels ...
    """
    from torch import nn

    multiple = int(getattr(network, "multiple", 1))
    if config.batch_size > 1 or config.patch // multiple >= 2:
        return
    if not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in network.modules()):
        return
    levels = multiple.bit_length()  # multiple = 2 ** (levels - 1)
    fewer = "" if config.base else ", or fewer features"
    raise ValueError(
        f"patch {config.patch} with batch size 1: the network's {levels} levels shrink it to "
        "under 2 pixels a side, where batch normalisation needs more than one value in "
        f"training; use a patch of at least {2 * multiple} (or batch size 2{fewer})"
    )
