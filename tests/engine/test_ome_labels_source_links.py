"""OME-Zarr labels written outside their image name it by a relative path only where both lie
close in one tree and neither path goes through a symbolic link; else by its absolute path
(review B, finding 7). Through a link (``proj/out -> ../real/out``) the relative name was
made between the physical paths: from the labels as the user reaches them
(``proj/out/X.zarr``), a reader that joins names lexically (OME-Zarr readers, URLs) landed on
a folder that does not exist. And a common folder far above the labels (more than three
folders up) is no one project's: the name is absolute there too."""

from __future__ import annotations

import json
import os

import pytest

from tessella.cli import main
from tessella.engine.io import read_image
from tests.conftest import write_ome_zarr
from tests.engine.test_blockwise_zarr_out import _label

BASE = ["--model", "nuclei2d", "--no-tta", "--device", "cpu", "-q"]


def _named(labels) -> str:
    return json.loads((labels / ".zattrs").read_text())["image-label"]["source"]["image"]


def _lexically(labels, name: str) -> str:
    """Where a reader that joins names lexically finds the image the labels name."""
    return os.path.normpath(os.path.join(str(labels), name))


@pytest.fixture
def source(tmp_path, nuclei_sample):
    image = nuclei_sample[0][:64, :64]
    return write_ome_zarr(
        tmp_path / "proj" / "data" / "img.zarr",
        image[None, None],
        "czyx",
        [1, 1, 0.5, 0.5],
        (1, 1, 32, 32),
    )


def test_labels_reached_through_a_link_name_their_image_absolutely(tmp_path, source, capsys):
    (tmp_path / "real" / "out").mkdir(parents=True)
    out = tmp_path / "proj" / "out"
    out.symlink_to(os.path.join("..", "real", "out"))
    run = ["segment", str(source), *BASE]
    assert main([*run, "-o", str(out / "memory.zarr")]) == 0, capsys.readouterr().err
    blockwise = ["--blockwise", "--workers", "0", "--block", "32"]
    assert main([*run, "-o", str(out / "blocks.zarr"), *blockwise]) == 0, capsys.readouterr().err
    _label(source, out / "python.zarr")  # segment_blockwise's engine, from Python
    for name in ("memory", "blocks", "python"):
        labels = out / f"{name}.zarr"
        named = _named(labels)
        assert os.path.isabs(named), (name, named)
        found = _lexically(labels, named)  # and the system's way, which follows the link
        assert os.path.realpath(found) == os.path.realpath(labels / named) == str(source)
        assert read_image(found).data.shape[-2:] == (64, 64)


def test_a_common_folder_far_above_the_labels_gives_an_absolute_name(tmp_path, source, capsys):
    project = tmp_path / "proj"
    run = ["segment", str(source), *BASE]
    near = project / "results" / "run1" / "near.zarr"  # three folders up to proj
    far = project / "results" / "2026" / "run1" / "far.zarr"  # four
    for labels in (near, far):
        assert main([*run, "-o", str(labels)]) == 0, capsys.readouterr().err
    assert _named(near) == "../../../data/img.zarr"
    assert _named(far) == str(source)
    for labels in (near, far):
        assert _lexically(labels, _named(labels)) == str(source)
