"""A blockwise run warns, as an in-memory run does and before any block is segmented, of an
input that looks unlike the model's training images (the card's ``input_statistics``): the
same line, judged on a bounded sample read through the run's own normalisation (the scan's).
Real data: worms2d given the GFP channel of a BBBC010 well (the files in ``brightfield/`` of
this copy), not the brightfield well it was trained on; em-membranes2d on ISBI 2012 sections
cut at the block's edge (slices); nuclei2d movies with dim and blank frames."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import tifffile
import zarr

from tessella.cli import main
from tessella.engine.blockwise import _run, segment_blockwise_steps
from tessella.engine.pipeline import run_steps, segment_steps
from tests.conftest import DATA, SAMPLES


def _well(folder: str) -> np.ndarray:
    path = DATA / "worms_bbbc010" / folder / "E03.tif"
    if not path.is_file():
        pytest.fail(f"{path} is missing (the shared BBBC010 data)")
    return tifffile.imread(path)


def _zarr(path, array: np.ndarray) -> str:
    stored = zarr.create_array(
        str(path), shape=array.shape, dtype=array.dtype, chunks=(64,) * array.ndim
    )
    stored[...] = array
    return str(path)


def _blockwise_said(image, out, model: str, axes: str, **options) -> list[str]:
    """The input check's warnings of a blockwise run, as far as its first segmented block:
    the run is stopped there (the check comes before any block is segmented)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        steps = segment_blockwise_steps(image, out, model, axes, tta=False, device="cpu", **options)
        for progress in steps:
            if progress.stage == "segment":
                break
        steps.close()
    return [str(w.message) for w in caught if "looks unlike" in str(w.message)]


def _in_memory_said(image: np.ndarray, model: str, axes: str, name: str) -> list[str]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        run_steps(segment_steps(image, model, axes, tta=False, device="cpu", name=name))
    return [str(w.message) for w in caught if "looks unlike" in str(w.message)]


def test_blockwise_warns_of_the_gfp_channel_as_in_memory(tmp_path):
    """One block (the left half of the well): the same line as in memory, word for word."""
    image = _well("brightfield")[:, :348]
    source = _zarr(tmp_path / "E03.zarr", image)
    said = _blockwise_said(source, tmp_path / "out.zarr", "worms2d", "YX")
    assert len(said) == 1 and "\n" not in said[0]
    assert said == _in_memory_said(image, "worms2d", "YX", source)
    assert said[0].startswith(f"{source} looks unlike the images model 'worms2d'")
    gfp = _zarr(tmp_path / "gfp.zarr", _well("gfp")[:, :348])
    assert _blockwise_said(gfp, tmp_path / "gfp_out.zarr", "worms2d", "YX") == []


def test_a_well_in_many_blocks_is_judged_on_a_few_windows(tmp_path, monkeypatch):
    """The whole well in blocks of 128 px (5 x 6 = 30): the scan reads the 30 blocks, the
    check 4 windows (one per block spread over the well); the GFP channel is warned of, the
    brightfield well (its dark surround in the windows too) is not."""
    reads: list[tuple[int, ...]] = []
    read = _run._Run.read

    def counted(self, region):
        reads.append(tuple(s.stop - s.start for s in region))
        return read(self, region)

    monkeypatch.setattr(_run._Run, "read", counted)
    source = _zarr(tmp_path / "E03.zarr", _well("brightfield"))
    said = _blockwise_said(source, tmp_path / "out.zarr", "worms2d", "YX", block=128)
    assert len(said) == 1 and "90th percentile" in said[0]
    assert len(reads) == 30 + 4
    assert all(np.prod(shape) <= 128 * 128 for shape in reads[30:])
    gfp = _zarr(tmp_path / "gfp.zarr", _well("gfp"))
    assert _blockwise_said(gfp, tmp_path / "gfp_out.zarr", "worms2d", "YX", block=128) == []


def test_a_stack_sliced_names_its_slices(tmp_path):
    """em-membranes2d segments a ZYX stack slice by slice: three ISBI 2012 sections, the first
    and the last cut at the block's edge, judged slice by slice, as in memory."""
    sections = []
    for i in range(3):
        path = DATA / "em_membranes_isbi2012" / "images" / f"{i:02d}.tif"
        if not path.is_file():
            pytest.fail(f"{path} is missing (the shared ISBI 2012 data)")
        sections.append(tifffile.imread(path).astype(np.float32)[:192, :192])
    edge = np.arange(192)[None, :] < 120
    stack = np.stack([np.where(edge, 0, sections[0]), sections[1], np.where(edge, 0, sections[2])])
    source = _zarr(tmp_path / "stack.zarr", stack)
    said = _blockwise_said(source, tmp_path / "out.zarr", "em-membranes2d", "ZYX")
    assert len(said) == 1
    assert said[0].startswith(f"{source} (slice 0 and slice 2: 2 of the 3 slices judged")
    assert said == _in_memory_said(stack, "em-membranes2d", "ZYX", source)


def _nuclei() -> np.ndarray:
    return tifffile.imread(SAMPLES / "nuclei.tif").astype(np.float32)[:256, :256]


def _dim(image: np.ndarray, seed: int) -> np.ndarray:
    """``image`` as a frame before the sample is in view: 5 % of it under camera noise."""
    rng = np.random.default_rng(seed)
    return (rng.normal(5, 2, image.shape) + image * 0.05).astype(np.float32)


def test_a_movie_is_judged_by_its_first_middle_and_last_frames_not_blank(tmp_path):
    """A blank first frame is passed over, as in memory: judged are frames 1 (dim), 3 (the
    middle, in view) and 5 (dim); a dim first frame alone warns of nothing."""
    image = _nuclei()
    frames = [np.zeros_like(image), _dim(image, 0), _dim(image, 1), image, _dim(image, 2)]
    movie = np.stack([*frames, _dim(image, 3)])
    source = _zarr(tmp_path / "movie.zarr", movie)
    said = _blockwise_said(source, tmp_path / "out.zarr", "nuclei2d", "TYX")
    assert len(said) == 1
    assert said[0].startswith(
        f"{source} (frame 1 and frame 5: 2 of the 3 frames judged, first, middle and last) "
        "looks unlike the images model 'nuclei2d'"
    )
    assert said == _in_memory_said(movie, "nuclei2d", "TYX", source)
    fine = _zarr(tmp_path / "fine.zarr", np.stack([_dim(image, 0), image, image]))
    assert _blockwise_said(fine, tmp_path / "fine_out.zarr", "nuclei2d", "TYX") == []


def test_cli_blockwise_says_it_on_one_line(tmp_path, capsys):
    source = _zarr(tmp_path / "E03.zarr", _well("brightfield")[:, :348])
    out = str(tmp_path / "out.zarr")
    args = ["segment", source, "-o", out, "--model", "worms2d", "--blockwise", "--workers", "0"]
    assert main([*args, "--no-tta", "--device", "cpu"]) == 0
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if "looks unlike" in line]
    assert len(lines) == 1
    assert lines[0].startswith(f"warning: {source} looks unlike the images model 'worms2d'")
