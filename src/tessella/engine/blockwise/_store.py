"""The input (zarr, OME-Zarr or an array) and the outputs: the work folder that makes a run
resumable, the provisional and result arrays, and the lock against a second writer."""

from __future__ import annotations

import json
import os
import shutil
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ._grid import BlockGrid
from ._run import _open_zarr, _Source

MAX_CHUNK_BYTES = 1 << 30  # a bigger input chunk is refused: every block would decode it


def work_dir(out: str | os.PathLike) -> Path:
    """Where an unfinished blockwise run into ``out`` keeps its state."""
    out = Path(out)
    return out.with_name(f".{out.name}.blockwise")


@dataclass
class _Input:
    source: _Source
    array: Any
    axes: str
    pixel_size: dict
    unit: str
    name: str
    ome: dict | None = None  # version, axes and scale of an OME-Zarr input


def _open_input(image, axes: str | None) -> _Input:
    from ..axes import check_axes, guess_axes
    from ..io import _ome_axis_names, _tiff_axes, is_zarr_path, read_image

    if not isinstance(image, str | os.PathLike):
        store = getattr(getattr(image, "store", None), "root", None)
        source = _Source(str(store), image.path) if store is not None else _Source(None, "", image)
        if getattr(image, "dtype", np.dtype(object)).kind not in "biuf":
            raise ValueError(f"unsupported pixel type {getattr(image, 'dtype', type(image))}")
        axes = check_axes(axes or guess_axes(image.shape), image.ndim)
        return _Input(source, image, axes, {}, "pixel", "image")
    path = Path(image)
    if not path.exists():
        raise ValueError(f"{path}: no such file or folder")
    if not is_zarr_path(path):
        raise ValueError(
            f"{path}: blockwise segmentation reads chunked zarr or OME-Zarr; convert it first, "
            f"e.g. dask.array.from_zarr(tifffile.imread('{path}', aszarr=True))"
            f".rechunk(2048).to_zarr('{path.with_suffix('.zarr').name}')"
        )
    data = read_image(path, axes)
    node = _open_zarr(str(path))
    ome = None
    key = ""
    drop: list[int] = []
    if not hasattr(node, "shape"):  # OME-Zarr: read_image took the first dataset
        attrs = dict(node.attrs)
        version = attrs["ome"].get("version", "0.5") if "ome" in attrs else "0.4"
        first = (attrs.get("multiscales") or attrs["ome"]["multiscales"])[0]
        dataset = first["datasets"][0]
        key = dataset["path"]
        stored = node[key]
        names = _ome_axis_names(first.get("axes"), stored.ndim, key, axes)
        if data.data.ndim < stored.ndim:  # singleton axes (t, c, z of a 2D image) left out
            drop = _tiff_axes(names or "", tuple(stored.shape))[1]
        if len(stored.shape) - len(drop) != data.data.ndim:
            raise ValueError(f"{path}: cannot tell which of the axes {names} were left out")
        scales = [t for t in dataset.get("coordinateTransformations", []) if t["type"] == "scale"]
        scale = scales[0]["scale"] if scales else [1.0] * stored.ndim
        entries = first.get("axes") or [_ome_axis(a) for a in names or ""]
        kept = [i for i in range(stored.ndim) if i not in drop]  # the stored axis of each axis
        ome = {"version": version, "axes": entries, "scale": scale, "kept": kept}
    source = _Source(str(path.resolve()), key, drop=tuple(drop))
    return _Input(source, data.data, data.axes, data.pixel_size, data.unit, str(path), ome)


def _ome_axis(letter: str) -> dict:
    """OME-Zarr axis metadata for an axis letter (where the input's metadata names none)."""
    kind = {"T": "time", "C": "channel"}.get(letter, "space")
    return {"name": letter.lower(), "type": kind}


def _check_chunks(data: _Input, grid: BlockGrid) -> None:
    chunks = getattr(data.array, "chunks", None)
    if chunks is None:
        return
    chunks = tuple(max(c) if isinstance(c, tuple) else int(c) for c in chunks)
    nbytes = int(np.prod(chunks)) * data.array.dtype.itemsize
    advice = (
        f"rechunk it, e.g. dask.array.from_zarr('{data.name}').rechunk({grid.block[-1]})"
        ".to_zarr('rechunked.zarr')"
    )
    if nbytes > MAX_CHUNK_BYTES:
        raise ValueError(
            f"{data.name}: one chunk {chunks} holds {nbytes / 2**30:.1f} GiB and every block "
            f"would decode it whole; {advice}"
        )
    if chunks == tuple(data.array.shape) and grid.n_blocks > 1:
        warnings.warn(
            f"{data.name} is stored as one chunk, which every block decodes whole; "
            f"for large arrays {advice}",
            UserWarning,
            stacklevel=4,
        )


