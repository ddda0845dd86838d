"""Models made during the session (the Train widget) announced to every widget that lists
models (the Segment widget), so a new model appears in their lists at once."""

from __future__ import annotations

from psygnal import Signal

__all__ = ["ModelEvents", "model_events", "listen"]


class ModelEvents:
    #: emitted with the folder of a model that was just written
    added = Signal(object)


model_events = ModelEvents()


def listen(widget, callback) -> None:
    """Call ``callback(folder)`` for each new model while the Qt ``widget`` exists."""
    model_events.added.connect(callback)
    widget.destroyed.connect(lambda *_: model_events.added.disconnect(callback, missing_ok=True))
