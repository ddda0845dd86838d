"""The Segment panel's blockwise mode: a run into a zarr on disk, its preview, and what a
cancelled or refused run leaves to resume (a mixin of :class:`.segment.SegmentWidget`; the
preview itself is :class:`._blockwise.BlockwisePreview`).

Its notifications are looked up in this module.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

from napari.qt.threading import create_worker
from napari.utils.notifications import show_error, show_info

from ._blockwise import BlockwisePreview, blockwise_steps, folder_problem, kept_work
from ._segment_image import _layer_array, guess_layer_axes
from ._segment_outputs import _Run
from ._workers import ThreadWarningsWorker

__all__ = ["EARLIER_SETTINGS", "SegmentBlockwise"]

#: said in a kept blockwise preview's name while a run with other settings was refused
EARLIER_SETTINGS = "earlier settings"


class SegmentBlockwise:
    """Mixin for :class:`.segment.SegmentWidget`: Run in blockwise mode, a refusal for other
    settings, and a cancel that keeps the finished blocks (uses the widget's ``viewer``,
    controls, ``_cards``, ``_run``, ``_preview``, ``_connect`` and ``status_label``)."""

    def _refuse(self, message: str) -> None:
        """Run refused: said in a notification and on the status line, which would still
        show the outcome of the previous run."""
        show_error(f"Segment: {message}")
        self.status_label.setText(message)

    def _start_blockwise(self, layer, model, axes, scale, translate, units) -> None:
        card = self._cards[model]
        given = axes or guess_layer_axes(layer)
        if card.window > 1 and not set("TZ") & set(given):
            # a single 2D image: in memory a one-frame movie (YX labels, no tracks, as the CLI
            # gives); blockwise runs a movie's network pass, stores and linking over T
            self._refuse(
                f"model '{card.name}' segments a single 2D image (axes {given}) as a one-frame "
                "movie in memory only; blockwise needs a time-lapse (a T axis): untick "
                "'Blockwise into zarr'."
            )
            return
        text = self.blockwise_edit.text().strip()
        if not text:
            self._refuse("give the blockwise output: a .zarr folder.")
            return
        out = Path(text).expanduser()
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
        options = {"scale": scale, "translate": translate, "units": units}
        self._run = _Run(
            layer.unique_id, layer.name, scale, translate, units, False, time.perf_counter()
        )
        from tessella.engine.blockwise import blockwise_support

        graph = blockwise_support(self._cards[model].method).stitch == "graph"
        self._preview = BlockwisePreview(
            self.viewer, out, f"{layer.name} labels", options, superpixels=graph
        )
        worker = create_worker(
            blockwise_steps,
            _layer_array(layer),
            out,
            model=model,
            axes=axes or None,
            block=self.block_spin.value(),
            tta=self.tta_checkbox.isChecked(),
            tile=self.tile_spin.value(),
            device=self.device_combo.currentText(),
            invert=self.invert_combo.currentData(),
            _worker_class=ThreadWarningsWorker,  # warned: this run's warnings, no others
            _ignore_errors=True,
            _start_thread=False,
        )
        self._connect(worker)
        self.progress_bar.setFormat("%v / %m blocks")
        self.progress_bar.setRange(0, 0)
        self.status_label.setText(f"'{layer.name}': blockwise into {out}…")
        worker.start()

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
        if self._preview is not None:
            preview, self._preview = self._preview, None  # kept: _on_finished leaves it
            name = self._run.name
            kept = kept_work(preview.out)
            if kept is None:  # while the input was fingerprinted, before the work folder
                preview.discard()
                self.status_label.setText(f"'{name}': cancelled; nothing was written.")
                return
            if not kept.anything():  # cancelled in the scan (or the fingerprint before it)
                preview.discard()
                self._empty_work = preview.out  # removed by _on_finished, once closed
                self.status_label.setText(
                    f"'{name}': cancelled before any block was segmented; nothing is kept: "
                    "Run again starts over."
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
            self.status_label.setText(f"'{name}': cancelled; {what}: Run again to resume.")
            return
        self.status_label.setText(f"'{self._run.name}': cancelled; no layer was added.")

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
