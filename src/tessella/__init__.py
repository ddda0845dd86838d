"""Tessella: deep-learning instance segmentation for napari, and its Python API.

The napari widgets are reached only through ``napari.yaml`` (this module never imports
them); importing ``tessella`` loads neither torch nor the engine, which each function
imports when it is first used.

Python API
----------
read_image(path, axes=None)
    A TIFF or zarr file, or a folder of frames (``t000.tif ...``) as a movie: its array
    (``.data``), ``.axes``, ``.pixel_size`` (and a folder's ``.frame_numbers``).
segment(image, model=None, axes=None, *, spacing=None, params=None, frames=None, **params)
    Labels of an array or of what ``read_image`` returns (its axes and pixel size used);
    without a model, the bundled ``nuclei2d``; ``frames="A:B"``: frames A to B - 1 of a
    movie only.
segment_steps(image, model, axes, params, ...) and run_steps(steps)
    The same as a generator: progress per window, cancel by closing it; ``run_steps`` (or
    ``StopIteration.value``) gives the result, with ``.labels``, ``.recipe()``,
    ``.instances()`` (worms2d's overlapping objects) and ``.with_params(**params)``: the
    result post-processed again with other parameters, the network not run again.
segment_blockwise(image, out, model, axes, params, **options)
    Bigger than memory: a zarr (a path) block by block into a labels zarr; parameters as
    keywords too, as ``segment``.
segment_blockwise_steps(image, out, model, axes, params, **options)
    The same as a generator of ``BlockProgress`` (parameters as keywords too): close it to
    cancel; run it again with the same settings to resume the blocks done (``.resumed``).
replay(recipe, image, model=None, **params)
    Segment ``image`` as a recipe (a file, or ``result.recipe()``) says, as ``tessella
    segment --recipe``; the recipe's model must have the weights it records.
evaluate(labels_true, labels_pred, ...)
    Scores of arrays against a ground truth, as ``tessella evaluate``.
evaluate_paths(pred, gt, metrics_wanted, ..., per_image=False)
    Scores of label files or folders against their ground truth: what ``tessella evaluate
    PRED GT --json`` writes (``per_image``: each image's too).
models(), model_info(model)
    The models there are, and one model's parameters with their defaults and ranges.
write_labels(path, labels, axes, pixel_size, unit)
    A labels TIFF with its pixel size (integer labels: floats are refused).
measure_objects(labels, image=None, spacing=None, ...)
    A table of the objects (``{column: values}``, for ``pandas.DataFrame``): label, size,
    centroid, bounding box, mean intensity.
train(method, data, out, **options)
    Train or fine-tune a model, as ``tessella train``.
UnknownZSpacingWarning
    What ``segment``, ``segment_steps`` and ``segment_blockwise`` warn (once per input) where
    a 2D boundary model (``em-membranes2d``) segments a ZYX volume of unknown voxel size;
    filter it as any warning.

Examples
--------
>>> import tessella
>>> [name for name in ("segment", "read_image", "evaluate") if name in dir(tessella)]
['segment', 'read_image', 'evaluate']
>>> tessella.model_info("nuclei2d").method
'embedding'
"""

import importlib as _importlib

from ._api import evaluate, evaluate_paths, replay, train

__version__ = "0.1.0"
__all__ = [
    "__version__",
    "UnknownZSpacingWarning",
    "evaluate",
    "evaluate_paths",
    "measure_objects",
    "model_info",
    "models",
    "read_image",
    "replay",
    "run_steps",
    "segment",
    "segment_blockwise",
    "segment_blockwise_steps",
    "segment_steps",
    "train",
    "write_ctc",
    "write_labels",
]

#: name -> (module, attribute) of what is imported when first used
_LAZY = {
    "segment": ("tessella.engine.pipeline", "segment"),
    "segment_steps": ("tessella.engine.pipeline", "segment_steps"),
    "run_steps": ("tessella.engine.progress", "run_steps"),
    "read_image": ("tessella.engine.io", "read_image"),
    "write_labels": ("tessella._api", "write_labels"),
    "write_ctc": ("tessella._api_tracks", "write_ctc"),  # (refusing a name it does not write)
    "segment_blockwise": ("tessella.engine.blockwise", "segment_blockwise"),
    "segment_blockwise_steps": ("tessella._api", "segment_blockwise_steps"),
    "measure_objects": ("tessella.engine.measure", "measure_objects"),
    "models": ("tessella.engine.model_info", "models"),
    "model_info": ("tessella.engine.model_info", "model_info"),
    "UnknownZSpacingWarning": ("tessella.engine.pipeline", "UnknownZSpacingWarning"),
}


def __getattr__(name: str):
    if name in _LAZY:
        module, attribute = _LAZY[name]
        value = getattr(_importlib.import_module(module), attribute)
        globals()[name] = value  # once imported, a plain attribute
        return value
    if name == "engine":  # ``tessella.engine.…`` right after ``import tessella``
        return _importlib.import_module("tessella.engine")
    raise AttributeError(f"module 'tessella' has no attribute {name!r}")


def __dir__() -> list[str]:
    """What Jupyter's tab completion offers: the public API (imported or not yet), the
    engine and the module's dunder names, none of its private ones."""
    dunders = {name for name in globals() if name.startswith("__")}
    return sorted(dunders | set(__all__) | {"engine"})
