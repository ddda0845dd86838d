"""Where the Segment panel's results go: the layers it places (and replaces) for an image, the
metadata that marks them, and the parameters a new run keeps (a mixin of
:class:`.segment.SegmentWidget`).

Its notifications are looked up in this module.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from napari.layers import Image, Labels
from napari.utils.notifications import show_error, show_info

from .._io import RECIPE_KEY
from .._io_folder import FRAME_NUMBERS_KEY
from . import _results
from ._blockwise import PREVIEW_KEY
from ._labels_states import _restart_history, restart_history_on_new_data
from ._layers import full_resolution
from ._words import counted

if TYPE_CHECKING:
    from tessella.engine.pipeline import SegmentResult
    from tessella.engine.registry import ModelCard

__all__ = [
    "EDITED_KEY",
    "MAP_BLENDING",
    "MAP_COLORMAP",
    "MAP_OPACITY",
    "OUTPUT_KEY",
    "SOURCE_ID_KEY",
    "SOURCE_KEY",
    "SegmentOutputs",
    "channels_note",
    "network_maps",
    "result_name",
]

_log = logging.getLogger(__name__)

SOURCE_KEY = "tessella_source"  # output layer metadata: the image layer it was computed from
SOURCE_ID_KEY = "tessella_source_id"  # ... and that layer's unique_id (survives a rename)
#: output layer metadata: ``{"kind": "labels" (or a network map's key), "layer_id": the layer's
#: own unique_id, "result": which model on which axes made it, "name": the name Segment gave
#: it}`` while the layer is the image's current result of that kind from that model, which a
#: new run of the same model replaces (a copy of the layer has another unique_id; a kept edited
#: or renamed result loses the entry)
OUTPUT_KEY = "tessella_output"
#: output labels metadata: True once the user painted or corrected them (Tune's updates are not
#: edits); kept in the layer so that any Segment panel, also one opened later, knows
EDITED_KEY = "tessella_edited"


#: how a network map (seed, boundary, foreground...) is shown when Segment adds it, below the
#: labels: half opacity over the image, in a colormap black where the probability is 0. (It
#: was added above the labels in additive blending: the bright EM image and a foreground map
#: near 1 added up to a white canvas that hid the labels being tuned.)
MAP_COLORMAP = "magma"
MAP_BLENDING = "translucent"
MAP_OPACITY = 0.5


def network_maps(result: SegmentResult) -> list[tuple[str, np.ndarray]]:
    """The network's maps of one channel a result can show, by kind, stacked over time like
    its labels: the seed (embedding), boundary and foreground (boundary), foreground
    (semantic, temporal with its centre), and for the patches method the probability of
    one or more objects at a pixel, 1 - P(none) of its "numinst" head, as "foreground"."""
    maps = []
    for key in result.predictions[0].arrays:
        output = _results.network_map(result, key, result.labels.shape)
        if output is not None:
            maps.append((key, output))
    arrays = [p.arrays.get("numinst") for p in result.predictions]
    if all(a is not None and a.ndim >= 3 and a.shape[0] == 3 for a in arrays):
        parts = [1.0 - np.asarray(a[0], np.float32) for a in arrays if a is not None]
        stacked = parts[0] if parts[0].ndim == result.labels.ndim else np.stack(parts)
        if stacked.shape == result.labels.shape and "foreground" not in dict(maps):
            maps.append(("foreground", stacked))
    return maps


def _below_labels(layers, layer, labels, image) -> None:
    """Move the map ``layer`` below the ``labels`` layer: just above ``image`` where the image
    lies below the labels (a new map), else just below the labels; a map already below the
    labels stays where it is (where the user put it)."""
    if layer not in layers or labels not in layers:
        return
    at, top = layers.index(layer), layers.index(labels)
    if at < top:
        return
    below = top  # (moved up to an index, a layer lands on it)
    if image is not None and image in layers and layers.index(image) < top:
        below = layers.index(image) + 1
    layers.move(at, below)


def _spatial_transform(layer: Image, axes: str) -> tuple[tuple, tuple, tuple]:
    """The layer's scale, translate and units on the axes the labels keep (all but C)."""
    # napari gives an RGB layer no dimension for its colour axis
    layer_axes = axes.replace("C", "") if layer.rgb else axes
    if len(layer_axes) == layer.ndim:
        keep = [i for i, axis in enumerate(layer_axes) if axis != "C"]
    else:  # the engine rejects these axes; the transform is never used
        keep = list(range(layer.ndim))
    units = tuple(layer.units[i] for i in keep)
    return tuple(np.asarray(layer.scale)[keep]), tuple(np.asarray(layer.translate)[keep]), units


