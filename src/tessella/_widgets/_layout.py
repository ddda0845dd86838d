"""How the dock widgets share the height of napari's dock area.

Every panel is a scrolling body (its options) above a footer that never scrolls (its run
button, progress bar and status line):

- the panel is never taller than its content (vertical policy ``Maximum``, size hint the
  whole content's): a short panel (Segment, Tune) leaves the rest of the dock area to the
  panels below it instead of claiming empty space;
- its minimum is the footer plus a few rows of the body, so however napari splits the
  area between stacked panels (it asks for the smallest size of all but the last), the key
  controls of each stay on screen and only the options scroll;
- it is never narrower than its controls, which never scroll sideways: when they need more
  width after the panel is shown (a longer text in a label that does not wrap), its minimum
  width grows with them, so the dock widens rather than cut the body at its right edge.

A panel docked beside Tessella's panels joins them as a tab, in front: napari stacks a dock
opened from its Plugins menu (or by ``add_plugin_dock_widget`` without ``tabify``) below the
others in its area, and six panels stacked left each a strip too short to use. The panel
joins the tab group of the last Tessella panel shown in the same area of the same window;
beside other plugins' docks only, or floating, or outside a QMainWindow, napari's layout is
kept. Only Qt's public QMainWindow API is used (tabifyDockWidget, dockWidgetArea).
:func:`docking_as_placed` turns this off while a caller (``make run``) places the panels.
"""

from __future__ import annotations

import contextlib
import functools

__all__ = ["BODY_MIN_HEIGHT", "docking_as_placed", "panel_layout", "status_label"]

#: the Qt property that marks a Tessella panel (what a new panel joins)
PANEL_PROPERTY = "tessella_panel"

_placing = 0  # > 0 inside docking_as_placed()


@contextlib.contextmanager
def docking_as_placed():
    """Panels docked inside this block stay where the caller docks them (no joining as a
    tab): for a caller that arranges its own tab groups, as ``make run`` does."""
    global _placing
    _placing += 1
    try:
        yield
    finally:
        _placing -= 1


#: the smallest height of a panel's scrolling body (about three rows of controls)
BODY_MIN_HEIGHT = 90


def panel_layout(widget):
    """Lay ``widget`` out as a scrolling body above a fixed footer; returns the two
    QVBoxLayouts ``(body, footer)`` to fill."""
    from qtpy.QtCore import QSize, Qt
    from qtpy.QtWidgets import QFrame, QScrollArea, QSizePolicy, QVBoxLayout, QWidget

    class _Scroll(QScrollArea):
        def sizeHint(self) -> QSize:
            # the whole content (QScrollArea caps its hint at 24 lines of text)
            hint = inner.sizeHint()
            bar = self.verticalScrollBar().sizeHint().width()
            height = hint.height()
            if self.isVisible():
                # at the width the body really has, not its preferred one: word-wrapped
                # labels need more lines, so more height, when narrower (the hint alone was
                # too short and the body's last rows scrolled out of a dock narrower than
                # the hint). The width is the body's with the scroll bar shown, the
                # narrowest it gets, so the answer does not flip with the bar
                needed = inner.heightForWidth(max(1, self.width() - 2 * self.frameWidth() - bar))
                if needed >= 0:
                    height = needed
            return QSize(hint.width() + bar, height + 2 * self.frameWidth())

        def resizeEvent(self, event) -> None:
            super().resizeEvent(event)
            if event.size().width() != event.oldSize().width():
                self.updateGeometry()  # the hint depends on the width (not on the height)

        def minimumSizeHint(self) -> QSize:
            # as wide as the controls (no sideways scrolling), as short as a few rows
            width = inner.minimumSizeHint().width() + self.verticalScrollBar().sizeHint().width()
            return QSize(width, min(BODY_MIN_HEIGHT, inner.minimumSizeHint().height()))

        def showEvent(self, event) -> None:
            self.setMinimumWidth(self.minimumSizeHint().width())  # the controls are built now
            super().showEvent(event)

    inner = QWidget()
    scroll = _Scroll()
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    scroll.setWidgetResizable(True)
    scroll.setFrameShape(QFrame.Shape.NoFrame)
    scroll.setWidget(inner)
    footer = QWidget()
    outer = QVBoxLayout(widget)
    outer.setContentsMargins(0, 0, 0, 0)
    outer.setSpacing(0)
    outer.addWidget(scroll)
    outer.addWidget(footer)
    # Expanding, so that Qt gives the spare height of the dock area to the panels (napari
    # asks for the smallest size of every panel but the last); at most the content's height
    policy = widget.sizePolicy()
    policy.setVerticalPolicy(QSizePolicy.Policy.Expanding)
    widget.setSizePolicy(policy)
    fit = _FitContent(widget, scroll, footer)
    for watched in (widget, inner, footer):
        watched.installEventFilter(fit)
    widget.setProperty(PANEL_PROPERTY, True)
    widget.installEventFilter(_JoinTabs(widget))

    body = QVBoxLayout(inner)
    footer_layout = QVBoxLayout(footer)
    margins = body.contentsMargins()
    body.setContentsMargins(margins.left(), margins.top(), margins.right(), body.spacing())
    footer_layout.setContentsMargins(margins.left(), 0, margins.right(), margins.bottom())
    return body, footer_layout


