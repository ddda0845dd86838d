"""``tessella segment --blockwise`` writes what an in-memory run writes (s35 f14, #3):
``--ctc``'s masks carry the labels' pixel size (the CTC's own resolution tags, as
``segment --ctc`` in memory since t19 #10: they were written without one), and the recipe
names the labels file it is for (``exported``, in the JSON and the zarr's ``tessella``
attribute), so that ``NAME.zarr`` made blockwise and ``NAME.tif`` beside it each keep their
own recipe, as in memory (2dfb26c)."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import tifffile
import zarr

from tessella._io import RECIPE_KEY, LabelsChangedWarning, UnclearRecipeWarning, read_layers
from tessella.cli import main
from tessella.engine.io import read_image
from tests.conftest import DATA

SIM = DATA / "ctc_Fluo-N2DH-SIM+"
RUN = ["--device", "cpu", "-q", "--blockwise", "--workers", "0"]


def test_blockwise_ctc_masks_carry_the_pixel_size(tmp_path):
    """SIM+ 01's frames 52-54 (a 64x64 crop) as a TYX zarr of 0.125 µm pixels."""
    if not (SIM / "01" / "t052.tif").is_file():
        pytest.fail(f"the SIM+ sequence is not at {SIM} (set TESSELLA_DATA)")
    frames = np.stack(
        [
            np.asarray(read_image(SIM / "01" / f"t{t:03d}.tif").data[166:230, 166:230])
            for t in (52, 53, 54)
        ]
    )
    movie = tmp_path / "movie.zarr"
    array = zarr.open(str(movie), mode="w", shape=frames.shape, chunks=(1, 64, 64), dtype="u2")
    array[...] = frames
    array.attrs.update(tessella_axes="TYX", pixel_size={"Y": 0.125, "X": 0.125}, unit="µm")
    res, out = tmp_path / "movie_RES", tmp_path / "labels.zarr"
    args = ["segment", str(movie), "-o", str(out), "--model", "cells2dt", *RUN]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # (the crop looks unlike the training images)
        assert main([*args, "--ctc", str(res), "--first-frame", "52"]) == 0
    masks = sorted(res.glob("mask*.tif"))
    assert [p.name for p in masks] == ["mask052.tif", "mask053.tif", "mask054.tif"]
    for mask in masks:
        back = read_image(mask)
        assert back.pixel_size == pytest.approx({"Y": 0.125, "X": 0.125}), mask.name
        assert back.unit == "µm"
    # the masks' pixels are the labels', frame by frame
    labels = np.asarray(zarr.open(str(out), mode="r"))
    assert all((tifffile.imread(m) > 0).sum() == (f > 0).sum() for m, f in zip(masks, labels))
    recipe = json.loads((tmp_path / "labels.recipe.json").read_text())
    assert recipe["exported"] == {"zarr": "labels.zarr"}
    assert zarr.open(str(out), mode="r").attrs["tessella"]["exported"] == {"zarr": "labels.zarr"}


def _reopened(path):
    """The recipe the napari reader attaches to ``path``: neither warning raised."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", LabelsChangedWarning)
        warnings.simplefilter("error", UnclearRecipeWarning)
        [(_data, meta, kind)] = read_layers(str(path))
    assert kind == "labels"
    return meta["metadata"].get(RECIPE_KEY)


def test_a_blockwise_zarr_and_a_tif_of_one_name_keep_each_its_own_recipe(tmp_path):
    source = DATA / "fixtures" / "img2d.tif"
    if not source.is_file():
        pytest.fail(f"the fixture image is not at {source} (set TESSELLA_DATA)")
    crop = tifffile.imread(source)[:96, :96]
    tifffile.imwrite(tmp_path / "nuclei.tif", crop)
    zarr.save_array(str(tmp_path / "nuclei.zarr"), crop)
    out = tmp_path / "out"
    run = ["--model", "nuclei2d", "--no-tta", "--device", "cpu", "-q"]
    zarr_run = [str(tmp_path / "nuclei.zarr"), "-o", str(out / "cells.zarr"), *run]
    assert main(["segment", *zarr_run, *RUN[3:], "--set", "seed_thresh=0.5"]) == 0
    tif_run = [str(tmp_path / "nuclei.tif"), "-o", str(out / "cells.tif"), *run]
    assert main(["segment", *tif_run, "--set", "seed_thresh=0.7"]) == 0
    assert _reopened(out / "cells.zarr")["params"]["seed_thresh"] == 0.5
    assert _reopened(out / "cells.tif")["params"]["seed_thresh"] == 0.7
    # the blockwise run's recipe kept its name, the second file's took its whole name
    first = json.loads((out / "cells.recipe.json").read_text())
    assert first["exported"] == {"zarr": "cells.zarr"} and "blockwise" in first
    assert json.loads((out / "cells.tif.recipe.json").read_text())["exported"] == {
        "tiff": "cells.tif"
    }
