"""The Tune dock widget: a segmentation's post-processing parameters as live controls.

A change re-runs only ``method.postprocess(prediction, params)`` on the network prediction the
Segment widget cached (:mod:`tessella._widgets._results`); the network never runs here. A change
starts a run in a thread worker at once; changes in the next :data:`DEBOUNCE_MS`, and changes
made while a preview of the same labels layer runs, wait and then run together, once, with the
latest values: the run under way finishes and is shown first, so a dragged slider redraws as
often as the method allows and the labels end on the last value. Apply to all, Reset and Load
recipe on a volume, and a change during Apply to all supersede the run under way instead (its
labels are dropped, it stops at its next frame). A run goes on when another layer is chosen
meanwhile, and its labels land in its own layer. For
time-lapse (``T``) results only the frame on screen is updated until "Apply to all"; a volume
shows a 2D preview of the slice on screen, except for Reset and Load recipe, which redo the
whole volume. Recipes saved here are what ``tessella segment --recipe FILE`` replays; Save
recipe warns when the labels on screen are not what its parameters make. An update that fails
leaves the labels as they were, and the controls go back to the values that made them.

Integer parameters with a range wider than :data:`MAX_SLIDER_STEPS` (``min_size`` goes up to a
million) get a spin box whose step grows with the value (1, 10, 100, ...), not a slider.
"""

from __future__ import annotations

import json
import time
from collections.abc import Generator
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

import numpy as np
from napari.layers import Labels
from napari.qt.threading import create_worker
from napari.utils.notifications import show_error, show_warning
from qtpy.QtCore import QTimer, Signal
from qtpy.QtWidgets import (
    QAbstractSpinBox,
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QWidget,
)
from superqt import QLabeledDoubleSlider, QLabeledSlider
from superqt.utils import GeneratorWorker

from tessella.engine.params import params_to_dict

from . import _results
from ._layers import LayerWatcher, fill_layer_combo, find_layer
from ._layout import panel_layout
from ._workers import close_when_finished, report_runtime_errors

if TYPE_CHECKING:
    import napari.viewer

    from tessella.engine.params import ParamSpec
    from tessella.engine.pipeline import SegmentResult

__all__ = ["TuneWidget", "DEBOUNCE_MS", "MAX_SLIDER_STEPS"]

DEBOUNCE_MS = 30  # after a start, changes wait this long and then run together
MAX_SLIDER_STEPS = 5000  # wider integer ranges get a spin box with growing steps
#: a preview of one frame or slice is recorded as a state of labels up to this size (bytes),
#: so that the controls follow an undo back to it; checksumming larger labels at each
#: preview would slow the slider (about 40 ms here for this size)
PREVIEW_STATE_BYTES = 2**26


@report_runtime_errors
def _postprocess_frames(
    method,
    predictions: list,
    params,
    frames: tuple[int, ...],
    plane: int | None = None,
    series: bool = False,
    overlaps: bool = False,
) -> Generator:
    """Yield ``(frame, labels)`` per frame; a quit worker stops at the next frame. With
    ``plane``, only that Z slice of each frame's volume is post-processed (in 2D). With
    ``overlaps`` (a method whose objects overlap), ``(frame, labels, hidden)``: the objects
    the labels hide in part (:func:`._results.overlap_labels`), found here, off the GUI thread,
    from the same assembly as the labels where the method offers ``labels_and_instances``.

    Time-lapse methods (``postprocess_series``): a frame alone is previewed with its
    neighbours' smoothing but unlinked; ``series`` redoes the whole movie, yielding
    ``(frame, None)`` as each frame is done and ``(None, (labels, lineage))`` after linking.
    Every frame of a movie segmented frame by frame is numbered after the frames before it,
    as Segment numbers them (one ID, one object of the movie)."""
    from tessella.engine.pipeline import (
        number_frame,
        series_without_blank_frames,
        without_blank_parts,
    )

    if series:
        steps = method.postprocess_series_steps(predictions, params)
        while True:
            try:
                yield next(steps), None
            except StopIteration as stop:
                labels, lineage = stop.value
                linked = bool(getattr(params, "link", True))
                yield None, series_without_blank_frames(labels, lineage, predictions, linked)
                return
    whole_movie = len(predictions) > 1 and tuple(frames) == tuple(range(len(predictions)))
    after = 0  # the last ID of the frames before
    for t in frames:  # a blank frame or slice keeps no labels, as in Segment
        if hasattr(method, "postprocess_frame"):
            labels = method.postprocess_frame(predictions, t, params)
            yield t, without_blank_parts(labels, predictions[t])
            continue
        prediction = predictions[t] if plane is None else _z_slice(predictions[t], plane)
        if overlaps and hasattr(method, "labels_and_instances"):  # one assembly, not two
            labels, stack = method.labels_and_instances(prediction, params)
            # overlap_labels takes the objects from ``instances``: these, already assembled
            assembled = SimpleNamespace(instances=lambda *_, stack=stack: stack)
        else:
            labels, assembled = method.postprocess(prediction, params), method
        labels = without_blank_parts(labels, predictions[t], plane)
        if whole_movie:
            labels, after = number_frame(labels, after)
        if overlaps and labels.ndim == 2:
            yield t, labels, _results.overlap_labels(assembled, prediction, params, labels)
        else:
            yield t, labels


def _z_slice(prediction, z: int):
    """Slice ``z`` of a volume prediction as a 2D prediction."""
    from tessella.engine.methods import Prediction

    axis = prediction.spatial_axes.index("Z")
    arrays = {k: v[(slice(None),) * (axis + 1) + (z,)] for k, v in prediction.arrays.items()}
    meta = dict(prediction.meta)
    if meta.get("spacing") is not None:
        meta["spacing"] = tuple(s for i, s in enumerate(meta["spacing"]) if i != axis)
    return Prediction(arrays, prediction.spatial_axes.replace("Z", ""), meta)


