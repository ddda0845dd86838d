"""`tessella segment`: labels and their recipe are written both or neither, and a recipe that
cannot be written loses nothing, not even with --overwrite (a file, a folder run, zarr,
blockwise)."""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine.io import read_image, write_zarr_labels

PREVIOUS_RECIPE = '{"made by": "an earlier run"}\n'


def _snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under ``folder`` (hidden ones too) and its bytes."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def _previous_outputs(kind: str, tmp_path: Path, image: np.ndarray):
    """(args, outputs folder, the output that is to fail): the inputs of a run, and outputs
    of an earlier run in place (labels unlike any this run makes, and a recipe)."""
    previous = np.zeros(image.shape, np.uint16)
    previous[10:30, 10:30] = 7
    out = tmp_path / "out"
    out.mkdir()
    if kind == "folder":
        src = tmp_path / "in"
        src.mkdir()
        for name in ("a.tif", "b.tif"):
            tifffile.imwrite(src / name, image)
        for name in ("a", "b"):
            tifffile.imwrite(out / f"{name}.tif", previous)
            (out / f"{name}.recipe.json").write_text(PREVIOUS_RECIPE)
        return [str(src), "-o", str(out)], out, out / "a.tif"
    if kind == "zarr":
        import zarr

        source = tmp_path / "in.zarr"
        zarr.create_array(str(source), shape=image.shape, dtype=image.dtype)[...] = image
        target = out / "x.zarr"
        write_zarr_labels(target, previous)
    else:
        source = tmp_path / "x.tif"
        tifffile.imwrite(source, image)
        target = out / "x.tif"
        tifffile.imwrite(target, previous)
    (out / "x.recipe.json").write_text(PREVIOUS_RECIPE)
    return [str(source), "-o", str(target)], out, target


def _recipe_of(target: Path) -> Path:
    return target.with_name(target.name.rsplit(".", 1)[0] + ".recipe.json")


def _fail_on(monkeypatch, recipe: Path, how: str) -> None:
    """Make writing ``recipe`` fail as a full disk does (``write``), or replacing it as an
    immutable file does (``replace``: no rename of it, and no hard link to it either)."""
    import tessella.engine.io as io

    if how == "write":
        real_write = io.write_json

        def write_json(path, data, *args, **kwargs):
            if Path(path).name == recipe.name:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
            return real_write(path, data, *args, **kwargs)

        monkeypatch.setattr(io, "write_json", write_json)
    else:
        real_replace = os.replace

        def replace(src, dst, *args, **kwargs):
            if str(recipe) in (os.path.abspath(src), os.path.abspath(dst)):
                raise PermissionError(errno.EPERM, os.strerror(errno.EPERM), str(recipe))
            return real_replace(src, dst, *args, **kwargs)

        real_link = os.link

        def link(src, dst, *args, **kwargs):
            if os.path.abspath(src) == str(recipe):
                raise PermissionError(errno.EPERM, os.strerror(errno.EPERM), str(recipe))
            return real_link(src, dst, *args, **kwargs)

        monkeypatch.setattr(os, "replace", replace)
        monkeypatch.setattr(os, "link", link)


@pytest.mark.parametrize("how", ["write", "replace"])
@pytest.mark.parametrize("kind", ["file", "folder", "zarr"])
def test_a_recipe_that_cannot_be_written_keeps_the_previous_labels_and_recipe(
    tmp_path, nuclei_sample, tiny_model_dir, monkeypatch, capsys, kind, how
):
    """With --overwrite, labels whose recipe cannot be written (a full disk; a recipe that
    cannot be replaced) leave the previous labels AND recipe exactly as they were, with no
    temporaries beside them (the labels used to be removed after replacing the previous
    ones, and the previous recipe kept: a recipe of labels that no longer existed). In a
    folder run the other images are written."""
    image = nuclei_sample[0][:96, :96]
    inputs, out, failing = _previous_outputs(kind, tmp_path, image)
    recipe = _recipe_of(failing)
    before = _snapshot(out)
    _fail_on(monkeypatch, recipe, how)
    args = ["segment", *inputs, "--model", str(tiny_model_dir), "--overwrite", "-q"]
    assert main(args) == 1
    err = capsys.readouterr().err
    after = _snapshot(out)
    if kind == "folder":  # b.tif and its recipe are this run's; a.tif's are the earlier ones
        assert after.keys() == before.keys()
        for name in ("a.tif", "a.recipe.json"):
            assert after[name] == before[name], name
        assert after["b.recipe.json"] != before["b.recipe.json"]
        assert "1 of 2 images failed: a.tif" in err
    else:
        assert after == before
        assert len(err.strip().splitlines()) == 1, err
    assert str(recipe) in err and "unchanged" in err, err


