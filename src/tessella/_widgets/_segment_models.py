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

if TYPE_CHECKING:
    from tessella.engine.registry import ModelCard

__all__ = ["SegmentModels"]


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


class SegmentModels:
    """Mixin for :class:`.segment.SegmentWidget`: the model list and the tile and TTA a model
    sets (uses the widget's ``model_combo``, ``device_combo``, ``tile_spin``,
    ``tta_checkbox``, ``_cards`` and ``_prefer_time_axis``)."""

    # --- models -----------------------------------------------------------------------------

    def _fill_models(self) -> None:
        from tessella.engine.pipeline import DEFAULT_MODEL
        from tessella.engine.registry import list_models

        for card, directory, origin in list_models():
            self._add_model_item(card, directory, origin)
        for index in range(self.model_combo.count()):
            if self._cards[self.model_combo.itemData(index)].name == DEFAULT_MODEL:
                self.model_combo.setCurrentIndex(index)
                break
        self._on_model_changed(self.model_combo.currentIndex())

    def _add_model_item(self, card: ModelCard, directory: Path, origin: str) -> None:
        key = str(Path(directory).resolve())
        self._cards[key] = card
        source = ", bioimage.io package" if card.raw.get("imported_from") else ""
        self.model_combo.addItem(f"{card.name} ({card.method}, {card.image_axes}{source})", key)
        self.model_combo.setItemData(
            self.model_combo.count() - 1, f"{origin} model in {key}", Qt.ItemDataRole.ToolTipRole
        )

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
        card = self._cards.get(self.model_combo.currentData())
        if card is not None:
            self.tile_spin.setMinimum(_smallest_tile(card))
            self.tile_spin.setValue(self._default_tile(card))
            self.tta_checkbox.setChecked(bool(card.defaults.get("tta", False)))
            self._prefer_time_axis()

    def _default_tile(self, card: ModelCard) -> int:
        """The card's tile size, smaller when free memory on the chosen device is short."""
        from tessella.engine.device import suggest_tile

        largest = int(card.defaults.get("tile", 1024))
        features = card.raw.get("architecture", {}).get("args", {}).get("features")
        if not features:
            return largest
        device = self.device_combo.currentText()
        return suggest_tile(features, len(card.spatial_axes), largest, device)
