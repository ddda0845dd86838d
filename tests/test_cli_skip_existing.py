"""`tessella segment --skip-existing`: a rerun over a folder (interrupted, or with images added)
keeps the outputs whose labels and recipe are both there and segments the others; an output
made with other settings is refused, and incomplete ones (labels without a recipe, a write
killed midway) are redone."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine.io import read_image


@pytest.fixture
def folder(tmp_path, nuclei_sample):
    """Three 128x128 crops of the DSB2018 nuclei sample."""
    image = nuclei_sample[0]
    src = tmp_path / "in"
    src.mkdir()
    for name, (y, x) in (("a", (0, 0)), ("b", (128, 256)), ("c", (256, 128))):
        tifffile.imwrite(src / f"{name}.tif", image[y : y + 128, x : x + 128])
    return src


def _segment(inputs, out, model_dir, *extra):
    args = ["segment", *map(str, inputs), "-o", str(out), "--model", str(model_dir)]
    return main([*args, "--no-tta", *extra])


def _state(path):
    """What a rewrite changes: the file's inode and modification time, and its bytes."""
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns, path.read_bytes()


def test_a_rerun_keeps_complete_outputs_and_segments_the_others(
    tmp_path, folder, nuclei_sample, tiny_model_dir, capsys
):
    """The run was stopped after a.tif and b.tif's labels (b's recipe missing, as a write
    that failed between them would leave it), c.tif was never done, and d.tif has been
    added since: a.tif is kept untouched, the others are segmented."""
    out = tmp_path / "out"
    assert _segment([folder], out, tiny_model_dir, "-q") == 0
    (out / "c.tif").unlink()
    (out / "c.recipe.json").unlink()
    (out / "b.recipe.json").unlink()
    tifffile.imwrite(folder / "d.tif", nuclei_sample[0][384:512, 0:128])
    kept, stale_b = _state(out / "a.tif"), _state(out / "b.tif")
    kept_recipe = _state(out / "a.recipe.json")
    capsys.readouterr()

    assert _segment([folder], out, tiny_model_dir, "--skip-existing") == 0
    captured = capsys.readouterr()
    assert (
        "skipped 1 of 4 images whose labels and recipe are there (a.tif); "
        "redoing incomplete b.tif\n" in captured.err
    )
    done = [line.split(" -> ")[0] for line in captured.out.splitlines()]
    assert done == [str(folder / name) for name in ("b.tif", "c.tif", "d.tif")]
    assert _state(out / "a.tif") == kept and _state(out / "a.recipe.json") == kept_recipe
    assert _state(out / "b.tif")[:2] != stale_b[:2]
    for name in "bcd":
        assert read_image(out / f"{name}.tif").data.shape == (128, 128)
        recorded = json.loads((out / f"{name}.recipe.json").read_text())
        assert recorded["input"] == str(folder / f"{name}.tif")

    # everything there: nothing is segmented, and the note says so
    assert _segment([folder], out, tiny_model_dir, "--skip-existing") == 0
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "skipped all 4 images: their labels and recipe are there (a.tif, b.tif" in captured.err
    # a single file too
    single = out / "a.tif"
    assert _segment([folder / "a.tif"], single, tiny_model_dir, "--skip-existing", "-q") == 0
    assert _state(single) == kept and capsys.readouterr().err == ""


