"""The napari reader and writers: axes and pixel size survive a trip through files."""

import contextlib
import warnings
from types import SimpleNamespace

import numpy as np
import pytest
import tifffile
import zarr
from napari.layers import Image, Labels

from tessella._io import (
    LabelsChangedWarning,
    get_reader,
    labels_axes,
    pixel_size_of,
    write_labels_tiff,
)
from tessella._io import write_labels_zarr as write_zarr_plugin
from tessella.engine.io import read_image, write_zarr_labels
from tests.conftest import SEGMENT_RECIPE


@contextlib.contextmanager
def _silent():
    """Fails on a :class:`LabelsChangedWarning`: labels their recipe reproduces say nothing."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", LabelsChangedWarning)
        yield


def imagej_tiff(path, data, axes, size, spacing=None):
    metadata = {"axes": axes, "unit": "micron"}
    if spacing is not None:
        metadata["spacing"] = spacing
    tifffile.imwrite(path, data, imagej=True, resolution=(1 / size, 1 / size), metadata=metadata)
    return path


def read(path) -> list[tuple]:
    reader = get_reader(str(path))
    assert reader is not None, path
    return reader(str(path))


def test_imagej_tiff_opens_scaled_by_its_pixel_size(tmp_path, nuclei_sample):
    image, _labels = nuclei_sample
    path = imagej_tiff(tmp_path / "nuclei.tif", image, "YX", 0.25)

    [(data, kwargs, kind)] = read(path)
    assert kind == "image"
    np.testing.assert_array_equal(data, image)
    assert kwargs["name"] == "nuclei"
    assert kwargs["scale"] == pytest.approx((0.25, 0.25))
    assert kwargs["units"] == ("µm", "µm")
    assert kwargs["metadata"]["axes"] == "YX"


def test_viewer_opens_a_3d_tiff_through_the_plugin(make_napari_viewer, tmp_path, nuclei_sample):
    image, _labels = nuclei_sample
    volume = np.stack([image[:128, :128]] * 4)
    path = imagej_tiff(tmp_path / "volume.tif", volume, "ZYX", 0.5, spacing=2.0)
    viewer = make_napari_viewer()

    [layer] = viewer.open(str(path), plugin="tessella")
    assert isinstance(layer, Image)
    np.testing.assert_allclose(layer.scale, (2.0, 0.5, 0.5))
    assert layer.metadata["axes"] == "ZYX"
    assert f"{layer.units[-1]:~}" == "µm"
    np.testing.assert_array_equal(layer.data, volume)


def test_channels_are_split_and_rgb_stays_one_layer(make_napari_viewer, tmp_path, nuclei_sample):
    image, _labels = nuclei_sample
    channels = imagej_tiff(tmp_path / "two.tif", np.stack([image, image // 2]), "CYX", 0.5)
    rgb = tmp_path / "colour.tif"
    tifffile.imwrite(rgb, np.stack([image, image // 2, image // 3], axis=-1), photometric="rgb")
    viewer = make_napari_viewer()

    layers = viewer.open(str(channels), plugin="tessella")
    assert [layer.name for layer in layers] == ["two c0", "two c1"]
    np.testing.assert_array_equal(layers[1].data, image // 2)
    for layer in layers:
        np.testing.assert_allclose(layer.scale, (0.5, 0.5))
        assert layer.metadata["axes"] == "YX"

    [colour] = viewer.open(str(rgb), plugin="tessella")
    assert colour.rgb and colour.data.shape == (*image.shape, 3)
    assert colour.metadata["axes"] == "YXC"  # the data keep their colour axis


@pytest.mark.parametrize(
    ("name", "dtype", "kind"),
    [
        ("cells_labels.tif", np.uint16, "labels"),
        ("Nuclei_MASK.tif", np.int32, "labels"),
        ("cells.tif", np.uint16, "image"),
        ("label_probability.tif", np.float32, "image"),
        ("cellmask.tif", np.uint8, "labels"),
        ("LabelImage.tif", np.uint16, "labels"),
        ("labelmap.tif", np.uint16, "labels"),
        ("NucleiLabelsT0.tif", np.uint16, "labels"),
        ("maskrcnn.tif", np.uint16, "labels"),
        ("labelled.tif", np.uint16, "labels"),
        ("Masked_image.tif", np.uint16, "image"),  # "mask" inside another word
        ("label-free_cells.tif", np.uint16, "image"),
        ("unlabelled.tif", np.uint16, "image"),
        ("gt_cc.tif", np.uint16, "labels"),  # ground truth: "gt" as a word, any case
        ("lucchi_gt.tif", np.uint16, "labels"),
        ("GT01.tif", np.uint16, "labels"),
        ("cells-ground_truth.tif", np.uint16, "labels"),
        ("GroundTruth.tif", np.uint16, "labels"),
        ("length.tif", np.uint16, "image"),  # "gt" inside a word
        ("weight_gtx.tif", np.uint16, "image"),
    ],
)
def test_integer_files_named_label_or_mask_open_as_labels(
    tmp_path, nuclei_sample, name, dtype, kind
):
    """The name alone says labels: the file holds an intensity image, which its content would
    leave an image (labels under any name are labels by their content)."""
    image, _labels = nuclei_sample
    tifffile.imwrite(tmp_path / name, image.astype(dtype))
    [(data, kwargs, layer_type)] = read(tmp_path / name)
    assert layer_type == kind
    np.testing.assert_array_equal(data, image)


@pytest.mark.parametrize(
    ("folder", "dtype", "kind"),
    [
        ("masks", np.uint16, "labels"),  # DSB2018's val/masks/<id>.tif
        ("Labels", np.int32, "labels"),
        ("GT", np.uint16, "labels"),
        ("ground-truth", np.uint8, "labels"),
        ("masks", np.float32, "image"),  # a probability map is no labels, wherever it is
        ("images", np.uint16, "image"),
        ("masks_old", np.uint16, "image"),  # only the folder's whole name counts
    ],
)
def test_integer_files_in_a_folder_of_masks_open_as_labels(
    tmp_path, nuclei_sample, folder, dtype, kind
):
    image, _labels = nuclei_sample  # an intensity image: the folder's name alone says labels
    (tmp_path / folder).mkdir()
    path = tmp_path / folder / "2227fd9b01d67c2b.tif"  # named after its image, not as labels
    tifffile.imwrite(path, image.astype(dtype))
    [(data, _kwargs, layer_type)] = read(path)
    assert layer_type == kind
    np.testing.assert_array_equal(data, image)


@pytest.mark.parametrize(
    ("values", "kind"),
    [
        ("binary", "labels"),  # Lucchi++'s mito.tif: 0 and 1
        ("image", "image"),  # an 8-bit image is an integer image too
        ("zero", "image"),  # a blank image: nothing says it is a mask
        ("instances", "labels"),  # labels 0..N under a plain name: by their content
    ],
)
def test_an_integer_file_of_only_0_and_1_opens_as_labels(tmp_path, nuclei_sample, values, kind):
    """A binary ground truth named after what it shows (``mito.tif``) opened as an image,
    which Evaluate does not list; a file holding only 0 and 1 is a mask, whatever its name
    (and instance labels are labels by their content, piecewise constant:
    tests/test_io_plugin_content.py)."""
    image, labels = nuclei_sample
    data = {
        "binary": (labels > 0).astype(np.uint8),
        "image": image.astype(np.uint8),
        "zero": np.zeros_like(labels, np.uint8),
        "instances": labels.astype(np.uint16),
    }[values]
    stack = np.stack([data, data])
    tifffile.imwrite(tmp_path / "mito.tif", stack, imagej=True, metadata={"axes": "ZYX"})
    [(read_data, _kwargs, layer_type)] = read(tmp_path / "mito.tif")
    assert layer_type == kind
    np.testing.assert_array_equal(read_data, stack)


def test_labels_with_a_recipe_beside_them_carry_it(tmp_path, nuclei_sample):
    """Labels Segment wrote reopen with their recipe in the layer's metadata, as the layers
    Segment adds hold it (so Export can write it): a blockwise zarr's ``tessella``
    attribute, the ``name.recipe.json`` that ``tessella segment`` writes beside
    ``name.tif``; not a recipe Export wrote for other files, nor one beside an image."""
    import json

    from tessella._io import RECIPE_KEY

    _image, labels = nuclei_sample
    zarr_path = write_zarr_labels(tmp_path / "blockwise.zarr", labels, "YX")
    blockwise = {**SEGMENT_RECIPE, "blockwise": {"block": [512, 512], "halo": [96, 96]}}
    zarr.open(str(zarr_path), mode="r+").attrs["tessella"] = blockwise
    [(_data, kwargs, _kind)] = read(zarr_path)
    assert kwargs["metadata"][RECIPE_KEY] == blockwise

    write_labels_tiff(str(tmp_path / "cli.tif"), labels, {"metadata": {"axes": "YX"}})
    (tmp_path / "cli.recipe.json").write_text(json.dumps(SEGMENT_RECIPE))
    [(_data, kwargs, _kind)] = read(tmp_path / "cli.tif")
    assert kwargs["metadata"][RECIPE_KEY] == SEGMENT_RECIPE

    exported = {**SEGMENT_RECIPE, "exported": {"tiff": "other.tif", "csv": "other.csv"}}
    (tmp_path / "cli.recipe.json").write_text(json.dumps(exported))
    [(_data, kwargs, _kind)] = read(tmp_path / "cli.tif")
    assert RECIPE_KEY not in kwargs["metadata"]
    exported["exported"]["tiff"] = "cli.tif"  # Export wrote it for this file
    (tmp_path / "cli.recipe.json").write_text(json.dumps(exported))
    [(_data, kwargs, _kind)] = read(tmp_path / "cli.tif")
    assert kwargs["metadata"][RECIPE_KEY] == SEGMENT_RECIPE  # without what that export wrote

    tifffile.imwrite(tmp_path / "nuclei.tif", nuclei_sample[0])
    (tmp_path / "nuclei.recipe.json").write_text(json.dumps(SEGMENT_RECIPE))
    [(_data, kwargs, kind)] = read(tmp_path / "nuclei.tif")
    assert kind == "image" and RECIPE_KEY not in kwargs["metadata"]


def test_reopened_labels_an_export_marked_edited_stay_edited_without_its_keys(tmp_path):
    """A recipe Export wrote for edited labels (``labels_edited``, and the keys of that export:
    ``exported``, ``stack_objects``, ``stack_from``, ``note``) reopens as the recipe alone,
    and the labels as a state edited after it: they were taken as what the recipe makes, and
    a later export copied that export's keys."""
    import json

    from tessella._io import RECIPE_KEY
    from tessella._widgets._results import recipe_on_screen

    labels = np.zeros((32, 32), np.uint16)
    labels[4:12, 4:12], labels[20:28, 16:30] = 1, 2
    write_labels_tiff(str(tmp_path / "cells.tif"), labels, {"metadata": {"axes": "YX"}})
    written = {
        **SEGMENT_RECIPE,
        "labels_edited": True,
        "note": "edited by hand",
        "exported": {"tiff": "cells.tif", "stack": "cells.stack.tif"},
        "stack_objects": 2,
        "stack_from": "labels + overlaps layer",
    }
    (tmp_path / "cells.recipe.json").write_text(json.dumps(written))
    with pytest.warns(LabelsChangedWarning, match="cells.recipe.json does not reproduce these"):
        [(data, kwargs, _kind)] = read(tmp_path / "cells.tif")
    layer = SimpleNamespace(data=data, metadata=kwargs["metadata"])
    assert layer.metadata[RECIPE_KEY] == SEGMENT_RECIPE
    assert recipe_on_screen(layer) == (SEGMENT_RECIPE, False)  # it does not reproduce them

    del written["labels_edited"], written["note"]
    (tmp_path / "cells.recipe.json").write_text(json.dumps(written))
    with _silent():
        [(data, kwargs, _kind)] = read(tmp_path / "cells.tif")
    layer = SimpleNamespace(data=data, metadata=kwargs["metadata"])
    assert recipe_on_screen(layer) == (SEGMENT_RECIPE, True)


