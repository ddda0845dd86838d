"""An intensity image given as the labels is refused before any training, naming the file (user
test t14, finding 2): a ``masks/`` file holding the H&E image's grey values trained without a
word (loss 3.5 against about 1.0, nothing in the card). Real label images of every kind in the
shared data are taken: many-ID instance masks, CTC SEG/TRA, BBBC010's worms (numbered or
bitmasks), ISBI membrane maps, Lucchi++ binary mitochondria (a semantic model's labels) and
its numbered ones; their images are refused."""

from __future__ import annotations

import re

import numpy as np
import pytest
import tifffile
from scipy import ndimage

from tessella.cli import main
from tessella.engine.train._binary_labels import _refuse_binary_masks
from tessella.engine.train._intensity_labels import _refuse_intensity_labels
from tessella.engine.train.data import Sample

TINY = [
    "--epochs", "1", "--steps-per-epoch", "1", "--batch-size", "2", "--patch", "64",
    "--device", "cpu", "--features", "4,8", "-q",
]  # fmt: skip


def _dsb(data_dir, short, sub="images"):
    return next((data_dir / "nuclei2d_dsb2018" / "train" / sub).glob(f"{short}*.tif"))


def _grey(image):
    """An RGB image's grey values as a Labels layer would hold them (t14: mean, uint16)."""
    return image[..., :3].mean(-1).astype(np.uint16) if image.ndim == 3 else image


def test_tessella_train_refuses_an_image_given_as_a_mask_by_name(tmp_path, data_dir, capsys):
    data = tmp_path / "data"
    for sub in ("images", "masks"):
        (data / sub).mkdir(parents=True)
    for short in ("00ae65c1", "0121d675", "0bf33d3d"):
        image = tifffile.imread(_dsb(data_dir, short))
        (data / "images" / f"he_{short}.tif").symlink_to(_dsb(data_dir, short))
        mask = tifffile.imread(_dsb(data_dir, short, "masks"))
        tifffile.imwrite(
            data / "masks" / f"he_{short}.tif", _grey(image) if short == "0121d675" else mask
        )
    out = tmp_path / "model"
    code = main(["train", "embedding", "--data", str(data), "--out", str(out), *TINY])
    err = capsys.readouterr().err.strip()
    assert code == 1 and len(err.splitlines()) == 1, err
    assert err.startswith(
        f"tessella train: error: {data}: the labels of 'he_0121d675.tif' change from pixel to "
        "pixel as an image's grey levels do (152 values; 15% of neighbouring labelled pixels"
    ), err
    assert "an intensity image, not labels?" in err and "one ID per object" in err, err
    assert not out.exists()


def _real_labels(data_dir):
    """(name, labels, whether they are an instance method's) of every kind in the shared data,
    as the training loaders give them (worms: the bitmask of their object masks)."""
    d = data_dir
    dsb = max(
        (d / "nuclei2d_dsb2018" / "train" / "masks").glob("a102535b*.tif"), key=lambda p: p.name
    )
    mito = tifffile.imread(d / "em_mito_lucchipp" / "val" / "mito.tif")[:6]
    worms = tifffile.imread(d / "worms_bbbc010" / "worm_masks" / "A01.tif")
    bits = np.zeros(worms.shape[1:], np.int32)
    for i, worm in enumerate(worms):
        bits[worm > 0] |= 1 << i
    ctc = d / "ctc_Fluo-N2DH-SIM+" / "01_GT"
    gowt1 = sorted((d / "ctc_Fluo-N2DH-GOWT1" / "01_GT" / "SEG").glob("*.tif"))[0]
    return [
        ("DSB2018 375 nuclei", tifffile.imread(dsb), True),
        ("SIM+ SEG", tifffile.imread(ctc / "SEG" / "man_seg010.tif"), True),
        ("SIM+ TRA", tifffile.imread(ctc / "TRA" / "man_track010.tif"), True),
        ("GOWT1 SEG", tifffile.imread(gowt1), True),
        ("BBBC010 worms, bitmask", bits, True),
        ("Lucchi++ mito numbered", ndimage.label(mito > 0)[0], True),
        ("Lucchi++ mito binary", mito, False),
        ("ISBI membranes", tifffile.imread(d / "em_membranes_isbi2012/boundaries/00.tif"), False),
        ("3D fixture", tifffile.imread(d / "fixtures" / "mask3d.tif"), True),
    ]  # fmt: skip


