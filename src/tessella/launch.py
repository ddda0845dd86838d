"""``python -m tessella.launch`` (what ``make run`` runs): napari with the nuclei sample and
two tab groups of Tessella widgets: Segment (in front) and Train, the panels that run a
network, above Tune (in front), Correct, Export and Evaluate, the panels that work on its
results."""

from __future__ import annotations

#: in docking order; a name in NEW_GROUP starts a tab group below the one before
WIDGETS = ("Segment", "Train", "Correct", "Export", "Evaluate", "Tune")  # last tab in front
NEW_GROUP = ("Segment", "Correct")
IN_FRONT = ("Segment", "Tune")


def set_up(viewer) -> dict:
    """Open the sample in ``viewer`` and dock every Tessella widget; returns them by name.

    Segment shares its tab group with Train, whose footer (button, progress, loss plot,
    status) is the tallest: the group is then tall enough for all of Segment's options,
    which would scroll in a share of the height left by a tab group holding Train."""
    viewer.open_sample("tessella", "nuclei")
    widgets, docks = {}, {}
    for name in WIDGETS:
        docks[name], widgets[name] = viewer.window.add_plugin_dock_widget(
            "tessella", name, tabify=name not in NEW_GROUP
        )
    from qtpy.QtCore import QTimer

    def to_front() -> None:
        for name in IN_FRONT:
            docks[name].raise_()

    to_front()
    QTimer.singleShot(0, to_front)  # (again once the tab bars exist)
    return widgets


def main() -> None:
    import napari

    set_up(napari.Viewer())
    napari.run()


if __name__ == "__main__":
    main()
