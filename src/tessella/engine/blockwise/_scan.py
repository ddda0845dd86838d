"""The normalisation scan: each frame's (slice's) percentiles from all its blocks, as the
in-memory pipeline computes them on the whole frame."""

from __future__ import annotations

import dataclasses
import itertools
import json
import os
import shutil
import zipfile
from collections.abc import Generator
from pathlib import Path
from typing import Any

import numpy as np

from ..normalize import blank_channels, bright_background, percentile_scale
from ..pipeline._predict import constant_words
from ..progress import warn_at_caller
from ._look import unfamiliar_blocks
from ._run import BlockProgress, _map, _Run
from ._segmenters import _card, _model, _model_layout, _units

SAMPLE = 2_000_000  # float pixels sampled per frame for the percentiles, as the pipeline does
#: the work folder's file of a 3D model's blank Z slices ``[[t, z], ...]`` (t: -1 without T),
#: written by the scan with ``ranges.json``; a run scanned before it existed has none (as then)
BLANK_SLICES = "blank_slices.json"


def _scan_task(run: _Run, index):
    """Per normalisation unit and channel: exact value counts (integers) or a sample."""
    segmenter = run.segmenter
    model = _model(segmenter.model, segmenter.sha256, segmenter.name)
    region = run.grid.core(index)
    block = run.read(region)
    origin = tuple(s.start for s in region)
    units = _units(block, run.axes, origin, model)
    shape = dict(zip(run.axes.replace("C", ""), run.grid.shape))
    unit_size = int(np.prod([shape[a] for a in units[0][2] if a in "ZYX"]))
    # a 3D model reads a frame whole: its blank (constant) Z slices, known once every block
    # is scanned, are left out of its percentiles, as in memory (:func:`_without_blank`)
    volume = model.card.spatial_axes[0] == "Z" and "Z" in run.axes
    z0 = origin[run.axes.replace("C", "").index("Z")] if volume else 0
    stats = {}
    for unit, part, part_axes in units:
        data = _model_layout(part, part_axes, model.card)
        stats[unit] = [
            _channel_stats(channel, unit_size, z0 if volume else None) for channel in data
        ]
    return stats
    yield  # a generator like the other tasks


