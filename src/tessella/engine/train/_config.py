"""What a training run is told (:class:`TrainConfig`) and what it reports
(:class:`TrainProgress`), with the questions :func:`.loop.train_steps` asks of a config."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..methods import get_method

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "TrainConfig",
    "TrainProgress",
    "TrainingStopped",
    "default_lr",
    "equivalent_command",
]

#: crops per step a run takes unless told: ``tessella train``'s, the Train panel's and
#: :class:`TrainConfig`'s: what the bundled 2D models of the embedding, boundary and semantic
#: methods trained with (nuclei2d, em-membranes2d, em-mito2d; docs/models.md)
DEFAULT_BATCH_SIZE = 8


def default_lr(fine_tune: bool) -> float:
    """The learning rate the Train panel proposes: 3e-4 for a fine-tune (what nuclei2d and
    em-mito3d were trained with from their bases), 1e-3 for a new model (em-mito2d's,
    cells2dt's and em-membranes2d's first run's); docs/models.md. ``tessella train`` (with
    ``--base`` or not), ``tessella.train`` (``base`` or not) and a :class:`TrainConfig` made
    in code take it unless given ``lr``.

    >>> default_lr(True), default_lr(False)
    (0.0003, 0.001)
    """
    return 3e-4 if fine_tune else 1e-3


class TrainingStopped(Exception):
    """Thrown into :func:`.loop.train_steps` (``generator.throw``) to stop a run as closing
    the generator does (the best model so far is kept, the checkpoint too), with the reason
    the card's ``training.stopped.why`` records: "panel closed", "viewer closed" (closing the
    generator records "cancelled"). It is raised again out of ``throw``.

    Examples
    --------
    >>> TrainingStopped("panel closed").why
    'panel closed'
    """

    def __init__(self, why: str) -> None:
        super().__init__(why)
        self.why = why


@dataclass
class TrainConfig:
    method: str
    data: str | tuple[str, ...]  # several folders: time-lapse sequences only
    out: str
    val_data: str | None = None
    base: str | None = None
    name: str | None = None
    ndim: int = 2
    epochs: int = 50
    steps_per_epoch: int = 100
    batch_size: int = DEFAULT_BATCH_SIZE
    patch: int = 256
    # None: default_lr (3e-4 with a base, 1e-3 for a new model), filled in on creation, as
    # `tessella train`, tessella.train and the Train panel take it
    lr: float | None = None
    weight_decay: float = 1e-4
    accumulate: int = 1
    features: tuple[int, ...] = (16, 32, 64, 128, 256)
    # one decoder for all outputs instead of one per branch (the embedding method's offsets +
    # sigmas and seeds): about 40% less work per pixel; a --base with two branches is merged
    one_decoder: bool = False
    # weight of a term pulling the (activated) outputs towards the --base model's on the same
    # crops, mean squared (knowledge distillation); 0: none
    distil: float = 0.0
    # weight of a soft Dice loss on the predicted foreground, added to the method's loss
    # (patches: P(1+ instances)); sharpens the edges of thin objects; 0: none
    fg_dice: float = 0.0
    window: int = 3  # time-lapse models: frames per window (centred on the target frame)
    patch_size: int = 41  # patches method: the shape patch edge in pixels (odd)
    code: int = 32  # patches method: channels of the shape code the decoder expands
    elastic: bool | None = None  # rotation + elastic deformation + blur; None: method default
    ema: float = 0.0  # decay of an exponential moving average of the weights; 0: none
    border_crops: float = 0.0  # fraction of crops reaching past an edge, padded as inference pads
    colour_weight: float = 1.0  # each colour training image is drawn this many times as often
    # sparse annotations: pixels of this label value mean "not annotated here"; they are left
    # out of the loss and of validation (None: every unlabelled pixel is background)
    ignore_label: int | None = None
    # invert bright-background images (brightfield, H&E) before the network, in training and
    # in the card for inference; None: as the base's card says (off for a new model)
    invert_bright_background: bool | None = None
    device: str = "auto"
    workers: int = 0
    time_budget: float | None = None
    resume: bool = False
    seed: int = 0
    max_val_images: int = 64
    val_orientations: bool = False  # score each hold-out image in all its dihedral orientations
    val_fraction: float = 0.1
    holdout: tuple[str, ...] = ()  # file stems held out for model selection
    # the samples the hold-out drew where ``holdout`` and ``val_data`` name none (set by the
    # run, for the card to say which images or slices the scores are of; not a selector)
    held_out: tuple[str, ...] = ()
    # the folder and weights of the model ``base`` named when the run started (set by the
    # run): a --resume starts from them, not from the name, which the run's own model or one
    # installed since may also have
    base_path: str | None = None
    base_sha256: str | None = None
    exclude: tuple[str, ...] = ()  # file stems never loaded (e.g. the test slices)
    data_citation: str = ""
    data_license: str = ""
    command: str | None = None  # what the card records as the command (default: this CLI call)
    card_extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.lr is None:
            self.lr = default_lr(fine_tune=bool(self.base))


@dataclass(frozen=True)
class TrainProgress:
    epoch: int
    epochs: int
    step: int
    loss: float
    val_score: float | None = None  # the method's validation score (AP(0.5), V_rand...)
    best_score: float | None = None
    message: str = ""


def _one_folder(config: TrainConfig, data) -> str:
    if isinstance(data, str):
        return data
    if len(data) != 1:
        raise ValueError(f"the {config.method} method trains on one data folder")
    return data[0]


def _temporal(config: TrainConfig) -> bool:
    return bool(getattr(get_method(config.method), "TEMPORAL", False))


def _where(data) -> str:
    """The data folder(s) of a config, as errors name them."""
    return data if isinstance(data, str) else ", ".join(map(str, data))


def equivalent_command(config: TrainConfig, data: str | None = None) -> str:
    """The ``tessella train`` command that trains as ``config`` says (the Train panel's run:
    its card records it), with ``data`` (default: ``config.data``) as ``--data``: every
    option the run set is given, defaults included, so that it reads the same whatever the
    defaults become. Options the command has no flag for are not in ``config``'s panel runs.

    >>> config = TrainConfig("embedding", "/d", "/m/x", base="nuclei2d", name="x", epochs=2,
    ...     steps_per_epoch=5, patch=128, val_fraction=0.2, holdout=("a", "b c"), device="cpu")
    >>> print(equivalent_command(config).replace(" --", "\\n  --"))
    tessella train embedding
      --data /d
      --out /m/x
      --base nuclei2d
      --name x
      --epochs 2
      --steps-per-epoch 5
      --batch-size 8
      --patch 128
      --lr 0.0003
      --val-fraction 0.2
      --holdout 'a,b c'
      --device cpu
    """
    import shlex

    words = ["tessella", "train", config.method]
    folders = (
        [data]
        if data is not None
        else ([config.data] if isinstance(config.data, str) else list(config.data))
    )
    for folder in folders:
        words += ["--data", str(folder)]
    words += ["--out", str(config.out)]
    if config.base:
        words += ["--base", str(config.base)]
    if config.name:
        words += ["--name", config.name]
    if config.ndim != 2:
        words += ["--ndim", str(config.ndim)]
    words += ["--epochs", str(config.epochs), "--steps-per-epoch", str(config.steps_per_epoch)]
    words += ["--batch-size", str(config.batch_size), "--patch", str(config.patch)]
    lr = default_lr(bool(config.base)) if config.lr is None else config.lr
    words += ["--lr", repr(float(lr))]
    if config.accumulate != 1:
        words += ["--accumulate", str(config.accumulate)]
    if _temporal(config):
        words += ["--window", str(config.window)]
    if config.ema:
        words += ["--ema", repr(float(config.ema))]
    if config.one_decoder:
        words += ["--one-decoder"]
    if config.distil:
        words += ["--distil", repr(float(config.distil))]
    if config.ignore_label is not None:
        words += ["--ignore-label", str(config.ignore_label)]
    if config.invert_bright_background is not None:
        invert = "" if config.invert_bright_background else "no-"
        words += [f"--{invert}invert-bright-background"]
    words += ["--val-fraction", repr(float(config.val_fraction))]
    if config.holdout:
        words += ["--holdout", ",".join(config.holdout)]
    if config.time_budget is not None:
        words += ["--time-budget", repr(float(config.time_budget))]
    if config.resume:
        words += ["--resume"]
    words += ["--device", config.device]
    return shlex.join(words)
