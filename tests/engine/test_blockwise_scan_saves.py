"""The blockwise scan keeps each block's statistics as it finishes (``scan/N.npz``), saving the
block that just finished and nothing else: it looked over the whole to-do list after every
block (``[i for i in todo if i in results]``), work that grows with the square of the number
of blocks (3 s at 10,000 blocks, about 80 s at 50,000: a 100k x 100k px slide in 512-px
blocks has 40,000). Counted here on a grid of 3,000 blocks, with the blocks' work faked: the
look-ups of finished blocks are at most a few per block, and every block is saved once,
those a cut-short scan had kept not again."""

from __future__ import annotations

from types import SimpleNamespace

from tessella.engine.blockwise import _scan
from tessella.engine.blockwise._grid import block_grid
from tessella.engine.blockwise._run import BlockProgress


class _Counted(dict):
    """The scan's results, counting the look-ups of a block in them."""

    lookups = 0

    def __contains__(self, key) -> bool:
        type(self).lookups += 1
        return super().__contains__(key)


def test_the_scan_saves_each_finished_block_once_without_a_look_over_the_rest(
    tmp_path, monkeypatch
):
    grid = block_grid((30 * 512, 100 * 512), 512, 32)  # a slide: 3,000 blocks
    run = SimpleNamespace(work=str(tmp_path), grid=grid)
    kept = grid.indices()[:5]  # scanned by a run that was cut short

    def scanned(run, folder):
        return _Counted({index: {(0, 0): "kept"} for index in kept})

    def blocks(task, run, indices, executor, stage, done, results):
        for index in indices:
            results[index] = {(0, 0): f"stats of {index}"}
            done += 1
            yield BlockProgress(stage, done, grid.n_blocks, grid.core(index))

    saved: list[tuple[str, object]] = []
    monkeypatch.setattr(_scan, "_scanned", scanned)
    monkeypatch.setattr(_scan, "_map", blocks)
    monkeypatch.setattr(_scan, "_save_stats", lambda path, stats: saved.append((path.name, stats)))

    steps = _scan._scan(run, None)
    progress = [next(steps) for _ in range(grid.n_blocks - len(kept) + 1)]
    steps.close()  # (the ranges after the scan are not what is counted)

    assert progress[-1].done == progress[-1].total == grid.n_blocks == 3000
    rest = grid.indices()[len(kept) :]
    assert saved == [(f"{grid.linear(i)}.npz", {(0, 0): f"stats of {i}"}) for i in rest]
    # one look-up per block to find those to do; the old loop made 4.5 million
    assert _Counted.lookups <= 2 * grid.n_blocks
