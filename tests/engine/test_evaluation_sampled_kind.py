"""What a large or lazy ground truth is guessed to be when its annotation is where the first
sample (``sample_planes``) hardly looks: ``ground_truth_kind`` with ``sample_pixels``, as the
Evaluate panel and Python users call it, takes a wider look (``wider_look``) and guesses
as the annotated data are when looked at whole, reading about ``sample_pixels`` of them. No
Qt: the same cases as tests/widgets/test_evaluate_sampled_kinds.py, in the engine."""

from __future__ import annotations

import dask.array as da
import numpy as np
import pytest
import tifffile

from tessella.engine.evaluation import ground_truth_kind
from tessella.engine.evaluation._kind import _judged
from tests.engine.test_evaluate_mistakes import ISBI, ReadCounter

BUDGET = 2**22  # the Evaluate panel's GUESS_SAMPLE_PIXELS


def _volume(planes: np.ndarray, depth: int, first: int):
    """``planes`` as planes ``first`` onwards of a lazy volume of ``depth`` planes, 0
    elsewhere (nothing but the annotated planes in memory); and their read counter."""
    source = ReadCounter(planes)
    chunks = (1, 512, 512)
    parts = [
        da.zeros((first, *planes.shape[1:]), dtype=planes.dtype, chunks=chunks),
        da.from_array(source, chunks=chunks, name=False),
        da.zeros(
            (depth - first - len(planes), *planes.shape[1:]), dtype=planes.dtype, chunks=chunks
        ),
    ]
    return da.concatenate([part for part in parts if part.shape[0]]), source


def test_a_membrane_map_with_cells_larger_than_the_windows_is_a_boundary_map(data_dir):
    """An ISBI membrane map scaled up 8 times (4096 x 4096, cells about 190 pixels across,
    many larger), lazy: a boundary map, as the whole map is, from the 9 first windows and a
    wider look at it (the first windows alone, 682 x 682 each with the whole budget, each
    held a few cells: a binary mask). The chunks of the windows are read, not the map."""
    membranes = tifffile.imread(data_dir / ISBI / "boundaries" / "00.tif").astype(np.uint8)
    assert ground_truth_kind(membranes, membranes.shape)[0] == "boundaries"
    large = np.kron(membranes, np.ones((8, 8), np.uint8))
    source = ReadCounter(large)
    truth = da.from_array(source, chunks=512, name=False)

    assert ground_truth_kind(truth, truth.shape, truth, BUDGET) == (
        "boundaries",
        "only 0 and 1, in thin lines between regions: a membrane map (guessed from a sample: "
        "9 windows of 482 x 483 spread evenly over its 4096 x 4096 pixels; then 40 small "
        "windows between them and 1254 x 1254 around the fullest)",
    )
    assert source.read <= 2 * BUDGET  # the windows' chunks, not the map
    assert _judged(large, large.shape, None, BUDGET)[0] == "binary"  # (the first sample alone)


@pytest.fixture(scope="module")
def isbi_maps_x3(data_dir) -> np.ndarray:
    """The 20 ISBI membrane maps (1 = membrane), each scaled up 3 times (1536 x 1536)."""
    paths = sorted((data_dir / ISBI / "boundaries").glob("*.tif"))
    maps = np.stack([tifffile.imread(path) for path in paths]).astype(np.uint8)
    return np.kron(maps, np.ones((1, 3, 3), np.uint8))


@pytest.mark.parametrize(("first", "alone"), [(0, "binary"), (180, "binary")])
def test_a_volume_whose_membranes_are_drawn_in_20_planes_at_one_end(isbi_maps_x3, first, alone):
    """The 20 ISBI maps x 3 as planes 0-19 or 180-199 of a lazy volume of 200 planes (0
    elsewhere): a boundary map, as the 20 maps are, reading at most twice the budget of the
    47 Mpx annotated. Of the first sample's 16 planes two hold membranes: alone it takes the
    volume for a binary mask. (Of the last 20 it took a stack of object masks: two
    neighbouring membrane maps hardly overlap; their planes, thin lines around many regions,
    are no object masks now, user test t4 problem 1.)"""
    assert ground_truth_kind(isbi_maps_x3, isbi_maps_x3.shape)[0] == "boundaries"
    truth, source = _volume(isbi_maps_x3, 200, first)

    kind, why = ground_truth_kind(truth, truth.shape, truth, BUDGET)

    assert kind == "boundaries"
    assert why.startswith("only 0 and 1, in thin lines between regions: a membrane map (")
    assert "16 of its 200 planes, each its central 362 x 362 of 1536 x 1536; then 32 small " in (
        why
    )
    assert source.read <= 2 * BUDGET
    assert _judged(truth, truth.shape, None, BUDGET)[0] == alone