def _watch_edits(layer) -> None:
    """Note in ``layer``'s metadata (:data:`EDITED_KEY`) when the user paints or corrects it:
    painting, filling and Correct's edits all go through the layer's undo history, which emits
    ``paint``; so do Tune's updates, which are told apart. The layer holds the callback, which
    finds the layer in the event (a plugin sees the layer through a proxy made for each call,
    which a callback must not keep)."""

    def on_paint(event) -> None:
        painted = getattr(event, "source", None)
        if painted is None or _results.tool_is_writing(painted.unique_id):
            return
        if not painted.metadata.get(EDITED_KEY):
            painted.metadata = {**painted.metadata, EDITED_KEY: True}

    layer.events.paint.connect(on_paint)
    restart_history_on_new_data(layer)  # data replaced by the user: no stale undo steps


def _is_output(layer, image_id, kind: str, result_key: dict | None = None) -> bool:
    """Whether ``layer`` is the current ``kind`` result Segment placed for image ``image_id``
    (with ``result_key``: made by that model on those axes, :func:`_result_key`)."""
    mark = layer.metadata.get(OUTPUT_KEY)
    return (
        isinstance(mark, dict)
        and mark.get("kind") == kind
        and mark.get("layer_id") == layer.unique_id
        and layer.metadata.get(SOURCE_ID_KEY) == image_id
        and (result_key is None or mark.get("result") == result_key)
    )


def channels_note(shape: tuple, axes: str, card: ModelCard) -> str:
    """What the status line says when an image of ``shape`` and ``axes`` has several channels
    that ``card``'s one-channel model reads averaged (an RGB layer into nuclei2d): the engine
    averages them as its warning says (``channels_averaged``, in the same words), which it
    gives only where separate stains are likely, not for an 8-bit colour photo; "" otherwise.

    >>> from types import SimpleNamespace
    >>> channels_note((64, 64, 3), "YXC", SimpleNamespace(channels=1, name="nuclei2d"))
    "its 3 channels are averaged into the one channel model 'nuclei2d' reads"
    >>> channels_note((64, 64), "YX", SimpleNamespace(channels=1, name="nuclei2d"))
    ''
    """
    from tessella.engine.pipeline._predict import averaged_channels, averaged_words

    count = averaged_channels(shape, axes, card)
    return averaged_words(count, card, axes) if count else ""


def _result_key(card: ModelCard, axes: str, frames: _Frames | None = None) -> dict:
    """What makes results of one kind: the model (its name and weights) and the image's axes
    (a stack read as a volume or as frames gives a different result), and the frames of a
    movie a run segments (*Frames*: their first and last numbers; a run of other frames, or
    of all, makes a result of its own)."""
    key = {"model": card.name, "model_sha256": card.sha256, "axes": axes}
    if frames is not None:
        key["frames"] = [int(frames.numbers[0]), int(frames.numbers[-1])]
    return key


def result_name(image: str, kind: str, model: str) -> str:
    """The name Segment gives the ``kind`` result (``"labels"``, or a network map's key) of
    ``model`` on layer ``image``, in memory and blockwise: the same whichever model ran first,
    so that it always says which model made it.

    >>> result_name("nuclei", "labels", "nuclei2d")
    'nuclei labels (nuclei2d)'
    """
    return f"{image} {kind} ({model})"


def _renamed(layer) -> bool:
    """Whether the user renamed a result layer since Segment placed it: a result to keep."""
    mark = layer.metadata.get(OUTPUT_KEY)
    return isinstance(mark, dict) and mark.get("name") not in (None, layer.name)


def _unmark(layer) -> None:
    """``layer`` is no longer the result a new run replaces (the user's to keep)."""
    layer.metadata = {k: v for k, v in layer.metadata.items() if k != OUTPUT_KEY}


