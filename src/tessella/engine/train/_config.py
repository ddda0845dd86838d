"""What a training run is told (:class:`TrainConfig`) and what it reports
(:class:`TrainProgress`), with the questions :func:`.loop.train_steps` asks of a config."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..methods import get_method

__all__ = ["TrainConfig", "TrainProgress", "TrainingStopped"]


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
    batch_size: int = 8
    patch: int = 256
    lr: float = 5e-4
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
