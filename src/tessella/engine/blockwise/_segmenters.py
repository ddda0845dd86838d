"""Block segmenters: any function (:class:`FunctionSegmenter`) or a model (:class:`ModelSegmenter`),
which loads its network once per worker process."""

from __future__ import annotations

import functools
from collections.abc import Callable, Generator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..normalize import blank_channels, percentile_scale
from ..progress import Progress


@dataclass(frozen=True)
class FunctionSegmenter:
    """A block segmenter from ``function(image, axes, origin) -> labels`` (labels: the image's
    shape without C; ``origin``: where the block starts in the label array). Use a module-level
    function to run on workers.

    For ``"graph"`` stitching, ``function`` returns a dict like the boundary method's
    ``block_graph`` (``superpixels``, ``boundary``, ``foreground`` or None, ``spacing``) and
    ``objects(edges, mean_p, size, pixels, fg_sum)`` gives the object of every superpixel of
    the whole graph (0 = dropped), like its ``objects_from_graph``.
    """

    function: Callable
    objects: Callable | None = None

    def steps(self, image, axes, origin) -> Generator[Progress, None, np.ndarray]:
        return self.function(image, axes, origin)
        yield  # a generator with nothing to report

    def fingerprint(self) -> str:
        function: Any = self.function
        bound = ""
        if isinstance(function, functools.partial):  # stable across processes, unlike repr
            function, bound = function.func, f"{function.args!r}{function.keywords!r}"
        name = getattr(function, "__qualname__", type(function).__qualname__)
        return f"{getattr(function, '__module__', '')}.{name}{bound}"


_MODELS: dict[tuple[str, str], Any] = {}


_RUNNER: dict[str, Any] = {}


def _model(path: str, sha256: str, name: str = ""):
    """The model at ``path`` (else the model called ``name``: a worker elsewhere may have the
    bundled models at another path), loaded and hash-checked once per process."""
    from ..registry import ModelError, load_model

    key = (path, sha256)
    if key not in _MODELS:
        model = load_model(_model_ref(path, name))
        if model.card.sha256 != sha256:
            raise ModelError(f"model {path} changed since the run started (sha256 differs)")
        _MODELS.clear()
        _MODELS[key] = model
    return _MODELS[key]


def _model_ref(path: str, name: str = "") -> str:
    """``path`` where it is a model folder here, else the model's ``name``."""
    return path if Path(path).is_dir() or not name else name


def _card(path: str, name: str = ""):
    """The card of the model at ``path`` (else called ``name``), without loading weights."""
    from ..registry import find_model, read_card

    return read_card(find_model(_model_ref(path, name)))


def _slicewise(axes: str, model) -> bool:
    """A 2D model of a ``SLICEWISE_3D`` method on a ZYX volume (as the pipeline decides)."""
    from ..methods import get_method

    spatial = "".join(a for a in axes if a in "ZYX")
    method = get_method(model.card.method)
    return bool(getattr(method, "SLICEWISE_3D", False)) and (
        model.card.spatial_axes == "YX" and spatial == "ZYX"
    )


def _runner(model, device: str, tta: bool):
    """A network runner; the prepared network is kept for the next block."""
    from ..device import execution_plan
    from ..inference import NetworkRunner, prepare_network
    from ..methods import get_method

    method = get_method(model.card.method)
    plan = execution_plan(device)
    key = (str(model.path), model.card.sha256, plan)
    if _RUNNER.get("key") != key:
        _RUNNER.clear()
        _RUNNER.update(key=key, network=prepare_network(model.network, plan))
    ndim = len(model.card.spatial_axes)
    activate = method.activate
    return NetworkRunner(
        _RUNNER["network"], plan, lambda raw: activate(raw, ndim), method.OUTPUT_KINDS, ndim, tta
    )


def _units(block: np.ndarray, axes: str, origin, model):
    """(unit, part, part axes) per normalisation unit in a block: one per frame, or per slice
    for slice-wise models; ``unit`` is (t, z) in the label array, -1 where not applicable."""
    label_axes = axes.replace("C", "")
    t = origin[label_axes.index("T")] if "T" in axes else -1
    frame = block[0] if "T" in axes else block
    frame_axes = axes.replace("T", "")
    if not _slicewise(axes, model):
        return [((t, -1), frame, frame_axes)]
    z0 = origin[label_axes.index("Z")]
    slices = np.moveaxis(frame, frame_axes.index("Z"), 0)
    return [((t, z0 + k), part, frame_axes.replace("Z", "")) for k, part in enumerate(slices)]


def _model_layout(part, part_axes, card) -> np.ndarray:
    from ..axes import to_model_layout

    rgb = card.input.get("rgb", "mean")
    return to_model_layout(part, part_axes, card.spatial_axes, card.channels, rgb)


