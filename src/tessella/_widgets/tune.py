"""The Tune dock widget: a segmentation's post-processing parameters as live controls.

A change re-runs only ``method.postprocess(prediction, params)`` on the network prediction the
Segment widget cached (:mod:`tessella._widgets._results`); the network never runs here. A
change starts a run in a thread worker at once; changes in the next :data:`DEBOUNCE_MS`, and
changes made while a preview of the same labels layer runs, wait and then run together, once,
with the latest values: a preview under way finishes and is shown first, so a dragged slider
redraws as often as the method allows and the labels end on the last value; but a slice
preview of a volume that has run :data:`._tune_running.NEWEST_AFTER_MS` (seconds at a large
radius) is dropped for the newer values at its next step (the newest value wins; the layer
keeps the last finished labels, the status line says "updating ..."). Apply to all, Reset
and Load recipe on a volume or movie, and a change during Apply to all supersede the run under
way instead (its labels are dropped, it stops at its next frame): any change made while Apply
to all runs (or is due) starts Apply to all again with it, never a preview of one part. A run
goes on when another layer is chosen meanwhile, and its labels land in its own layer. For
time-lapse (``T``) results only the frame on screen is updated until "Apply to all", and a
change of a linking parameter runs no preview (a frame alone is not linked); a volume shows a
2D preview of the slice on screen (its foreground made as Apply to all makes it: a
``z_median`` votes along Z and a ``radius`` opens it with a 3D ball on the slices around it,
:mod:`._tune_masks`), which Cancel stops (the labels and the controls stay as they were). The
boundary method, which joins a stack's slices in 3D, shows the slice of the volume's objects
where the volume's superpixels and graph are cached (Apply to all's slice:
:func:`tessella.engine.methods.boundary.cached_plane`); else a 2D preview, whose status line
says the counts can differ.
Once frames or
slices hold other parameters than the rest (a preview after Apply to all), the status line
names which hold which ("slice 2 at beta=0.7, the other 5 slices at beta=0.5: Apply to all to
make them one"), and the layer's recipe says its labels are not what its parameters make. Reset
and Load recipe redo the whole volume or movie, as "Apply to all" does. Recipes saved here are
what ``tessella segment --recipe FILE`` replays; Save recipe warns when the labels on screen
are not what its parameters make. An update that fails leaves the labels as they were, and the
controls go back to the values that made them.

Integer parameters with a range wider than :data:`MAX_SLIDER_STEPS` (``min_size`` goes up to a
million) get a spin box whose step grows with the value (1, 10, 100, ...), not a slider.
"""

from __future__ import annotations

from functools import partial
from typing import TYPE_CHECKING, Any

from napari.layers import Labels
from napari.utils.notifications import show_error as show_error  # looked up here: see below
from napari.utils.notifications import show_warning as show_warning
from qtpy.QtCore import QTimer, Signal
from qtpy.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QWidget,
)
from superqt.utils import GeneratorWorker

from . import _results
from ._layers import LayerWatcher, fill_layer_combo, find_layer
from ._layout import panel_layout
from ._tune_controls import MAX_SLIDER_STEPS, _button, _help, _make_control
from ._tune_controls import _set_value as _set_value  # tests import it from here
from ._tune_edits import EDIT_COUNT_MS, LayerSlot, TuneEdits
from ._tune_frames import _postprocess_frames as _postprocess_frames  # (tests, too)
from ._tune_frames import _Request, _slice_preview
from ._tune_frames import _z_slice as _z_slice  # (tests, too)
from ._tune_params import LINKING_ACTS, TuneParams
from ._tune_recipes import TuneRecipes
from ._tune_running import CANCEL_TIP, TuneRunning
from ._tune_writing import PREVIEW_STATE_BYTES as PREVIEW_STATE_BYTES
from ._tune_writing import TuneWriting, _Parts

if TYPE_CHECKING:
    import napari.viewer

    from tessella.engine.pipeline import SegmentResult

# the mixins look show_error and show_warning up here (_tune_notices): replacing them here
# (as tests do) replaces them everywhere
__all__ = ["TuneWidget", "DEBOUNCE_MS", "MAX_SLIDER_STEPS"]

DEBOUNCE_MS = 30  # after a start, changes wait this long and then run together


