"""Session 33, f5: the newest value wins. A slice preview of a volume that takes seconds
(opened at a large radius: about 10 s on a 768x1024 slice at radius 10) kept a newer value
waiting until it had run to the end and was shown; only Cancel, Apply to all, Reset and Load
recipe stopped it. Now a newer value drops it once it has run 250 ms (it stops at its next
row of the ball), values set meanwhile run together, once, with the latest, and the layer
keeps the last finished labels until the newest are ready, the status line saying
"updating ...".

The preview is real: em-mito3d's post-processing of a crop of the Lucchi++ validation
volume's mitochondria (16x384x384, smoothed into a probability) at radius 10 with a min_size
of 100,000 voxels judged in the volume: the slice's foreground, then the slices around it
until each object is decided, each made with the 3D ball. How slow it is depends on the
machine (the whole 25x768x1024 volume made it slow enough on any: 26-50 s of test under
load); instead, the radius-10 run waits at its first check for a halt (a row of the ball)
until Tune has superseded it, as a slow run would be still running then, and the checks each
run made show where it stopped."""

from __future__ import annotations

import time

import numpy as np
import tifffile
from qtpy.QtCore import QTimer
from scipy import ndimage

from tessella._widgets import _tune_frames, _tune_running
from tessella.engine.methods import semantic
from tessella.engine.params import make_params
from tests.widgets.test_tune_gaps import _semantic_result, _volume_in_tune
from tests.widgets.test_tune_widget import change, set_control


def _probability(data_dir) -> np.ndarray:
    """A crop of the Lucchi++ validation volume's mitochondria, smoothed: a probability as a
    network makes it (about 0.5 at their edges)."""
    path = data_dir / "em_mito_lucchipp" / "val" / "mito.tif"
    mito = tifffile.imread(path, key=range(4, 20))[:, 192:576, 256:640] > 0
    return ndimage.uniform_filter(mito.astype(np.float32), (1, 5, 5))


class _Shown:
    """Each distinct state of ``layer.data[index]`` seen by the GUI thread every 5 ms."""

    def __init__(self, layer, index):
        self.layer, self.index, self.states = layer, index, []
        self.timer = QTimer(interval=5)
        self.timer.timeout.connect(self.look)
        self.look()
        self.timer.start()

    def look(self):
        now = np.asarray(self.layer.data[self.index]).copy()
        if not self.states or not np.array_equal(self.states[-1], now):
            self.states.append(now)


def _timed_runs(monkeypatch, slow_radius: int) -> list:
    """Record each preview run by Tune: ``[radius, seconds, superseded, labels yielded,
    halt checks]``. The run at ``slow_radius`` waits at its first halt check (a row of the
    ball, a slice of the slab) until Tune supersedes it (``notes["quit"]``; 20 s at most), as
    a run slower than the newer value's wait would."""
    runs, original, quit_ = [], _tune_frames._postprocess_frames, _tune_frames._quit
    by_notes = {}

    def timed(method, predictions, params, *args):
        run = [params.radius, None, None, 0, 0]
        runs.append(run)
        notes = args[-1]
        by_notes[id(notes)] = run
        started = time.perf_counter()
        try:
            for item in original(method, predictions, params, *args):
                run[3] += 1
                yield item
        finally:
            run[1], run[2] = time.perf_counter() - started, bool(notes.get("quit"))

    def checked(notes):
        run = by_notes.get(id(notes))
        if run is not None:
            run[4] += 1
            if run[0] == slow_radius and run[4] == 1:
                waited = time.perf_counter()
                while not (notes or {}).get("quit") and time.perf_counter() - waited < 20:
                    time.sleep(0.005)
        return quit_(notes)

    monkeypatch.setattr(_tune_running, "_postprocess_frames", timed)
    monkeypatch.setattr(_tune_frames, "_quit", checked)
    return runs


def _same_objects(a: np.ndarray, b: np.ndarray) -> bool:
    """Whether two label images hold the same objects, whatever their IDs."""
    pairs = set(zip(a.ravel().tolist(), b.ravel().tolist()))
    return len(pairs) == len(np.unique(a)) == len(np.unique(b))


def _settle(qtbot, tune, timeout=60_000):
    qtbot.waitUntil(lambda: not tune.busy, timeout=timeout)


def test_a_newer_value_drops_a_slow_slice_preview(docked_tune, qtbot, data_dir, monkeypatch):
    result = _semantic_result("em-mito3d", _probability(data_dir), "ZYX")
    viewer, tune, layer = _volume_in_tune(docked_tune, result, z=8)
    assert tune.params.radius == 2
    change(qtbot, tune, min_size=100_000, timeout=60_000)  # (judged in the volume)
    before = layer.data[8].copy()
    assert before.any()
    runs = _timed_runs(monkeypatch, slow_radius=10)
    shown, said = _Shown(layer, 8), []
    watch = QTimer(interval=5)
    watch.timeout.connect(lambda: said.append(tune.status_label.text()))
    watch.start()

    set_control(tune.controls["radius"], 10)  # starts at once: slow (its first check waits)
    set_control(tune.controls["radius"], 8)  # the same moment: never run alone
    qtbot.wait(100)
    set_control(tune.controls["radius"], 9)  # the newest
    with qtbot.waitSignal(tune.update_finished, timeout=60_000):
        pass
    _settle(qtbot, tune)
    shown.look()
    shown.timer.stop()
    watch.stop()

    # radius 10 was superseded and stopped part way: at the first check after it was (the
    # one that waited), where radius 9 (the same work at nearly the same radius) went
    # through every check to its end; 8 never ran
    assert [run[0] for run in runs] == [10, 9], runs
    (_, ten, dropped, none, ten_checks), (_, nine, superseded, yielded, nine_checks) = runs
    assert dropped and none == 0 and not superseded and yielded == 1
    assert ten_checks == 1 and nine_checks > 10, runs
    assert ten >= _tune_running.NEWEST_AFTER_MS / 1000 * 0.95, runs
    # the layer shows radius 9's preview (Tune's own, made again here from its caches)
    params = make_params(semantic.Params, result.params, radius=9, min_size=100_000)
    assert tune.params == params
    [(_, alone)] = _tune_frames._postprocess_frames(
        semantic, result.predictions, params, (0,), 8, volume=True
    )
    assert _same_objects(layer.data[8], alone)
    # and never anything else in between: the labels before, then radius 9's
    assert len(shown.states) == 2
    np.testing.assert_array_equal(shown.states[0], before)
    np.testing.assert_array_equal(shown.states[1], layer.data[8])
    # the status line said it was updating with the newest value, then the result
    assert any("updating slice 8 with radius=9" in text for text in said), said
    assert "slice 8" in tune.status_label.text() and "updating" not in tune.status_label.text()
