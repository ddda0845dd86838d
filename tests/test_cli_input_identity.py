"""`tessella segment --skip-existing` knows an input by what its recipe records of its content
(`input_identity`: a file's size, time and sha256; a zarr's metadata and chunk files), not by
its modification time alone: an input replaced with its old time kept (`cp -p`, a restore)
and a zarr rewritten in place were skipped with stale labels. Recipes written before the
record still fall back to modification times."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
import tifffile
import zarr

from tessella.cli import main
from tessella.cli._recipe import read_recipe


def _segment(inputs, out, model_dir, *extra):
    args = ["segment", *map(str, inputs), "-o", str(out), "--model", str(model_dir)]
    return main([*args, "--no-tta", "--device", "cpu", *extra])


def _recipe(output):
    return json.loads(output.with_name(output.name.split(".")[0] + ".recipe.json").read_text())


@pytest.fixture
def folder(tmp_path, nuclei_sample):
    """Two 64x64 crops of the DSB2018 nuclei sample."""
    src = tmp_path / "in"
    src.mkdir()
    tifffile.imwrite(src / "a.tif", nuclei_sample[0][:64, :64])
    tifffile.imwrite(src / "b.tif", nuclei_sample[0][128:192, 256:320])
    return src


def test_an_input_replaced_with_its_old_time_is_redone_and_one_touched_is_not(
    tmp_path, folder, nuclei_sample, tiny_model_dir, capsys
):
    out = tmp_path / "out"
    assert _segment([folder], out, tiny_model_dir, "-q") == 0
    recorded = _recipe(out / "a.tif")["input_identity"]
    assert recorded["kind"] == "file"
    assert recorded["size"] == (folder / "a.tif").stat().st_size
    # a.tif restored from elsewhere with an old time (cp -p): other pixels, the same size
    old = (folder / "a.tif").stat().st_mtime_ns - 10**10
    tifffile.imwrite(folder / "a.tif", nuclei_sample[0][256:320, 128:192])
    os.utime(folder / "a.tif", ns=(old, old))
    # b.tif touched (copied without -p): the same bytes, a new time
    later = (out / "b.tif").stat().st_mtime_ns + 10**10
    os.utime(folder / "b.tif", ns=(later, later))
    labels_b = (out / "b.tif").read_bytes()
    capsys.readouterr()
    assert _segment([folder], out, tiny_model_dir, "--skip-existing") == 0
    captured = capsys.readouterr()
    assert "skipped 1 of 2 images whose labels and recipe are there (b.tif); " in captured.err
    assert (
        f"redoing a.tif: input {folder / 'a.tif'} changed since: other content of the same "
        f"size (sha256 {recorded['sha256'][:12]}…, now "
    ) in captured.err
    assert captured.out.startswith(f"{folder / 'a.tif'} -> ")
    assert (out / "b.tif").read_bytes() == labels_b
    assert _recipe(out / "a.tif")["input_identity"]["mtime_ns"] == old  # the new record

    # another size: said without reading the file
    tifffile.imwrite(folder / "a.tif", nuclei_sample[0][:96, :96])
    os.utime(folder / "a.tif", ns=(old, old))
    size = (folder / "a.tif").stat().st_size
    assert _segment([folder], out, tiny_model_dir, "--skip-existing") == 0
    assert (
        f"redoing a.tif: input {folder / 'a.tif'} changed since: size "
        f"{recorded['size']:,} bytes, now {size:,} bytes\n"
    ) in capsys.readouterr().err


def test_an_older_recipe_without_the_record_falls_back_to_times(
    tmp_path, folder, tiny_model_dir, capsys
):
    """Recipes written before `input_identity` keep working: replayed and read as before, and
    `--skip-existing` compares modification times for them."""
    out = tmp_path / "out"
    assert _segment([folder], out, tiny_model_dir, "-q") == 0
    for name in ("a", "b"):
        path = out / f"{name}.recipe.json"
        recipe = json.loads(path.read_text())
        del recipe["input_identity"]
        path.write_text(json.dumps(recipe))
    later = (out / "a.tif").stat().st_mtime_ns + 10**10
    os.utime(folder / "a.tif", ns=(later, later))
    capsys.readouterr()
    assert _segment([folder], out, tiny_model_dir, "--skip-existing") == 0
    err = capsys.readouterr().err
    assert "skipped 1 of 2 images whose labels and recipe are there (b.tif); " in err
    assert "redoing a.tif: input changed since\n" in err
    # a replay of a recipe with the record records its own input's, not the replayed one's
    from tessella.engine.input_record import input_identity

    assert "input_identity" in read_recipe(out / "a.recipe.json")  # (redone: recorded)
    replayed = tmp_path / "replayed.tif"
    args = ["--recipe", str(out / "a.recipe.json"), "-q"]
    assert _segment([folder / "b.tif"], replayed, tiny_model_dir, *args) == 0
    assert _recipe(replayed)["input_identity"] == input_identity(folder / "b.tif")


@pytest.mark.parametrize("blockwise", [False, True])
def test_a_zarr_input_rewritten_in_place_is_redone(
    tmp_path, nuclei_sample, tiny_model_dir, capsys, blockwise
):
    """A zarr's chunk files rewritten (folders were not compared at all): redone, saying so;
    an attribute edited (no pixel changed) or nothing changed: skipped."""
    image = nuclei_sample[0][:128, :128]
    source = tmp_path / "in.zarr"
    array = zarr.open(str(source), mode="w", shape=image.shape, chunks=(64, 64), dtype="u1")
    array[...] = image
    out = tmp_path / "out.zarr"
    extra = ["--blockwise", "--workers", "0"] if blockwise else []
    assert _segment([source], out, tiny_model_dir, "-q", *extra) == 0
    recorded = _recipe(out)["input_identity"]
    assert (recorded["kind"], recorded["files"]) == ("folder", 4)

    array.attrs["note"] = "checked by hand"
    capsys.readouterr()
    assert _segment([source], out, tiny_model_dir, "--skip-existing", *extra) == 0
    assert "skipped in.zarr: its labels and recipe are there" in capsys.readouterr().err

    array[:64, :64] = 255 - image[:64, :64]  # one chunk rewritten in place
    assert _segment([source], out, tiny_model_dir, "--skip-existing", *extra) == 0
    captured = capsys.readouterr()
    assert (
        f"redoing out.zarr: input {source} changed since: files in it written, added or "
        "removed since (4 files then, 4 now)"
    ) in captured.err
    assert captured.out.startswith(f"{source} -> {out}")
    assert _recipe(out)["input_identity"] != recorded
    np.testing.assert_array_equal(zarr.open(str(source), mode="r")[:64, :64], 255 - image[:64, :64])


def test_labels_written_inside_their_input_folder_are_skipped_on_a_rerun(
    tmp_path, nuclei_sample, tiny_model_dir, capsys
):
    """Labels written into the zarr they were made from (and their recipe beside them) are
    no change of that input: every rerun with --skip-existing redid them, 'input changed'."""
    image = nuclei_sample[0][:64, :64]
    source = tmp_path / "in.zarr"
    array = zarr.open(str(source), mode="w", shape=image.shape, chunks=(32, 32), dtype=image.dtype)
    array[...] = image
    out = source / "labels.zarr"
    assert _segment([source], out, tiny_model_dir, "-q") == 0
    capsys.readouterr()
    for _rerun in range(2):
        assert _segment([source], out, tiny_model_dir, "--skip-existing") == 0
        said = capsys.readouterr().err
        assert "skipped in.zarr: its labels and recipe are there" in said, said
        assert "redoing" not in said


def test_a_copy_with_a_new_time_is_read_once_and_its_time_recorded(
    tmp_path, folder, tiny_model_dir, monkeypatch, capsys
):
    """An input with the bytes of its labels' input but a new time (copied without -p) is
    hashed once and its time written into the recipe: the whole file was read again at every
    rerun (each rerun after a time limit re-read the whole dataset)."""
    from tessella.engine import input_record

    out = tmp_path / "out"
    assert _segment([folder / "a.tif"], out / "a.tif", tiny_model_dir, "-q") == 0
    later = (out / "a.tif").stat().st_mtime_ns + 10**10
    os.utime(folder / "a.tif", ns=(later, later))
    from tessella.engine import registry

    hashed, real = [], registry.sha256_file
    assert "sha256_file" not in vars(input_record)  # looked up in the registry at each call

    def counting(path):
        hashed.append(path)
        return real(path)

    monkeypatch.setattr(registry, "sha256_file", counting)
    for _rerun in range(3):
        assert _segment([folder / "a.tif"], out / "a.tif", tiny_model_dir, "--skip-existing") == 0
    said = capsys.readouterr().err
    assert said.count("its labels and recipe are there") == 3, said
    assert hashed.count(folder / "a.tif") == 1, hashed
    assert _recipe(out / "a.tif")["input_identity"]["mtime_ns"] == later


def test_outputs_named_through_a_link_are_left_out_too(
    tmp_path, nuclei_sample, tiny_model_dir, capsys
):
    """The input reached through a symbolic link, the labels named by the real path (review
    3: absolute paths were compared as text, so the labels still counted and every rerun
    said 'input changed since')."""
    image = nuclei_sample[0][:64, :64]
    source = tmp_path / "in.zarr"
    array = zarr.open(str(source), mode="w", shape=image.shape, chunks=(32, 32), dtype=image.dtype)
    array[...] = image
    link = tmp_path / "link.zarr"
    link.symlink_to(source)
    out = source / "labels.zarr"
    assert _segment([link], out, tiny_model_dir, "-q") == 0
    capsys.readouterr()
    assert _segment([link], out, tiny_model_dir, "--skip-existing") == 0
    said = capsys.readouterr().err
    assert "its labels and recipe are there" in said and "redoing" not in said, said
