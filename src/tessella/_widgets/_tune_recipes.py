"""Tune's recipes: Save recipe (and why it may not make the labels on screen) and Load recipe
(:class:`TuneRecipes`, a mixin of :class:`.tune.TuneWidget`); the reading of a recipe file's
parameters for a model, which Segment's *Parameters* share (:func:`read_recipe_params`)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from napari.layers import Labels
from qtpy.QtWidgets import QFileDialog

from . import _results
from ._export_outputs import ExportOutputs, proposed_name
from ._tune_notices import show_error, show_warning

if TYPE_CHECKING:
    from tessella.engine.registry import ModelCard

__all__ = ["TuneRecipes", "read_recipe_params", "recipe_params"]


def recipe_params(recipe: dict, card: ModelCard) -> Any:
    """The parameters (the method's Params) of ``recipe`` over ``card``'s defaults, as the
    CLI's ``--recipe`` takes them. ValueError saying why they cannot be used with ``card``'s
    model: no ``params`` object (e.g. a model card, which would give the defaults), another
    method, or a value unknown, of the wrong type or out of range."""
    from tessella.engine.methods import get_method
    from tessella.engine.params import make_params

    values = recipe.get("params")
    if not isinstance(values, dict):
        raise ValueError("not a recipe (a JSON object with a 'params' object)")
    if recipe.get("method", card.method) != card.method:
        raise ValueError(f"made for method {recipe['method']!r}, not {card.method!r}")
    method = get_method(card.method)
    try:
        base = make_params(method.Params, **card.defaults.get("params", {}))
        return make_params(method.Params, base, **values)
    except TypeError as exc:  # (a value a check could not compare)
        raise ValueError(str(exc)) from None


def read_recipe_params(path: str | Path, card: ModelCard) -> tuple[dict, Any]:
    """``(recipe, params)``: the recipe file at ``path``, its fields checked as the CLI's
    ``--recipe`` checks them (:func:`tessella.cli._recipe.read_recipe`), and its parameters
    for ``card``'s model (:func:`recipe_params`). OSError when it cannot be read,
    ValueError saying what is wrong (without naming the file)."""
    from tessella.cli._recipe import read_recipe

    recipe = read_recipe(path)
    return recipe, recipe_params(recipe, card)


class TuneRecipes:
    """Mixin for :class:`.tune.TuneWidget`: its recipes (uses the widget's ``result``,
    ``params``, ``_use_params``, ``_say``, ...)."""

    # --- recipes ------------------------------------------------------------------------------

    def save_recipe(self, path: str | Path) -> Path | None:
        """Write the result's recipe with the current parameters (atomically) to ``path``.

        When the labels on screen are not what these parameters make (a preview of one frame
        or slice, an update still running or failed, hand edits) a warning says so and why:
        the recipe holds the controls' values, which replaying gives, not those labels."""
        from tessella.engine.io import write_json
        from tessella.engine.params import params_to_dict

        from ._blockwise import folder_problem
        from ._export_write import _write_error

        result, layer = self.result, self.labels_layer
        if result is None:
            return None
        path = Path(path)
        # a missing folder is not made (a typo's tree of folders), as Export and Segment refuse
        why = folder_problem(path) or (f"'{path}' is a folder" if path.is_dir() else "")
        try:
            if why:
                raise ValueError(f"cannot write {path}: {why}")
            recipe = result.recipe() | {"params": params_to_dict(self.params)}
            # the unit of its spacing, as Export records it (a replay on an image without a
            # pixel size writes the labels in it); none for a layer without a pixel size,
            # as tessella segment records none: its spacing of 1 is then pixels
            unit = ExportOutputs._spacing_unit(self, recipe)  # type: ignore[arg-type]
            if unit is not None:
                recipe["unit"] = unit
            saved = write_json(path, recipe)
        except (OSError, ValueError) as exc:
            said = str(exc) if isinstance(exc, ValueError) else _write_error(exc, path)
            show_error(f"Tune: recipe not saved; {said}")
            self._say(f"Recipe not saved: {said}")
            return None
        why = None if layer is None else self._not_on_screen(layer)
        if why is not None:
            show_warning(
                f"Tune: the recipe saved to {saved} does not make the labels now in "
                f"'{layer.name}': {why}."
            )
            self._say(f": the recipe saved does not make these labels ({why})", layer)
        else:
            self._say(f"Saved recipe to {saved}")
        return saved

    def _not_on_screen(self, layer: Labels) -> str | None:
        """Why the controls' parameters do not make ``layer``'s labels on screen; None when
        they do."""
        from tessella.engine.params import make_params

        if self._updating(layer.unique_id):
            return "an update with these values is still running; save again once it is done"
        recipe, reproduces = _results.recipe_on_screen(layer)
        try:
            made_with = make_params(self.method.Params, **(recipe or {}).get("params", {}))
        except ValueError:  # a recipe of an older version of the method
            made_with = None
        if reproduces and made_with == self.params:
            return None
        state = _results.state_on_screen(layer)
        preview = state is not None and state.get("preview") is not None and state.get("edited")
        result = self.result
        mixed = None if result is None else self._mixed(layer.unique_id, "T" in result.axes)
        if mixed and (preview or state is None):  # (not an undo back to one set)
            return f"{mixed}: Apply to all first"
        if preview or ((reproduces or state is None) and self._stale.get(layer.unique_id)):
            return "only the frame or slice on screen was updated with them: Apply to all first"
        if not reproduces:
            return "the labels were edited (painted or corrected) since"
        if layer.unique_id in self._failed:
            return "the last update with these values failed"
        return "they were made with other values (the controls changed since)"

    def load_recipe(self, path: str | Path) -> bool:
        """Use the parameters of the recipe at ``path`` (over the model defaults, as the CLI).

        Its ``tta``, ``tile`` and ``axes`` concern the network, which Tune never runs: Segment
        uses them. On an unreadable file or a bad parameter nothing changes.
        """
        result = self.result
        if result is None:
            return False
        card = result.model.card
        try:
            recipe, params = read_recipe_params(path, card)
        except (OSError, ValueError) as exc:
            said = exc.strerror if isinstance(exc, OSError) and exc.strerror else exc
            show_error(f"Cannot load recipe {path}: {said}")
            self._say(f"Recipe not loaded: {path}: {said}")
            return False
        if recipe.get("model", card.name) != card.name:
            show_warning(f"Recipe {path} was made for model {recipe['model']!r}, not {card.name!r}")
        elif recipe.get("model_sha256", card.sha256) != card.sha256:  # (as the CLI warns)
            show_warning(
                f"Recipe {path} was made with other weights of {card.name!r} (sha256 "
                f"{str(recipe['model_sha256'])[:12]}…, not {card.sha256[:12]}…)"
            )
        self._use_params(params, whole=self._redo_all())
        return True

    def _on_save_clicked(self) -> None:
        layer = self.labels_layer
        stem = proposed_name(layer.name) if layer is not None else "recipe"  # as Export names it
        name = f"{stem}.recipe.json"
        path, _ = QFileDialog.getSaveFileName(self, "Save recipe", name, "Recipe (*.json)")
        if path:
            self.save_recipe(path)

    def _on_load_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load recipe", "", "Recipe (*.json)")
        if path:
            self.load_recipe(path)