def test_a_recipe_vouches_only_for_the_labels_its_digest_names(tmp_path):
    """A ``name.recipe.json`` with the ``labels_digest`` of the labels written beside it
    reattaches as their recipe while ``name.tif`` holds those labels (in any integer type);
    once the file holds other labels (a pixel edited in Fiji, a broken digest) the labels
    are a state edited after the recipe, noted as such, so Export says the recipe does not
    reproduce them. A recipe without a digest (older files) is taken as it says."""
    import json

    from tessella._io import LABELS_CHANGED_NOTE, RECIPE_KEY
    from tessella._widgets._results import recipe_on_screen
    from tessella.engine.digest import labels_digest

    def reopened():
        [(data, kwargs, kind)] = read(tmp_path / "cells_labels.tif")
        assert kind == "labels"
        return recipe_on_screen(SimpleNamespace(data=data, metadata=kwargs["metadata"]))

    labels = np.zeros((32, 32), np.uint16)
    labels[4:12, 4:12], labels[20:28, 16:30] = 1, 2
    write_labels_tiff(str(tmp_path / "cells_labels.tif"), labels, {"metadata": {"axes": "YX"}})
    recipe_file = tmp_path / "cells_labels.recipe.json"
    recipe_file.write_text(json.dumps({**SEGMENT_RECIPE, "labels_digest": labels_digest(labels)}))
    with _silent():
        assert reopened() == (SEGMENT_RECIPE, True)  # the digest stays with the file
    same = labels.astype(np.uint32)  # re-saved in another type: the same labels
    tifffile.imwrite(tmp_path / "cells_labels.tif", same)
    with _silent():
        assert reopened() == (SEGMENT_RECIPE, True)

    edited = labels.copy()
    edited[12, 4:12] = 1  # one row painted on in Fiji
    tifffile.imwrite(tmp_path / "cells_labels.tif", edited)
    with pytest.warns(LabelsChangedWarning, match="the file changed after cells_labels.recipe"):
        recipe, reproduces = reopened()
    assert not reproduces and recipe == {**SEGMENT_RECIPE, "note": LABELS_CHANGED_NOTE}
    for broken in ({"sha256": "0"}, "deadbeef"):  # a digest that is none vouches for nothing
        recipe_file.write_text(json.dumps({**SEGMENT_RECIPE, "labels_digest": broken}))
        with pytest.warns(
            LabelsChangedWarning, match="labels_digest of cells_labels.recipe.json is damaged"
        ):
            assert reopened()[1] is False
    recipe_file.write_text(json.dumps(SEGMENT_RECIPE))  # no digest: as before, trusted
    with _silent():
        assert reopened() == (SEGMENT_RECIPE, True)
        [(_data, kwargs, _kind)] = read(tmp_path / "cells_labels.tif")
    assert kwargs["metadata"][RECIPE_KEY] == SEGMENT_RECIPE


