"""``tessella segment`` end to end on a 2048x2048 nuclei image: read, network, post, write."""

from __future__ import annotations

import os
import resource
import tempfile
import time
from pathlib import Path

from ._common import median_time, nuclei_image, row

TILE_SCRIPT = """
import resource, sys, time
import torch
torch.set_num_threads(int(sys.argv[3]))
from benchmarks._common import nuclei_image
from tessella.engine.pipeline import predict_steps, run_steps
from tessella.engine.registry import load_model
image, model, tile = nuclei_image(int(sys.argv[1])), load_model("nuclei2d"), int(sys.argv[2])
run_steps(predict_steps(image, model, "YX", tile=tile))  # warm-up
times, faults = [], []
for _ in range(3):
    start, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    run_steps(predict_steps(image, model, "YX", tile=tile))
    times.append(time.perf_counter() - start)
    faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the parent through fork and exec
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM"))
print(sorted(times)[1], peak / 1024, sorted(faults)[1])
"""


def _network_in_subprocess(size: int, tile: int, retain: bool = True) -> tuple[float, float, int]:
    """(seconds, peak RSS MiB, minor page faults per run) of the network on a ``size``² image
    in a fresh process: peak RSS only grows within one, and glibc's allocator starts from its
    own defaults there."""
    import subprocess
    import sys

    import torch

    env = {**os.environ, "TESSELLA_RETAIN_MEMORY": "1" if retain else "0"}
    done = subprocess.run(
        [sys.executable, "-c", TILE_SCRIPT, str(size), str(tile), str(torch.get_num_threads())],
        capture_output=True,
        text=True,
        cwd=Path(__file__).resolve().parents[1],
        env=env,
        check=True,
    )
    seconds, peak, faults = done.stdout.split()[-3:]
    return float(seconds), float(peak), int(faults)


def tile_sizes(size: int = 2048, tiles=(1024, 2048, 2560)) -> dict[int, tuple[float, float, int]]:
    """The network's time and peak memory on a ``size``² image per tile size (fresh processes,
    freed memory retained); returns them by tile."""
    from tessella.engine.tiling import tile_grid

    measured = {}
    for tile in tiles:
        grid = tile_grid((size, size), (tile, tile), (32, 32), 16)
        computed = grid.n_tiles * grid.tile_shape[0] * grid.tile_shape[1] / size**2
        seconds, peak, _ = measured[tile] = _network_in_subprocess(size, tile)
        row(
            f"network {size}^2, tile {tile}: {grid.n_tiles} windows of {grid.tile_shape[0]}^2 "
            f"({computed:.2f}x the pixels)",
            seconds,
        )
        print(f"    peak resident memory {peak:.0f} MiB", flush=True)
    return measured


def run(repeats: int = 3) -> None:
    import tifffile

    from tessella.cli import main
    from tessella.engine.methods.embedding import Params, postprocess
    from tessella.engine.pipeline import predict_steps, run_steps
    from tessella.engine.registry import load_model

    size = 2048
    image = nuclei_image(size)
    model = load_model("nuclei2d")
    with tempfile.TemporaryDirectory() as tmp:
        source, target = Path(tmp) / "img.tif", Path(tmp) / "labels.tif"
        tifffile.imwrite(source, image)
        total = median_time(
            lambda: main(["segment", str(source), "-o", str(target), "--overwrite", "-q"]), repeats
        )
    network = median_time(lambda: run_steps(predict_steps(image, model, "YX")), repeats)
    # in a fresh process with glibc's own allocator settings (feature maps fault in again)
    unretained, unretained_peak, unretained_faults = _network_in_subprocess(
        size, 1024, retain=False
    )
    prediction = run_steps(predict_steps(image, model, "YX"))[0]
    start = time.perf_counter()
    labels = postprocess(prediction, Params())
    post = time.perf_counter() - start
    megapixels = size * size / 1e6
    row(
        "segment 2048^2 end to end (CLI: read, network, post, write)",
        total,
        "s",
        1.88,
        "StarDist 0.9.2 network+NMS",
    )
    row("  of which network (tiled, normalisation included)", network)
    row(f"  of which post-processing ({labels.max()} objects)", post)
    print(
        f"  throughput: {1 / total:.2f} images/s, {megapixels / total:.2f} MPix/s "
        f"(StarDist about 2.2 MPix/s)"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"  peak resident memory of this process: {peak:.0f} MiB "
        f"(image {image.nbytes / 2**20:.0f} MiB)"
    )
    retained, retained_peak, retained_faults = tile_sizes()[1024]  # fresh, freed memory kept
    row("network 2048^2, tile 1024, glibc's defaults (TESSELLA_RETAIN_MEMORY=0)", unretained)
    print(
        f"    ({unretained / retained:.2f}x the time with freed memory retained; peak resident "
        f"memory {unretained_peak:.0f} MiB, {retained_peak:.0f} MiB retained; minor page "
        f"faults per run {unretained_faults:,}, {retained_faults:,} retained: "
        f"{unretained_faults / max(retained_faults, 1):.1f}x)"
    )
