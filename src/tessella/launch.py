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

    The tab group of Segment and Train is made as tall as all of Segment's options (Train's
    options then scroll in that height less its footer; its loss plot is hidden until there
    is something to plot), the group below takes the rest."""
    viewer.open_sample("tessella", "nuclei")
    from ._widgets._layout import docking_as_placed

    widgets, docks = {}, {}
    with docking_as_placed():  # (a panel docked alone would join the group above)
        for name in WIDGETS:
            docks[name], widgets[name] = viewer.window.add_plugin_dock_widget(
                "tessella", name, tabify=name not in NEW_GROUP
            )
    from qtpy.QtCore import Qt, QTimer

    def to_front() -> None:
        for name in IN_FRONT:
            docks[name].raise_()
        top, bottom = docks[IN_FRONT[0]], docks[IN_FRONT[1]]
        both = top.height() + bottom.height()
        # the whole dock (title bar included) for all of Segment's options
        segment = widgets[IN_FRONT[0]]
        wanted = top.height() - segment.height() + segment.sizeHint().height()
        if 0 < wanted < both:
            viewer.window._qt_window.resizeDocks(
                [top, bottom], [wanted, both - wanted], Qt.Orientation.Vertical
            )

    to_front()
    QTimer.singleShot(0, to_front)  # (again once the tab bars exist)
    return widgets


def fit_to_screen(viewer) -> None:
    """Make ``viewer``'s window fill its screen's free area: napari opens it at about
    1089 x 630 whatever the screen, which leaves the image a strip about 260 pixels wide
    between the layer list and Tessella's docks (on ``make run``'s 1600 x 1000 virtual screen
    too, where no window manager maximises it)."""
    window = viewer.window._qt_window
    screen = window.screen()
    if screen is None:
        return
    window.setGeometry(screen.availableGeometry())
    window.showMaximized()  # (a window manager then keeps it so)


def keep_gl_programs() -> None:
    """Never delete an OpenGL program, so that removing a layer cannot crash napari.

    With napari 0.9.2 and vispy 0.17 on Mesa's software OpenGL (``make run`` on a virtual X
    server), removing the bottom layer (the nuclei sample, say, after opening one's own image)
    made the next few redraws segfault in ``glDrawArrays`` of the layer left; napari quit. A
    notification sliding in makes those redraws at once, as "Inconsistent units across
    layers" does when the sample (pixels) sits beside an image in micrometres. What sets it
    off is vispy deleting the removed layer's GL program (like vispy issue 1611, "Error when
    removing a gloo program"): with that one call skipped nothing crashes, and the layer's
    textures and buffers (its memory) are still freed; only its small program object stays.
    Process-wide, so only ``main`` (``make run``) calls it; plain ``napari`` is not covered."""
    from vispy.gloo import glir

    def delete(self) -> None:  # (GlirProgram.delete was gl.glDeleteProgram(self._handle))
        return None

    glir.GlirProgram.delete = delete


def main() -> None:
    import napari

    keep_gl_programs()
    viewer = napari.Viewer()
    fit_to_screen(viewer)
    set_up(viewer)
    napari.run()


if __name__ == "__main__":
    main()
