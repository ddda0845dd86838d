"""A lazy 3D pair of instance labels (zarr, dask: a blockwise result of a volume or a movie)
is scored a piece at a time, never read whole, with the scores, counts, notes and error map
of the pair read whole (the error map a dask array, each piece drawn where shown): a ZYX
volume as one image whose overlap table is merged over its slabs (an object spanning slabs
is one object, matched once), a TYX movie frame by frame (each frame an image; the same ID
in two frames two objects). Before, the Evaluate panel and ``evaluate_labels`` read such a
pair whole (``tiled_pair`` took 2D pairs only), and ``tessella evaluate`` read a pair of 3D
zarrs whole. Real data: Lucchi++ mitochondria (3D connected pieces), the 3D nuclei fixture,
Cell Tracking Challenge SIM+ SEG frames."""

from __future__ import annotations

import os
from pathlib import Path

import dask.array as da
import numpy as np
import pytest
import tifffile
import zarr
from scipy import ndimage

from tessella.engine.evaluation import _tiles, evaluate_labels, evaluate_labels_steps, score_paths
from tessella.engine.progress import run_steps
from tests.engine._evaluate_pieces_common import spy_largest_read

DATA = Path(os.environ.get("TESSELLA_DATA", "/work/shared/data"))
MITO = DATA / "em_mito_lucchipp" / "val" / "mito.tif"
NUCLEI = DATA / "fixtures" / "mask3d.tif"
IMAGE = DATA / "fixtures" / "img3d.tif"
MOVIE = DATA / "ctc_Fluo-N2DH-SIM+" / "01_GT" / "SEG"
WANTED = ("ap", "iou", "vrand")

pytestmark = pytest.mark.skipif(
    not (MITO.exists() and NUCLEI.exists() and MOVIE.exists()), reason="no Lucchi++, CTC data"
)


class Lazy:
    """A 3D array not in memory (as a zarr is), of ``chunks``, counting the most pixels read
    at once in ``seen[0]``."""

    def __init__(self, array: np.ndarray, seen: list[int], chunks: tuple[int, ...]):
        self.array, self.seen, self.chunks = array, seen, chunks
        self.shape, self.dtype, self.ndim = array.shape, array.dtype, array.ndim

    def __getitem__(self, where):
        piece = self.array[where]
        self.seen[0] = max(self.seen[0], piece.size)
        return piece

    def __array__(self, dtype=None, copy=None):
        self.seen[0] = max(self.seen[0], self.array.size)
        return self.array if dtype is None else self.array.astype(dtype)


def _mito() -> tuple[np.ndarray, np.ndarray]:
    """Lucchi++ val mitochondria (13), 3D connected pieces, against them eroded in Y and X,
    shifted 3 pixels and one of them lost."""
    mito = tifffile.imread(MITO) > 0
    truth = ndimage.label(mito, np.ones((3, 3, 3), bool))[0].astype(np.uint32)
    pred = np.roll(ndimage.grey_erosion(truth, size=(1, 3, 3)), 3, axis=2)
    return truth, np.where(pred == 2, 0, pred)


def _nuclei() -> tuple[np.ndarray, np.ndarray]:
    """The 3D nuclei fixture against a copy shifted 2 slices and 1 pixel, pairs merged."""
    truth = tifffile.imread(NUCLEI)
    pred = np.roll(truth, (2, 1), axis=(0, 2)).astype(np.uint32)
    return truth, np.where(pred % 5 == 1, pred + 1, pred)


def _movie(frames: int = 8) -> tuple[np.ndarray, np.ndarray]:
    """SIM+ SEG frames (IDs are tracks: one cell has one ID in every frame) against them
    shifted 2 pixels, every third frame's pairs of cells merged."""
    truth = np.stack([tifffile.imread(MOVIE / f"man_seg{t:03d}.tif") for t in range(frames)])
    pred = np.roll(truth, 2, axis=2).astype(np.uint32)
    pred[::3] = np.where(pred[::3] % 4 == 1, pred[::3] + 1, pred[::3])
    return truth, pred


