"""What a recipe records of the input its labels were made from (its ``input_identity``), so
that ``tessella segment --skip-existing`` tells the same input from one replaced or rewritten
since, whatever its modification time says.

- **a file** (a TIFF): its size, its modification time (ns) and the sha256 of its bytes,
  read in 1 MiB pieces (never whole). A later run compares the size first (another size:
  changed, nothing read), then the time: the same size and time are taken as the same file
  without reading it (the quick check of rsync and make; only a file rewritten with the same
  size and its time set back to the very nanosecond would pass). Otherwise the bytes are
  hashed again: an input copied in with its old time kept (``cp -p``, a restore from a
  backup) is told by its content, and one merely touched or copied without ``-p`` (same
  bytes, a new time) is still the same input. Hashing costs one read of the file (0.15-0.22
  s for 100 MB, measured on a local disk, file cache warm, 2-core AMD EPYC), once when the
  labels are written and again only where the size is the same and the time is not.
- **a folder** (a zarr or OME-Zarr image, a folder of frames): its pixels may be bigger
  than memory, so they are not read. It is known by a sha256 of its metadata without
  attributes (``zarr.json``, ``.zarray``, ``.zgroup``: shape, chunks, data type, codecs,
  fill value; attribute edits change no pixel) and another of every other file's path
  (relative to the folder, so a moved project still matches), size and modification time
  (ns), with the count of those files: one ``stat`` per chunk file, as the blockwise run's
  own check of its input (:mod:`tessella.engine.blockwise._identity`). Every write of a chunk
  gives its file a new time; only a chunk file replaced by one of the same size and the same
  time (``cp -p`` of another write) is not noticed.

Recipes written before this record have no ``input_identity``; their readers ignore it and
``--skip-existing`` falls back to comparing modification times.

Export in napari writes the recipe long after the image was read, so it records the identity
of the file *as it was read*: the reader keeps the file's size and modification time in the
layer's metadata (:data:`READ_KEY`, :func:`file_as_read`; one ``stat``), and
:func:`identity_as_read`, run in Export's worker, hashes the file only where it still has
them (and again has them once read); a file changed or gone since gives no identity, and
why.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Generator
from pathlib import Path

__all__ = [
    "INPUT_KEY",
    "READ_KEY",
    "file_as_read",
    "identity_as_read",
    "input_changes",
    "input_identity",
]

#: the recipe key that holds :func:`input_identity` of the input the labels were made from
INPUT_KEY = "input_identity"

#: the layer metadata key in which the reader records :func:`file_as_read` of the file it read
READ_KEY = "file_as_read"

#: the bytes :func:`identity_as_read` hashes between two of its steps (about 40 ms at the
#: 380 MB/s of a local disk: a worker quit stops that soon)
HASH_STEP = 16 << 20

# a zarr's own metadata (hashed without attributes) and the files hashed not at all: the
# attributes alone (v2) and consolidated metadata (a copy of the others, attributes included)
_METADATA = ("zarr.json", ".zarray", ".zgroup")
_LEFT_OUT = (".zattrs", ".zmetadata", ".DS_Store")


def input_identity(path: str | os.PathLike, outputs=()) -> dict | None:
    """What identifies the content of the input ``path`` (see the module's notes): for a file
    ``{"kind": "file", "size", "mtime_ns", "sha256"}``, for a folder ``{"kind": "folder",
    "metadata_sha256", "files_sha256", "files"}``; None where it cannot be read. ``outputs``:
    paths a run writes, left out where they lie inside a folder input (labels written into
    the movie folder or the zarr they were made from; each run rewrites them, so counting
    them made every input look changed).

    >>> import tempfile
    >>> image = Path(tempfile.mkdtemp()) / "a.tif"
    >>> _ = image.write_bytes(b"pixels")
    >>> record = input_identity(image)
    >>> record["size"], record["sha256"][:12]
    (6, '6ec9c2b0eb14')
    >>> input_changes(record, image)
    ''
    """
    from .registry import sha256_file

    path = Path(path)
    try:
        if path.is_dir():
            return _folder_identity(path, outputs)
        stat = path.stat()
        digest = sha256_file(path)
        return {
            "kind": "file",
            "size": stat.st_size,
            "mtime_ns": stat.st_mtime_ns,
            "sha256": digest,
        }
    except OSError:
        return None


def file_as_read(path: str | os.PathLike) -> dict | None:
    """``{"size", "mtime_ns"}`` of the file ``path`` (one ``stat``: what the reader records
    when it reads it, :data:`READ_KEY`); None for a folder or a path that cannot be read."""
    try:
        stat = os.stat(path)
    except (OSError, ValueError):
        return None
    if not os.path.isfile(path):
        return None
    return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}


def identity_as_read(
    path: str | os.PathLike, as_read: dict | None = None, outputs=()
) -> Generator[tuple[int, int], None, tuple[dict | None, str]]:
    """:func:`input_identity` of ``path`` as it was read, in steps (for a worker): yields
    ``(bytes hashed, size)`` after each :data:`HASH_STEP` bytes of a file, and returns
    ``(identity, "")``, or ``(None, why)`` where the file is not the one read: ``as_read``
    (:func:`file_as_read` when it was read; None: not known, the file as it is now) must
    still be its size and time before it is hashed and once it is, else nothing is read or
    the hash is dropped. ``why`` says what changed ("size 1,024 bytes then, 2,048 now").
    A folder's identity (its metadata and files' sizes and times, no pixel read) is taken
    as it is now; ``outputs`` as for :func:`input_identity`.

    >>> import tempfile
    >>> image = Path(tempfile.mkdtemp()) / "a.tif"
    >>> _ = image.write_bytes(b"pixels")
    >>> read = file_as_read(image)
    >>> def run(steps):
    ...     while True:
    ...         try:
    ...             next(steps)
    ...         except StopIteration as end:
    ...             return end.value
    >>> run(identity_as_read(image, read))[0] == input_identity(image)
    True
    >>> _ = image.write_bytes(b"other pixels")
    >>> run(identity_as_read(image, read))
    (None, 'size 6 bytes then, 12 bytes now')
    """
    path = Path(path)
    try:
        if as_read is None and path.is_dir():
            return _folder_identity(path, outputs), ""
        before = path.stat()
        if path.is_dir():
            return None, "a folder now, not the file read"
    except OSError as exc:
        return None, f"cannot be read now ({exc.strerror or exc})"
    changed = _changed_since(as_read, before)
    if changed:
        return None, changed
    digest, done = hashlib.sha256(), 0

    def key(stat: os.stat_result) -> tuple[int, int, int, int]:
        return stat.st_ino, stat.st_dev, stat.st_size, stat.st_mtime_ns

    try:
        with open(path, "rb") as handle:
            # the file opened, not the path's (replaced by a rename since its stat, even by
            # one of the same size and time, as ``cp -p`` or ``rsync -t`` make it)
            if key(os.fstat(handle.fileno())) != key(before):
                return None, "replaced while it was hashed for the recipe"
            while block := handle.read(HASH_STEP):
                digest.update(block)
                done += len(block)
                yield done, before.st_size
            opened = os.fstat(handle.fileno())
        after = path.stat()
    except OSError as exc:
        return None, f"cannot be read now ({exc.strerror or exc})"
    if (after.st_ino, after.st_dev) != (before.st_ino, before.st_dev):
        return None, "replaced while it was hashed for the recipe"
    if key(opened) != key(before) or key(after) != key(before):
        return None, "written to while it was hashed for the recipe"
    identity = {
        "kind": "file",
        "size": before.st_size,
        "mtime_ns": before.st_mtime_ns,
        "sha256": digest.hexdigest(),
    }
    return identity, ""


def _changed_since(as_read: dict | None, stat: os.stat_result) -> str:
    """How a file whose ``stat`` is this differs from ``as_read`` (:func:`file_as_read`);
    "" where it has the same size and time, or nothing was recorded."""
    if not isinstance(as_read, dict):
        return ""
    if stat.st_size != as_read.get("size"):
        return f"size {_bytes(as_read.get('size'))} then, {_bytes(stat.st_size)} now"
    if stat.st_mtime_ns != as_read.get("mtime_ns"):
        return "the same size, but modified since (another modification time)"
    return ""


def input_changes(recorded, path: str | os.PathLike, outputs=()) -> str | None:
    """How the input ``path`` differs from the ``recorded`` :func:`input_identity` (a
    recipe's): "" where it is the same, a phrase naming what changed ("other content (sha256
    …)", "size 1,024 bytes, now 2,048"), None where ``recorded`` is no such record (an older
    recipe, a hand edit): the caller decides by other means. ``outputs``: as for
    :func:`input_identity`."""
    if not isinstance(recorded, dict) or recorded.get("kind") not in ("file", "folder"):
        return None
    path = Path(path)
    if recorded["kind"] == "folder":
        if not path.is_dir():
            return "a folder then, not one now"
        try:
            now = _folder_identity(path, outputs)
        except OSError as exc:
            return f"cannot be listed now ({exc.strerror or exc})"
        if now["metadata_sha256"] != recorded.get("metadata_sha256"):
            return "its array metadata (shape, chunks, data type or codecs) differ"
        if now["files_sha256"] != recorded.get("files_sha256"):
            then = recorded.get("files")
            return (
                f"files in it written, added or removed since ({then} files then, "
                f"{now['files']} now)"
            )
        return ""
    try:
        stat = path.stat()
        if path.is_dir():
            return "a file then, a folder now"
    except OSError as exc:
        return f"cannot be read now ({exc.strerror or exc})"
    if stat.st_size != recorded.get("size"):
        return f"size {_bytes(recorded.get('size'))}, now {_bytes(stat.st_size)}"
    if stat.st_mtime_ns == recorded.get("mtime_ns"):
        return ""  # the same size and time: the same file, not read again
    from .registry import sha256_file

    try:
        digest = sha256_file(path)
    except OSError as exc:
        return f"cannot be read now ({exc.strerror or exc})"
    if digest == recorded.get("sha256"):
        return ""  # touched or copied: the same bytes
    was = str(recorded.get("sha256"))[:12]
    return f"other content of the same size (sha256 {was}…, now {digest[:12]}…)"


def _bytes(size) -> str:
    return f"{size:,} bytes" if isinstance(size, int) else f"{size} (not recorded)"


def _folder_identity(folder: Path, outputs=()) -> dict:
    """A folder's metadata and files digests (see the module's notes), ``outputs`` (paths)
    left out."""
    metadata, files = hashlib.sha256(), hashlib.sha256()
    count = 0
    real = os.path.realpath(folder)  # outputs named through a link, or the input, are found
    skip = {_inside(p, real) for p in outputs}
    for relative, entry in _walk(folder, "", skip):
        if entry.name in _METADATA:
            metadata.update(f"{relative}\0".encode())
            metadata.update(_without_attributes(Path(entry.path)))
        else:
            stat = entry.stat()
            files.update(f"{relative}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
            count += 1
    return {
        "kind": "folder",
        "metadata_sha256": metadata.hexdigest(),
        "files_sha256": files.hexdigest(),
        "files": count,
    }


def _inside(path, folder: str) -> str:
    """``path`` relative to ``folder`` (a real path), links resolved ("../x" outside it; a
    path on another drive, Windows, as it is)."""
    try:
        return Path(os.path.relpath(os.path.realpath(path), folder)).as_posix()
    except ValueError:
        return str(path)


def _walk(folder: Path, prefix: str, skip: set[str]):
    """(relative path, entry) of every file under ``folder``, in name order, but
    :data:`_LEFT_OUT` and the files and folders ``skip`` names (paths relative to the
    folder); one ``scandir`` per folder."""
    with os.scandir(folder) as listing:
        entries = sorted(listing, key=lambda entry: entry.name)
    for entry in entries:
        relative = f"{prefix}{entry.name}"
        if entry.name in _LEFT_OUT or relative in skip:
            continue
        if entry.is_dir():
            yield from _walk(Path(entry.path), f"{relative}/", skip)
        else:
            yield relative, entry


def _without_attributes(path: Path) -> bytes:
    """A metadata file's JSON without its ``attributes`` (v3), canonical; its bytes where it
    is not a JSON object."""
    raw = path.read_bytes()
    try:
        metadata = json.loads(raw)
    except ValueError:
        return raw
    if not isinstance(metadata, dict):
        return raw
    metadata.pop("attributes", None)
    return json.dumps(metadata, sort_keys=True).encode()
