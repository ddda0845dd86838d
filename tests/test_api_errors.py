"""The Python API's errors a scripter meets (s34 user test t16, findings 5 and 7): a missing
file raises one type that both ``except ValueError`` (what ``read_image`` documents for
anything unreadable) and ``except FileNotFoundError``/``OSError`` (what Python's own ``open``
raises) catch, in one line naming it; a 4D array whose guessed axes do not fit a 2D model
says which axes would; NaN/inf says how many pixels and what to do; an unknown metric lists
the names readably, with the nearest."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
import tifffile

import tessella
from tessella.engine.errors import MissingFileError
from tests.conftest import DATA


@pytest.fixture(scope="module")
def nuclei_crop() -> np.ndarray:
    """A real DSB2018 nuclei image, cropped to 64 x 64 (float32)."""
    source = DATA / "fixtures" / "img2d.tif"
    if not source.is_file():
        pytest.fail(f"the fixture image is not at {source} (set TESSELLA_DATA)")
    return tifffile.imread(source)[:64, :64].astype(np.float32)


def _caught_as_both(call, *args, **kwargs) -> MissingFileError:
    """The error ``call`` raises, checked to be caught by ``except FileNotFoundError``
    and by ``except ValueError`` alike."""
    with pytest.raises(FileNotFoundError) as as_os_error:
        call(*args, **kwargs)
    with pytest.raises(ValueError):
        call(*args, **kwargs)
    error = as_os_error.value
    assert isinstance(error, MissingFileError) and isinstance(error, OSError)
    assert "\n" not in str(error) and "[Errno" not in str(error)
    return error


def test_a_missing_file_is_a_file_not_found_and_a_value_error(tmp_path):
    labels = tmp_path / "labels.tif"
    tessella.write_labels(labels, np.ones((8, 8), np.uint16))
    missing = tmp_path / "nope.tif"
    error = _caught_as_both(tessella.evaluate_paths, missing, labels)
    assert str(error) == f"{missing}: no such file or folder" and error.filename == str(missing)
    error = _caught_as_both(tessella.evaluate_paths, labels, missing)
    assert str(error) == f"{missing}: no such file or folder"
    recipe = tmp_path / "nope.recipe.json"
    error = _caught_as_both(tessella.replay, recipe, np.zeros((8, 8), np.float32))
    assert str(error) == f"{recipe}: no such recipe file" and error.filename == str(recipe)
    # (kept whole through a process pool, as a worker's error reaches its parent)
    again = pickle.loads(pickle.dumps(error))
    assert type(again) is MissingFileError and str(again) == str(error)
    # the command line's error for a missing file is unchanged: one line, exit 1
    from tessella.cli import main

    assert main(["evaluate", str(missing), str(labels)]) == 1


def test_errors_of_segment_say_what_to_do(nuclei_crop):
    # a 4D array without axes is guessed TZYX: which axes would fit a 2D model, and how else
    with pytest.raises(ValueError) as caught:
        tessella.segment(np.stack([np.stack([nuclei_crop] * 2)] * 2), "nuclei2d")
    said = str(caught.value)
    assert "axes TZYX do not fit model 'nuclei2d', which segments YX images" in said
    assert "a time-lapse of colour (RGB) frames give axes TYXC" in said
    assert "one 2D plane at a time (image[t, z]" in said
    # NaN and inf: how many pixels of each, and what to do
    bad = nuclei_crop.copy()
    bad[:2, :3] = np.nan
    bad[10, 10] = np.inf
    with pytest.raises(ValueError) as caught:
        tessella.segment(bad, "nuclei2d")
    said = str(caught.value)
    assert "contains NaN or infinite values in 7 of its 4,096 pixels (6 NaN, 1 infinite)" in said
    assert "np.nan_to_num" in said


def test_unknown_metrics_are_listed_readably_with_the_nearest():
    truth = np.array([[1, 1, 0, 2, 2]])
    with pytest.raises(ValueError) as caught:
        tessella.evaluate(truth, truth, metrics_wanted="apx")
    said = str(caught.value)
    assert said.startswith("unknown metric(s) apx (did you mean ap?); choose from ap, seg, iou")
    with pytest.raises(ValueError, match=r"unknown metric\(s\) dice; choose from ap, seg"):
        tessella.evaluate_paths("a.tif", "b.tif", ("dice",))


def test_write_labels_says_a_missing_folder_as_a_missing_file(tmp_path):
    """write_labels' missing folder (a FileNotFoundError before) is a MissingFileError: a
    script's ``except FileNotFoundError`` keeps catching it, ``except ValueError`` too."""
    target = tmp_path / "no_folder" / "labels.tif"
    error = _caught_as_both(tessella.write_labels, target, np.ones((8, 8), np.uint16))
    assert str(error).startswith(f"cannot write {target}: the folder {target.parent} does not")
    assert error.filename == str(target.parent)
    assert not target.parent.exists()  # (no folder made)


@pytest.mark.parametrize(
    ("name", "said"),
    [
        ("labels.zarr", "for a zarr use tessella.engine.io.write_zarr_labels"),
        ("labels.png", "name it labels.tif"),
        ("labels", "add .tif to its name"),
    ],
)
def test_write_labels_refuses_a_name_it_does_not_write(tmp_path, name, said):
    """TIFF bytes were written under any name (t16 finding 4): 'x.zarr' that read_image then
    could not open as a zarr, 'x.png' that it refused as a PNG. Now refused, naming the
    path and what to do; nothing written. .tif and .tiff in any case are written."""
    target = tmp_path / name
    with pytest.raises(ValueError) as caught:
        tessella.write_labels(target, np.ones((8, 8), np.uint16))
    assert str(caught.value).startswith(f"{target}: write_labels writes TIFF files")
    assert said in str(caught.value)
    assert not target.exists() and not list(tmp_path.iterdir())
    for fine in ("a.TIF", "b.tiff", "c.ome.tif"):
        written = tessella.write_labels(tmp_path / fine, np.ones((8, 8), np.uint16))
        assert np.array_equal(tessella.read_image(written).data, np.ones((8, 8)))


def test_read_image_says_a_missing_file_as_evaluate_paths_does(tmp_path):
    """read_image's missing file was a ValueError only: ``except FileNotFoundError`` (or
    ``OSError``) around it never fired. Now both catch it; the message is as before."""
    missing = tmp_path / "nope.tif"
    error = _caught_as_both(tessella.read_image, missing)
    assert str(error) == f"{missing}: no such file or folder" and error.filename == str(missing)