def _slice_preview(method, result) -> bool:
    """Whether a volume's current slice can be post-processed on its own first: 3D labels
    without T from maps that are all scalar (a slice of 3D offset vectors is not a 2D one)."""
    return (
        "Z" in result.axes
        and "T" not in result.axes
        and all(kind == "scalar" for kind in method.OUTPUT_KINDS.values())
    )


def _count_objects(labels: np.ndarray) -> int:
    """How many objects (non-zero IDs) ``labels`` hold."""
    if labels.size == 0:
        return 0
    top = int(labels.max())
    if top <= 4 * labels.size:  # counting IDs is ~10x faster than sorting the pixels
        ids = labels.ravel().astype(np.intp, copy=False)  # (bincount takes no uint64)
        return int(np.count_nonzero(np.bincount(ids)[1:]))
    return int(np.unique(labels[labels > 0]).size)


def _canvas_drawn(widget: QWidget):
    """The ``frameSwapped`` signal of the viewer's canvas, emitted when it has drawn a frame:
    the largest OpenGL widget shown in the window ``widget`` is docked in. None when there
    is none (not docked, a viewer not shown)."""
    from qtpy.QtOpenGLWidgets import QOpenGLWidget

    shown = [c for c in widget.window().findChildren(QOpenGLWidget) if c.isVisible()]
    if not shown:
        return None
    return max(shown, key=lambda canvas: canvas.width() * canvas.height()).frameSwapped


def _small(data, limit: int) -> bool:
    """Whether ``data`` is an array in memory of at most ``limit`` bytes (not lazy labels)."""
    return isinstance(data, np.ndarray) and data.nbytes <= limit


def _decimals(spec: ParamSpec) -> int:
    """Decimals of a float control: a step of about 1/100 of the range, rounded to 10^-n."""
    if spec.low is None or spec.high is None or spec.high <= spec.low:
        return 3
    return max(0, -round(np.log10((spec.high - spec.low) / 100)))


def _lowest_means(spec: ParamSpec) -> str:
    """What the lowest value of ``spec`` means where its help says so ("0 = no limit": "no
    limit"), shown instead of that value; empty where it says nothing."""
    import re

    if spec.low is None:
        return ""
    said = re.search(rf"\b{spec.kind(spec.low)!s} = ([\w ]+)", spec.help)
    return "" if said is None else said.group(1).strip()


def _odd_only(spec: ParamSpec) -> bool:
    """Whether the help of ``spec`` (an integer) says that even values act as the next odd
    one (a median's size): its control then steps over them."""
    return spec.kind is int and "even sizes act as the next odd" in spec.help


def _make_control(spec: ParamSpec) -> QWidget:
    """A check box, a labelled slider, or for wide/open ranges a spin box with growing steps;
    a spin box shows what its lowest value means ("no limit") where the help says so."""
    bounded = spec.low is not None and spec.high is not None
    if spec.kind is bool:
        return QCheckBox()
    if spec.kind is int and bounded and spec.high - spec.low <= MAX_SLIDER_STEPS:
        control = QLabeledSlider()
    elif spec.kind is float and bounded:
        control = QLabeledDoubleSlider()
        control.setDecimals(_decimals(spec))
        control.setSingleStep(10.0 ** -_decimals(spec))
    else:
        control = QSpinBox() if spec.kind is int else QDoubleSpinBox()
        control.setStepType(QAbstractSpinBox.StepType.AdaptiveDecimalStepType)
        control.setKeyboardTracking(False)  # one update per typed number, not per digit
        control.setSpecialValueText(_lowest_means(spec))
    limit = 2**31 - 1  # a QSpinBox's range
    low = -limit if spec.low is None else max(spec.low, -limit)
    high = limit if spec.high is None else min(spec.high, limit)
    control.setRange(spec.kind(low), spec.kind(high))
    return control


def _button(text: str, tip: str) -> QPushButton:
    button = QPushButton(text)
    button.setToolTip(tip)
    return button


def _set_value(control: QWidget, value) -> None:
    control.blockSignals(True)  # showing a value is not a change
    if isinstance(control, QCheckBox):
        control.setChecked(bool(value))
    else:
        control.setValue(value)
    control.blockSignals(False)


@dataclass(frozen=True)
class _Request:
    """One post-processing run and where its labels go. Only the latest request of its layer
    (compared by identity) writes: a superseded run's labels are dropped even when they arrive
    last. ``started``: when the values it runs with were set (the status times the update
    from there)."""

    layer_id: Any
    axes: str  # of the labels
    n_frames: int
    params: Any
    frames: tuple[int, ...]
    apply_all: bool
    plane: int | None = None  # the Z slice previewed in 2D, for a volume
    layer_name: str = "?"  # as the request was made (the layer may be gone when it ends)
    method: Any = None  # the method module of the layer's result
    started: float = field(default_factory=time.perf_counter)
    written: set = field(default_factory=set)  # the frames of a movie this run wrote


