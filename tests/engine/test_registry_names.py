"""Model names: a name several installed models have is never resolved silently (the first
found hid the others, a bundled model any user model of its name), a recipe whose model is
gone says which, and a folder asked for by its name says which model it holds."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from tessella.engine.registry import (
    ModelError,
    bundled_dir,
    find_model,
    list_models,
    load_model,
    recipe_model,
    sha256_file,
)


def user_model(folder: Path, name: str, scale: float | None = None) -> Path:
    """A user model in ``folder``: the bundled em-membranes2d's files with ``name`` in its
    card; ``scale`` multiplies its weights (other weights, another sha256)."""
    source = bundled_dir() / "em-membranes2d"
    folder.mkdir(parents=True)
    if scale is None:
        os.symlink(source / "model.safetensors", folder / "model.safetensors")
    else:
        from safetensors.torch import load_file, save_file

        state = load_file(str(source / "model.safetensors"))
        save_file({k: v * scale for k, v in state.items()}, str(folder / "model.safetensors"))
    card = json.loads((source / "card.json").read_text())
    card |= {"name": name, "sha256": sha256_file(folder / "model.safetensors")}
    (folder / "card.json").write_text(json.dumps(card))
    return folder


@pytest.fixture
def two_roots(tmp_path, monkeypatch):
    roots = [tmp_path / "models", tmp_path / "share"]
    monkeypatch.setenv("TESSELLA_MODELS", os.pathsep.join(map(str, roots)))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    return roots


def test_a_name_two_user_models_have_is_refused_naming_each(two_roots):
    mine = user_model(two_roots[0] / "bnd1", "bnd1")
    theirs = user_model(two_roots[1] / "bnd1", "bnd1", scale=0.5)
    user_model(two_roots[0] / "solo", "solo")

    with pytest.raises(ModelError, match="model name 'bnd1' is ambiguous: 2 models") as info:
        find_model("bnd1")
    message = str(info.value)
    assert "\n" not in message
    for folder in (mine, theirs):  # each named, with its weights' sha256 prefix and date
        sha = json.loads((folder / "card.json").read_text())["sha256"]
        assert f"user {folder} (sha256 {sha[:12]}, 20" in message
    assert "give the folder" in message
    assert find_model(theirs) == theirs  # by folder, each is there
    assert load_model(mine).path == mine
    assert find_model("solo") == two_roots[0] / "solo"  # a unique name still works


def test_a_user_model_named_like_a_bundled_one_is_not_hidden_by_it(two_roots):
    fake = user_model(two_roots[1] / "fake", "em-membranes2d", scale=0.0)
    with pytest.raises(ModelError, match="'em-membranes2d' is ambiguous") as info:
        load_model("em-membranes2d")
    assert f"bundled {bundled_dir() / 'em-membranes2d'} (sha256 " in str(info.value)
    assert f"user {fake} (sha256 " in str(info.value)
    assert load_model(fake).card.sha256 != load_model(bundled_dir() / "em-membranes2d").card.sha256


def test_a_folder_in_the_list_twice_is_one_model(tmp_path, monkeypatch):
    root = tmp_path / "models"
    user_model(root / "bnd1", "bnd1")
    (tmp_path / "link").symlink_to(root)
    monkeypatch.setenv("TESSELLA_MODELS", os.pathsep.join([str(root), str(tmp_path / "link")]))
    assert [path for card, path, _ in list_models() if card.name == "bnd1"] == [root / "bnd1"]
    assert find_model("bnd1") == root / "bnd1"


def test_a_name_taken_already_is_noted_before_training(two_roots):
    from tessella.engine.registry import name_taken_note

    other = user_model(two_roots[0] / "bnd1", "bnd1")
    note = name_taken_note("bnd1", two_roots[1] / "bnd1-again")
    assert note is not None and f"user {other} (sha256 " in note
    assert "'bnd1' is taken already" in note and "choose another name" in note
    bundled = name_taken_note("em-membranes2d", two_roots[0] / "mine")
    assert bundled is not None and "bundled" in bundled
    assert name_taken_note("bnd1", other) is None  # its own folder: a resumed run
    assert name_taken_note("brand-new", two_roots[0] / "brand-new") is None


def test_a_folder_asked_for_by_its_name_says_which_model_it_holds(two_roots, tmp_path, monkeypatch):
    shared = user_model(two_roots[1] / "colleague_bnd", "bnd3")
    monkeypatch.chdir(tmp_path)  # no folder colleague_bnd here
    with pytest.raises(ModelError) as info:
        find_model("colleague_bnd")
    message = str(info.value)
    assert message.startswith("unknown model 'colleague_bnd': ")
    assert f"the folder {shared} holds model 'bnd3'" in message
    assert find_model("bnd3") == shared


def test_a_recipe_picks_the_model_of_its_weights_and_names_one_that_is_gone(two_roots):
    first = user_model(two_roots[0] / "bnd1", "bnd1")
    second = user_model(two_roots[1] / "bnd1", "bnd1", scale=0.5)
    sha = json.loads((second / "card.json").read_text())["sha256"]
    recipe = {"model": "bnd1", "model_sha256": sha, "model_path": str(two_roots[1] / "gone")}
    with pytest.warns(UserWarning, match="not in the folder it records"):  # (said: moved)
        assert Path(recipe_model(recipe)) == second  # its folder gone: the weights decide
        assert load_model(recipe_model(recipe)).card.sha256 == sha

    # neither has the recipe's weights: refused naming the recipe's model and both there
    other = {"model": "bnd1", "model_sha256": "ab" * 32}
    with pytest.raises(ModelError, match=r"the recipe's model 'bnd1' \(sha256 abababababab…\)"):
        recipe_model(other)

    # every model of its name deleted
    for folder in (first, second):
        for path in folder.iterdir():
            path.unlink()
        folder.rmdir()
    with pytest.raises(ModelError) as info:
        recipe_model(recipe)
    assert str(info.value) == (
        f"the recipe's model 'bnd1' (sha256 {sha[:12]}…) is not installed (its folder "
        f"{two_roots[1] / 'gone'} is gone): deleted, or not copied here; --model replays it "
        "with another model"
    )


def test_models_command_marks_names_several_models_have(two_roots, capsys):
    from tessella.cli import main
    from tessella.engine.model_info import model_info, models

    user_model(two_roots[0] / "bnd1", "bnd1")
    user_model(two_roots[1] / "bnd1", "bnd1", scale=0.5)
    user_model(two_roots[1] / "fake", "em-membranes2d", scale=0.0)
    user_model(two_roots[0] / "solo", "solo")
    assert main(["models"]) == 0
    lines = capsys.readouterr().out.splitlines()
    names = [line.split("  ")[0] for line in lines[1:-1]]
    assert names.count("bnd1 *") == 2 and names.count("em-membranes2d *") == 2
    assert "solo" in names and "nuclei2d" in names
    assert lines[-1].startswith("* a name more than one model has (bnd1, em-membranes2d)")

    assert main(["models", "--json"]) == 0
    cards = json.loads(capsys.readouterr().out)
    shared = {(c["name"], c["path"]) for c in cards if c.get("name_shared")}
    assert {name for name, _ in shared} == {"bnd1", "em-membranes2d"} and len(shared) == 4
    # the Python listing marks the same models
    assert {(info.name, str(info.path)) for info in models() if info.name_shared} == shared
    assert model_info(two_roots[1] / "bnd1").name_shared
    assert not model_info("solo").name_shared


def test_copies_of_one_model_are_that_model_and_other_weights_are_refused(two_roots, capsys):
    """To share a model, copy its folder: the copy (the same weights and card, apart from
    paths) and the original are one model, whose name picks the first found; a copy whose
    weights or post-processing defaults were changed is another model."""
    from tessella.cli import main
    from tessella.engine.model_info import models

    first = user_model(two_roots[0] / "mito", "mito-lab")
    copy = Path(shutil.copytree(first, two_roots[1] / "mito"))
    card = json.loads((copy / "card.json").read_text())  # a card whose paths say elsewhere
    card["training"] = {**card.get("training", {}), "data": "/elsewhere/data"}
    (copy / "card.json").write_text(json.dumps(card))
    assert find_model("mito-lab") == first  # the first found, not refused as ambiguous
    assert load_model("mito-lab").path == first
    assert main(["models"]) == 0
    said = capsys.readouterr().out
    assert "mito-lab *" not in said and said.count("mito-lab ") == 2
    assert not any(info.name_shared for info in models())

    edited = dict(card, defaults={**card.get("defaults", {}), "tile": 128})
    (copy / "card.json").write_text(json.dumps(edited))  # other defaults: segments otherwise
    with pytest.raises(ModelError, match="'mito-lab' is ambiguous: 2 models"):
        find_model("mito-lab")
    shutil.rmtree(copy)
    user_model(copy, "mito-lab", scale=0.5)  # other weights
    with pytest.raises(ModelError, match="'mito-lab' is ambiguous: 2 models"):
        find_model("mito-lab")
    assert main(["models"]) == 0
    assert capsys.readouterr().out.count("mito-lab *") == 2


def test_a_run_that_names_no_model_takes_the_bundled_default_by_its_folder(two_roots):
    """A user model also called ``nuclei2d`` makes the name ambiguous, but not a run that
    named no model: that one is the bundled default (it was refused as ambiguous)."""
    import numpy as np

    from tessella.engine.pipeline import default_model, segment_steps
    from tessella.engine.progress import run_steps

    user_model(two_roots[0] / "mine", "nuclei2d")
    with pytest.raises(ModelError, match="'nuclei2d' is ambiguous"):
        find_model("nuclei2d")
    assert Path(default_model()) == bundled_dir() / "nuclei2d"
    image = np.zeros((64, 64), np.float32)
    image[20:30, 20:30] = 1.0
    result = run_steps(segment_steps(image, axes="YX", tta=False))
    bundled = json.loads((bundled_dir() / "nuclei2d" / "card.json").read_text())
    assert result.recipe()["model_sha256"] == bundled["sha256"]


def test_training_under_a_name_another_model_has_warns_at_the_start(two_roots, monkeypatch, capsys):
    """``tessella train --name NAME`` where another model is called NAME says so (the name
    alone will pick neither); a free name, or the run's own folder (a resume), says nothing."""
    from tessella.cli import main
    from tessella.engine import train as train_package

    user_model(two_roots[1] / "theirs", "bnd1")

    def nothing(config):  # the run itself is not what is tested
        yield from ()

    monkeypatch.setattr(train_package, "train_steps", nothing)
    data = two_roots[0].parent / "data"
    data.mkdir()

    def train(name: str, out: Path) -> str:
        main(["train", "boundary", "--data", str(data), "--out", str(out), "--name", name])
        return capsys.readouterr().err

    said = train("bnd1", two_roots[0] / "mine")
    assert "warning: the name 'bnd1' is taken already by user " in said
    assert str(two_roots[1] / "theirs") in said
    assert "is taken already" not in train("bnd2", two_roots[0] / "other")
    assert "is taken already" not in train("bnd1", two_roots[1] / "theirs")  # its own folder


def test_the_command_without_model_takes_the_bundled_default_by_its_folder(
    two_roots, tmp_path, capsys
):
    """``tessella segment img.tif -o out.tif`` names no model: a user model also called
    nuclei2d does not make it ambiguous (it was refused: "model name 'nuclei2d' is
    ambiguous")."""
    import numpy as np
    import tifffile

    from tessella.cli import main

    user_model(two_roots[0] / "mine", "nuclei2d")
    image = np.zeros((64, 64), np.uint8)
    image[20:30, 20:30] = 200
    tifffile.imwrite(tmp_path / "img.tif", image)
    out = tmp_path / "out.tif"
    assert main(["segment", str(tmp_path / "img.tif"), "-o", str(out), "--no-tta", "-q"]) == 0
    recipe = json.loads((tmp_path / "out.recipe.json").read_text())
    bundled = json.loads((bundled_dir() / "nuclei2d" / "card.json").read_text())
    assert recipe["model_sha256"] == bundled["sha256"]
