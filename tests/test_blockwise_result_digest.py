"""A blockwise result records the labels_digest of its labels, with a stamp of its zarr's
files, so that reopening it tells labels edited by hand (in Fiji, by a script) from the ones
its recipe makes without reading the labels on File > Open: before, a blockwise result
recorded no digest (an edited one reopened with a recipe that claimed to make it), and a
digest checked by reading took 1.2-2.4 s of a 20000² result's File > Open (f19). Real nuclei
sample, the lazy and pyramid limits lowered so that it opens as a big result does."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import zarr

from tessella._io import LabelsChangedWarning, read_layers
from tessella._io_recipe import LABELS_CHANGED_NOTE, RECIPE_KEY
from tessella.engine import digest as digest_module
from tessella.engine.blockwise import segment_blockwise
from tessella.engine.digest import DIGEST_KEY, labels_digest

FILES_KEY = "labels_digest_files"  # (engine.digest.FILES_KEY; a string, as the file holds it)


@pytest.fixture(scope="module")
def result(tmp_path_factory, nuclei_sample):
    folder = tmp_path_factory.mktemp("digest")
    image = nuclei_sample[0][:256, :256]
    source = folder / "in.zarr"
    zarr.create_array(str(source), shape=image.shape, dtype=image.dtype, chunks=(128, 128))[...] = (
        image
    )
    out = folder / "out.zarr"
    segment_blockwise(source, out, "nuclei2d", block=128, device="cpu")
    return out


def _reopen(path, monkeypatch, pixels: str = "10,000"):
    """``(labels shown, metadata, LabelsChangedWarning messages, pieces hashed)`` of ``path``
    reopened by the reader as labels of more than ``pixels`` pixels (lazily, a pyramid)."""
    monkeypatch.setenv("TESSELLA_LAZY_LABELS_PIXELS", pixels)
    monkeypatch.setenv("TESSELLA_PYRAMID_PIXELS", pixels)
    read = []
    hash_pieces = digest_module._hash_pieces

    def counted(labels, dtype):
        read.append(labels.shape)
        return hash_pieces(labels, dtype)

    monkeypatch.setattr(digest_module, "_hash_pieces", counted)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        [(data, kwargs, _kind)] = read_layers(path)
    level0 = data[0] if kwargs.get("multiscale") else data
    said = [str(w.message) for w in caught if w.category is LabelsChangedWarning]
    return np.asarray(level0[...]), kwargs["metadata"], said, read


def test_a_blockwise_result_reopens_checked_without_reading_its_labels(result, monkeypatch):
    stored = zarr.open(str(result), mode="r").attrs["tessella"]
    labels = zarr.open_array(str(result), mode="r")
    assert stored[DIGEST_KEY] == labels_digest(labels[...]) and stored[DIGEST_KEY]["shape"] == [
        256,
        256,
    ]
    assert isinstance(stored[FILES_KEY], str)
    _shown, metadata, said, read = _reopen(result, monkeypatch)
    assert said == [] and read == []  # its files are the run's: the digest holds, unread
    recipe = metadata[RECIPE_KEY]
    assert recipe["model"] == "nuclei2d" and "note" not in recipe
    assert DIGEST_KEY not in recipe and FILES_KEY not in recipe  # (Export writes its own)


def test_a_blockwise_result_edited_by_hand_is_said_not_reproduced(result, tmp_path, monkeypatch):
    import shutil

    edited = tmp_path / "edited.zarr"
    shutil.copytree(result, edited)  # (copy2: the files keep their times, so the stamp)
    assert _reopen(edited, monkeypatch)[3] == []
    array = zarr.open_array(str(edited), mode="r+")
    top = int(np.max(array[...]))
    array[0:8, 0:8] = top + 1  # a new object painted by hand
    _shown, metadata, said, read = _reopen(edited, monkeypatch)
    assert read  # the files changed: the digest is checked reading the labels
    assert metadata[RECIPE_KEY]["note"] == LABELS_CHANGED_NOTE
    assert len(said) == 1 and said[0].startswith(f"{edited}: the file changed after ")
