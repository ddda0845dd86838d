"""Review r1, finding 6 asked that the command line's segment loop, writing N outputs into one
folder, not read that folder once per write (N² names: ``recover_leftovers`` of each atomic
write reads its folder). It does not read it at all: each output's labels and recipe are
written into a staging folder of their own beside it (``.NAME.tessella-staging/new/``, whose
writes read only that folder) and renamed into place, so ``batch_of_writes`` around the loop
would gain nothing. This guards it: a regression that writes straight into the output
folder would read it once per output. Counted in names read (as
tests/engine/test_leftovers_batch.py counts them), with a control that the count sees a
direct write's reading of the folder."""

from __future__ import annotations

import numpy as np
import tifffile

from tessella.cli import main
from tessella.engine.io import write_labels
from tests.engine._leftovers_common import _count_names_read

OTHERS = 200  # files already in the output folder


def test_segmenting_a_folder_into_a_full_folder_does_not_read_it_per_output(tmp_path, monkeypatch):
    images, out = tmp_path / "images", tmp_path / "labels"
    images.mkdir()
    out.mkdir()
    for i in range(3):
        image = np.zeros((32, 32), np.uint16)
        image[6 + i : 16 + i, 8:18] = 1000
        tifffile.imwrite(images / f"img{i}.tif", image)
    for i in range(OTHERS):
        (out / f"other{i:03d}.txt").write_text("")
    read = _count_names_read(monkeypatch, out)
    write_labels(out / "control.tif", np.ones((4, 4), np.uint16))  # the count sees a read
    assert read[0] >= OTHERS
    read[0] = 0
    options = ["--model", "nuclei2d", "--device", "cpu", "--no-tta", "-q"]
    assert main(["segment", str(images), "-o", str(out), *options]) == 0
    names_read = read[0]
    assert sorted(p.name for p in out.glob("img*")) == [
        f"img{i}.{kind}" for i in range(3) for kind in ("recipe.json", "tif")
    ]
    assert names_read < OTHERS  # (3 outputs read one by one: 3 x 200 names and more)
