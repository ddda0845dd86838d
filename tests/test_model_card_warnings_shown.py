"""What a model's training warned of its data (``training.warnings`` in its card, which
``tessella train`` records) is shown where a user looks at the model: ``tessella models``,
``tessella.model_info`` and the bioimage.io package's README. It was recorded but shown
nowhere, so a user given a shared model never saw that it was trained on doubtful labels.
No training: the card of a copy of the bundled nuclei2d is given the lines a run says."""

from __future__ import annotations

import json
import shutil

import numpy as np
import pytest

import tessella
from tessella.cli import main
from tessella.engine.registry import bundled_dir


def _said_of(data) -> list[str]:
    """The lines a run on ``data`` says of it: a file left out, and a 0/1 mask of one piece
    per image, said by the very check training runs."""
    from tessella.engine.train._binary_labels import _refuse_binary_masks
    from tessella.engine.train._samples import Sample

    mask = np.zeros((128, 128), np.uint8)
    mask[:100, :100] = 1  # touching objects joined: one piece covering most of the image
    with pytest.warns(UserWarning, match="one piece covering"):
        one_piece = _refuse_binary_masks([Sample(None, mask, "0.tif")], "embedding", str(data))
    return [f"{data}: left out masks/notes.txt (not TIFF)", one_piece]


@pytest.fixture
def warned_model(tmp_path, monkeypatch):
    """A user model ``doubtful`` (nuclei2d's weights) whose card records its run's warnings;
    ``(folder, lines)``."""
    folder = tmp_path / "models" / "doubtful"
    shutil.copytree(bundled_dir() / "nuclei2d", folder)
    card = json.loads((folder / "card.json").read_text())
    lines = _said_of(tmp_path / "my data")
    card["name"] = "doubtful"
    card["training"]["warnings"] = lines
    (folder / "card.json").write_text(json.dumps(card))
    monkeypatch.setenv("TESSELLA_MODELS", str(tmp_path / "models"))
    return folder, lines


def test_models_marks_the_model_and_prints_what_its_training_warned_of(warned_model, capsys):
    _folder, lines = warned_model
    assert main(["models"]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = {line.split()[0]: line for line in out[1:] if line and not line.startswith((" ", "!"))}
    assert rows["doubtful"].startswith("doubtful !")
    bundled = [name for name in rows if (bundled_dir() / name).is_dir()]
    assert len(bundled) >= 5 and not any(" !" in rows[name] for name in bundled)
    notes = out[out.index(next(line for line in out if line.startswith("! "))) :]
    assert "training.warnings" in notes[0]
    assert notes[1:] == [f"  doubtful: {line}" for line in lines]  # each line, whole


def test_model_info_gives_the_warnings_and_bundled_models_have_none(warned_model):
    folder, lines = warned_model
    assert tessella.model_info("doubtful").card.training_warnings == tuple(lines)
    assert tessella.model_info(folder).card.training_warnings == tuple(lines)  # by its path
    listed = {info.name: info.card.training_warnings for info in tessella.models()}
    assert listed.pop("doubtful") == tuple(lines)
    assert listed and set(listed.values()) == {()}  # the bundled models: nothing changes

    # display only: an odd record shows its text, or nothing, and never stops the list
    card = json.loads((folder / "card.json").read_text())
    for odd, shown in (("one line", ("one line",)), ([3, "", "two"], ("two",)), (None, ())):
        card["training"]["warnings"] = odd
        (folder / "card.json").write_text(json.dumps(card))
        assert tessella.model_info("doubtful").card.training_warnings == shown


def test_the_bioimageio_readme_lists_the_warnings(warned_model):
    """The README export_bioimageio writes into the package (exporting takes 14 s: the
    README's text is checked; the package's card.json is the card, warnings and all)."""
    from tessella.engine.bioimageio import _documentation
    from tessella.engine.registry import checked_card

    folder, lines = warned_model
    readme = _documentation(checked_card(folder, verify=False)[0])
    training = readme[readme.index("## Training") :]
    assert "training.warnings" in training
    for line in lines:
        assert f"\n- {line}\n" in training
    bundled = _documentation(checked_card("nuclei2d", verify=False)[0])
    assert "## Training" in bundled and "warned" not in bundled  # nothing changes for them
