"""``tessella segment``: a ``--stack`` run assembles the objects once and records the stack's
``labels_digest``; a folder's image that fails is said alike when ``--skip-existing`` leaves
it the only one."""

from __future__ import annotations

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


def test_a_blank_image_of_a_folder_is_said_alike_when_skip_existing_leaves_it_alone(
    tmp_path, nuclei_sample, tiny_model_dir, capsys
):
    """A blank image failed in a folder run with "... (skipped)" and "1 of 2 images failed";
    the --skip-existing rerun, where it is the one image left, said only the first without
    "(skipped)", as a one-image run does. Both now say what the folder run says."""
    src, out = tmp_path / "in", tmp_path / "out"
    src.mkdir()
    tifffile.imwrite(src / "a.tif", nuclei_sample[0][:96, :96])
    tifffile.imwrite(src / "blank.tif", np.zeros((96, 96), np.uint8))
    args = ["segment", str(src), "-o", str(out), "--model", str(tiny_model_dir), "-q"]
    assert main(args) == 1
    first = capsys.readouterr().err
    said = (
        f"tessella segment: error: {src / 'blank.tif'} is constant (every pixel is 0): "
        "nothing to segment (skipped)\n"
        "tessella segment: error: 1 of 2 images failed: blank.tif\n"
    )
    assert first == said
    assert sorted(p.name for p in out.iterdir()) == ["a.recipe.json", "a.tif"]
    assert main([*args, "--skip-existing"]) == 1
    assert capsys.readouterr().err == said
    # one image given on its own is no folder: its error alone, as before
    one = ["segment", str(src / "blank.tif"), "-o", str(tmp_path / "blank.tif"), *args[4:]]
    assert main(one) == 1
    assert capsys.readouterr().err == (
        f"tessella segment: error: {src / 'blank.tif'} is constant (every pixel is 0): "
        "nothing to segment\n"
    )