def test_an_immutable_recipe_keeps_the_previous_labels(tmp_path, nuclei_sample, tiny_model_dir):
    """The same with a real file the user cannot replace (``chattr +i``, where the file
    system and the user allow it): the console script exits 1, and nothing changes."""
    import sys

    if not shutil.which("chattr"):
        pytest.skip("no chattr")
    image = nuclei_sample[0][:96, :96]
    inputs, out, target = _previous_outputs("file", tmp_path, image)
    recipe = _recipe_of(target)
    if subprocess.run(["chattr", "+i", str(recipe)], capture_output=True).returncode:
        pytest.skip("chattr +i is not allowed here")
    try:
        before = _snapshot(out)
        done = subprocess.run(
            [sys.executable, "-m", "tessella.cli", "segment", *inputs]
            + ["--model", str(tiny_model_dir), "--overwrite", "-q"],
            capture_output=True,
            text=True,
            env={**os.environ, "OMP_NUM_THREADS": "1"},
        )
        assert done.returncode == 1, done.stderr
        assert _snapshot(out) == before
        assert f"{recipe}: cannot replace it" in done.stderr, done.stderr
    finally:
        subprocess.run(["chattr", "-i", str(recipe)], check=True)


def test_a_successful_overwrite_leaves_no_temporaries(tmp_path, nuclei_sample, tiny_model_dir):
    image = nuclei_sample[0][:96, :96]
    inputs, out, target = _previous_outputs("file", tmp_path, image)
    before = _snapshot(out)
    args = ["segment", *inputs, "--model", str(tiny_model_dir), "--overwrite", "-q"]
    assert main(args) == 0
    after = _snapshot(out)
    assert sorted(after) == ["x.recipe.json", "x.tif"]
    assert all(after[name] != before[name] for name in after)


@pytest.fixture
def blockwise_inputs(tmp_path, nuclei_sample):
    import zarr

    image = nuclei_sample[0][:128, :128]
    source = tmp_path / "in.zarr"
    zarr.create_array(str(source), shape=image.shape, dtype=image.dtype, chunks=(64, 64))[...] = (
        image
    )
    return source, image


def _blockwise(source, target, tiny_model_dir, *extra):
    return main(
        ["segment", str(source), "-o", str(target), "--model", str(tiny_model_dir)]
        + ["--blockwise", "--workers", "0", "--block", "64", "-q", *extra]
    )


def test_blockwise_checks_its_recipe_can_be_written_before_the_run(
    tmp_path, blockwise_inputs, tiny_model_dir, monkeypatch, capsys
):
    """A recipe that cannot be replaced is refused before any block is segmented (it used
    to fail after the whole run had replaced the previous labels, whose recipe stayed)."""
    source, image = blockwise_inputs
    out = tmp_path / "out"
    out.mkdir()
    target = out / "x.zarr"
    previous = np.full(image.shape, 7, np.uint16)
    write_zarr_labels(target, previous)
    recipe = out / "x.recipe.json"
    recipe.write_text(PREVIOUS_RECIPE)
    before = _snapshot(out)
    _fail_on(monkeypatch, recipe, "replace")
    assert _blockwise(source, target, tiny_model_dir, "--overwrite") == 1
    err = capsys.readouterr().err
    assert _snapshot(out) == before  # no work folder either
    assert f"{recipe}: the recipe of x.zarr cannot be written there" in err, err
    assert "nothing was done" in err


def test_blockwise_labels_whose_recipe_fails_say_so(
    tmp_path, blockwise_inputs, tiny_model_dir, monkeypatch, capsys
):
    """A recipe that fails after the run (a full disk): the labels are kept (they are large)
    and the error says they were written and the recipe not, where, and that the labels'
    own attributes hold it; the earlier run's recipe, which would pass for theirs, is gone."""
    import zarr

    source, image = blockwise_inputs
    target = tmp_path / "x.zarr"
    recipe = tmp_path / "x.recipe.json"
    write_zarr_labels(target, np.full(image.shape, 7, np.uint16))
    recipe.write_text(PREVIOUS_RECIPE)
    _fail_on(monkeypatch, recipe, "write")
    assert _blockwise(source, target, tiny_model_dir, "--overwrite") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1, err
    assert f"{target}: the labels were written, but their recipe could not be written" in err
    assert str(recipe) in err and "No space left on device" in err
    assert "earlier run's recipe there was removed" in err and not recipe.exists()
    assert "tessella" in zarr.open_array(str(target), mode="r").attrs
    assert not (np.asarray(read_image(target).data) == 7).all()