def test_outputs_made_with_other_settings_are_refused_before_any_work(
    tmp_path, folder, nuclei_sample, tiny_model_dir, capsys
):
    """Other parameters, TTA or axes than the existing outputs' recipes record: keeping them
    would mix stale labels with new ones, so the run is refused, naming a file and each
    difference, before anything is written; replaying that recipe goes on with its settings."""
    out = tmp_path / "out"
    assert _segment([folder], out, tiny_model_dir, "-q") == 0
    (out / "c.tif").unlink()
    (out / "c.recipe.json").unlink()
    before = sorted(p.name for p in out.iterdir())
    min_size = json.loads((out / "a.recipe.json").read_text())["params"]["min_size"]
    capsys.readouterr()

    other_size = ["--skip-existing", "--set", f"min_size={min_size + 7}"]
    assert _segment([folder], out, tiny_model_dir, *other_size) == 1
    [err] = capsys.readouterr().err.strip().splitlines()
    assert (
        f"--skip-existing: {out / 'a.tif'} was made with other settings than this run's: "
        f"min_size={min_size} (this run: {min_size + 7}) (as is 1 more output: b.tif); "
        "pass --overwrite to segment every image again with this run's settings, or "
        f"--recipe {out / 'a.recipe.json'} to go on with its" in err
    )
    args = ["segment", str(folder), "-o", str(out), "--model", str(tiny_model_dir)]
    assert main([*args, "--skip-existing", "--tta", "--invert"]) == 1
    err = capsys.readouterr().err
    assert "tta=False (this run: True), invert=as the model says (this run: True)" in err
    # axes are compared where this run forces them: recorded YX, forced CYX
    assert _segment([folder], out, tiny_model_dir, "--skip-existing", "--axes", "CYX") == 1
    assert "axes=YX (this run: CYX)" in capsys.readouterr().err
    assert sorted(p.name for p in out.iterdir()) == before

    recipe = out / "a.recipe.json"
    replay = ["segment", str(folder), "-o", str(out), "--recipe", str(recipe), "--skip-existing"]
    assert main([*replay, "-q"]) == 0
    assert (out / "c.tif").is_file() and (out / "c.recipe.json").is_file()


def test_a_killed_write_is_redone_and_overwrite_is_refused_with_it(
    tmp_path, folder, tiny_model_dir, capsys
):
    """A staging folder left by a write killed midway (SIGKILL): what it had replaced is put
    back, and that output is segmented again rather than taken as complete."""
    out = tmp_path / "out"
    assert _segment([folder], out, tiny_model_dir, "-q") == 0
    (out / ".b.tif.tessella-staging" / "new").mkdir(parents=True)
    kept, redone = _state(out / "a.tif"), _state(out / "b.tif")
    capsys.readouterr()
    assert _segment([folder], out, tiny_model_dir, "--skip-existing") == 0
    captured = capsys.readouterr()
    assert "removed .b.tif.tessella-staging, left by a run killed while writing it" in captured.err
    assert "skipped 2 of 3 images whose labels and recipe are there (a.tif, c.tif); " in (
        captured.err
    )
    assert "redoing b.tif: write killed midway" in captured.err
    assert captured.out.splitlines()[0].startswith(f"{folder / 'b.tif'} -> ")
    assert _state(out / "a.tif") == kept and _state(out / "b.tif")[:2] != redone[:2]
    assert not (out / ".b.tif.tessella-staging").exists()

    with pytest.raises(SystemExit) as exit_:  # bad usage: exit code 2
        _segment([folder], out, tiny_model_dir, "--skip-existing", "--overwrite")
    assert exit_.value.code == 2
    assert "not allowed with argument" in capsys.readouterr().err


def test_blockwise_skips_finished_labels_and_redoes_labels_without_their_recipe(
    tmp_path, nuclei_sample, tiny_model_dir, capsys
):
    import zarr

    image = nuclei_sample[0][:128, :128]
    source = tmp_path / "in.zarr"
    zarr.create_array(str(source), shape=image.shape, dtype=image.dtype, chunks=(64, 64))[...] = (
        image
    )
    target = tmp_path / "labels.zarr"
    blockwise = ["--blockwise", "--workers", "0", "--block", "64"]
    assert _segment([source], target, tiny_model_dir, *blockwise, "-q") == 0
    recipe = tmp_path / "labels.recipe.json"
    labels = read_image(target).data[...]
    made = _state(recipe)
    capsys.readouterr()

    assert _segment([source], target, tiny_model_dir, *blockwise, "--skip-existing") == 0
    captured = capsys.readouterr()
    assert captured.err == "skipped in.zarr: its labels and recipe are there\n"
    assert captured.out == "" and _state(recipe) == made

    assert _segment([source], target, tiny_model_dir, *blockwise, "--skip-existing", "-q") == 0
    recipe.unlink()  # the labels are complete, but their recipe could not be written
    assert _segment([source], target, tiny_model_dir, *blockwise, "--skip-existing") == 0
    captured = capsys.readouterr()
    assert "redoing incomplete labels.zarr" in captured.err
    assert f"{source} -> {target}: " in captured.out
    assert recipe.is_file()
    np.testing.assert_array_equal(read_image(target).data[...], labels)

    extra = ["--skip-existing", "--set", "min_size=3"]
    assert _segment([source], target, tiny_model_dir, *blockwise, *extra) == 1
    assert "min_size=" in capsys.readouterr().err


