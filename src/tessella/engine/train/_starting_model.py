"""The network a training run starts from: a new one, a copy of a ``--base`` model of the
same dimension (merged into one decoder with ``--one-decoder``), or a 3D one inflated from a 2D
base; and what a fine-tune takes from its base besides (post-processing parameters and padding
for the hold-out scores, the card, the normalisation, a teacher for ``--distil``)."""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from ..registry import ModelError, find_model, list_models, load_model, read_card
from ._config import TrainConfig
from ._model_card import _architecture, training_normalization
from ._worded import Refused, WordedWarning, option, resume_of, set_to

__all__ = ["StartingModel", "_starting_model", "resumed_base"]


@dataclass(frozen=True)
class StartingModel:
    """What :func:`_starting_model` sets up. ``config``: the run's, with what the base fixes
    (features, patch size, code, one decoder, elastic and inverting as recorded); ``val_params``
    and ``val_pad``: how the hold-out is scored; ``merged_from``: a base whose branches were
    merged into ``network``'s one decoder (its seed output is fitted to the base's);
    ``card_base``: the base's card a fine-tune's card inherits; ``teacher``: the base network
    ``--distil`` learns from; ``base_training``: how the base itself was trained;
    ``inherited_defaults``: see there."""

    config: TrainConfig
    network: Any
    val_params: Any
    val_pad: str
    merged_from: Any
    card_base: dict | None
    teacher: Any
    base_training: dict | None
    normalization: dict
    #: what a 3D model started from a 2D base keeps of the base card's ``defaults`` (its
    #: parameters, which the hold-out is scored with; not its TTA)
    inherited_defaults: dict | None = None
    #: a warning for the run to give once its options are checked, in each caller's words
    #: ("": none)
    note: str | WordedWarning = ""


def _starting_model(config: TrainConfig, method, training, temporal: bool) -> StartingModel:
    """The network ``config`` starts from (see the module docstring), on the CPU; refused
    (one line) where the base is of another method or dimension, or its architecture does
    not fit."""
    from ..models import build_network

    ndim = config.ndim
    val_params = method.Params()  # the hold-out scores of a new model: the method defaults
    val_pad = "reflect"  # and its images are padded as a new model's card says
    merged_from = None  # a base whose branches were merged into one decoder
    inherited_defaults: dict | None = None
    note: str | WordedWarning = ""  # a warning of the run's (none)
    if config.base:
        base = load_model(_base_folder(config))
        # the run records which model its base is: a --resume starts from that one
        config = replace(config, base_path=str(base.path.resolve()), base_sha256=base.card.sha256)
        if base.card.method != config.method:
            refused_method, method_asked = base.card.method, config.method
            raise Refused.worded(
                lambda caller: (
                    f"{set_to('base', config.base, caller)}: {_a(refused_method)} "
                    f"model cannot start {_a(method_asked)} model"
                )
            )
        # a fine-tune is scored with the post-processing its base was tuned to, so the best
        # epoch is the one that is best with the parameters it will be shipped with
        val_params = method.Params(**base.card.defaults.get("params", {}))
        val_pad = str(base.card.defaults.get("pad", "reflect"))
        base_args = base.card.raw["architecture"]["args"]
        if base_args.get("ndim", 2) == ndim:
            # a copy: the base's network is the one load_model caches for segmenting, which
            # a fine-tune in the same process (the Train widget) must not change
            network = copy.deepcopy(base.network)
            # the targets must fit the base's heads (e.g. the patches method's shape patch)
            config = replace(
                config,
                features=tuple(base_args.get("features", config.features)),
                patch_size=int(base_args.get("patch", config.patch_size)),
                code=int(base_args.get("code", config.code)),
            )
            card_base = base.card.raw
            branches = len(base_args.get("out_channels", ()))
            if config.one_decoder and branches > 1:
                from ..models.unet import merge_branches

                if base.card.raw["architecture"]["name"] != "BranchedUNet":
                    named = {"python": repr(config.base), "cli": config.base}
                    raise Refused.worded(
                        lambda caller: (
                            f"{option('one_decoder', caller)}: "
                            f"{named.get(caller, repr(Path(str(config.base)).name))} is not a "
                            "branched U-Net"
                        )
                    )
                architecture = _architecture(config, ndim, 1)
                merged_from = network
                network = merge_branches(
                    network, build_network(architecture["name"], architecture["args"])
                )
                card_base = {**card_base, "architecture": architecture}
            elif config.method == "embedding":  # the record says the design the base has
                config = replace(config, one_decoder=branches == 1)
        elif base_args.get("ndim", 2) == 2 and ndim == 3 and not temporal:
            # a 3D model from a 2D one: each 2D kernel is the middle slice of a 3D kernel
            from ..models.unet import inflate_to_3d

            config = replace(config, features=tuple(base_args["features"]))
            architecture = _architecture(config, ndim, 1)
            if {**base_args, "ndim": 3} != architecture["args"]:
                wanted = architecture["args"]
                raise Refused.worded(
                    lambda caller: (
                        f"{set_to('base', config.base, caller)}: its architecture "
                        f"{base_args} does not match a 3D {config.method} model {wanted}"
                    )
                )
            network = build_network(architecture["name"], architecture["args"])
            inflate_to_3d(base.network, network)
            card_base = None
            inherited_defaults, note = _inherited_by_3d(str(config.base), base.card.defaults)
        else:
            base_ndim = base_args.get("ndim", 2)
            raise Refused.worded(
                lambda caller: (
                    f"{set_to('base', config.base, caller)} is a {base_ndim}D "
                    "model; it can start a model of the same dimension, or a 3D model from a 2D one"
                )
            )
    else:
        architecture = _architecture(config, ndim, 1)
        network = build_network(architecture["name"], architecture["args"])
        training.init_head(network, ndim)
        card_base = None
    teacher = None
    if config.distil:
        teacher = copy.deepcopy(base.network).float().eval().requires_grad_(False)
    base_training = base.card.raw.get("training") if config.base else None
    normalization = training_normalization(
        base.card.raw if config.base else None, config.invert_bright_background
    )
    # the card records what the model was trained with
    config = replace(
        config, invert_bright_background=bool(normalization.get("invert_bright_background"))
    )

    return StartingModel(
        config,
        network,
        val_params,
        val_pad,
        merged_from,
        card_base,
        teacher,
        base_training,
        normalization,
        inherited_defaults,
        note,
    )