def _create_outputs(work: Path, grid: BlockGrid, data: _Input) -> str:
    """The provisional array and the empty result; returns the result's array key."""
    import zarr

    label_axes = data.axes.replace("C", "")
    shape, chunks = grid.shape, grid.block
    zarr.create_array(
        str(work / "provisional.zarr"), shape=shape, dtype="uint32", chunks=chunks, fill_value=0
    )
    result = str(work / "result.zarr")
    if data.ome is None:
        pixel_size = {a: s for a, s in data.pixel_size.items() if a in label_axes}
        attrs: dict[str, Any] = {
            "tessella_axes": label_axes,
            "pixel_size": pixel_size,
            "unit": data.unit,
        }
        array = zarr.create_array(result, shape=shape, dtype="uint32", chunks=chunks, fill_value=0)
        array.attrs.update(attrs)
        return ""
    version = data.ome["version"]
    v2 = version < "0.5"  # OME-Zarr 0.4 is zarr v2 with "/" chunk keys
    group = zarr.open_group(result, mode="w", zarr_format=2 if v2 else 3)
    encoding: dict[str, Any] | None = {"name": "v2", "separator": "/"} if v2 else None
    group.create_array(
        "0",
        shape=shape,
        dtype="uint32",
        chunks=chunks,
        fill_value=0,
        chunk_key_encoding=encoding,
    )
    # the stored axis of each label axis (the input's without C; singleton axes stay out)
    keep = [data.ome["kept"][i] for i, a in enumerate(data.axes) if a != "C"]
    scale = [float(data.ome["scale"][i]) for i in keep]
    transforms = [{"type": "scale", "scale": scale}]
    multiscale = {
        "name": "tessella labels",
        "axes": [data.ome["axes"][i] for i in keep],
        "datasets": [{"path": "0", "coordinateTransformations": transforms}],
    }
    label = {"version": version, "source": {"image": data.source.store}}
    if v2:
        group.attrs.update(
            {"multiscales": [multiscale | {"version": version}], "image-label": label}
        )
    else:
        group.attrs["ome"] = {"version": version, "multiscales": [multiscale], "image-label": label}
    return "0"


def _check_lock(work: Path, out: Path) -> None:
    """Refuse to work on ``out`` while another live process on this machine does."""
    import socket

    try:
        host, pid = (work / "lock").read_text().split()
    except (OSError, ValueError):
        return
    if host == socket.gethostname() and int(pid) != os.getpid():
        try:
            os.kill(int(pid), 0)
        except ProcessLookupError:
            return  # a run that was killed: its lock is stale
        except PermissionError:
            pass
        raise ValueError(f"{out}: another run (process {pid}) is writing it; wait for it to end")
    if host != socket.gethostname():
        raise ValueError(
            f"{out}: a run on {host} (process {pid}) is writing it; if none is, delete "
            f"{work / 'lock'}"
        )


def _lock(work: Path) -> None:
    import socket

    (work / "lock").write_text(f"{socket.gethostname()} {os.getpid()}\n")


def _start(out: Path, plan: dict, overwrite: bool, data: _Input, grid: BlockGrid) -> tuple:
    """A fresh or resumed work directory, locked for this process; returns (work, result key)."""
    work = work_dir(out)
    if out.exists() and not overwrite:
        raise FileExistsError(f"{out} exists; pass overwrite=True (--overwrite) to replace it")
    _check_lock(work, out)
    plan = json.loads(json.dumps(plan, default=str))
    if work.exists():
        try:
            old = json.loads((work / "plan.json").read_text())
        except (OSError, json.JSONDecodeError):
            old = None  # never got as far as the plan: start again
        result_key = old.pop("result_key", "") if old else ""
        if not (work / "result.zarr").exists():
            old = None  # the result was moved onto ``out``: that run finished
        if old == plan and data.source.store is not None:
            _lock(work)
            return work, result_key
        if old is not None and data.source.store is not None and not overwrite:
            changed = sorted(k for k in set(plan) | set(old) if plan.get(k) != old.get(k))
            raise ValueError(
                f"{out}: an unfinished blockwise run with other settings ({', '.join(changed)}) "
                f"is in {work}; pass overwrite=True (--overwrite) to start again"
            )
        shutil.rmtree(work)
    (work / "blocks").mkdir(parents=True)
    (work / "relabelled").mkdir()
    _lock(work)
    result_key = _create_outputs(work, grid, data)
    tmp = work / "plan.json.tmp"
    tmp.write_text(json.dumps(plan | {"result_key": result_key}, indent=2) + "\n")
    os.replace(tmp, work / "plan.json")
    return work, result_key
