"""The reader tells a file that nothing names as labels (no tag, name, folder or recipe) by its
content, as it tells a folder's frames: instance labels that another tool saved
(StarDist's, cellpose's, CellProfiler's ``result.tif``) are piecewise constant, intensity
images (fluorescence, brightfield, EM; mostly 0 or overexposed) are not."""

import numpy as np
import pytest
import tifffile
from scipy import ndimage

from tessella._io import get_reader

DSB = ("nuclei2d_dsb2018", "train")
#: DSB2018's mask that is least piecewise constant (0.966 of its pairs of neighbouring pixels
#: both not 0 are equal, the rule's limit 0.9), and its fluorescence image
DSB_LEAST = "93cfd412c7de5210bbd262ec3a602cfea65072e9272e9fce9b5339a5b9436eb7.tif"
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
    """A real DSB2018 mask (uint16 instance labels, the one least piecewise constant) saved
    without Tessella's tag under a name that says nothing (``result.tif``) opens as labels,
    alone as in a folder of two such files (before: an image alone, labels in the folder);
    so does a 3D one (the fixtures' nuclei volume) and uint8 labels."""
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
        read, kind = _read_alone(out / name)
        assert kind == "labels", name
        np.testing.assert_array_equal(read, data)

    folder = tmp_path / "two"
    folder.mkdir()
    for name in ("result.tif", "other.tif"):
        (folder / name).write_bytes((out / name).read_bytes())
    movie, kind = _read_alone(folder)
    assert kind == "labels"
    np.testing.assert_array_equal(movie, np.stack([labels[::-1, ::-1], labels]))  # in order


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
    """A Cell Tracking Challenge GOWT1 frame (uint8, 60 % of it exactly 0) and its sparse
    ground truth (man_seg002)."""
    root = data_dir / "ctc_Fluo-N2DH-GOWT1"
    image = tifffile.imread(root / "01" / "t002.tif")
    return image, tifffile.imread(root / "01_GT" / "SEG" / "man_seg002.tif")


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
    read, kind = _read_alone(out / "result.tif")
    assert kind == "labels"
    np.testing.assert_array_equal(read, labels)
