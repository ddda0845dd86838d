"""The Segment panel's models: listing them, adding one (Load model…), and the tile size and
test-time augmentation each model's card asks for (a mixin of :class:`.segment.SegmentWidget`).

Its notifications are looked up in this module (a test patches ``_segment_models.show_error``).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from napari.utils.notifications import show_error
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QFileDialog

from .._io import axes_named
from ._segment_image import SLICES_AS_FRAMES, guess_layer_axes, refuses_volumes

if TYPE_CHECKING:
    from tessella.engine.registry import ModelCard

__all__ = ["SegmentModels"]

#: a volume's sample being read in a worker (:meth:`SegmentModels._volume_sample`)
_READING = object()


def _smallest_tile(card: ModelCard) -> int:
    """The smallest tile the Segment panel offers for the card's model: its halo on both
    sides, a blending ramp as wide, and a core of twice the halo (at least one step of the
    network's size multiple, 2 ** (levels - 1) for our U-Nets), rounded up to that multiple.
    A tile steps by its core, so a core of one multiple (16 px for nuclei2d's 112-px tile)
    made a 1024² image thousands of tiles, each predicted mostly for its halo."""
    halo = int(card.defaults.get("halo", 32))
    features = card.raw.get("architecture", {}).get("args", {}).get("features") or [0] * 5
    multiple = 2 ** (len(features) - 1)
    return -(-(3 * halo + max(2 * halo, multiple)) // multiple) * multiple


def _model_labels(
    entries: list[tuple[ModelCard, str]], text=None, hints: dict[str, str] | None = None
) -> list[str]:
    """The list's text for each (card, folder): ``text(card, folder)`` (by default name,
    method and axes, with the folder's ``hints``: :func:`_model_hints`), and where that text
    (without hints) is the same for several models (one name), what tells them apart:
    "bundled", or the end of the user model's folder path, long enough to differ from the
    others' ("user, …/share/bnd1"). The Train panel's base list uses it too."""
    from tessella.engine.registry import model_origin

    hints = hints or {}
    shown = text or (lambda card, key: _axes_text(card, key, hints.get(key, "")))
    text = text or _axes_text
    labels = []
    for card, key in entries:
        mine = text(card, key)
        others = [other for c, other in entries if text(c, other) == mine and other != key]
        where = "bundled" if model_origin(key) == "bundled" else _path_tail(key, others)
        labels.append(shown(card, key) + (f" — {where}" if others else ""))
    return labels


def _axes_text(card: ModelCard, _key: str = "", hint: str = "") -> str:
    """A model's name, method and axes ("bioimage.io package" where imported), and ``hint``
    (:func:`_model_hints`) inside the brackets."""
    source = ", bioimage.io package" if card.raw.get("imported_from") else ""
    hint = f"; {hint}" if hint else ""
    return f"{card.name} ({card.method}, {card.image_axes}{source}{hint})"


def _model_hints(entries: list[tuple[ModelCard, str]]) -> dict[str, str]:
    """{key: hint} for the listed models (in list order, bundled first) whose card says what
    their scores and weights are worth, in the facts ``tessella models`` marks them by (user
    test s32/t10, finding 10): "= nuclei2d's weights" where an earlier listed model has the
    same weights (a fine-tune that kept its base's: ``cli._models._same_weights``), and
    "scored on its training image" where its own training warned that it was trained on and
    scored on the same image (a '!' there; the warning's words from
    ``engine.train._scored_on_training``)."""
    from tessella.cli._models import _same_weights

    same = _same_weights([(card, key, None) for card, key in entries])
    hints = {}
    for card, key in entries:
        said = []
        if key in same:
            said.append(f"= {same[key]}'s weights")
        own = [w for w in card.training_warnings if w not in card.base_warnings]
        if any("trained on and scored on" in line for line in own):
            said.append("scored on its training image")
        if said:
            hints[key] = "; ".join(said)
    return hints


def _number(value) -> str:
    """A card's number as the summary says it (3 significant digits; a learning rate in
    scientific notation where small)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, float) and value and abs(value) < 1e-2:
        return f"{value:.0e}"
    return f"{value:.3g}" if isinstance(value, float) else str(value)


def _trained_how(training: dict) -> list[str]:
    """The lines of :func:`model_summary` on how a model was trained, from its card's
    ``training``: what on (the layers or the folder, the separate hold-out folder), what was
    held out, from which base, the settings, the score of each epoch on the hold-out and the
    epoch kept, and where the run stopped early."""
    config = training.get("config") if isinstance(training.get("config"), dict) else {}
    lines = []
    data = training.get("data") or config.get("data")
    if isinstance(data, str) and data:
        data = data.removeprefix("napari layers: ")
        lines.append(f"Trained on: {data}")
    if isinstance(training.get("val_data"), str):
        lines.append(f"Scored on: the folder {training['val_data']}")
    held = config.get("held_out") or config.get("holdout")
    if isinstance(held, list) and held:
        shown = ", ".join(str(h) for h in held[:4]) + (
            f" and {len(held) - 4} more" if len(held) > 4 else ""
        )
        lines.append(f"Held out (scored on, not trained on): {shown}")
    base = config.get("base")
    if isinstance(base, str) and base:
        lines.append(f"Fine-tuned from: {Path(base).name}")
    settings = []
    if isinstance(config.get("epochs"), int):
        steps = config.get("steps_per_epoch")
        settings.append(f"{config['epochs']} epochs" + (f" × {steps} steps" if steps else ""))
    for key, said in (("batch_size", "batch"), ("patch", "patch"), ("lr", "lr")):
        if isinstance(config.get(key), int | float) and not isinstance(config.get(key), bool):
            settings.append(f"{said} {_number(config[key])}")
    if isinstance(config.get("ema"), int | float) and config["ema"]:
        settings.append(f"EMA {_number(config['ema'])}")
    if isinstance(config.get("time_budget"), int | float):
        settings.append(f"time budget {_number(config['time_budget'])} s")
    if settings:
        lines.append("Settings: " + ", ".join(settings))
    log = [e for e in training.get("log_summary") or () if isinstance(e, dict)]
    name = next((k for e in log for k in e if k.startswith("val_")), None)
    if name is not None:
        scores = [
            f"{_number(e[name])}" + (" (base)" if e.get("base") else "")
            for e in log
            if isinstance(e.get(name), int | float)
        ]
        if len(scores) > 8:  # (a long run: its first epochs and its last)
            scores = scores[:3] + ["…"] + scores[-4:]
        lines.append(f"Hold-out {name[4:]} by epoch: " + ", ".join(scores))
    kept = training.get("kept_epoch")
    if kept == 0 and base:
        lines.append("Kept: the base's weights (no epoch beat them)")
    elif isinstance(kept, int) and not isinstance(kept, bool):
        lines.append(f"Kept: epoch {kept}, the best on the hold-out")
    stopped = training.get("stopped")
    if isinstance(stopped, dict):
        after, of, why = stopped.get("after_epoch"), stopped.get("of_epochs"), stopped.get("why")
        said = f"Stopped early: after epoch {after} of {of}" + (f" ({why})" if why else "")
        lines.append(said + "; Resume in the Train panel continues it")
    return lines


def model_summary(card: ModelCard, key: str, origin: str, same: str | None = None) -> list[str]:
    """What the card of the model in folder ``key`` says it is, a line each, for the Segment
    panel's model tooltips and *Model info* (user test t14, finding 3: four fine-tunes
    looked alike there): its origin, folder and weights' digest; its scores (a bundled
    model's validation, as ``tessella models`` says them, else its training hold-out's
    best, which chose the epoch kept, so it flatters the model); where its weights are
    another listed model's (``same``: its name); what it was trained on, held out and
    fine-tuned from, the settings, the score of each epoch, the epoch kept and an early
    stop (:func:`_trained_how`); when it was saved (a user's model: its card's file time);
    and what its training warned of (the lines after the one that says so start with
    "- ")."""
    import datetime

    from tessella.cli._models import _holdout_summary, _kept_base, _validation_summary

    raw = card.raw
    lines = [f"{origin} model in {key} (sha256 {card.sha256[:12]}…)"]
    scores = _validation_summary(raw.get("validation", {}), raw.get("defaults"))
    held = "" if scores else _holdout_summary(raw)
    if scores:
        lines.append(f"Scores: {scores}")
    elif held:
        lines.append(f"Scores: {held} (the best epoch's, which chose the epoch kept: it flatters)")
    else:
        lines.append("Scores: none in its card")
    if same:
        lines.append(f"Weights: the same as {same}'s{_kept_base(raw)}")
    training = raw.get("training")
    if isinstance(training, dict):
        lines += _trained_how(training)
    try:  # (not a bundled model's: its card's file time is when the package was installed)
        saved = datetime.datetime.fromtimestamp((Path(key) / "card.json").stat().st_mtime)
        if origin != "bundled":
            lines.append(f"Saved: {saved:%Y-%m-%d %H:%M}")
    except OSError:
        pass
    if card.training_warnings:  # a shared model says it was trained on doubtful data
        said = "The run that trained it warned of its data (training.warnings"
        if card.base_warnings:  # a fine-tune's: the lines of the runs that trained its bases
            said += "; \"base 'X': ...\": the run that trained its base X"
        lines.append(said + "):")
        lines += ["- " + line for line in card.training_warnings]
    return lines


def model_summaries(entries: list[tuple[ModelCard, str, str]]) -> dict[str, list[str]]:
    """{key: :func:`model_summary`} of the listed models, (card, folder, origin) in list
    order (bundled first: a later model holding an earlier one's weights names it). The
    Segment panel's model list and the Train panel's Start from list show them."""
    from tessella.cli._models import _same_weights

    same = _same_weights([(card, key, None) for card, key, _origin in entries])
    return {key: model_summary(card, key, origin, same.get(key)) for card, key, origin in entries}


def summary_tooltip(lines: list[str]) -> str:
    """:func:`model_summary`'s ``lines`` as a tooltip: rich text (lines joined by ``<br>``,
    no newline), which Qt wraps to the screen (a plain one runs off it), its first line
    (origin and folder) on top, the headings ("Scores:", ...) in bold."""
    import html
    import re

    said = []
    for line in lines:
        text = html.escape(line, quote=False)
        said.append(re.sub(r"^([A-Z][\w ,()-]*:)", r"<b>\1</b>", text))
    return "<br>".join(said)  # (tags before any line break: Qt takes it as rich text)


def summary_text(card: ModelCard, lines: list[str]) -> str:
    """*Model info*'s text: the model's name, method and axes, then :func:`model_summary`'s
    ``lines`` (the window wraps the long ones)."""
    return "\n".join([f"{card.name} ({card.method}, {card.image_axes})", *lines])


def _slices_how(card: ModelCard) -> str:
    """How the 2D model ``card`` segments a volume, in the Segment panel's notes: slice by
    slice where its method does it (boundary, semantic: ``SLICEWISE_3D``); others (nuclei2d)
    refuse axes ZYX: "a 2D model", the note on the Axes (:meth:`SegmentModels._axes_note`)
    saying that the panel reads its slices one by one with Axes TYX."""
    if not refuses_volumes(card):
        return "slice by slice"
    return "a 2D model"


def reads_volumes(card: ModelCard) -> bool:
    """Whether ``card``'s model segments a volume (axes ZYX) as one: a 3D model, or a 2D one
    whose method joins its slices (``SLICEWISE_3D``)."""
    return card.spatial_axes == "ZYX" or (
        card.spatial_axes == "YX"
        and int(card.input.get("window", 1)) <= 1
        and not refuses_volumes(card)
    )


#: a volume whose Z step is at least this many times its pixel size is one of serial
#: sections (:meth:`SegmentModels._serial_sections`): the ISBI 2012 ssTEM stack whose scores
#: :func:`_slices_against_stack` gives is 50 nm over 4 nm pixels, 12.5 times
SECTIONS_RATIO = 4.0


def _slices_against_stack(card: ModelCard) -> tuple[str, float, float, str] | None:
    """What the card of a 2D model records of its test images segmented slice by slice
    (``validation.scores``) and as one 3D stack (``validation.as_3d_stack``), where slice by
    slice scored better: (the metric, its score slice by slice, as a stack, the images and
    their voxel size as the card names them); None where the card records no such pair."""
    import re

    validation = card.raw.get("validation")
    if not isinstance(validation, dict):
        return None
    slices, stack = validation.get("scores"), validation.get("as_3d_stack")
    if not isinstance(slices, dict) or not isinstance(stack, dict):
        return None
    for key, metric in (("vrand", "V_rand"), ("ap50", "AP50"), ("foreground_iou", "IoU")):
        flat, whole = slices.get(key), stack.get(key)
        if not all(isinstance(v, int | float) and not isinstance(v, bool) for v in (flat, whole)):
            continue
        if whole >= flat:
            return None
        where = str(validation.get("dataset") or "its test images").split(" (")[0]
        size = re.search(r"voxel size \[([\d.,\s]+)\]\s*(\w+)", str(stack.get("what", "")))
        if size:
            steps = " x ".join(f"{float(v):g}" for v in size.group(1).split(","))
            where += f" of {steps} {size.group(2)}"
        return metric, float(flat), float(whole), where
    return None


def _path_tail(key: str, others: list[str]) -> str:
    """The shortest end of the folder path ``key`` that none of ``others`` ends with."""
    parts = Path(key).parts
    for count in range(2, len(parts)):  # the folder's own name is the same often (bnd1)
        if not any(Path(other).parts[-count:] == parts[-count:] for other in others):
            return f"user, …/{Path(*parts[-count:])}"
    return f"user, {key}"


class SegmentModels:
    """Mixin for :class:`.segment.SegmentWidget`: the model list and the tile and TTA a model
    sets, and the model preselected for an image (uses the widget's ``model_combo``,
    ``device_combo``, ``tile_spin``, ``tta_checkbox``, ``image_layer``, ``_cards``,
    ``_chosen_models``, ``_preselecting``, ``_model_preselected`` and
    ``_prefer_time_axis``)."""

    #: the model shown before a time-lapse model was preselected for a movie (its key): an
    #: image without T gets it back (:meth:`_model_for_axes`)
    _before_preselect: str | None = None

    # --- models -----------------------------------------------------------------------------

    def _fill_models(self) -> None:
        from tessella.engine.registry import list_models

        if getattr(self, "model_info_button", None) is None:
            self._add_model_info_button()
        self._preselecting = True  # the panel's default, not the user's choice
        try:
            for card, directory, origin in list_models():
                self._add_model_item(card, directory, origin)
            default = self._default_model_index()
            if default >= 0:  # the bundled one, not a user model that took its name
                self.model_combo.setCurrentIndex(default)
        finally:
            self._preselecting = False
        self._on_model_changed(self.model_combo.currentIndex())

    def _default_model_index(self) -> int:
        """Where the default model (the bundled nuclei2d, else a user model of that name) is
        in the list; -1 where there is none."""
        from tessella.engine.pipeline import DEFAULT_MODEL
        from tessella.engine.registry import bundled_dir

        default = self.model_combo.findData(str((bundled_dir() / DEFAULT_MODEL).resolve()))
        if default < 0:  # no bundled models installed: a user model of that name
            names = [
                self._cards[self.model_combo.itemData(i)].name
                for i in range(self.model_combo.count())
            ]
            default = names.index(DEFAULT_MODEL) if DEFAULT_MODEL in names else -1
        return default

    # --- the model an image gets ------------------------------------------------------------

    def _note_model_choice(self, index: int) -> None:
        """A model chosen while an image layer is chosen (by the user, Load model… or code,
        not :meth:`_preselect_model` nor the default the list starts with) is that layer's:
        choosing the layer again brings it back, and no preselection replaces it. Chosen
        with or without a layer, it is the user's model (``_user_model``): a volume never
        gets a 3D model preselected over it (:meth:`_volume_model`)."""
        if self._preselecting:
            return
        layer = self.image_layer
        key = self.model_combo.currentData()
        if layer is not None and key is not None:
            self._chosen_models[layer.unique_id] = key
        self._user_model = key
        self._model_preselected = False

    def _preselect_model(self, layer) -> None:
        """Choose the model for ``layer`` as it is chosen: the one chosen for it before, if
        any; else, for a movie (axes with T, as the reader or the file named them: a folder
        of frames is TYX), a time-lapse model whose card reads those axes (the bundled
        cells2dt first) instead of a frame-by-frame one; for a volume opened from a file, a
        3D model where it fits (:meth:`_volume_model`); and, for an image without T when the
        time-lapse model was only preselected for a movie, back to the model shown before
        that preselection (the one the user was working with; the default where it is gone).
        The status line says why for the layer chosen (its name), and a note of this kind
        about an earlier layer goes."""
        self._volume_note = ""
        self._note_follows_axes = False
        chosen = self._chosen_models.get(layer.unique_id)
        index = self.model_combo.findData(chosen) if chosen is not None else -1
        preselected = False
        axes = guess_layer_axes(layer)
        if index < 0:
            index, preselected = self._model_for_axes(axes, layer), True
        changed = index >= 0 and index != self.model_combo.currentIndex()
        if changed:
            if preselected and not self._model_preselected:  # the model the user had: kept
                self._before_preselect = self.model_combo.currentData()
            self._preselecting = True
            try:
                self.model_combo.setCurrentIndex(index)
            finally:
                self._preselecting = False
            self._model_preselected = preselected
        note = self._volume_note
        card = self._cards.get(self.model_combo.currentData())
        if not note and chosen is not None and not preselected and card is not None:
            note = self._kept_choice_note(layer, card, axes)  # (it said "Ready": r9 #6)
            self._note_follows_axes = True
        if not note and changed and preselected and card is not None and "T" in card.image_axes:
            note = (
                f"Model {card.name} preselected for '{layer.name}', a time-lapse "
                f"({card.image_axes}): it reads time-lapses, and no model was chosen; choose "
                "another in Model to use it instead."
            )
        self._show_model_note(note)

    def _kept_choice_note(self, layer, card: ModelCard, axes: str) -> str:
        """What the status line says when a stack (``axes`` guessed with T or Z) is chosen
        again with the 2D model the user chose for it (brought back, not preselected), and
        after the user changes the Axes with it (:meth:`_on_axes_chosen`): how that model
        reads it with the Axes shown, and the model that reads such stacks whole, as the
        notes of a first choice say ("'mov': nuclei2d, your choice for it (frame by frame,
        Axes TYX); cells2dt, a time-lapse model, is in Model."); for a volume, only a 3D
        model that fits it (:meth:`_volume_alternative`: em-mito3d for em-mito2d, none for
        em-membranes2d; user test s35/t20 #6). "" for a 2D image or a model that reads the
        stack's axes."""
        if not set("TZ") & set(axes) or card.image_axes == axes:
            return ""
        movie = "T" in axes
        shown = self.axes_combo.currentText().strip().upper() or axes
        if movie:
            how = "frame by frame" if "T" in shown else _slices_how(card)
        else:
            how = "each slice on its own" if "T" in shown else _slices_how(card)
        note = f"'{layer.name}': {card.name}, your choice for it ({how}, Axes {shown})"
        if movie:
            fitting = [
                self._cards[key]
                for key in (self.model_combo.itemData(i) for i in range(self.model_combo.count()))
                if self._cards[key].image_axes == axes
            ]
            if fitting:  # the bundled one first, as a first choice names it
                other = min(fitting, key=lambda c: c.name != "cells2dt")
                note += f"; {other.name}, a time-lapse model ({axes}), is in Model"
        else:
            other_name = self._volume_alternative(layer, card, axes)
            if other_name:
                note += f"; {other_name}, a 3D model, is in Model"
        return note + "."

    def _volume_alternative(self, layer, card: ModelCard, axes: str) -> str:
        """The name of the 3D model (``axes`` ZYX) the notes on the 2D model ``card`` kept
        for volume ``layer`` name as the one in Model that reads it whole, or "" where none
        fits: one of the same method as ``card`` (what it makes of an image: em-mito3d's
        foreground of mitochondria for em-mito2d, nothing for em-membranes2d's boundaries,
        user test s35/t20 #6) whose input check on the volume's sample passes where the
        sample was read (:meth:`_fit`); the bundled one first."""
        from tessella.engine.registry import model_origin

        keys = [self.model_combo.itemData(i) for i in range(self.model_combo.count())]
        sample = self._samples.get(layer.unique_id)
        invert = self.invert_combo.currentData()
        names: list[tuple[bool, str]] = []
        for key in keys:
            other = self._cards[key]
            if other.image_axes != axes or other.method != card.method:
                continue
            if isinstance(sample, tuple):
                fits = self._fit(layer, sample[0], guess_layer_axes(layer), key, invert)
                if fits is not None and not fits.passes:
                    continue
            names.append((model_origin(key) != "bundled", other.name))
        return min(names)[1] if names else ""

    def _show_model_note(self, note: str) -> None:
        """Show ``note`` (what the model preselection did for the layer chosen) in the status
        line, with the note on the Axes (:meth:`_axes_note`); with neither, a note shown for
        an earlier layer goes ("Ready"). Not during a run, whose status line is the run's."""
        if getattr(self, "_run", None) is not None:
            return
        self._model_note = note
        self._show_state()

    #: the status line last set by :meth:`_show_state`
    _state_text = "Ready"

    def _show_state(self, replace: bool = False) -> None:
        """The status line says the panel's state: the note on the model preselected (while
        it is shown) and the note on the Axes; "Ready" with neither, which replaces only a
        state said before (a run's result stays) unless ``replace`` (the user changed the
        model or the axes: a note or a failed Run's line about other settings goes; user
        tests s33/t11 #7, t12 #7). Not during a run."""
        if getattr(self, "_run", None) is not None:
            return
        text = " ".join(note for note in (self._model_note, self._axes_note()) if note)
        text = text or "Ready"
        if replace or text != "Ready" or self.status_label.text() in (self._state_text, ""):
            self.status_label.setText(text)
        self._state_text = text

    def _on_model_chosen(self, index: int) -> None:
        """The user (or code) chose a model: the note on the model preselected before goes,
        and the status line says the state with this model."""
        if self._preselecting or getattr(self, "_run", None) is not None:
            return
        self._model_note = ""
        self._show_state(replace=True)

    #: the model note shown is about the model the user chose for the layer (kept for it):
    #: rebuilt when the Axes change (:meth:`_on_axes_chosen`)
    _note_follows_axes = False

    def _on_axes_chosen(self, text: str) -> None:
        """The user (or code) changed the Axes: the status line says the state with them, the
        note on the model the user chose for the stack rebuilt for them (it went on saying
        "Axes ZYX" once TYX was chosen: user test s35/t20 #6)."""
        if self._setting_axes:
            return
        layer = self.image_layer
        card = self._cards.get(self.model_combo.currentData())
        if self._model_note and self._note_follows_axes and layer is not None and card:
            self._model_note = self._kept_choice_note(layer, card, guess_layer_axes(layer))
        self._show_state(replace=True)

    def _axes_note(self) -> str:
        """What the status line says of the Axes shown for a 2D model that refuses volumes
        (:func:`~._segment_image.refuses_volumes`): where the panel set TYX for a stack of
        axes ZYX, that its slices are segmented one by one, not joined, and which models
        read volumes; where the user chose ZYX, that the model does not read them and what
        does. For a 2D model that reads volumes, on serial sections, what its card measured
        slice by slice and as one 3D stack (:meth:`_sections_note`). "" otherwise."""
        from ._segment_image import _layer_array

        layer = self.image_layer
        card = self._cards.get(self.model_combo.currentData())
        if layer is None or card is None:
            return ""
        if not refuses_volumes(card):
            return self._sections_note(layer, card)
        axes = self.axes_combo.currentText().strip().upper()
        shape = _layer_array(layer).shape
        if len(axes) != len(shape):
            return ""
        volumes = self._volume_models()
        other = ""
        if volumes:
            other = f"; for a 3D result choose a model that reads volumes ({volumes})"
        if self._slices_as_frames and axes in SLICES_AS_FRAMES.values():
            count = shape[axes.index("T")]
            return (
                f"Axes set to {axes}: {card.name} segments the {count} slices of "
                f"'{layer.name}' one by one, not joined across slices{other}."
            )
        if axes in SLICES_AS_FRAMES:  # (chosen by the user: kept, and Run would be refused)
            count = shape[axes.index("Z")]
            return (
                f"{card.name}, a 2D model, does not read axes {axes}: choose Axes "
                f"{SLICES_AS_FRAMES[axes]} to segment the {count} slices of '{layer.name}' "
                f"one by one{other}."
            )
        return ""

    def _sections_note(self, layer, card: ModelCard) -> str:
        """For a stack of serial sections (:meth:`_serial_sections`) read by a 2D model that
        reads volumes (em-membranes2d) as a volume (Axes ZYX) or slice by slice (TYX), what
        the model's card measured both ways on its own test stack where slice by slice
        scored better (:func:`_slices_against_stack`): em-membranes2d's V_rand 0.969 per
        slice against 0.944 as one 3D stack on ISBI 2012 (user test s35/t20 #3: on 10 ISBI
        slices 0.978 against 0.936, and the panel said nothing). The Axes stay the user's: a
        3D result joins objects across sections, which slice by slice does not. "" where it
        does not apply."""
        axes = self.axes_combo.currentText().strip().upper()
        if card.spatial_axes != "YX" or axes not in ("ZYX", "TYX") or layer.ndim != 3:
            return ""
        if guess_layer_axes(layer) != "ZYX":  # (a movie read as a volume: no sections)
            return ""
        scores = _slices_against_stack(card)
        looks = self._serial_sections(layer)
        if scores is None or looks is None:
            return ""
        metric, slices, stack, where = scores
        run = ", this Run's"
        return (
            f"{card.name} on serial sections{looks} (its card, on {where}): {metric} "
            f"{slices:.3f} slice by slice (Axes TYX{run if axes == 'TYX' else ''}) against "
            f"{stack:.3f} as one 3D stack (Axes ZYX{run if axes == 'ZYX' else ''}); TYX does "
            "not join objects across slices."
        )

    def _serial_sections(self, layer) -> str | None:
        """Whether the volume ``layer`` (axes ZYX) is a stack of serial sections, far thicker
        than its pixels: "" where its scale says so (a Z step of at least
        :data:`SECTIONS_RATIO` pixels), ", as this stack looks" where it has no scale and
        its neighbouring slices are far less alike than its neighbouring pixels
        (:attr:`~._segment_fit.Likeness.far_apart`, from the sample read of it); None
        otherwise (a scale of finer steps, or no sample read yet)."""
        scale = [float(step) for step in layer.scale]
        if any(step != 1.0 for step in scale):
            return "" if scale[0] >= SECTIONS_RATIO * max(scale[1:]) else None
        sample = self._samples.get(layer.unique_id)
        if isinstance(sample, tuple) and sample[1] is not None and sample[1].far_apart:
            return ", as this stack looks"
        return None

    def _volume_models(self) -> str:
        """The models listed that segment a volume as one (:func:`reads_volumes`), named."""
        names: list[str] = []
        for index in range(self.model_combo.count()):
            card = self._cards[self.model_combo.itemData(index)]
            if reads_volumes(card) and card.name not in names:
                names.append(card.name)
        return ", ".join(names)

    def _model_for_axes(self, axes: str, layer=None) -> int:
        """The index of the model to preselect for an image of ``axes``, or -1 to keep the
        one chosen (:meth:`_preselect_model`): for a movie a time-lapse model (the bundled
        cells2dt first), unless the user chose the model it would get otherwise
        (:meth:`_users_choice`: kept, as for a volume, the status line saying a time-lapse
        model exists); for a volume (ZYX) read from a file, or added from code with its axes
        named in its metadata, a 3D model where it fits (:meth:`_volume_model`; an array
        added from code without axes keeps the model shown: its axes are a guess from its
        shape, frames as likely as slices);
        else the model shown, or the one before a preselection."""
        from tessella.engine.registry import model_origin

        card = self._cards.get(self.model_combo.currentData())
        axes = axes.replace("C", "")
        from_file = bool(getattr(getattr(layer, "source", None), "path", None))
        # a stack added from code is judged as a file's where its metadata names its axes
        # (as a movie's "TYX" must); its axes guessed from the shape alone may be frames
        known = from_file or (layer is not None and axes_named(layer.metadata))
        if "T" not in axes and "Z" in axes and known:
            return self._volume_model(axes, layer)
        if "T" not in axes:  # a model preselected for a movie or volume: the one before
            base = self._base_model_index()
            return -1 if base == self.model_combo.currentIndex() else base
        if card is not None and card.image_axes == axes:
            return -1  # (it reads movies: kept)
        fitting = [
            i
            for i in range(self.model_combo.count())
            if self._cards[self.model_combo.itemData(i)].image_axes == axes
        ]

        def rank(i: int) -> tuple[bool, bool]:
            key = self.model_combo.itemData(i)
            bundled = model_origin(key) == "bundled"
            return (not (bundled and self._cards[key].name == "cells2dt"), not bundled)

        if not fitting:
            return -1
        first = min(fitting, key=rank)
        base = self._base_model_index()
        base_key = self.model_combo.itemData(base)
        if self._users_choice(base_key) and layer is not None:
            # the model the user chose is kept, as for a volume (:meth:`_volume_model`): a
            # 2D model segments the movie frame by frame
            kept, other = self._cards[base_key].name, self._cards[self.model_combo.itemData(first)]
            self._volume_note = (
                f"'{layer.name}': kept {kept}, your choice (frame by frame); {other.name}, a "
                f"time-lapse model ({other.image_axes}), is in Model."
            )
            return base
        return first

    def _users_choice(self, key: str | None) -> bool:
        """Whether model ``key`` is one the user chose: the one chosen last, or one chosen
        for an image layer (shown again when that layer is chosen), never the panel's
        default nor a preselection. No time-lapse or 3D model is preselected over it."""
        return key is not None and (key == self._user_model or key in self._chosen_models.values())

    def _base_model_index(self) -> int:
        """The model an image without T gets unless a 3D model is preselected for it: the
        model shown; where that was only preselected for a movie or a volume, the model
        shown before that preselection (the default where it is gone)."""
        card = self._cards.get(self.model_combo.currentData())
        dims = set("TZ")
        if self._model_preselected and card is not None and dims & set(card.image_axes):
            before = self._before_preselect
            index = self.model_combo.findData(before) if before is not None else -1
            if index >= 0 and not dims & set(self._cards[before].image_axes):
                return index
            default = self._default_model_index()
            if default >= 0:
                return default
        return self.model_combo.currentIndex()

    def _volume_model(self, axes: str, layer) -> int:
        """The index of the model for a volume ``layer`` (``axes`` ZYX) opened from a file, or
        -1 to keep the one shown, and the status line's note on it (``_volume_note``).

        The model it would get otherwise (:meth:`_base_model_index`) is kept where it reads
        volumes, where the user chose it (user test s32/t9, finding 11 preselected em-mito3d
        for any volume; review s32/r5, finding 2: also over em-membranes2d chosen for an EM
        stack), or where no 3D model fits better. A 3D model (the bundled em-mito3d first)
        fits better where the engine's input check on a small sample of the volume
        (:mod:`._segment_fit`) passes for it, and fails for the model kept or finds the
        volume farther outside that model's training range: a fluorescence nuclei volume
        keeps nuclei2d. A volume whose neighbouring slices are far less alike than its
        neighbouring pixels (:func:`~._segment_fit.slice_likeness`: serial sections, as ISBI
        2012) gets no 3D model by the look of it, the note naming the 2D EM models; a 3D
        model preselected says it is a guess (EM of membranes passes the same check). The
        sample is read and judged in a worker, in memory or lazy (-1 meanwhile); then the
        layer, if still chosen, gets its model."""
        from tessella.engine.registry import model_origin

        base = self._base_model_index()
        base_key = self.model_combo.itemData(base)
        base_card = self._cards.get(base_key)
        volume = [
            i
            for i in range(self.model_combo.count())
            if self._cards[self.model_combo.itemData(i)].image_axes == axes
        ]
        if base_card is None or base_card.image_axes == axes or not volume:
            return base

        def rank3d(i: int) -> tuple[bool, bool]:
            key = self.model_combo.itemData(i)
            bundled = model_origin(key) == "bundled"
            return (not (bundled and self._cards[key].name == "em-mito3d"), not bundled)

        volume.sort(key=rank3d)
        name, kept = layer.name, base_card.name
        how = _slices_how(base_card)
        first_key = self.model_combo.itemData(volume[0])
        first = self._cards[first_key].name
        full_axes = guess_layer_axes(layer)  # (with C where it has channels)
        keys = [base_key, *(self.model_combo.itemData(i) for i in volume)]
        if self._users_choice(base_key):
            # the sample read all the same (in a worker; the note made again once read): the
            # 3D model named must fit it, and it tells serial sections (:meth:`_axes_note`)
            self._volume_sample(layer, full_axes, keys, self.invert_combo.currentData())
            other = self._volume_alternative(layer, base_card, axes)
            other = f"; {other}, a 3D model, is in Model" if other else ""
            self._volume_note = f"'{name}': kept {kept}, your choice ({how}){other}."
            self._note_follows_axes = True
            return base
        sample = self._volume_sample(layer, full_axes, keys, self.invert_combo.currentData())
        if sample is _READING:
            self._volume_note = f"'{name}': checking which model fits this volume…"
            return -1
        if sample is None:  # it could not be read: nothing to judge by
            other = self._volume_alternative(layer, base_card, axes)
            other = f"; {other}, a 3D model, is in Model" if other else ""
            self._volume_note = f"'{name}': kept {kept} ({how}){other}."
            return base
        sample, likeness = sample
        invert = self.invert_combo.currentData()
        base_fit = self._fit(layer, sample, full_axes, base_key, invert)
        for index in volume:
            key = self.model_combo.itemData(index)
            fit = self._fit(layer, sample, full_axes, key, invert)
            if fit is None or not fit.passes or base_fit is None:
                continue
            if not base_fit.passes or fit.outside < base_fit.outside:
                chosen = self._cards[key].name
                if likeness is not None and likeness.far_apart:
                    # sections far thicker than a pixel (ssTEM): no 3D model by a guess
                    self._volume_note = (
                        f"'{name}': kept {kept} ({how}): its neighbouring slices are "
                        f"far less alike than its neighbouring pixels ({likeness.slices:.2f} "
                        f"against {likeness.pixels:.2f}: sections thick for the pixel size), "
                        f"so {chosen}, a 3D model, is not preselected"
                        f"{self._em_alternatives(chosen, base_key)}."
                    )
                    return base
                why = (
                    f"it looks like {chosen}'s training images, unlike {kept}'s"
                    if not base_fit.passes
                    else f"it looks more like {chosen}'s training images than {kept}'s"
                )
                self._volume_note = (
                    f"Model {chosen} preselected for '{name}', a volume ({axes}): {why}"
                    f"{self._guess_words(chosen)}; choose another in Model to use it instead."
                )
                return index
        first_fit = self._fit(layer, sample, full_axes, first_key, invert)
        if first_fit is not None and not first_fit.passes:
            why = f"{first}, a 3D model, was trained on images unlike it"
        elif first_fit is not None and base_fit is not None:
            much = "as much" if first_fit.outside == base_fit.outside else "more"
            than = "as" if much == "as much" else "than"
            why = f"it looks {much} like {kept}'s training images {than} {first}'s (a 3D model)"
        else:
            why = f"{first}, a 3D model, is in Model"
        self._volume_note = f"'{name}': kept {kept} ({how}): {why}."
        return base

    def _listed(self, name: str) -> bool:
        """Whether a model named ``name`` is in the list."""
        return any(card.name == name for card in self._cards.values())

    def _guess_words(self, chosen: str) -> str:
        """What the note on a 3D model preselected by the look of a volume adds: that it is a
        guess, and the model for membranes where that is em-membranes2d (intensities alone do
        not tell a mitochondria EM volume from a membrane one: ISBI 2012 passes em-mito3d's
        input check as well as Lucchi++ does)."""
        if chosen == "em-membranes2d" or not self._listed("em-membranes2d"):
            return " (a guess from its intensities)"
        return (
            " (a guess: an EM stack of membranes passes the same check; for membranes choose "
            "em-membranes2d)"
        )

    def _em_alternatives(self, chosen: str, kept_key: str) -> str:
        """The 2D EM models a volume whose 3D model was not preselected could take, named in
        the note: the user chooses between membranes and mitochondria, the panel does not."""
        kept = self._cards[kept_key].name
        names = [
            (what, model)
            for what, model in (("membranes", "em-membranes2d"), ("mitochondria", "em-mito2d"))
            if model not in (chosen, kept) and self._listed(model)
        ]
        if not names:
            return ""
        said = ", ".join(f"for {what} {model}" for what, model in names)
        return f"; if it is EM, choose a 2D model by what it shows ({said})"

    def _fit(self, layer, sample, axes: str, key: str, invert):
        """Model ``key``'s :func:`~._segment_fit.fit` on ``layer``'s ``sample``, computed
        once for each layer, model and Intensities choice."""
        from ._segment_fit import fit

        cache = self._fits.setdefault(layer.unique_id, {})
        if (key, invert) not in cache:
            cache[(key, invert)] = fit(sample, axes, self._cards[key], invert)
        return cache[(key, invert)]

    def _volume_sample(self, layer, axes: str, keys: list[str], invert):
        """``layer``'s :func:`~._segment_fit.read_sample` (its sample and the likeness of its
        slices, kept for the next time it is chosen), or None where it could not be read;
        :data:`_READING` while a worker reads it and judges it with the fits of the models
        ``keys`` (:meth:`_fit`, Intensities ``invert``), off the GUI thread for an array in
        memory too (0.3 s for a 25x768x1024 volume on a busy machine). Once done, the
        layer, if still chosen and no run is in progress, gets its model."""
        from napari.qt.threading import create_worker

        from ._segment_fit import fit, read_sample
        from ._segment_image import _layer_array

        uid = layer.unique_id
        if uid in self._samples:
            return self._samples[uid]
        data = _layer_array(layer)
        if len(self._samples) >= 8:  # (a few small arrays: the oldest go)
            for old in list(self._samples)[:4]:
                self._samples.pop(old, None)
                self._fits.pop(old, None)
        self._samples[uid] = _READING
        cards = {key: self._cards[key] for key in keys}

        def judge():
            sample = read_sample(data, axes)
            fits = {(key, invert): fit(sample[0], axes, c, invert) for key, c in cards.items()}
            return sample, fits

        def done(result) -> None:
            sample, fits = result if result is not None else (None, {})
            self._samples[uid] = sample
            self._fits.setdefault(uid, {}).update(fits)
            try:
                chosen = self.image_layer
            except RuntimeError:  # the panel was closed meanwhile
                return
            if getattr(self, "_run", None) is not None:  # its model stays; chosen again: judged
                return
            if chosen is not None and chosen.unique_id == uid:
                self._preselect_model(chosen)

        worker = create_worker(judge, _start_thread=False)
        worker.returned.connect(done)
        worker.errored.connect(lambda _exc: done(None))
        self._sample_workers.add(worker)
        worker.finished.connect(lambda: self._sample_workers.discard(worker))
        worker.start()
        return _READING

    def _add_model_item(self, card: ModelCard, directory: Path, origin: str) -> None:
        """List a model under its folder (a Run uses that very folder); models of one name
        are told apart in their text (:func:`_model_labels`). A model whose training warned
        of its data (``training.warnings`` in its card) is marked ⚠. Each model's tooltip
        says what its card says it is (:func:`model_summary`: scores, what it was trained
        on and how, whose weights it holds, the warnings), as *Model info* does for the
        chosen one."""
        key = str(Path(directory).resolve())
        self._cards[key] = card
        self._origins = {**getattr(self, "_origins", {}), key: origin}
        self.model_combo.addItem(card.name, key)
        keys = [self.model_combo.itemData(i) for i in range(self.model_combo.count())]
        entries = [(self._cards[k], k) for k in keys]
        # with what `tessella models` says of the weights and scores (kept base weights...)
        labels = _model_labels(entries, hints=_model_hints(entries))
        for index, label in enumerate(labels):
            # marked in the list itself: its tooltip says what was warned of
            warned = " ⚠" if self._cards[keys[index]].training_warnings else ""
            self.model_combo.setItemText(index, label + warned)
        self._model_summaries = self._summaries(entries)
        for index, k in enumerate(keys):  # (a later model can hold an earlier one's weights)
            tip = summary_tooltip(self._model_summaries[k])
            self.model_combo.setItemData(index, tip, Qt.ItemDataRole.ToolTipRole)
        self._show_model_tooltip()

    def _summaries(self, entries: list[tuple[ModelCard, str]]) -> dict[str, list[str]]:
        """{key: :func:`model_summary`} of the listed models (:func:`model_summaries`)."""
        origins = getattr(self, "_origins", {})
        return model_summaries([(card, key, origins.get(key, "user")) for card, key in entries])

    def _show_model_tooltip(self) -> None:
        """The closed model list's tooltip: the chosen model's (hovering the list shows what
        the model chosen is without opening it)."""
        tip = self.model_combo.itemData(
            self.model_combo.currentIndex(), Qt.ItemDataRole.ToolTipRole
        )
        self.model_combo.setToolTip(tip or "")

    def _add_model_info_button(self) -> None:
        """Put *Model info* beside the model list (in its row, before *Load model…*)."""
        from qtpy.QtWidgets import QBoxLayout, QPushButton

        self.model_info_button = QPushButton("Info")
        self.model_info_button.setToolTip(
            "Model info: what the chosen model's card says it is (its scores, what it was "
            "trained on and how, whose weights it holds), in a window whose text can be copied"
        )
        self.model_info_button.clicked.connect(self.show_model_info)
        for row in self.findChildren(QBoxLayout):
            index = row.indexOf(self.model_combo)
            if index >= 0:
                row.insertWidget(index + 1, self.model_info_button)
                return
        self.model_info_button.setParent(self)  # (no row found: shown over the panel)

    def model_info(self) -> str:
        """What *Model info* shows of the chosen model (:func:`summary_text`); "" with
        none."""
        key = self.model_combo.currentData()
        card = self._cards.get(key)
        if card is None:
            return ""
        summaries = getattr(self, "_model_summaries", {})
        lines = summaries.get(key) or model_summary(card, key, "user")
        return summary_text(card, lines)

    def show_model_info(self) -> None:
        """*Model info*: a window (not modal: the panel stays usable) with the chosen model's
        card summary, its text selectable to copy."""
        from qtpy.QtWidgets import QMessageBox

        text = self.model_info()
        if not text:
            show_error("Segment: no model chosen")
            return
        box = getattr(self, "model_info_box", None)
        if box is None:
            box = QMessageBox(self)
            box.setWindowTitle("Model info")
            box.setIcon(QMessageBox.Icon.Information)
            box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            box.setStandardButtons(QMessageBox.StandardButton.Close)
            box.setModal(False)
            self.model_info_box = box
        box.setText(text)
        box.show()
        box.raise_()

    def _on_model_added(self, directory) -> None:
        """A model trained in this session: list it, keeping the chosen one."""
        from tessella.engine.registry import ModelError, read_card

        key = str(Path(directory).resolve())
        if key not in self._cards:
            try:
                self._add_model_item(read_card(Path(key)), Path(key), "user")
            except ModelError:
                return

    def add_model(self, directory: str | Path) -> bool:
        """Add the model in ``directory`` (a model folder, its card.json, or a bioimage.io
        package .zip) to the list and choose it; False if it is not one."""
        from tessella.engine.registry import ModelError, find_model, read_card

        try:
            directory = find_model(directory) if Path(directory).is_file() else directory
        except ModelError as exc:
            show_error(f"Cannot use {directory} as a model: {exc}")
            return False
        key = str(Path(directory).resolve())
        if key not in self._cards:
            try:
                card = read_card(Path(key))
            except ModelError as exc:
                show_error(f"Cannot use {directory} as a model: {exc}")
                return False
            self._add_model_item(card, Path(key), "user")
        self.model_combo.setCurrentIndex(self.model_combo.findData(key))
        return True

    def _on_load_model_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            "Choose a model: its card.json, or a bioimage.io package",
            "",
            "Tessella models (card.json *.zip)",
        )
        if path:
            self.add_model(path)

    def _on_model_changed(self, index: int) -> None:
        self._show_model_tooltip()
        box = getattr(self, "model_info_box", None)
        if box is not None and box.isVisible():  # (it says the chosen model's card)
            self.show_model_info()
        card = self._cards.get(self.model_combo.currentData())
        if card is not None:
            self.tile_spin.setMinimum(_smallest_tile(card))
            self.tile_spin.setValue(self._default_tile(card))
            self.tta_checkbox.setChecked(bool(card.defaults.get("tta", False)))
            self._prefer_time_axis()
            self._show_default_output()  # the blockwise output named after this model

    def _default_tile(self, card: ModelCard) -> int:
        """The card's tile size, smaller when free memory on the chosen device is short."""
        from tessella.engine.device import suggest_tile

        largest = int(card.defaults.get("tile", 1024))
        features = card.raw.get("architecture", {}).get("args", {}).get("features")
        if not features:
            return largest
        device = self.device_combo.currentText()
        return suggest_tile(features, len(card.spatial_axes), largest, device)
