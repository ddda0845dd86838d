"""``python -m tessella.launch`` (what ``make run`` runs): napari with the nuclei sample, the
Segment widget docked above Tune, with Correct, Export, Evaluate and Train in tabs beside it."""

from __future__ import annotations

WIDGETS = ("Segment", "Correct", "Export", "Evaluate", "Train", "Tune")  # last tab in front


def set_up(viewer) -> dict:
    """Open the sample in ``viewer`` and dock every Tessella widget; returns them by name."""
    viewer.open_sample("tessella", "nuclei")
    widgets = {}
    for index, name in enumerate(WIDGETS):
        _dock, widgets[name] = viewer.window.add_plugin_dock_widget(
            "tessella", name, tabify=index >= 2
        )
    return widgets


def main() -> None:
    import napari

    set_up(napari.Viewer())
    napari.run()


if __name__ == "__main__":
    main()
