"""Whether a blockwise run's input looks like the model's training images: the in-memory
check (:mod:`~tessella.engine.pipeline._input_check`, the card's ``input_statistics``) on a
bounded sample of the input, once, after the scan and before any block is segmented.

The sample is read through the run's own normalisation (the scan's percentiles, and
inversion, of each frame or slice, :func:`._segmenters._normalize`): of each part judged (the
first frame or slice that is not blank, the middle one and the last, as in memory:
:meth:`~tessella.engine.pipeline._input_check.PartsJudge.picks`) at most :data:`WINDOWS`
windows of at most :data:`WINDOW_PIXELS` pixels each, one in the middle of each of
:data:`WINDOWS` blocks spread over it; the check then takes its usual sample of them. A
time-lapse model's frame is judged alone (the bundled cards' ranges are of single frames),
not with the window of frames around it that its network reads.
"""

from __future__ import annotations

import itertools
from types import SimpleNamespace

import numpy as np

from ..pipeline._input_check import PartsJudge
from ._run import _Run, blank_units
from ._segmenters import _card, _model_layout, _normalize, _units

#: blocks of a part judged that a window is read from (spread over the part)
WINDOWS = 4
#: the pixels of one window at most (1024 x 1024 in 2D, 101^3 in 3D)
WINDOW_PIXELS = 2**20


def unfamiliar_blocks(run: _Run, name: str) -> str:
    """The in-memory warning (one line, naming ``name``) where the normalised input of
    ``run`` (scanned: its segmenter has ``ranges``) looks unlike the images its model was
    trained on; "" where it does not, or where the card records no range."""
    segmenter = run.segmenter
    card = _card(segmenter.model, segmenter.name)  # (no weights, no torch here)
    units = [tuple(unit) for unit, _ in segmenter.ranges]  # (t, z), in order
    ranges = {tuple(unit): values for unit, values in segmenter.ranges}
    frames, slices = any(t >= 0 for t, _ in units), any(z >= 0 for _, z in units)
    kind = "parts" if frames and slices else "frames" if frames else "slices"
    judge = PartsJudge(card, name, len(units), kind)
    blank = blank_units(segmenter)
    # a 3D model's blank Z slices (the scan's), by frame: left out, as in memory
    sections: dict[int, set[int]] = {}
    for t, z in getattr(segmenter, "blank_slices", ()):
        sections.setdefault(int(t), set()).add(int(z))
    label_axes = run.axes.replace("C", "")
    depth = run.grid.shape[label_axes.index("Z")] if "Z" in label_axes else 0
    for index in judge.picks({i for i, unit in enumerate(units) if unit in blank}):
        t, z = unit = units[index]
        where = [f"frame {t}"] if t >= 0 else []
        where += [f"slice {z}"] if z >= 0 else []
        left_out = sections.get(t, set()) if z < 0 else set()
        if depth and len(left_out) >= depth:  # every slice blank: said so, as in memory
            judge.see(index, ", ".join(where), np.zeros((1, 1, 1, 1)), blank=[0])
            continue
        sample = _sample(run, card, unit, ranges[unit], left_out)
        if sample.shape[1]:  # (every window of it in blank slices: not judged)
            judge.see(index, ", ".join(where), sample)
    return judge.verdict()


def _sample(run: _Run, card, unit: tuple[int, int], values, blank=frozenset()) -> np.ndarray:
    """The normalised network input (``(C, pixels)``) of up to :data:`WINDOWS` windows of the
    part ``unit`` (``(t, z)``, -1 where not applicable) of ``run``'s input, without the Z
    slices ``blank`` (a 3D model's blank slices, in the input's Z): none where every window
    lies in them."""
    t, z = unit
    label_axes = run.axes.replace("C", "")
    grid = run.grid
    fixed = {"T": t} | ({"Z": z} if z >= 0 else {})  # (z >= 0: a slice-wise model's slice)
    free = [i for i, a in enumerate(label_axes) if a not in fixed]
    counts = [-(-grid.shape[i] // grid.block[i]) for i in free]
    cells = list(itertools.product(*(range(n) for n in counts)))
    chosen = sorted({int(round(k)) for k in np.linspace(0, len(cells) - 1, WINDOWS)})
    edge = int(WINDOW_PIXELS ** (1 / len(free)) + 1e-9)
    model = SimpleNamespace(card=card)  # what _units asks of a model (slice-wise or not)
    parts = []
    for cell in (cells[k] for k in chosen):
        region, at = [], dict(zip(free, cell))
        for i, axis in enumerate(label_axes):
            if axis in fixed:
                region.append(slice(fixed[axis], fixed[axis] + 1))
                continue
            start = at[i] * grid.block[i]
            size = min(grid.block[i], grid.shape[i] - start)
            width = min(size, edge)
            start += (size - width) // 2  # the middle of the block's core
            region.append(slice(start, start + width))
        block = run.read(tuple(region))
        origin = tuple(s.start for s in region)
        ((_, part, part_axes),) = _units(block, run.axes, origin, model)
        data = _normalize(_model_layout(part, part_axes, card), values)
        if blank and "Z" in label_axes and data.ndim == 4:  # (C, Z, Y, X): a 3D model's
            zs = region[label_axes.index("Z")]
            data = data[:, [k for k in range(data.shape[1]) if zs.start + k not in blank]]
        parts.append(data.reshape(len(data), -1))
    return np.concatenate(parts, axis=1)
