"""A zarr input with a chunk file missing (user test s32/t9, finding 5): an interrupted copy
(rsync, cp) leaves chunks out, and zarr reads them as the fill value, so that region was
segmented as empty without a word. A zarr may also leave out chunks that are all fill
value, so a blockwise run warns (not refuses), from the scan of the chunk files that its
resume fingerprint makes anyway: how many, which (the first few regions), which file."""

from __future__ import annotations

import os
import warnings

import numpy as np
import zarr

from tessella.cli import main
from tessella.engine.blockwise import BlockwiseSupport, FunctionSegmenter, label_blocks_steps
from tessella.engine.progress import run_steps


def _image(tmp_path, *, missing):
    rng = np.random.default_rng(0)
    image = rng.integers(10, 200, size=(128, 192), dtype=np.uint8)
    path = tmp_path / "crop.zarr"
    zarr.create_array(str(path), shape=image.shape, dtype=image.dtype, chunks=(64, 64))[...] = image
    for key in missing:
        os.remove(path / "c" / key[0] / key[1])
    return path


def _threshold(image, axes, origin):
    return (np.asarray(image) > 100).astype(np.uint32)


def _warned(path, tmp_path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        segmenter = FunctionSegmenter(_threshold)
        support = BlockwiseSupport(0, "touch")
        out = tmp_path / "out.zarr"
        run_steps(label_blocks_steps(path, out, segmenter, block=64, halo=0, support=support))
    return [str(w.message) for w in caught if "no file" in str(w.message)]


def test_a_missing_chunk_file_is_warned_with_its_region(tmp_path):
    path = _image(tmp_path, missing=[("1", "2")])
    said = _warned(path, tmp_path)
    assert len(said) == 1, said
    assert said[0].startswith(f"{path}: 1 chunk has no file in {path.resolve()}: [64:128, 128:192]")
    assert "read as the array's fill value" in said[0]


def test_many_missing_chunks_are_counted_and_the_first_few_shown(tmp_path):
    path = _image(tmp_path, missing=[("0", "0"), ("0", "1"), ("1", "0"), ("1", "1")])
    said = _warned(path, tmp_path)
    assert len(said) == 1, said
    assert "4 chunks have no file" in said[0]
    assert "[0:64, 0:64], [0:64, 64:128], [64:128, 0:64] and 1 more;" in said[0]


def test_a_whole_zarr_warns_nothing(tmp_path):
    assert _warned(_image(tmp_path, missing=[]), tmp_path) == []


def test_the_command_line_says_it(tmp_path, tiny_model_dir, capsys):
    path = _image(tmp_path, missing=[("1", "0")])
    command = ["segment", str(path), "-o", str(tmp_path / "labels.zarr")]
    command += ["--model", str(tiny_model_dir), "--blockwise", "--workers", "0", "--block", "64"]
    assert main([*command, "--no-tta"]) == 0
    err = capsys.readouterr().err
    assert f"warning: {path}: 1 chunk has no file in {path.resolve()}: [64:128, 0:64]" in err
