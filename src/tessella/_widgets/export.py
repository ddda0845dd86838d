"""The Export dock widget: labels as TIFF and zarr, measurements as CSV, the recipe as JSON.

Every file is written atomically by :mod:`tessella.engine.io`; nothing is written when any
target already exists and "Overwrite existing files" is off. The measurements come from
:func:`tessella.engine.measure.measure_objects`, so a script gets the same table.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from napari.layers import Image, Labels
from napari.utils.notifications import show_error, show_info
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from . import _results
from ._layers import LayerWatcher, fill_layer_combo, find_layer, scrolling_layout
from .segment import RECIPE_KEY, SOURCE_ID_KEY, SOURCE_KEY

if TYPE_CHECKING:
    import napari.viewer

__all__ = ["ExportWidget", "OUTPUT_SUFFIXES", "base_path"]

#: what a recipe file says when replaying it does not give the exported labels
EDITED_NOTE = (
    "The labels were changed after segmentation (edited by hand, or a Tune preview of one "
    "slice or frame not applied to all); replaying this recipe gives them as they were before."
)

#: what each output adds to the base path
OUTPUT_SUFFIXES = {
    "tiff": ".tif",
    "zarr": ".zarr",
    "csv": ".csv",
    "recipe": ".recipe.json",
    "ctc": "_RES",  # a folder: maskTTT.tif + res_track.txt
}


def base_path(text: str, name: str = "labels") -> Path | None:
    """The base the outputs are named after: ``~`` expanded, an output suffix dropped; a
    folder (one that exists, or text ending in a slash) holds them, named ``name``."""
    text = text.strip()
    if not text:
        return None
    path = Path(text).expanduser()
    if text.endswith(("/", os.sep)):
        return path / name
    stem = path.name
    for suffix in (*OUTPUT_SUFFIXES.values(), ".tiff", ".json"):
        if stem.lower().endswith(suffix) and len(stem) > len(suffix):
            return path.with_name(stem[: -len(suffix)])
    return path / name if path.is_dir() else path


@dataclass(frozen=True)
class _Output:
    kind: str  # a key of OUTPUT_SUFFIXES
    path: Path


def _pixel_size(viewer, layer, axes: str) -> tuple[dict[str, float] | None, str, str]:
    """``(sizes, unit, note)``: the pixel size Export writes for ``layer``, its unit, and what
    the status line says about a guessed unit (:func:`tessella._io.layer_pixel_size`; the
    pixel size may be the one the reader recorded for the image Segment made it from)."""
    from tessella._io import layer_pixel_size

    source = find_layer(viewer, layer.metadata.get(SOURCE_ID_KEY))
    sizes, unit, guessed = layer_pixel_size(
        axes,
        layer.scale,
        getattr(layer, "units", None),  # (napari before 0.5 has none)
        [layer.metadata, getattr(source, "metadata", {})],
    )
    if not guessed or sizes is None:
        return sizes, unit, ""
    shown = ", ".join(f"{size:g}" for size in dict.fromkeys(sizes.values()))
    return sizes, unit, f"the scale ({shown}) has no unit: written as {unit}"


def _fits(image, labels) -> bool:
    """Whether ``image`` can give ``labels``' objects their mean intensity (same pixels; an RGB
    image's colour axis aside)."""
    if image is None:
        return False
    shape = tuple(image.data.shape[: labels.ndim])
    return shape == tuple(labels.data.shape) and (image.ndim == labels.ndim or image.rgb)


