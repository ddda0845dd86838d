"""``tessella convert``: a big TIFF (or a badly chunked zarr) into the chunked zarr that
``segment --blockwise`` reads, keeping its axes and pixel size (``to_chunked_zarr``)."""

from __future__ import annotations

import errno
import os
from pathlib import Path

from ._console import CliError, _advance, _progress_bar
from ._write import _reason, probe_folder

__all__ = ["_cmd_convert"]

#: the errors of a folder that cannot be written (not a full disk: that is said as it is)
_NOT_WRITABLE = (errno.EACCES, errno.EPERM, errno.EROFS)


def _cmd_convert(args) -> int:
    from ..engine.io import TIFF_SUFFIXES, is_zarr_path

    image, out = Path(args.image), Path(args.out)
    if not (image.exists() or image.is_symlink()):
        raise CliError(f"{image}: no such file or folder")
    if not (is_zarr_path(image) or image.suffix.lower() in TIFF_SUFFIXES):
        raise CliError(f"{image}: not a TIFF or zarr; convert reads .tif/.tiff files and zarr")
    if out.suffix.lower() != ".zarr":
        raise CliError(f"{out}: convert writes zarr; name the output .zarr")
    if out.resolve() == image.resolve() or image.resolve() in out.resolve().parents:
        raise CliError(f"{out}: would replace its input {image}; choose another output")
    if args.chunk is not None and args.chunk < 1:
        raise CliError(f"--chunk must be a whole number of at least 1, got {args.chunk}")
    _check_out_folder(out)
    from ..engine.blockwise import to_chunked_zarr
    from ..engine.blockwise._convert import recover_convert_leftovers

    try:  # what a conversion to OUT killed before it finished left (said in one line)
        recover_convert_leftovers(out)
    except OSError as exc:
        raise CliError(f"{out}: cannot undo what a killed conversion left ({exc})") from None
    if (out.exists() or out.is_symlink()) and not args.overwrite:
        raise CliError(f"{out} exists; pass --overwrite to replace it")

    with _ChunksWritten(image.name, args.quiet):
        try:
            to_chunked_zarr(image, out, args.chunk, overwrite=args.overwrite)
        except OSError as exc:  # (the engine names OUT where its folder cannot be written)
            if exc.filename == os.fspath(out) and exc.errno in _NOT_WRITABLE:
                raise CliError(f"{out}: cannot write there ({exc.strerror})") from None
            said = str(exc)
            raise CliError(said if str(image) in said else f"{image}: {said}") from None
        except ValueError as exc:
            said = str(exc)
            raise CliError(said if str(image) in said else f"{image}: {said}") from None
    if not args.quiet:
        import zarr

        array = zarr.open(str(out), mode="r")
        chunks = "x".join(map(str, array.chunks))
        print(f"{image} -> {out}: {'x'.join(map(str, array.shape))} in {chunks} chunks")
    return 0


def _check_out_folder(out: Path) -> None:
    """Refuse before reading the input an OUT whose folder (or the nearest of its ancestors
    that exists, where it is to be made) is a file or cannot be written: it blamed the input
    and named the hidden lock file ("img.tif: [Errno 13] Permission denied: 'ro/.c.zarr.
    convert-HOST-PID-XXXXXX.lock'")."""
    folder = next((p for p in out.absolute().parents if p.exists()), None)
    if folder is None:
        return
    if not folder.is_dir():
        raise CliError(f"{out}: {folder} is a file, not a folder; cannot write there")
    try:  # a real write: os.access says yes to root and misses ACLs and read-only mounts
        probe_folder(folder, out.name)
    except OSError as exc:
        raise CliError(f"{out}: cannot write there ({_reason(exc)})") from None


class _ChunksWritten:
    """A progress bar of the dask tasks that write the zarr (one per chunk, with those that
    read the input), for the conversion of a big file (minutes)."""

    def __init__(self, name: str, quiet: bool):
        self.name, self.quiet, self.bar, self.callback = name, quiet, None, None

    def __enter__(self):
        from dask.callbacks import Callback

        def start_state(_dsk, state) -> None:
            total = sum(len(state[key]) for key in ("ready", "waiting", "running", "finished"))
            self.bar = _progress_bar(total, f"{self.name}: convert", self.quiet, unit="task")

        def posttask(*_args) -> None:
            if self.bar is not None:
                _advance(self.bar, self.bar.n + 1)

        self.callback = Callback(start_state=start_state, posttask=posttask)
        self.callback.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        self.callback.__exit__(*exc)
        if self.bar is not None:
            self.bar.close()
