"""Train's Compare: the region to compare in, the pair, and the base and new models run and
scored against the labels (:class:`TrainComparing`, a mixin of :class:`.train.TrainWidget`)."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from napari.layers import Image, Labels
from napari.qt.threading import create_worker

from ._layers import find_layer, full_resolution
from ._train_data import REGION_LAYER, training_axes
from ._train_notices import show_error, show_info, show_warning
from ._train_runs import _compare, compare_spacing, compare_z_spacing_note
from ._workers import ThreadWarningsFunctionWorker, ThreadWarningsWorker, close_when_finished

__all__ = ["TrainComparing"]


def _read_and_compare(image, labels, index, axes: str, models: list[str], ignore_label=None, **run):
    """Compare's worker: ``image`` and ``labels`` (at full resolution, not read: a pyramid's
    level 0, labels on disk) cut to ``index`` (``(image index, labels index)``, the drawn
    region; None: whole) and read here, off the GUI thread, then :func:`._train_runs._compare`
    on them (``run``: its ``spacing`` and ``name``)."""
    if index is not None:
        image, labels = image[index[0]], labels[index[1]]
    yield from _compare(np.asarray(image), np.asarray(labels), axes, models, ignore_label, **run)


def _whole_pyramid(name: str, shape: tuple) -> str:
    """Why Compare does not run on the whole of the multiscale (pyramid) image ``name`` of
    level-0 ``shape``: napari shows it a part and a resolution at a time, as the reader opens
    a 2D image too large to read whole (:data:`tessella._io.PYRAMID_PIXELS`); reading all of
    it would take seconds to minutes and running the models on it much longer, with no way
    to stop, so a drawn region is asked for (one around all of it still compares all of it).
    Two lines on the panel's status line."""
    size = "×".join(str(n) for n in shape)
    return (
        f"'{name}' is a pyramid image of {size} pixels, long to segment whole: draw a "
        "region (Draw region), then Compare again"
    )


#: the ``metadata`` key of a layer Compare read from a folder run's held-out file: that
#: file's path (the held-out mask's layer is made of the mask's data, so napari gives it no
#: ``source.path`` of its own; this finds it again at the next Compare)
HELD_OUT_KEY = "tessella_held_out_file"


def _opened_from(viewer, path: Path, kind):
    """The layer of ``kind`` in ``viewer`` opened from the file ``path`` (its
    ``source.path``), or that Compare read from it (its ``metadata[HELD_OUT_KEY]``), if
    any."""
    for layer in viewer.layers:
        if not isinstance(layer, kind):
            continue
        source = getattr(getattr(layer, "source", None), "path", None)
        marked = layer.metadata.get(HELD_OUT_KEY) if isinstance(layer.metadata, dict) else None
        for where in (source, marked):
            try:
                if where and Path(where).resolve() == path.resolve():
                    return layer
            except OSError:
                continue
    return None


def _in_folder(path: Path, folder: Path) -> Path | None:
    """``path`` as a file of ``folder`` (a folder run's data: its ``images/`` files), or None
    where it is not one. Compared as written (absolute, not following links) and resolved:
    a folder whose files are links into a shared store (common) holds them though each
    resolves out of it, and a folder reached through a link holds them though only their
    resolved paths show it; an image opened from the store itself is the folder's file
    that links to it. The path is returned as in the folder: its name, not the link
    target's, is the one the card's ``held_out`` names."""
    written, folder_written = Path(os.path.abspath(path)), Path(os.path.abspath(folder))
    if folder_written in written.parents:
        return written
    try:
        resolved, folder_resolved = path.resolve(), folder.resolve()
        if folder_resolved in resolved.parents:
            return resolved
        return next(
            (
                folder_written / "images" / p.name
                for p in (folder / "images").iterdir()
                if p.resolve() == resolved
            ),
            None,
        )
    except OSError:
        return None


class _HeldOutFiles:
    """A folder run's held-out image and mask files, of which ``image`` or ``labels`` (the
    layers already there, else None) is still to be read: :meth:`TrainComparing.compare`
    reads them in a worker, adds their layers, then compares."""

    def __init__(self, folder: Path, image_path: Path, mask_path: Path, image, labels):
        self.folder, self.image_path, self.mask_path = folder, image_path, mask_path
        self.image, self.labels = image, labels


