"""Take a training set to a lent GPU machine (the `device` tool) in parts, and unpack it there.

A `device` call carries the working tree plus named ignored paths, 64 MiB in all; the
repository alone is about 31 MB, so a training set such as ``nuclei2d_dsb2018/train`` (44 MB of
already-compressed TIFFs, which compress no further) must travel in several calls. Here:

    python tools/device_kit.py pack ../shared/data/nuclei2d_dsb2018/train --name nuclei2d

writes ``.carry/nuclei2d-0.tar``, ``.carry/nuclei2d-1.tar``, ... (each under ``--part-mb``;
an image and its mask together where they fit in one part; the ``images/`` and ``masks/``
layout kept) and prints the device calls. There, each call carries one part and runs

    python3 tools/device_kit.py unpack --delete

which extracts every ``.carry/*.tar`` into ``.carry/data/NAME/`` (ignored paths left on a warm
machine stay between calls, so the parts add up; ``--delete`` removes each part once
extracted, so a later call does not extract it again) and prints how many images and masks
``.carry/data/NAME`` now holds; the last call then trains on it. Only the standard library is
used, so it runs with the device's own Python.

A file bigger than a part (Lucchi++'s training volume is one 58.7 MB TIFF) travels as byte
pieces, ``NAME/images/x.tif.piece-K-of-N-BYTES`` (BYTES: the whole file's size), one or more
per part; ``unpack`` joins them into ``x.tif`` once all N have arrived, checks the size, and
lists what is still missing.
"""

from __future__ import annotations

import argparse
import io
import re
import sys
import tarfile
from pathlib import Path

CARRY = Path(".carry")
PIECE = re.compile(r"^(?P<name>.+)\.piece-(?P<k>\d+)-of-(?P<n>\d+)-(?P<size>\d+)$")


