"""What a blockwise run writes, as in memory (``tests/engine/test_zarr_labels_out.py``): labels
of a zarr v2 image are v2 (Blosc-LZ4) with the unit spelled "µm"; labels written to
``IMAGE.zarr/labels/NAME`` are listed in the image's labels group when the run ends (not when
it is cancelled), naming the image "../../"; elsewhere inside an OME-Zarr image, or in
another image's labels group, the run is refused before any block; and every caller's
recipe (the napari panel's too) records the zarr input's ``input_identity``, which
``--skip-existing`` compares.

Before: ``--blockwise`` wrote v3 labels of a v2 image with the unit as read ("micrometer"),
wrote labels into an image's labels group without listing them (ome-zarr-py found none),
wrote them anywhere inside an image, and the panel's recipe had no ``input_identity``
(``--skip-existing`` then kept labels of an input rewritten since)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import zarr
from scipy import ndimage

from tessella.cli import main
from tessella.engine.blockwise import BlockwiseSupport, FunctionSegmenter, label_blocks_steps
from tessella.engine.input_record import INPUT_KEY, input_changes
from tessella.engine.io import ImageData, read_image
from tessella.engine.pipeline import run_steps
from tests.conftest import write_ome_zarr

BLOCKS = {"block": 32, "halo": 0, "support": BlockwiseSupport(0, "touch")}


LEVEL = 40  # the nuclei's foreground, a fixed threshold (a block's mean is not the image's)


def components(image, axes, origin):
    return ndimage.label(image > LEVEL)[0]


def _label(image, out, **options):
    steps = label_blocks_steps(image, out, FunctionSegmenter(components), **BLOCKS, **options)
    return run_steps(steps)


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()}


def _plain_zarr(path: Path, image, form: int, unit: str = "micrometer") -> Path:
    array = zarr.create_array(
        str(path), shape=image.shape, dtype=image.dtype, chunks=(32, 32), zarr_format=form
    )
    array[...] = image
    array.attrs.update({"tessella_axes": "YX", "pixel_size": {"Y": 0.5, "X": 0.5}, "unit": unit})
    return path


def test_blockwise_labels_of_a_v2_zarr_are_v2_with_the_unit_spelled_for_zarr(
    tmp_path, nuclei_sample
):
    image = nuclei_sample[0][:64, :64]
    for form in (2, 3):
        source = _plain_zarr(tmp_path / f"in{form}.zarr", image, form)
        out = tmp_path / f"out{form}.zarr"
        _label(source, out)
        written = zarr.open_array(str(out), mode="r")
        assert written.metadata.zarr_format == form
        if form == 2:  # zarr-python 2's default codec, which every v2 reader decodes
            compressor = json.loads((out / ".zarray").read_text())["compressor"]
            assert (compressor["id"], compressor["cname"]) == ("blosc", "lz4")
        assert written.attrs["unit"] == "µm"  # (as read: "micrometer")
        back = read_image(out)
        assert back.pixel_size == {"Y": 0.5, "X": 0.5} and back.unit == "µm"
        got = np.asarray(back.data)
        assert got.max() >= 3  # (the nuclei of the crop)
        np.testing.assert_array_equal(got > 0, image > LEVEL)


def test_blockwise_labels_into_the_ome_zarr_images_labels_group_are_listed_at_the_end(
    tmp_path, nuclei_sample
):
    image = nuclei_sample[0][:64, :64]
    source = write_ome_zarr(
        tmp_path / "img.zarr", image[None, None], "czyx", [1.0, 1.0, 0.5, 0.25], (1, 1, 32, 32)
    )
    before = _files(source)
    out = source / "labels" / "nuclei.zarr"
    steps = label_blocks_steps(source, out, FunctionSegmenter(components), **BLOCKS)
    for progress in steps:  # cancelled while segmenting: nothing listed, nothing there
        if progress.stage == "segment" and progress.done >= 2:
            steps.close()
            break
    assert not out.exists() and not (source / "labels" / ".zattrs").exists()
    assert _label(source, out).resumed >= 2  # resumed: listed at its end
    group = json.loads((source / "labels" / ".zattrs").read_text())
    assert group["labels"] == ["nuclei.zarr"]
    assert json.loads((source / "labels" / ".zgroup").read_text())["zarr_format"] == 2
    attrs = json.loads((out / ".zattrs").read_text())
    assert attrs["image-label"]["source"]["image"] == "../../"
    assert attrs["multiscales"][0]["name"] == "nuclei"
    assert attrs["tessella"]["blockwise"]["block"] == [32, 32]  # (its recipe kept)
    assert read_image(out).pixel_size == {"Y": 0.5, "X": 0.25}
    after = _files(source)
    assert {k: v for k, v in after.items() if not k.startswith("labels")} == before


def test_blockwise_elsewhere_in_an_ome_zarr_image_is_refused_before_any_block(
    tmp_path, nuclei_sample
):
    image = nuclei_sample[0][:64, :64]
    source, other = (
        write_ome_zarr(
            tmp_path / name, image[None, None], "czyx", [1.0, 1.0, 0.5, 0.25], (1, 1, 32, 32)
        )
        for name in ("img.zarr", "other.zarr")
    )
    (source / "labels" / "notes").mkdir(parents=True)
    (source / "labels" / "notes" / "todo.txt").write_text("count the mitoses")
    after = _files(source)
    for target, said in (
        (source / "seg.zarr", "is inside the OME-Zarr image"),
        (source / "0" / "x.zarr", "is inside the OME-Zarr image"),
        (other / "labels" / "nuclei.zarr", "holds that image's labels"),
        (source / "labels" / "notes", "holds no OME-Zarr labels"),
    ):
        with pytest.raises(ValueError, match=said):
            _label(source, target, overwrite=True)
        assert not (target.parent / f".{target.name}.blockwise").exists()  # before any block
    assert not (other / "labels").exists()
    assert _files(source) == after


def test_every_callers_blockwise_recipe_records_the_zarr_inputs_identity(tmp_path, nuclei_sample):
    """A run given the layer's array and its file (an ImageData, as the napari panel gives
    it) records the file's ``input_identity`` in its recipe, as ``tessella segment`` does,
    so that a rewritten chunk is told; an array with no file records none."""
    image = nuclei_sample[0][:64, :64]
    source = _plain_zarr(tmp_path / "in.zarr", image, 3)
    layer = ImageData(zarr.open_array(str(source), mode="r"), "YX", {}, "pixel", source)
    out = tmp_path / "out.zarr"
    result = _label(layer, out)
    record = result.recipe[INPUT_KEY]
    assert record["kind"] == "folder" and record["files"] == 4  # (four chunk files)
    assert zarr.open_array(str(out), mode="r").attrs["tessella"][INPUT_KEY] == record
    assert input_changes(record, source) == ""
    zarr.open_array(str(source), mode="r+")[:32, :32] = 0  # a chunk rewritten
    assert "files in it written" in input_changes(record, source)
    result = _label(image, tmp_path / "array.zarr")
    assert INPUT_KEY not in result.recipe


def _segment(*args):
    return main(["segment", *map(str, args), "--model", "nuclei2d", "--no-tta", "--device", "cpu"])


BLOCKWISE = ["--blockwise", "--workers", "0", "--block", "32"]


def test_cli_blockwise_lists_labels_in_the_images_group_and_skips_them_after(
    tmp_path, nuclei_sample, capsys
):
    """`segment IMG.zarr -o IMG.zarr/labels/nuclei.zarr --blockwise` lists them (before:
    unlisted, naming the image by its absolute path); --skip-existing then skips them;
    `-o IMG.zarr/seg.zarr --blockwise` is refused in one line, nothing written."""
    image = nuclei_sample[0][:64, :64]
    source = write_ome_zarr(
        tmp_path / "img.zarr", image[None, None], "czyx", [1.0, 1.0, 0.5, 0.5], (1, 1, 32, 32)
    )
    out = source / "labels" / "nuclei.zarr"
    assert _segment(source, "-o", out, *BLOCKWISE, "-q") == 0, capsys.readouterr().err
    assert json.loads((source / "labels" / ".zattrs").read_text())["labels"] == ["nuclei.zarr"]
    assert json.loads((out / ".zattrs").read_text())["image-label"]["source"]["image"] == "../../"
    assert read_image(out).data.shape == (64, 64)
    after = _files(source)
    capsys.readouterr()
    assert _segment(source, "-o", out, *BLOCKWISE, "--skip-existing") == 0
    said = capsys.readouterr()
    assert "skipped img.zarr" in said.err, said.err
    assert _files(source) == after
    assert _segment(source, "-o", source / "seg.zarr", *BLOCKWISE) == 1
    err = capsys.readouterr().err.strip()
    assert "is inside the OME-Zarr image" in err and len(err.splitlines()) == 1, err
    assert _files(source) == after


def test_skip_existing_tells_a_rewritten_input_of_panel_blockwise_labels(
    tmp_path, nuclei_sample, capsys
):
    """Labels the panel made blockwise (the engine given an ImageData naming its zarr), whose
    recipe was saved beside them (Export; the zarr's ``tessella`` attribute), then the input
    rewritten: --skip-existing redoes them (before: no input_identity, so it kept them)."""
    from tessella.engine.blockwise import segment_blockwise

    image = nuclei_sample[0][:64, :64]
    source = _plain_zarr(tmp_path / "in.zarr", image, 3)
    layer = ImageData(zarr.open_array(str(source), mode="r"), "YX", {"Y": 0.5, "X": 0.5}, "µm")
    layer.path = source
    out = tmp_path / "out.zarr"
    result = segment_blockwise(layer, out, "nuclei2d", tta=False, device="cpu", block=32)
    (tmp_path / "out.recipe.json").write_text(json.dumps(result.recipe))
    capsys.readouterr()
    assert _segment(source, "-o", out, *BLOCKWISE, "--skip-existing") == 0
    said = capsys.readouterr()
    assert "skipped in.zarr" in said.err, said.err  # the same settings and input
    zarr.open_array(str(source), mode="r+")[:32, :32] = image[:32, :32] // 2
    assert _segment(source, "-o", out, *BLOCKWISE, "--skip-existing") == 0
    said = capsys.readouterr()
    assert "redoing out.zarr: input" in said.err and "changed since" in said.err, said.err
    shutil.rmtree(out)