def _read_held_out(image_path: Path | None, mask_path: Path | None):
    """Compare's worker for a folder run's held-out files, off the GUI thread: the layer data
    tuples of the image as napari's *Open* makes them with tessella's reader (None: not to
    read), and the mask's labels, read whole (None: not to read)."""
    from tessella._io import read_layers
    from tessella.engine.io import read_image

    image = read_layers(image_path) if image_path is not None else None
    mask = None
    if mask_path is not None:
        mask = np.asarray(read_image(mask_path).data)
        mask = mask if mask.dtype.kind in "iu" else mask.astype(np.int32)
    return image, mask


class TrainComparing:
    """Mixin for :class:`.train.TrainWidget`: Compare."""

    # --- comparing --------------------------------------------------------------------------

    def draw_region(self) -> None:
        """Add (or choose) the compare-region layer in rectangle mode."""
        from napari.layers import Shapes

        region = next(
            (x for x in self.viewer.layers if isinstance(x, Shapes) and x.name == REGION_LAYER),
            None,
        )
        if region is None:
            region = self.viewer.add_shapes(
                name=REGION_LAYER, edge_color="cyan", face_color="transparent", edge_width=2
            )
        self.viewer.layers.selection.active = region
        region.mode = "add_rectangle"

    def _region(self, labels_layer: Labels) -> tuple[slice, ...] | None:
        """The labels' index box under the last rectangle of the region layer, if any."""
        from napari.layers import Shapes

        region = next(
            (x for x in self.viewer.layers if isinstance(x, Shapes) and x.name == REGION_LAYER),
            None,
        )
        if region is None or not len(region.data):
            return None
        corners = np.array(
            [labels_layer.world_to_data(region.data_to_world(p)) for p in region.data[-1]]
        )
        box = []
        for axis, n in enumerate(full_resolution(labels_layer).shape):
            if axis < labels_layer.ndim - 2:  # leading axes (Z): keep all
                box.append(slice(None))
                continue
            low = int(np.clip(np.floor(corners[:, axis].min()), 0, n))
            high = int(np.clip(np.ceil(corners[:, axis].max()), 0, n))
            box.append(slice(low, high))
        if any(s.stop is not None and s.stop - s.start < 16 for s in box):
            raise ValueError("the compare region is too small (or outside the image)")
        return tuple(box)

    def _compare_pair(self) -> tuple[Image, Labels] | _HeldOutFiles:
        """The pair Compare runs on: of the Pairs list (with none listed, the pairs the
        model was trained on, while their layers are there), the first the last run did not
        train on (one it held out, or added since), else the first held out in part (a
        volume's slab), else the first: a model scored on an image it trained on looks
        better than it is (:meth:`_trained_on` says which it is). With none, the Image and
        Labels boxes, for a model not trained on layers (a folder run: its held-out file,
        :meth:`_held_out_file_layers`). ValueError when the layers it was trained on are gone
        and no pair is listed: the boxes may pair any image with any labels."""
        listed = [(find_layer(self.viewer, i), find_layer(self.viewer, j)) for i, j in self.pairs]
        trained = [
            (find_layer(self.viewer, i), find_layer(self.viewer, j)) for i, j in self.last_pairs
        ]
        found = [(i, j) for i, j in [*listed, *trained] if i is not None and j is not None]
        if found:  # (min: the first of the least trained on)
            best = min(found, key=lambda pair: self._trained_on(*pair)[0])
            scored = self._trained_on(*best)[0] == 2 and self._held_out_file_layers(True)
            return scored or best  # all trained on: a file of its Hold-out folder, if any
        if self.last_pairs:
            raise ValueError(
                f"the layers '{self.last_model.name if self.last_model else ''}' was trained "
                f"on ({self.last_described}) are gone; add a pair (an image and its labels) "
                "to compare on"
            )
        held = self._held_out_file_layers()  # a folder run: a file it held out
        if held is not None:
            return held  # (or the files to read first)
        image = find_layer(self.viewer, self.image_combo.currentData())
        labels = find_layer(self.viewer, self.labels_combo.currentData())
        if image is None or labels is None:
            raise ValueError("add a pair (an image and its labels) to compare on")
        return image, labels

    def _held_out_file_layers(
        self, val_folder_only: bool = False
    ) -> tuple[Image, Labels] | _HeldOutFiles | None:
        """For a model trained on a folder: the layers of the first image it held out (its
        card's ``held_out``) and of its mask in the folder's ``images/`` and ``masks/``, those
        opened from (or read by Compare from) these files; where one is not there yet, the
        files (:class:`_HeldOutFiles`), which :meth:`compare` reads in a worker and adds
        (the layers it adds are found again at the next Compare). For a model scored on a
        Hold-out folder (``tessella train --val-data``), trained on a folder or on layers,
        the first image of that folder (``val_folder_only``: of that folder or none). None
        where the run was not on a folder or none of its held-out images has a mask file
        there (a time-lapse sequence, a membrane map): the Image and Labels boxes then."""
        from ._train_runs import recorded_data, run_config

        if self.last_model is None:
            return None
        config = run_config(self.last_model)
        kind, where = recorded_data(config)
        val_data = config.get("val_data")
        if isinstance(val_data, str) and val_data:  # every file of it was scored on
            folder = Path(val_data).expanduser()
            held = None
        elif kind != "folder" or val_folder_only:
            return None
        else:
            folder = Path(where).expanduser()
            held = {str(n) for n in (config.get("held_out") or config.get("holdout") or ())}
        try:
            files = sorted(p for p in (folder / "images").iterdir() if p.is_file())
        except OSError:
            return None
        found = next(
            (
                (p, folder / "masks" / p.name)
                for p in files
                if (held is None or p.name in held or p.stem in held)
                and (folder / "masks" / p.name).is_file()
            ),
            None,
        )
        if found is None:
            return None
        image_path, mask_path = found
        image = _opened_from(self.viewer, image_path, Image)
        labels = _opened_from(self.viewer, mask_path, Labels)
        if image is None or labels is None:
            return _HeldOutFiles(folder, image_path, mask_path, image, labels)
        return image, labels

    def _read_held_out_files(self, files: _HeldOutFiles) -> None:
        """Read the held-out files not opened yet in a worker (the status says so), add
        their layers (the image's with its file as its source, as napari's *Open* adds it;
        the mask's marked with its file, :data:`HELD_OUT_KEY`), then :meth:`compare` on them;
        a file that cannot be read is said, and nothing is compared."""
        worker = create_worker(
            _read_held_out,
            files.image_path if files.image is None else None,
            files.mask_path if files.labels is None else None,
            _worker_class=ThreadWarningsFunctionWorker,
            _ignore_errors=True,
            _start_thread=False,
        )
        worker.returned.connect(lambda read: self._on_held_out_read(files, *read))
        worker.errored.connect(lambda exc: self._on_held_out_failed(files, exc))
        worker.warned.connect(lambda args: show_warning(f"Compare: {args[0]}"))
        self.compare_button.setEnabled(False)
        self.status_label.setText(
            f"Compare: reading '{files.image_path.name}' and its mask, held out of the "
            f"training on {files.folder}…"
        )
        self._held_out_worker = worker  # (kept: the worker is not garbage while it reads)
        worker.start()

    def _on_held_out_read(self, files: _HeldOutFiles, image_data, mask) -> None:
        from napari.layers._source import layer_source

        self._held_out_worker = None
        image = files.image
        try:
            if image_data is not None:  # (added as napari's Open adds them: with their source)
                layers: list = []
                with layer_source(path=str(files.image_path), reader_plugin="tessella"):
                    for data, meta, layer_type in image_data:
                        added = getattr(self.viewer, f"add_{layer_type}")(data, **meta)
                        layers += added if isinstance(added, list) else [added]
                image = next((x for x in layers if isinstance(x, Image)), None)
            if mask is not None and image is not None:
                self.viewer.add_labels(
                    mask,
                    name=f"{files.image_path.stem} mask",
                    scale=image.scale[-mask.ndim :],
                    metadata={HELD_OUT_KEY: str(files.mask_path), "path": str(files.mask_path)},
                )
        except Exception as exc:  # (said, and the button given back: not a silent stop)
            self._on_held_out_failed(files, exc)
            return
        if image is None:
            why = f"{files.image_path} was not read as an image"
            show_error(f"Compare: {why}")
            self.status_label.setText(f"Not compared: {why}")
            self.compare_button.setEnabled(True)
            self.compare_finished.emit()
            return
        show_info(
            f"Compare: opened '{image.name}' and its mask, held out of the training on "
            f"{files.folder}"
        )
        self.compare_button.setEnabled(True)
        self._held_out_added = True  # (the next Compare finds them: it does not read again)
        try:
            started = self.compare()  # (it says why not)
        finally:
            self._held_out_added = False
        if not started:
            self.compare_finished.emit()

    def _on_held_out_failed(self, files: _HeldOutFiles, exc: Exception) -> None:
        self._held_out_worker = None
        why = f"cannot open the held-out '{files.image_path.name}' or its mask: {exc}"
        show_error(f"Compare: {why}")
        self.status_label.setText(f"Not compared: {why}")
        self.compare_button.setEnabled(True)
        self.compare_finished.emit()

    def _trained_on(self, image: Image, labels: Labels) -> tuple[int, str]:
        """Whether the last model trained on the pair ``image`` + ``labels``, as a rank
        (0: not, 1: in part, 2: yes) and in the words Compare's status line adds after the
        pair: "held out of training", "trained on, but for its hold-out vol gt[z=8:10]",
        "trained on it: the scores flatter the new model", "not trained on". A model
        trained on a folder: the image opened from one of its files, held out (its card's
        ``held_out``) or not; another image is not from it. "" where its card does not say
        what it trained on."""
        key = (image.unique_id, labels.unique_id)
        flatter = "trained on it: the scores flatter the new model"
        if key in self.last_held:
            whole, names = self.last_held[key]
            if whole:
                return 0, "held out of training"
            return 1, f"trained on, but for its hold-out {', '.join(names)}"
        if key in {tuple(p) for p in self.last_pairs}:
            return 2, flatter
        if self.last_model is None:
            return 0, "not trained on"
        from ._train_runs import recorded_data, run_config

        config = run_config(self.last_model)
        source = getattr(getattr(image, "source", None), "path", None)
        val_data = config.get("val_data")
        if source and isinstance(val_data, str) and val_data:
            if _in_folder(Path(source), Path(val_data).expanduser()) is not None:
                return 0, "of the Hold-out folder it was scored on, not trained on"
        if self.last_pairs:
            return 0, "not trained on"
        kind, where = recorded_data(config)
        if kind != "folder":  # (what it trained on is not known here)
            return 0, ""
        if not source:
            return 0, "not opened from the folder it trained on"
        path = _in_folder(Path(source), Path(where).expanduser())
        if path is None:
            return 0, f"not from the folder it trained on, {Path(where).expanduser()}"
        held = {str(n) for n in (config.get("held_out") or config.get("holdout") or ())}
        if path.name in held or path.stem in held:
            return 0, "held out of training"
        return 2, flatter

    def compare(self) -> bool:
        """Run the base model and the new one on a pair (see :meth:`_compare_pair`), within
        the region drawn in the compare-region layer, if any; add both, score both against
        the labels, and name the image and labels in the status."""
        if self.last_model is None:
            show_info("Compare: train a model first.")
            return False
        try:
            pair = self._compare_pair()
        except ValueError as exc:
            show_error(f"Compare: {exc}")
            self.status_label.setText(f"Not compared: {exc}")
            return False
        if isinstance(pair, _HeldOutFiles):  # read in a worker; then compared
            if self._held_out_added:  # (added, yet not found: not read again and again)
                why = f"the layers read from {pair.image_path} and its mask are not found"
                show_error(f"Compare: {why}")
                self.status_label.setText(f"Not compared: {why}")
                return False
            self._read_held_out_files(pair)
            return True
        image_layer, labels_layer = pair
        axes = training_axes(image_layer, self.last_temporal)
        try:
            box = self._region(labels_layer)
        except ValueError as exc:
            show_error(f"Compare: {exc}")
            return False
        # full resolution (a multiscale layer's data would give its lowest level), not read
        # here: the worker cuts it to the region and reads it (a pyramid's level 0, labels
        # read lazily: a zarr on disk, which may take seconds or more to read)
        image, labels = full_resolution(image_layer), full_resolution(labels_layer)
        models = [str(self.last_model)]
        if self.last_base:
            models.insert(0, self.last_base)
        if box is None and getattr(image_layer, "multiscale", False):
            plane = image.shape[:-1] if image_layer.rgb else image.shape
            why = _whole_pyramid(image_layer.name, plane)
            show_error(f"Compare: {why}")
            self.status_label.setText(f"Not compared: {why}")
            return False
        self._offset = np.zeros(len(labels.shape))
        index = None
        if box is not None:
            spatial = [i for i, a in enumerate(axes) if a in "ZYX"]
            cut = [slice(None)] * len(image.shape)
            for i, s in zip(spatial, box):
                cut[i] = s
            index = (tuple(cut), box)
            self._offset = np.array([s.start or 0 for s in box], float)
        spacing = compare_spacing(image_layer, axes)  # (the layer's scale, as Segment's)
        note = compare_z_spacing_note(image_layer.name, models, axes, spacing)
        if note is not None:  # (once, not once per model)
            show_warning(f"Compare: {note}")
        worker = create_worker(
            _read_and_compare,
            image,
            labels,
            index,
            axes,
            models,
            self.last_ignore_label,
            spacing=spacing,
            name=f"'{image_layer.name}'",
            _worker_class=ThreadWarningsWorker,
            _ignore_errors=True,
            _start_thread=False,
        )
        self.comparison, self._compare_error = {}, None
        close_when_finished(worker)
        worker.yielded.connect(lambda item: self._on_compared(image_layer, item))
        worker.errored.connect(self._on_compare_errored)
        worker.warned.connect(lambda args: show_warning(f"Compare: {args[0]}"))
        worker.finished.connect(self._on_compare_finished)
        self.compare_button.setEnabled(False)
        _rank, trained = self._trained_on(image_layer, labels_layer)
        self._compared = f"'{labels_layer.name}' on '{image_layer.name}'"
        self._compared += f" ({trained})" if trained else ""
        self.status_label.setText(f"Comparing: {self._compared}…")
        self.worker = worker
        worker.start()
        return True

    def _on_compared(self, image_layer: Image, item) -> None:
        model, labels, scores = item
        name = f"{image_layer.name} by {Path(model).name}"
        existing = next((x for x in self.viewer.layers if x.name == name), None)
        if existing is not None:
            self.viewer.layers.remove(existing)
        scale = np.asarray(image_layer.scale[-labels.ndim :])
        translate = np.asarray(image_layer.translate[-labels.ndim :]) + self._offset * scale
        self.viewer.add_labels(
            labels,
            name=name,
            scale=scale,
            translate=translate,
            units=image_layer.units[-labels.ndim :],  # (other units: napari drops them all)
            axis_labels=image_layer.axis_labels[-labels.ndim :],
            opacity=0.6,
        )
        self.comparison[Path(model).name] = scores

    def _kept_base_note(self) -> str:
        """What Compare adds where the new model holds its base's weights unchanged (no
        epoch beat the base: its card's ``training.kept_epoch`` is 0), so that its two
        identical scores are not read as a tie of two models; "" otherwise."""
        from ._train_runs import _read_json

        if self.last_model is None or not self.last_base:
            return ""
        training = _read_json(self.last_model / "card.json").get("training", {})
        if not isinstance(training, dict) or training.get("kept_epoch") != 0:
            return ""
        return (
            f". '{self.last_model.name}' holds the base's weights unchanged (no epoch beat "
            "them), so both score the same"
        )

    def _on_compare_errored(self, exc: Exception) -> None:
        self._compare_error = str(exc)
        show_error(f"Compare failed: {exc}")

    def _on_compare_finished(self) -> None:
        lines = [
            f"{name}: AP(0.5) {s['ap']['0.5']:.3f}, avS {s['avs']:.3f}"
            for name, s in self.comparison.items()
        ]
        error, self._compare_error = self._compare_error, None
        if error is not None:
            lines.append(f"Compare failed: {error}")
        if self.worker is not None and self.worker.abort_requested and error is None:
            lines.append("cancelled")
        text = (
            f"Against {self._compared}: " + "; ".join(lines) + self._kept_base_note()
            if self.comparison
            else "; ".join(lines)
        )
        self.status_label.setText(text or "Compare gave no scores.")
        self.compare_button.setEnabled(True)
        self.compare_finished.emit()
