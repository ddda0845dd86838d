"""Starting a Train run: the checks, the samples, the run's settings and its thread worker
(:class:`TrainStarting`, a mixin of :class:`.train.TrainWidget`)."""

from __future__ import annotations

import time
from dataclasses import replace
from pathlib import Path

from napari.layers import Image, Labels
from napari.qt.threading import create_worker

from ._layers import find_layer
from ._train_data import (
    HOLDOUT_FRACTION,
    NEW,
    _selectors,
    binary_layers_refusal,
    layer_samples,
)
from ._train_notices import show_error, show_info, show_warning
from ._train_requests import (
    channels_in_words,
    refuse_missing_layers,
    refuse_other_data,
    refuse_unwritable,
    refuse_val_folder,
    samples_in_words,
)
from ._train_runs import (
    LAYERS,
    _Run,
    _train,
    ema_decay,
    held_pairs,
    recorded_data,
    run_config,
    stopped_run,
    trained_seconds,
)
from ._workers import ThreadWarningsWorker, caught_warnings_of_this_thread, close_when_finished

__all__ = ["TrainStarting"]


def _command(config, folder: Path | None, layers: str, pairs=()) -> str:
    """What the card records as the command of the panel's run ``config``: on a
    ``folder``, the ``tessella train`` command that runs it the same way; on ``layers``
    (``pairs`` of image and labels layers), the layers, the files they were opened from (a
    layer may have been edited since) and those in no file, and that command for them saved
    as files."""
    from tessella.engine.train._config import equivalent_command

    if folder is not None:
        return equivalent_command(config, str(folder))
    opened, unsaved = [], []
    for layer in dict.fromkeys(layer for pair in pairs for layer in pair):
        path = getattr(getattr(layer, "source", None), "path", None)
        if path:
            opened.append(f"'{layer.name}' {path}")
        else:
            unsaved.append(f"'{layer.name}'")
    files = f"opened from files: {', '.join(opened)}; " if opened else ""
    if unsaved:
        files += f"in no file (made in napari; the card does not keep them): {', '.join(unsaved)}; "
    return (
        f"napari Train widget on layers {layers}; {files}with each pair saved as "
        "FOLDER/images/NAME.tif and FOLDER/masks/NAME.tif (NAME: the labels layer's name), "
        f"the same run is: {equivalent_command(config, 'FOLDER')}"
    )


def _score_words(method: str) -> str:
    """``method``'s validation score in words ("AP(0.5)"), "" where it has none."""
    from tessella.engine.train.methods import score_in_words

    try:
        return score_in_words(method)
    except (KeyError, ValueError):
        return ""


