"""The model card a training run writes: the network's architecture, the normalisation, the
method's citation, the training record, and the mark of a run that stopped before its last
epoch."""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from ..methods import get_method
from ..revision import with_revision
from ._config import TrainConfig, _temporal, _where

__all__ = ["METHOD_CITATIONS", "training_normalization"]

METHOD_CITATIONS = {
    "embedding": (
        "Lalit, Tomancak, Jug. EmbedSeg: Embedding-based instance segmentation for biomedical "
        "microscopy data. Medical Image Analysis 81 (2022); Neven et al. Instance segmentation "
        "by jointly optimizing spatial embeddings and clustering bandwidth. CVPR 2019."
    ),
    "boundary": (
        "Wolny et al. Accurate and versatile 3D segmentation of plant tissues at cellular "
        "resolution. eLife 9 (2020) (boundary U-Net + watershed + multicut, as in the C. elegans "
        "germline 3D U-Net seed); Keuper et al. Efficient decomposition of image and mesh graphs "
        "by lifted multicuts. ICCV 2015 (greedy additive edge contraction)."
    ),
    "semantic": (
        "Franco-Barranco, Muñoz-Barrutia, Arganda-Carreras. Stable deep neural network "
        "architectures for mitochondria segmentation on electron microscopy volumes. "
        "Neuroinformatics 20 (2022) (EM_Image_Segmentation, now BiaPy)."
    ),
    "temporal": (
        "Gómez-de-Mariscal et al. Search for temporal cell segmentation robustness in "
        "phase-contrast microscopy videos. arXiv:2112.08817 (2021) (microscopy-dl-suite-tf); "
        "Arbelle & Raviv. "
        "Microscopy cell segmentation via convolutional LSTM networks. ISBI 2019; Shi et al. "
        "Convolutional LSTM network. NeurIPS 2015."
    ),
    "patches": (
        "Mais, Hirsch, Kainmueller. PatchPerPix for instance segmentation. ECCV 2020; Wolf et "
        "al. The mutex watershed. ECCV 2018."
    ),
}


def _architecture(config: TrainConfig, ndim: int, in_channels: int) -> dict:
    out_channels = list(get_method(config.method).out_channels(ndim))
    if config.one_decoder:
        out_channels = [sum(out_channels)]
    args = {
        "ndim": ndim,
        "in_channels": in_channels,
        "out_channels": out_channels,
        "features": list(config.features),
        "norm": "batch",
    }
    if _temporal(config):
        return {"name": "TemporalUNet", "args": {**args, "window": config.window}}
    if config.method == "patches":
        extra = {"code": config.code, "patch": config.patch_size}
        return {"name": "PatchUNet", "args": {**args, **extra}}
    return {"name": "BranchedUNet", "args": args}


def training_normalization(base_card: dict | None, invert: bool | None = None) -> dict:
    """The card's ``normalization`` of a model trained from ``base_card`` (the raw card of a
    fine-tune's base; None for a new model: percentiles 1-99.8), with
    ``invert_bright_background`` set as ``invert`` says (None: as the base has it). Samples
    given to :func:`train_steps` must be normalised with it.

    >>> training_normalization(None, True)
    {'kind': 'percentile', 'low': 1.0, 'high': 99.8, 'invert_bright_background': True}
    """
    default = {"kind": "percentile", "low": 1.0, "high": 99.8}
    normalization = dict(base_card["normalization"] if base_card else default)
    if invert is not None:
        normalization.pop("invert_bright_background", None)
        if invert:
            normalization["invert_bright_background"] = True
    return normalization


def _absolute(path):
    """``path`` as a card records it: absolute where it names a file or folder (symbolic links
    kept as typed), else as given (``"napari layers: ..."``, None)."""
    return os.path.abspath(path) if isinstance(path, str) and os.path.exists(path) else path


