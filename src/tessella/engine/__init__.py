"""Tessella's headless engine: no Qt, no napari, no magicgui (an import contract checks this).

The public Python API is re-exported at the top level, ``tessella`` (see its docstring):
``tessella.segment`` (:func:`tessella.engine.pipeline.segment`), ``segment_steps``,
``run_steps``, ``read_image`` and ``write_labels`` (:mod:`tessella.engine.io`),
``segment_blockwise`` (:mod:`tessella.engine.blockwise`), ``evaluate``
(:mod:`tessella.engine.evaluation`), ``models`` and ``model_info``
(:mod:`tessella.engine.model_info`) and ``train`` (:mod:`tessella.engine.train`). The modules
here are imported by name (``from tessella.engine.io import read_image``); importing this
package imports none of them.
"""

__all__: list[str] = []
