"""The Segment panel's *Parameters*: which post-processing parameters a Run uses, in memory
and blockwise (a mixin of :class:`.segment.SegmentWidget`).

- "As tuned on this image": the values of the image's previous result of the chosen model
  (tuned in Tune), else the model's defaults: what a Run did before there was a choice;
- "The model's defaults": the card's;
- "As 'NAME'": those of a labels layer made with the chosen model (the same weights: its
  recipe's ``model_sha256``), e.g. a crop tuned in Tune, to segment the whole image with;
- "From recipe file…": a recipe JSON (Tune's Save recipe, ``tessella segment``'s), read and
  checked as Tune's Load recipe and the CLI's ``--recipe`` read it (the CLI's
  ``read_recipe``, then :func:`._tune_recipes.recipe_params`), and refused when made with
  other weights (:func:`other_model`: Segment can choose the model, where Tune and the CLI
  only warn); listed as "From 'FILE'" once read.

The layer entries follow layers being added, removed and renamed, and the model chosen; a
recipe of another model is refused, naming both. The panel's own Tile size, Intensities and
test-time augmentation still apply: only the post-processing parameters are taken.

Its notifications are looked up in this module.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from napari.layers import Labels
from napari.utils.notifications import show_error, show_warning
from qtpy.QtCore import Qt
from qtpy.QtWidgets import QComboBox, QFileDialog

from .._io import RECIPE_KEY
from . import _results

if TYPE_CHECKING:
    from tessella.engine.registry import ModelCard

__all__ = ["DEFAULTS", "FROM_FILE", "TUNED", "SegmentParams"]

#: the entries' data in the Parameters combo box (a layer's: "layer:" + its unique_id; a
#: recipe file read: "file:" + its path)
TUNED = "tuned"
DEFAULTS = "defaults"
FROM_FILE = "browse"


def _short(sha256: object) -> str:
    return f"{str(sha256)[:12]}…" if sha256 else "unknown"


def other_model(recipe: dict, card: ModelCard) -> str | None:
    r"""Why ``recipe`` was not made with ``card``'s model (naming both), or None when it was
    (the same weights; a recipe that names no weights, the same model name; one that names
    no model at all, written by hand, is taken for any model of its method).

    >>> from types import SimpleNamespace
    >>> card = SimpleNamespace(name="nuclei2d", sha256="ab" * 32)
    >>> why = other_model({"model": "em-mito2d", "model_sha256": "cd" * 32}, card)
    >>> print(*why.split(", "), sep="\n")
    made with model 'em-mito2d' (sha256 cdcdcdcdcdcd…)
    not with the chosen model 'nuclei2d' (sha256 abababababab…)
    >>> other_model({"model": "nuclei2d", "model_sha256": "ab" * 32}, card) is None
    True
    """
    name, sha256 = recipe.get("model"), recipe.get("model_sha256")
    if sha256 == card.sha256 or (not sha256 and name in (None, card.name)):
        return None
    theirs = f"model {name!r}" if name else "another model"
    if name == card.name:  # e.g. retrained, or a copy fine-tuned under the same name
        theirs = f"other weights of model {name!r}"
    return (
        f"made with {theirs} (sha256 {_short(sha256)}), not with the chosen model "
        f"{card.name!r} (sha256 {_short(card.sha256)})"
    )


def _layer_recipe(layer) -> dict | None:
    """The recipe of the labels on screen in ``layer`` (after an undo back to earlier labels,
    theirs) when it holds parameters, else None."""
    if not isinstance(layer, Labels):
        return None
    recipe, _reproduces = _results.recipe_on_screen(layer)
    if not isinstance(recipe, dict) or not isinstance(recipe.get("params"), dict):
        return None
    return recipe


class SegmentParams:
    """Mixin for :class:`.segment.SegmentWidget`: the *Parameters* combo box and the
    parameters a Run takes from it (uses the widget's ``viewer``, ``model_combo``,
    ``status_label``, ``_cards``, ``_run``, ``_find_layer``, ``_refuse``, ``_tuned_params``
    and ``_default_params``)."""

    def _make_params_combo(self) -> QComboBox:
        self.params_combo = QComboBox()
        self.params_combo.setToolTip(
            "The post-processing parameters of a Run (in memory and blockwise): those of the "
            "image's previous result (tuned in Tune), the model's own, those of a labels layer "
            "made with this model (a crop you tuned, to segment the whole image with), or a "
            "recipe file's (Tune's Save recipe)"
        )
        #: the recipe file read for "From 'FILE'": (its path, the recipe)
        self._recipe_file: tuple[Path, dict] | None = None
        #: the entry chosen before "From recipe file…" (back to it when the dialog is left)
        self._params_choice = TUNED
        self._fill_params()
        self.params_combo.currentIndexChanged.connect(self._on_params_chosen)
        return self.params_combo

    def _chosen_card(self) -> ModelCard | None:
        return self._cards.get(self.model_combo.currentData())

    def _fill_params(self, event=None) -> None:
        """List the entries for the chosen model, keeping the chosen one; a layer (or recipe
        file) chosen that no longer fits (removed, or made with another model than the one
        now chosen) gives way to "As tuned on this image", and the status line says so."""
        combo = getattr(self, "params_combo", None)
        if combo is None:  # (the models are listed before the combo box is made)
            return
        card = self._chosen_card()
        previous = combo.currentData() or self._params_choice
        gone = combo.currentText()
        own, tuned_elsewhere = self._tuned_elsewhere(card)
        combo.blockSignals(True)
        try:
            combo.clear()
            if tuned_elsewhere:  # this image gives the defaults: said, and the tuned offered
                combo.addItem(f"As tuned on this image ({own}: the model's defaults)", TUNED)
                self._tip(
                    f"This image's previous result with this model: {own}, so the model's "
                    "own values; the layers listed next hold values tuned on other images"
                )
            else:
                combo.addItem("As tuned on this image", TUNED)
                self._tip(
                    "The values of this image's previous result with this model (tuned in "
                    "Tune), else the model's own"
                )
            layers = [] if card is None else self._layers_of(card)
            for layer in tuned_elsewhere:  # (near the top: what the user tuned last)
                combo.addItem(f"As '{layer.name}'", f"layer:{layer.unique_id}")
                self._tip(f"The values tuned in '{layer.name}' (of another image)")
            combo.addItem("The model's defaults", DEFAULTS)
            self._tip("The parameters the model's card gives")
            for layer in layers:  # (their metadata: no labels are hashed here)
                if layer not in tuned_elsewhere:
                    combo.addItem(f"As '{layer.name}'", f"layer:{layer.unique_id}")
                    self._tip(f"The parameters of the labels now in '{layer.name}'")
            if self._recipe_file is not None and card is not None:
                path, recipe = self._recipe_file
                if not other_model(recipe, card) and recipe.get("method", card.method) == (
                    card.method
                ):
                    combo.addItem(f"From '{path.name}'", f"file:{path}")
                    self._tip(f"The parameters of the recipe {path}")
            combo.addItem("From recipe file…", FROM_FILE)
            self._tip("Choose a recipe JSON (Tune's Save recipe, or tessella segment's)")
            index = combo.findData(previous)
            combo.setCurrentIndex(max(index, 0))
        finally:
            combo.blockSignals(False)
        self._params_choice = combo.currentData()
        if index < 0 and previous not in (TUNED, DEFAULTS, FROM_FILE):
            why = "its layer was removed"
            if str(previous).startswith("file:") or self._layer_of(previous) is not None:
                why = "it was made with another model than the one chosen"
            self.status_label.setText(
                f"Parameters: {gone.partition(' ')[2]} is no longer offered ({why}); back to "
                "'As tuned on this image'."
            )

    def _layers_of(self, card: ModelCard) -> list:
        """The labels layers whose recipe holds parameters of ``card``'s model (the same
        weights), read from their metadata (no labels are hashed), in the layer list's order."""
        found = []
        for layer in self.viewer.layers:
            recipe = layer.metadata.get(RECIPE_KEY) if isinstance(layer, Labels) else None
            if isinstance(recipe, dict) and "params" in recipe:
                if recipe.get("model_sha256") == card.sha256:  # made with these weights
                    found.append(layer)
        return found

    def _tuned_elsewhere(self, card: ModelCard | None) -> tuple[str, list]:
        """Where "As tuned on this image" gives the model's defaults for the image chosen
        (no result of its own with this model, or one with the defaults) while labels of
        another image hold values tuned with this model (other than the card's): why this
        image gives the defaults ("none yet", "not tuned") and those layers, the topmost
        (the last made) first; ("", []) otherwise. A user who tuned one image and clicked Run
        on the next got the defaults without a word (user test s33/t13 #6)."""
        image = getattr(self, "image_layer", None)
        if card is None or image is None:
            return "", []
        from tessella.engine.params import params_to_dict

        from ._segment_outputs import SOURCE_ID_KEY, _result_key
        from ._tune_recipes import recipe_params

        def values(layer) -> dict | None:  # (the recipe in its metadata: nothing hashed)
            recipe = layer.metadata.get(RECIPE_KEY)
            if not isinstance(recipe, dict) or recipe.get("model_sha256") != card.sha256:
                return None
            try:
                return params_to_dict(recipe_params(recipe, card))
            except ValueError:
                return None

        defaults = self._default_params(self.model_combo.currentData())
        axes = self.axes_combo.currentText().strip().upper()
        previous = self._previous_output(image.unique_id, "labels", _result_key(card, axes))
        own = None if previous is None else values(previous)
        if own is not None and own != defaults:
            return "", []  # this image's own tuned values
        tuned = [
            layer
            for layer in reversed(self._layers_of(card))
            # (this image's own layers are older results, not another image's tuning)
            if layer.metadata.get(SOURCE_ID_KEY) != image.unique_id
            and (theirs := values(layer)) is not None
            and theirs != defaults
        ]
        return ("none yet" if previous is None else "not tuned") if tuned else "", tuned

    def _layer_of(self, choice: str):
        """The layer of the entry ``choice`` ("layer:" + its unique_id, as text), or None."""
        return next((lay for lay in self.viewer.layers if f"layer:{lay.unique_id}" == choice), None)

    def _tip(self, text: str) -> None:
        combo = self.params_combo
        combo.setItemData(combo.count() - 1, text, Qt.ItemDataRole.ToolTipRole)

    def _on_params_chosen(self, index: int) -> None:
        choice = self.params_combo.currentData()
        if choice != FROM_FILE:
            self._params_choice = choice
            return
        path, _ = QFileDialog.getOpenFileName(
            self, "Parameters from a recipe", "", "Recipe (*.json)"
        )
        if not path or not self.use_recipe_file(path):
            self._choose_params(self._params_choice)  # left, or refused: as it was

    def _choose_params(self, choice: str) -> None:
        self.params_combo.blockSignals(True)
        try:
            self.params_combo.setCurrentIndex(max(self.params_combo.findData(choice), 0))
        finally:
            self.params_combo.blockSignals(False)
        self._params_choice = self.params_combo.currentData()

    def use_recipe_file(self, path: str | Path) -> bool:
        """Take the parameters of the recipe at ``path`` for the next Runs: listed as
        "From 'FILE'" and chosen. A file that cannot be read, that is no recipe, of another
        model (or method), or with a value out of range is refused as Tune's Load recipe
        refuses it (a notification and the status line say why); the choice stays as it
        was. Returns whether it was taken."""
        from tessella.cli._recipe import read_recipe

        from ._tune_recipes import recipe_params

        card = self._chosen_card()
        if card is None:
            self._refuse("no model installed; add one with 'Load model…' first.")
            return False
        try:
            recipe = read_recipe(path)
            why = other_model(recipe, card)  # (before its method: a model says more)
            if why:
                raise ValueError(f"{why}; choose that model first, or another recipe")
            recipe_params(recipe, card)
        except (OSError, ValueError) as exc:
            said = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            show_error(f"Segment: cannot use recipe {path}: {said}")
            self.status_label.setText(f"Recipe not used: {path}: {said}")
            return False
        self._recipe_file = (Path(path), recipe)
        self._fill_params()
        self._choose_params(f"file:{Path(path)}")
        said = f"Parameters from {path}: Run uses them."
        if recipe.get("labels_edited"):  # (the recipe of labels edited by hand: t3 finding 3)
            from tessella.cli._recipe import edited_words

            edited = edited_words(recipe, path)
            show_warning(f"Segment: recipe {path}: {edited}")
            said += f" The recipe {edited}."
        self.status_label.setText(said)
        return True

    def _params_to_run(self, layer, model, axes: str) -> tuple[dict | None, str] | None:
        """``(params, said)`` for a Run of ``model`` on ``layer``: the parameters chosen
        (None: the model's defaults) and the words the status line adds, naming where they
        come from ("with nuclei2d's defaults", "with the parameters of 'crop labels
        (nuclei2d)'", "with the parameters tuned before"). None, with the Run refused, when
        they cannot be used."""
        from tessella.engine.params import params_to_dict

        from ._tune_recipes import recipe_params

        choice = self.params_combo.currentData() or TUNED
        card = self._cards[model]
        defaults = f"with {card.name}'s defaults"  # (every run names its parameters: t13 #6)
        if choice == TUNED:
            params = self._tuned_params(layer, model, axes)
            if params is not None and params != self._default_params(model):
                return params, "with the parameters tuned before"
            _own, elsewhere = self._tuned_elsewhere(card)
            if elsewhere:  # the user may have meant those: said after the run too
                other = elsewhere[0].name
                return params, f"{defaults} ('{other}' holds tuned values: see Parameters)"
            return params, defaults
        if choice == DEFAULTS:
            return None, defaults
        if choice.startswith("layer:"):
            source = self._layer_of(choice)
            recipe = _layer_recipe(source) if source is not None else None
            if recipe is None:  # (its recipe was replaced: a layer follows its events)
                self._refuse("the layer chosen under Parameters holds no parameters any more.")
                return None
            where, said = f"the parameters of '{source.name}'", f"'{source.name}'"
        elif self._recipe_file is not None:  # a recipe file read ("From 'FILE'")
            path, recipe = self._recipe_file
            where, said = f"the parameters of {path.name}", f"recipe {path}"
        else:  # (only listed once read)
            return None, defaults
        why = other_model(recipe, card)
        try:
            if why:
                raise ValueError(why)
            params = params_to_dict(recipe_params(recipe, card))
        except ValueError as exc:
            self._refuse(f"cannot use the parameters of {said}: {exc}.")
            return None
        return params, f"with {where}"