def _training_record(
    config: TrainConfig,
    history: list[dict],
    commands: list[str],
    kept_epoch: int | None,
    data_warnings: Sequence[str] = (),
) -> dict:
    """The card's record of a model's whole run, its resumptions included: the data, the
    commands (``command`` the first, ``command_resumed`` each ``--resume`` after it), the
    settings of the latest run, the log line of every epoch, the epoch whose weights are
    kept (0: a fine-tune's base), ``tessella_version`` and ``tessella_revision`` (the code
    that ran it, where known), and ``warnings``: what the run (the latest) warned of its
    data (a binary mask of one piece per image...), where it warned of anything, so that a
    shared model says it was trained on doubtful labels."""
    data = (
        _absolute(config.data)
        if isinstance(config.data, str)
        else list(map(_absolute, config.data))
    )
    commands = commands or [
        config.command or ("tessella " + shlex.join(sys.argv[1:]) if sys.argv else "")
    ]
    from ... import __version__

    # which code trained it (the latest run's): the release and, from a checkout, its revision
    record: dict = with_revision({"tessella_version": __version__})
    record |= {
        "data": data,
        "data_citation": config.data_citation,
        "data_license": config.data_license,
        "val_data": _absolute(config.val_data),
        "command": commands[0],
    }
    if len(commands) > 1:
        record["command_resumed"] = commands[1:]
    record["config"] = {k: v for k, v in asdict(config).items() if k != "card_extra"}
    # where, from any folder: the command keeps what was typed
    record["config"].update(data=data, val_data=record["val_data"], out=_absolute(config.out))
    record["log_summary"] = list(history)
    if kept_epoch is not None:
        record["kept_epoch"] = kept_epoch
    if data_warnings:
        record["warnings"] = list(data_warnings)
    return record


def _card(
    config: TrainConfig,
    ndim: int,
    in_channels: int,
    history: list[dict],
    commands: list[str] | None = None,
    kept_epoch: int | None = None,
    data_warnings: Sequence[str] = (),
) -> dict:
    spatial = "ZYX" if ndim == 3 else "YX"
    model_input = {"axes": spatial, "channels": in_channels, "rgb": "mean"}
    if _temporal(config):
        model_input.update(window=config.window, target="centre")
    data = config.data if isinstance(config.data, str) else list(config.data)
    return {
        "name": config.name or Path(config.out).name,
        "method": config.method,
        "description": f"{config.method} model trained with tessella on {_where(data)}",
        "architecture": _architecture(config, ndim, in_channels),
        "input": model_input,
        "normalization": training_normalization(None, config.invert_bright_background),
        "method_args": {"grid_spacing": [1 / 1024] * ndim},
        "defaults": {
            "tile": 1024 if ndim == 2 else 128,
            "halo": 32 if ndim == 2 else 16,
            "tta": False,
            "params": {},
        },
        "pixel_size": None,
        "citation": METHOD_CITATIONS.get(config.method, ""),
        "license": "BSD-3-Clause (weights); see training.data_license for the data",
        "training": _training_record(config, history, commands or [], kept_epoch, data_warnings),
        **config.card_extra,
    }


def _rewrite_training(out: Path, change) -> None:
    """Apply ``change`` to the ``training`` record of the card in ``out`` (if any) and write
    the card again whole (temporary name, then renamed); its weights and sha256 are
    untouched. ``change`` returns False where nothing changed (the card is left as it is)."""
    path = out / "card.json"
    if not path.is_file():
        return
    with contextlib.suppress(OSError, ValueError):
        card = json.loads(path.read_text())
        training = card.get("training")
        if not isinstance(training, dict) or change(training) is False:
            return
        partial = path.with_name(f".{path.name}.tmp")
        partial.write_text(json.dumps(card, indent=2) + "\n")
        os.replace(partial, path)


def _record_run(
    out: Path,
    config: TrainConfig,
    history: list[dict],
    commands: list[str],
    kept_epoch: int | None,
    data_warnings: Sequence[str] = (),
) -> None:
    """Bring the training record of the card in ``out`` (if any) up to the run's last epoch
    (:func:`_training_record`), though its weights are an earlier epoch's: the card of a
    model whose later epochs did not beat it says how long it was trained, by which commands.
    Rewritten whole (temporary name, then renamed); the weights and sha256 are untouched."""

    def change(training: dict) -> None:
        training.pop("command_resumed", None)
        training.pop("warnings", None)  # the latest run's, as its settings
        training.update(_training_record(config, history, commands, kept_epoch, data_warnings))

    _rewrite_training(out, change)


def _mark_stopped(out: Path, why: str | None, history: list[dict], epochs: int) -> None:
    """Say in the card in ``out`` (if any) whether its run stopped before its last epoch:
    ``training.stopped`` = {"after_epoch", "of_epochs", "why", "resume"}; a run that went
    to its last epoch (a resumed one included) removes the mark. The card is rewritten
    whole (temporary name, then renamed); its weights and sha256 are untouched."""

    def change(training: dict) -> bool:
        if why is None:
            if "stopped" not in training:
                return False
            training.pop("stopped")
            return True
        done = max((int(e.get("epoch", 0)) for e in history), default=0)
        training["stopped"] = {
            "after_epoch": done,
            "of_epochs": epochs,
            "why": why,
            "resume": "tessella train ... --resume (or Resume in the Train widget) "
            "continues from checkpoint.pt",
        }
        return True

    _rewrite_training(out, change)
