"""A replay of a recipe (``tessella segment --recipe``) says whether it reproduced the labels
the recipe records, where the input is the one it records (s35 t18 #4: it printed the same
line whether the labels matched or not, so a facility could not sign a replay off).
:func:`tessella.cli._recipe.say_replay` is what the command says after writing the labels;
its verdict is :func:`tessella.engine.digest.replay_verdict`."""

from __future__ import annotations

import json
import shutil

import pytest
import tifffile

from tessella.cli import main
from tessella.cli._recipe import say_replay
from tests.conftest import DATA

IMAGE = DATA / "fixtures" / "img2d.tif"


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    """nuclei2d on a 256² crop of the nuclei fixture (without TTA), then its recipe replayed on the
    same image: the two recipes the command wrote."""
    if not IMAGE.is_file():
        pytest.skip(f"no {IMAGE}")
    folder = tmp_path_factory.mktemp("replay")
    image = folder / "img.tif"
    tifffile.imwrite(image, tifffile.imread(IMAGE)[:256, :256])
    run = ["segment", str(image), "--model", "nuclei2d", "--no-tta", "--device", "cpu", "-q"]
    assert main([*run, "-o", str(folder / "first.tif")]) == 0
    recipe = folder / "first.recipe.json"
    again = ["segment", str(image), "--recipe", str(recipe), "--device", "cpu", "-q"]
    assert main([*again, "-o", str(folder / "again.tif")]) == 0
    return image, recipe, json.loads((folder / "again.recipe.json").read_text())


def test_a_faithful_replay_says_it_reproduced_the_labels(replayed, capsys):
    image, recipe, recorded = replayed
    capsys.readouterr()
    assert say_replay(json.loads(recipe.read_text()), recipe, recorded, image) is True
    out, err = capsys.readouterr()
    assert out.strip().startswith(f"{recipe}: reproduced the recorded labels"), out
    assert not err
    assert say_replay(json.loads(recipe.read_text()), recipe, recorded, image, quiet=True)
    assert capsys.readouterr() == ("", "")


def test_a_replay_that_differs_says_what_differs(replayed, capsys, tmp_path):
    image, recipe, recorded = replayed
    first = json.loads(recipe.read_text())
    # the recipe of another Tessella, whose labels were others (t18's zeroed digest)
    other = {
        **first,
        "tessella_version": "0.0.1",
        "labels_digest": {**first["labels_digest"], "sha256": "0" * 64},
    }
    capsys.readouterr()
    assert say_replay(other, recipe, recorded, image) is False
    out, err = capsys.readouterr()
    assert not out
    assert err.startswith(f"warning: {recipe}: the replay gave other labels than it records")
    assert "img.tif" in err and "other values (sha256 000000000000…" in err
    assert f"Tessella version 0.0.1, now {recorded['tessella_version']}" in err, err

    # the same versions and parameters: said so; a parameter that differs: named
    assert (
        say_replay(
            {**other, "tessella_version": recorded["tessella_version"]}, recipe, recorded, image
        )
        is False
    )
    # (the revision, the code's commit, is compared too where both record it: from a checkout)
    revision = "Tessella revision, " if recorded.get("tessella_revision") else ""
    same = f"with the same Tessella version, {revision}model weights, device, tta, tile, parameters"
    assert same in capsys.readouterr().err
    params = {**first["params"], "min_size": 999}
    say_replay(
        {**other, **{"tessella_version": recorded["tessella_version"], "params": params}},
        recipe,
        recorded,
        image,
    )
    assert f"min_size 999, now {first['params']['min_size']}" in capsys.readouterr().err

    # another input (its bytes changed): nothing compared, nothing said
    changed = tmp_path / "img.tif"
    shutil.copy2(image, changed)
    with changed.open("r+b") as file:
        file.seek(-2, 2)
        file.write(b"\xff\xff")
    assert say_replay(other, recipe, recorded, changed) is None
    # labels edited after the recorded run: their digest is not the run's
    assert say_replay({**other, "labels_edited": True}, recipe, recorded, image) is None
    assert capsys.readouterr() == ("", "")
