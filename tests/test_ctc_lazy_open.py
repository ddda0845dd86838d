"""A CTC folder opened lazily (its labels over the reader's lazy-labels limit) is not read
whole to open it (review s33/r10 #6): the track file's divisions are kept with the labels,
unchecked against the masks, and no Tracks layer is drawn (both would decode every frame);
a folder read into memory anyway keeps its checked divisions and Tracks layer.

The data: SIM+ 01's ground truth tracks (01_GT/TRA, 65 frames of 690 x 628, 59 divisions)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

from tessella import _io_folder
from tessella._io import LAZY_LABELS_ENV
from tessella._widgets._labels_states import STATES_KEY
from tessella._widgets._tracks_layer import LINEAGE_KEY

TRA = ("ctc_Fluo-N2DH-SIM+", "01_GT", "TRA")


def _tra(data_dir):
    folder = data_dir.joinpath(*TRA)
    if not (folder / "man_track.txt").is_file():
        pytest.skip("SIM+ 01_GT/TRA not in the shared data")
    return folder


def _counting(monkeypatch) -> list:
    reads: list = []
    frame = _io_folder._frame

    def counted(path, *args, **kwargs):
        reads.append(path)
        return frame(path, *args, **kwargs)

    monkeypatch.setattr(_io_folder, "_frame", counted)
    return reads


def test_a_lazily_opened_ctc_folder_is_not_read_whole(data_dir, monkeypatch):
    folder = _tra(data_dir)
    in_memory = _io_folder.folder_layers(folder)
    labels = next(layer for layer in in_memory if layer[2] == "labels")
    checked = labels[1]["metadata"][STATES_KEY][0]["lineage"]
    assert len(checked) == 59 and any(layer[2] == "tracks" for layer in in_memory)

    monkeypatch.setenv(LAZY_LABELS_ENV, str(1_000_000))  # (65 x 690 x 628 is 28 M pixels)
    reads = _counting(monkeypatch)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        layers = _io_folder.folder_layers(folder)
    data, kwargs, kind = layers[0]
    assert kind == "labels" and not isinstance(data, np.ndarray)  # (opened lazily)
    assert len(reads) <= 2, f"{len(reads)} of 65 frames read to open it"
    assert [layer[2] for layer in layers] == ["labels"]  # no Tracks layer (every frame)
    metadata = kwargs["metadata"]
    assert metadata[LINEAGE_KEY] == checked  # the file's divisions, as the masks say
    assert "not checked against the masks" in metadata[_io_folder.CTC_UNCHECKED_KEY]
    said = [str(w.message) for w in caught if "not checked against" in str(w.message)]
    assert len(said) == 1 and "59 divisions" in said[0], said
