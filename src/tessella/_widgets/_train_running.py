"""A Train run under way and its end: Resume, progress and the plot, Cancel, the panel closed,
errors, warnings and why a run stopped (:class:`TrainRunning`, a mixin of
:class:`.train.TrainWidget`)."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import numpy as np

from ._models import model_events
from ._train_data import INVERT, NEW, one_decoder_choice
from ._train_notices import show_error, show_info, show_warning
from ._train_requests import as_different
from ._train_runs import (
    _checkpoint,
    _history,
    _log_entries,
    _nothing_yet,
    _read_json,
    recorded_data,
    run_config,
    stopped_run,
)
from ._workers import show_progress

__all__ = ["TrainRunning"]


class TrainRunning:
    """Mixin for :class:`.train.TrainWidget`: its run, from progress to the end."""

    #: the optimiser step under way: (epoch, steps done before it, its micro-batches' losses)
    _step_under_way: tuple[int, int, tuple[float, ...]] = (0, 0, ())

    def _set_running(self, running: bool) -> None:
        for control in (
            self.image_combo,
            self.labels_combo,
            self.add_pair_button,
            self.remove_pair_button,
            self.base_combo,
            self.name_edit,
            self.folder_edit,
            self.holdout_edit,
            self.val_folder_edit,
            self.patch_spin,
            self.epochs_spin,
            self.steps_spin,
            self.batch_spin,
            self.minutes_spin,
            self.lr_spin,
            self.ignore_spin,
            self.average_check,
            self.invert_check,
            self.device_combo,
            self.train_button,
        ):
            control.setEnabled(not running)
        changeable, _ticked = one_decoder_choice(self.base_combo.currentData() or "")
        self.one_decoder_check.setEnabled(not running and changeable)
        self.cancel_button.setEnabled(running)
        self.compare_button.setEnabled(not running and self.last_model is not None)
        self._update_resume()

    def _update_resume(self, *args) -> None:
        """Offer Resume while Save as names a model folder whose run stopped early."""
        name = self.name_edit.text().strip()
        usable = bool(name) and not any(c in name for c in "/\\:") and not name.startswith(".")
        stopped = stopped_run(self._out_dir(name)) if usable else None
        self.resume_button.setEnabled(self._run is None and stopped is not None)
        self.resume_button.setToolTip(
            f"Continue '{name}', stopped {stopped}, from its checkpoint with the settings it "
            "was started with (as `tessella train --resume`) and the changes made to Epochs, "
            "Steps per epoch, Patch, Batch size, Learning rate or Invert once they are shown, "
            "for at most Time budget minutes more; train on the same pairs"
            if stopped
            else "Continue a stopped run: name its model in Save as"
        )

    def resume(self) -> bool:
        """Continue the stopped run of the model named in Save as from its checkpoint: the
        settings it was started with (starting model, epochs, steps, patch, learning rate,
        hold-out, averaging, unannotated label) are put back in the panel first, unless they
        were already (the run stopped here, or the panel was reopened on it): then the
        user's changes since are applied and said (those of :data:`RESUME_CHANGEABLE`, as
        ``tessella train --resume --epochs 8`` takes them) or refused (the others, naming
        each with both values). It trains on the chosen pairs, as ``tessella train
        --resume`` does, for at most the Time budget's minutes more (no limit: to its last
        epoch)."""
        name = self.name_edit.text().strip()
        if self._run is not None:
            show_info("Train: a run is in progress; cancel it first.")
            return False
        out = self._out_dir(name) if name else None
        if out is None or stopped_run(out) is None:
            show_error(f"Train: no stopped run named '{name}' to resume")
            self.status_label.setText(f"Not resumed: no stopped run named '{name}'")
            return False
        missing = _missing_base(out)
        if missing:  # nothing started: the run stays as it is, to resume once it is back
            show_error(f"Train: cannot resume '{name}': {missing}")
            self.status_label.setText(f"Not resumed: {missing}.")
            return False
        self._resume_changes = []
        if self._restored[::2] != (out, _checkpoint_stamp(out)):
            # the run's settings are not in the panel (or its checkpoint was written since
            # they were, by another run): put back
            self._show_run_settings(out)
        else:  # put back before: the user's changes since are applied or refused, and said
            changes = _changes(self._restored[1], self._shown_settings())
            refused = [c for c in changes if c[0] not in RESUME_CHANGEABLE]
            if refused:
                said = "; ".join(f"{n}: {_shown(was)} -> {_shown(now)}" for n, was, now in refused)
                text = (
                    f"'{name}' continues with the settings it was started with, and "
                    f"{'this one' if len(refused) == 1 else 'these'} cannot change on "
                    f"resuming: {said}. Put "
                    f"{'it back as it was' if len(refused) == 1 else 'them back as they were'}"
                    ", or train a new model under another name"
                )
                show_error(f"Train: {text}")
                self.status_label.setText(f"Not resumed: {text}.")
                return False
            self._resume_changes = [
                f"{n} {_shown(was)} -> {_shown(now)}" for n, was, now in changes
            ]
        return self.start(resume=True)

    def _shown_settings(self) -> dict:
        """The panel's settings a resumed run takes, as shown now, by their labels."""
        return {  # in the panel's order
            "Hold out": self.holdout_edit.text().strip(),
            "Hold-out folder": self.val_folder_edit.text().strip(),
            "Start from": self.base_combo.currentData(),
            "Patch": self.patch_spin.value(),
            "Epochs": self.epochs_spin.value(),
            "Steps per epoch": self.steps_spin.value(),
            "Batch size": self.batch_spin.value(),
            "Learning rate": self.lr_spin.value(),
            "Unannotated label": self.ignore_spin.value(),
            "Average the weights": self.average_check.isChecked(),
            "Invert bright-background images": self.invert_check.isChecked(),
        }

    def _show_run_settings(self, out: Path) -> None:
        """Put the settings the run in model folder ``out`` started with (its card's, else
        its checkpoint's) back in the panel, its folder (a run on layers: none) and its name
        in Save as. A hold-out the run drew at random is not put in Hold out: Resume holds
        it out again, a new run draws its own."""
        name = out.name
        config = run_config(out)
        if config:
            kind, data = recorded_data(config)
            if kind:  # first: a folder typed in proposes a hold-out, replaced below
                self.folder_edit.setText(data if kind == "folder" else "")
            # the separate folder its epochs were scored on (tessella train --val-data)
            val_data = config.get("val_data")
            self.val_folder_edit.setText(val_data if isinstance(val_data, str) else "")
            entry = _base_entry(config, out)
            index = next(  # the same folder however its path was written
                (
                    i
                    for i in range(self.base_combo.count())
                    if _same_entry(self.base_combo.itemData(i), entry)
                ),
                -1,
            )
            if index >= 0:
                self.base_combo.setCurrentIndex(index)  # resets the name, put back below
            for spin, key in (
                (self.epochs_spin, "epochs"),
                (self.steps_spin, "steps_per_epoch"),
                (self.patch_spin, "patch"),
                (self.batch_spin, "batch_size"),
            ):
                if isinstance(config.get(key), int):
                    spin.setValue(config[key])
            if isinstance(config.get("lr"), float | int):
                self.lr_spin.setValue(float(config["lr"]))
            self.ignore_spin.setValue(int(config.get("ignore_label") or 0))
            self.average_check.setChecked(bool(config.get("ema")))
            self.invert_check.setChecked(bool(config.get(INVERT)))
            holdout = [str(s) for s in config.get("holdout") or ()]
            drawn = [str(s) for s in config.get("held_out") or ()]
            self._drawn_holdout = (None, ())
            # drawn at random, not typed: by the panel's run (which records them as its
            # holdout too), or by the engine's (holdout empty), the panel's run on layers or
            # a command's (`tessella train`, tessella.train: a tenth, not the panel's fifth):
            # Resume holds them out again, as the run's epochs were scored on them (it
            # refuses another one)
            if drawn and (holdout == drawn or not holdout):
                self._drawn_holdout = (out, tuple(drawn))
                holdout = []
            self.holdout_edit.setText(", ".join(holdout))
        self.name_edit.setText(name)
        self._restored = (out, self._shown_settings(), _checkpoint_stamp(out))

    def _resume_curves(self, out: Path, steps_per_epoch: int, drawn=()) -> None:
        """The loss and score curves of a resumed run up to where it stopped, which is where
        its checkpoint is (``train.log`` may be missing, or behind or ahead of it): the loss
        of each step of the epochs kept, as the checkpoint keeps them, else as this panel
        drew them (``drawn``: (step, loss) points; those of an epoch cut short are dropped,
        as the run does it again); after those, one point per epoch, its mean loss, and the
        scores, from the checkpoint's history, else the log."""
        from tessella.engine.train.loop import checkpoint_losses

        state = _checkpoint(out)
        entries = _history(state) or _log_entries(out)
        epoch = state.get("epoch")
        if isinstance(epoch, int):
            entries = [e for e in entries if int(e["epoch"]) <= epoch]
        else:  # no checkpoint to tell (the engine refuses to resume then): the log's
            epoch = max((int(e["epoch"]) for e in entries), default=None)
        kept = None if epoch is None else epoch * steps_per_epoch
        points = checkpoint_losses(state) or list(drawn)
        self._losses = [(x, y) for x, y in points if kept is None or x <= kept]
        covered = max((x for x, _ in self._losses), default=0)
        for entry in entries:
            step = int(entry["epoch"]) * steps_per_epoch
            score = next((v for k, v in entry.items() if k.startswith("val_")), None)
            if isinstance(score, float | int):
                self._scores.append((step, float(score)))
            if isinstance(entry.get("loss"), float | int) and step > covered:
                self._losses.append((step, float(entry["loss"])))
        self.plot.set_series("loss", self._losses)
        self.score_plot.set_series("validation score", self._scores)
        done = int(min(max((s for s, _ in self._scores), default=0), self.progress_bar.maximum()))
        self.progress_bar.setValue(done)
        self.progress_bar.setFormat(f"step {done} / {self.progress_bar.maximum()}")

    def _show_score_name(self, out: Path | None) -> None:
        """Name the validation score (AP(0.5), V_rand...) of the run in model folder ``out``
        (its method, from its card or checkpoint) on the score plot's axis."""
        from tessella.engine.train.methods import score_in_words

        method = run_config(out).get("method") if out is not None else None
        try:
            words = score_in_words(str(method)) if method else ""
        except (KeyError, ValueError):
            words = ""
        self._score_words = words
        self.score_plot.y_label = f"validation {words}" if words else "validation score"
        self.score_plot.update()

    def _score(self) -> str:
        """The validation score in words: "validation AP(0.5)" (its name, once known)."""
        words = getattr(self, "_score_words", "")
        return f"validation {words}" if words else "validation score"

    def _score_named(self) -> str:
        """What the final status says of the score it gives: ". The validation score is
        AP(0.5) of the hold-out" (once its name is known and an epoch was scored)."""
        words = getattr(self, "_score_words", "")
        if not words or not self._scores:
            return ""
        return f". The validation score is {words} on the hold-out"

    def _progress_text(self, step: int) -> str:
        """The progress bar's text at optimiser step ``step``: the steps done of all, the
        time this run has trained and, once a few steps were timed, about how long is left
        at their pace (as `tessella train`'s bar says)."""
        total = self.progress_bar.maximum()
        text = f"step {step} / {total}"
        if self._run is None:
            return text
        now = time.perf_counter()
        if self._run.timed is None:  # the first step's end: timed from here on (not the
            self._run.timed = (now, step)  # start: a base is scored, the data read first)
        text += f", {_clock(now - self._run.started)}"
        since, first = self._run.timed
        if step > first and now > since:
            left = (total - step) * (now - since) / (step - first)
            text += f" (~{_clock(left)} left)"
        return text

    def _on_progress(self, progress) -> None:
        step = min(progress.step, self.progress_bar.maximum())
        if progress.message:  # (timed from the first step's end: not the base's scoring)
            timed = self._run is not None and self._run.timed is not None
            text = (
                self._progress_text(step)
                if timed
                else f"step {step} / {self.progress_bar.maximum()}"
            )
            show_progress(self.progress_bar, step, text=text)
            if progress.val_score is not None and progress.message.startswith("{"):
                self._scores.append((progress.step, progress.val_score))
                self.score_plot.set_series("validation score", self._scores)
                self.status_label.setText(
                    f"Base model: {self._score()} {progress.val_score:.3f} on the hold-out"
                    if progress.epoch == 0  # a fine-tune first scores where it starts
                    else f"Epoch {progress.epoch} of {progress.epochs}: {self._score()} "
                    f"{progress.val_score:.3f} (best {progress.best_score:.3f})"
                    + _nothing_yet(progress.best_score, self._run.base if self._run else "")
                )
            return
        show_progress(self.progress_bar, step, text=self._progress_text(step))
        # the engine reports each micro-batch with the optimiser steps done so far: one point
        # per step (with accumulate, the mean of its micro-batches), as the checkpoint keeps
        # them and `tessella train` shows them
        epoch, done, parts = self._step_under_way
        if progress.epoch != epoch:  # a new epoch (or run): its steps count from its start
            epoch, done, parts = progress.epoch, (progress.epoch - 1) * self.steps_spin.value(), ()
        parts = (*parts, progress.loss)
        if progress.step <= done:  # a micro-batch of a step under way
            self._step_under_way = (epoch, done, parts)
            return
        self._step_under_way = (epoch, progress.step, ())
        if not np.isfinite(parts).all():  # a skipped step (a NaN loss) has none to plot
            return
        self._losses.append((progress.step, float(np.mean(parts))))
        if len(self._losses) % 5 == 1:  # repaint now and then, not every step
            self.plot.set_series("loss", self._losses)

    def _why_stopped(self, worker):
        """The engine's TrainingStopped saying why ``worker``'s run was stopped, when not by
        Cancel (closing the generator records "cancelled"): this panel closed, or the viewer
        (napari quits the workers of a window that closes); None when it was not stopped.
        Called once the worker has finished, even after the widget was deleted."""
        from tessella.engine.train.loop import TrainingStopped

        if not worker.abort_requested:
            return None
        why = self._stop_why or "viewer closed"
        return None if why == "cancelled" else TrainingStopped(why)

    def _on_cancel(self) -> None:
        if self._stop_why is None:
            self._stop_why = "cancelled"
        if self.worker is not None:
            self.worker.quit()  # at the next training step
        self.cancel_button.setEnabled(False)
        self.status_label.setText("Cancelling after the current step…")

    def _panel_closed(self) -> None:
        """The panel was closed: training stops as Cancel stops it (the best model so far is
        kept), rather than going on unseen."""
        if self._run is not None and self.worker is not None:
            if self._stop_why is None:  # a run already cancelled stays "cancelled"
                self._stop_why = "panel closed"
            self._on_cancel()
            show_info(
                f"Train: the panel was closed; training '{self._run.out.name}' stops after "
                "the current step (the best model so far is kept; nothing before the first "
                "epoch has ended)."
            )

    def _on_errored(self, exc: Exception) -> None:
        # a refusal of the engine's (a resume, an option): said in the panel's words
        from tessella.engine.train._worded import Refused

        exc = ValueError(exc.panel) if isinstance(exc, Refused) else exc
        if self._run is not None:
            self._run.error = str(exc)
        show_error(f"Train failed: {exc}")
        self.status_label.setText(f"Training failed: {exc}")

    def _on_warned(self, warning_args: tuple) -> None:
        from tessella.engine.train._worded import in_words

        said = in_words(warning_args[0], "panel")  # the engine's, in the panel's words
        show_warning(f"Train: {said}")
        if self._run is not None:
            self._run.warned.append(said)

    def _on_finished(self) -> None:
        run, self._run = self._run, None
        self.plot.set_series("loss", self._losses)
        saved = (run.out / "card.json").is_file()
        if saved:
            self.last_model, self.last_base = run.out, run.base
            self.last_ignore_label, self.last_temporal = run.ignore_label, run.temporal
            self.last_pairs, self.last_described = run.pairs, run.described
            self.last_held = run.held
            self._remember()
            model_events.added.emit(run.out)
            cancelled = self.worker is not None and self.worker.abort_requested
            what = "Cancelled; kept the best model so far" if cancelled else "Saved"
            failed = "Resume failed" if run.resumed else "Training failed"
            if run.error is not None:
                what = f"{failed}: {run.error}. Kept the best model so far"
            best = ""
            base_score = self._scores[0][1] if run.base and self._scores else None
            if self._scores:
                best_score = max(s for _, s in self._scores)
                hint = _nothing_yet(best_score, run.base).replace(". It", "; it")
                if base_score is None:
                    best = f" (best validation score {best_score:.3f}{hint})"
                else:  # what the fine-tune gained
                    shown, base_shown = as_different(best_score, base_score)
                    best = f" (best validation score {shown}, base {base_shown})"
            if base_score is not None and all(s <= base_score for _, s in self._scores[1:]):
                best = (  # the engine keeps the base until an epoch beats it
                    f": no epoch beat the base model's validation score {base_score:.3f}, so "
                    "its weights were kept unchanged (more epochs or another learning rate?)"
                )
            stopped = stopped_run(run.out)
            self.status_label.setText(
                f"{what}: '{run.out.name}' in {run.out.parent}"
                + (best if self._scores else "")
                + f", {time.perf_counter() - run.started:.0f} s"
                + self._score_named()
                + (f". It stopped {stopped}: {_resume_hint(run.error)}" if stopped else "")
                + _warned_in_words(run.warned)
            )
            if stopped is None:  # finished: the next run needs a name of its own
                self.name_edit.setText(self._free_name(run.out.name))
        # a checkpoint without a card (the card could not be written: a full disk, or a
        # stop before the first best model was) is what Resume continues: never removed
        resumable = None if saved else stopped_run(run.out)
        if not saved and run.error is not None:
            self._forget_last_model()
        if not saved and resumable is None and not run.resumed:
            shutil.rmtree(run.out, ignore_errors=True)  # stopped before it had a model
        if resumable is not None:
            kept = f"; its checkpoint ({resumable}) is kept in {run.out}: "
            kept += _resume_hint(run.error).replace("its checkpoint is kept; ", "")
            failed = "Resume failed" if run.resumed else "Training failed"
            self.status_label.setText(
                (f"{failed}: {run.error}" if run.error is not None else "Stopped")
                + f"; no model was saved{kept}"
            )
        elif not saved and run.error is None:
            epochs_scored = self._scores[1 if run.base else 0 :]  # not the base's
            self.status_label.setText(
                "Stopped; no model was saved."
                if epochs_scored
                else "Stopped before the first epoch ended; nothing saved."
            )
        if run.error is not None and run.timed is None:  # not "step 0 / N": never started
            self.progress_bar.setFormat("failed before its first step")
        else:
            self._show_stopped_bar(run.out, saved or resumable is not None)
        # a run that stopped with a checkpoint: its settings are those shown (the controls
        # were locked while it ran), so that Resume tells the user's changes from them
        shown = self._running_settings
        stamp = _checkpoint_stamp(run.out) if stopped_run(run.out) is not None else None
        self._restored = (run.out, shown, stamp) if stamp is not None else (None, {}, None)
        self._set_running(False)
        self.run_finished.emit()

    def _show_stopped_bar(self, out: Path, kept: bool) -> None:
        """The bar of a run stopped before its last epoch (Cancel, the panel or the viewer
        closed, a failure) says where it stopped: at its checkpoint, the end of its last
        whole epoch, which Resume starts from (the steps of the epoch cut short are not
        kept), or, stopped in its first epoch with nothing ``kept``, that nothing was. It
        read "step 9 / 12, 0:28 (~0:06 left)" of a run Resume then took up at step 8 (user
        test t14, finding 4). A finished run's bar stays as it is."""
        total = self.progress_bar.maximum()
        if not kept:
            if self.worker is not None and self.worker.abort_requested:
                step = self.progress_bar.value()
                self.progress_bar.setFormat(
                    f"stopped at step {step} / {total}, before the first epoch ended: nothing kept"
                )
            return
        if stopped_run(out) is None:
            return
        training = _read_json(out / "card.json").get("training", {})
        stopped = training.get("stopped") if isinstance(training, dict) else None
        config = training.get("config") if isinstance(training, dict) else None
        epoch = stopped.get("after_epoch") if isinstance(stopped, dict) else None
        if not isinstance(epoch, int):  # (no card: the checkpoint's own epoch)
            epoch = _checkpoint(out).get("epoch")
        steps = config.get("steps_per_epoch") if isinstance(config, dict) else None
        steps = steps if isinstance(steps, int) else self.steps_spin.value()
        if not isinstance(epoch, int):
            return
        step = min(epoch * steps, total)
        self.progress_bar.setValue(step)
        self.progress_bar.setFormat(
            f"stopped at step {step} / {total} (the checkpoint after epoch {epoch}): Resume "
            f"starts from step {step}"
        )


