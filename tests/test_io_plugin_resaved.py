"""Labels that ``tessella segment`` wrote, re-saved by another program (Fiji, a script's
``tifffile.imwrite``) without Tessella's TIFF tag, under a name and in a folder that say
nothing of labels: the recipe beside them still makes the reader open them as labels with
that recipe, which vouches only for the labels its digest names."""

import json
import shutil
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import tifffile

from tessella._io import (
    DIGEST_DAMAGED_NOTE,
    LABELS_CHANGED_NOTE,
    RECIPE_KEY,
    LabelsChangedWarning,
    get_reader,
)
from tessella._io_recipe import EXPORT_ONLY_KEYS
from tessella._widgets._results import recipe_on_screen
from tessella.cli import main
from tessella.engine.io import read_image


def _read(path):
    [(data, kwargs, kind)] = get_reader(str(path))(str(path))
    return data, kwargs["metadata"], kind


def test_segmented_labels_resaved_without_our_tag_reopen_as_labels_with_their_recipe(
    tmp_path, nuclei_sample
):
    """``segment images/ -o out/`` writes ``out/cells.tif`` (the input's name) and its recipe;
    re-saved with plain tifffile into ``analysis/`` (as uint32, and with a cell erased), each
    opened as an Image without the recipe. Now: Labels with the recipe, reproducing the
    unchanged values, not the edited ones (the reader's note). A damaged digest vouches for
    nothing; a float file stays an image; a recipe beside the image it was made from (its
    ``input`` names a file of this name, no digest) leaves that image an image."""
    images, out, analysis = (tmp_path / name for name in ("images", "out", "analysis"))
    for folder in (images, analysis):
        folder.mkdir()
    tifffile.imwrite(images / "cells.tif", nuclei_sample[0][:128, :128])
    segment = ["segment", str(images), "-o", str(out), "--model", "nuclei2d", "--no-tta", "-q"]
    assert main(segment) == 0
    labels = np.asarray(read_image(out / "cells.tif").data)
    recipe = json.loads((out / "cells.recipe.json").read_text())
    assert labels.max() > 1 and recipe["labels_digest"]["sha256"]

    edited = labels.astype(np.uint32)
    edited[edited == edited.max()] = 0  # a cell erased in Fiji
    damaged = {**recipe, "labels_digest": {**recipe["labels_digest"], "sha256": "abc"}}
    for name, values, beside in (
        ("cells", labels.astype(np.uint32), recipe),  # re-saved unchanged, as uint32
        ("edited", edited, recipe),
        ("garbled", labels, damaged),
        ("float", labels.astype(np.float32), recipe),
    ):
        tifffile.imwrite(analysis / f"{name}.tif", values)  # no Tessella tag, no axes
        # (the recipe as tessella segment would have written it beside a file of that name:
        # since 2dfb26c it names the file it is for, and one naming other files is theirs)
        beside = {**beside, "exported": {"tiff": f"{name}.tif"}}
        (analysis / f"{name}.recipe.json").write_text(json.dumps(beside))
    assert not read_image(analysis / "cells.tif").labels  # the tag is gone

    # (what says which file one export wrote, "exported" since 2dfb26c, and the labels'
    # digest are not shown as the recipe: EXPORT_ONLY_KEYS)
    expected = {k: v for k, v in recipe.items() if k not in EXPORT_ONLY_KEYS}
    for name, note, said in (
        ("cells", None, None),
        ("edited", LABELS_CHANGED_NOTE, "the file changed after edited.recipe.json"),
        ("garbled", DIGEST_DAMAGED_NOTE, "labels_digest of garbled.recipe.json is damaged"),
    ):
        if said is None:  # labels their recipe reproduces say nothing on open
            with warnings.catch_warnings():
                warnings.simplefilter("error", LabelsChangedWarning)
                data, metadata, kind = _read(analysis / f"{name}.tif")
        else:
            with pytest.warns(LabelsChangedWarning, match=said):
                data, metadata, kind = _read(analysis / f"{name}.tif")
        assert kind == "labels", name
        made, reproduces = recipe_on_screen(SimpleNamespace(data=data, metadata=metadata))
        assert made == (expected if note is None else {**expected, "note": note}), name
        assert reproduces is (note is None), name

    _data, metadata, kind = _read(analysis / "float.tif")
    assert kind == "image" and RECIPE_KEY not in metadata

    shutil.copy(images / "cells.tif", analysis / "raw.tif")  # an image with its own recipe
    image_recipe = {**expected, "input": str(tmp_path / "elsewhere" / "raw.tif")}
    (analysis / "raw.recipe.json").write_text(json.dumps(image_recipe))
    _data, metadata, kind = _read(analysis / "raw.tif")
    assert kind == "image" and RECIPE_KEY not in metadata
