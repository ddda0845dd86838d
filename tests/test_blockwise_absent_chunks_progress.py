"""The judgement of a blockwise input's chunks without a file (lost, or left out as blank?)
had no progress and no cancel point (the known gap "the absent-chunk judgement ... has no
progress or cancel"): each absent chunk reads up to four faces of the chunks beside it, each
decoding a whole chunk, so a zarr that left out tens of thousands of blank chunks sat
minutes in it, the bar still and Cancel waiting. It now yields "fingerprint" progress (still
checking the input, ``inner`` saying "absent chunks") every ABSENT_PER_STEP chunks, and
closing the run there stops it."""

from __future__ import annotations

import os

import numpy as np
import pytest
import tifffile
import zarr

from tessella.engine.blockwise import (
    BlockwiseSupport,
    FunctionSegmenter,
    _identity,
    label_blocks_steps,
)


@pytest.fixture
def margin_zarr(tmp_path, data_dir):
    """The real nuclei image (512²) with a blank margin 256 px wide on its right, in 32²
    chunks: the margin's 128 chunks are left out as all fill value; two chunks of signal are
    lost (their files removed, as by an interrupted copy)."""
    image = tifffile.imread(data_dir / "fixtures" / "img2d.tif")
    padded = np.zeros((512, 768), image.dtype)
    padded[:, :512] = image
    folder = tmp_path / "margin.zarr"
    array = zarr.create_array(str(folder), shape=padded.shape, chunks=(32, 32), dtype=image.dtype)
    array[...] = padded
    for key in ("c/3/4", "c/9/9"):
        os.remove(folder / key)
    names = {str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file()}
    return folder, _identity.absent_chunks(folder, names)


def test_the_judgement_says_its_progress(margin_zarr, monkeypatch):
    folder, absent = margin_zarr
    assert len(absent) == 130
    monkeypatch.setattr(_identity, "ABSENT_PER_STEP", 16)
    steps = _identity.damaged_chunks_steps(folder, absent)
    said = []
    while True:
        try:
            said.append(next(steps))
        except StopIteration as stop:
            damaged = stop.value
            break
    # (the lost ones among them: the image's background is not 0 up to the margin)
    found = [tuple((s.start, s.stop) for s in region) for region in damaged]
    assert ((96, 128), (128, 160)) in found and ((288, 320), (288, 320)) in found
    assert {p.stage for p in said} == {"fingerprint"}
    assert {p.inner.stage for p in said} == {"absent chunks"}
    assert [p.done for p in said] == list(range(0, 130, 16)) + [130]
    assert {p.total for p in said} == {130}


def test_closing_the_judgement_stops_its_reading(margin_zarr, monkeypatch):
    folder, absent = margin_zarr
    monkeypatch.setattr(_identity, "ABSENT_PER_STEP", 8)
    reads = []
    getitem = zarr.Array.__getitem__

    def counted(self, selection):
        reads.append(selection)
        return getitem(self, selection)

    monkeypatch.setattr(zarr.Array, "__getitem__", counted)
    steps = _identity.damaged_chunks_steps(folder, absent)
    for progress in steps:
        if progress.done >= 16:
            break
    steps.close()  # Cancel
    stopped = len(reads)
    reads.clear()
    _identity.damaged_chunks(folder, absent)
    assert 0 < stopped < len(reads) / 4  # (16 of 130 chunks judged, each face read once)


def test_a_blockwise_run_yields_it_before_any_block(margin_zarr, tmp_path, monkeypatch):
    folder, _absent = margin_zarr
    monkeypatch.setattr(_identity, "ABSENT_PER_STEP", 32)
    steps = label_blocks_steps(
        folder,
        tmp_path / "out.zarr",
        FunctionSegmenter(lambda image, axes, origin: (np.asarray(image) > 100).astype("uint32")),
        block=256,
        halo=0,
        support=BlockwiseSupport(0, "touch"),
    )
    judged = []
    with pytest.warns(UserWarning, match="chunks have no file"):
        for progress in steps:
            if getattr(progress.inner, "stage", None) == "absent chunks":
                judged.append(progress.done)
            if progress.stage == "segment":
                break
    steps.close()
    assert judged == [0, 32, 64, 96, 128, 130]