@pytest.mark.parametrize(
    ("shape", "axes", "read_shape"),
    [((1, 32, 32), "ZYX", (32, 32)), ((3, 32, 32), "ZYX", (3, 32, 32))],
    ids=["one-slice", "zyx"],
)
def test_a_digest_vouches_for_labels_whose_file_reads_back_without_a_length_1_axis(
    tmp_path, shape, axes, read_shape
):
    """Labels with an axis of length 1 (1 x Y x X, from a reader that keeps it) read back
    from their TIFF without it; their digest still vouches for them, as for a 3D stack (it
    said they had changed outside Tessella, only because the shapes differ). The same file
    with a pixel changed is still caught."""
    import json

    from tessella._io import LABELS_CHANGED_NOTE
    from tessella._widgets._results import recipe_on_screen
    from tessella.engine.digest import labels_digest

    def reopened():
        [(data, kwargs, kind)] = read(tmp_path / "cells_labels.tif")
        assert kind == "labels" and data.shape == read_shape
        return recipe_on_screen(SimpleNamespace(data=data, metadata=kwargs["metadata"]))

    labels = np.zeros(shape, np.uint16)
    labels[..., 4:12, 4:12], labels[-1, 20:28, 16:30] = 1, 2
    recipe = {**SEGMENT_RECIPE, "axes": axes}
    write_labels_tiff(str(tmp_path / "cells_labels.tif"), labels, {"metadata": {"axes": axes}})
    digest = labels_digest(labels)
    (tmp_path / "cells_labels.recipe.json").write_text(
        json.dumps({**recipe, "labels_digest": digest})
    )
    assert digest["shape"] == list(shape)
    with _silent():
        assert reopened() == (recipe, True)

    labels[-1, 12, 4:12] = 1  # one row painted on in Fiji
    tifffile.imwrite(tmp_path / "cells_labels.tif", labels, photometric="minisblack")
    with pytest.warns(LabelsChangedWarning, match="the file changed after cells_labels.recipe"):
        assert reopened() == ({**recipe, "note": LABELS_CHANGED_NOTE}, False)


