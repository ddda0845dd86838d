"""Labels on disk whose reads are counted (:class:`CountedReads`): the progress bars of the
command line and of Export's writers count and cancel the reads the engine's measures and
writers make. Light on purpose (numpy only at import), so that a widget module can import
it at its top without loading the readers; re-exported by :mod:`tessella.engine.measure`."""

from __future__ import annotations

import numpy as np


class CountedReads:
    """``array`` (labels on disk) whose every read (``[index]``) calls ``tick`` first (a
    progress bar's step, which may raise to cancel): handed to the engine's measures and
    writers that read it a piece at a time, so that their reads are counted. Has the array's
    shape, dtype, ndim and chunks (:func:`~tessella.engine.measure.chunks_of`); reads give
    numpy arrays."""

    def __init__(self, array, tick) -> None:
        self.array = array
        self.tick = tick
        self.shape = tuple(int(n) for n in array.shape)
        self.dtype = array.dtype
        self.ndim = len(self.shape)
        from .measure import chunks_of

        self.chunks = chunks_of(array)

    def __len__(self) -> int:
        return self.shape[0]

    def __getitem__(self, index) -> np.ndarray:
        self.tick()
        return np.asarray(self.array[index])