def _clock(seconds: float) -> str:
    """``seconds`` as a clock: "0:58", "12:03", "1:02:03"."""
    seconds = max(0, int(round(seconds)))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def _warned_in_words(warned: list[str]) -> str:
    """What the final status adds of the warnings the run gave (shown as notifications while
    it ran; its card records those of its data, which ``tessella models`` marks '!'), else
    ""."""
    if not warned:
        return ""
    said = "; ".join(dict.fromkeys(warned))
    return f". Warned: {said}" + ("" if said.endswith(".") else ".")


#: the settings a resumed run takes as the user changed them (as `tessella train --resume
#: --epochs 8` does); the others (Start from, averaging, unannotated label, Hold out)
#: make or score the run it continues, and are refused
RESUME_CHANGEABLE = (
    "Epochs",
    "Steps per epoch",
    "Patch",
    "Batch size",
    "Learning rate",
    "Invert bright-background images",
)


def _checkpoint_stamp(out: Path) -> int | None:
    """When the checkpoint in ``out`` was written (ns), None where there is none."""
    from tessella.engine.train._checkpoint import CHECKPOINT

    try:
        return (out / CHECKPOINT).stat().st_mtime_ns
    except OSError:
        return None


def _changes(was: dict, now: dict) -> list[tuple[str, object, object]]:
    """``(label, was, now)`` of each setting of ``now`` that differs from ``was``."""
    return [(n, was[n], v) for n, v in now.items() if n in was and was[n] != v]


