"""What the chunk side ``tessella convert`` writes costs a blockwise run's reads, the
conversion, and napari's views, on real pixels (not part of ``python -m benchmarks``: it
needs the data sets, about 0.5 GB of scratch space and a few minutes a round).

Inputs, made in ``--folder``: an 8192² uint8 mosaic of DSB 2018 nuclei images (256² crops of
the training images) and a 300x512x1024 uint8 EM volume (Lucchi++ training slices, mirrored
along Z). For each chunk side, each round: ``to_chunked_zarr`` from the TIFF (timed, with the
chunk files it writes and their bytes, zarr's default compressor), then every block of the
default blockwise grid read with its halo as a run reads it (one zarr index per block; 2048-px
blocks with nuclei2d's halo of 96 and em-mito2d's 48 in 2D, 256-px blocks with em-mito3d's 32
and em-mito2d's 48 in 3D), with :func:`~tessella.engine.blockwise._store._read_cost`'s
estimate beside it, and the reads napari makes of the layer Tessella's reader gives: in 2D the
zoomed-out first view (the pyramid's coarsest level, which reads the file once a chunk at a
time) and 1920x1080 views at full and half resolution; in 3D one ZYX slice. The order of the
sides alternates between rounds (the load of a shared machine drifts); ranges over rounds.

TESSELLA_DATA=/path/to/data .venv/bin/python -m benchmarks.convert_chunk_sides \
    [--rounds 3] [--folder /tmp/chunk_sides]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

SIDES = {"2d": (2048, 1024, 512, 256), "3d": (256, 128, 64, 32)}
BLOCK = {"2d": 2048, "3d": 256}
HALOS = {"2d": (96, 48), "3d": (32, 48)}


def make_inputs(data: Path, folder: Path) -> dict[str, Path]:
    import glob

    import tifffile

    tiles = []
    for p in sorted(glob.glob(str(data / "nuclei2d_dsb2018" / "train" / "images" / "*.tif"))):
        a = tifffile.imread(p)
        if a.ndim == 2 and min(a.shape) >= 256:
            tiles.append(a[:256, :256])
    mosaic = np.zeros((8192, 8192), np.uint8)
    for k, (y, x) in enumerate((y, x) for y in range(0, 8192, 256) for x in range(0, 8192, 256)):
        mosaic[y : y + 256, x : x + 256] = tiles[k % len(tiles)]
    tifffile.imwrite(folder / "mosaic.tif", mosaic)
    em = tifffile.imread(data / "em_mito_lucchipp" / "train" / "image.tif")  # 100x768x1024
    volume = np.concatenate([em, em[::-1], em])[:300, :512]
    tifffile.imwrite(folder / "volume.tif", volume, metadata={"axes": "ZYX"})
    return {"2d": folder / "mosaic.tif", "3d": folder / "volume.tif"}


def _timed(f, *args, **kwargs) -> float:
    start = time.perf_counter()
    f(*args, **kwargs)
    return time.perf_counter() - start


def _read(array, region) -> np.ndarray:
    return np.asarray(array[region])


def _files(path: Path) -> tuple[int, int]:
    """The chunk files under ``path`` and their bytes."""
    sizes = [
        os.path.getsize(os.path.join(d, f))
        for d, _, fs in os.walk(path)
        for f in fs
        if not f.startswith(("zarr.json", ".z"))
    ]
    return len(sizes), sum(sizes)


def _blocks_read(path: Path, block: int, halo: int) -> tuple[float, float, float]:
    """Seconds to read every block with its halo, and the estimate's chunks and overread."""
    from tessella.engine.blockwise._grid import block_grid
    from tessella.engine.blockwise._store import _open_input, _read_cost

    data = _open_input(path, None)
    array = data.array
    grid = block_grid(array.shape, block, halo)
    seconds = sum(_timed(_read, array, grid.extended(index)) for index in grid.indices())
    estimate = _read_cost(data.axes, array.shape, array.chunks, grid, array.dtype.itemsize)
    return seconds, estimate.chunks, estimate.overread


def _views(path: Path, kind: str, rng) -> dict[str, float]:
    """Median seconds of napari's reads of the layer Tessella's reader makes of ``path``."""
    from tessella._io import _pyramid
    from tessella.engine.io import read_image

    if kind == "3d":
        data = read_image(path).data
        zs = rng.integers(0, data.shape[0], 6)
        return {"slice": statistics.median(_timed(_read, data, int(z)) for z in zs)}
    levels = _pyramid(read_image(path), "YX")
    seen = {"zoomed out": _timed(np.asarray, levels[-1])}
    for name, level in (("full", 0), ("half", 1)):
        levels = _pyramid(read_image(path), "YX")  # (nothing kept from before)
        h, w = levels[level].shape
        corners = zip(rng.integers(0, h - 1080, 4), rng.integers(0, w - 1920, 4))
        seen[name] = statistics.median(
            _timed(_read, levels[level], np.s_[y : y + 1080, x : x + 1920]) for y, x in corners
        )
    return seen


def run(folder: Path, data: Path, rounds: int) -> dict:
    from tessella.engine.blockwise import to_chunked_zarr

    inputs = make_inputs(data, folder)
    results: dict = {}
    for r in range(rounds):
        rng = np.random.default_rng(r)
        for kind, source in inputs.items():
            sides = SIDES[kind][:: -1 if r % 2 else 1]
            for side in sides:
                out = folder / f"{kind}_{side}.zarr"
                row = results.setdefault((kind, side), {})
                row.setdefault("convert s", []).append(
                    _timed(to_chunked_zarr, source, out, side, overwrite=True)
                )
                row["files"], row["MB"] = _files(out)
                for halo in HALOS[kind]:
                    s, chunks, overread = _blocks_read(out, BLOCK[kind], halo)
                    row.setdefault(f"read s (halo {halo})", []).append(s)
                    row[f"estimate (halo {halo})"] = f"{chunks:.0f} chunks, {overread:.1f}x"
                for name, s in _views(out, kind, rng).items():
                    row.setdefault(f"view {name} s", []).append(s)
                shutil.rmtree(out)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.convert_chunk_sides")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--folder", type=Path, help="scratch space (default: a temporary one)")
    args = parser.parse_args()
    data = Path(os.environ.get("TESSELLA_DATA", "data"))
    with tempfile.TemporaryDirectory(dir=args.folder) as scratch:
        results = run(Path(scratch), data, args.rounds)
    for (kind, side), row in results.items():
        cells = []
        for key, value in row.items():
            if isinstance(value, list):
                value = f"{min(value):.3f}-{max(value):.3f}"
            elif key == "MB":
                value = f"{value / 1e6:.0f}"
            cells.append(f"{key} {value}")
        print(f"{kind} chunks of {side}: " + "; ".join(cells))


if __name__ == "__main__":
    main()
