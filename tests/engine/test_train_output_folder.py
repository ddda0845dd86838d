"""The output folder of a training run is checked first: a file, the data folder, or a folder
of other files is refused in one line naming it, before anything is read or written."""

import os

import pytest

from tessella.cli import main
from tests.conftest import nuclei_folder

TINY = ["--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "2", "--patch", "64"]
TINY += ["--device", "cpu", "--features", "4,8", "-q"]


def _refused(data, out, capsys) -> str:
    before = sorted(os.listdir(data))
    code = main(["train", "boundary", "--data", str(data), "--out", str(out), *TINY])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1, err
    assert sorted(os.listdir(data)) == before  # nothing written
    return err


def test_the_data_folder_is_refused_as_output(tmp_path, nuclei_sample, capsys):
    data = nuclei_folder(tmp_path / "data", nuclei_sample)
    err = _refused(data, data, capsys)
    assert f"output folder {data}: it is the data folder" in err, err


def test_a_folder_of_other_files_is_refused_as_output(tmp_path, nuclei_sample, capsys):
    data = nuclei_folder(tmp_path / "data", nuclei_sample)
    notes = tmp_path / "notes"
    notes.mkdir()
    for name in ("readme.txt", "a.csv", "b.csv", "c.csv"):
        (notes / name).write_text("mine")
    err = _refused(data, notes, capsys)
    assert f"output folder {notes}: it holds other files (a.csv, b.csv, c.csv, …)" in err, err
    assert sorted(os.listdir(notes)) == ["a.csv", "b.csv", "c.csv", "readme.txt"]


@pytest.mark.parametrize("inside", [False, True])
def test_a_file_is_refused_as_output(tmp_path, nuclei_sample, capsys, inside):
    data = nuclei_folder(tmp_path / "data", nuclei_sample)
    image = data / "images" / "0.tif"
    out = image / "model" if inside else image
    err = _refused(data, out, capsys)
    said = f"inside {image}, a file" if inside else "a file, not a folder"
    assert f"output folder {out}: {said}; choose a new or empty folder" in err, err
    assert "Errno" not in err


def test_a_model_folder_is_for_resume_whatever_else_it_holds(tmp_path):
    from tessella.engine.train import TrainConfig
    from tessella.engine.train._options import _check_options

    model = tmp_path / "model"
    model.mkdir()
    for name in ("card.json", "model.safetensors", "checkpoint.pt", "scores.csv"):
        (model / name).write_text("x")
    with pytest.raises(ValueError, match="holds a model already .*resume=True continues"):
        _check_options(TrainConfig("boundary", str(tmp_path / "d"), str(model)))
    _check_options(TrainConfig("boundary", str(tmp_path / "d"), str(model), resume=True))
    # a model written into its data folder (as before this check): not continued there
    with pytest.raises(ValueError, match="it is the data folder"):
        _check_options(TrainConfig("boundary", str(model), str(model), resume=True))