def status_label(text: str = ""):
    """A panel's status line for its footer: a word-wrapped QLabel laid out as soon as its
    text is set: the layout requests that a new text posts (the
    footer's minimum, then the panel's cap, then the dock area: one turn of the event loop
    each) are handled before ``setText`` returns. Until then the label kept the height of the
    text before, its new lines centred in it: a status longer than the one before showed its
    first line half hidden and its last word cut off, with empty space below the panel, to
    whatever painted or grabbed the window meanwhile (the t6 tester's screenshot, taken as
    Export's worker finished; a busy GUI thread, drawing a 20000² layer, takes a while for
    those turns)."""
    return _status_label_class()(text)


#: how many rounds of posted layout requests a status label's new text is laid out in: the
#: footer, the panel, its dock widget, the main window (each posts the next)
_LAYOUT_CHAIN = 4


@functools.cache
def _status_label_class():
    from qtpy.QtCore import QEvent
    from qtpy.QtWidgets import QApplication, QLabel

    class StatusLabel(QLabel):
        def setText(self, text: str) -> None:
            before = self.text()
            super().setText(text)
            if text != before and self.isVisible():
                # the footer's request, then the panel's, its dock's and the main window's:
                # each handled request posts the next, which one call leaves for the next
                # (Qt's guard against live-lock). Nothing is posted while idle: the idle
                # window stays idle (45b594e)
                for _ in range(_LAYOUT_CHAIN):
                    QApplication.sendPostedEvents(None, QEvent.Type.LayoutRequest)

    def make(text: str) -> QLabel:
        label = StatusLabel(text)
        label.setWordWrap(True)  # (top alignment would add 8 px to its heightForWidth)
        return label

    return make


def _FitContent(panel, scroll, footer):
    """An event filter that keeps ``panel`` no taller than its content: the whole scrolling
    body plus the footer at the panel's width, again whenever either changes."""
    from qtpy.QtCore import QEvent, QObject

    class FitContent(QObject):
        def eventFilter(self, watched, event) -> bool:
            kind = event.type()
            if kind in (QEvent.Type.LayoutRequest, QEvent.Type.Resize):
                if scroll.isVisible():  # (at first show, its showEvent sets the minimum)
                    wide = scroll.minimumSizeHint().width()
                    if wide > scroll.minimumWidth():  # the body was cut at the right
                        scroll.setMinimumWidth(wide)
                if not (watched is panel and kind == QEvent.Type.LayoutRequest):
                    # the body's hint may have changed (a QScrollArea does not pass on its
                    # content's layout requests). Not for the panel's own request: this
                    # posts one to the panel, which came back here on the next turn of the
                    # event loop, forever (the idle window relaid and repainted ~100 times
                    # a second, the GUI thread holding the GIL; workers ran ~3x slower)
                    scroll.updateGeometry()
                width = footer.width() or footer.sizeHint().width()
                height = footer.heightForWidth(width)
                if height < 0:
                    height = footer.sizeHint().height()
                # a status wrapped over more lines needs more height: the dock area's split
                # then gives it (its minimum took one line, and a long status was cut off,
                # the footer squeezed over the body's last rows)
                if footer.minimumHeight() != height:
                    footer.setMinimumHeight(height)
                content = max(scroll.sizeHint().height() + height, panel.minimumHeight())
                # in a tab group, Qt caps the group at its shortest tab's height: no cap there
                cap = 16777215 if _tabbed(panel) else content
                if panel.maximumHeight() != cap:  # (only a change asks for a new layout)
                    panel.setMaximumHeight(cap)
            return False

    return FitContent(panel)