@dataclass(frozen=True)
class ModelSegmenter:
    """Segments one block with a model: the scan's (global) normalisation, the tiled network
    (TTA), then the method's post-processing. Picklable: workers load the model from ``model``.

    ``ranges``: per normalisation unit ``(t, z)``, per channel ``(low, high, min, max, inverted)``.
    """

    model: str  # the model directory
    sha256: str
    params: Any
    tta: bool
    tile: int
    device: str = "auto"
    spacing: tuple[float, ...] | None = None
    ranges: tuple = ()
    threads: int | None = None  # torch threads in this process (1 in workers)
    name: str = ""  # the model's name, where ``model`` is not found on a worker
    graph: bool = False  # return the block's superpixel graph ("graph" stitching)
    invert: bool | None = None  # None: the card's rule decides per frame (slice) at the scan
    #: a 3D model's blank Z slices ``(t, z)`` the scan found (every channel constant over the
    #: whole slice): they get no labels and the post-processing goes around them, as in memory
    blank_slices: tuple = ()

    def fingerprint(self) -> dict:
        from ..params import params_to_dict

        fields = ("model", "sha256", "tta", "tile", "spacing", "graph")
        found = {k: getattr(self, k) for k in fields} | {"params": params_to_dict(self.params)}
        return found if self.invert is None else found | {"invert": self.invert}

    def network(self):
        """``(model, predict)``: the model, loaded once per process, and ``predict(data)``, a
        generator running the tiled network (TTA as asked) on normalised ``(C, *spatial)``."""
        if self.threads:
            import torch

            torch.set_num_threads(self.threads)
        model = _model(self.model, self.sha256, self.name)
        runner = _runner(model, self.device, self.tta)
        ndim = len(model.card.spatial_axes)
        halo = (int(model.card.defaults.get("halo", 32)),) * ndim
        multiple = getattr(model.network, "multiple", 1)
        return model, lambda data: runner.predict(data, (self.tile,) * ndim, halo, multiple)

    def steps(self, image, axes, origin) -> Generator[Progress, None, np.ndarray]:
        from ..methods import Prediction
        from ..pipeline import postprocess

        model, predict = self.network()
        card = model.card
        ranges = dict(self.ranges)
        outputs, blank = [], []
        for unit, part, part_axes in _units(image, axes, origin, model):
            data = _normalize(_model_layout(part, part_axes, card), ranges[unit])
            outputs.append((yield from predict(data)))
            values = ranges[unit]  # (low, high, min, max, inverted) per channel
            blank.append(blank_channels([v[2] for v in values], [v[3] for v in values]))
        if len(outputs) > 1 or _slicewise(axes, model):  # slices -> (C, Z, Y, X)
            arrays = {name: np.stack([o[name] for o in outputs], axis=1) for name in outputs[0]}
            spatial = "Z" + card.spatial_axes
        else:
            arrays, spatial = outputs[0], card.spatial_axes
        meta = dict(card.method_args)
        if hasattr(model.network, "decoder_weights"):  # patches: the codes' decoder
            meta["decoder"] = model.network.decoder_weights()
        if self.spacing is not None:
            meta["spacing"] = self.spacing
        if any(blank) and _slicewise(axes, model):  # post-processed around, as in memory
            meta["blank_slices"] = [k for k, b in enumerate(blank) if b]
        elif self.blank_slices and spatial[0] == "Z" and not any(blank):  # a 3D model's
            meta["blank_slices"] = _block_slices(self.blank_slices, axes, origin, arrays)
            if not meta["blank_slices"]:
                del meta["blank_slices"]
        prediction = Prediction(arrays, spatial, meta)
        if self.graph:  # blank slices get no superpixels; a blank frame is cleared when relabelled
            graph = _method(card.method).block_graph(prediction, self.params)
            if "T" in axes:  # one frame: a T axis of length 1 in front
                graph = {k: v[None] if isinstance(v, np.ndarray) else v for k, v in graph.items()}
                graph["spacing"] = (1.0, *graph["spacing"])
            return graph
        labels = postprocess(model, [prediction], self.params)
        if any(blank):  # a blank frame or slice (constant in the whole input): no labels
            if len(blank) == 1:
                labels = np.zeros_like(labels)
            else:
                labels = labels.copy()
                labels[np.flatnonzero(blank)] = 0
        return labels[None] if "T" in axes else labels

    def objects(self, edges, mean_p, size, pixels, fg_sum) -> np.ndarray:
        """The method's last step on the superpixel graph of the whole array."""
        method = _method(_card(self.model, self.name).method)
        return method.objects_from_graph(edges, mean_p, size, pixels, fg_sum, self.params)


def _block_slices(blank: tuple, axes: str, origin, arrays: dict) -> list[int]:
    """The Z slices of a 3D model's block (at ``origin``, its outputs ``arrays``) among the
    frame's ``blank`` ``(t, z)``, counted from the block's first slice."""
    label_axes = axes.replace("C", "")
    t = origin[label_axes.index("T")] if "T" in label_axes else -1
    z0 = origin[label_axes.index("Z")]
    depth = next(iter(arrays.values())).shape[1]
    return sorted(z - z0 for bt, z in blank if bt == t and z0 <= z < z0 + depth)


def _method(name: str):
    from ..methods import get_method

    return get_method(name)


def _normalize(data: np.ndarray, values) -> np.ndarray:
    """:func:`~tessella.engine.normalize.normalize` with given per-channel (low, high, min,
    max, inverted) from the scan (``inverted``: a bright background, flipped to ``1 - x``;
    scans from before it have four values)."""
    out = np.empty(data.shape, dtype=np.float32)
    for c, (low, high, vmin, vmax, *inverted) in enumerate(values):
        np.subtract(data[c], np.float64(low), out=out[c], casting="unsafe")
        out[c] /= percentile_scale(low, high, vmin, vmax)
        if inverted and inverted[0]:
            np.subtract(1.0, out[c], out=out[c])
    return out
