"""Blockwise mode of the Segment widget: large or lazy (dask/zarr) layers segmented block by
block into a zarr on disk (:mod:`tessella.engine.blockwise`), shown as the blocks finish."""

from __future__ import annotations

from collections.abc import Generator
from pathlib import Path

import numpy as np

from ._workers import report_runtime_errors

__all__ = ["LARGE_PIXELS", "BlockwisePreview", "blockwise_steps", "is_large"]

LARGE_PIXELS = 8192 * 8192  # layers bigger than this default to blockwise mode


def is_large(data) -> bool:
    """Whether a layer's data is lazy (not a numpy array) or too big to segment in memory."""
    return not isinstance(data, np.ndarray) or int(np.prod(data.shape)) > LARGE_PIXELS


@report_runtime_errors
def blockwise_steps(image, out, **options) -> Generator:
    from tessella.engine.blockwise import segment_blockwise_steps

    return (yield from segment_blockwise_steps(image, out, **options))


def _open_labels(path: Path):
    """The label array of a blockwise output (a zarr array, or OME-Zarr labels' level 0)."""
    import zarr

    node = zarr.open(str(path), mode="r")
    return node if hasattr(node, "shape") else node["0"]


class BlockwisePreview:
    """A labels layer showing a blockwise run: provisional block labels as blocks finish
    (IDs are local to each block until stitching; with ``superpixels``, as for the boundary
    method, the blocks hold superpixels that one agglomeration joins at the end), then the
    final zarr labels."""

    def __init__(self, viewer, out: Path, name: str, options: dict, superpixels: bool = False):
        self.viewer, self.out, self.name, self.options = viewer, Path(out), name, options
        self.superpixels = superpixels
        self.layer = None

    def block_done(self) -> None:
        from tessella.engine.blockwise import work_dir

        if self.layer is None:
            provisional = _open_labels(work_dir(self.out) / "provisional.zarr")
            self.layer = self.viewer.add_labels(
                provisional,
                name=f"{self.name} ({'superpixels' if self.superpixels else 'blocks'} so far)",
                **self.options,
            )
        else:
            self.layer.refresh()

    def finish(self, metadata: dict):
        """Show the finished labels (read lazily from the output zarr); returns the layer."""
        labels = _open_labels(self.out)
        if self.layer is None:
            options = {**self.options, "metadata": {**self.options.get("metadata", {}), **metadata}}
            self.layer = self.viewer.add_labels(labels, name=self.name, **options)
        else:  # the metadata first: widgets that follow the rename read it (Export's recipe)
            self.layer.metadata = {**self.layer.metadata, **metadata}
            self.layer.data = labels
            self.layer.name = self.name
        return self.layer

    def discard(self) -> None:
        """Remove the preview of an unfinished run (its blocks stay on disk to resume)."""
        if self.layer is not None and self.layer in self.viewer.layers:
            self.viewer.layers.remove(self.layer)
        self.layer = None
