"""A recipe replayed where its model's folder is gone: the model of its name with its weights,
found in another folder (lab-nuclei copied to lab-nuclei-v1, t3 finding 7), was taken without
a word; it is now said in one line naming both folders. A model of another name with its
weights (the name in its card.json changed too) is named in the refusal, with the --model
that replays it."""

from __future__ import annotations

import json

import pytest

from tessella.engine.registry import ModelError, recipe_model

from .test_registry_names import two_roots, user_model  # noqa: F401 (a fixture)


def test_a_model_found_in_another_folder_is_said(two_roots):  # noqa: F811
    moved = user_model(two_roots[0] / "lab-nuclei-v1", "lab-nuclei", scale=0.5)
    sha = json.loads((moved / "card.json").read_text())["sha256"]
    gone = two_roots[0] / "lab-nuclei"
    recipe = {"model": "lab-nuclei", "model_sha256": sha, "model_path": str(gone)}
    with pytest.warns(UserWarning) as said:
        assert recipe_model(recipe) == str(moved)
    assert [str(w.message) for w in said] == [
        f"the recipe's model 'lab-nuclei' is installed as {moved} (the same weights, sha256 "
        f"{sha[:12]}…), not in the folder it records, {gone}, which is gone: replayed with it"
    ]


def test_a_model_renamed_with_its_weights_is_named_in_the_refusal(two_roots):  # noqa: F811
    renamed = user_model(two_roots[0] / "lab-nuclei-v1", "lab-nuclei-v1", scale=0.5)
    sha = json.loads((renamed / "card.json").read_text())["sha256"]
    gone = two_roots[0] / "lab-nuclei"
    recipe = {"model": "lab-nuclei", "model_sha256": sha, "model_path": str(gone)}
    with pytest.raises(ModelError) as info:
        recipe_model(recipe)
    assert str(info.value) == (
        f"the recipe's model 'lab-nuclei' (sha256 {sha[:12]}…) is not installed under its name "
        f"(its folder {gone} is gone); model 'lab-nuclei-v1' ({renamed}) has the same weights: "
        "--model lab-nuclei-v1 replays it with that one"
    )
