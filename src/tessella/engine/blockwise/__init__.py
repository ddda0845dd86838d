"""Bigger than memory: segment a zarr array block by block and stitch the labels.

The label array (the input without its C axis) is cut into blocks of ``block`` pixels. Every
block is read with ``halo`` pixels of context on each side, segmented (network and the method's
post-processing) and only its *core* (the block without the halo) is kept. A time axis is never
blocked across: a block is one frame, with no halo along T, and frames are never stitched.

Stages (each yields :class:`BlockProgress`; each resumes where it stopped)
---------------------------------------------------------------------------
1. **scan**: intensity normalisation is global. The pipeline maps the 1st/99.8th percentiles
   of each frame (each slice for slice-wise models) to 0/1; one block would see other
   percentiles, so a pass over the blocks tallies each frame's values (exactly for integer
   pixels; a strided sample of about 2 million pixels for float ones) and every block is
   normalised with its frame's percentiles. A model whose card inverts bright-background
   images gets the frame's median from the same tally, so the whole frame is inverted or not.
2. **segment**: block + halo -> network (tiled, TTA) -> post-processing, with the size filters
   that must see whole objects switched off (:class:`BlockwiseSupport`) -> the core's labels,
   renumbered 1..n, into a provisional array (one chunk per block), then a small record (pixels
   per label, labels near each face), which marks the block done.
3. **stitch**: every (block, label) is a node; edges join the pieces of one object on the two
   sides of a face, edge or corner; connected components of that graph are the objects (so
   chains through many blocks work). Global size filters run on the summed pixel counts.

   - ``"touch"``: labels touching across a face are one object: how connected components are
     computed out of core (dask-image's ``label``); exact whenever each core's foreground
     equals the in-memory one.
   - ``"overlap"``, for methods that separate touching objects: a block also keeps its own
     labels on a strip ``STITCH_DEPTH`` pixels deep inside each neighbour's core (it segmented
     them as halo); two pieces are one object when their IoU over the strips on both sides of
     the face exceeds ``MATCH_IOU``. An object both blocks see whole scores near 1; objects
     that merely touch at the face near 0. It needs a halo larger than the objects: an object
     bigger than the halo may be cut differently by the two blocks and then stays in pieces.
   - ``"graph"``, for methods whose last step is global (the boundary method's agglomeration):
     blocks keep *superpixels*, not objects, with the region graph of their core (contacts,
     their boundary probability and area), the foreground summed per superpixel and the
     boundary values on each face. The stitching joins the pieces of a superpixel cut by a
     face (overlap, as above), adds the contacts across the faces, and runs the method's last
     step (``segmenter.objects``: agglomeration and filters) once on the graph of the whole
     array, as in memory. Memory: the graph (nodes = superpixels), not the pixels.
4. **relabel**: provisional labels -> final consecutive IDs (uint32) in the output, which is
   renamed onto ``out`` only when complete.

What runs per block, what after stitching (:data:`SUPPORT`)
------------------------------------------------------------
- ``embedding``: the clustering (seeds, membership, ``min_size``, ``min_unclustered``) runs per
  block and sees objects up to ``context`` (64 px) whole; pieces are matched by overlap.
  Measured: AP(0.5) >= 0.99 against the in-memory labels on real nuclei.
- ``boundary``: superpixels and the region graph per block (``context`` 128 px: the distance
  map, its seeds and the watershed need about the largest cell radius); the agglomeration,
  ``fg_thresh``, ``min_size`` and ``max_size`` once over the whole graph (``"graph"``). The
  labels equal the in-memory ones, up to renumbering, where every superpixel is smaller than
  the halo (measured on real ISBI membrane maps, clean and noisy).
- ``semantic`` without ``split``: threshold, Z median, opening/closing and hole filling per
  block (``context`` 4 * radius + z_median, at least 16 px), face-connected components joined
  by touch stitching, ``min_size`` after stitching: the same labels as in memory, up to
  renumbering, as long as the holes filled are smaller than the halo. With ``split``, the
  distance watershed runs per block (``context`` at least 32 px) and pieces are matched by
  overlap, as for the embedding.
- ``patches``: the whole assembly per block, ``min_size`` included (``context`` 128 px), pieces
  matched by overlap. The filter runs in the block, as in memory: an instance under
  ``min_size`` is never painted, so it cannot take the pixels of a worm it overlaps (filtered
  after stitching, it left them background), and a worm is measured by its mask, not by the
  pixels the instances painted over it leave. An instance cut by the edge of the block and
  halo is measured by its part inside; a part that reaches the core crosses the whole halo
  (the network's + 128 px), which is more pixels than ``min_size`` asks of a worm.
- A method module may declare its own split with ``BLOCKWISE`` (a dict of
  :class:`BlockwiseSupport` fields, or a function of the parameters), e.g. connected components
  after a threshold: ``BLOCKWISE = {"context": 16, "stitch": "touch", "size_params":
  ("min_size", "")}``.
- ``temporal`` (time-lapse): two passes over the blocks (one frame each). **predict** runs the
  network on the window of frames around the block's frame and stores the core's foreground
  and centre maps (``prediction.zarr``, float32: the only stage that needs torch); **segment**
  reads the stored foreground of the frames within ``ceil(4 * temporal_sigma)`` (the smoothing
  along time) with the spatial halo and segments the frame as in memory (``context`` 64 px),
  pieces matched by overlap, ``min_size`` after stitching. **link** (with ``link``) gathers,
  per block, each cell's pixels and coordinate sums and its overlaps with the same block of
  the next frame; :func:`tracking.link_objects` links the whole movie from these statistics
  (no frame is ever held whole) and the final IDs are track IDs, with the divisions in the
  result's ``tessella`` attributes (``lineage``: [[child, parent], ...]). Frames are never
  stitched to each other: only linked.
- A blank (constant) frame, or slice for slice-wise models, of an input that is not blank as a
  whole gets no labels, as in memory. Every method runs on it as in memory (a blank slice
  is left out of a slice-wise model's 3D post-processing, each block's runs of the other
  slices post-processed on their own, so the boundary graph has no superpixel there and no
  object reaches across it; the time-lapse linking sees a blank frame's cells); its pixels
  are cleared when relabelled, and an object (track) left with no pixels gets no ID; a track
  that crosses a blank frame goes on after it as a new track whose parent is the one before.
- OME-Zarr input whose axes include singletons (a 2D image stored (1, 1, 1, Y, X) as t, c, z,
  y, x) is read without them, as in memory; the labels have the axes it was read with.

Resuming and cancelling
-----------------------
Until the end, everything lives in ``.<out name>.blockwise/`` beside ``out``
(:func:`work_dir`): ``plan.json`` (the settings: a re-run with others is refused unless
``overwrite``), ``ranges.json`` (the scan), the provisional array, one record per finished block,
the stitching table and one marker per relabelled block. A block writes its chunk first and its
record last (atomically), so after a failure (a full disk, a killed worker, Ctrl-C) every
finished block is kept and the same call resumes, only on the same pixels: a first stage,
``fingerprint``, puts what stands for them in the plan. A zarr input (a path, or a zarr array
in a local folder) is known by the sizes and modification times of its chunk files and its
array metadata, so a chunk rewritten in place is noticed without reading a pixel (one
``stat`` per chunk file: 0.23 s for a 32768² image in 16384 chunks of 256²); a numpy array's
pixels are hashed block by block (sha256, about 0.1 s per 128 MiB); a dask array is known by
its ``name`` and the chunk files of the local zarr arrays its graph reads (``from_zarr``; over
other files, by its name alone); any other array is never resumed. An input whose pixels
differ from the unfinished run's, other settings being the same, starts again with a
:class:`StartedAgainWarning` (naming a zarr input's folder); other settings are refused. See
``_identity.py`` for what goes unnoticed and why blocks are not hashed as they are read.
"""

from __future__ import annotations

from ._convert import to_chunked_zarr
from ._driver import (
    DEFAULT_BLOCK,
    default_block,
    label_blocks_steps,
    segment_blockwise,
    segment_blockwise_steps,
)
from ._grid import BlockGrid, block_grid
from ._run import BlockProgress, BlockwiseResult, default_workers, open_executor
from ._segmenters import FunctionSegmenter, ModelSegmenter
from ._store import StartedAgainWarning, work_dir
from ._support import SUPPORT, BlockwiseSupport, blockwise_support
from ._temporal import TemporalSegmenter

__all__ = [
    "DEFAULT_BLOCK",
    "SUPPORT",
    "BlockGrid",
    "BlockProgress",
    "BlockwiseResult",
    "BlockwiseSupport",
    "FunctionSegmenter",
    "ModelSegmenter",
    "StartedAgainWarning",
    "TemporalSegmenter",
    "block_grid",
    "blockwise_support",
    "default_block",
    "default_workers",
    "label_blocks_steps",
    "open_executor",
    "segment_blockwise",
    "segment_blockwise_steps",
    "to_chunked_zarr",
    "work_dir",
]