class TrainStarting:
    """Mixin for :class:`.train.TrainWidget`: :meth:`start`."""

    # --- training ---------------------------------------------------------------------------

    def _chosen_pairs(self) -> list[tuple[Image, Labels]]:
        ids = self.pairs or [(self.image_combo.currentData(), self.labels_combo.currentData())]
        pairs = [(find_layer(self.viewer, i), find_layer(self.viewer, j)) for i, j in ids]
        return [(i, j) for i, j in pairs if i is not None and j is not None]

    def _out_dir(self, name: str) -> Path:
        from tessella.engine.registry import user_model_dirs

        return user_model_dirs()[0] / name

    def start(self, resume: bool = False) -> bool:
        """Train on the chosen pairs; False (with a message) when the request is not valid.
        ``resume``: continue the stopped run of the model named in Save as (see
        :meth:`resume`)."""
        from tessella.engine.methods import get_method
        from tessella.engine.registry import load_model, name_taken_note
        from tessella.engine.train._checkpoint import resumed_settings
        from tessella.engine.train._worded import in_words  # (the engine's, in the panel's words)
        from tessella.engine.train.data import apply_ignore_label, split_holdout
        from tessella.engine.train.loop import TrainConfig, training_normalization
        from tessella.engine.train.methods import get_training
        from tessella.engine.train.overlapping import as_overlapping, load_overlapping_pairs
        from tessella.engine.train.timelapse import load_timelapse_samples

        if self._run is not None:
            show_info("Train: a run is in progress; cancel it first.")
            return False
        name = self.name_edit.text().strip()
        base = self.base_combo.currentData() or ""
        folder = self.folder_edit.text().strip()
        # the folder in full (a relative one is napari's working folder's): the card records
        # it so, Resume finds it from anywhere, and the loaders read that one
        where = Path(folder).expanduser().resolve() if folder else None
        pairs = [] if folder else self._chosen_pairs()
        layers = ", ".join(f"{i.name} + {j.name}" for i, j in pairs)
        said: list[str] = []  # the warnings said of the data before the run starts
        try:
            if not pairs and not folder:
                raise ValueError("add a pair of image and labels layers, or give a folder")
            if not name or any(c in name for c in "/\\:") or name.startswith("."):
                raise ValueError(f"'{name}' is not a usable model name")
            out = self._out_dir(name)
            stopped = stopped_run(out)
            if out.exists() and not (resume and stopped):
                raise ValueError(
                    f"a model '{name}' exists in {out.parent}"
                    + (
                        f" (its run stopped {stopped}): Resume continues it, or choose another name"
                        if stopped
                        else f"; choose another name (e.g. {self._free_name(name)})"
                    )
                )
            saved: dict = {}  # a resumed run's settings (its checkpoint's)
            if resume:  # on the data it trained on, or not at all
                refuse_other_data(name, recorded_data(run_config(out)), folder, layers)
                saved = resumed_settings(out) or {}
            # files the run left out of its folder (tessella train --exclude): left out again
            exclude = tuple(map(str, saved.get("exclude") or ()))
            typed = _selectors(self.holdout_edit.text())
            # a separate folder to score on (tessella train --val-data); a resume on the folder
            # its run was scored on names it as its checkpoint does (a command's: as typed)
            recorded = (run_config(out).get("val_data"), saved.get("val_data")) if resume else ()
            val_folder, val_data = refuse_val_folder(
                self.val_folder_edit.text().strip(), typed, where, recorded
            )
            # the hold-out the resumed run drew at random (not put in the field): the same
            # again, unless the user typed one (a proposal of the panel's is no choice)
            drawn = self._drawn_holdout[1] if resume and self._drawn_holdout[0] == out else ()
            if typed and self.holdout_edit.text().strip() != self._auto_holdout:
                drawn = ()
            holdout = drawn or typed
            invert = self.invert_check.isChecked()
            window = 3  # a new time-lapse model's frames per window (TrainConfig's default)
            if base.startswith(NEW):
                method, ndim, base_path = base[len(NEW) :], 2, None
                norm = training_normalization(None, invert)
            else:
                card = load_model(base).card
                method, ndim, base_path = card.method, len(card.spatial_axes), base
                norm = training_normalization(card.raw, invert)
                window = int(card.raw.get("input", {}).get("window", window))
            temporal = bool(getattr(get_method(method), "TEMPORAL", False))
            ignore_label = self.ignore_spin.value() or None
            overlapping = get_training(method).overlapping  # patches: bitmask labels
            # Add pair's refusal of a binary mask, for pairs it did not check (added from
            # code, or chosen in Image and Labels): every such layer named, judged together
            # as the run judges them, before anything is read
            binary = binary_layers_refusal([j for _i, j in pairs], method, pixels=None)
            if binary:
                raise ValueError(binary)

            def read_folder(path, exclude=(), holdout=()):
                if temporal:  # images/ + masks/ TYX stacks, or a CTC sequence
                    return load_timelapse_samples(
                        path, window, "centre", 1, norm, exclude, ignore_label
                    )
                if overlapping:  # masks are (N, H, W) stacks or label images
                    return load_overlapping_pairs(path, norm, exclude, ignore_label)
                from tessella.engine.train.data import load_folder_pairs

                spatial = "ZYX" if ndim == 3 else "YX"
                return load_folder_pairs(path, spatial, 1, norm, exclude, holdout, ignore_label)

            # what the loaders warn of (a file left out of a folder...) is said in the panel
            with caught_warnings_of_this_thread(UserWarning) as caught:
                try:
                    if folder:
                        samples = read_folder(where, exclude, holdout)
                    else:
                        samples = layer_samples(
                            list(pairs), ndim, norm, window if temporal else None, holdout
                        )
                    # scored on, as the engine reads --val-data (nothing left out of it)
                    val_samples = read_folder(val_folder) if val_folder else None
                finally:
                    said += list(dict.fromkeys(in_words(w.message, "panel") for w in caught))
                    for message in said:
                        show_warning(f"Train: {message}")
            if not folder and ignore_label is None and not overlapping:
                # the run warns of it too (a notification; its card records it); said here
                # before it starts, as a folder's loader says it of its masks
                from tessella.engine.train._folders import painted_samples_note

                painted = painted_samples_note(samples)
                said += [in_words(painted, "panel")] if painted else []
            channels = channels_in_words(samples, pairs)  # (the hold-out's are among them)
            if ignore_label is not None:  # checked here, before a worker starts
                with caught_warnings_of_this_thread(UserWarning) as caught:
                    marked = apply_ignore_label(samples, ignore_label, bool(folder) and overlapping)
                for warning in caught[:1]:  # an ID clash: said once, the run goes ahead
                    show_warning(f"Train: {warning.message}")
                    said.append(str(warning.message))
                if overlapping:  # marked here, as bitmasks cannot be marked later
                    samples = marked
                if overlapping and val_samples is not None:  # (a folder's, as above)
                    val_samples = apply_ignore_label(val_samples, ignore_label, True)
            if overlapping and not folder:
                samples = as_overlapping(samples)
            if drawn and not _holds_out_some(drawn, samples):
                # drawn by the run on what it also trained on (one image), or on samples
                # named otherwise: none held out here; the engine refuses a resume that
                # would score on another hold-out than its epochs were scored on
                holdout = drawn = ()
            if holdout and not folder:  # said of layers, not of files as the engine says
                refuse_missing_layers(holdout, samples, pairs)
            # held out here, before a worker starts: a name that picks nothing is refused, and
            # so is a hold-out of every image; with a Hold-out folder, nothing is held out
            if val_samples is not None:
                held = val_samples
            else:
                samples, held = split_holdout(samples, HOLDOUT_FRACTION, 0, holdout)
            refuse_unwritable(out.parent)  # last: it makes the folder
        except ValueError as exc:
            exc = ValueError(in_words(exc, "panel"))  # an engine refusal in the panel's words
            show_error(f"Train: {exc}")
            refused = f"Not {'resumed' if resume else 'started'}: {exc}"
            if said:
                refused += ("" if refused.endswith(".") else ".") + f" Warned: {'; '.join(said)}."
            if self.last_model is not None:  # nothing started or replaced: it is still there
                refused += ("" if refused.endswith(".") else ".") + (
                    f" Compare still runs the last model, '{self.last_model.name}'."
                )
            self.status_label.setText(refused)
            return False
        taken = name_taken_note(name, out)  # by a model elsewhere (bundled, another folder)
        if taken:  # said once the run is sure to start, as the command says it
            show_warning(f"Train: {taken}")
        # the card records what was held out: the selectors, or the images drawn at random
        # (one image is trained on and scored on: nothing held out)
        same = len(held) == 1 and len(samples) == 1 and held[0] is samples[0]
        held_out = holdout or (() if same else tuple(dict.fromkeys(s.name for s in held)))
        held_out = () if val_data else held_out  # (the card names the folder instead)
        described = str(where) if where is not None else layers
        minutes = self.minutes_spin.value()
        # the engine's budget counts the time already trained (as --time-budget with
        # --resume), from the checkpoint's seconds; the panel's is this session's: a Resume
        # trains that many minutes more
        trained = trained_seconds(out) if resume else 0.0
        total = self.epochs_spin.value() * self.steps_spin.value()
        # ticked and changeable: a new one-decoder model, or a two-decoder base to merge
        merge = self.one_decoder_check.isChecked() and self.one_decoder_check.isEnabled()
        config = TrainConfig(
            method=method,
            # a folder as the command records one (its card: the absolute path), as Resume
            # reads it back
            data=str(where) if where is not None else LAYERS + layers,
            out=str(out),
            base=base_path,
            name=name,
            ndim=ndim,
            epochs=self.epochs_spin.value(),
            steps_per_epoch=self.steps_spin.value(),
            batch_size=self.batch_spin.value(),
            patch=self.patch_spin.value(),
            lr=self.lr_spin.value(),
            ema=ema_decay(total) if self.average_check.isChecked() else 0.0,
            invert_bright_background=invert,
            ignore_label=ignore_label,
            one_decoder=merge,
            distil=10.0 if merge and base_path else 0.0,
            window=window,
            device=self.device_combo.currentText(),
            time_budget=trained + minutes * 60 if minutes else None,
            resume=resume,
            val_fraction=HOLDOUT_FRACTION,
            val_data=val_data,
            holdout=held_out,
            # drawn at random, not typed: the card says so, and Resume holds them out again
            # without putting them in the field (a new run draws its own)
            held_out=() if typed and not drawn else held_out,
        )
        if resume:  # what the panel does not set (features, the hold-out's scoring...)
            config = replace(config, **_run_settings(out, config))
        config = replace(config, command=_command(config, where, layers, pairs))
        worker = create_worker(
            _train,
            config,
            samples,
            held,
            _worker_class=ThreadWarningsWorker,
            _ignore_errors=True,
            _start_thread=False,
        )
        # first: the log is closed before a cancelled run is removed; the card says why it stopped
        self._stop_why = None
        close_when_finished(worker, lambda: self._why_stopped(worker))
        worker.yielded.connect(self._on_progress)
        worker.errored.connect(self._on_errored)
        # superqt's worker does not notify by itself; this one's warned carries only the
        # warnings of its own thread (a warning raised on the GUI thread meanwhile is not Train's)
        worker.warned.connect(self._on_warned)
        worker.finished.connect(self._on_finished)
        total = config.epochs * config.steps_per_epoch
        self._run = _Run(
            out,
            base_path,
            total,
            time.perf_counter(),
            ignore_label,
            temporal,
            pairs=tuple((i.unique_id, j.unique_id) for i, j in pairs),
            described=described,
            resumed=resume,
            held=held_pairs(pairs, samples, held, held_out) if not (folder or val_data) else {},
        )
        drawn = self._losses if resume and self._curves_of == out else []
        self._losses, self._scores, self._curves_of = [], [], out
        self._step_under_way = (0, 0, ())  # epochs count from 1: the first one starts afresh
        self._score_words = _score_words(method)
        self.score_plot.y_label = self._score()
        for plot in (self.plot, self.score_plot):
            plot.clear()
            plot.x_range = (0.0, float(total))  # whole steps from the start (not 0.25...)
            plot.setVisible(True)
        self.progress_bar.setRange(0, total)
        self.progress_bar.setValue(0)
        self.progress_bar.setFormat(f"step 0 / {total}")
        if resume:  # the curves so far: the steps drawn here, else the run's log
            self._resume_curves(out, config.steps_per_epoch, drawn)
        self.status_label.setText(
            f"{'Resuming' if resume else 'Training'} '{name}'"
            + (f" for at most {minutes} min more" if resume and minutes else "")
            + (
                f" with your changes ({', '.join(self._resume_changes)})"
                if resume and self._resume_changes
                else ""
            )
            + f" on {samples_in_words(samples)}"
            + ("" if folder or self.pairs else f" of {layers} (the Image and Labels chosen)")
            + ", "
            + (
                f"scoring on {samples_in_words(held)} of the Hold-out folder {val_folder}."
                if val_data
                else "scored on the same one (add another pair to hold one out)."
                if same
                else f"holding out {samples_in_words(held)}: {', '.join(held_out)}."
            )
            + channels
            + (f" Warned: {'; '.join(said)}." if said else "")
        )
        self.worker = worker
        # the settings it runs with, as shown (the Hold out field as the user left it): a
        # Resume of it once it stopped tells the user's changes since from these
        self._running_settings = self._shown_settings()
        self._set_running(True)
        worker.start()
        return True


