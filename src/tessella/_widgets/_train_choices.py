"""Train's choices: the image and labels layers, the list of pairs and its hold-out, the starting
model (Start from) and a free name to save as (:class:`TrainChoices`, a mixin of
:class:`.train.TrainWidget`)."""

from __future__ import annotations

from pathlib import Path

from napari.layers import Image, Labels

from ._layers import fill_layer_combo, find_layer
from ._train_data import (
    INVERT,
    NEW,
    _base_kind,
    _base_normalization,
    binary_labels_refusal,
    default_holdout,
    one_decoder_choice,
    pair_mismatch,
)
from ._train_notices import show_error, show_info
from ._train_runs import free_name
from ._words import counted

__all__ = ["TrainChoices", "viewer_closing"]


def viewer_closing(viewer) -> bool:
    """Whether ``viewer`` is being closed: ``Viewer.close()`` (napari quitting, a script, a
    test's viewer at its end) shuts its layer slicer down, then removes the layers one by
    one, then closes the window; a layer removed by someone leaves a running slicer. napari
    tells it by no public attribute: the slicer's executor is shut down (a napari whose
    slicer is otherwise made reads as not closing, so notices are said as before)."""
    viewer = getattr(viewer, "__wrapped__", viewer)  # a plugin's proxy warns on private names
    executor = getattr(getattr(viewer, "_layer_slicer", None), "_executor", None)
    return getattr(executor, "_shutdown", False) is True


