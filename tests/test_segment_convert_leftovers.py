"""``tessella segment ... -o OUT.zarr`` (in memory and blockwise) undoes what a ``tessella
convert`` to the same OUT.zarr, killed with -9 before it finished, left beside it, as the
next conversion does (tests/test_cli_convert_leftovers.py): the hidden staged copy (as big as
the image) is removed, said in one line; where the kill came between the two renames (no
OUT.zarr left), the previous OUT.zarr is put back first, so it is refused without
--overwrite instead of written over unasked while it stays hidden. Before: segment left both
hidden folders beside the labels it wrote."""

from __future__ import annotations

import os

import numpy as np
import pytest

from tessella.cli import main
from tessella.engine.blockwise import to_chunked_zarr
from tessella.engine.io import read_image
from tests.engine.test_blockwise_zarr_out import _label
from tests.test_cli_convert_leftovers import _gone_pid, _hidden, _leftover, _zarr


def _image(nuclei_sample) -> np.ndarray:
    return np.ascontiguousarray(nuclei_sample[0][:96, :96])


def test_segment_removes_a_killed_conversions_staged_copy(
    tmp_path, nuclei_sample, tiny_model_dir, capsys
):
    source = _zarr(tmp_path / "in.zarr", _image(nuclei_sample))
    out = tmp_path / "out.zarr"
    dead = _leftover(out, _gone_pid(), "tmp")
    _zarr(dead / "partial.zarr", _image(nuclei_sample))
    running = _leftover(out, os.getppid(), "tmp")  # a live process's: not touched
    args = ["segment", str(source), "-o", str(out), "--model", str(tiny_model_dir), "-q"]
    assert main(args) == 0
    said = [line for line in capsys.readouterr().err.splitlines() if dead.name in line]
    assert len(said) == 1 and "killed" in said[0] and "removed" in said[0], said
    assert _hidden(tmp_path) == [running.name]
    assert read_image(out).labels


def test_segment_puts_back_the_out_a_killed_conversion_was_replacing(
    tmp_path, nuclei_sample, tiny_model_dir, capsys
):
    image = _image(nuclei_sample)
    source = _zarr(tmp_path / "in.zarr", image)
    out = tmp_path / "out.zarr"
    pid = _gone_pid()
    aside = _leftover(out, pid, "old")  # OUT renamed aside, the staged one not yet in place
    to_chunked_zarr(_zarr(tmp_path / "earlier.zarr", image[::-1].copy()), aside / out.name, 48)
    _leftover(out, pid, "tmp")
    args = ["segment", str(source), "-o", str(out), "--model", str(tiny_model_dir), "-q"]
    assert main(args) == 1  # without --overwrite: the previous OUT is back, not replaced
    err = capsys.readouterr().err
    assert f"put {out} back from {aside.name}" in err and f"{out} exists" in err, err
    assert _hidden(tmp_path) == []
    np.testing.assert_array_equal(np.asarray(read_image(out).data), image[::-1])
    assert main([*args, "--overwrite"]) == 0
    assert read_image(out).labels and _hidden(tmp_path) == []


def test_blockwise_does_the_same(tmp_path, nuclei_sample):
    image = _image(nuclei_sample)
    source = _zarr(tmp_path / "in.zarr", image)
    out = tmp_path / "out.zarr"
    pid = _gone_pid()
    _zarr(_leftover(out, pid, "tmp") / "partial.zarr", image)
    with pytest.warns(UserWarning, match="a conversion to it was killed"):
        _label(source, out)
    assert _hidden(tmp_path) == [] and read_image(out).labels
    again = tmp_path / "again.zarr"
    aside = _leftover(again, pid, "old")
    to_chunked_zarr(_zarr(tmp_path / "earlier.zarr", image[::-1].copy()), aside / "again.zarr")
    with pytest.warns(UserWarning, match="put .* back"), pytest.raises(FileExistsError):
        _label(source, again)
    np.testing.assert_array_equal(np.asarray(read_image(again).data), image[::-1])
    assert _hidden(tmp_path) == []
