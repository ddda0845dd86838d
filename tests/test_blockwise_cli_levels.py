"""``tessella segment IMG.zarr --blockwise -o IMG.zarr/labels/NAME`` writes the labels'
lower-resolution levels (Export's, above 4096² pixels; here the threshold is lowered through
its module's constants, so that a 128² crop of the real nuclei image runs in seconds), listed
in their multiscales as napari-ome-zarr and Tessella's reader find them, and says the stage
on its bar ("writing lower-resolution levels"). Before: one level, whatever the size."""

from __future__ import annotations

import json

import numpy as np
import zarr

from tessella.cli import main
from tessella.engine.io import _write
from tests.conftest import write_ome_zarr


def test_segment_blockwise_writes_the_levels_and_says_so(
    tmp_path, nuclei_sample, capsys, monkeypatch
):
    monkeypatch.setattr(_write, "LEVELS_PIXELS", 64 * 64)
    monkeypatch.setattr(_write, "LEVELS_SMALLEST", 48)
    image = write_ome_zarr(
        tmp_path / "img.zarr", nuclei_sample[0][:128, :128], "yx", [0.5, 0.5], (64, 64)
    )
    out = image / "labels" / "nuclei"
    args = ["segment", str(image), "-o", str(out), "--blockwise", "--workers", "0"]
    options = ["--block", "128", "--model", "nuclei2d", "--no-tta", "--device", "cpu"]
    assert main(args + options) == 0
    err = capsys.readouterr().err
    assert "writing lower-resolution levels" in err, err
    attrs = json.loads((out / ".zattrs").read_text())
    datasets = attrs["multiscales"][0]["datasets"]
    assert [d["path"] for d in datasets] == ["0", "1", "2"]
    assert [d["coordinateTransformations"][0]["scale"] for d in datasets] == [
        [0.5, 0.5],
        [1.0, 1.0],
        [2.0, 2.0],
    ]
    group = zarr.open_group(str(out), mode="r")
    labels = np.asarray(group["0"][...])
    assert labels.max() > 5
    for k in (1, 2):
        np.testing.assert_array_equal(group[str(k)][...], labels[:: 2**k, :: 2**k])
    assert json.loads((image / "labels" / ".zattrs").read_text())["labels"] == ["nuclei"]
