"""``tessella segment IMAGE.tif -o out.ome.zarr`` writes a standalone OME-Zarr labels image,
as Export's "Labels as OME-Zarr" does (NGFF 0.4, axes with their type and unit, the pixel
size as the scale), with its recipe beside it: it was refused ("the output of one image
must be a .tif/.tiff file"). ``--skip-existing`` and ``--overwrite`` work as for the other
outputs; ``--blockwise`` to a .ome.zarr of an image that is no OME-Zarr is refused in one
line saying what to do instead."""

from __future__ import annotations

import json

import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine.io import read_image
from tests.conftest import DATA

DSB = DATA / "nuclei2d_dsb2018" / "val" / "images"


@pytest.fixture(scope="module")
def image(tmp_path_factory):
    """A real DSB2018 validation image, as an ImageJ TIFF of 0.65 µm pixels."""
    if not DSB.is_dir():
        pytest.skip(f"the shared datasets are not at {DATA} (set TESSELLA_DATA)")
    pixels = tifffile.imread(sorted(DSB.glob("*.tif"))[0])
    path = tmp_path_factory.mktemp("in") / "nuclei.tif"
    tifffile.imwrite(
        path, pixels, imagej=True, resolution=(1 / 0.65, 1 / 0.65), metadata={"unit": "micron"}
    )
    return path


def _segment(*args) -> int:
    return main(["segment", *map(str, args), "--device", "cpu", "-q"])


def test_segment_writes_ome_zarr_labels(tmp_path, image, capsys):
    out = tmp_path / "new" / "out.ome.zarr"  # (its folder made, as for any output)
    assert _segment(image, "-o", out) == 0
    attrs = json.loads((out / ".zattrs").read_text())
    [multiscale] = attrs["multiscales"]
    assert multiscale["version"] == "0.4" and multiscale["name"] == "out"
    assert multiscale["axes"] == [
        {"name": "y", "type": "space", "unit": "micrometer"},
        {"name": "x", "type": "space", "unit": "micrometer"},
    ]
    [dataset] = multiscale["datasets"]
    assert dataset["path"] == "0"
    assert dataset["coordinateTransformations"] == [{"type": "scale", "scale": [0.65, 0.65]}]
    assert "image-label" in attrs
    assert json.loads((out / "0" / ".zarray").read_text())["dimension_separator"] == "/"
    recipe = json.loads((tmp_path / "new" / "out.ome.recipe.json").read_text())
    assert recipe["input"] == str(image)

    tif = tmp_path / "out.tif"
    assert _segment(image, "-o", tif) == 0
    ome, plain = read_image(out), read_image(tif)
    assert ome.axes == plain.axes == "YX"
    assert ome.pixel_size == pytest.approx(plain.pixel_size) == {"Y": 0.65, "X": 0.65}
    labels = np.asarray(ome.data)
    assert labels.max() > 10 and np.array_equal(labels, np.asarray(plain.data))

    # as for .zarr: refused without --overwrite, kept by --skip-existing, replaced by --overwrite
    capsys.readouterr()
    assert _segment(image, "-o", out) == 1
    assert "exists; pass --overwrite" in capsys.readouterr().err
    chunk = out / "0" / "0" / "0"
    before = chunk.stat().st_mtime_ns
    assert main(["segment", str(image), "-o", str(out), "--device", "cpu", "--skip-existing"]) == 0
    assert "skipped nuclei.tif: its labels and recipe are there" in capsys.readouterr().err
    assert chunk.stat().st_mtime_ns == before
    assert _segment(image, "-o", out, "--overwrite") == 0
    assert np.array_equal(np.asarray(read_image(out).data), labels)


def test_blockwise_to_ome_zarr_of_a_plain_zarr_is_refused(tmp_path, image, capsys):
    """Blockwise segmentation of a plain zarr writes a plain zarr array, which the name
    .ome.zarr would pass off as OME-Zarr: refused, saying what to write instead."""
    plain = tmp_path / "nuclei.zarr"
    assert main(["convert", str(image), str(plain)]) == 0
    out = tmp_path / "out.ome.zarr"
    capsys.readouterr()
    assert _segment(plain, "-o", out, "--blockwise") == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert "--blockwise writes OME-Zarr labels only of an OME-Zarr image" in err
    assert "-o out.zarr" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["nuclei.zarr"]
