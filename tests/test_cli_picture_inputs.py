"""tessella segment/evaluate and the engine's reader read 2D PNG/JPEG/BMP pictures (s34 f3 #5;
before: refused, with a command to convert them to TIFF, t13 #8): the axes, pixel types and
channel rules of a TIFF of the same pixels (grey YX, colour YXC averaged for a one-channel
model as an RGB TIFF is), no pixel size, a JPEG with a one-line warning that it is lossy; a
folder's pictures are segmented with its TIFFs. Real DSB2018 crops (128 x 160) written as
pictures into tmp_path, nuclei2d on CPU."""

from __future__ import annotations

import json

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile

from tessella.cli import main
from tessella.engine.io import read_image
from tests.conftest import DATA

VAL = DATA / "nuclei2d_dsb2018" / "val"
NAME = "0402a81e75262469925ea893b6706183832e85324f7b1e08e634129f5d522cdd"
BASE = ["--model", "nuclei2d", "--device", "cpu", "--no-tta", "-q"]


@pytest.fixture(scope="module")
def crop():
    """A real DSB2018 fluorescence crop and its ground-truth labels."""
    image = tifffile.imread(VAL / "images" / f"{NAME}.tif")[:128, :160]
    truth = tifffile.imread(VAL / "masks" / f"{NAME}.tif")[:128, :160]
    return image, truth


@pytest.mark.parametrize("kind", ["grey.png", "rgb.png", "rgb.bmp", "rgba.png"])
def test_reader_reads_a_picture_as_a_tiff_of_its_pixels(tmp_path, crop, kind):
    image = crop[0]
    colour = not kind.startswith("grey")
    pixels = np.repeat(image[..., None], 3, axis=2) if colour else image
    if kind.startswith("rgba"):  # (as napari's screenshots are)
        pixels = np.concatenate([pixels, np.full(image.shape + (1,), 255, np.uint8)], axis=2)
    picture = tmp_path / kind
    iio.imwrite(picture, pixels)
    tifffile.imwrite(tmp_path / "same.tif", pixels)
    read, tiff = read_image(picture), read_image(tmp_path / "same.tif")
    assert read.axes == tiff.axes == ("YXC" if colour else "YX")
    assert read.stored_axes == tiff.stored_axes and read.stated_axes == tiff.stated_axes
    np.testing.assert_array_equal(read.data, tiff.data)
    assert (read.pixel_size, read.unit) == ({}, "pixel")
    one = read_image(picture, channel=1) if colour else None
    if one is not None:
        assert one.axes == "YX"
        np.testing.assert_array_equal(one.data, image)