def _same(lazy, whole) -> None:
    assert lazy.scores == whole.scores and list(lazy.scores) == list(whole.scores)
    got = (lazy.n_true, lazy.n_pred, lazy.tp, lazy.fp, lazy.fn, lazy.notes)
    assert got == (whole.n_true, whole.n_pred, whole.tp, whole.fp, whole.fn, whole.notes)
    assert lazy.errors.dtype == whole.errors.dtype and lazy.errors.shape == whole.errors.shape
    assert np.array_equal(np.asarray(lazy.errors), whole.errors)


@pytest.mark.parametrize(
    "pair, chunks, side",
    [(_mito, (4, 128, 128), 256), (_nuclei, (4, 16, 16), 20), (_nuclei, (1, 61, 57), 30)],
)
def test_volume_scored_a_piece_at_a_time_as_read_whole(pair, chunks, side, monkeypatch):
    truth, pred = pair()
    depth = [box[0].stop - box[0].start for box in ndimage.find_objects(truth) if box]
    assert max(depth) > chunks[0]  # (objects spanning slabs: matched once, as one object)
    whole = evaluate_labels(truth, pred, metrics_wanted=WANTED)
    assert 0 < whole.tp < whole.n_true and 0 < whole.scores["vrand"] < 1
    monkeypatch.setattr(_tiles, "TILE_SIDE", side)
    seen = [0]
    lazy = evaluate_labels(Lazy(truth, seen, chunks), Lazy(pred, seen, chunks),
                           metrics_wanted=WANTED)  # fmt: skip
    piece = chunks[0] * max(chunks[1], side) * max(chunks[2], side)  # (a slab's piece at most)
    assert 0 < seen[0] <= piece < truth.size // 4  # (before: read whole)
    _same(lazy, whole)
    # the error map: lazy (before: a NumPy array, drawn whole in the scoring), a plane of
    # it shown computes the pieces of its slab only
    assert isinstance(lazy.errors, da.Array)
    seen[0] = 0
    plane = np.asarray(lazy.errors[len(truth) // 2])
    assert 0 < seen[0] <= piece and np.array_equal(plane, whole.errors[len(truth) // 2])


def test_time_lapse_scored_frame_by_frame_as_read_whole(monkeypatch):
    truth, pred = _movie()
    whole = evaluate_labels(truth, pred, frame_axis=0, metrics_wanted=WANTED)
    assert whole.scores["n_images"] == 8 and 0 < whole.tp < whole.n_true
    monkeypatch.setattr(_tiles, "TILE_SIDE", 300)
    for chunks in ((1, 256, 256), (3, 128, 200)):
        seen = [0]
        steps = evaluate_labels_steps(Lazy(truth, seen, chunks), Lazy(pred, seen, chunks),
                                      frame_axis=0, metrics_wanted=WANTED)  # fmt: skip
        said = []
        while True:
            try:
                said.append(next(steps))
            except StopIteration as end:
                lazy = end.value
                break
        assert 0 < seen[0] <= chunks[0] * 256 * 256  # (before: 8 x 690 x 628, read whole)
        _same(lazy, whole)
        # the frames counted from the start, each said once scored (the panel's bar)
        matches = [(p.done, p.total) for p in said if p.stage == "match"]
        assert matches == [(t, 8) for t in range(9)]


def test_notes_of_a_lazy_volume_as_read_whole(monkeypatch):
    """An intensity image given as ground truth, a stack of object masks given as the
    prediction (each plane one nucleus), a ground truth whose largest object covers most of
    it: the notes of the pair read whole, the planes of the stack read only."""
    truth, pred = _nuclei()
    image = tifffile.imread(IMAGE)
    masks = np.zeros(truth.shape, np.uint16)
    for z, i in enumerate(np.unique(truth)[1:32]):  # (31 planes, each one nucleus)
        masks[z][np.any(truth == i, axis=0)] = i
    painted = np.where(truth == 0, 200, truth)  # (a label painted on the background)
    monkeypatch.setattr(_tiles, "TILE_SIDE", 20)
    cases = [(image, pred, "looks like an image"), (truth, masks, "stack of object masks"),
             (painted, pred, "the largest covering")]  # fmt: skip
    for t, p, said in cases:
        whole = evaluate_labels(t, p)
        assert any(said in note for note in whole.notes), whole.notes
        seen = [0]
        lazy = evaluate_labels(Lazy(t, seen, (4, 16, 16)), Lazy(p, seen, (4, 16, 16)))
        assert seen[0] <= t[0].size  # (a plane of the mask stack at most)
        _same(lazy, whole)


def _write(path: Path, array: np.ndarray, chunks: tuple[int, ...]) -> str:
    store = zarr.open(str(path), mode="w", shape=array.shape, chunks=chunks, dtype=array.dtype)
    store[:] = array
    return str(path)


def test_cli_volume_zarrs_read_in_pieces(tmp_path, monkeypatch):
    """``score_paths`` (``tessella evaluate PRED.zarr GT.zarr``) of two 3D zarrs reads them a
    slab's piece at a time (before: whole), with the scores of the TIFFs."""
    truth, pred = _nuclei()
    for name, array in (("gt", truth), ("pred", pred)):
        _write(tmp_path / f"{name}.zarr", array, (4, 16, 16))
        tifffile.imwrite(tmp_path / f"{name}.tif", array)
    seen = spy_largest_read(monkeypatch, 20)
    pieces = score_paths(str(tmp_path / "pred.zarr"), str(tmp_path / "gt.zarr"), WANTED,
                         per_image=True)  # fmt: skip
    assert 0 < seen[0] <= 4 * 16 * 16  # (before: 31 x 61 x 57, read whole)
    whole = score_paths(str(tmp_path / "pred.tif"), str(tmp_path / "gt.tif"), WANTED,
                        per_image=True)  # fmt: skip
    for scores in (pieces, whole):
        scores["images"][0]["name"] = "gt"
        # (each says it scored its file, named, as one volume)
        assert scores.pop("scored_as").startswith("scored as one volume: gt.")
    assert pieces == whole and 0 < whole["vrand"] < 1


def test_lazy_stacks_with_dask():
    """Dask arrays (a multiscale layer's level 0) are read by their chunks too."""
    truth, pred = _movie(4)
    whole = evaluate_labels(truth, pred, frame_axis=0, metrics_wanted=WANTED)
    lazy = run_steps(evaluate_labels_steps(da.from_array(truth, chunks=(2, 345, 314)),
                                           pred, frame_axis=0, metrics_wanted=WANTED))  # fmt: skip
    _same(lazy, whole)


def test_lazy_prediction_scored_at_annotated_frames_a_frame_at_a_time():
    """Ground truth annotating some frames only (a SEG folder) against a lazy movie (a
    blockwise result): the prediction is read a frame at a time where annotated (before:
    read whole), with the Evaluation of the prediction in memory; frame 5 annotates a third
    of its cells (the others yellow, not annotated)."""
    truth, pred = _movie()
    truth[5][truth[5] % 3 != 0] = 0
    places = [(0,), (3,), (5,)]
    whole = evaluate_labels(truth, pred, annotated=places, metrics_wanted=("ap", "iou"))
    assert whole.not_annotated > 0 and whole.sparse_places == ((5,),)
    seen = [0]
    lazy = evaluate_labels(truth, Lazy(pred, seen, (1, 256, 256)), annotated=places,
                           metrics_wanted=("ap", "iou"))  # fmt: skip
    assert 0 < seen[0] <= 256 * 256  # (before: 8 x 690 x 628, read whole)
    _same(lazy, whole)
    assert (lazy.not_annotated, lazy.sparse_places) == (whole.not_annotated, whole.sparse_places)
