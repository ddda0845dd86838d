"""The patches method's candidate cache under two threads (Tune's worker and Export on the GUI
thread may both ask): a look-up's hit cannot be evicted by the other thread before it is
moved to the end, and a request looks its candidates up once."""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

from tessella.engine.methods import patches
from tests.conftest import crossing_rods, perfect_patch_prediction


def test_a_hit_is_not_evicted_by_another_thread_before_it_is_moved(monkeypatch):
    """Thread A finds its candidates; right then thread B asks for a third setting of steps
    1-3, which evicts A's entry from the full cache. Unlocked, B did so and A's move to the
    end raised KeyError; now B waits for the cache until A is done with it."""
    rods = crossing_rods()
    prediction = perfect_patch_prediction(rods)
    first, second, third = (patches.Params(min_size=20, fg_threshold=f) for f in (0.4, 0.5, 0.6))
    expected = [patches.postprocess(perfect_patch_prediction(rods), p) for p in (first, third)]

    found_it = threading.Event()  # A holds its hit (and the cache's lock)
    b_went_on = threading.Event()  # B waits for that lock, or (unlocked) is done
    a_waited_out = []

    class PausingCache(OrderedDict):
        """Pauses thread A right after its first hit: a thread switch there."""

        paused = False

        def get(self, key, default=None):
            hit = super().get(key, default)
            if threading.current_thread().name == "A" and hit is not None and not self.paused:
                self.paused = True
                found_it.set()
                a_waited_out.append(not b_went_on.wait(20))
            return hit

    class SayingLock:
        """The cache's lock, saying when B starts waiting for it."""

        def __init__(self):
            self._lock = threading.Lock()

        def __enter__(self):
            if threading.current_thread().name == "B":
                b_went_on.set()
            return self._lock.__enter__()

        def __exit__(self, *exc):
            return self._lock.__exit__(*exc)

    monkeypatch.setattr(patches, "_CACHE", PausingCache())
    # (raising=False: so the same test shows the unlocked code's KeyError)
    monkeypatch.setattr(patches, "_CACHE_LOCK", SayingLock(), raising=False)
    patches._candidates(prediction, first)
    patches._candidates(prediction, second)  # the cache is full, first is the oldest
    results: dict = {}
    errors: dict = {}

    def ask(name, params):
        try:
            results[name] = patches.postprocess(prediction, params)
        except Exception as error:  # (reported below)
            errors[name] = repr(error)
        finally:
            b_went_on.set()  # (unlocked, B never waits: A goes on once B is done)

    def b():
        found_it.wait(20)
        ask("B", third)

    threads = [
        threading.Thread(target=ask, args=("A", first), name="A", daemon=True),
        threading.Thread(target=b, name="B", daemon=True),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert not any(thread.is_alive() for thread in threads)
    assert errors == {}
    assert a_waited_out == [False]  # A was paused on its hit, and B went on meanwhile
    np.testing.assert_array_equal(results["A"], expected[0])
    np.testing.assert_array_equal(results["B"], expected[1])
    assert len(patches._CACHE) == patches._CACHE_SIZE
    assert patches._candidates(prediction, first) is not None


def test_a_request_looks_its_candidates_up_once(monkeypatch):
    """The labels of a new setting: one look-up (it was two, one for the assembly cache and
    one in the assembly itself), one decoding, one assembly."""
    prediction = perfect_patch_prediction(crossing_rods())
    looked_up: list = []
    original = patches._candidates
    monkeypatch.setattr(patches, "_candidates", lambda *a: looked_up.append(1) or original(*a))
    labels = patches.postprocess(prediction, patches.Params(min_size=20))
    assert looked_up == [1]
    assert len(np.unique(labels)) - 1 == 3  # the three rods
