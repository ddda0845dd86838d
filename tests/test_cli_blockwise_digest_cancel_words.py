"""Ctrl-C or SIGTERM while ``tessella segment --blockwise`` checks its result (the last
stage, "checking the result": the labels read for their recipe's labels_digest) said
"finished blocks are kept in ...", as if some blocks were still to segment: every block is
done there and only the check was cut short. It says so now, and the next run resumes
with no block segmented again."""

from __future__ import annotations

import zarr

from tessella.cli import Terminated, main
from tessella.engine import digest as digest_module
from tessella.engine.blockwise import work_dir


def test_an_interrupt_in_the_check_says_only_the_check_was_cut_short(
    tmp_path, nuclei_sample, capsys, monkeypatch
):
    import tessella.engine.blockwise as blockwise

    monkeypatch.setattr(digest_module, "_PIECE_BYTES", 1)  # the check in 2 pieces
    image = nuclei_sample[0][:128, :128]
    source = tmp_path / "in.zarr"
    array = zarr.create_array(str(source), shape=image.shape, dtype=image.dtype, chunks=(64, 64))
    array[...] = image
    out = tmp_path / "out.zarr"
    steps = blockwise.segment_blockwise_steps
    stop = [KeyboardInterrupt]

    def interrupted_in_the_check(*args, **kwargs):
        run = steps(*args, **kwargs)
        while True:
            try:
                progress = next(run)
            except StopIteration as end:
                return end.value
            yield progress
            if progress.stage == "digest" and progress.done == 1:
                run.close()
                raise stop[0]

    monkeypatch.setattr(blockwise, "segment_blockwise_steps", interrupted_in_the_check)
    command = ["segment", str(source), "-o", str(out), "--blockwise", "--workers", "0"]
    command += ["--block", "64", "--device", "cpu", "--no-tta"]
    said = (
        f"interrupted while checking the result: all 4 blocks are segmented and kept in "
        f"{work_dir(out)}; only the check was cut short: run the same command again"
    )
    assert main(command) == 130  # Ctrl-C
    err = capsys.readouterr().err
    assert said in err and "finished blocks are kept" not in err, err
    stop[0] = Terminated  # SIGTERM (`kill`, a batch system's time limit), in the resumed run
    assert main(command) == 143
    err = capsys.readouterr().err
    assert "resuming: 4 of 4 blocks already done" in err
    assert said in err and "finished blocks are kept" not in err, err
    assert not out.exists() and (work_dir(out) / "result.zarr").is_dir()
