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
"""

from __future__ import annotations

__all__ = ["BODY_MIN_HEIGHT", "panel_layout"]

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

    body = QVBoxLayout(inner)
    footer_layout = QVBoxLayout(footer)
    margins = body.contentsMargins()
    body.setContentsMargins(margins.left(), margins.top(), margins.right(), body.spacing())
    footer_layout.setContentsMargins(margins.left(), 0, margins.right(), margins.bottom())
    return body, footer_layout


def _FitContent(panel, scroll, footer):
    """An event filter that keeps ``panel`` no taller than its content: the whole scrolling
    body plus the footer at the panel's width, again whenever either changes."""
    from qtpy.QtCore import QEvent, QObject

    class FitContent(QObject):
        def eventFilter(self, watched, event) -> bool:
            if event.type() in (QEvent.Type.LayoutRequest, QEvent.Type.Resize):
                if scroll.isVisible():  # (at first show, its showEvent sets the minimum)
                    wide = scroll.minimumSizeHint().width()
                    if wide > scroll.minimumWidth():  # the body was cut at the right
                        scroll.setMinimumWidth(wide)
                scroll.updateGeometry()  # the body's hint may have changed
                width = footer.width() or footer.sizeHint().width()
                height = footer.heightForWidth(width)
                if height < 0:
                    height = footer.sizeHint().height()
                # a status wrapped over more lines needs more height: the dock area's split
                # then gives it (its minimum took one line, and a long status was cut off,
                # the footer squeezed over the body's last rows)
                footer.setMinimumHeight(height)
                content = max(scroll.sizeHint().height() + height, panel.minimumHeight())
                # in a tab group, Qt caps the group at its shortest tab's height: no cap there
                panel.setMaximumHeight(16777215 if _tabbed(panel) else content)
            return False

    return FitContent(panel)


def _tabbed(panel) -> bool:
    """Whether ``panel`` is docked in a main window's tab group."""
    from qtpy.QtWidgets import QDockWidget, QMainWindow

    dock = panel.parentWidget()
    window = dock.parentWidget() if isinstance(dock, QDockWidget) else None
    return isinstance(window, QMainWindow) and bool(window.tabifiedDockWidgets(dock))