def _a(word: str) -> str:
    """``word`` with its indefinite article: "an embedding", "a semantic"."""
    return f"{'an' if word[:1].lower() in 'aeiou' else 'a'} {word}"


def _base_folder(config: TrainConfig) -> Path:
    """The folder of the model ``config.base`` names, never the run's own output folder (a
    fine-tune may be named like its base). A resume starts from the model its run started
    from (:func:`resumed_base`); refused (one line) where that model is not installed any
    more."""
    base = str(config.base)
    saved = None
    if config.resume:
        from ._checkpoint import ResumeRefused, resumed_settings

        saved = resumed_settings(config.out)
    if not saved or saved.get("base") != config.base:  # a new run, or another base asked for
        return find_model(base, excluding=config.out)
    found = resumed_base(config.out, saved)
    if isinstance(found, str):
        raise ResumeRefused.worded(lambda caller: f"{resume_of(config.out, caller)}: {found}")
    return found


def resumed_base(out: str | os.PathLike, saved: dict) -> Path | str:
    """The folder of the model that the stopped run in ``out`` started from, as its settings
    ``saved`` (a checkpoint's or card's ``training.config``) record it: the folder recorded,
    while it holds the weights recorded; else the model with those weights among the models
    of its name, or among all models (a model given by folder, moved since); else (a
    checkpoint from before the folder and weights were recorded) the model of its name. Where
    none is installed, what to tell the user instead (a str: the model's name, folder and
    sha256, and that the run is kept). Never the run's own model."""
    base, path, sha = str(saved.get("base")), saved.get("base_path"), saved.get("base_sha256")
    sha = sha if isinstance(sha, str) else None
    here = Path(out).resolve()

    def weights(directory: Path) -> str | None:
        try:
            return read_card(directory).sha256
        except ModelError:
            return None

    if isinstance(path, str) and Path(path).resolve() != here:
        held = weights(Path(path))
        if held is not None and (sha is None or held == sha):
            return Path(path)
    try:
        found: Path | None = find_model(base, excluding=out, sha256=sha)
    except ModelError:  # not installed, or several of its name, none with its weights
        found = None
    if found is not None and found.resolve() != here:
        held = weights(found)
        if held is not None and (sha is None or held == sha):
            return found
    if sha is not None:  # given by folder and moved: known by its weights
        for card, directory, _origin in list_models():
            if card.sha256 == sha and directory.resolve() != here:
                return directory
    named = base if "/" not in base and os.sep not in base else Path(base).name
    if isinstance(path, str) and _bundled_folder(Path(path)):
        return _bundled_base_changed(out, saved, Path(path).name, sha)
    said = [f"folder {path}"] if isinstance(path, str) else []
    said += [f"sha256 {sha[:12]}"] if sha else []
    which = f" ({', '.join(said)})" if said else ""
    return (
        f"the model its run started from, {named!r}{which}, is not installed any more"
        + (" (a model of that name with other weights is not it)" if found is not None else "")
        + "; put it back (that folder, or a copy of it in a models folder), then resume; the "
        f"run and its checkpoint in {out} are kept as they are"
    )


