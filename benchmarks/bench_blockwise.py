"""Blockwise segmentation of a big zarr mosaic of real nuclei images: memory and throughput.

The mosaic (16384 x 16384 by default, chunks of 2048) is written chunk by chunk from real
DSB2018 fluorescence images (the shipped sample where the shared data are absent), so this
process never holds it. It is segmented with ``nuclei2d`` in blocks of 2048 with 1 and 2 worker
processes (one torch thread each); the peak resident memory of this process plus its workers is
sampled throughout and printed beside the array sizes and the in-memory pipeline's peak memory
per pixel, measured on a 2048 x 2048 image in a fresh process.

python -m benchmarks.bench_blockwise [--size 4096] [--block 2048] [--workers 1,2]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

from ._common import SAMPLES

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"  # as tests/conftest.py
TILE = 256  # mosaic cell edge
SHIFT = TILE // 2


def real_tiles(count: int = 24) -> list[np.ndarray]:
    """Grey fluorescence DSB2018 images (dark background) cropped to ``TILE``; the shipped
    520x512 sample where the dataset is absent."""
    import tifffile

    tiles = []
    folder = Path(os.environ.get("TESSELLA_DATA", DATA)) / "nuclei2d_dsb2018" / "train"
    for path in sorted((folder / "images").glob("*.tif")) if folder.is_dir() else []:
        image = tifffile.imread(path)
        if image.ndim == 3:  # RGB(A) stored grey images: keep those whose channels agree
            if not np.array_equal(image[..., 0], image[..., 1]):
                continue
            image = image[..., 0]
        if image.shape[0] >= TILE and image.shape[1] >= TILE and image.mean() < 40:
            tiles.append(np.ascontiguousarray(image[:TILE, :TILE]).astype(np.uint8))
        if len(tiles) == count:
            break
    if not tiles:
        sample = tifffile.imread(SAMPLES / "nuclei.tif")
        tiles = [sample[y : y + TILE, x : x + TILE] for y in (0, 256) for x in (0, 256)]
    return tiles


def write_mosaic(path: Path, size: int, chunk: int) -> int:
    """A ``size``^2 uint8 zarr of mirrored real tiles, written one chunk at a time; returns
    how many distinct images it uses."""
    import zarr

    tiles = real_tiles()
    array = zarr.create_array(
        str(path), shape=(size, size), dtype="uint8", chunks=(chunk, chunk), fill_value=0
    )
    cells = -(-chunk // TILE) + 1
    for y0 in range(0, size, chunk):
        for x0 in range(0, size, chunk):
            # cells are offset by half a tile, so that block faces cut through nuclei
            top, left = (y0 + SHIFT) // TILE, (x0 + SHIFT) // TILE
            canvas = np.empty((cells * TILE, cells * TILE), np.uint8)
            for i in range(cells):
                for j in range(cells):
                    ty, tx = top + i, left + j
                    tile = tiles[(ty * 7 + tx * 3) % len(tiles)]
                    tile = tile[:: 1 - 2 * (ty % 2), :: 1 - 2 * (tx % 2)]
                    canvas[i * TILE : (i + 1) * TILE, j * TILE : (j + 1) * TILE] = tile
            dy, dx = (y0 + SHIFT) % TILE, (x0 + SHIFT) % TILE
            height, width = min(chunk, size - y0), min(chunk, size - x0)
            array[y0 : y0 + height, x0 : x0 + width] = canvas[dy : dy + height, dx : dx + width]
    return len(tiles)


class PeakMemory:
    """Peak resident memory of this process plus all its children, sampled every 0.1 s."""

    def __init__(self):
        import psutil

        self.process = psutil.Process()
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self):
        import psutil

        while not self._stop.is_set():
            total = 0
            for process in [self.process, *self.process.children(recursive=True)]:
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    pass
            self.peak = max(self.peak, total)
            time.sleep(0.1)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


IN_MEMORY = """
import resource, sys, numpy as np
sys.path.insert(0, {root!r})
from benchmarks._common import nuclei_image
from tessella.engine.pipeline import segment
from tessella.engine.registry import load_model
import torch
torch.set_num_threads(1)
model = load_model("nuclei2d")
image = nuclei_image({size})
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
segment(image, model, "YX", device="cpu")
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before)
"""


def in_memory_bytes_per_pixel(size: int = 2048) -> float:
    """Peak memory the in-memory pipeline adds per pixel, measured in a fresh process."""
    root = str(Path(__file__).resolve().parents[1])
    code = IN_MEMORY.format(root=root, size=size)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(done.stderr)
    return int(done.stdout.split()[-1]) * 1024 / size**2


def run(repeats: int = 1, size: int = 16384, block: int = 2048, workers=(1, 2)) -> None:
    import zarr

    from tessella.engine.blockwise import open_executor, segment_blockwise_steps
    from tessella.engine.pipeline import run_steps

    model = "nuclei2d"  # by name: the workers load the network, this process only its card
    megapixels = size * size / 1e6
    with tempfile.TemporaryDirectory(dir=os.environ.get("TESSELLA_BENCH_TMP")) as tmp:
        source = Path(tmp) / "mosaic.zarr"
        start = time.perf_counter()
        n_images = write_mosaic(source, size, 2048)
        print(
            f"  mosaic {size}x{size} uint8 from {n_images} real DSB2018 images, chunks 2048: "
            f"written in {time.perf_counter() - start:.1f} s",
            flush=True,
        )
        input_mib, labels_mib = size * size / 2**20, 4 * size * size / 2**20
        try:
            per_pixel = in_memory_bytes_per_pixel()
            in_memory = f"; in-memory pipeline ~{per_pixel * size * size / 2**30:.1f} GiB"
            in_memory += f" ({per_pixel:.0f} B/px measured at 2048^2)"
        except RuntimeError:
            in_memory = ""
        print(
            f"  arrays: input {input_mib:.0f} MiB, labels (uint32) {labels_mib:.0f} MiB{in_memory}"
        )
        for n_workers in workers:
            for repeat in range(repeats):
                out = Path(tmp) / f"labels_{n_workers}_{repeat}.zarr"
                with PeakMemory() as memory:
                    start = time.perf_counter()
                    with open_executor(workers=n_workers) as executor:
                        ready = time.perf_counter() - start
                        steps = segment_blockwise_steps(
                            source, out, model, block=block, device="cpu", executor=executor
                        )
                        result = run_steps(steps)
                    seconds = time.perf_counter() - start
                kind = type(executor).__name__ if executor is not None else "this process"
                print(
                    f"  {n_workers} worker(s) ({kind}), blocks {block}: {seconds:.1f} s "
                    f"({ready:.1f} s start-up), {megapixels / seconds:.2f} Mpx/s, "
                    f"{result.n_objects} objects in {result.n_blocks} blocks; peak resident "
                    f"memory (this process + workers) {memory.peak / 2**20:.0f} MiB",
                    flush=True,
                )
                assert zarr.open(str(out)).shape == (size, size)


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_blockwise")
    parser.add_argument("--size", type=int, default=16384, help="mosaic edge (default 16384)")
    parser.add_argument("--quick", action="store_true", help="a 4096 x 4096 mosaic")
    parser.add_argument("--block", type=int, default=2048)
    parser.add_argument("--workers", default="1,2", help="worker counts to time, e.g. 1,2")
    parser.add_argument("--repeats", type=int, default=1)
    args = parser.parse_args()
    workers = tuple(int(w) for w in args.workers.split(","))
    run(args.repeats, 4096 if args.quick else args.size, args.block, workers)


if __name__ == "__main__":
    main()
