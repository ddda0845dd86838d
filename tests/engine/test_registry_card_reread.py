"""A model's card rewritten while the process runs (napari) is read again by load_model:
its new defaults are the ones used, and the weights, the same, are not loaded again."""

from __future__ import annotations

import json
import shutil

from tessella.engine.registry import bundled_dir, load_model


def test_a_rewritten_card_is_read_again_and_the_same_weights_kept(tmp_path, monkeypatch):
    root = tmp_path / "models"
    mine = root / "mine"
    shutil.copytree(bundled_dir() / "nuclei2d", mine)
    monkeypatch.setenv("TESSELLA_MODELS", str(root))
    first = load_model(mine)
    assert first.card.defaults["params"]["seed_thresh"] == 0.9
    card = json.loads((mine / "card.json").read_text())
    card["defaults"]["params"]["seed_thresh"] = 0.6  # re-tuned, as tools/tune_defaults.py does
    card["defaults"]["tta"] = True
    (mine / "card.json").write_text(json.dumps(card, indent=2) + "\n")

    again = load_model(mine)
    assert again.card.defaults["params"]["seed_thresh"] == 0.6
    assert again.card.defaults["tta"] is True
    assert again.network is first.network  # same weights: not built again
    assert load_model(mine) is again  # unchanged since: the cached model itself
