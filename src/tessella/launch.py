"""``python -m tessella.launch`` (what ``make run`` runs): napari with the nuclei sample and
the Segment and Tune widgets docked."""

from __future__ import annotations


def main() -> None:
    import napari

    viewer = napari.Viewer()
    viewer.open_sample("tessella", "nuclei")
    viewer.window.add_plugin_dock_widget("tessella", "Segment")
    viewer.window.add_plugin_dock_widget("tessella", "Tune")
    napari.run()


if __name__ == "__main__":
    main()
