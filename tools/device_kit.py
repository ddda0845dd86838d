"""Take a training set to a lent GPU machine (the `device` tool) in parts, and unpack it there.

A `device` call carries the working tree plus named ignored paths, 64 MiB in all; the
repository alone is about 31 MB, so a training set such as ``nuclei2d_dsb2018/train`` (44 MB of
already-compressed TIFFs, which compress no further) must travel in several calls. Here:

    python tools/device_kit.py pack ../shared/data/nuclei2d_dsb2018/train --name nuclei2d

writes ``.carry/nuclei2d-0.tar``, ``.carry/nuclei2d-1.tar``, ... (each under ``--part-mb``,
whole files, the ``images/`` and ``masks/`` layout kept) and prints the device calls. There,
each call carries one part and runs

    python3 tools/device_kit.py unpack

which extracts every ``.carry/*.tar`` into ``.carry/data/NAME/`` (ignored paths left on a warm
machine stay between calls, so the parts add up) and prints how many images and masks
``.carry/data/NAME`` now holds; the last call then trains on it. Only the standard library is
used, so it runs with the device's own Python.
"""

from __future__ import annotations

import argparse
import sys
import tarfile
from pathlib import Path

CARRY = Path(".carry")


def _in_tar(path: Path) -> int:
    """Bytes a file takes in a tar archive: a header block, then its data in whole blocks."""
    return tarfile.BLOCKSIZE + -(-path.stat().st_size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE


def pack(source: Path, name: str, part_mb: float) -> list[Path]:
    """Split ``source`` (a folder of ``images/`` and ``masks/``) into tar files of whole
    files under ``part_mb`` megabytes each, an image and its mask always in the same part."""
    images = sorted((source / "images").iterdir())
    if not images:
        raise SystemExit(f"{source}/images: no files")
    pairs = []
    for image in images:
        mask = source / "masks" / image.name
        if not mask.exists():
            raise SystemExit(f"{mask}: missing (every image needs its mask)")
        pairs.append((image, mask, _in_tar(image) + _in_tar(mask)))
    limit = part_mb * 1e6 - tarfile.RECORDSIZE  # the end of archive, padded to a record
    parts: list[list[tuple[Path, Path, int]]] = [[]]
    filled = 0  # bytes in the last part
    for pair in pairs:
        if pair[2] > limit:
            raise SystemExit(f"{pair[0]}: {pair[2] / 1e6:.1f} MB, over --part-mb {part_mb}")
        if filled + pair[2] > limit:
            parts.append([])
            filled = 0
        parts[-1].append(pair)
        filled += pair[2]
    CARRY.mkdir(exist_ok=True)
    for old in CARRY.glob(f"{name}-*.tar"):
        old.unlink()
    written = []
    for i, part in enumerate(parts):
        path = CARRY / f"{name}-{i}.tar"
        tmp = path.with_suffix(".tmp")
        with tarfile.open(tmp, "w", format=tarfile.USTAR_FORMAT) as tar:  # no pax blocks
            for image, mask, _ in part:
                tar.add(image.resolve(), f"{name}/images/{image.name}")
                tar.add(mask.resolve(), f"{name}/masks/{mask.name}")
        tmp.replace(path)
        written.append(path.resolve())
        print(f"{path}: {len(part)} images, {path.stat().st_size / 1e6:.1f} MB")
    return written


def unpack() -> dict[str, tuple[int, int]]:
    """Extract every ``.carry/*.tar`` into ``.carry/data``; count what each set now holds."""
    data = CARRY / "data"
    data.mkdir(parents=True, exist_ok=True)
    for path in sorted(CARRY.glob("*.tar")):
        with tarfile.open(path) as tar:
            tar.extractall(data, filter="data")
        print(f"{path}: unpacked")
    counts = {}
    for folder in sorted(p for p in data.iterdir() if p.is_dir()):
        counts[folder.name] = tuple(
            len(list((folder / sub).glob("*"))) if (folder / sub).exists() else 0
            for sub in ("images", "masks")
        )
        print(f"{folder}: {counts[folder.name][0]} images, {counts[folder.name][1]} masks")
    return counts


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    packer = sub.add_parser("pack", help="split a training folder into .carry/NAME-i.tar")
    packer.add_argument("source", type=Path, help="a folder with images/ and masks/")
    packer.add_argument("--name", required=True, help="the data set's name in .carry/data")
    packer.add_argument("--part-mb", type=float, default=30.0, help="largest part (default 30)")
    sub.add_parser("unpack", help="extract .carry/*.tar into .carry/data (on the device)")
    args = parser.parse_args(argv)
    if args.command == "pack":
        parts = pack(args.source, args.name, args.part_mb)
        print(
            f"{len(parts)} device calls, each with carry=[<one part>] and the command "
            f"'python3 tools/device_kit.py unpack; ...'"
        )
    else:
        unpack()


if __name__ == "__main__":
    sys.exit(main())
