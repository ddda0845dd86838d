"""The reader tells a file that nothing names as labels (no tag, name, folder or recipe) by its
content, as it tells a folder's frames: instance labels that another tool saved
(StarDist's, cellpose's, CellProfiler's ``result.tif``) are piecewise constant, intensity
images (fluorescence, brightfield, EM; mostly 0 or overexposed) are not."""

import warnings

import numpy as np
import pytest
import tifffile
from scipy import ndimage

from tessella._io import get_reader

DSB = ("nuclei2d_dsb2018", "train")
#: DSB2018's mask that is least piecewise constant of those that tell (0.973 of its 13157
#: pairs of neighbouring pixels both not 0 are equal, the rule's limit 0.9; 100 values, each
#: one region), and its fluorescence image
DSB_LEAST = "c53326fe49fc26b7fe602b9d8c0c2da2cb157690b44c2b9351a93f8d9bd8043d.tif"
#: DSB2018's mask least piecewise constant of all (0.981 of its pairs equal), 5 small nuclei:
#: 692 pairs, too few to tell from a crop of a smoothed image, so an image
DSB_SMALL = "93cfd412c7de5210bbd262ec3a602cfea65072e9272e9fce9b5339a5b9436eb7.tif"
#: DSB2018's images nearest labels by the rule: fluorescence, dim and smooth (0.778);
#: fluorescence with 86 % of its pixels exactly 0 (0.459); brightfield, 1024², 3 % at 255
DSB_SMOOTH = "13c8ff1f49886e91c98ce795c93648ad8634c782ff57eb928ce29496b0425057.tif"
DSB_ZEROS = "f4c4db3df4ff0de90f44b027fc2e28c16bf7e5c75ea75b0a9762bbb7ac86e7a3.tif"
DSB_BRIGHTFIELD = "4e07a653352b30bb95b60ebc6c57afbc7215716224af731c51ff8d430788cd40.tif"


def _dsb(data_dir, kind: str, name: str) -> np.ndarray:
    return tifffile.imread(data_dir.joinpath(*DSB, kind, name))


def _overexposed(image: np.ndarray, gain: int, top: int) -> np.ndarray:
    """``image`` ``gain`` times brighter, clipped at ``top``, as a camera saturates."""
    return np.clip(image.astype(np.int64) * gain, 0, top).astype(image.dtype)


def _read_alone(path) -> tuple[np.ndarray, str]:
    reader = get_reader(str(path))
    assert reader is not None, path
    [(data, _kwargs, kind)] = reader(str(path))
    return np.asarray(data), kind


def test_untagged_instance_labels_open_as_labels_alone_as_in_a_folder(tmp_path, data_dir):
    """A real DSB2018 mask (uint16 instance labels, the one least piecewise constant of those
    that tell) saved without Tessella's tag under a name that says nothing (``result.tif``)
    opens as labels, with a warning naming it, alone as in a folder of two such files
    (before: an image alone, labels in the folder); so does a 3D one (the fixtures' nuclei
    volume) and uint8 labels. A mask too small to tell opens as an image."""
    labels = _dsb(data_dir, "masks", DSB_LEAST)
    assert labels.dtype == np.uint16 and labels.max() > 1
    volume = tifffile.imread(data_dir / "fixtures" / "mask3d.tif")
    out = tmp_path / "out"
    out.mkdir()
    for name, data in [
        ("result.tif", labels),
        ("result_8bit.tif", labels.astype(np.uint8)),
        ("nuclei3d.tif", volume),
        ("other.tif", labels[::-1, ::-1]),
    ]:
        tifffile.imwrite(out / name, data)  # no tag, no metadata
        with pytest.warns(UserWarning, match="opened as labels by its content") as said:
            read, kind = _read_alone(out / name)
        assert kind == "labels", name
        assert [type(w.message).__name__ for w in said] == ["ContentLabelsWarning"]
        assert str(out / name) in str(said[0].message)  # names the file
        np.testing.assert_array_equal(read, data)

    folder = tmp_path / "two"
    folder.mkdir()
    for name in ("result.tif", "other.tif"):
        (folder / name).write_bytes((out / name).read_bytes())
    movie, kind = _read_alone(folder)
    assert kind == "labels"
    np.testing.assert_array_equal(movie, np.stack([labels[::-1, ::-1], labels]))  # in order

    # 5 small nuclei (692 pairs of pixels both not 0): too few to tell from a crop of a
    # smoothed image, so an image, as every untagged file was before d705c8c
    tifffile.imwrite(out / "small.tif", _dsb(data_dir, "masks", DSB_SMALL))
    assert _read_alone(out / "small.tif")[1] == "image"