def test_labels_too_big_to_fingerprint_keep_a_changed_file_s_edited_mark(tmp_path, monkeypatch):
    """Labels over the fingerprint limit get no labels state; a recipe that does not
    reproduce them (an export's ``labels_edited``, or a file changed after its digest) then
    says so itself, and ``recipe_on_screen`` reads it (it took their recipe as reproducing
    them). The limit is lowered to keep the labels small; the code path is the real one."""
    import json

    from tessella._io import LABELS_CHANGED_NOTE
    from tessella._widgets import _labels_states, _results
    from tessella.engine.digest import labels_digest

    labels = np.zeros((64, 64), np.uint16)
    labels[4:12, 4:12], labels[20:28, 16:30] = 1, 2
    monkeypatch.setattr(_labels_states, "MAX_FINGERPRINT_BYTES", labels.nbytes - 1)
    assert _results._fingerprint(labels) is None
    write_labels_tiff(str(tmp_path / "cells_labels.tif"), labels, {"metadata": {"axes": "YX"}})
    recipe_file = tmp_path / "cells_labels.recipe.json"

    def reopened():
        [(data, kwargs, _kind)] = read(tmp_path / "cells_labels.tif")
        assert _results.STATES_KEY not in kwargs["metadata"]
        return _results.recipe_on_screen(SimpleNamespace(data=data, metadata=kwargs["metadata"]))

    digest = labels_digest(labels)
    recipe_file.write_text(json.dumps({**SEGMENT_RECIPE, "labels_digest": digest}))
    with _silent():
        assert reopened() == (SEGMENT_RECIPE, True)
    recipe_file.write_text(json.dumps({**SEGMENT_RECIPE, "labels_edited": True, "note": "n"}))
    with pytest.warns(LabelsChangedWarning, match="cells_labels.recipe.json does not reproduce"):
        assert reopened() == ({**SEGMENT_RECIPE, "labels_edited": True, "note": "n"}, False)

    labels[40:50, 40:50] = 3  # a cell added in Fiji after the recipe was written
    tifffile.imwrite(tmp_path / "cells_labels.tif", labels)
    recipe_file.write_text(json.dumps({**SEGMENT_RECIPE, "labels_digest": digest}))
    with pytest.warns(LabelsChangedWarning, match="the file changed after cells_labels.recipe"):
        recipe, reproduces = reopened()
    assert not reproduces and recipe["labels_edited"] is True
    assert recipe["note"] == LABELS_CHANGED_NOTE and recipe["params"] == SEGMENT_RECIPE["params"]


