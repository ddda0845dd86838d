"""Files whose metadata name their axes in an order the engine does not read as such (Fiji's
ZCYX hyperstacks, OME ZCYX/TZCYX) are read transposed, each axis keeping its pixel size; axes
given against that order are refused naming both (no silent swap of Z and C); one channel can
be chosen; the axes of a plain channels-last stack are guessed as channels; multi-series
TIFFs say which series they read; a pixel size the file lacks stays unknown."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tifffile

from tessella.engine.io import read_image

SIZES = {"Z": 2.0, "Y": 0.5, "X": 0.5}


@pytest.fixture
def zcyx(nuclei_sample) -> np.ndarray:
    """3 z-planes of 2 channels (nuclei, and the nuclei upside down), 48 x 64 each."""
    crop = nuclei_sample[0][:48, :64]
    planes = [np.stack([crop + z, crop[::-1] + z]) for z in range(3)]
    return np.stack(planes).astype(np.uint16)


def _imagej(path, data, axes):
    tifffile.imwrite(
        path,
        data,
        imagej=True,
        resolution=(2.0, 2.0),
        metadata={"axes": axes, "spacing": 2.0, "unit": "um"},
    )
    return path


def _ome(path, data, axes):
    metadata = {"axes": axes, "PhysicalSizeZ": 2.0, "PhysicalSizeY": 0.5, "PhysicalSizeX": 0.5}
    tifffile.imwrite(path, data, ome=True, metadata=metadata)
    return path


def test_zcyx_hyperstacks_read_transposed_with_each_axis_spacing(tmp_path, zcyx):
    """Fiji's order for a multichannel z-stack (ImageJ ZCYX), and OME ZCYX and TZCYX (T of 1),
    were refused with advice to pass --axes from a list without their order; read as CZYX they
    are the same pixels with C first, Z spacing on Z."""
    czyx = np.moveaxis(zcyx, 1, 0)
    files = {
        "ij.tif": _imagej(tmp_path / "ij.tif", zcyx, "ZCYX"),
        "zcyx.ome.tif": _ome(tmp_path / "zcyx.ome.tif", zcyx, "ZCYX"),
        "tzcyx.ome.tif": _ome(tmp_path / "tzcyx.ome.tif", zcyx[None], "TZCYX"),
    }
    for name, path in files.items():
        for given in (None, "ZCYX"):  # its own axes, given in the order it stores them
            with warnings.catch_warnings():
                warnings.simplefilter("error")
                image = read_image(path, given)
            assert image.axes == "CZYX", name
            np.testing.assert_array_equal(image.data, czyx)
            assert image.pixel_size == pytest.approx(SIZES), name
            assert image.unit == "µm"
            assert image.stated_axes == "CZYX"


def test_axes_given_in_another_order_than_the_file_names_are_refused(tmp_path, zcyx):
    """--axes CZYX, which the old message offered for a ZCYX hyperstack, read the z-planes as
    channels and the channels as z-planes, the Z spacing on the channel axis, with a warning.
    Axes are the file's dimensions in the order stored: another order of the letters its
    metadata name is refused, naming both, in words for Python and the command line alike."""
    import zarr

    path = _imagej(tmp_path / "ij.tif", zcyx, "ZCYX")
    with pytest.raises(ValueError) as caught:
        read_image(path, "CZYX")
    message = str(caught.value)
    assert message.startswith(f"{path}: axes CZYX put C, Z where its ImageJ metadata do not;")
    assert "they say ZCYX" in message and "axes='ZCYX' in Python, --axes ZCYX" in message
    array = zarr.create_array(str(tmp_path / "cyx.zarr"), shape=(2, 48, 64), dtype="uint16")
    array.attrs["tessella_axes"] = "CYX"
    with pytest.raises(ValueError, match=r"cyx\.zarr: axes YXC put Y, X, C where its zarr"):
        read_image(tmp_path / "cyx.zarr", "YXC")
    # a relabelling (its Z taken as T) is no reordering: read as given, with the warning
    with pytest.warns(UserWarning, match=r"read as TCYX \(as given\), not as ZCYX"):
        movie = read_image(path, "TCYX")
    assert movie.axes == "TYXC" and movie.data.shape == (3, 48, 64, 2)


def test_five_axes_say_to_choose_a_channel_in_both_routes_words(tmp_path, zcyx):
    """An ImageJ TZCYX of 2 frames: still more axes than read; the message says to choose a
    channel, in Python's words and the command line's (it said "pass --axes" to Python)."""
    path = _imagej(tmp_path / "tzcyx.tif", np.stack([zcyx, zcyx]), "TZCYX")
    with pytest.raises(ValueError) as caught:
        read_image(path)
    message = str(caught.value)
    assert "has 5 axes longer than 1" in message and "pass --axes" not in message
    assert message.endswith("(channel= in Python, --channel on the command line)")


def test_a_plain_channels_last_image_is_read_as_channels_said_guessed(tmp_path, nuclei_sample):
    """A plain tifffile.imwrite of (Y, X, 2) was read as ZYX, Y slices 2 pixels wide, without a
    word (em-mito2d then segmented 256 slices of 256 x 2 pixels). Two big axes and a last one
    of 2 to 4 are channels last, as Fiji and scikit-image take them, and the warning says
    the axes are a guess; given axes still replace the guess."""
    crop = nuclei_sample[0][:48, :64]
    yxc = np.stack([crop, crop[::-1]], axis=-1)
    path = tmp_path / "two.tif"
    tifffile.imwrite(path, yxc)
    with pytest.warns(UserWarning) as caught:
        image = read_image(path)
    assert image.axes == "YXC"
    np.testing.assert_array_equal(image.data, yxc)
    assert [str(w.message) for w in caught] == [
        f"{path}: its metadata name no axes; read as YXC, guessed from its shape (48, 64, 2) "
        "(2 channels last); if they are others, give them (axes= in Python, --axes on the "
        "command line)"
    ]
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert read_image(path, "ZYX").axes == "ZYX"  # as given: a guess contradicts nothing
        tifffile.imwrite(tmp_path / "stack.tif", np.stack([crop] * 5))  # 5 planes: a stack
        assert read_image(tmp_path / "stack.tif").axes == "ZYX"


def test_a_multi_series_tiff_says_which_series_it_read_skipping_thumbnails(tmp_path, nuclei_sample):
    """Only series 0 was read, without a word: a file with a thumbnail first was segmented as
    the thumbnail, and a second position of an OME-TIFF was lost. The first full-size series
    is read (a series under a quarter of the pixels of another of its axes is a thumbnail),
    with a warning naming the file, the count and the series read."""
    full = nuclei_sample[0][:128, :128]
    thumb = full[::4, ::4]
    path = tmp_path / "thumbnail_first.tif"
    with tifffile.TiffWriter(path) as tif:
        tif.write(thumb)
        tif.write(full)
    with pytest.warns(UserWarning) as caught:
        image = read_image(path)
    np.testing.assert_array_equal(image.data, full)
    assert [str(w.message) for w in caught] == [
        f"{path}: holds 2 series (images); read series 1 (shape (128, 128), axes YX) and "
        "skipped 0 (thumbnail); choose one with series=N in Python, --series N on the command "
        "line"
    ]
    positions = tmp_path / "positions.ome.tif"
    with tifffile.TiffWriter(positions, ome=True) as tif:
        tif.write(full, metadata={"axes": "YX", "PhysicalSizeX": 0.3, "PhysicalSizeY": 0.3})
        tif.write(full[::-1], metadata={"axes": "YX", "PhysicalSizeX": 0.6, "PhysicalSizeY": 0.6})
    with pytest.warns(UserWarning, match=r"holds 2 series \(images\); read series 0 \(shape"):
        first = read_image(positions)
    np.testing.assert_array_equal(first.data, full)
    assert first.pixel_size == pytest.approx({"Y": 0.3, "X": 0.3})


def test_a_pixel_size_without_y_is_not_written_as_an_invented_one(tmp_path, nuclei_sample):
    """An OME-TIFF stating only PhysicalSizeX: its labels were written as an ImageJ TIFF of
    1 x 1 µm pixels (a unit with the default resolution), a calibration the input never had.
    The size it lacks stays unknown: the labels are written uncalibrated, with a warning."""
    from tessella.engine.io import write_labels

    crop = nuclei_sample[0][:48, :64]
    source = tmp_path / "x_only.ome.tif"
    tifffile.imwrite(source, crop, ome=True, metadata={"axes": "YX", "PhysicalSizeX": 0.3})
    image = read_image(source)
    assert image.pixel_size == {"X": 0.3}  # Y stays unknown
    labels = nuclei_sample[1][:48, :64]
    with pytest.warns(UserWarning, match=r"written without a pixel size: .* has none for Y"):
        written = write_labels(tmp_path / "labels.tif", labels, "YX", image.pixel_size, image.unit)
    back = read_image(written)
    assert back.pixel_size == {} and back.unit == "pixel"
    np.testing.assert_array_equal(back.data, labels)


def test_one_channel_is_read_alone_from_tiff_and_zarr(tmp_path, zcyx):
    """read_image(path, channel=N): that channel without C, from a TZCYX of 2 frames (five
    axes: refused whole) and from an OME-Zarr CZYX (lazily), whose labels' layout leaves C
    out; a channel the image lacks is one line naming the file and its count."""
    from tessella.engine.io import labels_ome
    from tests.conftest import write_ome_zarr

    tzcyx = np.stack([zcyx, zcyx[::-1]])
    path = _imagej(tmp_path / "tzcyx.tif", tzcyx, "TZCYX")
    image = read_image(path, channel=1)
    assert image.axes == "TZYX" and image.pixel_size == pytest.approx(SIZES)
    np.testing.assert_array_equal(image.data, tzcyx[:, :, 1])
    with pytest.raises(ValueError, match=r"tzcyx\.tif: no channel 2: it has 2 channels \(0 to 1"):
        read_image(path, channel=2)
    czyx = np.moveaxis(zcyx, 1, 0)
    store = write_ome_zarr(tmp_path / "czyx.zarr", czyx, "czyx", [1, 2.0, 0.5, 0.5], (1, 3, 48, 64))
    nuclei = read_image(store, channel=0)
    assert nuclei.axes == "ZYX" and nuclei.pixel_size == pytest.approx(SIZES)
    np.testing.assert_array_equal(np.asarray(nuclei.data), czyx[0])
    assert [a["name"] for a in labels_ome(nuclei, "ZYX")["axes"]] == ["z", "y", "x"]
    assert read_image(tmp_path / "tzcyx.tif", "TZCYX", channel=0).axes == "TZYX"


def test_series_reads_the_series_asked_for(tmp_path, nuclei_sample):
    full = nuclei_sample[0][:128, :128]
    path = tmp_path / "two.tif"
    with tifffile.TiffWriter(path) as tif:
        tif.write(full[::4, ::4])
        tif.write(full)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # the series asked for: nothing to say
        np.testing.assert_array_equal(read_image(path, series=0).data, full[::4, ::4])
        np.testing.assert_array_equal(read_image(path, series=1).data, full)
    with pytest.raises(ValueError, match=r"two\.tif: no series 2: it holds 2 series \(0 to 1\)$"):
        read_image(path, series=2)


def test_zarr_axes_in_another_order_are_read_transposed_lazily(tmp_path, zcyx):
    """A zarr array whose tessella_axes say ZCYX, and an OME-Zarr TCZYX of 2 frames and 2
    channels (one z-plane: TCYX), were refused ("axes ... are not supported"). They read
    transposed (CZYX, TYXC), lazily, the OME-Zarr labels' layout following; one channel of
    the TCYX reads as TYX."""
    import dask.array as da
    import zarr

    from tessella.engine.io import labels_ome
    from tests.conftest import write_ome_zarr

    array = zarr.create_array(str(tmp_path / "zcyx.zarr"), shape=zcyx.shape, dtype="uint16")
    array[:] = zcyx
    array.attrs.update(tessella_axes="ZCYX", pixel_size=SIZES, unit="µm")
    image = read_image(tmp_path / "zcyx.zarr")
    assert image.axes == "CZYX" and isinstance(image.data, da.Array)
    np.testing.assert_array_equal(np.asarray(image.data), np.moveaxis(zcyx, 1, 0))
    assert image.pixel_size == pytest.approx(SIZES)
    tcyx = zcyx[:2, :, None]  # (T 2, C 2, Z 1, Y, X)
    store = write_ome_zarr(tmp_path / "tc.zarr", tcyx, "tczyx", [1, 1, 2.0, 0.5, 0.5], tcyx.shape)
    movie = read_image(store)
    assert movie.axes == "TYXC"
    np.testing.assert_array_equal(np.asarray(movie.data), np.moveaxis(tcyx[:, :, 0], 1, -1))
    assert [a["name"] for a in labels_ome(movie, "TYX")["axes"]] == ["t", "y", "x"]
    first = read_image(store, channel=1)
    assert first.axes == "TYX"
    np.testing.assert_array_equal(np.asarray(first.data), tcyx[:, 1, 0])
