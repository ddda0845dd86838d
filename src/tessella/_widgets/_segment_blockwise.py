"""The Segment panel's blockwise mode: a run into a zarr on disk, its preview, and what a
cancelled or refused run leaves to resume (a mixin of :class:`.segment.SegmentWidget`; the
preview itself is :class:`._blockwise.BlockwisePreview`).

Its notifications are looked up in this module.
"""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import numpy as np
from napari.qt.threading import create_worker
from napari.utils.notifications import show_error, show_info

from tessella.engine.blockwise._driver import _Estimate  # (the CLI's bar uses it too)

from ._blockwise import (
    BlockwisePreview,
    blockwise_steps,
    default_output,
    folder_problem,
    kept_work,
)
from ._segment_image import _layer_array
from ._segment_outputs import SOURCE_ID_KEY, SOURCE_KEY, _Run, result_name
from ._workers import ThreadWarningsWorker

__all__ = ["EARLIER_SETTINGS", "SegmentBlockwise", "blockwise_input", "time_left"]

#: said in a kept blockwise preview's name while a run with other settings was refused
EARLIER_SETTINGS = "earlier settings"


def blockwise_input(layer, axes: str, scale, units):
    """What a blockwise run reads of ``layer`` (an :class:`~tessella.engine.io.ImageData`):
    its full-resolution array on ``axes``, with the layer's voxel size (``scale`` and
    ``units`` on the axes the labels keep, as :func:`._segment_outputs._spatial_transform`
    gives them: the spacing an in-memory run uses, and the pixel size the zarr keeps, as
    Export writes it), the file napari read it from (the recipe's ``input``) and, where that
    file is an OME-Zarr image whose first level is this array at this voxel size, its
    OME-Zarr layout (the labels are then OME-Zarr labels): what ``tessella segment
    --blockwise`` keeps of a file."""
    from tessella._io import layer_pixel_size
    from tessella.engine.io import ImageData, is_zarr_path, read_image

    array = _layer_array(layer)
    sizes, unit, _ = layer_pixel_size(axes.replace("C", ""), scale, units, [layer.metadata])
    source = getattr(getattr(layer, "source", None), "path", None) or layer.metadata.get("path")
    path = Path(os.path.abspath(source)) if source else None
    ome = None
    if path is not None and sizes and is_zarr_path(path):
        try:
            image = read_image(path, axes)  # (metadata only: zarr is read lazily)
        except Exception:  # moved or unreadable since: a plain zarr array then
            image = None
        if (
            image is not None
            and image.ome is not None
            and image.axes == axes
            and tuple(image.data.shape) == tuple(array.shape)
            and all(np.isclose(image.pixel_size.get(a, np.nan), s) for a, s in sizes.items())
        ):
            ome = image.ome
    return ImageData(array, axes, sizes or {}, unit if sizes else "pixel", path, ome=ome)


def time_left(seconds: float) -> str:
    """A remaining time in words, as rough as an estimate is.

    >>> time_left(42), time_left(170), time_left(5400)
    ('about 42 s left', 'about 3 min left', 'about 1.5 h left')
    """
    if seconds < 90:
        return f"about {max(1, round(seconds))} s left"
    if seconds < 90 * 60:
        return f"about {round(seconds / 60)} min left"
    return f"about {seconds / 3600:.1f} h left"