def test_a_mask_drawn_in_planes_the_central_sample_misses_is_a_binary_mask(data_dir):
    """Lucchi++ mitochondria (0/1, 25 planes of 768 x 1024) as planes 30-54 of a lazy volume
    of 200: a binary mask, as the 25 planes are, its pieces not counted (a sample's are not
    the volume's). None of the first sample's 16 planes holds any of it: alone it says
    "many object IDs" (instances)."""
    mito = tifffile.imread(data_dir / "em_mito_lucchipp" / "val" / "mito.tif")
    assert ground_truth_kind(mito, mito.shape)[0] == "binary"
    truth, source = _volume(mito, 200, 30)

    kind, why = ground_truth_kind(truth, truth.shape, truth, BUDGET)

    assert kind == "binary"
    assert why.startswith("only 0 and 1: probably a binary mask (guessed from a sample: 16 of")
    assert why.endswith("around the fullest)") and "connected piece" not in why
    assert source.read <= 2 * BUDGET
    assert _judged(truth, truth.shape, None, BUDGET)[0] == "labels"


def test_nothing_annotated_where_it_looks_is_said_so_and_taken_as_instances():
    """A lazy volume of 0s: nothing read tells what it is; taken as instances, ``why`` saying
    so and naming both looks (the first sample alone said "many object IDs")."""
    truth = da.zeros((200, 1024, 1024), dtype=np.uint8, chunks=(1, 512, 512))
    assert ground_truth_kind(truth, truth.shape, truth, BUDGET) == (
        "labels",
        "only 0 in the sample: nothing annotated to tell what it is (guessed from a sample: "
        "16 of its 200 planes, each its central 362 x 362 of 1024 x 1024; then 32 small "
        "windows over 32 planes)",
    )


def test_a_small_ground_truth_is_judged_whole_as_before(data_dir):
    """Within the budget nothing changes: the whole array is judged, pieces counted."""
    mito = tifffile.imread(data_dir / "em_mito_lucchipp" / "val" / "mito.tif")[:4, :512, :512]
    assert ground_truth_kind(mito, mito.shape, mito, BUDGET) == ground_truth_kind(mito, mito.shape)
    assert "connected piece" in ground_truth_kind(mito, mito.shape, mito, BUDGET)[1]


@pytest.fixture(scope="module")
def patches_400(data_dir, nuclei_sample) -> dict[str, tuple[np.ndarray, str]]:
    """400 x 400 of real annotation of each kind, and the start of what ``ground_truth_kind``
    says of it: DSB2018 nuclei labels, Lucchi++ mitochondria (0/1), an ISBI membrane map."""
    mito = tifffile.imread(data_dir / "em_mito_lucchipp" / "val" / "mito.tif")[12, 200:600, 300:700]
    membranes = tifffile.imread(data_dir / ISBI / "boundaries" / "00.tif")[:400, :400]
    return {
        "labels": (nuclei_sample[1][:400, :400], "many object IDs: instance labels ("),
        "binary": (mito, "only 0 and 1: probably a binary mask ("),
        "boundaries": (
            membranes.astype(np.uint8),
            "only 0 and 1, in thin lines between regions: a membrane map (",
        ),
    }


@pytest.mark.parametrize("kind", ["labels", "binary", "boundaries"])
@pytest.mark.parametrize(
    "centre",
    [(1144, 1144), (1144, 2048), (3000, 400)],
    ids=["between-corner-and-centre", "between-top-and-centre", "between-left-and-corner"],
)
def test_2d_annotation_between_the_first_windows_is_found(patches_400, kind, centre):
    """A lazy 4096 x 4096 image annotated only in 400 x 400 (0 elsewhere) between the 9 first
    windows (482 x 483 at its corners, the middles of its edges and its centre): guessed as
    what the 400 x 400 are, reading at most twice the budget. The wider look's windows lie
    between the first windows; they lay inside them, so nothing annotated was seen and it
    was taken for instances for want of anything else ("only 0 in the sample")."""
    patch, said = patches_400[kind]
    assert ground_truth_kind(patch, patch.shape)[0] == kind
    image = np.zeros((4096, 4096), patch.dtype)
    top, left = centre[0] - 200, centre[1] - 200
    image[top : top + 400, left : left + 400] = patch
    source = ReadCounter(image)
    truth = da.from_array(source, chunks=512, name=False)

    guessed, why = ground_truth_kind(truth, truth.shape, truth, BUDGET)

    assert (guessed, why[: len(said)]) == (kind, said)
    assert why.endswith(
        "(guessed from a sample: 9 windows of 482 x 483 spread evenly over its 4096 x 4096 "
        "pixels; then 40 small windows between them and 724 x 724 around the fullest)"
    )
    assert source.read <= 2 * BUDGET