def _tabbed(panel) -> bool:
    """Whether ``panel`` is docked in a main window's tab group."""
    from qtpy.QtWidgets import QDockWidget, QMainWindow

    dock = panel.parentWidget()
    window = dock.parentWidget() if isinstance(dock, QDockWidget) else None
    return isinstance(window, QMainWindow) and bool(window.tabifiedDockWidgets(dock))


def _JoinTabs(panel):
    """An event filter that, once ``panel``'s dock widget is put in a main window, joins it
    to the tab group of the Tessella panel docked last in the same area, in front (see the
    module's docstring). napari docks it untabbed first and lays the area out; the joining
    waits for that (the next turn of the event loop)."""
    from qtpy.QtCore import QEvent, QObject, QTimer
    from qtpy.QtWidgets import QDockWidget, QMainWindow

    class JoinTabs(QObject):
        dock: QDockWidget | None = None

        def eventFilter(self, watched, event) -> bool:
            if event.type() == QEvent.Type.ParentChange:
                if watched is panel:
                    dock = panel.parentWidget()
                    if isinstance(dock, QDockWidget) and dock is not self.dock:
                        if self.dock is not None:
                            self.dock.removeEventFilter(self)
                        self.dock = dock
                        dock.installEventFilter(self)
                elif self.dock is not None and watched is self.dock and not _placing:
                    dock, window = self.dock, self.dock.parentWidget()
                    if isinstance(window, QMainWindow):
                        QTimer.singleShot(0, lambda: _join(window, dock))
            return False

    return JoinTabs(panel)


def _panel_in(dock):
    """The Tessella panel that ``dock`` holds, or None."""
    from qtpy.QtCore import Qt
    from qtpy.QtWidgets import QWidget

    inner = dock.widget()
    if inner is None:
        return None
    found = [inner] + inner.findChildren(QWidget, "", Qt.FindChildOption.FindDirectChildrenOnly)
    return next((w for w in found if w.property(PANEL_PROPERTY)), None)


def _join(window, dock) -> None:
    """Tabify ``dock`` (just docked, untabbed, by napari) with the last other Tessella dock
    shown in its area of ``window``, and raise it; else leave napari's layout."""
    from qtpy.QtCore import QEvent, QTimer
    from qtpy.QtWidgets import QApplication, QDockWidget

    try:
        if dock.parentWidget() is not window or dock.isFloating():
            return  # (moved or closed meanwhile)
        if window.tabifiedDockWidgets(dock):
            return  # docked as a tab already (tabify=True)
        area = window.dockWidgetArea(dock)
        others = [
            other
            for other in window.findChildren(QDockWidget)
            if other is not dock
            and not other.isFloating()
            and other.isVisibleTo(window)
            and window.dockWidgetArea(other) == area
            and _panel_in(other) is not None
        ]
        if not others:
            return  # beside other plugins' docks only: napari's layout
        window.tabifyDockWidget(others[-1], dock)
        dock.show()
        dock.raise_()
        QTimer.singleShot(0, lambda: _raise(dock))  # (again once the tab bar exists)
        for member in [dock, *window.tabifiedDockWidgets(dock)]:
            panel = _panel_in(member)
            if panel is not None:  # lift the height cap of an untabbed panel
                QApplication.postEvent(panel, QEvent(QEvent.Type.LayoutRequest))
    except RuntimeError:  # the window or the dock was deleted meanwhile
        return


def _raise(dock) -> None:
    try:
        dock.raise_()
    except RuntimeError:
        pass
