"""``tessella segment``: a ``--stack`` run assembles the objects once and records the stack's
``labels_digest``; a folder's image that fails is said alike when ``--skip-existing`` leaves
it the only one."""

from __future__ import annotations

import csv
import json
from types import SimpleNamespace

import numpy as np
import pytest
import tifffile

from tessella._io import LABELS_CHANGED_NOTE, LabelsChangedWarning, get_reader
from tessella._widgets._results import recipe_on_screen
from tessella.cli import main
from tessella.engine.digest import labels_digest
from tessella.engine.io import read_mask_stack, write_mask_stack


def _count_assemblies(monkeypatch) -> list:
    from tessella.engine.methods import patches

    calls: list = []
    original = patches._assemble_sparse
    monkeypatch.setattr(patches, "_assemble_sparse", lambda *a: calls.append(1) or original(*a))
    return calls


def _stack_run(tmp_path, image, model_dir, *extra) -> list[str]:
    source = tmp_path / "nuclei.tif"
    tifffile.imwrite(source, image)
    out = tmp_path / "objects.tif"
    args = ["segment", str(source), "-o", str(out), "--model", str(model_dir), "--stack"]
    return [*args, "--set", "fg_threshold=0", "-q", *extra]


def test_a_stack_run_assembles_the_objects_once(
    tmp_path, tiny_patches_dir, nuclei_sample, monkeypatch
):
    """The pipeline's labels and the written stack come from one assembly (they were two:
    postprocess for the labels, instances again for the stack)."""
    assembled = _count_assemblies(monkeypatch)
    assert main(_stack_run(tmp_path, nuclei_sample[0][:128, :128], tiny_patches_dir)) == 0
    assert len(assembled) == 1
    assert len(read_mask_stack(tmp_path / "objects.tif")) > 0


def test_a_stack_s_recipe_records_its_digest_which_the_reader_and_skip_existing_check(
    tmp_path, tiny_patches_dir, nuclei_sample, capsys
):
    args = _stack_run(tmp_path, nuclei_sample[0][:128, :128], tiny_patches_dir)
    assert main(args) == 0
    out = tmp_path / "objects.tif"
    written = tifffile.imread(out)
    recipe = json.loads((tmp_path / "objects.recipe.json").read_text())
    assert recipe["stack"] is True and recipe["labels_digest"] == labels_digest(written)
    assert written.ndim == 3 and len(written) > 1

    def reopened():  # as the objects' labels (and their overlaps, where some overlap)
        (data, kwargs, kind), *_overlaps = get_reader(str(out))(str(out))
        assert kind == "labels" and data.shape == written.shape[1:]
        return recipe_on_screen(SimpleNamespace(data=data, metadata=kwargs["metadata"]))

    made, reproduces = reopened()
    assert reproduces and made["params"] == recipe["params"] and "stack" not in made
    edited = written.astype(bool)
    edited[0] = False  # an object erased in Fiji, saved over the stack
    write_mask_stack(out, edited)
    with pytest.warns(LabelsChangedWarning, match="the file changed after objects.recipe.json"):
        made, reproduces = reopened()
    assert not reproduces and made["note"] == LABELS_CHANGED_NOTE
    # a stack of another number of objects is no output of its recipe: redone
    write_mask_stack(out, edited[1:])
    assert main([*args[:-1], "--skip-existing"]) == 0
    assert "redoing objects.tif: labels file not of its recipe's shape" in capsys.readouterr().err
    np.testing.assert_array_equal(tifffile.imread(out), written)


def test_a_blank_image_of_a_folder_is_0_objects_not_a_failure(
    tmp_path, nuclei_sample, tiny_model_dir, capsys
):
    """A blank (constant) image of a screen, an empty well, is a result: it failed the folder
    run ("... (skipped)", "1 of 2 images failed", exit 1) with no labels, so a plate with an
    empty well looked broken (user test t16). It is now written as labels of 0 objects (the
    shape, pixel size and recipe of any output) and a header-only CSV, with one warning line,
    and the run succeeds; the --skip-existing rerun leaves it alone as any image done; a blank
    image given alone is the same."""
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    well = {"imagej": True, "resolution": (2.0, 2.0), "metadata": {"unit": "micron", "axes": "YX"}}
    tifffile.imwrite(src / "a.tif", nuclei_sample[0][:96, :96], **well)
    tifffile.imwrite(src / "blank.tif", np.zeros((96, 80), np.uint16), **well)
    args = ["segment", str(src), "-o", str(out), "--model", str(tiny_model_dir), "-q", "--csv"]
    assert main(args) == 0
    err = capsys.readouterr().err
    warned = f"{src / 'blank.tif'} is constant (every pixel is 0): nothing to segment, 0 objects"
    assert err.count(warned) == 1, err
    assert "failed" not in err and "error" not in err, err
    names = ["a.csv", "a.recipe.json", "a.tif", "blank.csv", "blank.recipe.json", "blank.tif"]
    assert sorted(p.name for p in out.iterdir()) == [*names, "images.csv", "measurements.csv"]
    with tifffile.TiffFile(out / "blank.tif") as tif:
        labels = tif.asarray()
        assert tif.series[0].axes == "YX"
        assert tif.pages[0].tags["XResolution"].value == (2, 1)  # 0.5 micron, as the input's
    assert labels.shape == (96, 80) and labels.dtype == tifffile.imread(out / "a.tif").dtype
    assert not labels.any()
    header = (out / "a.csv").read_text().splitlines()[0]
    assert "area_um2" in header and (out / "blank.csv").read_text().splitlines() == [header]
    assert (out / "measurements.csv").read_text().count("blank.tif") == 0  # no rows of it
    # but a row in the table of images (images.csv: 0 objects, the warning)
    with open(out / "images.csv", newline="") as handle:
        blank = {r["image"]: r for r in csv.DictReader(handle)}["blank.tif"]
    assert (blank["status"], blank["n_objects"], blank["warning"]) == ("empty", "0", warned)
    recipes = [json.loads((out / f"{n}.recipe.json").read_text()) for n in ("a", "blank")]
    assert (
        recipes[1]["model"] == recipes[0]["model"] and recipes[1]["params"] == recipes[0]["params"]
    )
    assert main([*args, "--skip-existing"]) == 0  # both done: nothing redone, nothing said
    assert "constant" not in capsys.readouterr().err
    # one image given on its own: the same warning and empty labels, exit 0
    one = ["segment", str(src / "blank.tif"), "-o", str(tmp_path / "blank.tif"), *args[4:-1]]
    assert main(one) == 0
    assert capsys.readouterr().err.count(warned) == 1
    assert not tifffile.imread(tmp_path / "blank.tif").any()
