import re

import numpy as np
import pytest
import tifffile

from tessella.engine.axes import to_model_layout
from tessella.engine.io import read_image, write_labels, write_zarr_labels


def test_imagej_pixel_size_and_axes_round_trip(tmp_path):
    labels = np.arange(24 * 30, dtype=np.int32).reshape(24, 30) % 7
    path = write_labels(tmp_path / "l.tif", labels, "YX", {"Y": 0.25, "X": 0.25}, "µm")
    image = read_image(path)
    assert image.axes == "YX" and image.data.dtype == np.uint16
    np.testing.assert_array_equal(image.data, labels)
    assert image.pixel_size["X"] == pytest.approx(0.25) and image.unit == "µm"


def test_3d_spacing_round_trip(tmp_path):
    labels = np.zeros((5, 20, 20), np.uint16)
    labels[2, 5:10, 5:10] = 3
    path = write_labels(tmp_path / "v.tif", labels, "ZYX", {"Z": 2.0, "Y": 0.5, "X": 0.5})
    image = read_image(path)
    assert image.axes == "ZYX"
    assert image.pixel_size["Z"] == pytest.approx(2.0)
    assert image.pixel_size["Y"] == pytest.approx(0.5)


def test_many_objects_are_written_as_uint32_ome(tmp_path):
    labels = np.arange(300 * 300, dtype=np.int64).reshape(300, 300)
    path = write_labels(tmp_path / "big.tif", labels, "YX", {"Y": 0.1, "X": 0.1})
    image = read_image(path)
    assert image.data.dtype == np.uint32
    np.testing.assert_array_equal(image.data, labels)
    assert image.pixel_size["X"] == pytest.approx(0.1)


def test_rgb_tiff_is_read_as_yxc_and_averaged(tmp_path):
    rgb = np.zeros((16, 20, 3), np.uint8)
    rgb[..., 0] = 30
    rgb[..., 2] = 90
    tifffile.imwrite(tmp_path / "rgb.tif", rgb, photometric="rgb")
    image = read_image(tmp_path / "rgb.tif")
    assert image.axes == "YXC"
    layout = to_model_layout(image.data, image.axes, "YX", 1)
    assert layout.shape == (1, 16, 20) and np.allclose(layout, 40)


def test_explicit_axes_must_match_ndim(tmp_path):
    tifffile.imwrite(tmp_path / "a.tif", np.zeros((4, 8, 8), np.uint8), photometric="minisblack")
    assert read_image(tmp_path / "a.tif", axes="tyx").axes == "TYX"
    with pytest.raises(ValueError, match="a.tif: axes 'YX' name 2 axes but the array has 3"):
        read_image(tmp_path / "a.tif", axes="YX")


@pytest.mark.parametrize(
    "name,content,message",
    [
        ("missing.tif", None, "no such file"),
        ("broken.tif", b"not a tiff at all", "cannot read as TIFF"),
        ("notes.txt", b"hello", "unsupported file type"),
    ],
)
def test_unreadable_inputs_name_the_file(tmp_path, name, content, message):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ValueError, match=message) as info:
        read_image(path)
    assert name in str(info.value)


