"""Whether an output path would replace, or write into, an input read: one rule for the
command line and Export, both of which refuse to write over the image they segment, even
when told to overwrite (the image would be lost)."""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["path_overlap"]


def _resolved(path: str | os.PathLike) -> Path:
    """``path`` absolute, ``~`` expanded, links followed (those that exist)."""
    return Path(os.path.abspath(Path(path).expanduser())).resolve()


def path_overlap(output: str | os.PathLike, source: str | os.PathLike) -> str:
    """How writing ``output`` (a file, or a folder such as a zarr or a CTC result) meets the
    input ``source`` (a file, zarr or folder of frames that was read): ``"same"`` where they
    are one path or one file (after ``~``, ``..`` and links; a hard link, or another case
    of a name on a disk that ignores case, by :func:`os.path.samefile`), ``"holds"`` where
    ``source`` lies inside the folder ``output`` (replacing that folder removes it),
    ``"inside"`` where ``output`` lies inside ``source`` (a zarr store, a folder), else "".

    >>> path_overlap("/data/cells.ome.zarr", "/data/../data/cells.ome.zarr")
    'same'
    >>> path_overlap("/data", "/data/01/t000.tif"), path_overlap("/data/01/x.tif", "/data/01")
    ('holds', 'inside')
    >>> path_overlap("/data/cells.tif", "/data/cells.ome.zarr")
    ''
    """
    out, read = _resolved(output), _resolved(source)
    if out == read:
        return "same"
    try:
        if os.path.samefile(out, read):
            return "same"
    except OSError:  # (one of them does not exist: not one file)
        pass
    if read.is_relative_to(out):
        return "holds"
    if out.is_relative_to(read):
        return "inside"
    return ""
