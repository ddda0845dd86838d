"""Recipes and trained models' cards record which code made them (s35 t18 #3): every recipe
said ``tessella_version`` "0.1.0", unchanged for ~1,500 commits whose results differ
slightly, and no revision. ``tessella_revision`` is ``git describe --always --dirty`` of the
checkout Tessella runs from (nothing where it is installed from a wheel); it is not a
setting: ``--skip-existing`` keeps an output whose recipe another revision wrote, and such
a recipe replays."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine import revision
from tessella.engine.revision import REVISION_KEY, tessella_revision, with_revision
from tests.conftest import DATA

IMAGE = DATA / "fixtures" / "img2d.tif"
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def fresh_revision():
    """:func:`tessella_revision` asked again (it is cached per process), and again after."""
    tessella_revision.cache_clear()
    yield
    tessella_revision.cache_clear()


def test_the_revision_is_the_checkouts_git_describe(fresh_revision):
    env = {k: v for k, v in os.environ.items() if not k.startswith("GIT_")}
    described = subprocess.run(
        ["git", "-C", str(ROOT), "describe", "--always", "--dirty"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.strip()
    assert tessella_revision() == described
    head = subprocess.run(
        ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout.strip()
    assert described.removesuffix("-dirty").endswith(head[:7])


def test_asking_the_revision_writes_nothing_into_the_checkout(fresh_revision):
    """``git describe --dirty`` refreshes the index: it takes .git/index.lock and renames a
    new .git/index into place, so a commit running beside any Tessella process could fail
    on the lock (review r13 #1). The revision is read without writing."""
    index = ROOT / ".git" / "index"
    if not index.is_file():
        pytest.skip("not a git checkout with an index (an installed package)")
    before = index.stat()
    assert tessella_revision()
    after = index.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_no_revision_outside_a_checkout_or_without_git(fresh_revision, monkeypatch, tmp_path):
    # an installed package: no .git beside it
    installed = tmp_path / "site-packages" / "tessella" / "engine" / "revision.py"
    monkeypatch.setattr(revision, "__file__", str(installed))
    assert tessella_revision() is None
    assert with_revision({"tessella_version": "0.1.0"}) == {"tessella_version": "0.1.0"}
    monkeypatch.undo()
    tessella_revision.cache_clear()
    monkeypatch.setenv("PATH", str(tmp_path))  # no git to run: nothing, no error
    assert tessella_revision() is None


def test_a_revision_goes_after_the_version(monkeypatch):
    monkeypatch.setattr(revision, "tessella_revision", lambda: "abc1234-dirty")
    record = with_revision({"tessella_version": "0.1.0", "model": "m", REVISION_KEY: "old"})
    assert list(record.items()) == [
        ("tessella_version", "0.1.0"),
        (REVISION_KEY, "abc1234-dirty"),
        ("model", "m"),
    ]


@pytest.fixture(scope="module")
def segmented(tmp_path_factory):
    """nuclei2d (no TTA) on a 128² crop of the nuclei fixture by ``tessella segment``."""
    if not IMAGE.is_file():
        pytest.skip(f"no {IMAGE}")
    folder = tmp_path_factory.mktemp("revision")
    image = folder / "img.tif"
    tifffile.imwrite(image, tifffile.imread(IMAGE)[:128, :128])
    run = ["segment", str(image), "--model", "nuclei2d", "--no-tta", "--device", "cpu", "-q"]
    assert main([*run, "-o", str(folder / "labels.tif")]) == 0
    return run, image, folder


def test_recipes_record_the_revision_and_another_one_is_no_other_setting(segmented, capsys):
    run, image, folder = segmented
    known = tessella_revision()
    assert known is not None  # (the tests run from the checkout)
    labels, recipe_path = folder / "labels.tif", folder / "labels.recipe.json"
    recipe = json.loads(recipe_path.read_text())
    assert recipe[REVISION_KEY] == known
    assert list(recipe)[:2] == ["tessella_version", REVISION_KEY]

    # an output an older revision made with the same settings is kept by --skip-existing
    recipe_path.write_text(json.dumps({**recipe, REVISION_KEY: "0000000"}))
    written = labels.stat().st_mtime_ns
    capsys.readouterr()
    assert main([*run, "-o", str(labels), "--skip-existing"]) == 0
    assert labels.stat().st_mtime_ns == written
    assert json.loads(recipe_path.read_text())[REVISION_KEY] == "0000000"

    # and its recipe replays (not refused as a recipe with an unknown field), with the same
    # labels, the new recipe recording this revision
    again = folder / "again.tif"
    assert main(["segment", str(image), "--recipe", str(recipe_path), "-q", "-o", str(again)]) == 0
    assert np.array_equal(tifffile.imread(again), tifffile.imread(labels))
    assert json.loads((folder / "again.recipe.json").read_text())[REVISION_KEY] == known


def test_a_trained_models_card_records_the_code_that_trained_it(tmp_path):
    import tessella
    from tessella.engine.train._config import TrainConfig
    from tessella.engine.train._model_card import _card

    config = TrainConfig("embedding", str(tmp_path), str(tmp_path / "model"))
    training = _card(config, 2, 1, [], ["tessella train embedding data out"])["training"]
    assert training["tessella_version"] == tessella.__version__
    assert training[REVISION_KEY] == tessella_revision()