def _read_only_note(layer) -> str:
    """What a finished blockwise run's status adds when its layer is read-only (a zarr opened
    read-only, or a multiscale layer: napari's brush, fill and eraser are off): how to edit a
    copy, in the words Correct uses when asked to edit it; for a 2D result too big for the
    reader to read into memory (a copy needs the variable set), Correct's region in view
    first, which edits the .zarr in place; "" for an editable layer."""
    if getattr(layer, "editable", True):
        return ""
    from .._io import LAZY_LABELS_ENV, _lazy_labels_pixels

    data = full_resolution(layer)
    pixels = int(np.prod(data.shape, dtype=np.int64))
    how = "open its .zarr with File > Open"
    if pixels >= _lazy_labels_pixels():  # the reader would open it lazily, read-only again
        # (short: the status line of a big result read as a wall of text, user test s32/t9)
        how += f" after setting {LAZY_LABELS_ENV} to {pixels + 1:,} or more"
        from ._correct_region import REGION_BUTTON, on_disk_store

        if data.ndim == 2 and on_disk_store(layer) is not None:  # Correct edits it in place
            region = f"edit it in Correct ('{REGION_BUTTON}'), or"
            return f"; read-only here: {region} to edit a copy, {how}"
    return f"; read-only here: to edit a copy, {how}"


@dataclass(frozen=True)
class _Frames:
    """The frames of a movie a run segments (*Frames* A:B): their indices along T
    (``picked``), their frame numbers (the file's ``t052.tif``: 52; else their indices) and
    the frames it predicts for them (``predicted``: those and the context a time-lapse
    model reads around them)."""

    picked: range
    numbers: tuple
    predicted: range

    @property
    def said(self) -> str:
        """The frames as the status line names them: "frames 40 to 49", "frame 40"."""
        first, last = self.numbers[0], self.numbers[-1]
        return f"frame {first}" if first == last else f"frames {first} to {last}"


@dataclass(frozen=True)
class _Run:
    """Where a run's result goes, fixed when Run is clicked."""

    layer_id: str
    name: str
    scale: tuple
    translate: tuple
    units: tuple
    show_outputs: bool
    started: float
    #: where the parameters came from, as the status line says it ("with the parameters of
    #: 'crop labels'", "with nuclei2d's defaults"); "" where unknown
    params_from: str = ""
    #: the model and axes (:func:`_result_key`): the result of the same ones is replaced
    result_key: dict | None = None
    #: the parts the network predicts one after the other (frames of a movie, slices of a
    #: volume a 2D model segments slice by slice; 1 for one image), and what one is called
    parts: int = 1
    part: str = "frame"
    #: what the status line adds when the image's channels are averaged for a one-channel
    #: model (:func:`channels_note`), "" when they are not
    averaged: str = ""
    #: the movie's frame numbers as its files name them (``t054.tif``: 54), one a frame, when
    #: the reader recorded them (:data:`~tessella._io_folder.FRAME_NUMBERS_KEY`); the
    #: progress names the frame by it, after its index from 0 ("predicting frame 2 (t054), 3 of
    #: 4": :func:`._frame_words.frame_name`); () otherwise
    frame_numbers: tuple = ()
    #: the frames of the movie it segments (*Frames*), None for all of them
    frames: _Frames | None = None