def test_blockwise_outputs_made_with_another_block_size_or_halo_are_refused(
    tmp_path, nuclei_sample, tiny_model_dir, capsys
):
    """Blocks and stitching change the labels at the seams: a finished blockwise output made
    with other blocks or another halo than this run's is refused as other settings are (it
    was skipped), compared as the run would cut its blocks (the default block, 2048, is the
    whole 128x128 image here); its own recipe replays its blocks and halo, and is kept."""
    import zarr

    image = nuclei_sample[0][:128, :128]
    source = tmp_path / "in.zarr"
    zarr.create_array(str(source), shape=image.shape, dtype=image.dtype, chunks=(64, 64))[...] = (
        image
    )
    target = tmp_path / "labels.zarr"
    blockwise = ["--blockwise", "--workers", "0"]
    assert _segment([source], target, tiny_model_dir, *blockwise, "--block", "64", "-q") == 0
    recipe = tmp_path / "labels.recipe.json"
    recorded = json.loads(recipe.read_text())
    halo = "x".join(map(str, recorded["blockwise"]["halo"]))
    made = _state(recipe), _state(target / "zarr.json")
    capsys.readouterr()

    for block in (["--block", "128"], []):  # (the default: 2048, cut to the image's size)
        assert (
            _segment([source], target, tiny_model_dir, *blockwise, *block, "--skip-existing") == 1
        )
        [err] = capsys.readouterr().err.strip().splitlines()
        assert err == (
            f"tessella segment: error: --skip-existing: {target} was made with other settings "
            "than this run's: block=64x64 (this run: 128x128); pass --overwrite to segment "
            f"every image again with this run's settings, or --recipe {recipe} to go on with its"
        )
    other = tmp_path / "other.recipe.json"
    other.write_text(
        json.dumps({**recorded, "blockwise": {**recorded["blockwise"], "halo": [5, 5]}})
    )
    replay = ["segment", str(source), "-o", str(target), "--skip-existing", "--recipe"]
    assert main([*replay, str(other)]) == 1
    assert (
        f"other settings than this run's: halo={halo} (this run: 5x5); " in capsys.readouterr().err
    )

    assert main([*replay, str(recipe)]) == 0
    assert "skipped in.zarr: its labels and recipe are there" in (capsys.readouterr().err)
    assert (_state(recipe), _state(target / "zarr.json")) == made


def test_outputs_that_disagree_among_themselves_get_no_recipe_to_go_on_with(
    tmp_path, folder, tiny_model_dir, capsys
):
    """a.tif and b.tif were made with a min_size, c.tif with another: suggesting one of
    their recipes sent the user round in a circle (each refused by the other group). The
    refusal says how they differ, in groups, and offers --overwrite or moving some aside."""
    out = tmp_path / "out"
    assert _segment([folder], out, tiny_model_dir, "-q", "--set", "min_size=30") == 0
    (out / "c.tif").unlink()
    (out / "c.recipe.json").unlink()
    assert _segment([folder / "c.tif"], out / "c.tif", tiny_model_dir, "-q") == 0
    default = json.loads((out / "c.recipe.json").read_text())["params"]["min_size"]
    capsys.readouterr()

    for recipe in ("a", "c"):
        args = [
            "segment",
            str(folder),
            "-o",
            str(out),
            "--recipe",
            str(out / f"{recipe}.recipe.json"),
        ]
        assert main([*args, "--skip-existing"]) == 1
        [err] = capsys.readouterr().err.strip().splitlines()
        assert "--recipe" not in err and "--overwrite" in err and "move aside" in err
        assert f"the 3 existing outputs in {out} were made with 2 different settings: " in err
        if recipe == "a":
            assert f"1 with min_size={default} (this run: 30) (c.tif); 2 with this run's" in err
        else:
            assert (
                f"2 with min_size=30 (this run: {default}) (a.tif, b.tif); 1 with this run's" in err
            )


