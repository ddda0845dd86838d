"""The rule for labels written inside an OME-Zarr image is one function
(engine.io._zarr.check_labels_in_ome_image, ValueError) that ``tessella segment`` in memory
(CliError, same line) and blockwise both follow: so a dangling link at IMAGE/labels/NAME is
refused by both before any work, as blockwise refused it; the in-memory check took it for
nothing there (Path.exists follows the link)."""

from __future__ import annotations

import os

import pytest
import zarr

from tessella.cli._console import CliError
from tessella.cli._write import _check_outputs
from tessella.engine.io._zarr import check_labels_in_ome_image


def _ome_image(path):
    image = zarr.open_group(str(path), mode="w", zarr_format=2)
    image.create_array("0", shape=(32, 32), dtype="uint8")
    axes = [{"name": n, "type": "space"} for n in "yx"]
    datasets = [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1]}]}]
    image.attrs["multiscales"] = [{"version": "0.4", "axes": axes, "datasets": datasets}]
    return path


def test_a_dangling_link_in_the_labels_group_is_refused_in_memory_as_blockwise(tmp_path):
    image = _ome_image(tmp_path / "img.zarr")
    (image / "labels").mkdir()
    target = image / "labels" / "nuclei"
    os.symlink(tmp_path / "gone", target)
    said = f"{target} exists and holds no OME-Zarr labels; it is not replaced"
    with pytest.raises(ValueError) as engine:
        check_labels_in_ome_image(target, image)
    assert str(engine.value) == said
    with pytest.raises(CliError) as cli:
        _check_outputs([(image, target)], overwrite=True)
    assert str(cli.value) == said
    assert os.path.islink(target) and not (tmp_path / "gone").exists()


def test_the_cli_and_the_engine_refuse_with_one_line(tmp_path):
    image = _ome_image(tmp_path / "img.zarr")
    other = _ome_image(tmp_path / "other.zarr")
    cases = {
        image / "0" / "labels": "whose arrays it could replace",
        image / "labels" / "nuclei": f"these are {other}'s; write them elsewhere",
    }
    for target, part in cases.items():
        with pytest.raises(ValueError) as engine:
            check_labels_in_ome_image(target, other)
        with pytest.raises(CliError) as cli:
            _check_outputs([(other, target)], overwrite=True)
        assert part in str(engine.value) and str(cli.value) == str(engine.value)
    assert check_labels_in_ome_image(image / "labels" / "nuclei", image) == image
    assert check_labels_in_ome_image(tmp_path / "out.zarr", image) is None