class TuneWidget(LayerWatcher, QWidget):
    """Tune the post-processing parameters of a Segment result, live.

    ``controls[name]`` holds the control of each parameter of the result's method; setting
    its value (or calling :meth:`set_param`) updates the labels layer; :attr:`update_finished`
    says when, :attr:`busy` whether anything is still due or running.
    """

    #: emitted when the latest requested update has finished (done, failed or cancelled)
    update_finished = Signal()

    def __init__(self, napari_viewer: napari.viewer.Viewer, parent: QWidget | None = None):
        super().__init__(parent)
        self.viewer = napari_viewer
        self.controls: dict[str, QWidget] = {}
        self._row_labels: dict[str, QLabel] = {}  # the name beside each control
        self._tips: dict[str, str] = {}  # each control's tooltip while it can act
        self._no_axis: set[str] = set()  # parameters the labels' axes leave nothing to act on
        self._switches: dict[str, str] = {}  # parameter -> the switch it acts only with
        self._workers: set[GeneratorWorker] = set()  # every worker not finished yet
        # layer id -> its latest request and that request's worker, until the worker ends
        self._requests: dict[Any, _Request] = {}
        self._worker_of: dict[Any, GeneratorWorker] = {}
        self._progress: dict[Any, int] = {}  # layer id -> parts its latest request has done
        self._params: dict[Any, Any] = {}  # layer id -> parameters chosen here
        self._stale: dict[Any, set[int]] = {}  # layer id -> frames left at older parameters
        self._edited: set = set()  # layer ids painted or corrected since Tune last wrote them
        self._watched: set = set()  # layer ids whose edits this widget hears of
        # layer id -> the fingerprint of labels the controls are known to match though they
        # may not be the parameters of that state (a preview that changed nothing)
        self._in_step: dict[Any, str] = {}
        self._failed: set = set()  # layer ids whose latest request failed
        # layer id -> the parameters of the labels last written into it (a failed update
        # brings the controls back to them)
        self._written_with: dict[Any, Any] = {}
        # layer id -> whole: a change that arrived during the quiet period after a start or
        # while a preview of that layer runs, run when they end (whole: the whole volume, not
        # a slice preview)
        self._due: dict[Any, bool] = {}
        self._changed_at: dict[Any, float] = {}  # layer id -> when its latest change came
        # (status text, its "updated in N ms", when the labels were set): the drawing of the
        # latest update, timed when the canvas has drawn it
        self._drawing: tuple[str, str, float] | None = None
        self._drawn: Any = None  # the canvas's signal that it drew, while it is listened to
        self._status_names: tuple | None = None  # (layer id, name) the status line starts with

        self.layer_combo = QComboBox()
        self.layer_combo.setToolTip("Labels layers made by Segment in this session")
        self.params_box = QGroupBox("Parameters")
        self.params_form = QFormLayout(self.params_box)
        self.reset_button = _button("Reset", "Back to the model's default parameters")
        self.save_button = _button("Save recipe…", "Model and parameters for segment --recipe")
        self.load_button = _button("Load recipe…", "Use the parameters of a recipe JSON")
        self.apply_all_button = _button(
            "Apply to all", "Post-process every frame (or the whole volume) with these values"
        )
        self.cancel_button = _button("Cancel", "Stop Apply to all after the current frame")
        self.progress_bar = QProgressBar()
        self.progress_bar.setFormat("")  # "%v / %m frames" once a run starts
        self.progress_bar.setValue(0)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)

        layout, footer = panel_layout(self)  # the parameters scroll; Apply and status stay
        form = QFormLayout()
        form.addRow("Labels", self.layer_combo)
        layout.addLayout(form)
        layout.addWidget(self.params_box)
        for buttons in (
            (self.reset_button, self.save_button, self.load_button),
            (self.apply_all_button, self.cancel_button),
        ):
            row = QHBoxLayout()
            for button in buttons:
                row.addWidget(button)
            (footer if self.apply_all_button in buttons else layout).addLayout(row)
        layout.addStretch(1)
        footer.addWidget(self.progress_bar)
        footer.addWidget(self.status_label)

        self.layer_combo.currentIndexChanged.connect(self._on_layer_changed)
        self.reset_button.clicked.connect(self._on_reset_clicked)
        self.save_button.clicked.connect(self._on_save_clicked)
        self.load_button.clicked.connect(self._on_load_clicked)
        self.apply_all_button.clicked.connect(self._on_apply_all_clicked)
        self.cancel_button.clicked.connect(self._on_cancel_clicked)
        self._timer.timeout.connect(self._on_quiet_period_over)
        self._watch_layers()
        changed = _results.results.changed
        changed.connect(self._on_results_changed)
        # the cache outlives viewers: stop hearing from it once this widget is gone
        self.destroyed.connect(lambda *_: changed.disconnect(self._on_results_changed))

        self._refresh_layers()
        if self.layer_combo.currentIndex() < 0:
            self._on_layer_changed(-1)

    # --- state --------------------------------------------------------------------------------

    @property
    def labels_layer(self) -> Labels | None:
        """The labels layer chosen in the combo box."""
        return self._find_layer(self.layer_combo.currentData())

    @property
    def result(self) -> SegmentResult | None:
        """The cached Segment result behind the chosen labels layer."""
        layer_id = self.layer_combo.currentData()
        return None if layer_id is None else _results.get(layer_id)

    @property
    def method(self):
        """The method module (``Params``, ``postprocess``) of the chosen result."""
        from tessella.engine.methods import get_method

        return None if self.result is None else get_method(self.result.model.card.method)

    @property
    def params(self):
        """The parameters the controls show (the result's until changed here)."""
        default = None if self.result is None else self.result.params
        return self._params.get(self.layer_combo.currentData(), default)

    @property
    def busy(self) -> bool:
        """Whether an update is due or any worker, stale ones included, is still running."""
        return bool(self._workers) or bool(self._due)

    @property
    def worker(self) -> GeneratorWorker | None:
        """The worker of the latest request of the chosen layer, until it ends."""
        return self._worker_of.get(self.layer_combo.currentData())

    def _find_layer(self, layer_id):
        return find_layer(self.viewer, layer_id)

    # --- layers -------------------------------------------------------------------------------

    def _refresh_layers(self, event=None) -> None:
        """List the labels layers with a cached result, keeping the choice (else the active)."""
        layers = [
            layer
            for layer in self.viewer.layers
            if isinstance(layer, Labels) and layer.unique_id in _results.results
        ]
        for layer in layers:  # hand edits (paint, fill, Correct) go through ``paint``
            if layer.unique_id not in self._watched:
                self._watched.add(layer.unique_id)
                layer.events.paint.connect(partial(self._on_paint, layer.unique_id))
        if fill_layer_combo(self.layer_combo, self.viewer, layers):
            self._on_layer_changed(self.layer_combo.currentIndex())
        self._rename_in_status()

    def _say(self, text: str, layer: Labels | None = None) -> None:
        """Show ``text`` in the status line, after ``'layer name'`` when about a layer (the
        name then follows a rename of the layer)."""
        if layer is not None:
            self._status_names = (layer.unique_id, layer.name)
            text = f"'{layer.name}'{text}"
        else:
            self._status_names = None
        self.status_label.setText(text)

    def _rename_in_status(self) -> None:
        """A layer was renamed (or added, removed, moved): the status line names it anew."""
        if self._status_names is None:
            return
        layer_id, name = self._status_names
        layer = self._find_layer(layer_id)
        if layer is None or layer.name == name:
            return
        text, shown = self.status_label.text(), f"'{name}'"
        if text.startswith(shown):
            self._say(text[len(shown) :], layer)

    def _layer_removed(self, layer) -> None:
        self._supersede(layer.unique_id)  # nowhere to write its labels
        self._params.pop(layer.unique_id, None)
        self._stale.pop(layer.unique_id, None)
        self._edited.discard(layer.unique_id)
        self._in_step.pop(layer.unique_id, None)
        self._changed_at.pop(layer.unique_id, None)
        self._written_with.pop(layer.unique_id, None)

    def _on_paint(self, layer_id, event=None) -> None:
        if not _results.tool_is_writing(layer_id):  # Tune's own updates are not edits
            self._edited.add(layer_id)

    def _on_results_changed(self, layer_id) -> None:
        """Show a result Segment has just placed (a new result starts from its parameters)."""
        self._supersede(layer_id)  # an update of the result it replaces
        self._params.pop(layer_id, None)
        self._stale.pop(layer_id, None)
        self._edited.discard(layer_id)
        self._in_step.pop(layer_id, None)
        self._written_with.pop(layer_id, None)
        self._changed_at.pop(layer_id, None)
        self._refresh_layers()
        index = self.layer_combo.findData(layer_id)
        if index >= 0 and index == self.layer_combo.currentIndex():
            self._on_layer_changed(index)  # the same layer with a new result
        elif index >= 0:
            self.layer_combo.setCurrentIndex(index)

    def _on_layer_changed(self, index: int) -> None:
        """Build one control per parameter of the chosen result's method. An update of the
        layer chosen before goes on (a change still due starts now) and lands in that layer,
        so that its controls, when it is chosen again, show what made its labels."""
        from tessella.engine.params import param_specs

        for layer_id in list(self._due):
            self._run_due(layer_id)
        while self.params_form.rowCount():
            self.params_form.removeRow(0)
        self.controls, self._row_labels, self._tips, self._no_axis = {}, {}, {}, set()
        self._switches = {}
        result, method = self.result, self.method
        for control in (self.reset_button, self.save_button, self.load_button):
            control.setEnabled(result is not None)
        several = result is not None and (
            len(result.predictions) > 1 or _slice_preview(method, result)
        )  # frames, or a volume previewed slice by slice
        for control in (self.apply_all_button, self.cancel_button, self.progress_bar):
            control.setVisible(several)
        self.apply_all_button.setEnabled(several)
        self.cancel_button.setEnabled(False)
        self.progress_bar.setFormat("")  # no count of another layer's (or result's) update
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        if result is None:
            self.params_box.setTitle("Parameters")
            self._say("Run Segment first: its labels layers are listed here.")
            return
        self.params_box.setTitle(f"Parameters ({result.model.card.name}, {method.NAME})")
        for spec in param_specs(method.Params):
            control = _make_control(spec)
            label = QLabel(spec.name)
            missing = [axis for axis in spec.needs if axis not in result.axes]
            tip = spec.help
            if missing:  # e.g. a filter along Z on a 2D image: shown, but it cannot act
                tip = (
                    f"Not used here: {spec.name} acts along {', '.join(spec.needs)}, and these "
                    f"labels ({result.axes}) have no {', '.join(missing)} axis. {spec.help}"
                )
                control.setEnabled(False)
                label.setEnabled(False)
                self._no_axis.add(spec.name)
            control.setToolTip(tip)
            label.setToolTip(tip)
            self.params_form.addRow(label, control)
            self.controls[spec.name] = control
            self._row_labels[spec.name], self._tips[spec.name] = label, tip
            if spec.only_with:
                self._switches[spec.name] = spec.only_with
            signal = control.toggled if isinstance(control, QCheckBox) else control.valueChanged
            signal.connect(partial(self._on_param_changed, spec))
        self._show_params(self.params)
        self._say(": move a control to update.", self.labels_layer)
        request = self._requests.get(self.layer_combo.currentData())
        if request is not None:  # still updating (chosen again meanwhile): its progress
            self._show_progress(request)
            self.cancel_button.setEnabled(request.apply_all)
        others = [
            find_layer(self.viewer, layer_id)
            for layer_id in self._requests
            if layer_id != self.layer_combo.currentData()
        ]
        names = ", ".join(f"'{layer.name}'" for layer in others if layer is not None)
        if names:
            self.status_label.setText(
                f"{self.status_label.text()} ({names}: still updating, in its own layer)"
            )

    # --- parameters ---------------------------------------------------------------------------

    def _show_params(self, params) -> None:
        for name, control in self.controls.items():
            _set_value(control, getattr(params, name))
        self._grey_out_switched_off(params)

    def _grey_out_switched_off(self, params) -> None:
        """Grey out the controls of parameters whose switch (``ParamSpec.only_with``) is off
        in ``params`` (a time-lapse's tracking parameters with ``link`` off), their tooltip
        saying why; the others as they were built (those the labels' axes leave nothing to
        act on stay greyed out)."""
        for name, switch in self._switches.items():
            control, label = self.controls.get(name), self._row_labels.get(name)
            if control is None or label is None or name in self._no_axis:
                continue
            on = bool(getattr(params, switch, True))
            tip = self._tips[name]
            if not on:
                tip = f"Not used now: {name} acts only while {switch} is on. {tip}"
            for widget in (control, label):
                widget.setEnabled(on)
                widget.setToolTip(tip)

    def enterEvent(self, event) -> None:
        """The pointer comes to the controls: first make them show what the labels on
        screen were made with (Ctrl+Z may have undone an update since)."""
        self.follow_labels_on_screen()
        super().enterEvent(event)

    def _updating(self, layer_id) -> bool:
        """Whether an update of ``layer_id`` is due or running."""
        return layer_id in self._requests or layer_id in self._due

    def follow_labels_on_screen(self) -> bool:
        """Show the parameters of the labels on screen when they are a recorded state other
        than the controls' (an undone or redone update, or a preview of one frame or slice);
        True if the controls changed."""
        from tessella.engine.params import make_params

        layer, result = self.labels_layer, self.result
        if layer is None or result is None or self._updating(layer.unique_id):
            return False
        state = _results.state_on_screen(layer)  # not hand-edited labels: no parameters made
        if state is None or state["fingerprint"] == self._in_step.get(layer.unique_id):
            return False
        values = state.get("preview")  # a preview: the parameters the controls showed
        if values is None and (state.get("edited") or not state["recipe"].get("params")):
            return False
        try:
            params = make_params(self.method.Params, **(values or state["recipe"]["params"]))
        except ValueError:  # a recipe of an older version of the method
            return False
        if params == self.params:
            return False
        self._params[layer.unique_id] = self._written_with[layer.unique_id] = params
        self._in_step[layer.unique_id] = state["fingerprint"]
        for control in self.controls.values():  # shown, not applied: they are on screen
            control.blockSignals(True)
        try:
            self._show_params(params)
        finally:
            for control in self.controls.values():
                control.blockSignals(False)
        lineage = state.get("lineage")
        if lineage is not None and _results.tracks_layer(self.viewer, layer) is not None:
            linked = bool(getattr(params, "link", True))
            _results.show_tracks(self.viewer, layer, np.asarray(layer.data), lineage, linked)
        if values is not None and state.get("edited"):
            self._say(
                ": the controls show the parameters of the preview on screen (one frame or "
                "slice; Apply to all to make them the labels' recipe)",
                layer,
            )
        else:
            self._say(": the controls show the parameters of the labels on screen", layer)
        return True

    def _on_param_changed(self, spec: ParamSpec, value) -> None:
        if spec.kind is float and spec.low is not None and spec.high is not None:
            value = round(float(value), _decimals(spec) + 1)  # not the slider's float noise
        if _odd_only(spec) and value > 0 and value % 2 == 0:  # shown as it acts: odd
            down = self.params is not None and value < getattr(self.params, spec.name)
            high = spec.high if spec.high is not None else value + 1
            value = value - 1 if down or value + 1 > high else value + 1
        self.set_param(spec.name, value)

    def set_param(self, name: str, value) -> bool:
        """Validate ``name=value`` and schedule an update; False (and an error) if invalid."""
        from tessella.engine.params import make_params

        if self.result is None:
            return False
        try:
            params = make_params(self.method.Params, self.params, **{name: value})
        except ValueError as exc:
            show_error(f"Tune: {exc}")
            self._show_params(self.params)
            return False
        if self._not_in_preview(name):
            self._keep_for_apply_to_all(params, name)
        else:
            self._use_params(params)
        return True

    def _not_in_preview(self, name: str) -> bool:
        """Whether ``name`` cannot act in the chosen volume's preview of one slice in 2D (it
        acts along Z): a preview would change nothing."""
        from tessella.engine.params import param_specs

        if not self._whole_volume():
            return False
        return any(s.name == name and "Z" in s.needs for s in param_specs(self.method.Params))

    def _keep_for_apply_to_all(self, params, name: str) -> None:
        """Show ``params`` without running a preview, which could not show the change of
        ``name``; the status says that it acts at *Apply to all*."""
        layer_id, layer = self.layer_combo.currentData(), self.labels_layer
        self._params[layer_id] = params
        self._show_params(params)
        if layer is None:
            return
        state = _results.state_on_screen(layer)
        if state is not None:  # the controls stay on these labels (an undo moves them)
            self._in_step[layer_id] = state["fingerprint"]
        self._say(
            f": {name}={getattr(params, name)} applies at Apply to all (it acts across "
            "slices; the preview of one slice is 2D, so none was run)",
            layer,
        )

    def _use_params(self, params, whole: bool = False) -> None:
        """Show ``params`` and update the labels with them: the frame or slice on screen, or
        with ``whole`` the whole volume."""
        layer_id = self.layer_combo.currentData()
        self._params[layer_id] = params
        self._changed_at[layer_id] = time.perf_counter()
        self._show_params(params)
        # coalesced: runs with the latest values when the quiet period or the preview under
        # way ends
        self._due[layer_id] = whole or self._due.get(layer_id, False)
        if not self._timer.isActive():
            self._run_due(layer_id)

    def _run_due(self, layer_id) -> None:
        """Start the update due for ``layer_id`` (chosen or not), unless it waits for the
        preview of that layer under way: that one is shown first, then this one starts
        (:meth:`_on_finished`). An update of the whole volume supersedes a preview, and any
        change supersedes *Apply to all*, which would keep the user waiting frame after
        frame."""
        whole = self._due.get(layer_id)
        if whole is None:
            return
        running = self._requests.get(layer_id)
        if running is not None and not running.apply_all and not whole:
            return
        del self._due[layer_id]
        self._start(apply_all=whole, layer_id=layer_id)

    def _on_quiet_period_over(self) -> None:
        for layer_id in list(self._due):
            self._run_due(layer_id)

    def _whole_volume(self) -> bool:
        """Whether the chosen result is a volume whose changes are previewed slice by slice:
        Reset and Load recipe then redo it whole (a preview of one slice in 2D would leave
        the volume different from what the parameters make)."""
        result = self.result
        return result is not None and _slice_preview(self.method, result)

    def reset(self) -> None:
        """Go back to the model card's default parameters (for a volume, of all of it)."""
        from tessella.engine.pipeline import resolve_params

        if self.result is not None:
            self._use_params(resolve_params(self.result.model), whole=self._whole_volume())

    def _on_reset_clicked(self) -> None:
        self.reset()

    # --- recipes ------------------------------------------------------------------------------

    def save_recipe(self, path: str | Path) -> Path | None:
        """Write the result's recipe with the current parameters (atomically) to ``path``.

        When the labels on screen are not what these parameters make (a preview of one frame
        or slice, an update still running or failed, hand edits) a warning says so and why:
        the recipe holds the controls' values, which replaying gives, not those labels."""
        from tessella.engine.io import write_json
        from tessella.engine.params import params_to_dict

        result, layer = self.result, self.labels_layer
        if result is None:
            return None
        try:
            saved = write_json(path, result.recipe() | {"params": params_to_dict(self.params)})
        except OSError as exc:
            show_error(f"Cannot save recipe {path}: {exc}")
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
        if preview or (reproduces and self._stale.get(layer.unique_id)):
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
        from tessella.engine.pipeline import resolve_params

        result = self.result
        if result is None:
            return False
        card = result.model.card
        try:
            recipe = json.loads(Path(path).read_text())
            values = recipe.get("params") if isinstance(recipe, dict) else None
            if not isinstance(values, dict):  # e.g. a model card: it would load the defaults
                raise ValueError("not a recipe (a JSON object with a 'params' object)")
            if recipe.get("method", card.method) != card.method:
                raise ValueError(f"made for method {recipe['method']!r}, not {card.method!r}")
            params = resolve_params(result.model, values)
        except (OSError, ValueError) as exc:  # JSONDecodeError is a ValueError
            show_error(f"Cannot load recipe {path}: {exc}")
            return False
        if recipe.get("model", card.name) != card.name:
            show_warning(f"Recipe {path} was made for model {recipe['model']!r}, not {card.name!r}")
        self._use_params(params, whole=self._whole_volume())
        return True

    def _on_save_clicked(self) -> None:
        layer = self.labels_layer
        name = f"{layer.name}.recipe.json" if layer is not None else "recipe.json"
        path, _ = QFileDialog.getSaveFileName(self, "Save recipe", name, "Recipe (*.json)")
        if path:
            self.save_recipe(path)

    def _on_load_clicked(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load recipe", "", "Recipe (*.json)")
        if path:
            self.load_recipe(path)

    # --- running ------------------------------------------------------------------------------

    def _current_frame(self, layer: Labels, axes: str) -> int | None:
        """The data index along T of the frame on screen, None without a T axis."""
        if "T" not in axes:
            return None
        t_axis = axes.index("T")
        position = layer.world_to_data(self.viewer.dims.point)[t_axis]
        return int(np.clip(round(position), 0, layer.data.shape[t_axis] - 1))

    def _current_slice(self, layer: Labels, axes: str) -> int:
        """The data index along Z of the slice on screen."""
        z_axis = axes.index("Z")
        position = layer.world_to_data(self.viewer.dims.point)[z_axis]
        return int(np.clip(round(position), 0, layer.data.shape[z_axis] - 1))

    def _on_apply_all_clicked(self) -> None:
        self._changed_at[self.layer_combo.currentData()] = time.perf_counter()
        self._start(apply_all=True)

    def _on_cancel_clicked(self) -> None:
        if self.worker is not None:
            self.worker.quit()  # after the frame being computed

    def _supersede(self, layer_id) -> None:
        """Make ``layer_id``'s running request stale (its worker stops at its next frame);
        drop a change due for it."""
        self._due.pop(layer_id, None)
        self._requests.pop(layer_id, None)
        self._progress.pop(layer_id, None)
        worker = self._worker_of.pop(layer_id, None)
        if worker is not None:
            worker.quit()

    def _start(self, apply_all: bool, layer_id=None) -> None:
        """Post-process with ``layer_id``'s parameters (the chosen layer's by default) and
        write the labels into that layer."""
        from tessella.engine.methods import get_method

        if layer_id is None:
            layer_id = self.layer_combo.currentData()
        layer, result = self._find_layer(layer_id), _results.get(layer_id)
        if layer is None or result is None:
            return
        method = get_method(result.model.card.method)
        params = self._params.get(layer_id, result.params)
        self._supersede(layer_id)
        self._timer.start()  # changes in the next DEBOUNCE_MS wait and run together
        if layer.unique_id in self._edited:  # hand edits: an undo back to them is known so
            tracks = _results.tracks_layer(self.viewer, layer)
            shown = None if tracks is None else tracks.metadata.get(_results.LINEAGE_KEY)
            _results.remember_edited_state(layer, shown)
        current = self._current_frame(layer, result.axes)
        n_frames = len(result.predictions)
        frames = tuple(range(n_frames)) if apply_all else (current or 0,)
        plane = None
        if not apply_all and _slice_preview(method, result):
            plane = self._current_slice(layer, result.axes)
        started = self._changed_at.pop(layer_id, None)
        request = _Request(
            layer.unique_id,
            result.axes,
            n_frames,
            params,
            frames,
            apply_all,
            plane,
            layer_name=layer.name,
            method=method,
            started=time.perf_counter() if started is None else started,
        )
        worker = create_worker(
            _postprocess_frames,
            method,
            result.predictions,
            request.params,
            frames,
            plane,
            apply_all and hasattr(method, "postprocess_series"),
            # objects that overlap (one 2D image): their "overlaps" layer follows
            hasattr(method, "instances") and n_frames == 1 and plane is None,
            _worker_class=GeneratorWorker,
            _ignore_errors=True,
            _start_thread=False,
        )
        close_when_finished(worker)
        worker.yielded.connect(partial(self._on_frame, request))
        worker.errored.connect(partial(self._on_errored, request))
        worker.finished.connect(partial(self._on_finished, request, worker))
        self._requests[layer_id], self._worker_of[layer_id] = request, worker
        self._failed.discard(layer_id)
        self._workers.add(worker)
        if layer_id == self.layer_combo.currentData():
            self.cancel_button.setEnabled(apply_all)
        self._set_progress(request, 0)
        if apply_all and self._written_with.get(layer_id) != params:
            # (else the frames or slice previewed with these values are not older)
            self._stale[layer.unique_id] = set(range(n_frames))
        worker.start()

    def _latest(self, request: _Request) -> bool:
        """Whether ``request`` is the latest of its layer (else its labels are dropped)."""
        return self._requests.get(request.layer_id) is request

    def _set_progress(self, request: _Request, done: int) -> None:
        """Count ``done`` parts of ``request``; the progress bar shows it when its layer is
        the one chosen."""
        self._progress[request.layer_id] = done
        if request.layer_id == self.layer_combo.currentData():
            self._show_progress(request)

    def _show_progress(self, request: _Request) -> None:
        movie = "T" in request.axes
        self.progress_bar.setFormat(
            "slice preview"
            if request.plane is not None
            else "%v / %m frames"
            if movie
            else "volume"
        )
        self.progress_bar.setRange(0, len(request.frames))
        self.progress_bar.setValue(self._progress.get(request.layer_id, 0))

    def _on_frame(self, request: _Request, item: tuple) -> None:
        if not self._latest(request):
            return  # superseded: a newer request's labels are on the way
        t, labels, *hidden = item  # (hidden: the objects labels of overlapping ones hide)
        layer = self._find_layer(request.layer_id)
        if layer is None:
            return
        if t is None:  # a time-lapse, post-processed and linked as a whole
            labels, lineage = labels
            undoable = _results.write_labels(
                layer, labels if layer.ndim == labels.ndim else labels[0]
            )
            self._stale[request.layer_id] = set()
            self._written_with[request.layer_id] = request.params
            _results.note_labels_state(layer, params_to_dict(request.params), lineage)
            self._in_step.pop(request.layer_id, None)
            # unlinked (link off), every object has its own ID: no tracks to draw, the
            # Tracks layer is hidden (shown again when linked)
            linked = bool(getattr(request.params, "link", True))
            _results.show_tracks(self.viewer, layer, labels, lineage, linked)
            self._warn_if_edited(layer, request, undoable)
            timed = f"in {(time.perf_counter() - request.started) * 1000:.0f} ms"
            count = int(np.unique(labels[labels > 0]).size)
            if linked:
                done = f"{count} tracks, linked {timed}"
            else:
                done = (
                    f"{count} objects, not linked (link is off: each object has its own ID, "
                    f"no tracks), {timed}"
                )
            self._say(f": {request.n_frames} frames, {done}", layer)
            self._time_the_drawing(timed)
            return
        if labels is None:  # a time-lapse frame done; the labels come after linking
            self._set_progress(request, request.frames.index(t) + 1)
            return
        # one undo step per update (Ctrl+Z brings back the labels before it, corrections
        # included), unless too large to record: then the status says so
        if request.plane is not None or "T" in request.axes:
            from tessella.engine.tracking import carry_ids

            index: list = [slice(None)] * layer.ndim
            if request.plane is not None:  # a preview of one slice of the volume
                index[request.axes.index("Z")] = request.plane
            else:
                index[request.axes.index("T")] = t
            if not request.apply_all:
                # a frame or slice previewed alone keeps the IDs of the objects it had (a
                # linked movie's tracks, a volume's 3D objects); new ones get IDs no other
                # frame or slice uses
                before = np.asarray(layer.data[tuple(index)])
                labels = carry_ids(before, labels, int(np.max(layer.data, initial=0)) + 1)
            undoable = _results.write_labels(layer, labels, tuple(index))
            if request.plane is None:
                request.written.add(t)
                _results.follow_tracks(self.viewer, layer, [t])  # the frame's tracks, if drawn
        else:
            undoable = _results.write_labels(layer, labels)
            if hidden:  # objects overlap: their layer follows, redrawn only when they changed
                self._show_overlaps(layer, hidden[0])
        timed = self._record(layer, request, t, labels)
        if request.plane is None and (request.apply_all or request.n_frames == 1):
            self._warn_if_edited(layer, request, undoable)  # (a part alone: maybe not theirs)
        if not undoable:
            self.status_label.setText(
                self.status_label.text() + " (too large a change to undo: history restarted)"
            )
        self._time_the_drawing(timed)

    def _time_the_drawing(self, timed: str) -> None:
        """Labels were just set: once the canvas has drawn them, the status line's ``timed``
        ("updated in 6 ms") gains the drawing's time ("updated in 6 ms + 58 ms drawing"), if
        it still says the same; the two are what the user waits from the value change."""
        self._drawing = (self.status_label.text(), timed, time.perf_counter())
        if self._drawn is None:
            self._drawn = _canvas_drawn(self)
            if self._drawn is not None:
                self._drawn.connect(self._on_canvas_drawn)

    def _on_canvas_drawn(self) -> None:
        if self._drawn is not None:
            self._drawn.disconnect(self._on_canvas_drawn)
            self._drawn = None
        if self._drawing is None:
            return
        text, timed, written = self._drawing
        self._drawing = None
        if self.status_label.text() == text:
            drawn = f"{timed} + {(time.perf_counter() - written) * 1000:.0f} ms drawing"
            self.status_label.setText(text.replace(timed, drawn, 1))

    def _show_overlaps(self, layer: Labels, hidden: np.ndarray) -> None:
        """Show ``hidden`` in the "overlaps" layer beside ``layer``. A redraw costs tens of
        ms on the GUI thread (napari recolours every pixel), so the layer is left alone when
        its objects did not change, and otherwise only its pixels are rewritten: Tune never
        moves the labels nor changes their shape, so the layer stays where it is (setting
        ``data`` or its placement would also recompute the viewer's extent)."""
        shown = _results.companion_layer(self.viewer, layer, "overlaps")
        if shown is None or not hidden.any():  # added, or removed: as Segment does
            _results.show_overlaps(self.viewer, layer, hidden)
            return
        data = shown.data
        if isinstance(data, np.ndarray) and data.shape == hidden.shape:
            if not np.array_equal(data, hidden):
                data[...] = hidden
                shown.refresh()
        else:
            shown.data = hidden

    def _renumber_the_rest(self, request: _Request) -> None:
        """After *Apply to all* on a movie segmented frame by frame stopped part way
        (cancelled, superseded, failed): the frames it wrote are numbered from 1 on, so the
        frames it did not reach, numbered as before, may hold the same IDs for other objects.
        They are renumbered after the largest ID of the movie, in one undo step."""
        from tessella.engine.pipeline import number_frame

        n = request.n_frames
        if not request.apply_all or "T" not in request.axes or not 0 < len(request.written) < n:
            return
        layer = self._find_layer(request.layer_id)
        if layer is None or not isinstance(layer.data, np.ndarray):
            return
        axis = request.axes.index("T")
        data = np.moveaxis(layer.data, axis, 0)
        after = int(data.max(initial=0))
        renumbered = data.copy()
        for t in sorted(set(range(n)) - request.written):
            renumbered[t], after = number_frame(data[t], after)
        if after > np.iinfo(layer.data.dtype).max:
            return  # (IDs beyond the layer's type: left as they are)
        _results.write_labels(layer, np.moveaxis(renumbered, 0, axis))

    def _warn_if_edited(self, layer: Labels, request: _Request, undoable: bool) -> None:
        """Say once, when it happens, that an update of the whole layer replaced the user's
        own edits, and whether Ctrl+Z can bring them back."""
        if request.layer_id in self._edited:
            self._edited.discard(request.layer_id)
            back = (
                "Ctrl+Z brings them back"
                if undoable
                else "the change was too large to undo, so they are lost"
            )
            show_warning(
                f"Tune: this update replaced your edits of '{layer.name}' (painting or "
                f"corrections); {back}. Tune before correcting."
            )

    def _record(self, layer: Labels, request: _Request, t: int, labels: np.ndarray) -> str:
        """Note in the status which parameters made the labels, and in the layer's recipe
        once they made all of them; a preview of one slice or frame is noted as such (an
        undo back to it brings its parameters back to the controls). The status says how
        long since the values were set, and how many objects ``labels`` (an image, or the
        frame or slice previewed) hold; returns its "updated in N ms"."""
        self._written_with[request.layer_id] = request.params
        stale = self._stale.setdefault(request.layer_id, set())
        if not request.apply_all:
            stale.update(range(request.n_frames))
        if request.plane is None:
            stale.discard(t)
        fingerprint = None
        if request.plane is None and not stale:
            _results.note_labels_state(layer, params_to_dict(request.params))
        elif not request.apply_all and _small(layer.data, PREVIEW_STATE_BYTES):
            fingerprint = _results.note_preview_state(layer, params_to_dict(request.params))
        if fingerprint is None:
            self._in_step.pop(request.layer_id, None)
        else:  # (the state of labels a preview left as they were keeps its parameters)
            self._in_step[request.layer_id] = fingerprint
        done = request.frames.index(t) + 1
        self._set_progress(request, done)
        what = f" frame {t}" if request.n_frames > 1 else ""
        if request.plane is not None:
            what = f" slice {request.plane}"
        if request.apply_all:
            what = f" {done} of {request.n_frames} frames"
            if "T" not in request.axes:  # a volume, post-processed as a whole
                what = " the whole volume"
        method = request.method
        hint = "" if request.apply_all or not stale else f"; {len(stale)} more: Apply to all"
        if hint and hasattr(method, "postprocess_series") and getattr(request.params, "link", 1):
            hint += " (it also links the IDs across frames)"
        if request.plane is not None:
            from tessella.engine.params import param_specs

            across = [spec.name for spec in param_specs(method.Params) if "Z" in spec.needs]
            without = f", without {', '.join(across)}" if across else ""
            hint = f" (a 2D preview{without}); Apply to all for the volume"
        timed = f"updated in {(time.perf_counter() - request.started) * 1000:.0f} ms"
        count = ""
        if not request.apply_all:  # an image, a frame or a slice: everything gone shows
            count = f": {_count_objects(labels)} objects"
        self._say(f"{what}: {timed}{count}{hint}", layer)
        return timed

    def _on_errored(self, request: _Request, exc: Exception) -> None:
        """Say that the latest update of a layer failed, with which values and why; the
        controls go back to the values of the labels on screen when it wrote none of them."""
        if self._latest(request):
            self._failed.add(request.layer_id)
            layer = self._find_layer(request.layer_id)  # not the one chosen now: it may differ
            name = request.layer_name if layer is None else layer.name
            show_error(f"Tune failed on layer '{name}': {exc}")
            back = self._take_back(request)
            before = params_to_dict(back if back is not None else request.params)
            tried = params_to_dict(request.params)
            changed = ", ".join(f"{k}={v}" for k, v in tried.items() if v != before.get(k))
            what = f"post-processing failed with {changed or 'these values'} ({exc})"
            if back is not None:
                what += "; the controls are back to the values of the labels on screen"
            if layer is None:
                self._say(f"'{name}': {what}")
            else:
                self._say(f": {what}", layer)

    def _take_back(self, request: _Request):
        """After ``request`` failed: its layer's parameters back to those of the labels last
        written into it (the labels on screen), shown when that layer is chosen; returns
        them, or None when left as they are (a newer change is due, the run wrote part of a
        movie before it failed, or the result is gone)."""
        layer_id = request.layer_id
        result = _results.get(layer_id)
        due = layer_id in self._due
        if result is None or due or request.written or self._params.get(layer_id) != request.params:
            return None
        back = self._written_with.get(layer_id, result.params)
        self._params[layer_id] = back
        if layer_id == self.layer_combo.currentData():
            self._show_params(back)
        return back

    def _on_finished(self, request: _Request, worker: GeneratorWorker) -> None:
        self._workers.discard(worker)
        self._renumber_the_rest(request)
        if not self._latest(request):
            return
        del self._requests[request.layer_id]
        self._worker_of.pop(request.layer_id, None)
        self._progress.pop(request.layer_id, None)
        if worker.abort_requested and request.layer_id not in self._failed:
            left = len(self._stale.get(request.layer_id, ()))
            self._say(f"Cancelled: {left} of {request.n_frames} frames are older")
        if request.layer_id == self.layer_combo.currentData():
            self.cancel_button.setEnabled(False)
        if not self._timer.isActive():  # (else the change due starts when it fires)
            self._run_due(request.layer_id)  # a change made while this preview ran
        if not self._requests and not self._due:  # every layer's latest is done
            self.update_finished.emit()
