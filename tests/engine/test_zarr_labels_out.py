"""How labels are written to zarr and OME-Zarr, and how each format spells the unit: labels
of a zarr v2 image are v2; labels written to ``IMAGE.zarr/labels/NAME`` are the image's
OME-NGFF labels (listed in its labels group, naming it relatively, its scale and UDUNITS
units) and nothing else of the image is touched; the micrometre is "micron" in an ImageJ
TIFF, "µm" in an OME-TIFF, "micrometer" in OME-Zarr, whatever spelling it was given in."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import tifffile
import zarr

from tessella.cli import main
from tessella.engine.io import read_image, write_labels, write_zarr_labels
from tests.conftest import write_ome_zarr


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def test_labels_of_a_v2_zarr_image_are_v2(tmp_path, nuclei_sample, tiny_model_dir):
    """`segment in.zarr -o out.zarr` wrote zarr v3 labels of a v2 image, which the v2-only
    tools that read the image (older napari-ome-zarr, Fiji's N5/zarr, vizarr) cannot open;
    the labels now take the image's zarr format (v3 stays v3), with its pixel size."""
    image = nuclei_sample[0][:96, :96]
    attrs = {"tessella_axes": "YX", "pixel_size": {"Y": 0.5, "X": 0.5}, "unit": "micron"}
    for form in (2, 3):
        source = tmp_path / f"in{form}.zarr"
        array = zarr.create_array(
            str(source), shape=image.shape, dtype=image.dtype, chunks=(48, 48), zarr_format=form
        )
        array[...] = image
        array.attrs.update(attrs)
        out = tmp_path / f"out{form}.zarr"
        args = ["segment", str(source), "-o", str(out), "--model", str(tiny_model_dir), "-q"]
        assert main(args) == 0
        written = zarr.open_array(str(out), mode="r")
        assert written.metadata.zarr_format == form
        if form == 2:  # a codec every v2 reader decodes
            assert json.loads((out / ".zarray").read_text())["compressor"]["id"] == "blosc"
        back = read_image(out)
        assert back.labels and back.axes == "YX" and back.data.shape == image.shape
        assert back.pixel_size == {"Y": 0.5, "X": 0.5} and back.unit == "µm"


def test_labels_go_into_the_ome_zarr_images_labels_group(
    tmp_path, nuclei_sample, tiny_model_dir, capsys
):
    """`-o image.zarr/labels/NAME.zarr` made a labels group unlisted (no labels/.zgroup, no
    labels/.zattrs), which OME-NGFF readers (ome-zarr-py, so napari-ome-zarr) do not find,
    named the image by an absolute path, and every label "tessella labels". Now: listed (a
    second name added, the first kept), naming the image "../../", called NAME, with the
    image's scale and "micrometer"; the image's own files unchanged; a rerun with
    --skip-existing skips it; elsewhere in the image, or in another image's labels group,
    is refused in one line and nothing is written."""
    image = nuclei_sample[0][:96, :96]
    source = write_ome_zarr(
        tmp_path / "img.zarr", image[None, None], "czyx", [1.0, 1.0, 0.5, 0.25], (1, 1, 48, 48)
    )
    before = _files(source)
    model = ["--model", str(tiny_model_dir), "-q"]
    for name in ("nuclei.zarr", "cells.zarr"):
        out = source / "labels" / name
        assert main(["segment", str(source), "-o", str(out), *model]) == 0
    group = json.loads((source / "labels" / ".zattrs").read_text())
    assert group["labels"] == ["nuclei.zarr", "cells.zarr"]
    assert json.loads((source / "labels" / ".zgroup").read_text())["zarr_format"] == 2
    attrs = json.loads((source / "labels" / "nuclei.zarr" / ".zattrs").read_text())
    assert attrs["image-label"]["source"]["image"] == "../../"
    [multiscale] = attrs["multiscales"]
    assert multiscale["name"] == "nuclei"  # (napari-ome-zarr's layer name)
    assert [a["name"] for a in multiscale["axes"]] == ["y", "x"]
    assert [a["unit"] for a in multiscale["axes"]] == ["micrometer", "micrometer"]
    [dataset] = multiscale["datasets"]
    assert dataset["coordinateTransformations"] == [{"type": "scale", "scale": [0.5, 0.25]}]
    after = _files(source)
    assert {k: v for k, v in after.items() if not k.startswith("labels")} == before
    labels = read_image(source / "labels" / "nuclei.zarr")
    assert labels.labels and labels.data.shape == image.shape
    assert labels.pixel_size == {"Y": 0.5, "X": 0.25}

    out = source / "labels" / "nuclei.zarr"
    args = ["segment", str(source), "-o", str(out), *model[:2], "--skip-existing"]
    capsys.readouterr()
    assert main(args) == 0
    said = capsys.readouterr()
    assert "skipped img.zarr" in said.out + said.err  # the labels group is none of the image
    assert _files(source) == after

    other = write_ome_zarr(
        tmp_path / "other.zarr", image[None, None], "czyx", [1.0, 1.0, 0.5, 0.25], (1, 1, 48, 48)
    )
    for out, said in (
        (source / "seg.zarr", "is inside the OME-Zarr image"),
        (source / "0.zarr", "is inside the OME-Zarr image"),
        (other / "labels" / "nuclei.zarr", "holds that image's labels"),
    ):
        capsys.readouterr()
        assert main(["segment", str(source), "-o", str(out), *model, "--overwrite"]) == 1
        err = capsys.readouterr().err.strip()
        assert said in err and len(err.splitlines()) == 1, err
        assert not out.exists()
    assert _files(source) == after


def test_labels_group_of_an_ome_zarr_05_image_is_v3(tmp_path, nuclei_sample):
    """An OME-Zarr 0.5 (zarr v3) image's labels group is made v3, with ``ome.labels``; a
    labels group already there keeps its other labels and attributes."""
    from tessella.engine.io._zarr import register_ome_labels

    image = zarr.open_group(str(tmp_path / "img.zarr"), mode="w", zarr_format=3)
    image.create_array("0", shape=(32, 32), dtype="uint8")
    axes = [{"name": n, "type": "space", "unit": "micrometer"} for n in "yx"]
    datasets = [{"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [1, 1]}]}]
    image.attrs["ome"] = {"version": "0.5", "multiscales": [{"axes": axes, "datasets": datasets}]}
    assert register_ome_labels(tmp_path / "img.zarr" / "labels" / "nuclei")
    meta = json.loads((tmp_path / "img.zarr" / "labels" / "zarr.json").read_text())
    assert meta["node_type"] == "group" and meta["zarr_format"] == 3
    assert meta["attributes"]["ome"] == {"version": "0.5", "labels": ["nuclei"]}
    meta["attributes"]["ome"]["labels"] = ["cells"]
    meta["attributes"]["mine"] = 1
    (tmp_path / "img.zarr" / "labels" / "zarr.json").write_text(json.dumps(meta))
    assert register_ome_labels(tmp_path / "img.zarr" / "labels" / "nuclei")
    meta = json.loads((tmp_path / "img.zarr" / "labels" / "zarr.json").read_text())
    assert meta["attributes"] == {
        "ome": {"version": "0.5", "labels": ["cells", "nuclei"]},
        "mine": 1,
    }
    assert not register_ome_labels(tmp_path / "labels" / "nuclei")  # in no image


@pytest.mark.parametrize("given", ["µm", "μm", "um", "micron", "micrometer", "micrometre"])
def test_each_format_spells_the_micrometre_its_own_way(tmp_path, nuclei_sample, given):
    """ImageJ TIFF: "micron" (a "micrometer" was written as such); OME-TIFF: OME's "µm"
    (a "micrometer" was written, which is no OME unit); OME-Zarr: UDUNITS "micrometer" (an
    image whose axes said "µm" passed it on); Tessella's zarr attributes: "µm". Each reads
    back as µm with its pixel size."""
    from tessella.engine.io import create_ome_labels

    labels = nuclei_sample[1][:64, :64]
    size = {"Y": 0.5, "X": 0.25}
    imagej = write_labels(tmp_path / "ij.tif", labels, "YX", size, given)
    with tifffile.TiffFile(imagej) as tif:
        assert tif.imagej_metadata["unit"] == "micron"
    ome = write_labels(tmp_path / "ome.tif", labels.astype(np.uint32) + 70000, "YX", size, given)
    with tifffile.TiffFile(ome) as tif:
        assert tif.is_ome and 'PhysicalSizeXUnit="µm"' in tif.ome_metadata
    plain = write_zarr_labels(tmp_path / "plain.zarr", labels, "YX", size, given)
    assert zarr.open_array(str(plain), mode="r").attrs["unit"] == "µm"
    axes = [{"name": n, "type": "space", "unit": given} for n in "yx"]
    layout = {"version": "0.4", "axes": axes, "scale": [0.5, 0.25], "source": None}
    create_ome_labels(tmp_path / "labels.zarr", labels.shape, "uint16", (32, 32), layout)
    attrs = json.loads((tmp_path / "labels.zarr" / ".zattrs").read_text())
    assert [a["unit"] for a in attrs["multiscales"][0]["axes"]] == ["micrometer"] * 2
    for path in (imagej, ome, plain):
        back = read_image(path)
        assert back.unit == "µm" and back.pixel_size == pytest.approx(size), path