def test_a_cut_short_labels_file_an_unreadable_recipe_and_a_replaced_input_are_redone(
    tmp_path, folder, nuclei_sample, tiny_model_dir, capsys
):
    """Both files there was taken as complete: a labels TIFF cut short (a copy interrupted,
    a disk error) was kept, an image replaced since kept its stale labels, and a recipe that
    is not JSON was redone as 'incomplete', with no word of why. Now each is redone, saying
    why; the complete one is kept."""
    import os

    out = tmp_path / "out"
    assert _segment([folder], out, tiny_model_dir, "-q") == 0
    kept = _state(out / "a.tif")
    whole = (out / "b.tif").read_bytes()
    (out / "b.tif").write_bytes(whole[: len(whole) // 2])
    (out / "c.recipe.json").write_text('{"model": "x", ')  # a hand edit with a typo
    capsys.readouterr()
    assert _segment([folder], out, tiny_model_dir, "--skip-existing") == 0
    err = capsys.readouterr().err
    assert (
        "skipped 1 of 3 images whose labels and recipe are there (a.tif); "
        "redoing b.tif: labels file cut short; redoing c.tif: recipe unreadable (not JSON)\n"
    ) in err
    assert _state(out / "a.tif") == kept
    assert read_image(out / "b.tif").data.shape == (128, 128)
    assert isinstance(json.loads((out / "c.recipe.json").read_text()), dict)

    # the input a.tif replaced by other pixels since its labels were written
    tifffile.imwrite(folder / "a.tif", nuclei_sample[0][384:512, 0:128])
    later = (out / "a.tif").stat().st_mtime_ns + 10**9
    os.utime(folder / "a.tif", ns=(later, later))
    assert _segment([folder], out, tiny_model_dir, "--skip-existing") == 0
    captured = capsys.readouterr()
    assert (
        "skipped 2 of 3 images whose labels and recipe are there (b.tif, c.tif); " in captured.err
    )
    assert (
        f"redoing a.tif: input {folder / 'a.tif'} changed since: other content of the same "
        "size (sha256 "
    ) in captured.err
    assert captured.out.startswith(f"{folder / 'a.tif'} -> ")
    # and a labels file of another shape than its recipe records
    tifffile.imwrite(out / "b.tif", np.zeros((64, 64), np.uint16))
    assert _segment([folder], out, tiny_model_dir, "--skip-existing") == 0
    assert "redoing b.tif: labels file not of its recipe's shape" in capsys.readouterr().err


def test_an_interrupted_folder_run_says_how_many_were_written_and_how_to_go_on(
    tmp_path, folder, tiny_model_dir, capsys, monkeypatch
):
    """Ctrl-C (or SIGTERM) during the second image of three: the run said only
    'interrupted'; now it says how many were written and suggests --skip-existing. A
    single image's run gets no such advice."""
    from tessella.cli import _segment as segment_module

    read = segment_module._read_input

    def stopped_at_b(source, *args):
        if source.name == "b.tif":
            raise KeyboardInterrupt
        return read(source, *args)

    monkeypatch.setattr(segment_module, "_read_input", stopped_at_b)
    out = tmp_path / "out"
    assert _segment([folder], out, tiny_model_dir, "-q") == 130
    err = capsys.readouterr().err
    assert err.endswith(
        "1 of 3 images written; rerun with --skip-existing to segment the others\n"
        "tessella segment: interrupted\n"
    )
    assert sorted(p.name for p in out.iterdir()) == ["a.recipe.json", "a.tif"]
    assert _segment([folder / "b.tif"], tmp_path / "b.tif", tiny_model_dir, "-q") == 130
    assert capsys.readouterr().err == "tessella segment: interrupted\n"
