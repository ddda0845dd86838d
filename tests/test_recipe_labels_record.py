"""The record napari's File > Save writes beside labels without a Segment recipe (their
divisions and frame numbers: a reopened CTC result saved) is refused as a recipe in one
line saying what it is, by ``tessella segment --recipe`` (with ``--model`` too: it would
have replayed the model's defaults as if they were the record's) and by
:func:`tessella.replay`."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

import tessella
from tessella._io_recipe import LABELS_RECORD_NOTE
from tessella.cli import main

RECORD = {
    "note": LABELS_RECORD_NOTE,
    "frame_numbers": [8, 9],
    "lineage": [[31, 11]],
    "exported": {"tiff": "saved.tif"},
}


def test_a_labels_record_is_no_recipe_to_replay(tmp_path, capsys):
    record = tmp_path / "saved.recipe.json"
    record.write_text(json.dumps(RECORD))
    image = tmp_path / "img.tif"
    tifffile.imwrite(image, np.zeros((32, 32), np.uint16))
    for model in ([], ["--model", "nuclei2d"]):
        argv = ["segment", str(image), "-o", str(tmp_path / "out.tif"), "--recipe", str(record)]
        assert main([*argv, *model]) != 0
        err = capsys.readouterr().err
        assert f"{record}: no Segment recipe" in err and "nothing to replay" in err, err
        assert not (tmp_path / "out.tif").exists()
    with pytest.raises(ValueError, match="no Segment recipe.*nothing to replay"):
        tessella.replay(record, np.zeros((32, 32), np.uint16))
