"""Model selection: the hold-out score of a network, predicted as Segment predicts with the
model the run will write, and the refusals of a hold-out (or a training set) with nothing to
score (or to learn)."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..evaluation import without_ignored
from ..methods import Prediction, get_method
from ..registry import LoadedModel, ModelCard

__all__: list[str] = []  # (validation tiles an image as Segment does: the card's tile and halo)


def _validation_card(run) -> ModelCard:
    """The card of the model ``run`` writes (a fine-tune's base's, else a new model's), as far
    as prediction reads it: tile, halo, pad mode, TTA, ``method_args``, input layout and
    parameters. Its hold-out images are scored as Segment would predict with that card."""
    from ._model_card import _card

    raw = run.card_base or _card(run.config, run.ndim, 1, [])
    raw = {**raw, "normalization": run.normalization, "sha256": ""}
    return ModelCard.from_dict(raw, f"the card of {run.out}")


def _validate(
    network,
    samples,
    card: ModelCard,
    params,
    training,
    device: str,
    sparse: bool = False,
) -> float:
    """The hold-out score of ``network`` with ``card`` (:func:`_validation_card`): each
    sample's image (normalised as the card says) is predicted through the pipeline's own
    route, :func:`~tessella.engine.pipeline.predict_model_input`, on ``device`` in its
    precision, with the card's tile, halo, pad mode and TTA, and post-processed with
    ``params`` (the card's), so the score is the one Segment and Evaluate give for the
    model written. ``sparse``: the samples' ignore masks mark what was not annotated, and
    predictions there are not scored (``without_ignored``)."""
    from ..pipeline import model_runner, predict_model_input, prediction_meta, run_steps

    method = get_method(card.method)
    model = LoadedModel(card, _as_written(network), Path())  # (a path prediction does not read)
    # a fresh inference copy of this epoch's weights (BatchNorm folded, the device's
    # precision), as Segment prepares a loaded model; nothing is cached between epochs
    runner = model_runner(model, device, keep=False)
    meta = prediction_meta(model)
    pairs = []
    for sample in samples:
        outputs = run_steps(predict_model_input(runner, sample.image, model))
        prediction = Prediction(outputs, card.spatial_axes, dict(meta))
        if training.validation_pair is not None:
            ignore = sample.ignore if sparse else None
            pairs.append(
                training.validation_pair(
                    method, prediction, sample.labels, params, ignore, sample.shared
                )
            )
        else:
            predicted = method.postprocess(prediction, params)
            if sparse:
                predicted = without_ignored(predicted, sample.ignore, sample.labels)
            pairs.append((sample.labels, predicted))
    return training.score(pairs)


def _as_written(network):
    """A copy of ``network`` with its weights as :func:`~tessella.engine.registry.save_model`
    writes them and ``load_model`` reads them back: rounded to half precision (a model near
    a threshold, early in training, segments differently with the unrounded ones)."""
    import copy

    import torch

    written = copy.deepcopy(network)
    with torch.no_grad():
        for value in written.state_dict().values():
            if value.is_floating_point():
                value.copy_(value.half())
    return written


def _refuse_nothing_to_learn_or_score(samples, val_samples, training, data_where, val_where):
    """ValueError when no training image has an object (nothing to learn) or the hold-out
    has nothing to score: no image with an object, or (V_rand, which is undefined for an
    image without cells, so that the mean would be NaN and no epoch ever kept) one such
    image, named."""
    maps = any(s.boundary is not None for s in [*samples, *val_samples])
    if maps:
        nothing = "no cell interior (no 0 in its boundary map: all membrane)"
        something = "a cell interior (a 0 in its boundary map)"
    else:
        nothing, something = "no object", "an object"
    if not any(np.any(s.labels) for s in samples):
        what = (
            "cell interior (0) in any training boundary map"
            if maps
            else "object in any training mask"
        )
        raise ValueError(
            f"no {what} of {data_where}"
            + (" (the hold-out images aside)" if val_where == data_where else "")
            + ": nothing to learn"
        )
    empty = [s.name for s in val_samples if not np.any(s.labels)]
    listed = ", ".join(empty[:4]) + (", ..." if len(empty) > 4 else "")
    if training.scores_each_image and empty:
        which = (
            f"image {empty[0]} of {val_where} has"
            if len(empty) == 1
            else (f"images {listed} of {val_where} have")
        )
        raise ValueError(
            f"hold-out {which} {nothing}: nothing to score ({training.score_name} is undefined "
            "for such an image); choose other hold-out images"
        )
    if len(empty) == len(val_samples):
        raise ValueError(
            f"none of the hold-out images {listed} of {val_where} has {something}: nothing "
            "to score; choose other hold-out images"
        )


def _refuse_undefined(score: float, score_key: str, what: str) -> None:
    """ValueError when the hold-out score of ``what`` is not a number (no epoch could be
    kept; the checks before training should have caught why)."""
    if not np.isfinite(score):
        raise ValueError(
            f"the hold-out score {score_key} of {what} is undefined ({score}): the hold-out "
            "images have nothing to score; choose other hold-out images"
        )