class SegmentOutputs:
    """Mixin for :class:`.segment.SegmentWidget`: a finished run's layers are placed, replacing
    the previous result of the same model on the image unless it was edited or renamed (uses
    the widget's ``viewer``, ``_cards``, ``_run``, ``_preview``, ``progress_bar``,
    ``status_label``, ``replace_edited_checkbox`` and ``_find_layer``)."""

    def _default_params(self, model) -> dict:
        """The card's parameters (without loading the network)."""
        from tessella.engine.methods import get_method
        from tessella.engine.params import make_params, params_to_dict

        card = self._cards[model]
        method = get_method(card.method)
        return params_to_dict(make_params(method.Params, **card.defaults.get("params", {})))

    def _tuned_params(self, layer, model, axes: str) -> dict | None:
        """The parameters of this image's previous result when it came from the same model
        (tuned in Tune, and on screen): a new run (say with TTA) keeps them, unless another
        entry of *Parameters* is chosen (:mod:`._segment_params`). None: the card's."""
        card = self._cards.get(model)
        if card is None:
            return None
        previous = self._previous_output(layer.unique_id, "labels", _result_key(card, axes))
        if previous is None:  # (a renamed or edited result still passes on its values)
            return None
        recipe, _reproduces = _results.recipe_on_screen(previous)
        if not recipe or recipe.get("model_sha256") != card.sha256:
            return None
        return recipe.get("params") or None

    def _on_returned(self, result: SegmentResult) -> None:
        run = self._run
        if run is not None and run is getattr(self, "_closed_run", None):
            return  # finished as the panel closed: nobody asked for it any more
        stopped = self._stopped_for_removal()
        if stopped:  # finished before the stop took effect: its image is gone, nothing added
            written = getattr(result, "path", None) if self._preview is not None else None
            kept = f"; its labels were written to {written}" if written else ""
            self.status_label.setText(f"{stopped}; no layer was added{kept}.")
            return
        placed: list[str] = []  # the layers placed so far, named if a later step fails
        try:
            self._place_result(run, result, placed)
        except Exception as exc:  # raised out of a Qt slot, it would abort an app without hooks
            self._placing_failed(run, exc, placed)

    def _placing_failed(self, run: _Run, exc: Exception, placed: list[str]) -> None:
        """A result that could not be placed: one error notification naming the panel, the
        image and the layers placed before the error, and the same on the status line (the
        traceback goes to the log); the panel is usable again once the worker finishes."""
        _log.error("Segment: placing the result of '%s' failed", run.name, exc_info=exc)
        kept = f"; placed {', '.join(repr(name) for name in placed)} before it" if placed else ""
        text = f"placing the result failed ({type(exc).__name__}: {exc}){kept}"
        show_error(f"Segment failed on layer '{run.name}': {text}")
        self.status_label.setText(f"'{run.name}': failed, {text}")

    def _place_result(self, run: _Run, result: SegmentResult, placed: list[str]) -> None:
        """Place a finished run's layers (appending their names to ``placed`` as they come)
        and say on the status line what was done."""
        if self._preview is not None:  # blockwise: the labels are in the output zarr
            layer = self._preview.finish(
                {SOURCE_KEY: run.name, SOURCE_ID_KEY: run.layer_id, RECIPE_KEY: result.recipe}
            )
            placed.append(layer.name)
            what = "object"
            if "lineage" in result.recipe and _results.is_linked(result.recipe):
                # a linked movie: tracks from the zarr, frame by frame
                lineage = {int(child): int(parent) for child, parent in result.recipe["lineage"]}
                _results.show_tracks(self.viewer, layer, layer.data, lineage)
                what = "track"
            seconds = time.perf_counter() - run.started
            resumed = f", {counted(result.resumed, 'block')} resumed" if result.resumed else ""
            again = self._preview.started_again.replace(": starting again", ": started again")
            said = f" {run.params_from}" if run.params_from else ""
            hid = self._hide_older_results(run, layer)
            self.status_label.setText(
                f"'{run.name}': {counted(result.n_objects, what)} in {seconds:.1f} s "
                f"({counted(result.n_blocks, 'block')}{resumed}){said}, written to "
                f"{result.path}{_read_only_note(layer)}" + (f"; {again}" if again else "") + hid
            )
            # the bar says the run is done, not the last stage's count ("checking the
            # result: 6 / 6", user test s32/t9, finding 11)
            self.progress_bar.setRange(0, 1)
            self.progress_bar.setValue(1)
            self.progress_bar.setFormat(f"done: {counted(result.n_objects, what)}")
            return
        metadata = {SOURCE_KEY: run.name, SOURCE_ID_KEY: run.layer_id, RECIPE_KEY: result.recipe()}
        metadata.update(self._frame_numbers(run, result.axes))
        if run.frames is not None:  # the numbers of the frames it holds (the engine's: indices)
            metadata[RECIPE_KEY]["frame_numbers"] = list(run.frames.numbers)
        labels_layer, replaced = self._place_output(run, "labels", result.labels, metadata)
        placed.append(labels_layer.name)
        _results.note_labels_state(labels_layer, metadata[RECIPE_KEY]["params"], result.lineage)
        _results.register(labels_layer, result, self.viewer.layers)  # for the Tune widget
        # a time-lapse method linked the frames; a 2D image was one frame (YX labels, as
        # `tessella segment` writes them): no tracks to draw
        one_frame = result.lineage is not None and "T" not in result.axes
        if result.lineage is not None and not one_frame:
            _results.show_tracks(self.viewer, labels_layer, result.labels, result.lineage)
        if len(result.predictions) == 1 and result.labels.ndim == 2:  # objects may overlap
            from tessella.engine.methods import get_method

            method = get_method(result.model.card.method)
            hidden = _results.overlap_labels(
                method, result.predictions[0], result.params, result.labels
            )
            _results.show_overlaps(self.viewer, labels_layer, hidden)
        if run.show_outputs:  # every single-channel map: seed, boundary, foreground...
            self._place_maps(run, result, metadata, labels_layer)
        # the labels are what a user tunes and corrects next (not the Tracks or a map added
        # after them, which napari selects)
        self.viewer.layers.selection.active = labels_layer
        self.progress_bar.setValue(self.progress_bar.maximum())
        objects = np.unique(result.labels[result.labels > 0]).size
        seconds = time.perf_counter() - run.started
        linked = result.lineage is not None and getattr(result.params, "link", True) is not False
        what = "track" if linked and not one_frame else "object"
        kept = ""
        if one_frame:
            kept += " (a 2D image is one frame of a time-lapse: no tracks)"
        if run.averaged:
            kept += f" ({run.averaged})"
        done = f"replaced '{labels_layer.name}'" if replaced else f"added '{labels_layer.name}'"
        hid = self._hide_older_results(run, labels_layer)
        said = f" {run.params_from}" if run.params_from else ""  # (where they came from)
        self.status_label.setText(
            f"'{run.name}': {counted(objects, what)} in {seconds:.1f} s{said}, {done}{kept}{hid}"
        )

    def _hide_older_results(self, run: _Run, labels) -> str:
        """Hide the other results of the run's image (labels layers Segment made from it,
        with their tracks and overlaps), which showed through the new ``labels`` at 0.7
        opacity, two colours on one cell (user test s33/t12 #8), and the preview of a
        blockwise run of that image cancelled into another output (its blocky labels showed
        through too, r9 #3): made invisible, not removed. A layer the panel hid once and the
        user showed again is theirs to see: not hidden again. ``labels`` itself is shown
        where the panel hid it before (a result replaced into it). Returns what the status
        line adds ("" where nothing was hidden): "; hid 'cells labels (nuclei2d)' (an older
        result of 'cells', kept: tick its eye to compare)"; "; hid 'cells labels (nuclei2d,
        blocks so far)' (the blocks a cancelled run kept for a.zarr: Run into a.zarr to
        resume it)"."""
        hidden_before = self._hidden_results
        if labels.unique_id in hidden_before:
            hidden_before.discard(labels.unique_id)
            labels.visible = True
        ours = {labels.unique_id}
        for kind in ("tracks", "overlaps"):
            companion = _results.companion_layer(self.viewer, labels, kind)
            if companion is not None:
                ours.add(companion.unique_id)
                hidden_before.discard(companion.unique_id)
        hid, previews = [], []
        for layer in list(self.viewer.layers):
            if not isinstance(layer, Labels) or layer.unique_id in ours:
                continue
            if layer.metadata.get(SOURCE_ID_KEY) != run.layer_id:
                continue
            older = [layer]
            older += [
                companion
                for kind in ("tracks", "overlaps")
                if (companion := _results.companion_layer(self.viewer, layer, kind)) is not None
                and companion.unique_id not in ours
            ]
            for old in older:
                if old.visible and old.unique_id not in hidden_before:
                    old.visible = False
                    hidden_before.add(old.unique_id)
                    out = old.metadata.get(PREVIEW_KEY)
                    if out:  # a cancelled blockwise run's blocks so far (r9 #3)
                        previews.append((old.name, Path(str(out)).name))
                    else:
                        hid.append(old.name)
        said = ""
        if hid:
            names = ", ".join(f"'{name}'" for name in hid)
            one = len(hid) == 1
            what, eye = ("an older result", "its eye") if one else ("older ones", "their eyes")
            said = f"; hid {names} ({what} of '{run.name}', kept: tick {eye} to compare)"
        for name, out in previews:
            said += (
                f"; hid '{name}' (the blocks a cancelled run kept for {out}: Run into {out} "
                "to resume it)"
            )
        return said

    def _place_maps(self, run: _Run, result: SegmentResult, metadata: dict, labels) -> None:
        """Place the network's maps (:func:`network_maps`) below the ``labels`` layer, just
        above the image where it lies below them: the labels stay on top, readable, while
        they are tuned. A new map layer is translucent at :data:`MAP_OPACITY` with its
        probabilities on a fixed 0-1 scale, the first one shown and the others hidden (two
        maps at half opacity hide the image); a map of a previous run of the same model is
        replaced in place and keeps how the user shows it."""
        hidden = False
        for kind, data in network_maps(result):
            layer, replaced = self._place_output(run, kind, data, metadata)
            if not replaced:
                if 0.0 <= float(data.min()) and float(data.max()) <= 1.0:
                    layer.contrast_limits = (0.0, 1.0)
                layer.visible = not hidden
            hidden = True
            _below_labels(self.viewer.layers, layer, labels, self._find_layer(run.layer_id))

    def _frame_numbers(self, run: _Run, axes: str) -> dict:
        """The frame numbers of the run's image, as the reader recorded them (a folder of
        ``t052.tif ...``: :data:`~tessella._io_folder.FRAME_NUMBERS_KEY`), for its results
        over time (``axes`` with T): Export names their CTC masks by them; {} otherwise (a
        folder of slices segmented as a volume has no frames); a run of some of its frames
        (*Frames*), the numbers of those."""
        if run.frames is not None and "T" in axes:  # some of its frames: theirs
            return {FRAME_NUMBERS_KEY: list(run.frames.numbers)}
        image = self._find_layer(run.layer_id)
        numbers = None if image is None else image.metadata.get(FRAME_NUMBERS_KEY)
        if "T" not in axes or not numbers:
            return {}
        return {FRAME_NUMBERS_KEY: list(numbers)}

    def _previous_output(self, image_id, kind: str, result_key: dict | None = None):
        """The ``kind`` layer Segment placed for image ``image_id`` (with ``result_key``: by
        that model on those axes) and a new run replaces (by any Segment panel of the viewer,
        this one or one closed since), or None."""
        return next(
            (lay for lay in self.viewer.layers if _is_output(lay, image_id, kind, result_key)),
            None,
        )

    def _new_name(self, run: _Run, kind: str) -> str:
        """The name of a new ``kind`` layer of ``run``: :func:`result_name`, with the axes
        added (``"<image> labels (nuclei2d, TYX)"``) where a layer of that name holds the same
        model's result on other axes (a stack read as a volume and as frames)."""
        ours = run.result_key or {}
        if run.frames is not None:  # beside the whole movie's result, not over it
            return result_name(run.name, kind, f"{ours.get('model')}, {run.frames.said}")
        name = result_name(run.name, kind, str(ours.get("model")))
        for layer in self.viewer.layers:
            if layer.name != name:
                continue
            mark = layer.metadata.get(OUTPUT_KEY)
            theirs = mark.get("result") if isinstance(mark, dict) else None
            if isinstance(theirs, dict) and theirs.get("axes") != ours.get("axes"):
                return result_name(run.name, kind, f"{ours.get('model')}, {ours.get('axes')}")
        return name  # (another layer of that name: napari numbers the new one)

    def _place_output(self, run: _Run, kind: str, data: np.ndarray, metadata: dict):
        """Replace the data of the previous ``kind`` layer the same model made for the image,
        or add one. Returns ``(layer, replaced)``: whether an existing layer was replaced."""
        layer = self._previous_output(run.layer_id, kind, run.result_key)
        if layer is not None and _renamed(layer):  # a result the user named: kept
            _unmark(layer)
            layer = None
        if layer is not None and layer.metadata.get(EDITED_KEY):
            if not self.replace_edited_checkbox.isChecked():
                show_info(f"Segment: kept '{layer.name}', which you edited; added a new layer.")
                _unmark(layer)
                layer = None
        if layer is not None and layer.ndim == data.ndim:
            with _results.writing(layer):  # the new result, not an edit
                layer.data = data
                layer.scale = run.scale
                layer.translate = run.translate
                layer.units = run.units
                # (the frame numbers of this run's image, not the previous one's)
                dropped = (EDITED_KEY, FRAME_NUMBERS_KEY)
                kept = {k: v for k, v in layer.metadata.items() if k not in dropped}
                layer.metadata = {**kept, **metadata}
            _restart_history(layer)  # (napari keeps it: Ctrl+Z would bring old pixels back)
            return layer, True
        if layer is not None:  # of other dimensions: a new layer takes its place
            _unmark(layer)
        options = {"scale": run.scale, "translate": run.translate, "units": run.units}
        options["metadata"] = metadata
        name = self._new_name(run, kind)
        if kind == "labels":
            layer = self.viewer.add_labels(data, name=name, **options)
            _watch_edits(layer)
        else:
            layer = self.viewer.add_image(
                data,
                name=name,
                colormap=MAP_COLORMAP,
                blending=MAP_BLENDING,
                opacity=MAP_OPACITY,
                **options,
            )
        mark = {"kind": kind, "layer_id": layer.unique_id, "result": run.result_key}
        layer.metadata = {**layer.metadata, OUTPUT_KEY: {**mark, "name": layer.name}}
        return layer, False
