"""``segment --skip-existing`` compares the first frame number (``--first-frame``, which the
recipe records as ``frame_numbers``) and a voxel size given (``--voxel-size``) with an
existing output's, as it compares its other settings (review r3, finding 8): an output made
without --first-frame, or with another N, was kept as done and a later Export (or --ctc)
numbered its masks as that run's; one made without a voxel size was kept under
``--voxel-size 1,2``. Both are refused now, naming the difference; a folder of frames,
numbered by its file names, is not compared."""

from __future__ import annotations

import json
from types import SimpleNamespace

import numpy as np
import pytest
import tifffile

from tessella.cli._console import CliError
from tessella.cli._skip_existing import _run_settings, _skip_existing
from tessella.engine.methods import semantic

MODEL = SimpleNamespace(card=SimpleNamespace(sha256="ab" * 32, defaults={}, name="m"))


def _settings(**given) -> dict:
    return _run_settings(MODEL, semantic.Params(), None, None, None, None, False, **given)


def _output(tmp_path, name="stack.tif", **recorded):
    """An input and the labels and recipe a finished run of ``_settings()`` left, with
    ``recorded`` added to its recipe."""
    source = tmp_path / name
    if name.endswith(".tif"):
        tifffile.imwrite(source, np.zeros((3, 8, 8), np.uint8), photometric="minisblack")
    else:
        source.mkdir()
        for t in (52, 53, 54):
            tifffile.imwrite(source / f"t{t:03d}.tif", np.zeros((8, 8), np.uint8))
    target = tmp_path / "out.tif"
    tifffile.imwrite(target, np.zeros((3, 8, 8), np.uint16), photometric="minisblack")
    recipe = {**_settings(), "model": "m", **recorded}
    (tmp_path / "out.recipe.json").write_text(json.dumps(recipe))
    return [(source, target)]


def _refused(jobs, settings, spacing=None) -> str:
    with pytest.raises(CliError) as refused:
        _skip_existing(jobs, settings, MODEL, None if spacing is None else lambda *_: spacing)
    return str(refused.value)


def test_another_first_frame_is_refused(tmp_path):
    jobs = _output(tmp_path, frame_numbers=[5, 6, 7])
    said = _refused(jobs, _settings(first_frame=None))
    assert "--first-frame=5 (this run: not given, frames from 0)" in said
    assert "--first-frame 5 to go on with its" in said  # (a recipe does not replay it)
    assert "--first-frame=5 (this run: 7)" in _refused(jobs, _settings(first_frame=7))
    assert _skip_existing(jobs, _settings(first_frame=5), MODEL)[1] == [jobs[0][0]]


def test_a_first_frame_given_over_an_output_made_without(tmp_path):
    jobs = _output(tmp_path)
    said = _refused(jobs, _settings(first_frame=52))
    assert "--first-frame=not given, frames from 0 (this run: 52)" in said
    for same in (None, 0):  # frames from 0 either way
        assert _skip_existing(jobs, _settings(first_frame=same), MODEL)[1] == [jobs[0][0]]


def test_a_folder_of_frames_is_numbered_by_its_names_not_compared(tmp_path):
    jobs = _output(tmp_path, "01", frame_numbers=[52, 53, 54])
    assert _skip_existing(jobs, _settings(first_frame=None), MODEL)[1] == [jobs[0][0]]


def test_a_voxel_size_given_over_an_output_made_without_one(tmp_path):
    jobs = _output(tmp_path)  # its recipe records no spacing (the input has no pixel size)
    run = ((1.0, 2.0), True)  # what segment's spacing_of says of --voxel-size 1,2
    said = _refused(jobs, _settings(voxel_size=[1.0, 2.0]), run)
    assert "spacing=not recorded (this run: [1.0, 2.0], its voxel size)" in said
    # isotropic: post-processing uses it as none
    kept = _skip_existing(jobs, _settings(voxel_size=[3.0, 3.0]), MODEL, lambda *_: ((3, 3), True))
    assert kept[1] == [jobs[0][0]]
    # the input's own pixel size is not compared with a recipe that records none, as before
    assert _skip_existing(jobs, _settings(voxel_size=None), MODEL, lambda *_: run)[1]