def _images(data_dir):
    d = data_dir
    return [
        ("DSB2018 H&E", _grey(tifffile.imread(_dsb(d, "0121d675")))),
        ("DSB2018 fluorescence", tifffile.imread(d / "fixtures" / "img2d.tif").astype(np.uint16)),
        ("SIM+ frame", tifffile.imread(d / "ctc_Fluo-N2DH-SIM+" / "01" / "t010.tif")),
        ("BBBC010 brightfield", tifffile.imread(d / "worms_bbbc010" / "brightfield" / "A01.tif")),
        ("ISBI", tifffile.imread(d / "em_membranes_isbi2012" / "images" / "00.tif")),
        ("Lucchi++", tifffile.imread(d / "em_mito_lucchipp" / "val" / "image.tif")[:6]),
    ]


def test_real_labels_of_every_kind_are_taken_and_their_images_refused(data_dir):
    """A sample of the measurement over every mask set and image of the shared data (all
    DSB2018's 664 masks, CTC's 252 SEG/TRA frames, BBBC010's 50 wells, ...: no mask refused,
    every image refused; the module docstring's figures)."""
    for name, labels, objects in _real_labels(data_dir):
        sample = Sample(None, np.asarray(labels).astype(np.int32), name)
        _refuse_intensity_labels([sample], "data", objects)  # taken: no error
        _refuse_intensity_labels([sample], "data", False)  # (as a semantic model's)
        if objects:  # the instance methods' whole check, binary masks too
            assert _refuse_binary_masks([sample], "embedding", "data") == ""
    for name, image in _images(data_dir):
        for objects in (True, False):
            with pytest.raises(
                ValueError, match=re.escape(f"the labels of '{name}' change from pixel")
            ):
                _refuse_intensity_labels([Sample(None, image.astype(np.int32), name)], "", objects)


def test_a_smoothed_image_is_refused_for_an_instance_method(data_dir):
    """A denoised, dim image is flat in places as labels are (97% of its neighbouring pixels
    equal here), but each of its 48 grey levels lies in 18 pieces on average: refused for an
    instance method, where each ID must be one object. Several refused are named at once."""
    image = _grey(tifffile.imread(_dsb(data_dir, "07761fa3"))).astype(float)  # fluorescence
    smooth = (ndimage.gaussian_filter(image, 2) / 4).astype(np.int32)
    samples = [Sample(None, smooth, "smooth"), Sample(None, smooth, "smooth 2")]
    with pytest.raises(ValueError) as refused:
        _refuse_intensity_labels(samples, "data")
    said = str(refused.value)
    assert said.startswith("data: the labels of 'smooth' hold "), said
    assert "separate pieces on average" in said and "(1 more: 'smooth 2')" in said, said


def test_bitmask_labels_sharing_bits_between_far_apart_objects_are_taken(data_dir):
    """Overlapping objects' bitmask labels reuse a bit for objects far apart
    (``Sample.shared``): that value lies in several pieces, as no instance label does (here
    BBBC010's 15 worms on 4 bits: 3.2 pieces a value), yet they are labels."""
    worms = tifffile.imread(data_dir / "worms_bbbc010" / "worm_masks" / "A01.tif")
    bits = np.zeros(worms.shape[1:], np.int32)
    for i, worm in enumerate(worms):
        bits[worm > 0] |= 1 << (i % 4)
    _refuse_intensity_labels([Sample(None, bits, "A01.tif", shared=0b1111)], "data")
    with pytest.raises(ValueError, match="separate pieces on average"):  # (unmarked: refused)
        _refuse_intensity_labels([Sample(None, bits, "A01.tif")], "data")


def test_tessella_train_semantic_refuses_an_image_given_as_a_mask(tmp_path, data_dir, capsys):
    """The semantic method learns a foreground mask (any 0/1 mask is fine: the Lucchi++
    mitochondria train em-mito2d), not an intensity image: Lucchi++ slices with one mask the
    slice itself are refused, naming it alone (the binary masks beside it pass)."""
    lucchi = data_dir / "em_mito_lucchipp" / "val"
    image, mito = (
        tifffile.imread(lucchi / f"{n}.tif")[:3, :128, 192:320] for n in ("image", "mito")
    )
    data = tmp_path / "data"
    for sub in ("images", "masks"):
        (data / sub).mkdir(parents=True)
    for z in range(3):
        tifffile.imwrite(data / "images" / f"z{z}.tif", image[z])
        tifffile.imwrite(data / "masks" / f"z{z}.tif", image[z] if z == 1 else mito[z])
    out = tmp_path / "model"
    code = main(["train", "semantic", "--data", str(data), "--out", str(out), *TINY])
    err = capsys.readouterr().err.strip()
    assert code == 1 and err.startswith(
        f"tessella train: error: {data}: the labels of 'z1.tif' change from pixel to pixel"
    ), err
    assert err.endswith("one ID per object (or a foreground mask: 0 and 1)"), err
    assert not out.exists()