#: the settings of a resumed run that the panel sets (its controls, its data and name); the
#: run's own are taken for the others (as `tessella train --resume` takes those not given)
PANEL_SET = (
    "base",
    "name",
    "ndim",
    "epochs",
    "steps_per_epoch",
    "batch_size",
    "patch",
    "lr",
    "ema",
    "invert_bright_background",
    "ignore_label",
    "holdout",
    "val_data",
)


def _run_settings(out: Path, config) -> dict:
    """The settings of the stopped run in ``out`` that its Resume in the panel takes: those
    the panel has no control for (``features``, ``max_val_images``, ``val_orientations``,
    ``seed``, ``val_fraction``...: a run started by ``tessella train`` or
    :func:`tessella.train` may have others than the panel's), and its averaging's decay,
    which the panel computes from the steps (more epochs would make it another, refused)."""
    from tessella.engine.train._checkpoint import resume_settings, resumed_settings

    given = {n: getattr(config, n) for n in PANEL_SET}
    taken, _changed = resume_settings(out, given)
    saved = resumed_settings(out) or {}
    if config.ema and isinstance(saved.get("ema"), int | float) and saved["ema"]:
        taken["ema"] = float(saved["ema"])
    return taken


def _holds_out_some(selectors, samples) -> bool:
    """Whether ``selectors`` (a hold-out a run drew) pick some of ``samples``, not all."""
    from tessella.engine.train.data import selects

    picked = sum(any(selects(x, s.name) for x in selectors) for s in samples)
    return 0 < picked < len(samples)