class TrainChoices:
    """Mixin for :class:`.train.TrainWidget`: its layer, pair and model choices."""

    # --- choices ----------------------------------------------------------------------------

    def _refresh_layers(self, event=None) -> None:
        layers = self.viewer.layers
        fill_layer_combo(self.image_combo, self.viewer, [x for x in layers if isinstance(x, Image)])
        fill_layer_combo(
            self.labels_combo, self.viewer, [x for x in layers if isinstance(x, Labels)]
        )
        self.pairs = [p for p in self.pairs if all(find_layer(self.viewer, i) for i in p)]
        self._show_pairs()

    def _show_pairs(self) -> None:
        """List the pairs by their layers' names now (also after a rename)."""
        self.pair_list.clear()
        for image_id, labels_id in self.pairs:
            image, labels = find_layer(self.viewer, image_id), find_layer(self.viewer, labels_id)
            self.pair_list.addItem(f"{image.name}  ↔  {labels.name}")
            item = self.pair_list.item(self.pair_list.count() - 1)
            item.setToolTip(item.text())  # (the list elides long names in the middle)
        self._update_holdout()

    def _layer_removed(self, layer) -> None:
        """A layer of listed pairs left the viewer: those pairs leave the list, which says
        so, naming each pair and the layer removed (the other pairs stay); quietly while the
        viewer is closing (napari quitting, ``viewer.close()``), which removes every layer."""
        gone = [pair for pair in self.pairs if layer.unique_id in pair]
        if not gone:
            return
        self.pairs = [pair for pair in self.pairs if pair not in gone]
        if viewer_closing(self.viewer):  # its layers leave one by one: no one removed them
            return
        for image_id, labels_id in gone:
            names = [
                layer.name
                if i == layer.unique_id
                else getattr(find_layer(self.viewer, i), "name", "?")
                for i in (image_id, labels_id)
            ]
            what = "image" if image_id == layer.unique_id else "labels"
            text = (
                f"Pair '{names[0]}  ↔  {names[1]}' taken off the list: its {what} layer "
                f"'{layer.name}' was removed from the viewer"
            )
            text += f" ({len(self.pairs)} pair{'' if len(self.pairs) == 1 else 's'} left)."
            show_info(f"Train: {text}")
            if self._run is None:  # (a run's status line reports its progress)
                self.status_label.setText(text)

    def _update_holdout(self, *args) -> None:
        """Propose the hold-out for the chosen pairs and starting model (the last fifth of a
        volume's slices or a movie's frames), unless the field holds the user's own."""
        if not hasattr(self, "holdout_edit") or self._run is not None:  # building; running
            return
        text = self.holdout_edit.text().strip()
        if text and text != self._auto_holdout:
            return
        proposed = ""  # (none with a Hold-out folder, which the run scores on instead)
        if not self.folder_edit.text().strip() and not self.val_folder_edit.text().strip():
            _method, ndim, temporal = _base_kind(self.base_combo.currentData() or "")
            try:
                proposed = ", ".join(default_holdout(self._chosen_pairs(), ndim, temporal))
            except (AttributeError, TypeError, ValueError, IndexError):
                proposed = ""  # an odd layer: Train says what is wrong with it
        self._auto_holdout = proposed
        self.holdout_edit.setText(proposed)

    def add_pair(self, image: Image, labels: Labels) -> None:
        pair = (image.unique_id, labels.unique_id)
        if pair not in self.pairs:
            self.pairs.append(pair)
            self._show_pairs()

    def _on_add_pair(self) -> None:
        image = find_layer(self.viewer, self.image_combo.currentData())
        labels = find_layer(self.viewer, self.labels_combo.currentData())
        if image is None or labels is None:
            show_info("Train: choose an image layer and its labels layer first.")
            return
        # refused now, in the words Train would refuse it with (with the starting model's kind)
        from .segment import guess_layer_axes

        _method, _ndim, temporal = _base_kind(self.base_combo.currentData() or "")
        try:
            mismatch = pair_mismatch(image, labels, temporal or "T" in guess_layer_axes(image))
        except (AttributeError, TypeError, ValueError, IndexError):
            mismatch = None  # an odd layer: Train says what is wrong with it
        if not mismatch:  # a binary mask, which an instance method cannot learn from
            try:
                mismatch = binary_labels_refusal(labels, _method)
            except (AttributeError, TypeError, ValueError, IndexError):
                mismatch = None  # an odd layer: Train says what is wrong with it
        if mismatch:
            show_error(f"Train: {mismatch}")
            self.status_label.setText(f"Not added: {mismatch}.")
            return
        listed = (image.unique_id, labels.unique_id) in self.pairs
        self.add_pair(image, labels)
        pair = f"'{image.name}  ↔  {labels.name}'"
        self.status_label.setText(
            (f"Pair {pair} is listed already. " if listed else f"Added {pair}. ")
            + self._data_in_words()
        )

    def _on_remove_pair(self) -> None:
        row = self.pair_list.currentRow()
        if 0 <= row < len(self.pairs):
            del self.pairs[row]
            self._show_pairs()
            self.status_label.setText(self._data_in_words())

    def _on_folder_edited(self, text: str) -> None:
        """The user typed in Folder: the status line says what Train would train on now."""
        if self._run is None:
            self.status_label.setText(self._data_in_words())

    def _data_in_words(self) -> str:
        """What Train trains on, as the panel stands: the folder, the pairs listed, or the
        Image and Labels chosen."""
        folder = self.folder_edit.text().strip()
        listed = counted(len(self.pairs), "pair")
        if folder:
            return f"Train trains on the files of the folder {folder}" + (
                f", not on the {listed} listed (clear Folder to use them)." if self.pairs else "."
            )
        if self.pairs:
            return f"Train trains on the {listed} listed."
        image = find_layer(self.viewer, self.image_combo.currentData())
        labels = find_layer(self.viewer, self.labels_combo.currentData())
        if image is None or labels is None:
            return "Add pairs of image and labels layers, or give a folder, then Train."
        return (
            f"No pair listed: Train trains on the Image and Labels chosen, '{image.name}' + "
            f"'{labels.name}'; Add pair lists pairs to train on."
        )

    def _fill_bases(self, event=None) -> None:
        from qtpy.QtCore import Qt

        from tessella.engine.pipeline import DEFAULT_MODEL
        from tessella.engine.registry import list_models, model_origin
        from tessella.engine.train.methods import trainable_methods

        from ._segment_models import _model_labels, model_summaries, summary_tooltip

        current = self.base_combo.currentData()
        self.base_combo.blockSignals(True)
        self.base_combo.clear()
        default = 0  # the bundled default model (nuclei2d), the one Segment starts with
        models = list_models()
        labels = _model_labels(  # models of one name told apart, as in Segment's list
            [(card, str(directory)) for card, directory, _origin in models],
            text=lambda card, key: f"{card.name} ({card.method}, {model_origin(key)})",
        )
        # each model's tooltip is its card's summary, as in Segment's model list (what it
        # scores, what it was trained on and how, whose weights it holds, its warnings)
        summaries = model_summaries(
            [(card, str(directory), origin) for card, directory, origin in models]
        )
        tip = Qt.ItemDataRole.ToolTipRole
        for (card, directory, origin), label in zip(models, labels, strict=True):
            if card.name == DEFAULT_MODEL and origin == "bundled":
                default = self.base_combo.count()
            self.base_combo.addItem(label, str(directory))
            lines = summaries[str(directory)]
            self.base_combo.setItemData(self.base_combo.count() - 1, summary_tooltip(lines), tip)
        for method in trainable_methods():
            self.base_combo.addItem(f"new {method} model", NEW + method)
            self.base_combo.setItemData(
                self.base_combo.count() - 1,
                f"A new {method} model, trained from random weights: it needs many more "
                "steps than a fine-tune of a trained model",
                tip,
            )
        index = self.base_combo.findData(current)
        self.base_combo.setCurrentIndex(index if index >= 0 else default)
        self.base_combo.blockSignals(False)
        self._show_base_tooltip()
        if current is None:
            self._on_base_changed(self.base_combo.currentIndex())

    def _show_base_tooltip(self) -> None:
        """The closed Start from list's tooltip: the chosen model's card summary (hovering
        it says what the run starts from without opening the list), as Segment's."""
        from qtpy.QtCore import Qt

        tip = self.base_combo.itemData(self.base_combo.currentIndex(), Qt.ItemDataRole.ToolTipRole)
        self.base_combo.setToolTip(tip or "")

    def _on_base_changed(self, index: int) -> None:
        self._show_base_tooltip()
        base = self.base_combo.currentData() or ""
        new = base.startswith(NEW)
        from tessella.engine.train._config import default_lr

        self.lr_spin.setValue(default_lr(not new))  # fine-tuning takes smaller steps
        self.invert_check.setChecked(not new and bool(_base_normalization(base).get(INVERT)))
        changeable, ticked = one_decoder_choice(base)
        self.one_decoder_check.setChecked(ticked)
        self.one_decoder_check.setEnabled(changeable and self._run is None)
        stem = base[len(NEW) :] if new else Path(base).name
        self.name_edit.setText(self._free_name(f"my-{stem}" if new else f"{stem}-finetuned"))
        self._update_holdout()

    def _free_name(self, name: str) -> str:
        return free_name(self._out_dir(name).parent, name)