def test_reader_reads_16_bit_grey_and_names_a_broken_picture(tmp_path, crop):
    deep = crop[0].astype(np.uint16) * 257
    iio.imwrite(tmp_path / "deep.png", deep)
    read = read_image(tmp_path / "deep.png")
    assert read.data.dtype == np.uint16
    np.testing.assert_array_equal(read.data, deep)
    (tmp_path / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(ValueError, match="broken.png: cannot read it as a PNG picture"):
        read_image(tmp_path / "broken.png")


def test_a_png_and_a_jpeg_segment_as_their_tiff(tmp_path, crop, capsys):
    """A grey PNG gives the labels of the TIFF of the same pixels; a colour JPEG those of
    the colour TIFF of its pixels as decoded, with one warning that JPEG is lossy."""
    image = crop[0]
    iio.imwrite(tmp_path / "grey.png", image)
    tifffile.imwrite(tmp_path / "grey.tif", image)
    colour = np.repeat(image[..., None], 3, axis=2)
    iio.imwrite(tmp_path / "colour.jpg", colour, quality=90)
    tifffile.imwrite(tmp_path / "decoded.tif", iio.imread(tmp_path / "colour.jpg"))
    labels = {}
    for name in ("grey.png", "grey.tif", "colour.jpg", "decoded.tif"):
        out = tmp_path / f"labels_{name.replace('.', '_')}.tif"
        assert main(["segment", str(tmp_path / name), "-o", str(out), *BASE]) == 0
        err = capsys.readouterr().err
        if name.endswith(".jpg"):
            assert err.count("warning:") == 1 and "JPEG is lossy" in err, err
        else:
            assert "warning" not in err, err
        labels[name] = tifffile.imread(out)
    assert labels["grey.png"].max() > 5  # nuclei found
    np.testing.assert_array_equal(labels["grey.png"], labels["grey.tif"])
    np.testing.assert_array_equal(labels["colour.jpg"], labels["decoded.tif"])
    recipe = json.loads((tmp_path / "labels_grey_png.recipe.json").read_text())
    assert recipe["input"] == str(tmp_path / "grey.png")


def test_a_folder_of_pictures_is_segmented_and_skip_existing_keeps_it(tmp_path, crop, capsys):
    image = crop[0]
    folder = tmp_path / "plate"
    folder.mkdir()
    iio.imwrite(folder / "a.png", image)
    iio.imwrite(folder / "b.bmp", np.repeat(image[:, ::-1, None], 3, axis=2))
    tifffile.imwrite(folder / "c.tif", image[::-1])
    (folder / "notes.txt").write_text("plate 1")
    (folder / "d.gif").write_bytes(b"GIF89a")
    out = tmp_path / "out"
    assert main(["segment", str(folder), "-o", str(out), *BASE[:-1]]) == 0
    err = capsys.readouterr().err
    assert f"{folder}: skipped d.gif, notes.txt (not TIFF nor PNG/JPEG/BMP)" in err, err
    assert sorted(p.name for p in out.glob("*.tif")) == ["a.tif", "b.tif", "c.tif"]
    assert all(tifffile.imread(out / n).max() > 5 for n in ("a.tif", "b.tif", "c.tif"))
    assert main(["segment", str(folder), "-o", str(out), "--skip-existing", *BASE[:-1]]) == 0
    assert "skipped all 3 images" in capsys.readouterr().err
    # a.png and a.tif would both be written as a.tif: refused before any work
    tifffile.imwrite(folder / "a.tif", image)
    assert main(["segment", str(folder), "-o", str(tmp_path / "other"), *BASE]) == 1
    said = capsys.readouterr().err
    assert f"{folder / 'a.png'} and a.tif would both be written as a.tif" in said, said
    assert not (tmp_path / "other").exists()


def test_evaluate_reads_pngs(tmp_path, crop, capsys):
    """A prediction and its ground truth as 16-bit PNGs score as the same labels as TIFFs."""
    truth = crop[1].astype(np.uint16)
    predicted = truth.copy()
    predicted[predicted == predicted.max()] = 0  # one object missed
    scores = {}
    for suffix, write in ((".png", iio.imwrite), (".tif", tifffile.imwrite)):
        write(tmp_path / f"pred{suffix}", predicted)
        write(tmp_path / f"gt{suffix}", truth)
        pred, gt = str(tmp_path / f"pred{suffix}"), str(tmp_path / f"gt{suffix}")
        out = tmp_path / f"scores{suffix}.json"
        assert main(["evaluate", pred, gt, "--json", str(out)]) == 0, capsys.readouterr().err
        scores[suffix] = json.loads(out.read_text())
        assert scores[suffix]["images"][0].pop("name") == f"gt{suffix}"
    assert scores[".png"] == scores[".tif"]
    assert scores[".png"]["images"][0]["n_pred"] == scores[".png"]["images"][0]["n_true"] - 1


def _voc_palette() -> list[int]:
    """The colour map of PASCAL VOC's masks (what annotation tools save label PNGs with)."""
    colours = []
    for index in range(256):
        r = g = b = 0
        c = index
        for bit in range(8):
            r |= ((c >> 0) & 1) << (7 - bit)
            g |= ((c >> 1) & 1) << (7 - bit)
            b |= ((c >> 2) & 1) << (7 - bit)
            c >>= 3
        colours += [r, g, b]
    return colours


def test_a_palette_png_of_labels_is_read_as_its_ids(tmp_path, crop, capsys):
    """A label mask saved as a palette (indexed) PNG, VOC's colour map or a grey one, was read
    as RGB (its IDs lost: `tessella evaluate pred.tif mask.png` refused the shape 128 x 160
    x 3). Now read as its indices (a grey palette: its greys, the same here), and scores as
    the TIFF mask does; 1-bit and grey + alpha PNGs as labels too (s34 r11 #3). Fails before
    the fix."""
    from PIL import Image

    truth = crop[1].astype(np.uint8)
    assert 1 < truth.max() < 255
    voc = Image.fromarray(truth, "P")
    voc.putpalette(_voc_palette())
    voc.save(tmp_path / "voc.png")
    Image.fromarray(truth).convert("P").save(tmp_path / "grey_palette.png")  # (identity)
    Image.fromarray(truth).convert("LA").save(tmp_path / "grey_alpha.png")
    Image.fromarray(truth > 0).save(tmp_path / "one_bit.png")
    for name in ("voc.png", "grey_palette.png", "grey_alpha.png"):
        assert Image.open(tmp_path / name).mode in ("P", "LA")
        read = read_image(tmp_path / name)
        assert read.axes == "YX", name
        np.testing.assert_array_equal(read.data, truth)
    one = read_image(tmp_path / "one_bit.png")
    assert Image.open(tmp_path / "one_bit.png").mode == "1"
    assert one.axes == "YX" and one.data.dtype == np.uint8
    np.testing.assert_array_equal(one.data, (truth > 0).astype(np.uint8))
    predicted = truth.copy()
    predicted[predicted == predicted.max()] = 0
    tifffile.imwrite(tmp_path / "pred.tif", predicted)
    tifffile.imwrite(tmp_path / "gt.tif", truth)
    scores = {}
    for name in ("gt.tif", "voc.png", "grey_palette.png"):
        out = tmp_path / f"{name}.json"
        args = ["evaluate", str(tmp_path / "pred.tif"), str(tmp_path / name), "--json", str(out)]
        assert main(args) == 0, capsys.readouterr().err
        scores[name] = json.loads(out.read_text())["images"][0]
        scores[name].pop("name")
    assert scores["voc.png"] == scores["gt.tif"] == scores["grey_palette.png"]
    assert scores["voc.png"]["n_true"] == len(np.unique(truth)) - 1


def test_a_grey_palette_picture_segments_as_its_grey(tmp_path, crop):
    """An image saved as a grey palette PNG (Pillow's convert("P") of a grey picture) is read
    as the same greys: the reader gives the same pixels as the grey PNG."""
    from PIL import Image

    image = crop[0]
    Image.fromarray(image).convert("P").save(tmp_path / "palette.png")
    iio.imwrite(tmp_path / "grey.png", image)
    np.testing.assert_array_equal(
        read_image(tmp_path / "palette.png").data, read_image(tmp_path / "grey.png").data
    )
