"""Every bundled model's card describes that model (what it segments, on which data, its
network and post-processing), not the generic line ``tessella train`` writes ("boundary model
trained with tessella"), which em-membranes2d's card carried: ``tessella models``, the Segment
panel's model details and the bioimage.io package show it."""

from __future__ import annotations

import pytest

from tessella.engine.bioimageio import _description, _is_generic
from tessella.engine.registry import find_model, read_card

BUNDLED = ("nuclei2d", "worms2d", "em-mito2d", "em-mito3d", "em-membranes2d", "cells2dt")


@pytest.mark.parametrize("name", BUNDLED)
def test_the_description_is_the_models_own(name):
    card = read_card(find_model(name))
    description = str(card.raw.get("description") or "")
    assert not _is_generic(description), description
    assert len(description) >= 80, description  # data, network and output, in words
    assert not description.lower().startswith(f"{card.method} model")
    # the bioimage.io package says it before its own summary, cut at 512 characters at most
    package = _description(card)
    assert package.startswith(description[:40]) and len(package) <= 512


def test_em_membranes2d_says_its_data_output_post_processing_and_score():
    description = read_card(find_model("em-membranes2d")).raw["description"]
    for fact in ("ISBI 2012", "4x4x50 nm", "boundary and foreground", "multicut", "0.969"):
        assert fact in description, fact