def _channel_stats(channel: np.ndarray, unit_size: int, z0: int | None = None):
    """One channel's statistics: ``("counts", values, counts)`` (integers) or ``("sample",
    values, min, max)``; with ``z0`` (the first slice of a 3D model's block) a last item,
    per Z slice (z, min, max, pixels it gave to the counts or the sample)."""
    values = channel.reshape(-1)
    if values.dtype == bool:  # a binary image: 0 and 1, as in memory (percentile_normalize)
        values = values.view(np.uint8)
    if values.dtype.kind in "biu":
        found, counts = _value_counts(values)
        stats: tuple = ("counts", found, counts)
        step = 1
    else:
        step = max(1, unit_size // SAMPLE)
        sample = values[::step].astype(np.float64)
        stats = ("sample", sample, float(values.min()), float(values.max()))
    if z0 is None:
        return stats
    area = channel[0].size if channel.ndim else 1
    starts = -(-np.arange(len(channel) + 1) * area // step)  # first sampled index per slice
    flat = values.reshape(len(channel), -1)
    slices = np.stack(
        [
            np.arange(z0, z0 + len(channel)),
            flat.min(axis=1),
            flat.max(axis=1),
            np.diff(starts),
        ],
        axis=1,
    ).astype(np.float64)
    return (*stats, slices)


#: integer values spanning at most this many are counted (``np.bincount``), not sorted
COUNT_SPAN = 1 << 20


def _value_counts(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(values, return_counts=True)`` of integers, the same arrays (values in
    their dtype, counts as ``np.intp``), counted in one pass where they span at most
    :data:`COUNT_SPAN` values (always for 8- and 16-bit data) rather than sorted: sorting
    each slice of a 256^3 uint8 block took 0.9 s a block (7.6 s on a loaded machine).

    Examples
    --------
    >>> data = np.array([[7, -3, 7], [0, 7, -3]], np.int16)
    >>> found, counts = _value_counts(data.reshape(-1))
    >>> expected = np.unique(data, return_counts=True)
    >>> [np.array_equal(a, b) and a.dtype == b.dtype for a, b in zip((found, counts), expected)]
    [True, True]
    """
    if values.size == 0:
        return np.unique(values, return_counts=True)
    if values.dtype.itemsize <= 2:
        low = int(np.iinfo(values.dtype).min)
    else:
        low, high = int(values.min()), int(values.max())
        if high - low >= COUNT_SPAN or high >= 1 << 63:
            return np.unique(values, return_counts=True)
    wide = values.dtype.itemsize == 8 and values.dtype.kind == "u"  # (no safe cast to intp)
    shifted = values if low == 0 and not wide else values.astype(np.int64) - low
    tally = np.bincount(shifted.reshape(-1))
    found = np.flatnonzero(tally)
    return (found + low).astype(values.dtype), tally[found].astype(np.intp)


def _percentiles_from_counts(values, counts, quantiles) -> list[float]:
    """``np.percentile`` (linear) of the data that ``values`` and their ``counts`` tally.

    Examples
    --------
    >>> data = np.array([3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5])
    >>> values, counts = np.unique(data, return_counts=True)
    >>> _percentiles_from_counts(values, counts, (1, 99.8)) == list(np.percentile(data, (1, 99.8)))
    True
    """
    cumulative = np.cumsum(counts)
    n = int(cumulative[-1])
    out = []
    for q in quantiles:
        virtual = (n - 1) * (q / 100)
        below = int(np.floor(virtual))
        gamma = virtual - below
        a = float(values[np.searchsorted(cumulative, below, side="right")])
        b = float(values[np.searchsorted(cumulative, min(below + 1, n - 1), side="right")])
        diff = b - a
        out.append(b - diff * (1 - gamma) if gamma >= 0.5 else a + diff * gamma)
    return out


def _blank_slices(parts: list, every: bool = False) -> dict[int, list[float]]:
    """A 3D model's frame's blank Z slices, from its blocks' statistics (:func:`_channel_stats`
    with slices): ``{z: [its value per channel]}``, each channel constant over the whole
    slice, in every block (:func:`~tessella.engine.normalize.blank_channels`, the one
    definition, as in memory); empty where none is, or (unless ``every``) where every slice
    is (then all count for the normalisation)."""
    lows: dict[int, list[float]] = {}
    highs: dict[int, list[float]] = {}
    for part in parts:
        if not _has_slices(part[0]):
            return {}
        for c, channel in enumerate(part):
            for z, vmin, vmax, _ in channel[-1]:
                low = lows.setdefault(int(z), [np.inf] * len(part))
                high = highs.setdefault(int(z), [-np.inf] * len(part))
                low[c], high[c] = min(low[c], float(vmin)), max(high[c], float(vmax))
    blank = {z: low for z, low in lows.items() if blank_channels(low, highs[z])}
    return blank if every or len(blank) < len(lows) else {}


def _has_slices(channel: tuple) -> bool:
    return len(channel) == (4 if channel[0] == "counts" else 5)


def _without_blank(parts: list) -> list:
    """A unit's blocks' statistics with those of its blank Z slices (:func:`_blank_slices`)
    taken out, as if those slices were not there: a blank slice gave its one value to the
    counts or the sample as many times as its per-slice tally says (so the percentiles are
    those of the other slices, exactly for integers), and the slices per block are dropped."""
    blank = _blank_slices(parts)
    out = []
    for part in parts:
        channels = []
        for c, channel in enumerate(part):
            if not _has_slices(channel):
                channels.append(channel)
                continue
            slices = channel[-1]
            gone = [(blank[int(z)][c], int(n)) for z, _, _, n in slices if int(z) in blank]
            if channel[0] == "counts":
                found, counts = channel[1], np.array(channel[2], np.float64)
                for value, n in gone:
                    counts[found == value] -= n
                keep = counts > 0
                channels.append(("counts", found[keep], counts[keep]))
                continue
            sample, vmin, vmax = channel[1], channel[2], channel[3]
            if gone:
                drop = np.concatenate([np.flatnonzero(sample == v)[:n] for v, n in gone])
                sample = np.delete(sample, drop)
                rest = [row for row in slices if int(row[0]) not in blank]
                vmin = min((float(r[1]) for r in rest), default=np.inf)
                vmax = max((float(r[2]) for r in rest), default=-np.inf)
            channels.append(("sample", sample, vmin, vmax))
        out.append(channels)
    return out


def _merge_stats(
    parts: list, low: float, high: float, invert: bool = False, override: bool | None = None
) -> list:
    """Per channel (low, high, min, max, inverted) of one unit from its blocks' statistics;
    ``inverted`` when ``invert`` (the card's ``invert_bright_background``) and the channel's
    background is bright (:func:`~tessella.engine.normalize.normalize`), or as ``override``
    says where given (the user's choice for this run)."""
    merged = []
    for channel in zip(*_without_blank(parts)):
        if channel[0][0] == "counts":
            values, inverse = np.unique(
                np.concatenate([c[1] for c in channel]), return_inverse=True
            )
            counts = np.bincount(inverse, weights=np.concatenate([c[2] for c in channel]))
            lo, hi, median = _percentiles_from_counts(values, counts, (low, high, 50))
            vmin, vmax = float(values[0]), float(values[-1])
        else:
            sample = np.concatenate([c[1] for c in channel])
            lo, hi, median = (float(v) for v in np.percentile(sample, (low, high, 50)))
            vmin, vmax = min(c[2] for c in channel), max(c[3] for c in channel)
        if override is not None:
            inverted = bool(override)
        else:
            inverted = invert and bright_background(
                (median - lo) / percentile_scale(lo, hi, vmin, vmax)
            )
        merged.append((lo, hi, vmin, vmax, inverted))
    return merged


def _save_stats(path: Path, stats: dict) -> None:
    """One block's statistics (:func:`_scan_task`) into ``path``, whole or not at all."""
    units = sorted(stats)
    arrays: dict[str, Any] = {"units": np.array(units, np.int64).reshape(-1, 2)}
    for i, unit in enumerate(units):
        for c, channel in enumerate(stats[unit]):
            if channel[0] == "counts":
                arrays[f"v{i}_{c}"], arrays[f"n{i}_{c}"] = channel[1], channel[2]
            else:
                arrays[f"s{i}_{c}"] = channel[1]
                arrays[f"m{i}_{c}"] = np.array(channel[2:4], np.float64)
            if _has_slices(channel):
                arrays[f"z{i}_{c}"] = channel[-1]
    arrays["channels"] = np.array([len(stats[u]) for u in units], np.int64)
    tmp = path.with_suffix(".tmp")
    with open(tmp, "wb") as file:
        np.savez(file, **arrays)
    os.replace(tmp, path)


def _load_stats(path: Path) -> dict:
    """What :func:`_save_stats` saved."""
    with np.load(path, allow_pickle=False) as saved:
        stats = {}
        for i, (unit, n) in enumerate(zip(saved["units"], saved["channels"])):
            channels: list = []
            for c in range(int(n)):
                channel: tuple
                if f"v{i}_{c}" in saved:
                    channel = ("counts", saved[f"v{i}_{c}"], saved[f"n{i}_{c}"])
                else:
                    vmin, vmax = (float(v) for v in saved[f"m{i}_{c}"])
                    channel = ("sample", saved[f"s{i}_{c}"], vmin, vmax)
                if f"z{i}_{c}" in saved:  # a 3D model's slices (:func:`_channel_stats`)
                    channel = (*channel, saved[f"z{i}_{c}"])
                channels.append(channel)
            stats[(int(unit[0]), int(unit[1]))] = channels
        return stats


def _scanned(run: _Run, folder: Path) -> dict:
    """The statistics of the blocks that a scan cut short kept in ``folder`` (one that
    cannot be read is scanned again)."""
    results: dict = {}
    if not folder.is_dir():
        return results
    for index in run.grid.indices():
        path = folder / f"{run.grid.linear(index)}.npz"
        if path.exists():
            try:
                results[index] = _load_stats(path)
            except (OSError, ValueError, KeyError, zipfile.BadZipFile):
                continue
    return results


def _scan(run: _Run, executor, name: str | None = None) -> Generator[BlockProgress, None, _Run]:
    """The normalisation pass: percentiles per frame (slice) and channel -> the segmenter.

    ``name`` (the input, as messages name it; None: no check): then, before any block is
    segmented, the input is checked against the range of the model's training images that
    its card records, as in memory, and warned of in one line (:mod:`._look`)."""
    path = Path(run.work) / "ranges.json"
    if not path.exists():
        # each block's statistics are kept as it finishes (``scan/N.npz``): a scan cut short
        # resumes with the blocks it had not read
        folder = Path(run.work) / "scan"
        results = _scanned(run, folder)
        todo = [i for i in run.grid.indices() if i not in results]
        yield BlockProgress("scan", len(results), run.grid.n_blocks)
        folder.mkdir(exist_ok=True)
        steps = _map(_scan_task, run, todo, executor, "scan", len(results), results)
        kept = len(results)  # (those saved: those found on disk, then those finished)
        for progress in steps:
            if progress.region is not None:  # (the blocks that finished: one, in practice)
                # the last ones in results, which keeps the order they finished in (not a
                # look over the whole to-do list after each block: 10,000 blocks took 3 s)
                for index in itertools.islice(reversed(results), len(results) - kept):
                    _save_stats(folder / f"{run.grid.linear(index)}.npz", results[index])
                kept = len(results)
            yield progress
        segmenter = run.segmenter
        card = _card(segmenter.model, segmenter.name)  # only the card: no torch here
        norm = card.normalization
        low, high = norm.get("low", 1.0), norm.get("high", 99.8)
        invert = bool(norm.get("invert_bright_background"))
        units: dict = {}
        for stats in results.values():
            for unit, channels in stats.items():
                units.setdefault(unit, []).append(channels)
        ranges, constant, volume_blank = [], [], []
        # a blank (constant) frame or slice gets no labels (:meth:`_Run.blank`); a wholly
        # blank input is warned of and gets none at all (0 objects), as in memory
        for unit, parts in sorted(units.items()):
            merged = _merge_stats(parts, low, high, invert, segmenter.invert)
            if blank_channels([m[2] for m in merged], [m[3] for m in merged]):
                constant.append(unit)
            ranges.append([list(unit), merged])
            # a 3D model's blank Z slices: no labels there, post-processed around
            volume_blank += [[unit[0], z] for z in sorted(_blank_slices(parts, every=True))]
        if constant and len(constant) == len(ranges):  # as in memory: 0 objects, warned
            values = {channel[2] for _unit, merged in ranges for channel in merged}
            value = values.pop() if len(values) == 1 else None
            if value is not None and float(value).is_integer():
                value = int(value)  # as in memory: 5, not 5.0, for an integer image
            warn_at_caller(constant_words(run.input_name, value))
        blank_path = Path(run.work) / BLANK_SLICES
        blank_path.with_suffix(".tmp").write_text(json.dumps(volume_blank))
        os.replace(blank_path.with_suffix(".tmp"), blank_path)  # (before ranges.json)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(ranges))
        os.replace(tmp, path)
        shutil.rmtree(folder, ignore_errors=True)  # (ranges.json holds what they gave)
    saved = tuple(
        (tuple(unit), tuple(map(tuple, values))) for unit, values in json.loads(path.read_text())
    )
    changes: dict[str, Any] = {"ranges": saved}
    if any(f.name == "blank_slices" for f in dataclasses.fields(run.segmenter)):
        changes["blank_slices"] = _saved_blank_slices(Path(run.work))
    run = dataclasses.replace(run, segmenter=dataclasses.replace(run.segmenter, **changes))
    if name is not None:
        said = unfamiliar_blocks(run, name)
        if said:  # as in memory: one line, through warnings (the CLI, the napari panel)
            warn_at_caller(said)
    return run


def _saved_blank_slices(work: Path) -> tuple[tuple[int, int], ...]:
    """The blank Z slices of a 3D model's frames the scan found (:data:`BLANK_SLICES`)."""
    path = work / BLANK_SLICES
    if not path.exists():
        return ()
    return tuple((int(t), int(z)) for t, z in json.loads(path.read_text()))