class ExportWidget(LayerWatcher, QWidget):
    """Export a labels layer, its measurements and its recipe next to each other."""

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(parent)
        self.viewer = napari_viewer

        self.labels_combo = QComboBox()
        self.image_combo = QComboBox()
        self.image_combo.setToolTip("Image whose mean intensity per object goes in the CSV")
        self.path_edit = QLineEdit()
        self.path_edit.setPlaceholderText("folder/name (no extension)")
        self.path_edit.setToolTip(
            "Outputs are named after this: name.tif, name.zarr, name.csv, name.recipe.json"
        )
        self.browse_button = QPushButton("Browse…")
        self.tiff_checkbox = QCheckBox("Labels as TIFF (.tif, with pixel size)")
        self.tiff_checkbox.setChecked(True)
        self.zarr_checkbox = QCheckBox("Labels as zarr (.zarr)")
        self.csv_checkbox = QCheckBox("Measurements (.csv)")
        self.csv_checkbox.setChecked(True)
        self.csv_checkbox.setToolTip(
            "One row per object: size, centroid, bounding box, mean intensity, mean confidence"
        )
        self.ctc_checkbox = QCheckBox("Tracks, Cell Tracking Challenge format (_RES folder)")
        self.ctc_checkbox.setToolTip(
            "Time-lapses: maskTTT.tif per frame and res_track.txt (label, first and last frame, "
            "parent) in a folder NAME_RES"
        )
        self.recipe_checkbox = QCheckBox("Recipe (.recipe.json)")
        self.recipe_checkbox.setChecked(True)
        self.overwrite_checkbox = QCheckBox("Overwrite existing files")
        self.export_button = QPushButton("Export")
        self.status_label = QLabel("Ready")
        self.status_label.setWordWrap(True)

        path_row = QHBoxLayout()
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        form = QFormLayout()
        form.addRow("Labels", self.labels_combo)
        form.addRow("Intensity", self.image_combo)
        form.addRow("Save as", path_row)
        layout = scrolling_layout(self)
        layout.addLayout(form)
        for checkbox in (
            self.tiff_checkbox,
            self.zarr_checkbox,
            self.csv_checkbox,
            self.ctc_checkbox,
            self.recipe_checkbox,
            self.overwrite_checkbox,
        ):
            layout.addWidget(checkbox)
        layout.addWidget(self.export_button)
        layout.addWidget(self.status_label)
        layout.addStretch(1)

        self.labels_combo.currentIndexChanged.connect(self._on_labels_changed)
        self.browse_button.clicked.connect(self._on_browse_clicked)
        self.export_button.clicked.connect(self._on_export_clicked)
        self._watch_layers()
        self._refresh_layers()

    # --- layers -----------------------------------------------------------------------------

    @property
    def labels_layer(self) -> Labels | None:
        return find_layer(self.viewer, self.labels_combo.currentData())

    @property
    def image_layer(self) -> Image | None:
        """The intensity image, or None for "none"."""
        return find_layer(self.viewer, self.image_combo.currentData())

    def _refresh_layers(self, event=None) -> None:
        labels = [layer for layer in self.viewer.layers if isinstance(layer, Labels)]
        changed = fill_layer_combo(self.labels_combo, self.viewer, labels)
        self._fill_image_combo()
        if changed:
            self._on_labels_changed(self.labels_combo.currentIndex())
        self._update_recipe_checkbox()

    def _fill_image_combo(self) -> None:
        """ "none", then the image layers; the choice is kept while its layer exists."""
        previous = self.image_combo.currentData()
        self.image_combo.blockSignals(True)
        self.image_combo.clear()
        self.image_combo.addItem("none", None)
        for layer in self.viewer.layers:
            if isinstance(layer, Image):
                self.image_combo.addItem(layer.name, layer.unique_id)
        index = self.image_combo.findData(previous) if previous is not None else 0
        self.image_combo.setCurrentIndex(max(index, 0))
        self.image_combo.blockSignals(False)

    def _on_labels_changed(self, index: int) -> None:
        """Offer the image the labels were segmented from for the intensities."""
        layer = self.labels_layer
        if layer is not None:
            source = layer.metadata.get(SOURCE_KEY)
            images = [
                (i, find_layer(self.viewer, self.image_combo.itemData(i)))
                for i in range(1, self.image_combo.count())
            ]
            source_id = layer.metadata.get(SOURCE_ID_KEY)
            if source_id is not None:  # made by Segment: that image, even renamed, or none
                found = [i for i, im in images if im is not None and im.unique_id == source_id]
            elif source:  # (labels from before the id was recorded: by name)
                found = [i for i, im in images if im is not None and im.name == source]
            else:  # labels of unknown source: an image of their shape
                found = [i for i, im in images if _fits(im, layer)]
            found = [i for i in found if _fits(dict(images)[i], layer)]  # e.g. CYX: none
            if found:
                self.image_combo.setCurrentIndex(found[0])
            elif source_id is not None or source or not _fits(self.image_layer, layer):
                self.image_combo.setCurrentIndex(0)  # never another image's intensities
        self._update_recipe_checkbox()

    def _recipe(self) -> dict | None:
        layer = self.labels_layer
        recipe = None if layer is None else layer.metadata.get(RECIPE_KEY)
        return recipe if isinstance(recipe, dict) else None

    def _recipe_to_write(self) -> tuple[dict, bool]:
        """The recipe of the labels on screen (after Ctrl+Z, the parameters that made them),
        and whether it reproduces them; when not (hand edits, a Tune preview of one slice or
        frame), the file says so."""
        recipe, reproduces = _results.recipe_on_screen(self.labels_layer)
        if not reproduces:
            recipe = {**recipe, "labels_edited": True, "note": EDITED_NOTE}
        return recipe, reproduces

    def _update_recipe_checkbox(self) -> None:
        has_recipe = self._recipe() is not None
        self.recipe_checkbox.setEnabled(has_recipe)
        self.recipe_checkbox.setToolTip(
            "How the labels were made: model, its checksum, parameters"
            if has_recipe
            else "This labels layer was not made by Segment, so it has no recipe"
        )

    # --- paths ------------------------------------------------------------------------------

    def _on_browse_clicked(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self,
            "Export as (the extension is added for each output)",
            self.path_edit.text() or self._default_base(),
            "All files (*)",
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            self.path_edit.setText(str(base_path(path)))

    def _default_base(self) -> str:
        layer = self.labels_layer
        return str(Path.home() / layer.name) if layer is not None else str(Path.home())

    def outputs(self) -> list[_Output]:
        """The files the current settings write (the recipe only when the layer has one)."""
        layer = self.labels_layer
        base = base_path(self.path_edit.text(), layer.name if layer is not None else "labels")
        if base is None:
            return []
        chosen = {
            "tiff": self.tiff_checkbox.isChecked(),
            "zarr": self.zarr_checkbox.isChecked(),
            "csv": self.csv_checkbox.isChecked(),
            "recipe": self.recipe_checkbox.isChecked() and self._recipe() is not None,
            "ctc": self.ctc_checkbox.isChecked() and self._is_time_lapse(),
        }
        return [
            _Output(kind, base.with_name(base.name + suffix))
            for kind, suffix in OUTPUT_SUFFIXES.items()
            if chosen[kind]
        ]

    # --- exporting --------------------------------------------------------------------------

    def _on_export_clicked(self) -> None:
        self.export()

    def export(self) -> list[Path]:
        """Write the chosen outputs; returns the files written (none when refused or failed)."""
        from tessella._io import labels_axes
        from tessella.engine.io import write_json, write_labels, write_zarr_labels
        from tessella.engine.measure import measure_objects, write_csv

        layer = self.labels_layer
        if layer is None:
            show_info("Export: add a labels layer first.")
            return []
        if base_path(self.path_edit.text()) is None:
            show_info("Export: choose where to save (the 'Save as' path) first.")
            return []
        outputs = self.outputs()
        skipped_recipe = self.recipe_checkbox.isChecked() and self._recipe() is None
        if not outputs:
            message = "Export: nothing chosen to write."
            if skipped_recipe:
                message += f" '{layer.name}' has no recipe (it was not made by Segment)."
            show_info(message)
            self.status_label.setText(message)
            return []
        overwrite = self.overwrite_checkbox.isChecked()
        existing = [str(output.path) for output in outputs if output.path.exists()]
        if existing and not overwrite:
            message = (
                f"Export: nothing written; {', '.join(existing)} already "
                f"{'exists' if len(existing) == 1 else 'exist'}. Tick 'Overwrite existing "
                "files' to replace, or choose another name."
            )
            show_error(message)
            self.status_label.setText(message)
            return []

        labels = np.asarray(layer.data[0] if layer.multiscale else layer.data)
        try:
            axes = labels_axes(labels.ndim, layer.metadata, layer.axis_labels)
            pixel_size, unit, unit_note = _pixel_size(self.viewer, layer, axes)
            table = None
            if any(output.kind == "csv" for output in outputs):
                # measured before any file is written, so a bad intensity layer writes nothing
                table = measure_objects(
                    labels,
                    image=self._intensity(),
                    confidence=self._confidence(layer, labels),
                    spacing=None if unit == "pixel" else pixel_size,  # no physical size
                    axes=axes,
                    unit=unit,
                )
        except ValueError as exc:
            show_error(f"Export: cannot measure '{layer.name}': {exc}")
            self.status_label.setText(f"Nothing written: {exc}")
            return []

        written: list[Path] = []
        reproduces = True
        for output in outputs:
            try:
                if output.kind == "tiff":
                    write_labels(output.path, labels, axes, pixel_size, unit, overwrite)
                elif output.kind == "zarr":
                    write_zarr_labels(output.path, labels, axes, pixel_size, unit, overwrite)
                elif output.kind == "csv":
                    write_csv(output.path, table, overwrite)
                elif output.kind == "ctc":
                    self._write_ctc(output.path, labels, axes, overwrite)
                else:
                    recipe, reproduces = self._recipe_to_write()
                    write_json(output.path, recipe, overwrite)
            except Exception as exc:  # any failure: say which file, keep the widget usable
                done = f"; wrote {', '.join(p.name for p in written)}" if written else ""
                show_error(f"Export: cannot write {output.path}: {exc}")
                self.status_label.setText(f"Failed on {output.path}{done}.")
                return written
            written.append(output.path)

        folder = written[0].parent
        names = [p.name for p in written]
        if table is not None:
            names[[o.kind for o in outputs].index("csv")] += f" ({len(table['label'])} objects)"
        message = f"Wrote {', '.join(names)} to {folder}"
        if skipped_recipe:
            message += f"; no recipe ('{layer.name}' was not made by Segment)"
        if unit_note and any(o.kind in ("tiff", "zarr", "csv") for o in outputs):
            message += f"; {unit_note} (set the layer's units to say otherwise)"
        if "recipe" in [o.kind for o in outputs] and not reproduces:
            message += (
                f". The labels were changed after '{layer.name}' was segmented (by hand, or a "
                "Tune preview not applied to all): the recipe makes them as they were before"
            )
            show_info(f"Export: {message}.")
        self.status_label.setText(message + ".")
        return written

    def _is_time_lapse(self) -> bool:
        from tessella._io import labels_axes

        layer = self.labels_layer
        if layer is None:
            return False
        try:
            return "T" in labels_axes(layer.ndim, layer.metadata, layer.axis_labels)
        except ValueError:
            return False

    def _write_ctc(self, path: Path, labels: np.ndarray, axes: str, overwrite: bool) -> None:
        """maskTTT.tif + res_track.txt; divisions from the layer's Tracks layer (or result)."""
        from tessella.engine.tracking import write_ctc

        if axes != "TYX":
            raise ValueError(f"CTC export needs 2D frames over time (TYX), not {axes}")
        tracks = _results.tracks_layer(self.viewer, self.labels_layer)
        result = _results.get(self.labels_layer)
        lineage = {}
        recorded = _results.lineage_on_screen(self.labels_layer)  # after Ctrl+Z too
        if recorded is not None:
            lineage = recorded
        elif tracks is not None:  # every division drawn, those Correct hid for now included
            lineage = tracks.metadata.get(_results.LINEAGE_KEY) or {
                int(c): int(p[0]) for c, p in tracks.graph.items() if p
            }
        elif result is not None and result.lineage:
            lineage = dict(result.lineage)
        write_ctc(labels, lineage, path, overwrite)

    def _intensity(self) -> np.ndarray | None:
        layer = self.image_layer
        if layer is None:
            return None
        return np.asarray(layer.data[0] if layer.multiscale else layer.data)

    def _confidence(self, layer: Labels, labels: np.ndarray) -> np.ndarray | None:
        """The network's confidence map behind ``layer`` (stacked over time), if any."""
        result = _results.get(layer)
        return None if result is None else _results.confidence_map(result, labels.shape)
