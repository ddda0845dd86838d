"""``tessella segment --blockwise --voxel-size Y,X`` (it was refused: "not available with
--blockwise"): as in memory, the sizes replace the zarr's own pixel size for post-processing,
are recorded in the recipe (``voxel_size``, ``spacing``, ``unit``; ``--recipe`` replays
them blockwise) and written as the labels zarr's pixel size (the engine's new
``pixel_size=`` and ``unit=`` of ``segment_blockwise_steps``). An unfinished run made with
another voxel size (or unit) is not resumed: refused, as for other settings."""

from __future__ import annotations

import json

import numpy as np
import pytest
import zarr

import tessella
from tessella.cli import main
from tessella.engine.io import read_image

RUN = ["--device", "cpu", "-q", "--blockwise", "--workers", "0", "--block", "128"]
MODEL = ["--model", "nuclei2d", "--axes", "YX", "--no-tta"]


def _zarr(path, image, pixel_size=None):
    array = zarr.open(str(path), mode="w", shape=image.shape, chunks=(128, 128), dtype=image.dtype)
    array[...] = image
    if pixel_size:
        array.attrs.update({"pixel_size": pixel_size, "unit": "µm"})
    return path


def _recorded(output):
    return json.loads(output.with_name(output.stem + ".recipe.json").read_text())


@pytest.fixture
def image(nuclei_sample):
    return nuclei_sample[0][:128, :256]


def test_voxel_size_blockwise_is_used_recorded_written_and_replayed(tmp_path, image):
    own = _zarr(tmp_path / "own.zarr", image, {"Y": 0.5, "X": 0.5})  # replaced by 2,1
    out = tmp_path / "labels.zarr"
    assert main(["segment", str(own), "-o", str(out), *RUN, *MODEL, "--voxel-size", "2,1"]) == 0
    written = read_image(out)
    assert written.pixel_size == {"Y": 2.0, "X": 1.0} and written.unit == "µm"
    recorded = _recorded(out)
    assert recorded["voxel_size"] == recorded["spacing"] == [2.0, 1.0]
    assert recorded["unit"] == "µm" and "blockwise" in recorded
    assert zarr.open(str(out), mode="r").attrs["tessella"]["voxel_size"] == [2.0, 1.0]
    # the labels of a zarr whose own pixel size is 2 x 1: post-processing used the sizes given
    aniso = _zarr(tmp_path / "aniso.zarr", image, {"Y": 2.0, "X": 1.0})
    reference = tmp_path / "reference.zarr"
    assert main(["segment", str(aniso), "-o", str(reference), *RUN, *MODEL]) == 0
    labels = np.asarray(read_image(out).data)
    assert labels.max() > 1 and np.array_equal(labels, np.asarray(read_image(reference).data))
    # --recipe replays the voxel size blockwise, over the zarr's own again
    again = tmp_path / "again.zarr"
    recipe = out.with_name("labels.recipe.json")
    assert main(["segment", str(own), "-o", str(again), *RUN, "--recipe", str(recipe)]) == 0
    assert read_image(again).pixel_size == {"Y": 2.0, "X": 1.0}
    assert np.array_equal(np.asarray(read_image(again).data), labels)
    assert _recorded(again)["voxel_size"] == [2.0, 1.0]


def test_skip_existing_compares_the_voxel_size_blockwise(tmp_path, image, capsys):
    own = _zarr(tmp_path / "own.zarr", image, {"Y": 0.5, "X": 0.5})
    out = tmp_path / "labels.zarr"
    run = ["segment", str(own), "-o", str(out), *RUN, *MODEL]
    assert main([*run, "--voxel-size", "2,1"]) == 0
    capsys.readouterr()
    made = out.with_name("labels.recipe.json").stat().st_mtime_ns
    assert main([*run, "--voxel-size", "2,1", "--skip-existing"]) == 0  # kept
    assert out.with_name("labels.recipe.json").stat().st_mtime_ns == made
    assert main([*run, "--voxel-size", "1,1", "--skip-existing"]) == 1  # another: refused
    assert "spacing=[2.0, 1.0] (this run: [1.0, 1.0])" in capsys.readouterr().err


def test_a_voxel_size_that_does_not_fit_the_zarr_is_refused_before_any_block(
    tmp_path, image, capsys
):
    source = _zarr(tmp_path / "in.zarr", image)
    out = tmp_path / "labels.zarr"
    run = ["segment", str(source), "-o", str(out), *RUN, "--model", "nuclei2d"]
    assert main([*run, "--voxel-size", "4,2,1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert "--voxel-size gives 3 sizes but the image has axes YX: give 2, Y,X" in err
    assert not out.exists()


def test_an_unfinished_run_of_another_voxel_size_or_unit_is_not_resumed(tmp_path, image, capsys):
    source = _zarr(tmp_path / "in.zarr", image)
    out = tmp_path / "labels.zarr"
    options = {"block": 128, "tta": False, "device": "cpu"}

    def steps(**given):
        return tessella.segment_blockwise_steps(source, out, "nuclei2d", "YX", **options, **given)

    started = steps(pixel_size=(2, 1), unit="µm")
    for progress in started:
        if progress.stage == "segment" and progress.done >= 1:
            started.close()  # cancelled after a block
            break
    before = "labels' pixel size: Y 2, X 1 µm in the unfinished run"
    for other, now in (((1, 1), "µm"), ((2, 1), "nm")):
        with pytest.raises(ValueError, match=r"unfinished blockwise run with other settings") as e:
            tessella.run_steps(steps(pixel_size=other, unit=now))
        assert f"{before}, Y {other[0]}, X {other[1]} {now} now" in str(e.value)
    run = ["segment", str(source), "-o", str(out), *RUN, *MODEL]
    assert main([*run, "--voxel-size", "1,1"]) == 1  # the command refuses it too
    err = capsys.readouterr().err
    assert "other settings" in err and "labels' pixel size: Y 2, X 1 µm" in err
    said = [a for a in run if a != "-q"]
    assert main([*said, "--voxel-size", "2,1"]) == 0  # the same: resumed
    assert "(2 blocks, 1 resumed)" in capsys.readouterr().out
    assert _recorded(out)["voxel_size"] == [2.0, 1.0]
    assert read_image(out).pixel_size == {"Y": 2.0, "X": 1.0}
