"""An 8-bit colour image is averaged quietly for a card that does not name ``input.rgb``,
whose default is "mean" (as the averaging itself reads it): the engine's warning about
separate stains read the key without that default and warned on every napari RGB layer
for such a card (review 3)."""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np

import tessella
from tessella.engine.registry import load_model


def test_an_rgb_photo_is_averaged_without_a_word_for_a_card_without_the_key(nuclei_sample):
    model = load_model("nuclei2d")
    card = dataclasses.replace(
        model.card, input={k: v for k, v in model.card.input.items() if k != "rgb"}
    )
    model = dataclasses.replace(model, card=card)
    grey = np.asarray(nuclei_sample[0][:64, :64], np.float32)
    grey = (255 * (grey - grey.min()) / (np.ptp(grey) or 1)).astype(np.uint8)
    photo = np.stack([grey] * 3, axis=-1)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tessella.segment(photo, model, axes="YXC", tta=False)
