"""Tessella's headless engine: no Qt, no napari, no magicgui (an import contract checks this).

The public entry points are :func:`tessella.engine.pipeline.segment` and
:func:`tessella.engine.pipeline.segment_steps`; see :mod:`tessella.engine.pipeline`.
"""
