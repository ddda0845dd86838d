"""``tessella models`` and fine-tunes that kept their base's weights (t3 finding 6): a run
whose epochs never beat its base keeps the base's weights, and was listed as another model
with "hold-out ap50=0.9712" (of a 1-image hold-out) beside nuclei2d's 0.8457 (of its 64
validation images), so it read as much better. Now such a model is marked with the model
whose weights it has, and each score says what it was measured on."""

from __future__ import annotations

import json
import os

from tessella.cli import main
from tessella.engine.registry import bundled_dir


def _fine_tune(folder, name: str, held_out: list[str]) -> None:
    """A fine-tune of nuclei2d that kept its weights, as the Train panel writes its card."""
    base = bundled_dir() / "nuclei2d"
    folder.mkdir(parents=True)
    os.symlink(base / "model.safetensors", folder / "model.safetensors")
    card = json.loads((base / "card.json").read_text())
    del card["validation"]
    card |= {
        "name": name,
        "training": {
            "kept_epoch": 0,
            "best_val_ap50": 0.9712,
            "config": {"holdout": held_out, "held_out": held_out, "val_data": None},
        },
    }
    (folder / "card.json").write_text(json.dumps(card))


def _rows(capsys) -> dict[str, str]:
    lines = capsys.readouterr().out.splitlines()
    return {line.split()[0]: line for line in lines[1:]}


def test_a_fine_tune_that_kept_its_base_is_marked_and_scores_say_on_what(
    tmp_path, monkeypatch, capsys
):
    monkeypatch.setenv("TESSELLA_MODELS", str(tmp_path))
    _fine_tune(tmp_path / "lab-nuclei-b", "lab-nuclei-b", ["img13 corrected"])
    _fine_tune(tmp_path / "lab-nuclei", "lab-nuclei", [f"img{i:02d}.tif" for i in range(7)])
    assert main(["models"]) == 0
    rows = _rows(capsys)
    assert (
        "= nuclei2d's weights (kept: no epoch beat them); hold-out (1 image): ap50=0.9712"
        in (rows["lab-nuclei-b"])
    )
    assert (
        "= nuclei2d's weights (kept: no epoch beat them); hold-out (7 images): ap50="
        in (rows["lab-nuclei"])
    )
    assert "validation (64 images): ap50=0.8457" in rows["nuclei2d"]
    assert "weights" not in rows["nuclei2d"] and "weights" not in rows["worms2d"]

    assert main(["models", "--json"]) == 0
    listed = {card["name"]: card for card in json.loads(capsys.readouterr().out)}
    assert listed["lab-nuclei-b"]["same_weights_as"] == "nuclei2d"
    assert "same_weights_as" not in listed["nuclei2d"]
