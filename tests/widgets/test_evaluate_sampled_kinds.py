""" "Ground truth is" guessed from a sample of a large or lazy ground truth whose annotation
the engine's sample alone misses or misreads: a membrane map with cells larger than its
windows, and a volume annotated in a few of its planes. Each is guessed in a real viewer as
the annotated data are when looked at whole, reading about GUESS_SAMPLE_PIXELS of it."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import tifffile

from tessella._widgets._evaluate_kinds import GUESS_SAMPLE_PIXELS
from tessella.engine.evaluation import ground_truth_kind
from tests.engine.test_evaluate_mistakes import ISBI, ReadCounter
from tests.engine.test_evaluation_sampled_kind import _volume


def _guessed(viewer, qtbot, truth, name: str):
    """The Evaluate panel's guess for ``truth`` (lazy) against a lazy prediction of 0s."""
    viewer.add_labels(da.zeros(truth.shape, dtype=np.uint16, chunks=truth.chunksize), name="pred")
    _dock, widget = viewer.window.add_plugin_dock_widget("tessella", "Evaluate")
    with qtbot.waitSignal(widget.kind_guessed, timeout=30_000):
        viewer.add_labels(truth, name=name)
        assert widget.kind_worker is not None  # (in a worker, from a sample)
    return widget


def test_a_membrane_map_with_cells_larger_than_the_windows_is_a_boundary_map(
    make_napari_viewer, qtbot, data_dir
):
    """An ISBI membrane map scaled up 8 times (4096 x 4096, its cells about 190 pixels
    across, many larger), lazy: a boundary map, as the whole map is (the 9 windows of 482 x
    483 each held a few cells: it was taken as a binary mask). About GUESS_SAMPLE_PIXELS of
    it are read to tell."""
    membranes = tifffile.imread(data_dir / ISBI / "boundaries" / "00.tif").astype(np.uint8)
    assert ground_truth_kind(membranes, membranes.shape)[0] == "boundaries"
    large = np.kron(membranes, np.ones((8, 8), np.uint8))
    source = ReadCounter(large)
    truth = da.from_array(source, chunks=512, name=False)

    widget = _guessed(make_napari_viewer(), qtbot, truth, "membranes")

    assert widget.truth_kind == "boundaries"
    assert widget.kind_label.text() == (
        "'membranes': only 0 and 1, in thin lines between regions: a membrane map (guessed "
        "from a sample: 9 windows of 482 x 483 spread evenly over its 4096 x 4096 pixels; "
        "then 40 small windows between them and 1254 x 1254 around the fullest), so taken as "
        "boundary map."
    )
    source.read = 0  # (napari read the plane it shows)
    assert ground_truth_kind(truth, truth.shape, truth, GUESS_SAMPLE_PIXELS)[0] == "boundaries"
    assert source.read <= 2 * GUESS_SAMPLE_PIXELS  # the windows' chunks, not the map


@pytest.mark.parametrize("first", [0, 180])
def test_a_volume_whose_membranes_are_drawn_in_20_planes_at_one_end(
    make_napari_viewer, qtbot, data_dir, first
):
    """The 20 ISBI membrane maps, scaled up 3 times (1536 x 1536), as planes 0-19 or 180-199
    of a lazy volume of 200 planes (0 elsewhere): a boundary map, as the 20 maps are. Of the
    16 planes of the engine's sample two held membranes: it was taken as a binary mask (the
    first 20), or as a stack of object masks (the last 20: two neighbouring membrane maps
    hardly overlap)."""
    maps = np.stack(
        [tifffile.imread(path) for path in sorted((data_dir / ISBI / "boundaries").glob("*.tif"))]
    ).astype(np.uint8)
    maps = np.kron(maps, np.ones((1, 3, 3), np.uint8))
    assert ground_truth_kind(maps, maps.shape)[0] == "boundaries"
    truth, source = _volume(maps, 200, first)

    widget = _guessed(make_napari_viewer(), qtbot, truth, "membranes")

    assert widget.truth_kind == "boundaries"
    text = widget.kind_label.text()
    assert text.startswith("'membranes': only 0 and 1, in thin lines between regions: a membrane")
    assert "16 of its 200 planes, each its central 362 x 362 of 1536 x 1536; then 32 small " in (
        text
    )
    assert source.read <= 2 * GUESS_SAMPLE_PIXELS  # (the annotated planes: 47 Mpx)


def test_a_mask_drawn_in_planes_the_central_sample_misses_is_a_binary_mask(
    make_napari_viewer, qtbot, data_dir
):
    """Lucchi++ mitochondria (0/1, 25 planes of 768 x 1024) as planes 30-54 of a lazy volume
    of 200: a binary mask, as the 25 planes are (none of the engine's 16 planes held any of
    it, and the volume was taken for instances, "many object IDs")."""
    mito = tifffile.imread(data_dir / "em_mito_lucchipp" / "val" / "mito.tif")
    assert ground_truth_kind(mito, mito.shape)[0] == "binary"
    truth, source = _volume(mito, 200, 30)

    widget = _guessed(make_napari_viewer(), qtbot, truth, "mito")

    assert widget.truth_kind == "binary"
    text = widget.kind_label.text()
    assert text.startswith("'mito': only 0 and 1: probably a binary mask (guessed from a sample")
    assert text.endswith("around the fullest), so taken as binary mask.")
    assert source.read <= 2 * GUESS_SAMPLE_PIXELS


def test_a_mask_in_three_planes_the_sample_misses_is_said_to_be_perhaps_missed(
    make_napari_viewer, qtbot, nuclei_sample
):
    """The acceptance tester's case (session 23, finding 11): a binary nuclei mask in the
    central 512 x 512 of planes 60-62 of a lazy volume of 100 x 1024 x 1024. The sample
    reads none of it (its planes skip 60-62; plane 60's small window is at its top edge), so
    it is taken as instances; the line under the choice now says why that may be wrong and
    what to do (it only said "nothing annotated to tell what it is")."""
    mask = (nuclei_sample[1][4:516, :512] != 0).astype(np.uint8)
    planes = np.zeros((3, 1024, 1024), np.uint8)
    planes[:, 256:768, 256:768] = mask
    truth, _source = _volume(planes, 100, 60)

    widget = _guessed(make_napari_viewer(), qtbot, truth, "nuclei mask")

    assert widget.truth_kind == "labels"  # (the sample cannot tell: Evaluate's budget)
    text = widget.kind_label.text()
    assert text.startswith("'nuclei mask': only 0 in the sample: nothing annotated to tell")
    assert text.endswith(
        "so taken as instances (labels). Annotation kept to a few planes, or to a small part of "
        "them, can lie outside the sample: if it is not instances, choose its kind in 'Ground "
        "truth is' above."
    )


def test_a_2d_mask_the_sample_misses_is_advised_of_in_words_of_an_image(make_napari_viewer, qtbot):
    """A 60 x 60 mask at the top edge of a lazy 8192 x 8192 image, between the first
    windows: the advice speaks of a part of the image (it spoke of planes, which a 2D image
    has none of)."""
    image = np.zeros((8192, 8192), np.uint8)
    image[0:60, 700:760] = 1
    truth = da.from_array(image, chunks=1024)

    widget = _guessed(make_napari_viewer(), qtbot, truth, "mask2d")

    text = widget.kind_label.text()
    assert text.startswith("'mask2d': only 0 in the sample"), text
    assert text.endswith(
        "Annotation kept to a small part of the image can lie outside the sample: if it is "
        "not instances, choose its kind in 'Ground truth is' above."
    )
    assert "planes" not in text