def unfinished_run(layer) -> tuple[Path, dict, int, int] | None:
    """The unfinished blockwise run of the file napari read ``layer`` from, kept beside
    that file (the panel's default output folder) in any output's work folder
    (``.NAME.zarr.blockwise``, laid out as :mod:`tessella.engine.blockwise` says; its plan
    records the input, a zarr's folder): (output, plan, blocks done, blocks in all), the
    most recent one's; None where there is none (a layer of no file, an array's run)."""
    import json

    from tessella.engine.blockwise import work_dir

    source = getattr(getattr(layer, "source", None), "path", None)
    if not source:
        return None
    path = Path(os.path.abspath(source))
    try:
        folder = default_output(layer).parent
        works = sorted(
            folder.glob(".*.zarr.blockwise"), key=lambda p: p.stat().st_mtime, reverse=True
        )
    except OSError:
        return None
    for work in works:
        try:
            plan = json.loads((work / "plan.json").read_text())
            same = Path(str(plan.get("input", ""))).resolve() == path.resolve()
        except (OSError, ValueError, TypeError):
            continue
        out = work.with_name(work.name[1 : -len(".blockwise")])
        if not same or out.exists() or not (work / "result.zarr").exists():
            continue  # another input's, or finished (its labels moved onto the output)
        if work_dir(out) != work:
            continue
        shape, block = plan.get("shape") or [], plan.get("block") or []
        if len(shape) != len(block) or not all(int(b) > 0 for b in block):
            continue
        total = int(np.prod([-(-int(n) // int(b)) for n, b in zip(shape, block)]))
        done = sum(1 for _ in (work / "blocks").glob("*.npz")) if (work / "blocks").is_dir() else 0
        return out, plan, done, total
    return None


def _scanned_blocks(out: Path) -> int:
    """The blocks whose intensity statistics a scan cut short kept in the work folder of
    the run into ``out`` (laid out as :mod:`tessella.engine.blockwise` says; its
    ``scan/N.npz``), which the next Run does not read again."""
    from tessella.engine.blockwise import work_dir

    folder = work_dir(out) / "scan"
    return sum(1 for _ in folder.glob("*.npz")) if folder.is_dir() else 0


class SegmentBlockwise:
    """Mixin for :class:`.segment.SegmentWidget`: Run in blockwise mode, a refusal for other
    settings, and a cancel that keeps the finished blocks (uses the widget's ``viewer``,
    controls, ``_cards``, ``_run``, ``_preview``, ``_connect`` and ``status_label``)."""

    def _show_default_output(self, layer=None) -> None:
        """Put the blockwise output a Run writes by default in its box
        (:func:`._blockwise.default_output`: beside the layer's file, named after the layer
        and the chosen model, so that another model's run on the image has its own): for a
        newly chosen ``layer`` always, for a newly chosen model only while the box holds the
        default shown (not a name the user typed, nor the free name offered for a result
        there)."""
        new_layer = layer is not None
        if layer is None:
            layer = self.image_layer
            if layer is None or self.blockwise_edit.text() != getattr(self, "_default_out", None):
                return
        card = self._cards.get(self.model_combo.currentData())
        self._default_out = str(default_output(layer, card.name if card is not None else None))
        self.blockwise_edit.setText(self._default_out)
        if new_layer:
            self._say_why_blockwise(layer)
            self._offer_unfinished(layer)

    def _say_why_blockwise(self, layer) -> None:
        """Tick Blockwise for a newly chosen ``layer`` that an in-memory run does not suit
        (:func:`._blockwise.blockwise_reason`, on the axes shown: 8192² pixels or more, or
        more memory than is free), and say why on the status line and in the box's tooltip
        (user test s34/t15: an 8192² slide went in memory unnoticed, 6.2 GiB estimated)."""
        from ._blockwise import blockwise_reason

        axes = self.axes_combo.currentText().strip().upper()
        reason = blockwise_reason(_layer_array(layer), axes)
        self.blockwise_checkbox.setChecked(bool(reason))
        base = self.blockwise_checkbox.toolTip().split("\n\n")[0]
        why = f"\n\nTicked for '{layer.name}': {reason}" if reason else ""
        self.blockwise_checkbox.setToolTip(base + why)
        if reason and self._run is None:  # (a run in progress keeps its status line)
            self.status_label.setText(
                f"'{layer.name}': Blockwise is ticked, {reason}; untick it to segment in memory."
            )

    def _offer_unfinished(self, layer) -> None:
        """A newly chosen ``layer`` whose file has an unfinished blockwise run beside it (a
        run cancelled, perhaps in an earlier napari session, into any output of that
        folder): that run's output, block size, model, tile and TTA are offered, and the
        status says so, so that Run resumes it (user test s32/t9, finding 8: the defaults
        differed and a run with other settings is refused)."""
        found = unfinished_run(layer)
        if found is None:
            return
        out, plan, done, total = found
        segmenter = plan.get("segmenter") or {}
        index = -1
        if isinstance(segmenter, dict) and segmenter.get("model"):
            index = self.model_combo.findData(str(Path(segmenter["model"]).resolve()))
        if index >= 0 and index != self.model_combo.currentIndex():
            self.model_combo.setCurrentIndex(index)  # (its tile and TTA, set again below)
        if isinstance(segmenter, dict):
            if isinstance(segmenter.get("tile"), int):
                self.tile_spin.setValue(segmenter["tile"])
            if isinstance(segmenter.get("tta"), bool):
                self.tta_checkbox.setChecked(segmenter["tta"])
        block = plan.get("block") or []
        axes = plan.get("axes", "")
        spatial = [int(b) for b, a in zip(block, axes) if a in "ZYX"]
        if spatial:
            self.block_spin.blockSignals(True)  # (offered, not the user's choice)
            try:
                self.block_spin.setValue(max(spatial))
            finally:
                self.block_spin.blockSignals(False)
        self.blockwise_checkbox.setChecked(True)
        self._default_out = str(out)
        self.blockwise_edit.setText(str(out))
        size = f"{max(spatial)} px blocks" if spatial else "its blocks"
        self.status_label.setText(
            f"'{layer.name}': an unfinished blockwise run ({done} of {total} blocks done, "
            f"{size}) is in {out}: Run resumes it."
        )

    def _refuse(self, message: str) -> None:
        """Run refused: said in a notification and on the status line, which would still
        show the outcome of the previous run."""
        show_error(f"Segment: {message}")
        self.status_label.setText(message)

    def _start_blockwise(
        self, layer, model, axes, scale, translate, units, params=None, params_from=""
    ) -> None:
        """Run blockwise into the output given, on ``axes`` (the Axes box's, or the
        layer's guessed), with ``params`` (None: the model's; chosen under *Parameters*,
        which ``params_from`` names for the status line, as in memory)."""
        card = self._cards[model]
        if card.window > 1 and not set("TZ") & set(axes):
            # a single 2D image: in memory a one-frame movie (YX labels, no tracks, as the CLI
            # gives); blockwise runs a movie's network pass, stores and linking over T
            self._refuse(
                f"model '{card.name}' segments a single 2D image (axes {axes}) as a one-frame "
                "movie in memory only; blockwise needs a time-lapse (a T axis): untick "
                "'Blockwise into zarr'."
            )
            return
        text = self.blockwise_edit.text().strip()
        if not text:
            self._refuse("give the blockwise output: a .zarr folder.")
            return
        out = Path(text).expanduser()
        if not out.is_absolute():  # (relative to napari's working folder: said in full)
            out = Path(os.path.abspath(out))
            self.blockwise_edit.setText(str(out))
        if not out.name.endswith(".zarr"):
            self._refuse(f"blockwise output '{out}' must be a .zarr folder.")
            return
        problem = folder_problem(out)
        if problem:
            self._refuse(f"blockwise output '{out}': {problem}.")
            return
        if out.exists():  # a finished result: never replaced from here; offer a free name
            free = next(
                candidate
                for i in range(1, 10_000)
                if not (
                    candidate := out.with_name(f"{out.name[: -len('.zarr')]} [{i}].zarr")
                ).exists()
            )
            self.blockwise_edit.setText(str(free))
            message = (
                f"'{out}' holds an earlier result, which is kept; the output is now "
                f"'{free.name}': Run again to write it there (or delete the old one)."
            )
            show_info(f"Segment: {message}")
            self.status_label.setText(message)
            return
        try:  # (before the run is set: a refusal leaves the panel as it was)
            source = blockwise_input(layer, axes, scale, units)  # its voxel size, file, layout
        except ValueError as exc:  # axes typed that do not fit the layer
            self._refuse(f"cannot segment '{layer.name}' blockwise: {exc}.")
            return
        options = {"scale": scale, "translate": translate, "units": units}
        # (the preview names its image: a newer result of that image hides it)
        options["metadata"] = {SOURCE_KEY: layer.name, SOURCE_ID_KEY: layer.unique_id}
        self._run = _Run(
            layer.unique_id,
            layer.name,
            scale,
            translate,
            units,
            False,
            time.perf_counter(),
            params_from=params_from,
        )
        from tessella.engine.blockwise import blockwise_support

        graph = blockwise_support(self._cards[model].method).stitch == "graph"
        shape = tuple(int(n) for n, a in zip(source.data.shape, axes) if a != "C")
        self._label_shape = shape  # (the blocks' cores tile it: the estimate's pixels)
        self._preview = BlockwisePreview(
            self.viewer,
            out,
            result_name(layer.name, "labels", self._cards[model].name),
            options,
            superpixels=graph,
            shape=shape,
        )
        kept = self._preview.layer  # a cancelled run's preview, which this run resumes in
        if kept is not None and kept.unique_id in self._hidden_results:  # hidden by the panel
            self._hidden_results.discard(kept.unique_id)
            kept.visible = True
        worker = create_worker(
            blockwise_steps,
            source,
            out,
            overview=self._preview.overview,  # (a big 2D output's preview, read there)
            model=model,
            axes=axes,
            params=params,
            block=self.block_spin.value(),
            tta=self.tta_checkbox.isChecked(),
            tile=self.tile_spin.value(),
            device=self.device_combo.currentText(),
            invert=self.invert_combo.currentData(),
            name=layer.name,  # (its warnings name the layer, as in memory)
            _worker_class=ThreadWarningsWorker,  # warned: this run's warnings, no others
            _ignore_errors=True,
            _start_thread=False,
        )
        # the time-left estimate of the stage (:class:`_Estimate`), made at its first progress
        self._stage_clock = None
        self._block_clock = None  # (block, time) when progress inside it was first seen
        worker.yielded.connect(self._preview.take)  # (first: the panel's slot shows it)
        self._connect(worker)
        self.progress_bar.setFormat("%v / %m blocks")
        self.progress_bar.setRange(0, 0)
        said = f" {params_from}" if params_from else ""
        self.status_label.setText(f"'{layer.name}': blockwise into {out}{said}…")
        worker.start()

    def _blockwise_status(self, progress) -> str:
        """The status line during a blockwise run: the stage, its count and the time per
        block and an estimate of the time left (:class:`_Estimate`), timed from the first
        block of this run that finished in the stage (until a second one finishes: none), so
        that neither the set-up in the first block (loading the model, adding the preview) nor
        blocks kept from an earlier run are in the rate (the CLI's bar leaves those out too);
        then, inside a block, how far it is ("block 3: slice 37 of 288, 2 min on it")."""
        names = {"scan": "intensity scan", "digest": "checking the result"}
        stage = names.get(progress.stage, progress.stage)
        text = f"'{self._run.name}': {stage}, {progress.done} of {progress.total}"
        if progress.stage == "digest":  # (the finished labels read for their recipe's digest)
            return f"{text} pieces"
        if progress.stage == "levels":  # (OME-Zarr labels: the share of the levels' pixels)
            share = 100 * progress.done // max(progress.total, 1)
            return f"'{self._run.name}': writing lower-resolution levels, {share}%"
        now = time.perf_counter()
        clock = self._stage_clock
        if not isinstance(clock, _Estimate) or not clock.follows(progress):
            pixels = getattr(self, "_label_shape", None) if progress.stage == "segment" else None
            clock = self._stage_clock = _Estimate(progress, pixels)
        finished = getattr(progress, "region", None) is not None
        if finished:
            self._block_clock = None
        if progress.stage == "fingerprint" or progress.done >= progress.total:
            return text
        inside = self._inside_block(progress, now)
        estimate = clock.take(progress, now)
        resumed = getattr(self, "_resumed", 0) if progress.stage == "segment" else 0
        if estimate is None and resumed and progress.done == resumed:  # (as the CLI says it)
            preview = self._preview
            shown = ""
            if preview is not None and preview.opened and preview.layer in self.viewer.layers:
                shown = f", shown in '{preview.layer.name}'"
            return (
                f"'{self._run.name}': resuming: {resumed} of {progress.total} blocks already "
                f"done{shown}{inside}"
            )
        notes = [f"{resumed} resumed"] if resumed else []
        if estimate is not None:
            each, left = estimate
            notes.append(f"{each:.1f} s a block" if each < 10 else f"{each:.0f} s a block")
            notes.append(time_left(left))
        return f"{text} ({', '.join(notes)}){inside}" if notes else f"{text}{inside}"

    def _inside_block(self, progress, now: float) -> str:
        """How far the block being worked on is (the engine's progress inside a block:
        ``progress.block`` and ``progress.inner``), and for how long it has run: so that a
        slow block (minutes on a CPU) is told from a hung run."""
        block = getattr(progress, "block", None)
        if block is None or getattr(progress, "region", None) is not None:
            return ""
        clock = getattr(self, "_block_clock", None)
        if clock is None or clock[0] != block:
            clock = self._block_clock = (block, now)
        elapsed = now - clock[1]
        took = f"{elapsed:.0f} s" if elapsed < 90 else f"{elapsed / 60:.0f} min"
        inner = getattr(progress, "inner", None)
        if inner is None:
            return f"; working on block {block + 1} ({took} on it)"
        return f"; block {block + 1}: {inner.stage} {inner.done} of {inner.total} ({took} on it)"

    def _mark_earlier_preview(self) -> str:
        """A run refused because the unfinished run into its output had other settings: the
        preview a cancelled run kept shows blocks made with those settings, not the panel's.
        It is kept (the user may want to look at them before choosing what to do) and its
        name says so, until a run resumes in it (:meth:`_unmark_earlier_preview`). Returns
        the sentence naming it for the message ("" when none is shown)."""
        preview = self._preview
        if preview is None or preview.opened or not preview.is_preview():
            return ""
        layer = preview.layer
        if layer not in self.viewer.layers:
            return ""
        if not layer.name.endswith(f"{EARLIER_SETTINGS})"):  # "x (blocks so far)" ->
            name = layer.name  # "x (blocks so far, earlier settings)"
            mark = f", {EARLIER_SETTINGS})" if name.endswith(")") else f" ({EARLIER_SETTINGS})"
            layer.name = name.removesuffix(")") + mark
        return f"; its blocks so far are shown in '{layer.name}'"

    def _unmark_earlier_preview(self) -> None:
        """The engine took this run's settings (it resumes in the kept preview): that preview
        shows this run's blocks again."""
        layer = self._preview.layer if self._preview is not None else None
        if layer is None:
            return
        for mark, end in ((f", {EARLIER_SETTINGS})", ")"), (f" ({EARLIER_SETTINGS})", "")):
            if layer.name.endswith(mark):
                layer.name = layer.name.removesuffix(mark) + end
                return

    def _on_aborted(self) -> None:
        stopped = self._stopped_for_removal()  # (its image layer was removed: said first)
        if self._preview is not None:
            preview, self._preview = self._preview, None  # kept: _on_finished leaves it
            name = self._run.name
            said = f"{stopped}; " if stopped else f"'{name}': cancelled; "
            # the image removed: its kept blocks (and their preview layer, as after Cancel)
            # stay, but resume only on the same input (the engine checks its fingerprint)
            again = "Run again"
            if stopped:
                again = f"reopen '{self._removed[1]}' (the same file) and Run again"
            kept = kept_work(preview.out)
            if kept is None:  # while the input was fingerprinted, before the work folder
                preview.discard()
                self.status_label.setText(f"{said}nothing was written.")
                return
            scanned = _scanned_blocks(preview.out)  # (a scan cut short: blocks it read)
            if not kept.anything() and scanned:
                preview.discard()
                n = f"{scanned} block{'s' if scanned != 1 else ''}"
                self.status_label.setText(
                    f"{said}the intensity scan of {n} is kept on disk: {again} to resume it."
                )
                return
            if not kept.anything():  # cancelled in the scan (or the fingerprint before it)
                preview.discard()
                self._empty_work = preview.out  # removed by _on_finished, once closed
                before = "" if stopped else " before any block was segmented"
                self.status_label.setText(
                    f"{said.removesuffix('; ')}{before}; nothing is kept: Run again starts over."
                )
                return
            shown = ""
            if preview.is_preview() and preview.layer in self.viewer.layers:
                shown = f" (shown in '{preview.layer.name}')"
            if kept.segmented:
                n = kept.segmented
                what = f"{n} finished block{'s are' if n != 1 else ' is'} kept on disk{shown}"
            elif kept.predicted:
                n = kept.predicted
                what = (
                    "no block was segmented yet; the network's maps of "
                    f"{n} block{'s are' if n != 1 else ' is'} kept on disk"
                )
            else:
                what = "no block was segmented yet; the intensity scan is kept on disk"
            self.status_label.setText(f"{said}{what}: {again} to resume.")
            return
        said = stopped or f"'{self._run.name}': cancelled"
        self.status_label.setText(f"{said}; no layer was added.")

    def _remove_empty_work(self) -> None:
        """After a run cancelled before it kept anything, and once its generator is closed
        (its lock gone): the work folder holds only the plan, which would refuse a Run with
        other settings for a run that has nothing to resume. (The engine leaves nothing
        behind either when it refuses an input before segmenting.)"""
        out, self._empty_work = self._empty_work, None
        if out is None:
            return
        from tessella.engine.blockwise import work_dir

        kept = kept_work(out)
        if kept is not None and not kept.anything():
            shutil.rmtree(work_dir(out), ignore_errors=True)