def test_ome_zarr_opens_with_its_scale(tmp_path, nuclei_sample):
    image, _labels = nuclei_sample
    path = tmp_path / "nuclei.ome.zarr"
    group = zarr.open_group(str(path), mode="w")
    group.create_array("0", shape=image.shape, dtype=image.dtype, chunks=(256, 256))[...] = image
    group.attrs["multiscales"] = [
        {
            "axes": [
                {"name": "y", "type": "space", "unit": "micrometer"},
                {"name": "x", "type": "space", "unit": "micrometer"},
            ],
            "datasets": [
                {"path": "0", "coordinateTransformations": [{"type": "scale", "scale": [0.4, 0.4]}]}
            ],
        }
    ]

    [(data, kwargs, kind)] = read(path)
    assert kind == "image" and kwargs["name"] == "nuclei"
    np.testing.assert_array_equal(np.asarray(data), image)
    assert kwargs["scale"] == pytest.approx((0.4, 0.4))
    assert kwargs["units"] == ("µm", "µm")

    # an OME-Zarr label image (the "image-label" the spec marks them with) opens as labels
    _image, labels = nuclei_sample
    group = zarr.open_group(str(tmp_path / "nuclei_seg.ome.zarr"), mode="w")
    group.create_array("0", shape=labels.shape, dtype=np.uint32)[...] = labels
    multiscales = [{"axes": ["y", "x"], "datasets": [{"path": "0"}]}]
    group.attrs.update({"multiscales": multiscales, "image-label": {"version": "0.4"}})
    [(data, _kwargs, kind)] = read(tmp_path / "nuclei_seg.ome.zarr")
    assert kind == "labels"
    np.testing.assert_array_equal(np.asarray(data), labels)


