"""``tessella segment --blockwise`` shows the run's last stage, its result read for the
labels_digest its recipe records (review r1, finding 5), as a bar of its own ("checking the
result", in pieces), where the bar sat at "relabel N/N" for seconds (4-6 s for a 20000²
result); Ctrl-C there keeps every block, and the run resumes with nothing to segment."""

from __future__ import annotations

import json

import zarr

from tessella.cli import main
from tessella.engine import digest as digest_module
from tessella.engine.blockwise import work_dir
from tessella.engine.digest import DIGEST_KEY, FILES_KEY, labels_digest
from tessella.engine.io import read_image


def test_the_bar_shows_the_result_checked_and_ctrl_c_there_resumes(
    tmp_path, nuclei_sample, capsys, monkeypatch
):
    import tessella.engine.blockwise as blockwise

    monkeypatch.setattr(digest_module, "_PIECE_BYTES", 1)  # one piece a row of blocks: 2
    image = nuclei_sample[0][:128, :128]
    source = tmp_path / "in.zarr"
    zarr.create_array(str(source), shape=image.shape, dtype=image.dtype, chunks=(64, 64))[...] = (
        image
    )
    out = tmp_path / "out.zarr"
    steps = blockwise.segment_blockwise_steps

    def interrupted_in_the_digest(*args, **kwargs):
        run = steps(*args, **kwargs)
        while True:
            try:
                progress = next(run)
            except StopIteration as stop:
                return stop.value
            yield progress
            if progress.stage == "digest" and progress.done == 1:
                run.close()
                raise KeyboardInterrupt

    command = ["segment", str(source), "-o", str(out), "--blockwise", "--workers", "0"]
    command += ["--block", "64", "--device", "cpu", "--no-tta"]
    monkeypatch.setattr(blockwise, "segment_blockwise_steps", interrupted_in_the_digest)
    assert main(command) == 130  # (before: no digest progress, the run finished)
    assert not out.exists() and (work_dir(out) / "result.zarr").is_dir()
    monkeypatch.setattr(blockwise, "segment_blockwise_steps", steps)
    capsys.readouterr()

    assert main(command) == 0
    captured = capsys.readouterr()
    assert "resuming: 4 of 4 blocks already done" in captured.err
    assert "(4 blocks, 4 resumed)" in captured.out
    lines = [line for line in captured.err.split("\r") if "in.zarr: checking the result" in line]
    assert lines and "2/2" in lines[-1] and "piece" in lines[-1], lines
    stored = dict(zarr.open(str(out), mode="r").attrs)["tessella"]
    assert stored[DIGEST_KEY] == labels_digest(read_image(out).data[...]) and FILES_KEY in stored
    recipe = json.loads((tmp_path / "out.recipe.json").read_text())
    assert recipe["blockwise"]["block"] == [64, 64]
