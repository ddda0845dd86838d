"""Dotted OME-NGFF labels names keep their own recipe: ``IMG.zarr/labels/cells.v1`` and
``cells.v2`` wrote one ``labels/cells.recipe.json`` (the text after the last dot stripped), so
the second run was refused ("cells.recipe.json exists"), and with --overwrite took the other's
recipe. Now a zarr output strips only ``.zarr`` (``cells.v1.recipe.json``), and a recipe an
older version wrote under the old name is still found where it is those labels' alone: by
--skip-existing (kept, or refused naming it for --recipe) and by the napari reader (review B,
finding 6)."""

from __future__ import annotations

import json

import pytest

from tessella._io import RECIPE_KEY, read_layers
from tessella.cli import main
from tests.conftest import write_ome_zarr

OPTIONS = ["--model", "nuclei2d", "--no-tta", "--device", "cpu", "-q"]


@pytest.fixture
def image(tmp_path, nuclei_sample):
    """A real nuclei image as an OME-Zarr 0.4 image (CZYX, singletons kept, 0.5 µm pixels)."""
    pixels = nuclei_sample[0][:128, :128]
    return write_ome_zarr(
        tmp_path / "img.zarr", pixels[None, None], "czyx", [1, 1, 0.5, 0.5], (1, 1, 64, 64)
    )


def _reopened_recipe(path) -> dict:
    [(_, kwargs, kind)] = read_layers(str(path))
    assert kind == "labels"
    return kwargs["metadata"][RECIPE_KEY]


def test_two_dotted_names_keep_two_recipes(image, capsys):
    labels = image / "labels"
    v1 = ["segment", str(image), "-o", str(labels / "cells.v1"), *OPTIONS]
    v2 = ["segment", str(image), "-o", str(labels / "cells.v2"), *OPTIONS]
    assert main(v1) == 0, capsys.readouterr().err
    assert main([*v2, "--set", "seed_thresh=0.8"]) == 0, capsys.readouterr().err
    v3 = ["--blockwise", "--workers", "0", "--block", "64"]
    assert main([*v1[:3], str(labels / "cells.v3"), *OPTIONS, *v3]) == 0, capsys.readouterr().err
    assert sorted(p.name for p in labels.glob("*.recipe.json")) == [
        "cells.v1.recipe.json",
        "cells.v2.recipe.json",
        "cells.v3.recipe.json",
    ]
    first = json.loads((labels / "cells.v1.recipe.json").read_text())
    second = json.loads((labels / "cells.v2.recipe.json").read_text())
    assert second["params"]["seed_thresh"] == 0.8 != first["params"]["seed_thresh"]
    assert _reopened_recipe(labels / "cells.v1")["params"] == first["params"]
    assert _reopened_recipe(labels / "cells.v2")["params"] == second["params"]
    # each output's --skip-existing compares its own recipe: both kept as they are
    capsys.readouterr()
    assert main([*v1[:-1], "--skip-existing"]) == 0
    assert "skipped img.zarr: its labels and recipe are there" in capsys.readouterr().err
    assert main([*v2[:-1], "--set", "seed_thresh=0.8", "--skip-existing"]) == 0
    assert "skipped img.zarr: its labels and recipe are there" in capsys.readouterr().err


def test_an_older_outputs_recipe_is_still_found(image, capsys):
    labels = image / "labels"
    run = ["segment", str(image), "-o", str(labels / "cells.v1"), *OPTIONS]
    assert main(run) == 0, capsys.readouterr().err
    made = json.loads((labels / "cells.v1.recipe.json").read_text())
    # as an older version named it
    (labels / "cells.v1.recipe.json").rename(labels / "cells.recipe.json")
    older = labels / "cells.recipe.json"

    assert _reopened_recipe(labels / "cells.v1")["params"] == made["params"]
    capsys.readouterr()
    assert main([*run[:-1], "--skip-existing"]) == 0
    assert "skipped img.zarr: its labels and recipe are there" in capsys.readouterr().err
    assert not (labels / "cells.v1.recipe.json").exists()  # kept as it was, not redone
    assert main([*run, "--skip-existing", "--set", "seed_thresh=0.8"]) == 1
    err = capsys.readouterr().err
    assert "other settings" in err and f"--recipe {older}" in err

    # once another output here could have written it (cells.v2 shared that name), it is
    # nobody's: cells.v1 is taken as labels without a recipe and redone
    (labels / "cells.v2").mkdir()
    assert _reopened_recipe_or_none(labels / "cells.v1") is None
    capsys.readouterr()
    assert main([*run[:-1], "--skip-existing"]) == 0
    assert "redoing incomplete cells.v1" in capsys.readouterr().err
    assert json.loads((labels / "cells.v1.recipe.json").read_text())["params"] == made["params"]


def _reopened_recipe_or_none(path):
    [(_, kwargs, _kind)] = read_layers(str(path))
    return kwargs["metadata"].get(RECIPE_KEY)
