"""``tessella segment IMG.zarr --blockwise -o IMG.zarr/labels/NAME``: OME-NGFF's name for an
image's labels (no ``.zarr``), which the in-memory run takes and the README shows, is taken by
``--blockwise`` too, and the labels are written and listed as in memory: OME-Zarr labels
(``image-label`` naming the image ``../../``, its scale), listed in the image's ``labels``
group, equal to the in-memory labels at AP(0.5) >= 0.99. A name other than ``.zarr`` outside
an OME-Zarr image's labels group is still refused ("--blockwise writes zarr"). Python's
``segment_blockwise`` takes the name as well.

Before: ``--blockwise`` refused ``IMG.zarr/labels/nuclei`` ("--blockwise writes zarr; name the
output .zarr") while the in-memory run wrote it."""

from __future__ import annotations

import json

import numpy as np
import pytest
import zarr

from tessella.cli import main
from tessella.engine._metrics_matching import matching
from tessella.engine.blockwise import segment_blockwise
from tests.conftest import write_ome_zarr

OPTIONS = ["--model", "nuclei2d", "--no-tta", "--device", "cpu", "-q"]


@pytest.fixture
def image(tmp_path, nuclei_sample):
    """A real nuclei image as an OME-Zarr 0.4 image (CZYX, singletons kept, 0.5 µm pixels)."""
    pixels = nuclei_sample[0][:192, :192]
    return write_ome_zarr(
        tmp_path / "img.zarr", pixels[None, None], "czyx", [1, 1, 0.5, 0.5], (1, 1, 64, 64)
    )


def _attrs(path):
    return json.loads((path / ".zattrs").read_text())


def _labels(path):
    return np.asarray(zarr.open_group(str(path), mode="r")["0"][...]).squeeze()


def test_blockwise_takes_the_ngff_labels_name_as_in_memory(image, capsys):
    memory, blockwise = image / "labels" / "memory", image / "labels" / "nuclei"
    assert main(["segment", str(image), "-o", str(memory), *OPTIONS]) == 0
    args = ["-o", str(blockwise), "--blockwise", "--workers", "0", "--block", "128"]
    assert main(["segment", str(image), *args, *OPTIONS]) == 0, capsys.readouterr().err
    assert capsys.readouterr().err == ""
    # listed in the image's labels group, as NGFF readers find them
    assert _attrs(image / "labels")["labels"] == ["memory", "nuclei"]
    for path in (memory, blockwise):
        attrs = _attrs(path)
        assert attrs["image-label"]["source"]["image"] == "../../"
        [scale] = attrs["multiscales"][0]["datasets"][0]["coordinateTransformations"]
        assert scale == {"type": "scale", "scale": [0.5, 0.5]}, scale  # YX, as read
        assert attrs["multiscales"][0]["name"] == path.name
    assert _attrs(memory)["multiscales"][0]["axes"] == _attrs(blockwise)["multiscales"][0]["axes"]
    # the recipe beside them, as in memory (and the zarr's own attribute)
    recipe = json.loads((image / "labels" / "nuclei.recipe.json").read_text())
    assert recipe["blockwise"]["block"] == [128, 128]
    assert (image / "labels" / "memory.recipe.json").is_file()
    expected, got = _labels(memory), _labels(blockwise)
    assert expected.shape == got.shape == (192, 192) and expected.max() > 20
    assert matching(expected, got, 0.5).ap >= 0.99
    # --skip-existing keeps the finished blockwise labels (their recipe in the labels group)
    again = ["segment", str(image), *args, "--skip-existing", *OPTIONS[:-1]]
    assert main(again) == 0
    assert capsys.readouterr().err.strip() == "skipped img.zarr: its labels and recipe are there"
    # its recipe replays blockwise into another NGFF name, with the same blocks: the same labels
    again = image / "labels" / "again"
    replay = ["-o", str(again), "--recipe", str(image / "labels" / "nuclei.recipe.json")]
    assert main(["segment", str(image), *replay, "--workers", "0", *OPTIONS[:-1]]) == 0
    assert "replaying it blockwise" in capsys.readouterr().err
    assert _attrs(image / "labels")["labels"] == ["memory", "nuclei", "again"]
    np.testing.assert_array_equal(_labels(again), got)


def test_python_blockwise_takes_the_ngff_labels_name(image, nuclei2d):
    out = image / "labels" / "cells"
    result = segment_blockwise(image, out, nuclei2d, block=128, tta=False, device="cpu")
    assert result.n_objects > 20
    assert _attrs(image / "labels")["labels"] == ["cells"]
    assert _attrs(out)["image-label"]["source"]["image"] == "../../"


@pytest.mark.parametrize("name", ["out", "out.tif"])
def test_blockwise_still_refuses_a_name_other_than_zarr_outside_an_ome_image(
    image, tmp_path, capsys, name
):
    out = tmp_path / name
    args = ["-o", str(out), "--blockwise", "--workers", "0"]
    assert main(["segment", str(image), *args, *OPTIONS]) == 1
    err = capsys.readouterr().err.strip()
    assert err.endswith(f"{out}: --blockwise writes zarr; name the output .zarr"), err
    assert len(err.splitlines()) == 1 and not out.exists()


def test_another_images_labels_group_is_refused_as_in_memory(image, tmp_path, capsys):
    other = write_ome_zarr(
        tmp_path / "other.zarr", np.zeros((1, 1, 8, 8), "uint8"), "czyx", [1, 1, 1, 1], (1, 1, 8, 8)
    )
    out = other / "labels" / "nuclei"
    said = []
    for blockwise in ([], ["--blockwise", "--workers", "0"]):
        assert main(["segment", str(image), "-o", str(out), *blockwise, *OPTIONS]) == 1
        said.append(capsys.readouterr().err.strip())
    assert said[0] == said[1] and said[0].endswith(f"these are {image}'s; write them elsewhere")
    assert not out.exists() and not (other / "labels").exists()
