"""``segment --blockwise`` of a zarr whose axes are stored in another order than the engine
reads them (a TCYX movie read as TYXC, as a Fiji ZCYX stack is read as CZYX), and of one
channel: read, recorded and replayed as in memory.

Before: the blocks were read from the store in its stored order under the engine's axes (a
TCYX zarr: 'the image has 64 channels but the model expects 1'; with other sizes, axes
swapped without a word), the recipe recorded no ``stored_axes`` (its engine-order axes
replayed on the file were refused), several channels were averaged without the in-memory
warning, and ``channel=`` did not exist."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest
import zarr

import tessella
from tessella.cli import main
from tessella.engine import metrics
from tessella.engine.blockwise import segment_blockwise
from tessella.engine.io import read_image

BLOCKWISE = ["--blockwise", "--workers", "0", "--block", "32"]


@pytest.fixture
def movie(nuclei_sample, tmp_path):
    """A zarr of (2, 3, 64, 64) uint16 stored as T, C, Y, X (its tessella_axes say TCYX):
    real nuclei in channel 1, moved down 8 rows in frame 1; channels 0 and 2 dark."""
    crop = nuclei_sample[0][:64, :64].astype(np.uint16)
    data = np.zeros((2, 3, 64, 64), np.uint16)
    for t in range(2):
        data[t, 1] = np.roll(crop, 8 * t, axis=0)
    path = tmp_path / "movie.zarr"
    array = zarr.create_array(str(path), shape=data.shape, dtype=data.dtype, chunks=(1, 3, 32, 32))
    array[...] = data
    array.attrs["tessella_axes"] = "TCYX"
    return path


def _segment(*args):
    return main(["segment", *map(str, args), "--model", "nuclei2d", "--no-tta", "--device", "cpu"])


def _warnings(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("warning:")]


def test_a_tcyx_zarr_is_segmented_recorded_and_replayed_blockwise_as_in_memory(
    movie, tmp_path, capsys
):
    """The labels are the in-memory ones (each frame's nuclei, matched), with the same
    averaging warning; the recipe records the axes as stored, and its replay (blockwise,
    as it was run) reads them so again: the same labels."""
    memory, blocks, again = (tmp_path / f"{n}.zarr" for n in ("memory", "blocks", "again"))
    assert _segment(movie, "-o", memory) == 0
    said_in_memory = _warnings(capsys.readouterr().err)
    assert _segment(movie, "-o", blocks, *BLOCKWISE) == 0, capsys.readouterr().err
    said_blockwise = _warnings(capsys.readouterr().err)
    assert len(said_in_memory) == 1 and "3 channels" in said_in_memory[0]
    assert said_blockwise == said_in_memory  # the same words, once (not once per block)
    expected = np.asarray(read_image(memory).data)
    got = np.asarray(read_image(blocks).data)
    assert got.shape == expected.shape == (2, 64, 64)
    for t in range(2):
        assert expected[t].max() >= 5  # the nuclei in every frame
        assert metrics.matching(expected[t], got[t], 0.5).ap >= 0.99
    recipe = json.loads((tmp_path / "blocks.recipe.json").read_text())
    assert (recipe["axes"], recipe["stored_axes"]) == ("TYXC", "TCYX")
    replay = ["--recipe", tmp_path / "blocks.recipe.json", "--workers", "0", "-q"]
    assert _segment(movie, "-o", again, *replay) == 0, capsys.readouterr().err
    np.testing.assert_array_equal(np.asarray(read_image(again).data), got)
    assert _warnings(capsys.readouterr().err) == said_in_memory  # (-q: warnings still print)
    # on a zarr whose metadata say other axes (the same pixels as a ZCYX stack): refused
    # with the same line in memory and blockwise (before: blockwise read it as TYXC)
    other = tmp_path / "stack.zarr"
    array = zarr.create_array(str(other), shape=(2, 3, 64, 64), dtype=np.uint16)
    array[...] = zarr.open_array(str(movie), mode="r")[...]
    array.attrs["tessella_axes"] = "ZCYX"
    refused = []
    for how in (["--no-blockwise"], ["--blockwise", "--workers", "0"]):
        assert _segment(other, "-o", tmp_path / "stack_labels.zarr", *replay[:2], *how) == 1
        refused.append(capsys.readouterr().err.strip())
    assert refused[0] == refused[1]
    assert "the recipe's axes TCYX contradict its zarr attribute tessella_axes" in refused[1]


def test_a_plain_zarr_read_with_its_stored_axes_replays_them(movie, tmp_path, capsys):
    """A zarr without axes metadata, read with ``--axes TCYX``: its blockwise recipe's
    replay reads it with TCYX (before: with the recipe's TYXC, as stored: refused); with
    ``-q`` the averaging warning is said, as in memory."""
    plain = tmp_path / "plain.zarr"
    data = zarr.open_array(str(movie), mode="r")[...]
    zarr.create_array(str(plain), shape=data.shape, dtype=data.dtype, chunks=(1, 3, 32, 32))[
        ...
    ] = data
    blocks, again = tmp_path / "blocks.zarr", tmp_path / "again.zarr"
    one_block = [*BLOCKWISE[:-1], "64"]  # (a frame each: the recipe is what is tested)
    assert _segment(plain, "-o", blocks, "--axes", "TCYX", *one_block, "-q") == 0, (
        capsys.readouterr().err
    )
    # -q: "no progress bar or summary (errors and warnings still print)", as in memory
    # (before: blockwise said no warning with -q)
    [said] = _warnings(capsys.readouterr().err)
    assert "its 3 channels (axes TYXC, uint16) are averaged" in said
    recipe = tmp_path / "blocks.recipe.json"
    assert json.loads(recipe.read_text())["stored_axes"] == "TCYX"
    replay = ["--recipe", recipe, "--workers", "0", "-q"]
    assert _segment(plain, "-o", again, *replay) == 0, capsys.readouterr().err
    labels = np.asarray(read_image(blocks).data)
    assert labels.shape == (2, 64, 64) and labels.max() >= 10
    np.testing.assert_array_equal(np.asarray(read_image(again).data), labels)


def test_blockwise_segments_the_channel_chosen_as_in_memory(movie, tmp_path):
    """``channel=1``: that channel alone, read block by block from the TCYX store; no
    averaging warning; the labels are those of the in-memory run on the same channel, and
    the recipe records the channel and the axes as stored."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = segment_blockwise(
            movie, tmp_path / "one.zarr", "nuclei2d", block=32, tta=False, device="cpu",
            channel=1,
        )  # fmt: skip
    assert not [w for w in caught if "averaged" in str(w.message)]
    expected = tessella.segment(read_image(movie, channel=1), "nuclei2d", tta=False, device="cpu")
    got = np.asarray(read_image(result.path).data)
    assert result.axes == "TYX" and got.shape == expected.shape == (2, 64, 64)
    for t in range(2):
        assert expected[t].max() >= 5
        assert metrics.matching(expected[t], got[t], 0.5).ap >= 0.99
    assert (result.recipe["channel"], result.recipe["stored_axes"]) == (1, "TCYX")


def test_cli_channel_with_blockwise_is_recorded_skipped_and_replayed(movie, tmp_path, capsys):
    """``--channel 1 --blockwise``: the labels of channel 1 (as in memory), recorded in the
    recipe with the axes as stored; ``--skip-existing`` skips the same run and refuses
    another channel; ``--recipe`` replays it (before: refused, "--blockwise reads the whole
    input")."""
    out = tmp_path / "one.zarr"
    assert _segment(movie, "-o", out, "--channel", "1", *BLOCKWISE, "-q") == 0, (
        capsys.readouterr().err
    )
    assert not [w for w in _warnings(capsys.readouterr().err) if "averaged" in w]
    expected = tessella.segment(read_image(movie, channel=1), "nuclei2d", tta=False, device="cpu")
    got = np.asarray(read_image(out).data)
    for t in range(2):
        assert expected[t].max() >= 5
        assert metrics.matching(expected[t], got[t], 0.5).ap >= 0.99
    recipe = tmp_path / "one.recipe.json"
    assert (
        json.loads(recipe.read_text())["channel"],
        json.loads(recipe.read_text())["stored_axes"],
    ) == (1, "TCYX")
    again = [movie, "-o", out, "--channel", "1", *BLOCKWISE, "--skip-existing"]
    assert _segment(*again) == 0
    said = capsys.readouterr()
    assert "skipped" in (said.err + said.out).lower()
    assert _segment(movie, "-o", out, "--channel", "2", *BLOCKWISE, "--skip-existing") == 1
    capsys.readouterr()
    replay = tmp_path / "replay.zarr"
    assert _segment(movie, "-o", replay, "--recipe", recipe, "--workers", "0", "-q") == 0
    np.testing.assert_array_equal(np.asarray(read_image(replay).data), got)


def test_two_channels_are_refused_before_any_block_as_in_memory(nuclei_sample, tmp_path, capsys):
    """Two channels for a one-channel model (neither one image nor a colour photo): in
    memory refused naming the file and ``--channel``; blockwise scanned every block, then
    failed in one with 'the image has 2 channels but the model expects 1', naming neither.
    Now both refuse with the same line, before the scan (no work folder is left)."""
    crop = nuclei_sample[0][:64, :64]
    path = tmp_path / "two.zarr"
    array = zarr.create_array(str(path), shape=(2, 64, 64), dtype=crop.dtype, chunks=(2, 32, 32))
    array[...] = np.stack([crop, crop])
    array.attrs["tessella_axes"] = "CYX"
    assert _segment(path, "-o", tmp_path / "memory.zarr", "-q") == 1
    in_memory = capsys.readouterr().err.strip()
    assert _segment(path, "-o", tmp_path / "blocks.zarr", *BLOCKWISE, "-q") == 1
    blockwise = capsys.readouterr().err.strip()
    assert in_memory.endswith("--channel on the command line), or give axes without C")
    assert blockwise == in_memory
    assert not (tmp_path / ".blocks.zarr.blockwise").exists()