def _in_tar(size: int) -> int:
    """Bytes ``size`` bytes of data take in a tar archive: a header block, then the data in
    whole blocks."""
    return tarfile.BLOCKSIZE + -(-size // tarfile.BLOCKSIZE) * tarfile.BLOCKSIZE


def pack(source: Path, name: str, part_mb: float) -> list[Path]:
    """Split ``source`` (a folder of ``images/`` and ``masks/``) into tar files under
    ``part_mb`` megabytes each: whole files, an image and its mask in the same part, except
    that a pair too big for one part travels as byte pieces of its files."""
    images = sorted((source / "images").iterdir())
    if not images:
        raise SystemExit(f"{source}/images: no files")
    # members, then two zero blocks, the whole padded to a record: keep under whole records
    limit = int(part_mb * 1e6) // tarfile.RECORDSIZE * tarfile.RECORDSIZE - 2 * tarfile.BLOCKSIZE
    if limit < 4 * tarfile.BLOCKSIZE:
        raise SystemExit(f"--part-mb {part_mb}: too small for a tar file")
    # members: (file, name in the archive, first byte, bytes); a group goes into one part
    groups: list[list[tuple[Path, str, int, int]]] = []
    for image in images:
        mask = source / "masks" / image.name
        if not mask.exists():
            raise SystemExit(f"{mask}: missing (every image needs its mask)")
        files = [(image, f"{name}/images/{image.name}"), (mask, f"{name}/masks/{mask.name}")]
        whole = [(f, arc, 0, f.stat().st_size) for f, arc in files]
        if sum(_in_tar(m[3]) for m in whole) <= limit:
            groups.append(whole)
            continue
        for f, arc, _, size in whole:  # too big for a part: byte pieces
            if _in_tar(size) <= limit:
                groups.append([(f, arc, 0, size)])
                continue
            step = int(limit - tarfile.BLOCKSIZE) // tarfile.BLOCKSIZE * tarfile.BLOCKSIZE
            count = -(-size // step)
            for k in range(count):
                length = min(step, size - k * step)
                piece = f"{arc}.piece-{k}-of-{count}-{size}"
                groups.append([(f, piece, k * step, length)])
    parts: list[list[tuple[Path, str, int, int]]] = [[]]
    filled = 0  # bytes in the last part
    for group in groups:
        taken = sum(_in_tar(m[3]) for m in group)
        if filled + taken > limit and parts[-1]:
            parts.append([])
            filled = 0
        parts[-1].extend(group)
        filled += taken
    CARRY.mkdir(exist_ok=True)
    for old in CARRY.glob(f"{name}-*.tar"):
        old.unlink()
    written = []
    for i, part in enumerate(parts):
        path = CARRY / f"{name}-{i}.tar"
        tmp = path.with_suffix(".tmp")
        with tarfile.open(tmp, "w", format=tarfile.USTAR_FORMAT) as tar:  # no pax blocks
            for f, arc, offset, length in part:
                if ".piece-" not in arc:
                    tar.add(f.resolve(), arc)
                    continue
                with open(f, "rb") as handle:
                    handle.seek(offset)
                    info = tarfile.TarInfo(arc)
                    info.size = length
                    tar.addfile(info, io.BytesIO(handle.read(length)))
        tmp.replace(path)
        written.append(path.resolve())
        images_in = sum(1 for m in part if "/images/" in m[1] and ".piece-" not in m[1])
        pieces = sum(1 for m in part if ".piece-" in m[1])
        print(
            f"{path}: {images_in} images"
            + (f", {pieces} piece{'s' * (pieces > 1)} of a bigger file" if pieces else "")
            + f", {path.stat().st_size / 1e6:.1f} MB"
        )
    return written


def _join_pieces(data: Path) -> list[str]:
    """Join every ``x.piece-K-of-N`` group under ``data`` whose N pieces are all there into
    ``x``; return what is still incomplete."""
    # pieces of one pack share the target, their count and the file's size: pieces left from
    # another pack of the same file (another --part-mb) never join with them
    groups: dict[tuple[Path, int, int], dict[int, Path]] = {}
    for piece in data.rglob("*.piece-*"):
        match = PIECE.match(piece.name)
        if match:
            key = (piece.with_name(match["name"]), int(match["n"]), int(match["size"]))
            groups.setdefault(key, {})[int(match["k"])] = piece
    waiting = []
    for (target, count, size), pieces in sorted(groups.items()):
        if sorted(pieces) != list(range(count)):
            waiting.append(f"{target}: {len(pieces)} of {count} pieces")
            continue
        tmp = target.with_name(target.name + ".joining")
        with open(tmp, "wb") as out:
            for k in range(count):
                out.write(pieces[k].read_bytes())
        if tmp.stat().st_size != size:
            tmp.unlink()
            raise SystemExit(f"{target}: pieces join to the wrong size; pack it again")
        tmp.replace(target)
        for piece in pieces.values():
            piece.unlink()
        print(f"{target}: joined from {count} pieces")
    return waiting


def unpack(delete: bool = False) -> dict[str, tuple[int, int]]:
    """Extract every ``.carry/*.tar`` into ``.carry/data`` (``delete``: and remove it), join
    the pieces of big files that are complete, and count what each set now holds."""
    data = CARRY / "data"
    data.mkdir(parents=True, exist_ok=True)
    for path in sorted(CARRY.glob("*.tar")):
        with tarfile.open(path) as tar:
            tar.extractall(data, filter="data")
        if delete:  # on the device: a later call does not extract it again
            path.unlink()
        print(f"{path}: unpacked")
    for line in _join_pieces(data):
        print(f"{line} (carry the other parts)")
    counts = {}
    for folder in sorted(p for p in data.iterdir() if p.is_dir()):
        counts[folder.name] = tuple(
            sum(1 for f in (folder / sub).glob("*") if not PIECE.match(f.name))
            if (folder / sub).exists()
            else 0
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
    unpacker = sub.add_parser("unpack", help="extract .carry/*.tar into .carry/data (device)")
    unpacker.add_argument("--delete", action="store_true", help="remove each part once extracted")
    args = parser.parse_args(argv)
    if args.command == "pack":
        parts = pack(args.source, args.name, args.part_mb)
        print(
            f"{len(parts)} device calls, each with carry=[<one part>] and the command "
            f"'python3 tools/device_kit.py unpack --delete; ...'"
        )
    else:
        unpack(args.delete)


if __name__ == "__main__":
    sys.exit(main())