def test_unreadable_files_raise_naming_the_file(make_napari_viewer, tmp_path):
    broken = tmp_path / "broken.tif"
    broken.write_bytes(b"this is not a TIFF file at all")
    with pytest.raises(ValueError, match="broken.tif"):
        read(broken)
    not_ome = tmp_path / "plain.zarr"
    zarr.open_group(str(not_ome), mode="w")
    with pytest.raises(ValueError, match="plain.zarr"):
        read(not_ome)

    viewer = make_napari_viewer()
    with pytest.raises(Exception, match="broken.tif"):
        viewer.open(str(broken), plugin="tessella")
    assert len(viewer.layers) == 0


def test_reader_declines_other_paths(tmp_path):
    (tmp_path / "notes.txt").write_text("x")
    assert get_reader(str(tmp_path / "notes.txt")) is None
    assert get_reader(str(tmp_path)) is None  # a plain folder
    assert get_reader([str(tmp_path / "a.tif"), str(tmp_path / "b.tif")]) is None


@pytest.mark.parametrize("objects", [300, 70_000])  # uint16 ImageJ and uint32 OME-TIFF
def test_labels_written_under_any_name_reopen_as_labels(tmp_path, nuclei_sample, objects):
    image, labels = nuclei_sample
    labels = np.where(labels > 0, labels.astype(np.uint32) + objects - labels.max(), 0)
    meta = {"scale": (1.0, 1.0), "metadata": {"axes": "YX"}}
    for name in ("result.tif", "result.zarr"):
        write = write_labels_tiff if name.endswith(".tif") else write_zarr_plugin
        [written] = write(str(tmp_path / name), labels, meta)
        assert read_image(written).labels, name  # marked so, not only labels by content
        [(data, _kwargs, layer_type)] = read(written)
        assert layer_type == "labels", name
        np.testing.assert_array_equal(np.asarray(data), labels)
    # an integer image that tessella did not write, under a plain name, is an image
    tifffile.imwrite(tmp_path / "plain.tif", image.astype(np.uint32))
    [(_data, _kwargs, layer_type)] = read(tmp_path / "plain.tif")
    assert layer_type == "image"


