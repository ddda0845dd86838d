"""What `tessella segment --blockwise` says when interrupted, and its bars in a log (user test
s32/t9, finding 9): after Ctrl-C its words were glued to the bar's line ("…block 1: tile 0 of
32]finished blocks are kept in …"), said "finished blocks are kept" with none finished, and
not how to resume; with stderr in a file every tile's bar was kept (hundreds of KB)."""

from __future__ import annotations

import re
import sys

import zarr

from tessella.cli import _console, main
from tessella.engine.blockwise import work_dir


def _interrupted(tmp_path, image, monkeypatch, capsys, when):
    import tessella.engine.blockwise as blockwise

    source = tmp_path / "in.zarr"
    zarr.create_array(str(source), shape=image.shape, dtype=image.dtype, chunks=(64, 64))[...] = (
        image
    )
    out = tmp_path / "out.zarr"
    steps = blockwise.segment_blockwise_steps

    def stopped(*args, **kwargs):
        run = steps(*args, **kwargs)
        for progress in run:
            yield progress
            if when(progress):
                run.close()
                raise KeyboardInterrupt

    command = ["segment", str(source), "-o", str(out), "--model", "TINY"]
    command += ["--blockwise", "--workers", "0", "--block", "64", "--no-tta"]
    monkeypatch.setattr(blockwise, "segment_blockwise_steps", stopped)
    capsys.readouterr()
    return command, out, source


def _lines(err: str) -> list[str]:
    return [line for line in re.split(r"[\r\n]", err) if line.strip()]


def test_ctrl_c_after_two_blocks_says_how_many_on_a_line_of_its_own(
    tmp_path, nuclei_sample, tiny_model_dir, capsys, monkeypatch
):
    image = nuclei_sample[0][:128, :128]
    command, out, _ = _interrupted(
        tmp_path,
        image,
        monkeypatch,
        capsys,
        lambda p: p.stage == "segment" and p.done == 2 and p.region is not None,
    )
    command[command.index("TINY")] = str(tiny_model_dir)
    assert main(command) == 130
    err = capsys.readouterr().err
    said = (
        f"2 of 4 blocks are segmented and kept in {work_dir(out)} (the block under way is "
        "redone): run the same command again to resume"
    )
    assert said in _lines(err), err[-600:]  # (a line of its own: not after the bar's text)
    assert "finished blocks are kept" not in err


def test_ctrl_c_before_any_block_says_the_scan_is_kept(
    tmp_path, nuclei_sample, tiny_model_dir, capsys, monkeypatch
):
    image = nuclei_sample[0][:128, :128]
    command, out, _ = _interrupted(
        tmp_path, image, monkeypatch, capsys, lambda p: p.stage == "segment"
    )
    command[command.index("TINY")] = str(tiny_model_dir)
    assert main(command) == 130
    err = capsys.readouterr().err
    said = (
        f"no block was segmented yet; the intensity scan is kept in {work_dir(out)}: run the "
        "same command again to resume"
    )
    assert said in _lines(err), err[-600:]
    assert "finished blocks are kept" not in err


def test_a_bar_in_a_log_is_a_few_plain_lines(tmp_path, monkeypatch):
    log = open(tmp_path / "log.txt", "w")  # (closed below)
    monkeypatch.setattr(sys, "stderr", log)
    now = [0.0]
    bar = _console._progress_bar(909, "mosaic.tif: convert", quiet=False, unit="task")
    bar._time = lambda: now[0]
    bar.start_t = bar.last_print_t = 0.0
    for done in range(1, 910):  # 909 tasks of 0.1 s: 91 s in all
        now[0] += 0.1
        _console._advance(bar, done)
    bar.close()
    log.close()
    text = (tmp_path / "log.txt").read_text()
    lines = text.splitlines()
    assert "\r" not in text
    # a line at each tenth and once a minute (before: 909 frames)
    assert 5 <= len(lines) <= 13, lines
    assert lines[-1].startswith("mosaic.tif: convert: 100%"), lines[-1]


def test_a_bar_on_a_terminal_or_captured_draws_every_unit(capsys):
    bar = _console._progress_bar(50, "x: segment", quiet=False, unit="block")
    for done in range(1, 51):
        _console._advance(bar, done)
    bar.close()
    assert capsys.readouterr().err.count("\r") > 50