def _lucchi(data_dir) -> tuple[np.ndarray, np.ndarray]:
    """Two slices of Lucchi++'s FIB-SEM volume (uint8) and its mitochondria as instance
    labels (3D connected components of the binary ground truth)."""
    val = data_dir / "em_mito_lucchipp" / "val"
    image = tifffile.imread(val / "image.tif", key=range(2))
    mito = tifffile.imread(val / "mito.tif", key=range(2))
    return image, ndimage.label(mito)[0].astype(np.uint16)


def _worms(data_dir) -> tuple[np.ndarray, np.ndarray]:
    """BBBC010's brightfield well B12 (uint16, 12 bits) and its worms as instance labels."""
    root = data_dir / "worms_bbbc010"
    image = tifffile.imread(root / "brightfield" / "B12.tif")
    labels = np.zeros(image.shape, np.uint16)
    for n, worm in enumerate(tifffile.imread(root / "worm_masks" / "B12.tif"), 1):
        labels[worm > 0] = n
    return image, labels


def _gowt1(data_dir) -> tuple[np.ndarray, np.ndarray]:
    """A Cell Tracking Challenge GOWT1 frame (uint8, 60 % of it exactly 0) and its tracking
    markers (man_track002, 23 ids; its sparse SEG frame holds too few cells to tell)."""
    root = data_dir / "ctc_Fluo-N2DH-GOWT1"
    image = tifffile.imread(root / "01" / "t002.tif")
    return image, tifffile.imread(root / "01_GT" / "TRA" / "man_track002.tif")


@pytest.mark.parametrize(
    ("case", "saturated"),
    [
        ("dsb_smooth_fluorescence", 0.0),
        ("dsb_fluorescence_mostly_0", 0.0),
        ("dsb_brightfield", 0.0),
        ("dsb_brightfield_overexposed", 0.9),  # x2: 97 % at 255 (0.972 counting those)
        ("em_lucchi", 0.0),
        ("em_lucchi_overexposed", 0.9),  # x3: 98 % at 255 (0.974 counting those)
        ("bbbc010_brightfield_uint16", 0.0),
        ("ctc_gowt1", 0.0),
    ],
)
def test_real_images_stay_images_and_their_labels_open_as_labels(
    tmp_path, data_dir, case, saturated
):
    """Real intensity images, saved without tag under a plain name, open as images, their
    instance labels saved so as labels (before: both images): the images nearest labels by
    the rule (DSB2018: dim and smooth, mostly 0, brightfield), EM, a 12-bit brightfield, a
    CTC frame, and overexposed ones, more than 90 % of them clipped at 255 (whose pixels there
    are left out: counted, they score as labels do)."""
    if case.startswith("dsb"):
        name = {
            "dsb_smooth_fluorescence": DSB_SMOOTH,
            "dsb_fluorescence_mostly_0": DSB_ZEROS,
        }.get(case, DSB_BRIGHTFIELD)
        image, labels = _dsb(data_dir, "images", name), _dsb(data_dir, "masks", name)
        if case.endswith("overexposed"):
            image = _overexposed(image, 2, 255)
    elif case.startswith("em"):
        image, labels = _lucchi(data_dir)
        if case.endswith("overexposed"):
            image = _overexposed(image, 3, 255)
    else:
        image, labels = (_worms if case.startswith("bbbc") else _gowt1)(data_dir)
    assert image.dtype.kind == "u" and image.ndim in (2, 3) and image.shape[-1] > 4
    assert np.mean(image == np.iinfo(image.dtype).max) >= saturated
    assert labels.dtype.kind == "u" and labels.max() > 1

    out = tmp_path / "out"
    out.mkdir()
    tifffile.imwrite(out / "raw.tif", image)
    tifffile.imwrite(out / "result.tif", labels)
    read, kind = _read_alone(out / "raw.tif")
    assert kind == "image"
    np.testing.assert_array_equal(read, image)
    with pytest.warns(UserWarning, match="opened as labels by its content"):
        read, kind = _read_alone(out / "result.tif")
    assert kind == "labels"
    np.testing.assert_array_equal(read, labels)


#: a DSB2018 fluorescence image (uint8, 256²) that, Gaussian-denoised (sigma 2) or at a
#: quarter of the gain (>>2), is more than 0.9 piecewise constant: d705c8c opened both as labels
DSB_DENOISED = "03398329ced0c23b9ac3fac84dd53a87d9ffe4d9d10f1b5fe8df8fac12380776.tif"