def test_complex_dtype_is_refused(tmp_path):
    tifffile.imwrite(tmp_path / "c.tif", np.zeros((8, 8), np.complex64))
    with pytest.raises(ValueError, match="unsupported pixel type complex64"):
        read_image(tmp_path / "c.tif")


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    target = tmp_path / "out.tif"

    def explode(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(tifffile, "imwrite", explode)
    with pytest.raises(OSError, match="disk full"):
        write_labels(target, np.ones((4, 4), np.uint16))
    assert list(tmp_path.iterdir()) == []


def test_refuses_to_overwrite_unless_asked(tmp_path):
    target = write_labels(tmp_path / "x.tif", np.ones((4, 4), np.uint16))
    with pytest.raises(FileExistsError, match="x.tif exists"):
        write_labels(target, np.zeros((4, 4), np.uint16), overwrite=False)
    assert read_image(target).data.max() == 1


def test_zarr_labels_round_trip(tmp_path):
    labels = np.random.default_rng(0).integers(0, 50, (70, 90)).astype(np.uint16)
    path = write_zarr_labels(tmp_path / "l.zarr", labels, "YX", {"Y": 0.5, "X": 0.5})
    image = read_image(path)
    assert image.axes == "YX"
    np.testing.assert_array_equal(np.asarray(image.data), labels)
    assert not any(p.name.endswith(".tmp") for p in tmp_path.iterdir())


def test_folder_of_tiffs_lists_only_tiffs(tmp_path):
    from tessella.engine.io import list_images

    for name in ("b.tif", "a.tiff", "c.txt"):
        (tmp_path / name).write_bytes(b"")
    assert [p.name for p in list_images(tmp_path)] == ["a.tiff", "b.tif"]


def test_frames_without_zero_padding_keep_their_number_order(tmp_path):
    """A folder ``t1.tif ... t12.tif`` is a movie in frame order, not t1, t10, t11, t12, t2."""
    import tifffile

    from tessella.engine.io import list_images, read_frames

    for t in range(1, 13):
        tifffile.imwrite(tmp_path / f"t{t}.tif", np.full((6, 7), t, np.uint16))
    names = [p.name for p in list_images(tmp_path)]
    assert names == [f"t{t}.tif" for t in range(1, 13)]
    movie = read_frames(tmp_path)
    assert movie.axes == "TYX"
    assert [int(np.asarray(movie.data)[i, 0, 0]) for i in range(12)] == list(range(1, 13))


def test_stray_files_in_a_folder_of_frames_are_left_out_and_one_frame_twice_refused(tmp_path):
    """The acceptance pass (session 24): 12 frames plus ``t3 copy.tif`` made a 13-frame movie
    without a word (the frames after the copy then had the wrong numbers); a second file of
    frame 5 made 14. Now the copy is named as left out, and two files of a frame refused."""
    import tifffile

    from tessella.engine.io import read_frames

    for t in range(12):
        tifffile.imwrite(tmp_path / f"t{t:03d}.tif", np.full((6, 7), t, np.uint16))
    tifffile.imwrite(tmp_path / "t003 copy.tif", np.full((6, 7), 99, np.uint16))
    with pytest.warns(UserWarning, match=r"left out t003 copy\.tif: not named as its frames"):
        movie = read_frames(tmp_path)
    assert [int(np.asarray(movie.data)[i, 0, 0]) for i in range(len(movie.data))] == list(range(12))

    tifffile.imwrite(tmp_path / "t5.tiff", np.full((6, 7), 55, np.uint16))
    with pytest.raises(ValueError, match=r"t005\.tif and t5\.tiff are both frame 5; keep one"):
        read_frames(tmp_path)


def test_frames_named_without_one_pattern_keep_the_natural_order(tmp_path):
    """Names that share no pattern around a number are every frame, in natural order."""
    import tifffile

    from tessella.engine.io import read_frames

    for value, name in enumerate(["start.tif", "middle2.tif", "end.tif"]):
        tifffile.imwrite(tmp_path / name, np.full((4, 4), value, np.uint16))
    movie = read_frames(tmp_path)
    assert [int(np.asarray(movie.data)[i, 0, 0]) for i in range(3)] == [2, 1, 0]


def test_a_folder_of_3d_frames_reads_as_tzyx_as_the_napari_reader_stacks_it(tmp_path):
    """``segment FOLDER`` (read_frames) refused 3D frames ("must be 2D, got ZYX") that the
    reader opens as TZYX; both now follow one rule (movie_axes): T before the frames' axes,
    with the frames' Z spacing. Frames that make no movie (CYX) are refused, naming them."""
    import tifffile

    from tessella._io import read_layers
    from tessella.engine.io import read_frames

    volumes = np.arange(4 * 3 * 8 * 9, dtype=np.uint16).reshape(4, 3, 8, 9)
    for t, volume in enumerate(volumes):
        tifffile.imwrite(
            tmp_path / f"t{t:03d}.tif",
            volume,
            imagej=True,
            resolution=(2.0, 2.0),
            metadata={"axes": "ZYX", "spacing": 1.5, "unit": "micron"},
        )
    movie = read_frames(tmp_path)
    assert movie.axes == "TZYX"
    np.testing.assert_array_equal(movie.data, volumes)
    assert movie.pixel_size == pytest.approx({"Z": 1.5, "Y": 0.5, "X": 0.5})
    [(data, kwargs, _kind)] = read_layers(tmp_path)
    np.testing.assert_array_equal(data, movie.data)
    assert kwargs["metadata"]["axes"] == movie.axes

    channels = tmp_path / "channels"
    channels.mkdir()
    for t in range(2):
        tifffile.imwrite(channels / f"t{t}.tif", volumes[0], imagej=True, metadata={"axes": "CYX"})
    with pytest.raises(ValueError, match=r"t0\.tif: the frames of a time-lapse folder are YX, "):
        read_frames(channels)


def test_a_folder_of_frames_missing_some_names_them(tmp_path):
    """t0, t1, t4: three frames in order, with a warning that 2 and 3 are missing."""
    import tifffile

    from tessella.engine.io import read_frames
    from tessella.engine.io._read import MissingFramesWarning

    for t in (0, 1, 4):
        tifffile.imwrite(tmp_path / f"t{t}.tif", np.full((6, 7), t, np.uint16))
    with pytest.warns(MissingFramesWarning, match=r"frames 2, 3 missing \(of 0-4\).* from t4\.tif"):
        movie = read_frames(tmp_path)
    assert [int(movie.data[i, 0, 0]) for i in range(3)] == [0, 1, 4]


def test_hidden_files_are_no_frames_of_a_folder(tmp_path):
    """macOS's AppleDouble ``._t0.tif`` beside each file copied to an exFAT or network
    drive (no TIFF): ``segment FOLDER`` and read_frames took them for images ("._t0.tif:
    cannot read as TIFF")."""
    from tessella.engine.io import list_images, read_frames

    for t in range(3):
        tifffile.imwrite(tmp_path / f"t{t}.tif", np.full((6, 7), t, np.uint16))
        (tmp_path / f"._t{t}.tif").write_bytes(b"\x00\x05\x16\x07" + bytes(100))
    (tmp_path / ".hidden.tiff").write_bytes(b"")
    assert [p.name for p in list_images(tmp_path)] == ["t0.tif", "t1.tif", "t2.tif"]
    movie = read_frames(tmp_path)
    assert movie.data.shape == (3, 6, 7)
    assert [int(movie.data[i, 0, 0]) for i in range(3)] == [0, 1, 2]


def test_natural_order_of_mixed_names():
    from tessella.engine.io._read import natural_key

    names = ["img10b.tif", "img2.tif", "IMG1.tif", "img10a.tif", "img01.tif", "a.tif"]
    assert sorted(names, key=natural_key) == [
        "a.tif",
        "IMG1.tif",
        "img01.tif",
        "img2.tif",
        "img10a.tif",
        "img10b.tif",
    ]


@pytest.mark.parametrize("nested", [False, True])
def test_ome_zarr_image_axes_and_scale(tmp_path, nested):
    import zarr

    group = zarr.open_group(str(tmp_path / "img.ome.zarr"), mode="w")
    level = group.create_array("0", shape=(3, 40, 50), dtype="uint16", chunks=(1, 20, 25))
    level[...] = np.arange(3 * 40 * 50, dtype=np.uint16).reshape(3, 40, 50)
    multiscales = [
        {
            "axes": [
                {"name": "z", "type": "space", "unit": "micrometer"},
                {"name": "y", "type": "space", "unit": "micrometer"},
                {"name": "x", "type": "space", "unit": "micrometer"},
            ],
            "datasets": [
                {
                    "path": "0",
                    "coordinateTransformations": [{"type": "scale", "scale": [2.0, 0.5, 0.5]}],
                }
            ],
        }
    ]
    group.attrs.update(
        {"ome": {"multiscales": multiscales}} if nested else {"multiscales": multiscales}
    )
    image = read_image(tmp_path / "img.ome.zarr")
    assert image.axes == "ZYX" and image.data.shape == (3, 40, 50)
    assert image.pixel_size == {"Z": 2.0, "Y": 0.5, "X": 0.5} and image.unit == "micrometer"


def test_zarr_group_without_multiscales_is_named(tmp_path):
    import zarr

    zarr.open_group(str(tmp_path / "g.zarr"), mode="w")
    with pytest.raises(ValueError, match="g.zarr: a zarr group without OME-Zarr multiscales"):
        read_image(tmp_path / "g.zarr")


def test_written_files_get_the_usual_permissions(tmp_path):
    import os
    import stat

    path = write_labels(tmp_path / "p.tif", np.ones((4, 4), np.uint16))
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~mask


def test_zarr_labels_keep_their_pixel_size(tmp_path, nuclei_sample):
    from tessella.engine.io import read_image, write_zarr_labels

    labels = nuclei_sample[1]
    path = write_zarr_labels(tmp_path / "l.zarr", labels, "YX", {"Y": 0.25, "X": 0.5}, "nm")
    back = read_image(path)
    assert back.pixel_size == {"Y": 0.25, "X": 0.5} and back.unit == "nm"
    assert np.array_equal(np.asarray(back.data), labels)


def test_a_print_resolution_is_no_pixel_size(tmp_path):
    """72 dpi from an image editor is not 0.35 mm pixels; a resolution in centimetres is a
    pixel size (in µm); ImageJ's own unit is taken as it says."""
    image = np.arange(400, dtype=np.uint16).reshape(20, 20)
    tifffile.imwrite(tmp_path / "dpi.tif", image, resolution=(72, 72), resolutionunit="INCH")
    tifffile.imwrite(tmp_path / "cm.tif", image, resolution=(1e4, 1e4), resolutionunit="CENTIMETER")
    tifffile.imwrite(
        tmp_path / "ij.tif", image, imagej=True, resolution=(2, 2), metadata={"unit": "um"}
    )
    dpi, cm, ij = (read_image(tmp_path / f"{n}.tif") for n in ("dpi", "cm", "ij"))
    assert dpi.pixel_size == {} and dpi.unit == "pixel"
    assert cm.pixel_size == pytest.approx({"X": 1.0, "Y": 1.0}) and cm.unit == "µm"
    assert ij.pixel_size == pytest.approx({"X": 0.5, "Y": 0.5}) and ij.unit == "µm"


def test_a_one_micron_pixel_is_a_pixel_size(tmp_path):
    """1/1 is TIFF's default resolution, so it is no pixel size alone; with ImageJ's unit
    it is a 1 µm pixel, which was read back as no pixel size at all."""
    labels = np.arange(400, dtype=np.uint16).reshape(20, 20)
    written = write_labels(tmp_path / "one.tif", labels, "YX", {"Y": 1.0, "X": 1.0}, "µm")
    back = read_image(written)
    assert back.pixel_size == pytest.approx({"Y": 1.0, "X": 1.0}) and back.unit == "µm"
    tifffile.imwrite(tmp_path / "plain.tif", labels, imagej=True, resolution=(1, 1))
    assert read_image(tmp_path / "plain.tif").pixel_size == {}


def test_ome_zarr_with_all_five_axes_drops_its_singletons(tmp_path):
    """OME-Zarr writers keep t, c, z, y and x even for one 2D image: the singletons go (as
    for OME-TIFF), lazily, and their scale with them."""
    import zarr

    image = np.arange(64 * 80, dtype=np.uint16).reshape(1, 1, 1, 64, 80)
    group = zarr.open_group(str(tmp_path / "five.zarr"), mode="w")
    group.create_array("0", shape=image.shape, dtype=image.dtype)[...] = image
    axes = [{"name": n, "type": "space", "unit": "micrometer"} for n in "tczyx"]
    scale = {"type": "scale", "scale": [1, 1, 2.0, 0.5, 0.5]}
    group.attrs["multiscales"] = [
        {
            "version": "0.4",
            "axes": axes,
            "datasets": [{"path": "0", "coordinateTransformations": [scale]}],
        }
    ]
    read = read_image(tmp_path / "five.zarr")
    assert read.axes == "YX" and read.data.shape == (64, 80)
    assert read.pixel_size == {"Y": 0.5, "X": 0.5}
    np.testing.assert_array_equal(np.asarray(read.data), image[0, 0, 0])


def test_negative_labels_are_refused_not_wrapped(tmp_path):
    labels = np.array([[0, 1], [-1, 2]], np.int32)
    with pytest.raises(ValueError, match="labels must not be negative"):
        write_labels(tmp_path / "neg.tif", labels)
    assert not (tmp_path / "neg.tif").exists()


def _cut_tiffs(folder, image):
    """A zlib TIFF cut in half (its strips no longer decode) and a TIFF cut before its
    directory (its header points past the end)."""
    tifffile.imwrite(folder / "zlib.tif", image, compression="zlib")
    raw = (folder / "zlib.tif").read_bytes()
    (folder / "half_zlib.tif").write_bytes(raw[: len(raw) // 2])
    tifffile.imwrite(folder / "plain.tif", image)
    raw = (folder / "plain.tif").read_bytes()
    (folder / "no_ifd.tif").write_bytes(raw[:4] + (2 * len(raw)).to_bytes(4, "little") + raw[8:])
    return folder / "half_zlib.tif", folder / "no_ifd.tif"


def test_a_cut_tiff_is_one_error_naming_it(tmp_path):
    """Any decoding or parsing failure (a codec's own error, an IndexError from tifffile) is a
    ValueError naming the file, from read_image and read_masks alike."""
    from tessella.engine.io import read_masks

    image = np.random.default_rng(0).integers(0, 255, (64, 64)).astype(np.uint8)
    for path in _cut_tiffs(tmp_path, image):
        # (no image directory: said so, not "IndexError: list index out of range")
        said = "truncated or not a complete TIFF" if path.name == "no_ifd.tif" else "cannot read"
        with pytest.raises(ValueError, match=f"{path.name}: {said}"):
            read_image(path)
        with pytest.raises(ValueError, match=f"{path.name}: cannot read as TIFF"):
            read_masks(path)


def _ome_group(path, shape, names, datasets=None, **entry):
    import zarr

    group = zarr.open_group(str(path), mode="w")
    group.create_array("0", shape=shape, dtype="uint8")[...] = 7
    axes = [{"name": n, "type": "space"} for n in names]
    entry = {"axes": axes, "datasets": [{"path": "0"}] if datasets is None else datasets} | entry
    group.attrs["multiscales"] = [{k: v for k, v in entry.items() if v is not None}]
    return path


def test_given_axes_drop_the_ome_singleton_axes(tmp_path):
    """A recipe records the axes an OME-Zarr image was read with ("YX" for a (1, 1, Y, X)
    image); read with those axes again, the singletons go as when read without."""
    path = _ome_group(tmp_path / "czyx.zarr", (1, 1, 16, 20), "czyx")
    for axes in ("YX", "yx", None):
        image = read_image(path, axes)
        assert image.axes == "YX" and image.data.shape == (16, 20)
    assert read_image(path, "CZYX").data.shape == (1, 1, 16, 20)  # every axis named: kept
    with pytest.raises(ValueError, match="czyx.zarr: axes 'ZYX' name 3 axes; the array has 4"):
        read_image(path, "ZYX")
    # an axis name OME-Zarr allows but Tessella does not know: the given axes say it
    custom = _ome_group(tmp_path / "angle.zarr", (3, 16, 20), ["angle", "y", "x"])
    assert read_image(custom, "TYX").axes == "TYX"


@pytest.mark.parametrize(
    "make,message",
    [
        (lambda p: _ome_group(p, (8, 8), "yx", axes=None), "multiscales names no axes"),
        (lambda p: _ome_group(p, (8, 8), "yx", [{"path": "9"}]), "dataset '9' does not exist"),
        (lambda p: _ome_group(p, (8, 8), "yx", []), "lists no datasets"),
        (lambda p: _ome_group(p, (8, 8), "yxq"), "names 3 axes but its dataset '0' has 2"),
        (lambda p: _ome_group(p, (3, 8, 8), "wyx"), "knows the axes t, c, z, y and x"),
        (
            lambda p: _ome_group(
                p, (8, 8), "yx", [{"path": "0", "coordinateTransformations": [{"type": "scale"}]}]
            ),
            "scale",
        ),
        (lambda p: _plain(p, pixel_size=[0.5, 0.5]), "pixel_size must be an object"),
        (lambda p: _plain(p, pixel_size={"Y": "abc"}), "pixel_size 'Y' must be a positive"),
        (lambda p: _plain(p, tessella_axes=5), "tessella_axes must be text"),
        (lambda p: _plain(p, shape=(0, 0)), "empty (shape (0, 0))"),
        (lambda p: _plain(p, shape=(2, 2, 2, 2, 2)), "cannot guess the axes"),
    ],
)
def test_bad_zarr_metadata_is_one_error_naming_the_store(tmp_path, make, message):
    path = make(tmp_path / "bad.zarr")
    with pytest.raises(ValueError, match=f"{path}: .*{re.escape(message)}"):
        read_image(path)


def _plain(path, shape=(8, 8), **attrs):
    import zarr

    array = zarr.create_array(str(path), shape=shape, dtype="uint8")
    if all(shape):
        array[...] = 7
    array.attrs.update(attrs)
    return path


@pytest.mark.parametrize(
    ("pixel_size", "unit", "ij_unit"),
    [({"Y": 0.3, "X": 0.3}, "µm", "micron"), ({"Y": 40.0, "X": 20.0}, "nm", "nm")],
)
def test_a_mask_stack_keeps_its_pixel_size_and_reads_as_frames(tmp_path, pixel_size, unit, ij_unit):
    """Overlapping objects written as an (N, Y, X) stack carry the pixel size as the labels
    TIFF does (they had none: Fiji measured them in pixels), as an ImageJ hyperstack whose
    frames are the objects (the axes were QYX, read as Z slices); read_mask_stack and
    read_image read them back."""
    from tessella.engine.io import read_mask_stack, write_mask_stack
    from tests.conftest import crossing_rods

    rods = crossing_rods()
    path = write_mask_stack(tmp_path / "rods.tif", rods, pixel_size=pixel_size, unit=unit)

    np.testing.assert_array_equal(read_mask_stack(path), rods)
    image = read_image(path)
    assert image.axes == "TYX" and image.data.shape == rods.shape
    assert image.pixel_size == pytest.approx(pixel_size) and image.unit == unit
    with tifffile.TiffFile(path) as tif:
        assert tif.is_imagej and tif.imagej_metadata["frames"] == len(rods)
        assert tif.imagej_metadata["unit"] == ij_unit
        x_resolution = tif.pages[0].tags["XResolution"].value
        assert x_resolution[0] / x_resolution[1] == pytest.approx(1 / pixel_size["X"])


def test_a_mask_stack_without_a_pixel_size_or_with_one_object_or_none(tmp_path):
    """No pixel size: none is written. One object and no object read back as stacks of one
    and of none."""
    from tessella.engine.io import read_mask_stack, write_mask_stack
    from tests.conftest import crossing_rods

    rods = crossing_rods()
    plain = read_image(write_mask_stack(tmp_path / "plain.tif", rods))
    assert plain.pixel_size == {} and plain.unit == "pixel"
    size = {"Y": 0.3, "X": 0.3}
    one = write_mask_stack(tmp_path / "one.tif", rods[:1], pixel_size=size)
    np.testing.assert_array_equal(read_mask_stack(one), rods[:1])
    assert read_image(one).pixel_size == pytest.approx(size)
    with pytest.warns(UserWarning, match="zero-size"):  # (tifffile's: still a TIFF)
        none = write_mask_stack(tmp_path / "none.tif", rods[:0], pixel_size=size)
    assert read_mask_stack(none).shape == (0, *rods.shape[1:])


def test_given_axes_that_contradict_the_metadata_are_warned_about(tmp_path, nuclei_sample):
    """Axes given to read_image override a file's metadata, as the command line's --axes does;
    where the metadata state other axes the reading now says so, naming the file and both,
    for an OME-Zarr image (its multiscales axes, singletons dropped as they are read) and a
    zarr array (its tessella_axes) as for a TIFF (a Python caller, and --axes on zarr, got
    no word). Axes that agree, or metadata that say nothing, stay silent."""
    import warnings

    import zarr

    from tests.conftest import write_ome_zarr

    planes = np.stack([nuclei_sample[0][:48, :64]] * 3)
    tifffile.imwrite(tmp_path / "volume.tif", planes, imagej=True, metadata={"axes": "ZYX"})
    write_ome_zarr(tmp_path / "ome.zarr", planes[None], "tzyx", [1, 2.0, 0.5, 0.5], (1, 3, 48, 64))
    plain = zarr.create_array(str(tmp_path / "plain.zarr"), shape=planes.shape, dtype="uint8")
    plain.attrs["tessella_axes"] = "ZYX"
    for name, axes, stated_by, stated in (
        ("volume.tif", "TYX", "ImageJ metadata", "ZYX"),
        ("ome.zarr", "TYX", "OME-Zarr axes", "ZYX"),  # the singleton t dropped
        ("ome.zarr", "CZYX", "OME-Zarr axes", "TZYX"),
        ("plain.zarr", "CYX", "zarr attribute tessella_axes", "ZYX"),
    ):
        with pytest.warns(UserWarning) as caught:
            image = read_image(tmp_path / name, axes)
        assert image.axes == axes and image.data.shape[-2:] == (48, 64)  # as the axes say
        assert [type(w.message).__name__ for w in caught] == ["AxesContradictionWarning"]
        assert [str(w.message) for w in caught] == [
            f"{tmp_path / name}: read as {axes} (as given), not as {stated} from its {stated_by}"
        ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        for name, axes in (("volume.tif", "ZYX"), ("ome.zarr", "ZYX"), ("plain.zarr", None)):
            read_image(tmp_path / name, axes)
        read_image(_ome_group(tmp_path / "angle.zarr", (3, 16, 20), ["angle", "y", "x"]), "TYX")


@pytest.mark.parametrize("axes", ["TYX", "CYX"])
def test_a_volume_read_as_frames_or_channels_keeps_no_z_pixel_size(tmp_path, axes):
    """A volume read as frames or channels (given axes) has no Z, so no Z pixel size, whether
    it is an OME-Zarr ZYX, the same with a singleton channel (CZYX), an ImageJ stack with a
    Z spacing or a zarr array with a Z size; read as ZYX each keeps its Z size. The OME-Zarr
    ZYX kept ``Z: 2.0`` (its singleton-channel twin did not), and so did the others."""
    import warnings

    import zarr

    from tests.conftest import write_ome_zarr

    planes = np.arange(3 * 16 * 20, dtype=np.uint16).reshape(3, 16, 20)
    sizes = {"Z": 2.0, "Y": 0.5, "X": 0.5}
    write_ome_zarr(tmp_path / "zyx.zarr", planes, "zyx", [2.0, 0.5, 0.5], (3, 16, 20))
    write_ome_zarr(tmp_path / "czyx.zarr", planes[None], "czyx", [1, 2.0, 0.5, 0.5], (1, 3, 16, 20))
    metadata = {"axes": "ZYX", "spacing": 2.0, "unit": "um"}
    tifffile.imwrite(
        tmp_path / "zyx.tif", planes, imagej=True, resolution=(2, 2), metadata=metadata
    )
    array = zarr.create_array(str(tmp_path / "plain.zarr"), shape=planes.shape, dtype="uint16")
    array.attrs.update(tessella_axes="ZYX", pixel_size=sizes, unit="µm")
    for name in ("zyx.zarr", "czyx.zarr", "zyx.tif", "plain.zarr"):
        assert read_image(tmp_path / name, "ZYX").pixel_size == pytest.approx(sizes), name
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # (the axes contradict: tested above)
            image = read_image(tmp_path / name, axes)
        assert image.axes == axes and image.pixel_size == pytest.approx({"Y": 0.5, "X": 0.5}), name