def _bundled_folder(path: Path) -> bool:
    """Whether ``path`` is (or was) a bundled model's folder: in this Tessella's bundled
    models folder, or in one of another install (``.../tessella/bundled/NAME``, an upgrade
    from another environment)."""
    from ..registry import bundled_dir

    if path.resolve().parent == bundled_dir():
        return True
    return path.parent.name == bundled_dir().name and path.parent.parent.name == "tessella"


def _bundled_base_changed(out: str | os.PathLike, saved: dict, name: str, sha: str | None) -> str:
    """What to tell the user whose run started from the bundled model ``name`` that this
    Tessella ships with other weights (it was upgraded): the run cannot go on from that model,
    which cannot be put back; a new fine-tune can, from the run's own model where ``out``
    holds a loadable one (card and weights that match), else from the new bundled model."""
    from ..commands import shell_command
    from ..registry import checked_card

    now = [
        card.sha256
        for card, directory, origin in list_models()
        if origin == "bundled" and directory.name == name
    ]
    was = f"sha256 {sha[:12]}" if sha else "other weights"
    changed = (
        f"this Tessella's bundled {name!r} has other weights (sha256 {now[0][:12]}, the run "
        f"started from {was})"
        if now
        else f"this Tessella has no bundled {name!r} any more (the run started from {was})"
    )
    method = saved.get("method") or "METHOD"
    data = saved.get("data")
    data = data if isinstance(data, str) else "DATA"
    try:
        checked_card(Path(out).resolve())
        own = True
    except ModelError:
        own = False
    train = ["tessella", "train", method, "--data", data]
    if own:
        command = shell_command(*train, "--base", out, "--out", "NEW")
        then = f"go on as a new fine-tune from the run's model: {command}"
    elif now:
        command = shell_command(*train, "--base", name, "--out", "NEW")
        then = f"start again from the new bundled model: {command}"
    else:
        then = f"start again as a new run: {shell_command(*train, '--out', 'NEW')}"
    return (
        f"the bundled model its run started from cannot be resumed: {changed}; {then}; the "
        f"run and its checkpoint in {out} are kept as they are"
    )


def _inherited_by_3d(base: str, defaults: dict) -> tuple[dict | None, str | WordedWarning]:
    """What the card of a 3D model started from the 2D ``base`` keeps of that base's
    ``defaults``, its parameters, which the hold-out is scored with (so the score logged is
    the one the model segments with), not its TTA (a 3D model's is other passes, over
    volumes); and the warning that says so ("" where the base has neither).

    >>> _inherited_by_3d("b", {"tta": True, "params": {"threshold": 0.3}})[1].cli
    "--base b --ndim 3: the 3D model keeps the base's parameters (threshold=0.3), ..."
    """
    params = dict(defaults.get("params") or {})
    said = []
    if params:
        listed = ", ".join(f"{k}={v}" for k, v in params.items())
        said.append(f"keeps the base's parameters ({listed}), which its hold-out is scored with")
    if defaults.get("tta"):
        said.append("does not take the base's TTA (its card says tta false: set it where it helps)")
    starts = {
        "python": f"base={base!r}, ndim=3",
        "cli": f"--base {base} --ndim 3",
        "panel": f"Start from '{Path(base).name}' (a 3D model)",
    }
    note: str | WordedWarning = ""
    if said:
        note = WordedWarning.worded(
            lambda caller: f"{starts[caller]}: the 3D model {', but '.join(said)}"
        )
    if not params:
        return None, note
    return {
        "params": params,
        "params_tuning": {
            "from_base": str(base),
            "how": "the 2D base's parameters, taken by the 3D model started from it (its "
            "hold-out scored with them); not tuned in 3D",
        },
    }, note