def _smoothed(image: np.ndarray, sigma: float) -> np.ndarray:
    """``image`` Gaussian-denoised, rounded back to its type, as a user saves it."""
    smooth = ndimage.gaussian_filter(image.astype(np.float32), sigma)
    return np.rint(smooth).astype(image.dtype)


def _gowt1_frame(data_dir, t: int) -> np.ndarray:
    return tifffile.imread(data_dir / "ctc_Fluo-N2DH-GOWT1" / "01" / f"t{t:03d}.tif")


@pytest.mark.parametrize(
    "case",
    [
        "dsb_denoised_sigma2",
        "dsb_quarter_gain",
        "gowt1_smoothed_sigma3",
        "gowt1_smoothed_crop64",  # 7 grey levels, 0.99 of its pairs equal
        "gowt1_smoothed_crop64_3_levels",  # 3 grey levels of one region each: cannot tell
    ],
)
def test_smoothed_dim_and_cropped_images_stay_images(tmp_path, data_dir, case):
    """Real images as users save them, denoised, dim or cropped, open as images, silently
    (a crop of 3 grey levels with a warning that it cannot be told from 3 objects):
    each was opened as labels by d705c8c (more than 0.9 of their pairs of neighbouring pixels
    both not 0 are equal), though each of their grey levels lies in many places (a band
    around every nucleus, a scatter), or, in a small crop, too few levels are to tell."""
    if case.startswith("dsb"):
        image = _dsb(data_dir, "images", DSB_DENOISED)
        image = _smoothed(image, 2) if case.endswith("sigma2") else image >> 2
    elif case == "gowt1_smoothed_sigma3":
        image = _smoothed(_gowt1_frame(data_dir, 10), 3)
    else:
        smooth = _smoothed(_gowt1_frame(data_dir, 0), 2)
        image = smooth[:64, 416:480] if case.endswith("levels") else smooth[:64, :64]
    assert image.dtype == np.uint8 and image.max() > 1
    path = tmp_path / "denoised.tif"
    tifffile.imwrite(path, image)
    with warnings.catch_warnings(record=True) as said:
        warnings.simplefilter("always")
        read, kind = _read_alone(path)
    assert kind == "image"
    # silent, but for the crop of 3 levels, which cannot be told from 3 objects: an image,
    # said so, with the way to labels were it labels
    expected = ["ContentLabelsWarning"] if case.endswith("levels") else []
    assert [type(w.message).__name__ for w in said] == expected
    assert all("opened as an image: it holds 3 values" in str(w.message) for w in said)
    np.testing.assert_array_equal(read, image)


def test_a_smoothed_movie_whose_first_frame_looks_like_labels_stays_an_image(tmp_path, data_dir):
    """A folder of GOWT1 frames denoised (sigma 2.5), nothing naming them: its first frame is
    more than 0.9 piecewise constant, the others not; d705c8c took the whole folder for a
    labels movie from that frame. Now the frames' grey levels (many regions each) say image,
    and a movie is told by its first, middle and last frames, not the first alone."""
    folder = tmp_path / "denoised"
    folder.mkdir()
    frames = np.stack([_smoothed(_gowt1_frame(data_dir, t), 2.5) for t in (0, 10, 20)])
    for t, frame in enumerate(frames):
        tifffile.imwrite(folder / f"t{t:03d}.tif", frame)
    movie, kind = _read_alone(folder)
    assert kind == "image"
    np.testing.assert_array_equal(movie, frames)


def test_a_labels_file_of_too_few_objects_opens_as_an_image_saying_why(data_dir, tmp_path):
    """GOWT1's sparse SEG frame man_seg002 (under 4 annotated cells) saved under a neutral
    name: too few values to tell labels from a crop of a smoothed image, so an image, as
    before d705c8c, now with a warning naming the file and the way to labels (it was silent)."""
    from tessella._io_content import ContentLabelsWarning

    seg = data_dir / "ctc_Fluo-N2DH-GOWT1" / "01_GT" / "SEG" / "man_seg002.tif"
    path = tmp_path / "gow0.tif"
    tifffile.imwrite(path, tifffile.imread(seg))
    with pytest.warns(ContentLabelsWarning, match=r"gow0\.tif: opened as an image: it holds"):
        _data, kind = _read_alone(path)
    assert kind == "image"
