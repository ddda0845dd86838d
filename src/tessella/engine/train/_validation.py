"""Model selection: the hold-out score of a network, and the refusals of a hold-out (or a
training set) with nothing to score (or to learn)."""

from __future__ import annotations

import numpy as np

from ..evaluation import without_ignored
from ..methods import Prediction

__all__ = ["VALIDATION_TILE", "VALIDATION_TILE_3D"]

#: validation runs the network on a whole image up to this edge (2D), else in tiles
VALIDATION_TILE = 1024
VALIDATION_TILE_3D = 160


def _validate(
    network,
    samples,
    method,
    params,
    training,
    ndim,
    device,
    autocast,
    pad_mode="reflect",
    sparse: bool = False,
) -> float:
    """The hold-out score of ``network``; ``sparse``: the samples' ignore masks mark what
    was not annotated, and predictions there are not scored (``without_ignored``)."""
    import torch

    from ..pipeline import run_steps
    from ..tiling import pad_array, predict_tiled

    network.eval()
    multiple = network.multiple

    def forward(window: np.ndarray) -> dict[str, np.ndarray]:
        x = torch.from_numpy(window)[None].to(device)
        with autocast():
            raw = network(x).float()
        return {k: v[0].cpu().numpy() for k, v in method.activate(raw, ndim).items()}

    pairs = []
    with torch.inference_mode():
        for sample in samples:
            image = sample.image
            if image[0].size <= VALIDATION_TILE**2:
                pad = [(0, 0)] + [(0, (-n) % multiple) for n in image.shape[1:]]
                crop = (slice(None),) + tuple(slice(0, n) for n in image.shape[1:])
                outputs = {k: v[crop] for k, v in forward(pad_array(image, pad, pad_mode)).items()}
            else:  # e.g. a slab of a volume for a 3D model: tiles keep memory bounded
                tile = (VALIDATION_TILE_3D if ndim == 3 else VALIDATION_TILE,) * ndim
                outputs = run_steps(
                    predict_tiled(image, forward, tile, (16,) * ndim, multiple, pad_mode=pad_mode)
                )
            meta = {"grid_spacing": [1 / 1024] * ndim}
            if hasattr(network, "decoder_weights"):  # patches: codes need their decoder
                meta["decoder"] = network.decoder_weights()
            prediction = Prediction(outputs, "ZYX" if ndim == 3 else "YX", meta)
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
    network.train()
    return training.score(pairs)


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