def test_tiff_writer_keeps_the_pixel_size(tmp_path, nuclei_sample):
    _image, labels = nuclei_sample
    meta = {"scale": (0.5, 0.5), "units": ("µm", "µm"), "metadata": {}}
    [written] = write_labels_tiff(str(tmp_path / "out.tif"), labels, meta)

    with tifffile.TiffFile(written) as tif:
        np.testing.assert_array_equal(tif.asarray(), labels)
        assert tif.imagej_metadata["unit"] == "micron"
        numerator, denominator = tif.pages[0].tags["XResolution"].value
        assert denominator / numerator == pytest.approx(0.5)
    back = read_image(written)
    assert back.axes == "YX" and back.pixel_size == pytest.approx({"Y": 0.5, "X": 0.5})


def test_save_layers_keeps_a_file_s_pixel_size_without_a_unit(
    make_napari_viewer, tmp_path, nuclei_sample
):
    """A file with a pixel size and no unit opens scaled, with unit "pixel"; File > Save
    Layers wrote that size as µm. It now writes the file's own (no) unit, so the saved file
    reads back as the original did; a scale set by hand without a unit is still µm."""
    _image, labels = nuclei_sample
    tifffile.imwrite(tmp_path / "plain_labels.tif", labels, imagej=True, resolution=(2, 2))
    original = read_image(tmp_path / "plain_labels.tif")
    assert original.pixel_size == pytest.approx({"Y": 0.5, "X": 0.5})
    assert original.unit == "pixel"
    viewer = make_napari_viewer()
    [layer] = viewer.open(str(tmp_path / "plain_labels.tif"), plugin="tessella")
    for suffix in ("tif", "zarr"):
        [written] = layer.save(str(tmp_path / f"saved_labels.{suffix}"), plugin="tessella")
        back = read_image(written)
        if suffix == "zarr":  # the size is in the attributes, as the reader gives it
            attrs = zarr.open_array(written, mode="r").attrs
            assert attrs["pixel_size"] == pytest.approx({"Y": 0.5, "X": 0.5})
            assert attrs["unit"] == "pixel"
        else:
            assert back.pixel_size == pytest.approx({"Y": 0.5, "X": 0.5})
            assert back.unit == "pixel"
    by_hand = viewer.add_labels(labels, name="by_hand", scale=(0.5, 0.5))
    [written] = by_hand.save(str(tmp_path / "by_hand.tif"), plugin="tessella")
    assert read_image(written).unit == "µm"


def test_writers_round_trip_through_the_viewer(make_napari_viewer, tmp_path, nuclei_sample):
    _image, labels = nuclei_sample
    volume = np.stack([labels[:200, :200], labels[200:400, :200]])
    viewer = make_napari_viewer()
    layer = viewer.add_labels(volume, name="cells", scale=(3.0, 0.5, 0.5))

    tif = tmp_path / "cells_labels.tif"
    store = tmp_path / "cells_labels.zarr"
    assert layer.save(str(tif), plugin="tessella") == [str(tif)]
    assert layer.save(str(store), plugin="tessella") == [str(store)]

    back = read_image(tif)
    assert back.axes == "ZYX"
    assert back.pixel_size == pytest.approx({"Z": 3.0, "Y": 0.5, "X": 0.5})
    np.testing.assert_array_equal(back.data, volume)
    for path in (tif, store):
        [reopened] = viewer.open(str(path), plugin="tessella")
        assert isinstance(reopened, Labels)
        np.testing.assert_array_equal(reopened.data, volume)
        np.testing.assert_allclose(reopened.scale, (3.0, 0.5, 0.5))