def _shown(value) -> str:
    """A panel setting in words: on/off, a learning rate as typed, a model by name."""
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float):
        return f"{value:g}"
    if value == "":
        return "empty"
    if isinstance(value, str) and value.startswith(NEW):
        return f"a new {value[len(NEW) :]} model"
    if isinstance(value, str) and ("/" in value or "\\" in value):
        return f"'{Path(value).name}'"
    return f"'{value}'" if isinstance(value, str) else str(value)


def _resume_hint(error: str | None) -> str:
    """What the status says of Resume for a stopped run: it continues it; after a run that
    failed (``error``), only once the cause is seen to (a Resume would fail the same way)."""
    if error is None:
        return "Resume continues it"
    return "its checkpoint is kept; Resume may fail the same way until the cause above is fixed"


def _base_entry(config: dict, out: Path) -> str:
    """The base list's entry for the base a stopped run in ``out`` started from (its card's
    ``training.config``): its folder as the run recorded it (``base_path``), else its
    ``base`` resolved as the run resolves it on resuming (by folder, or by name leaving out
    the run's own folder and preferring the recorded weights); a run started from the
    command line names its base (``--base nuclei2d``), which is no entry of the list, so the
    panel kept whatever base was chosen and resumed from that one instead. A base not
    installed any more: its ``base`` as recorded (no entry; :meth:`resume` refuses first)."""

    from tessella.engine.train._starting_model import resumed_base

    base = config.get("base")
    if not base:
        return NEW + str(config.get("method", ""))
    found = resumed_base(out, config)
    return str(found) if isinstance(found, Path) else str(base)


def _missing_base(out: Path) -> str | None:
    """What to say where the model the stopped run in ``out`` started from is not installed
    any more (its name, folder and sha256; see :func:`resumed_base`), else None (a new
    model's run, a checkpoint the run itself refuses)."""
    from tessella.engine.train._checkpoint import resumed_settings
    from tessella.engine.train._starting_model import resumed_base

    saved = resumed_settings(out)
    if not saved or not saved.get("base"):
        return None
    found = resumed_base(out, saved)
    return found if isinstance(found, str) else None


def _same_entry(data: object, entry: str) -> bool:
    if not isinstance(data, str) or data.startswith(NEW) or entry.startswith(NEW):
        return data == entry
    return Path(data).resolve() == Path(entry).resolve()