class TuneWidget(
    TuneParams, TuneRecipes, TuneRunning, TuneWriting, TuneEdits, LayerWatcher, QWidget
):
    """Tune the post-processing parameters of a Segment result, live.

    ``controls[name]`` holds the control of each parameter of the result's method; setting
    its value (or calling :meth:`set_param`) updates the labels layer; :attr:`update_finished`
    says when, :attr:`busy` whether anything is still due or running.
    """

    #: emitted when the latest requested update has finished (done, failed or cancelled), or
    #: a change needs none (it acts at Apply to all only) while nothing else runs
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
        # layer id -> the parameters Tune wrote into each frame of a movie or slice of a
        # volume (a preview writes one, Apply to all all of them), each with the labels it
        # made there, so that an undo finds them again (_tune_writing._Parts)
        self._part_params: dict[Any, _Parts] = {}
        self._edited: set = set()  # layer ids painted or corrected since Tune last wrote them
        # layer id -> the labels' history mark (_tune_writing._history_mark) when they were
        # last known to hold no hand edits (Tune's own, or looked at: _holds_hand_edits)
        self._own_labels: dict[Any, tuple] = {}
        # layer id -> the (paint, redraw) slots connected to its events, by which this widget
        # hears of its edits: weak (a closed panel is not kept alive by a layer), and
        # disconnected when the layer goes or the panel closes (_tune_edits)
        self._layer_slots: dict[Any, tuple[LayerSlot, LayerSlot]] = {}
        # layer id -> the fingerprint of labels the controls are known to match though they
        # may not be the parameters of that state (a preview that changed nothing)
        self._in_step: dict[Any, str] = {}
        self._failed: set = set()  # layer ids whose latest request failed
        # layer id -> the parameters of the labels last written into it (a failed update
        # brings the controls back to them)
        self._written_with: dict[Any, Any] = {}
        #: Tune's own steps of each layer's undo history (_tune_writing._note_tune_step)
        self._tune_steps: dict[Any, dict] = {}
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
        # layer ids edited by hand since Tune last said how many objects they hold; their
        # status is said anew once the edits pause (_tune_edits)
        self._hand_edited: set = set()
        self._counted_at: dict[Any, tuple] = {}  # layer id -> its undo history when counted
        self._count_timer = QTimer(self, singleShot=True, interval=EDIT_COUNT_MS)

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
        self.cancel_button = _button("Cancel", CANCEL_TIP)
        self.progress_bar = QProgressBar()
        self.progress_bar.setFormat("")  # "%v / %m frames" once a run starts
        self.progress_bar.setValue(0)
        self.status_label = QLabel()
        self.status_label.setWordWrap(True)
        self._timer = QTimer(self, singleShot=True, interval=DEBOUNCE_MS)
        self._cancel_timer = QTimer(self, singleShot=True)  # (_offer_cancel)
        self._slow_timer = QTimer(self, singleShot=True)  # (_on_slow: "updating ...")
        # a newer value due: whether the preview under way gives way to it (_abandon)
        self._newest_timer = QTimer(self, singleShot=True)

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
        self._cancel_timer.timeout.connect(self._on_cancel_due)
        self._slow_timer.timeout.connect(self._on_slow)
        self._newest_timer.timeout.connect(self._on_quiet_period_over)
        self._count_timer.timeout.connect(self._say_edited)
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
            self._hear_edits(layer)
        if fill_layer_combo(self.layer_combo, self.viewer, layers):
            self._on_layer_changed(self.layer_combo.currentIndex())
        elif not layers:  # (labels opened from a file meanwhile: say how to tune them)
            self._say_no_result()
        self._rename_in_status()

    def _say_no_result(self) -> None:
        """Say in the status line that there is no result to tune: run Segment; and, for the
        newest labels layer with a recipe, why it is not listed and how to go on. A blockwise
        result (just made, or its zarr reopened) is read from its zarr and keeps no network
        output: tune an in-memory run (of a crop), then segment blockwise with its parameters
        (Segment's *Parameters*, or the saved recipe on the command line). Labels opened from
        a file keep their labels and recipe, not the network's output Tune works on: segment
        the image with the recipe's model, then Load recipe."""
        from tessella._io import RECIPE_KEY

        text = "Run Segment first: its labels layers are listed here."
        for layer in reversed(self.viewer.layers):  # the newest first: the one just added
            recipe = layer.metadata.get(RECIPE_KEY) if isinstance(layer, Labels) else None
            if not (isinstance(recipe, dict) and isinstance(recipe.get("model"), str)):
                continue
            if recipe.get("blockwise"):
                self._say(
                    " was segmented blockwise: its labels are read from its .zarr on disk "
                    "and the network's output that Tune works on is not kept, so Tune cannot "
                    "update it (it lists results segmented in memory). To tune its "
                    "parameters: untick 'Blockwise into zarr' and Run Segment on the image "
                    "(or a crop of it), tune its labels here; then tick 'Blockwise into zarr' "
                    "again and choose those labels (As 'CROP labels') or a recipe you saved "
                    "(From recipe file…) under Segment's Parameters, and Run. Or Save recipe "
                    "and run `tessella segment IMAGE.zarr -o OUT.zarr --blockwise --recipe "
                    "RECIPE.json`.",
                    layer,
                )
                return
            self._say(
                f"{text} '{layer.name}' was opened from a file, which keeps its labels and "
                "recipe but not the network's output that Tune works on: segment its image "
                f"with {recipe['model']}, then Load recipe (its .recipe.json) here to go on "
                "from its parameters."
            )
            return
        self._say(text)

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
        self._part_params.pop(layer.unique_id, None)
        self._edited.discard(layer.unique_id)
        self._hand_edited.discard(layer.unique_id)
        self._own_labels.pop(layer.unique_id, None)
        self._counted_at.pop(layer.unique_id, None)
        self._stop_hearing_edits(layer)
        self._in_step.pop(layer.unique_id, None)
        self._changed_at.pop(layer.unique_id, None)
        self._written_with.pop(layer.unique_id, None)
        self._tune_steps.pop(layer.unique_id, None)

    def _on_paint(self, layer_id, event=None) -> None:
        if not _results.tool_is_writing(layer_id):  # Tune's own updates are not edits
            self._edited.add(layer_id)
            self._own_labels.pop(layer_id, None)
            self._parts_changed(layer_id)  # (its frames or slices: looked at again)
            self._on_hand_edit(layer_id)  # (the status line follows)

    def _on_results_changed(self, layer_id) -> None:
        """Show a result Segment has just placed (a new result starts from its parameters).
        Where it replaces labels tuned here with other values, or an update of them under
        way, the status line says that the tuning was replaced (a slider moved while Segment
        ran again went back without a word, user test s29/t1 P7)."""
        lost = self._tuning_replaced(layer_id)
        self._supersede(layer_id)  # an update of the result it replaces
        self._params.pop(layer_id, None)
        self._stale.pop(layer_id, None)
        self._part_params.pop(layer_id, None)
        self._edited.discard(layer_id)
        self._hand_edited.discard(layer_id)
        self._own_labels.pop(layer_id, None)
        self._in_step.pop(layer_id, None)
        self._written_with.pop(layer_id, None)
        self._tune_steps.pop(layer_id, None)
        self._changed_at.pop(layer_id, None)
        self._refresh_layers()
        index = self.layer_combo.findData(layer_id)
        if index >= 0 and index == self.layer_combo.currentIndex():
            self._on_layer_changed(index)  # the same layer with a new result
        elif index >= 0:
            self.layer_combo.setCurrentIndex(index)
        layer = self._find_layer(layer_id)
        if lost and layer is not None and layer_id == self.layer_combo.currentData():
            self._say(f": {lost}", layer)

    def _tuning_replaced(self, layer_id) -> str | None:
        """Before a new Segment result replaces ``layer_id``'s: what the status line says of
        the tuning it replaces (values set here other than the new run's, an update under
        way or due), or None when nothing set here is lost."""
        from tessella.engine.params import params_to_dict

        result = _results.get(layer_id)  # the new result
        tuned = self._params.get(layer_id)
        running = layer_id in self._requests or layer_id in self._due
        if result is None or (tuned is None and not running):
            return None
        ran = params_to_dict(result.params)
        mine = {} if tuned is None else params_to_dict(tuned)
        changed = [name for name, value in mine.items() if ran.get(name) != value]
        if not changed and not running:
            return None
        what = "your tuning preview" if running else "your tuning"
        said = f"the new result from Segment replaced {what}"
        if changed:
            yours = ", ".join(f"{name}={mine[name]}" for name in changed)
            runs = ", ".join(f"{name}={ran.get(name)}" for name in changed)
            said += f" ({yours}); parameters reset to the run's ({runs})"
        else:
            said += "; parameters are the run's"
        return said + ": move a control to tune it again"

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
        self._cancel_timer.stop()
        self.cancel_button.setEnabled(False)
        self.progress_bar.setFormat("")  # no count of another layer's (or result's) update
        self.progress_bar.setRange(0, 1)
        self.progress_bar.setValue(0)
        if result is None:
            self.params_box.setTitle("Parameters")
            self._say_no_result()
            return
        self.params_box.setTitle(f"Parameters ({result.model.card.name}, {method.NAME})")
        for spec in param_specs(method.Params):
            control = _make_control(spec)
            label = QLabel(spec.name)
            missing = [axis for axis in spec.needs if axis not in result.axes]
            tip = _help(spec)
            if missing:  # e.g. a filter along Z on a 2D image: shown, but it cannot act
                tip = (
                    f"Not used here: {spec.name} acts along {', '.join(spec.needs)}, and these "
                    f"labels ({result.axes}) have no {', '.join(missing)} axis. {tip}"
                )
                control.setEnabled(False)
                label.setEnabled(False)
                self._no_axis.add(spec.name)
            elif self._links(spec.name):  # a frame's preview is not linked
                tip += f" {LINKING_ACTS}"
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
            self._offer_cancel(request)
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