def test_a_time_lapse_named_by_its_axis_labels_is_saved_as_tyx(
    make_napari_viewer, tmp_path, nuclei_sample
):
    _image, labels = nuclei_sample
    frames = np.stack([labels[:100, :100], labels[100:200, :100], labels[200:300, :100]])
    viewer = make_napari_viewer()
    # no metadata: only napari's dimension names say that the first axis is time
    layer = viewer.add_labels(frames, name="tracked", axis_labels=("t", "y", "x"))
    [written] = layer.save(str(tmp_path / "tracked.tif"), plugin="tessella")
    assert read_image(written).axes == "TYX"
    unnamed = viewer.add_labels(frames, name="stack")  # axis labels "-3", "-2", "-1"
    [written] = unnamed.save(str(tmp_path / "stack.tif"), plugin="tessella")
    assert read_image(written).axes == "ZYX"
    assert labels_axes(3, {}, ("time", "y", "x")) == "TYX"
    assert labels_axes(3, {}, ("c", "y", "x")) == "ZYX"  # names that fit no labels axes
    assert labels_axes(3, {"axes": "ZYX"}, ("t", "y", "x")) == "ZYX"  # metadata comes first


def test_zarr_writer_replaces_what_the_save_dialog_agreed_to(tmp_path, nuclei_sample):
    _image, labels = nuclei_sample
    path = tmp_path / "out.zarr"
    write_zarr_labels(path, np.zeros((4, 4), np.uint16))
    meta = {"scale": (1.0, 1.0), "metadata": {"axes": "YX"}}
    write_zarr_plugin(str(path), labels, meta)
    np.testing.assert_array_equal(zarr.open_array(str(path), mode="r")[...], labels)


def test_axes_and_pixel_size_of_a_layer():
    assert labels_axes(3, {"axes": "tyx"}) == "TYX"
    assert labels_axes(2, {"tessella_recipe": {"axes": "YXC"}}) == "YX"
    assert labels_axes(3, {"axes": "YX"}) == "ZYX"  # metadata that does not fit is ignored
    assert labels_axes(4, {}) == "TZYX"
    assert pixel_size_of("YX", (1.0, 1.0)) == (None, "pixel")
    assert pixel_size_of("TYX", (5.0, 0.2, 0.2)) == ({"Y": 0.2, "X": 0.2}, "µm")
    assert pixel_size_of("YX", (1.0, 1.0), ("nm", "nm")) == ({"Y": 1.0, "X": 1.0}, "nm")


def test_the_reader_says_when_its_axes_are_only_a_guess(tmp_path):
    stack = np.zeros((6, 32, 32), np.uint16)
    tifffile.imwrite(tmp_path / "shaped.tif", stack)  # tifffile's own metadata, no axes
    tifffile.imwrite(tmp_path / "pages.tif", stack, metadata=None)  # a plain multi-page TIFF
    tifffile.imwrite(tmp_path / "movie.tif", stack, metadata={"axes": "TYX"})
    imagej_tiff(tmp_path / "volume.tif", stack, "ZYX", 0.5)
    tifffile.imwrite(tmp_path / "plane.tif", stack[0], metadata=None)
    zarr.open_array(str(tmp_path / "stack.zarr"), mode="w", shape=stack.shape, dtype="u2")
    write_zarr_labels(tmp_path / "labels.zarr", stack, "TYX")

    def metadata(name: str) -> dict:
        [(_data, kwargs, _kind)] = read(tmp_path / name)
        return kwargs["metadata"]

    for name in ("shaped.tif", "pages.tif", "stack.zarr"):
        assert metadata(name)["axes"] == "ZYX", name  # the guess, for the Segment widget
        assert metadata(name)["axes_guessed"] is True, name
    for name, axes in (
        ("movie.tif", "TYX"),
        ("volume.tif", "ZYX"),
        ("plane.tif", "YX"),
        ("labels.zarr", "TYX"),
    ):
        assert metadata(name)["axes"] == axes, name
        assert "axes_guessed" not in metadata(name), name
