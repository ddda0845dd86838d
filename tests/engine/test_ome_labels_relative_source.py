"""OME-Zarr labels written outside their image (``tessella segment IMG.zarr -o OUT.zarr``, in
memory and ``--blockwise``; Python's blockwise run) name it in ``image-label.source.image``
by a path relative to the labels, OME-NGFF's form (``"../../"`` for labels inside the image),
where both lie in one file system tree: moving the two together keeps it naming the image.
Before, they named it by its absolute path, which named nothing once the two were moved."""

from __future__ import annotations

import json
import shutil

import numpy as np

from tessella.cli import main
from tessella.engine.io import read_image
from tests.conftest import write_ome_zarr
from tests.engine.test_blockwise_zarr_out import _label


def _named(labels) -> str:
    return json.loads((labels / ".zattrs").read_text())["image-label"]["source"]["image"]


def test_labels_outside_their_image_name_it_relative_to_them(tmp_path, nuclei_sample, capsys):
    image = nuclei_sample[0][:64, :64]
    project = tmp_path / "project"
    source = write_ome_zarr(
        project / "data" / "img.zarr", image[None, None], "czyx", [1, 1, 0.5, 0.5], (1, 1, 32, 32)
    )
    out = project / "out"
    base = ["segment", str(source), "--model", "nuclei2d", "--no-tta", "--device", "cpu", "-q"]
    assert main([*base, "-o", str(out / "memory.zarr")]) == 0, capsys.readouterr().err
    blockwise = ["--blockwise", "--workers", "0", "--block", "32"]
    assert main([*base, "-o", str(out / "blocks.zarr"), *blockwise]) == 0, capsys.readouterr().err
    _label(source, out / "python.zarr")  # segment_blockwise's engine, from Python
    names = {"memory", "blocks", "python"}
    for name in names:
        assert _named(out / f"{name}.zarr") == "../../data/img.zarr", name

    moved = tmp_path / "moved"
    shutil.move(project, moved)  # the two together, elsewhere
    for name in names:
        labels = moved / "out" / f"{name}.zarr"
        named = (labels / _named(labels)).resolve()
        assert named == (moved / "data" / "img.zarr").resolve()
        assert read_image(named).data.shape == read_image(labels).data.shape == (64, 64)
        assert int(np.asarray(read_image(labels).data).max()) >= 3
