"""A panel's scrolling body asks for the height its content needs at the width it really has:
with a word-wrapped label, that is the body's height-for-width at its (narrow) width, not its
size hint, which Qt computes at the label's preferred width. Before, a narrow panel asked for
too little height and its last rows scrolled out of view (seen in the Evaluate panel)."""

from __future__ import annotations

NOTE = " ".join(["A long note that is word-wrapped over many lines when the panel is narrow."] * 6)


def test_a_narrow_body_with_a_wrapped_label_asks_for_all_its_height(qtbot):
    from qtpy.QtWidgets import QLabel, QPushButton, QScrollArea, QWidget

    from tessella._widgets._layout import panel_layout

    panel = QWidget()
    qtbot.addWidget(panel)
    body, footer = panel_layout(panel)
    note = QLabel(NOTE)
    note.setWordWrap(True)
    body.addWidget(note)
    last = QPushButton("the last row")
    body.addWidget(last)
    footer.addWidget(QLabel("status"))
    scroll = panel.findChild(QScrollArea)
    inner = scroll.widget()

    panel.resize(200, 1000)  # narrow; the height is capped to the content's
    panel.show()
    qtbot.waitExposed(panel)
    qtbot.waitUntil(lambda: inner.width() < note.sizeHint().width(), timeout=3000)

    needed = inner.heightForWidth(inner.width())
    assert needed > inner.sizeHint().height()  # (the wrapped note needs more lines here)
    frame = 2 * scroll.frameWidth()
    assert scroll.sizeHint().height() - frame >= needed

    panel.resize(200, 1000)  # as tall as it lets itself be (its maximum: the content's)
    qtbot.waitUntil(lambda: panel.height() == panel.maximumHeight(), timeout=3000)

    def last_row_shown() -> bool:  # the whole body in view, its last row included
        return last.visibleRegion().boundingRect().height() == last.height()

    qtbot.waitUntil(last_row_shown, timeout=3000)
    assert not scroll.verticalScrollBar().isVisible()


def test_a_body_that_needs_more_width_after_show_widens_the_panel(qtbot):
    """A label that does not wrap, given a longer text once the panel is shown: the panel
    widens with it. Its minimum width was set at show only, so the body, which never scrolls
    sideways, grew past the panel and was cut at the right edge."""
    from qtpy.QtWidgets import QLabel, QScrollArea, QWidget

    from tessella._widgets._layout import panel_layout

    panel = QWidget()
    qtbot.addWidget(panel)
    body, footer = panel_layout(panel)
    line = QLabel("short")
    body.addWidget(line)
    footer.addWidget(QLabel("status"))
    scroll = panel.findChild(QScrollArea)
    inner = scroll.widget()
    panel.resize(200, 300)
    panel.show()
    qtbot.waitExposed(panel)

    line.setText("a line that does not wrap and is far wider than the panel was at first")
    assert line.minimumSizeHint().width() > 200
    qtbot.waitUntil(lambda: panel.width() > line.minimumSizeHint().width(), timeout=3000)

    def line_shown() -> bool:  # all of it in the body's view
        right = line.mapTo(scroll.viewport(), line.rect().topRight()).x()
        return inner.width() <= scroll.viewport().width() and right < scroll.viewport().width()

    qtbot.waitUntil(line_shown, timeout=3000)
