"""The same folder given as the training data and the validation data (``--data A
--val-data A``) is described once: its left-out files are named in one warning, not two, and
the warning still points at the line of the training loop that loads the folder."""

from pathlib import Path

from tessella.engine.train import loop
from tessella.engine.train.loop import TrainConfig
from tests.conftest import nuclei_folder, warnings_of_loading


def test_a_folder_given_as_data_and_val_data_warns_once(tmp_path, nuclei_sample):
    folder = nuclei_folder(tmp_path / "data", nuclei_sample)
    (folder / "images" / "notes.txt").write_text("not an image")
    config = TrainConfig(
        "embedding",
        str(folder),
        str(tmp_path / "out"),
        val_data=str(folder),
        epochs=1,
        steps_per_epoch=1,
        batch_size=1,
        patch=64,
        features=(8, 16),
        max_val_images=1,
        device="cpu",
    )
    caught = warnings_of_loading(config)  # (the data are read before the first step)
    left_out = [w for w in caught if "left out images/notes.txt (not TIFF)" in str(w.message)]
    assert [str(w.message) for w in left_out] == [f"{folder}: left out images/notes.txt (not TIFF)"]
    # where it pointed before: the training loop's call of the folder loader
    assert Path(left_out[0].filename) == Path(loop.__file__)
    source = Path(loop.__file__).read_text().splitlines()
    assert "load_folder_pairs(" in source[left_out[0].lineno - 1]
    assert not (tmp_path / "out").exists()  # closed before a model: nothing is left behind
